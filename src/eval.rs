//! Measuring recognition accuracy on a labelled dataset (one folder per
//! person), in memory: the user's gallery is never read or written.
//!
//! Protocol: for every person the first K images (natural file-name order)
//! train and the rest test (closed set, rank-1 accuracy). For the open-set
//! figures the last `unknown_people` people are left out of a second model
//! and all their images are shown to it: each should be rejected as unknown
//! at the threshold in use.

use std::path::{Path, PathBuf};
use std::time::Instant;

use opencv::core::Mat;
use opencv::prelude::*;
use serde::Serialize;
use thiserror::Error;

use crate::cv::{self, CvContext, VisionError};
use crate::dataset::{self, DatasetError, PersonImages};
use crate::detect::Detector;
use crate::normalize::{FaceRegion, normalize_face};
use crate::recognizer::{Recognizer, RecognizerError, RecognizerKind};

#[derive(Debug, Clone)]
pub struct EvalOptions {
    pub train_per_person: usize,
    pub recognizer: RecognizerKind,
    /// Distance threshold; `None` uses the recognizer's default.
    pub threshold: Option<f64>,
    /// Use only the first N images of each person (e.g. to validate
    /// settings inside the training half without touching the test half).
    pub max_per_person: Option<usize>,
    /// People left out of training for the open-set figures; `None` picks
    /// one in five.
    pub unknown_people: Option<usize>,
}

#[derive(Debug, Error)]
pub enum EvalError {
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    #[error(transparent)]
    Vision(#[from] VisionError),
    #[error(transparent)]
    Recognizer(#[from] RecognizerError),
    #[error(
        "--train-per-person {k} leaves nothing to test: no person has more than {k} usable images; use a smaller K"
    )]
    NothingToTest { k: usize },
    #[error("--train-per-person must be at least 1")]
    NoTraining,
}

/// Progress of a long evaluation, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub enum EvalProgress {
    /// `done` of `total` images read and normalized.
    Loading { done: usize, total: usize },
    /// `done` of `total` test faces identified.
    Testing { done: usize, total: usize },
}

