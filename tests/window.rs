//! The desktop window, driven headless by egui_kittest: the real app, the
//! real pipeline and gallery, on videos made from AT&T faces at test time.
//! Clicks and keys go through egui like a user's would; what is checked is
//! what the window shows (its accessibility tree) and what is on disk.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{Segment, enroll_photos, make_video};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use facecam::capture::Source;
use facecam::store::Gallery;
use facecam::ui::{AppOptions, AppSettings, CameraState, FacecamApp};

type App = Harness<'static, FacecamApp>;

fn seg(people: &[u32], frames: u32) -> Segment {
    Segment { people: people.to_vec(), frames }
}

fn options(data: &Path, source: Source, snapshots: &Path) -> AppOptions {
    AppOptions {
        data_dir: data.to_owned(),
        cascade: facecam::cascade::locate(None, None).map_err(|e| e.to_string()),
        detector: Default::default(),
        config_threshold: facecam::recognizer::RecognizerKind::Lbph.default_threshold(),
        source: Some(source),
        snapshot_dir: snapshots.to_owned(),
        probe_cameras: false,
    }
}

/// Settings as on a first start, but unmirrored so the faces' left and
/// right match the video's, and short enrollments.
fn test_settings() -> AppSettings {
    AppSettings { mirror: false, enroll_samples: 10, ..AppSettings::default() }
}

fn window(options: AppOptions, settings: AppSettings) -> App {
    Harness::builder()
        .with_size(egui::vec2(1200.0, 760.0))
        .build_eframe(move |cc| FacecamApp::with_settings(&cc.egui_ctx, options, settings))
}

