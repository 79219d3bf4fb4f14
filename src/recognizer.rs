//! Face identification with `opencv::face` recognizers.
//!
//! OpenCV's own threshold is kept at its maximum so `predict` always returns
//! the nearest person and its distance; whether that is close enough to be
//! that person is decided here, by [`decide`], with our own threshold.

use opencv::core::{FileStorage, FileStorage_Mode, Mat, Ptr, Vector};
use opencv::face::{EigenFaceRecognizer, FisherFaceRecognizer, LBPHFaceRecognizer};
use opencv::prelude::*;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::cv::{CvContext, VisionError};

/// LBP radius in pixels. Radius, grid and blur were chosen together by
/// 5-fold cross-validation inside the AT&T training half (README,
/// "Accuracy"); OpenCV's defaults are radius 1 and an 8×8 grid.
pub const LBPH_RADIUS: i32 = 1;
/// Sampling points on the LBP circle.
pub const LBPH_NEIGHBORS: i32 = 8;
/// Histogram grid columns: 6 cells of ~15 px are large enough that a few
/// pixels of misalignment move little texture between cells.
pub const LBPH_GRID_X: i32 = 6;
/// Histogram grid rows.
pub const LBPH_GRID_Y: i32 = 6;

/// The recognizer families `opencv::face` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "lowercase")]
pub enum RecognizerKind {
    /// Local binary pattern histograms: robust to lighting, learns incrementally.
    #[default]
    Lbph,
    /// Eigenfaces (PCA).
    Eigen,
    /// Fisherfaces (LDA); needs at least two people.
    Fisher,
}

impl RecognizerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lbph => "lbph",
            Self::Eigen => "eigen",
            Self::Fisher => "fisher",
        }
    }

    /// The distance up to which a face counts as known, for each kind's
    /// distance scale (chi-square for LBPH, Euclidean in the projected space
    /// for the others). Each is near the equal-error point of known-person
    /// acceptance and stranger rejection in cross-validation inside the
    /// AT&T training half (README, "Accuracy").
    pub fn default_threshold(self) -> f64 {
        match self {
            Self::Lbph => 32.0,
            Self::Eigen => 3900.0,
            Self::Fisher => 2300.0,
        }
    }
}

impl std::fmt::Display for RecognizerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Recognition settings from the config file.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecognizerParams {
    /// LBPH distance up to which a face is taken as a known person.
    pub threshold: f64,
}

impl Default for RecognizerParams {
    fn default() -> Self {
        Self { threshold: RecognizerKind::Lbph.default_threshold() }
    }
}

impl RecognizerParams {
    pub fn validate(&self) -> Result<(), String> {
        if !(self.threshold.is_finite() && self.threshold > 0.0) {
            return Err(format!("recognizer.threshold is {}; use a positive number", self.threshold));
        }
        Ok(())
    }
}

#[derive(Debug, Error)]
pub enum RecognizerError {
    #[error(transparent)]
    Vision(#[from] VisionError),
    #[error("the {0} recognizer cannot add samples to a trained model; retrain it with all samples")]
    NoIncrementalUpdate(RecognizerKind),
    #[error("the Fisherfaces recognizer needs at least two people; it was given {0}")]
    FisherNeedsTwoPeople(usize),
    #[error("{samples} samples but {labels} labels")]
    LabelCount { samples: usize, labels: usize },
    #[error("the saved model is not a usable LBPH model: {0}")]
    BadModel(String),
}

enum Model {
    Lbph(Ptr<LBPHFaceRecognizer>),
    Eigen(Ptr<EigenFaceRecognizer>),
    Fisher(Ptr<FisherFaceRecognizer>),
}

/// The nearest enrolled label and its distance (lower is closer).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Nearest {
    pub label: i32,
    pub distance: f64,
}

/// The verdict shown to users.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    pub known: bool,
    /// 0–100; 50 is exactly at the threshold.
    pub confidence_pct: f64,
}

/// Maps a distance to a verdict: known when `distance <= threshold`, and a
/// confidence falling linearly from 100 % at distance 0 through 50 % at the
/// threshold to 0 % at twice the threshold.
pub fn decide(distance: f64, threshold: f64) -> Decision {
    let confidence_pct = (100.0 * (1.0 - distance / (2.0 * threshold))).clamp(0.0, 100.0);
    Decision { known: distance <= threshold, confidence_pct }
}

/// A face recognizer and the number of samples it holds. It owns OpenCV
/// state and must stay on the thread that uses it.
pub struct Recognizer {
    kind: RecognizerKind,
    model: Model,
    samples: usize,
}

macro_rules! with_model {
    ($self:expr, $m:ident => $body:expr) => {
        match &$self.model {
            Model::Lbph($m) => $body,
            Model::Eigen($m) => $body,
            Model::Fisher($m) => $body,
        }
    };
    (mut $self:expr, $m:ident => $body:expr) => {
        match &mut $self.model {
            Model::Lbph($m) => $body,
            Model::Eigen($m) => $body,
            Model::Fisher($m) => $body,
        }
    };
}

impl Recognizer {
    /// An empty recognizer of the given kind, OpenCV threshold at maximum.
    pub fn new(kind: RecognizerKind) -> Result<Self, RecognizerError> {
        let model = match kind {
            RecognizerKind::Lbph => Model::Lbph(
                LBPHFaceRecognizer::create(LBPH_RADIUS, LBPH_NEIGHBORS, LBPH_GRID_X, LBPH_GRID_Y, f64::MAX)
                    .cv("creating the LBPH recognizer")?,
            ),
            RecognizerKind::Eigen => {
                Model::Eigen(EigenFaceRecognizer::create(0, f64::MAX).cv("creating the Eigenfaces recognizer")?)
            }
            RecognizerKind::Fisher => {
                Model::Fisher(FisherFaceRecognizer::create(0, f64::MAX).cv("creating the Fisherfaces recognizer")?)
            }
        };
        Ok(Self { kind, model, samples: 0 })
    }

