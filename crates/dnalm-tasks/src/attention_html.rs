//! Rendering attention maps: a self-contained HTML page (inline CSS, JS and
//! data; nothing fetched from a network) with a heat map per layer and head
//! and a bertviz-like token view, and SVG heat maps for papers.

use std::fmt::Write as _;

use serde_json::json;

use crate::attention::AttentionMaps;

/// Values rounded to 4 decimals: the page stays small and the numbers
/// printed on hover stay exact to what a reader can see.
fn round4(x: f32) -> f64 {
    (f64::from(x) * 1e4).round() / 1e4
}

/// The HTML page for `m`.
pub fn attention_html(m: &AttentionMaps) -> String {
    let maps: Vec<Vec<Vec<f64>>> = (0..m.layers)
        .map(|l| {
            (0..m.heads)
                .map(|h| m.map(l, h).iter().map(|&x| round4(x)).collect())
                .collect()
        })
        .collect();
    let data = json!({
        "name": m.name,
        "tokens": m.tokens,
        "layers": m.layers,
        "heads": m.heads,
        "len": m.len,
        "att": maps,
        "seq": String::from_utf8_lossy(&m.seq),
        "cls_per_base": m.cls_per_base().iter().map(|&x| (x * 1e4).round() / 1e4).collect::<Vec<_>>(),
    });
    // `</` inside a script would end it early.
    let data = data.to_string().replace("</", "<\\/");
    let title = html_escape(&m.name);
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>attention: {title}</title>
<style>
body {{ font: 14px sans-serif; margin: 1em 2em; color: #222; }}
canvas {{ border: 1px solid #ccc; margin: 4px 0; }}
#info {{ font-family: monospace; min-height: 1.4em; }}
.row {{ display: flex; gap: 2em; flex-wrap: wrap; align-items: flex-start; }}
label {{ margin-right: 1em; }}
</style></head><body>
<h1>Attention: {title}</h1>
<p>Rows are queries, columns keys. Pick a layer and a head (or the mean over heads);
hover a cell of the heat map, or a token on the left of the token view to see where it
attends. Below: the last layer's [CLS]-to-token attention summed over heads, spread to bases.</p>
<div><label>layer <select id="layer"></select></label>
<label>head <select id="head"></select></label></div>
<div id="info"></div>
<div class="row">
<div><h3>heat map</h3><canvas id="heat" width="620" height="620"></canvas></div>
<div><h3>tokens</h3><canvas id="lines" width="420" height="620"></canvas></div>
</div>
<h3>[CLS] attention per base (last layer)</h3>
<canvas id="bases" width="1240" height="160"></canvas>
<script id="data" type="application/json">{data}</script>
<script>
const D = JSON.parse(document.getElementById('data').textContent);
const T = D.len, L = document.getElementById('layer'), H = document.getElementById('head');
for (let l = 0; l < D.layers; l++) L.add(new Option('layer ' + (l + 1), l));
H.add(new Option('mean of heads', -1));
for (let h = 0; h < D.heads; h++) H.add(new Option('head ' + (h + 1), h));
L.value = D.layers - 1;
const info = document.getElementById('info');
function current() {{
  const l = +L.value, h = +H.value;
  if (h >= 0) return D.att[l][h];
  const m = new Array(T * T).fill(0);
  for (const a of D.att[l]) for (let i = 0; i < T * T; i++) m[i] += a[i] / D.heads;
  return m;
}}
let M = current(), focus = -1;
// Largest value by a loop: `Math.max(...a)` passes every element as an
// argument and throws RangeError once a map has a few hundred tokens.
function maxOf(a) {{
  let m = 0;
  for (let i = 0; i < a.length; i++) if (a[i] > m) m = a[i];
  return m;
}}
// The map at one pixel per cell on a T x T canvas, scaled up (or down) onto
// the visible one: one putImageData instead of T * T fillRect calls.
const cells = document.createElement('canvas');
cells.width = cells.height = T;
function drawHeat() {{
  const c = document.getElementById('heat'), g = c.getContext('2d'), s = c.width / T;
  const max = maxOf(M), cg = cells.getContext('2d'), img = cg.createImageData(T, T);
  for (let i = 0; i < T * T; i++) {{
    const t = Math.min(1, M[i] / (max || 1));
    img.data[4 * i] = 255 - 225 * t;
    img.data[4 * i + 1] = 255 - 180 * t;
    img.data[4 * i + 2] = 255 - 80 * t;
    img.data[4 * i + 3] = 255;
  }}
  cg.putImageData(img, 0, 0);
  g.clearRect(0, 0, c.width, c.height);
  g.imageSmoothingEnabled = false;
  g.drawImage(cells, 0, 0, c.width, c.height);
  if (focus >= 0) {{ g.strokeStyle = '#d33'; g.strokeRect(0, focus * s, c.width, s); }}
}}
function drawLines() {{
  const c = document.getElementById('lines'), g = c.getContext('2d');
  const n = Math.min(T, 60), start = focus < 0 ? 0 : Math.max(0, Math.min(T - n, focus - n / 2 | 0));
  const dy = c.height / n;
  g.clearRect(0, 0, c.width, c.height);
  g.font = Math.min(12, dy - 1) + 'px monospace';
  for (let i = 0; i < n; i++) {{
    const t = start + i;
    g.fillStyle = t === focus ? '#d33' : '#222';
    g.fillText(D.tokens[t], 4, (i + 0.8) * dy);
    g.fillStyle = '#222';
    g.fillText(D.tokens[t], c.width - 90, (i + 0.8) * dy);
  }}
  const rows = focus >= 0 ? [focus] : [];
  for (const q of rows) for (let i = 0; i < n; i++) {{
    const k = start + i, w = M[q * T + k];
    if (w < 0.005) continue;
    g.strokeStyle = 'rgba(40,90,200,' + Math.min(1, w * 3) + ')';
    g.lineWidth = 1 + 4 * w;
    g.beginPath(); g.moveTo(90, (q - start + 0.5) * dy); g.lineTo(c.width - 95, (i + 0.5) * dy); g.stroke();
  }}
  c.dataset.start = start; c.dataset.dy = dy;
}}
function drawBases() {{
  const c = document.getElementById('bases'), g = c.getContext('2d'), v = D.cls_per_base;
  const max = maxOf(v), w = c.width / v.length;
  g.clearRect(0, 0, c.width, c.height);
  for (let i = 0; i < v.length; i++) {{
    const h = (c.height - 14) * v[i] / (max || 1);
    g.fillStyle = '#2a5ac8'; g.fillRect(i * w, c.height - 14 - h, Math.max(1, w - 0.5), h);
    if (w >= 7) {{ g.fillStyle = '#222'; g.font = '9px monospace'; g.fillText(D.seq[i], i * w, c.height - 2); }}
  }}
}}
function redraw() {{ M = current(); drawHeat(); drawLines(); }}
L.onchange = H.onchange = redraw;
document.getElementById('heat').onmousemove = e => {{
  const c = e.target, s = c.width / T, r = c.getBoundingClientRect();
  const k = Math.floor((e.clientX - r.left) / s), q = Math.floor((e.clientY - r.top) / s);
  if (q < 0 || k < 0 || q >= T || k >= T) return;
  info.textContent = 'query ' + q + ' ' + D.tokens[q] + ' -> key ' + k + ' ' + D.tokens[k] + ': ' + M[q * T + k].toFixed(4);
}};
document.getElementById('lines').onmousemove = e => {{
  const c = e.target, r = c.getBoundingClientRect();
  if (e.clientX - r.left > c.width / 2) return;
  const q = +c.dataset.start + Math.floor((e.clientY - r.top) / +c.dataset.dy);
  if (q >= 0 && q < T && q !== focus) {{ focus = q; info.textContent = 'query ' + q + ' ' + D.tokens[q]; drawHeat(); drawLines(); }}
}};
redraw(); drawBases();
// Set only once everything is drawn: scripts/attention_browser_check.sh
// looks for it in the DOM chromium renders.
document.body.dataset.rendered = T;
</script></body></html>
"#
    )
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An SVG heat map of one layer's attention (mean over heads when `head`
/// is `None`); maps longer than `max_cells` tokens are averaged into
/// `max_cells` x `max_cells` blocks.
pub fn heatmap_svg(
    m: &AttentionMaps,
    layer: usize,
    head: Option<usize>,
    max_cells: usize,
) -> String {
    let t = m.len;
    let mut full = vec![0.0f64; t * t];
    let heads: Vec<usize> = head.map_or((0..m.heads).collect(), |h| vec![h]);
    for &h in &heads {
        for (a, &b) in full.iter_mut().zip(m.map(layer, h)) {
            *a += f64::from(b) / heads.len() as f64;
        }
    }
    let cells = t.min(max_cells.max(1));
    let bin = |i: usize| i * cells / t;
    let mut sum = vec![0.0f64; cells * cells];
    let mut cnt = vec![0u32; cells * cells];
    for q in 0..t {
        for k in 0..t {
            let c = bin(q) * cells + bin(k);
            sum[c] += full[q * t + k];
            cnt[c] += 1;
        }
    }
    let vals: Vec<f64> = sum
        .iter()
        .zip(&cnt)
        .map(|(s, &c)| s / c.max(1) as f64)
        .collect();
    let max = vals.iter().cloned().fold(0.0f64, f64::max);
    let size = 600.0f64;
    let cs = size / cells as f64;
    let (ox, oy) = (60.0, 50.0);
    let mut s = String::new();
    let what = match head {
        Some(h) => format!("layer {}, head {}", layer + 1, h + 1),
        None => format!("layer {}, mean of {} heads", layer + 1, m.heads),
    };
    writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#,
        w = size + ox + 20.0,
        h = size + oy + 40.0
    )
    .expect("string");
    writeln!(
        s,
        r#"<text x="{ox}" y="20">attention of {}: {what} ({t} tokens{})</text>"#,
        html_escape(&m.name),
        if cells < t {
            format!(", in {cells} x {cells} blocks")
        } else {
            String::new()
        }
    )
    .expect("string");
    writeln!(s, r#"<text x="{ox}" y="{}">key token →</text>"#, oy - 6.0).expect("string");
    writeln!(
        s,
        r#"<text transform="translate(20,{}) rotate(-90)">query token →</text>"#,
        oy + 120.0
    )
    .expect("string");
    for q in 0..cells {
        for k in 0..cells {
            let v = if max > 0.0 {
                vals[q * cells + k] / max
            } else {
                0.0
            };
            if v < 0.002 {
                continue;
            }
            let (r, g, b) = (255.0 - 225.0 * v, 255.0 - 180.0 * v, 255.0 - 80.0 * v);
            writeln!(
                s,
                r#"<rect x="{:.2}" y="{:.2}" width="{:.2}" height="{:.2}" fill="rgb({},{},{})"/>"#,
                ox + k as f64 * cs,
                oy + q as f64 * cs,
                cs,
                cs,
                r.round(),
                g.round(),
                b.round()
            )
            .expect("string");
        }
    }
    writeln!(
        s,
        r##"<rect x="{ox}" y="{oy}" width="{size}" height="{size}" fill="none" stroke="#888"/>"##
    )
    .expect("string");
    writeln!(
        s,
        r#"<text x="{ox}" y="{}">darkest = {max:.4}</text>"#,
        oy + size + 20.0
    )
    .expect("string");
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn maps() -> AttentionMaps {
        AttentionMaps {
            name: "x</script>".into(),
            seq: b"ACGTA".to_vec(),
            tokens: ["[CLS]", "ACG", "CGT", "GTA", "[SEP]"]
                .map(String::from)
                .to_vec(),
            spans: vec![0..0, 0..3, 1..4, 2..5, 5..5],
            layers: 1,
            heads: 2,
            len: 5,
            data: (0..50).map(|i| (i % 5) as f32 / 10.0).collect(),
        }
    }

    #[test]
    fn page_is_self_contained() {
        let html = attention_html(&maps());
        assert!(!html.contains("http"), "the page must not reach a network");
        assert!(!html.contains("x</script>"));
        assert!(html.contains("\"tokens\":[\"[CLS]\",\"ACG\""));
        let data = html
            .split("application/json\">")
            .nth(1)
            .unwrap()
            .split("</script>")
            .next()
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&data.replace("<\\/", "</")).unwrap();
        assert_eq!(v["att"][0][1].as_array().unwrap().len(), 25);
    }

    #[test]
    fn script_has_no_spread_and_marks_the_end_of_drawing() {
        let html = attention_html(&maps());
        let script = html.rsplit("<script>").next().unwrap();
        // Spread passes one argument per element: RangeError past a few
        // hundred tokens (T * T weights). Comments may name it.
        for line in script.lines().filter(|l| !l.trim_start().starts_with("//")) {
            assert!(!line.contains("..."), "spread in the page's script: {line}");
        }
        assert!(script.contains("document.body.dataset.rendered = T;"));
        // It is the last statement: set only when everything drew.
        let end = script.split("</script>").next().unwrap().trim_end();
        assert!(
            end.ends_with("document.body.dataset.rendered = T;"),
            "{end}"
        );
    }

    #[test]
    fn svg_bins_long_maps() {
        let m = maps();
        let full = heatmap_svg(&m, 0, Some(1), 100);
        assert!(full.starts_with("<svg") && full.ends_with("</svg>\n"));
        // Column 0 is zero everywhere: 4 of 5 columns drawn in 5 rows.
        assert_eq!(full.matches("<rect").count(), 5 * 4 + 1);
        let binned = heatmap_svg(&m, 0, None, 2);
        assert!(binned.contains("in 2 x 2 blocks"));
        assert!(binned.matches("<rect").count() <= 5);
    }
}
