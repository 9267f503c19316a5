//! Item and seal labels: a 50 × 30 mm SVG per label (the id in Code 128 and in a QR code, the id
//! in large text, Indonesian captions), the A4 sheet (HTML with print CSS) of every label one act
//! creates, which labels an act creates, and the Code 128 encoder they use (`code128`). Pure:
//! values in, text out — no I/O, no clock, no ledger; the routes read the item and the act and
//! hand them here. Everything taken from a statement is escaped before it is written into SVG or
//! HTML, since what one device prints another scans, and ids and descriptions are untrusted text.
//! Never decides who may see a label: the routes check the reader first.

use crate::base::class::{Class, Classify};
use crate::base::time::{Timestamp, Zone};
use crate::base::words::{Explain, Message, msg};
use crate::format::statement::{Body, Statement};
use std::fmt::Write as _;

/// A label's width, in millimetres: the common 50 × 30 mm thermal and sheet label.
pub const LABEL_WIDTH_MM: f64 = 50.0;
/// A label's height, in millimetres.
pub const LABEL_HEIGHT_MM: f64 = 30.0;
/// Characters of a description on an item label: what fits one line of 2.1 mm text beside the
/// QR code; the rest is cut with an ellipsis (the full text is in the item's history).
pub const DESCRIPTION_CHARS_MAX: usize = 30;
/// Characters of any other line (facility, item id on a seal label): the ids' own bound.
pub const LINE_CHARS_MAX: usize = 64;

