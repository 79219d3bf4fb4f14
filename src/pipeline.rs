//! The live pipeline: camera → capture thread → newest-wins channel →
//! vision worker → reports and events for the app.
//!
//! Nothing here blocks the caller: reports and events are read with
//! `try_recv`/`recv_timeout`. Dropping the pipeline stops both threads and
//! joins them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};

use crossbeam_channel::{Receiver, Sender};
use thiserror::Error;

use crate::capture::{Capture, CaptureSettings, Source};
use crate::latest::{Delivery, LatestReceiver, latest_channel};
use crate::worker::{Command, FrameReport, VisionEvent, Worker, WorkerSettings};

#[derive(Debug, Error)]
#[error("cannot start the {thread} thread: {source}")]
pub struct PipelineError {
    thread: &'static str,
    source: std::io::Error,
}

/// A running pipeline.
pub struct Pipeline {
    // Field order is drop order: the worker is stopped and joined before
    // the capture thread, so the worker never waits on a dead channel.
    worker: Option<JoinHandle<()>>,
    capture: Option<Capture>,
    stop: Arc<AtomicBool>,
    commands: Sender<Command>,
    /// One report per processed frame.
    pub reports: LatestReceiver<FrameReport>,
    /// Camera, enrollment and gallery events.
    pub events: Receiver<VisionEvent>,
}

impl Pipeline {
    /// Starts capture and vision. `reports` says what happens when the
    /// consumer is slower than vision: a window wants the newest report,
    /// a file conversion wants every one.
    pub fn start(
        source: Source,
        capture: CaptureSettings,
        worker: WorkerSettings,
        reports: Delivery,
    ) -> Result<Self, PipelineError> {
        let (capture, output) =
            Capture::start(source, capture).map_err(|source| PipelineError { thread: "capture", source })?;
        let stop = Arc::new(AtomicBool::new(false));
        let (report_tx, report_rx) = latest_channel(2, reports);
        let (event_tx, event_rx) = crossbeam_channel::unbounded();
        let (command_tx, command_rx) = crossbeam_channel::unbounded();
        let job = Worker {
            settings: worker,
            frames: output.frames,
            camera_events: output.events,
            commands: command_rx,
            reports: report_tx,
            events: event_tx,
            stop: stop.clone(),
            pending_end: None,
        };
        let handle = thread::Builder::new()
            .name("facecam-vision".into())
            .spawn(move || job.run())
            .map_err(|source| PipelineError { thread: "vision", source })?;
        Ok(Self {
            worker: Some(handle),
            capture: Some(capture),
            stop,
            commands: command_tx,
            reports: report_rx,
            events: event_rx,
        })
    }

    /// Sends a command to the vision worker (never blocks).
    pub fn send(&self, command: Command) {
        let _ = self.commands.send(command);
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(capture) = &self.capture {
            capture.request_stop();
        }
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
        // Joins the capture thread and releases the camera.
        self.capture.take();
    }
}
