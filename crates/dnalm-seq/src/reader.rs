//! FASTA / FASTQ input: plain, gzip or bgzip, from a file, stdin or any reader.
//!
//! Parsing is needletail's; this module adds what a genome pipeline needs on
//! top: compression detected from magic bytes, every record checked letter by
//! letter with the exact file line of a bad byte, soft-masked bases
//! upper-cased, and one-line error messages that name the file.

use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Cursor, IsTerminal, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use flate2::bufread::MultiGzDecoder;
use needletail::errors::{ParseError, ParseErrorKind};
use needletail::parser::{FastaReader, FastqReader, Format, SequenceRecord};

use crate::error::{Result, SeqError};
use crate::normalize::normalize_in_place;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// Compressed bytes are read in large blocks: the decoder's own default is small.
const GZIP_BUF: usize = 1 << 17;

/// One FASTA or FASTQ record, checked and upper-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The header up to the first space or tab (without `>` / `@`).
    pub id: String,
    /// The rest of the header, if any.
    pub desc: Option<String>,
    /// The sequence: A C G T N or IUPAC codes, upper case, no line breaks.
    pub seq: Vec<u8>,
    /// 1-based line of the header in the (decompressed) file.
    pub line: u64,
}

/// Which layer of the input stack an I/O error came from; needletail keeps only
/// the message of an I/O error, so the layers note their errors on the side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    Source,
    Gzip,
}

type ErrorSlot = Arc<Mutex<Option<(Layer, io::Error)>>>;

/// A reader that notes its first error in a shared slot before passing it on.
struct Tap<R> {
    inner: R,
    layer: Layer,
    slot: ErrorSlot,
}

impl<R: Read> Read for Tap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            if e.kind() == io::ErrorKind::Interrupted {
                return;
            }
            if let Ok(mut slot) = self.slot.lock() {
                if slot.is_none() {
                    *slot = Some((self.layer, io::Error::new(e.kind(), e.to_string())));
                }
            }
        })
    }
}

/// Reads FASTA or FASTQ records (plain, gzip or multi-member gzip / bgzip).
///
/// Records come out of [`FastxReader::next_record`] or the `Iterator` impl.
/// A bad letter or an empty record is an error for that record only; after a
/// format or I/O error the reader stops.
pub struct FastxReader {
    path: PathBuf,
    inner: Box<dyn needletail::parser::FastxReader>,
    gzip: bool,
    slot: ErrorSlot,
    /// Blank lines skipped before the first record, added to needletail's line numbers.
    line_offset: u64,
    finished: bool,
}

impl fmt::Debug for FastxReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FastxReader")
            .field("path", &self.path)
            .field("gzip", &self.gzip)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

/// Standard input to read data from, unless it is a terminal: a command
/// whose input file was forgotten would otherwise wait silently for typing
/// ([`SeqError::NoInput`]). A pipe or a redirected file is returned as is.
pub fn stdin_unless_terminal() -> Result<io::Stdin> {
    let stdin = io::stdin();
    if stdin.is_terminal() {
        return Err(SeqError::NoInput);
    }
    Ok(stdin)
}

