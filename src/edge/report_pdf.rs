//! The custody report as a PDF *berita acara*, in Indonesian, made by the binary itself: the
//! same `ReportInput` as the HTML report, laid out on A4 pages (letterhead, opening sentence, the
//! item, every act in a table whose header repeats on each page, the audit's findings, the
//! verification block with its QR code drawn as vector squares, a closing sentence, and
//! "Halaman X dari Y" on every page). Edge layer: renders, decides nothing; it must never query
//! the ledger, read the clock, read a system font or use randomness — the same input gives the
//! same bytes whatever the machine's `TZ` or `LANG`.
//!
//! Library: krilla 0.7 — pure Rust, maintained, writes through `pdf-writer`, shapes text
//! (rustybuzz), embeds and subsets the font, and derives its document ids from stable hashes of
//! the content (no clock, no random ids). 0.7 rather than 0.8 because 0.8 asks for Rust 1.92,
//! above this crate's `rust-version`. Default features are off: no raster-image decoders, only
//! `simple-text`. Text widths for line breaking come from `ttf-parser`, which krilla's shaper
//! already brings into the tree.

use super::report::{
    Lang, ReportInput, Subject, acknowledgement_text, grams, readability, role_name,
    verification_text,
};
use crate::app::names::{Names, officer_label};
use crate::base::time::{Timestamp, Zone};
use crate::base::words::says;
use crate::domain::custody::ItemState;
use crate::domain::projection::TimelineEntry;

/// A4 in PDF points (1/72 inch).
const PAGE_WIDTH_PT: f32 = 595.28;
const PAGE_HEIGHT_PT: f32 = 841.89;
/// 18 mm on every side.
const MARGIN_PT: f32 = 51.0;
/// Space kept at the foot of each page for its number.
const FOOTER_PT: f32 = 24.0;
const BODY_SIZE_PT: f32 = 9.0;
const SMALL_SIZE_PT: f32 = 7.5;
const TITLE_SIZE_PT: f32 = 12.0;
const HEADING_SIZE_PT: f32 = 10.0;
/// Line height as a multiple of the font size.
const LEADING: f32 = 1.3;
const CELL_PAD_PT: f32 = 3.0;
const RULE_WIDTH_PT: f32 = 0.5;
/// The QR code's side, quiet zone included (about 40 mm: scannable from paper by a phone).
const QR_SIDE_PT: f32 = 113.0;
/// Modules of white around the QR code (the standard's quiet zone).
const QR_QUIET_MODULES: usize = 4;

/// DejaVu Sans Condensed (Bitstream Vera licence, `fonts/LICENSE-DejaVu.txt`): condensed so the
/// acts table keeps its columns readable on A4; embedded so no system font is ever consulted.
static REGULAR_TTF: &[u8] = include_bytes!("fonts/DejaVuSansCondensed.ttf");
static BOLD_TTF: &[u8] = include_bytes!("fonts/DejaVuSansCondensed-Bold.ttf");

/// The catalogue keys of the days, Monday first, and of the months.
const DAYS: [&str; 7] = [
    "report.day_monday",
    "report.day_tuesday",
    "report.day_wednesday",
    "report.day_thursday",
    "report.day_friday",
    "report.day_saturday",
    "report.day_sunday",
];
const MONTHS: [&str; 12] = [
    "report.month_january",
    "report.month_february",
    "report.month_march",
    "report.month_april",
    "report.month_may",
    "report.month_june",
    "report.month_july",
    "report.month_august",
    "report.month_september",
    "report.month_october",
    "report.month_november",
    "report.month_december",
];

#[derive(Clone, Copy, PartialEq)]
enum Weight {
    Regular,
    Bold,
}

/// One thing drawn on a page, positioned in points from the page's top-left corner.
enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        weight: Weight,
        text: String,
    },
    /// A rectangle, filled with a grey (0 black … 255 white) or, without one, outlined.
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        grey: Option<u8>,
    },
    /// Filled black squares (the QR code's dark modules), as one path.
    Squares(Vec<(f32, f32, f32, f32)>),
}

/// Glyph advances of the two embedded faces, for breaking lines.
struct Metrics {
    regular: ttf_parser::Face<'static>,
    bold: ttf_parser::Face<'static>,
}

impl Metrics {
    fn new() -> Result<Self, String> {
        let face = |data: &'static [u8]| {
            ttf_parser::Face::parse(data, 0).map_err(|e| format!("the embedded font: {e}"))
        };
        Ok(Self {
            regular: face(REGULAR_TTF)?,
            bold: face(BOLD_TTF)?,
        })
    }

    /// The width of `text` in points at `size` (advances only; kerning only narrows a line).
    fn width(&self, text: &str, size: f32, weight: Weight) -> f32 {
        let face = match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        };
        let units: u32 = text
            .chars()
            .map(|c| {
                face.glyph_index(c)
                    .and_then(|g| face.glyph_hor_advance(g))
                    .map_or(0, u32::from)
            })
            .sum();
        units as f32 * size / f32::from(face.units_per_em())
    }

    /// `text` broken into lines no wider than `width`: at spaces, and inside a word longer than
    /// a line (digests, keys); a line break in the text starts a new line.
    fn wrap(&self, text: &str, size: f32, weight: Weight, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            for word in para.split(' ').filter(|w| !w.is_empty()) {
                let candidate = if line.is_empty() {
                    word.to_owned()
                } else {
                    format!("{line} {word}")
                };
                if self.width(&candidate, size, weight) <= width {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                for c in word.chars() {
                    line.push(c);
                    if self.width(&line, size, weight) > width && line.chars().count() > 1 {
                        line.pop();
                        lines.push(std::mem::replace(&mut line, c.to_string()));
                    }
                }
            }
            lines.push(line);
        }
        lines
    }
}

