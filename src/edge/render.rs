//! Human-readable rendering of query results for the terminal, in the terminal's language
//! (`edge::terminal_lang`): every sentence and label from the catalogue (`cli.*`), in English with
//! the Indonesian term beside each English one. Edge layer: prints, decides nothing.

use crate::app::names::{Names, officer_label};
use crate::app::queries::{Incident, Pending};
use crate::base::words::Lang;
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

/// The catalogue's sentence `key` (`cli.*`) in the terminal's language, each `{name}` filled with
/// its value as `Display` shows it: what every line of the command line says.
pub fn said(key: &'static str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
    let values: Vec<(&str, String)> = args.iter().map(|(n, v)| (*n, v.to_string())).collect();
    let pairs: Vec<(&str, &str)> = values.iter().map(|(n, v)| (*n, v.as_str())).collect();
    crate::base::words::says(crate::edge::terminal_lang(), key, &pairs)
}

/// One labelled line of an item: the label and its colon padded to one column, then the value.
fn field(label: &str, value: impl std::fmt::Display) {
    say!("  {:<25} {value}", format!("{label}:"));
}

/// An act in one line, in the terminal's language: its English summary, or at an Indonesian
/// terminal its *uraian* (`edge::uraian`) when the answer carries one.
fn described<'a>(summary: &'a str, uraian: Option<&'a str>) -> &'a str {
    match (crate::edge::terminal_lang(), uraian) {
        (Lang::Indonesian, Some(uraian)) => uraian,
        _ => summary,
    }
}

/// A mass in grams: at an Indonesian terminal with the decimal comma, as the reports write it
/// (`words::grams`), since "12.840 g" reads there as twelve thousand grams.
fn mg(m: Option<u64>) -> String {
    match (crate::edge::terminal_lang(), m) {
        (_, None) => "—".to_owned(),
        (Lang::Indonesian, m) => crate::base::words::grams(m, Lang::Indonesian),
        (Lang::English, Some(m)) => format!("{}.{:03} g", m / 1000, m % 1000),
    }
}

/// The item's status: its code with the Indonesian beside it, or the Indonesian alone.
fn status(s: &ItemState) -> String {
    match crate::edge::terminal_lang() {
        Lang::English => format!("{} ({})", s.status.as_str(), s.status.indonesian()),
        Lang::Indonesian => s.status.indonesian().to_owned(),
    }
}

/// A role as the terminal names it: its code in English, the workbench's word in Indonesian.
fn role(code: &str) -> String {
    match crate::edge::terminal_lang() {
        Lang::English => code.to_owned(),
        Lang::Indonesian => crate::base::words::role_name(code, Lang::Indonesian),
    }
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
        said("cli.col.status", &[]),
        both("cli.holder"),
        said("cli.col.category", &[]),
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
    field(
        &both("cli.events"),
        said(
            "cli.item.events",
            &[
                ("events", &s.events),
                ("born", &s.born_seq),
                ("kind", &s.born_as),
                ("last", &s.last_seq),
            ],
        ),
    );
    field(&both("cli.head"), &s.head);
}

/// The item's own fields: description, category, status, holder, place, seals, count, masses,
/// incident and case.
fn item_fields(s: &ItemState, names: &Names) {
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    field(
        &both("cli.description"),
        s.description.clone().unwrap_or_default(),
    );
    field(
        &both("cli.category"),
        s.category.clone().unwrap_or_default(),
    );
    field(&said("cli.col.status", &[]), status(s));
    field(&both("cli.holder"), holder(s, names));
    field(&both("cli.unit"), s.unit.clone().unwrap_or_default());
    field(&both("cli.location"), or_dash(&s.location));
    let seals = if s.seals.is_empty() {
        said("cli.none", &[])
    } else {
        s.seals.join(", ")
    };
    field(&both("cli.seals"), seals);
    field(
        &both("cli.count"),
        s.count.map_or("—".to_owned(), |c| c.to_string()),
    );
    field(&both("cli.gross_mass"), mg(s.gross_mass_mg));
    field(&both("cli.net_mass"), mg(s.net_mass_mg));
    field(&both("cli.incident"), or_dash(&s.incident));
    field(&both("cli.case"), or_dash(&s.case));
}

