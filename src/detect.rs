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
        Self::live()
    }
}

impl DetectorParams {
    /// For live video: fast enough for every frame of a 30 fps 720p camera
    /// on two cores (see the README's "Performance"); faces at webcam
    /// distance stay well above the cascade's window at this width, and
    /// tracking bridges the odd missed frame.
    pub fn live() -> Self {
        Self { working_width: 320, scale_factor: 1.1, min_neighbors: 5, min_face_px: 48 }
    }

    /// For still photos: slower, finer scales, and a larger working width
    /// so the small faces of group photos are found.
    pub fn photo() -> Self {
        Self { working_width: 1024, scale_factor: 1.1, min_neighbors: 5, min_face_px: 24 }
    }

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
/// Face width at which boxes are refined.
const REFINE_FACE_PX: i32 = 72;
/// Scale step of the refinement pass.
const REFINE_SCALE_STEP: f64 = 1.15;

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
        let mut small = Mat::default();
        if scale < 1.0 {
            let size =
                Size::new((width as f64 * scale).round() as i32, (gray.rows() as f64 * scale).round().max(1.0) as i32);
            imgproc::resize(&gray, &mut small, size, 0.0, 0.0, imgproc::INTER_AREA).cv("scaling a frame down")?;
        }
        let small = if scale < 1.0 { &small } else { &gray };
        let mut equalized = Mat::default();
        imgproc::equalize_hist(small, &mut equalized).cv("equalizing a frame")?;

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
        let mut boxes = Vec::with_capacity(found.len());
        for r in found.iter() {
            let coarse = Rect::new(
                ((r.x as f64) / scale).round() as i32,
                ((r.y as f64) / scale).round() as i32,
                ((r.width as f64) / scale).round() as i32,
                ((r.height as f64) / scale).round() as i32,
            );
            let refined = self.refine(&gray, coarse)?.unwrap_or(coarse);
            let clipped = refined & Rect::new(0, 0, frame_w, frame_h);
            if clipped.width > 0 && clipped.height > 0 {
                boxes.push(clipped);
            }
        }
        boxes.sort_by_key(|r| std::cmp::Reverse(r.area()));
        Ok(boxes)
    }

    /// Detects the face again around a coarse box, with the face scaled to
    /// [`REFINE_FACE_PX`] and fine scale steps. Boxes then have the same
    /// geometry whatever the frame size or working width they were found
    /// at, so samples from photos and from live video line up.
    fn refine(&mut self, gray: &Mat, coarse: Rect) -> Result<Option<Rect>, VisionError> {
        let pad = (coarse.width as f64 * 0.2).round() as i32;
        let region = Rect::new(coarse.x - pad, coarse.y - pad, coarse.width + 2 * pad, coarse.height + 2 * pad)
            & Rect::new(0, 0, gray.cols(), gray.rows());
        if region.width < CASCADE_WINDOW_PX || region.height < CASCADE_WINDOW_PX {
            return Ok(None);
        }
        let k = REFINE_FACE_PX as f64 / coarse.width.max(1) as f64;
        let roi = Mat::roi(gray, region).cv("cropping around a face")?;
        let mut scaled = Mat::default();
        let size = Size::new(
            ((region.width as f64 * k).round() as i32).max(1),
            ((region.height as f64 * k).round() as i32).max(1),
        );
        let interpolation = if k < 1.0 { imgproc::INTER_AREA } else { imgproc::INTER_LINEAR };
        imgproc::resize(&roi, &mut scaled, size, 0.0, 0.0, interpolation).cv("scaling around a face")?;
        let mut equalized = Mat::default();
        imgproc::equalize_hist(&scaled, &mut equalized).cv("equalizing around a face")?;
        let mut found = Vector::<Rect>::new();
        let (min, max) = ((REFINE_FACE_PX as f64 * 0.8) as i32, (REFINE_FACE_PX as f64 * 1.25) as i32);
        self.cascade
            .detect_multi_scale(
                &equalized,
                &mut found,
                REFINE_SCALE_STEP,
                3,
                0,
                Size::new(min, min),
                Size::new(max, max),
            )
            .cv("refining a face")?;
        // The hit nearest the coarse box's centre (in scaled coordinates).
        let centre = (
            (coarse.x - region.x) as f64 * k + coarse.width as f64 * k / 2.0,
            (coarse.y - region.y) as f64 * k + coarse.height as f64 * k / 2.0,
        );
        let distance = |r: &Rect| {
            let (cx, cy) = (r.x as f64 + r.width as f64 / 2.0, r.y as f64 + r.height as f64 / 2.0);
            (cx - centre.0).powi(2) + (cy - centre.1).powi(2)
        };
        let best = found.iter().min_by(|a, b| distance(a).total_cmp(&distance(b)));
        Ok(best.map(|r| {
            Rect::new(
                region.x + (r.x as f64 / k).round() as i32,
                region.y + (r.y as f64 / k).round() as i32,
                (r.width as f64 / k).round() as i32,
                (r.height as f64 / k).round() as i32,
            )
        }))
    }
}