/// Why a label could not be drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelError {
    /// A character Code 128 set B cannot carry (only printable ASCII, 32–126).
    Unencodable { field: &'static str, found: char },
    /// Empty text has no barcode.
    Empty { field: &'static str },
    /// The QR encoder refused the text (longer than a QR code holds).
    QrTooLong { field: &'static str },
}

crate::english_display!(LabelError);

impl Explain for LabelError {
    fn explain(&self) -> Message {
        match self {
            Self::Unencodable { field, found } => msg("err.label.unencodable")
                .arg("field", field)
                .quoted("found", found),
            Self::Empty { field } => msg("err.label.empty").arg("field", field),
            Self::QrTooLong { field } => msg("err.label.qr_too_long").arg("field", field),
        }
    }
}

impl Classify for LabelError {
    fn class(&self) -> Class {
        Class::Invalid
    }
    fn field(&self) -> Option<String> {
        match self {
            Self::Unencodable { field, .. } | Self::Empty { field } | Self::QrTooLong { field } => {
                Some((*field).to_owned())
            }
        }
    }
}

/// Code 128 (ISO/IEC 15417): code sets B and C, start and stop patterns, the modulo-103 check
/// symbol, and the bar widths a renderer draws.
///
/// Structure of a symbol (ISO/IEC 15417 §4): quiet zone (≥ 10 modules), a start character
/// (Start B = 104, Start C = 105), the data characters, one symbol check character, the stop
/// character, quiet zone. Every character but the stop is 11 modules: 3 bars and 3 spaces, each
/// 1–4 modules wide, bar first; the stop is 13 modules (its last bar is the 2-module termination
/// bar). Set B carries ASCII 32–127 as values 0–95; set C carries a pair of digits 00–99 as its
/// value, so a run of digits takes half the symbols. Value 99 switches from B to C, value 100 from
/// C to B. The check character is (start value + Σ position × value) mod 103, positions counted
/// from 1 at the first character after the start.
pub mod code128 {
    use super::LabelError;

    /// Bar and space widths of the symbol values 0–105, in modules, bar first (ISO/IEC 15417
    /// Table 1). Value 103 (Start A) is never emitted here but is part of the table.
    const PATTERNS: [[u8; 6]; 106] = [
        [2, 1, 2, 2, 2, 2],
        [2, 2, 2, 1, 2, 2],
        [2, 2, 2, 2, 2, 1],
        [1, 2, 1, 2, 2, 3],
        [1, 2, 1, 3, 2, 2],
        [1, 3, 1, 2, 2, 2],
        [1, 2, 2, 2, 1, 3],
        [1, 2, 2, 3, 1, 2],
        [1, 3, 2, 2, 1, 2],
        [2, 2, 1, 2, 1, 3],
        [2, 2, 1, 3, 1, 2],
        [2, 3, 1, 2, 1, 2],
        [1, 1, 2, 2, 3, 2],
        [1, 2, 2, 1, 3, 2],
        [1, 2, 2, 2, 3, 1],
        [1, 1, 3, 2, 2, 2],
        [1, 2, 3, 1, 2, 2],
        [1, 2, 3, 2, 2, 1],
        [2, 2, 3, 2, 1, 1],
        [2, 2, 1, 1, 3, 2],
        [2, 2, 1, 2, 3, 1],
        [2, 1, 3, 2, 1, 2],
        [2, 2, 3, 1, 1, 2],
        [3, 1, 2, 1, 3, 1],
        [3, 1, 1, 2, 2, 2],
        [3, 2, 1, 1, 2, 2],
        [3, 2, 1, 2, 2, 1],
        [3, 1, 2, 2, 1, 2],
        [3, 2, 2, 1, 1, 2],
        [3, 2, 2, 2, 1, 1],
        [2, 1, 2, 1, 2, 3],
        [2, 1, 2, 3, 2, 1],
        [2, 3, 2, 1, 2, 1],
        [1, 1, 1, 3, 2, 3],
        [1, 3, 1, 1, 2, 3],
        [1, 3, 1, 3, 2, 1],
        [1, 1, 2, 3, 1, 3],
        [1, 3, 2, 1, 1, 3],
        [1, 3, 2, 3, 1, 1],
        [2, 1, 1, 3, 1, 3],
        [2, 3, 1, 1, 1, 3],
        [2, 3, 1, 3, 1, 1],
        [1, 1, 2, 1, 3, 3],
        [1, 1, 2, 3, 3, 1],
        [1, 3, 2, 1, 3, 1],
        [1, 1, 3, 1, 2, 3],
        [1, 1, 3, 3, 2, 1],
        [1, 3, 3, 1, 2, 1],
        [3, 1, 3, 1, 2, 1],
        [2, 1, 1, 3, 3, 1],
        [2, 3, 1, 1, 3, 1],
        [2, 1, 3, 1, 1, 3],
        [2, 1, 3, 3, 1, 1],
        [2, 1, 3, 1, 3, 1],
        [3, 1, 1, 1, 2, 3],
        [3, 1, 1, 3, 2, 1],
        [3, 3, 1, 1, 2, 1],
        [3, 1, 2, 1, 1, 3],
        [3, 1, 2, 3, 1, 1],
        [3, 3, 2, 1, 1, 1],
        [3, 1, 4, 1, 1, 1],
        [2, 2, 1, 4, 1, 1],
        [4, 3, 1, 1, 1, 1],
        [1, 1, 1, 2, 2, 4],
        [1, 1, 1, 4, 2, 2],
        [1, 2, 1, 1, 2, 4],
        [1, 2, 1, 4, 2, 1],
        [1, 4, 1, 1, 2, 2],
        [1, 4, 1, 2, 2, 1],
        [1, 1, 2, 2, 1, 4],
        [1, 1, 2, 4, 1, 2],
        [1, 2, 2, 1, 1, 4],
        [1, 2, 2, 4, 1, 1],
        [1, 4, 2, 1, 1, 2],
        [1, 4, 2, 2, 1, 1],
        [2, 4, 1, 2, 1, 1],
        [2, 2, 1, 1, 1, 4],
        [4, 1, 3, 1, 1, 1],
        [2, 4, 1, 1, 1, 2],
        [1, 3, 4, 1, 1, 1],
        [1, 1, 1, 2, 4, 2],
        [1, 2, 1, 1, 4, 2],
        [1, 2, 1, 2, 4, 1],
        [1, 1, 4, 2, 1, 2],
        [1, 2, 4, 1, 1, 2],
        [1, 2, 4, 2, 1, 1],
        [4, 1, 1, 2, 1, 2],
        [4, 2, 1, 1, 1, 2],
        [4, 2, 1, 2, 1, 1],
        [2, 1, 2, 1, 4, 1],
        [2, 1, 4, 1, 2, 1],
        [4, 1, 2, 1, 2, 1],
        [1, 1, 1, 1, 4, 3],
        [1, 1, 1, 3, 4, 1],
        [1, 3, 1, 1, 4, 1],
        [1, 1, 4, 1, 1, 3],
        [1, 1, 4, 3, 1, 1],
        [4, 1, 1, 1, 1, 3],
        [4, 1, 1, 3, 1, 1],
        [1, 1, 3, 1, 4, 1],
        [1, 1, 4, 1, 3, 1],
        [3, 1, 1, 1, 4, 1],
        [4, 1, 1, 1, 3, 1],
        [2, 1, 1, 4, 1, 2],
        [2, 1, 1, 2, 1, 4],
        [2, 1, 1, 2, 3, 2],
    ];
    /// The stop character with its termination bar: 4 bars and 3 spaces over 13 modules.
    const STOP: [u8; 7] = [2, 3, 3, 1, 1, 1, 2];
    pub const START_B: u8 = 104;
    pub const START_C: u8 = 105;
    /// In set B: the following characters are set C.
    pub const CODE_C: u8 = 99;
    /// In set C: the following characters are set B.
    pub const CODE_B: u8 = 100;
    /// The checksum's modulus (ISO/IEC 15417 §4.5).
    pub const CHECK_MODULUS: u32 = 103;
    /// Quiet zone on each side, in modules: the standard's minimum of 10 X.
    pub const QUIET_ZONE_MODULES: u32 = 10;
    /// Digits in a row worth set C: a run of 4 takes 2 symbols in C (plus the switch) against 4
    /// in B, so from 4 on set C never costs more, and at the end of the text it saves one.
    pub const SET_C_RUN_MIN: usize = 4;

    /// A Code 128 symbol: its values (start, data, check; the stop is implied) and the widths of
    /// its bars and spaces in modules, bar first, stop included, quiet zones not.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Encoded {
        pub values: Vec<u8>,
        pub widths: Vec<u8>,
    }

    impl Encoded {
        /// The symbol's width in modules, without the quiet zones.
        pub fn modules(&self) -> u32 {
            self.widths.iter().map(|w| u32::from(*w)).sum()
        }
    }

    /// The values of `text` from the start character on, without the check character: set B,
    /// switching to set C for every run of at least `SET_C_RUN_MIN` digits (an odd run gives its
    /// first digit to set B).
    pub fn values(text: &str, field: &'static str) -> Result<Vec<u8>, LabelError> {
        if text.is_empty() {
            return Err(LabelError::Empty { field });
        }
        if let Some(found) = text.chars().find(|c| !(' '..='~').contains(c)) {
            return Err(LabelError::Unencodable { field, found });
        }
        let b = text.as_bytes();
        let run_at = |i: usize| b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        let worth_c = |run: usize| run >= SET_C_RUN_MIN && run.is_multiple_of(2);
        let mut set_c = worth_c(run_at(0));
        let mut out = vec![if set_c { START_C } else { START_B }];
        let mut i = 0;
        while i < b.len() {
            let run = run_at(i);
            if set_c {
                if run >= 2 {
                    out.push((b[i] - b'0') * 10 + (b[i + 1] - b'0'));
                    i += 2;
                } else {
                    out.push(CODE_B);
                    set_c = false;
                }
            } else if worth_c(run) {
                out.push(CODE_C);
                set_c = true;
            } else {
                // Set B: ASCII 32–126 are values 0–94.
                out.push(b[i] - b' ');
                i += 1;
            }
        }
        Ok(out)
    }

    /// The check character of `values` (start character first).
    pub fn checksum(values: &[u8]) -> u8 {
        let sum = values
            .iter()
            .enumerate()
            .map(|(position, v)| u32::from(*v) * u32::try_from(position.max(1)).unwrap_or(0))
            .sum::<u32>();
        u8::try_from(sum % CHECK_MODULUS).unwrap_or(0)
    }

    /// `text` as a Code 128 symbol.
    pub fn encode(text: &str, field: &'static str) -> Result<Encoded, LabelError> {
        let mut values = values(text, field)?;
        values.push(checksum(&values));
        let mut widths: Vec<u8> = values
            .iter()
            .flat_map(|v| PATTERNS[usize::from(*v)])
            .collect();
        widths.extend_from_slice(&STOP);
        Ok(Encoded { values, widths })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn every_pattern_is_eleven_modules_with_even_bars_and_all_differ() {
            for (v, p) in PATTERNS.iter().enumerate() {
                let modules: u8 = p.iter().sum();
                assert_eq!(modules, 11, "value {v}");
                // ISO/IEC 15417: the bars of a character cover an even number of modules.
                assert!((p[0] + p[2] + p[4]).is_multiple_of(2), "value {v}");
            }
            let mut distinct = PATTERNS.to_vec();
            distinct.sort_unstable();
            distinct.dedup();
            assert_eq!(distinct.len(), PATTERNS.len());
            assert_eq!(STOP.iter().sum::<u8>(), 13);
        }

        #[test]
        fn check_characters_match_published_examples() {
            // "abcdef" in set B: 104 + 65·1 + 66·2 + … + 70·6 = 1539; 1539 mod 103 = 97.
            let v = values("abcdef", "t").expect("encodes");
            assert_eq!(v, [START_B, 65, 66, 67, 68, 69, 70]);
            assert_eq!(checksum(&v), 97);
            // "345678" in set C: 105 + 34·1 + 56·2 + 78·3 = 485; 485 mod 103 = 73.
            let v = values("345678", "t").expect("encodes");
            assert_eq!(v, [START_C, 34, 56, 78]);
            assert_eq!(checksum(&v), 73);
            // "HI345678": the published example starts in set A (103, sum 1406, check 67); in
            // set B the letters keep their values, so the sum is 1407 and the check 68.
            let v = values("HI345678", "t").expect("encodes");
            assert_eq!(v, [START_B, 40, 41, CODE_C, 34, 56, 78]);
            assert_eq!(checksum(&v), 68);
        }

        #[test]
        fn digit_runs_use_set_c_and_odd_runs_lead_in_set_b() {
            // A run of five: one digit in B, then two pairs in C.
            let v = values("12345", "t").expect("encodes");
            assert_eq!(v, [START_B, 17, CODE_C, 23, 45]);
            // Short runs stay in B; a run of four mid-text switches and back.
            let v = values("BB-12-2025-X", "t").expect("encodes");
            assert_eq!(
                v,
                [
                    START_B, 34, 34, 13, 17, 18, 13, CODE_C, 20, 25, CODE_B, 13, 56
                ]
            );
            let e = encode("SEG-2025-000418", "t").expect("encodes");
            assert_eq!(e.modules(), 11 * e.values.len() as u32 + 13);
        }

        #[test]
        fn only_printable_ascii_is_encoded() {
            assert_eq!(values("", "seal"), Err(LabelError::Empty { field: "seal" }));
            assert_eq!(
                values("A\u{7f}", "id"),
                Err(LabelError::Unencodable {
                    field: "id",
                    found: '\u{7f}'
                })
            );
            assert!(values("é", "id").is_err());
        }
    }
}

/// One label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Label {
    /// An item's label: what the act that created it says it is, where and when.
    Item {
        id: String,
        description: Option<String>,
        facility: String,
        /// The date of the act that created the item, local to its facility when registered.
        date: String,
    },
    /// A seal's label: the seal number, the item it closes, and where and when it was applied.
    Seal {
        seal: String,
        item: String,
        facility: String,
        date: String,
    },
}

