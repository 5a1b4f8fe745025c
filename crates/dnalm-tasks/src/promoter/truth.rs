//! How a scan's promoter calls line up with known TSSs (`promoter scan
//! --truth`): how many TSSs lie within a distance of a call (on either
//! strand, and on the call's own strand), how many calls lie near a TSS,
//! calls per Mb of scanned sequence, and the same counts for calls placed
//! at random (same number, lengths and strands; seeded, many rounds) as the
//! baseline a call set has to beat.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::data::Tss;
use super::scan::{Call, ScoredWindow};
use dnalm_seq::Strand;

/// Counts for one call set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TruthCounts {
    pub calls: f64,
    pub calls_per_mb: f64,
    /// TSSs within the distance of a call, either strand.
    pub tss_near_call: f64,
    /// TSSs within the distance of a call on the TSS's strand.
    pub tss_near_call_same_strand: f64,
    /// Calls within the distance of a TSS.
    pub calls_near_tss: f64,
}

/// The scan against the truth, and the random baseline (means over rounds).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TruthReport {
    pub distance: u64,
    /// TSSs on the scanned records (others are not counted).
    pub tss: usize,
    pub scanned_bases: u64,
    pub scan: TruthCounts,
    pub random: TruthCounts,
    pub rounds: usize,
    /// Share of random rounds with at least as many TSSs near a call as the scan.
    pub random_at_least_as_good: f64,
}

/// Distance from a position to the nearest base of `start..end` (0 inside).
fn gap(pos: u64, start: u64, end: u64) -> u64 {
    if pos < start {
        start - pos
    } else if pos >= end {
        pos + 1 - end
    } else {
        0
    }
}

fn counts(calls: &[Call], tss: &[&Tss], distance: u64, scanned: u64) -> TruthCounts {
    let near = |t: &Tss, c: &Call| c.chrom == t.chrom && gap(t.pos, c.start, c.end) <= distance;
    let n = |f: &dyn Fn(&Tss) -> bool| tss.iter().filter(|t| f(t)).count() as f64;
    TruthCounts {
        calls: calls.len() as f64,
        calls_per_mb: calls.len() as f64 / (scanned as f64 / 1e6),
        tss_near_call: n(&|t| calls.iter().any(|c| near(t, c))),
        tss_near_call_same_strand: n(&|t| calls.iter().any(|c| c.strand == t.strand && near(t, c))),
        calls_near_tss: calls
            .iter()
            .filter(|c| tss.iter().any(|t| near(t, c)))
            .count() as f64,
    }
}

/// The TSSs of `truth` inside the scanned span of their record (a
/// `--region` scan covers part of a record only), and the scanned bases:
/// the union of the plus-strand windows, per record.
pub fn scanned_truth<'a>(windows: &[ScoredWindow], truth: &'a [Tss]) -> (Vec<&'a Tss>, u64) {
    let plus: Vec<&ScoredWindow> = windows
        .iter()
        .filter(|w| w.strand != Strand::Minus)
        .collect();
    // Scanned bases: the union of the plus-strand windows, per record.
    let mut scanned = 0;
    let mut cur: Option<(&str, u64, u64)> = None;
    for w in &plus {
        match cur {
            Some((c, s, e)) if c == w.chrom && w.start <= e => {
                cur = Some((c, s, e.max(w.end)));
            }
            _ => {
                if let Some((_, s, e)) = cur {
                    scanned += e - s;
                }
                cur = Some((w.chrom.as_str(), w.start, w.end));
            }
        }
    }
    if let Some((_, s, e)) = cur {
        scanned += e - s;
    }
    // The TSSs inside the scanned span of their record (a --region scan
    // covers part of a record only).
    let mut span: std::collections::HashMap<&str, (u64, u64)> = std::collections::HashMap::new();
    for w in &plus {
        let e = span.entry(w.chrom.as_str()).or_insert((w.start, w.end));
        e.0 = e.0.min(w.start);
        e.1 = e.1.max(w.end);
    }
    let tss: Vec<&Tss> = truth
        .iter()
        .filter(|t| {
            span.get(t.chrom.as_str())
                .is_some_and(|&(s, e)| t.pos >= s && t.pos < e)
        })
        .collect();
    (tss, scanned)
}

