//! `facecam bench`: measured figures for the live pipeline, on scenes made
//! from the AT&T faces, through the same capture and vision code as a
//! camera.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;
use thiserror::Error;

use crate::capture::{CaptureSettings, Source};
use crate::cv::{self, VisionError};
use crate::detect::DetectorParams;
use crate::enrollment::EnrollmentSettings;
use crate::latest::Delivery;
use crate::normalize::{FaceRegion, normalize_face};
use crate::pipeline::{Pipeline, PipelineError};
use crate::recognizer::RecognizerKind;
use crate::store::{Gallery, StoreError};
use crate::synth::{Segment, write_scene};
use crate::worker::{FrameReport, VisionEvent, WorkerSettings};

#[derive(Debug, Error)]
pub enum BenchError {
    #[error("the AT&T faces are not in {0}; pass --datasets DIR (the folder holding att_faces/)")]
    NoDatasets(PathBuf),
    #[error(transparent)]
    Vision(#[from] VisionError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error("{0}")]
    Run(String),
}

/// Pipeline figures at one resolution.
#[derive(Debug, Clone, Serialize)]
pub struct PipelineBench {
    pub width: i32,
    pub height: i32,
    pub frames: u32,
    /// Mean faces found per frame (two are in view).
    pub faces_per_frame: f64,
    pub gallery_samples: usize,
    /// Frames per second with the file read as fast as vision takes it.
    pub throughput_fps: f64,
    pub detect_ms_median: f64,
    pub identify_ms_median: f64,
    /// The same scene played at its own rate, as a camera would deliver it.
    pub realtime_input_fps: f64,
    pub realtime_processed: usize,
    pub realtime_dropped: u64,
    /// From capture to result, in real-time playback.
    pub latency_ms_median: f64,
    pub latency_ms_p95: f64,
}

fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    values[((values.len() - 1) as f64 * p).round() as usize]
}

/// Builds a gallery of `people` AT&T people (first five images each).
fn bench_gallery(att: &Path, dir: &Path, people: u32) -> Result<usize, BenchError> {
    let mut gallery = Gallery::open(dir)?;
    let mut model = gallery.load_model()?.recognizer;
    let mut batch = Vec::new();
    for s in 1..=people {
        let mut faces = Vec::new();
        for i in 1..=5 {
            let image = cv::read_image(&att.join(format!("s{s}/{i}.pgm")))?;
            faces.push(normalize_face(&image, FaceRegion::Whole)?);
        }
        batch.push((format!("s{s}"), faces));
    }
    let refs: Vec<(&str, &[opencv::core::Mat])> = batch.iter().map(|(n, f)| (n.as_str(), f.as_slice())).collect();
    gallery.enroll(&mut model, &refs)?;
    Ok(gallery.total_samples())
}

fn run(pipeline: &Pipeline) -> Result<(Vec<FrameReport>, Duration), BenchError> {
    let started = Instant::now();
    let mut reports = Vec::new();
    loop {
        while let Ok(r) = pipeline.reports.try_recv() {
            reports.push(r);
        }
        match pipeline.events.recv_timeout(Duration::from_millis(5)) {
            Ok(VisionEvent::Finished) => break,
            Ok(VisionEvent::Error { message, fatal: true }) => return Err(BenchError::Run(message)),
            _ => {}
        }
    }
    let elapsed = started.elapsed();
    while let Ok(r) = pipeline.reports.try_recv() {
        reports.push(r);
    }
    Ok((reports, elapsed))
}

/// Measures the pipeline at each size, with `faces` people in view.
pub fn bench_pipeline(
    datasets: &Path,
    work: &Path,
    cascade: &Path,
    detector: DetectorParams,
    sizes: &[(i32, i32)],
    frames: u32,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<PipelineBench>, BenchError> {
    let att = datasets.join("att_faces");
    if !att.join("s1/1.pgm").is_file() {
        return Err(BenchError::NoDatasets(datasets.to_owned()));
    }
    let data_dir = work.join("gallery");
    let gallery_samples = bench_gallery(&att, &data_dir, 10)?;
    let worker = WorkerSettings {
        cascade: cascade.to_owned(),
        detector,
        data_dir,
        threshold: RecognizerKind::Lbph.default_threshold(),
        enrollment: EnrollmentSettings::default(),
    };
    let fps = 30.0;
    let scene = [Segment {
        faces: [2, 3].iter().map(|p| (6..=10).map(|i| att.join(format!("s{p}/{i}.pgm"))).collect()).collect(),
        frames,
    }];
    let mut out = Vec::new();
    for &(width, height) in sizes {
        progress(&format!("{width}x{height}: writing the scene"));
        let video = work.join(format!("scene-{width}x{height}.avi"));
        write_scene(&video, &scene, width, height, fps)?;

        progress(&format!("{width}x{height}: throughput"));
        let pipeline = Pipeline::start(
            Source::File(video.clone()),
            CaptureSettings::default(),
            worker.clone(),
            Delivery::Lossless,
        )?;
        let (reports, elapsed) = run(&pipeline)?;
        drop(pipeline);
        let mut detect: Vec<f64> = reports.iter().map(|r| r.detect_ms).collect();
        let mut identify: Vec<f64> = reports.iter().map(|r| r.identify_ms).collect();
        let faces = reports.iter().map(|r| r.faces.len()).sum::<usize>() as f64 / reports.len().max(1) as f64;

        progress(&format!("{width}x{height}: real-time latency"));
        let live = CaptureSettings { realtime: true, ..Default::default() };
        let pipeline = Pipeline::start(Source::File(video.clone()), live, worker.clone(), Delivery::NewestWins)?;
        let (live_reports, _) = run(&pipeline)?;
        drop(pipeline);
        let mut latency: Vec<f64> = live_reports.iter().map(|r| r.latency_ms).collect();
        let dropped = live_reports.last().map_or(0, |r| r.dropped_frames);
        let _ = std::fs::remove_file(&video);

        out.push(PipelineBench {
            width,
            height,
            frames,
            faces_per_frame: faces,
            gallery_samples,
            throughput_fps: reports.len() as f64 / elapsed.as_secs_f64(),
            detect_ms_median: percentile(&mut detect, 0.5),
            identify_ms_median: percentile(&mut identify, 0.5),
            realtime_input_fps: fps,
            realtime_processed: live_reports.len(),
            realtime_dropped: dropped,
            latency_ms_median: percentile(&mut latency, 0.5),
            latency_ms_p95: percentile(&mut latency, 0.95),
        });
    }
    Ok(out)
}
