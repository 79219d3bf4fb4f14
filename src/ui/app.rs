//! The app: persisted settings, runtime handles, and applying the commands
//! the panels return, once per frame.

use std::time::{Duration, Instant};

use super::file_picker::{FilePicker, PickerOutcome, is_video};
use super::job::{Job, JobState};
use super::live::{LiveConfig, LiveEvent, LiveView, StartOptions};
use super::people::PersonCard;
use super::people_panel::{PeopleEvent, PeoplePanel};
use super::settings::{AppSettings, SourceChoice};
use super::snapshot::Snapshots;
use super::{AppCommand, AppOptions, settings_panel, view};
use crate::capture::{self, CameraInfo};
use crate::names;
use crate::recognizer::RecognizerKind;
use crate::worker::{Command, EnrollmentOutcome, EnrollmentStatus, FaceReport, Notify};

/// Samples per enrollment the settings allow.
pub const MIN_ENROLL_SAMPLES: usize = 5;
pub const MAX_ENROLL_SAMPLES: usize = 100;

/// How long an information notice stays up; errors stay until dismissed.
const NOTICE_SECS: f64 = 8.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    Info,
    Warning,
    Error,
}

#[derive(Debug, Clone)]
pub struct Notice {
    pub id: u64,
    pub kind: NoticeKind,
    pub text: String,
    pub at: Instant,
}

/// Messages for the user, newest last.
#[derive(Debug, Default)]
pub struct Notices {
    next_id: u64,
    pub items: Vec<Notice>,
}

impl Notices {
    pub fn push(&mut self, kind: NoticeKind, text: impl Into<String>) {
        let text = text.into();
        match kind {
            NoticeKind::Error => tracing::error!("{text}"),
            NoticeKind::Warning => tracing::warn!("{text}"),
            NoticeKind::Info => tracing::info!("{text}"),
        }
        // The same problem every frame (a bad frame, say) shows once.
        if let Some(old) = self.items.iter_mut().find(|n| n.text == text) {
            old.at = Instant::now();
            return;
        }
        self.next_id += 1;
        self.items.push(Notice { id: self.next_id, kind, text, at: Instant::now() });
        if self.items.len() > 5 {
            self.items.remove(0);
        }
    }

    fn expire(&mut self) {
        self.items.retain(|n| n.kind == NoticeKind::Error || n.at.elapsed().as_secs_f64() < NOTICE_SECS);
    }
}

/// Lists the cameras in `/dev` on a helper thread: opening a device can
/// take a while.
fn probe_cameras() -> Option<Job<Vec<CameraInfo>>> {
    Job::spawn("facecam-cameras", capture::list_cameras).ok()
}

/// The facecam window.
pub struct FacecamApp {
    /// Saved between runs.
    settings: AppSettings,
    options: AppOptions,
    /// The source playing now: the saved one, or `--source` for this run.
    source: SourceChoice,
    // Runtime state, rebuilt at every start.
    live: LiveView,
    people: PeoplePanel,
    snapshots: Snapshots,
    notices: Notices,
    picker: Option<FilePicker>,
    cameras: Option<Vec<CameraInfo>>,
    camera_probe: Option<Job<Vec<CameraInfo>>>,
    show_shortcuts: bool,
    fullscreen: bool,
}

/// The key under which the settings are saved.
const SETTINGS_KEY: &str = "facecam-settings";

impl FacecamApp {
    pub fn new(cc: &eframe::CreationContext<'_>, options: AppOptions) -> Self {
        let saved: Option<AppSettings> = cc.storage.and_then(|s| eframe::get_value(s, SETTINGS_KEY));
        let settings = saved.unwrap_or_else(|| {
            let mut s = AppSettings::default();
            s.thresholds.lbph = options.config_threshold;
            s
        });
        Self::with_settings(&cc.egui_ctx, options, settings)
    }

