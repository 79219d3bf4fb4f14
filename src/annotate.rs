//! Drawing boxes, names and confidence onto frames, for annotated video
//! output and snapshots.

use opencv::core::{Mat, Point, Rect, Scalar};
use opencv::imgproc;
use opencv::prelude::*;

use crate::cv::{CvContext, VisionError};
use crate::worker::FaceReport;

/// Green for known people (BGR).
pub const KNOWN_BGR: (f64, f64, f64) = (80.0, 200.0, 60.0);
/// Orange for unknown faces (BGR).
pub const UNKNOWN_BGR: (f64, f64, f64) = (0.0, 140.0, 255.0);

/// The text shown under a face: "Ada 87%" or "Unknown".
pub fn face_label(face: &FaceReport) -> String {
    match &face.name {
        Some(name) => format!("{name} {:.0}%", face.confidence),
        None => "Unknown".to_owned(),
    }
}

/// Draws every face's box and label onto a BGR frame in place.
pub fn draw_faces(image: &mut Mat, faces: &[FaceReport]) -> Result<(), VisionError> {
    let thickness = (image.cols() / 320).max(2);
    let font_scale = (image.cols() as f64 / 1280.0).max(0.5);
    for face in faces {
        let (b, g, r) = if face.known { KNOWN_BGR } else { UNKNOWN_BGR };
        let color = Scalar::new(b, g, r, 0.0);
        let bbox = Rect::new(face.bbox.x, face.bbox.y, face.bbox.width, face.bbox.height);
        imgproc::rectangle(image, bbox, color, thickness, imgproc::LINE_8, 0).cv("drawing a box")?;
        let label = face_label(face);
        let mut baseline = 0;
        let size = imgproc::get_text_size(&label, imgproc::FONT_HERSHEY_SIMPLEX, font_scale, 1, &mut baseline)
            .cv("measuring a label")?;
        let below = bbox.y + bbox.height;
        let top = if below + size.height + 10 <= image.rows() { below } else { (bbox.y - size.height - 10).max(0) };
        let plate = Rect::new(bbox.x, top, size.width + 10, size.height + 10);
        imgproc::rectangle(image, plate, color, imgproc::FILLED, imgproc::LINE_8, 0).cv("drawing a label")?;
        imgproc::put_text(
            image,
            &label,
            Point::new(bbox.x + 5, top + size.height + 4),
            imgproc::FONT_HERSHEY_SIMPLEX,
            font_scale,
            Scalar::new(255.0, 255.0, 255.0, 0.0),
            1,
            imgproc::LINE_AA,
            false,
        )
        .cv("drawing a label")?;
    }
    Ok(())
}
