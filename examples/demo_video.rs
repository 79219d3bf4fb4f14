//! Writes a demo video from the AT&T faces, for trying the window without
//! a webcam: `cargo run --example demo_video -- DATASETS OUT.avi`.
//! Two people one at a time, then together, then a stranger.

use std::path::PathBuf;
use std::process::ExitCode;

use facecam::synth::{Segment, write_scene};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [datasets, out] = args.as_slice() else {
        eprintln!("usage: demo_video DATASETS OUT.avi   (DATASETS holds att_faces/)");
        return ExitCode::FAILURE;
    };
    let faces = |s: u32| -> Vec<PathBuf> {
        (6..=10).map(|i| PathBuf::from(datasets).join(format!("att_faces/s{s}/{i}.pgm"))).collect()
    };
    // Each person alone first (enroll them from the window), then together,
    // then a stranger.
    let segments = [
        Segment { faces: vec![faces(2)], frames: 200 },
        Segment { faces: vec![faces(3)], frames: 200 },
        Segment { faces: vec![faces(2), faces(3)], frames: 200 },
        Segment { faces: vec![faces(4)], frames: 100 },
    ];
    match write_scene(out.as_ref(), &segments, 640, 480, 25.0) {
        Ok(_) => {
            println!("wrote {out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot write {out}: {e}");
            ExitCode::FAILURE
        }
    }
}
