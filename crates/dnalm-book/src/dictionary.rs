//! The DNA-English dictionary (SPEC.md section 4): every DNA word of the
//! vocabulary gets an English counterpart by cosine similarity of the
//! model's single-token embeddings.
//!
//! Each token is embedded on its own (`embed_mean` of the one-token
//! sequence, in batches) and normalised; the cosine of a DNA word to every
//! English word is one dot product per pair, DNA words in parallel. Plain
//! nearest neighbour collapses many DNA words onto few English words (the
//! published run: ~19,000 onto ~600); [`Collapse`] measures that. The
//! published dictionary instead draws among the top-k neighbours:
//!
//! - DNA words are visited in vocabulary-id order; one ChaCha8 stream seeded
//!   with `seed` draws a rank uniformly in `0..min(k, #English words)`;
//!   neighbours are ranked by cosine, ties by the lower token id.
//! - The suffix rule: the first DNA word that draws English word `w` gets
//!   `w`, the next `w1`, then `w2`, ... (the n-th use, counted from 0, gets
//!   `w` followed by n when n > 0). English words are letters only, so the
//!   entries are unique.
//!
//! A dictionary is saved as JSON (with its settings and the collapse
//! numbers) and TSV; loading checks it against the model's tokenizer, since
//! a dictionary built for another vocabulary would translate nonsense.

use std::collections::HashMap;
use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::{is_dna_word, is_english_word, BookLm, BookTokenizer};
use crate::{BookError, Result};

/// Neighbours the published dictionary draws among.
pub const DEFAULT_TOP_K: usize = 100;
/// The `format` field of a dictionary JSON.
pub const FORMAT: &str = "dnalm-book-dictionary/1";
/// One-token sequences per `embed_mean` call.
const EMBED_BATCH: usize = 512;
/// Largest buckets listed in the collapse report.
const TOP_BUCKETS: usize = 30;

/// One DNA word and its English counterpart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DictEntry {
    pub dna_word: String,
    /// The English word drawn, with its numeric suffix.
    pub english: String,
    /// Rank of the drawn neighbour, 0 = nearest.
    pub rank_drawn: usize,
    /// Cosine similarity to the drawn neighbour.
    pub cosine: f32,
    /// The plain nearest English word (no suffix).
    pub nearest: String,
    pub nearest_cosine: f32,
}

/// One bin of the collapse histogram: English words whose bucket (the DNA
/// words that have it as nearest neighbour) holds `min_size..=max_size`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BucketBin {
    pub min_size: usize,
    pub max_size: usize,
    pub english_words: usize,
    pub dna_words: usize,
}

/// How far plain nearest neighbour collapses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Collapse {
    pub dna_words: usize,
    pub english_words: usize,
    /// Distinct English words that are some DNA word's nearest neighbour.
    pub distinct_nearest: usize,
    /// The English word with the most DNA words, and how many.
    pub largest_bucket_word: String,
    pub largest_bucket: usize,
    /// Bucket sizes in powers of two: 1, 2-3, 4-7, ...
    pub histogram: Vec<BucketBin>,
    /// The largest buckets, largest first (ties by word).
    pub top_buckets: Vec<(String, usize)>,
}

/// Settings of [`Dictionary::build`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DictionaryConfig {
    pub top_k: usize,
    pub seed: u64,
}

impl Default for DictionaryConfig {
    fn default() -> Self {
        Self {
            top_k: DEFAULT_TOP_K,
            seed: 42,
        }
    }
}

/// The dictionary, in DNA-word vocabulary-id order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dictionary {
    pub format: String,
    pub top_k: usize,
    pub seed: u64,
    pub vocab_size: usize,
    pub collapse: Collapse,
    pub entries: Vec<DictEntry>,
    #[serde(skip)]
    index: HashMap<String, usize>,
}

