//! Human-readable rendering of query results for the terminal, with the Indonesian term beside
//! each English one. Edge layer: prints, decides nothing.

use crate::app::names::{Names, officer_label};
use crate::app::queries::{Incident, Pending};
use crate::domain::custody::ItemState;
use crate::domain::projection::TimelineEntry;
use crate::edge::web::{both, both_cap};
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
        say!("{t_no_items}", t_no_items = both("cli.no_items"));
        return;
    }
    say!(
        "{:<18} {:<30} {:<40} {:<20} {:>10}  {t_seals}",
        both("cli.item"),
        "status",
        both("cli.holder"),
        "category",
        both("cli.net"),
        t_seals = both("cli.seals")
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
    say!("{t_item} {}", s.id, t_item = both_cap("cli.item_header"));
    item_fields(s, names);
    item_links(s, names);
    say!(
        "  {t_events}:       {} (born at seq {} as {}, latest seq {})",
        s.events,
        s.born_seq,
        s.born_as,
        s.last_seq,
        t_events = both("cli.events")
    );
    say!("  {t_head}: {}", s.head, t_head = both("cli.head"));
}

/// The item's own fields: description, category, status, holder, place, seals, count, masses,
/// incident and case.
fn item_fields(s: &ItemState, names: &Names) {
    say!(
        "  {t_description}:     {}",
        s.description.clone().unwrap_or_default(),
        t_description = both("cli.description")
    );
    say!(
        "  {t_category}:      {}",
        s.category.clone().unwrap_or_default(),
        t_category = both("cli.category")
    );
    say!("  status:                   {}", status(s));
    say!(
        "  {t_holder}:        {}",
        holder(s, names),
        t_holder = both("cli.holder")
    );
    say!(
        "  {t_unit}:            {}",
        s.unit.clone().unwrap_or_default(),
        t_unit = both("cli.unit")
    );
    say!(
        "  {t_location}:        {}",
        s.location.clone().unwrap_or_else(|| "—".into()),
        t_location = both("cli.location")
    );
    say!(
        "  {t_seals}:            {}",
        if s.seals.is_empty() {
            "none".to_owned()
        } else {
            s.seals.join(", ")
        },
        t_seals = both("cli.seals")
    );
    say!(
        "  {t_count}:           {}",
        s.count.map_or("—".to_owned(), |c| c.to_string()),
        t_count = both("cli.count")
    );
    say!(
        "  {t_gross_mass}: {}",
        mg(s.gross_mass_mg),
        t_gross_mass = both("cli.gross_mass")
    );
    say!(
        "  {t_net_mass}:  {}",
        mg(s.net_mass_mg),
        t_net_mass = both("cli.net_mass")
    );
    say!(
        "  {t_incident}:      {}",
        s.incident.clone().unwrap_or_else(|| "—".into()),
        t_incident = both("cli.incident")
    );
    say!(
        "  {t_case}:           {}",
        s.case.clone().unwrap_or_else(|| "—".into()),
        t_case = both("cli.case")
    );
}

