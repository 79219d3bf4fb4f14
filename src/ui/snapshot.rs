//! Snapshots of the annotated view: the frame as shown (mirrored or not)
//! with its boxes and names, written as a PNG off the UI thread.

use std::path::{Path, PathBuf};
use std::thread::{self, JoinHandle};
use std::time::SystemTime;

use crossbeam_channel::{Receiver, Sender};
use opencv::core::{self, Mat};
use opencv::prelude::*;

use crate::annotate::draw_faces;
use crate::cv::{self, CvContext};
use crate::fsutil;
use crate::worker::FaceReport;

/// Writes snapshots on short-lived named threads, joined on drop.
pub struct Snapshots {
    dir: PathBuf,
    done_tx: Sender<Result<PathBuf, String>>,
    pub done: Receiver<Result<PathBuf, String>>,
    writers: Vec<JoinHandle<()>>,
}

impl Snapshots {
    pub fn new(dir: PathBuf) -> Self {
        let (done_tx, done) = crossbeam_channel::unbounded();
        Self { dir, done_tx, done, writers: Vec::new() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Starts writing one snapshot; the result arrives on `done`.
    pub fn save(&mut self, image: &Mat, faces: &[FaceReport], mirrored: bool) {
        self.writers.retain(|h| !h.is_finished());
        let image = match image.try_clone() {
            Ok(m) => m,
            Err(e) => {
                let _ = self.done_tx.send(Err(format!("cannot copy the frame: {e}")));
                return;
            }
        };
        let faces = faces.to_vec();
        let path = unused_path(&self.dir, &file_name(SystemTime::now()));
        let tx = self.done_tx.clone();
        let spawned = thread::Builder::new().name("facecam-snapshot".into()).spawn(move || {
            let _ = tx.send(write(image, faces, mirrored, &path).map(|()| path));
        });
        match spawned {
            Ok(handle) => self.writers.push(handle),
            Err(e) => {
                let _ = self.done_tx.send(Err(format!("cannot start writing the snapshot: {e}")));
            }
        }
    }
}

impl Drop for Snapshots {
    fn drop(&mut self) {
        for handle in self.writers.drain(..) {
            let _ = handle.join();
        }
    }
}

/// `facecam-2026-12-03_11-32-54.123.png`, in UTC so names sort by time.
fn file_name(now: SystemTime) -> String {
    let stamp = humantime::format_rfc3339_millis(now).to_string();
    let stamp = stamp.trim_end_matches('Z').replace('T', "_").replace(':', "-");
    format!("facecam-{stamp}.png")
}

/// `name` in `dir`, or `name` with `-2`, `-3`… if taken: a snapshot never
/// replaces another.
fn unused_path(dir: &Path, name: &str) -> PathBuf {
    let first = dir.join(name);
    if !first.exists() {
        return first;
    }
    let stem = name.trim_end_matches(".png");
    (2..).map(|n| dir.join(format!("{stem}-{n}.png"))).find(|p| !p.exists()).unwrap_or(first)
}

/// Draws the faces (mirrored with the picture when it is) and writes the PNG.
fn write(image: Mat, mut faces: Vec<FaceReport>, mirrored: bool, path: &Path) -> Result<(), String> {
    let mut image = image;
    if mirrored {
        let mut flipped = Mat::default();
        core::flip(&image, &mut flipped, 1).cv("mirroring the snapshot").map_err(|e| e.to_string())?;
        image = flipped;
        for face in &mut faces {
            face.bbox.x = image.cols() - face.bbox.x - face.bbox.width;
        }
    }
    draw_faces(&mut image, &faces).map_err(|e| e.to_string())?;
    let png = cv::encode_png(&image).map_err(|e| e.to_string())?;
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    fsutil::write_atomic(path, &png).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn snapshot_names_are_timestamps_safe_in_any_file_system() {
        let t = UNIX_EPOCH + Duration::from_millis(1_796_297_574_120);
        let name = file_name(t);
        assert_eq!(name, "facecam-2026-12-03_11-32-54.120.png");
        assert!(!name.contains(':'));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(&name), b"x").unwrap();
        assert_eq!(unused_path(dir.path(), &name), dir.path().join("facecam-2026-12-03_11-32-54.120-2.png"));
    }

    #[test]
    fn a_snapshot_is_a_readable_png_with_the_faces_drawn() {
        let dir = tempfile::tempdir().unwrap();
        let image = Mat::new_rows_cols_with_default(120, 160, core::CV_8UC3, core::Scalar::all(0.0)).unwrap();
        let face = FaceReport {
            bbox: crate::identify::FaceBox { x: 10, y: 10, width: 50, height: 50 },
            track_id: 1,
            name: Some("Ada".into()),
            person_id: Some(1),
            known: true,
            distance: Some(10.0),
            confidence: 80.0,
        };
        let mut snapshots = Snapshots::new(dir.path().join("Pictures"));
        snapshots.save(&image, &[face], true);
        let path = snapshots.done.recv_timeout(Duration::from_secs(10)).unwrap().unwrap();
        let written = cv::read_image(&path).unwrap();
        assert_eq!((written.cols(), written.rows()), (160, 120));
        // Mirrored: the box drawn at x = 160 - 10 - 50 = 100, so its left edge
        // is green and the original left edge is still black.
        let at = |x, y| *written.at_2d::<core::Vec3b>(y, x).unwrap();
        assert_ne!(at(100, 30), core::Vec3b::from([0, 0, 0]));
        assert_eq!(at(10, 30), core::Vec3b::from([0, 0, 0]));
    }
}
