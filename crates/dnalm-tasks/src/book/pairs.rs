//! The transfer task of the book model (SPEC section 4: "fine-tuned on an
//! English task ... the transfer of language ability from English to DNA"):
//! sentence pairs built from the English corpus — a sentence against a
//! lightly corrupted copy of itself ("same") or against an unrelated sentence
//! ("different") — and the DNA analogue used only to test the transfer — a
//! sequence against a mutated copy ("same") or an unrelated sequence
//! ("different"). Balanced classes, every draw seeded.
//!
//! The model reads a pair as `a <|endoftext|> b <|endoftext|>` and answers
//! with the next token: "same" or "different" (the first token of each word
//! in the joint vocabulary), so the fine-tuning is next-token training on
//! the answer alone and needs no new head.

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

/// One pair of texts and whether they are the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextPair {
    pub a: String,
    pub b: String,
    pub same: bool,
}

/// Sentences of paragraphs: text between ".", "!" and "?", kept when it has
/// `words` words (a range), the mark put back on.
pub fn sentences(paragraphs: &[String], words: std::ops::RangeInclusive<usize>) -> Vec<String> {
    let mut out = Vec::new();
    for p in paragraphs {
        let mut start = 0;
        for (i, c) in p.char_indices() {
            if matches!(c, '.' | '!' | '?') {
                let s = p[start..=i].trim();
                if words.contains(&s.split_whitespace().count()) {
                    out.push(s.to_string());
                }
                start = i + 1;
            }
        }
    }
    out
}

/// `n` English pairs, half "same" (each word replaced, with probability
/// `noise`, by a word drawn from the other sentences) and half "different"
/// (another sentence drawn at random).
pub fn english_pairs(sentences: &[String], n: usize, noise: f64, seed: u64) -> Vec<TextPair> {
    if sentences.len() < 2 {
        return Vec::new();
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let pool: Vec<&str> = sentences
        .iter()
        .flat_map(|s| s.split_whitespace())
        .collect();
    (0..n)
        .map(|k| {
            let i = rng.random_range(0..sentences.len());
            let a = sentences[i].clone();
            if k % 2 == 0 {
                let b = a
                    .split_whitespace()
                    .map(|w| {
                        if rng.random_bool(noise) {
                            *pool.choose(&mut rng).expect("non-empty")
                        } else {
                            w
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ");
                TextPair { a, b, same: true }
            } else {
                let mut j = rng.random_range(0..sentences.len() - 1);
                if j >= i {
                    j += 1;
                }
                TextPair {
                    a,
                    b: sentences[j].clone(),
                    same: false,
                }
            }
        })
        .collect()
}

/// `n` DNA pairs of `len` bases cut from `fragments` (upper-case A/C/G/T),
/// half "same" (a copy with each base substituted with probability `noise`)
/// and half "different" (a piece of another fragment).
pub fn dna_pairs(
    fragments: &[String],
    n: usize,
    len: std::ops::RangeInclusive<usize>,
    noise: f64,
    seed: u64,
) -> Vec<TextPair> {
    let usable: Vec<&String> = fragments.iter().filter(|f| f.len() >= *len.end()).collect();
    if usable.len() < 2 {
        return Vec::new();
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let piece = |rng: &mut rand_chacha::ChaCha8Rng, f: &str, l: usize| {
        let s = rng.random_range(0..=f.len() - l);
        f[s..s + l].to_string()
    };
    (0..n)
        .map(|k| {
            let l = rng.random_range(len.clone());
            let i = rng.random_range(0..usable.len());
            let a = piece(&mut rng, usable[i], l);
            if k % 2 == 0 {
                let b = a
                    .bytes()
                    .map(|c| {
                        if rng.random_bool(noise) {
                            let others: Vec<u8> =
                                b"ACGT".iter().copied().filter(|&x| x != c).collect();
                            *others.choose(&mut rng).expect("three bases") as char
                        } else {
                            c as char
                        }
                    })
                    .collect();
                TextPair { a, b, same: true }
            } else {
                let mut j = rng.random_range(0..usable.len() - 1);
                if j >= i {
                    j += 1;
                }
                let b = piece(&mut rng, usable[j], l);
                TextPair { a, b, same: false }
            }
        })
        .collect()
}

/// The model's input for a pair: `a <eot> b <eot>`, each side cut to
/// `side` tokens, then the answer id when training.
pub fn pair_ids(a: &[u32], b: &[u32], eot: u32, side: usize, answer: Option<u32>) -> Vec<u32> {
    let mut v: Vec<u32> = a[..a.len().min(side)].to_vec();
    v.push(eot);
    v.extend_from_slice(&b[..b.len().min(side)]);
    v.push(eot);
    v.extend(answer);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_are_cut_at_full_stops() {
        let p = vec![
            "One two three four five. Six! Seven eight nine ten eleven twelve? tail".to_string(),
        ];
        assert_eq!(
            sentences(&p, 3..=10),
            vec![
                "One two three four five.",
                "Seven eight nine ten eleven twelve?"
            ]
        );
    }

    #[test]
    fn pairs_are_balanced_seeded_and_labelled_right() {
        let s: Vec<String> = (0..30)
            .map(|i| format!("sentence number {i} has a few words in it."))
            .collect();
        let p = english_pairs(&s, 40, 0.2, 1);
        assert_eq!(p, english_pairs(&s, 40, 0.2, 1));
        assert_ne!(p, english_pairs(&s, 40, 0.2, 2));
        assert_eq!(p.iter().filter(|x| x.same).count(), 20);
        for x in &p {
            let (wa, wb): (Vec<&str>, Vec<&str>) = (
                x.a.split_whitespace().collect(),
                x.b.split_whitespace().collect(),
            );
            if x.same {
                assert_eq!(wa.len(), wb.len());
            } else {
                assert_ne!(x.a, x.b);
            }
        }
        let frags: Vec<String> = (0..5)
            .map(|i| {
                let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(i);
                (0..400)
                    .map(|_| *b"ACGT".choose(&mut r).unwrap() as char)
                    .collect()
            })
            .collect();
        let d = dna_pairs(&frags, 20, 100..=150, 0.1, 3);
        assert_eq!(d.len(), 20);
        for x in &d {
            assert_eq!(x.a.len(), x.b.len());
            assert!((100..=150).contains(&x.a.len()));
            let diff = x.a.bytes().zip(x.b.bytes()).filter(|(u, v)| u != v).count();
            if x.same {
                assert!(diff < x.a.len() / 4, "{diff}");
            } else {
                assert!(diff > x.a.len() / 2, "{diff}");
            }
        }
        assert!(dna_pairs(&frags[..1], 4, 100..=150, 0.1, 3).is_empty());
        assert_eq!(
            pair_ids(&[5, 6, 7], &[8], 1, 2, Some(9)),
            vec![5, 6, 1, 8, 1, 9]
        );
    }
}