/// Steps the window until `done` holds, as frames from the pipeline arrive
/// in real time; fails with what the window shows if it never does.
fn wait_for(app: &mut App, what: &str, timeout_secs: u64, done: impl Fn(&App) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(timeout_secs);
    loop {
        app.step();
        if done(app) {
            return;
        }
        if Instant::now() > deadline {
            panic!(
                "timed out waiting for {what}\ncamera: {:?}\nfaces: {:?}\nnotices: {:?}\nlabels: {:?}",
                app.state().camera_state(),
                app.state().shown_faces(),
                app.state().notices().collect::<Vec<_>>(),
                labels(app).iter().map(|(l, _)| l).collect::<Vec<_>>()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Every text label on screen, with where it is.
fn labels(app: &App) -> Vec<(String, egui::Rect)> {
    app.query_all_by(|n| n.role() == Role::Label)
        .map(|n| (n.accesskit_node().value().unwrap_or_default(), n.rect()))
        .collect()
}

/// Name plates on faces: "NAME NN%" labels, with their rects.
fn plates_of(app: &App, name: &str) -> Vec<egui::Rect> {
    let prefix = format!("{name} ");
    labels(app)
        .into_iter()
        .filter(|(l, _)| {
            l.strip_prefix(&prefix)
                .and_then(|rest| rest.strip_suffix('%'))
                .is_some_and(|n| n.parse::<u32>().is_ok_and(|n| n <= 100))
        })
        .map(|(_, r)| r)
        .collect()
}

fn unknown_plates(app: &App) -> usize {
    labels(app).iter().filter(|(l, _)| l == "Unknown").count()
}

fn has_label(app: &App, text: &str) -> bool {
    labels(app).iter().any(|(l, _)| l == text)
}

fn click_button(app: &App, label: &str) {
    app.get_by_role_and_label(Role::Button, label).click();
}

/// The button `label` on the same row as the person `name` in the people list.
fn click_in_row(app: &App, name: &str, label: &str) {
    let row = app
        .query_all_by(|n| n.role() == Role::Label && n.value().as_deref() == Some(name))
        .map(|n| n.rect())
        .next()
        .unwrap_or_else(|| panic!("{name} is not in the people list"));
    // The buttons sit under the name, before the next person's name.
    let button = app
        .query_all_by_role_and_label(Role::Button, label)
        .filter(|n| n.rect().center().y > row.center().y)
        .min_by(|a, b| {
            let d = |n: &egui_kittest::Node<'_>| (n.rect().center().y - row.center().y).abs();
            d(a).total_cmp(&d(b))
        })
        .unwrap_or_else(|| panic!("no {label} button"));
    button.click();
}

/// Types into the enrollment form's name field, as a user would.
fn type_into_name_field(app: &mut App, text: &str) {
    app.get_by(|n| n.role() == Role::TextInput).click();
    app.step();
    app.get_by(|n| n.role() == Role::TextInput).type_text(text);
    app.step();
    app.step();
    let value = app.get_by(|n| n.role() == Role::TextInput).value();
    assert_eq!(value.as_deref(), Some(text), "the name field did not take the text");
}

fn people_on_disk(data: &Path) -> Vec<String> {
    Gallery::open(data).unwrap().people().iter().map(|p| p.name.clone()).collect()
}

struct Scene {
    _tmp: tempfile::TempDir,
    data: PathBuf,
    video: PathBuf,
    snapshots: PathBuf,
}

/// A data folder with `people` enrolled from photos, and a video of `segments`.
fn scene(datasets: &Path, people: &[(u32, &str)], segments: &[Segment]) -> Scene {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    enroll_photos(&data, datasets, tmp.path(), people);
    let video = tmp.path().join("scene.avi");
    make_video(datasets, &video, segments);
    let snapshots = tmp.path().join("Pictures");
    Scene { data, video, snapshots, _tmp: tmp }
}

#[test]
fn names_appear_on_the_right_faces_and_follow_the_mirror() {
    let datasets = require_datasets!();
    // Brian (AT&T s2) on the left of the video, Chloé (s3) on the right.
    let s = scene(&datasets, &[(2, "Brian"), (3, "Chloé")], &[seg(&[2, 3], 250)]);
    let mut app = window(options(&s.data, Source::File(s.video.clone()), &s.snapshots), test_settings());

    let both = |app: &App| !plates_of(app, "Brian").is_empty() && !plates_of(app, "Chloé").is_empty();
    wait_for(&mut app, "both names on screen", 60, both);
    let (brian, chloe) = (plates_of(&app, "Brian")[0], plates_of(&app, "Chloé")[0]);
    assert!(brian.center().x < chloe.center().x, "Brian {brian:?} should be left of Chloé {chloe:?}");
    // Every known face on screen has its plate.
    for face in app.state().shown_faces().iter().filter(|f| f.known) {
        let name = face.name.clone().unwrap_or_default();
        let plate = plates_of(&app, &name);
        assert!(!plate.is_empty(), "no plate for {name}");
    }
    let camera = app.state().camera_state().clone();
    assert!(matches!(camera, CameraState::Live { width: 640, height: 480, .. }), "{camera:?}");

    // The mirror swaps them on screen, as in a mirror.
    app.key_press(egui::Key::M);
    let swapped = |app: &App| {
        let (b, c) = (plates_of(app, "Brian"), plates_of(app, "Chloé"));
        !b.is_empty() && !c.is_empty() && b[0].center().x > c[0].center().x
    };
    wait_for(&mut app, "mirrored names", 30, swapped);
    assert!(app.state().settings().mirror);

    // A snapshot (S) writes the annotated picture as a PNG.
    app.key_press(egui::Key::S);
    wait_for(&mut app, "the snapshot", 20, |app| app.state().notices().any(|n| n.starts_with("Snapshot saved to")));
    let shots: Vec<_> = std::fs::read_dir(&s.snapshots).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(shots.len(), 1, "{shots:?}");
    let shot = facecam::cv::read_image(&shots[0]).unwrap();
    use opencv::prelude::MatTraitConst;
    assert_eq!((shot.cols(), shot.rows()), (640, 480));

    // Pause (Space) freezes the picture.
    app.key_press(egui::Key::Space);
    app.step();
    assert!(app.state().is_paused());
}

#[test]
fn an_enrollment_done_by_clicks_makes_a_new_person_recognized() {
    let datasets = require_datasets!();
    // Dmitri (s4) alone in view, not enrolled yet.
    let s = scene(&datasets, &[(2, "Brian")], &[seg(&[4], 200)]);
    let mut app = window(options(&s.data, Source::File(s.video.clone()), &s.snapshots), test_settings());
    wait_for(&mut app, "an unknown face", 60, |app| unknown_plates(app) > 0);
    assert!(plates_of(&app, "Dmitri").is_empty());

    type_into_name_field(&mut app, "Dmitri");
    click_button(&app, "Enroll");
    wait_for(&mut app, "the enrollment to start", 10, |app| app.state().enrollment().is_some());
    wait_for(&mut app, "the progress bar", 10, |app| app.query_all_by_role(Role::ProgressIndicator).next().is_some());
    wait_for(&mut app, "Dmitri in the people list", 60, |app| app.state().people().iter().any(|p| p.name == "Dmitri"));
    assert!(people_on_disk(&s.data).contains(&"Dmitri".to_owned()));
    let card = app.state().people().iter().find(|p| p.name == "Dmitri").cloned().unwrap();
    assert_eq!(card.samples, 10);
    assert!(card.thumbnail.is_some(), "the new person has no thumbnail");
    assert!(app.state().notices().any(|n| n.contains("Dmitri is enrolled")));

    // Recognized by the running pipeline, with no restart.
    wait_for(&mut app, "Dmitri's name on the face", 30, |app| !plates_of(app, "Dmitri").is_empty());
}

#[test]
fn cancelling_an_enrollment_saves_nothing() {
    let datasets = require_datasets!();
    let s = scene(&datasets, &[(2, "Brian")], &[seg(&[4], 200)]);
    let settings = AppSettings { enroll_samples: 100, ..test_settings() };
    let mut app = window(options(&s.data, Source::File(s.video.clone()), &s.snapshots), settings);
    wait_for(&mut app, "the video", 60, |app| app.state().camera_state().is_live());
    wait_for(&mut app, "the people list", 20, |app| has_label(app, "Brian"));
    // More samples for Brian, from his row in the list.
    click_in_row(&app, "Brian", "Add samples");
    wait_for(&mut app, "some samples", 30, |app| app.state().enrollment().is_some_and(|e| e.collected >= 2));
    // While he is being enrolled he can be neither renamed nor deleted, and
    // the picture cannot be paused.
    for label in ["Rename", "Delete"] {
        let button = app.get_by_role_and_label(Role::Button, label);
        assert!(button.accesskit_node().is_disabled(), "{label} is enabled during Brian's enrollment");
    }
    app.key_press(egui::Key::Space);
    app.step();
    assert!(!app.state().is_paused());
    assert!(app.state().notices().any(|n| n.contains("Pause is off while enrolling")));

    app.get_all_by_role_and_label(Role::Button, "Cancel").next().unwrap().click();
    wait_for(&mut app, "the cancel", 10, |app| app.state().notices().any(|n| n.contains("cancelled")));
    assert!(app.state().enrollment().is_none());
    let gallery = Gallery::open(&s.data).unwrap();
    assert_eq!(people_on_disk(&s.data), vec!["Brian".to_owned()]);
    assert_eq!(gallery.find("Brian").unwrap().sample_count(), 5, "samples were saved after Cancel");
}

#[test]
fn rename_and_delete_from_the_people_panel() {
    let datasets = require_datasets!();
    let s = scene(&datasets, &[(2, "Brian"), (3, "Chloé")], &[seg(&[2], 250)]);
    let mut app = window(options(&s.data, Source::File(s.video.clone()), &s.snapshots), test_settings());
    wait_for(&mut app, "Brian on the face", 60, |app| !plates_of(app, "Brian").is_empty());
    assert!(app.state().people().iter().all(|p| p.thumbnail.is_some() && p.samples == 5));
    assert!(has_label(&app, "5 samples"));

    // Rename: the field starts with the old name; replace it and save.
    click_in_row(&app, "Brian", "Rename");
    app.step();
    app.step();
    app.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    app.get_by(|n| n.role() == Role::TextInput && n.value().as_deref() == Some("Brian")).type_text("Bruno");
    app.step();
    click_button(&app, "Save");
    wait_for(&mut app, "the rename", 20, |app| app.state().people().iter().any(|p| p.name == "Bruno"));
    assert_eq!(people_on_disk(&s.data), vec!["Bruno".to_owned(), "Chloé".to_owned()]);
    // The live view uses the new name at once.
    wait_for(&mut app, "Bruno on the face", 30, |app| !plates_of(app, "Bruno").is_empty());
    assert!(plates_of(&app, "Brian").is_empty());

    // Delete asks first; Cancel keeps the person.
    let chloe_dir = {
        let g = Gallery::open(&s.data).unwrap();
        let p = g.find("Chloé").unwrap().clone();
        g.sample_paths(&p)[0].parent().unwrap().to_owned()
    };
    click_in_row(&app, "Chloé", "Delete");
    wait_for(&mut app, "the confirmation", 5, |app| has_label(app, "Delete Chloé?"));
    click_button(&app, "Cancel");
    app.step();
    app.step();
    assert!(!has_label(&app, "Delete Chloé?"));
    assert!(chloe_dir.is_dir());

    click_in_row(&app, "Chloé", "Delete");
    app.step();
    click_button(&app, "Delete Chloé");
    wait_for(&mut app, "the delete", 20, |app| app.state().people().iter().all(|p| p.name != "Chloé"));
    assert_eq!(people_on_disk(&s.data), vec!["Bruno".to_owned()]);
    assert!(!chloe_dir.exists(), "Chloé's samples are still on disk");
    assert!(app.state().notices().any(|n| n.contains("Deleted Chloé")));
}

#[test]
fn the_threshold_slider_changes_known_and_unknown() {
    let datasets = require_datasets!();
    let s = scene(&datasets, &[(2, "Brian")], &[seg(&[2], 250)]);
    let mut app = window(options(&s.data, Source::File(s.video.clone()), &s.snapshots), test_settings());
    wait_for(&mut app, "Brian on the face", 60, |app| !plates_of(app, "Brian").is_empty());

    app.get_by_role_and_label(Role::Button, "Settings").click();
    wait_for(&mut app, "the settings panel", 5, |app| app.query_all_by_role(Role::Slider).next().is_some());
    // The strictest threshold: nobody is close enough.
    app.query_all_by_role(Role::Slider).next().unwrap().set_value_accesskit(5.0);
    wait_for(&mut app, "Brian to turn unknown", 30, |app| {
        plates_of(app, "Brian").is_empty() && unknown_plates(app) > 0
    });
    assert_eq!(app.state().settings().thresholds.lbph, 5.0);
    assert!(app.state().shown_faces().iter().all(|f| !f.known));

    // And back to lenient: Brian is named again.
    app.query_all_by_role(Role::Slider).next().unwrap().set_value_accesskit(60.0);
    wait_for(&mut app, "Brian again", 30, |app| !plates_of(app, "Brian").is_empty());
}

#[test]
fn no_camera_shows_what_to_do_and_a_video_can_be_opened_instead() {
    let datasets = require_datasets!();
    let s = scene(&datasets, &[(2, "Brian")], &[seg(&[2], 250)]);
    // A camera index no machine has.
    let mut app = window(options(&s.data, Source::Camera(57), &s.snapshots), test_settings());
    wait_for(&mut app, "the no-camera message", 30, |app| has_label(app, "No camera found"));
    assert!(matches!(app.state().camera_state(), CameraState::NotFound { .. }));
    assert!(app.query_by_role_and_label(Role::Button, "Retry").is_some());

    click_button(&app, "Open video file…");
    wait_for(&mut app, "the file dialog", 5, |app| app.query_by_role_and_label(Role::Button, "Up").is_some());
    let typed = app.get_all_by(|n| n.role() == Role::TextInput).last().unwrap();
    typed.focus();
    app.step();
    app.get_all_by(|n| n.role() == Role::TextInput).last().unwrap().type_text(&s.video.display().to_string());
    app.step();
    click_button(&app, "Open");
    wait_for(&mut app, "the video instead", 60, |app| !plates_of(app, "Brian").is_empty());
    assert_eq!(app.state().settings().recent_videos, vec![s.video.clone()]);
}

#[test]
fn a_video_that_ends_says_so_and_plays_again() {
    let datasets = require_datasets!();
    let s = scene(&datasets, &[(2, "Brian")], &[seg(&[2], 40)]);
    let settings = AppSettings { loop_video: false, ..test_settings() };
    let mut app = window(options(&s.data, Source::File(s.video.clone()), &s.snapshots), settings);
    wait_for(&mut app, "the end of the video", 60, |app| {
        matches!(app.state().camera_state(), CameraState::Ended { .. })
    });
    // The last picture stays, with what happened and what to do over it.
    app.step();
    let said = labels(&app).into_iter().any(|(l, _)| l.ends_with(" ended") || l == "The video ended");
    assert!(said, "the end of the video is not shown: {:?}", labels(&app));
    click_button(&app, "Play again");
    wait_for(&mut app, "the video again", 30, |app| app.state().camera_state().is_live());

    // A video that cannot be opened is not called a missing camera.
    let missing = s.video.with_file_name("missing.avi");
    let mut app = window(options(&s.data, Source::File(missing), &s.snapshots), test_settings());
    wait_for(&mut app, "the bad-video message", 30, |app| has_label(app, "The video could not be opened"));
    assert!(!has_label(&app, "No camera found"));
    assert!(app.query_by_role_and_label(Role::Button, "Open video file…").is_some());
}

#[test]
fn a_gallery_that_cannot_be_read_says_so_and_recovers_on_retry() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("gallery.json"), b"{ not json").unwrap();
    let mut app = window(options(&data, Source::Camera(57), tmp.path()), test_settings());
    wait_for(&mut app, "the gallery error", 20, |app| has_label(app, "The gallery could not be loaded"));
    assert!(labels(&app).iter().any(|(l, _)| l.contains("gallery.json")), "the error does not name the file");
    // Nothing was touched, and the window is still up.
    assert_eq!(std::fs::read(data.join("gallery.json")).unwrap(), b"{ not json");

    std::fs::remove_file(data.join("gallery.json")).unwrap();
    click_button(&app, "Retry");
    wait_for(&mut app, "the empty-gallery hint", 20, |app| has_label(app, "Nobody is enrolled yet."));
}

#[test]
fn settings_are_saved_for_the_next_run() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut app = window(options(&data, Source::Camera(57), tmp.path()), test_settings());
    app.key_press(egui::Key::M);
    app.step();
    let mut storage = MemoryStorage::default();
    eframe::App::save(app.state_mut(), &mut storage);
    let saved: AppSettings = eframe::get_value(&storage, "facecam-settings").expect("settings were not saved");
    assert!(saved.mirror);
    // The source given for this run is not remembered over the user's own.
    assert_eq!(saved.source, facecam::ui::SourceChoice::Camera(0));
    assert_eq!(saved, *app.state().settings());
}

#[derive(Default)]
struct MemoryStorage(std::collections::HashMap<String, String>);

impl eframe::Storage for MemoryStorage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }
    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }
    fn flush(&mut self) {}
}

