//! The GPT-2 behind the book's [`BookLm`] trait: batched, right-padded,
//! eval mode (no dropout, no autodiff), two row shards in parallel. Every
//! question the book asks (next-token probabilities of `<p_end>` and ".",
//! the next-token logits for titles, mean-pooled last hidden states for
//! embeddings) is one forward pass of [`Gpt2LmHeadModel`].

use burn::tensor::activation::softmax;
use burn::tensor::{Int, Tensor, TensorData};
use dnalm_book::{BookError, BookLm};
use dnalm_model::heads::{pool, Pooling};
use dnalm_model::{BatchInput, Device, DeviceBatch, Gpt2LmHeadModel, Want};
use dnalm_train::causal::pad_rows;
use rayon::prelude::*;

/// A causal LM answering the book's questions.
#[derive(Debug, Clone)]
pub struct GptBookLm {
    model: Gpt2LmHeadModel,
    device: Device,
    pad_id: u32,
    /// Sequences per forward pass.
    pub batch_size: usize,
}

fn host<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("f32 tensor")
}

impl GptBookLm {
    /// `model` on a plain (not autodiff) `device`, in eval mode already or
    /// not (dropout is only used when a batch carries a dropout seed, which
    /// these passes never do).
    pub fn new(model: Gpt2LmHeadModel, device: Device, pad_id: u32) -> Self {
        Self {
            model,
            device,
            pad_id,
            batch_size: 16,
        }
    }

    pub fn model(&self) -> &Gpt2LmHeadModel {
        &self.model
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    fn check(&self, seqs: &[&[u32]], allow_empty: bool) -> dnalm_book::Result<()> {
        let vocab = self.model.vocab_size();
        for (i, s) in seqs.iter().enumerate() {
            if s.is_empty() && !allow_empty {
                return Err(BookError::Backend(format!(
                    "sequence {i} is empty: there is no position to read"
                )));
            }
            if s.len() > self.context_len() {
                return Err(BookError::Backend(format!(
                    "sequence {i} has {} tokens; the model's context is {}",
                    s.len(),
                    self.context_len()
                )));
            }
            if let Some(&id) = s.iter().find(|&&id| id as usize >= vocab) {
                return Err(BookError::Backend(format!(
                    "sequence {i} holds token id {id}, outside the vocabulary of {vocab}"
                )));
            }
        }
        Ok(())
    }

    /// Run `f` on the non-empty sequences in batches of `batch_size`, each
    /// batch in two row shards; results come back in input order, `None` for
    /// empty sequences.
    fn each<T, F>(&self, seqs: &[&[u32]], f: F) -> Vec<Option<T>>
    where
        T: Send,
        F: Fn(&DeviceBatch, &BatchInput) -> Vec<T> + Sync,
    {
        let real: Vec<usize> = (0..seqs.len()).filter(|&i| !seqs[i].is_empty()).collect();
        let mut out: Vec<Option<T>> = (0..seqs.len()).map(|_| None).collect();
        for chunk in real.chunks(self.batch_size.max(1)) {
            let rows: Vec<&[u32]> = chunk.iter().map(|&i| seqs[i]).collect();
            let batch = pad_rows(&rows, self.pad_id);
            let parts: Vec<Vec<T>> = batch
                .shard_ranges(2)
                .par_iter()
                .map(|r| {
                    let sub = batch.rows(r);
                    f(&DeviceBatch::new(&sub, &self.device), &sub)
                })
                .collect();
            for (&i, v) in chunk.iter().zip(parts.into_iter().flatten()) {
                out[i] = Some(v);
            }
        }
        out
    }

    /// The last hidden layer `[B, T, H]` (after `ln_f`).
    fn last_hidden(&self, db: &DeviceBatch) -> Tensor<3> {
        self.model
            .transformer
            .forward(db, Want::default())
            .last_hidden_state
    }

    fn real_len(b: &BatchInput, row: usize) -> usize {
        let t = b.seq_len;
        b.attention_mask[row * t..(row + 1) * t]
            .iter()
            .filter(|&&m| m != 0)
            .count()
    }
}

impl BookLm for GptBookLm {
    fn context_len(&self) -> usize {
        self.model.n_positions()
    }

    fn hidden_size(&self) -> usize {
        self.model.transformer.wte.weight.dims()[1]
    }

    fn next_token_probs(
        &self,
        seqs: &[&[u32]],
        targets: &[u32],
    ) -> dnalm_book::Result<Vec<Vec<Vec<f32>>>> {
        self.check(seqs, true)?;
        let vocab = self.model.vocab_size();
        if let Some(&t) = targets.iter().find(|&&t| t as usize >= vocab) {
            return Err(BookError::Backend(format!(
                "target id {t} is outside the vocabulary of {vocab}"
            )));
        }
        if targets.is_empty() {
            return Ok(seqs.iter().map(|s| vec![Vec::new(); s.len()]).collect());
        }
        let k = targets.len();
        let ids: Vec<i64> = targets.iter().map(|&t| t as i64).collect();
        let got = self.each(seqs, |db, b| {
            let logits = self.model.logits(db);
            let [bs, t, _] = logits.dims();
            let index =
                Tensor::<1, Int>::from_data(TensorData::new(ids.clone(), [k]), &self.device);
            let probs = host(softmax(logits, 2).select(2, index));
            (0..bs)
                .map(|r| {
                    (0..Self::real_len(b, r))
                        .map(|p| probs[(r * t + p) * k..(r * t + p + 1) * k].to_vec())
                        .collect()
                })
                .collect()
        });
        Ok(got.into_iter().map(Option::unwrap_or_default).collect())
    }

