//! Human-readable rendering of query results for the terminal, with the Indonesian term beside
//! each English one. Edge layer: prints, decides nothing.

use crate::app::names::{Names, officer_label};
use crate::app::queries::{Incident, Pending};
use crate::domain::custody::ItemState;
use crate::domain::projection::TimelineEntry;
use serde_json::Value;
use std::io::Write as _;

macro_rules! say {
    ($($t:tt)*) => {{
        let _ = writeln!(std::io::stdout().lock(), $($t)*);
    }};
}

fn mg(m: Option<u64>) -> String {
    m.map_or_else(
        || "—".to_owned(),
        |m| format!("{}.{:03} g", m / 1000, m % 1000),
    )
}

fn status(s: &ItemState) -> String {
    format!("{} ({})", s.status.as_str(), s.status.indonesian())
}

/// Items, one a line; holders as `Name (NIP …)`.
pub fn items(list: &[ItemState], names: &Names) {
    if list.is_empty() {
        say!("no items (tidak ada barang)");
        return;
    }
    say!(
        "{:<18} {:<30} {:<40} {:<20} {:>10}  seals (segel)",
        "item (barang)",
        "status",
        "holder (pemegang)",
        "category",
        "net (bersih)"
    );
    for s in list {
        say!(
            "{:<18} {:<30} {:<40} {:<20} {:>10}  {}",
            s.id,
            status(s),
            holder(s, names),
            s.category.clone().unwrap_or_default(),
            mg(s.net_mass_mg),
            s.seals.join(", ")
        );
    }
}

/// An item's holder as `Name (NIP …)`, or "—".
fn holder(s: &ItemState, names: &Names) -> String {
    names.label_or(s.holder.as_ref().map(|h| h.as_str()), "—")
}

pub fn item(s: &ItemState, names: &Names) {
    say!("Item (barang bukti) {}", s.id);
    item_fields(s, names);
    item_links(s, names);
    say!(
        "  events (peristiwa):       {} (born at seq {} as {}, latest seq {})",
        s.events,
        s.born_seq,
        s.born_as,
        s.last_seq
    );
    say!("  head (leaf hash terakhir): {}", s.head);
}

/// The item's own fields: description, category, status, holder, place, seals, count, masses,
/// incident and case.
fn item_fields(s: &ItemState, names: &Names) {
    say!(
        "  description (uraian):     {}",
        s.description.clone().unwrap_or_default()
    );
    say!(
        "  category (kategori):      {}",
        s.category.clone().unwrap_or_default()
    );
    say!("  status:                   {}", status(s));
    say!("  holder (pemegang):        {}", holder(s, names));
    say!(
        "  unit (satuan):            {}",
        s.unit.clone().unwrap_or_default()
    );
    say!(
        "  location (lokasi):        {}",
        s.location.clone().unwrap_or_else(|| "—".into())
    );
    say!(
        "  seals (segel):            {}",
        if s.seals.is_empty() {
            "none".to_owned()
        } else {
            s.seals.join(", ")
        }
    );
    say!(
        "  count (jumlah):           {}",
        s.count.map_or("—".to_owned(), |c| c.to_string())
    );
    say!("  gross mass (berat kotor): {}", mg(s.gross_mass_mg));
    say!("  net mass (berat bersih):  {}", mg(s.net_mass_mg));
    say!(
        "  incident (kejadian):      {}",
        s.incident.clone().unwrap_or_else(|| "—".into())
    );
    say!(
        "  case (perkara):           {}",
        s.case.clone().unwrap_or_else(|| "—".into())
    );
}