impl FastxReader {
    /// Opens a file, or stdin when `path` is `-` (an error when stdin is a
    /// terminal, see [`stdin_unless_terminal`]).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        if path == Path::new("-") {
            return Self::from_reader("<stdin>", stdin_unless_terminal()?);
        }
        let file = File::open(path).map_err(|source| SeqError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::build(path.to_path_buf(), file)
    }

    /// Reads from any byte stream; `name` stands for the file in error messages.
    pub fn from_reader(name: &str, r: impl Read + Send + 'static) -> Result<Self> {
        Self::build(PathBuf::from(name), r)
    }

    /// The file name used in error messages (`<stdin>` for standard input).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True when the input was gzip (or bgzip) compressed.
    pub fn is_gzip(&self) -> bool {
        self.gzip
    }

    fn build(path: PathBuf, r: impl Read + Send + 'static) -> Result<Self> {
        let slot: ErrorSlot = Arc::default();
        let mut source = Tap {
            inner: r,
            layer: Layer::Source,
            slot: Arc::clone(&slot),
        };
        let mut magic = Vec::with_capacity(2);
        read_up_to(&mut source, &mut magic, 2).map_err(|source| SeqError::Io {
            path: path.clone(),
            source,
        })?;
        let gzip = magic == GZIP_MAGIC;
        let prefixed = Cursor::new(magic).chain(source);
        let mut stream: Box<dyn Read + Send> = if gzip {
            Box::new(Tap {
                inner: MultiGzDecoder::new(BufReader::with_capacity(GZIP_BUF, prefixed)),
                layer: Layer::Gzip,
                slot: Arc::clone(&slot),
            })
        } else {
            Box::new(prefixed)
        };

        let (head, line_offset) = match skip_blank_lines(&mut stream) {
            Ok(v) => v,
            Err(e) => return Err(stream_error(&path, gzip, &slot, e)),
        };
        let Some(&first) = head.first() else {
            let msg = if gzip {
                "empty input: no FASTA/FASTQ records (the gzip stream decompresses to nothing)"
            } else {
                "empty input: no FASTA/FASTQ records"
            };
            return Err(parse_error(&path, msg.to_string()));
        };
        let rest = Cursor::new(head).chain(stream);
        let inner: Box<dyn needletail::parser::FastxReader> = match first {
            b'>' => Box::new(FastaReader::new(rest)),
            b'@' => Box::new(FastqReader::new(rest)),
            other => {
                let line = line_offset + 1;
                let msg = if other.is_ascii_graphic() {
                    format!(
                        "line {line}: expected '>' or '@' at the start of a record, found {:?}; \
                         is this FASTA/FASTQ?",
                        char::from(other)
                    )
                } else {
                    format!(
                        "line {line}: not FASTA/FASTQ: starts with byte 0x{other:02x} \
                         (binary data?); expected '>' or '@' at the start of a record"
                    )
                };
                return Err(parse_error(&path, msg));
            }
        };
        Ok(Self {
            path,
            inner,
            gzip,
            slot,
            line_offset,
            finished: false,
        })
    }

    /// The next record, `None` at the end of the input.
    pub fn next_record(&mut self) -> Option<Result<Record>> {
        if self.finished {
            return None;
        }
        let result = match self.inner.next()? {
            Ok(rec) => convert(&self.path, &rec, self.line_offset),
            Err(e) => {
                self.finished = true;
                Err(self.needletail_error(e))
            }
        };
        Some(result)
    }

    /// The next record together with its soft-masked stretches: the maximal
    /// runs of lower-case letters in the file, as half-open intervals of the
    /// record (repeats in UCSC / Ensembl soft-masked genomes). The record
    /// itself is upper-cased as [`FastxReader::next_record`] returns it.
    pub fn next_record_with_mask(&mut self) -> Option<Result<(Record, Vec<Range<usize>>)>> {
        if self.finished {
            return None;
        }
        let mut mask = Vec::new();
        let result = match self.inner.next()? {
            Ok(rec) => convert_masked(&self.path, &rec, self.line_offset, Some(&mut mask)),
            Err(e) => {
                self.finished = true;
                Err(self.needletail_error(e))
            }
        };
        Some(result.map(|r| (r, mask)))
    }

    fn needletail_error(&self, e: ParseError) -> SeqError {
        let line = e.position.line + self.line_offset;
        let at = match &e.position.id {
            Some(id) => format!("line {line}: record {id:?}"),
            None => format!("line {line}"),
        };
        let msg = match e.kind {
            ParseErrorKind::Io => {
                let err = io::Error::other(e.msg);
                return stream_error(&self.path, self.gzip, &self.slot, err);
            }
            ParseErrorKind::EmptyFile => "empty input: no FASTA/FASTQ records".to_string(),
            ParseErrorKind::UnknownFormat | ParseErrorKind::InvalidStart => {
                format!(
                    "{at}: expected '>' or '@' at the start of a record ({})",
                    e.msg
                )
            }
            ParseErrorKind::InvalidSeparator => {
                format!("{at}: FASTQ record has no '+' separator line ({})", e.msg)
            }
            ParseErrorKind::UnequalLengths => format!("{at}: FASTQ record: {}", e.msg),
            // needletail's FASTA parser only gets here for a final header
            // with no line after it.
            ParseErrorKind::UnexpectedEnd if e.format == Some(Format::Fasta) => {
                format!("{at}: the last record has a header but no sequence")
            }
            ParseErrorKind::UnexpectedEnd => {
                format!("{at}: input ends inside a record (truncated file?)")
            }
        };
        parse_error(&self.path, msg)
    }
}

