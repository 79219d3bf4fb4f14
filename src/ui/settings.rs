//! What the window remembers between runs. Plain data, saved by eframe's
//! persistence; the pipeline and other runtime handles live elsewhere.

use std::ops::RangeInclusive;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::capture::Source;
use crate::detect::DetectorParams;
use crate::recognizer::RecognizerKind;

/// Most recently opened videos kept for the source menu.
pub const MAX_RECENT_VIDEOS: usize = 5;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppSettings {
    pub source: SourceChoice,
    pub resolution: Resolution,
    pub recognizer: RecognizerKind,
    pub thresholds: Thresholds,
    pub sensitivity: Sensitivity,
    /// Show the picture as a mirror, as people expect of a selfie camera.
    pub mirror: bool,
    /// Play video files again from the start when they end (demo mode).
    pub loop_video: bool,
    pub show_people: bool,
    pub show_settings: bool,
    /// Samples one enrollment collects.
    pub enroll_samples: usize,
    pub recent_videos: Vec<PathBuf>,
}

impl Default for AppSettings {
    fn default() -> Self {
        Self {
            source: SourceChoice::Camera(0),
            resolution: Resolution::CameraDefault,
            recognizer: RecognizerKind::Lbph,
            thresholds: Thresholds::default(),
            sensitivity: Sensitivity::Balanced,
            mirror: true,
            loop_video: true,
            show_people: true,
            show_settings: false,
            enroll_samples: 20,
            recent_videos: Vec::new(),
        }
    }
}

impl AppSettings {
    /// The threshold of the chosen recognizer.
    pub fn threshold(&self) -> f64 {
        self.thresholds.get(self.recognizer)
    }

    /// Remembers a video at the top of the recent list.
    pub fn remember_video(&mut self, path: PathBuf) {
        self.recent_videos.retain(|p| *p != path);
        self.recent_videos.insert(0, path);
        self.recent_videos.truncate(MAX_RECENT_VIDEOS);
    }
}

/// Where the picture comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SourceChoice {
    Camera(i32),
    Device(PathBuf),
    Video(PathBuf),
}

impl SourceChoice {
    pub fn to_source(&self) -> Source {
        match self {
            Self::Camera(i) => Source::Camera(*i),
            Self::Device(p) => Source::Device(p.clone()),
            Self::Video(p) => Source::File(p.clone()),
        }
    }

    pub fn from_source(source: &Source) -> Self {
        match source {
            Source::Camera(i) => Self::Camera(*i),
            Source::Device(p) => Self::Device(p.clone()),
            Source::File(p) => Self::Video(p.clone()),
        }
    }

    pub fn is_camera(&self) -> bool {
        !matches!(self, Self::Video(_))
    }

    /// Short text for menus and the status bar.
    pub fn label(&self) -> String {
        match self {
            Self::Camera(i) => format!("Camera {i}"),
            Self::Device(p) => p.display().to_string(),
            Self::Video(p) => p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into()),
        }
    }
}

/// Camera picture size to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Resolution {
    CameraDefault,
    Vga,
    Hd,
    FullHd,
}

impl Resolution {
    pub const ALL: [Self; 4] = [Self::CameraDefault, Self::Vga, Self::Hd, Self::FullHd];

    pub fn size(self) -> Option<(u32, u32)> {
        match self {
            Self::CameraDefault => None,
            Self::Vga => Some((640, 480)),
            Self::Hd => Some((1280, 720)),
            Self::FullHd => Some((1920, 1080)),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::CameraDefault => "Camera default",
            Self::Vga => "640 × 480",
            Self::Hd => "1280 × 720",
            Self::FullHd => "1920 × 1080",
        }
    }
}

/// The "unknown" threshold of each recognizer, each on its own distance
/// scale, so switching recognizers keeps what the user chose for each.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Thresholds {
    pub lbph: f64,
    pub eigen: f64,
    pub fisher: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            lbph: RecognizerKind::Lbph.default_threshold(),
            eigen: RecognizerKind::Eigen.default_threshold(),
            fisher: RecognizerKind::Fisher.default_threshold(),
        }
    }
}

