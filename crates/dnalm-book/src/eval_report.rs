//! The evaluation report in the book's folder (`<book>/eval/`): every table
//! as TSV (snake_case header) and as a Markdown section of `eval.md`, the
//! whole report as `eval.json`, and SVG plots: F1 of the English boundaries,
//! the enrichment of DNA boundaries near annotation edges, and the share of
//! paragraph boundaries within d nt of an edge against random segmentations
//! over a range of d. All files are rendered first and written atomically;
//! sections without rows are left out.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::atomic::write_all;
use crate::eval_dna::EnrichmentRow;
use crate::eval_model::{BoundaryRow, StabilityRow};
use crate::softmask::Annotation;
use crate::Result;

/// What the genome's own annotation holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnnotationSummary {
    pub records: usize,
    pub bases: usize,
    pub masked_bases: usize,
    pub repeats: usize,
    pub repeat_edges: usize,
    pub gc_shifts: usize,
    pub gc_window: usize,
    pub gc_threshold: f64,
}

impl AnnotationSummary {
    pub fn of(annotations: &[Annotation], gc_window: usize, gc_threshold: f64) -> Self {
        AnnotationSummary {
            records: annotations.len(),
            bases: annotations.iter().map(|a| a.len).sum(),
            masked_bases: annotations.iter().map(|a| a.masked_bases()).sum(),
            repeats: annotations.iter().map(|a| a.repeats.len()).sum(),
            repeat_edges: annotations.iter().map(|a| a.repeat_edges().len()).sum(),
            gc_shifts: annotations.iter().map(|a| a.gc_shifts.len()).sum(),
            gc_window,
            gc_threshold,
        }
    }
}

/// Everything the evaluation measured.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    /// How it was run (inputs, settings), for `eval.json` and `eval.md`.
    pub settings: Vec<(String, String)>,
    pub annotation: Option<AnnotationSummary>,
    pub english: Vec<BoundaryRow>,
    pub enrichment: Vec<EnrichmentRow>,
    /// Paragraph enrichment over many distances, for the distance plot.
    pub curve: Vec<EnrichmentRow>,
    pub stability: Vec<StabilityRow>,
}

fn tsv<const N: usize>(name: &str, header: [&str; N], rows: Vec<[String; N]>) -> Result<Vec<u8>> {
    let mut w = dnalm_seq::TsvWriter::new(Vec::new(), name, &header)?;
    for r in rows {
        w.write_row(r)?;
    }
    Ok(w.into_inner())
}

fn md_table<const N: usize>(out: &mut String, header: [&str; N], rows: &[[String; N]]) {
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(N));
    for r in rows {
        let _ = writeln!(out, "| {} |", r.join(" | "));
    }
    out.push('\n');
}

fn f(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.4}")
    } else {
        "NaN".to_string()
    }
}

impl EvalReport {
    fn english_rows(&self) -> Vec<[String; 9]> {
        self.english
            .iter()
            .map(|r| {
                [
                    r.level.clone(),
                    r.variant.clone(),
                    r.tolerance.to_string(),
                    r.prf.predicted.to_string(),
                    r.prf.truth.to_string(),
                    r.prf.matched.to_string(),
                    f(r.prf.precision),
                    f(r.prf.recall),
                    f(r.prf.f1),
                ]
            })
            .collect()
    }

    fn enrichment_rows(rows: &[EnrichmentRow]) -> Vec<[String; 10]> {
        rows.iter()
            .map(|r| {
                let e = &r.result;
                [
                    r.level.clone(),
                    r.edges.clone(),
                    e.distance.to_string(),
                    e.boundaries.to_string(),
                    e.edges.to_string(),
                    f(e.observed),
                    f(e.random_mean),
                    f(e.random_sd),
                    f(e.enrichment),
                    format!("{:.4}", e.p_value),
                ]
            })
            .collect()
    }

    fn stability_rows(&self) -> Vec<[String; 8]> {
        self.stability
            .iter()
            .map(|r| {
                let s = &r.stability;
                [
                    r.what.clone(),
                    r.offset_a.to_string(),
                    r.offset_b.to_string(),
                    r.tolerance.to_string(),
                    s.a.to_string(),
                    s.b.to_string(),
                    f(s.f1),
                    f(s.jaccard),
                ]
            })
            .collect()
    }