/// What links the item to others: its parent and samples, an open transfer, the lab result and
/// the prosecutor's order, each only when there is one.
fn item_links(s: &ItemState, names: &Names) {
    if let Some(p) = &s.parent {
        say!("  {t_sample_of}:  {p}", t_sample_of = both("cli.sample_of"));
    }
    if !s.children.is_empty() {
        say!(
            "  {t_samples}:         {}",
            s.children
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            t_samples = both("cli.samples")
        );
    }
    if let Some(t) = &s.transfer {
        say!(
            "  {t_open_transfer}: released at seq {} by {} to {} ({})",
            t.release_seq,
            names.label(t.from_officer.as_str()),
            names.label_or(t.to_officer.as_ref().map(|o| o.as_str()), "any officer"),
            t.to_unit,
            t_open_transfer = both("cli.open_transfer")
        );
    }
    if let Some(l) = &s.lab {
        say!(
            "  {t_lab_result}:   {} — {} (report {}, seq {})",
            l.result,
            l.substance,
            l.report_number,
            l.seq,
            t_lab_result = both("cli.lab_result")
        );
    }
    if let Some(o) = &s.order {
        say!(
            "  {t_prosecutor_s_order}: {} → {} (seq {})",
            o.order_number,
            o.status,
            o.seq,
            t_prosecutor_s_order = both("cli.prosecutor_s_order")
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
        "{t_history} of item {} — {} event(s), now {}",
        s.id,
        events.len(),
        status(s),
        t_history = both_cap("cli.history")
    );
    for e in events {
        say!("");
        say!("seq {}  {} ({})", e.seq, e.kind, e.indonesian);
        say!(
            "  {t_occurred}: {}   {t_recorded}: {}   facility: {}",
            zones.show(&e.occurred_at, &e.facility),
            zones.show(&e.recorded_at, &e.facility),
            e.facility,
            t_occurred = both("cli.occurred"),
            t_recorded = both("cli.recorded")
        );
        say!("  {}", e.summary);
        let signed = match &e.attested_by {
            Some(a) => {
                say!(
                    "  {t_re_recorded} from {} seq {}, attested by administrator {}; the officers below signed it there",
                    a.origin,
                    a.seq,
                    names.label(&a.officer),
                    t_re_recorded = both("cli.re_recorded")
                );
                both("cli.named")
            }
            None => both("cli.signed_by"),
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
        say!(
            "{t_no_pending_transfers}",
            t_no_pending_transfers = both("cli.no_pending_transfers")
        );
        return;
    }
    say!(
        "{t_pending_transfers}: {}",
        list.len(),
        t_pending_transfers = both_cap("cli.pending_transfers")
    );
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
    say!(
        "{t_incident_2} {}",
        v.incident,
        t_incident_2 = both_cap("cli.incident")
    );
    say!("{t_events}:", t_events = both("cli.events"));
    for e in &v.events {
        say!(
            "  seq {}  {} ({}): {}",
            e["seq"],
            e["type"].as_str().unwrap_or(""),
            e["indonesian"].as_str().unwrap_or(""),
            e["summary"].as_str().unwrap_or("")
        );
    }
    say!("{t_items}:", t_items = both("cli.items"));
    items(&v.items, names);
    say!("{t_persons}:", t_persons = both("cli.persons"));
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
        "{t_audit} of {} as of {} — {} event(s), {} item(s); clocks table {}",
        r.scope,
        r.as_of,
        r.events,
        r.items.len(),
        r.clocks_version,
        t_audit = both_cap("cli.audit")
    );
    if let Some(ok) = r.log_verified {
        say!(
            "{t_log_verification}: {}",
            if ok { "OK" } else { "FAILED" },
            t_log_verification = both("cli.log_verification")
        );
    }
    if r.findings.is_empty() {
        say!("{t_no_findings}", t_no_findings = both("cli.no_findings"));
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
        "{t_bundle_file}: sha256 {}, {t_printed_digest} {}",
        r.sha256,
        r.printed_digest,
        t_bundle_file = both_cap("cli.bundle_file"),
        t_printed_digest = both("cli.printed_digest")
    );
    if r.printed_digest_confirmed {
        say!(
            "  ✓ the printed digest typed matches: this is the bundle the printed report describes (sidik cetak cocok: berkas inilah yang diuraikan laporan tercetak)"
        );
    }
}

/// The persons a bundle discloses, each proven against its commitments, or that it names them
/// by subject id only.
fn bundle_persons(r: &crate::app::bundle::BundleReport) {
    if r.disclosed.is_empty() {
        say!(
            "{t_persons}: named by subject id only; this bundle discloses no personal data",
            t_persons = both_cap("cli.persons")
        );
    } else {
        say!(
            "{t_persons_disclosed}, each proven against the commitments signed into the log:",
            t_persons_disclosed = both_cap("cli.persons_disclosed")
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
}

pub fn bundle(r: &crate::app::bundle::BundleReport) {
    let names = Names::from_map(r.officers.clone());
    // What the checks established, never a legal judgement: whether the records are valid
    // evidence ("sah") is for the court to decide, not for a ledger.
    say!(
        "{t_bundle_checks_passed}: {} — the signatures of its {} entries, their inclusion in the log of {} and the checkpoint of size {} signed by its key all verify (tanda tangan, pencantuman dalam log dan checkpoint terverifikasi)",
        match (&r.item, &r.incident) {
            (Some(item), _) => format!("item {item}"),
            (None, Some(incident)) => format!("{} of incident {incident}", both("cli.case")),
            (None, None) => String::new(),
        },
        r.entries,
        r.origin,
        r.checkpoint_size,
        t_bundle_checks_passed = both_cap("cli.bundle_checks_passed")
    );
    bundle_file(r);
    say!("");
    say!(
        "{t_what_it_proves}:",
        t_what_it_proves = both_cap("cli.what_it_proves")
    );
    for p in &r.proves {
        say!("  ✓ {p}");
    }
    say!("");
    say!(
        "{t_what_it_cannot_prove}:",
        t_what_it_cannot_prove = both_cap("cli.what_it_cannot_prove")
    );
    for p in &r.cannot_prove {
        say!("  – {p}");
    }
    say!("");
    say!("{t_signers}:", t_signers = both_cap("cli.signers"));
    for s in &r.signers {
        say!("  {s}");
    }
    say!("");
    bundle_persons(r);
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
        both("cli.officer"),
        "agency",
        "facility",
        both("cli.roles")
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
        say!(
            "  {t_problem}: {}",
            f.problem,
            t_problem = both("cli.problem")
        );
        let risk = match f.acknowledged_data {
            Risk::None => both("cli.not_at_risk"),
            Risk::Entries => both("cli.at_risk").to_uppercase(),
            Risk::Unknown => both("cli.unknown_until_the_store_opens"),
        };
        say!(
            "  {t_acknowledged_entries}: {risk}",
            t_acknowledged_entries = both("cli.acknowledged_entries")
        );
        match &f.action {
            Action::Repaired(t) => say!("  {t_repaired}: {t}", t_repaired = both("cli.repaired")),
            Action::Repairable(t) => {
                say!("  --repair would (akan diperbaiki dengan --repair): {t}")
            }
            Action::Manual(t) => say!("  {t_operator}: {t}", t_operator = both("cli.operator")),
        }
    }
    say!("");
    match (d.entries, d.verified) {
        (Some(n), true) => say!(
            "log: {n} {t_entries_verified}",
            t_entries_verified = both("cli.entries_verified")
        ),
        (Some(n), false) => say!("log: {n} entries, verification FAILED (verifikasi GAGAL)"),
        (None, _) => say!(
            "log: {t_did_not_open}",
            t_did_not_open = both("cli.did_not_open")
        ),
    }
    if d.findings.is_empty() {
        say!(
            "{t_no_problems_found}",
            t_no_problems_found = both("cli.no_problems_found")
        );
    }
}
