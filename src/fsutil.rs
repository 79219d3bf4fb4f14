//! Owner-only, crash-safe file writes for the face gallery.
//!
//! Face data is biometric: every folder we create is 0700 and every file
//! 0600, and a file is replaced only by a complete new copy (temp file,
//! fsync, rename, fsync of the folder) so a crash never leaves half a file.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Mode of every folder the gallery creates.
pub const DIR_MODE: u32 = 0o700;
/// Mode of every file the gallery creates.
pub const FILE_MODE: u32 = 0o600;
/// Suffix of temp files; leftovers from a crash are swept on open.
pub const TEMP_SUFFIX: &str = ".facecam-tmp";

/// Creates `dir` and its missing parents as owner-only folders, and makes an
/// existing `dir` owner-only too.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let existed = dir.is_dir();
    DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)?;
    if !existed && let Some(parent) = dir.parent() {
        // The new folder's entry must survive a power cut like the files in it.
        let _ = sync_dir(parent);
    }
    let mode = fs::metadata(dir)?.permissions().mode() & 0o777;
    if mode != DIR_MODE {
        fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE))?;
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically with owner-only permissions.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let file_name =
        path.file_name().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    let mut tmp_name = file_name.to_os_string();
    tmp_name.push(format!(".{}{TEMP_SUFFIX}", std::process::id()));
    let tmp = dir.join(tmp_name);
    let result = (|| {
        let mut file = OpenOptions::new().write(true).create(true).truncate(true).mode(FILE_MODE).open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)?;
        // The new content is in place; a folder that cannot be synced (some
        // file systems refuse) must not turn that into a failure.
        if let Err(e) = sync_dir(dir) {
            tracing::debug!("could not sync {}: {e}", dir.display());
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Flushes a folder's entries so a rename in it survives a power cut.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Whether a file name is one of our leftover temp files.
pub fn is_temp_file(name: &str) -> bool {
    name.ends_with(TEMP_SUFFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_is_owner_only_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a/b");
        create_private_dir(&sub).unwrap();
        assert_eq!(fs::metadata(&sub).unwrap().permissions().mode() & 0o777, DIR_MODE);
        let file = sub.join("x.json");
        write_atomic(&file, b"one").unwrap();
        write_atomic(&file, b"two").unwrap();
        assert_eq!(fs::read(&file).unwrap(), b"two");
        assert_eq!(fs::metadata(&file).unwrap().permissions().mode() & 0o777, FILE_MODE);
        let names: Vec<_> = fs::read_dir(&sub).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "no temp file left behind: {names:?}");
    }
}
