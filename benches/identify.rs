//! `cargo bench`: identification of one face against 1000 stored samples,
//! with OpenCV's `LBPHFaceRecognizer::predict` and with facecam's matcher,
//! and loading a 1000-sample gallery cache. `facecam bench` reports the
//! same at more sizes, with detection and the live pipeline.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use facecam::bench::gallery_samples;
use facecam::recognizer::{OpenCvLbph, Recognizer, RecognizerKind};

fn identify(c: &mut Criterion) {
    let Some(datasets) = facecam::bench::datasets_dir() else {
        eprintln!("SKIPPED: AT&T faces not found (set FACECAM_DATASETS)");
        return;
    };
    let Ok((faces, labels)) = gallery_samples(&datasets.join("att_faces"), 1000) else {
        eprintln!("SKIPPED: the AT&T faces could not be read");
        return;
    };
    let (Ok(opencv), Ok(mut ours)) = (OpenCvLbph::train(&faces, &labels), Recognizer::new(RecognizerKind::Lbph)) else {
        return;
    };
    if ours.train(&faces, &labels).is_err() {
        return;
    }
    let query = &faces[517];
    let mut group = c.benchmark_group("identify_1000_samples");
    group.sample_size(20);
    group.bench_function("opencv_predict", |b| b.iter(|| black_box(opencv.predict(black_box(query)))));
    group.bench_function("facecam_matcher", |b| b.iter(|| black_box(ours.nearest(black_box(query)))));
    group.finish();

    if let Some(matcher) = ours.lbph_matcher() {
        let bytes = facecam::model_cache::encode(matcher);
        c.bench_function("decode_cache_1000_samples", |b| b.iter(|| black_box(facecam::model_cache::decode(&bytes))));
    }
}

criterion_group!(benches, identify);
criterion_main!(benches);
