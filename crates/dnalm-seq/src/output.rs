//! Output that never leaves a half-written file, and the table formats
//! genome browsers and spreadsheets read: BED, bedGraph and TSV.

use std::fmt;
use std::fmt::Write as _;
use std::io::{self, BufWriter, Stdout, Write};
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use tempfile::NamedTempFile;

use crate::error::{Result, SeqError};

const BUF: usize = 1 << 16;

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> SeqError + '_ {
    move |source| SeqError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A file written under a temporary name in the destination's directory and
/// renamed into place by [`AtomicFile::commit`]. Dropped without a commit, the
/// temporary file is removed, so readers see the old file or the whole new one.
pub struct AtomicFile {
    tmp: NamedTempFile,
    dest: PathBuf,
}

impl fmt::Debug for AtomicFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AtomicFile")
            .field("dest", &self.dest)
            .field("tmp", &self.tmp.path())
            .finish()
    }
}

impl AtomicFile {
    /// Starts writing `dest`; nothing appears at `dest` before `commit`.
    pub fn create(dest: impl AsRef<Path>) -> Result<Self> {
        let dest = dest.as_ref().to_path_buf();
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix(".dnalm-tmp-");
        // NamedTempFile defaults to 0600; outputs should get the usual 0666 & !umask.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        if !dir.is_dir() {
            return Err(SeqError::MissingDir { path: dest, dir });
        }
        let tmp = builder.tempfile_in(&dir).map_err(io_err(&dest))?;
        Ok(Self { tmp, dest })
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        &self.dest
    }

    /// Flushes and renames the temporary file onto the destination.
    pub fn commit(mut self) -> Result<()> {
        self.tmp.flush().map_err(io_err(&self.dest))?;
        let dest = self.dest;
        self.tmp.persist(&dest).map(drop).map_err(|e| SeqError::Io {
            path: dest.clone(),
            source: e.error,
        })
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tmp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tmp.flush()
    }
}

enum Sink {
    Stdout(BufWriter<Stdout>),
    /// An existing device or FIFO (`/dev/null`, a named pipe): written in
    /// place, since renaming a temp file over it would replace the node.
    Device(BufWriter<std::fs::File>),
    File(BufWriter<AtomicFile>),
    Gzip(GzEncoder<BufWriter<AtomicFile>>),
}

/// Where a command writes: stdout (no path or `-`), or a file written
/// atomically; a path ending in `.gz` is gzip-compressed. Call
/// [`Output::finish`] at the end: an `Output` dropped without it leaves no file.
pub struct Output {
    sink: Sink,
    path: PathBuf,
}

impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.sink {
            Sink::Stdout(_) => "stdout",
            Sink::Device(_) => "device",
            Sink::File(_) => "file",
            Sink::Gzip(_) => "gzip file",
        };
        f.debug_struct("Output")
            .field("path", &self.path)
            .field("kind", &kind)
            .finish()
    }
}

impl Output {
    /// Opens the output: stdout when `path` is `None` or `-`.
    pub fn create(path: Option<&Path>) -> Result<Self> {
        let Some(path) = path.filter(|p| *p != Path::new("-")) else {
            return Ok(Self {
                sink: Sink::Stdout(BufWriter::with_capacity(BUF, io::stdout())),
                path: PathBuf::from("<stdout>"),
            });
        };
        if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
            let dev = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(io_err(path))?;
            return Ok(Self {
                sink: Sink::Device(BufWriter::with_capacity(BUF, dev)),
                path: path.to_path_buf(),
            });
        }
        let file = BufWriter::with_capacity(BUF, AtomicFile::create(path)?);
        let gz = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
        let sink = if gz {
            Sink::Gzip(GzEncoder::new(file, Compression::default()))
        } else {
            Sink::File(file)
        };
        Ok(Self {
            sink,
            path: path.to_path_buf(),
        })
    }

    /// The path written (`<stdout>` for standard output), for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True when writing to standard output.
    pub fn is_stdout(&self) -> bool {
        matches!(self.sink, Sink::Stdout(_))
    }

    /// Flushes everything and, for a file, moves it into place.
    pub fn finish(self) -> Result<()> {
        let path = self.path;
        let file = match self.sink {
            Sink::Stdout(mut w) => return w.flush().map_err(io_err(&path)),
            Sink::Device(mut w) => return w.flush().map_err(io_err(&path)),
            Sink::File(w) => w,
            Sink::Gzip(gz) => gz.finish().map_err(io_err(&path))?,
        };
        file.into_inner()
            .map_err(|e| SeqError::Io {
                path: path.clone(),
                source: e.into_error(),
            })?
            .commit()
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.sink {
            Sink::Stdout(w) => w.write(buf),
            Sink::Device(w) => w.write(buf),
            Sink::File(w) => w.write(buf),
            Sink::Gzip(w) => w.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match &mut self.sink {
            Sink::Stdout(w) => w.write_all(buf),
            Sink::Device(w) => w.write_all(buf),
            Sink::File(w) => w.write_all(buf),
            Sink::Gzip(w) => w.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.sink {
            Sink::Stdout(w) => w.flush(),
            Sink::Device(w) => w.flush(),
            Sink::File(w) => w.flush(),
            Sink::Gzip(w) => w.flush(),
        }
    }
}

/// Strand of a BED feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Strand {
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `.`: no strand.
    #[default]
    Unknown,
}