    fn last_logits(&self, seqs: &[&[u32]]) -> dnalm_book::Result<Vec<Vec<f32>>> {
        self.check(seqs, false)?;
        let got = self.each(seqs, |db, b| {
            let hidden = self.last_hidden(db);
            let [bs, t, h] = hidden.dims();
            let rows: Vec<i64> = (0..bs)
                .map(|r| (r * t + Self::real_len(b, r) - 1) as i64)
                .collect();
            let index = Tensor::<1, Int>::from_data(TensorData::new(rows, [bs]), &self.device);
            let last = hidden.reshape([bs * t, h]).select(0, index);
            let v = host(self.model.head(last));
            v.chunks(v.len() / bs).map(<[f32]>::to_vec).collect()
        });
        Ok(got.into_iter().map(|v| v.expect("non-empty")).collect())
    }

    fn embed_mean(&self, seqs: &[&[u32]]) -> dnalm_book::Result<Vec<Vec<f32>>> {
        self.check(seqs, false)?;
        let h = self.hidden_size();
        let got = self.each(seqs, |db, b| {
            let hidden = self.last_hidden(db);
            let v = host(pool(hidden, &b.attention_mask, Pooling::Mean));
            v.chunks(h).map(<[f32]>::to_vec).collect()
        });
        Ok(got.into_iter().map(|v| v.expect("non-empty")).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dnalm_model::Gpt2Config;

    pub(crate) fn untrained(vocab: usize, seed: u64) -> GptBookLm {
        let device = dnalm_model::device(dnalm_model::Backend::Cpu).unwrap();
        let mut c = Gpt2Config::preset("tiny", Some(vocab)).unwrap();
        c.n_embd = 32;
        c.n_positions = 24;
        let model = dnalm_model::seeded(seed, || Gpt2LmHeadModel::new(&c, &device));
        let mut lm = GptBookLm::new(model, device, 0);
        lm.batch_size = 3;
        lm
    }

    #[test]
    fn probabilities_have_the_asked_shape_and_match_the_logits() {
        let lm = untrained(40, 1);
        assert_eq!((lm.context_len(), lm.hidden_size()), (24, 32));
        let seqs: Vec<Vec<u32>> = vec![
            vec![5, 6, 7],
            vec![],
            (0..24).map(|i| i % 40).collect(),
            vec![9],
            vec![1, 2, 3, 4, 5, 6, 7, 8],
        ];
        let refs: Vec<&[u32]> = seqs.iter().map(Vec::as_slice).collect();
        let targets = [2, 17, 39];
        let p = lm.next_token_probs(&refs, &targets).unwrap();
        assert_eq!(p.len(), 5);
        for (s, ps) in seqs.iter().zip(&p) {
            assert_eq!(ps.len(), s.len());
            for row in ps {
                assert_eq!(row.len(), 3);
                let sum: f32 = row.iter().sum();
                assert!(row.iter().all(|&x| x > 0.0) && sum <= 1.0 + 1e-5, "{row:?}");
            }
        }
        // All targets: the probabilities sum to 1 at every position.
        let all: Vec<u32> = (0..40).collect();
        let full = lm.next_token_probs(&refs[..1], &all).unwrap();
        for row in &full[0] {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        }
        // The same sequence alone or batched with longer ones (padding)
        // gives the same numbers; and the last row agrees with last_logits.
        let alone = lm.next_token_probs(&refs[4..5], &targets).unwrap();
        for (a, b) in alone[0].iter().zip(&p[4]) {
            for (x, y) in a.iter().zip(b) {
                assert!((x - y).abs() < 1e-5, "{x} vs {y}");
            }
        }
        let logits = lm.last_logits(&[refs[0], refs[4]]).unwrap();
        assert_eq!(logits[1].len(), 40);
        let m = logits[0].iter().cloned().fold(f32::MIN, f32::max);
        let z: f32 = logits[0].iter().map(|l| (l - m).exp()).sum();
        for (j, &t) in targets.iter().enumerate() {
            let want = (logits[0][t as usize] - m).exp() / z;
            assert!((want - p[0][2][j]).abs() < 1e-5, "{want} vs {}", p[0][2][j]);
        }
    }

    #[test]
    fn embeddings_are_padding_blind_and_bad_input_is_refused() {
        let lm = untrained(40, 2);
        let a: Vec<u32> = vec![3, 4, 5];
        let b: Vec<u32> = (0..20).collect();
        let both = lm.embed_mean(&[&a, &b, &[7]]).unwrap();
        let alone = lm.embed_mean(&[&a]).unwrap();
        assert_eq!(both.len(), 3);
        assert_eq!(both[0].len(), 32);
        for (x, y) in both[0].iter().zip(&alone[0]) {
            assert!((x - y).abs() < 1e-5);
        }
        assert_ne!(both[0], both[2]);
        let e = lm.embed_mean(&[&[]]).unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
        let e = lm.last_logits(&[&[1, 40]]).unwrap_err().to_string();
        assert!(e.contains("token id 40"), "{e}");
        let long: Vec<u32> = vec![1; 25];
        let e = lm.next_token_probs(&[&long], &[1]).unwrap_err().to_string();
        assert!(e.contains("context is 24"), "{e}");
        let e = lm.next_token_probs(&[&a], &[41]).unwrap_err().to_string();
        assert!(e.contains("target id 41"), "{e}");
    }
}
