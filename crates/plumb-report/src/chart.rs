//! Inline SVG charts for the HTML report: a line chart (linear, percentile or run-by-run x axis)
//! and a distribution chart (boxes with their points, several on one shared axis).
//!
//! Every chart has round ticks (`ticks`), axis titles with their unit, a legend below the plot
//! (never over the data), goal lines (a threshold, the requested rate) named in the legend, and a
//! tooltip on each point from an SVG `<title>` (no script). Build one with the methods, then
//! `render()` it into a `layout::Section`.

use crate::html::escape;
use crate::ticks::{self, Ticks};
use std::fmt::{self, Write};

/// Colour-blind-safe colours (Okabe and Ito), in the order series take them.
pub const PALETTE: [&str; 7] = [
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#333333",
];

/// The colour a baseline is drawn in, beside a candidate in `PALETTE[0]`.
pub const BASELINE: &str = "#8c8c8c";

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 300.0;
const LEFT: f64 = 72.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 46.0;
/// Points drawn with a tooltip at most per series; longer series get one every few points.
const TOOLTIPS: usize = 150;
/// A goal further above the data than this factor is named in the legend, not drawn.
const GOAL_REACH: f64 = 3.0;

/// What the x axis measures.
#[derive(Debug, Clone)]
enum XAxis {
    Linear { title: String, unit: String },
    Nines,
    Runs(Vec<String>),
}

/// One line of a chart.
#[derive(Debug, Clone)]
pub struct Line {
    name: String,
    points: Vec<(f64, f64)>,
    color: String,
    dashed: bool,
}

impl Line {
    /// A solid line named `name` through `points` (x, y), in the next palette colour.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Line {
        Line {
            name: name.into(),
            points,
            color: String::new(),
            dashed: false,
        }
    }

    /// Drawn dashed (a baseline, or a second statistic of the same run).
    pub fn dashed(mut self) -> Line {
        self.dashed = true;
        self
    }

    /// In a before/after pair (`of` == 2), the baseline (`index` 0) dashed in grey and the
    /// candidate solid in the first colour; otherwise unchanged.
    pub fn paired(self, index: usize, of: usize) -> Line {
        match (of, index) {
            (2, 0) => self.dashed().color(BASELINE),
            (2, _) => self.color(PALETTE[0]),
            _ => self,
        }
    }

    /// Drawn in `color` instead of the next palette colour.
    pub fn color(mut self, color: &str) -> Line {
        self.color = color.to_owned();
        self
    }
}

/// A horizontal goal line: a threshold or the requested rate.
#[derive(Debug, Clone)]
struct Goal {
    label: String,
    value: f64,
}

/// A line chart. `LineChart::new("latency", "Latency over time").x_linear("time", "s")
/// .y("latency", "ms").line(..).goal(..).render()`.
#[derive(Debug, Clone)]
pub struct LineChart {
    class: String,
    title: String,
    x: XAxis,
    y_title: String,
    y_unit: String,
    lines: Vec<Line>,
    goals: Vec<Goal>,
}

impl LineChart {
    /// A chart with CSS class `chart {class}` and a caption.
    pub fn new(class: &str, title: &str) -> LineChart {
        LineChart {
            class: class.to_owned(),
            title: title.to_owned(),
            x: XAxis::Linear {
                title: String::new(),
                unit: String::new(),
            },
            y_title: String::new(),
            y_unit: String::new(),
            lines: Vec::new(),
            goals: Vec::new(),
        }
    }

    /// A linear x axis titled `title (unit)`.
    pub fn x_linear(mut self, title: &str, unit: &str) -> LineChart {
        self.x = XAxis::Linear {
            title: title.to_owned(),
            unit: unit.to_owned(),
        };
        self
    }

    /// A percentile x axis in nines (p50, p90, p99, ...): points' x are `ticks::nines(p)`.
    pub fn x_percentiles(mut self) -> LineChart {
        self.x = XAxis::Nines;
        self
    }

    /// One x position per run, labelled by name or commit: points' x are 0, 1, 2, ...
    pub fn x_runs(mut self, labels: Vec<String>) -> LineChart {
        self.x = XAxis::Runs(labels);
        self
    }

