//! Vocabularies: token strings by id, the five special tokens, and framing
//! (`[CLS] ... [SEP]`, padding, truncation).

use rustc_hash::FxHashMap;

use crate::error::{Result, TokError};

/// The five special tokens, in DNABERT's order (ids 0..5 in every vocabulary
/// dnalm builds; imported vocabularies may place them elsewhere).
pub const SPECIAL_TOKENS: [&str; 5] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

/// Ids of the special tokens in one vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Specials {
    pub pad: u32,
    pub unk: u32,
    pub cls: u32,
    pub sep: u32,
    pub mask: u32,
}

impl Specials {
    /// The layout of every vocabulary dnalm builds: [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4.
    pub const DNALM: Specials = Specials {
        pad: 0,
        unk: 1,
        cls: 2,
        sep: 3,
        mask: 4,
    };

    pub fn contains(&self, id: u32) -> bool {
        [self.pad, self.unk, self.cls, self.sep, self.mask].contains(&id)
    }
}

/// An immutable vocabulary: id -> token string and back, plus the specials.
#[derive(Debug, Clone)]
pub struct Vocab {
    tokens: Vec<String>,
    index: FxHashMap<String, u32>,
    specials: Specials,
}

impl Vocab {
    /// A vocabulary that starts with the five specials (ids 0..5) followed by
    /// `tokens` in order. Duplicate strings are an error.
    pub fn with_specials<I, S>(tokens: I) -> Result<Vocab>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let all = SPECIAL_TOKENS
            .iter()
            .map(|s| s.to_string())
            .chain(tokens.into_iter().map(Into::into));
        Vocab::from_tokens(all.collect(), Specials::DNALM)
    }

    /// A vocabulary from tokens by id, with the specials at the given ids.
    pub fn from_tokens(tokens: Vec<String>, specials: Specials) -> Result<Vocab> {
        let mut index = FxHashMap::with_capacity_and_hasher(tokens.len(), Default::default());
        for (id, t) in tokens.iter().enumerate() {
            if index.insert(t.clone(), id as u32).is_some() {
                return Err(TokError::Param(format!(
                    "token {t:?} appears twice in the vocabulary"
                )));
            }
        }
        for (name, id) in SPECIAL_TOKENS.iter().zip([
            specials.pad,
            specials.unk,
            specials.cls,
            specials.sep,
            specials.mask,
        ]) {
            match tokens.get(id as usize) {
                Some(t) if t == name => {}
                _ => {
                    return Err(TokError::Param(format!(
                        "special token {name} is not at id {id}"
                    )))
                }
            }
        }
        Ok(Vocab {
            tokens,
            index,
            specials,
        })
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }
    pub fn specials(&self) -> Specials {
        self.specials
    }
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }
    pub fn token(&self, id: u32) -> Result<&str> {
        self.tokens
            .get(id as usize)
            .map(String::as_str)
            .ok_or(TokError::UnknownId {
                id,
                size: self.tokens.len(),
            })
    }
    pub fn id(&self, token: &str) -> Option<u32> {
        self.index.get(token).copied()
    }
    pub fn is_special(&self, id: u32) -> bool {
        self.specials.contains(id)
    }
}

/// How to turn raw token ids into a model input row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Framing {
    /// Put `[CLS]` first and `[SEP]` last.
    pub add_special_tokens: bool,
    /// Pad with `[PAD]` up to, and truncate down to, this many ids
    /// (including `[CLS]`/`[SEP]`). `None` keeps the natural length.
    pub max_len: Option<usize>,
}

/// One framed row: ids and the attention mask (1 = real token, 0 = padding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoding {
    pub ids: Vec<u32>,
    pub attention_mask: Vec<u8>,
    /// How many content ids were cut off by truncation.
    pub truncated: usize,
}

impl Framing {
    /// Frame `ids`: truncation drops content ids from the end (keeping `[SEP]`).
    pub fn apply(&self, ids: &[u32], specials: Specials) -> Result<Encoding> {
        let extra = if self.add_special_tokens { 2 } else { 0 };
        let mut keep = ids.len();
        if let Some(max) = self.max_len {
            if max < extra {
                return Err(TokError::Param(format!(
                    "max length {max} cannot hold [CLS] and [SEP]"
                )));
            }
            keep = keep.min(max - extra);
        }
        let mut out = Vec::with_capacity(self.max_len.unwrap_or(keep + extra));
        if self.add_special_tokens {
            out.push(specials.cls);
        }
        out.extend_from_slice(&ids[..keep]);
        if self.add_special_tokens {
            out.push(specials.sep);
        }
        let real = out.len();
        if let Some(max) = self.max_len {
            out.resize(max, specials.pad);
        }
        let mut mask = vec![1u8; real];
        mask.resize(out.len(), 0);
        Ok(Encoding {
            ids: out,
            attention_mask: mask,
            truncated: ids.len() - keep,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specials_first_and_lookup() {
        let v = Vocab::with_specials(["A", "C"]).unwrap();
        assert_eq!(v.len(), 7);
        assert_eq!(v.id("[MASK]"), Some(4));
        assert_eq!(v.id("C"), Some(6));
        assert_eq!(v.token(5).unwrap(), "A");
        assert!(v.token(7).is_err());
        assert!(Vocab::with_specials(["A", "A"]).is_err());
    }

    #[test]
    fn framing_pads_and_truncates() {
        let f = Framing {
            add_special_tokens: true,
            max_len: Some(5),
        };
        let e = f.apply(&[10, 11], Specials::DNALM).unwrap();
        assert_eq!(e.ids, vec![2, 10, 11, 3, 0]);
        assert_eq!(e.attention_mask, vec![1, 1, 1, 1, 0]);
        let e = f.apply(&[10, 11, 12, 13], Specials::DNALM).unwrap();
        assert_eq!(e.ids, vec![2, 10, 11, 12, 3]);
        assert_eq!(e.truncated, 1);
        assert!(Framing {
            add_special_tokens: true,
            max_len: Some(1)
        }
        .apply(&[1], Specials::DNALM)
        .is_err());
    }
}
