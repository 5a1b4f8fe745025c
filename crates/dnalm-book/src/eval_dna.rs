//! The DNA side of the evaluation: a written book's paragraph and sentence
//! boundaries (genomic positions, from its `book.json`) against the
//! annotation its FASTA carries ([`crate::softmask`]), each edge set and
//! distance judged by [`crate::eval::enrichment`].
//!
//! Edge sets: `repeat` (starts and ends of soft-masked runs), `gc_shift`
//! (GC-shift points) and `any` (both). Levels: `paragraph` and `sentence`;
//! a level with no boundary between touching segments gives no row.

use std::collections::HashMap;
use std::io::BufReader;
use std::ops::Range;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::eval::{check_paragraphs, enrichment, Enrichment};
use crate::softmask::Annotation;
use crate::{BookError, Result};

#[derive(Deserialize)]
struct BookJson {
    format: String,
    chapters: Vec<ChapterJson>,
}

#[derive(Deserialize)]
struct ChapterJson {
    record: String,
    sections: Vec<SectionJson>,
}

#[derive(Deserialize)]
struct SectionJson {
    blocks: Vec<BlockJson>,
}

/// A paragraph block has `paragraph`, `start`, `end` and `sentences`; a gap
/// block only `gap` (ignored here).
#[derive(Deserialize)]
struct BlockJson {
    paragraph: Option<usize>,
    start: Option<u64>,
    end: Option<u64>,
    #[serde(default)]
    sentences: Vec<SpanJson>,
}

#[derive(Deserialize)]
struct SpanJson {
    start: u64,
    end: u64,
}

/// The segments of one record of a book.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecordSegments {
    pub record: String,
    pub paragraphs: Vec<Range<u64>>,
    pub sentences: Vec<Range<u64>>,
}

/// Paragraphs and sentences of a written book, per record in book order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BookSegments {
    pub records: Vec<RecordSegments>,
}

impl BookSegments {
    /// Reads `book.json` (format `dnalm-book`) and checks that each record's
    /// paragraphs and sentences are in order and do not overlap.
    pub fn read_json(path: &Path) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(|e| BookError::io(path, e))?;
        let book: BookJson = serde_json::from_reader(BufReader::with_capacity(1 << 16, file))
            .map_err(|e| BookError::Data(format!("{}: not a book JSON: {e}", path.display())))?;
        if book.format != "dnalm-book" {
            return Err(BookError::Data(format!(
                "{}: format {:?}, expected \"dnalm-book\"",
                path.display(),
                book.format
            )));
        }
        let mut out = BookSegments::default();
        let mut index: HashMap<String, usize> = HashMap::new();
        for ch in book.chapters {
            let i = *index.entry(ch.record.clone()).or_insert_with(|| {
                out.records.push(RecordSegments {
                    record: ch.record.clone(),
                    ..Default::default()
                });
                out.records.len() - 1
            });
            let rec = &mut out.records[i];
            for block in ch.sections.into_iter().flat_map(|s| s.blocks) {
                let (Some(n), Some(start), Some(end)) = (block.paragraph, block.start, block.end)
                else {
                    continue;
                };
                if block.sentences.is_empty() {
                    return Err(BookError::Data(format!(
                        "{}: record {:?}: paragraph {n} has no sentences",
                        path.display(),
                        ch.record
                    )));
                }
                rec.paragraphs.push(start..end);
                rec.sentences
                    .extend(block.sentences.iter().map(|s| s.start..s.end));
            }
        }
        for rec in &out.records {
            check_paragraphs(&rec.record, &rec.paragraphs)
                .and_then(|()| check_paragraphs(&rec.record, &rec.sentences))
                .map_err(|e| BookError::Data(format!("{}: {e}", path.display())))?;
        }
        if out.records.iter().all(|r| r.paragraphs.is_empty()) {
            return Err(BookError::Data(format!(
                "{}: the book has no paragraph",
                path.display()
            )));
        }
        Ok(out)
    }

    /// Paragraph count, and their mean length in bases.
    pub fn paragraph_stats(&self) -> (usize, f64) {
        let n: usize = self.records.iter().map(|r| r.paragraphs.len()).sum();
        let bases: u64 = self
            .records
            .iter()
            .flat_map(|r| &r.paragraphs)
            .map(|p| p.end - p.start)
            .sum();
        (n, bases as f64 / n.max(1) as f64)
    }
}