    /// The y axis, titled `title (unit)`; it starts at zero.
    pub fn y(mut self, title: &str, unit: &str) -> LineChart {
        self.y_title = title.to_owned();
        self.y_unit = unit.to_owned();
        self
    }

    /// Adds a line.
    pub fn line(mut self, line: Line) -> LineChart {
        self.lines.push(line);
        self
    }

    /// Adds a horizontal goal line at `value` (in the y axis' unit), named `label` in the legend.
    pub fn goal(mut self, label: impl Into<String>, value: f64) -> LineChart {
        if value.is_finite() {
            self.goals.push(Goal {
                label: label.into(),
                value,
            });
        }
        self
    }

    /// The figure: caption, SVG and legend.
    pub fn render(mut self) -> String {
        for (i, line) in self.lines.iter_mut().enumerate() {
            if line.color.is_empty() {
                line.color = PALETTE[i % PALETTE.len()].to_owned();
            }
        }
        crate::html::build(|out| self.write(out))
    }

    fn write(&self, out: &mut String) -> fmt::Result {
        let data_max = self
            .lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.1))
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max);
        let (drawn, beyond): (Vec<&Goal>, Vec<&Goal>) = self
            .goals
            .iter()
            .partition(|g| data_max <= 0.0 || g.value <= data_max * GOAL_REACH);
        let y_max = drawn.iter().map(|g| g.value).fold(data_max, f64::max);
        let plot = Plot {
            x: self.x_ticks(),
            y: ticks::linear(0.0, y_max * 1.05, 5),
        };
        figure_open(out, &self.class, &self.title, HEIGHT)?;
        plot.grid(out, &self.y_unit)?;
        self.x_marks(&plot, out)?;
        let y_title = axis_title(&self.y_title, &self.y_unit);
        plot.axis_titles(out, &self.x_title(), &y_title)?;
        for goal in &drawn {
            plot.goal(out, goal, &self.y_unit)?;
        }
        for line in &self.lines {
            self.draw_line(&plot, out, line)?;
        }
        out.push_str("</svg>");
        self.legend(out, &drawn, &beyond)?;
        out.push_str("</figure>");
        Ok(())
    }

    fn x_ticks(&self) -> Ticks {
        let xs = || {
            self.lines
                .iter()
                .flat_map(|l| l.points.iter().map(|p| p.0))
                .filter(|x| x.is_finite())
        };
        match &self.x {
            XAxis::Linear { .. } => {
                let lo = xs().fold(f64::INFINITY, f64::min);
                let hi = xs().fold(f64::NEG_INFINITY, f64::max);
                let whole = xs().all(|x| x.fract() == 0.0);
                if lo.is_finite() && whole {
                    ticks::whole(lo.min(0.0), hi, 8)
                } else if lo.is_finite() {
                    ticks::linear(lo.min(0.0), hi, 8)
                } else {
                    ticks::linear(0.0, 1.0, 5)
                }
            }
            XAxis::Nines => ticks::nines_axis(xs().fold(1.0, f64::max)),
            XAxis::Runs(labels) => run_ticks(labels),
        }
    }

    fn x_title(&self) -> String {
        match &self.x {
            XAxis::Linear { title, unit } => axis_title(title, unit),
            XAxis::Nines => "percentile (each step right is ten times rarer)".to_owned(),
            XAxis::Runs(_) => "run (oldest first)".to_owned(),
        }
    }

    fn x_marks(&self, plot: &Plot, svg: &mut String) -> fmt::Result {
        for (v, label) in &plot.x.marks {
            let x = plot.sx(*v);
            write!(
                svg,
                "<line class=\"tick\" x1=\"{x:.1}\" y1=\"{b:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#999\"/>\
                 <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                HEIGHT - BOTTOM + 5.0,
                HEIGHT - BOTTOM + 18.0,
                escape(label),
                b = HEIGHT - BOTTOM,
            )?;
        }
        Ok(())
    }

    fn draw_line(&self, plot: &Plot, svg: &mut String, line: &Line) -> fmt::Result {
        let points: Vec<String> = line
            .points
            .iter()
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .map(|(x, y)| format!("{:.1},{:.1}", plot.sx(*x), plot.sy(*y)))
            .collect();
        let dash = if line.dashed {
            " stroke-dasharray=\"7 4\""
        } else {
            ""
        };
        write!(
            svg,
            "<polyline class=\"series\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{dash} points=\"{}\"><title>{}</title></polyline>",
            line.color,
            points.join(" "),
            escape(&line.name)
        )?;
        let every = line.points.len().div_ceil(TOOLTIPS).max(1);
        for (x, y) in line.points.iter().step_by(every) {
            if !(x.is_finite() && y.is_finite()) {
                continue;
            }
            write!(
                svg,
                "<circle class=\"point\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{}\"><title>{}: {} at {}</title></circle>",
                plot.sx(*x),
                plot.sy(*y),
                line.color,
                escape(&line.name),
                escape(&with_unit(*y, &self.y_unit)),
                escape(&self.x_value(*x))
            )?;
        }
        Ok(())
    }

    /// An x value in words for a tooltip.
    fn x_value(&self, x: f64) -> String {
        match &self.x {
            XAxis::Linear { unit, .. } => with_unit(x, unit),
            XAxis::Nines => format!(
                "p{}",
                crate::format::significant(100.0 * (1.0 - 10f64.powf(-x)))
            ),
            XAxis::Runs(labels) => labels
                .get(x.round().max(0.0) as usize)
                .cloned()
                .unwrap_or_default(),
        }
    }

    fn legend(&self, out: &mut String, drawn: &[&Goal], beyond: &[&Goal]) -> fmt::Result {
        out.push_str("<ul class=\"legend\">");
        for line in &self.lines {
            let style = if line.dashed { "dashed" } else { "solid" };
            write!(
                out,
                "<li><span class=\"swatch\" style=\"border-top:3px {style} {}\"></span>{}</li>",
                line.color,
                escape(&line.name)
            )?;
        }
        for goal in drawn {
            write!(
                out,
                "<li><span class=\"swatch goal\"></span>{} ({})</li>",
                escape(&goal.label),
                escape(&with_unit(goal.value, &self.y_unit))
            )?;
        }
        for goal in beyond {
            write!(
                out,
                "<li class=\"beyond\">{} ({}): far above the data, not drawn</li>",
                escape(&goal.label),
                escape(&with_unit(goal.value, &self.y_unit))
            )?;
        }
        out.push_str("</ul>");
        Ok(())
    }
}

