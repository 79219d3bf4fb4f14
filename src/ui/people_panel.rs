//! The people panel: the enrollment form and its progress, and the list of
//! enrolled people with thumbnail, sample count, rename, add samples and
//! delete (with confirmation).

use std::collections::HashMap;
use std::path::PathBuf;

use super::AppCommand;
use super::app::{NoticeKind, Notices};
use super::people::{PeopleReply, PeopleRequest, PeopleService, PersonCard};
use crate::names;
use crate::worker::EnrollmentStatus;

/// Thumbnail size on screen (the samples' 92×112 aspect).
const THUMB: egui::Vec2 = egui::vec2(46.0, 56.0);

/// What the app must hear from the panel's thread.
pub enum PeopleEvent {
    /// The gallery changed (renamed, deleted): the message says how.
    Changed(String),
    Failed(String),
}

pub struct PeoplePanel {
    service: Option<PeopleService>,
    pub cards: Vec<PersonCard>,
    textures: HashMap<u32, (String, egui::TextureHandle)>,
    /// Why the gallery could not be read, while it cannot.
    pub load_error: Option<String>,
    loaded: bool,
    /// Requests sent and not yet answered.
    pending: usize,
    pub enroll_name: String,
    pub enroll_error: Option<String>,
    renaming: Option<Rename>,
    confirm_delete: Option<(String, usize)>,
}

struct Rename {
    old: String,
    text: String,
    error: Option<String>,
    focus: bool,
}

impl PeoplePanel {
    pub fn start(data_dir: PathBuf, notices: &mut Notices) -> Self {
        let service = match PeopleService::start(data_dir) {
            Ok(s) => Some(s),
            Err(e) => {
                notices.push(NoticeKind::Error, format!("cannot start the people list: {e}"));
                None
            }
        };
        let mut panel = Self {
            service,
            cards: Vec::new(),
            textures: HashMap::new(),
            load_error: None,
            loaded: false,
            pending: 0,
            enroll_name: String::new(),
            enroll_error: None,
            renaming: None,
            confirm_delete: None,
        };
        panel.refresh();
        panel
    }

    fn send(&mut self, request: PeopleRequest) {
        if let Some(service) = &self.service {
            service.send(request);
            self.pending += 1;
        }
    }

    pub fn refresh(&mut self) {
        self.send(PeopleRequest::Refresh);
    }

    pub fn rename(&mut self, old: String, new: String) {
        self.send(PeopleRequest::Rename { old, new });
    }

    pub fn delete(&mut self, name: String) {
        self.send(PeopleRequest::Remove { name });
    }

    pub fn is_confirming(&self) -> bool {
        self.confirm_delete.is_some()
    }

    pub fn cancel_confirm(&mut self) {
        self.confirm_delete = None;
    }

    pub fn is_busy(&self) -> bool {
        self.pending > 0
    }

    /// A live enrollment saved someone: list them, clear the form.
    pub fn enrollment_done(&mut self) {
        self.enroll_name.clear();
        self.refresh();
    }

    pub fn poll(&mut self, ctx: &egui::Context) -> Vec<PeopleEvent> {
        let mut events = Vec::new();
        let Some(service) = &self.service else { return events };
        let mut replies = Vec::new();
        loop {
            match service.try_recv() {
                Ok(Some(reply)) => replies.push(reply),
                Ok(None) => break,
                Err(()) => {
                    let message = "The people list stopped working; restart facecam".to_owned();
                    self.service = None;
                    self.pending = 0;
                    self.loaded = true;
                    self.load_error = Some(message.clone());
                    events.push(PeopleEvent::Failed(message));
                    break;
                }
            }
        }
        for reply in replies {
            match reply {
                PeopleReply::Listed(cards) => {
                    self.pending = self.pending.saturating_sub(1);
                    self.loaded = true;
                    self.load_error = None;
                    self.set_cards(ctx, cards);
                }
                PeopleReply::LoadFailed(message) => {
                    self.pending = self.pending.saturating_sub(1);
                    self.loaded = true;
                    self.load_error = Some(message);
                    self.cards.clear();
                }
                PeopleReply::Renamed { old, new } => {
                    self.renaming = None;
                    events.push(PeopleEvent::Changed(format!("Renamed {old} to {new}")));
                }
                PeopleReply::Removed { name, samples, leftover: None } => events.push(PeopleEvent::Changed(
                    format!("Deleted {name} and their {samples} face samples from this computer"),
                )),
                PeopleReply::Removed { name, leftover: Some(folder), .. } => events.push(PeopleEvent::Failed(format!(
                    "{name} is no longer enrolled, but their samples folder {} could not be deleted: delete it yourself",
                    folder.display()
                ))),
                PeopleReply::RenameFailed { old, message } => match &mut self.renaming {
                    Some(r) if r.old == old => r.error = Some(message),
                    _ => events.push(PeopleEvent::Failed(format!("Renaming {old} failed: {message}"))),
                },
                PeopleReply::RemoveFailed { name, message } => {
                    events.push(PeopleEvent::Failed(format!("Deleting {name} failed: {message}")));
                }
            }
        }
        events
    }

