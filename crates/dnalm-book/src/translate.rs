//! The English version: every DNA word replaced through a DNA -> English
//! dictionary (built by the dictionary step; here it is only an input).
//!
//! A DNA word ([`is_dna_word`]) missing from the dictionary is an error
//! naming the word, never kept silently. Tokens that are not DNA words by the
//! SPEC's definition (single bases "A", "C", "G", "T") have no entry by
//! construction and are written unchanged. [`Translator::check`] refuses a
//! dictionary that does not match the model before any work is done.

use std::collections::HashMap;
use std::path::Path;

use crate::dictionary::{first_uncovered_dna_word, is_model_dna_word};
use crate::model::{is_dna_word, BookTokenizer};
use crate::{BookError, Result};

#[derive(Debug, Clone)]
pub struct Translator {
    map: HashMap<String, String>,
    source: String,
}

impl Translator {
    /// `source` names the dictionary in error messages.
    pub fn new(map: HashMap<String, String>, source: impl Into<String>) -> Self {
        Translator {
            map,
            source: source.into(),
        }
    }

    /// Reads a dictionary: a TSV with a header holding `dna_word` and
    /// `english` columns, or JSON (an object `{"ACGT": "word", ...}`, or an
    /// array of objects with `dna_word` and `english`, also under an
    /// `"entries"` key).
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| BookError::io(path, e))?;
        let shown = path.display().to_string();
        let map = if text.trim_start().starts_with(['{', '[']) {
            Self::parse_json(&text, &shown)?
        } else {
            Self::parse_tsv(&text, &shown)?
        };
        if map.is_empty() {
            return Err(BookError::Data(format!("{shown}: the dictionary is empty")));
        }
        Ok(Translator::new(map, shown))
    }

    fn parse_tsv(text: &str, shown: &str) -> Result<HashMap<String, String>> {
        let mut lines = text.lines().enumerate();
        let header: Vec<&str> = lines
            .next()
            .map(|(_, l)| l.split('\t').collect())
            .unwrap_or_default();
        let col = |name: &str| {
            header.iter().position(|h| *h == name).ok_or_else(|| {
                BookError::Data(format!(
                    "{shown}:1: the header has no {name:?} column (a dictionary TSV has dna_word and english)"
                ))
            })
        };
        let (d, e) = (col("dna_word")?, col("english")?);
        let mut map = HashMap::new();
        for (i, line) in lines {
            if line.is_empty() {
                continue;
            }
            let f: Vec<&str> = line.split('\t').collect();
            let (Some(dna), Some(en)) = (f.get(d), f.get(e)) else {
                return Err(BookError::Data(format!(
                    "{shown}:{}: expected {} columns, found {}",
                    i + 1,
                    header.len(),
                    f.len()
                )));
            };
            Self::insert(&mut map, dna, en, &format!("{shown}:{}", i + 1))?;
        }
        Ok(map)
    }

    fn parse_json(text: &str, shown: &str) -> Result<HashMap<String, String>> {
        let v: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| BookError::Data(format!("{shown}: not valid JSON: {e}")))?;
        let mut map = HashMap::new();
        let entries = match &v {
            serde_json::Value::Object(o) if o.contains_key("entries") => &o["entries"],
            other => other,
        };
        match entries {
            serde_json::Value::Object(o) => {
                for (k, val) in o {
                    let en = val.as_str().ok_or_else(|| {
                        BookError::Data(format!("{shown}: the entry for {k:?} is not a string"))
                    })?;
                    Self::insert(&mut map, k, en, shown)?;
                }
            }
            serde_json::Value::Array(a) => {
                for (i, item) in a.iter().enumerate() {
                    let get = |key: &str| {
                        item.get(key).and_then(|x| x.as_str()).ok_or_else(|| {
                            BookError::Data(format!("{shown}: entry {i} has no string {key:?}"))
                        })
                    };
                    Self::insert(&mut map, get("dna_word")?, get("english")?, shown)?;
                }
            }
            _ => {
                return Err(BookError::Data(format!(
                    "{shown}: expected an object or an array of entries"
                )))
            }
        }
        Ok(map)
    }

    fn insert(map: &mut HashMap<String, String>, dna: &str, en: &str, at: &str) -> Result<()> {
        if en.is_empty() {
            return Err(BookError::Data(format!(
                "{at}: DNA word {dna:?} has an empty English word"
            )));
        }
        if map.insert(dna.to_string(), en.to_string()).is_some() {
            return Err(BookError::Data(format!(
                "{at}: DNA word {dna:?} appears twice"
            )));
        }
        Ok(())
    }

    /// Refuses a dictionary that does not match the model: every entry must
    /// be a DNA word of the model's vocabulary, and every DNA word of the
    /// vocabulary must have an entry. The error names the first mismatch.
    pub fn check(&self, tokenizer: &dyn BookTokenizer) -> Result<()> {
        let mut keys: Vec<&String> = self.map.keys().collect();
        keys.sort();
        for k in keys {
            if !is_model_dna_word(tokenizer, k) {
                return Err(BookError::Data(format!(
                    "{}: the dictionary does not match the model: {k:?} is not a DNA word of its vocabulary",
                    self.source
                )));
            }
        }
        if let Some((_, t)) = first_uncovered_dna_word(tokenizer, |w| self.map.contains_key(w)) {
            return Err(BookError::Data(format!(
                "{}: the dictionary does not match the model: its DNA word {t:?} has no entry",
                self.source
            )));
        }
        Ok(())
    }

    /// The English for a token text (see the module doc).
    pub fn english<'a>(&'a self, token: &'a str) -> Result<&'a str> {
        if !is_dna_word(token) {
            return Ok(token);
        }
        self.map.get(token).map(String::as_str).ok_or_else(|| {
            BookError::Data(format!(
                "{}: DNA word {token:?} is not in the dictionary",
                self.source
            ))
        })
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::GreedyTokenizer;

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn tsv_and_json_dictionaries_load_and_translate() {
        let dir = tempfile::tempdir().unwrap();
        let tsv = write(
            dir.path(),
            "d.tsv",
            "dna_word\tenglish\trank_drawn\nTATA\tolia\t3\nGC\tolia1\t7\n",
        );
        let t = Translator::load(&tsv).unwrap();
        assert_eq!(t.english("TATA").unwrap(), "olia");
        assert_eq!(t.english("A").unwrap(), "A");
        let err = t.english("AAT").unwrap_err().to_string();
        assert!(err.contains("\"AAT\"") && err.contains("d.tsv"), "{err}");
        let tok = GreedyTokenizer::new(&["TATA", "GC"]);
        t.check(&tok).unwrap();
        let json = write(dir.path(), "d.json", r#"{"TATA":"x","GC":"y","AAT":"z"}"#);
        let t = Translator::load(&json).unwrap();
        let err = t.check(&tok).unwrap_err().to_string();
        assert!(
            err.contains("does not match the model") && err.contains("AAT"),
            "{err}"
        );
        let arr = write(
            dir.path(),
            "a.json",
            r#"{"entries":[{"dna_word":"TATA","english":"x"}]}"#,
        );
        let t = Translator::load(&arr).unwrap();
        let err = t.check(&tok).unwrap_err().to_string();
        assert!(err.contains("\"GC\" has no entry"), "{err}");
    }

    #[test]
    fn broken_dictionaries_say_where() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "d.tsv", "dna\tenglish\nTATA\tx\n");
        let err = Translator::load(&p).unwrap_err().to_string();
        assert!(err.contains("d.tsv:1") && err.contains("dna_word"), "{err}");
        let p = write(dir.path(), "e.tsv", "dna_word\tenglish\nTATA\tx\nTATA\ty\n");
        let err = Translator::load(&p).unwrap_err().to_string();
        assert!(err.contains("e.tsv:3") && err.contains("twice"), "{err}");
        let p = write(dir.path(), "f.json", "{");
        assert!(Translator::load(&p).is_err());
    }
}
