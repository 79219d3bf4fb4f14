//! A bounded channel for live frames in which the newest item wins: when
//! the consumer falls behind, the oldest waiting item is dropped and
//! counted, so memory stays bounded and the consumer always sees the most
//! recent frame next. It can also block instead, for lossless playback.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, SendTimeoutError, Sender, TryRecvError, TrySendError};

/// How a full channel treats a new item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Drop the oldest waiting item (live cameras, `--realtime`).
    NewestWins,
    /// Wait for room: nothing is lost, the producer slows to the consumer.
    Lossless,
}

/// The consumer hung up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

struct Shared {
    dropped: AtomicU64,
    receiver_gone: AtomicBool,
}

/// The sending half; it keeps a receiver of its own to drop old items.
pub struct LatestSender<T> {
    tx: Sender<T>,
    own_rx: Receiver<T>,
    shared: Arc<Shared>,
    delivery: Delivery,
}

/// The receiving half. Dropping it tells the sender to stop.
pub struct LatestReceiver<T> {
    rx: Receiver<T>,
    shared: Arc<Shared>,
}

/// A channel holding at most `capacity` items (at least 1).
pub fn latest_channel<T>(capacity: usize, delivery: Delivery) -> (LatestSender<T>, LatestReceiver<T>) {
    let (tx, rx) = crossbeam_channel::bounded(capacity.max(1));
    let shared = Arc::new(Shared { dropped: AtomicU64::new(0), receiver_gone: AtomicBool::new(false) });
    (LatestSender { tx, own_rx: rx.clone(), shared: shared.clone(), delivery }, LatestReceiver { rx, shared })
}

impl<T> LatestSender<T> {
    /// Sends `item`. With [`Delivery::Lossless`] this waits for room, giving
    /// up (and returning the item's loss as `Closed`) once `stop` is set.
    pub fn send(&self, mut item: T, stop: &AtomicBool) -> Result<(), Closed> {
        loop {
            if self.shared.receiver_gone.load(Ordering::Acquire) {
                return Err(Closed);
            }
            match self.delivery {
                Delivery::NewestWins => match self.tx.try_send(item) {
                    Ok(()) => return Ok(()),
                    Err(TrySendError::Full(back)) => {
                        item = back;
                        if self.own_rx.try_recv().is_ok() {
                            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(TrySendError::Disconnected(_)) => return Err(Closed),
                },
                Delivery::Lossless => match self.tx.send_timeout(item, Duration::from_millis(50)) {
                    Ok(()) => return Ok(()),
                    Err(SendTimeoutError::Timeout(back)) => {
                        if stop.load(Ordering::Acquire) {
                            return Err(Closed);
                        }
                        item = back;
                    }
                    Err(SendTimeoutError::Disconnected(_)) => return Err(Closed),
                },
            }
        }
    }

    /// Items dropped so far because the consumer was behind.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

impl<T> LatestReceiver<T> {
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.rx.recv_timeout(timeout)
    }

    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.rx.try_recv()
    }

    /// The underlying receiver, for `crossbeam_channel::select!`.
    pub fn receiver(&self) -> &Receiver<T> {
        &self.rx
    }

    /// Items waiting now (never more than the capacity).
    pub fn len(&self) -> usize {
        self.rx.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }

    /// Items dropped so far because this receiver was behind.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

impl<T> Drop for LatestReceiver<T> {
    fn drop(&mut self) {
        self.shared.receiver_gone.store(true, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_wins_drops_the_oldest_and_counts() {
        let stop = AtomicBool::new(false);
        let (tx, rx) = latest_channel(2, Delivery::NewestWins);
        for i in 0..10 {
            tx.send(i, &stop).unwrap();
            assert!(rx.len() <= 2);
        }
        assert_eq!(rx.dropped(), 8);
        assert_eq!(rx.try_recv(), Ok(8));
        assert_eq!(rx.try_recv(), Ok(9));
    }

    #[test]
    fn lossless_waits_and_gives_up_on_stop() {
        let stop = AtomicBool::new(false);
        let (tx, rx) = latest_channel(1, Delivery::Lossless);
        tx.send(1, &stop).unwrap();
        stop.store(true, Ordering::Release);
        assert_eq!(tx.send(2, &stop), Err(Closed));
        assert_eq!(rx.try_recv(), Ok(1));
        drop(rx);
        assert_eq!(tx.send(3, &AtomicBool::new(false)), Err(Closed));
    }
}