/// Pages being filled from the top, with the cursor's height on the current one.
struct Layout {
    metrics: Metrics,
    pages: Vec<Vec<Op>>,
    y: f32,
}

const CONTENT_WIDTH_PT: f32 = PAGE_WIDTH_PT - 2.0 * MARGIN_PT;
const BOTTOM_PT: f32 = PAGE_HEIGHT_PT - MARGIN_PT - FOOTER_PT;

impl Layout {
    fn new() -> Result<Self, String> {
        Ok(Self {
            metrics: Metrics::new()?,
            pages: vec![Vec::new()],
            y: MARGIN_PT,
        })
    }

    fn push(&mut self, op: Op) {
        if let Some(page) = self.pages.last_mut() {
            page.push(op);
        }
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN_PT;
    }

    /// Starts a new page unless `height` more points fit on this one; true when it did.
    fn ensure(&mut self, height: f32) -> bool {
        if self.y + height > BOTTOM_PT && self.y > MARGIN_PT {
            self.new_page();
            return true;
        }
        false
    }

    fn text(&mut self, x: f32, baseline: f32, size: f32, weight: Weight, text: String) {
        self.push(Op::Text {
            x,
            y: baseline,
            size,
            weight,
            text,
        });
    }

    /// A paragraph across the text width, left-aligned or centred.
    fn paragraph(&mut self, text: &str, size: f32, weight: Weight, centred: bool) {
        let lines = self.metrics.wrap(text, size, weight, CONTENT_WIDTH_PT);
        for line in lines {
            self.ensure(size * LEADING);
            let x = if centred {
                MARGIN_PT + (CONTENT_WIDTH_PT - self.metrics.width(&line, size, weight)) / 2.0
            } else {
                MARGIN_PT
            };
            self.y += size * LEADING;
            self.text(x, self.y - size * 0.25, size, weight, line);
        }
    }

    fn gap(&mut self, points: f32) {
        self.y += points;
    }

    /// A section heading with a rule beneath, kept with at least a few lines of what follows.
    fn heading(&mut self, text: &str) {
        self.gap(6.0);
        self.ensure(HEADING_SIZE_PT * LEADING + 4.0 * BODY_SIZE_PT * LEADING);
        self.paragraph(text, HEADING_SIZE_PT, Weight::Bold, false);
        self.rule();
        self.gap(3.0);
    }

    /// A thin horizontal line across the text width.
    fn rule(&mut self) {
        self.gap(1.5);
        self.push(Op::Rect {
            x: MARGIN_PT,
            y: self.y,
            w: CONTENT_WIDTH_PT,
            h: RULE_WIDTH_PT,
            grey: Some(0),
        });
        self.gap(1.5);
    }

    /// A table: columns as fractions of the text width, an optional header (bold, shaded,
    /// repeated at the top of every page the table reaches), one row per `rows` entry.
    fn table(&mut self, columns: &[f32], header: Option<&[&str]>, rows: &[Vec<String>]) {
        let widths: Vec<f32> = columns.iter().map(|f| f * CONTENT_WIDTH_PT).collect();
        if let Some(h) = header {
            let cells: Vec<String> = h.iter().map(|s| (*s).to_owned()).collect();
            self.ensure(3.0 * BODY_SIZE_PT * LEADING + 2.0 * CELL_PAD_PT);
            self.row(&widths, &cells, Weight::Bold, Some(235));
        }
        for cells in rows {
            let height = self.row_height(&widths, cells, Weight::Regular);
            if self.ensure(height)
                && let Some(h) = header
            {
                let cells: Vec<String> = h.iter().map(|s| (*s).to_owned()).collect();
                self.row(&widths, &cells, Weight::Bold, Some(235));
            }
            self.row(&widths, cells, Weight::Regular, None);
        }
    }