/// Renders the window with wgpu (lavapipe on machines without a GPU) and
/// compares it with the stored picture; `UPDATE_SNAPSHOTS=1` rewrites it.
#[test]
fn the_empty_no_camera_window_renders_as_in_the_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut app = window(options(&data, Source::Camera(57), Path::new("/nonexistent/Pictures")), test_settings());
    wait_for(&mut app, "a settled window", 30, |app| {
        has_label(app, "Nobody is enrolled yet.")
            && matches!(app.state().camera_state(), CameraState::NotFound { retrying: true, .. })
    });
    app.step();
    app.snapshot("window_no_camera");
}

/// Known and unknown faces really are drawn in different colours.
#[test]
fn known_and_unknown_faces_render_in_their_colours() {
    let datasets = require_datasets!();
    // Brian (s2) is known; Eve (s7) is not.
    let s = scene(&datasets, &[(2, "Brian")], &[seg(&[2, 7], 250)]);
    let mut app = window(options(&s.data, Source::File(s.video.clone()), &s.snapshots), test_settings());
    wait_for(&mut app, "a known and an unknown face", 60, |app| {
        !plates_of(app, "Brian").is_empty() && unknown_plates(app) > 0
    });
    app.key_press(egui::Key::Space);
    app.step();
    let image = app.render().expect("rendering failed");
    let count = |c: egui::Color32| {
        image
            .pixels()
            .filter(|p| p.0[..3].iter().zip([c.r(), c.g(), c.b()]).all(|(a, b)| (*a as i32 - b as i32).abs() <= 8))
            .count()
    };
    let (green, orange) = (count(facecam::ui::known_color()), count(facecam::ui::unknown_color()));
    assert!(green > 500, "known green pixels: {green}");
    assert!(orange > 500, "unknown orange pixels: {orange}");
}

