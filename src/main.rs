//! The `facecam` binary: command-line parsing, output, and the exit code.
//! All the work is in the library; errors become `anyhow` only here.

mod cli;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use opencv::core::Mat;
use serde::Serialize;
use serde_json::json;

use cli::{
    BenchArgs, CameraArgs, Cli, Command, EnrollArgs, EvalArgs, Global, GuiArgs, IdentifyArgs, ImportArgs,
    PeopleCommand, RunArgs,
};
use facecam::annotate;
use facecam::capture::{self, CaptureEvent, CaptureSettings, Source};
use facecam::cascade;
use facecam::config::Config;
use facecam::cv;
use facecam::dataset::{self, Skipped};
use facecam::detect::Detector;
use facecam::enrollment::EnrollmentSettings;
use facecam::eval::{self, EvalOptions, EvalProgress, EvalReport};
use facecam::identify::{self, Identified};
use facecam::latest::Delivery;
use facecam::names;
use facecam::paths;
use facecam::pipeline::Pipeline;
use facecam::recognizer::RecognizerKind;
use facecam::store::{Enrolled, Gallery, Person};
use facecam::worker::{self, EnrollmentOutcome, FrameReport, VisionEvent, WorkerSettings};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.global);
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(global: &Global) {
    let level = match (global.quiet, global.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("facecam={level},error")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .init();
}

/// Settings and places resolved from flags, environment and config.
struct Session {
    global: Global,
    config: Config,
}

impl Session {
    fn new(global: Global) -> Result<Self> {
        let config = match &global.config {
            Some(path) => Config::load(path, true)?,
            None => match paths::default_config_file() {
                Some(path) => Config::load(&path, false)?,
                None => Config::default(),
            },
        };
        Ok(Self { global, config })
    }

    fn data_dir(&self) -> Result<PathBuf> {
        Ok(paths::data_dir(self.global.data_dir.clone())?)
    }

    fn gallery(&self) -> Result<Gallery> {
        Ok(Gallery::open(&self.data_dir()?)?)
    }

    /// A detector for still photos.
    fn detector(&self) -> Result<Detector> {
        let path = cascade::locate(self.global.cascade.as_deref(), self.config.cascade.as_deref())?;
        tracing::debug!("using cascade {}", path.display());
        Ok(Detector::new(&path, self.config.photo_detector)?)
    }

    /// A detector unless the images are face crops already.
    fn detector_unless(&self, cropped: bool) -> Result<Option<Detector>> {
        if cropped { Ok(None) } else { self.detector().map(Some) }
    }

    fn worker_settings(&self, threshold: Option<f64>) -> Result<WorkerSettings> {
        let threshold = threshold.unwrap_or(self.config.recognizer.threshold);
        if !(threshold.is_finite() && threshold > 0.0) {
            bail!("--threshold {threshold} is not valid; use a positive number");
        }
        Ok(WorkerSettings {
            cascade: cascade::locate(self.global.cascade.as_deref(), self.config.cascade.as_deref())?,
            detector: self.config.detector,
            data_dir: self.data_dir()?,
            recognizer: RecognizerKind::Lbph,
            threshold,
            enrollment: EnrollmentSettings::default(),
            notify: Default::default(),
        })
    }

    fn progress(&self, len: usize, json: bool, message: &'static str) -> ProgressBar {
        if json || self.global.quiet || !std::io::stderr().is_terminal() {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(len as u64).with_message(message);
        if let Ok(style) = ProgressStyle::with_template("{msg:>10} [{bar:32}] {pos}/{len} {eta}") {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let ctx = Session::new(cli.global)?;
    match cli.command {
        None => gui(&ctx, GuiArgs::default()),
        Some(Command::Gui(args)) => gui(&ctx, args),
        Some(Command::Enroll(args)) => enroll(&ctx, args),
        Some(Command::Import(args)) => import(&ctx, args),
        Some(Command::Identify(args)) => identify_cmd(&ctx, args),
        Some(Command::People(cmd)) => people(&ctx, cmd),
        Some(Command::Eval(args)) => eval_cmd(&ctx, args),
        Some(Command::Run(args)) => run_cmd(&ctx, args),
        Some(Command::Cameras { json }) => cameras(json),
        Some(Command::Bench(args)) => bench_cmd(&ctx, args),
    }
}

/// Opens the window. A missing cascade is shown in the window rather than
/// refused here, so the people list stays usable.
fn gui(ctx: &Session, args: GuiArgs) -> Result<ExitCode> {
    let data_dir = ctx.data_dir()?;
    let options = facecam::ui::AppOptions {
        cascade: cascade::locate(ctx.global.cascade.as_deref(), ctx.config.cascade.as_deref())
            .map_err(|e| e.to_string()),
        detector: ctx.config.detector,
        config_threshold: ctx.config.recognizer.threshold,
        source: args.source,
        snapshot_dir: args.snapshot_dir.unwrap_or_else(|| facecam::ui::AppOptions::default_snapshot_dir(&data_dir)),
        probe_cameras: true,
        data_dir,
    };
    facecam::ui::run(options).map_err(|e| {
        anyhow::anyhow!(
            "the window could not be opened: {e}\nfacecam needs a graphical desktop (X11 or Wayland); the command-line tools work without one (facecam --help)"
        )
    })?;
    Ok(ExitCode::SUCCESS)
}

fn print_json(value: &impl Serialize) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

#[derive(Serialize)]
struct SkippedJson<'a> {
    path: &'a Path,
    reason: &'a str,
}

fn skipped_json(skipped: &[Skipped]) -> Vec<SkippedJson<'_>> {
    skipped.iter().map(|s| SkippedJson { path: &s.path, reason: &s.reason }).collect()
}

fn report_skipped(skipped: &[Skipped]) {
    for s in skipped {
        eprintln!("skipped {}: {}", s.path.display(), s.reason);
    }
}

/// Reads each image and takes its one face; what cannot be used is skipped
/// with the reason.
fn collect_samples(
    detector: &mut Option<Detector>,
    images: &[PathBuf],
    skipped: &mut Vec<Skipped>,
    bar: &ProgressBar,
) -> Result<Vec<Mat>> {
    let mut samples = Vec::new();
    for path in images {
        let outcome = cv::read_image(path)
            .map_err(|e| e.to_string())
            .and_then(|image| identify::enrollment_sample(detector.as_mut(), &image).map_err(|e| e.to_string()));
        match outcome {
            Ok(Ok(face)) => samples.push(face),
            Ok(Err(no_sample)) => skipped.push(Skipped { path: path.clone(), reason: no_sample.to_string() }),
            Err(reason) => skipped.push(Skipped { path: path.clone(), reason }),
        }
        bar.inc(1);
    }
    Ok(samples)
}

/// RFC 3339 time of a Unix timestamp ("unknown" if it is out of range).
fn format_created(unix_secs: u64) -> String {
    std::time::UNIX_EPOCH
        .checked_add(std::time::Duration::from_secs(unix_secs))
        .filter(|t| *t < std::time::UNIX_EPOCH + std::time::Duration::from_secs(253_402_300_799))
        .map(|t| humantime::format_rfc3339_seconds(t).to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

fn person_json(person: &Person) -> serde_json::Value {
    json!({
        "id": person.id,
        "name": person.name,
        "samples": person.sample_count(),
        "created": format_created(person.created_unix_secs),
        "created_unix_secs": person.created_unix_secs,
    })
}

fn enroll(ctx: &Session, args: EnrollArgs) -> Result<ExitCode> {
    let name = names::validate_name(&args.name)?;
    if let Some(source) = args.source.clone() {
        return enroll_live(ctx, &name, source, &args);
    }
    let mut gallery = ctx.gallery()?;
    let mut detector = ctx.detector_unless(args.cropped)?;
    let (images, mut skipped) = dataset::expand_image_paths(&args.paths);
    let given = images.len() + skipped.len();
    let bar = ctx.progress(images.len(), args.json, "reading");
    let samples = collect_samples(&mut detector, &images, &mut skipped, &bar)?;
    bar.finish_and_clear();
    if samples.is_empty() {
        if !args.json {
            report_skipped(&skipped);
        }
        bail!("no usable face in the {given} given image(s); nothing was changed");
    }
    let mut model = gallery.load_model()?.recognizer;
    let enrolled = gallery.enroll(&mut model, &[(&name, &samples)])?;
    let Some(Enrolled { person, added, new_person }) = enrolled.into_iter().next() else {
        bail!("enrollment of {name:?} did not complete; nothing was changed");
    };
    if args.json {
        print_json(&json!({
            "person": person_json(&person),
            "added": added,
            "new_person": new_person,
            "skipped": skipped_json(&skipped),
        }))?;
    } else {
        report_skipped(&skipped);
        let what = if new_person { "Enrolled" } else { "Added samples to" };
        println!("{what} {} (id {}): {added} new samples, {} in all.", person.name, person.id, person.sample_count());
    }
    Ok(ExitCode::SUCCESS)
}

fn import(ctx: &Session, args: ImportArgs) -> Result<ExitCode> {
    let mut gallery = ctx.gallery()?;
    let mut detector = ctx.detector_unless(args.cropped)?;
    let (folders, mut skipped) = dataset::read_person_folders(&args.dataset_dir)?;
    let total: usize = folders.iter().map(|f| f.images.len()).sum();
    let bar = ctx.progress(total, args.json, "importing");
    let mut batch: Vec<(String, Vec<Mat>)> = Vec::new();
    for folder in &folders {
        let name = match names::validate_name(&folder.name) {
            Ok(name) => name,
            Err(e) => {
                skipped.push(Skipped { path: args.dataset_dir.join(&folder.name), reason: e.to_string() });
                bar.inc(folder.images.len() as u64);
                continue;
            }
        };
        let samples = collect_samples(&mut detector, &folder.images, &mut skipped, &bar)?;
        if samples.is_empty() {
            skipped.push(Skipped {
                path: args.dataset_dir.join(&folder.name),
                reason: "no usable face in this person's images".into(),
            });
        } else {
            batch.push((name, samples));
        }
    }
    bar.finish_and_clear();
    if batch.is_empty() {
        if !args.json {
            report_skipped(&skipped);
        }
        bail!("no usable face in {}; nothing was changed", args.dataset_dir.display());
    }
    let mut model = gallery.load_model()?.recognizer;
    let refs: Vec<(&str, &[Mat])> = batch.iter().map(|(n, s)| (n.as_str(), s.as_slice())).collect();
    let enrolled = gallery.enroll(&mut model, &refs)?;
    let added: usize = enrolled.iter().map(|e| e.added).sum();
    if args.json {
        let people: Vec<_> = enrolled
            .iter()
            .map(|e| json!({"id": e.person.id, "name": e.person.name, "added": e.added, "new_person": e.new_person, "samples": e.person.sample_count()}))
            .collect();
        print_json(&json!({"people": people, "added": added, "skipped": skipped_json(&skipped)}))?;
    } else {
        report_skipped(&skipped);
        let new = enrolled.iter().filter(|e| e.new_person).count();
        println!(
            "Imported {added} samples of {} people ({new} new) from {}.",
            enrolled.len(),
            args.dataset_dir.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn identify_cmd(ctx: &Session, args: IdentifyArgs) -> Result<ExitCode> {
    let threshold = args.threshold.unwrap_or(ctx.config.recognizer.threshold);
    if !(threshold.is_finite() && threshold > 0.0) {
        bail!("--threshold {threshold} is not valid; use a positive number");
    }
    let gallery = ctx.gallery()?;
    if gallery.total_samples() == 0 {
        bail!(
            "the gallery in {} is empty; enroll someone first: facecam enroll NAME PHOTO...",
            gallery.dir().display()
        );
    }
    let mut model = gallery.load_model()?.recognizer;
    let mut detector = ctx.detector_unless(args.cropped)?;
    let mut results = Vec::new();
    let mut failed = 0;
    for path in &args.images {
        let outcome = cv::read_image(path).map_err(anyhow::Error::from).and_then(|image| {
            identify::identify_image(detector.as_mut(), &mut model, &gallery, &image, threshold).map_err(Into::into)
        });
        if outcome.is_err() {
            failed += 1;
        }
        results.push((path, outcome));
    }
    if args.json {
        let images: Vec<_> = results
            .iter()
            .map(|(path, r)| match r {
                Ok(faces) => json!({"path": path, "faces": faces, "error": null}),
                Err(e) => json!({"path": path, "faces": [], "error": format!("{e:#}")}),
            })
            .collect();
        print_json(&json!({"threshold": threshold, "images": images}))?;
    } else {
        for (path, r) in &results {
            match r {
                Ok(faces) => print_faces(path, faces),
                Err(e) => eprintln!("{}: error: {e:#}", path.display()),
            }
        }
    }
    Ok(if failed > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn print_faces(path: &Path, faces: &[Identified]) {
    let count = match faces.len() {
        0 => "no faces".to_owned(),
        1 => "1 face".to_owned(),
        n => format!("{n} faces"),
    };
    println!("{}: {count}", path.display());
    for f in faces {
        let b = f.bbox;
        let who = match (&f.name, &f.nearest) {
            (Some(name), _) => format!("{name} {:.0}%", f.confidence),
            (None, Some(nearest)) => format!("Unknown (nearest {nearest}, {:.0}%)", f.confidence),
            (None, None) => "Unknown".to_owned(),
        };
        let distance = f.distance.map(|d| format!(" distance {d:.1}")).unwrap_or_default();
        println!("  {who:<36} at {},{} {}x{}{distance}", b.x, b.y, b.width, b.height);
    }
}

fn people(ctx: &Session, cmd: PeopleCommand) -> Result<ExitCode> {
    let mut gallery = ctx.gallery()?;
    match cmd {
        PeopleCommand::List { json } => {
            if json {
                let people: Vec<_> = gallery.people().iter().map(person_json).collect();
                print_json(&json!({"people": people}))?;
            } else if gallery.people().is_empty() {
                println!("Nobody is enrolled yet (gallery: {}).", gallery.dir().display());
                println!("Enroll someone with: facecam enroll NAME PHOTO...");
            } else {
                println!("{:>4}  {:<32} {:>7}  CREATED", "ID", "NAME", "SAMPLES");
                for p in gallery.people() {
                    let created = format_created(p.created_unix_secs);
                    println!("{:>4}  {:<32} {:>7}  {created}", p.id, p.name, p.sample_count());
                }
            }
        }
        PeopleCommand::Rename { old, new, json } => {
            let mut model = gallery.load_model()?.recognizer;
            let person = gallery.rename(&mut model, &old, &new)?;
            if json {
                print_json(&json!({"renamed": person_json(&person), "old_name": old}))?;
            } else {
                println!("Renamed {old} to {} (id {}).", person.name, person.id);
            }
        }
        PeopleCommand::Remove { name, json } => {
            let mut model = gallery.load_model()?.recognizer;
            let person = gallery.remove(&mut model, &name)?;
            if json {
                print_json(&json!({"removed": person_json(&person)}))?;
            } else {
                println!("Removed {} and deleted their {} face samples.", person.name, person.sample_count());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn eval_cmd(ctx: &Session, args: EvalArgs) -> Result<ExitCode> {
    let mut detector = ctx.detector_unless(args.cropped)?;
    let opts = EvalOptions {
        train_per_person: args.train_per_person,
        recognizer: args.recognizer,
        threshold: args.threshold,
        max_per_person: args.max_per_person,
        unknown_people: args.unknown_people,
    };
    let bar = ctx.progress(0, args.json, "loading");
    let mut on_progress = |p: EvalProgress| match p {
        EvalProgress::Loading { done, total } | EvalProgress::Testing { done, total } => {
            if bar.length() != Some(total as u64) {
                bar.set_length(total as u64);
                bar.set_message(if matches!(p, EvalProgress::Loading { .. }) { "loading" } else { "testing" });
            }
            bar.set_position(done as u64);
        }
    };
    let report = eval::evaluate(&args.dataset_dir, detector.as_mut(), &opts, &mut on_progress)
        .with_context(|| format!("evaluating on {}", args.dataset_dir.display()))?;
    bar.finish_and_clear();
    if args.json {
        print_json(&report)?;
    } else {
        print_eval(&report);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_eval(r: &EvalReport) {
    println!("Dataset     {} ({} people{})", r.dataset.display(), r.people, if r.cropped { ", cropped" } else { "" });
    println!("Recognizer  {} (threshold {})", r.recognizer, r.threshold);
    println!(
        "Split       first {} images per person train: {} train, {} test",
        r.train_per_person, r.n_train, r.n_test
    );
    println!("Accuracy    {:.2}% rank-1", r.accuracy * 100.0);
    if r.no_face > 0 {
        println!("No face     in {} images", r.no_face);
    }
    for line in &r.unreadable {
        println!("Unreadable  {line}");
    }
    if let Some(o) = &r.open_set {
        println!(
            "Open set    {:.1}% of {} images of {} unknown people rejected; {:.1}% of known test faces accepted as the right person",
            o.unknown_rejection_rate * 100.0,
            o.n_unknown,
            o.unknown_people.len(),
            o.known_acceptance_rate * 100.0
        );
    }
    if let Some(d) = &r.distances {
        println!(
            "Distances   genuine median {:.1} (p95 {:.1}); unknown median {:.1} (p5 {:.1})",
            d.genuine_median, d.genuine_p95, d.unknown_median, d.unknown_p5
        );
    }
    let t = &r.timings;
    println!(
        "Timings     {:.2} ms/image to load, {:.0} ms to train, {:.2} ms/face to identify, {:.0} ms in all",
        t.load_ms_per_image, t.train_ms, t.identify_ms_per_face, t.total_ms
    );
    let worst: Vec<_> = r.per_person.iter().filter(|p| p.correct < p.n_test).collect();
    if !worst.is_empty() {
        let list: Vec<_> = worst.iter().map(|p| format!("{} {}/{}", p.name, p.correct, p.n_test)).collect();
        println!("Missed      {}", list.join(", "));
    }
}

fn capture_settings(camera: &CameraArgs, looping: bool) -> CaptureSettings {
    CaptureSettings {
        width: camera.width,
        height: camera.height,
        fps: camera.fps,
        realtime: camera.realtime,
        looping,
        reconnect: true,
        ..CaptureSettings::default()
    }
}

/// Turns a camera event into a message for stderr, or an error when the
/// source could not be opened at all.
fn camera_event(event: &CaptureEvent, opened_once: &mut bool) -> Result<()> {
    match event {
        CaptureEvent::Opened { source, width, height, fps, backend } => {
            *opened_once = true;
            tracing::info!("opened {source}: {width}x{height} at {fps:.1} fps ({backend})");
        }
        CaptureEvent::NotFound { message, .. } if !*opened_once => bail!("{message}"),
        CaptureEvent::NotFound { message, .. } => tracing::warn!("{message}"),
        CaptureEvent::Disconnected { source, message } => tracing::warn!("{source} was lost: {message}"),
        CaptureEvent::Reconnecting { source, attempt, delay_ms } => {
            tracing::warn!("reopening {source} in {delay_ms} ms (attempt {attempt})")
        }
        CaptureEvent::EndOfStream { source, frames } => tracing::info!("{source} ended after {frames} frames"),
    }
    Ok(())
}

/// Writes annotated frames to a video file, opened at the first frame.
struct AnnotatedOutput {
    path: PathBuf,
    fps: f64,
    writer: Option<opencv::videoio::VideoWriter>,
    frames: u64,
}

impl AnnotatedOutput {
    fn write(&mut self, report: &mut FrameReport) -> Result<()> {
        use opencv::prelude::*;
        use opencv::videoio::{VideoWriter, VideoWriterTrait};
        if self.writer.is_none() {
            let ext = self.path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
            let code = match ext.as_str() {
                "avi" => ('M', 'J', 'P', 'G'),
                "mp4" | "m4v" | "mov" => ('m', 'p', '4', 'v'),
                _ => bail!("--output {}: use a .avi or .mp4 file name", self.path.display()),
            };
            let fourcc = VideoWriter::fourcc(code.0, code.1, code.2, code.3)?;
            let size = opencv::core::Size::new(report.image.cols(), report.image.rows());
            let writer = VideoWriter::new(&self.path, fourcc, self.fps, size, true)
                .with_context(|| format!("cannot write {}", self.path.display()))?;
            if !writer.is_opened()? {
                bail!(
                    "cannot write {}: OpenCV could not open it for writing (check the folder exists and is writable)",
                    self.path.display()
                );
            }
            self.writer = Some(writer);
        }
        annotate::draw_faces(&mut report.image, &report.faces)?;
        if let Some(writer) = &mut self.writer {
            VideoWriterTrait::write(writer, &report.image)?;
            self.frames += 1;
        }
        Ok(())
    }
}

/// Where `facecam run` sends each frame's result.
struct RunSink<'a> {
    json: bool,
    stdout: std::io::StdoutLock<'a>,
    output: Option<AnnotatedOutput>,
    processed: u64,
    faces_seen: usize,
    dropped: u64,
}

impl RunSink<'_> {
    fn report(&mut self, mut report: FrameReport) -> Result<()> {
        self.processed += 1;
        self.faces_seen += report.faces.len();
        self.dropped = report.dropped_frames;
        if self.json {
            serde_json::to_writer(&mut self.stdout, &report)?;
            writeln!(self.stdout)?;
        } else {
            let names: Vec<String> = report.faces.iter().map(annotate::face_label).collect();
            writeln!(self.stdout, "frame {:>6}  {:>5.1} ms  {}", report.seq, report.latency_ms, names.join(", "))?;
        }
        if let Some(out) = &mut self.output {
            out.write(&mut report)?;
        }
        Ok(())
    }
}

fn run_cmd(ctx: &Session, args: RunArgs) -> Result<ExitCode> {
    let settings = ctx.worker_settings(args.threshold)?;
    let pipeline = Pipeline::start(
        args.source.clone(),
        capture_settings(&args.camera, args.looping),
        settings,
        Delivery::Lossless,
    )?;
    let mut sink = RunSink {
        json: args.json,
        stdout: std::io::stdout().lock(),
        output: args.output.clone().map(|path| AnnotatedOutput { path, fps: 25.0, writer: None, frames: 0 }),
        processed: 0,
        faces_seen: 0,
        dropped: 0,
    };
    let mut opened_once = false;
    let done = |sink: &RunSink<'_>| args.max_frames.is_some_and(|max| sink.processed >= max);
    loop {
        crossbeam_channel::select! {
            recv(pipeline.reports.receiver()) -> report => {
                let Ok(report) = report else {
                    // The worker ended: what it said last is still in the queue.
                    for event in pipeline.events.try_iter() {
                        match event {
                            VisionEvent::Camera { event } => camera_event(&event, &mut opened_once)?,
                            VisionEvent::Error { message, fatal: true } => bail!("{message}"),
                            _ => {}
                        }
                    }
                    break;
                };
                sink.report(report)?;
                if done(&sink) {
                    break;
                }
            }
            recv(pipeline.events) -> event => {
                let Ok(event) = event else { break };
                match event {
                    VisionEvent::Camera { event } => {
                        if let CaptureEvent::Opened { fps, .. } = &event
                            && let Some(out) = &mut sink.output
                            && *fps > 0.0
                            && fps.is_finite()
                        {
                            out.fps = *fps;
                        }
                        camera_event(&event, &mut opened_once)?;
                    }
                    VisionEvent::Error { message, fatal: true } => bail!("{message}"),
                    VisionEvent::Error { message, fatal: false } => tracing::warn!("{message}"),
                    VisionEvent::Gallery { warning: Some(w), .. } => tracing::warn!("{w}"),
                    VisionEvent::Finished => {
                        // Reports still queued come first.
                        while let Ok(report) = pipeline.reports.try_recv() {
                            if done(&sink) {
                                break;
                            }
                            sink.report(report)?;
                        }
                        break;
                    }
                    _ => {}
                }
            }
        }
    }
    let RunSink { processed, faces_seen, dropped, output, .. } = sink;
    drop(pipeline);
    if !opened_once {
        bail!("{} could not be opened", args.source);
    }
    if !args.json {
        eprintln!("{processed} frames processed, {faces_seen} faces, {dropped} frames dropped");
    }
    if let Some(out) = output {
        eprintln!("wrote {} annotated frames to {}", out.frames, out.path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn enroll_live(ctx: &Session, name: &str, source: Source, args: &EnrollArgs) -> Result<ExitCode> {
    let settings = ctx.worker_settings(None)?;
    let pipeline =
        Pipeline::start(source.clone(), capture_settings(&args.camera, false), settings, Delivery::NewestWins)?;
    pipeline.send(worker::Command::StartEnrollment { name: name.to_owned(), samples: Some(args.samples.into()) });
    let bar = ctx.progress(args.samples.into(), args.json, "enrolling");
    let mut opened_once = false;
    let outcome = loop {
        crossbeam_channel::select! {
            recv(pipeline.reports.receiver()) -> report => {
                let Ok(report) = report else {
                    let mut outcome = None;
                    for event in pipeline.events.try_iter() {
                        match event {
                            VisionEvent::Camera { event } => camera_event(&event, &mut opened_once)?,
                            VisionEvent::Enrollment { outcome: o } => outcome = Some(o),
                            VisionEvent::Error { message, fatal: true } => bail!("{message}"),
                            _ => {}
                        }
                    }
                    break outcome;
                };
                if let Some(status) = &report.enrollment {
                    bar.set_position(status.collected as u64);
                    if let Some(hint) = status.hint {
                        bar.set_message(hint.message());
                    }
                }
            }
            recv(pipeline.events) -> event => {
                let Ok(event) = event else { break None };
                match event {
                    VisionEvent::Camera { event } => camera_event(&event, &mut opened_once)?,
                    VisionEvent::Enrollment { outcome } => break Some(outcome),
                    VisionEvent::Error { message, fatal: true } => bail!("{message}"),
                    VisionEvent::Error { message, .. } => tracing::warn!("{message}"),
                    VisionEvent::Finished => break None,
                    _ => {}
                }
            }
        }
    };
    bar.finish_and_clear();
    drop(pipeline);
    match outcome {
        Some(EnrollmentOutcome::Done { name, person_id, added, samples }) => {
            if args.json {
                print_json(&json!({"person": {"id": person_id, "name": name, "samples": samples}, "added": added}))?;
            } else {
                println!("Enrolled {name} (id {person_id}) from {source}: {added} new samples, {samples} in all.");
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(EnrollmentOutcome::Failed { message, .. }) => bail!("{message}"),
        Some(EnrollmentOutcome::Cancelled { .. }) => bail!("enrollment was cancelled; nothing was saved"),
        None if !opened_once => bail!("{source} could not be opened"),
        None => bail!("{source} ended before enough samples were collected; nothing was saved"),
    }
}

fn cameras(json: bool) -> Result<ExitCode> {
    let found = capture::list_cameras();
    if json {
        print_json(&json!({"cameras": found}))?;
    } else if found.is_empty() {
        println!("No cameras found. Plug one in, or use a video file: facecam run --source clip.mp4");
    } else {
        for c in &found {
            println!("{:<12} {:<32} {}x{}  {}", c.source, c.name, c.width, c.height, c.path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn bench_cmd(ctx: &Session, args: BenchArgs) -> Result<ExitCode> {
    let datasets = args
        .datasets
        .clone()
        .or_else(|| std::env::var_os("FACECAM_DATASETS").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("../shared/datasets"));
    let cascade = cascade::locate(ctx.global.cascade.as_deref(), ctx.config.cascade.as_deref())?;
    let work = tempfile::tempdir().context("cannot create a temporary folder for the benchmark")?;
    let quiet = args.json || ctx.global.quiet;
    let mut progress = |step: &str| {
        if !quiet {
            eprintln!("bench: {step}");
        }
    };
    let (detect, normalize_ms) = facecam::bench::bench_detect(&datasets, work.path(), &cascade, ctx.config.detector)?;
    let identify = facecam::bench::bench_identify(&datasets, work.path(), &[10, 100, 1000, 5000], &mut progress)?;
    let pipeline = if args.no_pipeline {
        Vec::new()
    } else {
        facecam::bench::bench_pipeline(
            &datasets,
            work.path(),
            &cascade,
            ctx.config.detector,
            &[(640, 480), (1280, 720)],
            args.frames,
            &mut progress,
        )?
    };
    let bytes_per_sample = facecam::recognizer::LBPH_HISTOGRAM_LEN * 4 + 4;
    if args.json {
        print_json(&json!({
            "identify": identify,
            "detect": detect,
            "normalize_ms": normalize_ms,
            "memory_bytes_per_sample": bytes_per_sample,
            "pipeline": pipeline,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("Identification per face (median) and gallery load time");
    println!(
        "{:>8} {:>14} {:>11} {:>11} {:>9} {:>9} {:>11}",
        "samples", "OpenCV predict", "facecam", "match only", "speed-up", "load", "cache"
    );
    for b in &identify {
        println!(
            "{:>8} {:>11.3} ms {:>8.3} ms {:>8.3} ms {:>8.1}x {:>6.1} ms {:>8.1} MB",
            b.samples,
            b.opencv_predict_ms,
            b.matcher_ms,
            b.match_only_ms,
            b.speedup,
            b.load_ms,
            b.cache_bytes as f64 / 1e6
        );
    }
    println!(
        "\nDetection per frame (median), crop normalization {normalize_ms:.3} ms, {bytes_per_sample} bytes per sample in memory"
    );
    for d in &detect {
        println!(
            "{:>10} at width {:>5}: {:>6.2} ms, {} faces",
            format!("{}x{}", d.width, d.height),
            d.working_width,
            d.ms,
            d.faces
        );
    }
    if !pipeline.is_empty() {
        println!("\nPipeline");
        println!(
            "{:>10} {:>8} {:>10} {:>10} {:>12} {:>10} {:>12} {:>10}",
            "input", "faces", "fps", "detect ms", "identify ms", "30fps in", "latency p50", "p95"
        );
        for b in &pipeline {
            println!(
                "{:>10} {:>8.2} {:>10.1} {:>10.2} {:>12.2} {:>10} {:>12.1} {:>10.1}",
                format!("{}x{}", b.width, b.height),
                b.faces_per_frame,
                b.throughput_fps,
                b.detect_ms_median,
                b.identify_ms_median,
                format!("{}/{}", b.realtime_processed, b.frames),
                b.latency_ms_median,
                b.latency_ms_p95
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
