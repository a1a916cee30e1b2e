//! The building blocks of every HTML report section, so that all of them read alike: a `Page` of
//! `Section`s, each with a header of what ran (`meta`), stat `Card`s coloured by verdict, `Table`s
//! (cells coloured by verdict, numbers right-aligned), charts from `chart`, warnings and notes.
//!
//! A new kind of report adds a section like this, in its own file:
//!
//! ```
//! use plumb_report::layout::{Card, Cell, Section, Table, Tone};
//! let html = Section::new("page", "Page load https://example.com")
//!     .meta(&[("when", "2026-12-01T12:00:00Z".into())])
//!     .cards(vec![Card::new("LCP p75", "1.9 s").tone(Tone::Good)])
//!     .table(Table::new("vitals", &["metric", "p75"]).row(vec![Cell::text("LCP"), Cell::num("1.9 s")]))
//!     .warnings(&["the page was throttled".to_string()])
//!     .render();
//! assert!(html.contains("<h2>Page load https://example.com</h2>"));
//! ```

use crate::html::escape;

/// How a figure reads: good (passed, improved), bad (failed, regressed), a warning, or neutral.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Passed, improved, no errors.
    Good,
    /// Failed, regressed, errors.
    Bad,
    /// Worth a look: inconclusive, a warning.
    Warn,
    /// Just a figure.
    Neutral,
}

