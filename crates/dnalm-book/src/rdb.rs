//! The character vectors of an R lazy-load database (`Rdata.rdb`): the form
//! in which the Debian package `r-cran-janeaustenr` ships Jane Austen's six
//! novels, one line of text per element. Read here so that the book's default
//! English corpus comes from a package registry with no R installed.
//!
//! The file is a concatenation of blocks, each a 4-byte big-endian length of
//! the uncompressed data followed by a zlib stream holding one R serialized
//! object in XDR form (`"X\n"`, format 2 or 3). Only character vectors
//! (STRSXP, type 16, of CHARSXP elements) are taken; other objects (factors,
//! data frames) are skipped whole, which works because every block is
//! self-contained.

use std::io::Read;
use std::path::Path;

use crate::{BookError, Result};

const STRSXP: u32 = 16;
const CHARSXP: u32 = 9;

/// One character vector of the database: its block index and its elements
/// (`None` for R's `NA`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RStrings {
    pub block: usize,
    pub strings: Vec<Option<String>>,
}

/// A cursor over one decompressed block.
struct Xdr<'a> {
    bytes: &'a [u8],
    pos: usize,
    path: &'a Path,
    block: usize,
}

impl<'a> Xdr<'a> {
    fn fail(&self, what: &str) -> BookError {
        BookError::Data(format!(
            "{}: block {} (byte {} of its data): {what}",
            self.path.display(),
            self.block,
            self.pos
        ))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.bytes.len() - self.pos < n {
            return Err(self.fail(&format!("truncated: {n} more bytes expected")));
        }
        let bytes: &'a [u8] = self.bytes;
        let s = &bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn int(&mut self) -> Result<i32> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// Parse one serialized object; `Ok(None)` when it is not a character vector.
fn parse_block(data: &[u8], path: &Path, block: usize) -> Result<Option<RStrings>> {
    let mut x = Xdr {
        bytes: data,
        pos: 0,
        path,
        block,
    };
    let magic = x.take(2)?;
    if magic != b"X\n" {
        return Err(x.fail(&format!(
            "not an XDR R serialization (starts with {:?}; ASCII and native formats are not read)",
            String::from_utf8_lossy(magic)
        )));
    }
    let version = x.int()?;
    let _written_by = x.int()?;
    let _min_reader = x.int()?;
    match version {
        2 => {}
        3 => {
            let n = x.int()?;
            if n < 0 {
                return Err(x.fail("negative native-encoding length"));
            }
            x.take(n as usize)?;
        }
        v => return Err(x.fail(&format!("serialization format {v} (2 or 3 expected)"))),
    }
    let flags = x.int()? as u32;
    if flags & 0xFF != STRSXP {
        return Ok(None);
    }
    let len = x.int()?;
    let len = if len == -1 {
        // Long vectors: two more ints give the length.
        let hi = x.int()? as u64;
        let lo = x.int()? as u32 as u64;
        (hi << 32 | lo) as usize
    } else if len < 0 {
        return Err(x.fail(&format!("character vector of length {len}")));
    } else {
        len as usize
    };
    let mut strings = Vec::with_capacity(len.min(1 << 20));
    for i in 0..len {
        let f = x.int()? as u32;
        if f & 0xFF != CHARSXP {
            return Err(x.fail(&format!(
                "element {i} has R type {} where a string (9) was expected",
                f & 0xFF
            )));
        }
        let n = x.int()?;
        if n == -1 {
            strings.push(None);
            continue;
        }
        if n < 0 {
            return Err(x.fail(&format!("element {i} has length {n}")));
        }
        let bytes = x.take(n as usize)?;
        let s = std::str::from_utf8(bytes)
            .map_err(|e| x.fail(&format!("element {i} is not valid UTF-8: {e}")))?;
        strings.push(Some(s.to_string()));
    }
    Ok(Some(RStrings { block, strings }))
}

/// Every character vector in an R lazy-load database, in file order.
pub fn read_rdb(path: &Path) -> Result<Vec<RStrings>> {
    let data = std::fs::read(path).map_err(|e| BookError::io(path, e))?;
    parse_rdb(&data, path)
}

/// [`read_rdb`] over bytes already in memory (`path` names them in errors).
pub fn parse_rdb(data: &[u8], path: &Path) -> Result<Vec<RStrings>> {
    let mut out = Vec::new();
    let mut off = 0usize;
    let mut block = 0usize;
    while off < data.len() {
        if data.len() - off < 4 {
            return Err(BookError::Data(format!(
                "{}: {} stray bytes at offset {off} (a block starts with a 4-byte length)",
                path.display(),
                data.len() - off
            )));
        }
        let expect = u32::from_be_bytes([data[off], data[off + 1], data[off + 2], data[off + 3]]);
        let mut z = flate2::bufread::ZlibDecoder::new(&data[off + 4..]);
        let mut plain = Vec::with_capacity(expect as usize);
        z.read_to_end(&mut plain).map_err(|e| {
            BookError::Data(format!(
                "{}: block {block} at offset {off}: not a zlib stream: {e}",
                path.display()
            ))
        })?;
        if plain.len() != expect as usize {
            return Err(BookError::Data(format!(
                "{}: block {block} at offset {off}: {} bytes uncompressed, its header says {expect}",
                path.display(),
                plain.len()
            )));
        }
        let used = z.total_in() as usize;
        if let Some(v) = parse_block(&plain, path, block)? {
            out.push(v);
        }
        off += 4 + used;
        block += 1;
    }
    Ok(out)
}

/// Writing R databases, for tests here and in other crates.
pub mod write {
    use std::io::Write;

    fn int(out: &mut Vec<u8>, v: i32) {
        out.extend_from_slice(&v.to_be_bytes());
    }

    /// An XDR format-3 serialization of a character vector.
    pub fn serialize_strings(strings: &[Option<&str>]) -> Vec<u8> {
        let mut out = b"X\n".to_vec();
        for v in [3, 0x0004_0201, 0x0003_0500] {
            int(&mut out, v);
        }
        int(&mut out, 5);
        out.extend_from_slice(b"UTF-8");
        int(&mut out, super::STRSXP as i32);
        int(&mut out, strings.len() as i32);
        for s in strings {
            match s {
                Some(s) => {
                    int(&mut out, 0x0004_0009);
                    int(&mut out, s.len() as i32);
                    out.extend_from_slice(s.as_bytes());
                }
                None => {
                    int(&mut out, 0x9);
                    int(&mut out, -1);
                }
            }
        }
        out
    }

    /// An XDR serialization of an integer vector (a stand-in for the other
    /// objects a database holds).
    pub fn serialize_ints(values: &[i32]) -> Vec<u8> {
        let mut out = b"X\n".to_vec();
        for v in [2, 0x0004_0201, 0x0002_0300, 13, values.len() as i32] {
            int(&mut out, v);
        }
        for &v in values {
            int(&mut out, v);
        }
        out
    }

    /// One database block: uncompressed length + zlib stream.
    pub fn block(serialized: &[u8]) -> Vec<u8> {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(serialized).expect("writing to memory");
        let packed = z.finish().expect("writing to memory");
        let mut out = (serialized.len() as u32).to_be_bytes().to_vec();
        out.extend(packed);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::write::*;
    use super::*;

    #[test]
    fn reads_character_vectors_and_skips_other_objects() {
        let mut db = block(&serialize_strings(&[Some("EMMA"), Some(""), None]));
        db.extend(block(&serialize_ints(&[1, 2, 3])));
        db.extend(block(&serialize_strings(&[Some("caf\u{e9} au lait")])));
        let got = parse_rdb(&db, Path::new("x.rdb")).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].block, 0);
        assert_eq!(
            got[0].strings,
            vec![Some("EMMA".into()), Some(String::new()), None]
        );
        assert_eq!(got[1].block, 2);
        assert_eq!(got[1].strings, vec![Some("caf\u{e9} au lait".into())]);
    }

    #[test]
    fn damaged_files_name_the_block() {
        let good = block(&serialize_strings(&[Some("a line")]));
        let mut db = good.clone();
        db.extend_from_slice(&good[..good.len() - 3]);
        let e = parse_rdb(&db, Path::new("x.rdb")).unwrap_err().to_string();
        assert!(e.contains("x.rdb: block 1"), "{e}");
        let e = parse_rdb(b"\0\0\0\x05hello", Path::new("y.rdb"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("y.rdb: block 0") && e.contains("zlib"), "{e}");
        let e = parse_rdb(&block(b"A\n1\n"), Path::new("z.rdb"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not an XDR"), "{e}");
        let mut cut = serialize_strings(&[Some("a long line of text")]);
        cut.truncate(cut.len() - 4);
        let e = parse_rdb(&block(&cut), Path::new("z.rdb"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("truncated"), "{e}");
    }
}
