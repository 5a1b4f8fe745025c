//! The files the embedding, word-vector, attention and motif commands
//! write: matrices (`.npy`) with their `ids.tsv`, results tables as TSV and
//! Markdown, and SVG plots; each file written whole (temporary file, then
//! rename).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use dnalm_tokenizers::plot::{bar_chart_svg, line_chart_svg};

use crate::attention::AttentionMaps;
use crate::attention_html::{attention_html, heatmap_svg};
use crate::embed::Embeddings;
use crate::error::{Result, TaskError};
use crate::motif::MotifReport;
use crate::npy::write_npy;
use crate::vectors::{ContextualVectors, WordVectors};

/// Write `text` to `dir/name` atomically.
pub fn write_file(dir: &Path, name: &str, text: &[u8]) -> Result<()> {
    let path = dir.join(name);
    let mut f = dnalm_seq::AtomicFile::create(&path)?;
    f.write_all(text).map_err(|e| TaskError::io(&path, e))?;
    f.commit()?;
    Ok(())
}

pub fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| TaskError::io(dir, e))
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum();
    let na: f64 = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

/// Mean cosine similarity within class 1, within class 0 and between them
/// (pairs of distinct rows; at most `cap` rows of each class, the first).
pub fn class_similarity(e: &Embeddings, labels: &[u8], cap: usize) -> [f64; 3] {
    let h = e.hidden;
    let row = |i: usize| &e.vectors[i * h..(i + 1) * h];
    let pick = |c: u8| -> Vec<usize> {
        (0..labels.len())
            .filter(|&i| labels[i] == c)
            .take(cap)
            .collect()
    };
    let (pos, neg) = (pick(1), pick(0));
    let mean_pairs = |a: &[usize], b: &[usize], same: bool| {
        let (mut s, mut n) = (0.0, 0usize);
        for (x, &i) in a.iter().enumerate() {
            let rest = if same { &b[x + 1..] } else { b };
            for &j in rest {
                s += cosine(row(i), row(j));
                n += 1;
            }
        }
        if n == 0 {
            f64::NAN
        } else {
            s / n as f64
        }
    };
    [
        mean_pairs(&pos, &pos, true),
        mean_pairs(&neg, &neg, true),
        mean_pairs(&pos, &neg, false),
    ]
}

/// What an embedding run was made of, for its report.
#[derive(Debug, Clone)]
pub struct EmbedSummary {
    pub input: String,
    pub model: String,
    pub pooling: String,
    pub max_len: usize,
    pub overlap: usize,
}

