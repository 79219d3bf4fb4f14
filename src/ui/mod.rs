//! The desktop window (egui/eframe), split the way egui's own apps are:
//! [`FacecamApp`] holds the persisted [`settings::AppSettings`] apart from
//! runtime handles (the pipeline, the people thread); each panel's `_ui`
//! function draws and returns [`AppCommand`]s, applied once per frame.

mod app;
mod file_picker;
mod job;
mod live;
mod people;
mod people_panel;
mod settings;
mod settings_panel;
mod snapshot;
mod view;

use std::path::PathBuf;

pub use app::FacecamApp;
pub use live::{CameraState, to_color_image};
pub use settings::{AppSettings, Resolution, Sensitivity, SourceChoice, Thresholds};
pub use view::{known_color, unknown_color};

use crate::capture::Source;
use crate::detect::DetectorParams;
use crate::recognizer::RecognizerKind;

/// Fixed for one run of the window: where things are, and what the
/// command line asked for.
#[derive(Debug, Clone)]
pub struct AppOptions {
    pub data_dir: PathBuf,
    /// The cascade, or why none was found (shown in the window).
    pub cascade: Result<PathBuf, String>,
    /// Live detection settings from the config; sensitivity adjusts them.
    pub detector: DetectorParams,
    /// Threshold from the config, used until the user moves the slider.
    pub config_threshold: f64,
    /// A source for this run only (`facecam gui --source video.avi`).
    pub source: Option<Source>,
    /// Where snapshots go (the user's pictures folder by default).
    pub snapshot_dir: PathBuf,
    /// Look for cameras in `/dev` at start (tests turn it off).
    pub probe_cameras: bool,
}

impl AppOptions {
    /// The pictures folder, else the home folder, else the data folder.
    pub fn default_snapshot_dir(data_dir: &std::path::Path) -> PathBuf {
        match directories::UserDirs::new() {
            Some(dirs) => dirs.picture_dir().map_or_else(|| dirs.home_dir().join("Pictures"), |p| p.to_owned()),
            None => data_dir.join("snapshots"),
        }
    }
}

/// Everything the UI asks for; the app applies them after drawing.
#[derive(Debug, Clone, PartialEq)]
pub enum AppCommand {
    SetSource(SourceChoice),
    /// Start the current source again (after "no camera" or an ended video).
    Restart,
    OpenFilePicker,
    RefreshCameras,
    SetResolution(Resolution),
    SetRecognizer(RecognizerKind),
    SetThreshold(f64),
    SetSensitivity(Sensitivity),
    SetMirror(bool),
    SetLoop(bool),
    SetEnrollSamples(usize),
    StartEnrollment {
        name: String,
    },
    CancelEnrollment,
    Rename {
        old: String,
        new: String,
    },
    Delete {
        name: String,
    },
    RetryGallery,
    TogglePause,
    Snapshot,
    ToggleFullscreen,
    TogglePeople,
    ToggleSettings,
    ToggleShortcuts,
    DismissNotice(u64),
    /// Esc: close the delete confirmation or the file dialog.
    CloseDialogs,
}

/// Opens the window and runs until it is closed.
pub fn run(options: AppOptions) -> eframe::Result {
    let icon = eframe::icon_data::from_png_bytes(include_bytes!("../../assets/facecam.png")).ok();
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("facecam")
        .with_app_id("facecam")
        .with_inner_size([1200.0, 760.0])
        .with_min_inner_size([640.0, 420.0]);
    if let Some(icon) = icon {
        viewport = viewport.with_icon(icon);
    }
    let native = eframe::NativeOptions {
        viewport,
        // Window state goes with the settings, not into the gallery folder.
        persistence_path: crate::paths::window_state_file(),
        ..Default::default()
    };
    eframe::run_native("facecam", native, Box::new(move |cc| Ok(Box::new(FacecamApp::new(cc, options)))))
}
