//! "Open video file…": a small in-window file browser, so opening a demo
//! video needs no desktop portal or toolkit beyond egui. Folders are read
//! on a helper thread: a slow disk or network folder never freezes the
//! window.

use std::path::{Path, PathBuf};

use super::job::{Job, JobState};

/// File endings offered as videos (image sequences are typed as patterns).
const VIDEO_EXTENSIONS: &[&str] = &["avi", "mp4", "mkv", "mov", "webm", "m4v", "mpg", "mpeg", "wmv", "ogv"];

pub fn is_video(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| VIDEO_EXTENSIONS.contains(&e.to_lowercase().as_str()))
}

/// A folder's entries as the picker lists them.
#[derive(Debug, Default)]
struct Listing {
    dirs: Vec<PathBuf>,
    videos: Vec<PathBuf>,
    error: Option<String>,
}

fn list(dir: &Path) -> Listing {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => return Listing { error: Some(format!("cannot list {}: {e}", dir.display())), ..Listing::default() },
    };
    let mut listing = Listing::default();
    for entry in entries.flatten() {
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if hidden {
            continue;
        }
        if path.is_dir() {
            listing.dirs.push(path);
        } else if is_video(&path) {
            listing.videos.push(path);
        }
    }
    listing.dirs.sort();
    listing.videos.sort();
    listing
}

/// The open dialog's state.
pub struct FilePicker {
    dir: PathBuf,
    typed: String,
    /// `None` while the folder is being read.
    listing: Option<Listing>,
    reading: Option<Job<Listing>>,
    error: Option<String>,
}

/// What the user did in the dialog this frame.
pub enum PickerOutcome {
    Open(PathBuf),
    Cancel,
}

impl FilePicker {
    /// Opens at `start`: a folder, or the folder of a file.
    pub fn new(start: PathBuf) -> Self {
        let dir = match start.extension() {
            Some(_) => start.parent().map(Path::to_owned).unwrap_or_default(),
            None => start,
        };
        let mut picker = Self { typed: String::new(), listing: None, reading: None, dir: PathBuf::new(), error: None };
        picker.enter(dir);
        picker
    }

    fn enter(&mut self, dir: PathBuf) {
        self.dir = dir.clone();
        self.listing = None;
        self.reading = match Job::spawn("facecam-files", move || list(&dir)) {
            Ok(job) => Some(job),
            Err(e) => {
                self.listing =
                    Some(Listing { error: Some(format!("cannot read the folder: {e}")), ..Listing::default() });
                None
            }
        };
    }

    /// Takes the folder listing if it has arrived.
    fn poll(&mut self) {
        let Some(reading) = &self.reading else { return };
        match reading.poll() {
            JobState::Running => return,
            JobState::Done(listing) => self.listing = Some(listing),
            JobState::Died => {
                self.listing = Some(Listing { error: Some("reading the folder failed".into()), ..Listing::default() });
            }
        }
        self.reading = None;
    }

    /// Checks a chosen path before it is handed to the camera code, so a
    /// typo is reported here rather than as a failed stream.
    fn choose(&mut self, path: PathBuf) -> Option<PickerOutcome> {
        let path = if path.is_relative() { self.dir.join(path) } else { path };
        let text = path.to_string_lossy();
        if path.is_file() || text.contains('%') {
            return Some(PickerOutcome::Open(path));
        }
        if path.is_dir() {
            self.enter(path);
            return None;
        }
        self.error =
            Some(format!("{} does not exist; pick a video file from the list or type its path", path.display()));
        None
    }

    /// Shows the dialog; `Some` once the user chose or cancelled.
    pub fn window_ui(&mut self, ctx: &egui::Context) -> Option<PickerOutcome> {
        self.poll();
        if self.reading.is_some() {
            ctx.request_repaint_after(std::time::Duration::from_millis(30));
        }
        let mut outcome = None;
        let mut open = true;
        egui::Window::new("Open video file")
            .open(&mut open)
            .collapsible(false)
            .default_size([520.0, 420.0])
            .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
            .show(ctx, |ui| outcome = self.contents_ui(ui));
        if !open {
            return Some(PickerOutcome::Cancel);
        }
        outcome
    }

    fn contents_ui(&mut self, ui: &mut egui::Ui) -> Option<PickerOutcome> {
        let mut outcome = None;
        ui.horizontal(|ui| {
            if ui.button("Up").on_hover_text("The parent folder").clicked()
                && let Some(parent) = self.dir.parent().map(Path::to_owned)
            {
                self.enter(parent);
            }
            ui.label(egui::RichText::new(self.dir.display().to_string()).monospace());
        });
        ui.separator();
        let mut clicked = None;
        egui::ScrollArea::vertical().max_height(260.0).auto_shrink([false, false]).show(ui, |ui| {
            let Some(listing) = &self.listing else {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Reading the folder…");
                });
                return;
            };
            if let Some(error) = &listing.error {
                ui.colored_label(ui.visuals().error_fg_color, error);
            }
            for dir in &listing.dirs {
                let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                if ui.selectable_label(false, format!("{name}/")).clicked() {
                    clicked = Some(dir.clone());
                }
            }
            for video in &listing.videos {
                let name = video.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                if ui.selectable_label(false, name).clicked() {
                    clicked = Some(video.clone());
                }
            }
            if listing.dirs.is_empty() && listing.videos.is_empty() && listing.error.is_none() {
                ui.weak("No folders or videos here.");
            }
        });
        if let Some(path) = clicked {
            outcome = self.choose(path);
        }
        ui.separator();
        ui.label("Or type a path (a video file, or an image sequence like frames/%04d.png):");
        let mut submit = false;
        ui.horizontal(|ui| {
            let edit = ui
                .add(egui::TextEdit::singleline(&mut self.typed).hint_text("/path/to/video.avi").desired_width(380.0));
            submit |= edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            submit |= ui.add_enabled(!self.typed.trim().is_empty(), egui::Button::new("Open")).clicked();
        });
        if submit {
            let typed = PathBuf::from(self.typed.trim());
            outcome = self.choose(typed);
        }
        if let Some(error) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
        ui.horizontal(|ui| {
            if ui.button("Cancel").clicked() {
                outcome = Some(PickerOutcome::Cancel);
            }
        });
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_folders_and_videos_only_and_rejects_missing_paths() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("clips")).unwrap();
        std::fs::write(dir.path().join("demo.AVI"), b"x").unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"x").unwrap();
        std::fs::write(dir.path().join(".hidden.mp4"), b"x").unwrap();
        let mut picker = FilePicker::new(dir.path().to_owned());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while picker.listing.is_none() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
            picker.poll();
        }
        let listing = picker.listing.as_ref().unwrap();
        assert_eq!(listing.dirs, vec![dir.path().join("clips")]);
        assert_eq!(listing.videos, vec![dir.path().join("demo.AVI")]);
        assert!(picker.choose(PathBuf::from("missing.avi")).is_none());
        assert!(picker.error.as_deref().is_some_and(|e| e.contains("does not exist")));
        assert!(matches!(picker.choose(PathBuf::from("demo.AVI")), Some(PickerOutcome::Open(p)) if p.is_file()));
        assert!(picker.choose(PathBuf::from("clips")).is_none());
        assert_eq!(picker.dir, dir.path().join("clips"));
    }
}
