//! The face gallery on disk: who is enrolled, their face samples, and a
//! cache of the trained model.
//!
//! Layout of the data folder (all owner-only):
//!
//! ```text
//! gallery.json            people: id, name, created time, sample files
//! faces/<id>/<n>.png      normalized face samples: the source of truth
//! cache/lbph-r<rev>.bin   LBPH histograms for manifest revision <rev>
//! ```
//!
//! `gallery.json` is the commit point of every change: samples are written
//! before it and deleted after it, so a crash never leaves the manifest
//! pointing at missing files, and files it does not name are swept away.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use opencv::core::Mat;
use opencv::prelude::*;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::cv::{self, VisionError};
use crate::fsutil::{self, FILE_MODE};
use crate::model_cache;
use crate::names::{self, NameError};
use crate::normalize::{FACE_HEIGHT, FACE_WIDTH};
use crate::recognizer::{Recognizer, RecognizerError, RecognizerKind};

pub const MANIFEST_FILE: &str = "gallery.json";
pub const FACES_DIR: &str = "faces";
pub const CACHE_DIR: &str = "cache";
const LOCK_FILE: &str = ".lock";
/// Version of `gallery.json`'s layout; bumped on incompatible changes.
const MANIFEST_FORMAT: u32 = 1;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("cannot access {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "the data folder {dir} is not writable ({source}); fix its permissions or choose another folder with --data-dir or FACECAM_DATA_DIR. Nothing was changed"
    )]
    ReadOnly { dir: PathBuf, source: io::Error },
    #[error(
        "the gallery manifest {path} is damaged: {reason}. Its files were left untouched; restore the file from a backup, or move the data folder away to start a new gallery"
    )]
    CorruptManifest { path: PathBuf, reason: String },
    #[error("another facecam is changing the gallery in {0}; try again when it is done")]
    Busy(PathBuf),
    #[error("nobody called {name:?} is enrolled{}", known_names_hint(.known))]
    UnknownPerson { name: String, known: Vec<String> },
    #[error("the name {0:?} is already taken by another person; pick another name, or remove that person first")]
    NameTaken(String),
    #[error(transparent)]
    InvalidName(#[from] NameError),
    #[error(transparent)]
    Vision(#[from] VisionError),
    #[error(transparent)]
    Recognizer(#[from] RecognizerError),
}

fn known_names_hint(known: &[String]) -> String {
    if known.is_empty() {
        "; the gallery is empty (enroll someone with `facecam enroll NAME IMAGE...`)".to_owned()
    } else {
        format!("; enrolled: {}", known.join(", "))
    }
}

/// One enrolled person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    /// Stable id; also the recognizer label. Never reused.
    pub id: u32,
    pub name: String,
    pub created_unix_secs: u64,
    /// Sample file names inside `faces/<id>/`.
    pub samples: Vec<String>,
    /// Number for the next sample file, so names are never reused.
    pub next_sample: u32,
}

impl Person {
    pub fn sample_count(&self) -> usize {
        self.samples.len()
    }

    /// The recognizer label for this person.
    pub fn label(&self) -> i32 {
        self.id as i32
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Manifest {
    format: u32,
    /// Bumped on every change; names the matching model cache.
    revision: u64,
    next_id: u32,
    people: Vec<Person>,
}

impl Default for Manifest {
    fn default() -> Self {
        Self { format: MANIFEST_FORMAT, revision: 0, next_id: 1, people: Vec::new() }
    }
}

/// What one enrollment added.
#[derive(Debug, Clone, PartialEq)]
pub struct Enrolled {
    pub person: Person,
    pub added: usize,
    /// False when the samples went to a person already enrolled.
    pub new_person: bool,
}

/// A model loaded for the current gallery, and why it had to be rebuilt
/// from the samples, if it was.
pub struct LoadedModel {
    pub recognizer: Recognizer,
    pub rebuilt_because: Option<String>,
    /// Sample files that could not be read while rebuilding.
    pub unreadable_samples: Vec<PathBuf>,
}

/// The gallery in a data folder. Reading needs nothing but the folder;
/// changes lock it, so two facecam processes never interleave writes.
#[derive(Debug)]
pub struct Gallery {
    dir: PathBuf,
    manifest: Manifest,
}

/// An exclusive lock on the data folder, released on drop.
struct WriteLock {
    _file: File,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io { path: path.to_owned(), source }
}

fn now_unix_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl Gallery {
    /// Opens the gallery in `dir`. A folder without a manifest is an empty
    /// gallery; nothing is created until the first change.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let manifest = read_manifest(dir)?;
        Ok(Self { dir: dir.to_owned(), manifest })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn people(&self) -> &[Person] {
        &self.manifest.people
    }

    pub fn total_samples(&self) -> usize {
        self.manifest.people.iter().map(Person::sample_count).sum()
    }

    /// The manifest revision; changes whenever the gallery does.
    pub fn revision(&self) -> u64 {
        self.manifest.revision
    }

    /// Finds a person by name, ignoring case.
    pub fn find(&self, name: &str) -> Option<&Person> {
        self.manifest.people.iter().find(|p| names::same_name(&p.name, name))
    }

    pub fn by_label(&self, label: i32) -> Option<&Person> {
        self.manifest.people.iter().find(|p| p.label() == label)
    }

    /// Paths of a person's sample files.
    pub fn sample_paths(&self, person: &Person) -> Vec<PathBuf> {
        let dir = self.person_dir(person.id);
        person.samples.iter().map(|s| dir.join(s)).collect()
    }

    fn person_dir(&self, id: u32) -> PathBuf {
        self.dir.join(FACES_DIR).join(id.to_string())
    }

    fn cache_path(&self, revision: u64) -> PathBuf {
        self.dir.join(CACHE_DIR).join(format!("lbph-r{revision}.bin"))
    }

    fn unknown(&self, name: &str) -> StoreError {
        StoreError::UnknownPerson {
            name: name.to_owned(),
            known: self.manifest.people.iter().map(|p| p.name.clone()).collect(),
        }
    }

    /// Loads the LBPH model for this gallery from its cache, or rebuilds it
    /// from the samples when the cache is missing, stale or damaged (and
    /// then tries to save a fresh cache).
    pub fn load_model(&self) -> Result<LoadedModel, StoreError> {
        let total = self.total_samples();
        if total == 0 {
            let recognizer = Recognizer::new(RecognizerKind::Lbph)?;
            return Ok(LoadedModel { recognizer, rebuilt_because: None, unreadable_samples: Vec::new() });
        }
        let cache = self.cache_path(self.manifest.revision);
        let reason = match fs::read(&cache) {
            Ok(bytes) => match model_cache::decode(&bytes) {
                // Fewer is fine: samples that could not be read were left out
                // when this revision's cache was built.
                Ok(matcher) if matcher.len() <= total && !matcher.is_empty() => {
                    let recognizer = Recognizer::lbph_from_matcher(matcher)?;
                    return Ok(LoadedModel { recognizer, rebuilt_because: None, unreadable_samples: Vec::new() });
                }
                Ok(matcher) => format!(
                    "the model cache {} is damaged (it holds {} samples, the gallery {total})",
                    cache.display(),
                    matcher.len()
                ),
                Err(e) => format!("the model cache {} is damaged ({e})", cache.display()),
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => format!("the model cache {} is missing", cache.display()),
            Err(e) => format!("the model cache {} cannot be read ({e})", cache.display()),
        };
        tracing::warn!("{reason}; rebuilding it from {total} face samples");
        let (recognizer, unreadable_samples) = self.train_from_samples()?;
        if let Err(e) = self.save_cache(&recognizer) {
            tracing::warn!("could not save the rebuilt model cache: {e}");
        }
        Ok(LoadedModel { recognizer, rebuilt_because: Some(reason), unreadable_samples })
    }

    /// Trains a fresh LBPH model on every readable sample file.
    fn train_from_samples(&self) -> Result<(Recognizer, Vec<PathBuf>), StoreError> {
        self.train_kind(RecognizerKind::Lbph)
    }

    /// Trains a recognizer of any kind from the stored samples (Eigenfaces
    /// and Fisherfaces cannot be cached or updated, so they are trained
    /// whole); also returns the samples that could not be read.
    pub fn train_kind(&self, kind: RecognizerKind) -> Result<(Recognizer, Vec<PathBuf>), StoreError> {
        let mut faces = Vec::with_capacity(self.total_samples());
        let mut labels = Vec::with_capacity(self.total_samples());
        let mut unreadable = Vec::new();
        for person in &self.manifest.people {
            for path in self.sample_paths(person) {
                match read_sample(&path) {
                    Ok(face) => {
                        faces.push(face);
                        labels.push(person.label());
                    }
                    Err(e) => {
                        tracing::warn!("skipping face sample {}: {e}", path.display());
                        unreadable.push(path);
                    }
                }
            }
        }
        let mut recognizer = Recognizer::new(kind)?;
        recognizer.train(&faces, &labels)?;
        Ok((recognizer, unreadable))
    }

    /// Writes the model cache for the current revision and deletes older
    /// ones (they hold the histograms of people who may have been removed).
    fn save_cache(&self, recognizer: &Recognizer) -> Result<(), StoreError> {
        let dir = self.dir.join(CACHE_DIR);
        fsutil::create_private_dir(&dir).map_err(io_err(&dir))?;
        let path = self.cache_path(self.manifest.revision);
        if let Some(matcher) = recognizer.lbph_matcher().filter(|m| !m.is_empty()) {
            fsutil::write_atomic(&path, &model_cache::encode(matcher)).map_err(io_err(&path))?;
        }
        remove_files_except(&dir, &path)
    }

    /// Takes the write lock and re-reads the manifest, so a change made by
    /// another process since we opened is not overwritten.
    fn begin_change(&mut self, model: &mut Recognizer) -> Result<WriteLock, StoreError> {
        let lock = self.lock()?;
        let current = read_manifest(&self.dir)?;
        if current != self.manifest {
            self.manifest = current;
            *model = self.load_model()?.recognizer;
        }
        Ok(lock)
    }

    fn lock(&self) -> Result<WriteLock, StoreError> {
        let read_only = |source| StoreError::ReadOnly { dir: self.dir.clone(), source };
        fsutil::create_private_dir(&self.dir).map_err(read_only)?;
        let path = self.dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(FILE_MODE)
            .open(&path)
            .map_err(read_only)?;
        match file.try_lock() {
            Ok(()) => Ok(WriteLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(StoreError::Busy(self.dir.clone())),
            Err(TryLockError::Error(e)) => Err(io_err(&path)(e)),
        }
    }

    fn commit(&mut self, mut next: Manifest) -> Result<(), StoreError> {
        next.revision = self.manifest.revision + 1;
        let path = self.dir.join(MANIFEST_FILE);
        let json = serde_json::to_vec_pretty(&next).map_err(|e| io_err(&path)(io::Error::other(e)))?;
        fsutil::write_atomic(&path, &json).map_err(|source| self.write_error(&path, source))?;
        self.manifest = next;
        // Now that the manifest says what is ours, leftovers can go.
        self.sweep();
        Ok(())
    }

    /// Permission problems are the data folder's; anything else (a full
    /// disk, an I/O error) is reported as what it is.
    fn write_error(&self, path: &Path, source: io::Error) -> StoreError {
        match source.kind() {
            io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
                StoreError::ReadOnly { dir: self.dir.clone(), source }
            }
            _ => io_err(path)(source),
        }
    }

    /// Adds face samples to people, creating those not yet enrolled; one
    /// manifest commit and one model update for the whole batch. `model`
    /// must be this gallery's model and is updated in place (no retrain).
    pub fn enroll(&mut self, model: &mut Recognizer, batch: &[(&str, &[Mat])]) -> Result<Vec<Enrolled>, StoreError> {
        let mut checked = Vec::with_capacity(batch.len());
        for (name, faces) in batch {
            checked.push((names::validate_name(name)?, *faces));
        }
        let _lock = self.begin_change(model)?;
        let mut next = self.manifest.clone();
        let mut written: Vec<PathBuf> = Vec::new();
        let mut created_dirs: Vec<PathBuf> = Vec::new();
        let mut new_faces = Vec::new();
        let mut new_labels = Vec::new();
        let mut outcomes = Vec::new();
        let result = (|| {
            for (name, faces) in &checked {
                let index = match next.people.iter().position(|p| names::same_name(&p.name, name)) {
                    Some(i) => i,
                    None => {
                        next.people.push(Person {
                            id: next.next_id,
                            name: name.clone(),
                            created_unix_secs: now_unix_secs(),
                            samples: Vec::new(),
                            next_sample: 1,
                        });
                        next.next_id =
                            next.next_id.checked_add(1).filter(|id| *id <= i32::MAX as u32).ok_or_else(|| {
                                StoreError::CorruptManifest {
                                    path: self.dir.join(MANIFEST_FILE),
                                    reason: "no person ids are left".into(),
                                }
                            })?;
                        next.people.len() - 1
                    }
                };
                let person = &mut next.people[index];
                let new_person = person.samples.is_empty();
                let dir = self.person_dir(person.id);
                if !dir.exists() {
                    fsutil::create_private_dir(&dir).map_err(io_err(&dir))?;
                    created_dirs.push(dir.clone());
                }
                for face in *faces {
                    let file = format!("{:06}.png", person.next_sample);
                    let path = dir.join(&file);
                    fsutil::write_atomic(&path, &cv::encode_png(face)?).map_err(io_err(&path))?;
                    written.push(path);
                    person.samples.push(file);
                    person.next_sample += 1;
                    new_faces.push(
                        face.try_clone().map_err(|source| VisionError::OpenCv { context: "copying a face", source })?,
                    );
                    new_labels.push(person.label());
                }
                outcomes.push((person.id, faces.len(), new_person));
            }
            // Histograms before the commit: once the manifest is written the
            // enrollment has happened, and nothing after it may fail it.
            model.update(&new_faces, &new_labels)?;
            self.commit(next)
        })();
        if let Err(e) = result {
            for path in written {
                let _ = fs::remove_file(path);
            }
            for dir in created_dirs {
                let _ = fs::remove_dir(dir);
            }
            // The model may hold histograms of samples that were not saved.
            if let Ok(loaded) = self.load_model() {
                *model = loaded.recognizer;
            }
            return Err(e);
        }
        if let Err(e) = self.save_cache(model) {
            tracing::warn!("could not save the model cache (it will be rebuilt next time): {e}");
        }
        Ok(outcomes
            .into_iter()
            .filter_map(|(id, added, new_person)| {
                let person = self.manifest.people.iter().find(|p| p.id == id)?.clone();
                Some(Enrolled { person, added, new_person })
            })
            .collect())
    }

    /// Changes a person's display name; samples and model are untouched.
    pub fn rename(&mut self, model: &mut Recognizer, old: &str, new: &str) -> Result<Person, StoreError> {
        let new = names::validate_name(new)?;
        let _lock = self.begin_change(model)?;
        let id = self.find(old).ok_or_else(|| self.unknown(old))?.id;
        if self.manifest.people.iter().any(|p| p.id != id && names::same_name(&p.name, &new)) {
            return Err(StoreError::NameTaken(new));
        }
        let mut next = self.manifest.clone();
        let person = next.people.iter_mut().find(|p| p.id == id).ok_or_else(|| self.unknown(old))?;
        person.name = new;
        let renamed = person.clone();
        self.commit(next)?;
        // The cache is keyed by revision; carry it over rather than rebuild.
        if let Err(e) = self.save_cache(model) {
            tracing::warn!("could not save the model cache (it will be rebuilt next time): {e}");
        }
        Ok(renamed)
    }

    /// Removes a person: their samples are deleted from disk and `model` is
    /// rebuilt from everyone else's samples.
    pub fn remove(&mut self, model: &mut Recognizer, name: &str) -> Result<Person, StoreError> {
        let _lock = self.begin_change(model)?;
        let person = self.find(name).ok_or_else(|| self.unknown(name))?.clone();
        let mut next = self.manifest.clone();
        next.people.retain(|p| p.id != person.id);
        self.commit(next)?;
        // The person is gone from the gallery; what follows only tidies up,
        // so a failure is a warning (the next change sweeps what is left).
        let dir = self.person_dir(person.id);
        match fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!("could not delete {}: {e}; it will be deleted on the next change", dir.display()),
        }
        *model = match self.train_from_samples() {
            Ok((rebuilt, _unreadable)) => rebuilt,
            Err(e) => {
                tracing::warn!("could not rebuild the model ({e}); it will be rebuilt on the next start");
                Recognizer::new(RecognizerKind::Lbph)?
            }
        };
        if let Err(e) = self.save_cache(model) {
            tracing::warn!("could not save the model cache: {e}");
            // The old cache holds the removed person's histograms: it must go.
            let _ = remove_files_except(&self.dir.join(CACHE_DIR), Path::new(""));
        }
        Ok(person)
    }

    /// Deletes what no committed manifest refers to: temp files from a crash,
    /// and samples of an enrollment that never committed.
    fn sweep(&self) {
        let referenced: HashSet<PathBuf> = self.manifest.people.iter().flat_map(|p| self.sample_paths(p)).collect();
        let people: HashSet<String> = self.manifest.people.iter().map(|p| p.id.to_string()).collect();
        let faces = self.dir.join(FACES_DIR);
        let Ok(entries) = fs::read_dir(&faces) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let ours = !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit());
            if !ours {
                continue;
            }
            if !people.contains(&name) {
                tracing::info!("removing leftover folder {}", path.display());
                let _ = if path.is_dir() { fs::remove_dir_all(&path) } else { fs::remove_file(&path) };
                continue;
            }
            let Ok(files) = fs::read_dir(&path) else { continue };
            for file in files.flatten() {
                let file_name = file.file_name().to_string_lossy().into_owned();
                let ours = is_sample_file_name(&file_name) || fsutil::is_temp_file(&file_name);
                if ours && !referenced.contains(&file.path()) {
                    tracing::info!("removing leftover file {}", file.path().display());
                    let _ = fs::remove_file(file.path());
                }
            }
        }
        if let Ok(entries) = fs::read_dir(&self.dir) {
            for entry in entries.flatten() {
                if fsutil::is_temp_file(&entry.file_name().to_string_lossy()) {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
    }
}

/// Deletes every file in `dir` but `keep`.
fn remove_files_except(dir: &Path, keep: &Path) -> Result<(), StoreError> {
    for entry in fs::read_dir(dir).map_err(io_err(dir))?.flatten() {
        let path = entry.path();
        if path != keep && path.is_file() {
            fs::remove_file(&path).map_err(io_err(&path))?;
        }
    }
    Ok(())
}

/// `000042.png`: the names we give sample files.
fn is_sample_file_name(name: &str) -> bool {
    sample_number(name).is_some()
}

fn sample_number(name: &str) -> Option<u32> {
    let stem = name.strip_suffix(".png")?;
    (stem.len() == 6 && stem.bytes().all(|b| b.is_ascii_digit())).then(|| stem.parse().ok()).flatten()
}

/// Reads one stored sample, checking it has the normalized size.
pub fn read_sample(path: &Path) -> Result<Mat, VisionError> {
    let face = cv::to_gray(&cv::read_image(path)?)?;
    if face.cols() != FACE_WIDTH || face.rows() != FACE_HEIGHT {
        return Err(VisionError::NotAnImage(path.to_owned()));
    }
    Ok(face)
}

fn read_manifest(dir: &Path) -> Result<Manifest, StoreError> {
    let path = dir.join(MANIFEST_FILE);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            // No manifest but face samples: the manifest was lost, not never
            // written. Starting empty would sweep the samples away.
            let has_samples = fs::read_dir(dir.join(FACES_DIR)).is_ok_and(|mut d| d.next().is_some());
            if has_samples {
                return Err(StoreError::CorruptManifest {
                    path,
                    reason: format!("it is missing, but {} holds face samples", dir.join(FACES_DIR).display()),
                });
            }
            return Ok(Manifest::default());
        }
        Err(e) => return Err(io_err(&path)(e)),
    };
    let corrupt = |reason: String| StoreError::CorruptManifest { path: path.clone(), reason };
    let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
    if manifest.format != MANIFEST_FORMAT {
        return Err(corrupt(format!(
            "it has format {} and this facecam reads format {MANIFEST_FORMAT}; use the facecam version that wrote it",
            manifest.format
        )));
    }
    let mut ids = HashSet::new();
    for (i, p) in manifest.people.iter().enumerate() {
        if !ids.insert(p.id) || p.id >= manifest.next_id || manifest.next_id > i32::MAX as u32 {
            return Err(corrupt(format!("person {:?} has a bad or repeated id {}", p.name, p.id)));
        }
        names::validate_name(&p.name).map_err(|e| corrupt(format!("person {}: {e}", p.id)))?;
        if manifest.people[..i].iter().any(|q| names::same_name(&q.name, &p.name)) {
            return Err(corrupt(format!("the name {:?} appears twice", p.name)));
        }
        if let Some(bad) = p.samples.iter().find(|s| sample_number(s).is_none_or(|n| n >= p.next_sample)) {
            return Err(corrupt(format!("person {:?} has a bad sample file name {bad:?}", p.name)));
        }
    }
    Ok(manifest)
}
