//! The central live view: the picture fitted to the window, a box and a
//! name plate per face, the enrollment banner, and what to do when there
//! is no picture. Also the small shared pieces: source menu, notices and
//! the shortcuts list.

use egui::{Align2, Color32, FontId, Pos2, Rect, RichText, Stroke, Vec2};

use super::AppCommand;
use super::app::{NoticeKind, Notices};
use super::live::{CameraState, LiveView};
use super::people_panel::capitalized;
use super::settings::SourceChoice;
use crate::annotate::{KNOWN_BGR, UNKNOWN_BGR};
use crate::capture::CameraInfo;
use crate::worker::FaceReport;

/// The keyboard shortcuts, as listed in the UI.
pub const SHORTCUTS: &[(&str, &str)] = &[
    ("Space", "Pause or resume the picture"),
    ("S", "Save a snapshot of the annotated picture"),
    ("F11 or F", "Fullscreen on or off"),
    ("M", "Mirror the picture"),
    ("Ctrl+O", "Open a video file"),
    ("Esc", "Close a dialog, cancel enrollment, leave fullscreen"),
    ("F1", "Show or hide this list"),
];

/// The face being enrolled: neither known nor unknown yet.
const ENROLLING: Color32 = Color32::from_rgb(40, 130, 230);

fn bgr(c: (f64, f64, f64)) -> Color32 {
    Color32::from_rgb(c.2 as u8, c.1 as u8, c.0 as u8)
}

pub fn known_color() -> Color32 {
    bgr(KNOWN_BGR)
}

pub fn unknown_color() -> Color32 {
    bgr(UNKNOWN_BGR)
}

/// The largest rect of the picture's aspect that fits in `area`, centered.
pub fn fit_rect(area: Rect, picture: Vec2) -> Rect {
    if picture.x <= 0.0 || picture.y <= 0.0 {
        return area;
    }
    let scale = (area.width() / picture.x).min(area.height() / picture.y);
    Rect::from_center_size(area.center(), picture * scale)
}

/// A face box in frame pixels mapped onto the fitted picture.
pub fn face_rect(face: &FaceReport, picture: Vec2, fitted: Rect, mirrored: bool) -> Rect {
    let scale = fitted.width() / picture.x;
    let b = &face.bbox;
    let x = if mirrored { picture.x - (b.x + b.width) as f32 } else { b.x as f32 };
    Rect::from_min_size(
        fitted.min + Vec2::new(x, b.y as f32) * scale,
        Vec2::new(b.width as f32, b.height as f32) * scale,
    )
}

/// The text on a face's plate.
pub fn plate_text(face: &FaceReport) -> String {
    match &face.name {
        Some(name) => format!("{name} {:.0}%", face.confidence),
        None => "Unknown".to_owned(),
    }
}

pub fn live_view_ui(
    ui: &mut egui::Ui,
    live: &LiveView,
    mirror: bool,
    fullscreen: bool,
    commands: &mut Vec<AppCommand>,
) {
    let area = ui.available_rect_before_wrap();
    ui.painter().rect_filled(area, 0.0, Color32::from_gray(18));
    let Some(frame) = &live.frame else {
        let is_camera = live.started.as_ref().is_none_or(|s| s.source.is_camera());
        state_card_ui(ui, area, &live.camera, is_camera, commands);
        return;
    };
    let fitted = fit_rect(area, frame.size);
    // Mirroring flips the texture coordinates: no pixel is copied, and a
    // paused picture flips too.
    let uv = if mirror {
        Rect::from_min_max(Pos2::new(1.0, 0.0), Pos2::new(0.0, 1.0))
    } else {
        Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0))
    };
    ui.painter().image(frame.texture.id(), fitted, uv, Color32::WHITE);
    // While enrolling, the one face in view is the one being captured.
    let enrolling = live.enrollment.as_ref().filter(|_| frame.faces.len() == 1).map(|e| e.name.as_str());
    for face in &frame.faces {
        face_overlay_ui(ui, face, face_rect(face, frame.size, fitted, mirror), fitted, enrolling);
    }
    // Top left: live or paused, and how fast.
    let chip = if live.paused {
        "Paused (Space to resume)".to_owned()
    } else {
        let latency = live.latency_ms().map_or(String::new(), |ms| format!(" · {ms:.0} ms"));
        format!("{:.0} fps{latency}", live.fps())
    };
    let chip_pos = fitted.left_top() + Vec2::splat(10.0);
    let galley = ui.painter().layout_no_wrap(chip, FontId::proportional(14.0), Color32::WHITE);
    let chip_rect = Rect::from_min_size(chip_pos, galley.size() + Vec2::new(14.0, 8.0));
    ui.painter().rect_filled(chip_rect, 6.0, Color32::from_black_alpha(160));
    ui.painter().galley(chip_pos + Vec2::new(7.0, 4.0), galley, Color32::WHITE);
    if fullscreen {
        ui.painter().text(
            fitted.right_top() + Vec2::new(-10.0, 10.0),
            Align2::RIGHT_TOP,
            "Esc to leave fullscreen",
            FontId::proportional(13.0),
            Color32::from_white_alpha(150),
        );
    }
    // The camera went away or the video ended: say so over the last picture.
    if !matches!(live.camera, CameraState::Live { .. }) {
        let banner = Rect::from_min_size(fitted.left_top() + Vec2::new(0.0, 44.0), Vec2::new(fitted.width(), 44.0));
        ui.painter().rect_filled(banner, 0.0, Color32::from_black_alpha(190));
        ui.scope_builder(egui::UiBuilder::new().max_rect(banner.shrink(8.0)), |ui| {
            ui.horizontal_centered(|ui| {
                ui.label(RichText::new(live.camera.summary()).color(Color32::WHITE).strong());
                source_actions_ui(ui, &live.camera, commands);
            });
        });
    }
    if let Some(status) = &live.enrollment {
        enrollment_banner_ui(ui, fitted, status, commands);
    }
}

