//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use facecam::capture::Source;
use facecam::paths::DATA_DIR_ENV;
use facecam::recognizer::RecognizerKind;

/// Local, private face enrollment and identification.
///
/// Without a command, opens the desktop window. Face data never leaves this
/// machine: it is kept, owner-only, in the data folder.
#[derive(Debug, Parser)]
#[command(name = "facecam", version, about, long_about)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Folder holding the gallery [default: ~/.local/share/facecam]
    #[arg(long, global = true, env = DATA_DIR_ENV, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Config file [default: ~/.config/facecam/config.toml]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Haar cascade XML for face detection
    #[arg(long, global = true, value_name = "FILE")]
    pub cascade: Option<PathBuf>,
    /// More log output on stderr (-v info, -vv debug)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add a person (or more samples of one) from photos
    Enroll(EnrollArgs),
    /// Enroll everyone in a dataset folder: one sub-folder per person
    Import(ImportArgs),
    /// Name the faces in photos
    Identify(IdentifyArgs),
    /// List, rename or remove enrolled people
    #[command(subcommand)]
    People(PeopleCommand),
    /// Measure recognition accuracy on a labelled dataset (never touches the gallery)
    Eval(EvalArgs),
    /// Identify faces live from a camera or video without a window
    Run(RunArgs),
    /// Measure identification, detection, gallery loading and the live pipeline on the AT&T faces
    Bench(BenchArgs),
    /// List the cameras on this machine
    Cameras {
        #[arg(long)]
        json: bool,
    },
    /// Open the desktop window (the default)
    Gui(GuiArgs),
}

#[derive(Debug, Args, Default)]
pub struct GuiArgs {
    /// Start on this source instead of the remembered one: camera:0, /dev/videoN, a video file or frames/%04d.png
    #[arg(long, value_name = "SOURCE")]
    pub source: Option<Source>,
    /// Folder for snapshots [default: your pictures folder]
    #[arg(long, value_name = "DIR")]
    pub snapshot_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct EnrollArgs {
    /// The person's name; an existing name gets the new samples
    pub name: String,
    /// Photos, or folders of photos, each showing only this person's face
    #[arg(value_name = "PATH", required_unless_present = "source", conflicts_with = "source")]
    pub paths: Vec<PathBuf>,
    /// Enroll from a live source instead: camera:0, /dev/videoN, a video file or frames/%04d.png
    #[arg(long, value_name = "SOURCE")]
    pub source: Option<Source>,
    /// Samples to collect from the live source
    #[arg(long, default_value_t = 20, requires = "source", value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub samples: u16,
    #[command(flatten)]
    pub camera: CameraArgs,
    /// The images are already face crops: skip detection
    #[arg(long)]
    pub cropped: bool,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Folder with one sub-folder per person (the sub-folder name is the name)
    pub dataset_dir: PathBuf,
    /// The images are already face crops: skip detection
    #[arg(long)]
    pub cropped: bool,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct IdentifyArgs {
    /// Photos to look at
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<PathBuf>,
    /// Each image is one face crop: skip detection
    #[arg(long)]
    pub cropped: bool,
    /// Distance above which a face is unknown [default: from config]
    #[arg(long)]
    pub threshold: Option<f64>,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum PeopleCommand {
    /// List enrolled people
    List {
        #[arg(long)]
        json: bool,
    },
    /// Change a person's name (samples are kept)
    Rename {
        old: String,
        new: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete a person and all their face samples
    Remove {
        name: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Folder with one sub-folder per person
    pub dataset_dir: PathBuf,
    /// Images per person used for training (the first K by file name)
    #[arg(long, default_value_t = 5, value_name = "K")]
    pub train_per_person: usize,
    /// Use only the first N images per person (to validate inside the training half)
    #[arg(long, value_name = "N")]
    pub max_per_person: Option<usize>,
    /// People left out of training for the open-set figures [default: one in five]
    #[arg(long, value_name = "N")]
    pub unknown_people: Option<usize>,
    /// The images are already face crops: skip detection
    #[arg(long)]
    pub cropped: bool,
    #[arg(long, value_enum, default_value_t = RecognizerKind::Lbph)]
    pub recognizer: RecognizerKind,
    /// Distance above which a face is unknown [default: the recognizer's]
    #[arg(long)]
    pub threshold: Option<f64>,
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
}

/// How to open a live source.
#[derive(Debug, Args, Clone)]
pub struct CameraArgs {
    /// Requested camera width in pixels
    #[arg(long)]
    pub width: Option<u32>,
    /// Requested camera height in pixels
    #[arg(long)]
    pub height: Option<u32>,
    /// Requested camera frame rate
    #[arg(long)]
    pub fps: Option<f64>,
    /// Play a video file at its own frame rate (dropping frames vision cannot keep up with)
    #[arg(long)]
    pub realtime: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// camera:0, /dev/videoN, a video file, or an image sequence like frames/%04d.png
    #[arg(long, value_name = "SOURCE")]
    pub source: Source,
    /// Print one JSON line per processed frame on stdout
    #[arg(long)]
    pub json: bool,
    /// Write the video with boxes, names and confidence drawn on it (.avi: MJPG, .mp4: mp4v)
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Stop after this many frames
    #[arg(long, value_name = "N")]
    pub max_frames: Option<u64>,
    /// Start a video file again at its end
    #[arg(long = "loop")]
    pub looping: bool,
    /// Distance above which a face is unknown [default: from config]
    #[arg(long)]
    pub threshold: Option<f64>,
    #[command(flatten)]
    pub camera: CameraArgs,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Folder holding att_faces/ [default: $FACECAM_DATASETS or ../shared/datasets]
    #[arg(long, value_name = "DIR")]
    pub datasets: Option<PathBuf>,
    /// Frames per pipeline scene
    #[arg(long, default_value_t = 300)]
    pub frames: u32,
    /// Skip the (slow) live pipeline part
    #[arg(long)]
    pub no_pipeline: bool,
    /// Print one JSON document
    #[arg(long)]
    pub json: bool,
}
