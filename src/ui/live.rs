//! The live side of the window: owns the running pipeline, turns its
//! reports into a texture and face overlays, and tracks what the camera is
//! doing. Everything here polls; nothing waits on the camera or on vision.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::TryRecvError;
use opencv::core::{self, Mat};
use opencv::imgproc;
use opencv::prelude::*;

use crate::capture::{CaptureEvent, CaptureSettings, Source};
use crate::cv::{CvContext, VisionError};
use crate::detect::DetectorParams;
use crate::enrollment::EnrollmentSettings;
use crate::latest::Delivery;
use crate::pipeline::Pipeline;
use crate::recognizer::RecognizerKind;
use crate::worker::{Command, EnrollmentOutcome, EnrollmentStatus, FaceReport, Notify, VisionEvent, WorkerSettings};

/// What the camera (or video) is doing, as the user should hear it.
#[derive(Debug, Clone, PartialEq)]
pub enum CameraState {
    /// Nothing started yet.
    Idle,
    Starting {
        source: String,
    },
    Live {
        source: String,
        width: i32,
        height: i32,
        fps: f64,
    },
    /// Could not be opened; `retrying` while the capture thread keeps trying.
    NotFound {
        source: String,
        message: String,
        retrying: bool,
    },
    /// Was open and stopped delivering frames.
    Lost {
        source: String,
        message: String,
    },
    /// A video came to its end.
    Ended {
        source: String,
    },
    /// The pipeline cannot run (missing cascade, a broken one).
    Failed {
        message: String,
    },
}

impl CameraState {
    pub fn is_live(&self) -> bool {
        matches!(self, Self::Live { .. })
    }

    /// One line for the status bar.
    pub fn summary(&self) -> String {
        match self {
            Self::Idle => "No source".into(),
            Self::Starting { source } => format!("Opening {source}…"),
            Self::Live { source, width, height, fps } if *fps > 0.0 => {
                format!("{source} · {width}×{height} @ {fps:.0} fps")
            }
            Self::Live { source, width, height, .. } => format!("{source} · {width}×{height}"),
            Self::NotFound { source, retrying: true, .. } => format!("{source} not available, retrying…"),
            Self::NotFound { source, .. } => format!("{source} not available"),
            Self::Lost { source, .. } => format!("{source} lost, reconnecting…"),
            Self::Ended { source } => format!("{source} ended"),
            Self::Failed { .. } => "Vision stopped".into(),
        }
    }
}

/// What the pipeline needs besides the source, fixed for one run of the app.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    pub cascade: Result<PathBuf, String>,
    /// Wakes the window when vision has something new.
    pub repaint: Notify,
    pub data_dir: PathBuf,
}

/// The choices a pipeline starts with.
#[derive(Debug, Clone, PartialEq)]
pub struct StartOptions {
    pub source: Source,
    pub size: Option<(u32, u32)>,
    pub looping: bool,
    pub detector: DetectorParams,
    pub recognizer: RecognizerKind,
    pub threshold: f64,
    pub enroll_samples: usize,
}

/// Something the rest of the app must react to.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveEvent {
    EnrollmentEnded(EnrollmentOutcome),
    /// The worker (re)loaded the gallery; `warning` if it had to repair it.
    GalleryLoaded {
        people: usize,
        warning: Option<String>,
    },
    /// A problem worth telling the user that does not stop the view.
    Problem(String),
}

/// The newest frame on screen.
pub struct ShownFrame {
    pub texture: egui::TextureHandle,
    /// Frame size in pixels.
    pub size: egui::Vec2,
    pub faces: Vec<FaceReport>,
    /// The BGR frame, for snapshots.
    pub image: Mat,
}

/// Counts events over the last second.
#[derive(Debug, Default)]
struct RateMeter {
    times: VecDeque<Instant>,
}

impl RateMeter {
    fn tick(&mut self, now: Instant) {
        self.times.push_back(now);
        while self.times.front().is_some_and(|t| now.duration_since(*t) > Duration::from_secs(1)) {
            self.times.pop_front();
        }
    }

    fn per_sec(&self, now: Instant) -> f64 {
        let recent = self.times.iter().filter(|t| now.duration_since(**t) <= Duration::from_secs(1)).count();
        recent as f64
    }
}

/// The running pipeline and what it last showed.
pub struct LiveView {
    config: LiveConfig,
    pipeline: Option<Pipeline>,
    pub started: Option<StartOptions>,
    pub camera: CameraState,
    pub frame: Option<ShownFrame>,
    pub enrollment: Option<EnrollmentStatus>,
    /// An enrollment was asked for and no report has shown it yet.
    awaiting_enrollment: bool,
    /// An enrollment ended; reports still showing it are stale.
    enrollment_ended: bool,
    pub paused: bool,
    rate: RateMeter,
    latency_ms: Option<f64>,
    pub dropped_frames: u64,
    /// Old pipelines being stopped off the UI thread; joined on drop.
    retiring: Vec<JoinHandle<()>>,
    /// A camera start waiting for the old pipeline to let go of the device.
    pending_start: Option<StartOptions>,
}

