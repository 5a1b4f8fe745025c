//! SVG plots of token statistics (and of any labelled numbers or curves):
//! rank-frequency, token-length distribution, top-N bars, line charts.
//!
//! Each function renders in memory, writes a temporary file next to `path`
//! (`path` with extension `svg.tmp`) and renames it, so a failure never
//! leaves a half-written plot. Text stays SVG `<text>`, so labels need no fonts at
//! render time and remain searchable.
//!
//! ```no_run
//! use std::path::Path;
//! use dnalm_tokenizers::plot::rank_frequency_svg;
//!
//! rank_frequency_svg(Path::new("ranks.svg"), "6-mer rank-frequency", &[900, 300, 120, 40, 7]).unwrap();
//! ```

use std::error::Error;
use std::path::Path;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, SegmentValue};
use plotters::prelude::*;

use crate::error::{Result, TokError};

/// Fill of bars; tests count elements by it.
const BAR: RGBColor = RGBColor(0x4C, 0x72, 0xB0);
/// Line colours (Tableau 10), picked in series order.
const PALETTE: [RGBColor; 10] = [
    RGBColor(0x1F, 0x77, 0xB4),
    RGBColor(0xFF, 0x7F, 0x0E),
    RGBColor(0x2C, 0xA0, 0x2C),
    RGBColor(0xD6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xBD),
    RGBColor(0x8C, 0x56, 0x4B),
    RGBColor(0xE3, 0x77, 0xC2),
    RGBColor(0x7F, 0x7F, 0x7F),
    RGBColor(0xBC, 0xBD, 0x22),
    RGBColor(0x17, 0xBE, 0xCF),
];
const FONT: &str = "sans-serif";
const SIZE: (u32, u32) = (900, 600);
/// About how many ticks a vertical (600 px) and a horizontal value axis get.
const Y_TICKS: usize = 8;
const X_TICKS: usize = 8;
/// Longest label drawn in full on a bar chart.
const MAX_LABEL: usize = 40;

type DrawResult = std::result::Result<(), Box<dyn Error>>;

/// Render with `draw` and write the SVG to `path` through a temporary file.
fn write_svg(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(DrawingArea<SVGBackend<'_>, plotters::coord::Shift>) -> DrawResult,
) -> Result<()> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        draw(root).map_err(|e| TokError::Plot(format!("{}: {e}", path.display())))?;
    }
    let tmp = path.with_extension("svg.tmp");
    std::fs::write(&tmp, svg.as_bytes()).map_err(|e| TokError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        TokError::io(path, e)
    })
}

fn plot_err(msg: impl Into<String>) -> TokError {
    TokError::Plot(msg.into())
}

/// Compact tick label: plain for ordinary magnitudes, scientific otherwise.
fn tick(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".to_string()
    } else if !(1e-3..1e5).contains(&a) {
        format!("{v:.1e}")
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Ticks of a value axis: multiples of a "nice" step (1, 2 or 5 x 10^n)
/// covering the data and 0, so that bars and curves are drawn from 0 and a
/// near-constant series is not blown up into peaks; labels carry as many
/// decimals as the step needs, so no two ticks print the same.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticks {
    /// Tick values, ascending; the first is at or below 0 and at or below
    /// every value, the last at or above.
    pub values: Vec<f64>,
    /// The distance between two ticks.
    pub step: f64,
    /// The exponent n of the step (`step = m x 10^n`, m in {1, 2, 5}).
    exp: i32,
}

impl Ticks {
    /// About `target` (at least 2) ticks for values in `[lo, hi]` (any
    /// order; non-finite bounds count as 0), 0 always included.
    pub fn new(lo: f64, hi: f64, target: usize) -> Ticks {
        Ticks::with_min_step(lo, hi, target, 0.0)
    }