/// `embeddings.npy`, `ids.tsv`, `results.tsv`, `results.md` and a plot:
/// `similarity.svg` (labelled input) or `norms.svg`.
pub fn write_embed(
    dir: &Path,
    s: &EmbedSummary,
    e: &Embeddings,
    names: &[String],
    labels: Option<&[u8]>,
) -> Result<()> {
    create_dir(dir)?;
    let n = e.records.len();
    let h = e.hidden;
    let mut ids = String::from("index\tname\tbases\tchunks\ttokens");
    ids.push_str(if labels.is_some() { "\tlabel\n" } else { "\n" });
    for (i, r) in e.records.iter().enumerate() {
        write!(
            ids,
            "{i}\t{}\t{}\t{}\t{}",
            names[i], r.bases, r.chunks, r.tokens
        )
        .expect("string");
        if let Some(l) = labels {
            write!(ids, "\t{}", l[i]).expect("string");
        }
        ids.push('\n');
    }
    let chunked = e.records.iter().filter(|r| r.chunks > 1).count();
    let chunks: usize = e.records.iter().map(|r| r.chunks).sum();
    let norms: Vec<f64> = (0..n)
        .map(|i| {
            e.vectors[i * h..(i + 1) * h]
                .iter()
                .map(|x| f64::from(*x).powi(2))
                .sum::<f64>()
                .sqrt()
        })
        .collect();
    let (mean_norm, sd_norm) = crate::metrics::mean_sd(&norms);
    let mut rows: Vec<(String, String)> = vec![
        ("sequences".into(), n.to_string()),
        ("dimension".into(), h.to_string()),
        ("layer".into(), e.layer.to_string()),
        ("pooling".into(), s.pooling.clone()),
        ("chunks".into(), chunks.to_string()),
        ("sequences_chunked".into(), chunked.to_string()),
        ("mean_norm".into(), format!("{mean_norm:.4}")),
        ("sd_norm".into(), format!("{sd_norm:.4}")),
    ];
    let sim = labels.map(|l| class_similarity(e, l, 2000));
    if let Some([pp, nn, pn]) = sim {
        rows.push(("cosine_within_positives".into(), format!("{pp:.4}")));
        rows.push(("cosine_within_negatives".into(), format!("{nn:.4}")));
        rows.push(("cosine_between_classes".into(), format!("{pn:.4}")));
    }
    let mut tsv = String::from("measure\tvalue\n");
    let mut md = format!(
        "# Sequence embeddings\n\n{} sequences of {} embedded with {} (layer {}, {} pooling; \
         chunks of at most {} tokens sharing {} bases, chunk vectors averaged).\n\n\
         `embeddings.npy` is `[{n}, {h}]` float32, row `i` = line `i` of `ids.tsv`.\n\n\
         | measure | value |\n|---|---:|\n",
        n, s.input, s.model, e.layer, s.pooling, s.max_len, s.overlap
    );
    for (k, v) in &rows {
        writeln!(tsv, "{k}\t{v}").expect("string");
        writeln!(md, "| {k} | {v} |").expect("string");
    }
    write_npy(&dir.join("embeddings.npy"), &[n, h], &e.vectors)?;
    write_file(dir, "ids.tsv", ids.as_bytes())?;
    write_file(dir, "results.tsv", tsv.as_bytes())?;
    if let Some([pp, nn, pn]) = sim {
        md.push_str("\nCosine similarities are means over pairs of distinct sequences (the first 2000 of each class).\n\n![similarity](similarity.svg)\n");
        let bars: Vec<(String, f64)> = [
            ("within positives", pp),
            ("within negatives", nn),
            ("between classes", pn),
        ]
        .iter()
        .filter(|(_, v)| v.is_finite())
        .map(|(k, v)| (k.to_string(), *v))
        .collect();
        bar_chart_svg(
            &dir.join("similarity.svg"),
            "mean cosine similarity of sequence vectors",
            &bars,
            "cosine",
        )?;
    } else {
        md.push_str("\n![norms](norms.svg)\n");
        let mut sorted = norms.clone();
        sorted.sort_by(f64::total_cmp);
        let pts: Vec<(f64, f64)> = sorted
            .iter()
            .enumerate()
            .map(|(i, &v)| (i as f64, v))
            .collect();
        line_chart_svg(
            &dir.join("norms.svg"),
            "sequence vector norms, sorted",
            "rank",
            "L2 norm",
            &[("norm".into(), pts)],
        )?;
    }
    write_file(dir, "results.md", md.as_bytes())?;
    Ok(())
}

/// `vectors.txt` (word2vec) and/or `vectors.npy` with `ids.tsv`.
pub fn write_word_vectors(dir: &Path, wv: &WordVectors, word2vec: bool, npy: bool) -> Result<()> {
    create_dir(dir)?;
    if word2vec {
        write_file(dir, "vectors.txt", wv.to_word2vec().as_bytes())?;
    }
    if npy {
        write_npy(
            &dir.join("vectors.npy"),
            &[wv.tokens.len(), wv.dim],
            &wv.data,
        )?;
    }
    let mut ids = String::from("id\ttoken\n");
    for (i, t) in wv.tokens.iter().enumerate() {
        writeln!(ids, "{i}\t{t}").expect("string");
    }
    write_file(dir, "ids.tsv", ids.as_bytes())
}

/// `neighbours.tsv`, `neighbours.md` and `neighbours.svg` of `token`.
pub fn write_neighbours(dir: &Path, token: &str, rows: &[(String, f32)]) -> Result<()> {
    create_dir(dir)?;
    write_file(dir, "neighbours.tsv", neighbours_tsv(rows).as_bytes())?;
    let mut md = format!("# Nearest neighbours of {token}\n\nBy cosine similarity of the input embeddings.\n\n| rank | token | cosine |\n|---:|---|---:|\n");
    for (i, (t, c)) in rows.iter().enumerate() {
        writeln!(md, "| {} | {t} | {c:.4} |", i + 1).expect("string");
    }
    md.push_str("\n![neighbours](neighbours.svg)\n");
    write_file(dir, "neighbours.md", md.as_bytes())?;
    let bars: Vec<(String, f64)> = rows
        .iter()
        .map(|(t, c)| (t.clone(), f64::from(*c)))
        .collect();
    if !bars.is_empty() {
        bar_chart_svg(
            &dir.join("neighbours.svg"),
            &format!("nearest neighbours of {token}"),
            &bars,
            "cosine",
        )?;
    }
    Ok(())
}

/// `rank token cosine` rows.
pub fn neighbours_tsv(rows: &[(String, f32)]) -> String {
    let mut s = String::from("rank\ttoken\tcosine\n");
    for (i, (t, c)) in rows.iter().enumerate() {
        writeln!(s, "{}\t{t}\t{c:.6}", i + 1).expect("string");
    }
    s
}

