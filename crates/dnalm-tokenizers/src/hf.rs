//! Hugging Face tokenizer formats: `tokenizer.json`, `tokenizer_config.json`
//! and `vocab.txt`, written and read as plain data over [`Vocab`] and merge
//! lists, so that Python `tokenizers` / `transformers` and the Rust
//! `tokenizers` crate load what dnalm trains, and dnalm loads their files.
//!
//! Output is byte-stable: every JSON object is built with its keys in sorted
//! order, which is what `serde_json` prints whether or not its
//! `preserve_order` feature is enabled somewhere in the build.

use std::path::Path;

use serde_json::{json, Map, Value};

use crate::error::{Result, TokError};
use crate::vocab::{Specials, Vocab, SPECIAL_TOKENS};

/// The `tokenizer.json` format version written by `tokenizers` 0.13 and later.
const FORMAT_VERSION: &str = "1.0";

/// A JSON object whose keys are inserted in sorted order.
fn sorted_object(mut entries: Vec<(String, Value)>) -> Value {
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Value::Object(entries.into_iter().collect::<Map<String, Value>>())
}

fn special_names(specials: Specials) -> [(&'static str, u32); 5] {
    [
        (SPECIAL_TOKENS[0], specials.pad),
        (SPECIAL_TOKENS[1], specials.unk),
        (SPECIAL_TOKENS[2], specials.cls),
        (SPECIAL_TOKENS[3], specials.sep),
        (SPECIAL_TOKENS[4], specials.mask),
    ]
}

/// The five specials as `added_tokens` entries, by ascending id.
fn added_tokens(vocab: &Vocab) -> Value {
    let mut specials = special_names(vocab.specials());
    specials.sort_by_key(|&(_, id)| id);
    Value::Array(
        specials
            .iter()
            .map(|&(name, id)| {
                json!({
                    "content": name,
                    "id": id,
                    "lstrip": false,
                    "normalized": false,
                    "rstrip": false,
                    "single_word": false,
                    "special": true
                })
            })
            .collect(),
    )
}

/// BERT framing: `[CLS] $A [SEP]` and `[CLS] $A [SEP] $B:1 [SEP]:1`.
fn bert_post_processor(vocab: &Vocab) -> Value {
    let s = vocab.specials();
    let special =
        |name: &str, type_id: u32| json!({"SpecialToken": {"id": name, "type_id": type_id}});
    let sequence = |id: &str, type_id: u32| json!({"Sequence": {"id": id, "type_id": type_id}});
    json!({
        "pair": [
            special("[CLS]", 0),
            sequence("A", 0),
            special("[SEP]", 0),
            sequence("B", 1),
            special("[SEP]", 1)
        ],
        "single": [special("[CLS]", 0), sequence("A", 0), special("[SEP]", 0)],
        "special_tokens": {
            "[CLS]": {"id": "[CLS]", "ids": [s.cls], "tokens": ["[CLS]"]},
            "[SEP]": {"id": "[SEP]", "ids": [s.sep], "tokens": ["[SEP]"]}
        },
        "type": "TemplateProcessing"
    })
}

/// `{token: id}` for every token, keys sorted.
fn vocab_map(vocab: &Vocab) -> Value {
    sorted_object(
        vocab
            .tokens()
            .iter()
            .enumerate()
            .map(|(id, t)| (t.clone(), json!(id)))
            .collect(),
    )
}

fn tokenizer_json(vocab: &Vocab, pre_tokenizer: Value, decoder: Value, model: Value) -> Value {
    json!({
        "added_tokens": added_tokens(vocab),
        "decoder": decoder,
        "model": model,
        "normalizer": null,
        "padding": null,
        "post_processor": bert_post_processor(vocab),
        "pre_tokenizer": pre_tokenizer,
        "truncation": null,
        "version": FORMAT_VERSION
    })
}

/// A complete `tokenizer.json` for a BPE vocabulary and its merges in rank
/// order, loadable by Python `tokenizers` and the Rust `tokenizers` crate.
///
/// No normalizer and no pre-tokenizer: a whole A/C/G/T run is one word, as in
/// dnalm's own BPE. Encoding with special tokens frames the ids as
/// `[CLS] ... [SEP]`; the `Fuse` decoder joins tokens back into one sequence.
pub fn bpe_tokenizer_json(vocab: &Vocab, merges: &[(String, String)]) -> Value {
    let merges: Vec<Value> = merges.iter().map(|(a, b)| json!([a, b])).collect();
    let model = json!({
        "byte_fallback": false,
        "continuing_subword_prefix": null,
        "dropout": null,
        "end_of_word_suffix": null,
        "fuse_unk": false,
        "ignore_merges": false,
        "merges": merges,
        "type": "BPE",
        "unk_token": "[UNK]",
        "vocab": vocab_map(vocab)
    });
    tokenizer_json(vocab, Value::Null, json!({"type": "Fuse"}), model)
}

/// A `tokenizer.json` with a WordLevel model, for k-mer vocabularies.
///
/// Overlapping k-mers cannot be expressed as a `tokenizer.json` pipeline (no
/// pre-tokenizer emits overlapping pieces), so, exactly as DNABERT did, the
/// input must already be k-merized: k-mers separated by spaces
/// (`"ATG TGG GGC"`). The `WhitespaceSplit` pre-tokenizer cuts that text and
/// each k-mer maps to its id; decoding gives the space-separated k-mers back.
pub fn wordlevel_tokenizer_json(vocab: &Vocab) -> Value {
    let model = json!({
        "type": "WordLevel",
        "unk_token": "[UNK]",
        "vocab": vocab_map(vocab)
    });
    tokenizer_json(
        vocab,
        json!({"type": "WhitespaceSplit"}),
        Value::Null,
        model,
    )
}

/// A `tokenizer_config.json` for `transformers.PreTrainedTokenizerFast`:
/// the special token strings, no lower-casing, the maximum input length, and
/// the dnalm tokenizer kind (`kmer`, `bpe`, ...) under `dnalm_tokenizer_kind`.
pub fn tokenizer_config_json(vocab: &Vocab, model_max_length: usize, kind: &str) -> Value {
    let decoder = sorted_object(
        special_names(vocab.specials())
            .iter()
            .map(|&(name, id)| {
                (
                    id.to_string(),
                    json!({
                        "content": name,
                        "lstrip": false,
                        "normalized": false,
                        "rstrip": false,
                        "single_word": false,
                        "special": true
                    }),
                )
            })
            .collect(),
    );
    json!({
        "added_tokens_decoder": decoder,
        "clean_up_tokenization_spaces": false,
        "cls_token": "[CLS]",
        "dnalm_tokenizer_kind": kind,
        "do_lower_case": false,
        "mask_token": "[MASK]",
        "model_input_names": ["input_ids", "token_type_ids", "attention_mask"],
        "model_max_length": model_max_length,
        "pad_token": "[PAD]",
        "sep_token": "[SEP]",
        "tokenizer_class": "PreTrainedTokenizerFast",
        "unk_token": "[UNK]"
    })
}

/// A BERT `vocab.txt`: one token per line, line number (from 0) = id.
pub fn vocab_txt(vocab: &Vocab) -> String {
    let mut out = String::with_capacity(vocab.len() * 8);
    for t in vocab.tokens() {
        out.push_str(t);
        out.push('\n');
    }
    out
}

/// Specials of `tokens`, found by name wherever they are.
fn find_specials(tokens: &[String], path: &Path, where_: &str) -> Result<Specials> {
    let mut ids = [0u32; 5];
    for (slot, name) in ids.iter_mut().zip(SPECIAL_TOKENS) {
        *slot = tokens.iter().position(|t| t == name).ok_or_else(|| {
            TokError::file(
                path,
                format!("special token {name} is missing from {where_}"),
            )
        })? as u32;
    }
    Ok(Specials {
        pad: ids[0],
        unk: ids[1],
        cls: ids[2],
        sep: ids[3],
        mask: ids[4],
    })
}

fn build_vocab(tokens: Vec<String>, path: &Path, where_: &str) -> Result<Vocab> {
    let specials = find_specials(&tokens, path, where_)?;
    Vocab::from_tokens(tokens, specials).map_err(|e| TokError::file(path, e.to_string()))
}

/// Read a BERT `vocab.txt` (one token per line, line number = id; `\n` or
/// `\r\n`). The specials may be anywhere; a missing special, an empty line or
/// a duplicate token is an error naming the path and line.
pub fn parse_vocab_txt(text: &str, path: &Path) -> Result<Vocab> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut tokens: Vec<String> = Vec::new();
    let mut seen = rustc_hash::FxHashMap::default();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.is_empty() {
            return Err(TokError::file(path, format!("line {line_no}: empty token")));
        }
        if let Some(first) = seen.insert(line, line_no) {
            return Err(TokError::file(
                path,
                format!("line {line_no}: token {line:?} already appears on line {first}"),
            ));
        }
        tokens.push(line.to_string());
    }
    build_vocab(tokens, path, "the vocabulary")
}

