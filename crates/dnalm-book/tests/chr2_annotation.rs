//! The soft-masked chr2 window of ../shared/data: its repeats and GC shifts
//! as the evaluation reads them; skipped with a printed reason when the
//! shared data is absent.

use std::path::Path;

use dnalm_book::softmask::{Annotation, GcShiftConfig};

#[test]
fn the_chr2_window_carries_repeats_and_gc_shifts() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/genome/hg38_chr2_1-2333275.fa.gz");
    if !path.is_file() {
        eprintln!("skipped: {} is absent", path.display());
        return;
    }
    let ann = Annotation::read_fasta(&path, GcShiftConfig::default()).unwrap();
    assert_eq!(ann.len(), 1);
    let a = &ann[0];
    assert_eq!(a.len, 2_333_275);
    // RepeatMasker covers about half of the human genome
    let masked = a.masked_bases() as f64 / a.len as f64;
    assert!((0.25..0.75).contains(&masked), "masked share {masked}");
    // runs are maximal and in order
    assert!(a.repeats.windows(2).all(|w| w[0].end < w[1].start));
    let edges = a.repeat_edges();
    assert!(edges.len() > 1_000, "{} repeat edges", edges.len());
    assert!(!a.gc_shifts.is_empty());
    assert!(a.gc_shifts.windows(2).all(|w| w[0] < w[1]));
    eprintln!(
        "chr2 window: {} repeats, {:.1}% masked, {} repeat edges, {} GC shifts",
        a.repeats.len(),
        100.0 * masked,
        edges.len(),
        a.gc_shifts.len()
    );
}
