//! Tokenizer files: dnalm's own lossless format, and loading any supported
//! file (dnalm JSON, Hugging Face `tokenizer.json`, DNABERT `vocab.txt`).
//!
//! dnalm's file is JSON: `{"dnalm_tokenizer": 1, "kind": "...", ...}` with
//! the parameters of the scheme (and, for BPE, the vocabulary and merges);
//! it may carry a `training` object with the training report.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::bpe::BpeModel;
use crate::error::{Result, TokError};
use crate::hf::{self, HfModel};
use crate::hybrid::HybridTokenizer;
use crate::kmer::{KmerOrder, KmerTokenizer, NonOverlappingKmerTokenizer};
use crate::varkmer::VarKmerTokenizer;
use crate::vocab::{Specials, Vocab};
use crate::Tokenizer;

/// Version of dnalm's tokenizer file format.
pub const FORMAT_VERSION: u32 = 1;

/// The parameters that rebuild a tokenizer exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum TokenizerSpec {
    Kmer {
        k: usize,
        order: String,
    },
    KmerNonoverlap {
        k: usize,
    },
    Varkmer {
        min_k: usize,
        max_k: usize,
        seed: u64,
    },
    Bpe {
        /// Tokens by id.
        vocab: Vec<String>,
        /// Merges in rank order.
        merges: Vec<(String, String)>,
    },
    Hybrid {
        k: usize,
        segment_len: usize,
        bpe_vocab: Vec<String>,
        merges: Vec<(String, String)>,
    },
}

#[derive(Debug, Serialize, Deserialize)]
struct FileV1 {
    dnalm_tokenizer: u32,
    #[serde(flatten)]
    spec: TokenizerSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    training: Option<serde_json::Value>,
}

/// Any dnalm tokenizer, as one type.
#[derive(Debug, Clone)]
pub enum AnyTokenizer {
    Kmer(KmerTokenizer),
    KmerNonoverlap(NonOverlappingKmerTokenizer),
    Varkmer(VarKmerTokenizer),
    Bpe(BpeModel),
    Hybrid(Box<HybridTokenizer>),
}

impl AnyTokenizer {
    fn inner(&self) -> &dyn Tokenizer {
        match self {
            AnyTokenizer::Kmer(t) => t,
            AnyTokenizer::KmerNonoverlap(t) => t,
            AnyTokenizer::Varkmer(t) => t,
            AnyTokenizer::Bpe(t) => t,
            AnyTokenizer::Hybrid(t) => t.as_ref(),
        }
    }

    /// Rebuild from parameters.
    pub fn from_spec(spec: &TokenizerSpec) -> Result<AnyTokenizer> {
        Ok(match spec {
            TokenizerSpec::Kmer { k, order } => {
                AnyTokenizer::Kmer(KmerTokenizer::new(*k, order.parse::<KmerOrder>()?)?)
            }
            TokenizerSpec::KmerNonoverlap { k } => {
                AnyTokenizer::KmerNonoverlap(NonOverlappingKmerTokenizer::new(*k)?)
            }
            TokenizerSpec::Varkmer { min_k, max_k, seed } => {
                AnyTokenizer::Varkmer(VarKmerTokenizer::new(*min_k, *max_k, *seed)?)
            }
            TokenizerSpec::Bpe { vocab, merges } => AnyTokenizer::Bpe(bpe_from(vocab, merges)?),
            TokenizerSpec::Hybrid {
                k,
                segment_len,
                bpe_vocab,
                merges,
            } => AnyTokenizer::Hybrid(Box::new(HybridTokenizer::new(
                bpe_from(bpe_vocab, merges)?,
                *k,
                *segment_len,
            )?)),
        })
    }

    /// The parameters of this tokenizer.
    pub fn spec(&self) -> TokenizerSpec {
        match self {
            AnyTokenizer::Kmer(t) => TokenizerSpec::Kmer {
                k: t.k(),
                order: t.order().name().to_string(),
            },
            AnyTokenizer::KmerNonoverlap(t) => TokenizerSpec::KmerNonoverlap { k: t.k() },
            AnyTokenizer::Varkmer(t) => TokenizerSpec::Varkmer {
                min_k: t.min_k(),
                max_k: t.max_k(),
                seed: t.seed(),
            },
            AnyTokenizer::Bpe(m) => TokenizerSpec::Bpe {
                vocab: m.vocab().tokens().to_vec(),
                merges: m.string_merges(),
            },
            AnyTokenizer::Hybrid(h) => TokenizerSpec::Hybrid {
                k: h.k(),
                segment_len: h.segment_len(),
                bpe_vocab: h.bpe().vocab().tokens().to_vec(),
                merges: h.bpe().string_merges(),
            },
        }
    }

