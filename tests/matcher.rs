//! Our LBPH matcher returns what OpenCV's `LBPHFaceRecognizer::predict`
//! returns, on the AT&T faces.

mod common;

use facecam::normalize::{FaceRegion, normalize_face};
use facecam::recognizer::{OpenCvLbph, Recognizer, RecognizerKind};

#[test]
fn matcher_agrees_with_opencv_predict_on_att() {
    let datasets = require_datasets!();
    let load = |s: u32, i: u32| {
        let image = facecam::cv::read_image(&common::att(&datasets, s, i)).unwrap();
        normalize_face(&image, FaceRegion::Whole).unwrap()
    };
    let (mut train, mut labels, mut tests) = (Vec::new(), Vec::new(), Vec::new());
    for s in 1..=40 {
        for i in 1..=10 {
            if i <= 5 {
                train.push(load(s, i));
                labels.push(s as i32);
            } else {
                tests.push(load(s, i));
            }
        }
    }
    let opencv = OpenCvLbph::train(&train, &labels).unwrap();
    let mut ours = Recognizer::new(RecognizerKind::Lbph).unwrap();
    // Half trained at once, half added later: both paths must agree.
    ours.train(&train[..100], &labels[..100]).unwrap();
    ours.update(&train[100..], &labels[100..]).unwrap();
    let mut worst = 0.0f64;
    for (k, face) in tests.iter().enumerate() {
        let want = opencv.predict(face).unwrap().unwrap();
        let got = ours.nearest(face).unwrap().unwrap();
        assert_eq!(got.label, want.label, "test face {k}: label {} vs OpenCV {}", got.label, want.label);
        let rel = (got.distance - want.distance).abs() / want.distance;
        worst = worst.max(rel);
        assert!(rel < 1e-5, "test face {k}: distance {} vs OpenCV {}", got.distance, want.distance);
    }
    eprintln!("200 test faces: same labels, largest relative distance difference {worst:e}");
}
