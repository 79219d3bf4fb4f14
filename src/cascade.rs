//! Locating the Haar cascade file.
//!
//! The order is the user's most explicit wish first: `--cascade`, then the
//! config file, then the copy we ship in `cascades/`, then the system's.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// File name of the frontal face cascade we ship and look for.
pub const FACE_CASCADE_FILE: &str = "haarcascade_frontalface_default.xml";

/// System folders where OpenCV's data packages install cascades.
const SYSTEM_CASCADE_DIRS: &[&str] = &["/usr/share/opencv4/haarcascades", "/usr/local/share/opencv4/haarcascades"];

#[derive(Debug, Error)]
pub enum CascadeError {
    #[error(
        "no face cascade found; looked in:\n{}\nInstall it (Debian/Ubuntu: `sudo apt-get install opencv-data`) or pass --cascade PATH",
        .looked.iter().map(|p| format!("  {}", p.display())).collect::<Vec<_>>().join("\n")
    )]
    NotFound { looked: Vec<PathBuf> },
    #[error("the cascade file {path} cannot be used: {reason}; pass --cascade with a valid OpenCV Haar cascade XML")]
    Unreadable { path: PathBuf, reason: String },
}

/// Where a cascade may be, in the order they are tried.
pub fn candidate_paths(flag: Option<&Path>, config: Option<&Path>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    out.extend(flag.map(Path::to_owned));
    out.extend(config.map(Path::to_owned));
    if let Some(exe_dir) = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_owned)) {
        out.push(exe_dir.join("cascades").join(FACE_CASCADE_FILE));
        // Installed layout: bin/facecam with share/facecam/cascades.
        out.push(exe_dir.join("../share/facecam/cascades").join(FACE_CASCADE_FILE));
    }
    out.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("cascades").join(FACE_CASCADE_FILE));
    out.extend(SYSTEM_CASCADE_DIRS.iter().map(|d| Path::new(d).join(FACE_CASCADE_FILE)));
    out
}

/// Finds the cascade to load. An explicitly given path (flag or config) that
/// does not exist is an error of its own rather than silently falling back.
pub fn locate(flag: Option<&Path>, config: Option<&Path>) -> Result<PathBuf, CascadeError> {
    if let Some(explicit) = flag.or(config) {
        if !explicit.is_file() {
            return Err(CascadeError::NotFound { looked: vec![explicit.to_owned()] });
        }
        return Ok(explicit.to_owned());
    }
    let looked = candidate_paths(None, None);
    looked.iter().find(|p| p.is_file()).cloned().ok_or(CascadeError::NotFound { looked })
}