/// A face's box and name plate. Known faces get a solid green box, unknown
/// ones a dashed orange box, so they differ by shape as well as colour.
fn face_overlay_ui(ui: &mut egui::Ui, face: &FaceReport, rect: Rect, clip: Rect, enrolling: Option<&str>) {
    let painter = ui.painter().with_clip_rect(clip);
    let color = match enrolling {
        Some(_) => ENROLLING,
        None if face.known => known_color(),
        None => unknown_color(),
    };
    let stroke = Stroke::new(3.0, color);
    if face.known || enrolling.is_some() {
        painter.rect_stroke(rect, 4.0, stroke, egui::StrokeKind::Middle);
    } else {
        let corners = [rect.left_top(), rect.right_top(), rect.right_bottom(), rect.left_bottom(), rect.left_top()];
        painter.extend(egui::Shape::dashed_line(&corners, stroke, 10.0, 6.0));
    }
    let text = match enrolling {
        Some(name) => format!("Enrolling {name}"),
        None => plate_text(face),
    };
    let text_color = if face.known && enrolling.is_none() { Color32::BLACK } else { Color32::WHITE };
    let galley = painter.layout_no_wrap(text.clone(), FontId::proportional(16.0), text_color);
    let size = galley.size() + Vec2::new(12.0, 6.0);
    let below = Pos2::new(rect.left() - 1.5, rect.bottom() + 1.5);
    let pos = if below.y + size.y <= clip.bottom() { below } else { Pos2::new(rect.left(), rect.top() - size.y) };
    let plate = Rect::from_min_size(pos, size);
    painter.rect_filled(plate, 3.0, color);
    // A real label, so the name is readable by screen readers (and tests).
    ui.put(plate, egui::Label::new(RichText::new(text).color(text_color).size(16.0)).selectable(false));
}

fn enrollment_banner_ui(
    ui: &mut egui::Ui,
    fitted: Rect,
    status: &crate::worker::EnrollmentStatus,
    commands: &mut Vec<AppCommand>,
) {
    let height = 92.0;
    let banner =
        Rect::from_min_size(Pos2::new(fitted.left(), fitted.bottom() - height), Vec2::new(fitted.width(), height));
    ui.painter().rect_filled(banner, 0.0, Color32::from_black_alpha(200));
    let hint = status.hint.map(|h| capitalized(h.message()));
    ui.scope_builder(egui::UiBuilder::new().max_rect(banner.shrink(10.0)), |ui| {
        ui.visuals_mut().override_text_color = Some(Color32::WHITE);
        ui.horizontal(|ui| {
            ui.vertical(|ui| {
                ui.set_width((banner.width() - 40.0).max(100.0));
                match &hint {
                    Some(h) => ui.label(RichText::new(h).size(22.0).strong().color(Color32::from_rgb(255, 200, 60))),
                    None => ui.label(
                        RichText::new("Good: keep facing the camera, turn your head a little").size(22.0).strong(),
                    ),
                };
                let fraction = if status.target == 0 { 0.0 } else { status.collected as f32 / status.target as f32 };
                ui.horizontal(|ui| {
                    ui.add(
                        egui::ProgressBar::new(fraction)
                            .desired_width((banner.width() - 140.0).max(80.0))
                            .text(format!("{}: {} of {}", status.name, status.collected, status.target)),
                    );
                    if ui.button("Cancel").clicked() {
                        commands.push(AppCommand::CancelEnrollment);
                    }
                });
            });
        });
    });
}