    /// The app with given settings (what `new` does after reading storage).
    pub fn with_settings(ctx: &egui::Context, options: AppOptions, mut settings: AppSettings) -> Self {
        // Saved settings may come from an older or hand-edited file.
        settings.enroll_samples = settings.enroll_samples.clamp(MIN_ENROLL_SAMPLES, MAX_ENROLL_SAMPLES);
        let thresholds = settings.thresholds;
        for kind in [RecognizerKind::Lbph, RecognizerKind::Eigen, RecognizerKind::Fisher] {
            let t = thresholds.get(kind);
            settings.thresholds.set(kind, if t.is_finite() { t } else { kind.default_threshold() });
        }
        let source = options.source.as_ref().map_or_else(|| settings.source.clone(), SourceChoice::from_source);
        let mut notices = Notices::default();
        let people = PeoplePanel::start(options.data_dir.clone(), &mut notices);
        let waker = ctx.clone();
        let live = LiveView::new(LiveConfig {
            cascade: options.cascade.clone(),
            repaint: Notify::new(move || waker.request_repaint()),
            data_dir: options.data_dir.clone(),
        });
        let mut app = Self {
            snapshots: Snapshots::new(options.snapshot_dir.clone()),
            camera_probe: if options.probe_cameras { probe_cameras() } else { None },
            settings,
            options,
            source,
            live,
            people,
            notices,
            picker: None,
            cameras: None,
            show_shortcuts: false,
            fullscreen: false,
        };
        app.start_source();
        ctx.request_repaint();
        app
    }

    // Read-only views, for tests and for the panels.

    pub fn settings(&self) -> &AppSettings {
        &self.settings
    }

    pub fn camera_state(&self) -> &super::CameraState {
        &self.live.camera
    }

    /// The faces on screen now.
    pub fn shown_faces(&self) -> &[FaceReport] {
        self.live.frame.as_ref().map_or(&[], |f| &f.faces)
    }

    pub fn people(&self) -> &[PersonCard] {
        &self.people.cards
    }

    pub fn enrollment(&self) -> Option<&EnrollmentStatus> {
        self.live.enrollment.as_ref()
    }

    pub fn notices(&self) -> impl Iterator<Item = &str> {
        self.notices.items.iter().map(|n| n.text.as_str())
    }

    pub fn is_paused(&self) -> bool {
        self.live.paused
    }

    fn start_source(&mut self) {
        let s = &self.settings;
        let cancelled = self.live.start(StartOptions {
            source: self.source.to_source(),
            size: s.resolution.size(),
            looping: s.loop_video,
            detector: s.sensitivity.apply(self.options.detector),
            recognizer: s.recognizer,
            threshold: s.threshold(),
            enroll_samples: s.enroll_samples,
        });
        if let Some(name) = cancelled {
            self.notices.push(
                NoticeKind::Warning,
                format!("Enrollment of {name} stopped: the source changed; nothing was saved"),
            );
        }
    }

    /// Reads what the background threads produced since the last frame.
    fn poll(&mut self, ctx: &egui::Context) {
        for event in self.live.poll(ctx) {
            match event {
                LiveEvent::EnrollmentEnded(outcome) => self.enrollment_ended(outcome),
                LiveEvent::GalleryLoaded { warning: Some(w), .. } => self.notices.push(NoticeKind::Warning, w),
                LiveEvent::GalleryLoaded { .. } => {}
                LiveEvent::Problem(message) => self.notices.push(NoticeKind::Warning, message),
            }
        }
        for event in self.people.poll(ctx) {
            match event {
                PeopleEvent::Changed(message) => {
                    self.notices.push(NoticeKind::Info, message);
                    self.live.send(Command::ReloadGallery);
                }
                PeopleEvent::Failed(message) => self.notices.push(NoticeKind::Error, message),
            }
        }
        while let Ok(result) = self.snapshots.done.try_recv() {
            match result {
                Ok(path) => self.notices.push(NoticeKind::Info, format!("Snapshot saved to {}", path.display())),
                Err(message) => self.notices.push(NoticeKind::Error, format!("The snapshot was not saved: {message}")),
            }
        }
        if let Some(probe) = &self.camera_probe {
            match probe.poll() {
                JobState::Done(found) => {
                    self.cameras = Some(found);
                    self.camera_probe = None;
                }
                JobState::Running => {}
                JobState::Died => {
                    self.cameras = Some(Vec::new());
                    self.camera_probe = None;
                    self.notices.push(NoticeKind::Warning, "Looking for cameras failed; pick camera 0 or a video");
                }
            }
        }
        self.notices.expire();
    }

    fn enrollment_ended(&mut self, outcome: EnrollmentOutcome) {
        match outcome {
            EnrollmentOutcome::Done { name, added, samples, .. } => {
                let more = if added == samples { String::new() } else { format!(" ({samples} in all)") };
                self.notices.push(
                    NoticeKind::Info,
                    format!("{name} is enrolled with {added} new samples{more} and is recognized from now on"),
                );
                self.people.enrollment_done();
            }
            EnrollmentOutcome::Cancelled { name } => {
                self.notices.push(NoticeKind::Info, format!("Enrollment of {name} cancelled; nothing was saved"));
            }
            EnrollmentOutcome::Failed { name, message } => {
                self.notices.push(NoticeKind::Error, format!("Enrolling {name} failed: {message}"));
            }
        }
    }