/// `contextual_{i}.npy` `[tokens, dim]` and `contextual_{i}.tsv` (position,
/// token, start, end).
pub fn write_contextual(dir: &Path, i: usize, name: &str, c: &ContextualVectors) -> Result<()> {
    create_dir(dir)?;
    write_npy(
        &dir.join(format!("contextual_{i}.npy")),
        &[c.tokens.len(), c.dim],
        &c.data,
    )?;
    let mut tsv = format!("# {name}, layer {}\nposition\ttoken\tstart\tend\n", c.layer);
    for (p, (t, r)) in c.tokens.iter().zip(&c.spans).enumerate() {
        writeln!(tsv, "{p}\t{t}\t{}\t{}", r.start, r.end).expect("string");
    }
    write_file(dir, &format!("contextual_{i}.tsv"), tsv.as_bytes())
}

/// Side of the SVG heat maps of `write_attention`: longer maps are averaged
/// into this many blocks a side.
const HEATMAP_CELLS: usize = 128;

/// About how many bytes [`write_attention`] writes for `m`, to warn before
/// writing: the `.npy` holds 4 bytes per weight and the HTML page at most
/// about 7 (4 decimals and a comma), each heat-map SVG about 90 per cell.
pub fn attention_bytes_estimate(m: &AttentionMaps) -> u64 {
    let weights = (m.layers * m.heads * m.len * m.len) as u64;
    let cells = m.len.min(HEATMAP_CELLS).pow(2) as u64;
    weights * (4 + 7) + m.layers as u64 * cells * 90 + 64 * 1024
}

/// One sequence's attention files, named `{stem}.*`: `.npy`, `.json`,
/// `.html`, `.layerN.svg` (mean of heads) and `.cls.svg` (per base).
/// Returns the bytes written.
pub fn write_attention(dir: &Path, stem: &str, m: &AttentionMaps) -> Result<u64> {
    create_dir(dir)?;
    let npy = dir.join(format!("{stem}.npy"));
    write_npy(&npy, &[m.layers, m.heads, m.len, m.len], &m.data)?;
    let mut bytes = file_len(&npy)?;
    let mut write = |name: String, text: &[u8]| -> Result<()> {
        write_file(dir, &name, text)?;
        bytes += text.len() as u64;
        Ok(())
    };
    let json = serde_json::to_string_pretty(&m.info()).expect("serialise");
    write(format!("{stem}.json"), json.as_bytes())?;
    write(format!("{stem}.html"), attention_html(m).as_bytes())?;
    for l in 0..m.layers {
        write(
            format!("{stem}.layer{}.svg", l + 1),
            heatmap_svg(m, l, None, HEATMAP_CELLS).as_bytes(),
        )?;
    }
    let pts: Vec<(f64, f64)> = m
        .cls_per_base()
        .iter()
        .enumerate()
        .map(|(i, &v)| (i as f64, v))
        .collect();
    let cls = dir.join(format!("{stem}.cls.svg"));
    line_chart_svg(
        &cls,
        &format!("{}: [CLS] attention per base, last layer", m.name),
        "base",
        "attention (heads summed)",
        &[("cls".into(), pts)],
    )?;
    Ok(bytes + file_len(&cls)?)
}

fn file_len(path: &Path) -> Result<u64> {
    Ok(std::fs::metadata(path)
        .map_err(|e| TaskError::io(path, e))?
        .len())
}

/// The `attention` results table: one row per sequence.
pub fn write_attention_table(dir: &Path, rows: &[(String, &AttentionMaps)]) -> Result<()> {
    let mut tsv = String::from("file\tname\tbases\ttokens\ttop_token\ttop_token_start\ttop_cls_attention\tpeak_window_start\tpeak_window\n");
    let mut md = String::from("# Attention\n\nLast layer, [CLS] to token, summed over heads. The peak window is the 10 bases with the highest mean per-base score.\n\n| file | name | bases | tokens | top token (start) | attention | peak window |\n|---|---|---:|---:|---|---:|---|\n");
    for (stem, m) in rows {
        let sc = m.scores().cls;
        let (j, top) =
            sc.iter().enumerate().fold(
                (0, f64::NEG_INFINITY),
                |a, (i, &v)| if v > a.1 { (i, v) } else { a },
            );
        let base = m.cls_per_base();
        let w = 10.min(base.len());
        let (ws, _) = (0..=base.len() - w)
            .map(|s| (s, base[s..s + w].iter().sum::<f64>()))
            .fold((0, f64::NEG_INFINITY), |a, b| if b.1 > a.1 { b } else { a });
        let win = String::from_utf8_lossy(&m.seq[ws..ws + w]);
        let tok = &m.tokens[j + 1];
        let start = m.spans[j + 1].start;
        writeln!(
            tsv,
            "{stem}\t{}\t{}\t{}\t{tok}\t{start}\t{top:.6}\t{ws}\t{win}",
            m.name,
            m.seq.len(),
            m.len - 2
        )
        .expect("string");
        writeln!(
            md,
            "| [{stem}]({stem}.html) | {} | {} | {} | {tok} ({start}) | {top:.4} | {win} ({ws}) |",
            m.name,
            m.seq.len(),
            m.len - 2
        )
        .expect("string");
    }
    write_file(dir, "results.tsv", tsv.as_bytes())?;
    write_file(dir, "results.md", md.as_bytes())
}