/// A model read from a `tokenizer.json`.
#[derive(Debug, Clone)]
pub enum HfModel {
    /// Byte-pair encoding: the vocabulary and the merges in rank order.
    Bpe {
        vocab: Vocab,
        merges: Vec<(String, String)>,
    },
    /// One id per whole word (k-mer vocabularies).
    WordLevel { vocab: Vocab },
}

impl HfModel {
    /// The vocabulary, whatever the model type.
    pub fn vocab(&self) -> &Vocab {
        match self {
            HfModel::Bpe { vocab, .. } | HfModel::WordLevel { vocab } => vocab,
        }
    }
}

fn type_of(v: &Value) -> Option<&str> {
    v.get("type").and_then(Value::as_str)
}

/// Normalizers that leave upper-case A/C/G/T text as it is.
fn check_normalizer(v: &Value, path: &Path) -> Result<()> {
    if v.is_null() {
        return Ok(());
    }
    let unsupported = |what: &str| {
        TokError::file(
            path,
            format!(
                "normalizer {what} is not supported: dnalm reads tokenizers whose normalizer leaves upper-case A/C/G/T unchanged (null, NFC/NFD/NFKC/NFKD, Strip, StripAccents, BertNormalizer without lowercase)"
            ),
        )
    };
    match type_of(v) {
        Some("NFC" | "NFD" | "NFKC" | "NFKD" | "Strip" | "StripAccents") => Ok(()),
        Some("BertNormalizer") => match v.get("lowercase").and_then(Value::as_bool) {
            Some(false) => Ok(()),
            _ => Err(unsupported("BertNormalizer with lowercase")),
        },
        Some("Sequence") => match v.get("normalizers").and_then(Value::as_array) {
            Some(list) => list.iter().try_for_each(|n| check_normalizer(n, path)),
            None => Err(unsupported("Sequence without a \"normalizers\" list")),
        },
        Some(other) => Err(unsupported(other)),
        None => Err(unsupported("without a \"type\"")),
    }
}