/// What one act creates a label for, as the act says it (the routes read the rest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Made {
    /// A new item (a find, a new seizure, a sample).
    Item(crate::base::ids::ItemId),
    /// A seal applied to `item`.
    Seal {
        seal: String,
        item: crate::base::ids::ItemId,
    },
}

/// Every label `statement` creates, in the order they are printed: the item of a
/// `contraband_found`, of a `seizure_recorded` that creates it (its `after` is `null`) and the
/// sample of a `sample_set_aside` with the sample's seals; the seals an `item_sealed` applies.
pub fn made_by(statement: &Statement) -> Vec<Made> {
    let seals = |item: &crate::base::ids::ItemId, list: &[String]| {
        list.iter()
            .map(|seal| Made::Seal {
                seal: seal.clone(),
                item: item.clone(),
            })
            .collect::<Vec<_>>()
    };
    match &statement.body {
        Body::ContrabandFound(b) => vec![Made::Item(b.item.clone())],
        Body::SeizureRecorded(b) if statement.after.get(&b.item) == Some(&None) => {
            vec![Made::Item(b.item.clone())]
        }
        Body::SampleSetAside(b) => {
            let mut out = vec![Made::Item(b.sample.clone())];
            out.extend(seals(&b.sample, &b.sample_seals));
            out
        }
        Body::ItemSealed(b) => seals(&b.item, &b.seals_applied),
        _ => Vec::new(),
    }
}