/// Unit vectors of `ids`' single-token embeddings, flat (`ids.len() * hidden`).
fn unit_embeddings(
    lm: &dyn BookLm,
    ids: &[u32],
    progress: &mut dyn FnMut(usize),
) -> Result<Vec<f32>> {
    let hidden = lm.hidden_size();
    let mut out = Vec::with_capacity(ids.len() * hidden);
    for chunk in ids.chunks(EMBED_BATCH) {
        let seqs: Vec<[u32; 1]> = chunk.iter().map(|&id| [id]).collect();
        let refs: Vec<&[u32]> = seqs.iter().map(|s| s.as_slice()).collect();
        let vecs = lm.embed_mean(&refs)?;
        if vecs.len() != chunk.len() {
            return Err(BookError::Backend(format!(
                "embed_mean returned {} vectors for {} sequences",
                vecs.len(),
                chunk.len()
            )));
        }
        for (v, &id) in vecs.iter().zip(chunk) {
            if v.len() != hidden || v.iter().any(|x| !x.is_finite()) {
                return Err(BookError::Backend(format!(
                    "embedding of token {id} has {} values (expected {hidden}) or a non-finite one",
                    v.len()
                )));
            }
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            let scale = if norm > 0.0 { 1.0 / norm } else { 0.0 };
            out.extend(v.iter().map(|x| x * scale));
        }
        progress(chunk.len());
    }
    Ok(out)
}

/// The `k` most similar rows of `eng` to `q`: (row, cosine), best first,
/// ties by the lower row.
fn top_k(q: &[f32], eng: &[f32], hidden: usize, k: usize) -> Vec<(u32, f32)> {
    let mut sims: Vec<(u32, f32)> = eng
        .chunks_exact(hidden)
        .enumerate()
        .map(|(i, e)| (i as u32, e.iter().zip(q).map(|(a, b)| a * b).sum()))
        .collect();
    let order = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    let k = k.min(sims.len());
    if k < sims.len() {
        sims.select_nth_unstable_by(k, order);
        sims.truncate(k);
    }
    sims.sort_unstable_by(order);
    sims
}

impl Collapse {
    fn measure(nearest: &[String], english_words: usize) -> Self {
        let mut buckets: HashMap<&str, usize> = HashMap::new();
        for w in nearest {
            *buckets.entry(w.as_str()).or_default() += 1;
        }
        let mut sorted: Vec<(String, usize)> =
            buckets.iter().map(|(w, &n)| (w.to_string(), n)).collect();
        sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut histogram: Vec<BucketBin> = Vec::new();
        for &(_, n) in &sorted {
            let bin = n.ilog2() as usize;
            while histogram.len() <= bin {
                let i = histogram.len();
                histogram.push(BucketBin {
                    min_size: 1 << i,
                    max_size: (1 << (i + 1)) - 1,
                    english_words: 0,
                    dna_words: 0,
                });
            }
            histogram[bin].english_words += 1;
            histogram[bin].dna_words += n;
        }
        let (largest_bucket_word, largest_bucket) = sorted.first().cloned().unwrap_or_default();
        Self {
            dna_words: nearest.len(),
            english_words,
            distinct_nearest: sorted.len(),
            largest_bucket_word,
            largest_bucket,
            histogram,
            top_buckets: sorted.into_iter().take(TOP_BUCKETS).collect(),
        }
    }
}