/// Pre-tokenizers that do not cut inside an A/C/G/T run.
fn check_pre_tokenizer(v: &Value, path: &Path) -> Result<()> {
    if v.is_null() {
        return Ok(());
    }
    let unsupported = |what: &str| {
        TokError::file(
            path,
            format!(
                "pre_tokenizer {what} is not supported: it could change how DNA is segmented (dnalm accepts null, WhitespaceSplit, Whitespace)"
            ),
        )
    };
    match type_of(v) {
        Some("WhitespaceSplit" | "Whitespace") => Ok(()),
        Some("Sequence") => match v.get("pretokenizers").and_then(Value::as_array) {
            Some(list) => list.iter().try_for_each(|p| check_pre_tokenizer(p, path)),
            None => Err(unsupported("Sequence without a \"pretokenizers\" list")),
        },
        Some(other) => Err(unsupported(other)),
        None => Err(unsupported("without a \"type\"")),
    }
}

/// Tokens by id from a `{token: id}` map whose ids must be exactly 0..n.
fn tokens_from_map(v: Option<&Value>, path: &Path) -> Result<Vec<String>> {
    let map = v
        .and_then(Value::as_object)
        .ok_or_else(|| TokError::file(path, "model has no \"vocab\" object"))?;
    let n = map.len();
    let mut slots: Vec<Option<&str>> = vec![None; n];
    for (token, id) in map {
        let id = id.as_u64().ok_or_else(|| {
            TokError::file(
                path,
                format!("vocab: id of token {token:?} is not a non-negative integer"),
            )
        })?;
        let slot = usize::try_from(id)
            .ok()
            .and_then(|i| slots.get_mut(i))
            .ok_or_else(|| {
                TokError::file(
                    path,
                    format!(
                        "vocab: ids must be 0..{n} without gaps, but token {token:?} has id {id}"
                    ),
                )
            })?;
        if let Some(other) = slot.replace(token) {
            return Err(TokError::file(
                path,
                format!("vocab: id {id} is given to both {other:?} and {token:?}"),
            ));
        }
    }
    // n tokens with distinct ids below n fill every slot.
    Ok(slots.into_iter().flatten().map(str::to_string).collect())
}

