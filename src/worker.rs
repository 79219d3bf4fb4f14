//! The vision worker thread: owns the detector, the recognizer and the
//! gallery, takes frames from the capture thread and commands from the
//! app, and sends one [`FrameReport`] per processed frame.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, select};
use opencv::core::Mat;
use serde::Serialize;

use crate::capture::{CaptureEvent, Frame};
use crate::detect::{Detector, DetectorParams};
use crate::enrollment::{EnrollmentSession, EnrollmentSettings, Hint, Offer};
use crate::identify::FaceBox;
use crate::latest::{LatestReceiver, LatestSender};
use crate::normalize::{FaceRegion, normalize_face};
use crate::recognizer::{Recognizer, RecognizerKind, decide};
use crate::store::{Gallery, StoreError};
use crate::tracker::{Observation, Tracker};

/// Most samples one live enrollment collects.
pub const MAX_ENROLLMENT_SAMPLES: usize = 1000;

/// Called after every report and event, so a window can repaint when
/// there is something new instead of polling.
#[derive(Clone, Default)]
pub struct Notify(Option<Arc<dyn Fn() + Send + Sync>>);

impl Notify {
    pub fn new(f: impl Fn() + Send + Sync + 'static) -> Self {
        Self(Some(Arc::new(f)))
    }

    fn notify(&self) {
        if let Some(f) = &self.0 {
            f();
        }
    }
}

impl std::fmt::Debug for Notify {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Notify(set)" } else { "Notify(none)" })
    }
}

/// What the worker needs to start.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub cascade: PathBuf,
    pub detector: DetectorParams,
    pub data_dir: PathBuf,
    /// Which recognizer names faces; `threshold` is on its distance scale.
    pub recognizer: RecognizerKind,
    pub threshold: f64,
    pub enrollment: EnrollmentSettings,
    pub notify: Notify,
}

/// Requests from the app to the worker.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Collect samples of the one face in view for `name` (a new or
    /// existing person); `samples` overrides the default count.
    StartEnrollment {
        name: String,
        samples: Option<usize>,
    },
    CancelEnrollment,
    SetThreshold(f64),
    /// Switch recognizer; the threshold goes with it, as each kind has its
    /// own distance scale.
    SetRecognizer {
        kind: RecognizerKind,
        threshold: f64,
    },
    SetDetector(DetectorParams),
    /// Read the gallery again (after another process changed it).
    ReloadGallery,
}

/// One face in a processed frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaceReport {
    #[serde(rename = "box")]
    pub bbox: FaceBox,
    pub track_id: u64,
    /// The voted identity's name, `null` when unknown.
    pub name: Option<String>,
    pub person_id: Option<u32>,
    pub known: bool,
    /// This frame's distance to the nearest person.
    pub distance: Option<f64>,
    /// 0–100, averaged over the frames that voted for the identity.
    pub confidence: f64,
}

/// Progress of a live enrollment, as of this frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnrollmentStatus {
    pub name: String,
    pub collected: usize,
    pub target: usize,
    /// Why this frame was not taken, if it was not.
    pub hint: Option<Hint>,
}

/// The result of one processed frame.
#[derive(Debug, Serialize)]
pub struct FrameReport {
    pub seq: u64,
    pub stream_ms: f64,
    /// From capture to the end of processing.
    pub latency_ms: f64,
    pub detect_ms: f64,
    pub identify_ms: f64,
    pub faces: Vec<FaceReport>,
    /// Frames dropped so far because vision was behind the camera.
    pub dropped_frames: u64,
    pub enrollment: Option<EnrollmentStatus>,
    /// The frame itself (BGR), for display and annotated output.
    #[serde(skip)]
    pub image: Mat,
}

/// How an enrollment ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum EnrollmentOutcome {
    Done { name: String, person_id: u32, added: usize, samples: usize },
    Cancelled { name: String },
    Failed { name: String, message: String },
}

/// Everything but frame reports: rare, never dropped.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VisionEvent {
    /// The worker is running; the gallery holds `people` people.
    Ready {
        people: usize,
    },
    Camera {
        event: CaptureEvent,
    },
    Enrollment {
        outcome: EnrollmentOutcome,
    },
    /// The gallery was (re)loaded.
    Gallery {
        people: usize,
        warning: Option<String>,
    },
    /// Something failed; `fatal` means the worker stopped.
    Error {
        message: String,
        fatal: bool,
    },
    /// No more frames will come (end of file, or the source could not open).
    Finished,
}

