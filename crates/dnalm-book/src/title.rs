//! Titles of sections and chapters: a short generation restricted to DNA
//! words, conditioned on a summary of the group.
//!
//! The summary is the group's most frequent DNA words (up to
//! `summary_words`, most frequent first, ties by first appearance): the
//! words that characterise the group, in a prompt short enough for any
//! context. The model then continues the prompt for `len` tokens; at each
//! step only DNA words ([`is_dna_word`]) not yet in the title may be chosen.
//! [`TitleMode::Greedy`] (the default) takes the most likely one, so titles
//! need no seed; [`TitleMode::Sample`] draws from the softmax at a
//! temperature with a hash of (seed, group number, step), so the same seed
//! gives the same titles whatever the batching.

use std::collections::HashMap;

use dnalm_seq::mix64;

use crate::model::{is_dna_word, BookLm, BookTokenizer};
use crate::{BookError, Result};

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TitleMode {
    Greedy,
    Sample { seed: u64, temperature: f32 },
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct TitleParams {
    /// Title length in tokens.
    pub len: usize,
    /// Prompt length: the group's most frequent DNA words.
    pub summary_words: usize,
    pub mode: TitleMode,
    /// Groups per model call.
    pub batch: usize,
}

impl Default for TitleParams {
    fn default() -> Self {
        TitleParams {
            len: 3,
            summary_words: 8,
            mode: TitleMode::Greedy,
            batch: 16,
        }
    }
}

/// Generates titles with a language model.
#[derive(Debug)]
pub struct Titler<'a, L: BookLm + ?Sized> {
    lm: &'a L,
    dna: Vec<bool>,
    params: TitleParams,
}

impl<'a, L: BookLm + ?Sized> Titler<'a, L> {
    pub fn new(lm: &'a L, tokenizer: &dyn BookTokenizer, params: TitleParams) -> Result<Self> {
        let dna: Vec<bool> = (0..tokenizer.vocab_size() as u32)
            .map(|id| tokenizer.token(id).is_some_and(is_dna_word))
            .collect();
        let words = dna.iter().filter(|&&d| d).count();
        if params.len > 0 && words < params.len {
            return Err(BookError::Config(format!(
                "titles of {} words need as many DNA words in the vocabulary; it has {words}",
                params.len
            )));
        }
        if let TitleMode::Sample { temperature, .. } = params.mode {
            if !(temperature > 0.0 && temperature.is_finite()) {
                return Err(BookError::Config(format!(
                    "title temperature must be > 0, got {temperature}"
                )));
            }
        }
        Ok(Titler { lm, dna, params })
    }