/// What links the item to others: its parent and samples, an open transfer, the lab result and
/// the prosecutor's order, each only when there is one.
fn item_links(s: &ItemState, names: &Names) {
    if let Some(p) = &s.parent {
        field(&both("cli.sample_of"), p);
    }
    if !s.children.is_empty() {
        let samples: Vec<String> = s.children.iter().map(|c| c.to_string()).collect();
        field(&both("cli.samples"), samples.join(", "));
    }
    if let Some(t) = &s.transfer {
        let line = said(
            "cli.item.open_transfer",
            &[
                ("seq", &t.release_seq),
                ("from", &names.label(t.from_officer.as_str())),
                ("to", &to_officer(names, t.to_officer.as_ref())),
                ("unit", &t.to_unit),
            ],
        );
        field(&both("cli.open_transfer"), line);
    }
    if let Some(l) = &s.lab {
        let line = said(
            "cli.item.lab_result",
            &[
                ("result", &l.result),
                ("substance", &l.substance),
                ("report", &l.report_number),
                ("seq", &l.seq),
            ],
        );
        field(&both("cli.lab_result"), line);
    }
    if let Some(o) = &s.order {
        let line = format!("{} → {} (seq {})", o.order_number, o.status, o.seq);
        field(&both("cli.prosecutor_s_order"), line);
    }
}

/// Whom a release names: the officer as `Name (NIP …)`, or any officer of the unit.
fn to_officer(names: &Names, to: Option<&crate::base::ids::OfficerId>) -> String {
    names.label_or(to.map(|o| o.as_str()), &said("cli.any_officer", &[]))
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
        "{}",
        said(
            "cli.history.title",
            &[
                ("item", &s.id),
                ("count", &events.len()),
                ("status", &status(s)),
            ],
        )
    );
    for e in events {
        say!("");
        say!("seq {}  {} ({})", e.seq, e.kind, e.indonesian);
        say!(
            "  {}",
            said(
                "cli.history.times",
                &[
                    ("occurred", &zones.show(&e.occurred_at, &e.facility)),
                    ("recorded", &zones.show(&e.recorded_at, &e.facility)),
                    ("facility", &e.facility),
                ],
            )
        );
        say!("  {}", described(&e.summary, e.uraian.as_deref()));
        let signed = match &e.attested_by {
            Some(a) => {
                say!(
                    "  {}",
                    said(
                        "cli.history.re_recorded",
                        &[
                            ("origin", &a.origin),
                            ("seq", &a.seq),
                            ("admin", &names.label(&a.officer)),
                        ],
                    )
                );
                both("cli.named")
            }
            None => both("cli.signed_by"),
        };
        for sg in &e.signers {
            let roles: Vec<String> = sg.officer_roles.iter().map(|r| role(r)).collect();
            say!(
                "  {signed} {:<10} {} — {} [{}]",
                role(&sg.role),
                officer_label(&sg.officer, sg.name.as_deref()),
                sg.unit.clone().unwrap_or_default(),
                roles.join(",")
            );
        }
        say!(
            "  {}",
            said(
                "cli.history.after",
                &[
                    ("holder", &names.label_or(e.holder.as_deref(), "—")),
                    ("seals", &e.seals.join(", ")),
                    ("gross", &mg(e.gross_mass_mg)),
                    ("net", &mg(e.net_mass_mg)),
                    ("location", &e.location.as_deref().unwrap_or("—")),
                ],
            )
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
            "  {}",
            said(
                "cli.pending.row",
                &[
                    ("item", &p.item),
                    ("seq", &t.release_seq),
                    ("at", &t.released_at),
                    ("from", &names.label(t.from_officer.as_str())),
                    ("to", &to_officer(names, t.to_officer.as_ref())),
                    ("unit", &t.to_unit),
                    ("purpose", &t.purpose),
                ],
            )
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
            described(e["summary"].as_str().unwrap_or(""), e["uraian"].as_str())
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
        "{}",
        said(
            "cli.person.title",
            &[("person", &names.label(id)), ("count", &events.len())],
        )
    );
    let text = |e: &Value, field: &str| e[field].as_str().unwrap_or("").to_owned();
    for e in events {
        say!(
            "  {}",
            said(
                "cli.person.row",
                &[
                    ("seq", &e["seq"]),
                    ("at", &text(e, "occurred_at")),
                    ("type", &text(e, "type")),
                    ("indonesian", &text(e, "indonesian")),
                    ("role", &text(e, "as")),
                    (
                        "summary",
                        &described(&text(e, "summary"), e["uraian"].as_str())
                    ),
                ],
            )
        );
    }
}

