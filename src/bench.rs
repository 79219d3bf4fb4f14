//! `facecam bench`: measured figures for the live pipeline, on scenes made
//! from the AT&T faces, through the same capture and vision code as a
//! camera.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;
use thiserror::Error;

use crate::capture::{CaptureSettings, Source};
use crate::cv::{self, VisionError};
use crate::detect::Detector;
use crate::detect::DetectorParams;
use crate::enrollment::EnrollmentSettings;
use crate::latest::Delivery;
use crate::normalize::{FaceRegion, normalize_face};
use crate::pipeline::{Pipeline, PipelineError};
use crate::recognizer::{OpenCvLbph, Recognizer, RecognizerError, RecognizerKind};
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
    #[error(transparent)]
    Recognizer(#[from] RecognizerError),
    #[error(transparent)]
    Cascade(#[from] crate::cascade::CascadeError),
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
    values.sort_by(f64::total_cmp);
    crate::eval::percentile(values, p)
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
        recognizer: RecognizerKind::Lbph,
        threshold: RecognizerKind::Lbph.default_threshold(),
        enrollment: EnrollmentSettings::default(),
        notify: Default::default(),
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

/// Identification and loading at one gallery size.
#[derive(Debug, Clone, Serialize)]
pub struct IdentifyBench {
    pub samples: usize,
    /// OpenCV's `LBPHFaceRecognizer::predict`, per face (median).
    pub opencv_predict_ms: f64,
    /// Our path per face: OpenCV computes the query histogram, our matcher
    /// searches (median).
    pub matcher_ms: f64,
    /// The search alone.
    pub match_only_ms: f64,
    pub speedup: f64,
    /// Opening the gallery and loading its model cache (median).
    pub load_ms: f64,
    pub cache_bytes: u64,
}

/// Detection time per frame.
#[derive(Debug, Clone, Serialize)]
pub struct DetectBench {
    pub width: i32,
    pub height: i32,
    pub working_width: u32,
    pub faces: usize,
    pub ms: f64,
}

fn median_ms(runs: usize, mut f: impl FnMut() -> Result<(), BenchError>) -> Result<f64, BenchError> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(percentile(&mut times, 0.5))
}

/// Distinct face samples made from the AT&T faces: each crop, mirrored and
/// shifted by a few pixels, so large galleries hold no duplicates.
pub fn gallery_samples(att: &Path, count: usize) -> Result<(Vec<opencv::core::Mat>, Vec<i32>), BenchError> {
    use opencv::core::{self, Mat, Scalar, Size};
    use opencv::imgproc;
    use opencv::prelude::*;
    let mut base = Vec::new();
    for s in 1..=40 {
        for i in 1..=10 {
            let image = cv::read_image(&att.join(format!("s{s}/{i}.pgm")))?;
            base.push((normalize_face(&image, FaceRegion::Whole)?, s));
        }
    }
    let (mut faces, mut labels) = (Vec::with_capacity(count), Vec::with_capacity(count));
    for k in 0..count {
        let (face, label) = &base[k % base.len()];
        let variant = k / base.len();
        let mut img = face.try_clone().map_err(|e| BenchError::Run(e.message))?;
        if variant % 2 == 1 {
            let mut flipped = Mat::default();
            core::flip(&img, &mut flipped, 1).map_err(|e| BenchError::Run(e.message))?;
            img = flipped;
        }
        let (dx, dy) = ((variant / 2 % 5) as f64 - 2.0, (variant / 10 % 5) as f64 - 2.0);
        if dx != 0.0 || dy != 0.0 {
            let m = Mat::from_slice_2d(&[[1.0, 0.0, dx], [0.0, 1.0, dy]]).map_err(|e| BenchError::Run(e.message))?;
            let mut shifted = Mat::default();
            imgproc::warp_affine(
                &img,
                &mut shifted,
                &m,
                Size::new(img.cols(), img.rows()),
                imgproc::INTER_LINEAR,
                core::BORDER_REPLICATE,
                Scalar::default(),
            )
            .map_err(|e| BenchError::Run(e.message))?;
            img = shifted;
        }
        faces.push(img);
        labels.push(*label);
    }
    Ok((faces, labels))
}

/// Identification per face with OpenCV's `predict` and with our matcher,
/// and gallery load time, at each gallery size.
pub fn bench_identify(
    datasets: &Path,
    work: &Path,
    sizes: &[usize],
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<IdentifyBench>, BenchError> {
    let att = datasets.join("att_faces");
    if !att.join("s1/1.pgm").is_file() {
        return Err(BenchError::NoDatasets(datasets.to_owned()));
    }
    let largest = sizes.iter().copied().max().unwrap_or(0);
    let (faces, labels) = gallery_samples(&att, largest)?;
    let queries: Vec<_> = (0..20).map(|k| faces[(k * 37 + 11) % faces.len()].clone()).collect();
    let dir = work.join("identify-gallery");
    let mut gallery = Gallery::open(&dir)?;
    let mut model = gallery.load_model()?.recognizer;
    let mut out = Vec::new();
    for &n in sizes {
        progress(&format!("identify: {n} samples"));
        // Grow the on-disk gallery to n samples (one person per AT&T label).
        let have = gallery.total_samples();
        let mut batch: Vec<(String, Vec<opencv::core::Mat>)> = Vec::new();
        for k in have..n {
            let name = format!("p{}", labels[k]);
            match batch.iter_mut().find(|(b, _)| *b == name) {
                Some((_, v)) => v.push(faces[k].clone()),
                None => batch.push((name, vec![faces[k].clone()])),
            }
        }
        let refs: Vec<(&str, &[opencv::core::Mat])> = batch.iter().map(|(b, v)| (b.as_str(), v.as_slice())).collect();
        if !refs.is_empty() {
            gallery.enroll(&mut model, &refs)?;
        }

        let reps = if n >= 5000 { 5 } else { 20 };
        let opencv = OpenCvLbph::train(&faces[..n], &labels[..n])?;
        let mut q = 0;
        let opencv_ms = median_ms(reps, || {
            q += 1;
            opencv.predict(&queries[q % queries.len()])?;
            Ok(())
        })?;
        let mut ours = Recognizer::new(RecognizerKind::Lbph)?;
        ours.train(&faces[..n], &labels[..n])?;
        let matcher_ms = median_ms(reps, || {
            q += 1;
            ours.nearest(&queries[q % queries.len()])?;
            Ok(())
        })?;
        let histograms: Vec<Vec<f32>> =
            queries.iter().map(|f| ours.lbph_histogram(f).map(Option::unwrap_or_default)).collect::<Result<_, _>>()?;
        let matcher = ours.lbph_matcher().cloned().unwrap_or_default();
        let match_only_ms = median_ms(reps, || {
            q += 1;
            matcher.nearest(&histograms[q % histograms.len()]);
            Ok(())
        })?;
        let load_ms = median_ms(5, || {
            let g = Gallery::open(&dir)?;
            let loaded = g.load_model()?;
            if loaded.rebuilt_because.is_some() || loaded.recognizer.sample_count() != n {
                return Err(BenchError::Run("the gallery cache was not used".into()));
            }
            Ok(())
        })?;
        let cache_bytes = std::fs::read_dir(dir.join(crate::store::CACHE_DIR))
            .map(|d| d.flatten().filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum())
            .unwrap_or(0);
        out.push(IdentifyBench {
            samples: n,
            opencv_predict_ms: opencv_ms,
            matcher_ms,
            match_only_ms,
            speedup: opencv_ms / matcher_ms,
            load_ms,
            cache_bytes,
        });
    }
    Ok(out)
}

/// Detection per frame at full size and at the live working width, and
/// the crop normalization, on the benchmark scene's first frame.
pub fn bench_detect(
    datasets: &Path,
    work: &Path,
    cascade: &Path,
    live: crate::detect::DetectorParams,
) -> Result<(Vec<DetectBench>, f64), BenchError> {
    use opencv::prelude::*;
    let att = datasets.join("att_faces");
    let scene = [Segment { faces: [2, 3].iter().map(|p| vec![att.join(format!("s{p}/6.pgm"))]).collect(), frames: 1 }];
    let mut out = Vec::new();
    let mut normalize_ms = f64::NAN;
    for (width, height) in [(640, 480), (1280, 720)] {
        let video = work.join(format!("still-{width}.avi"));
        write_scene(&video, &scene, width, height, 30.0)?;
        let mut cap = opencv::videoio::VideoCapture::from_file(&video, opencv::videoio::CAP_ANY)
            .map_err(|e| BenchError::Run(e.message))?;
        let mut frame = opencv::core::Mat::default();
        cap.read(&mut frame).map_err(|e| BenchError::Run(e.message))?;
        for working_width in [width as u32, live.working_width] {
            let params = crate::detect::DetectorParams { working_width, ..live };
            let mut detector = Detector::new(cascade, params)?;
            let mut faces = 0;
            let ms = median_ms(15, || {
                faces = detector.detect(&frame)?.len();
                Ok(())
            })?;
            out.push(DetectBench { width, height, working_width, faces, ms });
        }
        let mut detector = Detector::new(cascade, live)?;
        if let Some(face) = detector.detect(&frame)?.first().copied() {
            normalize_ms = median_ms(200, || {
                normalize_face(&frame, FaceRegion::Detected(face))?;
                Ok(())
            })?;
        }
    }
    Ok((out, normalize_ms))
}

/// The datasets folder for benchmarks: `$FACECAM_DATASETS`, else
/// `../shared/datasets` beside the source tree; `None` (say why and skip)
/// when the AT&T faces are not in it.
pub fn datasets_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("FACECAM_DATASETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/datasets")));
    dir.join("att_faces/s1/1.pgm").is_file().then_some(dir)
}
