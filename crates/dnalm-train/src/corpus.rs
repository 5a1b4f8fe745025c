//! Token corpora on disk: tokenize once, memory-map for every run.
//!
//! Tokenizing 400,000 sequences costs seconds to minutes; doing it once and
//! mapping the result (nanoGPT's `train.bin` habit) makes every later run,
//! resume and evaluation start at once and read only the pages it touches.
//!
//! [`TokenCorpusBuilder`] reads a sequence file (one A/C/G/T sequence per
//! line, as `dnalm corpus` writes it, or its `--format tsv` table with the
//! header `record\tstart\tend\tsequence`; gzip detected from magic bytes),
//! encodes in parallel with any [`Tokenizer`] and writes the binary file
//! plus a JSON sidecar (`<file>.json`, [`CorpusMeta`]). [`TokenCorpus::open`]
//! maps and validates it.
//!
//! Input rules:
//! - Lower-case a/c/g/t are upper-cased (soft-masked bases are bases); any
//!   other byte (N, IUPAC, spaces) is an error naming file, line and column:
//!   `dnalm corpus` already splits at N, so such a byte means a wrong file.
//! - Empty lines (and lines that encode to no token) are skipped and
//!   counted (`empty_lines`): an empty sequence has nothing to mask, and a
//!   trailing blank line is a common accident.
//! - A line the tokenizer rejects (for example shorter than k for
//!   overlapping k-mers) is an error naming file and line.
//! - No special tokens are stored; the collator frames rows.
//! - Hybrid tokenizers: each line is cut into the tokenizer's segments
//!   (`segment_len` bases) and every segment is stored as its own sequence,
//!   so each stored sequence is exactly "k-mers, then BPE" and its first-part
//!   length (`len - k + 1` k-mers, 0 when shorter than k) is exact. The
//!   model sees one segment per row, as the publication trains.
//!
//! # File layout (version 1; integers little-endian)
//!
//! | offset | bytes | field |
//! |---|---|---|
//! | 0 | 8 | magic `DNALMTOK` |
//! | 8 | 4 | format version, u32 = 1 |
//! | 12 | 4 | id width in bytes: 2 (u16) when vocab size <= 65,536, else 4 (u32) |
//! | 16 | 8 | vocabulary size, u64 |
//! | 24 | 8 | number of sequences `n`, u64 |
//! | 32 | 8 | number of tokens `t`, u64 |
//! | 40 | 4 | flags, u32: bit 0 = first-part lengths present (hybrid) |
//! | 44 | 4 | hybrid k, u32 (0 otherwise) |
//! | 48 | 4 | hybrid segment length in bases, u32 (0 otherwise) |
//! | 52 | 4 | reserved, 0 |
//! | 56 | 16 | tokenizer kind, ASCII, NUL-padded |
//! | 72 | 8 | reserved, 0 |
//! | 80 | 8(n+1) | offsets, u64, in tokens: sequence i is ids `offsets[i]..offsets[i+1]` |
//! | after | 4n + pad | if flag bit 0: first-part lengths, u32 per sequence, zero-padded to a multiple of 8 bytes |
//! | after | width x t | token ids |
//!
//! The file ends right after the ids. In numpy, with `ids_offset` from the
//! sidecar: `np.memmap(p, np.uint16, mode="r", offset=ids_offset)`.
//!
//! ```
//! use dnalm_tokenizers::{KmerOrder, KmerTokenizer};
//! use dnalm_train::corpus::{TokenCorpus, TokenCorpusBuilder};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let out = dir.path().join("train.tok");
//! let tok = KmerTokenizer::new(3, KmerOrder::Lexicographic).unwrap();
//! let mut writer = TokenCorpusBuilder::new(&tok).build().unwrap();
//! let meta = writer
//!     .write_reader(&b"ACGTA\n\nacgt\n"[..], "mem.txt".as_ref(), &out)
//!     .unwrap();
//! assert_eq!((meta.n_sequences, meta.n_tokens, meta.empty_lines), (2, 5, 1));
//! let corpus = TokenCorpus::open(&out).unwrap();
//! assert_eq!(corpus.get(1).unwrap(), corpus.get(0).unwrap()[..2]);
//! ```

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use dnalm_tokenizers::Vocab;
use memmap2::Mmap;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};