    fn set_cards(&mut self, ctx: &egui::Context, cards: Vec<PersonCard>) {
        self.textures.retain(|id, _| cards.iter().any(|c| c.id == *id));
        for card in &cards {
            let Some(image) = &card.thumbnail else { continue };
            let fresh = self.textures.get(&card.id).is_some_and(|(key, _)| *key == card.thumbnail_key);
            if !fresh {
                let texture =
                    ctx.load_texture(format!("thumb-{}", card.id), image.clone(), egui::TextureOptions::LINEAR);
                self.textures.insert(card.id, (card.thumbnail_key.clone(), texture));
            }
        }
        self.cards = cards;
    }

    pub fn panel_ui(
        &mut self,
        ui: &mut egui::Ui,
        enrollment: Option<&EnrollmentStatus>,
        can_enroll: bool,
        commands: &mut Vec<AppCommand>,
    ) {
        ui.add_space(4.0);
        ui.heading("Enroll");
        match enrollment {
            Some(status) => enrollment_progress_ui(ui, status, commands),
            None => self.enroll_form_ui(ui, can_enroll, commands),
        }
        ui.add_space(8.0);
        ui.separator();
        ui.horizontal(|ui| {
            ui.heading("People");
            if self.loaded && self.load_error.is_none() {
                ui.weak(format!("({})", self.cards.len()));
            }
        });
        self.people_list_ui(ui, enrollment.map(|e| e.name.as_str()), commands);
    }

    fn enroll_form_ui(&mut self, ui: &mut egui::Ui, can_enroll: bool, commands: &mut Vec<AppCommand>) {
        let existing = names::validate_name(&self.enroll_name)
            .ok()
            .and_then(|n| self.cards.iter().find(|c| names::same_name(&c.name, &n)).map(|c| c.name.clone()));
        let mut submit = false;
        ui.horizontal(|ui| {
            let edit = ui.add(
                egui::TextEdit::singleline(&mut self.enroll_name)
                    .hint_text("Name")
                    .desired_width(ui.available_width() - 90.0),
            );
            submit |= edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if edit.changed() {
                self.enroll_error = None;
            }
            let label = if existing.is_some() { "Add samples" } else { "Enroll" };
            let button = ui
                .add_enabled(can_enroll && !self.enroll_name.trim().is_empty(), egui::Button::new(label))
                .on_disabled_hover_text(if can_enroll {
                    "Type a name first"
                } else {
                    "Enrollment needs a camera or a video"
                });
            submit |= button.clicked();
        });
        if let Some(name) = &existing {
            ui.weak(format!("{name} is enrolled: new samples are added to them."));
        } else {
            ui.weak("One person in view, facing the camera, in good light.");
        }
        if let Some(error) = &self.enroll_error {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
        if submit && !self.enroll_name.trim().is_empty() {
            commands.push(AppCommand::StartEnrollment { name: self.enroll_name.clone() });
        }
    }

    fn people_list_ui(&mut self, ui: &mut egui::Ui, enrolling: Option<&str>, commands: &mut Vec<AppCommand>) {
        if let Some(error) = &self.load_error {
            ui.colored_label(ui.visuals().error_fg_color, "The gallery could not be loaded");
            ui.label(error);
            ui.label("Nothing was changed on disk. Fix the problem above (or move the data folder away to start afresh), then retry.");
            if ui.button("Retry").clicked() {
                commands.push(AppCommand::RetryGallery);
            }
            return;
        }
        if !self.loaded {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Reading the gallery…");
            });
            return;
        }
        if self.cards.is_empty() {
            ui.label("Nobody is enrolled yet.");
            ui.weak("Type a name above and press Enroll while that person looks at the camera.");
            return;
        }
        let mut start_rename = None;
        let mut rename_action = RenameAction::Editing;
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
            for card in &self.cards {
                // The person being enrolled cannot be renamed or deleted until
                // it ends: saving the samples would bring them back.
                let busy = enrolling.is_some_and(|n| names::same_name(n, &card.name));
                ui.horizontal(|ui| {
                    match self.textures.get(&card.id) {
                        Some((_, texture)) => {
                            ui.add(egui::Image::new((texture.id(), THUMB)).corner_radius(4.0));
                        }
                        None => {
                            ui.allocate_exact_size(THUMB, egui::Sense::hover());
                        }
                    }
                    ui.vertical(|ui| match &mut self.renaming {
                        Some(r) if r.old == card.name => rename_action = rename_ui(ui, r),
                        _ => {
                            ui.strong(&card.name);
                            ui.weak(format!("{} samples", card.samples));
                            ui.horizontal(|ui| {
                                let add = ui
                                    .add_enabled(enrolling.is_none(), egui::Button::new("Add samples").small())
                                    .on_hover_text("Capture more samples of this person now");
                                if add.clicked() {
                                    commands.push(AppCommand::StartEnrollment { name: card.name.clone() });
                                }
                                let wait = "Wait until their enrollment ends";
                                let rename = ui.add_enabled(!busy, egui::Button::new("Rename").small());
                                if rename.on_disabled_hover_text(wait).clicked() {
                                    start_rename = Some(card.name.clone());
                                }
                                let delete = ui.add_enabled(!busy, egui::Button::new("Delete").small());
                                if delete.on_disabled_hover_text(wait).clicked() {
                                    self.confirm_delete = Some((card.name.clone(), card.samples));
                                }
                            });
                        }
                    });
                });
                ui.add_space(4.0);
            }
        });
        match rename_action {
            RenameAction::Editing => {}
            RenameAction::Cancel => self.renaming = None,
            RenameAction::Save(new) => {
                if let Some(r) = &self.renaming {
                    commands.push(AppCommand::Rename { old: r.old.clone(), new });
                }
            }
        }
        if let Some(old) = start_rename {
            self.renaming = Some(Rename { text: old.clone(), old, error: None, focus: true });
        }
    }

    /// "Delete NAME?" — deleting removes biometric data for good, so ask.
    pub fn delete_modal_ui(&mut self, ctx: &egui::Context, commands: &mut Vec<AppCommand>) {
        let Some((name, samples)) = self.confirm_delete.clone() else { return };
        let mut close = false;
        let modal = egui::Modal::new(egui::Id::unique("confirm-delete")).show(ctx, |ui| {
            ui.set_width(360.0);
            ui.heading(format!("Delete {name}?"));
            ui.label(format!(
                "Their {samples} face samples are deleted from this computer and they will no longer be recognized. This cannot be undone."
            ));
            ui.add_space(8.0);
            ui.horizontal(|ui| {
                let delete = egui::Button::new(egui::RichText::new(format!("Delete {name}")).color(egui::Color32::WHITE))
                    .fill(egui::Color32::from_rgb(190, 40, 40));
                if ui.add(delete).clicked() {
                    commands.push(AppCommand::Delete { name: name.clone() });
                    close = true;
                }
                if ui.button("Cancel").clicked() {
                    close = true;
                }
            });
        });
        if close || modal.should_close() {
            self.confirm_delete = None;
        }
    }
}

