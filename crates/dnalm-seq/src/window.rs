//! Cutting records into fixed-length windows that keep their coordinates.

use std::ops::Range;
use std::path::Path;

use crate::error::{Result, SeqError};
use crate::normalize::{acgt_runs, first_non_acgt, GapPolicy};
use crate::reader::Record;

/// How to cut a record into windows.
///
/// Windows start at `stride` steps inside each piece the gap policy allows
/// (an A/C/G/T run for `Split`, the whole record for `Drop` and `Fail`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowSpec {
    /// Window length; 0 = no windowing: every A/C/G/T run (Split) or the
    /// record (Drop, Fail) whole.
    pub len: usize,
    /// Distance between window starts; must be > 0 when `len` > 0.
    pub stride: usize,
    /// What to do with N and IUPAC codes.
    pub gaps: GapPolicy,
    /// Runs (len 0) or windows shorter than this are skipped.
    pub min_len: usize,
    /// Keep a final shorter window at the end of a run (or record) if it is at
    /// least `min_len` long.
    pub keep_tail: bool,
}

impl Default for WindowSpec {
    /// Whole A/C/G/T runs, split around gaps.
    fn default() -> Self {
        Self::new(0)
    }
}

impl WindowSpec {
    /// Non-overlapping windows of `len` (stride = len), split around gaps,
    /// no tail; `len` 0 gives whole A/C/G/T runs.
    pub fn new(len: usize) -> Self {
        Self {
            len,
            stride: len,
            gaps: GapPolicy::Split,
            min_len: 1,
            keep_tail: false,
        }
    }

    /// The same spec with another stride.
    pub fn with_stride(mut self, stride: usize) -> Self {
        self.stride = stride;
        self
    }

    /// The same spec with another gap policy.
    pub fn with_gaps(mut self, gaps: GapPolicy) -> Self {
        self.gaps = gaps;
        self
    }

    /// The same spec with another minimum length.
    pub fn with_min_len(mut self, min_len: usize) -> Self {
        self.min_len = min_len;
        self
    }

    /// The same spec, keeping or not a final shorter window.
    pub fn with_keep_tail(mut self, keep_tail: bool) -> Self {
        self.keep_tail = keep_tail;
        self
    }

    /// Checks that the spec can produce windows.
    pub fn validate(&self) -> Result<()> {
        if self.len > 0 && self.stride == 0 {
            return Err(SeqError::Param(format!(
                "window stride must be > 0 (window length {})",
                self.len
            )));
        }
        if self.min_len == 0 {
            return Err(SeqError::Param(
                "minimum window length must be >= 1".to_string(),
            ));
        }
        if self.len > 0 && self.min_len > self.len {
            return Err(SeqError::Param(format!(
                "minimum length {} exceeds the window length {}: no window could be kept",
                self.min_len, self.len
            )));
        }
        Ok(())
    }

    /// All windows of a record, in order.
    ///
    /// For a chromosome cut with a small stride, prefer [`WindowSpec::iter`],
    /// which does not hold every window at once.
    pub fn windows<'a>(&self, rec: &'a Record, path: &Path) -> Result<Vec<Window<'a>>> {
        Ok(self.iter(rec, path)?.collect())
    }

    /// The windows of a record, lazily. Errors (bad spec, a gap under
    /// `GapPolicy::Fail`) come before the first window.
    pub fn iter<'a>(&self, rec: &'a Record, path: &Path) -> Result<WindowIter<'a>> {
        self.validate()?;
        let seq = rec.seq.as_slice();
        let n = seq.len();
        let (segments, clean) = match self.gaps {
            GapPolicy::Split => (acgt_runs(seq), Vec::new()),
            GapPolicy::Drop => (whole(n), acgt_runs(seq)),
            GapPolicy::Fail => {
                if let Some(pos) = first_non_acgt(seq) {
                    return Err(SeqError::Gap {
                        path: path.to_path_buf(),
                        line: rec.line,
                        record: rec.id.clone(),
                        base: seq[pos],
                        pos: pos as u64,
                    });
                }
                (whole(n), whole(n))
            }
        };
        let pos = segments.first().map_or(0, |s| s.start);
        Ok(WindowIter {
            seq,
            spec: *self,
            check_clean: self.gaps != GapPolicy::Split,
            segments,
            clean,
            seg: 0,
            pos,
            run: 0,
        })
    }
}