/// The calendar date of `at` in `zone` (the facility's, from the register of places), or in UTC
/// with its name when the facility has none.
pub fn local_date(at: Timestamp, zone: Option<Zone>) -> String {
    match zone {
        Some(z) if z != Zone::Utc => {
            let shown = at.in_zone(z);
            let date = shown.get(..10).unwrap_or(&shown);
            format!("{date} {}", z.label())
        }
        _ => format!("{} UTC", at.to_canonical().get(..10).unwrap_or_default()),
    }
}

pub use crate::edge::report::esc;

/// `text` cut to `max` characters, the last one an ellipsis when cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Where each part of a label goes, in millimetres from the top left.
mod layout {
    /// Left margin of the text.
    pub const TEXT_X: f64 = 2.0;
    /// The QR code's square in the top right corner: top left corner and side, its quiet zone
    /// included (a 64-character id still gets 0.28 mm modules, a phone camera's comfort).
    pub const QR_SIDE: f64 = 10.5;
    pub const QR_X: f64 = 49.0 - QR_SIDE;
    pub const QR_Y: f64 = 0.8;
    /// Width the caption and the id beside the QR code may take.
    pub const TEXT_WIDTH: f64 = QR_X - TEXT_X - 0.5;
    /// Baselines: caption and id beside the QR code, then three lines under it (full width).
    pub const CAPTION_Y: f64 = 4.0;
    pub const ID_Y: f64 = 9.0;
    pub const LINE_Y: [f64; 3] = [13.2, 15.8, 18.4];
    /// The Code 128 symbol's box (its quiet zones inside it), across the label's foot.
    pub const BARS_X: f64 = 1.0;
    pub const BARS_Y: f64 = 19.8;
    pub const BARS_WIDTH: f64 = 48.0;
    pub const BARS_HEIGHT: f64 = 9.0;
    /// The id's largest size; a long id gets smaller to fit `TEXT_WIDTH`.
    pub const ID_FONT_MAX: f64 = 4.4;
    /// A monospace glyph's advance as a share of its size.
    pub const MONO_ADVANCE: f64 = 0.62;
    pub const LINE_FONT: f64 = 2.1;
    pub const CAPTION_FONT: f64 = 2.5;
}

