//! Tests of [`super::FastxReader`]: formats, gzip, masks, errors.

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
    let err =
        FastxReader::from_reader("seq.txt", Cursor::new(b"ACGT\n>x\nAC\n".to_vec())).unwrap_err();
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
    let (_, msg) = parse_msg(FastxReader::from_reader("fake.gz", Cursor::new(fake)).unwrap_err());
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
