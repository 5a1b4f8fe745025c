//! Writing token corpora: read lines, encode in parallel, write atomically.

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Seek, Write};
use std::path::Path;

use dnalm_tokenizers::{AnyTokenizer, Tokenizer};
use rayon::prelude::*;

use super::line::{encode_line, input_err, trim_eol, Encoded};
use super::{
    sidecar_path, vocab_fingerprint, CorpusMeta, HybridLayout, FLAG_FIRST_PART, FORMAT_VERSION,
    HEADER_LEN, MAGIC,
};
use crate::error::{Result, TrainError};

const TSV_HEADER: &[u8] = b"record\tstart\tend\tsequence";
/// A chunk is encoded in parallel once it holds this many bytes, whatever
/// the line count (keeps memory flat on chromosome-long lines).
const CHUNK_BYTES: usize = 32 << 20;

/// The shape of the input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputFormat {
    /// TSV when the first line is `record\tstart\tend\tsequence`, else lines.
    #[default]
    Auto,
    Lines,
    Tsv,
}

/// Cumulative counts, reported after each encoded chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    pub lines: u64,
    /// Bytes of (decompressed) input read.
    pub bytes: u64,
    pub sequences: u64,
    pub tokens: u64,
}

/// Settings for a [`TokenCorpusWriter`].
pub struct TokenCorpusBuilder<'a> {
    tokenizer: &'a dyn Tokenizer,
    hybrid: Option<HybridLayout>,
    format: InputFormat,
    chunk_lines: usize,
    progress: Option<Box<dyn FnMut(Progress) + 'a>>,
}

impl fmt::Debug for TokenCorpusBuilder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCorpusBuilder")
            .field("tokenizer", &self.tokenizer.kind())
            .field("hybrid", &self.hybrid)
            .field("format", &self.format)
            .field("chunk_lines", &self.chunk_lines)
            .finish_non_exhaustive()
    }
}

impl<'a> TokenCorpusBuilder<'a> {
    /// For a hybrid tokenizer behind `dyn`, also give
    /// [`hybrid_layout`](Self::hybrid_layout) (or use [`for_any`](Self::for_any)).
    pub fn new(tokenizer: &'a dyn Tokenizer) -> Self {
        TokenCorpusBuilder {
            tokenizer,
            hybrid: None,
            format: InputFormat::Auto,
            chunk_lines: 8192,
            progress: None,
        }
    }

    /// Like [`new`](Self::new), taking the hybrid layout from the tokenizer.
    pub fn for_any(tokenizer: &'a AnyTokenizer) -> Self {
        let hybrid = match tokenizer {
            AnyTokenizer::Hybrid(h) => Some(HybridLayout {
                k: h.k(),
                segment_len: h.segment_len(),
            }),
            _ => None,
        };
        TokenCorpusBuilder {
            hybrid,
            ..TokenCorpusBuilder::new(tokenizer)
        }
    }

    pub fn hybrid_layout(mut self, k: usize, segment_len: usize) -> Self {
        self.hybrid = Some(HybridLayout { k, segment_len });
        self
    }
    pub fn format(mut self, format: InputFormat) -> Self {
        self.format = format;
        self
    }
    /// Lines encoded per parallel chunk (default 8192).
    pub fn chunk_lines(mut self, n: usize) -> Self {
        self.chunk_lines = n;
        self
    }
    pub fn progress(mut self, f: impl FnMut(Progress) + 'a) -> Self {
        self.progress = Some(Box::new(f));
        self
    }

    pub fn build(self) -> Result<TokenCorpusWriter<'a>> {
        let kind = self.tokenizer.kind();
        match (kind == "hybrid", self.hybrid) {
            (true, None) => {
                return Err(TrainError::param(
                    "a hybrid tokenizer needs its layout (k, segment length): use for_any or hybrid_layout",
                ))
            }
            (false, Some(_)) => {
                return Err(TrainError::param(format!(
                    "a hybrid layout was given for a {kind} tokenizer"
                )))
            }
            (_, Some(h)) if h.k == 0 || h.segment_len < h.k || h.segment_len > u32::MAX as usize => {
                return Err(TrainError::param(format!(
                    "invalid hybrid layout: k = {}, segment length {}",
                    h.k, h.segment_len
                )))
            }
            _ => {}
        }
        if kind.len() > 16 {
            return Err(TrainError::param(format!(
                "tokenizer kind {kind:?} is over 16 bytes"
            )));
        }
        let vocab_size = self.tokenizer.vocab().len() as u64;
        if vocab_size == 0 || vocab_size > u64::from(u32::MAX) + 1 {
            return Err(TrainError::param(format!(
                "vocabulary size {vocab_size} cannot be stored as u32 ids"
            )));
        }
        if self.chunk_lines == 0 {
            return Err(TrainError::param("chunk lines must be at least 1"));
        }
        // Token lengths in bases, to check each hybrid segment's layout.
        let lens = match self.hybrid {
            Some(_) => self
                .tokenizer
                .vocab()
                .tokens()
                .iter()
                .map(|t| t.len())
                .collect(),
            None => Vec::new(),
        };
        Ok(TokenCorpusWriter { s: self, lens })
    }
}

