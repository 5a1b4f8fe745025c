//! `.npy` files (NumPy format 1.0) of little-endian `f32`, C order: the
//! matrices `embed`, `vectors` and `attention` write for NumPy to read
//! (`np.load`). The format is a magic string, a Python-dict header padded
//! to 64 bytes and the raw data; a writer this small is clearer than a
//! dependency, and a golden test pins its header bytes.

use std::io::Write;
use std::path::Path;

use crate::error::{Result, TaskError};

/// The bytes of a `.npy` file holding `data` with `shape`.
pub fn npy_bytes(shape: &[usize], data: &[f32]) -> Result<Vec<u8>> {
    let n: usize = shape.iter().product();
    if n != data.len() {
        return Err(TaskError::Config(format!(
            "npy: shape {shape:?} holds {n} values, got {}",
            data.len()
        )));
    }
    let dims = match shape {
        [d] => format!("({d},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {dims}, }}");
    // magic (6) + version (2) + header length (2) + header + '\n' is a
    // multiple of 64.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + 4 * data.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    Ok(out)
}

/// Write a `.npy` file whole (temporary file, then rename).
pub fn write_npy(path: &Path, shape: &[usize], data: &[f32]) -> Result<()> {
    let bytes = npy_bytes(shape, data)?;
    let mut f = dnalm_seq::AtomicFile::create(path)?;
    f.write_all(&bytes).map_err(|e| TaskError::io(path, e))?;
    f.commit()?;
    Ok(())
}

/// Read back a `.npy` file of little-endian `f32` in C order (what
/// [`write_npy`] writes): its shape and values.
pub fn read_npy(path: &Path) -> Result<(Vec<usize>, Vec<f32>)> {
    let bytes = std::fs::read(path).map_err(|e| TaskError::io(path, e))?;
    let bad =
        |why: &str| TaskError::Data(format!("{}: not a <f4 .npy file: {why}", path.display()));
    if bytes.len() < 10 || &bytes[..8] != b"\x93NUMPY\x01\x00" {
        return Err(bad("no NUMPY 1.0 magic"));
    }
    let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = bytes
        .get(10..10 + hlen)
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or_else(|| bad("short header"))?;
    if !header.contains("'descr': '<f4'") || !header.contains("'fortran_order': False") {
        return Err(bad("not little-endian f32 in C order"));
    }
    let dims = header
        .split("'shape': (")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| bad("no shape"))?;
    let shape = dims
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().map_err(|_| bad("bad shape")))
        .collect::<Result<Vec<usize>>>()?;
    let body = &bytes[10 + hlen..];
    let n: usize = shape.iter().product();
    if body.len() != 4 * n {
        return Err(bad("data length does not match the shape"));
    }
    let data = body
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Ok((shape, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_header() {
        let b = npy_bytes(&[2, 3], &[0.0; 6]).unwrap();
        let header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        assert_eq!(&b[..8], b"\x93NUMPY\x01\x00");
        assert_eq!(u16::from_le_bytes([b[8], b[9]]), 118);
        assert_eq!(&b[10..10 + header.len()], header);
        assert_eq!(b[127], b'\n');
        assert!(b[10 + header.len()..127].iter().all(|&c| c == b' '));
        assert_eq!(b.len(), 128 + 24);
        let one = npy_bytes(&[5], &[1.0; 5]).unwrap();
        assert!(std::str::from_utf8(&one[10..128])
            .unwrap()
            .contains("'shape': (5,), }"));
        assert!(npy_bytes(&[2, 2], &[0.0; 3]).is_err());
    }

    #[test]
    fn reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.npy");
        let data: Vec<f32> = (0..24).map(|i| i as f32 * 0.5 - 3.0).collect();
        write_npy(&p, &[2, 3, 4], &data).unwrap();
        let (shape, back) = read_npy(&p).unwrap();
        assert_eq!(shape, [2, 3, 4]);
        assert_eq!(back, data);
        std::fs::write(&p, b"not npy").unwrap();
        assert!(read_npy(&p).is_err());
    }
}
