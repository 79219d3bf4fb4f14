//! The settings panel: source, picture, recognition and detection. Every
//! change is a command; the threshold and detection apply live.

use super::settings::{AppSettings, Resolution, Sensitivity, SourceChoice, Thresholds};
use super::{AppCommand, AppOptions};
use crate::capture::CameraInfo;
use crate::recognizer::RecognizerKind;

fn recognizer_label(kind: RecognizerKind) -> &'static str {
    match kind {
        RecognizerKind::Lbph => "LBPH (recommended)",
        RecognizerKind::Eigen => "Eigenfaces",
        RecognizerKind::Fisher => "Fisherfaces",
    }
}

pub fn settings_ui(
    ui: &mut egui::Ui,
    settings: &AppSettings,
    current: &SourceChoice,
    cameras: Option<&[CameraInfo]>,
    options: &AppOptions,
    commands: &mut Vec<AppCommand>,
) {
    egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
        ui.spacing_mut().slider_width = (ui.available_width() - 150.0).max(100.0);
        ui.add_space(4.0);
        ui.heading("Camera");
        let choices = super::view::source_choices(current, cameras, &settings.recent_videos);
        camera_picker_ui(ui, current, &choices, cameras, commands);
        egui::ComboBox::from_label("Resolution").selected_text(settings.resolution.label()).show_ui(ui, |ui| {
            for r in Resolution::ALL {
                if ui.selectable_label(settings.resolution == r, r.label()).clicked() {
                    commands.push(AppCommand::SetResolution(r));
                }
            }
        });
        let mut mirror = settings.mirror;
        if ui
            .checkbox(&mut mirror, "Mirror the picture")
            .on_hover_text("Like a mirror, as most people expect (M)")
            .changed()
        {
            commands.push(AppCommand::SetMirror(mirror));
        }
        ui.add_space(4.0);
        ui.horizontal(|ui| {
            if ui.button("Open video file…").on_hover_text("Play a video instead of a camera (Ctrl+O)").clicked() {
                commands.push(AppCommand::OpenFilePicker);
            }
            let mut looping = settings.loop_video;
            if ui.checkbox(&mut looping, "Loop").changed() {
                commands.push(AppCommand::SetLoop(looping));
            }
        });

        ui.add_space(8.0);
        ui.separator();
        ui.heading("Recognition");
        egui::ComboBox::from_label("Recognizer").selected_text(recognizer_label(settings.recognizer)).show_ui(
            ui,
            |ui| {
                for kind in [RecognizerKind::Lbph, RecognizerKind::Eigen, RecognizerKind::Fisher] {
                    if ui.selectable_label(settings.recognizer == kind, recognizer_label(kind)).clicked() {
                        commands.push(AppCommand::SetRecognizer(kind));
                    }
                }
            },
        );
        ui.label("Unknown above distance");
        let mut threshold = settings.threshold();
        let slider = egui::Slider::new(&mut threshold, Thresholds::range(settings.recognizer))
            .step_by(if settings.recognizer == RecognizerKind::Lbph { 0.5 } else { 10.0 })
            .text("threshold");
        if ui.add(slider).on_hover_text("Applies at once to the faces in view").changed() {
            commands.push(AppCommand::SetThreshold(threshold));
        }
        ui.weak("Lower: stricter, more faces show as Unknown. Higher: more lenient, with a risk of wrong names.");
        let default = settings.recognizer.default_threshold();
        let default = if settings.recognizer == RecognizerKind::Lbph { options.config_threshold } else { default };
        if ui.add_enabled(threshold != default, egui::Button::new("Reset to default")).clicked() {
            commands.push(AppCommand::SetThreshold(default));
        }

        ui.add_space(8.0);
        ui.separator();
        ui.heading("Detection");
        ui.label("Sensitivity");
        for s in Sensitivity::ALL {
            if ui.radio(settings.sensitivity == s, s.label()).on_hover_text(s.explanation()).clicked() {
                commands.push(AppCommand::SetSensitivity(s));
            }
        }

        ui.add_space(8.0);
        ui.separator();
        ui.heading("Enrollment");
        let mut samples = settings.enroll_samples;
        if ui
            .add(
                egui::Slider::new(&mut samples, super::app::MIN_ENROLL_SAMPLES..=super::app::MAX_ENROLL_SAMPLES)
                    .text("samples per enrollment"),
            )
            .changed()
        {
            commands.push(AppCommand::SetEnrollSamples(samples));
        }

        ui.add_space(8.0);
        ui.separator();
        ui.heading("Your data");
        ui.label("Face samples stay on this computer, readable only by you, in:");
        ui.label(egui::RichText::new(options.data_dir.display().to_string()).monospace());
        ui.label("Snapshots are saved to:");
        ui.label(egui::RichText::new(options.snapshot_dir.display().to_string()).monospace());
    });
}

fn camera_picker_ui(
    ui: &mut egui::Ui,
    current: &SourceChoice,
    choices: &[(SourceChoice, String)],
    cameras: Option<&[CameraInfo]>,
    commands: &mut Vec<AppCommand>,
) {
    ui.horizontal(|ui| {
        egui::ComboBox::from_id_salt("camera-picker").selected_text(current.label()).show_ui(ui, |ui| {
            for (choice, label) in choices {
                if ui.selectable_label(choice == current, label).clicked() {
                    commands.push(AppCommand::SetSource(choice.clone()));
                }
            }
        });
        if ui.button("Refresh").on_hover_text("Look for cameras again").clicked() {
            commands.push(AppCommand::RefreshCameras);
        }
    });
    match cameras {
        None => ui.weak("Looking for cameras…"),
        Some([]) => ui.weak("No camera found on this computer."),
        Some(found) => ui.weak(format!("{} camera(s) found", found.len())),
    };
}
