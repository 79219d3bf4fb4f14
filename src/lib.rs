//! facecam: local, private face enrollment and identification.
//!
//! The vision core is [`detect`] (Haar cascade) → [`normalize`] (face crop)
//! → [`recognizer`] (`opencv::face`), with [`store`] keeping the gallery on
//! disk. The binary adds the CLI and the desktop window on top.

pub mod annotate;
pub mod bench;
pub mod capture;
pub mod cascade;
pub mod config;
pub mod cv;
pub mod dataset;
pub mod detect;
pub mod enrollment;
pub mod eval;
pub mod fsutil;
pub mod identify;
pub mod latest;
pub mod matcher;
pub mod model_cache;
pub mod names;
pub mod normalize;
pub mod paths;
pub mod pipeline;
pub mod recognizer;
pub mod store;
pub mod synth;
pub mod tracker;
pub mod ui;
pub mod worker;
