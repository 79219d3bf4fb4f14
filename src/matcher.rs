//! Exact nearest-neighbour search over LBPH histograms.
//!
//! OpenCV's `LBPHFaceRecognizer::predict` compares the query with every
//! stored histogram through `compareHist(…, HISTCMP_CHISQR_ALT)`, one
//! `Mat` at a time. This matcher returns the same nearest label and
//! distance from histograms kept in one contiguous buffer, with a loop the
//! compiler vectorizes, the rows split across cores, and each row abandoned
//! as soon as its partial sum can no longer beat the best so far (every
//! term is non-negative, so this never changes the answer).

use rayon::prelude::*;

use crate::recognizer::Nearest;

/// Histogram bins summed before checking whether a row can still win.
const BLOCK: usize = 256;
/// Below this many values in all, one thread is faster than two.
const PARALLEL_MIN_VALUES: usize = 400_000;

/// Stored histograms, all of one length, with their labels.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistogramMatcher {
    dim: usize,
    data: Vec<f32>,
    labels: Vec<i32>,
}

impl HistogramMatcher {
    pub fn new(dim: usize) -> Self {
        Self { dim, data: Vec::new(), labels: Vec::new() }
    }

    /// From raw parts, as read back from the gallery cache.
    pub fn from_parts(dim: usize, data: Vec<f32>, labels: Vec<i32>) -> Option<Self> {
        (dim > 0 && data.len() == dim * labels.len()).then_some(Self { dim, data, labels })
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn labels(&self) -> &[i32] {
        &self.labels
    }

    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// Bytes held per stored sample.
    pub fn bytes_per_sample(&self) -> usize {
        self.dim * std::mem::size_of::<f32>() + std::mem::size_of::<i32>()
    }

    /// Appends one histogram. Its length must be `dim` (the first one sets
    /// it when the matcher was made with 0).
    pub fn push(&mut self, histogram: &[f32], label: i32) -> Result<(), usize> {
        if self.dim == 0 {
            self.dim = histogram.len();
        }
        if histogram.len() != self.dim {
            return Err(histogram.len());
        }
        self.data.extend_from_slice(histogram);
        self.labels.push(label);
        Ok(())
    }

    /// The stored histogram nearest to `query` by chi-square distance, as
    /// OpenCV's LBPH `predict` would report it; the first of equals wins.
    pub fn nearest(&self, query: &[f32]) -> Option<Nearest> {
        if self.is_empty() || query.len() != self.dim {
            return None;
        }
        let rows = self.labels.len();
        let best = if rows * self.dim < PARALLEL_MIN_VALUES {
            self.scan(query, 0, rows)
        } else {
            // Rayon's threads live as long as the process, so splitting costs
            // microseconds, not a thread start per query.
            let per = rows.div_ceil(rayon::current_num_threads().max(1) * 2).max(1);
            (0..rows.div_ceil(per))
                .into_par_iter()
                .map(|c| self.scan(query, c * per, ((c + 1) * per).min(rows)))
                .reduce(|| (usize::MAX, f64::MAX), |a, b| if b.1 < a.1 || (b.1 == a.1 && b.0 < a.0) { b } else { a })
        };
        (best.0 < rows).then(|| Nearest { label: self.labels[best.0], distance: best.1 })
    }

    /// Best (row, distance) among rows `start..end`.
    fn scan(&self, query: &[f32], start: usize, end: usize) -> (usize, f64) {
        let mut best = (usize::MAX, f64::MAX);
        for row in start..end {
            let hist = &self.data[row * self.dim..(row + 1) * self.dim];
            if let Some(d) = chi_square_alt_bounded(hist, query, best.1)
                && d < best.1
            {
                best = (row, d);
            }
        }
        best
    }
}

/// OpenCV's `HISTCMP_CHISQR_ALT`: `2 Σ (a−b)² / (a+b)` over bins where
/// `a+b` is not zero. Returns `None` once the partial sum exceeds `bound`.
pub fn chi_square_alt_bounded(a: &[f32], b: &[f32], bound: f64) -> Option<f64> {
    let half_bound = bound / 2.0;
    let mut total = 0.0f64;
    for (ca, cb) in a.chunks(BLOCK).zip(b.chunks(BLOCK)) {
        total += block_sum(ca, cb) as f64;
        if total > half_bound {
            return None;
        }
    }
    Some(2.0 * total)
}

/// Sum over one block, in eight independent lanes so it vectorizes.
#[inline]
fn block_sum(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (a8, a_rest) = a.split_at(a.len() / 8 * 8);
    let (b8, b_rest) = b.split_at(a8.len());
    for (x, y) in a8.chunks_exact(8).zip(b8.chunks_exact(8)) {
        for i in 0..8 {
            lanes[i] += term(x[i], y[i]);
        }
    }
    let mut sum: f32 = lanes.iter().sum();
    for (x, y) in a_rest.iter().zip(b_rest) {
        sum += term(*x, *y);
    }
    sum
}

#[inline(always)]
fn term(x: f32, y: f32) -> f32 {
    let d = x - y;
    let s = x + y;
    if s > f32::EPSILON { d * d / s } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Straight from the formula, in double precision.
    fn reference(a: &[f32], b: &[f32]) -> f64 {
        2.0 * a
            .iter()
            .zip(b)
            .map(|(&x, &y)| {
                let (x, y) = (x as f64, y as f64);
                if (x + y).abs() > f64::EPSILON { (x - y).powi(2) / (x + y) } else { 0.0 }
            })
            .sum::<f64>()
    }

    fn pseudo_random(seed: u32, n: usize) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..n)
            .map(|i| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                // Sparse, like LBP histograms: many empty bins.
                if i % 3 == 0 { 0.0 } else { (s % 1000) as f32 / 1000.0 }
            })
            .collect()
    }

    #[test]
    fn matches_the_formula_and_finds_the_nearest() {
        let dim = 1000;
        let mut m = HistogramMatcher::new(dim);
        for k in 0..50 {
            m.push(&pseudo_random(k, dim), k as i32 * 10).unwrap();
        }
        for q in 100..110 {
            let query = pseudo_random(q, dim);
            let (want_row, want_d) = (0..50)
                .map(|k| (k, reference(&m.data[k * dim..(k + 1) * dim], &query)))
                .fold((0, f64::MAX), |a, b| if b.1 < a.1 { b } else { a });
            let got = m.nearest(&query).unwrap();
            assert_eq!(got.label, want_row as i32 * 10);
            assert!((got.distance - want_d).abs() <= 1e-4 * want_d, "{} vs {want_d}", got.distance);
        }
        assert_eq!(m.push(&[0.0; 3], 1), Err(3));
        assert!(HistogramMatcher::new(dim).nearest(&pseudo_random(1, dim)).is_none());
    }
}
