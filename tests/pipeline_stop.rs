//! Stopping the pipeline, alone in its test binary so that no other test's
//! threads are counted.

mod common;

use std::time::{Duration, Instant};

use common::{Segment, make_video};
use facecam::capture::{CaptureSettings, Source};
use facecam::enrollment::EnrollmentSettings;
use facecam::latest::Delivery;
use facecam::pipeline::Pipeline;
use facecam::worker::WorkerSettings;

fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|n| n.trim().to_owned())
        .collect()
}

#[test]
fn dropping_the_pipeline_stops_and_joins_its_threads() {
    let datasets = require_datasets!();
    let tmp = tempfile::tempdir().unwrap();
    let video = tmp.path().join("loop.avi");
    make_video(&datasets, &video, &[Segment { people: vec![2], frames: 20 }]);
    let settings = CaptureSettings { looping: true, ..Default::default() };
    let worker = WorkerSettings {
        cascade: facecam::cascade::locate(None, None).unwrap(),
        detector: Default::default(),
        data_dir: tmp.path().join("data"),
        recognizer: facecam::recognizer::RecognizerKind::Lbph,
        threshold: 32.0,
        enrollment: EnrollmentSettings::default(),
        notify: Default::default(),
    };
    let pipeline = Pipeline::start(Source::File(video), settings, worker, Delivery::Lossless).unwrap();
    for _ in 0..30 {
        pipeline.reports.recv_timeout(Duration::from_secs(10)).expect("no frames from a looping video");
    }
    let names = thread_names();
    assert!(names.iter().any(|n| n == "facecam-capture") && names.iter().any(|n| n == "facecam-vision"), "{names:?}");
    let started = Instant::now();
    drop(pipeline);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "stopping took {took:?}");
    // The capture thread (and the decoder threads it started, which carry its
    // name) are gone. OpenCV's own worker pool, started from the vision thread
    // and so named after it, lives on by design; the vision thread itself was
    // joined by the drop above.
    let names = thread_names();
    assert!(!names.iter().any(|n| n == "facecam-capture"), "threads left running: {names:?}");
}
