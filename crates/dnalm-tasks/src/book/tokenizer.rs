//! The book model's one tokenizer over DNA and English (SPEC section 4): a
//! byte-pair encoding trained by the Hugging Face `tokenizers` crate over DNA
//! fragments and English paragraphs together, with a whitespace
//! pre-tokenizer that also isolates every punctuation mark (so "." is always
//! a token of its own, which the sentence rule asks the model about).
//! English is lower-cased before it is encoded ([`dnalm_book::english::for_model`]),
//! DNA stays upper-case A/C/G/T, so the two never share a word.
//!
//! Saved as a standard `tokenizer.json` that Python `tokenizers` loads too.

use std::io::Write;
use std::path::Path;

use dnalm_book::english::for_model;
use dnalm_book::{BookError, BookTokenizer, DnaToken};
use rustc_hash::FxHashMap;
use tokenizers::models::bpe::{BpeTrainerBuilder, BPE};
use tokenizers::pre_tokenizers::punctuation::Punctuation;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::whitespace::Whitespace;
use tokenizers::{
    AddedToken, DecoderWrapper, NormalizerWrapper, PostProcessorWrapper, PreTokenizerWrapper,
    SplitDelimiterBehavior, TokenizerBuilder,
};

use crate::{Result, TaskError};

/// Padding (never a target).
pub const PAD: &str = "<pad>";
/// Between documents.
pub const END_OF_TEXT: &str = "<|endoftext|>";
/// A paragraph break, learnt in the `<p_end>` stage.
pub const P_END: &str = "<p_end>";
/// A character the training text never had.
pub const UNK: &str = "<unk>";
/// The special tokens, with ids 0, 1, 2, 3.
pub const SPECIALS: [&str; 4] = [PAD, END_OF_TEXT, P_END, UNK];
/// The sentence end the sentence rule asks about.
pub const FULL_STOP: &str = ".";

/// The joint DNA + English BPE tokenizer.
#[derive(Debug, Clone)]
pub struct JointTokenizer {
    hf: tokenizers::Tokenizer,
    tokens: Vec<String>,
    ids: FxHashMap<String, u32>,
}

fn hf_err(what: &str, e: impl std::fmt::Display) -> TaskError {
    TaskError::Data(format!("{what}: {e}"))
}

impl JointTokenizer {
    /// Train a BPE of `vocab_size` tokens (specials and the alphabet
    /// included) over DNA fragments (upper-case A/C/G/T) and English
    /// paragraphs (lower-cased here). Deterministic: the same text gives the
    /// same `tokenizer.json`.
    pub fn train(dna: &[String], english: &[String], vocab_size: usize) -> Result<Self> {
        if dna.is_empty() || english.is_empty() {
            return Err(TaskError::Config(format!(
                "the joint tokenizer needs DNA and English text ({} DNA fragments, {} English paragraphs)",
                dna.len(),
                english.len()
            )));
        }
        if vocab_size < 64 {
            return Err(TaskError::Config(format!(
                "vocabulary size {vocab_size} is too small (at least 64: the specials and the alphabet come first)"
            )));
        }
        if let Some((i, f)) = dna.iter().enumerate().find(|(_, f)| {
            f.is_empty() || !f.bytes().all(|b| matches!(b, b'A' | b'C' | b'G' | b'T'))
        }) {
            return Err(TaskError::Data(format!(
                "DNA fragment {i} is not a run of upper-case A/C/G/T ({} bases)",
                f.len()
            )));
        }
        let specials: Vec<AddedToken> = SPECIALS
            .iter()
            .map(|s| AddedToken::from(*s, true))
            .collect();
        let mut trainer = BpeTrainerBuilder::new()
            .show_progress(false)
            .vocab_size(vocab_size)
            .min_frequency(2)
            .special_tokens(specials)
            .build();
        let model = BPE::builder()
            .unk_token(UNK.into())
            .build()
            .map_err(|e| hf_err("building the BPE", e))?;
        let mut hf = TokenizerBuilder::<
            BPE,
            NormalizerWrapper,
            PreTokenizerWrapper,
            PostProcessorWrapper,
            DecoderWrapper,
        >::new()
        .with_model(model)
        .with_pre_tokenizer(Some(pre_tokenizer()))
        .build()
        .map_err(|e| hf_err("building the tokenizer", e))?;
        let text = dna
            .iter()
            .cloned()
            .chain(english.iter().map(|p| for_model(p)));
        hf.train(&mut trainer, text)
            .map_err(|e| hf_err("training the BPE", e))?;
        let hf: tokenizers::Tokenizer = hf.into();
        Self::from_hf(hf, Path::new("(trained)"))
    }