    pub fn kind(&self) -> RecognizerKind {
        self.kind
    }

    /// How many samples the model holds.
    pub fn sample_count(&self) -> usize {
        self.samples
    }

    /// Replaces the model's contents with these samples.
    pub fn train(&mut self, faces: &[Mat], labels: &[i32]) -> Result<(), RecognizerError> {
        check_counts(faces, labels)?;
        if faces.is_empty() {
            *self = Self::new(self.kind)?;
            return Ok(());
        }
        if self.kind == RecognizerKind::Fisher {
            let mut distinct = labels.to_vec();
            distinct.sort_unstable();
            distinct.dedup();
            if distinct.len() < 2 {
                return Err(RecognizerError::FisherNeedsTwoPeople(distinct.len()));
            }
        }
        let (src, lab) = (to_vector(faces)?, Vector::<i32>::from_slice(labels));
        with_model!(mut self, m => m.train(&src, &lab)).cv("training the recognizer")?;
        self.samples = faces.len();
        Ok(())
    }

    /// Adds samples without retraining (LBPH only: its model is just the
    /// list of sample histograms).
    pub fn update(&mut self, faces: &[Mat], labels: &[i32]) -> Result<(), RecognizerError> {
        check_counts(faces, labels)?;
        let Model::Lbph(m) = &mut self.model else {
            return Err(RecognizerError::NoIncrementalUpdate(self.kind));
        };
        if faces.is_empty() {
            return Ok(());
        }
        let (src, lab) = (to_vector(faces)?, Vector::<i32>::from_slice(labels));
        m.update(&src, &lab).cv("adding samples to the recognizer")?;
        self.samples += faces.len();
        Ok(())
    }

    /// The nearest label and its distance, or `None` when nothing is enrolled.
    pub fn nearest(&self, face: &Mat) -> Result<Option<Nearest>, RecognizerError> {
        if self.samples == 0 {
            return Ok(None);
        }
        let (mut label, mut distance) = (-1, f64::MAX);
        with_model!(self, m => m.predict(face, &mut label, &mut distance)).cv("identifying a face")?;
        Ok((label >= 0).then_some(Nearest { label, distance }))
    }

    /// Serializes an LBPH model to OpenCV's YAML text.
    pub fn to_yaml(&self) -> Result<String, RecognizerError> {
        let Model::Lbph(m) = &self.model else {
            return Err(RecognizerError::NoIncrementalUpdate(self.kind));
        };
        let mut fs = FileStorage::new(".yml", FileStorage_Mode::WRITE as i32 | FileStorage_Mode::MEMORY as i32, "")
            .cv("opening an in-memory model file")?;
        FaceRecognizerTraitConst::write_1(m, &mut fs).cv("writing the model")?;
        Ok(fs.release_and_get_string().cv("writing the model")?)
    }

    /// Reads an LBPH model written by [`Recognizer::to_yaml`], checking that it
    /// holds `expected_samples` samples.
    pub fn lbph_from_yaml(text: &str, expected_samples: usize) -> Result<Self, RecognizerError> {
        let bad = |e: opencv::Error| RecognizerError::BadModel(e.message);
        let mut this = Self::new(RecognizerKind::Lbph)?;
        let fs =
            FileStorage::new(text, FileStorage_Mode::READ as i32 | FileStorage_Mode::MEMORY as i32, "").map_err(bad)?;
        let root = fs.root(0).map_err(bad)?;
        let Model::Lbph(m) = &mut this.model else { unreachable!("created as LBPH") };
        FaceRecognizerTrait::read_1(m, &root).map_err(bad)?;
        let histograms = m.get_histograms().map_err(bad)?.len();
        let labels = m.get_labels().map_err(bad)?.total();
        if histograms != expected_samples || labels != expected_samples {
            return Err(RecognizerError::BadModel(format!(
                "it holds {histograms} histograms and {labels} labels, the gallery has {expected_samples} samples"
            )));
        }
        if m.get_radius().map_err(bad)? != LBPH_RADIUS
            || m.get_neighbors().map_err(bad)? != LBPH_NEIGHBORS
            || m.get_grid_x().map_err(bad)? != LBPH_GRID_X
            || m.get_grid_y().map_err(bad)? != LBPH_GRID_Y
        {
            return Err(RecognizerError::BadModel("it was made with other LBPH parameters".into()));
        }
        LBPHFaceRecognizerTrait::set_threshold(m, f64::MAX).map_err(bad)?;
        this.samples = expected_samples;
        Ok(this)
    }
}

/// Copies faces into the vector OpenCV's training calls take.
fn to_vector(faces: &[Mat]) -> Result<Vector<Mat>, RecognizerError> {
    let mut out = Vector::<Mat>::with_capacity(faces.len());
    for face in faces {
        out.push(face.try_clone().cv("copying a face")?);
    }
    Ok(out)
}

fn check_counts(faces: &[Mat], labels: &[i32]) -> Result<(), RecognizerError> {
    if faces.len() != labels.len() {
        return Err(RecognizerError::LabelCount { samples: faces.len(), labels: labels.len() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_mapping() {
        assert_eq!(decide(0.0, 80.0), Decision { known: true, confidence_pct: 100.0 });
        assert_eq!(decide(80.0, 80.0), Decision { known: true, confidence_pct: 50.0 });
        let d = decide(80.5, 80.0);
        assert!(!d.known && d.confidence_pct < 50.0);
        assert_eq!(decide(500.0, 80.0).confidence_pct, 0.0);
    }
}
