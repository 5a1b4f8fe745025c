//! DNABERT's attention motif analysis on a labelled set, and the DNAVec
//! check of whether attention goes to high tf-idf tokens.
//!
//! For every sequence: the [CLS]-to-token attention of the last layer,
//! summed over heads, spread to bases ([`crate::spans::per_base`]). In the
//! positives, high-attention regions are the runs of bases scoring above
//! the sequence's mean and above 10x its minimum, at least `min_len` long
//! (DNABERT's `find_high_attention`). Candidate motifs are the k-mers lying
//! inside those regions (DNABERT takes whole region strings and then merges
//! similar ones by alignment; fixed-length k-mers stand in for that merge).
//! A candidate seen in at least `min_hits` regions is tested for enrichment:
//! of the sequences containing it anywhere, are more positives than chance?
//! (hypergeometric upper tail, Benjamini-Hochberg over the candidates).
//!
//! tf-idf check: each sequence is a document of token ids; tf-idf(t, d) =
//! f(t,d)/|d| x (ln((1+n)/(1+df(t))) + 1), the weighting of `dnalm tfidf`.
//! Spearman's correlation is taken between a token's tf-idf and the
//! attention it receives (last layer, heads summed, mean over queries),
//! pooled over every token of every sequence and per sequence.

use std::ops::Range;

use dnalm_tokenizers::Tokenizer;
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::attention::{row_scores, TokenScores};
use crate::error::{Result, TaskError};
use crate::infer::run_rows;
use crate::model::TaskModel;
use crate::spans::{encode_with_spans, per_base};
use crate::stats::{benjamini_hochberg, hypergeom_sf, spearman, LnFactorials};