/// Writes token corpora; see the module docs for the input rules.
#[derive(Debug)]
pub struct TokenCorpusWriter<'a> {
    s: TokenCorpusBuilder<'a>,
    /// Hybrid only: length in bases of each token (0 for specials).
    lens: Vec<usize>,
}

impl TokenCorpusWriter<'_> {
    /// Encode the sequence file `input` (plain or gzip) into `output`.
    pub fn write_file(&mut self, input: &Path, output: &Path) -> Result<CorpusMeta> {
        let file = File::open(input).map_err(|e| TrainError::io(input, e))?;
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let gz = reader
            .fill_buf()
            .map_err(|e| TrainError::io(input, e))?
            .starts_with(&[0x1f, 0x8b]);
        if gz {
            let dec = flate2::bufread::MultiGzDecoder::new(reader);
            self.write_reader(BufReader::with_capacity(1 << 20, dec), input, output)
        } else {
            self.write_reader(reader, input, output)
        }
    }

    /// Encode lines from `reader`; `source` names it in errors and the
    /// sidecar. The output appears only when complete (temp file + rename
    /// in the same directory).
    pub fn write_reader(
        &mut self,
        mut reader: impl BufRead,
        source: &Path,
        output: &Path,
    ) -> Result<CorpusMeta> {
        let dir = match output.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let vocab_size = self.s.tokenizer.vocab().len() as u64;
        let width: u32 = if vocab_size <= 1 << 16 { 2 } else { 4 };
        let spill_file = tempfile::tempfile_in(dir).map_err(|e| TrainError::io(dir, e))?;
        let mut stored = Stored::new(BufWriter::with_capacity(1 << 20, spill_file), width);
        let mut prog = Progress::default();
        let mut tsv = self.s.format == InputFormat::Tsv;
        let mut chunk: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut chunk_bytes = 0usize;
        let mut done = false;
        while !done {
            let mut line = Vec::new();
            let n = reader
                .read_until(b'\n', &mut line)
                .map_err(|e| TrainError::io(source, e))?;
            done = n == 0;
            if n > 0 {
                prog.lines += 1;
                prog.bytes += n as u64;
                if prog.lines == 1 && trim_eol(&line) == TSV_HEADER {
                    if self.s.format == InputFormat::Lines {
                        return Err(input_err(
                            source,
                            1,
                            None,
                            "a TSV header in a file read as plain lines",
                        ));
                    }
                    tsv = true;
                    continue;
                }
                chunk_bytes += line.len();
                chunk.push((prog.lines, line));
            }
            if chunk.is_empty()
                || !(done || chunk.len() >= self.s.chunk_lines || chunk_bytes >= CHUNK_BYTES)
            {
                continue;
            }
            let (tok, hybrid) = (self.s.tokenizer, self.s.hybrid.map(|h| (h, &self.lens[..])));
            let results: Vec<Result<Option<Encoded>>> = chunk
                .par_iter()
                .map(|(no, line)| encode_line(tok, hybrid, source, *no, line, tsv))
                .collect();
            stored.push(results, &mut prog, dir)?;
            chunk.clear();
            chunk_bytes = 0;
            if let Some(f) = self.s.progress.as_mut() {
                f(prog);
            }
        }
        self.finish(stored, &prog, source, output, dir)
    }

    /// Write the corpus file from what was stored, then its sidecar.
    fn finish(
        &self,
        stored: Stored,
        prog: &Progress,
        source: &Path,
        output: &Path,
        dir: &Path,
    ) -> Result<CorpusMeta> {
        if prog.sequences == 0 {
            return Err(input_err(
                source,
                prog.lines,
                None,
                format!(
                    "no sequences to store ({} lines, {} empty)",
                    prog.lines, stored.empty
                ),
            ));
        }
        let (width, vocab_size) = (stored.width, self.s.tokenizer.vocab().len() as u64);
        let hybrid = self.s.hybrid;
        let header = header_bytes(width, vocab_size, prog, hybrid, self.s.tokenizer.kind());
        let mut tmp = tempfile::Builder::new()
            .prefix(".dnalm-corpus-")
            .tempfile_in(dir)
            .map_err(|e| TrainError::io(dir, e))?;
        let (empty, min_len, max_len) = (stored.empty, stored.min_len, stored.max_len);
        stored.write_body(tmp.as_file_mut(), &header, hybrid.is_some(), output, dir)?;
        tmp.as_file()
            .sync_all()
            .map_err(|e| TrainError::io(output, e))?;

        let meta = CorpusMeta {
            dnalm_corpus: FORMAT_VERSION,
            tokenizer_kind: self.s.tokenizer.kind().to_string(),
            vocab_size,
            vocab_fingerprint: vocab_fingerprint(self.s.tokenizer.vocab()),
            id_width: width,
            ids_offset: HEADER_LEN
                + 8 * (prog.sequences + 1)
                + hybrid.map_or(0, |_| (4 * prog.sequences).div_ceil(8) * 8),
            n_sequences: prog.sequences,
            n_tokens: prog.tokens,
            min_len,
            max_len,
            mean_len: prog.tokens as f64 / prog.sequences as f64,
            hybrid,
            source: source.display().to_string(),
            lines: prog.lines,
            empty_lines: empty,
        };
        persist_with_sidecar(tmp, &meta, output, dir)?;
        Ok(meta)
    }
}

