//! The gallery's model cache: the LBPH histograms and labels in one
//! versioned, checksummed binary file, read back in a single pass.
//!
//! Layout (little-endian): magic `FCLBPH01`, format `u32`, LBPH radius,
//! neighbours, grid x, grid y (`i32` each), sample count and histogram
//! length (`u32` each), the labels (`i32`), the histograms (`f32`), and a
//! CRC-32 of everything before it.

use thiserror::Error;

use crate::matcher::HistogramMatcher;
use crate::recognizer::{LBPH_GRID_X, LBPH_GRID_Y, LBPH_NEIGHBORS, LBPH_RADIUS};

const MAGIC: &[u8; 8] = b"FCLBPH01";
const FORMAT: u32 = 1;
const HEADER_LEN: usize = 8 + 4 + 4 * 4 + 4 + 4;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CacheError {
    #[error("it is not a facecam model cache")]
    NotACache,
    #[error("it has format {0}, this facecam reads format {FORMAT}")]
    Format(u32),
    #[error("it was made with other LBPH parameters")]
    Parameters,
    #[error("it is truncated or damaged (size or checksum does not match)")]
    Damaged,
}

/// Serializes histograms and labels.
pub fn encode(matcher: &HistogramMatcher) -> Vec<u8> {
    let (n, dim) = (matcher.len(), matcher.dim());
    let mut out = Vec::with_capacity(HEADER_LEN + n * 4 + n * dim * 4 + 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT.to_le_bytes());
    for v in [LBPH_RADIUS, LBPH_NEIGHBORS, LBPH_GRID_X, LBPH_GRID_Y] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&(n as u32).to_le_bytes());
    out.extend_from_slice(&(dim as u32).to_le_bytes());
    for label in matcher.labels() {
        out.extend_from_slice(&label.to_le_bytes());
    }
    if cfg!(target_endian = "little") {
        out.extend_from_slice(bytemuck::cast_slice(matcher.data()));
    } else {
        for v in matcher.data() {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Reads a cache written by [`encode`], checking everything it can.
pub fn decode(bytes: &[u8]) -> Result<HistogramMatcher, CacheError> {
    if bytes.len() < HEADER_LEN + 4 || &bytes[..8] != MAGIC {
        return Err(CacheError::NotACache);
    }
    let format = u32_at(bytes, 8);
    if format != FORMAT {
        return Err(CacheError::Format(format));
    }
    let params: Vec<i32> = (0..4).map(|i| u32_at(bytes, 12 + 4 * i) as i32).collect();
    if params != [LBPH_RADIUS, LBPH_NEIGHBORS, LBPH_GRID_X, LBPH_GRID_Y] {
        return Err(CacheError::Parameters);
    }
    let (n, dim) = (u32_at(bytes, 28) as usize, u32_at(bytes, 32) as usize);
    let expected = n.checked_mul(dim).and_then(|v| v.checked_add(n)).and_then(|v| v.checked_mul(4));
    if expected.and_then(|v| v.checked_add(HEADER_LEN + 4)) != Some(bytes.len()) {
        return Err(CacheError::Damaged);
    }
    let body_end = bytes.len() - 4;
    if crc32fast::hash(&bytes[..body_end]) != u32_at(bytes, body_end) {
        return Err(CacheError::Damaged);
    }
    let labels_end = HEADER_LEN + n * 4;
    let labels =
        bytes[HEADER_LEN..labels_end].chunks_exact(4).map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    let raw = &bytes[labels_end..body_end];
    let data: Vec<f32> = if cfg!(target_endian = "little") {
        // One copy of the bytes as they are: this is what makes 1000 samples load in milliseconds.
        bytemuck::pod_collect_to_vec(raw)
    } else {
        raw.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
    };
    HistogramMatcher::from_parts(dim, data, labels).ok_or(CacheError::Damaged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_detects_damage() {
        let mut m = HistogramMatcher::new(4);
        m.push(&[0.1, 0.2, 0.3, 0.4], 7).unwrap();
        m.push(&[0.4, 0.3, 0.2, 0.1], 9).unwrap();
        let bytes = encode(&m);
        assert_eq!(decode(&bytes), Ok(m));
        let mut flipped = bytes.clone();
        flipped[HEADER_LEN + 10] ^= 1;
        assert_eq!(decode(&flipped), Err(CacheError::Damaged));
        assert_eq!(decode(&bytes[..bytes.len() - 1]), Err(CacheError::Damaged));
        assert_eq!(decode(b"%YAML:1.0\nnot a cache at all, really"), Err(CacheError::NotACache));
    }
}
