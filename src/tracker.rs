//! Following faces from frame to frame.
//!
//! Boxes are matched to tracks by overlap (greedy, best IoU first). Each
//! track keeps the identities of its last few frames and shows the one most
//! of them agree on, so one misread frame does not flip the label.

use std::collections::{HashMap, VecDeque};

use opencv::core::Rect;

/// Frames of identity kept per track for the vote.
pub const VOTE_WINDOW: usize = 9;
/// Frames a track survives without being seen (a blink, a missed detection).
pub const MAX_MISSED_FRAMES: u32 = 8;
/// Consecutive frames agreeing on one identity that override the vote.
pub const SWITCH_STREAK: usize = 3;
/// Overlap needed to continue a track.
const MIN_IOU: f64 = 0.3;

/// One frame's reading of a face.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    pub bbox: Rect,
    /// The person recognized in this frame, if known.
    pub person_id: Option<u32>,
    pub distance: Option<f64>,
    pub confidence_pct: f64,
}

/// A face as shown: its track and the voted identity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tracked {
    pub track_id: u64,
    pub bbox: Rect,
    /// The identity most recent frames agree on (`None` = unknown).
    pub person_id: Option<u32>,
    /// Mean confidence of the frames that voted for it.
    pub confidence_pct: f64,
    /// This frame's own distance.
    pub distance: Option<f64>,
    /// Frames seen so far.
    pub age_frames: u32,
}

struct Track {
    id: u64,
    bbox: Rect,
    votes: VecDeque<(Option<u32>, f64)>,
    missed: u32,
    age: u32,
}

impl Track {
    fn vote(&self) -> (Option<u32>, f64) {
        // A run of recent frames agreeing on one identity wins at once:
        // someone (or a stranger) stepping into another's place is named
        // after a few frames, not after the window has turned over.
        if let Some(&(who, _)) = self.votes.back() {
            let streak: Vec<f64> = self.votes.iter().rev().take_while(|(w, _)| *w == who).map(|(_, c)| *c).collect();
            if streak.len() >= SWITCH_STREAK {
                return (who, streak.iter().sum::<f64>() / streak.len() as f64);
            }
        }
        let mut tally: HashMap<Option<u32>, (usize, f64, usize)> = HashMap::new();
        for (i, (who, conf)) in self.votes.iter().enumerate() {
            let entry = tally.entry(*who).or_insert((0, 0.0, 0));
            entry.0 += 1;
            entry.1 += conf;
            entry.2 = i;
        }
        // Most votes; ties go to the identity seen most recently.
        tally
            .into_iter()
            .max_by_key(|(_, (count, _, last))| (*count, *last))
            .map(|(who, (count, sum, _))| (who, sum / count as f64))
            .unwrap_or((None, 0.0))
    }
}

/// Intersection over union of two boxes.
pub fn iou(a: Rect, b: Rect) -> f64 {
    let inter = (a & b).area() as f64;
    let union = (a.area() + b.area()) as f64 - inter;
    if union <= 0.0 { 0.0 } else { inter / union }
}

/// All live tracks.
#[derive(Default)]
pub struct Tracker {
    tracks: Vec<Track>,
    next_id: u64,
}

impl Tracker {
    pub fn new() -> Self {
        Self { tracks: Vec::new(), next_id: 1 }
    }

    /// Forgets every track (e.g. after the gallery changed).
    pub fn clear_votes(&mut self) {
        for t in &mut self.tracks {
            t.votes.clear();
        }
    }

