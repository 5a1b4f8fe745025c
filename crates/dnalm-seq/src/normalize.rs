//! Which letters are nucleotides, which are words, and what to do with the rest.
//!
//! Only A, C, G and T are words. N and the IUPAC ambiguity codes are accepted on
//! input (they occur in every reference genome) and then handled by a
//! [`GapPolicy`]; anything else is rejected by the reader.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use crate::error::{Result, SeqError};

/// What to do with N and IUPAC ambiguity codes, which are not words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum GapPolicy {
    /// Cut the sequence around them and keep the A/C/G/T pieces.
    #[default]
    Split,
    /// Drop every window that holds one.
    Drop,
    /// Stop with [`SeqError::Gap`] at the first one.
    Fail,
}

impl GapPolicy {
    /// The lower-case name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            GapPolicy::Split => "split",
            GapPolicy::Drop => "drop",
            GapPolicy::Fail => "fail",
        }
    }
}

impl fmt::Display for GapPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for GapPolicy {
    type Err = SeqError;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "split" => Ok(GapPolicy::Split),
            "drop" => Ok(GapPolicy::Drop),
            "fail" => Ok(GapPolicy::Fail),
            _ => Err(SeqError::Param(format!(
                "unknown gap policy {s:?}: expected \"split\" (cut around N/IUPAC), \
                 \"drop\" (discard windows holding them) or \"fail\" (stop with an error)"
            ))),
        }
    }
}

/// Accepted letter -> its upper-case form; 0 = not a nucleotide letter.
/// A table rather than a match because the reader runs it over every base.
const NORMALIZE: [u8; 256] = {
    let mut t = [0u8; 256];
    let letters = b"ACGTNRYSWKMBDHV";
    let mut i = 0;
    while i < letters.len() {
        let up = letters[i];
        t[up as usize] = up;
        t[(up + 32) as usize] = up;
        i += 1;
    }
    t
};

const ACGT: [bool; 256] = {
    let mut t = [false; 256];
    t[b'A' as usize] = true;
    t[b'C' as usize] = true;
    t[b'G' as usize] = true;
    t[b'T' as usize] = true;
    t
};

/// The upper-case form of an accepted nucleotide letter (A C G T, N, or an IUPAC
/// code R Y S W K M B D H V, either case), or `None` for anything else.
#[inline]
pub fn normalize_base(b: u8) -> Option<u8> {
    match NORMALIZE[b as usize] {
        0 => None,
        up => Some(up),
    }
}

/// True for upper-case A, C, G and T: the only letters that are words.
#[inline]
pub fn is_acgt(b: u8) -> bool {
    ACGT[b as usize]
}

/// Upper-cases accepted letters in place; returns the index of the first byte
/// that is not a nucleotide letter, leaving the bytes from there on untouched.
pub fn normalize_in_place(seq: &mut [u8]) -> std::result::Result<(), usize> {
    for (i, b) in seq.iter_mut().enumerate() {
        match NORMALIZE[*b as usize] {
            0 => return Err(i),
            up => *b = up,
        }
    }
    Ok(())
}

/// The maximal runs of A/C/G/T in an upper-cased sequence, in order.
///
/// Lower-case bases count as gaps here: upper-case first (the reader does).
pub fn acgt_runs(seq: &[u8]) -> Vec<Range<usize>> {
    let mut runs = Vec::new();
    let mut i = 0;
    let n = seq.len();
    while i < n {
        // Skip the gap, then take the run; both loops are branch-light table scans.
        while i < n && !ACGT[seq[i] as usize] {
            i += 1;
        }
        if i == n {
            break;
        }
        let start = i;
        while i < n && ACGT[seq[i] as usize] {
            i += 1;
        }
        runs.push(start..i);
    }
    runs
}

/// Index of the first byte that is not upper-case A/C/G/T, if any.
pub fn first_non_acgt(seq: &[u8]) -> Option<usize> {
    seq.iter().position(|&b| !ACGT[b as usize])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn gap_policy_parses_names_and_rejects_others() {
        assert_eq!("split".parse::<GapPolicy>().unwrap(), GapPolicy::Split);
        assert_eq!("Drop".parse::<GapPolicy>().unwrap(), GapPolicy::Drop);
        assert_eq!(" fail ".parse::<GapPolicy>().unwrap(), GapPolicy::Fail);
        let err = "skip".parse::<GapPolicy>().unwrap_err().to_string();
        assert!(err.contains("\"skip\"") && err.contains("split"), "{err}");
        assert_eq!(GapPolicy::default(), GapPolicy::Split);
        for p in [GapPolicy::Split, GapPolicy::Drop, GapPolicy::Fail] {
            assert_eq!(p.to_string().parse::<GapPolicy>().unwrap(), p);
        }
    }

    #[test]
    fn normalize_accepts_iupac_and_rejects_the_rest() {
        for &b in b"ACGTNRYSWKMBDHVacgtnryswkmbdhv" {
            assert_eq!(
                normalize_base(b),
                Some(b.to_ascii_uppercase()),
                "{}",
                b as char
            );
        }
        for &b in b"UuXx-.*0123456789 \t\r\n>@EFIJLOPQZefijlopqz" {
            assert_eq!(normalize_base(b), None, "{:?}", b as char);
        }
        for b in 128..=255u8 {
            assert_eq!(normalize_base(b), None);
        }
        let mut s = b"acgtNnry".to_vec();
        assert_eq!(normalize_in_place(&mut s), Ok(()));
        assert_eq!(s, b"ACGTNNRY");
        let mut s = b"acg-tt".to_vec();
        assert_eq!(normalize_in_place(&mut s), Err(3));
        assert_eq!(&s[..3], b"ACG");
    }

    #[test]
    fn runs_split_at_every_non_acgt() {
        assert_eq!(acgt_runs(b""), Vec::<Range<usize>>::new());
        assert_eq!(acgt_runs(b"NNNN"), Vec::<Range<usize>>::new());
        assert_eq!(acgt_runs(b"ACGT"), vec![0..4]);
        assert_eq!(acgt_runs(b"NNACGTNRTTa"), vec![2..6, 8..10]);
        assert_eq!(acgt_runs(b"ANC"), vec![0..1, 2..3]);
        assert_eq!(first_non_acgt(b"ACGTYA"), Some(4));
        assert_eq!(first_non_acgt(b"ACGT"), None);
        assert!(is_acgt(b'G') && !is_acgt(b'g') && !is_acgt(b'N'));
    }

    proptest! {
        #[test]
        fn runs_are_maximal_and_cover_exactly_the_acgt(seq in proptest::collection::vec(
            prop_oneof![Just(b'A'), Just(b'C'), Just(b'G'), Just(b'T'), Just(b'N'), Just(b'R')], 0..200)) {
            let runs = acgt_runs(&seq);
            let mut covered = vec![false; seq.len()];
            let mut prev_end = None;
            for r in &runs {
                prop_assert!(r.start < r.end);
                if let Some(e) = prev_end {
                    // Maximal: at least one gap byte separates consecutive runs.
                    prop_assert!(r.start > e);
                }
                prev_end = Some(r.end);
                for c in &mut covered[r.clone()] {
                    *c = true;
                }
            }
            for (i, &b) in seq.iter().enumerate() {
                prop_assert_eq!(covered[i], is_acgt(b));
            }
        }
    }
}