impl Dictionary {
    /// Builds the dictionary of every DNA word of `tok`'s vocabulary.
    /// `progress` is told how many tokens each embedding batch covered (DNA
    /// and English words together). No DNA word, no English word or `top_k`
    /// of 0 is an error.
    pub fn build(
        tok: &dyn BookTokenizer,
        lm: &dyn BookLm,
        config: DictionaryConfig,
        progress: &mut dyn FnMut(usize),
    ) -> Result<Self> {
        if config.top_k == 0 {
            return Err(BookError::Config("top-k must be at least 1".into()));
        }
        let (dna, eng) = word_ids(tok);
        if dna.is_empty() || eng.is_empty() {
            return Err(BookError::Data(format!(
                "the vocabulary ({} tokens) has {} DNA words and {} English words; \
                 a dictionary needs both",
                tok.vocab_size(),
                dna.len(),
                eng.len()
            )));
        }
        let hidden = lm.hidden_size();
        if hidden == 0 {
            return Err(BookError::Backend("the model's hidden size is 0".into()));
        }
        let eng_vecs = unit_embeddings(lm, &eng, progress)?;
        let dna_vecs = unit_embeddings(lm, &dna, progress)?;
        let tops: Vec<Vec<(u32, f32)>> = dna_vecs
            .par_chunks_exact(hidden)
            .map(|q| top_k(q, &eng_vecs, hidden, config.top_k))
            .collect();
        let word = |row: u32| tok.token(eng[row as usize]).unwrap_or_default().to_string();

        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let mut uses: HashMap<u32, usize> = HashMap::new();
        let mut entries = Vec::with_capacity(dna.len());
        for (&id, top) in dna.iter().zip(&tops) {
            let rank = rng.random_range(0..top.len());
            let (row, cosine) = top[rank];
            let n = uses.entry(row).or_default();
            let base = word(row);
            let english = if *n == 0 { base } else { format!("{base}{n}") };
            *n += 1;
            entries.push(DictEntry {
                dna_word: tok.token(id).unwrap_or_default().to_string(),
                english,
                rank_drawn: rank,
                cosine,
                nearest: word(top[0].0),
                nearest_cosine: top[0].1,
            });
        }
        let nearest: Vec<String> = entries.iter().map(|e| e.nearest.clone()).collect();
        let mut dict = Self {
            format: FORMAT.to_string(),
            top_k: config.top_k,
            seed: config.seed,
            vocab_size: tok.vocab_size(),
            collapse: Collapse::measure(&nearest, eng.len()),
            entries,
            index: HashMap::new(),
        };
        dict.reindex();
        Ok(dict)
    }

