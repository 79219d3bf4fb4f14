//! Where facecam keeps its files on this machine.

use std::path::PathBuf;

use directories::ProjectDirs;
use thiserror::Error;

/// Environment variable that overrides the data folder (same as `--data-dir`).
pub const DATA_DIR_ENV: &str = "FACECAM_DATA_DIR";

#[derive(Debug, Error)]
#[error("cannot find a home folder to keep facecam's data in; pass --data-dir PATH or set {DATA_DIR_ENV}")]
pub struct NoHomeDir;

fn project_dirs() -> Option<ProjectDirs> {
    ProjectDirs::from("org", "facecam", "facecam")
}

/// The gallery folder: the override if given, else the platform data dir
/// (`~/.local/share/facecam` on Linux).
pub fn data_dir(override_dir: Option<PathBuf>) -> Result<PathBuf, NoHomeDir> {
    match override_dir {
        Some(dir) => Ok(dir),
        None => project_dirs().map(|d| d.data_dir().to_owned()).ok_or(NoHomeDir),
    }
}

/// The default config file (`~/.config/facecam/config.toml` on Linux).
pub fn default_config_file() -> Option<PathBuf> {
    project_dirs().map(|d| d.config_dir().join("config.toml"))
}

/// Window size, position and the window's settings
/// (`~/.config/facecam/window.ron` on Linux).
pub fn window_state_file() -> Option<PathBuf> {
    project_dirs().map(|d| d.config_dir().join("window.ron"))
}