pub(crate) struct Worker {
    pub settings: WorkerSettings,
    pub frames: LatestReceiver<Frame>,
    pub camera_events: Receiver<CaptureEvent>,
    pub commands: Receiver<Command>,
    pub reports: LatestSender<FrameReport>,
    pub events: Sender<VisionEvent>,
    pub stop: Arc<AtomicBool>,
    /// The end-of-stream event, held back until the frames before it are done.
    pub pending_end: Option<CaptureEvent>,
}

struct State {
    detector: Detector,
    gallery: Option<Gallery>,
    /// The gallery's LBPH model: enrollment updates it in place.
    model: Option<Recognizer>,
    kind: RecognizerKind,
    /// Eigenfaces or Fisherfaces trained from the samples, when chosen.
    other: Option<Recognizer>,
    threshold: f64,
    tracker: Tracker,
    enrollment: Option<EnrollmentSession>,
    /// A finished enrollment waiting for the gallery lock (another facecam,
    /// or this one's people list, is changing the gallery).
    unsaved: Option<Unsaved>,
}

struct Unsaved {
    name: String,
    samples: Vec<Mat>,
    since: Instant,
}

/// How long a finished enrollment waits for a busy gallery before failing.
const SAVE_WAIT: Duration = Duration::from_secs(15);

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

impl Worker {
    fn emit(&self, event: VisionEvent) {
        let _ = self.events.send(event);
        self.settings.notify.notify();
    }

    pub fn run(mut self) {
        let detector = match Detector::new(&self.settings.cascade, self.settings.detector) {
            Ok(d) => d,
            Err(e) => {
                self.emit(VisionEvent::Error { message: e.to_string(), fatal: true });
                self.emit(VisionEvent::Finished);
                return;
            }
        };
        let mut state = State {
            detector,
            gallery: None,
            model: None,
            kind: self.settings.recognizer,
            other: None,
            threshold: self.settings.threshold,
            tracker: Tracker::new(),
            enrollment: None,
            unsaved: None,
        };
        self.load_gallery(&mut state);
        self.emit(VisionEvent::Ready { people: state.gallery.as_ref().map_or(0, |g| g.people().len()) });
        let frames = self.frames.receiver().clone();
        let camera_events = self.camera_events.clone();
        let commands = self.commands.clone();
        while !self.stop.load(Ordering::Acquire) {
            select! {
                recv(commands) -> cmd => match cmd {
                    Ok(cmd) => self.command(&mut state, cmd),
                    Err(_) => return,
                },
                recv(frames) -> frame => match frame {
                    Ok(frame) => {
                        if !self.process(&mut state, frame) {
                            return;
                        }
                    }
                    Err(_) => return self.finish(&mut state),
                },
                recv(camera_events) -> event => match event {
                    Ok(CaptureEvent::EndOfStream { .. }) | Err(_) => {
                        // The capture thread is done (end of file, stop, or a source it
                        // gave up on); `finish` forwards this event after the frames
                        // queued before it.
                        if let Ok(event) = event {
                            self.pending_end = Some(event);
                        }
                        return self.finish(&mut state);
                    }
                    Ok(event) => self.emit(VisionEvent::Camera { event }),
                },
                default(Duration::from_millis(100)) => {}
            }
            self.retry_save(&mut state);
        }
    }

    fn load_gallery(&self, state: &mut State) {
        let loaded = Gallery::open(&self.settings.data_dir).and_then(|g| g.load_model().map(|m| (g, m)));
        match loaded {
            Ok((gallery, model)) => {
                let people = gallery.people().len();
                state.gallery = Some(gallery);
                state.model = Some(model.recognizer);
                state.tracker.clear_votes();
                self.emit(VisionEvent::Gallery { people, warning: model.rebuilt_because });
                self.train_other(state);
            }
            Err(e) => {
                state.gallery = None;
                state.model = None;
                self.emit(VisionEvent::Error { message: e.to_string(), fatal: false });
            }
        }
    }