/// The sequences stored so far: ids spilled to a temporary file, with
/// their offsets, first-part lengths and length range.
struct Stored {
    spill: BufWriter<File>,
    width: u32,
    offsets: Vec<u64>,
    firsts: Vec<u32>,
    empty: u64,
    min_len: u64,
    max_len: u64,
    /// Scratch for one sequence's bytes.
    bytes_out: Vec<u8>,
}

impl Stored {
    fn new(spill: BufWriter<File>, width: u32) -> Self {
        Self {
            spill,
            width,
            offsets: vec![0],
            firsts: Vec::new(),
            empty: 0,
            min_len: u64::MAX,
            max_len: 0,
            bytes_out: Vec::new(),
        }
    }

    /// Store a chunk's encoded lines in order; the first error stops.
    fn push(
        &mut self,
        results: Vec<Result<Option<Encoded>>>,
        prog: &mut Progress,
        dir: &Path,
    ) -> Result<()> {
        for r in results {
            let Some(seqs) = r? else {
                self.empty += 1;
                continue;
            };
            for (ids, first) in seqs {
                let len = ids.len() as u64;
                self.bytes_out.clear();
                for &id in &ids {
                    if self.width == 2 {
                        self.bytes_out.extend_from_slice(&(id as u16).to_le_bytes());
                    } else {
                        self.bytes_out.extend_from_slice(&id.to_le_bytes());
                    }
                }
                self.spill
                    .write_all(&self.bytes_out)
                    .map_err(|e| TrainError::io(dir, e))?;
                prog.tokens += len;
                prog.sequences += 1;
                self.offsets.push(prog.tokens);
                self.firsts.push(first);
                self.min_len = self.min_len.min(len);
                self.max_len = self.max_len.max(len);
            }
        }
        Ok(())
    }

    /// Header, offsets, first-part lengths (hybrid, padded to 8 bytes),
    /// then the spilled ids.
    fn write_body(
        self,
        file: &mut File,
        header: &[u8],
        hybrid: bool,
        output: &Path,
        dir: &Path,
    ) -> Result<()> {
        let io_out = |e| TrainError::io(output, e);
        let mut spill = self
            .spill
            .into_inner()
            .map_err(|e| TrainError::io(dir, e.into_error()))?;
        spill.rewind().map_err(|e| TrainError::io(dir, e))?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        w.write_all(header).map_err(io_out)?;
        for o in &self.offsets {
            w.write_all(&o.to_le_bytes()).map_err(io_out)?;
        }
        if hybrid {
            for f in &self.firsts {
                w.write_all(&f.to_le_bytes()).map_err(io_out)?;
            }
            if self.firsts.len() % 2 == 1 {
                w.write_all(&[0u8; 4]).map_err(io_out)?;
            }
        }
        std::io::copy(&mut spill, &mut w).map_err(io_out)?;
        w.flush().map_err(io_out)
    }
}

