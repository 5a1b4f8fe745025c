//! SVG plots: the files exist, look like SVG, hold the title and one element
//! per data item; bad input is an error and leaves no file behind.

use std::path::Path;

use dnalm_tokenizers::plot::{
    bar_chart_svg, length_distribution_svg, line_chart_svg, rank_frequency_svg,
};
use dnalm_tokenizers::stats::{TokenCounter, TokenStats};
use dnalm_tokenizers::{TokError, Vocab};

/// The fill of bars and the stroke of the rank-frequency line.
const BAR: &str = "#4C72B0";

fn read_svg(path: &Path) -> String {
    let svg = std::fs::read_to_string(path).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
    assert!(svg.trim_end().ends_with("</svg>"));
    svg
}

/// Files left in `dir` (to catch stray temporaries).
fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Number of points of the polylines drawn with `stroke`.
fn polyline_points(svg: &str, stroke: &str) -> Vec<usize> {
    svg.lines()
        .filter(|l| l.starts_with("<polyline") && l.contains(&format!("stroke=\"{stroke}\"")))
        .map(|l| {
            let pts = l
                .split("points=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            pts.split_whitespace().count()
        })
        .collect()
}

fn is_plot_error<T: std::fmt::Debug>(r: dnalm_tokenizers::Result<T>) -> bool {
    matches!(r, Err(TokError::Plot(_)))
}

#[test]
fn rank_frequency_from_token_stats() {
    let dir = tempfile::tempdir().unwrap();
    let vocab = Vocab::with_specials(["A", "C", "G", "T", "AC", "CG"]).unwrap();
    let mut c = TokenCounter::new();
    // Zipf-like counts on 5 of the 6 tokens; "CG" (id 10) stays unused.
    for (id, n) in [(5u32, 60usize), (6, 30), (7, 20), (8, 15), (9, 12)] {
        c.add(&vec![id; n]);
    }
    let stats = TokenStats::compute(&vocab, &c).unwrap();
    let counts = stats
        .frequencies
        .iter()
        .map(|r| r.count)
        .collect::<Vec<_>>();
    assert_eq!(counts, [60, 30, 20, 15, 12, 0]);

    let path = dir.path().join("ranks.svg");
    rank_frequency_svg(&path, "BPE rank & frequency", &counts).unwrap();
    let svg = read_svg(&path);
    // The title is escaped SVG text.
    assert!(svg.contains("BPE rank &amp; frequency"));
    assert!(svg.contains(">\nrank\n<") && svg.contains(">\ncount\n<"));
    // One line through the five non-zero counts; the zero cannot be on a log axis.
    assert_eq!(polyline_points(&svg, BAR), vec![5]);
    assert_eq!(files(dir.path()), ["ranks.svg"]);

    // Unsorted input is sorted, not trusted.
    rank_frequency_svg(&path, "shuffled", &[12, 60, 15, 30, 20]).unwrap();
    let shuffled = read_svg(&path);
    let line = |s: &str| {
        s.lines()
            .find(|l| l.contains(&format!("stroke=\"{BAR}\"")))
            .unwrap()
            .to_string()
    };
    assert_eq!(line(&shuffled), line(&svg));
}

#[test]
fn length_distribution_bars() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lengths.svg");
    let bins = [(1, 40), (2, 500), (3, 900), (4, 1200), (6, 300), (9, 5)];
    length_distribution_svg(&path, "token lengths", &bins).unwrap();
    let svg = read_svg(&path);
    assert!(svg.contains(">\ntoken lengths\n<"));
    assert!(svg.contains(">\ntoken length (nt)\n<"));
    assert_eq!(svg.matches(&format!("fill=\"{BAR}\"")).count(), bins.len());
    // Every length from 1 to 9 is labelled on the axis, and no 10.
    for len in 1..=9 {
        assert!(svg.contains(&format!(">\n{len}\n<")), "label {len}");
    }
    assert!(!svg.contains(">\n10\n<"));

    // A single length still draws.
    length_distribution_svg(&path, "one", &[(6, 10)]).unwrap();
    assert_eq!(
        read_svg(&path).matches(&format!("fill=\"{BAR}\"")).count(),
        1
    );
}

