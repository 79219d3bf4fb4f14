//! Bad input through the real binary: every case gets a clear message, a
//! non-zero exit where nothing could be done, and no change to the gallery.

mod common;

use std::fs;
use std::path::PathBuf;

use common::{att, dlib, face_photo, facecam, facecam_json};
use opencv::core::Rect;
use predicates::prelude::*;

#[test]
fn odd_names_are_refused_before_anything_is_written() {
    let datasets = require_datasets!();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let face = att(&datasets, 1, 1);
    for (name, says) in [
        ("", "empty"),
        ("   ", "empty"),
        ("a/b", "'/'"),
        ("..", "not a valid name"),
        ("x..y", "'..'"),
        ("tab\there", "control character"),
        ("bell\u{7}", "control character"),
    ] {
        facecam(&data)
            .args(["enroll", name, "--cropped"])
            .arg(&face)
            .assert()
            .failure()
            .stderr(predicate::str::contains(says));
    }
    assert!(!data.exists(), "a refused name created the data folder");
}

#[test]
fn missing_and_non_image_files_are_skipped_with_the_reason() {
    let datasets = require_datasets!();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let notes = tmp.path().join("notes.txt");
    fs::write(&notes, "not a face").unwrap();
    let fake = tmp.path().join("fake.png");
    fs::write(&fake, "PNG? no").unwrap();
    let missing = tmp.path().join("missing.jpg");

    let out = facecam_json(
        &data,
        &[
            "enroll",
            "Ada",
            "--cropped",
            "--json",
            att(&datasets, 1, 1).to_str().unwrap(),
            notes.to_str().unwrap(),
            fake.to_str().unwrap(),
            missing.to_str().unwrap(),
            att(&datasets, 1, 2).to_str().unwrap(),
        ],
    );
    assert_eq!(out["added"], 2);
    let skipped = out["skipped"].as_array().unwrap();
    let reason = |p: &std::path::Path| {
        skipped.iter().find(|s| s["path"] == p.to_str().unwrap()).map(|s| s["reason"].as_str().unwrap().to_owned())
    };
    assert!(reason(&notes).unwrap().contains("is not an image"));
    assert!(reason(&fake).unwrap().contains("not an image OpenCV can read"));
    assert!(reason(&missing).unwrap().contains("no such file"));

    // Nothing usable at all: an error, and the gallery stays as it was.
    let before = fs::read(data.join("gallery.json")).unwrap();
    facecam(&data)
        .args(["enroll", "Brian", "--cropped"])
        .args([&notes, &fake, &missing])
        .assert()
        .failure()
        .stderr(predicate::str::contains("no usable face").and(predicate::str::contains("nothing was changed")));
    assert_eq!(fs::read(data.join("gallery.json")).unwrap(), before);

    // identify reports unreadable images, names the rest, and exits non-zero.
    let out =
        facecam(&data).args(["identify", "--cropped", "--json"]).arg(att(&datasets, 1, 3)).arg(&fake).output().unwrap();
    assert!(!out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["images"][0]["faces"][0]["name"], "Ada");
    assert!(json["images"][1]["error"].as_str().unwrap().contains("not an image"));
}

#[test]
fn enrollment_needs_exactly_one_face_per_photo() {
    let datasets = require_datasets!();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let crowd = dlib(&datasets, "bald_guys.jpg");
    // The top-left corner of the dogs photo: grass, no face.
    let no_face =
        common::crop_to(&dlib(&datasets, "dogs.jpg"), Rect::new(0, 0, 300, 300), &tmp.path().join("grass.png"));

    facecam(&data)
        .args(["enroll", "Ada"])
        .arg(&crowd)
        .assert()
        .failure()
        .stderr(predicate::str::contains("faces found; enrollment needs exactly one"));
    facecam(&data)
        .args(["enroll", "Ada"])
        .arg(&no_face)
        .assert()
        .failure()
        .stderr(predicate::str::contains("no face found"));
    assert!(!data.join("gallery.json").exists());

    // Mixed with good photos: the bad ones are skipped, the good ones enrolled.
    let good: Vec<_> = (1..=3).map(|i| face_photo(&att(&datasets, 1, i), tmp.path())).collect();
    let mut args = vec!["enroll".to_owned(), "Ada".into(), "--json".into()];
    args.extend(good.iter().map(|p| p.display().to_string()));
    args.push(crowd.display().to_string());
    args.push(no_face.display().to_string());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = facecam_json(&data, &args);
    assert_eq!(out["added"], 3);
    assert_eq!(out["skipped"].as_array().unwrap().len(), 2);
}