    fn reindex(&mut self) {
        self.index = self
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.dna_word.clone(), i))
            .collect();
    }

    /// The English counterpart of a DNA word.
    pub fn translate(&self, dna_word: &str) -> Option<&str> {
        self.index
            .get(dna_word)
            .map(|&i| self.entries[i].english.as_str())
    }

    pub fn to_json(&self) -> Result<Vec<u8>> {
        let mut s = serde_json::to_vec_pretty(self)
            .map_err(|e| BookError::Data(format!("dictionary JSON: {e}")))?;
        s.push(b'\n');
        Ok(s)
    }

    /// The TSV: `dna_word english rank_drawn cosine nearest nearest_cosine`.
    pub fn to_tsv(&self) -> Result<Vec<u8>> {
        let header = [
            "dna_word",
            "english",
            "rank_drawn",
            "cosine",
            "nearest",
            "nearest_cosine",
        ];
        let mut w = dnalm_seq::TsvWriter::new(Vec::new(), "dictionary.tsv", &header)?;
        for e in &self.entries {
            w.write_row([
                e.dna_word.clone(),
                e.english.clone(),
                e.rank_drawn.to_string(),
                format!("{:.6}", e.cosine),
                e.nearest.clone(),
                format!("{:.6}", e.nearest_cosine),
            ])?;
        }
        Ok(w.into_inner())
    }

    /// Writes `dictionary.json`, `dictionary.tsv`, the collapse histogram
    /// (`collapse.tsv`), a Markdown summary (`collapse.md`) and a bar chart
    /// of the largest buckets (`collapse.svg`) into `dir`.
    pub fn write_dir(&self, dir: &Path) -> Result<()> {
        let c = &self.collapse;
        let mut hist = dnalm_seq::TsvWriter::new(
            Vec::new(),
            "collapse.tsv",
            &["min_bucket", "max_bucket", "english_words", "dna_words"],
        )?;
        for b in &c.histogram {
            hist.write_row([b.min_size, b.max_size, b.english_words, b.dna_words])?;
        }
        let mut md = format!(
            "# DNA-English dictionary\n\n\
             Plain nearest neighbour maps {} DNA words onto {} of {} English words; \
             the largest bucket is \"{}\" with {} DNA words. The dictionary draws \
             among the top {} neighbours (seed {}).\n\n\
             | bucket size | English words | DNA words |\n|---|---:|---:|\n",
            c.dna_words,
            c.distinct_nearest,
            c.english_words,
            c.largest_bucket_word,
            c.largest_bucket,
            self.top_k,
            self.seed
        );
        for b in &c.histogram {
            md.push_str(&format!(
                "| {}-{} | {} | {} |\n",
                b.min_size, b.max_size, b.english_words, b.dna_words
            ));
        }
        let files = vec![
            ("dictionary.json".to_string(), self.to_json()?),
            ("dictionary.tsv".to_string(), self.to_tsv()?),
            ("collapse.tsv".to_string(), hist.into_inner()),
            ("collapse.md".to_string(), md.into_bytes()),
        ];
        crate::atomic::write_all(dir, &files)?;
        let bars: Vec<(String, f64)> = c
            .top_buckets
            .iter()
            .map(|(w, n)| (w.clone(), *n as f64))
            .collect();
        dnalm_tokenizers::plot::bar_chart_svg(
            &dir.join("collapse.svg"),
            "DNA words per nearest English word (largest buckets)",
            &bars,
            "DNA words",
        )?;
        Ok(())
    }

    /// Reads a dictionary JSON and checks it against `tok`: every entry's
    /// DNA word must be a DNA word of the vocabulary, every DNA word of the
    /// vocabulary must have exactly one entry, and every English word must be
    /// an English word of the vocabulary plus an optional number.
    pub fn load(path: &Path, tok: &dyn BookTokenizer) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| BookError::io(path, e))?;
        let mut dict: Dictionary = serde_json::from_slice(&bytes).map_err(|e| {
            BookError::Data(format!("{}: not a dictionary JSON: {e}", path.display()))
        })?;
        if dict.format != FORMAT {
            return Err(BookError::Data(format!(
                "{}: format {:?}, expected {FORMAT:?}",
                path.display(),
                dict.format
            )));
        }
        dict.check(tok)
            .map_err(|m| BookError::Data(format!("{}: {m}", path.display())))?;
        dict.reindex();
        Ok(dict)
    }

    fn check(&self, tok: &dyn BookTokenizer) -> std::result::Result<(), String> {
        let bad = "a dictionary that does not match the model";
        let mut seen_dna: HashMap<&str, usize> = HashMap::new();
        let mut seen_eng: HashMap<&str, usize> = HashMap::new();
        for (i, e) in self.entries.iter().enumerate() {
            let n = i + 1;
            if !is_model_dna_word(tok, &e.dna_word) {
                return Err(format!(
                    "{bad}: entry {n}: DNA word {:?} is not a DNA word of the model's vocabulary",
                    e.dna_word
                ));
            }
            let base = e.english.trim_end_matches(|c: char| c.is_ascii_digit());
            if !is_english_word(base) || tok.id(base).is_none() {
                return Err(format!(
                    "{bad}: entry {n}: English {:?} is not an English word of the model's \
                     vocabulary (plus an optional number)",
                    e.english
                ));
            }
            if let Some(first) = seen_dna.insert(&e.dna_word, n) {
                return Err(format!(
                    "entry {n}: DNA word {:?} repeats entry {first}",
                    e.dna_word
                ));
            }
            if let Some(first) = seen_eng.insert(&e.english, n) {
                return Err(format!(
                    "entry {n}: English {:?} repeats entry {first}",
                    e.english
                ));
            }
        }
        if let Some((id, word)) = first_uncovered_dna_word(tok, |w| seen_dna.contains_key(w)) {
            return Err(format!(
                "{bad}: the model's DNA word {word:?} (token {id}) has no entry"
            ));
        }
        Ok(())
    }
}