    fn row_height(&self, widths: &[f32], cells: &[String], weight: Weight) -> f32 {
        let lines = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| {
                self.metrics
                    .wrap(c, BODY_SIZE_PT, weight, w - 2.0 * CELL_PAD_PT)
                    .len()
            })
            .max()
            .unwrap_or(1);
        lines as f32 * BODY_SIZE_PT * LEADING + 2.0 * CELL_PAD_PT
    }

    /// One table row at the cursor: each cell's background (if shaded), text and border.
    fn row(&mut self, widths: &[f32], cells: &[String], weight: Weight, grey: Option<u8>) {
        let height = self.row_height(widths, cells, weight);
        let top = self.y;
        let mut x = MARGIN_PT;
        for (cell, w) in cells.iter().zip(widths) {
            if grey.is_some() {
                self.push(Op::Rect {
                    x,
                    y: top,
                    w: *w,
                    h: height,
                    grey,
                });
            }
            let lines = self
                .metrics
                .wrap(cell, BODY_SIZE_PT, weight, w - 2.0 * CELL_PAD_PT);
            for (i, line) in lines.into_iter().enumerate() {
                let baseline = top + CELL_PAD_PT + (i as f32 + 1.0) * BODY_SIZE_PT * LEADING
                    - BODY_SIZE_PT * 0.3;
                self.text(x + CELL_PAD_PT, baseline, BODY_SIZE_PT, weight, line);
            }
            self.push(Op::Rect {
                x,
                y: top,
                w: *w,
                h: height,
                grey: None,
            });
            x += w;
        }
        self.y = top + height;
    }
}

/// Renders the report as a PDF document; an error only when the embedded fonts or the PDF
/// library fail, which a test would show first.
pub fn pdf(r: &ReportInput<'_>) -> Result<Vec<u8>, String> {
    let mut l = Layout::new()?;
    let zone = facility_zone(r);
    if let Some(seq) = r.act {
        return act_pdf(r, seq);
    }
    letterhead(&mut l, place(r));
    l.paragraph(
        tr(r, "report.chain_of_custody_record_of_evidence"),
        TITLE_SIZE_PT,
        Weight::Bold,
        true,
    );
    let number = match r.subject {
        Subject::Item(_) => tr(r, "report.evidence_number"),
        Subject::Case(_) => tr(r, "report.incident_case_number"),
    };
    l.paragraph(
        &clean(&format!("{number}: {}", r.subject.id())),
        BODY_SIZE_PT,
        Weight::Regular,
        true,
    );
    l.gap(6.0);
    l.paragraph(&opening(r, zone), BODY_SIZE_PT, Weight::Regular, false);
    match r.subject {
        Subject::Item(i) => item_section(&mut l, r, i),
        Subject::Case(_) => case_section(&mut l, r),
    }
    acts_section(&mut l, r);
    findings_section(&mut l, r);
    verification_section(&mut l, r);
    signatures_section(&mut l, r);
    closing(&mut l, r);
    draw(&l, r)
}

/// The zone of the facility where the item was found (its letterhead's), for the opening.
fn facility_zone(r: &ReportInput<'_>) -> Option<Zone> {
    let code = &r.history.first()?.entry.facility;
    crate::edge::render::Zones::of_facilities(r.facilities).at(code)
}

/// The register-of-places entry of the facility where the item was found, if registered.
fn place<'a>(r: &'a ReportInput<'_>) -> Option<&'a serde_json::Value> {
    r.history
        .first()
        .and_then(|a| r.facilities.get(&a.entry.facility))
}

/// The *kop surat*: the facility's letterhead lines, bold and centred, its address, a rule.
fn letterhead(l: &mut Layout, place: Option<&serde_json::Value>) {
    let Some(place) = place else { return };
    let Some(lines) = place.get("letterhead").and_then(|v| v.as_array()) else {
        return;
    };
    for line in lines.iter().filter_map(|v| v.as_str()) {
        l.paragraph(&clean(line), HEADING_SIZE_PT, Weight::Bold, true);
    }
    if let Some(address) = place.get("address").and_then(|v| v.as_str()) {
        l.paragraph(&clean(address), SMALL_SIZE_PT, Weight::Regular, true);
    }
    l.rule();
    l.gap(6.0);
}

/// Control characters other than line breaks never reach the page (the font has no glyph).
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect()
}

/// A word of the catalogue in `lang`; the key itself when missing (which a test catches first).
fn word(lang: Lang, key: &'static str) -> &'static str {
    crate::edge::web::text(lang == Lang::English, key)
}

/// Of a value that carries both languages (a finding's sentences, a severity), the report's.
fn in_lang<'t>(r: &ReportInput<'_>, id: &'t str, en: &'t str) -> &'t str {
    if r.lang == Lang::English { en } else { id }
}

/// The report's word for `key` (`report.*`) in its language, from the workbench's catalogues
/// (id.json, en.json): one catalogue of words for the page and the paper. A key missing from the
/// catalogue prints as itself, which `tests/workbench_words.rs` fails on first.
fn tr(r: &ReportInput<'_>, key: &'static str) -> &'static str {
    word(r.lang, key)
}

/// A stored time as local civil time in `zone` (UTC without one).
fn civil(text: &str, zone: Option<Zone>) -> Option<(jiff::civil::DateTime, String)> {
    let zone = zone.unwrap_or(Zone::Utc);
    let ms = Timestamp::parse(text).ok()?.unix_ms();
    let offset = jiff::tz::Offset::from_seconds(zone.offset_seconds()).ok()?;
    let local = jiff::Timestamp::from_millisecond(ms)
        .ok()?
        .to_zoned(jiff::tz::TimeZone::fixed(offset));
    Some((local.datetime(), zone.label()))
}

fn day_name(dt: jiff::civil::DateTime, lang: Lang) -> &'static str {
    word(
        lang,
        DAYS[usize::from(dt.weekday().to_monday_zero_offset().unsigned_abs())],
    )
}