    /// Keyboard shortcuts; letters only while no text field has focus.
    fn shortcuts(&self, ctx: &egui::Context, commands: &mut Vec<AppCommand>) {
        let typing = ctx.text_edit_focused();
        ctx.input_mut(|i| {
            if i.consume_key(egui::Modifiers::NONE, egui::Key::F11) {
                commands.push(AppCommand::ToggleFullscreen);
            }
            if i.consume_key(egui::Modifiers::NONE, egui::Key::F1) {
                commands.push(AppCommand::ToggleShortcuts);
            }
            if i.consume_key(egui::Modifiers::COMMAND, egui::Key::O) {
                commands.push(AppCommand::OpenFilePicker);
            }
            if !typing {
                if i.consume_key(egui::Modifiers::NONE, egui::Key::Space) {
                    commands.push(AppCommand::TogglePause);
                }
                if i.consume_key(egui::Modifiers::NONE, egui::Key::S) {
                    commands.push(AppCommand::Snapshot);
                }
                if i.consume_key(egui::Modifiers::NONE, egui::Key::F) {
                    commands.push(AppCommand::ToggleFullscreen);
                }
                if i.consume_key(egui::Modifiers::NONE, egui::Key::M) {
                    commands.push(AppCommand::SetMirror(!self.settings.mirror));
                }
            }
            if i.consume_key(egui::Modifiers::NONE, egui::Key::Escape) {
                // The innermost thing first: a dialog, then an enrollment.
                if self.people.is_confirming() || self.picker.is_some() {
                    commands.push(AppCommand::CloseDialogs);
                } else if self.live.enrollment.is_some() {
                    commands.push(AppCommand::CancelEnrollment);
                } else if self.fullscreen {
                    commands.push(AppCommand::ToggleFullscreen);
                } else if self.show_shortcuts {
                    commands.push(AppCommand::ToggleShortcuts);
                }
            }
        });
    }

