//! Face identification with `opencv::face` recognizers.
//!
//! OpenCV's own threshold is kept at its maximum so `predict` always returns
//! the nearest person and its distance; whether that is close enough to be
//! that person is decided here, by [`decide`], with our own threshold.

use opencv::core::{Mat, Ptr, Vector};
use opencv::face::{EigenFaceRecognizer, FisherFaceRecognizer, LBPHFaceRecognizer};
use opencv::prelude::*;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::cv::{CvContext, VisionError};
use crate::matcher::HistogramMatcher;

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
    /// OpenCV computes the LBP histograms; our matcher searches them.
    Lbph {
        extractor: Ptr<LBPHFaceRecognizer>,
        matcher: HistogramMatcher,
    },
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

/// A face recognizer. It owns OpenCV state and must stay on the thread
/// that uses it.
pub struct Recognizer {
    kind: RecognizerKind,
    model: Model,
    samples: usize,
}

fn new_lbph() -> Result<Ptr<LBPHFaceRecognizer>, VisionError> {
    LBPHFaceRecognizer::create(LBPH_RADIUS, LBPH_NEIGHBORS, LBPH_GRID_X, LBPH_GRID_Y, f64::MAX)
        .cv("creating the LBPH recognizer")
}

/// Length of one LBPH histogram with our parameters.
pub const LBPH_HISTOGRAM_LEN: usize = (LBPH_GRID_X * LBPH_GRID_Y) as usize * (1usize << LBPH_NEIGHBORS);

/// Computes the LBPH histograms of faces with OpenCV's own code, so they
/// are exactly what `predict` would compare.
fn lbph_histograms(extractor: &mut Ptr<LBPHFaceRecognizer>, faces: &[Mat]) -> Result<Vec<Vec<f32>>, VisionError> {
    if faces.is_empty() {
        return Ok(Vec::new());
    }
    let labels = Vector::<i32>::from_iter(std::iter::repeat_n(0, faces.len()));
    let mut src = Vector::<Mat>::with_capacity(faces.len());
    for face in faces {
        src.push(face.try_clone().cv("copying a face")?);
    }
    extractor.train(&src, &labels).cv("computing LBP histograms")?;
    let histograms = extractor.get_histograms().cv("computing LBP histograms")?;
    histograms.iter().map(|h| h.data_typed::<f32>().map(<[f32]>::to_vec).cv("reading an LBP histogram")).collect()
}

impl Recognizer {
    /// An empty recognizer of the given kind, OpenCV threshold at maximum.
    pub fn new(kind: RecognizerKind) -> Result<Self, RecognizerError> {
        let model = match kind {
            RecognizerKind::Lbph => {
                Model::Lbph { extractor: new_lbph()?, matcher: HistogramMatcher::new(LBPH_HISTOGRAM_LEN) }
            }
            RecognizerKind::Eigen => {
                Model::Eigen(EigenFaceRecognizer::create(0, f64::MAX).cv("creating the Eigenfaces recognizer")?)
            }
            RecognizerKind::Fisher => {
                Model::Fisher(FisherFaceRecognizer::create(0, f64::MAX).cv("creating the Fisherfaces recognizer")?)
            }
        };
        Ok(Self { kind, model, samples: 0 })
    }

    /// An LBPH recognizer over histograms read back from the gallery cache.
    pub fn lbph_from_matcher(matcher: HistogramMatcher) -> Result<Self, RecognizerError> {
        if matcher.dim() != LBPH_HISTOGRAM_LEN {
            return Err(RecognizerError::BadModel(format!(
                "its histograms have {} bins, this facecam makes {LBPH_HISTOGRAM_LEN}",
                matcher.dim()
            )));
        }
        let samples = matcher.len();
        Ok(Self { kind: RecognizerKind::Lbph, model: Model::Lbph { extractor: new_lbph()?, matcher }, samples })
    }

    /// The LBPH histograms, for the gallery cache.
    pub fn lbph_matcher(&self) -> Option<&HistogramMatcher> {
        match &self.model {
            Model::Lbph { matcher, .. } => Some(matcher),
            _ => None,
        }
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
        *self = Self::new(self.kind)?;
        if faces.is_empty() {
            return Ok(());
        }
        if self.kind == RecognizerKind::Lbph {
            return self.update(faces, labels);
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
        match &mut self.model {
            Model::Eigen(m) => m.train(&src, &lab),
            Model::Fisher(m) => m.train(&src, &lab),
            Model::Lbph { .. } => unreachable!("LBPH trains through update"),
        }
        .cv("training the recognizer")?;
        self.samples = faces.len();
        Ok(())
    }

    /// Adds samples without retraining (LBPH only: its model is just the
    /// list of sample histograms).
    pub fn update(&mut self, faces: &[Mat], labels: &[i32]) -> Result<(), RecognizerError> {
        check_counts(faces, labels)?;
        let Model::Lbph { extractor, matcher } = &mut self.model else {
            return Err(RecognizerError::NoIncrementalUpdate(self.kind));
        };
        // In chunks, so the extractor never holds a second copy of a big batch.
        for (faces, labels) in faces.chunks(256).zip(labels.chunks(256)) {
            for (h, label) in lbph_histograms(extractor, faces)?.iter().zip(labels) {
                matcher.push(h, *label).map_err(|n| RecognizerError::BadModel(format!("a histogram of {n} bins")))?;
            }
        }
        self.samples = matcher.len();
        Ok(())
    }

    /// A face's LBPH histogram (LBPH only), as the matcher compares it.
    pub fn lbph_histogram(&mut self, face: &Mat) -> Result<Option<Vec<f32>>, RecognizerError> {
        match &mut self.model {
            Model::Lbph { extractor, .. } => Ok(lbph_histograms(extractor, std::slice::from_ref(face))?.pop()),
            _ => Ok(None),
        }
    }

    /// The nearest label and its distance, or `None` when nothing is enrolled.
    pub fn nearest(&mut self, face: &Mat) -> Result<Option<Nearest>, RecognizerError> {
        if self.samples == 0 {
            return Ok(None);
        }
        let (mut label, mut distance) = (-1, f64::MAX);
        match &mut self.model {
            Model::Lbph { extractor, matcher } => {
                let query = lbph_histograms(extractor, std::slice::from_ref(face))?;
                return Ok(query.first().and_then(|q| matcher.nearest(q)));
            }
            Model::Eigen(m) => m.predict(face, &mut label, &mut distance),
            Model::Fisher(m) => m.predict(face, &mut label, &mut distance),
        }
        .cv("identifying a face")?;
        Ok((label >= 0).then_some(Nearest { label, distance }))
    }
}

/// OpenCV's own LBPH recognizer with our parameters, trained the usual way:
/// the reference our matcher is checked and benchmarked against.
pub struct OpenCvLbph {
    model: Ptr<LBPHFaceRecognizer>,
}

impl OpenCvLbph {
    pub fn train(faces: &[Mat], labels: &[i32]) -> Result<Self, RecognizerError> {
        check_counts(faces, labels)?;
        let mut model = new_lbph()?;
        model.train(&to_vector(faces)?, &Vector::<i32>::from_slice(labels)).cv("training OpenCV's LBPH")?;
        Ok(Self { model })
    }

    /// `LBPHFaceRecognizer::predict`.
    pub fn predict(&self, face: &Mat) -> Result<Option<Nearest>, RecognizerError> {
        let (mut label, mut distance) = (-1, f64::MAX);
        self.model.predict(face, &mut label, &mut distance).cv("OpenCV's LBPH predict")?;
        Ok((label >= 0).then_some(Nearest { label, distance }))
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