pub fn audit(r: &crate::app::casefile::AuditReport) {
    let scope = match (crate::edge::terminal_lang(), &r.scope_indonesian) {
        (Lang::Indonesian, Some(indonesian)) => indonesian,
        _ => &r.scope,
    };
    say!(
        "{}",
        said(
            "cli.audit.title",
            &[
                ("scope", scope),
                ("as_of", &r.as_of),
                ("events", &r.events),
                ("items", &r.items.len()),
                ("clocks", &r.clocks_version),
            ],
        )
    );
    if let Some(ok) = r.log_verified {
        say!(
            "{t_log_verification}: {}",
            if ok {
                "OK".to_owned()
            } else {
                said("cli.failed", &[])
            },
            t_log_verification = both("cli.log_verification")
        );
    }
    if r.findings.is_empty() {
        say!("{t_no_findings}", t_no_findings = both("cli.no_findings"));
        return;
    }
    for f in &r.findings {
        say!("");
        let item = f.item.as_ref().map_or("—".to_owned(), |i| i.to_string());
        let seqs = format!("{:?}", f.seqs);
        say!(
            "{}",
            finding("cli.audit.finding", f, &[("item", &item), ("seqs", &seqs)])
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
        "{}",
        said(
            "cli.audit.total",
            &[
                ("total", &r.findings.len()),
                ("critical", &count(crate::domain::audit::Severity::Critical)),
                ("serious", &count(crate::domain::audit::Severity::Serious)),
                ("warning", &count(crate::domain::audit::Severity::Warning)),
                ("info", &count(crate::domain::audit::Severity::Info)),
            ],
        )
    );
}

/// A finding's heading (`key`): its severity and class, each in Indonesian and as named, then
/// the values only that heading has (`more`).
fn finding(
    key: &'static str,
    f: &crate::domain::audit::Finding,
    more: &[(&str, &dyn std::fmt::Display)],
) -> String {
    let severity_id = f.severity.indonesian().to_uppercase();
    let severity = f.severity.as_str().to_uppercase();
    let class_id = crate::domain::audit::class_indonesian(f.class);
    let mut args: Vec<(&str, &dyn std::fmt::Display)> = vec![
        ("severity_id", &severity_id),
        ("severity", &severity),
        ("class", &f.class),
        ("class_id", &class_id),
        ("name", &f.name),
    ];
    args.extend_from_slice(more);
    said(key, &args)
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
        say!("  {}", said("cli.bundle.digest_confirmed", &[]));
    }
}

/// The persons a bundle discloses, each proven against its commitments, or that it names them
/// by subject id only.
fn bundle_persons(r: &crate::app::bundle::BundleReport) {
    if r.disclosed.is_empty() {
        say!("{}", said("cli.bundle.no_persons", &[]));
    } else {
        say!("{}", said("cli.bundle.persons_disclosed", &[]));
        for d in &r.disclosed {
            let fields = serde_json::to_value(&d.fields).unwrap_or_default();
            let seqs: Vec<String> = d.seqs.iter().map(u64::to_string).collect();
            say!(
                "  {}",
                said(
                    "cli.bundle.person",
                    &[
                        ("subject", &d.subject),
                        ("fields", &fields),
                        ("seqs", &seqs.join(", ")),
                    ],
                )
            );
        }
    }
}

