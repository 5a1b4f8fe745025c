//! The parts of the evaluation that ask the model: boundaries on held-out
//! English text against its true paragraph and sentence breaks, and the
//! stability of boundaries when the window grid moves.
//!
//! **Held-out text as the model reads it.** Each paragraph is lower-cased
//! ([`crate::english::for_model`]) and encoded, and every "." token is
//! removed, exactly as the `<p_end>` stage's training text. A sentence ends
//! where a removed full stop was (unless it followed a title such as "mr" or
//! a one-letter initial) and after "!" and "?"; closing quotes and brackets
//! stay with the sentence they close. The true breaks are token positions:
//! sentence ends and paragraph ends (the text's last position is not a
//! break).
//!
//! **Predicted breaks** come from the book's own rule
//! ([`crate::boundaries`]): paragraphs from P(`<p_end>`) of the `<p_end>`
//! model, sentences from P(".") of the base model, both over the whole
//! text (sentences are not nested in predicted paragraphs here, so each rule
//! is judged on its own). Two variants: `rule` (segments after merging the
//! short ones, as the book writes them) and `raw` (every break).
//!
//! **Stability** runs the same rule at window offsets 0 and `stride / 2`
//! and compares the two break sets ([`crate::eval::stability`]).

use std::path::Path;

use serde::Serialize;

use crate::boundaries::{find_breaks, segments, BoundaryParams};
use crate::eval::{boundary_prf, stability, Prf, Stability};
use crate::model::{BookLm, BookTokenizer};
use crate::text::{GenomeText, Piece};
use crate::{BookError, Result};

/// Held-out English as token ids with its true breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldOutText {
    pub ids: Vec<u32>,
    pub paragraphs: usize,
    /// Cut positions (a segment ends there), sorted, without `ids.len()`.
    pub paragraph_breaks: Vec<u64>,
    pub sentence_breaks: Vec<u64>,
}

/// Titles and abbreviations whose full stop does not end a sentence.
const ABBREVIATIONS: [&str; 12] = [
    "mr", "mrs", "ms", "dr", "st", "col", "capt", "esq", "rev", "messrs", "sir", "no",
];

/// Does a full stop after this (lower-case) token end a sentence? Not after
/// a title ("mr") or an initial (one letter other than the pronoun "i").
fn stop_ends_sentence(prev: &str) -> bool {
    let initial = prev.len() == 1 && prev != "i" && prev.bytes().all(|b| b.is_ascii_lowercase());
    !(ABBREVIATIONS.contains(&prev) || initial)
}

/// Tokens that stay with the sentence they close.
fn closes(token: &str) -> bool {
    matches!(
        token,
        "\"" | "'" | ")" | "]" | "_" | "\u{201d}" | "\u{2019}"
    )
}

impl HeldOutText {
    /// Encodes paragraphs in order until the next one would pass
    /// `max_tokens` (the first one is always taken). `full_stop` is the id
    /// of "."; every full stop is removed, as in the `<p_end>` training
    /// text. No paragraph with a token is an error.
    pub fn encode(
        paragraphs: &[String],
        tok: &dyn BookTokenizer,
        full_stop: u32,
        max_tokens: usize,
    ) -> Result<Self> {
        let mut out = HeldOutText {
            ids: Vec::new(),
            paragraphs: 0,
            paragraph_breaks: Vec::new(),
            sentence_breaks: Vec::new(),
        };
        for (i, para) in paragraphs.iter().enumerate() {
            let raw = tok
                .encode_text(&crate::english::for_model(para))
                .map_err(|e| BookError::Data(format!("held-out paragraph {}: {e}", i + 1)))?;
            let mut ids = Vec::with_capacity(raw.len());
            let mut ends = Vec::new();
            let mut pending = false;
            for id in raw {
                let text = tok.token(id).unwrap_or_default();
                if id == full_stop {
                    let prev = ids.last().and_then(|&p| tok.token(p)).unwrap_or_default();
                    pending |= !ids.is_empty() && stop_ends_sentence(prev);
                    continue;
                }
                if pending && !closes(text) {
                    ends.push(ids.len());
                    pending = false;
                }
                ids.push(id);
                pending |= matches!(text, "!" | "?");
            }
            if ids.is_empty() {
                continue;
            }
            if out.paragraphs > 0 && out.ids.len() + ids.len() > max_tokens {
                break;
            }
            let at = out.ids.len() as u64;
            out.sentence_breaks
                .extend(ends.iter().map(|&e| at + e as u64));
            out.ids.extend(ids);
            let end = out.ids.len() as u64;
            out.sentence_breaks.push(end);
            out.paragraph_breaks.push(end);
            out.paragraphs += 1;
        }
        if out.ids.is_empty() {
            return Err(BookError::Data(
                "the held-out English text has no paragraph with a token".into(),
            ));
        }
        let n = out.ids.len() as u64;
        out.paragraph_breaks.retain(|&b| b < n);
        out.sentence_breaks.retain(|&b| b < n);
        Ok(out)
    }
}

