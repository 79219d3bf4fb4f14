//! Test scenes made from real face crops: videos in which faces drift over
//! a textured background, segment after segment. Tests and benchmarks use
//! them in place of a webcam, through the same capture code.

use std::path::Path;

use opencv::core::{self, Mat, Rect, Scalar, Size};
use opencv::imgproc;
use opencv::prelude::*;
use opencv::videoio::{VideoWriter, VideoWriterTrait, VideoWriterTraitConst};

use crate::cv::{CvContext, VisionError};

/// One stretch of a scene: whose faces are in view.
#[derive(Debug, Clone)]
pub struct Segment {
    /// Face images shown side by side, each a cycle of crops (empty: nobody).
    pub faces: Vec<Vec<std::path::PathBuf>>,
    pub frames: u32,
}

/// Frames shown per face crop before the next one in its cycle.
const FRAMES_PER_CROP: u32 = 10;

/// Writes an MJPG AVI of `width`×`height` at `fps`. Each face is scaled with
/// the frame (2× a 92×112 crop at 480 lines, 3× at 720), as a camera at the
/// same distance would see it, and drifts slowly. Returns each segment's
/// first frame.
pub fn write_scene(
    path: &Path,
    segments: &[Segment],
    width: i32,
    height: i32,
    fps: f64,
) -> Result<Vec<u32>, VisionError> {
    let fourcc = VideoWriter::fourcc('M', 'J', 'P', 'G').cv("choosing a codec")?;
    let mut writer = VideoWriter::new(path, fourcc, fps, Size::new(width, height), true).cv("opening a video")?;
    if !writer.is_opened().cv("opening a video")? {
        return Err(VisionError::NotAnImage(path.to_owned()));
    }
    let background = textured_background(width, height)?;
    let mut starts = Vec::with_capacity(segments.len());
    let mut frame_no = 0;
    for seg in segments {
        starts.push(frame_no);
        let crops: Vec<Vec<Mat>> = seg
            .faces
            .iter()
            .map(|cycle| cycle.iter().map(|p| load_scaled(p, height as f64 / 240.0)).collect::<Result<Vec<_>, _>>())
            .collect::<Result<_, _>>()?;
        for f in 0..seg.frames {
            let mut frame = background.try_clone().cv("copying a frame")?;
            let n = crops.len() as i32;
            for (k, cycle) in crops.iter().enumerate() {
                let Some(face) = cycle.get((f / FRAMES_PER_CROP) as usize % cycle.len().max(1)) else { continue };
                let (fw, fh) = (face.cols().min(width), face.rows().min(height));
                let slot = width / n.max(1);
                let drift = ((f as f64 / 8.0).sin() * 20.0) as i32;
                let x = (slot * k as i32 + (slot - fw) / 2 + drift).clamp(0, width - fw);
                let y = ((height - fh) / 2 + drift / 2).clamp(0, height - fh);
                let src = Mat::roi(face, Rect::new(0, 0, fw, fh)).cv("placing a face")?;
                let mut dst = Mat::roi_mut(&mut frame, Rect::new(x, y, fw, fh)).cv("placing a face")?;
                src.copy_to(&mut dst).cv("placing a face")?;
            }
            writer.write(&frame).cv("writing a frame")?;
            frame_no += 1;
        }
    }
    writer.release().cv("closing a video")?;
    Ok(starts)
}

fn load_scaled(path: &Path, scale: f64) -> Result<Mat, VisionError> {
    let face = crate::cv::read_image(path)?;
    let mut bgr = Mat::default();
    if face.channels() == 1 {
        imgproc::cvt_color_def(&face, &mut bgr, imgproc::COLOR_GRAY2BGR).cv("converting a face")?;
    } else {
        bgr = face;
    }
    let mut big = Mat::default();
    let size = Size::new((bgr.cols() as f64 * scale).round() as i32, (bgr.rows() as f64 * scale).round() as i32);
    imgproc::resize(&bgr, &mut big, size, 0.0, 0.0, imgproc::INTER_CUBIC).cv("scaling a face")?;
    Ok(big)
}

/// A deterministic mid-gray background with soft texture, so the video
/// compresses and detects like a scene rather than a flat colour.
fn textured_background(width: i32, height: i32) -> Result<Mat, VisionError> {
    let mut bg =
        Mat::new_rows_cols_with_default(height, width, core::CV_8UC3, Scalar::all(0.0)).cv("making a frame")?;
    for y in 0..height {
        for x in 0..width {
            let v = 70.0 + 30.0 * ((x as f64 / 37.0).sin() * (y as f64 / 23.0).cos());
            *bg.at_2d_mut::<core::Vec3b>(y, x).cv("making a frame")? =
                core::Vec3b::from([v as u8, (v * 0.95) as u8, (v * 0.9) as u8]);
        }
    }
    Ok(bg)
}
