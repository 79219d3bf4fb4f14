//! The desktop window. For now it shows the gallery; the live camera view
//! builds on the capture pipeline.

use std::path::PathBuf;

use crate::store::Gallery;

/// What the window shows about the gallery, read once at start.
enum GalleryView {
    Loaded(Vec<(String, usize)>),
    Failed(String),
}

/// The facecam window's state.
pub struct FacecamApp {
    data_dir: PathBuf,
    gallery: GalleryView,
}

impl FacecamApp {
    pub fn new(data_dir: PathBuf) -> Self {
        let gallery = match Gallery::open(&data_dir) {
            Ok(g) => GalleryView::Loaded(g.people().iter().map(|p| (p.name.clone(), p.sample_count())).collect()),
            Err(e) => GalleryView::Failed(e.to_string()),
        };
        Self { data_dir, gallery }
    }

    fn people_ui(&self, ui: &mut egui::Ui) {
        ui.heading("People");
        ui.separator();
        match &self.gallery {
            GalleryView::Failed(message) => {
                ui.colored_label(ui.visuals().error_fg_color, "The gallery could not be loaded");
                ui.label(message);
            }
            GalleryView::Loaded(people) if people.is_empty() => {
                ui.label("Nobody is enrolled yet.");
                ui.label("Enroll someone with:");
                ui.code("facecam enroll NAME photo.jpg");
            }
            GalleryView::Loaded(people) => {
                egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
                    for (name, samples) in people {
                        ui.horizontal(|ui| {
                            ui.strong(name);
                            ui.weak(format!("{samples} samples"));
                        });
                    }
                });
            }
        }
    }
}

impl eframe::App for FacecamApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::Panel::top("title").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.heading("facecam");
                ui.weak(format!("gallery: {}", self.data_dir.display()));
            });
        });
        egui::Panel::left("people").default_size(240.0).show(ui, |ui| self.people_ui(ui));
        egui::CentralPanel::default().show(ui, |ui| {
            ui.centered_and_justified(|ui| {
                ui.label("The live camera view is not part of this build yet.\nUse the command line: facecam --help");
            });
        });
    }
}

/// Opens the window and runs until it is closed.
pub fn run(data_dir: PathBuf) -> eframe::Result {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default().with_title("facecam").with_inner_size([960.0, 640.0]),
        ..Default::default()
    };
    eframe::run_native("facecam", options, Box::new(move |_cc| Ok(Box::new(FacecamApp::new(data_dir)))))
}
