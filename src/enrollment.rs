//! Enrollment from a live stream: collecting good samples of the one face in
//! view, spaced in time, and saying why a frame was not taken.

use opencv::core::{self, Mat, Rect, Scalar, Size};
use opencv::imgproc;
use opencv::prelude::*;
use serde::Serialize;

use crate::cv::{CvContext, VisionError, to_gray};
use crate::normalize::{FACE_HEIGHT, FACE_WIDTH, FaceRegion, normalize_face};

/// What a live enrollment asks of the frames it takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EnrollmentSettings {
    /// Samples to collect (default 20).
    pub samples: usize,
    /// Least stream time between two samples, so they differ in pose and
    /// expression rather than being 20 copies of one moment.
    pub min_interval_ms: f64,
    /// Smallest face side in frame pixels.
    pub min_face_px: i32,
    /// Least mean gray level (0–255) of the face.
    pub min_brightness: f64,
    /// Least variance of the Laplacian of the face at sample size; motion
    /// blur and defocus lower it.
    pub min_sharpness: f64,
}

impl Default for EnrollmentSettings {
    fn default() -> Self {
        Self { samples: 20, min_interval_ms: 150.0, min_face_px: 80, min_brightness: 45.0, min_sharpness: 15.0 }
    }
}

/// Why a frame gave no sample: what to tell the person in front of the camera.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Hint {
    NoFace,
    SeveralFaces,
    TooSmall,
    TooDark,
    TooBlurry,
}

impl Hint {
    /// The words shown to the user.
    pub fn message(self) -> &'static str {
        match self {
            Self::NoFace => "look at the camera",
            Self::SeveralFaces => "only one face please",
            Self::TooSmall => "move closer",
            Self::TooDark => "too dark: add light in front of you",
            Self::TooBlurry => "hold still",
        }
    }
}

/// What one frame did for the enrollment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Offer {
    /// A sample was taken.
    Taken,
    /// Fine, but too soon after the last sample.
    TooSoon,
    Skipped(Hint),
}

/// An enrollment in progress. Nothing is saved until it is complete.
pub struct EnrollmentSession {
    pub name: String,
    settings: EnrollmentSettings,
    samples: Vec<Mat>,
    last_sample_ms: Option<f64>,
}

impl EnrollmentSession {
    pub fn new(name: String, settings: EnrollmentSettings) -> Self {
        Self { name, settings, samples: Vec::with_capacity(settings.samples.min(1000)), last_sample_ms: None }
    }

    pub fn collected(&self) -> usize {
        self.samples.len()
    }

    pub fn target(&self) -> usize {
        self.settings.samples
    }

    pub fn is_complete(&self) -> bool {
        self.samples.len() >= self.settings.samples
    }

    /// The samples, once complete.
    pub fn into_samples(self) -> Vec<Mat> {
        self.samples
    }

    /// Looks at one frame and its detected faces.
    pub fn offer(&mut self, frame: &Mat, faces: &[Rect], stream_ms: f64) -> Result<Offer, VisionError> {
        let face = match faces {
            [] => return Ok(Offer::Skipped(Hint::NoFace)),
            [face] => *face,
            _ => return Ok(Offer::Skipped(Hint::SeveralFaces)),
        };
        if face.width.min(face.height) < self.settings.min_face_px {
            return Ok(Offer::Skipped(Hint::TooSmall));
        }
        if let Some(hint) = check_quality(frame, face, &self.settings)? {
            return Ok(Offer::Skipped(hint));
        }
        // The stream clock restarts when a camera is reopened or a file loops.
        if self.last_sample_ms.is_some_and(|last| stream_ms < last) {
            self.last_sample_ms = None;
        }
        if self.last_sample_ms.is_some_and(|last| stream_ms - last < self.settings.min_interval_ms) {
            return Ok(Offer::TooSoon);
        }
        self.samples.push(normalize_face(frame, FaceRegion::Detected(face))?);
        self.last_sample_ms = Some(stream_ms);
        Ok(Offer::Taken)
    }
}

/// Brightness and sharpness of the face, measured on the raw gray crop at
/// sample size (before lighting normalization, which would hide both).
pub fn face_quality(frame: &Mat, face: Rect) -> Result<(f64, f64), VisionError> {
    let gray = to_gray(frame)?;
    let inside = face & Rect::new(0, 0, gray.cols(), gray.rows());
    if inside.width <= 0 || inside.height <= 0 {
        return Err(VisionError::EmptyImage);
    }
    let roi = Mat::roi(&gray, inside).cv("cropping a face")?;
    let mut sized = Mat::default();
    imgproc::resize(&roi, &mut sized, Size::new(FACE_WIDTH, FACE_HEIGHT), 0.0, 0.0, imgproc::INTER_AREA)
        .cv("resizing a face")?;
    let brightness = core::mean_def(&sized).cv("measuring brightness")?[0];
    let mut lap = Mat::default();
    imgproc::laplacian_def(&sized, &mut lap, core::CV_64F).cv("measuring sharpness")?;
    let (mut mean, mut std) = (Scalar::default(), Scalar::default());
    core::mean_std_dev_def(&lap, &mut mean, &mut std).cv("measuring sharpness")?;
    Ok((brightness, std[0] * std[0]))
}

fn check_quality(frame: &Mat, face: Rect, settings: &EnrollmentSettings) -> Result<Option<Hint>, VisionError> {
    let (brightness, sharpness) = face_quality(frame, face)?;
    Ok(if brightness < settings.min_brightness {
        Some(Hint::TooDark)
    } else if sharpness < settings.min_sharpness {
        Some(Hint::TooBlurry)
    } else {
        None
    })
}
