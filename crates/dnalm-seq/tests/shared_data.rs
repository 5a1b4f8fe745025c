//! Reads the real genomes in `../shared/data` (not part of the repository);
//! each test skips, saying why, when the data is absent.

use std::path::{Path, PathBuf};

use dnalm_seq::{acgt_runs, FastxReader, GapPolicy, Record, SeqError, WindowSpec};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn data_file(rel: &str) -> Option<PathBuf> {
    let path = Path::new(DATA).join(rel);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("skipping: {} not found", path.display());
        None
    }
}

fn read_one(path: &Path) -> Record {
    let mut reader = FastxReader::open(path).unwrap();
    assert!(reader.is_gzip());
    let rec = reader.next_record().unwrap().unwrap();
    assert!(reader.next_record().is_none(), "one record expected");
    rec
}

#[test]
fn hg38_chr2_start_is_one_n_run_then_acgt() {
    let Some(path) = data_file("genome/hg38_chr2_1-2333275.fa.gz") else {
        return;
    };
    let rec = read_one(&path);
    assert_eq!(rec.id, "chr2");
    assert_eq!(rec.line, 1);
    assert_eq!(rec.seq.len(), 2_333_275);
    assert!(rec.seq[..10_000].iter().all(|&b| b == b'N'));
    assert_eq!(acgt_runs(&rec.seq), vec![10_000..2_333_275]);

    // Split windows start at the run; Drop windows follow the record grid and
    // skip those touching the N run; Fail stops at base 0.
    let p = path.as_path();
    let split = WindowSpec::new(510).windows(&rec, p).unwrap();
    assert_eq!(split.first().map(|w| w.start), Some(10_000));
    assert_eq!(split.len(), (2_333_275 - 10_000) / 510);
    let drop = WindowSpec::new(510)
        .with_gaps(GapPolicy::Drop)
        .windows(&rec, p)
        .unwrap();
    assert_eq!(drop.first().map(|w| w.start), Some(10_200));
    assert_eq!(drop.len(), 2_333_275 / 510 - 20);
    for w in split.iter().chain(&drop) {
        assert_eq!(&rec.seq[w.start as usize..w.end as usize], w.seq);
    }
    match WindowSpec::new(510)
        .with_gaps(GapPolicy::Fail)
        .windows(&rec, p)
    {
        Err(SeqError::Gap { pos, base, .. }) => assert_eq!((pos, base), (0, b'N')),
        other => panic!("{other:?}"),
    }
}

#[test]
fn human_chrm_has_16569_bases_and_one_n() {
    let Some(path) = data_file("genome/human_chrM_NC_012920.1.fa.gz") else {
        return;
    };
    let rec = read_one(&path);
    assert_eq!(rec.id, "HS#NC_012920.1");
    assert_eq!(rec.desc, None);
    assert_eq!(rec.seq.len(), 16_569);
    let ns: Vec<usize> = (0..rec.seq.len()).filter(|&i| rec.seq[i] == b'N').collect();
    assert_eq!(ns.len(), 1);
    assert!(rec.seq.iter().all(|b| b"ACGTN".contains(b)));
    let runs = acgt_runs(&rec.seq);
    assert_eq!(runs, vec![0..ns[0], ns[0] + 1..16_569]);
}