/// Runs of `score` above its mean and above 10x its minimum, at least
/// `min_len` long.
pub fn high_attention_regions(score: &[f64], min_len: usize) -> Vec<Range<usize>> {
    if score.is_empty() {
        return Vec::new();
    }
    let mean = score.iter().sum::<f64>() / score.len() as f64;
    let min = score.iter().cloned().fold(f64::INFINITY, f64::min);
    let mut out = Vec::new();
    let mut start = None;
    for (i, &s) in score.iter().chain([f64::NEG_INFINITY].iter()).enumerate() {
        let high = s > mean && s > 10.0 * min;
        match (high, start) {
            (true, None) => start = Some(i),
            (false, Some(st)) => {
                if i - st >= min_len {
                    out.push(st..i);
                }
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// Settings of [`analyse`].
#[derive(Debug, Clone)]
pub struct MotifOptions {
    /// Shortest high-attention region (5 in DNABERT).
    pub min_len: usize,
    /// Motif length.
    pub k: usize,
    /// Regions a candidate must appear in (DNABERT's `min_n_motif`, 3).
    pub min_hits: usize,
    /// Motifs reported as enriched have q below this.
    pub alpha: f64,
    pub batch_size: usize,
}

impl Default for MotifOptions {
    fn default() -> Self {
        Self {
            min_len: 5,
            k: 6,
            min_hits: 3,
            alpha: 0.05,
            batch_size: 16,
        }
    }
}

/// One tested motif.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MotifRow {
    pub motif: String,
    /// Occurrences inside high-attention regions of the positives.
    pub region_hits: usize,
    pub positives_with: usize,
    pub negatives_with: usize,
    pub p_value: f64,
    pub q_value: f64,
}

/// The DNAVec check's numbers.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TfidfCorrelation {
    /// Spearman over every (sequence, token) pair.
    pub pooled_spearman: f64,
    pub pairs: usize,
    /// Mean of the per-sequence Spearman correlations (sequences where it
    /// is defined).
    pub mean_sequence_spearman: f64,
    pub sequences: usize,
}

/// Everything the analysis found.
#[derive(Debug, Clone, Serialize)]
pub struct MotifReport {
    pub positives: usize,
    pub negatives: usize,
    pub regions: usize,
    pub positives_with_region: usize,
    /// Every tested motif, by q value then region hits.
    pub motifs: Vec<MotifRow>,
    pub tfidf: TfidfCorrelation,
}

/// Run the analysis on `seqs` (A/C/G/T, each fitting the model) with
/// labels 0/1; `on_batch` gets sequences done and the total.
pub fn analyse(
    model: &TaskModel,
    device: &dnalm_model::Device,
    seqs: &[Vec<u8>],
    labels: &[u8],
    opts: &MotifOptions,
    on_batch: &mut dyn FnMut(usize, usize),
) -> Result<MotifReport> {
    let (positives, negatives) = check_inputs(seqs, labels, opts)?;
    // Tokenize everything first: a sequence that does not fit stops the run
    // before any model work.
    let framed = frame_all(model, seqs)?;
    let scores = attention_scores(model, device, &framed, opts, on_batch)?;
    // Regions and candidate k-mers in the positives.
    let mut hits: FxHashMap<&[u8], usize> = FxHashMap::default();
    let (mut regions, mut with_region) = (0usize, 0usize);
    for (i, s) in seqs.iter().enumerate() {
        if labels[i] != 1 {
            continue;
        }
        let base = per_base(&scores[i].cls, &framed[i].1, s.len());
        let rs = high_attention_regions(&base, opts.min_len);
        regions += rs.len();
        with_region += usize::from(!rs.is_empty());
        for r in rs {
            for w in s[r].windows(opts.k) {
                *hits.entry(w).or_default() += 1;
            }
        }
    }
    let mut cands: Vec<(&[u8], usize)> = hits
        .into_iter()
        .filter(|&(_, n)| n >= opts.min_hits)
        .collect();
    cands.sort();
    let rows = motif_rows(&cands, seqs, labels, positives)?;
    let ids: Vec<&[u32]> = framed.iter().map(|(f, _)| &f[1..f.len() - 1]).collect();
    let received: Vec<&[f64]> = scores.iter().map(|s| s.received.as_slice()).collect();
    Ok(MotifReport {
        positives,
        negatives,
        regions,
        positives_with_region: with_region,
        motifs: rows,
        tfidf: tfidf_correlation(&ids, &received)?,
    })
}

/// Labels pair up with sequences and hold both classes, and k is usable;
/// returns the positive and negative counts.
fn check_inputs(seqs: &[Vec<u8>], labels: &[u8], opts: &MotifOptions) -> Result<(usize, usize)> {
    if seqs.len() != labels.len() {
        return Err(TaskError::Data(format!(
            "motif analysis: {} sequences but {} labels",
            seqs.len(),
            labels.len()
        )));
    }
    let positives = labels.iter().filter(|&&l| l == 1).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 {
        return Err(TaskError::Data(format!(
            "motif analysis needs positives and negatives: {positives} positive, {negatives} negative sequences"
        )));
    }
    if opts.k == 0 || opts.k > 32 {
        return Err(TaskError::Config(format!(
            "--motif-k {}: must be in 1..=32",
            opts.k
        )));
    }
    Ok((positives, negatives))
}

/// A sequence as `[CLS] ids [SEP]`, with the bases each token spans.
type Framed = (Vec<u32>, Vec<Range<usize>>);

/// Each sequence framed for the model.
fn frame_all(model: &TaskModel, seqs: &[Vec<u8>]) -> Result<Vec<Framed>> {
    let max = model.pretrained.config.max_position_embeddings;
    let sp = model.tokenizer.vocab().specials();
    let mut framed = Vec::with_capacity(seqs.len());
    for (i, s) in seqs.iter().enumerate() {
        let (ids, spans) = encode_with_spans(&model.tokenizer, s)?;
        if ids.is_empty() || ids.len() + 2 > max {
            return Err(TaskError::Data(format!(
                "sequence {} ({} bases) gives {} tokens: needs 1..={} to fit the model",
                i + 1,
                s.len(),
                ids.len(),
                max - 2
            )));
        }
        let mut frame = vec![sp.cls];
        frame.extend(&ids);
        frame.push(sp.sep);
        framed.push((frame, spans));
    }
    Ok(framed)
}

/// Attention scores of every token of every framed sequence, in batches.
fn attention_scores(
    model: &TaskModel,
    device: &dnalm_model::Device,
    framed: &[Framed],
    opts: &MotifOptions,
    on_batch: &mut dyn FnMut(usize, usize),
) -> Result<Vec<TokenScores>> {
    let cfg = &model.pretrained.config;
    let (layers, heads) = (cfg.num_hidden_layers, cfg.num_attention_heads);
    let total = framed.len();
    let mut scores: Vec<TokenScores> = Vec::with_capacity(total);
    for (b, batch) in framed.chunks(opts.batch_size.max(1)).enumerate() {
        let rows: Vec<Vec<u32>> = batch.iter().map(|(f, _)| f.clone()).collect();
        for st in run_rows(model, device, &rows, layers, true, rows.len())? {
            scores.push(row_scores(&st, layers, heads));
        }
        on_batch((b * opts.batch_size.max(1) + batch.len()).min(total), total);
    }
    Ok(scores)
}

/// One row per candidate k-mer: positives and negatives containing it, the
/// hypergeometric p-value and the Benjamini-Hochberg q-value, best first.
fn motif_rows(
    cands: &[(&[u8], usize)],
    seqs: &[Vec<u8>],
    labels: &[u8],
    positives: usize,
) -> Result<Vec<MotifRow>> {
    let lf = LnFactorials::new(seqs.len());
    let mut rows: Vec<MotifRow> = cands
        .iter()
        .map(|&(m, n)| -> Result<MotifRow> {
            let (mut pw, mut nw) = (0usize, 0usize);
            for (s, &l) in seqs.iter().zip(labels) {
                if s.windows(m.len()).any(|w| w == m) {
                    if l == 1 {
                        pw += 1;
                    } else {
                        nw += 1;
                    }
                }
            }
            Ok(MotifRow {
                motif: String::from_utf8_lossy(m).into_owned(),
                region_hits: n,
                positives_with: pw,
                negatives_with: nw,
                p_value: hypergeom_sf(&lf, pw, seqs.len(), pw + nw, positives)?,
                q_value: f64::NAN,
            })
        })
        .collect::<Result<_>>()?;
    let p: Vec<f64> = rows.iter().map(|r| r.p_value).collect();
    for (r, q) in rows.iter_mut().zip(benjamini_hochberg(&p)) {
        r.q_value = q;
    }
    rows.sort_by(|a, b| {
        a.q_value
            .total_cmp(&b.q_value)
            .then(b.region_hits.cmp(&a.region_hits))
            .then(a.motif.cmp(&b.motif))
    });
    Ok(rows)
}

/// Spearman between each token's tf-idf in its sequence and `received`
/// (one score per token of each document). Errors when the two do not pair up.
pub fn tfidf_correlation(docs: &[&[u32]], received: &[&[f64]]) -> Result<TfidfCorrelation> {
    if docs.len() != received.len() {
        return Err(TaskError::Data(format!(
            "tf-idf check: {} sequences but {} score lists",
            docs.len(),
            received.len()
        )));
    }
    if let Some(i) = (0..docs.len()).find(|&i| docs[i].len() != received[i].len()) {
        return Err(TaskError::Data(format!(
            "tf-idf check: sequence {} has {} tokens but {} scores",
            i + 1,
            docs[i].len(),
            received[i].len()
        )));
    }
    let n = docs.len() as f64;
    let mut df: FxHashMap<u32, usize> = FxHashMap::default();
    for d in docs {
        let mut seen: Vec<u32> = d.to_vec();
        seen.sort_unstable();
        seen.dedup();
        for t in seen {
            *df.entry(t).or_default() += 1;
        }
    }
    let (mut all_x, mut all_y, mut per) = (Vec::new(), Vec::new(), Vec::new());
    for (d, r) in docs.iter().zip(received) {
        let mut tf: FxHashMap<u32, usize> = FxHashMap::default();
        for &t in d.iter() {
            *tf.entry(t).or_default() += 1;
        }
        let x: Vec<f64> = d
            .iter()
            .map(|t| {
                let idf = ((1.0 + n) / (1.0 + df[t] as f64)).ln() + 1.0;
                tf[t] as f64 / d.len() as f64 * idf
            })
            .collect();
        let rho = spearman(&x, r)?;
        if rho.is_finite() {
            per.push(rho);
        }
        all_x.extend(x);
        all_y.extend_from_slice(r);
    }
    Ok(TfidfCorrelation {
        pooled_spearman: spearman(&all_x, &all_y)?,
        pairs: all_x.len(),
        mean_sequence_spearman: crate::metrics::mean_sd(&per).0,
        sequences: per.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_follow_dnabert_rule() {
        // mean 1.36, min 0.1: runs above both, >= 3 long.
        let s = [
            0.1, 2.0, 2.0, 2.0, 0.5, 3.0, 3.0, 0.1, 2.0, 2.0, 2.0, 2.0, 0.2,
        ];
        assert_eq!(high_attention_regions(&s, 3), [1..4, 8..12]);
        let long = high_attention_regions(&s, 4);
        assert_eq!((long.len(), long[0].clone()), (1, 8..12));
        // Nothing is above 10x a minimum of 1.
        assert!(high_attention_regions(&[1.0, 5.0, 5.0, 5.0], 1).is_empty());
        assert!(high_attention_regions(&[], 1).is_empty());
    }

    #[test]
    fn tfidf_correlation_sign() {
        // One occurrence of each token per sequence: tf-idf follows idf, and
        // the rare tokens (3..6) get the most attention.
        let docs: Vec<Vec<u32>> = vec![vec![1, 2, 3], vec![1, 2, 4], vec![1, 5, 6]];
        let recv: Vec<Vec<f64>> = vec![
            vec![0.1, 0.2, 0.9],
            vec![0.1, 0.2, 0.8],
            vec![0.1, 0.7, 0.6],
        ];
        let d: Vec<&[u32]> = docs.iter().map(Vec::as_slice).collect();
        let r: Vec<&[f64]> = recv.iter().map(Vec::as_slice).collect();
        let c = tfidf_correlation(&d, &r).unwrap();
        assert_eq!((c.pairs, c.sequences), (9, 3));
        assert!(c.pooled_spearman > 0.8, "{c:?}");
        // Per sequence: 1, 1 and 0.866 (ranks [1, 2.5, 2.5] vs [1, 3, 2]).
        let want = (2.0 + 0.75f64.sqrt()) / 3.0;
        assert!((c.mean_sequence_spearman - want).abs() < 1e-9, "{c:?}");
        let flipped: Vec<Vec<f64>> = recv
            .iter()
            .map(|v| v.iter().map(|x| -x).collect())
            .collect();
        let r: Vec<&[f64]> = flipped.iter().map(Vec::as_slice).collect();
        assert!(tfidf_correlation(&d, &r).unwrap().pooled_spearman < -0.8);
        // Scores that do not pair up with the tokens are an error, not a panic.
        let short: Vec<&[f64]> = vec![&recv[0], &recv[1][..2], &recv[2]];
        let err = tfidf_correlation(&d, &short).unwrap_err();
        assert!(
            err.to_string().contains("sequence 2 has 3 tokens but 2"),
            "{err}"
        );
        assert!(tfidf_correlation(&d, &r[..2]).is_err());
    }
}