    /// [`Ticks::new`] with a step of at least `min_step` (itself 1, 2 or 5
    /// x 10^n; 1 for counts).
    pub fn with_min_step(lo: f64, hi: f64, target: usize, min_step: f64) -> Ticks {
        let finite = |x: f64| if x.is_finite() { x } else { 0.0 };
        let (a, b) = (finite(lo), finite(hi));
        let lo = a.min(b).min(0.0);
        let mut hi = a.max(b).max(0.0);
        if hi <= lo {
            hi = lo + 1.0;
        }
        let raw = (hi - lo) / target.max(2) as f64;
        let mut exp = raw.log10().floor() as i32;
        let unit = 10f64.powi(exp);
        let m = [1.0, 2.0, 5.0, 10.0]
            .into_iter()
            .find(|&m| m * unit >= raw * (1.0 - 1e-9))
            .unwrap_or(10.0);
        let m = if m == 10.0 {
            exp += 1;
            1.0
        } else {
            m
        };
        let mut step = m * 10f64.powi(exp);
        if step < min_step {
            step = min_step;
            exp = min_step.log10().floor() as i32;
        }
        // Integer multiples of the step, so that 0 is exactly 0 and rounding
        // does not drift along the axis.
        let first = (lo / step + 1e-9).floor() as i64;
        let last = (hi / step - 1e-9).ceil() as i64;
        let values = (first..=last).map(|k| k as f64 * step).collect();
        Ticks { values, step, exp }
    }

    /// The axis range: first to last tick.
    pub fn range(&self) -> std::ops::Range<f64> {
        self.values[0]..self.values[self.values.len() - 1]
    }

    /// The label of a value on this axis: fixed-point with the step's
    /// decimals for ordinary magnitudes, otherwise scientific with enough
    /// digits to tell two neighbouring ticks apart.
    pub fn label(&self, v: f64) -> String {
        let v = if v.abs() < self.step * 1e-6 { 0.0 } else { v };
        let top = self.values.iter().fold(0.0f64, |a, x| a.max(x.abs()));
        if self.exp >= -6 && top < 1e9 {
            let decimals = (-self.exp).max(0) as usize;
            format!("{v:.decimals$}")
        } else if v == 0.0 {
            "0".to_string()
        } else {
            let digits = (v.abs().log10().floor() as i32 - self.exp).max(0) as usize;
            format!("{v:.digits$e}")
        }
    }
}

/// The axis itself: from the first tick to the last, with exactly these
/// ticks (plotters' own f64 axis picks its ticks and cannot be given them
/// while keeping a label formatter).
impl Ranged for Ticks {
    type ValueType = f64;
    type FormatOption = DefaultFormatting;

    fn range(&self) -> std::ops::Range<f64> {
        Ticks::range(self)
    }

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let r = Ticks::range(self);
        let share = (v - r.start) / (r.end - r.start);
        limit.0 + (f64::from(limit.1 - limit.0) * share + 1e-3).floor() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.values.clone()
        }
    }
}

/// A plotting range around `[lo, hi]` that is never empty.
fn pad_range(lo: f64, hi: f64) -> (f64, f64) {
    if hi > lo {
        let m = (hi - lo) * 0.05;
        (lo - m, hi + m)
    } else {
        let m = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        (lo - m, hi + m)
    }
}

/// Log-log rank-frequency plot: rank 1 = most frequent token. Zero counts
/// (unused tokens) cannot sit on a log axis and are left out; the order of
/// `counts_sorted_desc` is not trusted, the values are sorted again.
/// No non-zero count is an error.
pub fn rank_frequency_svg(path: &Path, title: &str, counts_sorted_desc: &[u64]) -> Result<()> {
    let mut counts: Vec<u64> = counts_sorted_desc
        .iter()
        .copied()
        .filter(|&c| c > 0)
        .collect();
    if counts.is_empty() {
        return Err(plot_err(format!(
            "{title}: rank-frequency plot needs at least one non-zero count"
        )));
    }
    counts.sort_unstable_by(|a, b| b.cmp(a));
    let n = counts.len() as f64;
    let (min, max) = (counts[counts.len() - 1] as f64, counts[0] as f64);
    write_svg(path, SIZE, |root| {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 24))
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(
                (0.8f64..(n * 1.25).max(10.0)).log_scale(),
                ((min * 0.8)..(max * 1.25)).log_scale(),
            )?;
        chart
            .configure_mesh()
            .x_desc("rank")
            .y_desc("count")
            .axis_desc_style((FONT, 16))
            .label_style((FONT, 14))
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .draw()?;
        chart.draw_series(LineSeries::new(
            counts
                .iter()
                .enumerate()
                .map(|(i, &c)| ((i + 1) as f64, c as f64)),
            BAR.stroke_width(2),
        ))?;
        root.present()?;
        Ok(())
    })
}

