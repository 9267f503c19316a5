//! The printable custody report: one self-contained HTML file (no network, A4 print styles) in
//! the shape of an Indonesian *berita acara* chain-of-custody form, Indonesian with English
//! alongside — the item, each act in order with time, place, signers and roles, seals and masses,
//! the audit's findings, and a verification block (checkpoint origin, size, root, the bundle's
//! SHA-256) with a QR code encoding it; every officer as `Name (NIP …)` (`app::names`). Edge
//! layer: renders, decides nothing.

use crate::app::names::{Names, officer_label};
use crate::base::words::says;
use crate::domain::audit::Finding;
use crate::domain::custody::ItemState;
use crate::domain::projection::TimelineEntry;
use std::fmt::Write as _;

/// The language of the PDF report: Indonesian, the court's, by default; English on request (the
/// HTML report carries both).
pub use crate::base::words::Lang;

/// A signer role and a mass in the report's language (`base::words`, shared with the terminal).
pub use crate::base::words::{grams, role_name};

/// How a person an act concerns answered its record (a seizure's possessor, a sample's suspect),
/// in the report's language.
pub fn acknowledgement_text(a: &crate::app::bundle::Acknowledgement, lang: Lang) -> String {
    let word = |key: &'static str| crate::edge::web::text(lang == Lang::English, key);
    let party = match a.party.as_str() {
        "possessor" => word("report.the_possessor"),
        "suspect" => word("report.the_suspect"),
        other => other,
    };
    let status = match a.status.as_str() {
        "signed" => word("report.acknowledged_signed"),
        "refused" => word("report.acknowledged_refused"),
        "absent" => word("report.acknowledged_absent"),
        other => other,
    };
    let text = match &a.note {
        Some(note) => format!("{party}: {status}. {}: {note}", word("report.note")),
        None => format!("{party}: {status}"),
    };
    text.chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect()
}

/// What a report describes: one item, or every item of one case.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// One item; `ReportInput::lot` holds it with its parent and samples.
    Item(&'a ItemState),
    /// Every item of one incident (`ReportInput::lot` holds them all) and the incident's acts.
    Case(&'a str),
}

impl<'a> Subject<'a> {
    /// The item's label or the incident's number: what the title, footer and QR name.
    pub fn id(&self) -> &'a str {
        match self {
            Self::Item(i) => i.id.as_str(),
            Self::Case(incident) => incident,
        }
    }
}

/// One row of the report's acts: an act and the item it is shown for (an act on several items,
/// a sampling, has a row for each in a case report; the incident's own acts, its searches, are
/// about no one item).
#[derive(Debug, Clone)]
pub struct ReportAct {
    pub item: Option<crate::base::ids::ItemId>,
    pub entry: TimelineEntry,
}

pub struct ReportInput<'a> {
    pub subject: Subject<'a>,
    pub lot: &'a [ItemState],
    pub history: &'a [ReportAct],
    pub findings: &'a [Finding],
    pub origin: &'a str,
    pub checkpoint_size: u64,
    pub checkpoint_root: &'a str,
    pub bundle_sha256: &'a str,
    /// The bundle's printed digest (`format::printed_digest`), for a person to type back.
    pub printed_digest: &'a str,
    /// Each act's *uraian* in Indonesian, by seq (`edge::uraian`, from the bundle's statements);
    /// an act without one shows its English summary.
    pub uraian: &'a std::collections::BTreeMap<u64, String>,
    /// How each act of the bundle was signed, and the refusals it records (`bundle::verify`).
    pub signatures: &'a [crate::app::bundle::ActSignatures],
    /// The PDF's language.
    pub lang: Lang,
    /// One act's berita acara (`--act SEQ`) instead of the whole history.
    pub act: Option<u64>,
    pub vkey: &'a str,
    pub as_of: &'a str,
    /// The persons the bundle discloses (`bundle export --disclose`), for a reader allowed to see
    /// them; empty: persons appear by subject id only.
    pub disclosed: &'a [crate::app::bundle::Disclosure],
    /// The names of the officers the report may name (`Reads::officers` of its source).
    pub names: &'a Names,
    /// The register of places (`Reads::facilities`): the letterhead of the facility where the
    /// item was found heads the report, and each act's time is shown in its facility's zone.
    pub facilities: &'a std::collections::BTreeMap<String, serde_json::Value>,
}

