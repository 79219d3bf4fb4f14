//! Still-image face work shared by the CLI and evaluation: finding the one
//! face to enroll from a photo, and naming every face in a photo.

use opencv::core::{Mat, Rect};
use opencv::prelude::*;
use serde::Serialize;

use crate::cv::VisionError;
use crate::detect::Detector;
use crate::normalize::{FaceRegion, normalize_face};
use crate::recognizer::{Recognizer, RecognizerError, decide};
use crate::store::Gallery;

/// Why an image gave no enrollment sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoSample {
    NoFace,
    SeveralFaces(usize),
}

impl std::fmt::Display for NoSample {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoFace => f.write_str("no face found; use a photo where the face is frontal and well lit"),
            Self::SeveralFaces(n) => {
                write!(f, "{n} faces found; enrollment needs exactly one face per photo (crop the others out)")
            }
        }
    }
}

/// The single face in an image, normalized for enrollment. Without a
/// detector the whole image is taken as the face (`--cropped`).
pub fn enrollment_sample(detector: Option<&mut Detector>, image: &Mat) -> Result<Result<Mat, NoSample>, VisionError> {
    let Some(detector) = detector else {
        return normalize_face(image, FaceRegion::Whole).map(Ok);
    };
    let faces = detector.detect(image)?;
    match faces.as_slice() {
        [] => Ok(Err(NoSample::NoFace)),
        [face] => normalize_face(image, FaceRegion::Detected(*face)).map(Ok),
        many => Ok(Err(NoSample::SeveralFaces(many.len()))),
    }
}

/// A face box in image pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FaceBox {
    pub x: i32,
    pub y: i32,
    pub width: i32,
    pub height: i32,
}

impl From<Rect> for FaceBox {
    fn from(r: Rect) -> Self {
        Self { x: r.x, y: r.y, width: r.width, height: r.height }
    }
}

/// Who a face is, as shown to users and printed as JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Identified {
    #[serde(rename = "box")]
    pub bbox: FaceBox,
    /// The person's name when known, `null` when unknown.
    pub name: Option<String>,
    pub person_id: Option<u32>,
    pub known: bool,
    /// The closest enrolled person, even when too far to be taken as them.
    pub nearest: Option<String>,
    /// Raw recognizer distance to `nearest` (lower is closer).
    pub distance: Option<f64>,
    /// 0–100, derived from distance and threshold (50 at the threshold).
    pub confidence: f64,
}

/// Names one normalized face.
pub fn identify_face(
    recognizer: &mut Recognizer,
    gallery: &Gallery,
    face: &Mat,
    bbox: FaceBox,
    threshold: f64,
) -> Result<Identified, RecognizerError> {
    let nearest = recognizer.nearest(face)?;
    let person = nearest.and_then(|n| gallery.by_label(n.label));
    let (known, confidence) = match nearest {
        Some(n) if person.is_some() => {
            let d = decide(n.distance, threshold);
            (d.known, d.confidence_pct)
        }
        _ => (false, 0.0),
    };
    Ok(Identified {
        bbox,
        name: person.filter(|_| known).map(|p| p.name.clone()),
        person_id: person.filter(|_| known).map(|p| p.id),
        known,
        nearest: person.map(|p| p.name.clone()),
        distance: nearest.map(|n| n.distance),
        confidence,
    })
}

/// Finds and names every face in an image (or the whole image as one face
/// without a detector).
pub fn identify_image(
    detector: Option<&mut Detector>,
    recognizer: &mut Recognizer,
    gallery: &Gallery,
    image: &Mat,
    threshold: f64,
) -> Result<Vec<Identified>, RecognizerError> {
    let regions: Vec<(FaceRegion, FaceBox)> = match detector {
        Some(d) => d.detect(image)?.into_iter().map(|r| (FaceRegion::Detected(r), r.into())).collect(),
        None => vec![(FaceRegion::Whole, Rect::new(0, 0, image.cols(), image.rows()).into())],
    };
    regions
        .into_iter()
        .map(|(region, bbox)| {
            let face = normalize_face(image, region)?;
            identify_face(recognizer, gallery, &face, bbox, threshold)
        })
        .collect()
}