    fn apply(&mut self, ctx: &egui::Context, command: AppCommand) {
        match command {
            AppCommand::SetSource(source) => {
                if let SourceChoice::Video(path) = &source {
                    self.settings.remember_video(path.clone());
                }
                self.settings.source = source.clone();
                self.source = source;
                self.live.paused = false;
                self.start_source();
            }
            AppCommand::Restart => {
                self.live.paused = false;
                self.start_source();
            }
            AppCommand::OpenFilePicker => {
                let start = match &self.source {
                    SourceChoice::Video(p) => p.clone(),
                    _ => std::env::current_dir().unwrap_or_default(),
                };
                self.picker = Some(FilePicker::new(start));
            }
            AppCommand::RefreshCameras => {
                if self.camera_probe.is_none() {
                    self.camera_probe = probe_cameras();
                }
            }
            AppCommand::SetResolution(resolution) => {
                if self.settings.resolution != resolution {
                    self.settings.resolution = resolution;
                    if self.source.is_camera() {
                        self.start_source();
                    }
                }
            }
            AppCommand::SetRecognizer(kind) => {
                self.settings.recognizer = kind;
                let threshold = self.settings.threshold();
                self.live.send(Command::SetRecognizer { kind, threshold });
            }
            AppCommand::SetThreshold(value) => {
                self.settings.thresholds.set(self.settings.recognizer, value);
                self.live.send(Command::SetThreshold(self.settings.threshold()));
            }
            AppCommand::SetSensitivity(sensitivity) => {
                self.settings.sensitivity = sensitivity;
                self.live.send(Command::SetDetector(sensitivity.apply(self.options.detector)));
            }
            AppCommand::SetMirror(mirror) => self.settings.mirror = mirror,
            AppCommand::SetLoop(looping) => {
                self.settings.loop_video = looping;
                if !self.source.is_camera() && !self.live.is_running() {
                    self.start_source();
                } else if !self.source.is_camera() {
                    self.notices.push(NoticeKind::Info, "Looping applies the next time the video starts");
                }
            }
            AppCommand::SetEnrollSamples(n) => {
                self.settings.enroll_samples = n.clamp(MIN_ENROLL_SAMPLES, MAX_ENROLL_SAMPLES);
            }
            AppCommand::StartEnrollment { name } => self.start_enrollment(&name),
            AppCommand::CancelEnrollment => {
                self.live.send(Command::CancelEnrollment);
            }
            AppCommand::Rename { old, new } => self.people.rename(old, new),
            AppCommand::Delete { name } => self.people.delete(name),
            AppCommand::RetryGallery => {
                self.people.refresh();
                self.live.send(Command::ReloadGallery);
            }
            // Samples must come from what the person sees, so no pausing then.
            AppCommand::TogglePause if self.live.enrollment.is_some() => {
                self.notices.push(NoticeKind::Info, "Pause is off while enrolling; cancel the enrollment first");
            }
            AppCommand::TogglePause => self.live.paused = !self.live.paused,
            AppCommand::Snapshot => match &self.live.frame {
                Some(frame) => self.snapshots.save(&frame.image, &frame.faces, self.settings.mirror),
                None => self.notices.push(NoticeKind::Warning, "Nothing to snapshot yet: no picture is showing"),
            },
            AppCommand::ToggleFullscreen => {
                self.fullscreen = !self.fullscreen;
                ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(self.fullscreen));
            }
            AppCommand::TogglePeople => self.settings.show_people = !self.settings.show_people,
            AppCommand::ToggleSettings => self.settings.show_settings = !self.settings.show_settings,
            AppCommand::ToggleShortcuts => self.show_shortcuts = !self.show_shortcuts,
            AppCommand::DismissNotice(id) => self.notices.items.retain(|n| n.id != id),
            AppCommand::CloseDialogs => {
                self.people.cancel_confirm();
                self.picker = None;
            }
        }
    }

    fn start_enrollment(&mut self, raw: &str) {
        let name = match names::validate_name(raw) {
            Ok(name) => name,
            Err(e) => {
                self.people.enroll_error = Some(e.to_string());
                return;
            }
        };
        if self.live.enrollment.is_some() {
            self.people.enroll_error = Some("An enrollment is already running; finish or cancel it first".into());
            return;
        }
        if !self.live.camera.is_live() {
            self.people.enroll_error =
                Some("Enrollment needs a picture: connect a camera or open a video file first".into());
            return;
        }
        self.live.start_enrollment(name, self.settings.enroll_samples);
        self.live.paused = false;
        self.people.enroll_error = None;
    }

    /// Files dropped onto the window: a video plays.
    fn dropped_files(&self, ctx: &egui::Context, commands: &mut Vec<AppCommand>) {
        let dropped: Vec<std::path::PathBuf> =
            ctx.input(|i| i.raw.dropped_files.iter().map(|f| f.path().to_owned()).collect());
        if let Some(path) = dropped.into_iter().find(|p| is_video(p)) {
            commands.push(AppCommand::SetSource(SourceChoice::Video(path)));
        }
    }

    fn top_bar_ui(&self, ui: &mut egui::Ui, commands: &mut Vec<AppCommand>) {
        egui::Panel::top("top-bar").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.heading("facecam");
                ui.separator();
                let choices = view::source_choices(&self.source, self.cameras.as_deref(), &self.settings.recent_videos);
                view::source_menu_ui(ui, &self.source, &choices, commands);
                ui.separator();
                let pause = if self.live.paused { "Resume" } else { "Pause" };
                if ui.button(pause).on_hover_text("Freeze the picture (Space)").clicked() {
                    commands.push(AppCommand::TogglePause);
                }
                if ui
                    .add_enabled(self.live.frame.is_some(), egui::Button::new("Snapshot"))
                    .on_hover_text(format!("Save the annotated picture to {} (S)", self.snapshots.dir().display()))
                    .clicked()
                {
                    commands.push(AppCommand::Snapshot);
                }
                if ui.button("Fullscreen").on_hover_text("Only the picture, for demos (F11; Esc to leave)").clicked() {
                    commands.push(AppCommand::ToggleFullscreen);
                }
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if ui.selectable_label(self.show_shortcuts, "Shortcuts").on_hover_text("F1").clicked() {
                        commands.push(AppCommand::ToggleShortcuts);
                    }
                    if ui.selectable_label(self.settings.show_settings, "Settings").clicked() {
                        commands.push(AppCommand::ToggleSettings);
                    }
                    if ui.selectable_label(self.settings.show_people, "People").clicked() {
                        commands.push(AppCommand::TogglePeople);
                    }
                });
            });
        });
    }

    fn status_bar_ui(&self, ui: &mut egui::Ui) {
        egui::Panel::bottom("status-bar").show(ui, |ui| {
            ui.horizontal(|ui| {
                let camera = &self.live.camera;
                let (dot, color) = match camera {
                    super::CameraState::Live { .. } if self.live.paused => ("Paused", ui.visuals().warn_fg_color),
                    super::CameraState::Live { .. } => ("Live", egui::Color32::from_rgb(60, 200, 80)),
                    super::CameraState::Starting { .. } => ("Starting", ui.visuals().weak_text_color()),
                    _ => ("Offline", ui.visuals().error_fg_color),
                };
                let (dot_rect, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
                ui.painter().circle_filled(dot_rect.center(), 5.0, color);
                ui.colored_label(color, dot);
                ui.label(camera.summary());
                ui.separator();
                ui.label(format!("{:.0} fps", self.live.fps()));
                match self.live.latency_ms() {
                    Some(ms) => ui.label(format!("latency {ms:.0} ms")),
                    None => ui.label("latency –"),
                };
                if self.live.dropped_frames > 0 {
                    let n = self.live.dropped_frames;
                    ui.label(format!("{n} frame{} skipped", if n == 1 { "" } else { "s" }))
                        .on_hover_text("Vision was busy when these arrived; the newest frame is always shown");
                }
                ui.separator();
                ui.label(format!("{} enrolled", self.people.cards.len()));
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    ui.weak("Space pause · S snapshot · F11 fullscreen · F1 shortcuts");
                });
            });
        });
    }
}

