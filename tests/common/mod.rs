//! Helpers shared by the integration tests: the real datasets, temporary
//! data folders, and images made from real faces at test time.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use opencv::core::{self, Mat, Rect, Scalar, Size};
use opencv::prelude::*;
use opencv::{imgcodecs, imgproc};

/// The shared datasets folder, or `None` (with the reason printed) when it
/// is not there: tests that need it then skip.
pub fn datasets() -> Option<PathBuf> {
    let dir = std::env::var_os("FACECAM_DATASETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets"));
    if dir.join("att_faces/s1/1.pgm").is_file() && dir.join("dlib_faces/bald_guys.jpg").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: datasets not found in {} (set FACECAM_DATASETS to the folder holding att_faces/ and dlib_faces/)",
            dir.display()
        );
        None
    }
}

/// Gets the datasets folder or returns from the test with a printed reason.
#[macro_export]
macro_rules! require_datasets {
    () => {
        match common::datasets() {
            Some(d) => d,
            None => return,
        }
    };
}

/// An AT&T face image: person `s` (1–40), image `i` (1–10).
pub fn att(datasets: &Path, s: u32, i: u32) -> PathBuf {
    datasets.join(format!("att_faces/s{s}/{i}.pgm"))
}

pub fn dlib(datasets: &Path, name: &str) -> PathBuf {
    datasets.join("dlib_faces").join(name)
}

/// Puts a tight AT&T crop, scaled 2×, on a plain larger background so the
/// Haar cascade finds it as it would a face in a photo; returns the path.
pub fn face_photo(face: &Path, out_dir: &Path) -> PathBuf {
    let src = imgcodecs::imread(face.to_str().unwrap(), imgcodecs::IMREAD_GRAYSCALE).unwrap();
    assert!(!src.empty(), "cannot read {}", face.display());
    let mut big = Mat::default();
    imgproc::resize(&src, &mut big, Size::new(src.cols() * 2, src.rows() * 2), 0.0, 0.0, imgproc::INTER_CUBIC).unwrap();
    let mut canvas = Mat::default();
    core::copy_make_border(&big, &mut canvas, 80, 80, 80, 80, core::BORDER_CONSTANT, Scalar::all(90.0)).unwrap();
    let name = format!(
        "{}_{}.png",
        face.parent().and_then(|p| p.file_name()).unwrap().to_string_lossy(),
        face.file_stem().unwrap().to_string_lossy()
    );
    let out = out_dir.join(name);
    imgcodecs::imwrite(out.to_str().unwrap(), &canvas, &core::Vector::new()).unwrap();
    out
}

/// Writes a crop of a real photo to `out`.
pub fn crop_to(src: &Path, rect: Rect, out: &Path) -> PathBuf {
    let img = imgcodecs::imread(src.to_str().unwrap(), imgcodecs::IMREAD_COLOR).unwrap();
    let roi = Mat::roi(&img, rect).unwrap().try_clone().unwrap();
    imgcodecs::imwrite(out.to_str().unwrap(), &roi, &core::Vector::new()).unwrap();
    out.to_owned()
}

/// The `facecam` binary with its own data folder and no user config.
pub fn facecam(data_dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("facecam").unwrap();
    let home = data_dir.parent().unwrap_or(data_dir).join("home");
    cmd.env("FACECAM_DATA_DIR", data_dir)
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env_remove("RUST_LOG");
    cmd
}

/// Runs facecam and parses its JSON output, asserting success.
pub fn facecam_json(data_dir: &Path, args: &[&str]) -> serde_json::Value {
    let out = facecam(data_dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "facecam {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("bad JSON from {args:?}: {e}"))
}

/// Whether this process can write where permission bits say it may not
/// (root can), in which case permission-denied cases cannot be staged.
pub fn ignores_permissions() -> bool {
    let dir = tempfile::tempdir().unwrap();
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o500)).unwrap();
    let writable = std::fs::write(ro.join("probe"), b"x").is_ok();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o700)).unwrap();
    writable
}

/// One stretch of a generated test video: which AT&T people are in view.
#[derive(Debug, Clone)]
pub struct Segment {
    /// AT&T person numbers shown side by side (empty: nobody).
    pub people: Vec<u32>,
    pub frames: u32,
}

/// Frame size of generated test videos.
pub const VIDEO_W: i32 = 640;
pub const VIDEO_H: i32 = 480;
pub const VIDEO_FPS: f64 = 25.0;

/// Writes an MJPG AVI in which AT&T faces (images 6–10, cycling, scaled 2×)
/// drift across a textured background, segment after segment. Returns the
/// first frame number of each segment.
pub fn make_video(datasets: &Path, path: &Path, segments: &[Segment]) -> Vec<u32> {
    let scene: Vec<facecam::synth::Segment> = segments
        .iter()
        .map(|s| facecam::synth::Segment {
            faces: s.people.iter().map(|p| (6..=10).map(|i| att(datasets, *p, i)).collect()).collect(),
            frames: s.frames,
        })
        .collect();
    facecam::synth::write_scene(path, &scene, VIDEO_W, VIDEO_H, VIDEO_FPS).unwrap()
}

/// Enrolls AT&T people from photos of their images 1–5 (detection path).
pub fn enroll_photos(data: &Path, datasets: &Path, work: &Path, people: &[(u32, &str)]) {
    for (s, name) in people {
        let photos: Vec<String> =
            (1..=5).map(|i| face_photo(&att(datasets, *s, i), work).display().to_string()).collect();
        let mut args = vec!["enroll", name, "--json"];
        args.extend(photos.iter().map(String::as_str));
        assert_eq!(facecam_json(data, &args)["added"], 5);
    }
}