/// What to show where the picture would be.
fn state_card_ui(ui: &mut egui::Ui, area: Rect, camera: &CameraState, is_camera: bool, commands: &mut Vec<AppCommand>) {
    let card = Rect::from_center_size(area.center(), Vec2::new(area.width().min(520.0), 220.0));
    ui.scope_builder(egui::UiBuilder::new().max_rect(card), |ui| {
        ui.vertical_centered(|ui| {
            ui.visuals_mut().override_text_color = Some(Color32::from_gray(230));
            let (title, detail) = match camera {
                CameraState::Idle => ("No picture source".to_owned(), "Pick a camera or open a video file.".to_owned()),
                CameraState::Starting { source } => {
                    ui.spinner();
                    (format!("Opening {source}…"), String::new())
                }
                CameraState::NotFound { message, .. } if !is_camera => (
                    "The video could not be opened".to_owned(),
                    format!("{}.\nPick another file with Open video file…", capitalized(message)),
                ),
                CameraState::NotFound { message, retrying, .. } => (
                    "No camera found".to_owned(),
                    format!(
                        "{}.{}\nNo webcam? Open a video file to try facecam.",
                        capitalized(message),
                        if *retrying { "\nTrying again automatically…" } else { "" }
                    ),
                ),
                CameraState::Lost { source, message } => (
                    "The camera was disconnected".to_owned(),
                    format!("{source}: {message}\nReconnecting automatically: plug it back in, or retry."),
                ),
                CameraState::Ended { source } => ("The video ended".to_owned(), source.clone()),
                CameraState::Failed { message } => (
                    "Face detection could not start".to_owned(),
                    format!("{message}\nInstall OpenCV's data files (make run does it) or pass --cascade FILE."),
                ),
                CameraState::Live { .. } => ("Waiting for the first picture…".to_owned(), String::new()),
            };
            ui.label(RichText::new(title).size(22.0).strong());
            if !detail.is_empty() {
                ui.label(detail);
            }
            ui.add_space(10.0);
            ui.horizontal(|ui| {
                // Centre the buttons under the text.
                ui.add_space((ui.available_width() - 260.0).max(0.0) / 2.0);
                source_actions_ui(ui, camera, commands);
            });
        });
    });
}

/// Retry / play again, and "Open video file…", where they help.
fn source_actions_ui(ui: &mut egui::Ui, camera: &CameraState, commands: &mut Vec<AppCommand>) {
    let retry = match camera {
        CameraState::Ended { .. } => Some("Play again"),
        CameraState::NotFound { .. } | CameraState::Lost { .. } | CameraState::Failed { .. } => Some("Retry"),
        CameraState::Idle => Some("Start"),
        _ => None,
    };
    if let Some(label) = retry
        && ui.button(label).clicked()
    {
        commands.push(AppCommand::Restart);
    }
    if !matches!(camera, CameraState::Failed { .. } | CameraState::Live { .. } | CameraState::Starting { .. })
        && ui.button("Open video file…").clicked()
    {
        commands.push(AppCommand::OpenFilePicker);
    }
}

/// The sources to offer: the cameras found (camera 0 when none were),
/// the current source if it is not among them (a camera busy with our own
/// pipeline may not list), then recent videos.
pub fn source_choices(
    current: &SourceChoice,
    cameras: Option<&[CameraInfo]>,
    recent: &[std::path::PathBuf],
) -> Vec<(SourceChoice, String)> {
    let mut choices: Vec<(SourceChoice, String)> = Vec::new();
    for camera in cameras.unwrap_or_default() {
        let choice = match camera.source.strip_prefix("camera:").and_then(|i| i.parse().ok()) {
            Some(i) => SourceChoice::Camera(i),
            None => SourceChoice::Device(camera.path.clone()),
        };
        choices.push((choice, format!("{} ({}×{})", camera.name, camera.width, camera.height)));
    }
    if choices.is_empty() {
        choices.push((SourceChoice::Camera(0), "Camera 0 (default)".to_owned()));
    }
    if current.is_camera() && !choices.iter().any(|(c, _)| c == current) {
        choices.push((current.clone(), current.label()));
    }
    for video in recent {
        let choice = SourceChoice::Video(video.clone());
        let label = choice.label();
        choices.push((choice, label));
    }
    choices
}