/// The ids of DNA words and of English words, in id order.
/// Whether `word` is a DNA word of the model's vocabulary. With
/// [`first_uncovered_dna_word`], the one test of "does this dictionary
/// match the model" for dnalm's own dictionaries and for any user map
/// ([`crate::translate::Translator::check`]).
pub(crate) fn is_model_dna_word(tok: &dyn BookTokenizer, word: &str) -> bool {
    is_dna_word(word) && tok.id(word).is_some()
}

/// The first DNA word of the model's vocabulary (in id order) for which
/// `covered` is false, with its id.
pub(crate) fn first_uncovered_dna_word(
    tok: &dyn BookTokenizer,
    covered: impl Fn(&str) -> bool,
) -> Option<(u32, &str)> {
    (0..tok.vocab_size() as u32)
        .filter_map(|id| tok.token(id).map(|t| (id, t)))
        .find(|&(_, t)| is_dna_word(t) && !covered(t))
}

fn word_ids(tok: &dyn BookTokenizer) -> (Vec<u32>, Vec<u32>) {
    let mut dna = Vec::new();
    let mut eng = Vec::new();
    for id in 0..tok.vocab_size() as u32 {
        match tok.token(id) {
            Some(t) if is_dna_word(t) => dna.push(id),
            Some(t) if is_english_word(t) => eng.push(id),
            _ => {}
        }
    }
    (dna, eng)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::GreedyTokenizer;
    use crate::testmodel::TestLm;

    /// Six DNA words and three English words in 2-D: the DNA words sit at
    /// angles that make "olia" the nearest of four of them.
    fn model() -> (GreedyTokenizer, TestLm) {
        let tok = GreedyTokenizer::new(&[
            "AC", "GGT", "TTA", "CAG", "GA", "ACGT", "olia", "sun", "moon",
        ]);
        let deg = |d: f32| vec![d.to_radians().cos(), d.to_radians().sin()];
        // <pad>, <p_end>, ".", A, C, G, T: neither DNA words nor English words
        let mut table: Vec<Vec<f32>> = (0..7).map(|i| deg(200.0 + i as f32)).collect();
        table.extend([
            deg(1.0),   // AC -> olia
            deg(-2.0),  // GGT -> olia
            deg(5.0),   // TTA -> olia
            deg(88.0),  // CAG -> sun
            deg(179.0), // GA -> moon
            deg(3.0),   // ACGT -> olia
            deg(0.0),   // olia
            deg(90.0),  // sun
            deg(180.0), // moon
        ]);
        (tok, TestLm { table, context: 16 })
    }

    fn build(k: usize, seed: u64) -> Dictionary {
        let (tok, lm) = model();
        Dictionary::build(&tok, &lm, DictionaryConfig { top_k: k, seed }, &mut |_| {}).unwrap()
    }

    #[test]
    fn nearest_neighbour_and_suffixes() {
        let d = build(1, 7);
        let got: Vec<(&str, &str)> = d
            .entries
            .iter()
            .map(|e| (e.dna_word.as_str(), e.english.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("AC", "olia"),
                ("GGT", "olia1"),
                ("TTA", "olia2"),
                ("CAG", "sun"),
                ("GA", "moon"),
                ("ACGT", "olia3"),
            ]
        );
        assert!(d.entries.iter().all(|e| e.rank_drawn == 0));
        assert!((d.entries[3].cosine - 2f32.to_radians().cos()).abs() < 1e-6);
        let c = &d.collapse;
        assert_eq!(
            (c.dna_words, c.english_words, c.distinct_nearest),
            (6, 3, 3)
        );
        assert_eq!(
            (c.largest_bucket_word.as_str(), c.largest_bucket),
            ("olia", 4)
        );
        // buckets 4 (olia), 1 (sun), 1 (moon): bins 1 and 4-7
        assert_eq!(c.histogram.len(), 3);
        assert_eq!(
            (c.histogram[0].english_words, c.histogram[0].dna_words),
            (2, 2)
        );
        assert_eq!(c.histogram[1].english_words, 0);
        assert_eq!(
            (c.histogram[2].min_size, c.histogram[2].english_words),
            (4, 1)
        );
        assert_eq!(d.translate("GGT"), Some("olia1"));
        assert_eq!(d.translate("A"), None);
    }

    #[test]
    fn the_draw_is_seeded_and_stays_in_the_top_k() {
        let a = build(2, 1);
        assert_eq!(a.to_json().unwrap(), build(2, 1).to_json().unwrap());
        assert!(a.entries.iter().all(|e| e.rank_drawn < 2));
        // over seeds, both ranks get drawn and every drawn cosine is a top-2 one
        let mut ranks = [0usize; 2];
        for seed in 0..20 {
            for e in build(2, seed).entries {
                ranks[e.rank_drawn] += 1;
                assert!(e.cosine <= e.nearest_cosine);
            }
        }
        assert!(ranks[0] > 0 && ranks[1] > 0, "{ranks:?}");
        let english: std::collections::HashSet<_> =
            a.entries.iter().map(|e| e.english.clone()).collect();
        assert_eq!(english.len(), a.entries.len());
    }

    #[test]
    fn saves_and_loads_and_rejects_another_vocabulary() {
        let d = build(3, 5);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dictionary.json");
        std::fs::write(&path, d.to_json().unwrap()).unwrap();
        let (tok, _) = model();
        let back = Dictionary::load(&path, &tok).unwrap();
        assert_eq!(back, d);
        assert_eq!(back.translate("CAG"), d.translate("CAG"));

        let tsv = String::from_utf8(d.to_tsv().unwrap()).unwrap();
        assert!(tsv.starts_with("dna_word\tenglish\trank_drawn\tcosine\tnearest\tnearest_cosine\n"));
        assert_eq!(tsv.lines().count(), 7);

        let out = dir.path().join("dict");
        d.write_dir(&out).unwrap();
        for f in [
            "dictionary.json",
            "dictionary.tsv",
            "collapse.tsv",
            "collapse.md",
            "collapse.svg",
        ] {
            assert!(out.join(f).is_file(), "{f}");
        }
        assert_eq!(
            Dictionary::load(&out.join("dictionary.json"), &tok).unwrap(),
            d
        );
        let md = std::fs::read_to_string(out.join("collapse.md")).unwrap();
        assert!(
            md.contains("maps 6 DNA words onto 3 of 3 English words"),
            "{md}"
        );

        // a vocabulary without GGT
        let other =
            GreedyTokenizer::new(&["AC", "TTA", "CAG", "GA", "ACGT", "olia", "sun", "moon"]);
        let err = Dictionary::load(&path, &other).unwrap_err().to_string();
        assert!(err.contains("does not match the model"), "{err}");
        assert!(err.contains("entry 2") && err.contains("GGT"), "{err}");
        // a vocabulary with one more DNA word
        let more = GreedyTokenizer::new(&[
            "AC", "GGT", "TTA", "CAG", "GA", "ACGT", "olia", "sun", "moon", "TTTT",
        ]);
        let err = Dictionary::load(&path, &more).unwrap_err().to_string();
        assert!(
            err.contains("\"TTTT\"") && err.contains("no entry"),
            "{err}"
        );
    }

    #[test]
    fn a_vocabulary_without_english_is_an_error() {
        let tok = GreedyTokenizer::new(&["AC", "GT"]);
        let lm = TestLm {
            table: vec![vec![1.0, 0.0]; 9],
            context: 4,
        };
        let err = Dictionary::build(&tok, &lm, DictionaryConfig::default(), &mut |_| {})
            .unwrap_err()
            .to_string();
        assert!(err.contains("0 English words"), "{err}");
    }
}