/// Move the finished corpus to `output` and write its sidecar.
fn persist_with_sidecar(
    tmp: tempfile::NamedTempFile,
    meta: &CorpusMeta,
    output: &Path,
    dir: &Path,
) -> Result<()> {
    // Drop a stale sidecar first: the pair is then either new+new,
    // new+absent, or old+absent, never a sidecar describing another file.
    let side = sidecar_path(output);
    match std::fs::remove_file(&side) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(TrainError::io(&side, e)),
        _ => {}
    }
    tmp.persist(output)
        .map_err(|e| TrainError::io(output, e.error))?;
    let mut json = serde_json::to_string_pretty(meta).map_err(|source| TrainError::Json {
        path: side.clone(),
        source,
    })?;
    json.push('\n');
    let mut st = tempfile::Builder::new()
        .prefix(".dnalm-corpus-")
        .tempfile_in(dir)
        .map_err(|e| TrainError::io(dir, e))?;
    st.write_all(json.as_bytes())
        .map_err(|e| TrainError::io(&side, e))?;
    st.persist(&side)
        .map_err(|e| TrainError::io(&side, e.error))?;
    Ok(())
}

/// The 80-byte header of the module docs' layout.
fn header_bytes(
    width: u32,
    vocab_size: u64,
    prog: &Progress,
    hybrid: Option<HybridLayout>,
    kind: &str,
) -> Vec<u8> {
    let mut h = Vec::with_capacity(HEADER_LEN as usize);
    h.extend_from_slice(&MAGIC);
    h.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    h.extend_from_slice(&width.to_le_bytes());
    h.extend_from_slice(&vocab_size.to_le_bytes());
    h.extend_from_slice(&prog.sequences.to_le_bytes());
    h.extend_from_slice(&prog.tokens.to_le_bytes());
    let flags = if hybrid.is_some() { FLAG_FIRST_PART } else { 0 };
    h.extend_from_slice(&flags.to_le_bytes());
    // `build` checked that k and the segment length fit in u32.
    let (hk, hs) = hybrid.map_or((0, 0), |h| (h.k as u32, h.segment_len as u32));
    h.extend_from_slice(&hk.to_le_bytes());
    h.extend_from_slice(&hs.to_le_bytes());
    h.extend_from_slice(&0u32.to_le_bytes());
    let mut name = [0u8; 16];
    name[..kind.len()].copy_from_slice(kind.as_bytes());
    h.extend_from_slice(&name);
    h.extend_from_slice(&0u64.to_le_bytes());
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::{read_sidecar, TokenCorpus};
    use dnalm_tokenizers::{BpeTrainer, HybridTokenizer, KmerOrder, KmerTokenizer};

    fn kmer3() -> KmerTokenizer {
        KmerTokenizer::new(3, KmerOrder::Lexicographic).unwrap()
    }

    fn hybrid(segment_len: usize) -> AnyTokenizer {
        let bpe = BpeTrainer::new(30)
            .unwrap()
            .train(["ACGTACGTTTTTAAACCCGGGATATATCGACGTTTAAAGGGCCCTATAAAAGGC"])
            .unwrap()
            .model;
        AnyTokenizer::Hybrid(Box::new(HybridTokenizer::new(bpe, 6, segment_len).unwrap()))
    }

    fn write(tok: &dyn Tokenizer, input: &[u8], out: &Path) -> Result<CorpusMeta> {
        TokenCorpusBuilder::new(tok)
            .build()?
            .write_reader(input, Path::new("in.txt"), out)
    }

    fn all(c: &TokenCorpus) -> Vec<Vec<u32>> {
        (0..c.len()).map(|i| c.get(i).unwrap()).collect()
    }

    #[test]
    fn lines_crlf_lowercase_and_empty_lines() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("c.tok");
        let tok = kmer3();
        let meta = write(&tok, b"ACGTA\r\n\r\n\nacgTTG\nGGG", &out).unwrap();
        assert_eq!((meta.lines, meta.empty_lines, meta.n_sequences), (5, 2, 3));
        assert_eq!((meta.min_len, meta.max_len, meta.n_tokens), (1, 4, 8));
        assert_eq!(meta.hybrid, None);
        let c = TokenCorpus::open(&out).unwrap();
        let want: Vec<Vec<u32>> = ["ACGTA", "ACGTTG", "GGG"]
            .iter()
            .map(|s| tok.encode(s.as_bytes()).unwrap())
            .collect();
        assert_eq!(all(&c), want);
        assert_eq!(
            (c.id_width(), c.tokenizer_kind(), c.max_len()),
            (2, "kmer", 4)
        );
        assert_eq!(read_sidecar(&out).unwrap(), meta);
        assert_eq!(
            meta.vocab_fingerprint,
            super::super::vocab_fingerprint(tok.vocab())
        );
    }

    #[test]
    fn tsv_from_dnalm_corpus() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("c.tok");
        let tsv = b"record\tstart\tend\tsequence\nchr1\t0\t5\tACGTA\nchr1\t5\t9\tTTGC\n";
        write(&kmer3(), tsv, &out).unwrap();
        let c = TokenCorpus::open(&out).unwrap();
        assert_eq!(c.get(1).unwrap(), kmer3().encode(b"TTGC").unwrap());
        // Bad rows and a header in a plain-lines file.
        let e = write(
            &kmer3(),
            b"record\tstart\tend\tsequence\nchr1\t0\tACGT\n",
            &out,
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("in.txt:2: expected 4"), "{e}");
        let e = write(
            &kmer3(),
            b"record\tstart\tend\tsequence\nchr1\t0\t4\tACNT\n",
            &out,
        )
        .unwrap_err();
        assert_eq!(e.to_string().split(": ").next(), Some("in.txt:2:12"), "{e}");
        let e = TokenCorpusBuilder::new(&kmer3())
            .format(InputFormat::Lines)
            .build()
            .unwrap()
            .write_reader(&tsv[..], Path::new("in.txt"), &out)
            .unwrap_err();
        assert!(e.to_string().contains("TSV header"), "{e}");
        // A forced TSV read needs no header.
        TokenCorpusBuilder::new(&kmer3())
            .format(InputFormat::Tsv)
            .build()
            .unwrap()
            .write_reader(&b"r\t0\t4\tACGT\n"[..], Path::new("in.txt"), &out)
            .unwrap();
    }

    #[test]
    fn bad_input_names_file_line_and_column_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("c.tok");
        let e = write(&kmer3(), b"ACGT\nACNGT\n", &out).unwrap_err();
        assert!(
            matches!(
                e,
                TrainError::Input {
                    line: 2,
                    column: Some(3),
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("'N'"), "{e}");
        let e = write(&kmer3(), b"ACGT\nAC\n", &out).unwrap_err();
        assert!(matches!(e, TrainError::Tokenize { line: 2, .. }), "{e}");
        let e = write(&kmer3(), b"\n\n", &out).unwrap_err();
        assert!(e.to_string().contains("no sequences"), "{e}");
        assert!(!out.exists());
        // A failed rewrite leaves the old corpus in place.
        write(&kmer3(), b"ACGT\n", &out).unwrap();
        let before = std::fs::read(&out).unwrap();
        assert!(write(&kmer3(), b"ACGT\nA C\n", &out).is_err());
        assert_eq!(std::fs::read(&out).unwrap(), before);
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 2, "only the corpus and its sidecar");
    }

    #[test]
    fn gzip_input_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let (gz, out) = (dir.path().join("in.txt.gz"), dir.path().join("c.tok"));
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"ACGTACGT\nTTTT\n").unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        let meta = TokenCorpusBuilder::new(&kmer3())
            .build()
            .unwrap()
            .write_file(&gz, &out)
            .unwrap();
        assert_eq!(meta.n_sequences, 2);
        assert!(meta.source.ends_with("in.txt.gz"));
        let missing = dir.path().join("nope.txt");
        let e = TokenCorpusBuilder::new(&kmer3())
            .build()
            .unwrap()
            .write_file(&missing, &out)
            .unwrap_err();
        assert!(e.to_string().contains("nope.txt"));
    }

    #[test]
    fn hybrid_lines_become_segments_with_exact_first_parts() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("h.tok");
        let tok = hybrid(20);
        let AnyTokenizer::Hybrid(h) = &tok else {
            unreachable!()
        };
        let line = b"ACGTTGCATTTACGGGCATGCATCGACTAGCATCGACTAGCTAGCAT"; // 47 nt: 20 + 20 + 7
        let mut input = line.to_vec();
        input.extend_from_slice(b"\nACG\n");
        let meta = TokenCorpusBuilder::for_any(&tok)
            .build()
            .unwrap()
            .write_reader(&input[..], Path::new("in.txt"), &out)
            .unwrap();
        assert_eq!(
            meta.hybrid,
            Some(HybridLayout {
                k: 6,
                segment_len: 20
            })
        );
        assert_eq!(meta.n_sequences, 4);
        let ids_at = meta.ids_offset as usize;
        assert_eq!(ids_at, 80 + 8 * 5 + 16);
        let bytes = std::fs::read(&out).unwrap();
        let id0 = u16::from_le_bytes([bytes[ids_at], bytes[ids_at + 1]]);
        let c = TokenCorpus::open(&out).unwrap();
        assert_eq!(c.hybrid_layout(), meta.hybrid);
        let segs: Vec<&[u8]> = line.chunks(20).chain([&b"ACG"[..]]).collect();
        for (i, seg) in segs.iter().enumerate() {
            let (kmers, bpe) = h.encode_segment(seg).unwrap();
            assert_eq!(c.first_part_len(i).unwrap(), kmers.len(), "segment {i}");
            assert_eq!(c.get(i).unwrap(), [kmers, bpe].concat());
        }
        assert_eq!(c.first_part_len(3).unwrap(), 0);
        assert_eq!(u32::from(id0), c.get(0).unwrap()[0]);
        // The masking collator reads the first parts: certain centres on
        // k-mers, (almost) no BPE selection.
        use crate::mask::{MaskCollator, MaskStrategy, IGNORE_INDEX};
        let s = MaskStrategy::Hybrid {
            k: 6,
            centre_prob: 1.0,
            bpe_prob: 1e-12,
        };
        let m = MaskCollator::builder(s, c.vocab_size()).build().unwrap();
        m.check_corpus(&c).unwrap();
        let b = m.collate_corpus(&c, &[0], 0, 0).unwrap();
        let f = c.first_part_len(0).unwrap();
        assert!(b.labels[1..=f].iter().all(|&l| l != IGNORE_INDEX));
        assert!(b.labels[f + 1..].iter().all(|&l| l == IGNORE_INDEX));
        let span = MaskCollator::builder(MaskStrategy::kmer_span(6), c.vocab_size())
            .build()
            .unwrap();
        assert!(span.check_corpus(&c).is_err());
        // Behind `dyn`, the layout must be given, and only for hybrids.
        assert!(TokenCorpusBuilder::new(&tok).build().is_err());
        assert!(TokenCorpusBuilder::new(&tok)
            .hybrid_layout(6, 20)
            .build()
            .is_ok());
        assert!(TokenCorpusBuilder::new(&tok)
            .hybrid_layout(6, 5)
            .build()
            .is_err());
        assert!(TokenCorpusBuilder::new(&kmer3())
            .hybrid_layout(6, 20)
            .build()
            .is_err());
        // A wrong layout is caught on the first segment that disagrees.
        for (k, seg) in [(3, 20), (6, 40)] {
            let e = TokenCorpusBuilder::new(&tok)
                .hybrid_layout(k, seg)
                .build()
                .unwrap()
                .write_reader(&input[..], Path::new("in.txt"), &out)
                .unwrap_err();
            assert!(e.to_string().contains("in.txt:1: the hybrid layout"), "{e}");
        }
    }

    #[test]
    fn parallel_chunks_keep_order_and_report_progress() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.tok"), dir.path().join("b.tok"));
        let input: Vec<u8> = (0..500)
            .flat_map(|i| {
                let mut l = b"ACGT".repeat(1 + i % 7);
                l.extend_from_slice(&b"GATTACA"[..i % 7]);
                l.push(b'\n');
                l
            })
            .collect();
        let tok = kmer3();
        let mut seen = Vec::new();
        TokenCorpusBuilder::new(&tok)
            .chunk_lines(7)
            .progress(|p| seen.push(p))
            .build()
            .unwrap()
            .write_reader(&input[..], Path::new("in.txt"), &a)
            .unwrap();
        write(&tok, &input, &b).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        assert_eq!(seen.len(), 500usize.div_ceil(7));
        let last = seen.last().unwrap();
        assert_eq!(
            (last.lines, last.bytes, last.sequences),
            (500, input.len() as u64, 500)
        );
        assert!(seen.windows(2).all(|w| w[0].tokens < w[1].tokens));
        assert!(TokenCorpusBuilder::new(&tok)
            .chunk_lines(0)
            .build()
            .is_err());
    }
}