impl Label {
    /// The code the label carries (item id or seal number).
    pub fn code(&self) -> &str {
        match self {
            Self::Item { id, .. } => id,
            Self::Seal { seal, .. } => seal,
        }
    }

    /// The caption (Indonesian, then English) and the three lines under the id.
    fn text(&self) -> (&'static str, &'static str, [String; 3]) {
        match self {
            Self::Item {
                description,
                facility,
                date,
                ..
            } => (
                "BARANG BUKTI",
                "Evidence",
                [
                    format!(
                        "Uraian: {}",
                        cut(description.as_deref().unwrap_or("—"), DESCRIPTION_CHARS_MAX)
                    ),
                    format!("Satker: {}", cut(facility, LINE_CHARS_MAX)),
                    format!("Tanggal: {date}"),
                ],
            ),
            Self::Seal {
                item,
                facility,
                date,
                ..
            } => (
                "SEGEL",
                "Seal",
                [
                    format!("Barang bukti: {}", cut(item, LINE_CHARS_MAX)),
                    format!("Satker: {}", cut(facility, LINE_CHARS_MAX)),
                    format!("Dipasang: {date}"),
                ],
            ),
        }
    }

    /// The label as a standalone SVG document, 50 × 30 mm, drawn in millimetres.
    pub fn svg(&self) -> Result<String, LabelError> {
        use layout::*;
        let field = match self {
            Self::Item { .. } => "id",
            Self::Seal { .. } => "seal",
        };
        let code = self.code();
        let bars = code128::encode(code, field)?;
        let qr = qr_path(code, field)?;
        let (caption, english, lines) = self.text();
        let chars = code.chars().count().max(1) as f64;
        let id_font = ID_FONT_MAX.min(TEXT_WIDTH / (chars * MONO_ADVANCE));
        let mut s = String::new();
        let _ = write!(
            s,
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{LABEL_WIDTH_MM}mm" height="{LABEL_HEIGHT_MM}mm" viewBox="0 0 {LABEL_WIDTH_MM} {LABEL_HEIGHT_MM}" font-family="DejaVu Sans, Arial, sans-serif"><title>{caption} {title}</title><rect width="{LABEL_WIDTH_MM}" height="{LABEL_HEIGHT_MM}" fill="#fff"/><rect x="0.15" y="0.15" width="49.7" height="29.7" rx="1" fill="none" stroke="#bbb" stroke-width="0.1"/>"##,
            title = esc(code),
        );
        let _ = write!(
            s,
            r#"<text x="{TEXT_X}" y="{CAPTION_Y}" font-size="{CAPTION_FONT}" font-weight="bold">{caption} <tspan font-weight="normal" font-style="italic" font-size="{LINE_FONT}">/ {english}</tspan></text><text x="{TEXT_X}" y="{ID_Y}" font-size="{id_font:.3}" font-weight="bold" font-family="DejaVu Sans Mono, monospace">{id}</text>"#,
            id = esc(code),
        );
        for (line, y) in lines.iter().zip(LINE_Y) {
            let _ = write!(
                s,
                r#"<text x="{TEXT_X}" y="{y}" font-size="{LINE_FONT}">{}</text>"#,
                esc(line)
            );
        }
        s.push_str(&qr);
        s.push_str(&bars_path(&bars));
        s.push_str("</svg>");
        Ok(s)
    }
}