/// The source button in the top bar: cameras, recent videos, open a file.
pub fn source_menu_ui(
    ui: &mut egui::Ui,
    current: &SourceChoice,
    choices: &[(SourceChoice, String)],
    commands: &mut Vec<AppCommand>,
) {
    ui.menu_button(format!("Source: {}", current.label()), |ui| {
        for (choice, label) in choices {
            if ui.selectable_label(choice == current, label).clicked() {
                commands.push(AppCommand::SetSource(choice.clone()));
                ui.close();
            }
        }
        ui.separator();
        if ui.button("Open video file…").clicked() {
            commands.push(AppCommand::OpenFilePicker);
            ui.close();
        }
    });
}

/// Messages for the user, above the status bar.
pub fn notices_ui(ui: &mut egui::Ui, notices: &Notices, commands: &mut Vec<AppCommand>) {
    for notice in &notices.items {
        ui.horizontal(|ui| {
            let color = match notice.kind {
                NoticeKind::Info => ui.visuals().text_color(),
                NoticeKind::Warning => ui.visuals().warn_fg_color,
                NoticeKind::Error => ui.visuals().error_fg_color,
            };
            ui.colored_label(color, &notice.text);
            if ui.small_button("Dismiss").clicked() {
                commands.push(AppCommand::DismissNotice(notice.id));
            }
        });
    }
}

/// The shortcuts window; false once the user closes it.
pub fn shortcuts_window_ui(ctx: &egui::Context) -> bool {
    let mut open = true;
    let window = egui::Window::new("Keyboard shortcuts").open(&mut open).collapsible(false).resizable(false);
    window.anchor(Align2::CENTER_CENTER, [0.0, 0.0]).show(ctx, |ui| {
        egui::Grid::new("shortcuts").num_columns(2).spacing([24.0, 6.0]).show(ui, |ui| {
            for (key, what) in SHORTCUTS {
                ui.label(RichText::new(*key).monospace().strong());
                ui.label(*what);
                ui.end_row();
            }
        });
        ui.add_space(6.0);
        ui.weak("Letter keys work while no text field is being edited.");
    });
    open
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identify::FaceBox;

    fn face(x: i32, known: bool) -> FaceReport {
        FaceReport {
            bbox: FaceBox { x, y: 100, width: 100, height: 120 },
            track_id: 1,
            name: known.then(|| "Ada".to_owned()),
            person_id: known.then_some(1),
            known,
            distance: Some(20.0),
            confidence: 68.4,
        }
    }

    #[test]
    fn pictures_fit_without_distortion_and_centred() {
        let area = Rect::from_min_size(Pos2::new(0.0, 0.0), Vec2::new(1000.0, 500.0));
        let fitted = fit_rect(area, Vec2::new(640.0, 480.0));
        assert!((fitted.width() / fitted.height() - 640.0 / 480.0).abs() < 1e-4);
        assert_eq!(fitted.height(), 500.0);
        assert_eq!(fitted.center(), area.center());
    }

    #[test]
    fn boxes_follow_the_picture_and_its_mirror() {
        let picture = Vec2::new(640.0, 480.0);
        let fitted = Rect::from_min_size(Pos2::new(100.0, 0.0), Vec2::new(320.0, 240.0));
        let plain = face_rect(&face(40, true), picture, fitted, false);
        assert_eq!(plain.min, Pos2::new(120.0, 50.0));
        assert_eq!(plain.size(), Vec2::new(50.0, 60.0));
        let mirrored = face_rect(&face(40, true), picture, fitted, true);
        assert_eq!(mirrored.min.x, 100.0 + (640.0 - 140.0) / 2.0);
    }

    #[test]
    fn plates_name_known_faces_with_confidence_and_others_unknown() {
        assert_eq!(plate_text(&face(0, true)), "Ada 68%");
        assert_eq!(plate_text(&face(0, false)), "Unknown");
        assert_ne!(known_color(), unknown_color());
    }
}