/// One line of the boundary table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoundaryRow {
    /// `paragraph` or `sentence`.
    pub level: String,
    /// `rule` (merged as the book writes) or `raw` (every break).
    pub variant: String,
    pub tolerance: u64,
    #[serde(flatten)]
    pub prf: Prf,
}

/// One line of the stability table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StabilityRow {
    /// What was segmented (`english paragraph`, `dna paragraph`, ...).
    pub what: String,
    pub offset_a: usize,
    pub offset_b: usize,
    pub tolerance: u64,
    #[serde(flatten)]
    pub stability: Stability,
}

/// Cuts of `ids` by one rule: `(raw, merged)`, each without `ids.len()`.
pub fn cuts(
    lm: &dyn BookLm,
    ids: &[u32],
    target: u32,
    params: &BoundaryParams,
) -> Result<(Vec<u64>, Vec<u64>)> {
    params.validate(lm.context_len())?;
    let breaks = find_breaks(lm, ids, target, params)?;
    let raw: Vec<u64> = breaks.iter().map(|&b| b as u64 + 1).collect();
    let merged: Vec<u64> = segments(0..ids.len(), &breaks, params.min_len)
        .iter()
        .map(|r| r.end as u64)
        .filter(|&e| e < ids.len() as u64)
        .collect();
    Ok((raw, merged))
}

/// The model's side of the evaluation.
#[derive(Clone, Copy)]
pub struct ModelEval<'a> {
    /// Predicts `<p_end>`.
    pub pend: &'a dyn BookLm,
    /// Predicts ".".
    pub base: &'a dyn BookLm,
    pub p_end: u32,
    pub dot: u32,
    pub paragraphs: BoundaryParams,
    pub sentences: BoundaryParams,
}

impl std::fmt::Debug for ModelEval<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelEval")
            .field("p_end", &self.p_end)
            .field("dot", &self.dot)
            .field("paragraphs", &self.paragraphs)
            .field("sentences", &self.sentences)
            .finish_non_exhaustive()
    }
}