/// Formats a length in millimetres for a path.
fn mm(v: f64) -> String {
    let text = format!("{v:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// The Code 128 symbol as one black path filling `layout::BARS_*`, quiet zones included.
fn bars_path(bars: &code128::Encoded) -> String {
    use layout::*;
    let modules = bars.modules() + 2 * code128::QUIET_ZONE_MODULES;
    let module = BARS_WIDTH / f64::from(modules);
    let mut x = BARS_X + module * f64::from(code128::QUIET_ZONE_MODULES);
    let mut d = String::new();
    for (i, w) in bars.widths.iter().enumerate() {
        let width = module * f64::from(*w);
        if i.is_multiple_of(2) {
            let _ = write!(
                d,
                "M{} {}h{}v{}h-{}z",
                mm(x),
                mm(BARS_Y),
                mm(width),
                mm(BARS_HEIGHT),
                mm(width)
            );
        }
        x += width;
    }
    format!(r##"<path fill="#000" shape-rendering="crispEdges" d="{d}"/>"##)
}

/// The QR code of `text` (error correction M) as one path in `layout::QR_*`, with the 4-module
/// quiet zone ISO/IEC 18004 asks for.
fn qr_path(text: &str, field: &'static str) -> Result<String, LabelError> {
    use layout::*;
    /// The quiet zone around a QR code, in modules (ISO/IEC 18004).
    const QR_QUIET_MODULES: usize = 4;
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|_| LabelError::QrTooLong { field })?;
    let width = code.width();
    let module = QR_SIDE / (width + 2 * QR_QUIET_MODULES) as f64;
    let colors = code.to_colors();
    let mut d = String::new();
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let x = QR_X + module * (i % width + QR_QUIET_MODULES) as f64;
            let y = QR_Y + module * (i / width + QR_QUIET_MODULES) as f64;
            let _ = write!(
                d,
                "M{} {}h{}v{}h-{}z",
                mm(x),
                mm(y),
                mm(module),
                mm(module),
                mm(module)
            );
        }
    }
    Ok(format!(
        r##"<path fill="#000" shape-rendering="crispEdges" d="{d}"/>"##
    ))
}