/// Bar chart of token length (nt) against occurrences; bins of the same
/// length add up. No bin is an error.
pub fn length_distribution_svg(path: &Path, title: &str, bins: &[(usize, u64)]) -> Result<()> {
    if bins.is_empty() {
        return Err(plot_err(format!(
            "{title}: length distribution needs at least one bin"
        )));
    }
    let lo = bins.iter().map(|b| b.0).min().unwrap_or(0);
    let hi = bins.iter().map(|b| b.0).max().unwrap_or(0);
    let max = bins.iter().map(|b| b.1).max().unwrap_or(0).max(1) as f64;
    let y = Ticks::with_min_step(0.0, max, Y_TICKS, 1.0);
    // Integer ranges in plotters include their upper end.
    let (lo_x, hi_x) = (lo as u64, hi as u64);
    write_svg(path, SIZE, |root| {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 24))
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d((lo_x..hi_x).into_segmented(), y.clone())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc("token length (nt)")
            .y_desc("occurrences")
            .axis_desc_style((FONT, 16))
            .label_style((FONT, 14))
            .x_labels((hi - lo + 1).min(40))
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(x) | SegmentValue::Exact(x) => x.to_string(),
                SegmentValue::Last => String::new(),
            })
            .y_label_formatter(&|v| y.label(*v))
            .draw()?;
        chart.draw_series(
            Histogram::vertical(&chart)
                .style(BAR.filled())
                .margin(3)
                .data(bins.iter().map(|&(len, c)| (len as u64, c as f64))),
        )?;
        root.present()?;
        Ok(())
    })
}

/// Horizontal bar chart of labelled values, first item on top (meant for a
/// top-N table such as the tf-idf top k-mers); `value_label` names the value
/// axis. Labels longer than 40 characters are shortened. No item, or a
/// non-finite value, is an error.
pub fn bar_chart_svg(
    path: &Path,
    title: &str,
    labels_values: &[(String, f64)],
    value_label: &str,
) -> Result<()> {
    if labels_values.is_empty() {
        return Err(plot_err(format!(
            "{title}: bar chart needs at least one item"
        )));
    }
    if let Some((l, v)) = labels_values.iter().find(|(_, v)| !v.is_finite()) {
        return Err(plot_err(format!("{title}: value of {l:?} is {v}")));
    }
    let n = labels_values.len();
    let labels: Vec<String> = labels_values
        .iter()
        .map(|(l, _)| {
            if l.chars().count() > MAX_LABEL {
                l.chars().take(MAX_LABEL - 1).chain(['…']).collect()
            } else {
                l.clone()
            }
        })
        .collect();
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(1);
    let x = Ticks::new(
        labels_values.iter().map(|x| x.1).fold(0.0, f64::min),
        labels_values.iter().map(|x| x.1).fold(0.0, f64::max),
        X_TICKS,
    );
    // Rows get a fixed pitch so that 100 k-mers stay legible.
    let height = (120 + 18 * n as u32).max(360);
    let label_area = (longest as u32 * 9 + 20).max(60);
    write_svg(path, (SIZE.0, height), |root| {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 24))
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(label_area)
            .build_cartesian_2d(x.clone(), (0..n).into_segmented())?;
        // Row `pos` counts from the bottom; item i sits at n - 1 - i.
        let label_of = |v: &SegmentValue<usize>| match v {
            SegmentValue::CenterOf(pos) if *pos < n => labels[n - 1 - pos].clone(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc(value_label)
            .axis_desc_style((FONT, 16))
            .label_style((FONT, 14))
            .y_labels(n)
            .y_label_formatter(&label_of)
            .x_label_formatter(&|v| x.label(*v))
            .draw()?;
        chart.draw_series(labels_values.iter().enumerate().map(|(i, &(_, v))| {
            let pos = n - 1 - i;
            let mut bar = Rectangle::new(
                [
                    (v.min(0.0), SegmentValue::Exact(pos)),
                    (v.max(0.0), SegmentValue::Exact(pos + 1)),
                ],
                BAR.filled(),
            );
            bar.set_margin(2, 2, 0, 0);
            bar
        }))?;
        root.present()?;
        Ok(())
    })
}