/// The whole record as one segment (none if it is empty).
fn whole(n: usize) -> Vec<Range<usize>> {
    std::iter::once(0..n).filter(|r| !r.is_empty()).collect()
}

/// A stretch of a record: `seq == record.seq[start..end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window<'a> {
    /// 0-based start in the record.
    pub start: u64,
    /// End (exclusive).
    pub end: u64,
    /// The bases.
    pub seq: &'a [u8],
}

impl Window<'_> {
    /// Length in bases.
    pub fn len(&self) -> usize {
        self.seq.len()
    }

    /// True for a window without bases (never produced by [`WindowSpec`]).
    pub fn is_empty(&self) -> bool {
        self.seq.is_empty()
    }
}

/// Iterator over the windows of one record; see [`WindowSpec::iter`].
#[derive(Debug)]
pub struct WindowIter<'a> {
    seq: &'a [u8],
    spec: WindowSpec,
    /// Segments the windows step through.
    segments: Vec<Range<usize>>,
    /// Under Drop/Fail a window is kept only inside one of these runs.
    check_clean: bool,
    clean: Vec<Range<usize>>,
    seg: usize,
    /// Next window start inside `segments[seg]`.
    pos: usize,
    /// Index into `clean` of the run at or after `pos`; starts only grow.
    run: usize,
}

impl<'a> WindowIter<'a> {
    fn window(&self, start: usize, end: usize) -> Window<'a> {
        Window {
            start: start as u64,
            end: end as u64,
            seq: &self.seq[start..end],
        }
    }

    fn next_segment(&mut self) {
        self.seg += 1;
        if let Some(s) = self.segments.get(self.seg) {
            self.pos = s.start;
        }
    }

    /// Whether `start..end` lies inside one clean run; moves the run cursor.
    fn is_clean(&mut self, start: usize, end: usize) -> bool {
        if !self.check_clean {
            return true;
        }
        while self.run < self.clean.len() && self.clean[self.run].end <= start {
            self.run += 1;
        }
        self.clean
            .get(self.run)
            .is_some_and(|r| r.start <= start && end <= r.end)
    }

    /// After a dirty window at `start`, the next start that could be clean:
    /// every start before the next clean run's beginning holds a gap. Never
    /// jumps past the first start whose window overhangs the segment, so the
    /// tail is still considered.
    fn skip_from(&self, start: usize, seg_end: usize) -> usize {
        let (len, stride) = (self.spec.len, self.spec.stride);
        let target = match self.clean.get(self.run) {
            Some(r) if r.start > start => r.start,
            Some(_) => self.clean.get(self.run + 1).map_or(seg_end, |r| r.start),
            None => seg_end,
        };
        let steps = (target.saturating_sub(start)).div_ceil(stride).max(1);
        let next = start + steps * stride;
        if next + len > seg_end {
            // First start whose window no longer fits: the tail candidate.
            let first_overhang = seg_end + 1 - len;
            start + (first_overhang - start).div_ceil(stride) * stride
        } else {
            next
        }
    }
}

impl<'a> Iterator for WindowIter<'a> {
    type Item = Window<'a>;