mod line;
mod writer;

pub use writer::{InputFormat, Progress, TokenCorpusBuilder, TokenCorpusWriter};

pub const MAGIC: [u8; 8] = *b"DNALMTOK";
pub const FORMAT_VERSION: u32 = 1;
pub(crate) const HEADER_LEN: u64 = 80;
pub(crate) const FLAG_FIRST_PART: u32 = 1;

/// How the hybrid tokenizer lays out a segment: `segment_len` bases give
/// `segment_len - k + 1` k-mers, then BPE tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HybridLayout {
    pub k: usize,
    pub segment_len: usize,
}

/// The JSON sidecar: what the binary holds, for people and other tools.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorpusMeta {
    pub dnalm_corpus: u32,
    pub tokenizer_kind: String,
    pub vocab_size: u64,
    /// FNV-1a 64 of the vocabulary ([`vocab_fingerprint`]): a run can check
    /// that its tokenizer is the one that wrote the corpus.
    pub vocab_fingerprint: String,
    pub id_width: u32,
    /// Byte offset of the ids in the binary (for numpy's `memmap`).
    pub ids_offset: u64,
    pub n_sequences: u64,
    pub n_tokens: u64,
    pub min_len: u64,
    pub max_len: u64,
    pub mean_len: f64,
    /// Present for hybrid corpora, whose binary stores first-part lengths.
    pub hybrid: Option<HybridLayout>,
    pub source: String,
    pub lines: u64,
    pub empty_lines: u64,
}

/// The sidecar of a corpus file: `<path>.json`.
pub fn sidecar_path(corpus: &Path) -> PathBuf {
    let mut s = corpus.as_os_str().to_owned();
    s.push(".json");
    PathBuf::from(s)
}

/// Read the sidecar of `corpus`.
pub fn read_sidecar(corpus: &Path) -> Result<CorpusMeta> {
    let p = sidecar_path(corpus);
    let text = std::fs::read_to_string(&p).map_err(|e| TrainError::io(&p, e))?;
    serde_json::from_str(&text).map_err(|source| TrainError::Json { path: p, source })
}