#[test]
fn photos_round_trip_through_detection() {
    let datasets = require_datasets!();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    for (s, name) in [(1, "Ada"), (2, "Brian")] {
        let photos: Vec<String> =
            (1..=5).map(|i| face_photo(&att(&datasets, s, i), tmp.path()).display().to_string()).collect();
        let mut args = vec!["enroll", name, "--json"];
        args.extend(photos.iter().map(String::as_str));
        assert_eq!(facecam_json(&data, &args)["added"], 5);
    }
    let probes: Vec<(PathBuf, &str)> = [(1, "Ada"), (2, "Brian")]
        .iter()
        .flat_map(|(s, name)| (6..=10).map(move |i| (*s, i, *name)))
        .map(|(s, i, name)| (face_photo(&att(&datasets, s, i), tmp.path()), name))
        .collect();
    let mut args = vec!["identify".to_owned(), "--json".into()];
    args.extend(probes.iter().map(|(p, _)| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = facecam_json(&data, &args);
    let (mut nearest_right, mut named_right, mut missed) = (0, 0, 0);
    for (i, (_, name)) in probes.iter().enumerate() {
        let faces = out["images"][i]["faces"].as_array().unwrap();
        assert!(faces.len() <= 1, "{out}");
        // The cascade misses the odd AT&T pose.
        let Some(f) = faces.first() else {
            missed += 1;
            continue;
        };
        nearest_right += (f["nearest"] == *name) as usize;
        if f["known"] == true {
            assert_eq!(f["name"], *name, "a wrong name: {f}");
            named_right += 1;
            let conf = f["confidence"].as_f64().unwrap();
            assert!((50.0..=100.0).contains(&conf), "known face with confidence {conf}");
        }
        // The face (2× AT&T crop at 80,80, 184×224) contains the box centre.
        let (x, y) = (f["box"]["x"].as_i64().unwrap(), f["box"]["y"].as_i64().unwrap());
        let (w, h) = (f["box"]["width"].as_i64().unwrap(), f["box"]["height"].as_i64().unwrap());
        let (cx, cy) = (x + w / 2, y + h / 2);
        assert!((80..264).contains(&cx) && (80..304).contains(&cy), "box {x},{y} {w}x{h} is off the face");
    }
    assert!(missed <= 2, "no face found in {missed}/10 photos");
    assert!(nearest_right + missed >= 9, "nearest person right for only {nearest_right}/10 held-out photos: {out}");
    assert!(named_right >= 6, "named for only {named_right}/10 held-out photos: {out}");

    // A crowd photo: every face is reported, all strangers.
    let out = facecam_json(&data, &["identify", "--json", dlib(&datasets, "bald_guys.jpg").to_str().unwrap()]);
    let faces = out["images"][0]["faces"].as_array().unwrap();
    assert!(faces.len() >= 15, "only {} faces found in the crowd photo", faces.len());
    let known = faces.iter().filter(|f| f["known"] == true).count();
    assert!(known <= 1, "{known} strangers taken for Ada or Brian");
}

#[test]
fn identify_on_an_empty_gallery_says_to_enroll() {
    let datasets = require_datasets!();
    let tmp = tempfile::tempdir().unwrap();
    facecam(&tmp.path().join("data"))
        .args(["identify", "--cropped"])
        .arg(att(&datasets, 1, 1))
        .assert()
        .failure()
        .stderr(predicate::str::contains("empty").and(predicate::str::contains("facecam enroll")));
    facecam(&tmp.path().join("data"))
        .args(["people", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Nobody is enrolled"));
}

#[test]
fn missing_or_broken_cascade_names_where_it_looked() {
    let datasets = require_datasets!();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let nowhere = tmp.path().join("nowhere.xml");
    facecam(&data)
        .args(["enroll", "Ada", "--cascade"])
        .arg(&nowhere)
        .arg(att(&datasets, 1, 1))
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("no face cascade found").and(predicate::str::contains(nowhere.to_str().unwrap())),
        );
    let junk = tmp.path().join("junk.xml");
    fs::write(&junk, "<opencv_storage><nope/></opencv_storage>").unwrap();
    facecam(&data)
        .args(["enroll", "Ada", "--cascade"])
        .arg(&junk)
        .arg(att(&datasets, 1, 1))
        .assert()
        .failure()
        .stderr(predicate::str::contains("cannot be used"));
    assert!(!data.exists());
}

#[test]
fn invalid_config_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("config.toml");
    fs::write(&config, "[detector]\nmin_neighbors = \"many\"\n").unwrap();
    facecam(&tmp.path().join("data"))
        .arg("--config")
        .arg(&config)
        .args(["people", "list"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("config.toml").and(predicate::str::contains("min_neighbors")));
    fs::write(&config, "[detector]\nscale_factor = 0.5\n").unwrap();
    facecam(&tmp.path().join("data"))
        .arg("--config")
        .arg(&config)
        .args(["people", "list"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("scale_factor"));
}
