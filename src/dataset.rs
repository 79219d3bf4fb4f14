//! Finding images on disk: the paths users pass to `enroll`/`identify`, and
//! dataset folders laid out one sub-folder per person (`data/s1/1.pgm`, ...).

use std::cmp::Ordering;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// File endings OpenCV's imgcodecs reads on every platform we ship to.
pub const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "pgm", "ppm", "pbm", "pnm", "bmp", "tif", "tiff", "webp"];

/// A dataset that could not be read as a whole.
#[derive(Debug, Error)]
pub enum DatasetError {
    #[error("cannot read dataset folder {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{0} has no person folders with images; expected one sub-folder per person, e.g. {0}/alice/1.png")]
    Empty(PathBuf),
}

/// A path given by the user that we will not read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

/// One person's folder in a dataset.
#[derive(Debug, Clone)]
pub struct PersonImages {
    /// The folder name, used as the person's name.
    pub name: String,
    /// Image files in natural order (`2.pgm` before `10.pgm`).
    pub images: Vec<PathBuf>,
}

/// Compares file names so that runs of digits compare as numbers.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a, b);
    loop {
        match (a.chars().next(), b.chars().next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let da = a.len() - a.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                let db = b.len() - b.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                let (na, nb) = (&a[..da], &b[..db]);
                let (ta, tb) = (na.trim_start_matches('0'), nb.trim_start_matches('0'));
                let ord = ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb)).then(da.cmp(&db));
                if ord != Ordering::Equal {
                    return ord;
                }
                a = &a[da..];
                b = &b[db..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(&y);
                }
                a = &a[x.len_utf8()..];
                b = &b[y.len_utf8()..];
            }
        }
    }
}

fn file_name_str(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Whether the path's ending is one we treat as an image.
pub fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Image files directly inside `dir`, in natural order. Hidden files are
/// ignored; other non-image files are returned as skipped.
fn images_in_dir(dir: &Path) -> io::Result<(Vec<PathBuf>, Vec<Skipped>)> {
    let mut images = Vec::new();
    let mut skipped = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let name = file_name_str(&path);
        if name.starts_with('.') || path.is_dir() {
            continue;
        }
        if has_image_extension(&path) {
            images.push(path);
        } else {
            skipped.push(Skipped {
                path,
                reason: format!("not an image file (expected one of: {})", IMAGE_EXTENSIONS.join(", ")),
            });
        }
    }
    images.sort_by(|a, b| natural_cmp(&file_name_str(a), &file_name_str(b)));
    Ok((images, skipped))
}

/// Expands the paths a user typed: files are kept in the given order, folders
/// are replaced by the images inside them. Paths that do not exist or are not
/// images are returned as skipped with the reason.
pub fn expand_image_paths(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Skipped>) {
    let mut images = Vec::new();
    let mut skipped = Vec::new();
    for path in paths {
        match fs::metadata(path) {
            Err(e) => skipped.push(Skipped {
                path: path.clone(),
                reason: if e.kind() == io::ErrorKind::NotFound {
                    "no such file or folder".to_owned()
                } else {
                    format!("cannot read: {e}")
                },
            }),
            Ok(meta) if meta.is_dir() => match images_in_dir(path) {
                Ok((found, skip)) => {
                    if found.is_empty() && skip.is_empty() {
                        skipped.push(Skipped { path: path.clone(), reason: "folder has no images".to_owned() });
                    }
                    images.extend(found);
                    skipped.extend(skip);
                }
                Err(e) => skipped.push(Skipped { path: path.clone(), reason: format!("cannot list folder: {e}") }),
            },
            Ok(_) => images.push(path.clone()),
        }
    }
    (images, skipped)
}

/// Reads a dataset laid out as one folder per person, people in natural
/// order of their folder names.
pub fn read_person_folders(root: &Path) -> Result<(Vec<PersonImages>, Vec<Skipped>), DatasetError> {
    let io_err = |source| DatasetError::Io { path: root.to_owned(), source };
    let mut people = Vec::new();
    let mut skipped = Vec::new();
    for entry in fs::read_dir(root).map_err(io_err)? {
        let path = entry.map_err(io_err)?.path();
        if !path.is_dir() || file_name_str(&path).starts_with('.') {
            continue;
        }
        let (images, skip) = images_in_dir(&path).map_err(|source| DatasetError::Io { path: path.clone(), source })?;
        skipped.extend(skip);
        if images.is_empty() {
            skipped.push(Skipped { path, reason: "person folder has no images".to_owned() });
            continue;
        }
        people.push(PersonImages { name: file_name_str(&path), images });
    }
    if people.is_empty() {
        return Err(DatasetError::Empty(root.to_owned()));
    }
    people.sort_by(|a, b| natural_cmp(&a.name, &b.name));
    Ok((people, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_sorts_numbers_as_numbers() {
        let mut v = vec!["10.pgm", "2.pgm", "1.pgm", "s10", "s9", "a", "img002", "img1"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, ["1.pgm", "2.pgm", "10.pgm", "a", "img1", "img002", "s9", "s10"]);
    }

    #[test]
    fn expand_reports_missing_and_non_images() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("10.png"), b"x").unwrap();
        fs::write(dir.path().join("2.png"), b"x").unwrap();
        fs::write(dir.path().join("notes.txt"), b"x").unwrap();
        let missing = dir.path().join("nope.png");
        let (images, skipped) = expand_image_paths(&[dir.path().to_owned(), missing.clone()]);
        let names: Vec<_> = images.iter().map(|p| file_name_str(p)).collect();
        assert_eq!(names, ["2.png", "10.png"]);
        assert_eq!(skipped.len(), 2);
        assert!(skipped.iter().any(|s| s.path == missing && s.reason.contains("no such file")));
        assert!(skipped.iter().any(|s| s.reason.contains("not an image")));
    }
}