impl LiveView {
    pub fn new(config: LiveConfig) -> Self {
        Self {
            config,
            pipeline: None,
            started: None,
            camera: CameraState::Idle,
            frame: None,
            enrollment: None,
            awaiting_enrollment: false,
            enrollment_ended: false,
            paused: false,
            rate: RateMeter::default(),
            latency_ms: None,
            dropped_frames: 0,
            retiring: Vec::new(),
            pending_start: None,
        }
    }

    /// Starts (or restarts) the pipeline. The old one is stopped on a
    /// helper thread, so a camera slow to let go never freezes the window;
    /// a camera is opened again only once the old pipeline has let go of it.
    /// Returns the name of an enrollment this cancelled.
    pub fn start(&mut self, options: StartOptions) -> Option<String> {
        let cancelled = self.enrollment.take().map(|e| e.name);
        self.stop();
        self.retiring.retain(|h| !h.is_finished());
        if options.source.is_camera() && !self.retiring.is_empty() {
            self.camera = CameraState::Starting { source: options.source.to_string() };
            self.started = Some(options.clone());
            self.pending_start = Some(options);
            return cancelled;
        }
        self.open(options);
        cancelled
    }

    fn open(&mut self, options: StartOptions) {
        self.pending_start = None;
        self.frame = None;
        self.enrollment = None;
        self.awaiting_enrollment = false;
        self.enrollment_ended = false;
        self.latency_ms = None;
        self.dropped_frames = 0;
        self.rate = RateMeter::default();
        let source_name = options.source.to_string();
        self.started = Some(options.clone());
        let cascade = match &self.config.cascade {
            Ok(path) => path.clone(),
            Err(message) => {
                self.camera = CameraState::Failed { message: message.clone() };
                return;
            }
        };
        let is_camera = options.source.is_camera();
        let capture = CaptureSettings {
            width: options.size.map(|s| s.0),
            height: options.size.map(|s| s.1),
            realtime: true,
            looping: options.looping && !is_camera,
            reconnect: is_camera,
            ..CaptureSettings::default()
        };
        let worker = WorkerSettings {
            cascade,
            detector: options.detector,
            data_dir: self.config.data_dir.clone(),
            recognizer: options.recognizer,
            threshold: options.threshold,
            enrollment: EnrollmentSettings { samples: options.enroll_samples, ..EnrollmentSettings::default() },
            notify: self.config.repaint.clone(),
        };
        match Pipeline::start(options.source, capture, worker, Delivery::NewestWins) {
            Ok(p) => {
                self.pipeline = Some(p);
                self.camera = CameraState::Starting { source: source_name };
            }
            Err(e) => self.camera = CameraState::Failed { message: e.to_string() },
        }
    }

    /// Stops the pipeline without waiting for it.
    pub fn stop(&mut self) {
        self.pending_start = None;
        self.retiring.retain(|h| !h.is_finished());
        if let Some(pipeline) = self.pipeline.take() {
            match thread::Builder::new().name("facecam-stop".into()).spawn(move || drop(pipeline)) {
                Ok(handle) => self.retiring.push(handle),
                // No thread to spare: the pipeline was dropped (and joined) here.
                Err(e) => tracing::warn!("stopping the pipeline inline: {e}"),
            }
        }
        self.camera = CameraState::Idle;
    }

    /// Running, or about to start.
    pub fn is_running(&self) -> bool {
        self.pipeline.is_some() || self.pending_start.is_some()
    }

    /// Sends a command to the vision worker if one is running.
    pub fn send(&self, command: Command) -> bool {
        match &self.pipeline {
            Some(p) => {
                p.send(command);
                true
            }
            None => false,
        }
    }

    /// Starts an enrollment in the worker and shows it as started at once.
    pub fn start_enrollment(&mut self, name: String, samples: usize) -> bool {
        if !self.send(Command::StartEnrollment { name: name.clone(), samples: Some(samples) }) {
            return false;
        }
        self.enrollment = Some(EnrollmentStatus { name, collected: 0, target: samples, hint: None });
        self.awaiting_enrollment = true;
        true
    }

    pub fn fps(&self) -> f64 {
        self.rate.per_sec(Instant::now())
    }

    pub fn latency_ms(&self) -> Option<f64> {
        self.latency_ms
    }

