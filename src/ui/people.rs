//! The people panel's background side: a thread that owns its own handle
//! on the gallery, lists people with a thumbnail each, and renames or
//! removes them, so disk work never runs on the UI thread. The gallery's
//! file lock keeps it and the vision worker from interleaving changes.

use std::collections::HashMap;
use std::path::PathBuf;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use opencv::prelude::*;

use crate::store::{self, Gallery};

/// One person as the panel shows them.
#[derive(Clone)]
pub struct PersonCard {
    pub id: u32,
    pub name: String,
    pub samples: usize,
    /// Their newest sample, gray 92×112.
    pub thumbnail: Option<egui::ColorImage>,
    /// Which sample the thumbnail shows, so the UI knows when to re-upload.
    pub thumbnail_key: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PeopleRequest {
    Refresh,
    Rename { old: String, new: String },
    Remove { name: String },
}

pub enum PeopleReply {
    Listed(Vec<PersonCard>),
    /// The gallery cannot be read: the message says why and what to do.
    LoadFailed(String),
    Renamed {
        old: String,
        new: String,
    },
    /// `leftover` is the samples folder if it could not be deleted.
    Removed {
        name: String,
        samples: usize,
        leftover: Option<PathBuf>,
    },
    RenameFailed {
        old: String,
        message: String,
    },
    RemoveFailed {
        name: String,
        message: String,
    },
}

/// How long a change waits for a gallery that another thread or process is
/// changing, before it reports "busy".
const BUSY_WAIT: Duration = Duration::from_secs(15);

/// The thread; dropping this stops and joins it.
pub struct PeopleService {
    requests: Option<Sender<PeopleRequest>>,
    replies: Receiver<PeopleReply>,
    handle: Option<JoinHandle<()>>,
}

impl PeopleService {
    pub fn start(data_dir: PathBuf) -> std::io::Result<Self> {
        let (req_tx, req_rx) = crossbeam_channel::unbounded();
        let (rep_tx, rep_rx) = crossbeam_channel::unbounded();
        let handle = thread::Builder::new().name("facecam-people".into()).spawn(move || {
            let mut worker = PeopleWorker { data_dir, thumbnails: HashMap::new(), replies: rep_tx };
            // Ends when the service is dropped (the channel closes).
            while let Ok(request) = req_rx.recv() {
                worker.handle(request);
            }
        })?;
        Ok(Self { requests: Some(req_tx), replies: rep_rx, handle: Some(handle) })
    }

    pub fn send(&self, request: PeopleRequest) {
        if let Some(tx) = &self.requests {
            let _ = tx.send(request);
        }
    }

    /// The next reply; `Err` once the thread has died (it never should).
    pub fn try_recv(&self) -> Result<Option<PeopleReply>, ()> {
        match self.replies.try_recv() {
            Ok(reply) => Ok(Some(reply)),
            Err(crossbeam_channel::TryRecvError::Empty) => Ok(None),
            Err(crossbeam_channel::TryRecvError::Disconnected) => Err(()),
        }
    }
}

impl Drop for PeopleService {
    fn drop(&mut self) {
        self.requests.take();
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

struct PeopleWorker {
    data_dir: PathBuf,
    /// Decoded thumbnails by sample path, so a refresh reads only new ones.
    thumbnails: HashMap<PathBuf, egui::ColorImage>,
    replies: Sender<PeopleReply>,
}

impl PeopleWorker {
    fn reply(&self, reply: PeopleReply) {
        let _ = self.replies.send(reply);
    }

    fn handle(&mut self, request: PeopleRequest) {
        match request {
            PeopleRequest::Refresh => {}
            PeopleRequest::Rename { old, new } => match self.change(|g, m| g.rename(m, &old, &new)) {
                Ok(person) => self.reply(PeopleReply::Renamed { old, new: person.name }),
                Err(message) => self.reply(PeopleReply::RenameFailed { old, message }),
            },
            PeopleRequest::Remove { name } => {
                // Where their samples are, to check afterwards they are gone.
                let folder = Gallery::open(&self.data_dir)
                    .ok()
                    .and_then(|g| g.find(&name).and_then(|p| g.sample_paths(p).pop()))
                    .and_then(|sample| sample.parent().map(PathBuf::from));
                match self.change(|g, m| g.remove(m, &name)) {
                    Ok(person) => self.reply(PeopleReply::Removed {
                        name: person.name,
                        samples: person.samples.len(),
                        leftover: folder.filter(|f| f.exists()),
                    }),
                    Err(message) => self.reply(PeopleReply::RemoveFailed { name, message }),
                }
            }
        }
        self.list();
    }

    /// Runs a change, waiting while the gallery is busy (the vision worker
    /// saving an enrollment, or another facecam).
    fn change<T>(
        &self,
        mut f: impl FnMut(&mut Gallery, &mut crate::recognizer::Recognizer) -> Result<T, store::StoreError>,
    ) -> Result<T, String> {
        let started = Instant::now();
        loop {
            let mut gallery = Gallery::open(&self.data_dir).map_err(|e| e.to_string())?;
            let mut model = gallery.load_model().map_err(|e| e.to_string())?.recognizer;
            match f(&mut gallery, &mut model) {
                Err(store::StoreError::Busy(_)) if started.elapsed() < BUSY_WAIT => {
                    thread::sleep(Duration::from_millis(100));
                }
                result => return result.map_err(|e| e.to_string()),
            }
        }
    }

    fn list(&mut self) {
        let gallery = match Gallery::open(&self.data_dir) {
            Ok(g) => g,
            Err(e) => return self.reply(PeopleReply::LoadFailed(e.to_string())),
        };
        let mut cards = Vec::with_capacity(gallery.people().len());
        let mut kept = HashMap::new();
        for person in gallery.people() {
            let newest = gallery.sample_paths(person).pop();
            let thumbnail = newest.as_ref().and_then(|path| {
                let image = self.thumbnails.get(path).cloned().or_else(|| read_thumbnail(path))?;
                kept.insert(path.clone(), image.clone());
                Some(image)
            });
            cards.push(PersonCard {
                id: person.id,
                name: person.name.clone(),
                samples: person.sample_count(),
                thumbnail,
                thumbnail_key: newest.map(|p| p.display().to_string()).unwrap_or_default(),
            });
        }
        self.thumbnails = kept;
        self.reply(PeopleReply::Listed(cards));
    }
}

/// A stored sample as a gray image; `None` (logged) when it cannot be read.
fn read_thumbnail(path: &std::path::Path) -> Option<egui::ColorImage> {
    let face = match store::read_sample(path) {
        Ok(face) => face,
        Err(e) => {
            tracing::warn!("no thumbnail: {e}");
            return None;
        }
    };
    let bytes = face.data_bytes().ok()?;
    Some(egui::ColorImage::from_gray([face.cols() as usize, face.rows() as usize], bytes))
}