#[test]
fn bar_chart_of_top_kmers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("top.svg");
    let items: Vec<(String, f64)> = ["TATAAA", "GGGCGG", "CCAAT", "TTTTTT"]
        .iter()
        .zip([12.5, 9.0, 4.25, 0.5])
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    bar_chart_svg(&path, "top tf-idf 6-mers", &items, "sum of tf-idf").unwrap();
    let svg = read_svg(&path);
    assert!(svg.contains(">\ntop tf-idf 6-mers\n<"));
    assert!(svg.contains(">\nsum of tf-idf\n<"));
    assert_eq!(svg.matches(&format!("fill=\"{BAR}\"")).count(), 4);
    // Labels appear top to bottom in the given order.
    let y_of = |label: &str| {
        let at = svg.find(&format!(">\n{label}\n<")).unwrap();
        let tag = &svg[svg[..at].rfind("<text").unwrap()..at];
        let y = tag
            .split(" y=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        y.parse::<i32>().unwrap()
    };
    let ys: Vec<i32> = items.iter().map(|(l, _)| y_of(l)).collect();
    assert!(ys.windows(2).all(|w| w[0] < w[1]), "{ys:?}");

    // Negative values draw too (bars from 0 leftwards).
    let mixed = vec![("up".to_string(), 2.0), ("down".to_string(), -1.0)];
    bar_chart_svg(&path, "mixed", &mixed, "value").unwrap();
    assert_eq!(
        read_svg(&path).matches(&format!("fill=\"{BAR}\"")).count(),
        2
    );
}

#[test]
fn line_chart_of_loss_curves() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("loss.svg");
    let train: Vec<(f64, f64)> = (0..200)
        .map(|i| (i as f64, 6.0 / (1.0 + 0.05 * i as f64)))
        .collect();
    let eval: Vec<(f64, f64)> = (0..8)
        .map(|i| (25.0 * i as f64, 6.5 / (1.0 + 0.06 * 25.0 * i as f64)))
        .collect();
    let series = vec![("train".to_string(), train), ("eval".to_string(), eval)];
    line_chart_svg(&path, "MLM loss", "step", "loss", &series).unwrap();
    let svg = read_svg(&path);
    for text in ["MLM loss", "step", "loss", "train", "eval"] {
        assert!(svg.contains(&format!(">\n{text}\n<")), "{text}");
    }
    // First two Tableau colours, one line each with all its points; markers
    // only on the short series.
    assert_eq!(polyline_points(&svg, "#1F77B4"), vec![200]);
    assert_eq!(polyline_points(&svg, "#FF7F0E"), vec![8]);
    assert_eq!(svg.matches("<circle").count(), 8);
}

#[test]
fn empty_or_bad_input_is_an_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.svg");
    assert!(is_plot_error(rank_frequency_svg(&p, "t", &[])));
    assert!(is_plot_error(rank_frequency_svg(&p, "t", &[0, 0])));
    assert!(is_plot_error(length_distribution_svg(&p, "t", &[])));
    assert!(is_plot_error(bar_chart_svg(&p, "t", &[], "v")));
    assert!(is_plot_error(bar_chart_svg(
        &p,
        "t",
        &[("a".to_string(), f64::NAN)],
        "v"
    )));
    assert!(is_plot_error(line_chart_svg(&p, "t", "x", "y", &[])));
    assert!(is_plot_error(line_chart_svg(
        &p,
        "t",
        "x",
        "y",
        &[("s".to_string(), vec![])]
    )));
    assert!(is_plot_error(line_chart_svg(
        &p,
        "t",
        "x",
        "y",
        &[("s".to_string(), vec![(0.0, 1.0), (1.0, f64::INFINITY)])]
    )));
    assert!(files(dir.path()).is_empty());

    // An unwritable destination is an I/O error naming the path.
    let missing = dir.path().join("no/such/dir/x.svg");
    match rank_frequency_svg(&missing, "t", &[3, 2, 1]) {
        Err(e @ TokError::Io { .. }) => assert!(e.to_string().contains("no/such/dir")),
        other => panic!("expected an I/O error, got {other:?}"),
    }
}