/// What the user did with an open rename field this frame.
enum RenameAction {
    Editing,
    Cancel,
    Save(String),
}

fn rename_ui(ui: &mut egui::Ui, r: &mut Rename) -> RenameAction {
    let edit = ui.add(egui::TextEdit::singleline(&mut r.text).desired_width(150.0));
    if r.focus {
        edit.request_focus();
        r.focus = false;
    }
    if edit.changed() {
        r.error = None;
    }
    let mut save = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
    let mut cancel = false;
    ui.horizontal(|ui| {
        save |= ui.add(egui::Button::new("Save").small()).clicked();
        cancel = ui.add(egui::Button::new("Cancel").small()).clicked();
    });
    if let Some(error) = &r.error {
        ui.colored_label(ui.visuals().error_fg_color, error);
    }
    if cancel {
        return RenameAction::Cancel;
    }
    if !save {
        return RenameAction::Editing;
    }
    match names::validate_name(&r.text) {
        Ok(new) if new == r.old => RenameAction::Cancel,
        Ok(new) => RenameAction::Save(new),
        Err(e) => {
            r.error = Some(e.to_string());
            RenameAction::Editing
        }
    }
}

/// The guided capture: who, how far along, what to do now, and Cancel.
pub fn enrollment_progress_ui(ui: &mut egui::Ui, status: &EnrollmentStatus, commands: &mut Vec<AppCommand>) {
    ui.label(format!("Enrolling {}", status.name));
    let fraction = if status.target == 0 { 0.0 } else { status.collected as f32 / status.target as f32 };
    ui.add(egui::ProgressBar::new(fraction).text(format!("{} of {} samples", status.collected, status.target)));
    match status.hint {
        Some(hint) => ui.colored_label(ui.visuals().warn_fg_color, capitalized(hint.message())),
        None => ui.label("Good: keep facing the camera, turn your head a little."),
    };
    if ui.button("Cancel").on_hover_text("Stop without saving anything (Esc)").clicked() {
        commands.push(AppCommand::CancelEnrollment);
    }
}

pub fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
