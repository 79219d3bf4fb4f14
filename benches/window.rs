//! `cargo bench --bench window`: what one frame of the window costs the UI
//! thread, with the real pipeline playing a two-face video: the whole UI
//! pass (taking the newest report, uploading it as a texture, drawing the
//! panels and face plates), and the frame conversion alone at camera sizes.
//! Rendering is left out: on a real GPU it is not the UI thread's cost.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use egui_kittest::Harness;
use facecam::capture::Source;
use facecam::synth::{Segment, write_scene};
use facecam::ui::{AppOptions, AppSettings, FacecamApp, to_color_image};
use opencv::core::{Mat, Scalar};

fn ui_frame(c: &mut Criterion) {
    let Some(datasets) = facecam::bench::datasets_dir() else {
        eprintln!("SKIPPED: AT&T faces not found (set FACECAM_DATASETS)");
        return;
    };
    let Ok(tmp) = tempfile::tempdir() else { return };
    let video = tmp.path().join("two-faces.avi");
    let faces = |s: u32| (6..=10).map(|i| datasets.join(format!("att_faces/s{s}/{i}.pgm"))).collect();
    if write_scene(&video, &[Segment { faces: vec![faces(2), faces(3)], frames: 250 }], 640, 480, 25.0).is_err() {
        eprintln!("SKIPPED: cannot write the test video");
        return;
    }
    let options = AppOptions {
        data_dir: tmp.path().join("data"),
        cascade: facecam::cascade::locate(None, None).map_err(|e| e.to_string()),
        detector: Default::default(),
        config_threshold: 32.0,
        source: Some(Source::File(video)),
        snapshot_dir: tmp.path().join("Pictures"),
        probe_cameras: false,
    };
    let mut app: Harness<'static, FacecamApp> = Harness::builder()
        .with_size(egui::vec2(1200.0, 760.0))
        .build_eframe(move |cc| FacecamApp::with_settings(&cc.egui_ctx, options, AppSettings::default()));
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.state().shown_faces().is_empty() && Instant::now() < deadline {
        app.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    if app.state().shown_faces().is_empty() {
        eprintln!("SKIPPED: no faces on screen after 30 s");
        return;
    }
    let mut group = c.benchmark_group("window");
    group.sample_size(30);
    group.measurement_time(Duration::from_secs(5));
    // At 25 fps a new frame arrives every 40 ms: some steps upload one.
    group.bench_function("ui_pass_live_video", |b| b.iter(|| app.step()));
    // Stop the pipeline so it does not compete with what follows.
    drop(app);
    for (w, h) in [(640, 480), (1280, 720)] {
        let Ok(frame) = Mat::new_rows_cols_with_default(h, w, opencv::core::CV_8UC3, Scalar::all(90.0)) else {
            return;
        };
        group.bench_function(format!("frame_to_texture_image_{w}x{h}_mirrored"), |b| {
            b.iter(|| black_box(to_color_image(black_box(&frame), true)))
        });
    }
    group.finish();
}

criterion_group!(benches, ui_frame);
criterion_main!(benches);