    fn next(&mut self) -> Option<Window<'a>> {
        let WindowSpec {
            len,
            stride,
            min_len,
            keep_tail,
            ..
        } = self.spec;
        loop {
            let seg = self.segments.get(self.seg)?.clone();
            if len == 0 {
                self.next_segment();
                if seg.len() >= min_len && self.is_clean(seg.start, seg.end) {
                    return Some(self.window(seg.start, seg.end));
                }
                continue;
            }
            let start = self.pos;
            if start >= seg.end {
                self.next_segment();
                continue;
            }
            if start + len <= seg.end {
                if self.is_clean(start, start + len) {
                    self.pos = start + stride;
                    return Some(self.window(start, start + len));
                }
                self.pos = self.skip_from(start, seg.end);
                continue;
            }
            // Only one tail per segment: the first start that overhangs.
            self.next_segment();
            if keep_tail && seg.end - start >= min_len && self.is_clean(start, seg.end) {
                return Some(self.window(start, seg.end));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rec(seq: &[u8]) -> Record {
        Record {
            id: "r".to_string(),
            desc: None,
            seq: seq.to_vec(),
            line: 3,
        }
    }

    fn coords(spec: WindowSpec, seq: &[u8]) -> Vec<(u64, u64)> {
        let r = rec(seq);
        spec.windows(&r, Path::new("t.fa"))
            .unwrap()
            .iter()
            .map(|w| (w.start, w.end))
            .collect()
    }

    /// Straightforward reference: every stride step of every segment.
    fn naive(spec: WindowSpec, seq: &[u8]) -> Vec<(u64, u64)> {
        let clean = |s: usize, e: usize| seq[s..e].iter().all(|b| b"ACGT".contains(b));
        let segments: Vec<Range<usize>> = match spec.gaps {
            GapPolicy::Split => acgt_runs(seq),
            _ => whole(seq.len()),
        };
        let mut out = Vec::new();
        for seg in segments {
            if spec.len == 0 {
                if seg.len() >= spec.min_len && clean(seg.start, seg.end) {
                    out.push((seg.start as u64, seg.end as u64));
                }
                continue;
            }
            let mut s = seg.start;
            while s < seg.end {
                if s + spec.len <= seg.end {
                    if clean(s, s + spec.len) {
                        out.push((s as u64, (s + spec.len) as u64));
                    }
                } else {
                    if spec.keep_tail && seg.end - s >= spec.min_len && clean(s, seg.end) {
                        out.push((s as u64, seg.end as u64));
                    }
                    break;
                }
                s += spec.stride;
            }
        }
        out
    }

    #[test]
    fn split_windows_stay_inside_runs() {
        let seq = b"ACGTACGTNNACGTACGTACG";
        // runs 0..8 and 10..21
        let spec = WindowSpec::new(4);
        assert_eq!(coords(spec, seq), [(0, 4), (4, 8), (10, 14), (14, 18)]);
        let spec = spec.with_keep_tail(true);
        assert_eq!(
            coords(spec, seq),
            [(0, 4), (4, 8), (10, 14), (14, 18), (18, 21)]
        );
        let spec = spec.with_min_len(4);
        assert_eq!(coords(spec, seq), [(0, 4), (4, 8), (10, 14), (14, 18)]);
        let spec = WindowSpec::new(6).with_stride(3);
        assert_eq!(coords(spec, seq), [(0, 6), (10, 16), (13, 19)]);
    }

    #[test]
    fn len_zero_gives_whole_runs_or_records() {
        let seq = b"NACGTNNAAGGCCTTRA";
        assert_eq!(
            coords(WindowSpec::default(), seq),
            [(1, 5), (7, 15), (16, 17)]
        );
        assert_eq!(
            coords(WindowSpec::new(0).with_min_len(2), seq),
            [(1, 5), (7, 15)]
        );
        let drop = WindowSpec::new(0).with_gaps(GapPolicy::Drop);
        assert_eq!(coords(drop, seq), []);
        assert_eq!(coords(drop, b"ACGT"), [(0, 4)]);
        assert_eq!(
            coords(WindowSpec::new(0).with_gaps(GapPolicy::Fail), b"ACGT"),
            [(0, 4)]
        );
    }

    #[test]
    fn drop_discards_windows_holding_a_gap() {
        let seq = b"ACGTACNTACGTACGT";
        let spec = WindowSpec::new(4).with_gaps(GapPolicy::Drop);
        // Windows on the record grid; 4..8 and (stride 2) 6..10 hold the N.
        assert_eq!(coords(spec, seq), [(0, 4), (8, 12), (12, 16)]);
        let spec = spec.with_stride(2);
        assert_eq!(
            coords(spec, seq),
            [(0, 4), (2, 6), (8, 12), (10, 14), (12, 16)]
        );
    }

    #[test]
    fn fail_reports_the_first_gap() {
        let r = rec(b"ACGTACGTRACN");
        let err = WindowSpec::new(4)
            .with_gaps(GapPolicy::Fail)
            .windows(&r, Path::new("g.fa"))
            .unwrap_err();
        match err {
            SeqError::Gap {
                path,
                line,
                record,
                base,
                pos,
            } => {
                assert_eq!(path, Path::new("g.fa"));
                assert_eq!((line, record.as_str(), base, pos), (3, "r", b'R', 8));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            coords(
                WindowSpec::new(3)
                    .with_gaps(GapPolicy::Fail)
                    .with_keep_tail(true),
                b"ACGTACGT"
            ),
            [(0, 3), (3, 6), (6, 8)]
        );
    }

    #[test]
    fn invalid_specs_are_param_errors() {
        let r = rec(b"ACGT");
        let p = Path::new("x");
        for spec in [
            WindowSpec::new(4).with_stride(0),
            WindowSpec::new(4).with_min_len(5),
            WindowSpec::new(0).with_min_len(0),
        ] {
            assert!(
                matches!(spec.windows(&r, p), Err(SeqError::Param(_))),
                "{spec:?}"
            );
        }
    }

    #[test]
    fn window_seq_matches_coordinates() {
        let r = rec(b"ACGTTGCANNNNGGGACCCTTTAAAC");
        for w in WindowSpec::new(5)
            .with_stride(2)
            .with_keep_tail(true)
            .windows(&r, Path::new("x"))
            .unwrap()
        {
            assert_eq!(&r.seq[w.start as usize..w.end as usize], w.seq);
            assert_eq!(w.len() as u64, w.end - w.start);
        }
    }

    fn policy() -> impl Strategy<Value = GapPolicy> {
        prop_oneof![
            Just(GapPolicy::Split),
            Just(GapPolicy::Drop),
            Just(GapPolicy::Fail)
        ]
    }

    proptest! {
        #[test]
        fn windows_match_the_reference_and_hold_only_acgt(
            seq in "[ACGT]{0,40}(N{1,5}[ACGT]{0,60}){0,4}R?[ACGT]{0,10}",
            len in 0usize..12,
            stride in 1usize..9,
            min_len in 1usize..6,
            keep_tail in any::<bool>(),
            gaps in policy(),
        ) {
            let spec = WindowSpec { len, stride, gaps, min_len: if len > 0 { min_len.min(len) } else { min_len }, keep_tail };
            let r = rec(seq.as_bytes());
            match spec.windows(&r, Path::new("p")) {
                Ok(ws) => {
                    let got: Vec<(u64, u64)> = ws.iter().map(|w| (w.start, w.end)).collect();
                    prop_assert_eq!(&got, &naive(spec, &r.seq));
                    for w in &ws {
                        prop_assert_eq!(&r.seq[w.start as usize..w.end as usize], w.seq);
                        prop_assert!(w.seq.iter().all(|b| b"ACGT".contains(b)));
                        prop_assert!(w.len() >= spec.min_len);
                        if spec.len > 0 {
                            prop_assert!(w.len() <= spec.len);
                        }
                    }
                }
                Err(SeqError::Gap { pos, base, .. }) => {
                    prop_assert_eq!(gaps, GapPolicy::Fail);
                    prop_assert_eq!(Some(pos as usize), first_non_acgt(&r.seq));
                    prop_assert_eq!(base, r.seq[pos as usize]);
                }
                Err(e) => prop_assert!(false, "unexpected error {e}"),
            }
        }
    }
}