    /// Takes this frame's faces and returns them with track ids and voted
    /// identities, in the order given.
    pub fn update(&mut self, observations: &[Observation]) -> Vec<Tracked> {
        let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
        for (ti, track) in self.tracks.iter().enumerate() {
            for (oi, obs) in observations.iter().enumerate() {
                let overlap = iou(track.bbox, obs.bbox);
                if overlap >= MIN_IOU {
                    pairs.push((overlap, ti, oi));
                }
            }
        }
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut track_of: Vec<Option<usize>> = vec![None; observations.len()];
        let mut track_used = vec![false; self.tracks.len()];
        for (_, ti, oi) in pairs {
            if !track_used[ti] && track_of[oi].is_none() {
                track_used[ti] = true;
                track_of[oi] = Some(ti);
            }
        }
        for (used, track) in track_used.iter().zip(&mut self.tracks) {
            if !used {
                track.missed += 1;
            }
        }
        let mut out_index = Vec::with_capacity(observations.len());
        for (oi, obs) in observations.iter().enumerate() {
            let ti = match track_of[oi] {
                Some(ti) => ti,
                None => {
                    self.tracks.push(Track {
                        id: self.next_id,
                        bbox: obs.bbox,
                        votes: VecDeque::new(),
                        missed: 0,
                        age: 0,
                    });
                    self.next_id += 1;
                    self.tracks.len() - 1
                }
            };
            let track = &mut self.tracks[ti];
            track.bbox = obs.bbox;
            track.missed = 0;
            track.age += 1;
            track.votes.push_back((obs.person_id, obs.confidence_pct));
            while track.votes.len() > VOTE_WINDOW {
                track.votes.pop_front();
            }
            out_index.push(ti);
        }
        let out = observations
            .iter()
            .zip(&out_index)
            .map(|(obs, &ti)| {
                let track = &self.tracks[ti];
                let (person_id, confidence_pct) = track.vote();
                Tracked {
                    track_id: track.id,
                    bbox: obs.bbox,
                    person_id,
                    confidence_pct,
                    distance: obs.distance,
                    age_frames: track.age,
                }
            })
            .collect();
        self.tracks.retain(|t| t.missed <= MAX_MISSED_FRAMES);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(x: i32, who: Option<u32>) -> Observation {
        Observation { bbox: Rect::new(x, 50, 100, 100), person_id: who, distance: Some(20.0), confidence_pct: 70.0 }
    }

    #[test]
    fn keeps_ids_while_faces_move_and_votes_away_a_misread() {
        let mut tracker = Tracker::new();
        let first = tracker.update(&[obs(0, Some(1)), obs(400, Some(2))]);
        let (a, b) = (first[0].track_id, first[1].track_id);
        assert_ne!(a, b);
        for step in 1..6 {
            let misread = if step == 3 { Some(2) } else { Some(1) };
            let out = tracker.update(&[obs(400 + step * 5, Some(2)), obs(step * 5, misread)]);
            assert_eq!(out[0].track_id, b);
            assert_eq!(out[1].track_id, a);
            assert_eq!(out[1].person_id, Some(1), "the misread frame flipped the label");
        }
    }

    #[test]
    fn a_new_person_in_the_same_place_takes_over_after_a_short_streak() {
        let mut tracker = Tracker::new();
        for _ in 0..VOTE_WINDOW {
            tracker.update(&[obs(0, Some(1))]);
        }
        let shown: Vec<_> = (0..SWITCH_STREAK).map(|_| tracker.update(&[obs(0, Some(2))])[0].person_id).collect();
        assert_eq!(shown.last(), Some(&Some(2)), "{shown:?}");
        assert!(shown[..SWITCH_STREAK - 1].iter().all(|p| *p == Some(1)), "{shown:?}");
    }

    #[test]
    fn a_stranger_in_a_known_place_turns_unknown_after_a_short_streak() {
        let mut tracker = Tracker::new();
        for _ in 0..VOTE_WINDOW {
            tracker.update(&[obs(0, Some(1))]);
        }
        let shown: Vec<_> = (0..SWITCH_STREAK).map(|_| tracker.update(&[obs(0, None)])[0].person_id).collect();
        assert_eq!(shown.last(), Some(&None), "{shown:?}");
    }

    #[test]
    fn lost_tracks_expire_and_new_faces_get_new_ids() {
        let mut tracker = Tracker::new();
        let id = tracker.update(&[obs(0, None)])[0].track_id;
        for _ in 0..=MAX_MISSED_FRAMES {
            tracker.update(&[]);
        }
        assert_ne!(tracker.update(&[obs(0, None)])[0].track_id, id);
    }
}