/// One point of a precision-recall curve over ranked calls.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PrPoint {
    /// The calls kept: the best `calls` by score.
    pub calls: usize,
    /// The lowest score among them.
    pub score: f64,
    pub calls_per_mb: f64,
    /// Share of the TSSs within the distance of a kept call (either strand).
    pub recall: f64,
    /// Share of the kept calls within the distance of a TSS.
    pub precision: f64,
}

/// Precision and recall of the best k calls (by score; ties in call
/// order) for every k: how a call rate trades recall for precision. `tss`
/// and `scanned` come from [`scanned_truth`].
pub fn pr_curve(calls: &[Call], tss: &[&Tss], distance: u64, scanned: u64) -> Vec<PrPoint> {
    let mut by_chrom: std::collections::HashMap<&str, Vec<(u64, usize)>> =
        std::collections::HashMap::new();
    for (i, t) in tss.iter().enumerate() {
        by_chrom
            .entry(t.chrom.as_str())
            .or_default()
            .push((t.pos, i));
    }
    for v in by_chrom.values_mut() {
        v.sort_unstable();
    }
    let mut order: Vec<usize> = (0..calls.len()).collect();
    order.sort_by(|&a, &b| calls[b].best.total_cmp(&calls[a].best).then(a.cmp(&b)));
    let mut found = vec![false; tss.len()];
    let (mut hit_tss, mut good_calls) = (0usize, 0usize);
    let mb = scanned as f64 / 1e6;
    let mut out = Vec::with_capacity(calls.len());
    for (k, &i) in order.iter().enumerate() {
        let c = &calls[i];
        let lo = c.start.saturating_sub(distance);
        let hi = c.end + distance; // TSS positions in lo..hi are near
        let mut near = false;
        if let Some(v) = by_chrom.get(c.chrom.as_str()) {
            let from = v.partition_point(|&(p, _)| p < lo);
            for &(p, t) in &v[from..] {
                if p >= hi {
                    break;
                }
                near = true;
                if !found[t] {
                    found[t] = true;
                    hit_tss += 1;
                }
            }
        }
        good_calls += near as usize;
        out.push(PrPoint {
            calls: k + 1,
            score: c.best,
            calls_per_mb: (k + 1) as f64 / mb,
            recall: hit_tss as f64 / tss.len().max(1) as f64,
            precision: good_calls as f64 / (k + 1) as f64,
        });
    }
    out
}

/// Compare `calls` with `truth`. `windows` are the scored windows of the
/// scan: their union on the plus strand is the scanned sequence, and random
/// calls start where a scored window starts.
pub fn compare(
    calls: &[Call],
    windows: &[ScoredWindow],
    truth: &[Tss],
    distance: u64,
    rounds: usize,
    seed: u64,
) -> TruthReport {
    let plus: Vec<&ScoredWindow> = windows
        .iter()
        .filter(|w| w.strand != Strand::Minus)
        .collect();
    let (tss, scanned) = scanned_truth(windows, truth);
    let scan = counts(calls, &tss, distance, scanned);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut sum = [0.0; 5];
    let mut as_good = 0;
    for _ in 0..rounds {
        let placed: Vec<Call> = calls
            .iter()
            .map(|c| {
                let w = plus[rng.random_range(0..plus.len())];
                Call {
                    chrom: w.chrom.clone(),
                    start: w.start,
                    end: w.start + (c.end - c.start),
                    ..c.clone()
                }
            })
            .collect();
        let r = counts(&placed, &tss, distance, scanned);
        for (s, v) in sum.iter_mut().zip([
            r.calls,
            r.calls_per_mb,
            r.tss_near_call,
            r.tss_near_call_same_strand,
            r.calls_near_tss,
        ]) {
            *s += v;
        }
        as_good += (r.tss_near_call >= scan.tss_near_call) as usize;
    }
    let k = rounds.max(1) as f64;
    TruthReport {
        distance,
        tss: tss.len(),
        scanned_bases: scanned,
        scan,
        random: TruthCounts {
            calls: sum[0] / k,
            calls_per_mb: sum[1] / k,
            tss_near_call: sum[2] / k,
            tss_near_call_same_strand: sum[3] / k,
            calls_near_tss: sum[4] / k,
        },
        rounds,
        random_at_least_as_good: as_good as f64 / k,
    }
}