impl Thresholds {
    pub fn get(&self, kind: RecognizerKind) -> f64 {
        match kind {
            RecognizerKind::Lbph => self.lbph,
            RecognizerKind::Eigen => self.eigen,
            RecognizerKind::Fisher => self.fisher,
        }
    }

    pub fn set(&mut self, kind: RecognizerKind, value: f64) {
        let value = value.clamp(*Self::range(kind).start(), *Self::range(kind).end());
        match kind {
            RecognizerKind::Lbph => self.lbph = value,
            RecognizerKind::Eigen => self.eigen = value,
            RecognizerKind::Fisher => self.fisher = value,
        }
    }

    /// The slider's range for each kind: from "almost nobody is known" to
    /// "almost anybody is".
    pub fn range(kind: RecognizerKind) -> RangeInclusive<f64> {
        match kind {
            RecognizerKind::Lbph => 5.0..=100.0,
            RecognizerKind::Eigen => 500.0..=10_000.0,
            RecognizerKind::Fisher => 200.0..=6_000.0,
        }
    }
}

/// How readily the detector reports a face.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sensitivity {
    /// Fewer false faces in busy backgrounds; may miss some real ones.
    Strict,
    Balanced,
    /// Finds more faces (turned heads, poor light); more false boxes.
    Sensitive,
}

impl Sensitivity {
    pub const ALL: [Self; 3] = [Self::Strict, Self::Balanced, Self::Sensitive];

    /// The detector settings for this sensitivity, from the configured ones.
    pub fn apply(self, base: DetectorParams) -> DetectorParams {
        let min_neighbors = match self {
            Self::Strict => base.min_neighbors + 3,
            Self::Balanced => base.min_neighbors,
            Self::Sensitive => (base.min_neighbors - 2).max(1),
        };
        DetectorParams { min_neighbors, ..base }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Strict => "Strict",
            Self::Balanced => "Balanced",
            Self::Sensitive => "Sensitive",
        }
    }

    pub fn explanation(self) -> &'static str {
        match self {
            Self::Strict => "fewer false faces, may miss some",
            Self::Balanced => "the default",
            Self::Sensitive => "finds more faces, more false boxes",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_survive_a_round_trip_and_old_files_fill_in_defaults() {
        let mut settings = AppSettings { mirror: false, ..AppSettings::default() };
        settings.thresholds.set(RecognizerKind::Eigen, 4200.0);
        settings.remember_video(PathBuf::from("/videos/demo.avi"));
        let text = serde_json::to_string(&settings).unwrap();
        assert_eq!(serde_json::from_str::<AppSettings>(&text).unwrap(), settings);
        let partial: AppSettings = serde_json::from_str(r#"{"mirror": false}"#).unwrap();
        assert_eq!(partial, AppSettings { mirror: false, ..AppSettings::default() });
    }

    #[test]
    fn thresholds_are_kept_per_recognizer_and_clamped_to_the_slider() {
        let mut t = Thresholds::default();
        t.set(RecognizerKind::Lbph, 1e9);
        assert_eq!(t.get(RecognizerKind::Lbph), 100.0);
        assert_eq!(t.get(RecognizerKind::Fisher), RecognizerKind::Fisher.default_threshold());
    }

    #[test]
    fn sensitivity_moves_min_neighbors_and_stays_valid() {
        let base = DetectorParams::live();
        assert!(Sensitivity::Strict.apply(base).min_neighbors > base.min_neighbors);
        assert!(Sensitivity::Sensitive.apply(base).min_neighbors < base.min_neighbors);
        for s in Sensitivity::ALL {
            s.apply(base).validate().unwrap();
        }
    }

    #[test]
    fn recent_videos_are_unique_newest_first_and_bounded() {
        let mut s = AppSettings::default();
        for i in 0..8 {
            s.remember_video(PathBuf::from(format!("{i}.avi")));
        }
        s.remember_video(PathBuf::from("5.avi"));
        assert_eq!(s.recent_videos.len(), MAX_RECENT_VIDEOS);
        assert_eq!(s.recent_videos[0], PathBuf::from("5.avi"));
        assert_eq!(s.recent_videos.iter().filter(|p| p.as_path() == std::path::Path::new("5.avi")).count(), 1);
    }
}