#[derive(Debug, Clone, Serialize)]
pub struct PersonScore {
    pub name: String,
    pub n_test: usize,
    pub correct: usize,
    pub accuracy: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OpenSet {
    /// People left out of the open-set model.
    pub unknown_people: Vec<String>,
    /// Images of those people shown to it.
    pub n_unknown: usize,
    /// Share of them rejected as unknown at the threshold.
    pub unknown_rejection_rate: f64,
    /// Share of enrolled people's test images accepted as the right person.
    pub known_acceptance_rate: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Distances {
    /// Median distance of a test face to its own person (closed set).
    pub genuine_median: f64,
    pub genuine_p95: f64,
    /// Median nearest distance of a face of a person not enrolled.
    pub unknown_median: f64,
    pub unknown_p5: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Timings {
    pub load_ms_per_image: f64,
    pub train_ms: f64,
    pub identify_ms_per_face: f64,
    pub total_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub dataset: PathBuf,
    pub recognizer: RecognizerKind,
    pub cropped: bool,
    pub threshold: f64,
    pub train_per_person: usize,
    pub people: usize,
    pub n_train: usize,
    pub n_test: usize,
    /// Rank-1 accuracy on the closed set (nearest person is right).
    pub accuracy: f64,
    /// Images in which no face was found (counted as wrong when tested).
    pub no_face: usize,
    pub unreadable: Vec<String>,
    pub per_person: Vec<PersonScore>,
    pub open_set: Option<OpenSet>,
    pub distances: Option<Distances>,
    pub timings: Timings,
}

struct PersonFaces {
    name: String,
    label: i32,
    /// One entry per image: the normalized face, or `None` if none was found.
    faces: Vec<Option<Mat>>,
}

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 { 0.0 } else { num as f64 / den as f64 }
}

/// The `p` quantile (0–1) of sorted values, by nearest rank.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Runs the evaluation. Without a detector the images are taken as face
/// crops; with one, the largest face in each image is used.
pub fn evaluate(
    root: &Path,
    mut detector: Option<&mut Detector>,
    opts: &EvalOptions,
    progress: &mut dyn FnMut(EvalProgress),
) -> Result<EvalReport, EvalError> {
    let started = Instant::now();
    if opts.train_per_person == 0 {
        return Err(EvalError::NoTraining);
    }
    let threshold = opts.threshold.unwrap_or_else(|| opts.recognizer.default_threshold());
    let (folders, _skipped) = dataset::read_person_folders(root)?;
    let folders: Vec<PersonImages> = folders
        .into_iter()
        .map(|mut p| {
            if let Some(max) = opts.max_per_person {
                p.images.truncate(max);
            }
            p
        })
        .collect();

    let total_images: usize = folders.iter().map(|p| p.images.len()).sum();
    let mut unreadable = Vec::new();
    let mut people = Vec::with_capacity(folders.len());
    let mut done = 0;
    let load_started = Instant::now();
    for (i, folder) in folders.iter().enumerate() {
        let mut faces = Vec::with_capacity(folder.images.len());
        for path in &folder.images {
            match cv::read_image(path) {
                Ok(image) => faces.push(face_of(detector.as_deref_mut(), &image)?),
                Err(e) => unreadable.push(format!("{}: {e}", path.display())),
            }
            done += 1;
            progress(EvalProgress::Loading { done, total: total_images });
        }
        people.push(PersonFaces { name: folder.name.clone(), label: i as i32, faces });
    }
    let load_ms_per_image = load_started.elapsed().as_secs_f64() * 1000.0 / total_images.max(1) as f64;
    let no_face = people.iter().flat_map(|p| &p.faces).filter(|f| f.is_none()).count();

    let k = opts.train_per_person;
    let n_test: usize = people.iter().map(|p| p.faces.len().saturating_sub(k)).sum();
    if n_test == 0 {
        return Err(EvalError::NothingToTest { k });
    }

    // Closed set: everyone enrolled.
    let (train_faces, train_labels) = training_set(people.iter(), k)?;
    let mut model = Recognizer::new(opts.recognizer)?;
    let train_started = Instant::now();
    model.train(&train_faces, &train_labels)?;
    let train_ms = train_started.elapsed().as_secs_f64() * 1000.0;

    let mut per_person = Vec::with_capacity(people.len());
    let mut correct_total = 0;
    let mut genuine = Vec::new();
    let mut tested = 0;
    let mut identify_secs = 0.0;
    let mut identified = 0usize;
    for person in &people {
        let mut correct = 0;
        let tests = person.faces.iter().skip(k);
        for face in tests.clone().flatten() {
            let t = Instant::now();
            let nearest = model.nearest(face)?;
            identify_secs += t.elapsed().as_secs_f64();
            identified += 1;
            if let Some(n) = nearest.filter(|n| n.label == person.label) {
                correct += 1;
                genuine.push(n.distance);
            }
        }
        let n = tests.count();
        tested += n;
        progress(EvalProgress::Testing { done: tested, total: n_test });
        correct_total += correct;
        per_person.push(PersonScore { name: person.name.clone(), n_test: n, correct, accuracy: ratio(correct, n) });
    }

    // Open set: the last few people are strangers to a second model.
    let n_unknown_people = opts.unknown_people.unwrap_or(people.len() / 5).min(people.len().saturating_sub(2));
    let (open_set, unknown_distances) = if n_unknown_people > 0 {
        let (known, strangers) = people.split_at(people.len() - n_unknown_people);
        let (faces, labels) = training_set(known.iter(), k)?;
        let mut open_model = Recognizer::new(opts.recognizer)?;
        open_model.train(&faces, &labels)?;
        let mut unknown_distances = Vec::new();
        let mut rejected = 0;
        let mut n_unknown = 0;
        for face in strangers.iter().flat_map(|p| p.faces.iter().flatten()) {
            n_unknown += 1;
            match open_model.nearest(face)? {
                Some(n) => {
                    unknown_distances.push(n.distance);
                    if n.distance > threshold {
                        rejected += 1;
                    }
                }
                None => rejected += 1,
            }
        }
        let mut accepted = 0;
        let mut known_tests = 0;
        for person in known {
            for face in person.faces.iter().skip(k) {
                known_tests += 1;
                let Some(face) = face else { continue };
                if open_model.nearest(face)?.is_some_and(|n| n.label == person.label && n.distance <= threshold) {
                    accepted += 1;
                }
            }
        }
        let open = OpenSet {
            unknown_people: strangers.iter().map(|p| p.name.clone()).collect(),
            n_unknown,
            unknown_rejection_rate: ratio(rejected, n_unknown),
            known_acceptance_rate: ratio(accepted, known_tests),
        };
        (Some(open), unknown_distances)
    } else {
        (None, Vec::new())
    };

    genuine.sort_by(f64::total_cmp);
    let mut unknown_sorted = unknown_distances;
    unknown_sorted.sort_by(f64::total_cmp);
    let distances = (!genuine.is_empty() && !unknown_sorted.is_empty()).then(|| Distances {
        genuine_median: percentile(&genuine, 0.5),
        genuine_p95: percentile(&genuine, 0.95),
        unknown_median: percentile(&unknown_sorted, 0.5),
        unknown_p5: percentile(&unknown_sorted, 0.05),
    });

    Ok(EvalReport {
        dataset: root.to_owned(),
        recognizer: opts.recognizer,
        cropped: detector.is_none(),
        threshold,
        train_per_person: k,
        people: people.len(),
        n_train: train_faces.len(),
        n_test,
        accuracy: ratio(correct_total, n_test),
        no_face,
        unreadable,
        per_person,
        open_set,
        distances,
        timings: Timings {
            load_ms_per_image,
            train_ms,
            identify_ms_per_face: identify_secs * 1000.0 / identified.max(1) as f64,
            total_ms: started.elapsed().as_secs_f64() * 1000.0,
        },
    })
}

/// The normalized face of an image: the whole image, or its largest face.
fn face_of(detector: Option<&mut Detector>, image: &Mat) -> Result<Option<Mat>, VisionError> {
    match detector {
        None => normalize_face(image, FaceRegion::Whole).map(Some),
        Some(d) => match d.detect(image)?.first() {
            Some(face) => normalize_face(image, FaceRegion::Detected(*face)).map(Some),
            None => Ok(None),
        },
    }
}

fn training_set<'a>(
    people: impl Iterator<Item = &'a PersonFaces>,
    k: usize,
) -> Result<(Vec<Mat>, Vec<i32>), VisionError> {
    let mut faces = Vec::new();
    let mut labels = Vec::new();
    for person in people {
        for face in person.faces.iter().take(k).flatten() {
            faces.push(face.try_clone().cv("copying a face")?);
            labels.push(person.label);
        }
    }
    Ok((faces, labels))
}