/// The catalogue's word `key` in Indonesian with its English beside it, as the HTML report
/// sets its headings: `Barang bukti <small>Item</small>`.
fn heading(key: &'static str) -> String {
    format!(
        "<h2>{} <small>{}</small></h2>",
        esc(crate::edge::web::text(false, key)),
        esc(crate::edge::web::text(true, key))
    )
}

/// A table header cell: the Indonesian word, the English beneath.
fn th(key: &'static str) -> String {
    format!(
        "<th>{}<br><small>{}</small></th>",
        esc(crate::edge::web::text(false, key)),
        esc(crate::edge::web::text(true, key))
    )
}

/// A table's header row, one [`th`] per key.
fn header_row(keys: &[&'static str]) -> String {
    let cells: String = keys.iter().map(|k| th(k)).collect();
    format!("<tr>{cells}</tr>")
}

/// Text in Indonesian with its English beside it: `Tidak ada temuan. <span class="en">No
/// findings.</span>`, each sentence filled from `args`.
fn id_en(key: &'static str, args: &[(&str, &str)]) -> String {
    format!(
        "{} <span class=\"en\">{}</span>",
        says(Lang::Indonesian, key, args),
        says(Lang::English, key, args)
    )
}

/// " (d = 0,001 g)": the readability of the balance behind the mass an act set, for the masses
/// it shows; empty for an act that set no mass reference.
pub fn readability(e: &TimelineEntry, lang: Lang) -> String {
    e.readability_mg
        .map_or_else(String::new, |d| format!(" (d = {})", grams(Some(d), lang)))
}

/// Escapes text for HTML and SVG element content and attribute values: markup characters as
/// entities, other control characters than line breaks and tabs (which XML may not carry at all) as U+FFFD.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && !matches!(c, '\n' | '\t' | '\r') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn mg(m: Option<u64>) -> String {
    m.map_or_else(
        || "—".to_owned(),
        |m| format!("{}.{:03} g", m / 1000, m % 1000),
    )
}

/// The text the QR code carries: enough to find and check the bundle and the checkpoint.
pub fn verification_text(r: &ReportInput<'_>) -> String {
    format!(
        "custody-report:v2\norigin={}\nsize={}\nroot={}\nbundle-sha256={}\n{}={}\nas-of={}",
        r.origin,
        r.checkpoint_size,
        r.checkpoint_root,
        r.bundle_sha256,
        match r.subject {
            Subject::Item(_) => "item",
            Subject::Case(_) => "incident",
        },
        r.subject.id(),
        r.as_of
    )
}

fn qr_svg(text: &str) -> String {
    match qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(180, 180)
            .quiet_zone(true)
            .build(),
        Err(e) => format!("<p>QR code unavailable: {}</p>", esc(&e.to_string())),
    }
}

