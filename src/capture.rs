//! The capture thread: owns the OpenCV `VideoCapture` for a camera or a
//! video file and hands frames on through a newest-wins channel.
//!
//! Cameras and files go through the same code, so a video file or image
//! sequence exercises everything but opening the device. What happens to
//! the camera is reported as [`CaptureEvent`] values, never as panics.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use opencv::core::Mat;
use opencv::prelude::*;
use opencv::{imgproc, videoio};
use serde::Serialize;

use crate::latest::{Delivery, LatestReceiver, LatestSender, latest_channel};

/// Where frames come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A camera by index (`camera:0`).
    Camera(i32),
    /// A camera by device path (`/dev/video2`).
    Device(PathBuf),
    /// A video file or an image sequence pattern (`frames/%04d.png`).
    File(PathBuf),
}

impl Source {
    pub fn is_camera(&self) -> bool {
        !matches!(self, Self::File(_))
    }
}

impl FromStr for Source {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(index) = s.strip_prefix("camera:") {
            return index
                .parse::<i32>()
                .ok()
                .filter(|i| *i >= 0)
                .map(Self::Camera)
                .ok_or_else(|| format!("{s:?}: the camera index must be a number like camera:0"));
        }
        if s.is_empty() {
            return Err("the source is empty; use camera:0, /dev/videoN or a video file".into());
        }
        if s.starts_with("/dev/") {
            return Ok(Self::Device(PathBuf::from(s)));
        }
        Ok(Self::File(PathBuf::from(s)))
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Camera(i) => write!(f, "camera:{i}"),
            Self::Device(p) | Self::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// How to open and read a source.
#[derive(Debug, Clone)]
pub struct CaptureSettings {
    /// Requested camera size and rate; the camera may pick the nearest.
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub fps: Option<f64>,
    /// Ask the camera for MJPG (more frames per second over USB 2).
    pub mjpg: bool,
    /// Play files at their own frame rate instead of as fast as possible.
    pub realtime: bool,
    /// Start files again at the end.
    pub looping: bool,
    /// Keep trying to (re)open a camera that is missing or lost.
    pub reconnect: bool,
    /// Frames waiting for the consumer at most.
    pub capacity: usize,
}

impl Default for CaptureSettings {
    fn default() -> Self {
        Self {
            width: None,
            height: None,
            fps: None,
            mjpg: true,
            realtime: false,
            looping: false,
            reconnect: false,
            capacity: 2,
        }
    }
}

impl CaptureSettings {
    /// Cameras and real-time playback drop stale frames; plain file playback
    /// loses none.
    pub fn delivery(&self, source: &Source) -> Delivery {
        if source.is_camera() || self.realtime { Delivery::NewestWins } else { Delivery::Lossless }
    }
}

/// One captured frame.
pub struct Frame {
    /// 0, 1, 2, … in capture order, across reconnects and loops.
    pub seq: u64,
    pub captured_at: Instant,
    /// Position in the stream: media time for files, time since opening
    /// for cameras.
    pub stream_ms: f64,
    /// 8-bit BGR.
    pub image: Mat,
}

/// What happened to the source.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum CaptureEvent {
    Opened { source: String, width: i32, height: i32, fps: f64, backend: String },
    NotFound { source: String, message: String },
    Disconnected { source: String, message: String },
    Reconnecting { source: String, attempt: u32, delay_ms: u64 },
    EndOfStream { source: String, frames: u64 },
}

/// A running capture thread. Dropping it stops and joins the thread, which
/// releases the camera.
pub struct Capture {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

/// What a capture thread produces: frames (bounded, newest wins for live
/// sources) and events (never dropped).
pub struct CaptureOutput {
    pub frames: LatestReceiver<Frame>,
    pub events: Receiver<CaptureEvent>,
}

impl Capture {
    pub fn start(source: Source, settings: CaptureSettings) -> std::io::Result<(Self, CaptureOutput)> {
        let (frame_tx, frames) = latest_channel(settings.capacity, settings.delivery(&source));
        let (event_tx, events) = crossbeam_channel::unbounded();
        let stop = Arc::new(AtomicBool::new(false));
        let worker = CaptureLoop { source, settings, frames: frame_tx, events: event_tx, stop: stop.clone(), seq: 0 };
        let handle = thread::Builder::new().name("facecam-capture".into()).spawn(move || worker.run())?;
        Ok((Self { stop, handle: Some(handle) }, CaptureOutput { frames, events }))
    }