/// What links the item to others: its parent and samples, an open transfer, the lab result and
/// the prosecutor's order, each only when there is one.
fn item_links(s: &ItemState, names: &Names) {
    if let Some(p) = &s.parent {
        say!("  sample of (sampel dari):  {p}");
    }
    if !s.children.is_empty() {
        say!(
            "  samples (sampel):         {}",
            s.children
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let Some(t) = &s.transfer {
        say!(
            "  open transfer (serah terima tertunda): released at seq {} by {} to {} ({})",
            t.release_seq,
            names.label(t.from_officer.as_str()),
            names.label_or(t.to_officer.as_ref().map(|o| o.as_str()), "any officer"),
            t.to_unit
        );
    }
    if let Some(l) = &s.lab {
        say!(
            "  lab result (hasil lab):   {} — {} (report {}, seq {})",
            l.result,
            l.substance,
            l.report_number,
            l.seq
        );
    }
    if let Some(o) = &s.order {
        say!(
            "  prosecutor's order (penetapan): {} → {} (seq {})",
            o.order_number,
            o.status,
            o.seq
        );
    }
}

/// Which zone a time is shown in: one the reader chose (`--tz`), or each act's facility's zone
/// from the register of places (UTC for a facility not in it), or UTC as stored.
pub enum Zones {
    Utc,
    Fixed(crate::base::time::Zone),
    ByFacility(std::collections::BTreeMap<String, crate::base::time::Zone>),
}

impl Zones {
    /// The zones of the registered facilities in a `facilities` answer (its `time_zone`s).
    pub fn of_facilities(
        facilities: &std::collections::BTreeMap<String, serde_json::Value>,
    ) -> Self {
        Self::ByFacility(
            facilities
                .iter()
                .filter_map(|(code, f)| {
                    let zone = f.get("time_zone")?.as_str()?;
                    Some((code.clone(), crate::base::time::Zone::parse(zone).ok()?))
                })
                .collect(),
        )
    }

    /// A stored time (RFC 3339 UTC) of an act at `facility`, as local time with the zone's name,
    /// or as stored when no zone applies.
    pub fn show(&self, text: &str, facility: &str) -> String {
        match (self.at(facility), crate::base::time::Timestamp::parse(text)) {
            (Some(z), Ok(t)) => t.in_zone(z),
            _ => text.to_owned(),
        }
    }

    /// The zone times of acts at `facility` are shown in, if any.
    pub fn at(&self, facility: &str) -> Option<crate::base::time::Zone> {
        match self {
            Self::Utc => None,
            Self::Fixed(z) => Some(*z),
            Self::ByFacility(m) => m.get(facility).copied(),
        }
    }
}

/// An item's events; times in `zones` (each act's facility's local time by default, UTC as
/// stored when the facility is not registered); officers as `Name (NIP …)`.
pub fn history(s: &ItemState, events: &[TimelineEntry], zones: &Zones, names: &Names) {
    say!(
        "History (riwayat) of item {} — {} event(s), now {}",
        s.id,
        events.len(),
        status(s)
    );
    for e in events {
        say!("");
        say!("seq {}  {} ({})", e.seq, e.kind, e.indonesian);
        say!(
            "  occurred (waktu kejadian): {}   recorded (dicatat): {}   facility: {}",
            zones.show(&e.occurred_at, &e.facility),
            zones.show(&e.recorded_at, &e.facility),
            e.facility
        );
        say!("  {}", e.summary);
        let signed = match &e.attested_by {
            Some(a) => {
                say!(
                    "  re-recorded (dicatat ulang) from {} seq {}, attested by administrator {}; the officers below signed it there",
                    a.origin,
                    a.seq,
                    names.label(&a.officer)
                );
                "named (tercatat)"
            }
            None => "signed by (ditandatangani)",
        };
        for sg in &e.signers {
            say!(
                "  {signed} {:<10} {} — {} [{}]",
                sg.role,
                officer_label(&sg.officer, sg.name.as_deref()),
                sg.unit.clone().unwrap_or_default(),
                sg.officer_roles.join(",")
            );
        }
        say!(
            "  after: holder {} · seals [{}] · gross {} · net {} · location {}",
            names.label_or(e.holder.as_deref(), "—"),
            e.seals.join(", "),
            mg(e.gross_mass_mg),
            mg(e.net_mass_mg),
            e.location.clone().unwrap_or_else(|| "—".into())
        );
    }
}

pub fn pending(list: &[Pending], names: &Names) {
    if list.is_empty() {
        say!("no pending transfers (tidak ada serah terima tertunda)");
        return;
    }
    say!("Pending transfers (serah terima tertunda): {}", list.len());
    for p in list {
        let t = &p.transfer;
        say!(
            "  {}  released at seq {} ({}) by {} → {} ({}) for {}",
            p.item,
            t.release_seq,
            t.released_at,
            names.label(t.from_officer.as_str()),
            names.label_or(t.to_officer.as_ref().map(|o| o.as_str()), "any officer"),
            t.to_unit,
            t.purpose
        );
    }
}

pub fn incident(v: &Incident, names: &Names) {
    say!("Incident (kejadian) {}", v.incident);
    say!("events (peristiwa):");
    for e in &v.events {
        say!(
            "  seq {}  {} ({}): {}",
            e["seq"],
            e["type"].as_str().unwrap_or(""),
            e["indonesian"].as_str().unwrap_or(""),
            e["summary"].as_str().unwrap_or("")
        );
    }
    say!("items (barang):");
    items(&v.items, names);
    say!("persons (orang):");
    for p in &v.persons {
        say!("  {p}");
    }
}

/// The events of a person; an officer as `Name (NIP …)`.
pub fn person(id: &str, events: &[Value], names: &Names) {
    say!(
        "Events involving {} (peristiwa terkait): {}",
        names.label(id),
        events.len()
    );
    for e in events {
        say!(
            "  seq {}  {}  {} ({}) as {}: {}",
            e["seq"],
            e["occurred_at"].as_str().unwrap_or(""),
            e["type"].as_str().unwrap_or(""),
            e["indonesian"].as_str().unwrap_or(""),
            e["as"].as_str().unwrap_or(""),
            e["summary"].as_str().unwrap_or("")
        );
    }
}

pub fn audit(r: &crate::app::casefile::AuditReport) {
    say!(
        "Audit (pemeriksaan) of {} as of {} — {} event(s), {} item(s); clocks table {}",
        r.scope,
        r.as_of,
        r.events,
        r.items.len(),
        r.clocks_version
    );
    if let Some(ok) = r.log_verified {
        say!(
            "log verification (verifikasi log): {}",
            if ok { "OK" } else { "FAILED" }
        );
    }
    if r.findings.is_empty() {
        say!("no findings (tidak ada temuan)");
        return;
    }
    for f in &r.findings {
        say!("");
        say!(
            "[{} / {}] class {} {} / {} — item {} — seqs {:?}",
            f.severity.indonesian().to_uppercase(),
            f.severity.as_str().to_uppercase(),
            f.class,
            crate::domain::audit::class_indonesian(f.class),
            f.name,
            f.item.as_ref().map_or("—".to_owned(), |i| i.to_string()),
            f.seqs
        );
        say!("  EN: {}", f.english);
        say!("  ID: {}", f.indonesian);
        if let Some(d) = &f.detail {
            say!("  {d}");
        }
    }
    let count =
        |s: crate::domain::audit::Severity| r.findings.iter().filter(|f| f.severity == s).count();
    say!("");
    say!(
        "{} finding(s): {} critical, {} serious, {} warning, {} info",
        r.findings.len(),
        count(crate::domain::audit::Severity::Critical),
        count(crate::domain::audit::Severity::Serious),
        count(crate::domain::audit::Severity::Warning),
        count(crate::domain::audit::Severity::Info)
    );
}

/// The bundle file's digests, and whether the printed digest a person typed was this one.
fn bundle_file(r: &crate::app::bundle::BundleReport) {
    say!(
        "Bundle file (berkas): sha256 {}, printed digest (sidik cetak) {}",
        r.sha256,
        r.printed_digest
    );
    if r.printed_digest_confirmed {
        say!(
            "  ✓ the printed digest typed matches: this is the bundle the printed report describes (sidik cetak cocok: berkas inilah yang diuraikan laporan tercetak)"
        );
    }
}

pub fn bundle(r: &crate::app::bundle::BundleReport) {
    let names = Names::from_map(r.officers.clone());
    // What the checks established, never a legal judgement: whether the records are valid
    // evidence ("sah") is for the court to decide, not for a ledger.
    say!(
        "Bundle checks passed (pemeriksaan berkas lolos): {} — the signatures of its {} entries, their inclusion in the log of {} and the checkpoint of size {} signed by its key all verify (tanda tangan, pencantuman dalam log dan checkpoint terverifikasi)",
        match (&r.item, &r.incident) {
            (Some(item), _) => format!("item {item}"),
            (None, Some(incident)) => format!("case (perkara) of incident {incident}"),
            (None, None) => String::new(),
        },
        r.entries,
        r.origin,
        r.checkpoint_size
    );
    bundle_file(r);
    say!("");
    say!("What it proves (yang dibuktikan):");
    for p in &r.proves {
        say!("  ✓ {p}");
    }
    say!("");
    say!("What it cannot prove (yang tidak dapat dibuktikan):");
    for p in &r.cannot_prove {
        say!("  – {p}");
    }
    say!("");
    say!("Signers (penandatangan):");
    for s in &r.signers {
        say!("  {s}");
    }
    say!("");
    if r.disclosed.is_empty() {
        say!("Persons (orang): named by subject id only; this bundle discloses no personal data");
    } else {
        say!(
            "Persons disclosed (identitas yang diungkapkan), each proven against the commitments signed into the log:"
        );
        for d in &r.disclosed {
            let fields = serde_json::to_value(&d.fields).unwrap_or_default();
            say!(
                "  ✓ {} = {} — opens the commitment of seq {}",
                d.subject,
                fields,
                d.seqs
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    say!("");
    items(&r.items, &names);
    say!("");
    say!(
        "Audit as of {} (pemeriksaan): {} finding(s)",
        r.as_of,
        r.findings.len()
    );
    for f in &r.findings {
        say!(
            "  [{} / {}] class {} {} / {}: {}",
            f.severity.indonesian().to_uppercase(),
            f.severity.as_str().to_uppercase(),
            f.class,
            crate::domain::audit::class_indonesian(f.class),
            f.name,
            f.english
        );
        say!("      {}", f.indonesian);
    }
}

pub fn officers(list: &[crate::app::reads::OfficerView]) {
    say!(
        "{:<48} {:<10} {:<16} {:<34} status",
        "officer (petugas)",
        "agency",
        "facility",
        "roles (peran)"
    );
    for o in list {
        let current = o.keys.iter().find(|k| k.until_seq.is_none());
        let status = match (o.revoked_at, current) {
            (Some(at), _) => format!("revoked at seq {at} (dicabut)"),
            (None, Some(k)) => format!("active, key {} since seq {}", k.key_id, k.from_seq),
            (None, None) => "no key".to_owned(),
        };
        say!(
            "{:<48} {:<10} {:<16} {:<34} {status}",
            officer_label(&o.id, Some(&o.name)),
            o.agency,
            o.facility,
            o.roles.join(",")
        );
    }
}

/// `custody doctor`: one block per finding, then the verdict.
pub fn doctor(d: &crate::app::doctor::Diagnosis) {
    use crate::app::doctor::{Action, Risk};
    say!("ledger {}", d.ledger);
    for f in &d.findings {
        say!("");
        say!("[{}] {}", f.check, f.file);
        say!("  problem (masalah): {}", f.problem);
        let risk = match f.acknowledged_data {
            Risk::None => "not at risk (tidak terancam)",
            Risk::Entries => "AT RISK (TERANCAM)",
            Risk::Unknown => "unknown until the store opens (belum diketahui)",
        };
        say!("  acknowledged entries (entri yang sudah dikonfirmasi): {risk}");
        match &f.action {
            Action::Repaired(t) => say!("  repaired (diperbaiki): {t}"),
            Action::Repairable(t) => {
                say!("  --repair would (akan diperbaiki dengan --repair): {t}")
            }
            Action::Manual(t) => say!("  operator (tindakan operator): {t}"),
        }
    }
    say!("");
    match (d.entries, d.verified) {
        (Some(n), true) => say!("log: {n} entries verified (log terverifikasi)"),
        (Some(n), false) => say!("log: {n} entries, verification FAILED (verifikasi GAGAL)"),
        (None, _) => say!("log: did not open (tidak dapat dibuka)"),
    }
    if d.findings.is_empty() {
        say!("no problems found (tidak ditemukan masalah)");
    }
}