const STYLE: &str = r#"
@page { size: A4; margin: 16mm 14mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 9.5pt; color: #111; margin: 0; }
.kop { text-align: center; line-height: 1.35; }
h1 { font-size: 13pt; text-align: center; margin: 0 0 2mm; text-transform: uppercase; }
h1 small, h2 small, th small, .en { font-weight: normal; font-style: italic; color: #444; text-transform: none; }
h2 { font-size: 10.5pt; border-bottom: 1px solid #333; margin: 5mm 0 2mm; }
table { width: 100%; border-collapse: collapse; }
th, td { border: 1px solid #777; padding: 1.2mm 1.5mm; vertical-align: top; text-align: left; }
th { background: #eee; }
tr { page-break-inside: avoid; }
.meta td:first-child { width: 34%; background: #f6f6f6; }
.sev-critical { color: #a00; font-weight: bold; }
.sev-serious { color: #b34700; font-weight: bold; }
.sev-warning { color: #806000; }
.verify { display: flex; gap: 6mm; align-items: flex-start; page-break-inside: avoid; }
.verify pre { white-space: pre-wrap; word-break: break-all; font-size: 8pt; margin: 0; }
.mono { font-family: "DejaVu Sans Mono", monospace; font-size: 8pt; word-break: break-all; }
.sign { margin-top: 8mm; display: flex; justify-content: space-between; }
.sign div { width: 45%; border-top: 1px solid #333; padding-top: 1mm; text-align: center; }
"#;

/// Renders the report as one HTML document.
pub fn html(r: &ReportInput<'_>) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"id\"><head><meta charset=\"utf-8\"><title>Berita acara rantai penguasaan {id}</title><style>{STYLE}</style></head><body>",
        id = esc(r.subject.id())
    );
    letterhead(&mut h, r);
    let _ = write!(
        h,
        "<h1>Berita Acara Rantai Penguasaan Barang Bukti<br><small>Chain-of-custody record</small></h1>"
    );
    match r.subject {
        Subject::Item(i) => item_table(&mut h, r, i),
        Subject::Case(incident) => case_table(&mut h, r, incident),
    }
    persons_section(&mut h, r.disclosed);
    let zones = crate::edge::render::Zones::of_facilities(r.facilities);
    let case = matches!(r.subject, Subject::Case(_));
    history_table(&mut h, r, &zones, case);
    findings_section(&mut h, r);
    verification_section(&mut h, r);
    signatures_section(&mut h, r);
    let _ = writeln!(
        h,
        "<div class=\"sign\"><div>{}</div><div>{}</div></div></body></html>",
        id_en("report.handed_over_by", &[]),
        id_en("report.received_by", &[])
    );
    h
}

/// How each act was signed — who, in which role, with which key, at which log position — and
/// the refusals or absences it records.
fn signatures_section(h: &mut String, r: &ReportInput<'_>) {
    let _ = write!(
        h,
        "{}<table><tr><th>No.</th>{}{}{}</tr>",
        heading("report.signatures_heading"),
        th("report.act"),
        th("report.name_and_role"),
        th("report.how_signed")
    );
    for act in r.signatures {
        for s in &act.signers {
            let _ = write!(
                h,
                "<tr><td>{seq}</td><td>{act}</td><td>{who}, {role} <span class=\"en\">({role_en})</span></td><td>{how}</td></tr>",
                seq = act.seq,
                act = esc(&act.indonesian),
                who = esc(&r.names.label(&s.officer)),
                role = esc(&role_name(&s.role, Lang::Indonesian)),
                role_en = esc(&role_name(&s.role, Lang::English)),
                how = id_en(
                    "report.signed_electronically",
                    &[("key", &esc(&s.key_id)), ("seq", &act.seq.to_string())]
                ),
            );
        }
        for a in &act.acknowledgements {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{} <span class=\"en\">{}</span></td><td>—</td></tr>",
                act.seq,
                esc(&act.indonesian),
                esc(&acknowledgement_text(a, Lang::Indonesian)),
                esc(&acknowledgement_text(a, Lang::English)),
            );
        }
    }
    let _ = write!(h, "</table>");
}

/// The persons named, with their identity when the bundle discloses it (each disclosure proven
/// against the commitments in the log by `custody bundle verify`); without, only their subject ids
/// appear, in the history.
fn persons_section(h: &mut String, disclosed: &[crate::app::bundle::Disclosure]) {
    h.push_str(&heading("report.persons"));
    if disclosed.is_empty() {
        let _ = write!(h, "<p>{}</p>", id_en("report.persons_by_subject_id", &[]));
        return;
    }
    let _ = write!(h, "<table class=\"meta\">");
    for d in disclosed {
        let f = &d.fields;
        let mut who = f.name().unwrap_or("—").to_owned();
        for (label, value) in [("NIK", f.nik()), ("Paspor", f.passport()), ("SDP", f.sdp())] {
            if let Some(v) = value {
                who.push_str(&format!("; {label} {v}"));
            }
        }
        row(h, f.kind().as_str(), &d.subject.to_string(), &who);
    }
    let _ = write!(h, "</table>");
}

/// One row of the item table: the Indonesian label, its English beside it, and the value.
fn row(h: &mut String, id: &str, en: &str, v: &str) {
    let _ = write!(
        h,
        "<tr><td>{id} <span class=\"en\">/ {en}</span></td><td>{}</td></tr>",
        esc(v)
    );
}

/// One row of the item table, its label from the catalogue (`report.*`) in both languages.
fn meta_row(h: &mut String, key: &'static str, v: &str) {
    row(
        h,
        crate::edge::web::text(false, key),
        crate::edge::web::text(true, key),
        v,
    );
}

/// The case section: the incident and, one row each, every item of it with its state.
fn case_table(h: &mut String, r: &ReportInput<'_>, incident: &str) {
    let _ = write!(
        h,
        "{}<p>{}: <b>{}</b></p><table>{}",
        heading("report.evidence_of_the_case"),
        id_en("report.incident_case_number", &[]),
        esc(incident),
        header_row(&[
            "report.label",
            "report.description",
            "report.status",
            "report.last_holder",
            "report.seals",
            "report.net_mass"
        ])
    );
    for i in r.lot {
        let _ = write!(
            h,
            "<tr><td>{}{}</td><td>{}</td><td>{} <span class=\"en\">({})</span></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(i.id.as_str()),
            i.parent.as_ref().map_or(String::new(), |p| format!(
                "<br><span class=\"en\">{} {}</span>",
                id_en("report.sample_of", &[]),
                esc(p.as_str())
            )),
            esc(i.description.as_deref().unwrap_or("—")),
            esc(i.status.indonesian()),
            esc(i.status.as_str()),
            esc(&r.names.label_or(i.holder.as_ref().map(|o| o.as_str()), "—")),
            esc(&i.seals.join(", ")),
            mg(i.net_mass_mg),
        );
    }
    let _ = write!(h, "</table>");
}

/// The item section: its label, description, state, holder, seals, masses and related items.
fn item_table(h: &mut String, r: &ReportInput<'_>, i: &ItemState) {
    let _ = write!(h, "{}<table class=\"meta\">", heading("report.item"));
    meta_row(h, "report.label", i.id.as_str());
    meta_row(
        h,
        "report.description",
        i.description.as_deref().unwrap_or("—"),
    );
    meta_row(h, "report.category", i.category.as_deref().unwrap_or("—"));
    meta_row(
        h,
        "report.status",
        &format!("{} ({})", i.status.indonesian(), i.status.as_str()),
    );
    meta_row(
        h,
        "report.last_holder",
        &format!(
            "{} — {}",
            r.names.label_or(i.holder.as_ref().map(|o| o.as_str()), "—"),
            i.unit.as_deref().unwrap_or("")
        ),
    );
    transfer_row(h, r, i);
    meta_row(h, "report.seals", &i.seals.join(", "));
    meta_row(
        h,
        "report.count",
        &i.count.map_or("—".to_owned(), |c| c.to_string()),
    );
    meta_row(h, "report.last_known_net_mass", &mg(i.net_mass_mg));
    meta_row(
        h,
        "report.incident_case_number_2",
        &format!(
            "{} / {}",
            i.incident.as_deref().unwrap_or("—"),
            i.case.as_deref().unwrap_or("—")
        ),
    );
    meta_row(
        h,
        "report.related_items_parent_samples",
        &related_items(r, i),
    );
    let _ = write!(h, "</table>");
}

/// The open transfer, when the item is in transit: who handed it over and who is to receive it.
fn transfer_row(h: &mut String, r: &ReportInput<'_>, i: &ItemState) {
    if let Some(t) = &i.transfer {
        meta_row(
            h,
            "report.open_transfer",
            &format!(
                "{} → {} ({}), seq {}",
                r.names.label(t.from_officer.as_str()),
                r.names.label_or(
                    t.to_officer.as_ref().map(|o| o.as_str()),
                    "petugas mana pun / any officer"
                ),
                t.to_unit,
                t.release_seq
            ),
        );
    }
}

/// The other items of the lot (parent and samples) with their status and net mass, or "—".
fn related_items(r: &ReportInput<'_>, i: &ItemState) -> String {
    let lot: Vec<String> = r
        .lot
        .iter()
        .filter(|s| s.id != i.id)
        .map(|s| format!("{} ({}, {})", s.id, s.status.as_str(), mg(s.net_mass_mg)))
        .collect();
    if lot.is_empty() {
        "—".to_owned()
    } else {
        lot.join("; ")
    }
}

/// The letterhead (*kop surat*) of the facility where the item was found, when the register of
/// places has it: its lines, its name and address, and a rule beneath.
fn letterhead(h: &mut String, r: &ReportInput<'_>) {
    let Some(place) = r
        .history
        .first()
        .and_then(|a| r.facilities.get(&a.entry.facility))
    else {
        return;
    };
    let Some(lines) = place.get("letterhead").and_then(|l| l.as_array()) else {
        return;
    };
    let _ = write!(h, "<div class=\"kop\">");
    for line in lines.iter().filter_map(|l| l.as_str()) {
        let _ = write!(h, "<b>{}</b><br>", esc(line));
    }
    let text = |k: &str| place.get(k).and_then(|v| v.as_str()).unwrap_or_default();
    let _ = write!(h, "<small>{}</small></div><hr>", esc(text("address")));
}

/// The acts in order, one row each.
fn history_table(
    h: &mut String,
    r: &ReportInput<'_>,
    zones: &crate::edge::render::Zones,
    case: bool,
) {
    let names = r.names;
    let _ = write!(
        h,
        "{}<table>{}",
        heading("report.acts_in_order"),
        header_row(&[
            "report.log_no",
            "report.time_local",
            "report.act",
            "report.signers_and_roles",
            "report.seals_masses_location"
        ])
    );
    for act in r.history {
        let e = &act.entry;
        // In a case report each row names the item it is shown for.
        let item = match &act.item {
            Some(item) if case => format!("<br>{}", esc(item.as_str())),
            _ => String::new(),
        };
        let _ = write!(
            h,
            "<tr><td>{seq}</td><td>{occ}<br><span class=\"en\">dicatat {rec}</span><br>{fac}</td><td><b>{idn}</b>{item}<br><span class=\"en\">{kind}</span><br>{uraian}<br><span class=\"en\">{summary}</span></td><td>{signers}</td><td>{seals}<br>{gross} / {net}{d}<br>{loc}</td></tr>",
            seq = e.seq,
            occ = esc(&zones.show(&e.occurred_at, &e.facility)),
            rec = esc(&zones.show(&e.recorded_at, &e.facility)),
            fac = esc(&e.facility),
            idn = esc(&e.indonesian),
            kind = esc(&e.kind),
            uraian = esc(r.uraian.get(&e.seq).unwrap_or(&e.summary)),
            summary = esc(&e.summary),
            signers = signers_cell(e, names),
            seals = esc(&e.seals.join(", ")),
            gross = mg(e.gross_mass_mg),
            net = mg(e.net_mass_mg),
            d = readability(e, Lang::Indonesian),
            loc = esc(e.location.as_deref().unwrap_or("—")),
        );
    }
    let _ = write!(h, "</table>");
}

/// An act's signers, one per line: `Name (NIP …)`, role, and the unit beneath.
fn signers_cell(e: &TimelineEntry, names: &Names) -> String {
    let signers: Vec<String> = e
        .signers
        .iter()
        .map(|s| {
            format!(
                "{} ({}){}",
                esc(&officer_label(&s.officer, s.name.as_deref())),
                esc(&s.role),
                s.unit.as_deref().map_or(String::new(), |u| format!(
                    "<br><span class=\"en\">{}</span>",
                    esc(u)
                ))
            )
        })
        .collect();
    let attested = e.attested_by.as_ref().map_or(String::new(), |a| {
        let by = esc(&names.label(&a.officer));
        let args = [
            ("origin", esc(&a.origin)),
            ("seq", a.seq.to_string()),
            ("admin", by),
        ];
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        format!(
            "<br><i>{}</i><br><span class=\"en\">{}</span>",
            says(Lang::Indonesian, "report.re_recorded_signed_there", &args),
            says(Lang::English, "report.re_recorded_signed_there", &args)
        )
    });
    signers.join("<br>") + &attested
}

/// The audit's findings as of the report's moment, or a line saying there are none.
fn findings_section(h: &mut String, r: &ReportInput<'_>) {
    let _ = write!(
        h,
        "<h2>{} <small>{} {}</small></h2>",
        says(Lang::Indonesian, "report.audit_findings", &[]),
        says(Lang::English, "report.audit_findings_as_of", &[]),
        esc(r.as_of)
    );
    if r.findings.is_empty() {
        let _ = write!(h, "<p>{}</p>", id_en("report.no_findings", &[]));
        return;
    }
    let _ = write!(
        h,
        "<table>{}",
        header_row(&[
            "report.severity",
            "report.class",
            "report.seqs",
            "report.finding"
        ])
    );
    for f in r.findings {
        let _ = write!(
            h,
            "<tr><td class=\"sev-{sev}\">{sev}</td><td>{class} {name}</td><td>{seqs}</td><td>{id}<br><span class=\"en\">{en}</span>{detail}</td></tr>",
            sev = f.severity.as_str(),
            class = f.class,
            name = esc(&f.name),
            seqs = f
                .seqs
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            id = esc(&f.indonesian),
            en = esc(&f.english),
            detail = f.detail.as_deref().map_or(String::new(), |d| format!(
                "<br><span class=\"mono\">{}</span>",
                esc(d)
            )),
        );
    }
    let _ = write!(h, "</table>");
}

/// The verification block: the QR code, the command that checks the bundle, and the text the
/// code carries.
fn verification_section(h: &mut String, r: &ReportInput<'_>) {
    let text = verification_text(r);
    let _ = write!(
        h,
        "{heading}<div class=\"verify\"><div>{qr}</div><div><p>{check}</p><p>{digest}: <b>{printed}</b></p><pre>custody bundle verify BUNDLE.json --vkey '{vkey}' --printed-digest {printed}</pre><pre>{text}</pre></div></div>",
        heading = heading("report.verification_heading"),
        check = id_en("report.check_with_bundle_and_key", &[]),
        digest = id_en("report.printed_digest_of_the_bundle", &[]),
        qr = qr_svg(&text),
        printed = esc(r.printed_digest),
        vkey = esc(r.vkey),
        text = esc(&text),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each placeholder is filled once, from its own value: a value that itself holds `{…}` is
    /// printed as given, and the sentence reads in each language's own order.
    #[test]
    fn a_sentence_is_filled_once_in_each_language() {
        let args = [("page", "2"), ("pages", "{page}")];
        assert_eq!(
            says(Lang::Indonesian, "report.page_of", &args),
            "Halaman 2 dari {page}"
        );
        assert_eq!(
            says(Lang::English, "report.page_of", &args),
            "Page 2 of {page}"
        );
        // A placeholder with no value stays as written.
        assert_eq!(
            says(Lang::English, "report.page_of", &[]),
            "Page {page} of {pages}"
        );
    }
}