fn month_name(dt: jiff::civil::DateTime, lang: Lang) -> &'static str {
    word(
        lang,
        MONTHS[usize::from(dt.month().unsigned_abs()).saturating_sub(1) % 12],
    )
}

/// "Kamis, 21 Agustus 2025 pukul 09.30 WIB" ("Thursday, 21 August 2025 at 09:30 WIB"); the
/// stored text when it is not a time.
fn long_date(text: &str, zone: Option<Zone>, lang: Lang) -> String {
    let Some((dt, label)) = civil(text, zone) else {
        return text.to_owned();
    };
    let (day, month) = (day_name(dt, lang), month_name(dt, lang));
    says(
        lang,
        "report.long_date",
        &[
            ("day", day),
            ("date", &dt.day().to_string()),
            ("month", month),
            ("year", &dt.year().to_string()),
            ("hour", &format!("{:02}", dt.hour())),
            ("minute", &format!("{:02}", dt.minute())),
            ("zone", &label),
        ],
    )
}

/// "Pada hari ini …, tanggal … bulan … tahun …, pukul … WIB, bertempat di …", at the report's
/// as-of moment in the zone of the facility where the item was found.
fn opening(r: &ReportInput<'_>, zone: Option<Zone>) -> String {
    let when = match civil(r.as_of, zone) {
        Some((dt, label)) => says(
            r.lang,
            "report.today",
            &[
                ("long_date", &long_date(r.as_of, zone, r.lang)),
                ("day", day_name(dt, r.lang)),
                ("date", &dt.day().to_string()),
                ("month", month_name(dt, r.lang)),
                ("year", &dt.year().to_string()),
                ("hour", &format!("{:02}", dt.hour())),
                ("minute", &format!("{:02}", dt.minute())),
                ("zone", &label),
            ],
        ),
        None => format!("{} {}", tr(r, "report.on"), r.as_of),
    };
    let text = |k: &str| {
        place(r)
            .and_then(|p| p.get(k))
            .and_then(|v| v.as_str())
            .map(clean)
    };
    let at = match (text("name"), text("address")) {
        (Some(n), Some(a)) => format!("{n}, {a}"),
        (Some(n), None) => n,
        _ => r
            .history
            .first()
            .map_or_else(|| "—".to_owned(), |a| clean(&a.entry.facility)),
    };
    says(
        r.lang,
        "report.opening",
        &[("when", &when), ("at", &at), ("origin", &clean(r.origin))],
    )
}

/// An item status in the report's language.
fn status_name(status: crate::domain::custody::Status, lang: Lang) -> String {
    match lang {
        Lang::English => status.as_str().replace('_', " "),
        Lang::Indonesian => status.indonesian().to_owned(),
    }
}

/// The case: every item of the incident, a row each — label (and the item a sample was taken
/// from), description, status, holder, seals and net mass.
fn case_section(l: &mut Layout, r: &ReportInput<'_>) {
    l.heading(tr(r, "report.the_evidence_of_the_case"));
    let rows: Vec<Vec<String>> = r
        .lot
        .iter()
        .map(|i| {
            let sample = i.parent.as_ref().map_or(String::new(), |p| {
                format!("\n({} {p})", tr(r, "report.sample_of"))
            });
            vec![
                clean(&format!(
                    "{}{sample}\n{}",
                    i.id,
                    i.description.as_deref().unwrap_or("—")
                )),
                format!(
                    "{}\n{}",
                    status_name(i.status, r.lang),
                    r.names.label_or(i.holder.as_ref().map(|o| o.as_str()), "—")
                ),
                clean(&i.seals.join(", ")),
                grams(i.net_mass_mg, r.lang),
            ]
        })
        .collect();
    l.table(
        &[0.38, 0.3, 0.18, 0.14],
        Some(&[
            tr(r, "report.label_and_description"),
            tr(r, "report.status_and_last_holder"),
            tr(r, "report.seals"),
            tr(r, "report.net_mass"),
        ]),
        &rows,
    );
}

/// The item: label, description, category, status, holder, seals, count, mass, case, lot.
fn item_section(l: &mut Layout, r: &ReportInput<'_>, i: &ItemState) {
    l.heading(tr(r, "report.the_evidence"));
    let or_dash = |v: Option<&str>| clean(v.unwrap_or("—"));
    let lot: Vec<String> = r
        .lot
        .iter()
        .filter(|s| s.id != i.id)
        .map(|s| {
            format!(
                "{} ({}, {})",
                s.id,
                status_name(s.status, r.lang),
                grams(s.net_mass_mg, r.lang)
            )
        })
        .collect();
    let rows = [
        (tr(r, "report.label"), i.id.as_str().to_owned()),
        (
            tr(r, "report.description"),
            or_dash(i.description.as_deref()),
        ),
        (tr(r, "report.category"), or_dash(i.category.as_deref())),
        (
            tr(r, "report.status"),
            clean(&status_name(i.status, r.lang)),
        ),
        (
            tr(r, "report.last_holder"),
            format!(
                "{} — {}",
                r.names.label_or(i.holder.as_ref().map(|o| o.as_str()), "—"),
                or_dash(i.unit.as_deref())
            ),
        ),
        (tr(r, "report.seals"), clean(&i.seals.join(", "))),
        (
            tr(r, "report.count"),
            i.count.map_or("—".to_owned(), |c| c.to_string()),
        ),
        (
            tr(r, "report.last_known_net_mass"),
            grams(i.net_mass_mg, r.lang),
        ),
        (
            tr(r, "report.incident_case_number_2"),
            format!(
                "{} / {}",
                or_dash(i.incident.as_deref()),
                or_dash(i.case.as_deref())
            ),
        ),
        (
            tr(r, "report.related_items_parent_samples"),
            if lot.is_empty() {
                "—".to_owned()
            } else {
                clean(&lot.join("; "))
            },
        ),
    ];
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|(k, v)| vec![k.to_owned(), v])
        .collect();
    l.table(&[0.3, 0.7], None, &rows);
}

