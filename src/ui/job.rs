//! One-off work on a named helper thread (listing cameras, reading a
//! folder), so the UI thread never waits on devices or disks. The thread
//! is joined on drop.

use std::thread::{self, JoinHandle};

use crossbeam_channel::{Receiver, TryRecvError};

/// What a job has to show this frame.
pub enum JobState<T> {
    Running,
    Done(T),
    /// The thread ended without a result (it panicked).
    Died,
}

pub struct Job<T> {
    handle: Option<JoinHandle<()>>,
    result: Receiver<T>,
}

impl<T: Send + 'static> Job<T> {
    pub fn spawn(name: &str, work: impl FnOnce() -> T + Send + 'static) -> std::io::Result<Self> {
        let (tx, result) = crossbeam_channel::bounded(1);
        let handle = thread::Builder::new().name(name.to_owned()).spawn(move || {
            let _ = tx.send(work());
        })?;
        Ok(Self { handle: Some(handle), result })
    }

    /// Never blocks.
    pub fn poll(&self) -> JobState<T> {
        match self.result.try_recv() {
            Ok(value) => JobState::Done(value),
            Err(TryRecvError::Empty) => JobState::Running,
            Err(TryRecvError::Disconnected) => JobState::Died,
        }
    }
}

impl<T> Drop for Job<T> {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}