#[test]
fn the_recognizer_can_be_switched_live() {
    let datasets = require_datasets!();
    let s = scene(&datasets, &[(2, "Brian")], &[seg(&[2], 250)]);
    let mut app = window(options(&s.data, Source::File(s.video.clone()), &s.snapshots), test_settings());
    wait_for(&mut app, "Brian on the face", 60, |app| !plates_of(app, "Brian").is_empty());
    app.get_by_role_and_label(Role::Button, "Settings").click();
    wait_for(&mut app, "the settings panel", 5, |app| {
        app.query_by_role_and_label(Role::ComboBox, "Recognizer").is_some()
    });

    // Fisherfaces needs two people: the window says so and names nobody.
    choose_recognizer(&mut app, "LBPH (recommended)", "Fisherfaces");
    wait_for(&mut app, "the Fisherfaces message", 20, |app| {
        app.state().notices().any(|n| n.contains("fisher recognizer cannot be used"))
    });
    wait_for(&mut app, "faces unknown under Fisherfaces", 20, |app| {
        plates_of(app, "Brian").is_empty() && unknown_plates(app) > 0
    });
    assert_eq!(app.state().settings().recognizer, facecam::recognizer::RecognizerKind::Fisher);

    // Eigenfaces works with one person, on its own distance scale (LBPH's
    // distances are tens, Eigenfaces' thousands).
    choose_recognizer(&mut app, "Fisherfaces", "Eigenfaces");
    wait_for(&mut app, "Eigenfaces distances", 20, |app| {
        app.state().shown_faces().iter().any(|f| f.distance.is_some_and(|d| d > 200.0))
    });
}

/// Opens the recognizer menu (showing `current`) and picks `choice`.
fn choose_recognizer(app: &mut App, current: &str, choice: &str) {
    let menu = app.get_by_role_and_label(Role::ComboBox, "Recognizer");
    assert_eq!(menu.value().as_deref(), Some(current));
    menu.click();
    wait_for(app, "the recognizer menu", 5, |app| app.query_by_label(choice).is_some());
    app.get_by_label(choice).click();
    app.step();
}