/// An act's name in the report's language.
fn act_name(kind: &str, indonesian: &str, lang: Lang) -> String {
    let english = crate::format::statement::StatementType::ALL
        .iter()
        .find(|t| t.as_str() == kind)
        .map(|t| crate::app::templates::english(*t).to_owned());
    match (lang, english) {
        (Lang::English, Some(english)) => english,
        _ => indonesian.to_owned(),
    }
}

/// An act's signers, one a line: `Name (NIP …), role`, and the attestation of a re-recorded act.
fn signers_text(e: &TimelineEntry, names: &Names, lang: Lang) -> String {
    let mut lines: Vec<String> = e
        .signers
        .iter()
        .map(|s| {
            format!(
                "{}, {}",
                officer_label(&s.officer, s.name.as_deref()),
                role_name(&s.role, lang)
            )
        })
        .collect();
    if let Some(a) = &e.attested_by {
        lines.push(says(
            lang,
            "report.re_recorded_from",
            &[
                ("origin", &a.origin),
                ("seq", &a.seq.to_string()),
                ("admin", &names.label(&a.officer)),
            ],
        ));
    }
    clean(&lines.join("\n"))
}

/// Every act in order, in a table whose header repeats on each page.
fn acts_section(l: &mut Layout, r: &ReportInput<'_>) {
    l.heading(tr(r, "report.the_acts"));
    let zones = crate::edge::render::Zones::of_facilities(r.facilities);
    let case = matches!(r.subject, Subject::Case(_));
    let rows: Vec<Vec<String>> = r
        .history
        .iter()
        .map(|act| {
            let e = &act.entry;
            let zone = zones.at(&e.facility);
            let name = act_name(&e.kind, &e.indonesian, r.lang);
            vec![
                e.seq.to_string(),
                format!(
                    "{}\n{}",
                    long_date(&e.occurred_at, zone, r.lang),
                    clean(&e.facility)
                ),
                // A case report's row names the item it is shown for.
                clean(&match &act.item {
                    Some(item) if case => format!("{name}\n{item}"),
                    _ => name,
                }),
                signers_text(e, r.names, r.lang),
                format!(
                    "{}: {}\n{}: {} / {}{}",
                    tr(r, "report.seals"),
                    if e.seals.is_empty() {
                        "—".to_owned()
                    } else {
                        clean(&e.seals.join(", "))
                    },
                    tr(r, "report.gross_net"),
                    grams(e.gross_mass_mg, r.lang),
                    grams(e.net_mass_mg, r.lang),
                    readability(e, r.lang)
                ),
            ]
        })
        .collect();
    l.table(
        &[0.06, 0.22, 0.17, 0.32, 0.23],
        Some(&[
            "No.",
            tr(r, "report.time_and_place"),
            tr(r, "report.act"),
            tr(r, "report.signers_and_roles"),
            tr(r, "report.seals_and_masses"),
        ]),
        &rows,
    );
}

/// A severity in Indonesian.
fn severity_name(s: crate::domain::audit::Severity) -> &'static str {
    use crate::domain::audit::Severity;
    match s {
        Severity::Info => "informasi",
        Severity::Warning => "peringatan",
        Severity::Serious => "serius",
        Severity::Critical => "kritis",
    }
}

/// The audit's findings as of the report's moment, or a sentence saying there are none.
fn findings_section(l: &mut Layout, r: &ReportInput<'_>) {
    l.heading(tr(r, "report.findings_of_the_audit"));
    if r.findings.is_empty() {
        let none = tr(r, "report.no_findings");
        l.paragraph(none, BODY_SIZE_PT, Weight::Regular, false);
        return;
    }
    let rows: Vec<Vec<String>> = r
        .findings
        .iter()
        .map(|f| {
            let seqs: Vec<String> = f.seqs.iter().map(u64::to_string).collect();
            let detail = f
                .detail
                .as_deref()
                .map_or(String::new(), |d| format!("\n{d}"));
            let text = in_lang(r, &f.indonesian, &f.english).to_owned();
            vec![
                in_lang(r, severity_name(f.severity), f.severity.as_str()).to_owned(),
                format!("{} {}", f.class, clean(&f.name)),
                seqs.join(", "),
                clean(&format!("{text}{detail}")),
            ]
        })
        .collect();
    l.table(
        &[0.12, 0.2, 0.1, 0.58],
        Some(&[
            tr(r, "report.severity"),
            tr(r, "report.class"),
            tr(r, "report.log_no"),
            tr(r, "report.description"),
        ]),
        &rows,
    );
}