/// One line of the enrichment table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnrichmentRow {
    /// `paragraph` or `sentence`.
    pub level: String,
    /// `repeat`, `gc_shift` or `any`.
    pub edges: String,
    #[serde(flatten)]
    pub result: Enrichment,
}

/// Edge sets of one record: (name, sorted edges).
fn edge_sets(a: &Annotation) -> [(&'static str, Vec<u64>); 3] {
    let repeat: Vec<u64> = a.repeat_edges().iter().map(|&p| p as u64).collect();
    let gc: Vec<u64> = a.gc_shifts.iter().map(|&p| p as u64).collect();
    let mut any: Vec<u64> = repeat.iter().chain(&gc).copied().collect();
    any.sort_unstable();
    any.dedup();
    [("repeat", repeat), ("gc_shift", gc), ("any", any)]
}

/// The enrichment of the book's boundaries near each edge set at each
/// distance. Every record of the book must be annotated, and its segments
/// must lie inside the annotated sequence.
pub fn dna_enrichment(
    book: &BookSegments,
    annotations: &[Annotation],
    distances: &[u64],
    permutations: usize,
    seed: u64,
) -> Result<Vec<EnrichmentRow>> {
    let by_name: HashMap<&str, &Annotation> =
        annotations.iter().map(|a| (a.record.as_str(), a)).collect();
    let mut per_record = Vec::with_capacity(book.records.len());
    for rec in &book.records {
        let ann = by_name.get(rec.record.as_str()).ok_or_else(|| {
            BookError::Data(format!(
                "the genome has no record {:?}: is it the FASTA the book was written from?",
                rec.record
            ))
        })?;
        let end = rec.paragraphs.last().map_or(0, |p| p.end);
        if end > ann.len as u64 {
            return Err(BookError::Data(format!(
                "record {:?}: the book reaches base {end} but the genome's record has {} bases",
                rec.record, ann.len
            )));
        }
        per_record.push((rec, edge_sets(ann)));
    }
    let mut rows = Vec::new();
    for level in ["paragraph", "sentence"] {
        for (k, edges) in ["repeat", "gc_shift", "any"].into_iter().enumerate() {
            let input: Vec<(Vec<Range<u64>>, Vec<u64>)> = per_record
                .iter()
                .map(|(rec, sets)| {
                    let segs = if level == "paragraph" {
                        &rec.paragraphs
                    } else {
                        &rec.sentences
                    };
                    (segs.clone(), sets[k].1.clone())
                })
                .collect();
            let inner = input
                .iter()
                .flat_map(|(s, _)| s.windows(2))
                .any(|w| w[0].end == w[1].start);
            if !inner {
                continue;
            }
            for result in enrichment(&input, distances, permutations, seed)? {
                rows.push(EnrichmentRow {
                    level: level.to_string(),
                    edges: edges.to_string(),
                    result,
                });
            }
        }
    }
    if rows.is_empty() {
        return Err(BookError::Data(
            "no boundary between touching paragraphs or sentences in the book: nothing to evaluate"
                .into(),
        ));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::softmask::GcShiftConfig;

    type Para<'a> = (u64, u64, &'a [(u64, u64)]);

    fn book_json(paras: &[Para<'_>]) -> String {
        let blocks: Vec<String> = paras
            .iter()
            .enumerate()
            .map(|(i, (s, e, sents))| {
                let ss: Vec<String> = sents
                    .iter()
                    .map(|(a, b)| {
                        format!(r#"{{"start":{a},"end":{b},"words":[["ACGT",{a},{b}]]}}"#)
                    })
                    .collect();
                format!(
                    r#"{{"paragraph":{},"start":{s},"end":{e},"sentences":[{}]}}"#,
                    i + 1,
                    ss.join(",")
                )
            })
            .collect();
        format!(
            r#"{{"format":"dnalm-book","version":1,"source":"g.fa","coordinates":"0-based half-open",
            "chapters":[{{"chapter":1,"record":"chrT","start":0,"end":400,"title":["AC"],
            "sections":[{{"section":1,"start":0,"end":400,"title":[],
            "blocks":[{{"gap":{{"start":0,"end":10,"length":10,"all_n":true}}}},{}]}}]}}]}}"#,
            blocks.join(",")
        )
    }

    #[test]
    fn reads_a_book_and_finds_boundaries_at_repeat_edges() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("book.json");
        // paragraphs 10..100, 100..250, 250..400; sentences split the middle one
        let json = book_json(&[
            (10, 100, &[(10, 100)]),
            (100, 250, &[(100, 180), (180, 250)]),
            (250, 400, &[(250, 400)]),
        ]);
        std::fs::write(&path, json).unwrap();
        let book = BookSegments::read_json(&path).unwrap();
        assert_eq!(book.records.len(), 1);
        assert_eq!(book.records[0].paragraphs, [10..100, 100..250, 250..400]);
        assert_eq!(book.records[0].sentences.len(), 4);
        assert_eq!(book.paragraph_stats(), (3, 130.0));

        // repeats 100..250 exactly: both paragraph boundaries sit on edges
        let mut seq = vec![b'N'; 10];
        seq.extend(b"ACGT".repeat(98));
        let repeats = std::iter::once(100..250).collect();
        let ann = Annotation::new("chrT", &seq, repeats, GcShiftConfig::default());
        let rows = dna_enrichment(&book, std::slice::from_ref(&ann), &[0, 10], 50, 3).unwrap();
        let row = rows
            .iter()
            .find(|r| r.level == "paragraph" && r.edges == "repeat" && r.result.distance == 0)
            .unwrap();
        assert_eq!((row.result.boundaries, row.result.observed), (2, 1.0));
        // no GC shift in a uniform sequence: observed 0
        let gc = rows
            .iter()
            .find(|r| r.level == "paragraph" && r.edges == "gc_shift")
            .unwrap();
        assert_eq!((gc.result.edges, gc.result.observed), (0, 0.0));
        assert!(rows.iter().any(|r| r.level == "sentence"));

        // a genome without the book's record, or a shorter one
        let other = Annotation::new("chrU", &seq, vec![], GcShiftConfig::default());
        let err = dna_enrichment(&book, &[other], &[10], 10, 0).unwrap_err();
        assert!(err.to_string().contains("\"chrT\""), "{err}");
        let short = Annotation::new("chrT", &seq[..300], vec![], GcShiftConfig::default());
        assert!(dna_enrichment(&book, &[short], &[10], 10, 0).is_err());
    }

    #[test]
    fn overlapping_paragraphs_and_other_json_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("book.json");
        std::fs::write(
            &path,
            book_json(&[(10, 100, &[(10, 100)]), (90, 200, &[(90, 200)])]),
        )
        .unwrap();
        let err = BookSegments::read_json(&path).unwrap_err().to_string();
        assert!(
            err.contains("book.json") && err.contains("paragraph 2"),
            "{err}"
        );
        std::fs::write(&path, r#"{"format":"other","chapters":[]}"#).unwrap();
        assert!(BookSegments::read_json(&path).is_err());
        std::fs::write(&path, "not json").unwrap();
        let err = BookSegments::read_json(&path).unwrap_err().to_string();
        assert!(err.contains("not a book JSON"), "{err}");
    }
}
