//! The whole writing pipeline on a generated two-dialect genome with small
//! honest models: every base read once, breaks where the model learned them,
//! sections where the text changes, all versions written atomically.

use std::collections::HashMap;
use std::io::Cursor;
use std::path::Path;

use dnalm_book::book::{Block, Chapter, Vocab};
use dnalm_book::model::is_dna_word;
use dnalm_book::pipeline::{BookParams, BookPipeline, BookStats};
use dnalm_book::testing::{BigramLm, GreedyTokenizer};
use dnalm_book::text::{GenomeText, Piece, RecordText};
use dnalm_book::translate::Translator;
use dnalm_book::write::BookFiles;
use dnalm_book::BookTokenizer;
use dnalm_seq::{FastxReader, RecordSelector};

const A_WORDS: [&str; 3] = ["GC", "CCG", "AAT"];
const B_WORDS: [&str; 4] = ["TTG", "GGA", "CAC", "ACA"];

fn tokenizer() -> GreedyTokenizer {
    let mut w = vec!["TATA"];
    w.extend(A_WORDS);
    w.extend(B_WORDS);
    GreedyTokenizer::new(&w)
}

/// A small LCG: the test's data is fixed by its seed.
struct Lcg(u64);
impl Lcg {
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        from[(self.0 >> 33) as usize % from.len()]
    }
}

/// `n` paragraphs of 24 words of one dialect, each ended by TATA.
fn region(rng: &mut Lcg, words: &[&str], n: usize) -> String {
    let mut s = String::new();
    for _ in 0..n {
        for _ in 0..24 {
            s.push_str(rng.pick(words));
        }
        s.push_str("TATA");
    }
    s
}

/// Trained on "English" where <p_end> follows TATA and "." follows AAT / GGA.
fn model(tok: &GreedyTokenizer) -> BigramLm {
    let mut rng = Lcg(7);
    let mut seq = Vec::new();
    for i in 0..200 {
        let words: &[&str] = if i % 2 == 0 { &A_WORDS } else { &B_WORDS };
        for _ in 0..10 {
            let w = rng.pick(words);
            seq.push(tok.id(w).unwrap());
            if w == "AAT" || w == "GGA" {
                seq.push(GreedyTokenizer::DOT);
            }
        }
        seq.push(tok.id("TATA").unwrap());
        seq.push(GreedyTokenizer::P_END);
    }
    BigramLm::train(tok.vocab_size(), &[seq], 0.05, 512)
}

fn fasta() -> String {
    let mut rng = Lcg(42);
    let a = region(&mut rng, &A_WORDS, 10);
    let b = region(&mut rng, &B_WORDS, 10);
    let c = region(&mut rng, &A_WORDS, 3);
    format!(">chr1 a header with TATA in it\nNNNN{a}NNRNNNNN{b}\n>chr2\nNNNN\n>chr3\n{c}\n")
}

fn read(fa: &str) -> GenomeText {
    let r = FastxReader::from_reader("gen.fa", Cursor::new(fa.as_bytes().to_vec())).unwrap();
    GenomeText::new(r, RecordSelector::all())
}

fn run(
    fa: &str,
    sink: &mut dyn FnMut(&Chapter) -> dnalm_book::Result<()>,
) -> dnalm_book::Result<BookStats> {
    let tok = tokenizer();
    let lm = model(&tok);
    let p = BookPipeline::new(&tok, &lm, &lm, BookParams::default())?;
    p.run(&mut read(fa), sink, &mut |_| {})
}

