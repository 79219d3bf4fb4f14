//! `facecam eval` and `facecam import` on the AT&T faces, and the detector
//! against dlib's hand-labelled face boxes.

mod common;

use std::fs;

use common::{dlib, facecam, facecam_json};
use facecam::detect::{Detector, DetectorParams};
use opencv::core::Rect;
use predicates::prelude::*;

#[test]
fn lbph_reaches_95_percent_on_att_with_five_training_images() {
    let datasets = require_datasets!();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let att = datasets.join("att_faces");
    let r = facecam_json(&data, &["eval", att.to_str().unwrap(), "--cropped", "--train-per-person", "5", "--json"]);
    assert_eq!(r["recognizer"], "lbph");
    assert_eq!(r["people"], 40);
    assert_eq!(r["n_train"], 200);
    assert_eq!(r["n_test"], 200);
    let accuracy = r["accuracy"].as_f64().unwrap();
    assert!(accuracy >= 0.95, "LBPH accuracy {accuracy} < 0.95");
    let per_person = r["per_person"].as_array().unwrap();
    assert_eq!(per_person.len(), 40);
    assert_eq!(per_person[1]["name"], "s2", "people are in natural order");
    let open = &r["open_set"];
    assert_eq!(open["unknown_people"].as_array().unwrap().len(), 8);
    assert!(open["unknown_rejection_rate"].as_f64().unwrap() >= 0.8, "{open}");
    assert!(!data.exists(), "eval touched the user's gallery");
}

#[test]
fn eigenfaces_and_fisherfaces_are_selectable() {
    let datasets = require_datasets!();
    let tmp = tempfile::tempdir().unwrap();
    let att = datasets.join("att_faces");
    for kind in ["eigen", "fisher"] {
        let r = facecam_json(
            &tmp.path().join("data"),
            &["eval", att.to_str().unwrap(), "--cropped", "--recognizer", kind, "--json"],
        );
        assert_eq!(r["recognizer"], kind);
        let accuracy = r["accuracy"].as_f64().unwrap();
        assert!(accuracy > 0.8, "{kind} accuracy {accuracy}");
    }
}

#[test]
fn eval_rejects_a_split_with_nothing_to_test() {
    let datasets = require_datasets!();
    let tmp = tempfile::tempdir().unwrap();
    facecam(&tmp.path().join("data"))
        .args(["eval", "--cropped", "--train-per-person", "10"])
        .arg(datasets.join("att_faces"))
        .assert()
        .failure()
        .stderr(predicate::str::contains("leaves nothing to test"));
    facecam(&tmp.path().join("data"))
        .args(["eval", "--cropped"])
        .arg(tmp.path())
        .assert()
        .failure()
        .stderr(predicate::str::contains("no person folders"));
}

#[test]
fn import_enrolls_one_person_per_folder() {
    let datasets = require_datasets!();
    let tmp = tempfile::tempdir().unwrap();
    let set = tmp.path().join("set");
    for s in 1..=3 {
        let dir = set.join(format!("s{s}"));
        fs::create_dir_all(&dir).unwrap();
        for i in 1..=4 {
            fs::copy(common::att(&datasets, s, i), dir.join(format!("{i}.pgm"))).unwrap();
        }
    }
    fs::write(set.join("s2/readme.txt"), "x").unwrap();
    fs::create_dir_all(set.join("empty")).unwrap();
    let data = tmp.path().join("data");
    let out = facecam_json(&data, &["import", set.to_str().unwrap(), "--cropped", "--json"]);
    assert_eq!(out["added"], 12);
    let names: Vec<_> = out["people"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["s1", "s2", "s3"]);
    let skipped = out["skipped"].as_array().unwrap();
    assert!(skipped.iter().any(|s| s["path"].as_str().unwrap().ends_with("readme.txt")));
    assert!(skipped.iter().any(|s| s["path"].as_str().unwrap().ends_with("empty")));

    // Importing again adds samples to the same people.
    let again = facecam_json(&data, &["import", set.to_str().unwrap(), "--cropped", "--json"]);
    assert!(again["people"].as_array().unwrap().iter().all(|p| p["new_person"] == false && p["samples"] == 8));
}

/// Face boxes `(top, left, width, height)` from a dlib imglab XML file.
fn dlib_boxes(xml: &str) -> Vec<(String, Vec<Rect>)> {
    let attr = |tag: &str, name: &str| -> i32 {
        let key = format!("{name}='");
        let start = tag.find(&key).unwrap() + key.len();
        tag[start..].split('\'').next().unwrap().parse().unwrap()
    };
    let mut out = Vec::new();
    for image in xml.split("<image file='").skip(1) {
        let file = image.split('\'').next().unwrap().to_owned();
        let boxes = image
            .split("<box ")
            .skip(1)
            .map(|b| Rect::new(attr(b, "left"), attr(b, "top"), attr(b, "width"), attr(b, "height")))
            .collect();
        out.push((file, boxes));
    }
    out
}

fn iou(a: Rect, b: Rect) -> f64 {
    let inter = (a & b).area() as f64;
    inter / ((a.area() + b.area()) as f64 - inter)
}

#[test]
fn detector_finds_labelled_faces_in_dlib_photos() {
    let datasets = require_datasets!();
    let cascade = facecam::cascade::locate(None, None).unwrap();
    // Photos of up to 500 px wide with faces down to 37 px: the photo settings detect at full size.
    let params = DetectorParams::photo();
    let mut detector = Detector::new(&cascade, params).unwrap();
    let mut labelled = 0;
    let mut found = 0;
    let mut extra = 0;
    for set in ["training.xml", "testing.xml"] {
        let xml = fs::read_to_string(dlib(&datasets, set)).unwrap();
        for (file, truth) in dlib_boxes(&xml) {
            let image = facecam::cv::read_image(&dlib(&datasets, &file)).unwrap();
            let boxes = detector.detect(&image).unwrap();
            labelled += truth.len();
            let hits = truth.iter().filter(|t| boxes.iter().any(|b| iou(**t, *b) >= 0.3)).count();
            found += hits;
            extra += boxes.iter().filter(|b| !truth.iter().any(|t| iou(*t, **b) >= 0.3)).count();
        }
    }
    let recall = found as f64 / labelled as f64;
    eprintln!("dlib faces: {found}/{labelled} found, {extra} extra boxes");
    assert_eq!(labelled, 43);
    assert!(recall >= 0.85, "recall {recall}");
    assert!(extra <= 3, "{extra} false faces");
}