/// FNV-1a 64 over the tokens, each followed by `\n`, as 16 hex digits.
/// Stable across builds and platforms (unlike `std`'s hashers).
pub fn vocab_fingerprint(vocab: &Vocab) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for t in vocab.tokens() {
        for &b in t.as_bytes().iter().chain(b"\n") {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// A memory-mapped, validated token corpus. Cheap to share across threads.
#[derive(Debug)]
pub struct TokenCorpus {
    path: PathBuf,
    map: Mmap,
    width: usize,
    vocab_size: u64,
    n: usize,
    n_tokens: u64,
    kind: String,
    hybrid: Option<HybridLayout>,
    firsts_at: Option<usize>,
    ids_at: usize,
    max_len: usize,
}

/// The one `unsafe` call of the crate.
#[allow(unsafe_code)]
fn map_read_only(file: &File, path: &Path) -> Result<Mmap> {
    // SAFETY: memmap2 requires that the file not be modified while mapped.
    // The file is opened read-only and a corpus is an immutable artefact this
    // module writes once (temp file + rename, so a rewrite replaces the
    // inode rather than changing it). Truncating or editing a corpus in place
    // while a run has it mapped is undefined behaviour (SIGBUS or changed
    // ids) and is documented as not allowed.
    unsafe { Mmap::map(file) }.map_err(|e| TrainError::io(path, e))
}

/// The error for a file shorter than the header: not a corpus at all, or
/// a truncated one.
fn short_file(file: &mut File, len: u64, path: &Path) -> TrainError {
    let mut head = Vec::new();
    if let Err(e) = file.read_to_end(&mut head) {
        return TrainError::io(path, e);
    }
    if !MAGIC.starts_with(&head[..head.len().min(8)]) || head.is_empty() {
        return TrainError::corpus(path, "wrong magic (not a dnalm token corpus)");
    }
    TrainError::corpus(
        path,
        format!("truncated: {len} bytes, the header alone is {HEADER_LEN}"),
    )
}

/// The checked fields of a corpus header.
struct Header {
    width: u32,
    vocab_size: u64,
    n: u64,
    n_tokens: u64,
    hybrid: Option<HybridLayout>,
    kind: String,
}

impl Header {
    fn read(map: &[u8], path: &Path) -> Result<Header> {
        let bad = |msg: String| TrainError::corpus(path, msg);
        let u32_at = |o: usize| le_u32(map, o);
        let u64_at = |o: usize| le_u64(map, o);
        if map[..8] != MAGIC {
            return Err(bad("wrong magic (not a dnalm token corpus)".into()));
        }
        let version = u32_at(8);
        if version != FORMAT_VERSION {
            return Err(bad(format!(
                "format version {version} is not supported (this build reads {FORMAT_VERSION})"
            )));
        }
        let width = u32_at(12);
        let vocab_size = u64_at(16);
        let (n, n_tokens, flags) = (u64_at(24), u64_at(32), u32_at(40));
        let want_width = if vocab_size <= 1 << 16 { 2 } else { 4 };
        if vocab_size == 0 || vocab_size > u64::from(u32::MAX) + 1 || width != want_width {
            return Err(bad(format!(
                "id width {width} does not fit vocabulary size {vocab_size}"
            )));
        }
        if flags & !FLAG_FIRST_PART != 0 {
            return Err(bad(format!("unknown flags 0x{flags:x}")));
        }
        let hybrid = (flags & FLAG_FIRST_PART != 0).then(|| HybridLayout {
            k: u32_at(44) as usize,
            segment_len: u32_at(48) as usize,
        });
        if let Some(h) = hybrid.filter(|h| h.k == 0 || h.segment_len < h.k) {
            return Err(bad(format!(
                "invalid hybrid layout: k = {}, segment length {}",
                h.k, h.segment_len
            )));
        }
        let kind_raw = &map[56..72];
        let kind_len = kind_raw.iter().position(|&b| b == 0).unwrap_or(16);
        let kind = std::str::from_utf8(&kind_raw[..kind_len])
            .ok()
            .filter(|k| k.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or_else(|| bad("tokenizer kind is not ASCII".into()))?
            .to_string();
        Ok(Header {
            width,
            vocab_size,
            n,
            n_tokens,
            hybrid,
            kind,
        })
    }

    /// Bytes of the offsets and first-part sections, once the sections add
    /// up to the file's `len` (overflow counts as too large for the file).
    fn section_sizes(&self, len: u64, path: &Path) -> Result<(u64, u64)> {
        let bad = |msg: String| TrainError::corpus(path, msg);
        let (n64, n_tokens) = (self.n, self.n_tokens);
        let too_big = || {
            bad(format!("header counts ({n64} sequences, {n_tokens} tokens) do not fit the file ({len} bytes)"))
        };
        let offsets_len = n64
            .checked_add(1)
            .and_then(|x| x.checked_mul(8))
            .ok_or_else(too_big)?;
        let firsts_len = if self.hybrid.is_some() {
            n64.checked_mul(4)
                .map(|x| x.div_ceil(8) * 8)
                .ok_or_else(too_big)?
        } else {
            0
        };
        let ids_len = n_tokens
            .checked_mul(u64::from(self.width))
            .ok_or_else(too_big)?;
        let expected = [offsets_len, firsts_len, ids_len]
            .iter()
            .try_fold(HEADER_LEN, |a, &b| a.checked_add(b))
            .ok_or_else(too_big)?;
        if expected != len {
            return Err(bad(if len < expected {
                format!("truncated: {len} bytes, the header describes {expected}")
            } else {
                format!("{} bytes of trailing data after the ids", len - expected)
            }));
        }
        Ok((offsets_len, firsts_len))
    }
}

impl TokenCorpus {
    /// Map `path` and check everything a later read relies on: magic,
    /// version, sizes, offsets, first-part lengths and every id < vocab
    /// size. After this, reads cannot fail except on a bad index.
    pub fn open(path: &Path) -> Result<TokenCorpus> {
        let bad = |msg: String| TrainError::corpus(path, msg);
        let mut file = File::open(path).map_err(|e| TrainError::io(path, e))?;
        let len = file.metadata().map_err(|e| TrainError::io(path, e))?.len();
        if len < HEADER_LEN {
            return Err(short_file(&mut file, len, path));
        }
        let map = map_read_only(&file, path)?;
        let h = Header::read(&map, path)?;
        let (offsets_len, firsts_len) = h.section_sizes(len, path)?;
        // The file length matched, so every count now fits in usize.
        let n = h.n as usize;
        let firsts_at = h.hybrid.map(|_| (HEADER_LEN + offsets_len) as usize);
        let ids_at = (HEADER_LEN + offsets_len + firsts_len) as usize;

        let mut corpus = TokenCorpus {
            path: path.to_path_buf(),
            map,
            width: h.width as usize,
            vocab_size: h.vocab_size,
            n,
            n_tokens: h.n_tokens,
            kind: h.kind,
            hybrid: h.hybrid,
            firsts_at,
            ids_at,
            max_len: 0,
        };
        corpus.max_len = corpus.check_offsets().map_err(bad)?;
        corpus.check_firsts().map_err(bad)?;
        corpus.check_ids()?;
        Ok(corpus)
    }

    /// Offsets start at 0, never decrease and end at the token count;
    /// returns the longest sequence.
    fn check_offsets(&self) -> std::result::Result<usize, String> {
        let (n, n_tokens) = (self.n, self.n_tokens);
        let mut max_len = 0;
        let mut prev = self.offset(0);
        if prev != 0 {
            return Err(format!("offsets[0] is {prev}, not 0"));
        }
        for i in 1..=n {
            let o = self.offset(i);
            if o < prev || o > n_tokens {
                return Err(format!(
                    "offsets out of range at sequence {}: {prev} then {o} ({n_tokens} tokens)",
                    i - 1
                ));
            }
            max_len = max_len.max((o - prev) as usize);
            prev = o;
        }
        if prev != n_tokens {
            return Err(format!(
                "the offsets end at {prev}, the header counts {n_tokens} tokens"
            ));
        }
        Ok(max_len)
    }

    /// Each first-part length fits its sequence (hybrid corpora only).
    fn check_firsts(&self) -> std::result::Result<(), String> {
        let Some(at) = self.firsts_at else {
            return Ok(());
        };
        for i in 0..self.n {
            let f = u64::from(le_u32(&self.map, at + 4 * i));
            let seq_len = self.offset(i + 1) - self.offset(i);
            if f > seq_len {
                return Err(format!(
                    "sequence {i}: first-part length {f} exceeds its {seq_len} tokens"
                ));
            }
        }
        Ok(())
    }

    /// Every id < vocab size, scanned in parallel; names the first bad one.
    fn check_ids(&self) -> Result<()> {
        if self.width == 2 && self.vocab_size >= 1 << 16 {
            return Ok(());
        }
        const CHUNK: usize = 1 << 20;
        let (w, v) = (self.width, self.vocab_size);
        let ids = &self.map[self.ids_at..];
        let bad = ids
            .par_chunks(CHUNK * w)
            .enumerate()
            .find_map_first(|(c, bytes)| {
                bytes
                    .chunks_exact(w)
                    .enumerate()
                    .find(|(_, b)| u64::from(decode_id(b, w)) >= v)
                    .map(|(p, b)| (c * CHUNK + p, decode_id(b, w)))
            });
        let Some((t, id)) = bad else { return Ok(()) };
        let t = t as u64;
        // The sequence holding token t: the first i with offsets[i + 1] > t.
        let (mut lo, mut hi) = (0, self.n);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.offset(mid + 1) <= t {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let seq = lo;
        Err(TrainError::TokenOutOfRange {
            path: self.path.clone(),
            sequence: seq as u64,
            position: t - self.offset(seq),
            id: u64::from(id),
            vocab_size: v,
        })
    }

    fn offset(&self, i: usize) -> u64 {
        le_u64(&self.map, HEADER_LEN as usize + 8 * i)
    }

    fn range(&self, i: usize) -> Result<(usize, usize)> {
        if i >= self.n {
            return Err(TrainError::SequenceIndex {
                index: i as u64,
                len: self.n as u64,
            });
        }
        Ok((self.offset(i) as usize, self.offset(i + 1) as usize))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
    /// Number of sequences.
    pub fn len(&self) -> usize {
        self.n
    }
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }
    pub fn n_tokens(&self) -> u64 {
        self.n_tokens
    }
    pub fn vocab_size(&self) -> usize {
        self.vocab_size as usize
    }
    /// Bytes per stored id (2 or 4).
    pub fn id_width(&self) -> usize {
        self.width
    }
    pub fn tokenizer_kind(&self) -> &str {
        &self.kind
    }
    pub fn hybrid_layout(&self) -> Option<HybridLayout> {
        self.hybrid
    }
    /// Tokens in the longest sequence.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Tokens in sequence `i`.
    pub fn seq_len(&self, i: usize) -> Result<usize> {
        self.range(i).map(|(a, b)| b - a)
    }

    /// The ids of sequence `i`, decoded from the map without copying.
    pub fn ids(&self, i: usize) -> Result<Ids<'_>> {
        let (a, b) = self.range(i)?;
        let w = self.width;
        Ok(Ids {
            bytes: &self.map[self.ids_at + a * w..self.ids_at + b * w],
            width: w,
        })
    }

    /// The ids of sequence `i`.
    pub fn get(&self, i: usize) -> Result<Vec<u32>> {
        Ok(self.ids(i)?.collect())
    }

    /// Replace `out` with the ids of sequence `i` (reuses its allocation).
    pub fn get_into(&self, i: usize, out: &mut Vec<u32>) -> Result<()> {
        let ids = self.ids(i)?;
        out.clear();
        out.extend(ids);
        Ok(())
    }

    /// Leading k-mer tokens of sequence `i` (hybrid corpora; 0 otherwise).
    pub fn first_part_len(&self, i: usize) -> Result<usize> {
        self.range(i)?;
        Ok(match self.firsts_at {
            Some(at) => le_u32(&self.map, at + 4 * i) as usize,
            None => 0,
        })
    }
}

/// Little-endian integers at byte `at`; callers have checked the bounds
/// (the file length matched the header before any table is read).
fn le_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn le_u64(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

/// One id from its `width` little-endian bytes (`b` holds exactly those).
fn decode_id(b: &[u8], width: usize) -> u32 {
    if width == 2 {
        u32::from(u16::from_le_bytes([b[0], b[1]]))
    } else {
        u32::from_le_bytes([b[0], b[1], b[2], b[3]])
    }
}

/// The ids of one sequence, decoded lazily from the map.
#[derive(Debug, Clone)]
pub struct Ids<'a> {
    bytes: &'a [u8],
    width: usize,
}

impl Iterator for Ids<'_> {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        if self.bytes.len() < self.width {
            return None;
        }
        let (head, rest) = self.bytes.split_at(self.width);
        self.bytes = rest;
        Some(decode_id(head, self.width))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.bytes.len() / self.width;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Ids<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use dnalm_tokenizers::{
        AnyTokenizer, BpeTrainer, HybridTokenizer, KmerOrder, KmerTokenizer, Tokenizer,
        VarKmerTokenizer,
    };
    use proptest::prelude::*;

    const LINES: &[u8] = b"ACGTACGT\nTTGCA\nGGGCCCAAAT\n";

    fn kmer3() -> KmerTokenizer {
        KmerTokenizer::new(3, KmerOrder::Lexicographic).unwrap()
    }

    fn write(tok: &dyn Tokenizer, input: &[u8], out: &Path) {
        TokenCorpusBuilder::new(tok)
            .build()
            .unwrap()
            .write_reader(input, Path::new("in.txt"), out)
            .unwrap();
    }

    /// Write a small corpus, let `edit` corrupt its bytes, and open the result.
    fn open_edited(edit: impl FnOnce(&mut Vec<u8>)) -> Result<TokenCorpus> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.tok");
        write(&kmer3(), LINES, &p);
        let mut bytes = std::fs::read(&p).unwrap();
        edit(&mut bytes);
        std::fs::write(&p, &bytes).unwrap();
        TokenCorpus::open(&p)
    }

    fn put_u64(b: &mut [u8], at: usize, v: u64) {
        b[at..at + 8].copy_from_slice(&v.to_le_bytes());
    }

    fn err(r: Result<TokenCorpus>) -> String {
        r.map(|_| ()).unwrap_err().to_string()
    }

    #[test]
    fn reads_back_what_was_written() {
        let c = open_edited(|_| {}).unwrap();
        assert_eq!(
            (c.len(), c.n_tokens(), c.vocab_size(), c.id_width()),
            (3, 17, 69, 2)
        );
        for (i, line) in LINES.split(|&b| b == b'\n').take(3).enumerate() {
            let want = kmer3().encode(line).unwrap();
            assert_eq!(c.get(i).unwrap(), want);
            assert_eq!(c.seq_len(i).unwrap(), want.len());
            assert_eq!(c.ids(i).unwrap().len(), want.len());
            let mut buf = vec![99];
            c.get_into(i, &mut buf).unwrap();
            assert_eq!(buf, want);
            assert_eq!(c.first_part_len(i).unwrap(), 0);
        }
        assert!(matches!(
            c.get(3),
            Err(TrainError::SequenceIndex { index: 3, len: 3 })
        ));
        assert!(c.first_part_len(3).is_err());
        assert_eq!(c.hybrid_layout(), None);
    }

    #[test]
    fn wide_vocabularies_use_u32_ids() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v.tok");
        let tok = VarKmerTokenizer::new(3, 8, 1).unwrap();
        assert!(tok.vocab().len() > 1 << 16);
        write(&tok, LINES, &p);
        let c = TokenCorpus::open(&p).unwrap();
        assert_eq!(c.id_width(), 4);
        assert_eq!(c.get(2).unwrap(), tok.encode(b"GGGCCCAAAT").unwrap());
        assert_eq!(read_sidecar(&p).unwrap().id_width, 4);
    }

    #[test]
    fn corrupt_files_are_clear_errors() {
        assert!(err(open_edited(|b| b[0] = b'X')).contains("wrong magic"));
        assert!(err(open_edited(|b| b.truncate(3))).contains("truncated"));
        let short_garbage = |b: &mut Vec<u8>| {
            b.truncate(3);
            b[0] = b'X';
        };
        assert!(err(open_edited(short_garbage)).contains("wrong magic"));
        assert!(err(open_edited(|b| b.truncate(8))).contains("truncated"));
        assert!(err(open_edited(|b| b.clear())).contains("wrong magic"));
        assert!(err(open_edited(|b| b[8] = 2)).contains("version 2"));
        assert!(err(open_edited(|b| b[12] = 4)).contains("id width 4"));
        assert!(err(open_edited(|b| b[40] = 6)).contains("unknown flags"));
        assert!(err(open_edited(|b| b[56] = 0x80)).contains("kind"));
        let e = err(open_edited(|b| {
            b.pop();
        }));
        assert!(e.contains("truncated"), "{e}");
        assert!(err(open_edited(|b| b.push(0))).contains("trailing"));
        for n in [u64::MAX, u64::MAX / 8, 1 << 40] {
            let e = err(open_edited(|b| put_u64(b, 24, n)));
            assert!(
                e.contains("do not fit") || e.contains("truncated"),
                "{n}: {e}"
            );
        }
        assert!(err(open_edited(|b| put_u64(b, 32, u64::MAX))).contains("do not fit"));
        // offsets[1] past the end, offsets going backwards, a non-zero start.
        assert!(err(open_edited(|b| put_u64(b, 88, 1000))).contains("offsets out of range"));
        assert!(err(open_edited(|b| put_u64(b, 96, 2))).contains("offsets out of range"));
        assert!(err(open_edited(|b| put_u64(b, 80, 1))).contains("offsets[0]"));
        // An id outside the vocabulary: sequence 1, token 2 is id 6 + 2 = 8.
        let at = 80 + 4 * 8 + 2 * 8;
        let e = open_edited(|b| b[at..at + 2].copy_from_slice(&69u16.to_le_bytes())).unwrap_err();
        assert!(
            matches!(
                e,
                TrainError::TokenOutOfRange {
                    sequence: 1,
                    position: 2,
                    id: 69,
                    vocab_size: 69,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn hybrid_first_parts_are_validated() {
        let bpe = BpeTrainer::new(20)
            .unwrap()
            .train(["ACGTACGTTTTTAAACCCGGGATATATCG"])
            .unwrap()
            .model;
        let tok = AnyTokenizer::Hybrid(Box::new(HybridTokenizer::new(bpe, 6, 10).unwrap()));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("h.tok");
        TokenCorpusBuilder::for_any(&tok)
            .build()
            .unwrap()
            .write_reader(&b"ACGTACGTTT\n"[..], Path::new("in.txt"), &p)
            .unwrap();
        let c = TokenCorpus::open(&p).unwrap();
        assert_eq!(c.first_part_len(0).unwrap(), 5);
        assert_eq!(
            c.hybrid_layout(),
            Some(HybridLayout {
                k: 6,
                segment_len: 10
            })
        );
        let mut bytes = std::fs::read(&p).unwrap();
        bytes[80 + 16] = 200; // first-part length of sequence 0
        std::fs::write(&p, &bytes).unwrap();
        assert!(err(TokenCorpus::open(&p)).contains("first-part length 200"));
        bytes[48] = 2; // segment length 2 < k
        std::fs::write(&p, &bytes).unwrap();
        assert!(err(TokenCorpus::open(&p)).contains("invalid hybrid layout"));
    }

    #[test]
    fn sidecar_path_appends_json() {
        assert_eq!(
            sidecar_path(Path::new("d/train.tok")),
            Path::new("d/train.tok.json")
        );
        assert!(read_sidecar(Path::new("/nonexistent/x.tok")).is_err());
        let v = kmer3();
        assert_eq!(vocab_fingerprint(v.vocab()), vocab_fingerprint(v.vocab()));
        let other = KmerTokenizer::new(3, KmerOrder::Dnabert).unwrap();
        assert_ne!(
            vocab_fingerprint(v.vocab()),
            vocab_fingerprint(other.vocab())
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn round_trip(seqs in proptest::collection::vec("[ACGT]{3,60}", 1..40)) {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("c.tok");
            let input: String = seqs.iter().map(|s| format!("{s}\n")).collect();
            write(&kmer3(), input.as_bytes(), &p);
            let c = TokenCorpus::open(&p).unwrap();
            prop_assert_eq!(c.len(), seqs.len());
            let mut total = 0;
            for (i, s) in seqs.iter().enumerate() {
                let want = kmer3().encode(s.as_bytes()).unwrap();
                total += want.len() as u64;
                prop_assert_eq!(c.get(i).unwrap(), want);
            }
            prop_assert_eq!(c.n_tokens(), total);
        }
    }
}