/// Ticks at each run, every few runs when there are many.
fn run_ticks(labels: &[String]) -> Ticks {
    let n = labels.len().max(1);
    let every = n.div_ceil(10).max(1);
    let marks = labels
        .iter()
        .enumerate()
        .filter(|(i, _)| i % every == 0)
        .map(|(i, l)| (i as f64, short(l, 18)))
        .collect();
    Ticks {
        lo: -0.5,
        hi: n as f64 - 0.5,
        marks,
    }
}

/// `text`, cut to `max` characters with an ellipsis.
fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max - 1).collect();
    format!("{cut}…")
}

/// `latency (ms)`, or the title alone when there is no unit.
fn axis_title(title: &str, unit: &str) -> String {
    if unit.is_empty() {
        title.to_owned()
    } else {
        format!("{title} ({unit})")
    }
}

/// A value with its unit, at three significant digits: `12.4 ms`, `20,000 req/s`, `0.12%`.
pub fn with_unit(v: f64, unit: &str) -> String {
    let number = if v.abs() >= 1000.0 {
        crate::format::count(v.abs().round() as u64)
    } else {
        trim_zeros(crate::format::significant(v.abs()))
    };
    let sign = if v < 0.0 { "-" } else { "" };
    match unit {
        "" => format!("{sign}{number}"),
        "%" => format!("{sign}{number}%"),
        _ => format!("{sign}{number} {unit}"),
    }
}