    fn command(&self, state: &mut State, cmd: Command) {
        match cmd {
            Command::StartEnrollment { name, samples } => {
                let name = match crate::names::validate_name(&name) {
                    Ok(name) => name,
                    Err(e) => {
                        let message = e.to_string();
                        self.emit(VisionEvent::Enrollment { outcome: EnrollmentOutcome::Failed { name, message } });
                        return;
                    }
                };
                let mut settings = self.settings.enrollment;
                if let Some(n) = samples {
                    settings.samples = n.clamp(1, MAX_ENROLLMENT_SAMPLES);
                }
                if let Some(old) = state.enrollment.replace(EnrollmentSession::new(name, settings)) {
                    self.emit(VisionEvent::Enrollment { outcome: EnrollmentOutcome::Cancelled { name: old.name } });
                }
            }
            Command::CancelEnrollment => {
                if let Some(old) = state.enrollment.take() {
                    self.emit(VisionEvent::Enrollment { outcome: EnrollmentOutcome::Cancelled { name: old.name } });
                }
            }
            Command::SetThreshold(t) if t.is_finite() && t > 0.0 => state.threshold = t,
            Command::SetThreshold(t) => self.emit(VisionEvent::Error {
                message: format!("threshold {t} ignored: use a positive number"),
                fatal: false,
            }),
            Command::SetRecognizer { kind, threshold } => {
                state.kind = kind;
                if threshold.is_finite() && threshold > 0.0 {
                    state.threshold = threshold;
                }
                state.tracker.clear_votes();
                self.train_other(state);
            }
            Command::SetDetector(params) => {
                if let Err(message) = state.detector.set_params(params) {
                    self.emit(VisionEvent::Error { message, fatal: false });
                }
            }
            Command::ReloadGallery => self.load_gallery(state),
        }
    }

    /// Trains the chosen non-LBPH recognizer on the gallery's samples. When
    /// it cannot be trained (Fisherfaces with one person), faces show as
    /// unknown and the user is told why.
    fn train_other(&self, state: &mut State) {
        state.other = None;
        if state.kind == RecognizerKind::Lbph {
            return;
        }
        let Some(gallery) = &state.gallery else { return };
        if gallery.total_samples() == 0 {
            return;
        }
        match gallery.train_kind(state.kind) {
            Ok((model, _unreadable)) => state.other = Some(model),
            Err(e) => self.emit(VisionEvent::Error {
                message: format!("the {} recognizer cannot be used: {e}; faces show as unknown", state.kind),
                fatal: false,
            }),
        }
    }

    /// The stream is over: processes the frames still queued, forwards the
    /// last camera events, ends any enrollment and says so.
    fn finish(&mut self, state: &mut State) {
        while let Ok(frame) = self.frames.try_recv() {
            if !self.process(state, frame) {
                return;
            }
        }
        while let Ok(event) = self.camera_events.try_recv() {
            self.emit(VisionEvent::Camera { event });
        }
        if let Some(event) = self.pending_end.take() {
            self.emit(VisionEvent::Camera { event });
        }
        self.finish_enrollment_early(state);
        while state.unsaved.is_some() && !self.stop.load(Ordering::Acquire) {
            std::thread::sleep(Duration::from_millis(50));
            self.retry_save(state);
        }
        self.emit(VisionEvent::Finished);
    }

    /// An enrollment still running when the stream ends cannot complete.
    fn finish_enrollment_early(&self, state: &mut State) {
        if let Some(session) = state.enrollment.take() {
            let message = format!(
                "the video ended after {} of {} samples; nothing was saved",
                session.collected(),
                session.target()
            );
            self.emit(VisionEvent::Enrollment { outcome: EnrollmentOutcome::Failed { name: session.name, message } });
        }
    }