    /// Asks the thread to stop without waiting for it.
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::Release);
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.request_stop();
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

const FIRST_RETRY: Duration = Duration::from_millis(250);
const MAX_RETRY: Duration = Duration::from_secs(4);
/// Consecutive failed reads after which a camera counts as lost.
const FAILED_READS_LOST: u32 = 10;

struct CaptureLoop {
    source: Source,
    settings: CaptureSettings,
    frames: LatestSender<Frame>,
    events: Sender<CaptureEvent>,
    stop: Arc<AtomicBool>,
    seq: u64,
}

/// Why reading stopped.
enum Ended {
    Stopped,
    EndOfFile,
    Lost(String),
}

impl CaptureLoop {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    fn emit(&self, event: CaptureEvent) {
        let _ = self.events.send(event);
    }

    fn run(mut self) {
        let name = self.source.to_string();
        let mut attempt = 0u32;
        let mut delay = FIRST_RETRY;
        while !self.stopping() {
            match open(&self.source, &self.settings) {
                Ok((cap, opened)) => {
                    attempt = 0;
                    delay = FIRST_RETRY;
                    let fps = match opened {
                        CaptureEvent::Opened { fps, .. } => fps,
                        _ => 0.0,
                    };
                    self.emit(opened);
                    match self.read_all(cap, fps) {
                        Ended::Stopped => return,
                        Ended::EndOfFile if self.settings.looping && self.seq > 0 => continue,
                        Ended::EndOfFile => {
                            self.emit(CaptureEvent::EndOfStream { source: name, frames: self.seq });
                            return;
                        }
                        Ended::Lost(message) => {
                            self.emit(CaptureEvent::Disconnected { source: name.clone(), message });
                        }
                    }
                }
                Err(message) => {
                    if attempt == 0 {
                        self.emit(CaptureEvent::NotFound { source: name.clone(), message });
                    }
                    if !self.settings.reconnect || !self.source.is_camera() {
                        return;
                    }
                }
            }
            if !self.settings.reconnect || !self.source.is_camera() {
                return;
            }
            attempt += 1;
            self.emit(CaptureEvent::Reconnecting { source: name.clone(), attempt, delay_ms: delay.as_millis() as u64 });
            if !self.sleep(delay) {
                return;
            }
            delay = (delay * 2).min(MAX_RETRY);
        }
    }

    /// Sleeps in short steps; false if asked to stop meanwhile.
    fn sleep(&self, total: Duration) -> bool {
        let until = Instant::now() + total;
        while Instant::now() < until {
            if self.stopping() {
                return false;
            }
            thread::sleep(Duration::from_millis(20).min(until.saturating_duration_since(Instant::now())));
        }
        !self.stopping()
    }

