//! Face detection with a Haar cascade.
//!
//! Detection runs on a gray, histogram-equalized copy scaled down to a
//! working width: Haar cost grows with pixel count, and faces at webcam
//! distance stay far above the cascade's 24 px window after downscaling.

use std::path::Path;

use opencv::core::{Mat, Rect, Size, Vector};
use opencv::imgproc;
use opencv::objdetect::CascadeClassifier;
use opencv::prelude::*;
use serde::{Deserialize, Serialize};

use crate::cascade::CascadeError;
use crate::cv::{CvContext, VisionError, to_gray};

/// Tunable detection settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectorParams {
    /// Frames wider than this are scaled down to it before detection.
    pub working_width: u32,
    /// Step between cascade scales; smaller finds more faces, slower.
    pub scale_factor: f64,
    /// Overlapping hits needed to accept a face; higher means fewer false faces.
    pub min_neighbors: i32,
    /// Smallest face to report, in pixels of the original frame.
    pub min_face_px: u32,
}

impl Default for DetectorParams {
    fn default() -> Self {
        Self { working_width: 640, scale_factor: 1.1, min_neighbors: 5, min_face_px: 40 }
    }
}

impl DetectorParams {
    /// Checks ranges; the message names the setting and its allowed range.
    pub fn validate(&self) -> Result<(), String> {
        if !(64..=8192).contains(&self.working_width) {
            return Err(format!("detector.working_width is {}; use 64 to 8192", self.working_width));
        }
        if !(self.scale_factor > 1.0 && self.scale_factor <= 2.0) {
            return Err(format!("detector.scale_factor is {}; use more than 1.0 and at most 2.0", self.scale_factor));
        }
        if !(0..=50).contains(&self.min_neighbors) {
            return Err(format!("detector.min_neighbors is {}; use 0 to 50", self.min_neighbors));
        }
        if !(8..=4096).contains(&self.min_face_px) {
            return Err(format!("detector.min_face_px is {}; use 8 to 4096", self.min_face_px));
        }
        Ok(())
    }
}

/// A Haar face detector. Owns its OpenCV cascade, so it lives on one thread.
pub struct Detector {
    cascade: CascadeClassifier,
    params: DetectorParams,
}

/// Side of the cascade's training window; smaller faces cannot be found.
const CASCADE_WINDOW_PX: i32 = 24;

impl Detector {
    /// Loads the cascade at `path`.
    pub fn new(path: &Path, params: DetectorParams) -> Result<Self, CascadeError> {
        let unreadable = |reason: String| CascadeError::Unreadable { path: path.to_owned(), reason };
        params.validate().map_err(unreadable)?;
        let path_str = path.to_str().ok_or_else(|| unreadable("the path is not valid UTF-8".into()))?;
        let cascade = CascadeClassifier::new(path_str).map_err(|e| unreadable(e.message))?;
        if CascadeClassifierTraitConst::empty(&cascade).map_err(|e| unreadable(e.message))? {
            return Err(unreadable("OpenCV could not parse it as a cascade".into()));
        }
        Ok(Self { cascade, params })
    }

    pub fn params(&self) -> DetectorParams {
        self.params
    }

    pub fn set_params(&mut self, params: DetectorParams) -> Result<(), String> {
        params.validate()?;
        self.params = params;
        Ok(())
    }

    /// Finds faces in a gray, BGR or BGRA frame; boxes are in frame
    /// coordinates, largest first.
    pub fn detect(&mut self, frame: &Mat) -> Result<Vec<Rect>, VisionError> {
        let gray = to_gray(frame)?;
        let width = gray.cols();
        let scale = if width > self.params.working_width as i32 {
            self.params.working_width as f64 / width as f64
        } else {
            1.0
        };
        let small = if scale < 1.0 {
            let mut small = Mat::default();
            let size =
                Size::new((width as f64 * scale).round() as i32, (gray.rows() as f64 * scale).round().max(1.0) as i32);
            imgproc::resize(&gray, &mut small, size, 0.0, 0.0, imgproc::INTER_AREA).cv("scaling a frame down")?;
            small
        } else {
            gray
        };
        let mut equalized = Mat::default();
        imgproc::equalize_hist(&small, &mut equalized).cv("equalizing a frame")?;

        let min_side = ((self.params.min_face_px as f64 * scale).round() as i32).max(CASCADE_WINDOW_PX);
        let mut found = Vector::<Rect>::new();
        self.cascade
            .detect_multi_scale(
                &equalized,
                &mut found,
                self.params.scale_factor,
                self.params.min_neighbors,
                0,
                Size::new(min_side, min_side),
                Size::default(),
            )
            .cv("detecting faces")?;
        let (frame_w, frame_h) = (frame.cols(), frame.rows());
        let mut boxes: Vec<Rect> = found
            .iter()
            .map(|r| {
                let x = ((r.x as f64) / scale).round() as i32;
                let y = ((r.y as f64) / scale).round() as i32;
                let w = ((r.width as f64) / scale).round() as i32;
                let h = ((r.height as f64) / scale).round() as i32;
                Rect::new(
                    x.clamp(0, frame_w - 1),
                    y.clamp(0, frame_h - 1),
                    w.min(frame_w - x.max(0)),
                    h.min(frame_h - y.max(0)),
                )
            })
            .filter(|r| r.width > 0 && r.height > 0)
            .collect();
        boxes.sort_by_key(|r| std::cmp::Reverse(r.area()));
        Ok(boxes)
    }
}