/// `15.0` → `15`, `1.50` → `1.5`; exponents and integers unchanged.
fn trim_zeros(text: String) -> String {
    if !text.contains('.') || text.contains('e') {
        return text;
    }
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// The plotting area: both axes' ticks and the mapping of values to SVG coordinates.
struct Plot {
    x: Ticks,
    y: Ticks,
}

impl Plot {
    fn sx(&self, x: f64) -> f64 {
        LEFT + (x - self.x.lo) / (self.x.hi - self.x.lo) * (WIDTH - LEFT - RIGHT)
    }

    fn sy(&self, y: f64) -> f64 {
        HEIGHT - BOTTOM - (y - self.y.lo) / (self.y.hi - self.y.lo) * (HEIGHT - TOP - BOTTOM)
    }

    /// The frame, the horizontal grid at each y tick and the y tick labels.
    fn grid(&self, svg: &mut String, unit: &str) -> fmt::Result {
        for (v, label) in &self.y.marks {
            let y = self.sy(*v);
            write!(
                svg,
                "<line class=\"grid\" x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#e4e4e4\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\"><title>{}</title>{}</text>",
                WIDTH - RIGHT,
                LEFT - 8.0,
                y + 4.0,
                escape(&with_unit(*v, unit)),
                escape(label)
            )?;
        }
        write!(
            svg,
            "<line class=\"axis\" x1=\"{LEFT}\" y1=\"{b:.1}\" x2=\"{:.1}\" y2=\"{b:.1}\" stroke=\"#666\"/>\
             <line class=\"axis\" x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{b:.1}\" stroke=\"#666\"/>",
            WIDTH - RIGHT,
            b = HEIGHT - BOTTOM
        )
    }

    fn axis_titles(&self, svg: &mut String, x_title: &str, y_title: &str) -> fmt::Result {
        let mid_y = (TOP + HEIGHT - BOTTOM) / 2.0;
        write!(
            svg,
            "<text class=\"axis-title\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\
             <text class=\"axis-title\" x=\"16\" y=\"{mid_y:.1}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {mid_y:.1})\">{}</text>",
            (LEFT + WIDTH - RIGHT) / 2.0,
            HEIGHT - 8.0,
            escape(x_title),
            escape(y_title)
        )
    }

    fn goal(&self, svg: &mut String, goal: &Goal, unit: &str) -> fmt::Result {
        let y = self.sy(goal.value);
        write!(
            svg,
            "<line class=\"goal\" x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#b00020\" stroke-width=\"1.5\" stroke-dasharray=\"2 3\"><title>{} ({})</title></line>",
            WIDTH - RIGHT,
            escape(&goal.label),
            escape(&with_unit(goal.value, unit))
        )
    }
}

/// `<figure class="chart CLASS"><figcaption>TITLE</figcaption><svg ...>`.
fn figure_open(out: &mut String, class: &str, title: &str, height: f64) -> fmt::Result {
    write!(
        out,
        "<figure class=\"chart {}\"><figcaption>{}</figcaption>\
         <svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-label=\"{}\">",
        escape(class),
        escape(title),
        escape(title)
    )
}

/// Several distributions on one shared axis, one row each: the box (quartiles), the median, the
/// whiskers (min to max) and every point. `Distribution::new(..).axis("wall time", "ms")
/// .group("build (baseline)", values, BASELINE).render()`.
#[derive(Debug, Clone)]
pub struct Distribution {
    class: String,
    title: String,
    axis_title: String,
    unit: String,
    groups: Vec<(String, Vec<f64>, String)>,
}

/// Height of one row of a distribution chart.
const ROW: f64 = 66.0;

impl Distribution {
    /// A chart with CSS class `chart {class}` and a caption.
    pub fn new(class: &str, title: &str) -> Distribution {
        Distribution {
            class: class.to_owned(),
            title: title.to_owned(),
            axis_title: String::new(),
            unit: String::new(),
            groups: Vec::new(),
        }
    }

    /// The shared axis, titled `title (unit)`.
    pub fn axis(mut self, title: &str, unit: &str) -> Distribution {
        self.axis_title = title.to_owned();
        self.unit = unit.to_owned();
        self
    }

    /// Adds a row: `name`, its values and its colour (`""` for the next palette colour).
    pub fn group(mut self, name: impl Into<String>, values: Vec<f64>, color: &str) -> Distribution {
        let color = if color.is_empty() {
            PALETTE[self.groups.len() % PALETTE.len()].to_owned()
        } else {
            color.to_owned()
        };
        self.groups.push((name.into(), values, color));
        self
    }

    /// The figure: caption, SVG and a legend saying what the marks mean.
    pub fn render(self) -> String {
        let all = || {
            self.groups
                .iter()
                .flat_map(|g| g.1.iter().copied())
                .filter(|v| v.is_finite())
        };
        let lo = all().fold(f64::INFINITY, f64::min);
        let hi = all().fold(f64::NEG_INFINITY, f64::max);
        let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
        let pad = ((hi - lo) * 0.05).max(hi.abs() * 1e-3);
        let height = TOP + ROW * self.groups.len().max(1) as f64 + BOTTOM;
        let plot = Plot {
            x: ticks::linear((lo - pad).max(0.0), hi + pad, 8),
            y: Ticks {
                lo: 0.0,
                hi: 1.0,
                marks: Vec::new(),
            },
        };
        crate::html::build(|out| {
            figure_open(out, &self.class, &self.title, height)?;
            self.frame(&plot, out, height)?;
            for (i, (name, values, color)) in self.groups.iter().enumerate() {
                let top = TOP + ROW * i as f64;
                self.row(&plot, out, top, name, values, color)?;
            }
            out.push_str(
                "</svg><ul class=\"legend\"><li>box: middle half of the runs (quartiles)</li>\
                 <li>thick line: median</li><li>whiskers: fastest to slowest</li>\
                 <li>dots: every run</li></ul></figure>",
            );
            Ok(())
        })
    }

    fn frame(&self, plot: &Plot, svg: &mut String, height: f64) -> fmt::Result {
        let bottom = height - BOTTOM;
        for (v, label) in &plot.x.marks {
            let x = plot.sx(*v);
            write!(
                svg,
                "<line class=\"grid\" x1=\"{x:.1}\" y1=\"{TOP}\" x2=\"{x:.1}\" y2=\"{bottom:.1}\" stroke=\"#e4e4e4\"/>\
                 <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                bottom + 18.0,
                escape(label)
            )?;
        }
        write!(
            svg,
            "<line class=\"axis\" x1=\"{LEFT}\" y1=\"{bottom:.1}\" x2=\"{:.1}\" y2=\"{bottom:.1}\" stroke=\"#666\"/>\
             <text class=\"axis-title\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            WIDTH - RIGHT,
            (LEFT + WIDTH - RIGHT) / 2.0,
            height - 8.0,
            escape(&axis_title(&self.axis_title, &self.unit))
        )
    }

    fn row(
        &self,
        plot: &Plot,
        svg: &mut String,
        top: f64,
        name: &str,
        values: &[f64],
        color: &str,
    ) -> fmt::Result {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        write!(
            svg,
            "<text class=\"group\" x=\"{LEFT}\" y=\"{:.1}\" style=\"fill:{color}\">{} ({} runs)</text>",
            top + 12.0,
            escape(name),
            sorted.len()
        )?;
        if sorted.is_empty() {
            return Ok(());
        }
        let q = |f: f64| quantile(&sorted, f);
        // The box above, the points in a strip below it, so neither hides the other.
        let mid = top + 28.0;
        let strip = top + 51.0;
        let (x_min, x_q1, x_med, x_q3, x_max) = (
            plot.sx(sorted[0]),
            plot.sx(q(0.25)),
            plot.sx(q(0.5)),
            plot.sx(q(0.75)),
            plot.sx(sorted[sorted.len() - 1]),
        );
        write!(
            svg,
            "<line x1=\"{x_min:.1}\" y1=\"{mid:.1}\" x2=\"{x_max:.1}\" y2=\"{mid:.1}\" stroke=\"{color}\"/>\
             <rect class=\"box\" x=\"{x_q1:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"16\" fill=\"{color}\" fill-opacity=\"0.18\" stroke=\"{color}\"><title>{}: quartiles {} to {}, median {}</title></rect>\
             <line x1=\"{x_med:.1}\" y1=\"{:.1}\" x2=\"{x_med:.1}\" y2=\"{:.1}\" stroke=\"{color}\" stroke-width=\"3\"/>",
            mid - 8.0,
            (x_q3 - x_q1).max(1.0),
            escape(name),
            escape(&with_unit(q(0.25), &self.unit)),
            escape(&with_unit(q(0.75), &self.unit)),
            escape(&with_unit(q(0.5), &self.unit)),
            mid - 11.0,
            mid + 11.0
        )?;
        for (i, v) in values.iter().enumerate().filter(|(_, v)| v.is_finite()) {
            // A fixed spread by index, so the same runs always draw the same picture.
            let jitter = ((i as u64).wrapping_mul(2_654_435_761) >> 7) % 11;
            let jitter = jitter as f64 - 5.0;
            write!(
                svg,
                "<circle class=\"point\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"{color}\" fill-opacity=\"0.7\"><title>{} run {}: {}</title></circle>",
                plot.sx(*v),
                strip + jitter,
                escape(name),
                i + 1,
                escape(&with_unit(*v, &self.unit))
            )?;
        }
        Ok(())
    }
}

/// The `f` quantile of sorted values, interpolated between neighbours.
fn quantile(sorted: &[f64], f: f64) -> f64 {
    let at = f * (sorted.len() - 1) as f64;
    let (i, frac) = (at.floor() as usize, at - at.floor());
    let next = sorted.get(i + 1).copied().unwrap_or(sorted[i]);
    sorted[i] + (next - sorted[i]) * frac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_chart_has_axes_a_legend_and_goal_lines() {
        let svg = LineChart::new("latency", "Latency over time")
            .x_linear("time", "s")
            .y("latency", "ms")
            .line(Line::new("p99", vec![(0.0, 3.1), (1.0, 14.08)]))
            .goal("p(99)<15ms", 15.0)
            .goal("p(99)<900ms", 900.0)
            .render();
        assert!(
            svg.contains("latency (ms)") && svg.contains("time (s)"),
            "{svg}"
        );
        assert!(svg.contains(">15</text>") && !svg.contains("3.52"), "{svg}");
        assert!(svg.contains("class=\"goal\"") && svg.contains("p(99)&lt;15ms (15 ms)"));
        assert!(svg.contains("far above the data, not drawn"), "{svg}");
        assert!(svg.contains("<title>p99: 14.1 ms at 1 s</title>"), "{svg}");
    }

    #[test]
    fn a_percentile_chart_is_labelled_in_nines() {
        let points = [50.0, 90.0, 99.0, 99.9]
            .map(|p| (ticks::nines(p), p / 10.0))
            .to_vec();
        let svg = LineChart::new("spectrum", "Spectrum")
            .x_percentiles()
            .y("latency", "ms")
            .line(Line::new("latency", points))
            .render();
        for label in [">p50<", ">p90<", ">p99<", ">p99.9<"] {
            assert!(svg.contains(label), "{label}: {svg}");
        }
    }

    #[test]
    fn distributions_share_one_axis() {
        let svg = Distribution::new("distribution", "Wall time")
            .axis("wall time", "ms")
            .group("a", vec![10.0, 11.0, 12.0, 13.0], "")
            .group("b", vec![20.0, 21.0], "")
            .render();
        assert_eq!(svg.matches("class=\"box\"").count(), 2);
        assert_eq!(svg.matches("class=\"point\"").count(), 6);
        assert!(
            svg.contains("quartiles 10.8 ms to 12.2 ms, median 11.5 ms"),
            "{svg}"
        );
    }

    #[test]
    fn values_that_are_not_finite_are_left_out() {
        let svg = LineChart::new("x", "x")
            .line(Line::new(
                "a",
                vec![(0.0, 1.0), (f64::INFINITY, f64::NAN), (2.0, 3.0)],
            ))
            .render();
        assert_eq!(svg.matches("class=\"point\"").count(), 2);
        let svg = Distribution::new("d", "d")
            .group("a", vec![1.0, f64::INFINITY, 2.0], "")
            .render();
        assert_eq!(svg.matches("class=\"point\"").count(), 2);
    }

    #[test]
    fn quantiles_interpolate() {
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.5);
        assert_eq!(quantile(&[5.0], 0.75), 5.0);
    }
}