    /// dnalm's JSON for this tokenizer, with an optional training report.
    pub fn to_json(&self, training: Option<serde_json::Value>) -> String {
        let file = FileV1 {
            dnalm_tokenizer: FORMAT_VERSION,
            spec: self.spec(),
            training,
        };
        let mut s = serde_json::to_string_pretty(&file).expect("tokenizer specs serialise");
        s.push('\n');
        s
    }

    /// Load a tokenizer file: dnalm JSON, Hugging Face `tokenizer.json`
    /// (BPE, or a WordLevel k-mer vocabulary), or DNABERT `vocab.txt`.
    pub fn load(path: &Path) -> Result<AnyTokenizer> {
        let text = std::fs::read_to_string(path).map_err(|e| TokError::io(path, e))?;
        Self::parse(&text, path)
    }

    /// Parse the text of a tokenizer file; `path` is for messages and the
    /// `.txt` extension.
    pub fn parse(text: &str, path: &Path) -> Result<AnyTokenizer> {
        let trimmed = text.trim_start();
        if !trimmed.starts_with('{') {
            let is_txt = path.extension().is_some_and(|e| e == "txt");
            if !is_txt {
                return Err(TokError::file(
                    path,
                    "not a tokenizer file: expected dnalm or Hugging Face JSON, or a vocab.txt",
                ));
            }
            let vocab = hf::parse_vocab_txt(text, path)?;
            return kmer_from_vocab(&vocab, path);
        }
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            TokError::file(
                path,
                format!(
                    "invalid JSON at line {}, column {}: {e}",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        if value.get("dnalm_tokenizer").is_some() {
            let file: FileV1 = serde_json::from_value(value).map_err(|e| {
                TokError::file(path, format!("not a valid dnalm tokenizer file: {e}"))
            })?;
            if file.dnalm_tokenizer != FORMAT_VERSION {
                return Err(TokError::file(
                    path,
                    format!(
                        "dnalm tokenizer format {} is not supported (this build reads {FORMAT_VERSION})",
                        file.dnalm_tokenizer
                    ),
                ));
            }
            return AnyTokenizer::from_spec(&file.spec)
                .map_err(|e| TokError::file(path, e.to_string()));
        }
        match hf::parse_tokenizer_json(text, path)? {
            HfModel::Bpe { vocab, merges } => BpeModel::from_string_merges(vocab, &merges)
                .map(AnyTokenizer::Bpe)
                .map_err(|e| TokError::file(path, e.to_string())),
            HfModel::WordLevel { vocab } => kmer_from_vocab(&vocab, path),
        }
    }

    /// Files a Hugging Face user loads: `(file name, contents)` for
    /// `tokenizer.json`, `tokenizer_config.json` and `vocab.txt`.
    ///
    /// BPE exports a full BPE pipeline on raw sequence. The k-mer schemes
    /// export a WordLevel vocabulary over whitespace: their input must be
    /// pre-tokenized text (space-separated k-mers), as DNABERT did, because
    /// overlapping k-mers cannot be expressed as a `tokenizer.json` pipeline.
    pub fn hf_files(&self, model_max_length: usize) -> Vec<(&'static str, String)> {
        let vocab = self.vocab();
        let tok_json = match self {
            AnyTokenizer::Bpe(m) => hf::bpe_tokenizer_json(vocab, &m.string_merges()),
            _ => hf::wordlevel_tokenizer_json(vocab),
        };
        let pretty = |v: &serde_json::Value| {
            let mut s = serde_json::to_string_pretty(v).expect("JSON values serialise");
            s.push('\n');
            s
        };
        vec![
            ("tokenizer.json", pretty(&tok_json)),
            (
                "tokenizer_config.json",
                pretty(&hf::tokenizer_config_json(
                    vocab,
                    model_max_length,
                    self.kind(),
                )),
            ),
            ("vocab.txt", hf::vocab_txt(vocab)),
        ]
    }
}

fn bpe_from(vocab: &[String], merges: &[(String, String)]) -> Result<BpeModel> {
    let specials = find_specials(vocab)?;
    let vocab = Vocab::from_tokens(vocab.to_vec(), specials)?;
    BpeModel::from_string_merges(vocab, merges)
}

fn find_specials(tokens: &[String]) -> Result<Specials> {
    let find = |name: &str| {
        tokens
            .iter()
            .position(|t| t == name)
            .map(|i| i as u32)
            .ok_or_else(|| TokError::Param(format!("the vocabulary has no {name} token")))
    };
    Ok(Specials {
        pad: find("[PAD]")?,
        unk: find("[UNK]")?,
        cls: find("[CLS]")?,
        sep: find("[SEP]")?,
        mask: find("[MASK]")?,
    })
}

/// A WordLevel vocabulary or `vocab.txt` is usable when it is exactly a
/// dnalm k-mer vocabulary (lexicographic or DNABERT order).
fn kmer_from_vocab(vocab: &Vocab, path: &Path) -> Result<AnyTokenizer> {
    let n = vocab.len().saturating_sub(5);
    let k = (1..=12).find(|&k| 4usize.pow(k as u32) == n);
    if let Some(k) = k {
        for order in [KmerOrder::Lexicographic, KmerOrder::Dnabert] {
            let t = KmerTokenizer::new(k, order)?;
            if t.vocab().tokens() == vocab.tokens() {
                return Ok(AnyTokenizer::Kmer(t));
            }
        }
    }
    Err(TokError::file(
        path,
        format!(
            "this vocabulary ({} tokens) is not a k-mer vocabulary dnalm can encode with \
             ([PAD] [UNK] [CLS] [SEP] [MASK] then all 4^k k-mers in A,C,G,T or DNABERT's A,T,C,G order)",
            vocab.len()
        ),
    ))
}

impl Tokenizer for AnyTokenizer {
    fn kind(&self) -> &'static str {
        self.inner().kind()
    }
    fn vocab(&self) -> &Vocab {
        self.inner().vocab()
    }
    fn encode_into(&self, seq: &[u8], out: &mut Vec<u32>) -> Result<()> {
        self.inner().encode_into(seq, out)
    }
    fn decode(&self, ids: &[u32]) -> Result<Vec<u8>> {
        self.inner().decode(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BpeTrainer;

    fn all_kinds() -> Vec<AnyTokenizer> {
        let bpe = BpeTrainer::new(30)
            .unwrap()
            .train(["ACGTACGTTTTTAAACCCGGGATATATCGACGTTTAAAGGGCCCTATAAAAGGC"])
            .unwrap()
            .model;
        vec![
            AnyTokenizer::Kmer(KmerTokenizer::new(4, KmerOrder::Dnabert).unwrap()),
            AnyTokenizer::KmerNonoverlap(NonOverlappingKmerTokenizer::new(3).unwrap()),
            AnyTokenizer::Varkmer(VarKmerTokenizer::new(3, 5, 9).unwrap()),
            AnyTokenizer::Bpe(bpe.clone()),
            AnyTokenizer::Hybrid(Box::new(HybridTokenizer::new(bpe, 6, 50).unwrap())),
        ]
    }

    #[test]
    fn every_kind_round_trips_through_its_file() {
        let seq = b"ACGTTGCATTTACGGGCATGCATCGACTAGCATCGACTAGCTAGCATCGATCAGCTAGCTAGCAT";
        for tok in all_kinds() {
            let json = tok.to_json(None);
            let back = AnyTokenizer::parse(&json, Path::new("t.json")).unwrap();
            assert_eq!(back.spec(), tok.spec(), "{}", tok.kind());
            assert_eq!(back.encode(seq).unwrap(), tok.encode(seq).unwrap());
            assert_eq!(back.vocab().tokens(), tok.vocab().tokens());
        }
    }

    #[test]
    fn hf_exports_load_back() {
        for tok in all_kinds() {
            let files = tok.hf_files(512);
            let json = &files[0].1;
            match &tok {
                AnyTokenizer::Bpe(_) | AnyTokenizer::Kmer(_) => {
                    let back = AnyTokenizer::parse(json, Path::new("tokenizer.json")).unwrap();
                    assert_eq!(back.vocab().tokens(), tok.vocab().tokens());
                    let txt = &files[2].1;
                    if let AnyTokenizer::Kmer(_) = tok {
                        let v = AnyTokenizer::parse(txt, Path::new("vocab.txt")).unwrap();
                        assert_eq!(v.vocab().tokens(), tok.vocab().tokens());
                    }
                }
                _ => assert!(json.contains("WordLevel")),
            }
        }
    }

    #[test]
    fn bad_files_are_errors() {
        let p = Path::new("x.json");
        assert!(AnyTokenizer::parse("{", p)
            .unwrap_err()
            .to_string()
            .contains("line 1"));
        assert!(AnyTokenizer::parse("hello", p).is_err());
        let future = r#"{"dnalm_tokenizer": 2, "kind": "kmer", "k": 3, "order": "lex"}"#;
        assert!(AnyTokenizer::parse(future, p)
            .unwrap_err()
            .to_string()
            .contains("format 2"));
        let bad_k = r#"{"dnalm_tokenizer": 1, "kind": "kmer", "k": 30, "order": "lex"}"#;
        assert!(AnyTokenizer::parse(bad_k, p).is_err());
        let unknown = r#"{"dnalm_tokenizer": 1, "kind": "kmer", "k": 3, "order": "lex", "x": 1}"#;
        assert!(AnyTokenizer::parse(unknown, p).is_err());
    }
}
