//! User settings read from `config.toml`; every field has a default so an
//! absent file or section means "use the defaults".

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::detect::DetectorParams;
use crate::recognizer::RecognizerParams;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Haar cascade file to use instead of the shipped one.
    pub cascade: Option<PathBuf>,
    /// Detection in live video (cameras, video files).
    pub detector: DetectorParams,
    /// Detection in still photos (enroll, import, identify, eval).
    pub photo_detector: DetectorParams,
    pub recognizer: RecognizerParams,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            cascade: None,
            detector: DetectorParams::live(),
            photo_detector: DetectorParams::photo(),
            recognizer: RecognizerParams::default(),
        }
    }
}

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("config file {path} is not valid: {message}\nFix the file, or move it away to use the defaults")]
    Invalid { path: PathBuf, message: String },
}

impl Config {
    /// Reads the config at `path`. A missing file gives the defaults unless
    /// `required` (the user named the file explicitly).
    pub fn load(path: &Path, required: bool) -> Result<Self, ConfigError> {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound && !required => return Ok(Self::default()),
            Err(source) => return Err(ConfigError::Io { path: path.to_owned(), source }),
        };
        let config: Self = toml::from_str(&text)
            .map_err(|e| ConfigError::Invalid { path: path.to_owned(), message: e.to_string() })?;
        config.validate().map_err(|message| ConfigError::Invalid { path: path.to_owned(), message })?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        self.detector.validate()?;
        self.photo_detector.validate().map_err(|e| e.replace("detector.", "photo_detector."))?;
        self.recognizer.validate()
    }
}