/// The verification block: what the QR code carries, as text beside the code itself.
fn verification_section(l: &mut Layout, r: &ReportInput<'_>) {
    // The heading stays with the code: both move to the next page when the code does not fit.
    l.ensure(QR_SIDE_PT + 6.0 * HEADING_SIZE_PT);
    let heading = if r.act.is_some() {
        tr(r, "report.verification")
    } else {
        tr(r, "report.verification_2")
    };
    l.heading(heading);
    let top = l.y;
    qr(l, &verification_text(r), top);
    let line = |key: &'static str, value: &str| format!("{}: {}", tr(r, key), clean(value));
    let lines = [
        line("report.ledger_origin", r.origin),
        line(
            "report.log_size_at_the_checkpoint",
            &r.checkpoint_size.to_string(),
        ),
        line("report.merkle_root", r.checkpoint_root),
        line("report.sha256_of_the_bundle", r.bundle_sha256),
        line("report.printed_digest", r.printed_digest),
        line("report.state_as_of", r.as_of),
        tr(r, "report.check_with_the_bundle_and_the").to_owned(),
        format!(
            "custody bundle verify BUNDLE.json --vkey '{}' --printed-digest {}",
            clean(r.vkey),
            clean(r.printed_digest)
        ),
    ];
    let x = MARGIN_PT + QR_SIDE_PT + 8.0;
    let width = CONTENT_WIDTH_PT - QR_SIDE_PT - 8.0;
    let mut y = top;
    for text in lines {
        for line in l.metrics.wrap(&text, SMALL_SIZE_PT, Weight::Regular, width) {
            y += SMALL_SIZE_PT * LEADING;
            l.text(x, y, SMALL_SIZE_PT, Weight::Regular, line);
        }
        y += 2.0;
    }
    l.y = (top + QR_SIDE_PT).max(y) + 4.0;
}

/// The QR code of `text` at the left margin, its dark modules as squares (runs of a row merged
/// into one rectangle); a line of text instead when the text cannot be encoded.
fn qr(l: &mut Layout, text: &str, top: f32) {
    let code =
        match qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M) {
            Ok(code) => code,
            Err(e) => {
                l.text(
                    MARGIN_PT,
                    top + BODY_SIZE_PT,
                    BODY_SIZE_PT,
                    Weight::Regular,
                    format!("Kode QR tidak tersedia: {e}"),
                );
                return;
            }
        };
    let width = code.width();
    let colors = code.to_colors();
    let module = QR_SIDE_PT / (width + 2 * QR_QUIET_MODULES) as f32;
    let origin = MARGIN_PT + QR_QUIET_MODULES as f32 * module;
    let mut squares = Vec::new();
    for (row, cells) in colors.chunks(width).enumerate() {
        let mut col = 0;
        while col < cells.len() {
            if cells[col] != qrcode::Color::Dark {
                col += 1;
                continue;
            }
            let start = col;
            while col < cells.len() && cells[col] == qrcode::Color::Dark {
                col += 1;
            }
            squares.push((
                origin + start as f32 * module,
                top + QR_QUIET_MODULES as f32 * module + row as f32 * module,
                (col - start) as f32 * module,
                module,
            ));
        }
    }
    l.push(Op::Squares(squares));
}

/// Lines left blank in a signature row, for a wet signature where a facility still requires one.
const WET_SIGNATURE_LINES: usize = 3;

/// One row per signature of every act of the bundle — who, in which role, with which key and at
/// which log position — and one per refusal or absence it records, each with room for a wet
/// signature.
fn signatures_section(l: &mut Layout, r: &ReportInput<'_>) {
    let heading = if r.act.is_some() {
        tr(r, "report.signatures")
    } else {
        tr(r, "report.signatures_2")
    };
    l.heading(heading);
    let intro = tr(r, "report.each_act_was_signed_electronically_by");
    l.paragraph(intro, BODY_SIZE_PT, Weight::Regular, false);
    l.gap(4.0);
    let rows = signature_rows(r);
    l.table(
        &[0.06, 0.18, 0.3, 0.26, 0.2],
        Some(&[
            "No.",
            tr(r, "report.act"),
            tr(r, "report.name_and_role"),
            tr(r, "report.how_signed"),
            tr(r, "report.wet_signature"),
        ]),
        &rows,
    );
}