    /// The prompt for a group: its most frequent DNA words; the group's first
    /// words when it has no DNA word (a group of single bases).
    pub fn summary(&self, words: &[u32]) -> Vec<u32> {
        let mut counts: HashMap<u32, (usize, usize)> = HashMap::new();
        for (i, &w) in words.iter().enumerate() {
            if self.dna.get(w as usize).copied().unwrap_or(false) {
                counts.entry(w).or_insert((0, i)).0 += 1;
            }
        }
        let mut ranked: Vec<(u32, (usize, usize))> = counts.into_iter().collect();
        ranked.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.1 .1.cmp(&b.1 .1)));
        let n = self.params.summary_words.max(1);
        if ranked.is_empty() {
            return words.iter().take(n).copied().collect();
        }
        ranked.into_iter().take(n).map(|(w, _)| w).collect()
    }

    /// One title per group; `groups[i]` are the group's words and `numbers[i]`
    /// its number (mixed into the seed when sampling).
    pub fn titles(&self, groups: &[&[u32]], numbers: &[u64]) -> Result<Vec<Vec<u32>>> {
        let mut out = Vec::with_capacity(groups.len());
        let keep = self.lm.context_len().saturating_sub(self.params.len).max(1);
        for (batch, nums) in groups
            .chunks(self.params.batch.max(1))
            .zip(numbers.chunks(self.params.batch.max(1)))
        {
            let mut seqs: Vec<Vec<u32>> = batch
                .iter()
                .map(|g| {
                    let mut s = self.summary(g);
                    s.truncate(keep);
                    s
                })
                .collect();
            if seqs.iter().any(|s| s.is_empty()) {
                return Err(BookError::Data("a group without words has no title".into()));
            }
            let prompt_lens: Vec<usize> = seqs.iter().map(|s| s.len()).collect();
            for step in 0..self.params.len {
                let refs: Vec<&[u32]> = seqs.iter().map(|s| s.as_slice()).collect();
                let logits = self.lm.last_logits(&refs)?;
                if logits.len() != seqs.len() {
                    return Err(BookError::Backend(format!(
                        "the model returned {} logit rows for {} sequences",
                        logits.len(),
                        seqs.len()
                    )));
                }
                for (i, row) in logits.iter().enumerate() {
                    let taken = &seqs[i][prompt_lens[i]..];
                    let next = self.choose(row, taken, nums[i], step)?;
                    seqs[i].push(next);
                }
            }
            out.extend(
                seqs.into_iter()
                    .zip(prompt_lens)
                    .map(|(s, p)| s[p..].to_vec()),
            );
        }
        Ok(out)
    }

    fn choose(&self, logits: &[f32], taken: &[u32], number: u64, step: usize) -> Result<u32> {
        let allowed = |id: usize| {
            self.dna.get(id).copied().unwrap_or(false)
                && !taken.contains(&(id as u32))
                && logits[id].is_finite()
        };
        let ids: Vec<usize> = (0..logits.len()).filter(|&i| allowed(i)).collect();
        if ids.is_empty() {
            return Err(BookError::Backend(
                "no DNA word has a finite logit to continue a title".into(),
            ));
        }
        match self.params.mode {
            TitleMode::Greedy => {
                // Lowest id wins ties, so titles do not depend on float noise order.
                let best =
                    ids.iter()
                        .copied()
                        .fold(ids[0], |b, i| if logits[i] > logits[b] { i } else { b });
                Ok(best as u32)
            }
            TitleMode::Sample { seed, temperature } => {
                let max = ids.iter().map(|&i| logits[i]).fold(f32::MIN, f32::max);
                let w: Vec<f64> = ids
                    .iter()
                    .map(|&i| (((logits[i] - max) / temperature) as f64).exp())
                    .collect();
                let total: f64 = w.iter().sum();
                let h = mix64(seed, mix64(number, step as u64));
                let u = (h >> 11) as f64 / (1u64 << 53) as f64 * total;
                let mut acc = 0.0;
                for (&i, wi) in ids.iter().zip(&w) {
                    acc += wi;
                    if u < acc {
                        return Ok(i as u32);
                    }
                }
                Ok(*ids.last().expect("non-empty") as u32)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{BigramLm, GreedyTokenizer};

    fn model() -> (GreedyTokenizer, BigramLm) {
        let tok = GreedyTokenizer::new(&["TATA", "GC", "CCG", "AAT", "TTG"]);
        // After TATA comes GC, then CCG, then AAT (and single bases now and then).
        let seq = tok.ids_of(b"TATAGCCCGAATATATAGCCCGAATTTGATATAGCCCGAAT");
        let lm = BigramLm::train(tok.vocab_size(), &[seq], 0.01, 64);
        (tok, lm)
    }

    #[test]
    fn greedy_titles_follow_the_model_and_use_only_dna_words() {
        let (tok, lm) = model();
        let titler = Titler::new(&lm, &tok, TitleParams::default()).unwrap();
        let group = tok.ids_of(b"TTGTTGTATA");
        // The summary: TTG twice, then TATA; the model continues after TATA.
        assert_eq!(titler.summary(&group), tok.ids_of(b"TTGTATA"));
        let t = titler.titles(&[&group], &[1]).unwrap();
        let words: Vec<&str> = t[0].iter().map(|&i| tok.text(i)).collect();
        assert_eq!(words, ["GC", "CCG", "AAT"]);
    }

    #[test]
    fn sampled_titles_repeat_with_the_seed_and_never_repeat_a_word() {
        let (tok, lm) = model();
        let p = |seed| TitleParams {
            mode: TitleMode::Sample {
                seed,
                temperature: 5.0,
            },
            len: 4,
            ..TitleParams::default()
        };
        let groups: Vec<Vec<u32>> = (0..12)
            .map(|i| tok.ids_of(if i % 2 == 0 { b"TATAGC" } else { b"AATTTG" }))
            .collect();
        let refs: Vec<&[u32]> = groups.iter().map(|g| g.as_slice()).collect();
        let nums: Vec<u64> = (0..12).collect();
        let a = Titler::new(&lm, &tok, p(7))
            .unwrap()
            .titles(&refs, &nums)
            .unwrap();
        let b = Titler::new(&lm, &tok, p(7))
            .unwrap()
            .titles(&refs, &nums)
            .unwrap();
        let c = Titler::new(&lm, &tok, p(8))
            .unwrap()
            .titles(&refs, &nums)
            .unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        for t in &a {
            let mut u = t.clone();
            u.sort();
            u.dedup();
            assert_eq!(u.len(), 4);
            assert!(t.iter().all(|&i| is_dna_word(tok.text(i))));
        }
    }
}