/// Line chart of named series of `(x, y)` points (loss curves and the like),
/// with a legend; series of at most 50 points also get point markers. No
/// point at all, or a non-finite coordinate, is an error.
pub fn line_chart_svg(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[(String, Vec<(f64, f64)>)],
) -> Result<()> {
    if series.iter().all(|(_, pts)| pts.is_empty()) {
        return Err(plot_err(format!(
            "{title}: line chart needs at least one point"
        )));
    }
    for (name, pts) in series {
        if let Some(i) = pts
            .iter()
            .position(|(x, y)| !x.is_finite() || !y.is_finite())
        {
            return Err(plot_err(format!(
                "{title}: series {name:?} point {i} is {:?}",
                pts[i]
            )));
        }
    }
    let all = || series.iter().flat_map(|(_, pts)| pts.iter().copied());
    let (xl, xh) = pad_range(
        all().map(|p| p.0).fold(f64::INFINITY, f64::min),
        all().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max),
    );
    let y = Ticks::new(
        all().map(|p| p.1).fold(f64::INFINITY, f64::min),
        all().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max),
        Y_TICKS,
    );
    write_svg(path, SIZE, |root| {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 24))
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(xl..xh, y.clone())?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .axis_desc_style((FONT, 16))
            .label_style((FONT, 14))
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| y.label(*v))
            .draw()?;
        for (i, (name, pts)) in series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            chart
                .draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 16, y + 5)], color.filled())
                });
            if pts.len() <= 50 {
                chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font((FONT, 14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        root.present()?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(t: &Ticks) -> Vec<String> {
        t.values.iter().map(|&v| t.label(v)).collect()
    }

    fn distinct(l: &[String]) -> bool {
        let mut s = l.to_vec();
        s.sort();
        s.dedup();
        s.len() == l.len()
    }

    #[test]
    fn near_uniform_attention_starts_at_zero_with_distinct_labels() {
        // Per-base [CLS] attention between 0.0112 and 0.0124: the old axis
        // printed 0.012, 0.012, 0.011 ... from 0.011 up.
        let t = Ticks::new(0.0112, 0.0124, 8);
        let l = labels(&t);
        assert_eq!(t.values[0], 0.0);
        assert_eq!(l[0], "0.000");
        assert_eq!(
            l,
            ["0.000", "0.002", "0.004", "0.006", "0.008", "0.010", "0.012", "0.014"]
        );
        assert!(distinct(&l), "{l:?}");
    }

    #[test]
    fn steps_are_1_2_5_and_labels_distinct() {
        for (lo, hi) in [
            (0.0, 1.0),
            (0.3, 0.31),
            (5.2, 7.6),
            (0.0, 1200.0),
            (-1.0, 2.0),
            (1e-9, 3e-9),
            (0.0, 4.2e10),
            (123456.0, 123457.0),
            (7.0, 7.0),
            (0.0, 0.0),
            (-3.0, -2.5),
            (f64::NAN, 2.0),
        ] {
            let t = Ticks::new(lo, hi, 8);
            let l = labels(&t);
            assert!(distinct(&l), "{lo}..{hi}: {l:?}");
            assert!(t.values.contains(&0.0), "{lo}..{hi}: {:?}", t.values);
            let (first, last) = (t.values[0], t.values[t.values.len() - 1]);
            assert!(first <= lo.min(0.0) || lo.is_nan(), "{lo}..{hi}: {first}");
            assert!(last >= hi.max(0.0), "{lo}..{hi}: {last}");
            assert!(
                t.values.len() >= 2 && t.values.len() <= 21,
                "{lo}..{hi}: {l:?}"
            );
            let m = t.step / 10f64.powi(t.step.log10().floor() as i32);
            assert!(
                [1.0, 2.0, 5.0].iter().any(|x| (m - x).abs() < 1e-6),
                "{lo}..{hi}: step {}",
                t.step
            );
            // Non-negative data: the axis starts at 0 itself.
            if lo >= 0.0 && hi >= 0.0 {
                assert_eq!(first, 0.0, "{lo}..{hi}");
                assert_eq!(l[0].parse::<f64>(), Ok(0.0), "{l:?}");
            }
        }
    }

    #[test]
    fn count_axes_step_by_whole_numbers() {
        let t = Ticks::with_min_step(0.0, 1.0, 8, 1.0);
        assert_eq!(labels(&t), ["0", "1"]);
        let t = Ticks::with_min_step(0.0, 1200.0, 8, 1.0);
        assert_eq!(t.step, 200.0);
        assert_eq!(labels(&t)[..3], ["0", "200", "400"]);
    }
}