/// The signature table's rows: one per signer of each act, one per acknowledgement.
fn signature_rows(r: &ReportInput<'_>) -> Vec<Vec<String>> {
    let room = "\n".repeat(WET_SIGNATURE_LINES - 1);
    let mut rows: Vec<Vec<String>> = Vec::new();
    for act in r
        .signatures
        .iter()
        .filter(|a| r.act.is_none_or(|seq| a.seq == seq))
    {
        let name = clean(&act_name(&act.kind, &act.indonesian, r.lang));
        for s in &act.signers {
            let how = says(
                r.lang,
                "report.signed_electronically",
                &[("key", &s.key_id), ("seq", &act.seq.to_string())],
            );
            rows.push(vec![
                act.seq.to_string(),
                name.clone(),
                clean(&format!(
                    "{}, {}",
                    r.names.label(&s.officer),
                    role_name(&s.role, r.lang)
                )),
                clean(&how),
                room.clone(),
            ]);
        }
        for a in &act.acknowledgements {
            rows.push(vec![
                act.seq.to_string(),
                name.clone(),
                acknowledgement_text(a, r.lang),
                tr(r, "report.no_electronic_signature").to_owned(),
                room.clone(),
            ]);
        }
    }
    rows
}

/// The berita acara of one act of the item (`custody report --act SEQ`): the letterhead of the
/// facility where it was done, "Pada hari ini …" at the act's own time in that facility's zone,
/// what the act did and left, its signatures and refusals, the same verification block as the
/// whole report (the act is proven by the same bundle) and the closing statement.
fn act_pdf(r: &ReportInput<'_>, seq: u64) -> Result<Vec<u8>, String> {
    let e = &r
        .history
        .iter()
        .find(|a| a.entry.seq == seq)
        .ok_or_else(|| format!("no act {seq} in the history of {}", r.subject.id()))?
        .entry;
    let zone = crate::edge::render::Zones::of_facilities(r.facilities).at(&e.facility);
    let place = r.facilities.get(&e.facility);
    let name = act_name(&e.kind, &e.indonesian, r.lang);
    let mut l = Layout::new()?;
    letterhead(&mut l, place);
    let title = format!("{} {}", tr(r, "report.record_of"), name.to_uppercase());
    l.paragraph(&clean(&title), TITLE_SIZE_PT, Weight::Bold, true);
    let number = format!(
        "{}: {} · {}: {seq}",
        tr(r, "report.evidence_number"),
        r.subject.id(),
        tr(r, "report.log_no_2")
    );
    l.paragraph(&number, BODY_SIZE_PT, Weight::Regular, true);
    l.gap(6.0);
    let when = long_date(&e.occurred_at, zone, r.lang);
    let at = place
        .and_then(|p| p.get("name"))
        .and_then(|v| v.as_str())
        .unwrap_or(&e.facility);
    let opening = says(
        r.lang,
        "report.act_opening",
        &[
            ("when", &when),
            ("at", at),
            ("act", &name),
            ("origin", r.origin),
        ],
    );
    l.paragraph(&clean(&opening), BODY_SIZE_PT, Weight::Regular, false);
    act_facts(&mut l, r, e);
    signatures_section(&mut l, r);
    verification_section(&mut l, r);
    closing(&mut l, r);
    draw(&l, r)
}

/// What the act did and what it left: its summary, then the item's seals, masses, count, holder,
/// place and status after it.
fn act_facts(l: &mut Layout, r: &ReportInput<'_>, e: &TimelineEntry) {
    l.heading(tr(r, "report.the_act_and_the_evidence"));
    let or_dash = |v: Option<&str>| clean(v.unwrap_or("—"));
    let rows = [
        (
            tr(r, "report.description"),
            clean(match r.lang {
                Lang::Indonesian => r.uraian.get(&e.seq).unwrap_or(&e.summary),
                Lang::English => &e.summary,
            }),
        ),
        (
            tr(r, "report.signers_and_roles"),
            signers_text(e, r.names, r.lang),
        ),
        (tr(r, "report.seals_after"), clean(&e.seals.join(", "))),
        (
            tr(r, "report.gross_net_mass"),
            format!(
                "{} / {}{}",
                grams(e.gross_mass_mg, r.lang),
                grams(e.net_mass_mg, r.lang),
                readability(e, r.lang)
            ),
        ),
        (
            tr(r, "report.count"),
            e.count.map_or("—".to_owned(), |c| c.to_string()),
        ),
        (
            tr(r, "report.holder_after"),
            r.names.label_or(e.holder.as_deref(), "—"),
        ),
        (tr(r, "report.place"), or_dash(e.location.as_deref())),
        (
            tr(r, "report.status"),
            crate::domain::custody::Status::parse(&e.status)
                .map_or_else(|| clean(&e.status), |s| status_name(s, r.lang)),
        ),
    ];
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|(k, v)| vec![k.to_owned(), v])
        .collect();
    l.table(&[0.3, 0.7], None, &rows);
}

/// The closing sentence and the signature places.
fn closing(l: &mut Layout, r: &ReportInput<'_>) {
    l.gap(8.0);
    let statement = tr(r, "report.this_record_is_a_printed_rendering");
    l.paragraph(statement, BODY_SIZE_PT, Weight::Regular, false);
    l.gap(10.0);
    l.ensure(4.0 * BODY_SIZE_PT * LEADING + 30.0);
    let top = l.y;
    let places = [tr(r, "report.handed_over_by"), tr(r, "report.received_by")];
    for (i, who) in places.into_iter().enumerate() {
        let x = MARGIN_PT + i as f32 * CONTENT_WIDTH_PT * 0.55;
        l.text(
            x,
            top + BODY_SIZE_PT,
            BODY_SIZE_PT,
            Weight::Regular,
            who.to_owned(),
        );
        l.push(Op::Rect {
            x,
            y: top + 40.0,
            w: CONTENT_WIDTH_PT * 0.45,
            h: RULE_WIDTH_PT,
            grey: Some(0),
        });
    }
    l.y = top + 44.0;
}