/// `motifs.tsv` (every tested motif), `results.tsv`, `results.md` and
/// `motifs.svg` (the top enriched motifs).
pub fn write_motifs(
    dir: &Path,
    input: &str,
    r: &MotifReport,
    alpha: f64,
    top: usize,
    dropped: usize,
) -> Result<()> {
    create_dir(dir)?;
    let mut tsv =
        String::from("motif\tregion_hits\tpositives_with\tnegatives_with\tp_value\tq_value\n");
    for m in &r.motifs {
        writeln!(
            tsv,
            "{}\t{}\t{}\t{}\t{:e}\t{:e}",
            m.motif, m.region_hits, m.positives_with, m.negatives_with, m.p_value, m.q_value
        )
        .expect("string");
    }
    let enriched: Vec<_> = r.motifs.iter().filter(|m| m.q_value < alpha).collect();
    let t = &r.tfidf;
    let summary: Vec<(&str, String)> = vec![
        ("positives", r.positives.to_string()),
        ("negatives", r.negatives.to_string()),
        ("dropped_with_n", dropped.to_string()),
        ("high_attention_regions", r.regions.to_string()),
        (
            "positives_with_a_region",
            r.positives_with_region.to_string(),
        ),
        ("motifs_tested", r.motifs.len().to_string()),
        ("motifs_enriched", enriched.len().to_string()),
        (
            "tfidf_attention_spearman_pooled",
            format!("{:.4}", t.pooled_spearman),
        ),
        ("tfidf_attention_pairs", t.pairs.to_string()),
        (
            "tfidf_attention_spearman_mean_per_sequence",
            format!("{:.4}", t.mean_sequence_spearman),
        ),
    ];
    let mut res = String::from("measure\tvalue\n");
    for (k, v) in &summary {
        writeln!(res, "{k}\t{v}").expect("string");
    }
    let mut md = format!(
        "# Attention motifs\n\n{input}: the last layer's [CLS] attention (heads summed) spread to bases; \
         high-attention regions (above the mean and 10x the minimum, at least the minimum length) in the \
         positives; their k-mers tested for enrichment in positives vs negatives (hypergeometric, \
         Benjamini-Hochberg q < {alpha}).\n\n| measure | value |\n|---|---:|\n"
    );
    for (k, v) in &summary {
        writeln!(md, "| {k} | {v} |").expect("string");
    }
    md.push_str("\n## Top motifs\n\n| motif | region hits | positives with | negatives with | p | q |\n|---|---:|---:|---:|---:|---:|\n");
    for m in r.motifs.iter().take(top) {
        writeln!(
            md,
            "| {} | {} | {} | {} | {:.3e} | {:.3e} |",
            m.motif, m.region_hits, m.positives_with, m.negatives_with, m.p_value, m.q_value
        )
        .expect("string");
    }
    md.push_str(
        "\nThe tf-idf check: Spearman's correlation between a token's tf-idf in its sequence \
         and the attention it receives (last layer, heads summed, mean over queries).\n",
    );
    let bars: Vec<(String, f64)> = enriched
        .iter()
        .take(top)
        .map(|m| (m.motif.clone(), -m.q_value.max(1e-300).log10()))
        .collect();
    if !bars.is_empty() {
        md.push_str("\n![motifs](motifs.svg)\n");
        bar_chart_svg(
            &dir.join("motifs.svg"),
            "enriched attention motifs",
            &bars,
            "-log10 q",
        )?;
    } else {
        md.push_str("\nNo motif passed the q threshold (no plot).\n");
    }
    write_file(dir, "motifs.tsv", tsv.as_bytes())?;
    write_file(dir, "results.tsv", res.as_bytes())?;
    write_file(dir, "results.md", md.as_bytes())
}