#[test]
fn every_word_once_breaks_where_learned_sections_where_the_text_changes() {
    let tok = tokenizer();
    let fa = fasta();
    let mut chapters: Vec<Chapter> = Vec::new();
    let stats = run(&fa, &mut |c| {
        chapters.push(c.clone());
        Ok(())
    })
    .unwrap();

    // The text is exactly the records' runs, tokenized, each word once.
    let mut expected: Vec<(String, u32, u64, u64)> = Vec::new();
    let mut expected_gaps = Vec::new();
    let mut reader = read(&fa);
    while let Some(rec) = reader.next_record() {
        let rec: RecordText = rec.unwrap();
        for p in rec.pieces(&tok, 1000) {
            match p.unwrap() {
                Piece::Run(ws) => {
                    expected.extend(ws.iter().map(|w| (rec.name.clone(), w.id, w.start, w.end)))
                }
                Piece::Gap(g) => expected_gaps.push((rec.name.clone(), g)),
            }
        }
    }
    let mut got = Vec::new();
    let mut gaps = Vec::new();
    for ch in &chapters {
        for s in &ch.sections {
            for b in &s.blocks {
                match b {
                    Block::Gap(g) => gaps.push((ch.record.clone(), *g)),
                    Block::Paragraph(p) => {
                        got.extend(p.words().map(|w| (ch.record.clone(), w.id, w.start, w.end)))
                    }
                }
            }
        }
    }
    assert_eq!(got, expected);
    assert_eq!(gaps, expected_gaps);
    assert_eq!(gaps.len(), 3);
    assert!(!gaps[1].1.all_n); // NNRNNNNN holds an IUPAC R
    assert_eq!(stats.words as usize, expected.len());

    // Paragraphs end after TATA, one per generated paragraph.
    let tata = tok.id("TATA").unwrap();
    let paras: Vec<_> = chapters
        .iter()
        .flat_map(|c| c.sections.iter().flat_map(|s| s.paragraphs().cloned()))
        .collect();
    assert_eq!(paras.len(), 23);
    assert_eq!(stats.paragraphs, 23);
    for p in &paras {
        assert_eq!(p.words().last().unwrap().id, tata);
        for s in &p.sentences[..p.sentences.len() - 1] {
            let last = tok.text(s.words.last().unwrap().id);
            assert!(last == "AAT" || last == "GGA", "sentence ends with {last}");
        }
    }
    assert!(stats.sentences > 40, "{stats:?}");

    // chr1: the A region and the B region are different sections; a new
    // record is a new chapter; chr2 (gaps only) is a chapter of one gap.
    let chr1: Vec<&Chapter> = chapters.iter().filter(|c| c.record == "chr1").collect();
    let sections: Vec<_> = chr1.iter().flat_map(|c| c.sections.iter()).collect();
    assert_eq!(sections.len(), 2, "{sections:#?}");
    assert_eq!(sections[0].paragraphs().count(), 10);
    assert!(matches!(sections[0].blocks[0], Block::Gap(_)));
    assert_eq!(sections[1].paragraphs().count(), 10);
    let chr2: Vec<&Chapter> = chapters.iter().filter(|c| c.record == "chr2").collect();
    assert_eq!(chr2.len(), 1);
    assert_eq!(chr2[0].sections[0].blocks.len(), 1);
    assert!(chr2[0].sections[0].title.is_empty());
    // Titles are three distinct DNA words.
    for s in sections {
        assert_eq!(s.title.len(), 3);
        assert!(s.title.iter().all(|&i| is_dna_word(tok.text(i))));
    }
    let numbers: Vec<usize> = chapters.iter().map(|c| c.number).collect();
    assert_eq!(numbers, (1..=chapters.len()).collect::<Vec<_>>());
}

fn dictionary(tok: &GreedyTokenizer, leave_out: Option<&str>) -> Translator {
    let mut map = HashMap::new();
    for id in 0..tok.vocab_size() as u32 {
        let t = tok.text(id);
        if is_dna_word(t) && Some(t) != leave_out {
            map.insert(t.to_string(), format!("olia{id}"));
        }
    }
    Translator::new(map, "dict.tsv")
}

fn write_book(dir: &Path, fa: &str, english: Option<&Translator>) -> dnalm_book::Result<BookStats> {
    let tok = tokenizer();
    let vocab = Vocab::of(&tok)?;
    let mut files = BookFiles::create(dir, "gen.fa", &vocab, english)?;
    let stats = run(fa, &mut |c| files.chapter(c))?;
    files.finish(&serde_json::to_value(&stats).unwrap())?;
    Ok(stats)
}