/// The print CSS of a sheet: A4, and a grid of 50 × 30 mm cells (3 across, 8 down per page).
const SHEET_STYLE: &str = r"
@page { size: A4; margin: 12mm 15mm; }
* { box-sizing: border-box; }
body { margin: 0; font-family: 'DejaVu Sans', Arial, sans-serif; font-size: 9pt; color: #111; }
.note { margin: 0 0 4mm; }
.note h1 { font-size: 11pt; margin: 0 0 1mm; }
.note .en { font-style: italic; color: #444; }
.sheet { display: grid; grid-template-columns: repeat(3, 50mm); grid-auto-rows: 30mm; gap: 3mm 10mm; }
.label { width: 50mm; height: 30mm; break-inside: avoid; page-break-inside: avoid; }
.label svg { display: block; width: 50mm; height: 30mm; }
@media print { .note { display: none; } }
";

/// The A4 sheet of `labels`: an HTML page whose print CSS lays them out in a grid of 50 × 30 mm
/// cells. `act` names the act in the on-screen heading (hidden when printed, so that it does not
/// shift the grid on pre-cut label paper).
pub fn sheet_html(act: &str, labels: &[Label]) -> Result<String, LabelError> {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"id\"><head><meta charset=\"utf-8\"><title>Label {act}</title><style>{SHEET_STYLE}</style></head><body><div class=\"note\"><h1>Label barang bukti dan segel <span class=\"en\">/ Evidence and seal labels</span></h1><p>{act} · {n} label</p></div><div class=\"sheet\">",
        act = esc(act),
        n = labels.len()
    );
    for label in labels {
        let _ = write!(h, "<div class=\"label\">{}</div>", label.svg()?);
    }
    h.push_str("</div></body></html>\n");
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, description: &str) -> Label {
        Label::Item {
            id: id.into(),
            description: Some(description.into()),
            facility: "LPN-JAKARTA".into(),
            date: "2025-08-04 WIB".into(),
        }
    }

    #[test]
    fn untrusted_text_is_escaped_in_the_svg_and_the_sheet() {
        let label = item("BB-1", "<script>alert(1)</script>&\"'\u{1}");
        let svg = label.svg().expect("draws");
        assert!(!svg.contains("<script"), "{svg}");
        assert!(svg.contains("&lt;script&gt;"), "{svg}");
        assert!(!svg.contains('\u{1}'));
        let sheet = sheet_html("<b>act</b>", &[label]).expect("draws");
        assert!(
            !sheet.contains("<script") && !sheet.contains("<b>act"),
            "{sheet}"
        );
        assert!(sheet.contains("@page { size: A4;"));
    }

    #[test]
    fn a_long_description_is_cut_and_the_label_stays_50_by_30() {
        let svg = item("BB-LPN-2025-0418", &"x".repeat(200))
            .svg()
            .expect("draws");
        assert!(svg.starts_with("<svg") && svg.contains(r#"width="50mm" height="30mm""#));
        assert!(svg.contains(&format!("{}…", "x".repeat(DESCRIPTION_CHARS_MAX - 1))));
        assert!(!svg.contains(&"x".repeat(DESCRIPTION_CHARS_MAX + 1)));
    }

    #[test]
    fn the_date_is_local_to_the_facility() {
        let t = Timestamp::parse("2025-08-04T20:30:00Z").expect("time");
        assert_eq!(local_date(t, Some(Zone::Wib)), "2025-08-05 WIB");
        assert_eq!(local_date(t, None), "2025-08-04 UTC");
    }
}
