//! Turning a face in an image into the fixed-size sample the recognizers
//! compare. Enrollment and identification both go through
//! [`normalize_face`], so a stored sample and a live face are always
//! prepared the same way.

use opencv::core::{self, Mat, Rect, Size};
use opencv::imgproc;
use opencv::prelude::*;

use crate::cv::{CvContext, VisionError, to_gray};

/// Width of a normalized face sample in pixels (the AT&T crops' aspect).
pub const FACE_WIDTH: i32 = 92;
/// Height of a normalized face sample in pixels.
pub const FACE_HEIGHT: i32 = 112;

/// Width of the crop as a share of the detected box's width. Haar boxes
/// include some background and hair at the sides; keeping the inner face
/// only makes samples independent of the scene behind the person
/// (cross-validated on AT&T faces placed in larger images: 0.8 beat 1.0 and
/// 1.2 clearly). The height follows from the sample's aspect ratio.
const CROP_WIDTH_OF_BOX: f64 = 0.8;
/// Gaussian blur before recognition, in pixels of the normalized face:
/// takes sensor noise out of the LBP codes. Chosen by cross-validation
/// inside the AT&T training half (see the README's "Accuracy").
const BLUR_SIGMA_PX: f64 = 0.7;

/// Which part of an image is the face.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaceRegion {
    /// A box from the detector, in image coordinates.
    Detected(Rect),
    /// The whole image is already a face crop (`--cropped`).
    Whole,
}

/// Crops, converts to gray, resizes to [`FACE_WIDTH`]×[`FACE_HEIGHT`] and
/// normalizes lighting.
pub fn normalize_face(image: &Mat, region: FaceRegion) -> Result<Mat, VisionError> {
    let gray = to_gray(image)?;
    let crop = match region {
        FaceRegion::Whole => gray,
        FaceRegion::Detected(face) => crop_padded(&gray, crop_rect(face))?,
    };
    let mut sized = Mat::default();
    let interpolation = if crop.cols() > FACE_WIDTH { imgproc::INTER_AREA } else { imgproc::INTER_LINEAR };
    imgproc::resize(&crop, &mut sized, Size::new(FACE_WIDTH, FACE_HEIGHT), 0.0, 0.0, interpolation)
        .cv("resizing a face")?;
    normalize_lighting(&sized)
}

/// The crop around a detected box, with the sample's aspect ratio.
pub fn crop_rect(face: Rect) -> Rect {
    let width = face.width as f64 * CROP_WIDTH_OF_BOX;
    let height = width * FACE_HEIGHT as f64 / FACE_WIDTH as f64;
    let cx = face.x as f64 + face.width as f64 / 2.0;
    let cy = face.y as f64 + face.height as f64 / 2.0;
    Rect::new(
        (cx - width / 2.0).round() as i32,
        (cy - height / 2.0).round() as i32,
        width.round() as i32,
        height.round() as i32,
    )
}

/// Cuts `rect` out of `gray`, repeating edge pixels where it leaves the image
/// (faces at the frame border still give a full-size sample).
fn crop_padded(gray: &Mat, rect: Rect) -> Result<Mat, VisionError> {
    let bounds = Rect::new(0, 0, gray.cols(), gray.rows());
    let inside = rect & bounds;
    if inside.width <= 0 || inside.height <= 0 {
        return Err(VisionError::EmptyImage);
    }
    let roi = Mat::roi(gray, inside).cv("cropping a face")?;
    let (top, left) = (inside.y - rect.y, inside.x - rect.x);
    let bottom = (rect.y + rect.height) - (inside.y + inside.height);
    let right = (rect.x + rect.width) - (inside.x + inside.width);
    let mut out = Mat::default();
    core::copy_make_border(&roi, &mut out, top, bottom, left, right, core::BORDER_REPLICATE, core::Scalar::default())
        .cv("padding a face crop")?;
    Ok(out)
}

/// Evens out lighting: histogram equalization spreads the gray levels, and
/// a light blur keeps noise out of the texture codes.
fn normalize_lighting(face: &Mat) -> Result<Mat, VisionError> {
    let mut equalized = Mat::default();
    imgproc::equalize_hist(face, &mut equalized).cv("equalizing a face")?;
    let mut blurred = Mat::default();
    imgproc::gaussian_blur_def(&equalized, &mut blurred, Size::new(0, 0), BLUR_SIGMA_PX).cv("blurring a face")?;
    Ok(blurred)
}