    /// Takes what the pipeline produced since the last frame: the newest
    /// report becomes the shown frame (unless paused), events update the
    /// camera state or are handed back.
    pub fn poll(&mut self, ctx: &egui::Context) -> Vec<LiveEvent> {
        let mut out = Vec::new();
        if self.pending_start.is_some() && self.retiring.iter().all(|h| h.is_finished()) {
            self.retiring.clear();
            if let Some(options) = self.pending_start.take() {
                self.open(options);
            }
        }
        let Some(pipeline) = &self.pipeline else { return out };
        let mut finished = false;
        loop {
            match pipeline.events.try_recv() {
                Ok(VisionEvent::Camera { event }) => self.camera = camera_state(event, &self.camera),
                Ok(VisionEvent::Enrollment { outcome }) => {
                    self.awaiting_enrollment = false;
                    self.enrollment_ended = true;
                    self.enrollment = None;
                    out.push(LiveEvent::EnrollmentEnded(outcome));
                }
                Ok(VisionEvent::Gallery { people, warning }) => out.push(LiveEvent::GalleryLoaded { people, warning }),
                Ok(VisionEvent::Ready { .. }) => {}
                Ok(VisionEvent::Error { message, fatal: true }) => self.camera = CameraState::Failed { message },
                Ok(VisionEvent::Error { message, fatal: false }) => out.push(LiveEvent::Problem(message)),
                Ok(VisionEvent::Finished) => finished = true,
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    finished = true;
                    break;
                }
            }
        }
        let mut newest = None;
        while let Ok(report) = pipeline.reports.try_recv() {
            newest = Some(report);
        }
        if let Some(report) = newest {
            let now = Instant::now();
            self.rate.tick(now);
            self.latency_ms = Some(match self.latency_ms {
                Some(old) => old * 0.8 + report.latency_ms * 0.2,
                None => report.latency_ms,
            });
            self.dropped_frames = report.dropped_frames;
            // Each report says whether an enrollment was running at its frame.
            // Until the worker has taken a new one, keep showing it as started;
            // after one ended, reports made before the end are out of date.
            if self.awaiting_enrollment {
                if report.enrollment.is_some() {
                    self.awaiting_enrollment = false;
                    self.enrollment_ended = false;
                    self.enrollment = report.enrollment.clone();
                }
            } else if self.enrollment_ended {
                self.enrollment_ended = report.enrollment.is_some();
            } else {
                self.enrollment = report.enrollment.clone();
            }
            // Frames can overtake the "opened" event: a frame means it is open.
            if let CameraState::Starting { source } = &self.camera {
                let (width, height) = (report.image.cols(), report.image.rows());
                self.camera = CameraState::Live { source: source.clone(), width, height, fps: 0.0 };
            }
            if !self.paused {
                // A frame that cannot be shown leaves the last one on screen.
                match to_color_image(&report.image, false) {
                    Ok(color) => self.show(ctx, color, report.image, report.faces),
                    Err(e) => out.push(LiveEvent::Problem(format!("a frame could not be shown: {e}"))),
                }
            }
        }
        if finished {
            // The worker is done: keep the last frame on screen and let the
            // threads go.
            self.pipeline = None;
            self.enrollment = None;
            if matches!(self.camera, CameraState::Starting { .. } | CameraState::Live { .. }) {
                let source = self.started.as_ref().map(|s| s.source.to_string()).unwrap_or_default();
                self.camera = CameraState::Ended { source };
            }
        }
        out
    }
}

impl LiveView {
    /// Uploads a frame as the live texture, reusing the old texture.
    fn show(&mut self, ctx: &egui::Context, color: egui::ColorImage, image: Mat, faces: Vec<FaceReport>) {
        let size = egui::vec2(color.size[0] as f32, color.size[1] as f32);
        let texture = match self.frame.take() {
            Some(mut old) => {
                old.texture.set(color, egui::TextureOptions::LINEAR);
                old.texture
            }
            None => ctx.load_texture("live-frame", color, egui::TextureOptions::LINEAR),
        };
        self.frame = Some(ShownFrame { texture, size, faces, image });
    }
}

impl Drop for LiveView {
    fn drop(&mut self) {
        // Joins the current pipeline's threads, then the retiring ones.
        self.pipeline.take();
        for handle in self.retiring.drain(..) {
            let _ = handle.join();
        }
    }
}