impl Strand {
    fn as_char(self) -> char {
        match self {
            Strand::Plus => '+',
            Strand::Minus => '-',
            Strand::Unknown => '.',
        }
    }
}

/// A field must not break the tab-separated layout.
fn check_field(what: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(SeqError::Param(format!("{what} is empty")));
    }
    if value.bytes().any(|b| matches!(b, b'\t' | b'\n' | b'\r')) {
        return Err(SeqError::Param(format!(
            "{what} {value:?} contains a tab or line break"
        )));
    }
    Ok(())
}

fn check_interval(chrom: &str, start: u64, end: u64) -> Result<()> {
    check_field("chromosome name", chrom)?;
    if start > end {
        return Err(SeqError::Param(format!(
            "interval {chrom}:{start}-{end} has start > end"
        )));
    }
    Ok(())
}

fn check_finite(what: &str, v: f64) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(SeqError::Param(format!(
            "{what} {v} is not a finite number"
        )))
    }
}

/// Writes BED6 lines: chrom, start, end (0-based, half-open), name, score, strand.
#[derive(Debug)]
pub struct BedWriter<W: Write> {
    out: W,
    path: PathBuf,
    line: String,
}

impl<W: Write> BedWriter<W> {
    /// Wraps a writer; `path` names it in error messages.
    pub fn new(out: W, path: impl Into<PathBuf>) -> Self {
        Self {
            out,
            path: path.into(),
            line: String::new(),
        }
    }

    /// Writes one feature. BED scores are meant to be 0..=1000 integers, but
    /// any finite number is written as given (shortest exact form).
    pub fn write(
        &mut self,
        chrom: &str,
        start: u64,
        end: u64,
        name: &str,
        score: f64,
        strand: Strand,
    ) -> Result<()> {
        check_interval(chrom, start, end)?;
        check_field("BED name", name)?;
        check_finite("BED score", score)?;
        self.line.clear();
        // Writing into a String cannot fail.
        let _ = writeln!(
            self.line,
            "{chrom}\t{start}\t{end}\t{name}\t{score}\t{}",
            strand.as_char()
        );
        self.out
            .write_all(self.line.as_bytes())
            .map_err(io_err(&self.path))
    }

    /// Gives the writer back (to call [`Output::finish`]).
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// Writes bedGraph lines: chrom, start, end (0-based, half-open), value.
#[derive(Debug)]
pub struct BedGraphWriter<W: Write> {
    out: W,
    path: PathBuf,
    line: String,
}

impl<W: Write> BedGraphWriter<W> {
    /// Wraps a writer; `path` names it in error messages.
    pub fn new(out: W, path: impl Into<PathBuf>) -> Self {
        Self {
            out,
            path: path.into(),
            line: String::new(),
        }
    }

    /// Writes the optional `track` line genome browsers use for a name.
    pub fn write_track_line(&mut self, name: &str) -> Result<()> {
        check_field("track name", name)?;
        if name.contains('"') {
            return Err(SeqError::Param(format!(
                "track name {name:?} contains a double quote"
            )));
        }
        writeln!(self.out, "track type=bedGraph name=\"{name}\"").map_err(io_err(&self.path))
    }

