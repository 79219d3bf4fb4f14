//! Thin helpers over OpenCV shared by the vision modules: image decoding
//! from bytes we read ourselves (for clear file errors), PNG encoding, and
//! colour conversion for the frame formats cameras hand us.

use std::path::{Path, PathBuf};

use opencv::core::{Mat, Vector};
use opencv::prelude::*;
use opencv::{imgcodecs, imgproc};
use thiserror::Error;

/// An OpenCV call failed, or an image could not be used.
#[derive(Debug, Error)]
pub enum VisionError {
    #[error("OpenCV failed while {context}: {source}")]
    OpenCv {
        context: &'static str,
        #[source]
        source: opencv::Error,
    },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0} is not an image OpenCV can read (damaged, empty, or an unsupported format)")]
    NotAnImage(PathBuf),
    #[error("the image is empty")]
    EmptyImage,
    #[error("unsupported image with {0} channels; expected gray, BGR or BGRA")]
    UnsupportedChannels(i32),
}

/// Adds what we were doing to an OpenCV error.
pub trait CvContext<T> {
    fn cv(self, context: &'static str) -> Result<T, VisionError>;
}

impl<T> CvContext<T> for opencv::Result<T> {
    fn cv(self, context: &'static str) -> Result<T, VisionError> {
        self.map_err(|source| VisionError::OpenCv { context, source })
    }
}

/// Reads an image file as BGR (or gray for one-channel files).
pub fn read_image(path: &Path) -> Result<Mat, VisionError> {
    let bytes = std::fs::read(path).map_err(|source| VisionError::Io { path: path.to_owned(), source })?;
    decode_image(&bytes).map_err(|e| match e {
        VisionError::EmptyImage | VisionError::OpenCv { .. } => VisionError::NotAnImage(path.to_owned()),
        other => other,
    })
}

/// Decodes encoded image bytes (PNG, JPEG, PGM, ...).
pub fn decode_image(bytes: &[u8]) -> Result<Mat, VisionError> {
    if bytes.is_empty() {
        return Err(VisionError::EmptyImage);
    }
    let buf = Vector::<u8>::from_slice(bytes);
    let mat = imgcodecs::imdecode(&buf, imgcodecs::IMREAD_UNCHANGED).cv("decoding an image")?;
    if mat.empty() {
        return Err(VisionError::EmptyImage);
    }
    Ok(mat)
}

/// Encodes an image as PNG bytes.
pub fn encode_png(image: &Mat) -> Result<Vec<u8>, VisionError> {
    let mut buf = Vector::<u8>::new();
    imgcodecs::imencode(".png", image, &mut buf, &Vector::new()).cv("encoding a PNG")?;
    Ok(buf.to_vec())
}

/// Converts gray, BGR or BGRA input of 8 bits to one 8-bit gray channel.
pub fn to_gray(image: &Mat) -> Result<Mat, VisionError> {
    if image.empty() {
        return Err(VisionError::EmptyImage);
    }
    let converted;
    let image = if image.depth() == opencv::core::CV_8U {
        image
    } else {
        converted = to_8bit(image)?;
        &converted
    };
    let code = match image.channels() {
        1 => return image.try_clone().cv("copying an image"),
        3 => imgproc::COLOR_BGR2GRAY,
        4 => imgproc::COLOR_BGRA2GRAY,
        n => return Err(VisionError::UnsupportedChannels(n)),
    };
    let mut gray = Mat::default();
    imgproc::cvt_color_def(image, &mut gray, code).cv("converting to gray")?;
    Ok(gray)
}

/// Scales 16-bit images (some PNGs, some cameras) down to 8 bits.
fn to_8bit(image: &Mat) -> Result<Mat, VisionError> {
    use opencv::core::{CV_8U, CV_16U};
    match image.depth() {
        CV_16U => {
            let mut out = Mat::default();
            image.convert_to(&mut out, CV_8U, 1.0 / 257.0, 0.0).cv("converting 16-bit to 8-bit")?;
            Ok(out)
        }
        _ => {
            let mut out = Mat::default();
            image.convert_to(&mut out, CV_8U, 1.0, 0.0).cv("converting to 8-bit")?;
            Ok(out)
        }
    }
}