pub fn bundle(r: &crate::app::bundle::BundleReport) {
    let names = Names::from_map(r.officers.clone());
    // What the checks established, never a legal judgement: whether the records are valid
    // evidence ("sah") is for the court to decide, not for a ledger.
    let what = match (&r.item, &r.incident) {
        (Some(item), _) => said("cli.bundle.of_item", &[("item", item)]),
        (None, Some(incident)) => said("cli.bundle.of_case", &[("incident", incident)]),
        (None, None) => String::new(),
    };
    say!(
        "{}",
        said(
            "cli.bundle.passed",
            &[
                ("what", &what),
                ("entries", &r.entries),
                ("origin", &r.origin),
                ("size", &r.checkpoint_size),
            ],
        )
    );
    bundle_file(r);
    say!("");
    say!(
        "{t_what_it_proves}:",
        t_what_it_proves = both_cap("cli.what_it_proves")
    );
    let lang = crate::edge::terminal_lang();
    for p in &r.said.proves {
        say!("  ✓ {}", p.render(lang));
    }
    say!("");
    say!(
        "{t_what_it_cannot_prove}:",
        t_what_it_cannot_prove = both_cap("cli.what_it_cannot_prove")
    );
    for p in &r.said.cannot_prove {
        say!("  – {}", p.render(lang));
    }
    say!("");
    say!("{t_signers}:", t_signers = both_cap("cli.signers"));
    for s in &r.said.signers {
        say!("  {}", s.render(lang));
    }
    say!("");
    bundle_persons(r);
    say!("");
    items(&r.items, &names);
    say!("");
    say!(
        "{}",
        said(
            "cli.bundle.audit",
            &[("as_of", &r.as_of), ("count", &r.findings.len())],
        )
    );
    for f in &r.findings {
        say!(
            "  {}",
            finding("cli.bundle.finding", f, &[("english", &f.english)])
        );
        say!("      {}", f.indonesian);
    }
}