/// Append `added_tokens` entries that the model vocab lacks; they must
/// continue its ids without gaps. Entries already in the vocab must agree.
fn merge_added_tokens(tokens: &mut Vec<String>, added: Option<&Value>, path: &Path) -> Result<()> {
    let list = match added {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(TokError::file(path, "\"added_tokens\" is not a list")),
    };
    let mut entries = Vec::with_capacity(list.len());
    for (i, entry) in list.iter().enumerate() {
        let id = entry.get("id").and_then(Value::as_u64);
        let content = entry.get("content").and_then(Value::as_str);
        match (id, content) {
            (Some(id), Some(content)) => entries.push((id, content)),
            _ => {
                return Err(TokError::file(
                    path,
                    format!("added_tokens[{i}] needs an integer \"id\" and a string \"content\""),
                ))
            }
        }
    }
    entries.sort_by_key(|&(id, _)| id);
    for (id, content) in entries {
        match tokens.get(id as usize) {
            Some(t) if t == content => {}
            Some(t) => {
                return Err(TokError::file(
                    path,
                    format!("added token {content:?} has id {id}, which the model vocab gives to {t:?}"),
                ))
            }
            None if id as usize == tokens.len() => tokens.push(content.to_string()),
            None => {
                return Err(TokError::file(
                    path,
                    format!(
                        "added token {content:?} has id {id}, but ids must continue the vocab without gaps (next id is {})",
                        tokens.len()
                    ),
                ))
            }
        }
    }
    Ok(())
}

fn parse_merges(v: Option<&Value>, vocab: &Vocab, path: &Path) -> Result<Vec<(String, String)>> {
    let list = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(TokError::file(path, "model \"merges\" is not a list")),
    };
    let mut merges = Vec::with_capacity(list.len());
    for (i, m) in list.iter().enumerate() {
        let pair = match m {
            Value::String(s) => {
                let mut parts = s.split(' ');
                match (parts.next(), parts.next(), parts.next()) {
                    (Some(a), Some(b), None) => Some((a, b)),
                    _ => None,
                }
            }
            Value::Array(ab) => match ab.as_slice() {
                [Value::String(a), Value::String(b)] => Some((a.as_str(), b.as_str())),
                _ => None,
            },
            _ => None,
        };
        let (a, b) = pair
            .filter(|(a, b)| !a.is_empty() && !b.is_empty())
            .ok_or_else(|| {
                TokError::file(
                    path,
                    format!("merges[{i}]: expected \"A B\" or [\"A\", \"B\"], found {m}"),
                )
            })?;
        let merged = format!("{a}{b}");
        for part in [a, b, merged.as_str()] {
            if vocab.id(part).is_none() {
                return Err(TokError::file(
                    path,
                    format!("merges[{i}] ({a} + {b}): token {part:?} is not in the vocab"),
                ));
            }
        }
        merges.push((a.to_string(), b.to_string()));
    }
    Ok(merges)
}