impl ModelEval<'_> {
    /// Precision / recall / F1 on held-out text at each tolerance (tokens).
    pub fn english(&self, text: &HeldOutText, tolerances: &[u64]) -> Result<Vec<BoundaryRow>> {
        let mut rows = Vec::new();
        let levels = [
            (
                "paragraph",
                self.pend,
                self.p_end,
                &self.paragraphs,
                &text.paragraph_breaks,
            ),
            (
                "sentence",
                self.base,
                self.dot,
                &self.sentences,
                &text.sentence_breaks,
            ),
        ];
        for (level, lm, target, params, truth) in levels {
            let (raw, merged) = cuts(lm, &text.ids, target, params)?;
            for (variant, pred) in [("rule", &merged), ("raw", &raw)] {
                for &tol in tolerances {
                    rows.push(BoundaryRow {
                        level: level.to_string(),
                        variant: variant.to_string(),
                        tolerance: tol,
                        prf: boundary_prf(pred, truth, tol),
                    });
                }
            }
        }
        Ok(rows)
    }

    /// Paragraph and sentence breaks of `ids` at offset 0 against offset
    /// `stride / 2`, at each tolerance (tokens); `what` prefixes the level.
    pub fn stability(
        &self,
        what: &str,
        ids: &[u32],
        tolerances: &[u64],
    ) -> Result<Vec<StabilityRow>> {
        let mut rows = Vec::new();
        let levels = [
            ("paragraph", self.pend, self.p_end, &self.paragraphs),
            ("sentence", self.base, self.dot, &self.sentences),
        ];
        for (level, lm, target, params) in levels {
            let moved = BoundaryParams {
                offset: params.offset + params.stride / 2,
                ..*params
            };
            let (_, a) = cuts(lm, ids, target, params)?;
            let (_, b) = cuts(lm, ids, target, &moved)?;
            for &tol in tolerances {
                rows.push(StabilityRow {
                    what: format!("{what} {level}"),
                    offset_a: params.offset,
                    offset_b: moved.offset,
                    tolerance: tol,
                    stability: stability(&a, &b, tol),
                });
            }
        }
        Ok(rows)
    }
}