    /// Writes the report into `dir` (created when missing); returns the
    /// paths written.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        const EN: [&str; 9] = [
            "level",
            "variant",
            "tolerance_tokens",
            "predicted",
            "truth",
            "matched",
            "precision",
            "recall",
            "f1",
        ];
        const DNA: [&str; 10] = [
            "level",
            "edges",
            "distance_nt",
            "boundaries",
            "edge_count",
            "observed",
            "random_mean",
            "random_sd",
            "enrichment",
            "p_value",
        ];
        const ST: [&str; 8] = [
            "segments",
            "offset_a",
            "offset_b",
            "tolerance_tokens",
            "boundaries_a",
            "boundaries_b",
            "f1",
            "jaccard",
        ];
        let mut md = String::from("# Evaluation of the book's segmentation\n\n");
        for (k, v) in &self.settings {
            let _ = writeln!(md, "- {k}: {v}");
        }
        md.push('\n');
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        if let Some(a) = &self.annotation {
            let _ = writeln!(
                md,
                "The genome: {} records, {} bases, {} soft-masked ({:.1}%) in {} repeats \
                 ({} repeat edges); {} GC shifts (GC fraction of the {} nt before and after \
                 differing by more than {}).\n",
                a.records,
                a.bases,
                a.masked_bases,
                100.0 * a.masked_bases as f64 / a.bases.max(1) as f64,
                a.repeats,
                a.repeat_edges,
                a.gc_shifts,
                a.gc_window,
                a.gc_threshold
            );
        }
        if !self.english.is_empty() {
            let rows = self.english_rows();
            md.push_str(
                "## English held-out text: boundaries against the true breaks\n\n\
                 Token positions; `rule` = as the book writes them (short segments merged), \
                 `raw` = every break; a predicted break matches one true break within the \
                 tolerance.\n\n",
            );
            md_table(&mut md, EN, &rows);
            files.push((
                "english_boundaries.tsv".into(),
                tsv("english_boundaries.tsv", EN, rows)?,
            ));
        }
        if !self.enrichment.is_empty() {
            let rows = Self::enrichment_rows(&self.enrichment);
            md.push_str(
                "## DNA: boundaries near annotation edges\n\n\
                 `observed` = share of boundaries within `distance_nt` of an edge; `random` = \
                 the same for segmentations with the paragraph (sentence) lengths shuffled \
                 within each gap-free block; enrichment = observed / random mean; \
                 p = (1 + #random >= observed) / (1 + permutations).\n\n",
            );
            md_table(&mut md, DNA, &rows);
            files.push((
                "dna_enrichment.tsv".into(),
                tsv("dna_enrichment.tsv", DNA, rows)?,
            ));
        }
        if !self.curve.is_empty() {
            let rows = Self::enrichment_rows(&self.curve);
            files.push((
                "dna_distance.tsv".into(),
                tsv("dna_distance.tsv", DNA, rows)?,
            ));
        }
        if !self.stability.is_empty() {
            let rows = self.stability_rows();
            md.push_str(
                "## Stability when the window grid moves\n\n\
                 The same text segmented with the window grid at two offsets; boundaries \
                 agree when within the tolerance.\n\n",
            );
            md_table(&mut md, ST, &rows);
            files.push(("stability.tsv".into(), tsv("stability.tsv", ST, rows)?));
        }
        let mut json = serde_json::to_vec_pretty(self)
            .map_err(|e| crate::BookError::Data(format!("eval.json: {e}")))?;
        json.push(b'\n');
        files.push(("eval.json".into(), json));
        files.push(("eval.md".into(), md.into_bytes()));
        write_all(dir, &files)?;
        let mut written: Vec<PathBuf> = files.iter().map(|(n, _)| dir.join(n)).collect();
        written.extend(self.plots(dir)?);
        Ok(written)
    }

    fn plots(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        use dnalm_tokenizers::plot::{bar_chart_svg, line_chart_svg};
        let mut out = Vec::new();
        if !self.english.is_empty() {
            let bars: Vec<(String, f64)> = self
                .english
                .iter()
                .map(|r| {
                    (
                        format!("{} {} ±{}", r.level, r.variant, r.tolerance),
                        r.prf.f1,
                    )
                })
                .collect();
            let p = dir.join("english_f1.svg");
            bar_chart_svg(&p, "English held-out boundaries: F1", &bars, "F1")?;
            out.push(p);
        }
        let finite: Vec<(String, f64)> = self
            .enrichment
            .iter()
            .filter(|r| r.result.enrichment.is_finite())
            .map(|r| {
                (
                    format!("{} {} ≤{} nt", r.level, r.edges, r.result.distance),
                    r.result.enrichment,
                )
            })
            .collect();
        if !finite.is_empty() {
            let p = dir.join("dna_enrichment.svg");
            bar_chart_svg(
                &p,
                "DNA boundaries near annotation edges: observed / random",
                &finite,
                "enrichment",
            )?;
            out.push(p);
        }
        if !self.curve.is_empty() {
            let mut series: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
            for r in &self.curve {
                let x = r.result.distance as f64;
                for (kind, y) in [
                    ("book", r.result.observed),
                    ("random", r.result.random_mean),
                ] {
                    let name = format!("{} {kind}", r.edges);
                    match series.iter_mut().find(|(n, _)| *n == name) {
                        Some((_, pts)) => pts.push((x, y)),
                        None => series.push((name, vec![(x, y)])),
                    }
                }
            }
            let p = dir.join("dna_distance.svg");
            line_chart_svg(
                &p,
                "Paragraph boundaries within d nt of an edge",
                "d (nt)",
                "share of boundaries",
                &series,
            )?;
            out.push(p);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::{boundary_prf, enrichment, stability};
    use crate::softmask::GcShiftConfig;

    #[test]
    fn writes_tables_markdown_json_and_plots() {
        let prf = boundary_prf(&[3, 9], &[3, 8], 1);
        let english = vec![BoundaryRow {
            level: "paragraph".into(),
            variant: "rule".into(),
            tolerance: 1,
            prf,
        }];
        let paras: Vec<std::ops::Range<u64>> = (0..20).map(|i| i * 10..i * 10 + 10).collect();
        let edges: Vec<u64> = (1..20).map(|i| i * 10).collect();
        let e = enrichment(&[(paras, edges)], &[0, 5], 20, 1).unwrap();
        let rows: Vec<EnrichmentRow> = e
            .into_iter()
            .map(|result| EnrichmentRow {
                level: "paragraph".into(),
                edges: "repeat".into(),
                result,
            })
            .collect();
        let report = EvalReport {
            settings: vec![("book".into(), "demo".into())],
            annotation: Some(AnnotationSummary::of(
                &[Annotation::new(
                    "c",
                    b"ACGTACGT",
                    std::iter::once(2..4).collect(),
                    GcShiftConfig::default(),
                )],
                100,
                0.3,
            )),
            english,
            enrichment: rows.clone(),
            curve: rows,
            stability: vec![StabilityRow {
                what: "english paragraph".into(),
                offset_a: 0,
                offset_b: 96,
                tolerance: 0,
                stability: stability(&[1, 5], &[1, 6], 0),
            }],
        };
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("eval");
        let written = report.write(&out).unwrap();
        assert_eq!(written.len(), 9);
        for p in &written {
            assert!(p.is_file(), "{}", p.display());
        }
        let md = std::fs::read_to_string(out.join("eval.md")).unwrap();
        assert!(md.contains("2 soft-masked (25.0%) in 1 repeats"), "{md}");
        assert!(
            md.contains("| paragraph | rule | 1 | 2 | 2 | 2 | 1.0000 | 1.0000 | 1.0000 |"),
            "{md}"
        );
        let tsv = std::fs::read_to_string(out.join("dna_enrichment.tsv")).unwrap();
        assert!(tsv.starts_with("level\tedges\tdistance_nt\t"));
        assert_eq!(tsv.lines().count(), 3);
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("eval.json")).unwrap()).unwrap();
        assert_eq!(json["enrichment"][0]["observed"], 1.0);
        assert_eq!(json["stability"][0]["jaccard"], 1.0 / 3.0);
    }
}