#[test]
fn the_book_folder_holds_every_version() {
    let tok = tokenizer();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("book");
    let dict = dictionary(&tok, None);
    dict.check(&tok).unwrap();
    let stats = write_book(&dir, &fasta(), Some(&dict)).unwrap();

    let md = std::fs::read_to_string(dir.join("book.md")).unwrap();
    assert!(md.contains("# CHAPTER-1 "));
    assert!(md.contains("## SECTION-2 "));
    assert!(md.contains("[gap chr1:0-4, 4 N]"));
    assert!(md.contains(" . "));
    assert!(!md.contains("header"));
    let en = std::fs::read_to_string(dir.join("book.en.md")).unwrap();
    assert!(en.contains("olia"));
    assert!(
        !en.split_whitespace().any(is_dna_word),
        "a DNA word in the English version"
    );
    assert_eq!(
        en.matches("# CHAPTER-").count(),
        md.matches("# CHAPTER-").count()
    );

    let html = std::fs::read_to_string(dir.join("book.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    assert!(!html.contains("http") && !html.contains("src="));
    assert_eq!(html.matches("<p class=\"para\"").count(), stats.paragraphs);
    assert!(html.contains("<span class=\"coord\">chr1:4-"));

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("book.json")).unwrap()).unwrap();
    let chapters = json["chapters"].as_array().unwrap();
    assert_eq!(chapters.len(), stats.chapters);
    let mut words = 0;
    for c in chapters {
        for s in c["sections"].as_array().unwrap() {
            for b in s["blocks"].as_array().unwrap() {
                for sent in b["sentences"].as_array().into_iter().flatten() {
                    for w in sent["words"].as_array().unwrap() {
                        let (t, a, e) = (
                            w[0].as_str().unwrap(),
                            w[1].as_u64().unwrap(),
                            w[2].as_u64().unwrap(),
                        );
                        assert_eq!(t.len() as u64, e - a);
                        words += 1;
                    }
                }
            }
        }
    }
    assert_eq!(words, stats.words);
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["paragraphs"], 23);
    // Nothing but the book in the folder.
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "book.en.md",
            "book.html",
            "book.json",
            "book.md",
            "run.json"
        ]
    );
}

#[test]
fn a_missing_dictionary_word_or_no_acgt_leaves_no_book() {
    let tok = tokenizer();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("book");
    let dict = dictionary(&tok, Some("GGA"));
    assert!(dict
        .check(&tok)
        .unwrap_err()
        .to_string()
        .contains("\"GGA\""));
    let err = write_book(&dir, &fasta(), Some(&dict))
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"GGA\" is not in the dictionary"), "{err}");
    assert!(!dir.exists(), "a partial book was left");

    let err = write_book(&dir, ">chr1\nNNNNRY\n>chr2\nNN\n", None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("gen.fa: no A/C/G/T bases"), "{err}");
    assert!(!dir.exists());
    // An existing folder keeps what it had, and gets no temporary files.
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    assert!(write_book(&dir, ">c\nNN\n", None).is_err());
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["notes.txt"]);
}

#[test]
fn the_window_offset_moves_windows_not_the_text() {
    let tok = tokenizer();
    let lm = model(&tok);
    let fa = fasta();
    let mut counts = Vec::new();
    for offset in [0, 37, 150] {
        let mut params = BookParams::default();
        params.paragraphs.offset = offset;
        params.sentences.offset = offset;
        let p = BookPipeline::new(&tok, &lm, &lm, params).unwrap();
        let s = p.run(&mut read(&fa), &mut |_| Ok(()), &mut |_| {}).unwrap();
        counts.push((s.words, s.paragraphs));
    }
    // A model this clear gives the same paragraphs from any grid.
    assert!(counts.iter().all(|c| *c == counts[0]), "{counts:?}");
}