impl Iterator for FastxReader {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record()
    }
}

fn parse_error(path: &Path, msg: String) -> SeqError {
    SeqError::Parse {
        path: path.to_path_buf(),
        msg,
    }
}

/// Turns an error from the byte stream into the most useful `SeqError`: the
/// source's own I/O error, or a plain-words description of a gzip fault.
fn stream_error(path: &Path, gzip: bool, slot: &ErrorSlot, fallback: io::Error) -> SeqError {
    let noted = slot.lock().ok().and_then(|mut s| s.take());
    match noted {
        Some((Layer::Source, source)) => SeqError::Io {
            path: path.to_path_buf(),
            source,
        },
        Some((Layer::Gzip, e)) if e.kind() == io::ErrorKind::UnexpectedEof => parse_error(
            path,
            "truncated gzip stream: the file ends inside compressed data".to_string(),
        ),
        Some((Layer::Gzip, e)) => parse_error(path, format!("corrupt gzip data: {e}")),
        None if gzip && fallback.kind() == io::ErrorKind::UnexpectedEof => parse_error(
            path,
            "truncated gzip stream: the file ends inside compressed data".to_string(),
        ),
        None => SeqError::Io {
            path: path.to_path_buf(),
            source: fallback,
        },
    }
}

/// Reads until `buf` holds `n` bytes or the stream ends.
fn read_up_to(r: &mut impl Read, buf: &mut Vec<u8>, n: usize) -> io::Result<()> {
    let mut chunk = [0u8; 64];
    while buf.len() < n {
        let want = (n - buf.len()).min(chunk.len());
        match r.read(&mut chunk[..want]) {
            Ok(0) => break,
            Ok(k) => buf.extend_from_slice(&chunk[..k]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Skips leading whitespace so a file that opens with blank lines still
/// parses. Returns the bytes read from the first non-blank byte on (empty at
/// end of input) and the number of line breaks skipped.
fn skip_blank_lines(r: &mut impl Read) -> io::Result<(Vec<u8>, u64)> {
    let mut buf = vec![0u8; 8192];
    let mut lines = 0u64;
    loop {
        let k = match r.read(&mut buf) {
            Ok(0) => return Ok((Vec::new(), lines)),
            Ok(k) => k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = &buf[..k];
        match chunk.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => {
                lines += memchr::memchr_iter(b'\n', &chunk[..i]).count() as u64;
                return Ok((chunk[i..].to_vec(), lines));
            }
            None => lines += memchr::memchr_iter(b'\n', chunk).count() as u64,
        }
    }
}

/// Builds a checked `Record` from needletail's view of the buffer.
fn convert(path: &Path, rec: &SequenceRecord<'_>, line_offset: u64) -> Result<Record> {
    convert_masked(path, rec, line_offset, None)
}

/// [`convert`], noting the lower-case runs into `mask` when given.
fn convert_masked(
    path: &Path,
    rec: &SequenceRecord<'_>,
    line_offset: u64,
    mut mask: Option<&mut Vec<Range<usize>>>,
) -> Result<Record> {
    let line = rec.start_line_number() + line_offset;
    let header = rec.id();
    let split = header
        .iter()
        .position(|b| *b == b' ' || *b == b'\t')
        .unwrap_or(header.len());
    let id = String::from_utf8_lossy(&header[..split]).into_owned();
    if id.is_empty() {
        return Err(parse_error(
            path,
            format!("line {line}: record header has no name"),
        ));
    }
    let desc = std::str::from_utf8(&header[split..])
        .map(|s| s.to_string())
        .unwrap_or_else(|_| String::from_utf8_lossy(&header[split..]).into_owned());
    let desc = Some(desc.trim().to_string()).filter(|d| !d.is_empty());

    // FASTA sequences keep their line breaks in `raw_seq`; walking the lines
    // here both strips them and yields the file line of any bad byte. FASTQ
    // sequences are a single line, so the same walk serves both formats.
    let raw = rec.raw_seq();
    let mut seq = Vec::with_capacity(raw.len());
    let mut line_start = 0usize;
    let mut line_no = line + 1;
    loop {
        let nl = memchr::memchr(b'\n', &raw[line_start..]).map(|i| line_start + i);
        let line_end = nl.unwrap_or(raw.len());
        let mut text = &raw[line_start..line_end];
        if let Some((&b'\r', rest)) = text.split_last() {
            text = rest;
        }
        let at = seq.len();
        if let Some(mask) = mask.as_deref_mut() {
            note_lower_case(text, at, mask);
        }
        seq.extend_from_slice(text);
        if let Err(i) = normalize_in_place(&mut seq[at..]) {
            return Err(SeqError::InvalidChar {
                path: path.to_path_buf(),
                line: line_no,
                record: id,
                byte: text[i],
                pos: (at + i) as u64,
            });
        }
        match nl {
            Some(n) => {
                line_start = n + 1;
                line_no += 1;
            }
            None => break,
        }
    }
    if seq.is_empty() {
        return Err(SeqError::EmptyRecord {
            path: path.to_path_buf(),
            line,
            record: id,
        });
    }
    Ok(Record {
        id,
        desc,
        seq,
        line,
    })
}

/// Adds the lower-case runs of `text` (which starts at record position
/// `at`) to `mask`, joining a run that continues one from the line before.
fn note_lower_case(text: &[u8], at: usize, mask: &mut Vec<Range<usize>>) {
    let mut i = 0;
    while i < text.len() {
        if !text[i].is_ascii_lowercase() {
            i += 1;
            continue;
        }
        let start = i;
        while i < text.len() && text[i].is_ascii_lowercase() {
            i += 1;
        }
        match mask.last_mut() {
            Some(last) if last.end == at + start => last.end = at + i,
            _ => mask.push(at + start..at + i),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::Compression;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn read_all(name: &str, bytes: Vec<u8>) -> Result<Vec<Record>> {
        FastxReader::from_reader(name, Cursor::new(bytes))?.collect()
    }

    fn parse_msg(err: SeqError) -> (PathBuf, String) {
        match err {
            SeqError::Parse { path, msg } => (path, msg),
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    const FASTA: &[u8] = b">chr1 first record\nACGTacgt\nNNNNACGT\n>chr2\nggccRY\n";

    fn check_fasta(recs: &[Record]) {
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].id, "chr1");
        assert_eq!(recs[0].desc.as_deref(), Some("first record"));
        assert_eq!(recs[0].seq, b"ACGTACGTNNNNACGT");
        assert_eq!(recs[0].line, 1);
        assert_eq!(recs[1].id, "chr2");
        assert_eq!(recs[1].desc, None);
        assert_eq!(recs[1].seq, b"GGCCRY");
        assert_eq!(recs[1].line, 4);
    }

    #[test]
    fn reads_plain_fasta_with_lower_case_and_n_runs() {
        check_fasta(&read_all("a.fa", FASTA.to_vec()).unwrap());
    }

    #[test]
    fn soft_mask_runs_span_line_breaks_and_records_stay_upper_case() {
        let fa = b">r1\nACgt\nacGTa\r\nA\n>r2\nggnnCC\n>r3\nACGT\n".to_vec();
        let mut r = FastxReader::from_reader("m.fa", Cursor::new(fa)).unwrap();
        let (rec, mask) = r.next_record_with_mask().unwrap().unwrap();
        assert_eq!(rec.seq, b"ACGTACGTAA");
        assert_eq!(mask, [2..6, 8..9]);
        let (rec, mask) = r.next_record_with_mask().unwrap().unwrap();
        assert_eq!(
            (rec.id.as_str(), mask),
            ("r2", std::iter::once(0..4).collect::<Vec<_>>())
        );
        let (_, mask) = r.next_record_with_mask().unwrap().unwrap();
        assert!(mask.is_empty());
        assert!(r.next_record_with_mask().is_none());
        // a bad letter is the same error as without the mask
        let bad = b">r1\nACgt\nAC!T\n".to_vec();
        let mut r = FastxReader::from_reader("m.fa", Cursor::new(bad)).unwrap();
        let err = r.next_record_with_mask().unwrap().unwrap_err().to_string();
        assert!(
            err.contains("m.fa:3") && err.contains("position 6"),
            "{err}"
        );
    }

    #[test]
    fn reads_gzip_and_two_member_gzip() {
        let r = FastxReader::from_reader("a.fa.gz", Cursor::new(gz(FASTA))).unwrap();
        assert!(r.is_gzip());
        check_fasta(&r.collect::<Result<Vec<_>>>().unwrap());

        // bgzip output is a series of gzip members; split mid-record on purpose.
        let cut = 25;
        let mut two = gz(&FASTA[..cut]);
        two.extend(gz(&FASTA[cut..]));
        check_fasta(&read_all("a.fa.bgz", two).unwrap());
    }

    #[test]
    fn reads_crlf_line_endings() {
        let crlf = String::from_utf8(FASTA.to_vec())
            .unwrap()
            .replace('\n', "\r\n");
        check_fasta(&read_all("crlf.fa", crlf.into_bytes()).unwrap());
        let fq = b"@r1 x\r\nACGn\r\n+\r\nIIII\r\n@r2\r\nTT\r\n+\r\nII\r\n".to_vec();
        let recs = read_all("crlf.fq", fq).unwrap();
        assert_eq!(recs[0].seq, b"ACGN");
        assert_eq!(recs[1].seq, b"TT");
        assert_eq!(recs[1].line, 5);
    }

    #[test]
    fn reads_fastq() {
        let fq = b"@read1 desc here\nACGTN\n+\nIIIII\n@read2\nacgt\n+read2\nIIII\n".to_vec();
        let recs = read_all("r.fq", fq).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].id, "read1");
        assert_eq!(recs[0].desc.as_deref(), Some("desc here"));
        assert_eq!(recs[0].seq, b"ACGTN");
        assert_eq!((recs[0].line, recs[1].line), (1, 5));
        assert_eq!(recs[1].seq, b"ACGT");
    }

    #[test]
    fn fastq_bad_letter_is_on_the_line_after_the_header() {
        let fq = b"@read1\nACGT\n+\nIIII\n@read2\nAC.T\n+\nIIII\n".to_vec();
        let mut r = FastxReader::from_reader("r.fq", Cursor::new(fq)).unwrap();
        assert!(r.next_record().unwrap().is_ok());
        match r.next_record().unwrap().unwrap_err() {
            SeqError::InvalidChar {
                line,
                record,
                byte,
                pos,
                ..
            } => assert_eq!((line, record.as_str(), byte, pos), (6, "read2", b'.', 2)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn fastq_unequal_quality_is_a_parse_error() {
        let fq = b"@read1\nACGT\n+\nIII\n".to_vec();
        let (_, msg) = parse_msg(read_all("r.fq", fq).unwrap_err());
        assert!(msg.contains("quality length"), "{msg}");
    }

    #[test]
    fn digit_in_sequence_reports_the_file_line() {
        let fa = b">s1\nACGT\nACGT\n>s2 x\nAAAA\nCC\nGG7G\nTTTT\n".to_vec();
        let mut r = FastxReader::from_reader("bad.fa", Cursor::new(fa)).unwrap();
        assert_eq!(r.next_record().unwrap().unwrap().seq, b"ACGTACGT");
        let err = r.next_record().unwrap().unwrap_err();
        let text = err.to_string();
        match err {
            SeqError::InvalidChar {
                path,
                line,
                record,
                byte,
                pos,
            } => {
                assert_eq!(path, PathBuf::from("bad.fa"));
                assert_eq!(line, 7);
                assert_eq!(record, "s2");
                assert_eq!(byte, b'7');
                assert_eq!(pos, 8);
            }
            other => panic!("{other:?}"),
        }
        assert!(text.starts_with("bad.fa:7:"), "{text}");
        // The error is per record: reading goes on.
        assert!(r.next_record().is_none());
    }

    #[test]
    fn line_numbers_hold_with_crlf_and_leading_blank_lines() {
        let fa = b"\r\n\r\n>s1\r\nACGT\r\nAUGT\r\n".to_vec();
        match read_all("x.fa", fa).unwrap_err() {
            SeqError::InvalidChar {
                line, pos, byte, ..
            } => {
                assert_eq!((line, pos, byte), (5, 5, b'U'))
            }
            other => panic!("{other:?}"),
        }
        let recs = read_all("y.fa", b"\n\n>s1\nAC\n>s2\nGT\n".to_vec()).unwrap();
        assert_eq!((recs[0].line, recs[1].line), (3, 5));
    }

    #[test]
    fn rejects_symbols_binary_bytes_and_rna() {
        for (bad, pos) in [
            (&b"ACG-T"[..], 3),
            (b"AC*", 2),
            (b"A.C", 1),
            (b"ACGU", 3),
            (b"AC\x00G", 2),
            (b"A C", 1),
            (b"AC\rGT", 2),
        ] {
            let mut fa = b">r\n".to_vec();
            fa.extend_from_slice(bad);
            fa.push(b'\n');
            match read_all("x.fa", fa).unwrap_err() {
                SeqError::InvalidChar { pos: p, line, .. } => {
                    assert_eq!((p, line), (pos, 2), "{bad:?}")
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn empty_record_is_reported_and_reading_continues() {
        let fa = b">e1\n>full\nACGT\n>e2\n".to_vec();
        let mut r = FastxReader::from_reader("e.fa", Cursor::new(fa)).unwrap();
        match r.next_record().unwrap().unwrap_err() {
            SeqError::EmptyRecord { line, record, .. } => {
                assert_eq!((line, record.as_str()), (1, "e1"))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(r.next_record().unwrap().unwrap().id, "full");
        // A header on the very last line: needletail cannot name the record.
        let (_, msg) = parse_msg(r.next_record().unwrap().unwrap_err());
        assert_eq!(msg, "line 4: the last record has a header but no sequence");
        assert!(r.next_record().is_none());
        // With a line after the header it is an ordinary empty record.
        let mut r =
            FastxReader::from_reader("e.fa", Cursor::new(b">full\nAC\n>e3\n\n".to_vec())).unwrap();
        assert!(r.next_record().unwrap().is_ok());
        match r.next_record().unwrap().unwrap_err() {
            SeqError::EmptyRecord { line, record, .. } => {
                assert_eq!((line, record.as_str()), (3, "e3"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn empty_inputs_are_parse_errors_naming_the_file() {
        for bytes in [Vec::new(), b"\n\n  \r\n".to_vec(), gz(b"")] {
            let (path, msg) =
                parse_msg(FastxReader::from_reader("empty.fa", Cursor::new(bytes)).unwrap_err());
            assert_eq!(path, PathBuf::from("empty.fa"));
            assert!(msg.starts_with("empty input"), "{msg}");
        }
    }

    #[test]
    fn text_without_a_header_is_a_parse_error() {
        let err = FastxReader::from_reader("seq.txt", Cursor::new(b"ACGT\n>x\nAC\n".to_vec()))
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("seq.txt: line 1: expected '>' or '@'"),
            "{text}"
        );
    }

    #[test]
    fn binary_garbage_is_a_parse_error() {
        let garbage: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 | 0x80)
            .collect();
        let (_, msg) =
            parse_msg(FastxReader::from_reader("blob.bin", Cursor::new(garbage)).unwrap_err());
        assert!(msg.contains("binary data"), "{msg}");
        // Garbage behind a gzip magic fails in the decoder, not with a panic.
        let mut fake = GZIP_MAGIC.to_vec();
        fake.extend_from_slice(&[0x99; 64]);
        let (_, msg) =
            parse_msg(FastxReader::from_reader("fake.gz", Cursor::new(fake)).unwrap_err());
        assert!(msg.contains("gzip"), "{msg}");
    }

    #[test]
    fn truncated_gzip_is_a_parse_error() {
        // Big enough that the decoder yields records before it hits the cut.
        let mut fa = Vec::new();
        for i in 0..2000 {
            fa.extend_from_slice(format!(">r{i}\n").as_bytes());
            for j in 0..200u32 {
                fa.push(b"ACGT"[((i as u32).wrapping_mul(31) ^ j.wrapping_mul(7)) as usize % 4]);
            }
            fa.push(b'\n');
        }
        let full = gz(&fa);
        let cut = full[..full.len() * 2 / 3].to_vec();
        let mut r = FastxReader::from_reader("cut.fa.gz", Cursor::new(cut)).unwrap();
        let mut ok = 0;
        let err = loop {
            match r.next_record() {
                Some(Ok(_)) => ok += 1,
                Some(Err(e)) => break e,
                None => panic!("a truncated stream must not end cleanly"),
            }
        };
        assert!(ok > 0);
        let (path, msg) = parse_msg(err);
        assert_eq!(path, PathBuf::from("cut.fa.gz"));
        assert!(msg.starts_with("truncated gzip stream"), "{msg}");
        assert!(r.next_record().is_none());
    }

    #[test]
    fn io_errors_from_the_source_keep_their_kind() {
        struct Failing(usize);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::PermissionDenied,
                        "disk says no",
                    ));
                }
                let data = b">a\nACGT\n";
                let k = self.0.min(buf.len()).min(data.len());
                buf[..k].copy_from_slice(&data[..k]);
                self.0 -= k;
                Ok(k)
            }
        }
        let mut r = FastxReader::from_reader("flaky.fa", Failing(8)).unwrap();
        match r.next_record().unwrap().unwrap_err() {
            SeqError::Io { path, source } => {
                assert_eq!(path, PathBuf::from("flaky.fa"));
                assert_eq!(source.kind(), io::ErrorKind::PermissionDenied);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn open_reports_missing_files_and_reads_real_ones() {
        match FastxReader::open("/nonexistent/dir/x.fa").unwrap_err() {
            SeqError::Io { path, source } => {
                assert_eq!(path, PathBuf::from("/nonexistent/dir/x.fa"));
                assert_eq!(source.kind(), io::ErrorKind::NotFound);
            }
            other => panic!("{other:?}"),
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.fa.gz");
        std::fs::write(&p, gz(FASTA)).unwrap();
        let r = FastxReader::open(&p).unwrap();
        assert_eq!(r.path(), p.as_path());
        check_fasta(&r.collect::<Result<Vec<_>>>().unwrap());
    }

    #[test]
    fn header_without_name_is_a_parse_error() {
        let (_, msg) = parse_msg(read_all("h.fa", b"> desc only\nACGT\n".to_vec()).unwrap_err());
        assert_eq!(msg, "line 1: record header has no name");
    }

    #[test]
    fn reads_a_100_mb_single_line_record() {
        let n = 100 * 1024 * 1024;
        let mut fa = Vec::with_capacity(n + 16);
        fa.extend_from_slice(b">big\n");
        let base = |i: usize| b"acgtACGTNn"[(i * 7 + i / 13) % 10];
        fa.extend((0..n).map(base));
        fa.extend_from_slice(b"\n>tail\nAC\n");
        let mut r = FastxReader::from_reader("big.fa", Cursor::new(fa)).unwrap();
        let big = r.next_record().unwrap().unwrap();
        assert_eq!(big.seq.len(), n);
        assert!(big
            .seq
            .iter()
            .enumerate()
            .all(|(i, &b)| b == base(i).to_ascii_uppercase()));
        let tail = r.next_record().unwrap().unwrap();
        assert_eq!((tail.id.as_str(), tail.line), ("tail", 3));
    }
}