/// The TSV header of [`tsv_rows`].
pub fn tsv_header(distance: u64) -> String {
    format!(
        "truth\tcalls_from\tcalls\tcalls_per_mb\ttss\ttss_within_{d}\ttss_within_{d}_same_strand\tcalls_within_{d}_of_tss\n",
        d = distance
    )
}

/// Two TSV rows for the truth set `truth`: the scan and the random baseline.
pub fn tsv_rows(truth: &str, r: &TruthReport) -> String {
    let mut s = String::new();
    for (name, c) in [
        ("scan".to_string(), &r.scan),
        (format!("random (mean of {})", r.rounds), &r.random),
    ] {
        s.push_str(&format!(
            "{truth}\t{name}\t{:.2}\t{:.3}\t{}\t{:.2}\t{:.2}\t{:.2}\n",
            c.calls,
            c.calls_per_mb,
            r.tss,
            c.tss_near_call,
            c.tss_near_call_same_strand,
            c.calls_near_tss
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(start: u64, end: u64, strand: Strand) -> Call {
        Call {
            chrom: "c".into(),
            start,
            end,
            strand,
            best: 0.9,
            windows: 1,
        }
    }

    fn tss(pos: u64, strand: Strand) -> Tss {
        Tss {
            chrom: "c".into(),
            pos,
            strand,
            name: format!("t{pos}"),
            line: 1,
        }
    }

    #[test]
    fn counts_hits_and_beats_random() {
        // 1 Mb scanned in 300-nt windows with stride 100.
        let windows: Vec<ScoredWindow> = (0..9_998)
            .map(|i| ScoredWindow {
                chrom: "c".into(),
                start: i * 100,
                end: i * 100 + 300,
                strand: Strand::Plus,
                prob: 0.1,
            })
            .collect();
        let calls = [
            call(1_000, 1_300, Strand::Plus),    // TSS 1,200 inside
            call(50_000, 50_300, Strand::Minus), // TSS 50,549: 250 past the last base
            call(90_000, 90_300, Strand::Plus),  // nothing near
        ];
        let truth = [
            tss(1_200, Strand::Plus),
            tss(50_549, Strand::Plus),
            tss(50_550, Strand::Minus), // 251 past the last base: too far
            tss(700_000, Strand::Minus),
            Tss {
                chrom: "other".into(),
                ..tss(5, Strand::Plus)
            },
        ];
        let r = compare(&calls, &windows, &truth, 250, 200, 7);
        assert_eq!(r.scanned_bases, 1_000_000);
        assert_eq!(r.tss, 4);
        assert_eq!(r.scan.calls_per_mb, 3.0);
        assert_eq!(r.scan.tss_near_call, 2.0);
        assert_eq!(r.scan.tss_near_call_same_strand, 1.0);
        assert_eq!(r.scan.calls_near_tss, 2.0);
        // Three 300-nt calls at random in 1 Mb rarely come near 4 TSSs.
        assert!(r.random.tss_near_call < 0.1, "{:?}", r.random);
        assert!(r.random_at_least_as_good < 0.05);
        assert_eq!(r, compare(&calls, &windows, &truth, 250, 200, 7));
        assert!(tsv_header(250)
            .starts_with("truth\tcalls_from\tcalls\tcalls_per_mb\ttss\ttss_within_250\t"));
        // Ranked by score: the call at 90,000 first (no TSS), then 1,000.
        let mut ranked = calls.clone();
        ranked[0].best = 0.8;
        ranked[1].best = 0.7;
        let (near, scanned) = scanned_truth(&windows, &truth);
        let pr = pr_curve(&ranked, &near, 250, scanned);
        let got: Vec<(usize, f64, f64, f64)> = pr
            .iter()
            .map(|p| (p.calls, p.score, p.recall, p.precision))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, 0.9, 0.0, 0.0),
                (2, 0.8, 0.25, 0.5),
                (3, 0.7, 0.5, 2.0 / 3.0)
            ]
        );
        assert_eq!(pr[2].calls_per_mb, 3.0);
        let tsv = tsv_rows("t.bed", &r);
        assert!(
            tsv.starts_with("t.bed\tscan\t3.00\t3.000\t4\t2.00\t1.00\t2.00\n"),
            "{tsv}"
        );
    }
}