    /// Writes one interval with its value (shortest exact decimal form).
    pub fn write(&mut self, chrom: &str, start: u64, end: u64, value: f64) -> Result<()> {
        check_interval(chrom, start, end)?;
        check_finite("bedGraph value", value)?;
        self.line.clear();
        let _ = writeln!(self.line, "{chrom}\t{start}\t{end}\t{value}");
        self.out
            .write_all(self.line.as_bytes())
            .map_err(io_err(&self.path))
    }

    /// Gives the writer back (to call [`Output::finish`]).
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// Writes a TSV table: a snake_case header, then rows of the same width.
///
/// Tabs, line breaks and backslashes inside fields are escaped as `\t`, `\n`,
/// `\r` and `\\`, so every row stays one line and the escaping is reversible.
#[derive(Debug)]
pub struct TsvWriter<W: Write> {
    out: W,
    path: PathBuf,
    columns: usize,
    line: String,
    field: String,
}

impl<W: Write> TsvWriter<W> {
    /// Writes the header; each column name must be snake_case
    /// (`[a-z][a-z0-9_]*`).
    pub fn new(mut out: W, path: impl Into<PathBuf>, header: &[&str]) -> Result<Self> {
        let path = path.into();
        if header.is_empty() {
            return Err(SeqError::Param("TSV header has no columns".to_string()));
        }
        for name in header {
            let ok = name.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !ok {
                return Err(SeqError::Param(format!(
                    "TSV column name {name:?} is not snake_case"
                )));
            }
        }
        writeln!(out, "{}", header.join("\t")).map_err(io_err(&path))?;
        Ok(Self {
            out,
            path,
            columns: header.len(),
            line: String::new(),
            field: String::new(),
        })
    }

    /// Writes one row; it must have as many fields as the header.
    pub fn write_row<I, T>(&mut self, fields: I) -> Result<()>
    where
        I: IntoIterator<Item = T>,
        T: fmt::Display,
    {
        self.line.clear();
        let mut n = 0;
        for value in fields {
            if n > 0 {
                self.line.push('\t');
            }
            self.field.clear();
            let _ = write!(self.field, "{value}");
            for c in self.field.chars() {
                match c {
                    '\t' => self.line.push_str("\\t"),
                    '\n' => self.line.push_str("\\n"),
                    '\r' => self.line.push_str("\\r"),
                    '\\' => self.line.push_str("\\\\"),
                    c => self.line.push(c),
                }
            }
            n += 1;
        }
        if n != self.columns {
            return Err(SeqError::Param(format!(
                "TSV row has {n} fields but the header has {}",
                self.columns
            )));
        }
        self.line.push('\n');
        self.out
            .write_all(self.line.as_bytes())
            .map_err(io_err(&self.path))
    }

    /// Gives the writer back (to call [`Output::finish`]).
    pub fn into_inner(self) -> W {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::MultiGzDecoder;
    use std::io::Read;

    fn files_in(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn atomic_file_appears_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.txt");
        let mut f = AtomicFile::create(&dest).unwrap();
        f.write_all(b"hello\n").unwrap();
        assert!(!dest.exists());
        assert_eq!(
            files_in(dir.path()).len(),
            1,
            "the temp file lives beside dest"
        );
        f.commit().unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"hello\n");
        assert_eq!(files_in(dir.path()), ["out.txt"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // Same mode as a plainly created file: umask applies, not tempfile's 0600.
            let plain = dir.path().join("plain.txt");
            std::fs::write(&plain, b"x").unwrap();
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode();
            assert_eq!(mode(&dest), mode(&plain));
        }
    }

    #[test]
    fn dropped_output_leaves_old_file_and_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("table.tsv");
        std::fs::write(&dest, b"old\n").unwrap();
        {
            let mut out = Output::create(Some(&dest)).unwrap();
            out.write_all(b"new, but the command failed\n").unwrap();
            // dropped without finish()
        }
        assert_eq!(std::fs::read(&dest).unwrap(), b"old\n");
        assert_eq!(files_in(dir.path()), ["table.tsv"]);
    }