impl Tone {
    /// The CSS class that colours it.
    pub fn class(self) -> &'static str {
        match self {
            Tone::Good => "good",
            Tone::Bad => "bad",
            Tone::Warn => "warn",
            Tone::Neutral => "neutral",
        }
    }

    /// The worse of two tones (bad over warn over good over neutral).
    pub fn worst(self, other: Tone) -> Tone {
        let rank = |t: Tone| match t {
            Tone::Neutral => 0,
            Tone::Good => 1,
            Tone::Warn => 2,
            Tone::Bad => 3,
        };
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

/// A stat card: the label, the figure in large type, a detail line, coloured by its tone.
#[derive(Debug, Clone)]
pub struct Card {
    label: String,
    value: String,
    detail: String,
    tone: Tone,
}

impl Card {
    /// A neutral card.
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Card {
        Card {
            label: label.into(),
            value: value.into(),
            detail: String::new(),
            tone: Tone::Neutral,
        }
    }

    /// A line under the figure (`of 20,000/s requested`, `threshold p(95)<200ms`).
    pub fn detail(mut self, detail: impl Into<String>) -> Card {
        self.detail = detail.into();
        self
    }

    /// Its colour.
    pub fn tone(mut self, tone: Tone) -> Card {
        self.tone = tone;
        self
    }

    fn render(&self) -> String {
        format!(
            "<div class=\"card {}\"><div class=\"label\">{}</div><div class=\"value\">{}</div><div class=\"detail\">{}</div></div>",
            self.tone.class(),
            escape(&self.label),
            escape(&self.value),
            escape(&self.detail)
        )
    }
}

/// A table cell: text (escaped) or HTML, right-aligned when it is a number, optionally coloured.
#[derive(Debug, Clone)]
pub struct Cell {
    html: String,
    numeric: bool,
    tone: Option<Tone>,
}

impl Cell {
    /// Text, left-aligned.
    pub fn text(text: impl AsRef<str>) -> Cell {
        Cell {
            html: escape(text.as_ref()),
            numeric: false,
            tone: None,
        }
    }

    /// A figure, right-aligned.
    pub fn num(text: impl AsRef<str>) -> Cell {
        Cell {
            numeric: true,
            ..Cell::text(text)
        }
    }

    /// Code (a statement, an expression, a function name).
    pub fn code(text: impl AsRef<str>) -> Cell {
        Cell::html(format!("<code>{}</code>", escape(text.as_ref())))
    }

    /// HTML made by the caller (already escaped).
    pub fn html(html: String) -> Cell {
        Cell {
            html,
            numeric: false,
            tone: None,
        }
    }

    /// A pass/fail badge: `PASS`, `FAIL`, `NO DATA`.
    pub fn badge(text: &str, tone: Tone) -> Cell {
        Cell::html(format!(
            "<span class=\"badge {}\">{}</span>",
            tone.class(),
            escape(text)
        ))
    }

    /// Coloured by `tone`.
    pub fn tone(mut self, tone: Tone) -> Cell {
        self.tone = Some(tone);
        self
    }
}

/// A table with a header row.
#[derive(Debug, Clone)]
pub struct Table {
    class: String,
    headers: Vec<String>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    /// A table with CSS class `class` and these column headers.
    pub fn new(class: &str, headers: &[&str]) -> Table {
        Table {
            class: class.to_owned(),
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row(mut self, cells: Vec<Cell>) -> Table {
        self.rows.push(cells);
        self
    }

    /// Adds a row in place.
    pub fn push(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells);
    }

    /// Whether it has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table's HTML.
    pub fn render(&self) -> String {
        let mut out = format!("<table class=\"{}\"><thead><tr>", escape(&self.class));
        let numeric: Vec<bool> = (0..self.headers.len())
            .map(|i| {
                self.rows
                    .iter()
                    .any(|r| r.get(i).is_some_and(|c| c.numeric))
            })
            .collect();
        for (h, num) in self.headers.iter().zip(&numeric) {
            let class = if *num { " class=\"num\"" } else { "" };
            out.push_str(&format!("<th{class}>{}</th>", escape(h)));
        }
        out.push_str("</tr></thead><tbody>");
        for row in &self.rows {
            out.push_str("<tr>");
            for cell in row {
                let mut classes = Vec::new();
                if cell.numeric {
                    classes.push("num");
                }
                if let Some(t) = cell.tone {
                    classes.push(t.class());
                }
                let class = if classes.is_empty() {
                    String::new()
                } else {
                    format!(" class=\"{}\"", classes.join(" "))
                };
                out.push_str(&format!("<td{class}>{}</td>", cell.html));
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table>");
        out
    }
}

/// One section of the report: a run, a comparison, a trend.
#[derive(Debug, Clone)]
pub struct Section {
    class: String,
    title: String,
    body: String,
}

impl Section {
    /// A section with CSS class `run {class}` and an `<h2>` title.
    pub fn new(class: &str, title: impl Into<String>) -> Section {
        Section {
            class: class.to_owned(),
            title: title.into(),
            body: String::new(),
        }
    }

    /// The header: what ran, with what, when, where (pairs of label and value; empty values
    /// are left out).
    pub fn meta(mut self, pairs: &[(&str, String)]) -> Section {
        self.body.push_str("<dl class=\"meta\">");
        for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
            self.body.push_str(&format!(
                "<div><dt>{}</dt><dd>{}</dd></div>",
                escape(k),
                escape(v)
            ));
        }
        self.body.push_str("</dl>");
        self
    }

    /// A row of stat cards.
    pub fn cards(mut self, cards: Vec<Card>) -> Section {
        if cards.is_empty() {
            return self;
        }
        self.body.push_str("<div class=\"cards\">");
        for card in &cards {
            self.body.push_str(&card.render());
        }
        self.body.push_str("</div>");
        self
    }

    /// An `<h3>` heading inside the section.
    pub fn heading(mut self, title: &str) -> Section {
        self.body.push_str(&format!("<h3>{}</h3>", escape(title)));
        self
    }

    /// A table (nothing when it has no rows).
    pub fn table(mut self, table: Table) -> Section {
        if !table.is_empty() {
            self.body.push_str(&table.render());
        }
        self
    }

    /// A chart from `chart::LineChart::render` or `chart::Distribution::render`.
    pub fn chart(mut self, figure: String) -> Section {
        self.body.push_str(&figure);
        self
    }

    /// A paragraph of text.
    pub fn note(mut self, text: &str) -> Section {
        self.body
            .push_str(&format!("<p class=\"note\">{}</p>", escape(text)));
        self
    }

    /// Warnings, each in a highlighted box (nothing when there are none).
    pub fn warnings(mut self, warnings: &[String]) -> Section {
        for w in warnings {
            self.body.push_str(&format!(
                "<p class=\"warning\"><strong>warning:</strong> {}</p>",
                escape(w)
            ));
        }
        self
    }

    /// HTML made by the caller (already escaped).
    pub fn raw(mut self, html: &str) -> Section {
        self.body.push_str(html);
        self
    }

    /// The section's HTML.
    pub fn render(&self) -> String {
        format!(
            "<section class=\"run {}\"><h2>{}</h2>{}</section>",
            escape(&self.class),
            escape(&self.title),
            self.body
        )
    }
}

/// The whole document: a title, the sections in order, and the inline style sheet.
pub fn page(title: &str, sections: &[String]) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{t}</title>\
         <style>{STYLE}</style></head><body><header class=\"top\"><h1>{t}</h1></header>{}</body></html>\n",
        sections.concat(),
        t = escape(title)
    )
}

/// The style sheet: readable without colour too (every tone also has a word: PASS, regressed).
const STYLE: &str = "\
:root{--good:#0a7d32;--bad:#b00020;--warn:#9a6700;--ink:#1f2328;--muted:#59636e;--line:#d0d7de}\
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;padding:1em 2em 3em;max-width:1040px;color:var(--ink);line-height:1.4}\
h1{font-size:1.5em;margin:.4em 0}h2{font-size:1.3em;margin:0 0 .6em;word-break:break-all}h3{font-size:1.05em;margin:1.6em 0 .5em}\
section.run{border:1px solid var(--line);border-radius:8px;padding:1em 1.4em;margin:1.4em 0;background:#fff}\
dl.meta{display:flex;flex-wrap:wrap;gap:.3em 1.6em;margin:0 0 1em;font-size:.9em}dl.meta div{display:flex;gap:.4em}\
dl.meta dt{color:var(--muted)}dl.meta dd{margin:0;word-break:break-all}\
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(124px,1fr));gap:.8em;margin:1em 0}\
.card{border:1px solid var(--line);border-left:5px solid #8c959f;border-radius:6px;padding:.5em .8em}\
.card .label{font-size:.8em;color:var(--muted)}.card .value{font-size:1.3em;font-weight:600;font-variant-numeric:tabular-nums;white-space:nowrap}\
.card .detail{font-size:.75em;color:var(--muted);min-height:1em}\
.card.good{border-left-color:var(--good)}.card.bad{border-left-color:var(--bad)}.card.warn{border-left-color:var(--warn)}\
.card.good .value{color:var(--good)}.card.bad .value{color:var(--bad)}.card.warn .value{color:var(--warn)}\
table{border-collapse:collapse;margin:.6em 0;font-size:.9em;font-variant-numeric:tabular-nums}\
td,th{border-bottom:1px solid var(--line);padding:.3em .7em;text-align:left;vertical-align:top}th{background:#f6f8fa}\
td.num,th.num{text-align:right;white-space:nowrap}td code{word-break:break-all}\
td.good,.good{color:var(--good)}td.bad,.bad{color:var(--bad)}td.warn{color:var(--warn)}\
.badge{display:inline-block;padding:0 .5em;border-radius:4px;font-weight:600;font-size:.85em;color:#fff}\
.badge.good{background:var(--good)}.badge.bad{background:var(--bad)}.badge.warn{background:var(--warn)}.badge.neutral{background:#8c959f}\
.bar{display:inline-block;height:.7em;background:#0072b2;opacity:.6;border-radius:2px;vertical-align:middle}\
p.warning{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:.4em .8em}\
p.note{color:var(--muted)}\
figure{margin:1.2em 0}figcaption{font-weight:600;margin-bottom:.3em}figure svg{width:100%;height:auto;display:block}\
svg text{font-size:12px;fill:#444}svg text.axis-title{font-size:12px;fill:#222}svg text.group{font-size:12px;font-weight:600}\
svg circle.point{opacity:.85}svg circle.point:hover{r:5}\
ul.legend{list-style:none;display:flex;flex-wrap:wrap;gap:.3em 1.4em;padding:0;margin:.3em 0 0 72px;font-size:.85em}\
ul.legend .swatch{display:inline-block;width:26px;margin-right:.4em;vertical-align:middle}\
ul.legend .swatch.goal{border-top:2px dotted var(--bad)}ul.legend .beyond{color:var(--muted)}\
img.flamegraph{width:100%;border:1px solid var(--line)}\
@media print{section.run{break-inside:avoid}}";