/// Check BPE options that would make `tokenizers` cut DNA differently from
/// plain rank-ordered merges.
fn check_bpe_options(model: &Map<String, Value>, path: &Path) -> Result<()> {
    let unsupported =
        |what: String| TokError::file(path, format!("BPE model: {what} is not supported"));
    match model.get("dropout") {
        None | Some(Value::Null) => {}
        Some(d) if d.as_f64() == Some(0.0) => {}
        Some(d) => {
            return Err(unsupported(format!(
                "dropout {d} (encoding would be random)"
            )))
        }
    }
    for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
        match model.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.is_empty() => {}
            Some(v) => return Err(unsupported(format!("{key} {v}"))),
        }
    }
    if model.get("ignore_merges").and_then(Value::as_bool) == Some(true) {
        return Err(unsupported(
            "ignore_merges = true (whole words would bypass the merges)".to_string(),
        ));
    }
    Ok(())
}

/// Read a `tokenizer.json` with a BPE or WordLevel model.
///
/// Merges may be `"A T"` strings or `["A", "T"]` pairs; the model vocab must
/// use ids 0..n without gaps, `added_tokens` may extend it; the five specials
/// are found by name. Models other than BPE / WordLevel, normalizers that
/// could change the bases, and pre-tokenizers other than null /
/// WhitespaceSplit / Whitespace are rejected with [`TokError::File`], as is
/// malformed JSON (with serde's line and column).
pub fn parse_tokenizer_json(text: &str, path: &Path) -> Result<HfModel> {
    let root: Value = serde_json::from_str(text)
        .map_err(|e| TokError::file(path, format!("not valid JSON: {e}")))?;
    let root = root
        .as_object()
        .ok_or_else(|| TokError::file(path, "top level is not a JSON object"))?;
    check_normalizer(root.get("normalizer").unwrap_or(&Value::Null), path)?;
    check_pre_tokenizer(root.get("pre_tokenizer").unwrap_or(&Value::Null), path)?;
    let model = root
        .get("model")
        .and_then(Value::as_object)
        .ok_or_else(|| TokError::file(path, "no \"model\" object"))?;
    // Old files may omit the model type; `tokenizers` then guesses from the
    // fields, and only BPE has merges.
    let kind = match model.get("type") {
        Some(Value::String(t)) => t.as_str(),
        None if model.contains_key("merges") => "BPE",
        _ => {
            return Err(TokError::file(
                path,
                "model has no \"type\" (dnalm reads BPE and WordLevel models)",
            ))
        }
    };
    if kind != "BPE" && kind != "WordLevel" {
        return Err(TokError::file(
            path,
            format!("model type {kind} is not supported (dnalm reads BPE and WordLevel models)"),
        ));
    }
    let mut tokens = tokens_from_map(model.get("vocab"), path)?;
    merge_added_tokens(&mut tokens, root.get("added_tokens"), path)?;
    let vocab = build_vocab(tokens, path, "the model vocab and added_tokens")?;
    if kind == "WordLevel" {
        return Ok(HfModel::WordLevel { vocab });
    }
    check_bpe_options(model, path)?;
    let merges = parse_merges(model.get("merges"), &vocab, path)?;
    Ok(HfModel::Bpe { vocab, merges })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> (Vocab, Vec<(String, String)>) {
        let vocab = Vocab::with_specials(["A", "C", "G", "T", "AT"]).unwrap();
        (vocab, vec![("A".to_string(), "T".to_string())])
    }

    #[test]
    fn golden_bpe_tokenizer_json() {
        let (vocab, merges) = tiny();
        let got = serde_json::to_string(&bpe_tokenizer_json(&vocab, &merges)).unwrap();
        let want = concat!(
            r#"{"added_tokens":["#,
            r#"{"content":"[PAD]","id":0,"lstrip":false,"normalized":false,"rstrip":false,"single_word":false,"special":true},"#,
            r#"{"content":"[UNK]","id":1,"lstrip":false,"normalized":false,"rstrip":false,"single_word":false,"special":true},"#,
            r#"{"content":"[CLS]","id":2,"lstrip":false,"normalized":false,"rstrip":false,"single_word":false,"special":true},"#,
            r#"{"content":"[SEP]","id":3,"lstrip":false,"normalized":false,"rstrip":false,"single_word":false,"special":true},"#,
            r#"{"content":"[MASK]","id":4,"lstrip":false,"normalized":false,"rstrip":false,"single_word":false,"special":true}],"#,
            r#""decoder":{"type":"Fuse"},"#,
            r#""model":{"byte_fallback":false,"continuing_subword_prefix":null,"dropout":null,"end_of_word_suffix":null,"#,
            r#""fuse_unk":false,"ignore_merges":false,"merges":[["A","T"]],"type":"BPE","unk_token":"[UNK]","#,
            r#""vocab":{"A":5,"AT":9,"C":6,"G":7,"T":8,"[CLS]":2,"[MASK]":4,"[PAD]":0,"[SEP]":3,"[UNK]":1}},"#,
            r#""normalizer":null,"padding":null,"#,
            r#""post_processor":{"pair":["#,
            r#"{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},"#,
            r#"{"SpecialToken":{"id":"[SEP]","type_id":0}},{"Sequence":{"id":"B","type_id":1}},"#,
            r#"{"SpecialToken":{"id":"[SEP]","type_id":1}}],"#,
            r#""single":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},"#,
            r#"{"SpecialToken":{"id":"[SEP]","type_id":0}}],"#,
            r#""special_tokens":{"[CLS]":{"id":"[CLS]","ids":[2],"tokens":["[CLS]"]},"#,
            r#""[SEP]":{"id":"[SEP]","ids":[3],"tokens":["[SEP]"]}},"type":"TemplateProcessing"},"#,
            r#""pre_tokenizer":null,"truncation":null,"version":"1.0"}"#
        );
        assert_eq!(got, want);
    }

    #[test]
    fn golden_wordlevel_and_config() {
        let vocab = Vocab::with_specials(["A", "C"]).unwrap();
        let wl = serde_json::to_string(&wordlevel_tokenizer_json(&vocab)).unwrap();
        assert!(wl.contains(
            r#""model":{"type":"WordLevel","unk_token":"[UNK]","vocab":{"A":5,"C":6,"[CLS]":2,"[MASK]":4,"[PAD]":0,"[SEP]":3,"[UNK]":1}}"#
        ), "{wl}");
        assert!(
            wl.contains(r#""decoder":null"#)
                && wl.contains(r#""pre_tokenizer":{"type":"WhitespaceSplit"}"#)
        );
        let cfg = serde_json::to_string(&tokenizer_config_json(&vocab, 512, "kmer")).unwrap();
        let want = concat!(
            r#"{"added_tokens_decoder":{"#,
            r#""0":{"content":"[PAD]","lstrip":false,"normalized":false,"rstrip":false,"single_word":false,"special":true},"#,
            r#""1":{"content":"[UNK]","lstrip":false,"normalized":false,"rstrip":false,"single_word":false,"special":true},"#,
            r#""2":{"content":"[CLS]","lstrip":false,"normalized":false,"rstrip":false,"single_word":false,"special":true},"#,
            r#""3":{"content":"[SEP]","lstrip":false,"normalized":false,"rstrip":false,"single_word":false,"special":true},"#,
            r#""4":{"content":"[MASK]","lstrip":false,"normalized":false,"rstrip":false,"single_word":false,"special":true}},"#,
            r#""clean_up_tokenization_spaces":false,"cls_token":"[CLS]","dnalm_tokenizer_kind":"kmer","#,
            r#""do_lower_case":false,"mask_token":"[MASK]","#,
            r#""model_input_names":["input_ids","token_type_ids","attention_mask"],"model_max_length":512,"#,
            r#""pad_token":"[PAD]","sep_token":"[SEP]","tokenizer_class":"PreTrainedTokenizerFast","unk_token":"[UNK]"}"#
        );
        assert_eq!(cfg, want);
    }

    #[test]
    fn vocab_txt_roundtrip_and_errors() {
        let (vocab, _) = tiny();
        let txt = vocab_txt(&vocab);
        assert_eq!(txt, "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nA\nC\nG\nT\nAT\n");
        let p = Path::new("v.txt");
        let back = parse_vocab_txt(&txt, p).unwrap();
        assert_eq!(back.tokens(), vocab.tokens());
        assert_eq!(back.specials(), Specials::DNALM);
        // Specials elsewhere, CRLF, no final newline.
        let moved =
            parse_vocab_txt("A\r\n[UNK]\r\n[PAD]\r\nC\r\n[MASK]\r\n[SEP]\r\n[CLS]", p).unwrap();
        assert_eq!(
            moved.specials(),
            Specials {
                pad: 2,
                unk: 1,
                cls: 6,
                sep: 5,
                mask: 4
            }
        );
        assert_eq!(moved.id("C"), Some(3));
        let err = parse_vocab_txt("[PAD]\n[UNK]\n[CLS]\n[SEP]\nA\n", p).unwrap_err();
        assert!(matches!(err, TokError::File { .. }));
        assert!(
            err.to_string().contains("[MASK]") && err.to_string().contains("v.txt"),
            "{err}"
        );
        let err = parse_vocab_txt("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nA\nC\nA\n", p).unwrap_err();
        assert!(
            err.to_string().contains("line 8") && err.to_string().contains("line 6"),
            "{err}"
        );
        let err = parse_vocab_txt("[PAD]\n\n[UNK]\n", p).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        assert!(parse_vocab_txt("", p).is_err());
    }

    #[test]
    fn parse_accepts_both_merge_forms_and_added_specials() {
        let p = Path::new("t.json");
        let text = r#"{"model":{"type":"BPE","vocab":{"A":0,"T":1,"AT":2},"merges":["A T"]},
            "added_tokens":[{"id":3,"content":"[PAD]"},{"id":4,"content":"[UNK]"},{"id":5,"content":"[CLS]"},
                            {"id":7,"content":"[MASK]"},{"id":6,"content":"[SEP]"}],
            "normalizer":{"type":"Sequence","normalizers":[{"type":"NFC"},{"type":"Strip","strip_left":true,"strip_right":true}]},
            "pre_tokenizer":{"type":"Whitespace"}}"#;
        match parse_tokenizer_json(text, p).unwrap() {
            HfModel::Bpe { vocab, merges } => {
                assert_eq!(vocab.len(), 8);
                assert_eq!(
                    vocab.specials(),
                    Specials {
                        pad: 3,
                        unk: 4,
                        cls: 5,
                        sep: 6,
                        mask: 7
                    }
                );
                assert_eq!(merges, vec![("A".to_string(), "T".to_string())]);
            }
            other => panic!("expected BPE, got {other:?}"),
        }
    }

    #[test]
    fn parse_rejects_what_it_cannot_honour() {
        let p = Path::new("bad.json");
        let base = |normalizer: &str, pre: &str, model: &str| {
            format!(
                r#"{{"normalizer":{normalizer},"pre_tokenizer":{pre},"model":{model},"added_tokens":[]}}"#
            )
        };
        let vocab = r#"{"[PAD]":0,"[UNK]":1,"[CLS]":2,"[SEP]":3,"[MASK]":4,"A":5,"T":6,"AT":7}"#;
        let bpe = format!(r#"{{"type":"BPE","vocab":{vocab},"merges":[["A","T"]]}}"#);
        assert!(parse_tokenizer_json(&base("null", "null", &bpe), p).is_ok());
        let cases: Vec<(String, &str)> = vec![
            (base(r#"{"type":"Lowercase"}"#, "null", &bpe), "Lowercase"),
            (
                base(
                    r#"{"type":"BertNormalizer","lowercase":true}"#,
                    "null",
                    &bpe,
                ),
                "BertNormalizer",
            ),
            (base("null", r#"{"type":"ByteLevel"}"#, &bpe), "ByteLevel"),
            (
                base(
                    "null",
                    r#"{"type":"Sequence","pretokenizers":[{"type":"Whitespace"},{"type":"Digits"}]}"#,
                    &bpe,
                ),
                "Digits",
            ),
            (
                base(
                    "null",
                    "null",
                    &format!(r#"{{"type":"Unigram","vocab":{vocab}}}"#),
                ),
                "Unigram",
            ),
            (
                base(
                    "null",
                    "null",
                    &format!(r#"{{"type":"BPE","vocab":{vocab},"merges":["A T"],"dropout":0.1}}"#),
                ),
                "dropout",
            ),
            (
                base(
                    "null",
                    "null",
                    &format!(
                        r#"{{"type":"BPE","vocab":{vocab},"merges":["A T"],"continuing_subword_prefix":"_"}}"#
                    ),
                ),
                "continuing_subword_prefix",
            ),
            (
                base(
                    "null",
                    "null",
                    &format!(
                        r#"{{"type":"BPE","vocab":{vocab},"merges":["A T"],"ignore_merges":true}}"#
                    ),
                ),
                "ignore_merges",
            ),
            (
                base(
                    "null",
                    "null",
                    &format!(r#"{{"type":"BPE","vocab":{vocab},"merges":["A G"]}}"#),
                ),
                "\"G\"",
            ),
            (
                base(
                    "null",
                    "null",
                    &format!(r#"{{"type":"BPE","vocab":{vocab},"merges":["A T C"]}}"#),
                ),
                "merges[0]",
            ),
            (
                base(
                    "null",
                    "null",
                    &format!(r#"{{"type":"BPE","vocab":{vocab},"merges":[["A"]]}}"#),
                ),
                "merges[0]",
            ),
            (
                base(
                    "null",
                    "null",
                    r#"{"type":"WordLevel","vocab":{"[PAD]":0,"[UNK]":1,"[CLS]":2,"[SEP]":3}}"#,
                ),
                "[MASK]",
            ),
            (
                base(
                    "null",
                    "null",
                    r#"{"type":"WordLevel","vocab":{"[PAD]":0,"[UNK]":1,"[CLS]":2,"[SEP]":3,"[MASK]":9}}"#,
                ),
                "without gaps",
            ),
            (
                base(
                    "null",
                    "null",
                    r#"{"type":"WordLevel","vocab":{"[PAD]":0,"[UNK]":1,"[CLS]":2,"[SEP]":3,"[MASK]":-4}}"#,
                ),
                "non-negative",
            ),
            (
                base("null", "null", r#"{"type":"WordLevel","vocab":[]}"#),
                "vocab",
            ),
            ("[1, 2]".to_string(), "object"),
            (
                r#"{"model": {"type": "BPE", "vocab": "#.to_string(),
                "line 1 column",
            ),
        ];
        for (text, needle) in cases {
            let err = parse_tokenizer_json(&text, p).unwrap_err();
            assert!(matches!(err, TokError::File { .. }), "{err}");
            let msg = err.to_string();
            assert!(
                msg.contains(needle) && msg.contains("bad.json"),
                "{needle:?} not in {msg}"
            );
        }
    }
}