pub fn officers(list: &[crate::app::reads::OfficerView]) {
    say!(
        "{:<48} {:<10} {:<16} {:<34} {}",
        both("cli.officer"),
        said("cli.col.agency", &[]),
        said("cli.col.facility", &[]),
        both("cli.roles"),
        said("cli.col.status", &[])
    );
    for o in list {
        let current = o.keys.iter().find(|k| k.until_seq.is_none());
        let status = match (o.revoked_at, current) {
            (Some(at), _) => said("cli.officers.revoked", &[("seq", &at)]),
            (None, Some(k)) => said(
                "cli.officers.active",
                &[("key", &k.key_id), ("seq", &k.from_seq)],
            ),
            (None, None) => said("cli.officers.no_key", &[]),
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

/// One step of `custody demo`'s story in a line: its seq, the statement type with its Indonesian
/// name, and for the founding and each enrollment the officer it concerned.
pub fn demo_step(s: &crate::app::demo::Step) -> String {
    use crate::app::demo::Act;
    let kind = s.act.kind();
    let act = format!("{} ({})", kind.as_str(), kind.indonesian());
    let what = match &s.act {
        Act::Founded { name, .. } => said(
            "cli.demo.step.founded",
            &[("act", &act), ("role", &role("admin")), ("name", name)],
        ),
        Act::Enrolled {
            officer,
            name,
            role: r,
            unit,
        } => said(
            "cli.demo.step.enrolled",
            &[
                ("act", &act),
                ("officer", officer),
                ("name", name),
                ("role", &role(r.as_str())),
                ("unit", unit),
            ],
        ),
        Act::Recorded(_) => act,
    };
    format!("  seq {:>3}  {what}", s.seq)
}

/// `custody demo`: the story's steps, the seized lot's history, the audit's findings, the
/// verification and what to try next.
pub fn demo(r: &crate::app::demo::DemoReport) {
    use crate::app::demo::DEMO_ORIGIN;
    say!(
        "{}",
        said(
            "cli.demo.title",
            &[("ledger", &r.ledger), ("origin", &DEMO_ORIGIN)]
        )
    );
    say!("{}", said("cli.demo.scenario", &[]));
    for s in &r.steps {
        say!("{}", demo_step(s));
    }
    say!("");
    demo_history(r);
    say!("");
    demo_audit(r);
    say!("");
    demo_verify(r);
}

/// The seized lot's history in the demo: each event in Jakarta time (WIB, as the Lapas keeps
/// it), its line (the *uraian* at an Indonesian terminal) and its signers.
fn demo_history(r: &crate::app::demo::DemoReport) {
    use crate::base::time::{Timestamp, Zone};
    if let Some(item) = &r.item {
        say!(
            "{}",
            said(
                "cli.demo.history",
                &[("item", &item.id), ("status", &status(item))]
            )
        );
    }
    for e in &r.history {
        let signers: Vec<String> = e
            .signers
            .iter()
            .map(|s| {
                let name = s.name.as_deref().unwrap_or_default();
                format!("{} {name} ({})", role(&s.role), s.officer)
            })
            .collect();
        let when = Timestamp::parse(&e.occurred_at)
            .map_or_else(|_| e.occurred_at.clone(), |t| t.in_zone(Zone::Wib));
        say!("  seq {:>3}  {when}  {} ({})", e.seq, e.kind, e.indonesian);
        let uraian = e.uraian.clone().or_else(|| {
            r.statements
                .get(&e.seq)
                .map(crate::edge::uraian::indonesian)
        });
        say!("           {}", described(&e.summary, uraian.as_deref()));
        let signed = said("cli.demo.signed", &[("signers", &signers.join("; "))]);
        say!("           {signed}");
    }
}

/// The demo's audit findings: in English with the Indonesian beneath, or in Indonesian alone.
fn demo_audit(r: &crate::app::demo::DemoReport) {
    say!(
        "{}",
        said(
            "cli.demo.audit",
            &[
                ("as_of", &crate::app::demo::DEMO_AUDIT_AS_OF),
                ("count", &r.findings.len()),
            ],
        )
    );
    for f in &r.findings {
        match crate::edge::terminal_lang() {
            Lang::English => {
                let severity = f.severity.as_str();
                say!("  [{}] {}", severity.to_uppercase(), f.english);
                say!(
                    "  {:width$} {}",
                    "",
                    f.indonesian,
                    width = severity.len() + 2
                );
            }
            Lang::Indonesian => {
                say!(
                    "  [{}] {}",
                    f.severity.indonesian().to_uppercase(),
                    f.indonesian
                );
            }
        }
    }
}

/// The demo's verification, its keys, and the commands to try next.
fn demo_verify(r: &crate::app::demo::DemoReport) {
    use crate::app::demo::{DEMO_ITEM, DEMO_VISITOR_NIK};
    match &r.verify {
        Ok(v) => say!("{}", said("cli.demo.verified", &[("entries", &v.size)])),
        Err(e) => {
            let reason = e.render(crate::edge::terminal_lang());
            say!("{}", said("cli.demo.not_verified", &[("reason", &reason)]));
        }
    }
    say!("{}", said("cli.verifier_key", &[("vkey", &r.vkey)]));
    let keys = format!("{}/demo-keys/", r.ledger);
    say!("{}", said("cli.demo.officer_keys", &[("keys", &keys)]));
    let l = &r.ledger;
    let commands = format!(
        "custody items --ledger {l}; custody history {DEMO_ITEM} --ledger {l}; custody subject lookup --nik {DEMO_VISITOR_NIK} --officer 85071234 --key {l}/demo-keys/investigator.pem --ledger {l}"
    );
    say!("{}", said("cli.demo.next", &[("commands", &commands)]));
}
