//! The real Jane Austen database from `scripts/fetch-english.sh`; skipped
//! with a printed reason when it has not been fetched.

use dnalm_book::english::austen_rdb_path;
use dnalm_book::EnglishCorpus;

#[test]
fn the_six_novels_read_as_paragraphs() {
    let path = austen_rdb_path();
    if !path.is_file() {
        eprintln!(
            "skipped: {} is absent (run scripts/fetch-english.sh)",
            path.display()
        );
        return;
    }
    let c = EnglishCorpus::open(&path).unwrap();
    let names: Vec<&str> = c.docs.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "EMMA",
            "MANSFIELD PARK",
            "NORTHANGER ABBEY",
            "Persuasion",
            "PRIDE AND PREJUDICE",
            "SENSE AND SENSIBILITY"
        ]
    );
    let n = c.n_paragraphs();
    assert!((10_000..40_000).contains(&n), "{n} paragraphs");
    let pp = &c.docs[4].paragraphs;
    assert!(
        pp.iter().any(|p| p.starts_with(
            "It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife."
        )),
        "Pride and Prejudice's first sentence should be one paragraph's start"
    );
    let s = c.split(1);
    assert!(s.rule.contains("SENSE AND SENSIBILITY"), "{}", s.rule);
    eprintln!(
        "{n} paragraphs, {} training, {} held out",
        s.train.len(),
        s.held_out.len()
    );
}