/// DNA for the stability check: the token ids of the first A/C/G/T run of
/// the FASTA with at least `max_tokens` tokens, cut to `max_tokens` (the
/// longest run when none is that long). A FASTA without A/C/G/T is an error.
pub fn dna_sample(path: &Path, tok: &dyn BookTokenizer, max_tokens: usize) -> Result<Vec<u32>> {
    let reader = dnalm_seq::FastxReader::open(path)?;
    let mut text = GenomeText::new(reader, dnalm_seq::RecordSelector::all());
    let mut best: Vec<u32> = Vec::new();
    while let Some(rec) = text.next_record() {
        let rec = rec?;
        for piece in rec.pieces(tok, GenomeText::ENCODE_CHUNK) {
            if let Piece::Run(words) = piece? {
                if words.len() > best.len() {
                    best = words.iter().take(max_tokens).map(|w| w.id).collect();
                }
                if best.len() >= max_tokens {
                    return Ok(best);
                }
            }
        }
    }
    if best.is_empty() {
        return Err(BookError::Data(format!(
            "{}: no A/C/G/T bases",
            path.display()
        )));
    }
    Ok(best)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{BigramLm, GreedyTokenizer};

    #[test]
    fn titles_and_initials_keep_their_sentence() {
        assert!(stop_ends_sentence("end"));
        assert!(stop_ends_sentence("i"));
        assert!(!stop_ends_sentence("mr"));
        assert!(!stop_ends_sentence("j"));
    }

    fn tok() -> GreedyTokenizer {
        GreedyTokenizer::new(&[
            "it", "rains", "she", "said", "so", "end", "a", "b", "mr", "\"", "?",
        ])
    }

    #[test]
    fn held_out_text_knows_its_breaks() {
        let paras = vec![
            "It rains . She said so .".to_string(),
            "Mr . B said \" a ? \" End".to_string(),
            "   ".to_string(),
            ". .".to_string(),
            "It rains .".to_string(),
        ];
        let tk = tok();
        let t = HeldOutText::encode(&paras, &tk, GreedyTokenizer::DOT, 1000).unwrap();
        let words: Vec<&str> = t.ids.iter().map(|&i| tk.text(i)).collect();
        assert_eq!(
            words,
            [
                "it", "rains", "she", "said", "so", "mr", "b", "said", "\"", "a", "?", "\"", "end",
                "it", "rains"
            ]
        );
        assert_eq!(t.paragraphs, 3);
        assert_eq!(t.paragraph_breaks, [5, 13]);
        // not after "mr"; after the quote that closes "a ?"
        assert_eq!(t.sentence_breaks, [2, 5, 12, 13]);
        // the token budget stops before the paragraph that would pass it
        let short = HeldOutText::encode(&paras, &tk, GreedyTokenizer::DOT, 7).unwrap();
        assert_eq!((short.paragraphs, short.ids.len()), (1, 5));
        let err =
            HeldOutText::encode(&["xyz".to_string()], &tk, GreedyTokenizer::DOT, 10).unwrap_err();
        assert!(err.to_string().contains("held-out paragraph 1"), "{err}");
    }

    #[test]
    fn a_model_that_learnt_the_breaks_finds_them() {
        let tk = tok();
        let id = |w: &str| tk.id(w).unwrap();
        // training: paragraphs end after "so", sentences after "rains"
        let p_end = GreedyTokenizer::P_END;
        let dot = GreedyTokenizer::DOT;
        let para = |end: u32| vec![id("it"), id("rains"), end, id("she"), id("said"), id("so")];
        let mut pend_train = Vec::new();
        let mut base_train = Vec::new();
        for _ in 0..50 {
            pend_train.extend(para(id("she")));
            pend_train.push(p_end);
            base_train.extend(para(dot));
        }
        // in the P(".") model, "it rains" is followed by "." and "so" by "it"
        let pend = BigramLm::train(tk.vocab_size(), &[pend_train], 0.1, 64);
        let base = BigramLm::train(tk.vocab_size(), &[base_train], 0.1, 64);
        let paras: Vec<String> = (0..30)
            .map(|_| "It rains . She said so .".to_string())
            .collect();
        let text = HeldOutText::encode(&paras, &tk, dot, 10_000).unwrap();
        let small = BoundaryParams {
            window: 32,
            stride: 24,
            top_k: 3,
            min_len: 1,
            offset: 0,
            batch: 4,
        };
        let eval = ModelEval {
            pend: &pend,
            base: &base,
            p_end,
            dot,
            paragraphs: small,
            sentences: small,
        };
        let rows = eval.english(&text, &[0, 1]).unwrap();
        let get = |level: &str, variant: &str, tol: u64| {
            rows.iter()
                .find(|r| r.level == level && r.variant == variant && r.tolerance == tol)
                .unwrap()
                .prf
        };
        let p = get("paragraph", "rule", 0);
        assert_eq!((p.truth, p.precision, p.recall), (29, 1.0, 1.0), "{p:?}");
        let s = get("sentence", "raw", 0);
        assert_eq!(s.truth, 59);
        assert_eq!(s.precision, 1.0, "{s:?}");
        assert!((s.recall - 30.0 / 59.0).abs() < 1e-9, "{s:?}"); // only after "rains"
                                                                 // an untrained model (all next tokens equally likely) breaks everywhere
        let untrained = BigramLm::train(tk.vocab_size(), &[], 0.1, 64);
        let blind = ModelEval {
            pend: &untrained,
            ..eval
        };
        let b = blind.english(&text, &[0]).unwrap();
        assert_eq!(
            (b[0].prf.predicted, b[0].prf.recall),
            (text.ids.len() - 1, 1.0)
        );
        assert!(b[0].prf.f1 < 0.4, "{:?}", b[0]); // precision 29 / 149

        let st = eval.stability("english", &text.ids, &[0]).unwrap();
        assert_eq!(st.len(), 2);
        assert_eq!((st[0].offset_a, st[0].offset_b), (0, 12));
        assert_eq!(st[0].stability.jaccard, 1.0, "{:?}", st[0]);
    }

    #[test]
    fn dna_sample_takes_the_first_long_enough_run() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.fa");
        std::fs::write(&path, ">a\nACNACGTACGTNNAC\n>b\nACGTACGTACGTACGT\n").unwrap();
        let tk = GreedyTokenizer::new(&["ACGT", "AC"]);
        let acgt = tk.id("ACGT").unwrap();
        assert_eq!(dna_sample(&path, &tk, 3).unwrap(), [acgt; 3]);
        assert_eq!(dna_sample(&path, &tk, 100).unwrap(), [acgt; 4]);
        std::fs::write(&path, ">a\nNNNN\n").unwrap();
        let err = dna_sample(&path, &tk, 3).unwrap_err().to_string();
        assert!(err.contains("no A/C/G/T"), "{err}");
    }
}
