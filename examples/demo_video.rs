//! Writes a demo video from the AT&T faces, for trying the window without
//! a webcam: `cargo run --example demo_video -- DATASETS OUT.avi`.
//! Two people side by side, then one alone, then a third alone.

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
    let segments = [
        Segment { faces: vec![faces(1), faces(2)], frames: 150 },
        Segment { faces: vec![faces(3)], frames: 200 },
        Segment { faces: vec![faces(2)], frames: 100 },
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