impl eframe::App for FacecamApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        self.poll(&ctx);
        let mut commands = Vec::new();
        self.shortcuts(&ctx, &mut commands);
        self.dropped_files(&ctx, &mut commands);

        if !self.fullscreen {
            self.top_bar_ui(ui, &mut commands);
            self.status_bar_ui(ui);
            if self.settings.show_people {
                let enrollment = self.live.enrollment.as_ref();
                let can_enroll = self.live.camera.is_live();
                egui::Panel::left("people").default_size(300.0).min_size(240.0).show(ui, |ui| {
                    self.people.panel_ui(ui, enrollment, can_enroll, &mut commands);
                });
            }
            if self.settings.show_settings {
                egui::Panel::right("settings").default_size(300.0).min_size(240.0).show(ui, |ui| {
                    settings_panel::settings_ui(
                        ui,
                        &self.settings,
                        &self.source,
                        self.cameras.as_deref(),
                        &self.options,
                        &mut commands,
                    );
                });
            }
        }
        egui::CentralPanel::no_frame().show(ui, |ui| {
            view::live_view_ui(ui, &self.live, self.settings.mirror, self.fullscreen, &mut commands);
        });
        if let Some(picker) = &mut self.picker {
            match picker.window_ui(&ctx) {
                Some(PickerOutcome::Open(path)) => {
                    commands.push(AppCommand::SetSource(SourceChoice::Video(path)));
                    self.picker = None;
                }
                Some(PickerOutcome::Cancel) => self.picker = None,
                None => {}
            }
        }
        // Notices float over the picture, above the status bar and the
        // enrollment banner, so the layout never jumps.
        if !self.notices.items.is_empty() {
            egui::Area::new(egui::Id::unique("notices"))
                .anchor(egui::Align2::CENTER_BOTTOM, [0.0, -130.0])
                .order(egui::Order::Foreground)
                .show(&ctx, |ui| {
                    egui::Frame::popup(ui.style()).show(ui, |ui| view::notices_ui(ui, &self.notices, &mut commands));
                });
        }
        if self.show_shortcuts && !view::shortcuts_window_ui(&ctx) {
            commands.push(AppCommand::ToggleShortcuts);
        }
        self.people.delete_modal_ui(&ctx, &mut commands);

        for command in commands {
            self.apply(&ctx, command);
        }
        // The vision worker wakes the window for each frame; the people and
        // camera threads are polled while they have work, and notices fade.
        if self.camera_probe.is_some() || self.people.is_busy() {
            ctx.request_repaint_after(Duration::from_millis(30));
        } else if self.live.is_running() || !self.notices.items.is_empty() {
            ctx.request_repaint_after(Duration::from_millis(500));
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, SETTINGS_KEY, &self.settings);
    }
}