/// The document's metadata: a title, Indonesian, an id and a date derived from the report's
/// content and as-of moment, never from the clock.
fn metadata(r: &ReportInput<'_>) -> krilla::metadata::Metadata {
    let mut m = krilla::metadata::Metadata::new()
        .title(format!(
            "{} {}",
            tr(r, "report.chain_of_custody_record_of_evidence_2"),
            r.subject.id()
        ))
        .language(tr(r, "report.language_tag").to_owned())
        .creator("custody".to_owned())
        .producer("custody".to_owned())
        .document_id(format!(
            "{} {} {}",
            r.subject.id(),
            r.bundle_sha256,
            r.as_of
        ));
    if let Some((dt, _)) = civil(r.as_of, None) {
        let part = |v: i8| v.unsigned_abs();
        m = m.creation_date(
            krilla::metadata::DateTime::new(dt.year().unsigned_abs())
                .month(part(dt.month()))
                .day(part(dt.day()))
                .hour(part(dt.hour()))
                .minute(part(dt.minute()))
                .second(part(dt.second()))
                .utc_offset_hour(0)
                .utc_offset_minute(0),
        );
    }
    m
}

/// Draws the laid-out pages with krilla, a "Halaman X dari Y" footer on each.
fn draw(l: &Layout, r: &ReportInput<'_>) -> Result<Vec<u8>, String> {
    let font = |data: &'static [u8]| {
        krilla::text::Font::new(data.into(), 0).ok_or("the embedded font cannot be read")
    };
    let regular = font(REGULAR_TTF)?;
    let bold = font(BOLD_TTF)?;
    let mut doc = krilla::Document::new();
    doc.set_metadata(metadata(r));
    let total = l.pages.len();
    for (n, ops) in l.pages.iter().enumerate() {
        let settings = krilla::page::PageSettings::from_wh(PAGE_WIDTH_PT, PAGE_HEIGHT_PT)
            .ok_or("the page size")?;
        let mut page = doc.start_page_with(settings);
        let mut surface = page.surface();
        for op in ops {
            draw_op(&mut surface, op, &regular, &bold);
        }
        let footer = says(
            r.lang,
            "report.page_of",
            &[
                ("page", &(n + 1).to_string()),
                ("pages", &total.to_string()),
            ],
        );
        let width = l.metrics.width(&footer, SMALL_SIZE_PT, Weight::Regular);
        let baseline = PAGE_HEIGHT_PT - MARGIN_PT;
        for (x, text) in [
            (MARGIN_PT, clean(r.subject.id())),
            (PAGE_WIDTH_PT - MARGIN_PT - width, footer),
        ] {
            draw_op(
                &mut surface,
                &Op::Text {
                    x,
                    y: baseline,
                    size: SMALL_SIZE_PT,
                    weight: Weight::Regular,
                    text,
                },
                &regular,
                &bold,
            );
        }
        surface.finish();
        page.finish();
    }
    doc.finish().map_err(|e| format!("the PDF: {e:?}"))
}

fn draw_op(
    s: &mut krilla::surface::Surface<'_>,
    op: &Op,
    regular: &krilla::text::Font,
    bold: &krilla::text::Font,
) {
    use krilla::geom::{PathBuilder, Point, Rect};
    use krilla::paint::{Fill, Stroke};
    match op {
        Op::Text {
            x,
            y,
            size,
            weight,
            text,
        } => {
            let font = if *weight == Weight::Bold {
                bold
            } else {
                regular
            };
            s.draw_text(
                Point::from_xy(*x, *y),
                font.clone(),
                *size,
                text,
                false,
                krilla::text::TextDirection::Auto,
            );
        }
        Op::Rect { x, y, w, h, grey } => {
            let mut pb = PathBuilder::new();
            if let Some(rect) = Rect::from_xywh(*x, *y, *w, *h) {
                pb.push_rect(rect);
            }
            let Some(path) = pb.finish() else { return };
            if let Some(g) = grey {
                s.set_fill(Some(Fill {
                    paint: krilla::color::luma::Color::new(*g).into(),
                    ..Fill::default()
                }));
                s.draw_path(&path);
            } else {
                s.set_fill(None);
                s.set_stroke(Some(Stroke {
                    width: RULE_WIDTH_PT,
                    ..Stroke::default()
                }));
                s.draw_path(&path);
                s.set_stroke(None);
            }
            s.set_fill(Some(Fill::default()));
        }
        Op::Squares(squares) => {
            let mut pb = PathBuilder::new();
            for (x, y, w, h) in squares {
                if let Some(rect) = Rect::from_xywh(*x, *y, *w, *h) {
                    pb.push_rect(rect);
                }
            }
            if let Some(path) = pb.finish() {
                s.set_fill(Some(Fill::default()));
                s.draw_path(&path);
            }
        }
    }
}