    #[test]
    fn gz_suffix_compresses() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("w.bed.gz");
        let mut out = Output::create(Some(&dest)).unwrap();
        assert!(!out.is_stdout());
        let text = "chr1\t0\t10\tw\t0\t.\n".repeat(1000);
        out.write_all(text.as_bytes()).unwrap();
        out.finish().unwrap();
        let raw = std::fs::read(&dest).unwrap();
        assert_eq!(&raw[..2], &[0x1f, 0x8b]);
        assert!(raw.len() < text.len() / 10);
        let mut back = String::new();
        MultiGzDecoder::new(std::fs::File::open(&dest).unwrap())
            .read_to_string(&mut back)
            .unwrap();
        assert_eq!(back, text);
    }

    #[test]
    fn dash_and_none_mean_stdout() {
        assert!(Output::create(None).unwrap().is_stdout());
        let out = Output::create(Some(Path::new("-"))).unwrap();
        assert_eq!(out.path(), Path::new("<stdout>"));
    }

    #[test]
    fn missing_directory_is_an_error_naming_the_file_and_directory() {
        let err = Output::create(Some(Path::new("/nonexistent-dir/x.tsv"))).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("/nonexistent-dir/x.tsv"), "{msg}");
        assert!(msg.contains("does not exist"), "{msg}");
    }

    #[test]
    fn bed_and_bedgraph_lines() {
        let mut bed = BedWriter::new(Vec::new(), "x.bed");
        bed.write("chr1", 0, 300, "prom1", 975.0, Strand::Plus)
            .unwrap();
        bed.write("chr2", 10, 20, "w", 0.5, Strand::Unknown)
            .unwrap();
        assert!(bed.write("chr1", 5, 4, "bad", 0.0, Strand::Minus).is_err());
        assert!(bed
            .write("chr\t1", 0, 4, "bad", 0.0, Strand::Minus)
            .is_err());
        assert!(bed.write("chr1", 0, 4, "", 0.0, Strand::Minus).is_err());
        assert!(bed
            .write("chr1", 0, 4, "n", f64::NAN, Strand::Minus)
            .is_err());
        assert_eq!(
            String::from_utf8(bed.into_inner()).unwrap(),
            "chr1\t0\t300\tprom1\t975\t+\nchr2\t10\t20\tw\t0.5\t.\n"
        );

        let mut bg = BedGraphWriter::new(Vec::new(), "x.bedgraph");
        bg.write_track_line("promoter p").unwrap();
        bg.write("chrM", 100, 110, 0.25).unwrap();
        bg.write("chrM", 110, 120, -3.0).unwrap();
        assert!(bg.write("chrM", 0, 1, f64::INFINITY).is_err());
        assert_eq!(
            String::from_utf8(bg.into_inner()).unwrap(),
            "track type=bedGraph name=\"promoter p\"\nchrM\t100\t110\t0.25\nchrM\t110\t120\t-3\n"
        );
    }

    #[test]
    fn tsv_header_rows_and_escaping() {
        let mut t = TsvWriter::new(Vec::new(), "t.tsv", &["token", "count", "tf_idf2"]).unwrap();
        t.write_row(["ACGT", "12", "0.5"]).unwrap();
        t.write_row([&"a\tb" as &dyn fmt::Display, &7, &"x\\y\nz"])
            .unwrap();
        let err = t.write_row(["only", "two"]).unwrap_err();
        assert!(err.to_string().contains("2 fields"), "{err}");
        assert_eq!(
            String::from_utf8(t.into_inner()).unwrap(),
            "token\tcount\ttf_idf2\nACGT\t12\t0.5\na\\tb\t7\tx\\\\y\\nz\n"
        );
        for bad in [&["Token"][..], &["count", "2x"], &["a b"], &[]] {
            assert!(TsvWriter::new(Vec::new(), "t.tsv", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn writers_compose_with_atomic_output() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("p.bed");
        let out = Output::create(Some(&dest)).unwrap();
        let path = out.path().to_path_buf();
        let mut bed = BedWriter::new(out, path);
        bed.write("chr1", 1, 2, "a", 1.0, Strand::Minus).unwrap();
        bed.into_inner().finish().unwrap();
        assert_eq!(
            std::fs::read_to_string(&dest).unwrap(),
            "chr1\t1\t2\ta\t1\t-\n"
        );
    }
}