    fn read_all(&mut self, mut cap: videoio::VideoCapture, fps: f64) -> Ended {
        let opened_at = Instant::now();
        let is_camera = self.source.is_camera();
        let frame_secs = if fps > 0.0 && fps.is_finite() { 1.0 / fps } else { 1.0 / 25.0 };
        let mut failed_reads = 0;
        let mut file_frames = 0u64;
        loop {
            if self.stopping() {
                return Ended::Stopped;
            }
            let mut raw = Mat::default();
            let ok = match cap.read(&mut raw) {
                Ok(ok) => ok && !raw.empty(),
                Err(e) if is_camera => {
                    tracing::debug!("camera read failed: {e}");
                    false
                }
                Err(_) => false,
            };
            if !ok {
                if !is_camera {
                    return Ended::EndOfFile;
                }
                failed_reads += 1;
                if failed_reads >= FAILED_READS_LOST {
                    return Ended::Lost("the camera stopped sending frames".into());
                }
                thread::sleep(Duration::from_millis(10));
                continue;
            }
            failed_reads = 0;
            let image = match to_bgr(raw) {
                Ok(image) => image,
                Err(e) => {
                    tracing::warn!("skipping a frame in an unusable format: {e}");
                    continue;
                }
            };
            let stream_ms = if is_camera {
                opened_at.elapsed().as_secs_f64() * 1000.0
            } else {
                file_frames as f64 * frame_secs * 1000.0
            };
            if !is_camera && self.settings.realtime {
                let due = opened_at + Duration::from_secs_f64(file_frames as f64 * frame_secs);
                if let Some(wait) = due.checked_duration_since(Instant::now())
                    && !self.sleep(wait)
                {
                    return Ended::Stopped;
                }
            }
            file_frames += 1;
            let frame = Frame { seq: self.seq, captured_at: Instant::now(), stream_ms, image };
            self.seq += 1;
            if self.frames.send(frame, &self.stop).is_err() {
                return Ended::Stopped;
            }
        }
    }
}

/// Opens a source and reports what it actually delivers.
fn open(source: &Source, settings: &CaptureSettings) -> Result<(videoio::VideoCapture, CaptureEvent), String> {
    let name = source.to_string();
    let cap = match source {
        Source::Camera(index) => videoio::VideoCapture::new(*index, camera_backend()),
        Source::Device(path) => videoio::VideoCapture::from_file(path, camera_backend()),
        Source::File(path) => {
            if !path.to_string_lossy().contains('%') && !path.is_file() {
                return Err(format!("{} does not exist or is not a file", path.display()));
            }
            videoio::VideoCapture::from_file(path, videoio::CAP_ANY)
        }
    };
    let mut cap = cap.map_err(|e| format!("OpenCV could not open {name}: {}", e.message))?;
    if !cap.is_opened().unwrap_or(false) {
        return Err(match source {
            Source::Camera(_) | Source::Device(_) => {
                format!(
                    "no camera at {name}; check that it is plugged in and not used by another program (`facecam cameras` lists them)"
                )
            }
            Source::File(_) => format!("{name} is not a video or image sequence OpenCV can read"),
        });
    }
    if source.is_camera() {
        configure_camera(&mut cap, settings);
    }
    let get = |prop| cap.get(prop).unwrap_or(0.0);
    let event = CaptureEvent::Opened {
        source: name,
        width: get(videoio::CAP_PROP_FRAME_WIDTH) as i32,
        height: get(videoio::CAP_PROP_FRAME_HEIGHT) as i32,
        fps: get(videoio::CAP_PROP_FPS),
        backend: cap.get_backend_name().unwrap_or_default(),
    };
    Ok((cap, event))
}

/// V4L2 on Linux: "any" may pick GStreamer, which is slower to open and
/// hides the camera's own formats.
fn camera_backend() -> i32 {
    if cfg!(target_os = "linux") { videoio::CAP_V4L2 } else { videoio::CAP_ANY }
}

fn configure_camera(cap: &mut videoio::VideoCapture, settings: &CaptureSettings) {
    if settings.mjpg
        && let Ok(fourcc) = videoio::VideoWriter::fourcc('M', 'J', 'P', 'G')
    {
        let _ = cap.set(videoio::CAP_PROP_FOURCC, fourcc as f64);
    }
    if let Some(w) = settings.width {
        let _ = cap.set(videoio::CAP_PROP_FRAME_WIDTH, w as f64);
    }
    if let Some(h) = settings.height {
        let _ = cap.set(videoio::CAP_PROP_FRAME_HEIGHT, h as f64);
    }
    if let Some(fps) = settings.fps {
        let _ = cap.set(videoio::CAP_PROP_FPS, fps);
    }
}

/// Converts gray or BGRA frames to BGR so every consumer sees one format.
fn to_bgr(raw: Mat) -> Result<Mat, opencv::Error> {
    let code = match raw.channels() {
        3 if raw.depth() == opencv::core::CV_8U => return Ok(raw),
        1 => imgproc::COLOR_GRAY2BGR,
        4 => imgproc::COLOR_BGRA2BGR,
        3 => {
            let mut out = Mat::default();
            raw.convert_to(&mut out, opencv::core::CV_8U, 1.0 / 257.0, 0.0)?;
            return Ok(out);
        }
        n => return Err(opencv::Error::new(opencv::core::StsBadArg, format!("{n} channels"))),
    };
    let mut out = Mat::default();
    let src = if raw.depth() == opencv::core::CV_8U {
        raw
    } else {
        let mut eight = Mat::default();
        raw.convert_to(&mut eight, opencv::core::CV_8U, 1.0 / 257.0, 0.0)?;
        eight
    };
    imgproc::cvt_color_def(&src, &mut out, code)?;
    Ok(out)
}

/// A capture device found on this machine.
#[derive(Debug, Clone, Serialize)]
pub struct CameraInfo {
    pub source: String,
    pub path: PathBuf,
    pub name: String,
    pub width: i32,
    pub height: i32,
}

/// Lists the video capture devices that can be opened (Linux: `/dev/video*`).
pub fn list_cameras() -> Vec<CameraInfo> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/dev") else { return found };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("video")))
        .collect();
    paths.sort_by(|a, b| crate::dataset::natural_cmp(&a.to_string_lossy(), &b.to_string_lossy()));
    for path in paths {
        let index = path.to_string_lossy().trim_start_matches("/dev/video").parse::<i32>().ok();
        let Ok(mut cap) = videoio::VideoCapture::from_file(&path, camera_backend()) else { continue };
        if !cap.is_opened().unwrap_or(false) {
            continue;
        }
        let width = cap.get(videoio::CAP_PROP_FRAME_WIDTH).unwrap_or(0.0) as i32;
        let height = cap.get(videoio::CAP_PROP_FRAME_HEIGHT).unwrap_or(0.0) as i32;
        let _ = cap.release();
        found.push(CameraInfo {
            source: index.map(|i| format!("camera:{i}")).unwrap_or_else(|| path.display().to_string()),
            name: device_name(&path).unwrap_or_else(|| path.display().to_string()),
            path,
            width,
            height,
        });
    }
    found
}