    /// Processes one frame; false when the consumer is gone.
    fn process(&self, state: &mut State, frame: Frame) -> bool {
        let started = Instant::now();
        let boxes = match state.detector.detect(&frame.image) {
            Ok(b) => b,
            Err(e) => {
                tracing::debug!("frame {}: {e}", frame.seq);
                self.emit(VisionEvent::Error {
                    message: format!("face detection failed on a frame: {e}"),
                    fatal: false,
                });
                Vec::new()
            }
        };
        let detect_ms = ms_since(started);
        let identify_started = Instant::now();
        let mut observations = Vec::with_capacity(boxes.len());
        for &bbox in &boxes {
            let model = if state.kind == RecognizerKind::Lbph { &mut state.model } else { &mut state.other };
            let nearest = match (model, normalize_face(&frame.image, FaceRegion::Detected(bbox))) {
                (Some(model), Ok(face)) => model.nearest(&face).ok().flatten(),
                _ => None,
            };
            let known_person = nearest
                .filter(|n| state.gallery.as_ref().is_some_and(|g| g.by_label(n.label).is_some()))
                .map(|n| (n, decide(n.distance, state.threshold)));
            observations.push(Observation {
                bbox,
                person_id: known_person.filter(|(_, d)| d.known).map(|(n, _)| n.label as u32),
                distance: nearest.map(|n| n.distance),
                confidence_pct: known_person.map_or(0.0, |(_, d)| d.confidence_pct),
            });
        }
        let identify_ms = ms_since(identify_started);
        let tracked = state.tracker.update(&observations);

        let enrollment = self.enroll_step(state, &frame, &boxes);

        let gallery = state.gallery.as_ref();
        let faces = tracked
            .iter()
            .map(|t| {
                let person = t.person_id.and_then(|id| gallery.and_then(|g| g.by_label(id as i32)));
                FaceReport {
                    bbox: t.bbox.into(),
                    track_id: t.track_id,
                    name: person.map(|p| p.name.clone()),
                    person_id: person.map(|p| p.id),
                    known: person.is_some(),
                    distance: t.distance,
                    confidence: t.confidence_pct,
                }
            })
            .collect();
        let report = FrameReport {
            seq: frame.seq,
            stream_ms: frame.stream_ms,
            latency_ms: ms_since(frame.captured_at),
            detect_ms,
            identify_ms,
            faces,
            dropped_frames: self.frames.dropped(),
            enrollment,
            image: frame.image,
        };
        let sent = self.reports.send(report, &self.stop).is_ok();
        self.settings.notify.notify();
        sent
    }

    fn enroll_step(&self, state: &mut State, frame: &Frame, boxes: &[opencv::core::Rect]) -> Option<EnrollmentStatus> {
        let session = state.enrollment.as_mut()?;
        let hint = match session.offer(&frame.image, boxes, frame.stream_ms) {
            Ok(Offer::Taken) | Ok(Offer::TooSoon) => None,
            Ok(Offer::Skipped(hint)) => Some(hint),
            Err(e) => {
                tracing::debug!("enrollment frame {} unusable: {e}", frame.seq);
                None
            }
        };
        let status = EnrollmentStatus {
            name: session.name.clone(),
            collected: session.collected(),
            target: session.target(),
            hint,
        };
        if session.is_complete()
            && let Some(session) = state.enrollment.take()
        {
            self.save_enrollment(state, session);
        }
        Some(status)
    }

    fn save_enrollment(&self, state: &mut State, session: EnrollmentSession) {
        let name = session.name.clone();
        state.unsaved = Some(Unsaved { name, samples: session.into_samples(), since: Instant::now() });
        self.retry_save(state);
    }

    /// Saves a finished enrollment, unless the gallery is busy: then the
    /// samples are kept and tried again, so a concurrent change never
    /// loses them.
    fn retry_save(&self, state: &mut State) {
        let Some(unsaved) = state.unsaved.take() else { return };
        let result = (|| {
            let gallery = match &mut state.gallery {
                Some(g) => g,
                None => state.gallery.insert(Gallery::open(&self.settings.data_dir)?),
            };
            let model = match &mut state.model {
                Some(m) => m,
                None => state.model.insert(gallery.load_model()?.recognizer),
            };
            gallery.enroll(model, &[(&unsaved.name, &unsaved.samples)])
        })();
        let name = unsaved.name.clone();
        let outcome = match result {
            Err(StoreError::Busy(_)) if unsaved.since.elapsed() < SAVE_WAIT => {
                state.unsaved = Some(unsaved);
                return;
            }
            Ok(enrolled) => match enrolled.into_iter().next() {
                Some(e) => EnrollmentOutcome::Done {
                    name: e.person.name.clone(),
                    person_id: e.person.id,
                    added: e.added,
                    samples: e.person.sample_count(),
                },
                None => EnrollmentOutcome::Failed { name, message: "nothing was enrolled".into() },
            },
            Err(e) => EnrollmentOutcome::Failed { name, message: e.to_string() },
        };
        state.tracker.clear_votes();
        self.train_other(state);
        self.emit(VisionEvent::Enrollment { outcome });
    }
}