    fn from_hf(hf: tokenizers::Tokenizer, path: &Path) -> Result<Self> {
        let n = hf.get_vocab_size(true);
        let mut tokens = Vec::with_capacity(n);
        for id in 0..n as u32 {
            tokens.push(hf.id_to_token(id).ok_or_else(|| {
                TaskError::Data(format!(
                    "{}: token ids are not contiguous (no token {id} of {n})",
                    path.display()
                ))
            })?);
        }
        for (want, s) in SPECIALS.iter().enumerate() {
            if hf.token_to_id(s) != Some(want as u32) {
                return Err(TaskError::Data(format!(
                    "{}: {s} should have id {want} (a book tokenizer starts with {})",
                    path.display(),
                    SPECIALS.join(" ")
                )));
            }
        }
        let ids = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
        let tok = Self { hf, tokens, ids };
        if tok.id(FULL_STOP).is_none() {
            return Err(TaskError::Data(format!(
                "{}: no \".\" token: the English text had no full stop",
                path.display()
            )));
        }
        Ok(tok)
    }

    /// Read a `tokenizer.json` this type wrote.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| TaskError::io(path, e))?;
        let hf: tokenizers::Tokenizer = text
            .parse()
            .map_err(|e| hf_err(&path.display().to_string(), e))?;
        Self::from_hf(hf, path)
    }

    /// Write `tokenizer.json` atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = self
            .hf
            .to_string(true)
            .map_err(|e| hf_err("writing the tokenizer", e))?;
        let io = |e: std::io::Error| TaskError::io(path, e);
        let mut f = dnalm_seq::AtomicFile::create(path)?;
        f.write_all(text.as_bytes()).map_err(io)?;
        f.commit()?;
        Ok(())
    }

    pub fn pad_id(&self) -> u32 {
        0
    }
    pub fn end_of_text_id(&self) -> u32 {
        1
    }
    pub fn p_end_id(&self) -> u32 {
        2
    }
    pub fn full_stop_id(&self) -> u32 {
        self.ids[FULL_STOP]
    }

    /// Encode many texts as they are (no lower-casing), in parallel.
    pub fn encode_raw(&self, texts: &[&str]) -> Result<Vec<Vec<u32>>> {
        let enc = self
            .hf
            .encode_batch(texts.to_vec(), false)
            .map_err(|e| hf_err("encoding", e))?;
        Ok(enc.into_iter().map(|e| e.get_ids().to_vec()).collect())
    }

    /// Encode English paragraphs, lower-cased, in parallel.
    pub fn encode_english(&self, paragraphs: &[String]) -> Result<Vec<Vec<u32>>> {
        let lower: Vec<String> = paragraphs.iter().map(|p| for_model(p)).collect();
        let refs: Vec<&str> = lower.iter().map(String::as_str).collect();
        self.encode_raw(&refs)
    }

    /// Token ids back to text, tokens joined by spaces.
    pub fn decode(&self, ids: &[u32]) -> String {
        ids.iter()
            .map(|&i| self.token(i).unwrap_or("<?>"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Whitespace split (`\w+|[^\w\s]+`), then every punctuation mark alone.
fn pre_tokenizer() -> PreTokenizerWrapper {
    PreTokenizerWrapper::Sequence(Sequence::new(vec![
        PreTokenizerWrapper::Whitespace(Whitespace),
        PreTokenizerWrapper::Punctuation(Punctuation::new(SplitDelimiterBehavior::Isolated)),
    ]))
}

/// The book's `Backend` holds a message, so keep the whole source chain
/// (an I/O error displays only its path; the OS message is its source).
fn backend(e: TaskError) -> BookError {
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    BookError::Backend(msg)
}

impl BookTokenizer for JointTokenizer {
    fn vocab_size(&self) -> usize {
        self.tokens.len()
    }

    fn token(&self, id: u32) -> Option<&str> {
        self.tokens.get(id as usize).map(String::as_str)
    }

    fn id(&self, token: &str) -> Option<u32> {
        self.ids.get(token).copied()
    }

    fn encode_dna(&self, run: &[u8]) -> dnalm_book::Result<Vec<DnaToken>> {
        if let Some(p) = run
            .iter()
            .position(|b| !matches!(b, b'A' | b'C' | b'G' | b'T'))
        {
            return Err(BookError::Data(format!(
                "base {:?} at position {p} of a DNA run: encode_dna takes upper-case A/C/G/T only",
                char::from(run[p])
            )));
        }
        if run.is_empty() {
            return Ok(Vec::new());
        }
        let text = std::str::from_utf8(run).expect("A/C/G/T is ASCII");
        let enc = self
            .hf
            .encode(text, false)
            .map_err(|e| backend(hf_err("encoding DNA", e)))?;
        let mut out = Vec::with_capacity(enc.len());
        let mut at = 0;
        for (&id, &(s, e)) in enc.get_ids().iter().zip(enc.get_offsets()) {
            if s != at || e <= s {
                return Err(BookError::Backend(format!(
                    "token {id} covers bases {s}..{e} where {at}.. was next: the tokenizer does not tile DNA"
                )));
            }
            out.push(DnaToken { id, span: s..e });
            at = e;
        }
        if at != run.len() {
            return Err(BookError::Backend(format!(
                "the tokens cover {at} of {} bases",
                run.len()
            )));
        }
        Ok(out)
    }

    fn encode_text(&self, text: &str) -> dnalm_book::Result<Vec<u32>> {
        Ok(self
            .encode_english(&[text.to_string()])
            .map_err(backend)?
            .remove(0))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn backend_errors_keep_the_os_message() {
        let gone = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let e = backend(TaskError::io("t/tokenizer.json", gone));
        assert_eq!(e.to_string(), "t/tokenizer.json: gone");
    }

    pub(crate) fn toy_text() -> (Vec<String>, Vec<String>) {
        let g = dnalm_seq::synth::demo_genome(&dnalm_seq::synth::DemoGenome {
            records: 1,
            record_len: 30_000,
            seed: 5,
        });
        let mut frags = Vec::new();
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(1);
        dnalm_book::fragments::cut_fragments(
            "r",
            &g[0].seq,
            &dnalm_book::FRAGMENT_LEN,
            50,
            &mut rng,
            &mut frags,
        );
        let english = (0..60)
            .map(|i| {
                format!(
                    "The {} house stood by the river. It was \"quiet\", said Emma; she walked {i} miles.",
                    ["old", "new", "grey"][i % 3]
                )
            })
            .collect();
        (frags.into_iter().map(|f| f.seq).collect(), english)
    }

    #[test]
    fn trains_saves_loads_and_round_trips() {
        let (dna, english) = toy_text();
        let tok = JointTokenizer::train(&dna, &english, 300).unwrap();
        assert!(tok.vocab_size() <= 300 && tok.vocab_size() > 100);
        for (i, s) in SPECIALS.iter().enumerate() {
            assert_eq!(tok.id(s), Some(i as u32));
        }
        assert_eq!(tok.token(tok.full_stop_id()), Some("."));
        // "." stays alone even after a quote or a word.
        let ids = tok.encode_text("It was \"quiet.\" The End.").unwrap();
        let text = tok.decode(&ids);
        assert!(!text.contains("It"), "lower-cased: {text}");
        assert_eq!(
            ids.iter().filter(|&&i| i == tok.full_stop_id()).count(),
            2,
            "{text}"
        );
        // DNA tokens tile the run, and long DNA words were learnt.
        let run = &dna[0].as_bytes()[..200];
        let toks = tok.encode_dna(run).unwrap();
        let joined: String = toks.iter().map(|t| tok.token(t.id).unwrap()).collect();
        assert_eq!(joined.as_bytes(), run);
        assert_eq!(toks[0].span.start, 0);
        assert_eq!(toks.last().unwrap().span.end, 200);
        assert!(toks.len() < 120, "BPE should merge bases: {}", toks.len());
        assert!(toks
            .iter()
            .any(|t| dnalm_book::model::is_dna_word(tok.token(t.id).unwrap())));
        let e = tok.encode_dna(b"ACGNT").unwrap_err().to_string();
        assert!(e.contains("position 3"), "{e}");
        assert!(tok.encode_dna(b"").unwrap().is_empty());

        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tokenizer.json");
        tok.save(&p).unwrap();
        let back = JointTokenizer::load(&p).unwrap();
        assert_eq!(back.tokens, tok.tokens);
        assert_eq!(back.encode_dna(run).unwrap(), toks);
        // Same text, same file.
        let again = JointTokenizer::train(&dna, &english, 300).unwrap();
        assert_eq!(
            again.hf.to_string(false).unwrap(),
            tok.hf.to_string(false).unwrap()
        );
    }

    #[test]
    fn bad_training_text_is_refused() {
        let (dna, english) = toy_text();
        assert!(JointTokenizer::train(&[], &english, 300).is_err());
        assert!(JointTokenizer::train(&dna, &[], 300).is_err());
        assert!(JointTokenizer::train(&dna, &english, 10).is_err());
        let e = JointTokenizer::train(&["ACGN".into()], &english, 300)
            .unwrap_err()
            .to_string();
        assert!(e.contains("fragment 0"), "{e}");
        let e = JointTokenizer::train(&dna, &["no full stop here".into()], 300)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no \".\""), "{e}");
    }
}