/// The driver's name for a device, from sysfs.
fn device_name(path: &Path) -> Option<String> {
    let file = path.file_name()?.to_str()?;
    let name = std::fs::read_to_string(format!("/sys/class/video4linux/{file}/name")).ok()?;
    Some(name.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gray_and_bgra_frames_become_bgr() {
        use opencv::core::{CV_8UC1, CV_8UC4, CV_16UC3, Scalar};
        for (kind, value) in [(CV_8UC1, 200.0), (CV_8UC4, 200.0), (CV_16UC3, 200.0 * 257.0)] {
            let raw = Mat::new_rows_cols_with_default(4, 6, kind, Scalar::all(value)).unwrap();
            let bgr = to_bgr(raw).unwrap();
            assert_eq!((bgr.channels(), bgr.depth(), bgr.cols()), (3, opencv::core::CV_8U, 6));
            assert_eq!(bgr.at_2d::<opencv::core::Vec3b>(1, 1).unwrap()[2], 200);
        }
    }

    #[test]
    fn parses_sources() {
        assert_eq!("camera:0".parse(), Ok(Source::Camera(0)));
        assert_eq!("/dev/video2".parse(), Ok(Source::Device("/dev/video2".into())));
        assert_eq!("clip.avi".parse(), Ok(Source::File("clip.avi".into())));
        assert!("camera:x".parse::<Source>().is_err());
        assert!("camera:-1".parse::<Source>().is_err());
        assert!("".parse::<Source>().is_err());
    }
}