/// The new camera state after a capture event.
fn camera_state(event: CaptureEvent, old: &CameraState) -> CameraState {
    match event {
        CaptureEvent::Opened { source, width, height, fps, .. } => CameraState::Live { source, width, height, fps },
        CaptureEvent::NotFound { source, message } => CameraState::NotFound { source, message, retrying: false },
        CaptureEvent::Disconnected { source, message } => CameraState::Lost { source, message },
        CaptureEvent::Reconnecting { .. } => match old {
            CameraState::NotFound { source, message, .. } => {
                CameraState::NotFound { source: source.clone(), message: message.clone(), retrying: true }
            }
            other => other.clone(),
        },
        CaptureEvent::EndOfStream { source, .. } => match old {
            // A camera that was never found "ends" when we stop retrying;
            // the not-found message is the one to keep.
            CameraState::NotFound { source, message, .. } => {
                CameraState::NotFound { source: source.clone(), message: message.clone(), retrying: false }
            }
            _ => CameraState::Ended { source },
        },
    }
}

/// A BGR (or gray) OpenCV image as an egui image, optionally mirrored.
pub fn to_color_image(image: &Mat, mirror: bool) -> Result<egui::ColorImage, VisionError> {
    if image.empty() {
        return Err(VisionError::EmptyImage);
    }
    let code = match image.channels() {
        1 => imgproc::COLOR_GRAY2RGBA,
        3 => imgproc::COLOR_BGR2RGBA,
        4 => imgproc::COLOR_BGRA2RGBA,
        n => return Err(VisionError::UnsupportedChannels(n)),
    };
    let mut rgba = Mat::default();
    imgproc::cvt_color_def(image, &mut rgba, code).cv("converting a frame for display")?;
    if mirror {
        let mut flipped = Mat::default();
        core::flip(&rgba, &mut flipped, 1).cv("mirroring a frame")?;
        rgba = flipped;
    }
    let size = [rgba.cols() as usize, rgba.rows() as usize];
    let bytes = rgba.data_bytes().cv("reading a frame")?;
    // Every pixel is opaque, so premultiplied and straight alpha agree and
    // the bytes are the pixels: one copy, no per-pixel conversion.
    let pixels: &[egui::Color32] = bytemuck::try_cast_slice(bytes).map_err(|_| VisionError::EmptyImage)?;
    Ok(egui::ColorImage::new(size, pixels.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_camera_that_keeps_failing_stays_not_found_with_its_message() {
        let s = camera_state(
            CaptureEvent::NotFound { source: "camera:0".into(), message: "no such device".into() },
            &CameraState::Starting { source: "camera:0".into() },
        );
        let s = camera_state(CaptureEvent::Reconnecting { source: "camera:0".into(), attempt: 1, delay_ms: 250 }, &s);
        assert_eq!(
            s,
            CameraState::NotFound { source: "camera:0".into(), message: "no such device".into(), retrying: true }
        );
        assert!(s.summary().contains("retrying"));
        let s = camera_state(CaptureEvent::EndOfStream { source: "camera:0".into(), frames: 0 }, &s);
        assert!(matches!(s, CameraState::NotFound { retrying: false, .. }));
    }

    #[test]
    fn a_lost_camera_says_so_until_it_opens_again() {
        let live = CameraState::Live { source: "camera:0".into(), width: 640, height: 480, fps: 30.0 };
        let s =
            camera_state(CaptureEvent::Disconnected { source: "camera:0".into(), message: "unplugged".into() }, &live);
        assert_eq!(s, CameraState::Lost { source: "camera:0".into(), message: "unplugged".into() });
        assert!(s.summary().contains("lost"));
        let s = camera_state(CaptureEvent::Reconnecting { source: "camera:0".into(), attempt: 2, delay_ms: 500 }, &s);
        assert!(matches!(s, CameraState::Lost { .. }), "{s:?}");
        let opened = CaptureEvent::Opened {
            source: "camera:0".into(),
            width: 1280,
            height: 720,
            fps: 30.0,
            backend: "V4L2".into(),
        };
        assert!(matches!(camera_state(opened, &s), CameraState::Live { width: 1280, .. }));
    }

    #[test]
    fn frames_convert_to_rgba_and_mirror() {
        // A 2×1 BGR image: blue then red.
        let mut m = Mat::new_rows_cols_with_default(1, 2, core::CV_8UC3, core::Scalar::all(0.0)).unwrap();
        *m.at_2d_mut::<core::Vec3b>(0, 0).unwrap() = core::Vec3b::from([255, 0, 0]);
        *m.at_2d_mut::<core::Vec3b>(0, 1).unwrap() = core::Vec3b::from([0, 0, 255]);
        let plain = to_color_image(&m, false).unwrap();
        assert_eq!(plain.pixels[0], egui::Color32::from_rgb(0, 0, 255));
        let mirrored = to_color_image(&m, true).unwrap();
        assert_eq!(mirrored.pixels[0], egui::Color32::from_rgb(255, 0, 0));
        assert!(to_color_image(&Mat::default(), false).is_err());
    }
}
