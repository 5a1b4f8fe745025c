//! Sections and chapters: an in-order walk that groups vectors by cosine
//! similarity to the running mean of the current group.
//!
//! As published: a paragraph joins the current section when its embedding's
//! cosine similarity to the section's running mean is at least 0.5 and the
//! section has fewer than 50 paragraphs, else it starts a new section;
//! chapters group the sections the same way on the sections' mean vectors
//! (0.3, 30). The walk is online ([`Grouper::push`]), so the book is written
//! chapter by chapter and memory stays bounded by one chapter.
//!
//! Paragraph embeddings come from [`embed_paragraphs`]: the model's
//! mean-pooled last hidden layer; a paragraph longer than the model's
//! context is cut into context-long pieces whose means are averaged weighted
//! by their lengths (the mean over all its positions, each piece read on its
//! own).

use crate::model::BookLm;
use crate::{BookError, Result};

/// Settings of one grouping level.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct GroupParams {
    /// A member joins when cosine(member, running mean) >= this.
    pub threshold: f32,
    /// ... and the group has fewer members than this.
    pub max_members: usize,
}

impl GroupParams {
    pub fn sections() -> Self {
        GroupParams {
            threshold: 0.5,
            max_members: 50,
        }
    }

    pub fn chapters() -> Self {
        GroupParams {
            threshold: 0.3,
            max_members: 30,
        }
    }
}

/// The online walk: keeps the sum of the current group's vectors.
#[derive(Debug, Clone)]
pub struct Grouper {
    params: GroupParams,
    sum: Vec<f32>,
    members: usize,
}

impl Grouper {
    pub fn new(params: GroupParams) -> Self {
        Grouper {
            params,
            sum: Vec::new(),
            members: 0,
        }
    }

    /// Adds the next vector. Returns `true` when it joined the current group,
    /// `false` when it starts a new one (always for the first vector, and
    /// after [`Grouper::reset`]).
    pub fn push(&mut self, v: &[f32]) -> bool {
        let joins = self.members > 0
            && self.members < self.params.max_members
            && cosine(&self.sum, v) >= self.params.threshold;
        if !joins {
            self.sum = vec![0.0; v.len()];
            self.members = 0;
        }
        for (s, x) in self.sum.iter_mut().zip(v) {
            *s += x;
        }
        self.members += 1;
        joins
    }

    /// The next vector starts a new group whatever its similarity (used at a
    /// new FASTA record).
    pub fn reset(&mut self) {
        self.members = 0;
        self.sum.clear();
    }

    /// Members of the current group.
    pub fn members(&self) -> usize {
        self.members
    }

    /// The current group's mean vector.
    pub fn mean(&self) -> Vec<f32> {
        let n = self.members.max(1) as f32;
        self.sum.iter().map(|s| s / n).collect()
    }
}

/// Cosine similarity; 0 when either vector is zero.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut dot, mut na, mut nb) = (0f64, 0f64, 0f64);
    for (x, y) in a.iter().zip(b) {
        dot += (*x as f64) * (*y as f64);
        na += (*x as f64) * (*x as f64);
        nb += (*y as f64) * (*y as f64);
    }
    if na == 0.0 || nb == 0.0 {
        return 0.0;
    }
    (dot / (na.sqrt() * nb.sqrt())) as f32
}

/// One embedding per paragraph (token ids), `batch` pieces per model call.
pub fn embed_paragraphs(
    lm: &dyn BookLm,
    paragraphs: &[&[u32]],
    batch: usize,
) -> Result<Vec<Vec<f32>>> {
    let ctx = lm.context_len().max(1);
    // (paragraph, piece) in order.
    let mut pieces: Vec<(usize, &[u32])> = Vec::new();
    for (i, p) in paragraphs.iter().enumerate() {
        if p.is_empty() {
            return Err(BookError::Data(format!("paragraph {i} has no words")));
        }
        for c in p.chunks(ctx) {
            pieces.push((i, c));
        }
    }
    let hidden = lm.hidden_size();
    let mut out = vec![vec![0f32; hidden]; paragraphs.len()];
    for chunk in pieces.chunks(batch.max(1)) {
        let seqs: Vec<&[u32]> = chunk.iter().map(|(_, s)| *s).collect();
        let vecs = lm.embed_mean(&seqs)?;
        if vecs.len() != seqs.len() || vecs.iter().any(|v| v.len() != hidden) {
            return Err(BookError::Backend(format!(
                "the model returned {} embeddings for {} sequences (width {hidden} expected)",
                vecs.len(),
                seqs.len()
            )));
        }
        for ((i, s), v) in chunk.iter().zip(vecs) {
            let w = s.len() as f32 / paragraphs[*i].len() as f32;
            for (o, x) in out[*i].iter_mut().zip(v) {
                *o += w * x;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::BigramLm;

    #[test]
    fn similar_vectors_group_and_a_change_starts_a_new_group() {
        let mut g = Grouper::new(GroupParams::sections());
        let x = [1.0, 0.0, 0.0];
        let x2 = [0.9, 0.1, 0.0];
        let y = [0.0, 1.0, 0.2];
        assert!(!g.push(&x));
        assert!(g.push(&x2));
        assert_eq!(g.members(), 2);
        assert!(!g.push(&y));
        assert_eq!(g.members(), 1);
        assert_eq!(g.mean(), y);
        g.reset();
        assert!(!g.push(&y));
    }

    #[test]
    fn the_member_limit_closes_a_group() {
        let mut g = Grouper::new(GroupParams {
            threshold: 0.5,
            max_members: 3,
        });
        let joined: Vec<bool> = (0..7).map(|_| g.push(&[1.0, 1.0])).collect();
        assert_eq!(joined, [false, true, true, false, true, true, false]);
    }

    #[test]
    fn the_running_mean_decides_not_the_last_member() {
        // Drifting vectors: each is close to the previous one but the third
        // is far from the mean of the first two.
        let mut g = Grouper::new(GroupParams {
            threshold: 0.75,
            max_members: 50,
        });
        assert!(!g.push(&[1.0, 0.0]));
        assert!(g.push(&[0.8, 0.6]));
        let third = [0.3, 0.95];
        assert!(cosine(&[0.8, 0.6], &third) >= 0.75);
        assert!(!g.push(&third));
    }

    #[test]
    fn long_paragraphs_are_embedded_in_pieces_and_averaged() {
        let lm = BigramLm::train(4, &[], 1.0, 4);
        let p: Vec<u32> = vec![0, 0, 0, 1, 1, 1, 1, 1, 2, 3];
        let e = embed_paragraphs(&lm, &[&p, &[3]], 2).unwrap();
        // Weighted by piece length, the mean over all positions.
        let expect = [0.3, 0.5, 0.1, 0.1];
        for (a, b) in e[0].iter().zip(expect) {
            assert!((a - b).abs() < 1e-6, "{:?}", e[0]);
        }
        assert_eq!(e[1], [0.0, 0.0, 0.0, 1.0]);
        assert!(embed_paragraphs(&lm, &[&[]], 2).is_err());
    }
}
