//! Projections: the read-side views folded from the log — item state, item timeline, holdings per
//! officer and unit, pending transfers, incidents, persons and per-facility counts. Pure: this
//! module only computes which keys to write for one admitted statement; storage applies them.
//! Views live under key prefixes of one sled tree so that one statement's updates land together
//! with the tree's watermark. It also owns the encoding of the view values (`encode`/`decode`,
//! postcard): every writer and reader of a view value goes through those two.

use crate::base::ids::{ItemId, OfficerId};
use crate::base::time::Timestamp;
use crate::base::words::{Explain, Message, msg};
use crate::domain::custody::{ItemChange, ItemState, Status};
use crate::domain::rules;
use crate::format::merkle::Hash;
use crate::format::statement::{
    Body, ContrabandFound, CustodyReceived, CustodyReleased, ItemSealed, LabResult, Person,
    SampleSetAside, SearchConducted, SeizureRecorded, Statement, StatusDetermined, Weighed,
};
use crate::format::subject::{Commitment, SubjectId, SubjectKind};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Key prefixes of the views.
pub const ITEMS: &[u8] = b"i\0";
pub const TIMELINE: &[u8] = b"t\0";
pub const HOLDER: &[u8] = b"ho\0";
pub const UNIT: &[u8] = b"hu\0";
pub const PENDING: &[u8] = b"p\0";
pub const INCIDENT_EVENTS: &[u8] = b"ne\0";
pub const INCIDENT_ITEMS: &[u8] = b"ni\0";
pub const INCIDENT_PERSONS: &[u8] = b"np\0";
pub const PERSONS: &[u8] = b"pe\0";
/// Subjects whose register data a `subject_erased` act erased: `se\0<subject>` → the seq.
pub const ERASED: &[u8] = b"se\0";
/// Subjects linked as one person (`subjects_linked`): `sl\0<subject>\0<other>` → the seq.
pub const LINKS: &[u8] = b"sl\0";
pub const FACILITY: &[u8] = b"f\0";
/// Seal numbers and the items they were applied to: `sa\0<seal>\0<seq>` → the item id. A seal's
/// first entry names the item it belongs to (rules version 5: a seal number is used once).
pub const SEALS: &[u8] = b"sa\0";
/// Blobs named by statements (`photos`, `media`, `report_digest`) and the items whose history
/// names them: `bl\0<digest>\0<item>` → the seq of the latest act naming it for that item. An index
/// rather than a scan of histories, so that whether a reader may see a blob is one range scan
/// and one scope check per item, whatever the ledger's size.
pub const BLOBS: &[u8] = b"bl\0";
/// The watermark: the log size the views reflect.
pub const WATERMARK: &[u8] = b"\0watermark";
/// The format of the views, written with every batch (absent: format 1). A ledger whose views
/// were written in another format has them rebuilt from the log when it opens.
pub const FORMAT: &[u8] = b"\0format";
/// Format 8: a timeline entry has a place for its Indonesian line (`uraian`, `None` in the views;
/// the edges fill it in), so format-7 entries do not decode as format 8.
/// Format 7: a timeline entry carries the readability of the balance behind the mass its act set
/// (`readability_mg`).
/// Format 6: the blob index (`bl`) is kept.
/// Format 5: a timeline entry says who attested a re-recorded event (`attested_by`).
/// Format 4: item states carry when their item was created, the mass reference for weighings and
/// when a pending release happened, and the seal index (`sa`) is kept. Format 3: every view value
/// is postcard (see [`encode`]), not JSON. Format 2: the holdings
/// (`ho`, `hu`) and pending (`p`) entries carry the item's state (the bytes of its `i` entry), so
/// that each of those queries is one range scan. Format 1 kept the holdings entries empty and the
/// pending entries as the transfer alone.
pub const VIEWS_FORMAT: u64 = 8;

/// One key-value change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    Put {
        key: Vec<u8>,
        value: Vec<u8>,
    },
    Delete {
        key: Vec<u8>,
    },
    /// Adds `delta` to the integer `field` of the [`Counts`] at `key` (created if absent).
    Count {
        key: Vec<u8>,
        field: String,
        delta: i64,
    },
}

pub fn key(prefix: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut k = prefix.to_vec();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            k.push(0);
        }
        k.extend_from_slice(p);
    }
    k
}

fn seq_key(prefix: &[u8], id: &[u8], seq: u64) -> Vec<u8> {
    let mut k = key(prefix, &[id]);
    k.push(0);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// A signer as shown in a history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerView {
    pub role: String,
    pub officer: String,
    pub name: Option<String>,
    pub unit: Option<String>,
    pub officer_roles: Vec<String>,
}

/// One event in an item's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub seq: u64,
    pub recorded_at: String,
    pub occurred_at: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub indonesian: String,
    pub facility: String,
    pub statement_id: String,
    pub leaf_hash: String,
    pub signers: Vec<SignerView>,
    pub summary: String,
    /// What the act did in Indonesian (`edge::uraian`), filled by the edges that answer a reader
    /// — the server and the command line — from the statement at `seq`; the views keep `None`,
    /// for the words are the catalogue's, which the core does not read (views format 8).
    #[serde(default)]
    pub uraian: Option<String>,
    pub seals: Vec<String>,
    pub holder: Option<String>,
    pub status: String,
    pub location: Option<String>,
    pub gross_mass_mg: Option<u64>,
    pub net_mass_mg: Option<u64>,
    pub count: Option<u64>,
    /// When this act set the mass the item's later masses rest on (a weighing, a sampling, a lab
    /// result): the readability d of the balance behind that mass, so every weighing in the
    /// history shows its own ± (views format 7).
    #[serde(default)]
    pub readability_mg: Option<u64>,
    /// For an event a re-founding re-recorded: who attested it, from which ledger and seq
    /// (`signers` then names the officers of the original act, whose signatures are there).
    pub attested_by: Option<AttestedView>,
}

/// Who attested a re-recorded event, and where the officers' own signatures are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttestedView {
    pub officer: String,
    pub origin: String,
    pub seq: u64,
}

fn mg(m: u64) -> String {
    format!("{}.{:03} g", m / 1000, m % 1000)
}

/// One line a prosecutor can read aloud about the act.
pub fn summary(statement: &Statement) -> String {
    match &statement.body {
        Body::SearchConducted(b) => search_summary(b),
        Body::ContrabandFound(b) => found_summary(b),
        Body::ItemSealed(b) => sealed_summary(b),
        Body::Weighed(b) => weighed_summary(b),
        Body::CustodyReleased(b) => released_summary(b),
        Body::CustodyReceived(b) => received_summary(b),
        Body::SeizureRecorded(b) => seized_summary(b),
        Body::SampleSetAside(b) => sample_summary(b),
        Body::SeizureNotified(b) => format!(
            "seizure notified by letter {} to {}",
            b.letter_number,
            b.recipients.join(", ")
        ),
        Body::LabRequested(b) => format!(
            "lab examination requested from {} (letter {})",
            b.lab, b.letter_number
        ),
        Body::LabReceived(b) => format!(
            "received at the lab as case {}; seals [{}] {}",
            b.lab_case,
            b.seals.join(", "),
            intact(b.seals_intact)
        ),
        Body::LabResult(b) => lab_result_summary(b),
        Body::StatusDetermined(b) => order_summary(b),
        Body::Stored(b) => format!(
            "stored at {} › {} › {} ({})",
            b.location.store, b.location.room, b.location.shelf, b.authority
        ),
        Body::CheckedOut(b) => format!(
            "checked out for {} ({}), due back {}",
            b.purpose, b.authority, b.expected_return
        ),
        Body::Returned(b) => format!("returned to {}", b.to),
        Body::Destroyed(b) => format!(
            "destroyed ({}) under {}: {}",
            b.method,
            b.order_ref,
            mg(b.mass_destroyed_mg)
        ),
        Body::InventoryCounted(b) => format!(
            "stock count of {}: {} found, {} missing",
            b.scope,
            b.items_found.len(),
            b.items_missing.len()
        ),
        Body::NoteAdded { text, .. } => format!("note: {text}"),
        Body::Correction(c) => format!(
            "correction of seq {}: {} ({})",
            c.refers_to,
            c.fields.keys().cloned().collect::<Vec<_>>().join(", "),
            c.reason
        ),
        _ => ledger_summary(&statement.body),
    }
}

/// The summary of an act on the ledger itself: its officers, rules and subjects.
fn ledger_summary(body: &Body) -> String {
    match body {
        Body::LedgerGenesis { origin, .. } => format!("ledger {origin} created"),
        Body::OfficerEnrolled { officer } => {
            format!("officer {} {} enrolled", officer.id, officer.name)
        }
        Body::OfficerKeyRotated { officer, .. } => format!("key of officer {officer} rotated"),
        Body::OfficerKeyReplaced { officer, .. } => {
            format!("lost key of officer {officer} replaced (kunci yang hilang diganti)")
        }
        Body::OfficerRevoked { officer, reason } => format!("officer {officer} revoked: {reason}"),
        Body::OfficerUpdated(u) => format!("record of officer {} updated: {}", u.officer, u.reason),
        Body::FacilityRegistered(f) => format!(
            "facility {} registered: {}, {} ({:?})",
            f.code, f.name, f.address, f.time_zone
        ),
        Body::RulesAdopted { version } => format!("rules version {version} adopted"),
        Body::SubjectsLinked(b) => format!(
            "{} and {} are one person: {}",
            b.subject, b.same_as, b.basis
        ),
        Body::SubjectErased(b) => {
            format!("the register's data of {} erased: {}", b.subject, b.basis)
        }
        _ => String::new(),
    }
}

/// A mass that may not have been stated.
fn opt_mg(m: Option<u64>) -> String {
    m.map_or_else(|| "not stated".to_owned(), mg)
}

/// How seals were found.
fn intact(seals_intact: bool) -> &'static str {
    if seals_intact { "intact" } else { "NOT intact" }
}

/// The summary of a search.
fn search_summary(b: &SearchConducted) -> String {
    format!(
        "{} search ({}) at {}: {}",
        b.kind,
        if b.body_search {
            "body search"
        } else {
            "no body search"
        },
        b.location,
        b.outcome.replace('_', " ")
    )
}

/// The summary of a find.
fn found_summary(b: &ContrabandFound) -> String {
    format!(
        "found {} × {} ({}, {}), provisional gross {}, concealed: {}",
        b.count,
        b.description.name,
        b.category,
        b.description.form,
        opt_mg(b.gross_mass_mg),
        b.concealment
    )
}

/// The summary of a sealing, with the seals removed and why.
fn sealed_summary(b: &ItemSealed) -> String {
    format!(
        "sealed with [{}]{}; packaging: {}",
        b.seals_applied.join(", "),
        if b.seals_removed.is_empty() {
            String::new()
        } else {
            format!(
                ", removed [{}] because {}",
                b.seals_removed.join(", "),
                b.open_reason.as_deref().unwrap_or("(no reason)")
            )
        },
        b.packaging
    )
}

/// The summary of a weighing.
fn weighed_summary(b: &Weighed) -> String {
    format!(
        "weighed: gross {}, net {} on balance {} (d = {} mg, calibration {}), seals {}",
        mg(b.gross_mass_mg),
        mg(b.net_mass_mg),
        b.balance_id,
        b.readability_mg,
        b.calibration_ref,
        intact(b.seals_intact)
    )
}

/// The summary of a release.
fn released_summary(b: &CustodyReleased) -> String {
    format!(
        "released to {} ({}) for {}; seals [{}] {}",
        b.to_officer
            .as_ref()
            .map_or("any officer of the unit".to_owned(), |o| o.to_string()),
        b.to_unit,
        b.purpose,
        b.seals.join(", "),
        intact(b.seals_intact)
    )
}

/// The summary of a receipt.
fn received_summary(b: &CustodyReceived) -> String {
    format!(
        "received; seals [{}] {}{}",
        b.seals.join(", "),
        intact(b.seals_intact),
        b.mass_observed_mg
            .map_or(String::new(), |m| format!(", observed {}", mg(m)))
    )
}

/// The summary of a seizure.
fn seized_summary(b: &SeizureRecorded) -> String {
    format!(
        "seized under warrant {} ({}), case {}; {} unit(s), net {}; possessor {}",
        b.warrant.number,
        b.legal_basis.join("; "),
        b.case,
        b.count,
        opt_mg(b.net_mass_mg),
        b.possessor_acknowledgement
    )
}

/// The summary of a sample set aside.
fn sample_summary(b: &SampleSetAside) -> String {
    format!(
        "sample {} set aside by rule {}: {} unit(s), net {}, sealed [{}]; parent resealed [{}]",
        b.sample,
        b.rule,
        b.sample_count,
        mg(b.sample_net_mass_mg),
        b.sample_seals.join(", "),
        b.parent_seals.join(", ")
    )
}

/// The summary of a lab report.
fn lab_result_summary(b: &LabResult) -> String {
    format!(
        "lab report {}: {} — {}{}, net {}, consumed {}, residue {}",
        b.report_number,
        b.result,
        b.substance,
        b.narcotic_class
            .as_ref()
            .map_or(String::new(), |c| format!(" (class {c})")),
        mg(b.net_mass_mg),
        mg(b.consumed_mass_mg),
        mg(b.residue_mass_mg)
    )
}

/// The summary of a prosecutor's order, item by item.
fn order_summary(b: &StatusDetermined) -> String {
    format!(
        "prosecutor's order {}: {}",
        b.order_number,
        b.items
            .iter()
            .map(|i| format!("{} → {}", i.item, i.status))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The signers with their names and units as enrolled at the time.
pub fn signer_views(identity: &rules::State, statement: &Statement) -> Vec<SignerView> {
    statement
        .signers
        .iter()
        .map(|s| {
            let o = identity.officer(&s.officer);
            SignerView {
                role: s.role.as_str().to_string(),
                officer: s.officer.to_string(),
                name: o.map(|o| o.record.name.clone()),
                unit: o.map(|o| o.record.unit.clone()),
                officer_roles: o
                    .map(|o| {
                        o.record
                            .roles
                            .iter()
                            .map(|r| r.as_str().to_owned())
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// The first item seal number `seal` was applied to, and the seq, from the entries of the seal
/// index under `seal_prefix(seal)` (in key order).
pub fn first_seal_use(entries: &[(Vec<u8>, Vec<u8>)]) -> Option<(ItemId, u64)> {
    let (k, v) = entries.first()?;
    let seq = u64::from_be_bytes(k.get(k.len().checked_sub(8)?..)?.try_into().ok()?);
    let item: String = decode(v).ok()?;
    Some((ItemId::parse(&item).ok()?, seq))
}

/// The key prefix of seal number `seal`'s entries in the seal index.
pub fn seal_prefix(seal: &str) -> Vec<u8> {
    let mut k = key(SEALS, &[seal.as_bytes()]);
    k.push(0);
    k
}

/// The key prefix of the blob index's entries for `digest` (its `sha256:…` text).
pub fn blob_prefix(digest: &str) -> Vec<u8> {
    let mut k = key(BLOBS, &[digest.as_bytes()]);
    k.push(0);
    k
}

/// The attachments `statement` names, each with the item whose history shows it: `photos` of a
/// find, a sealing or a seizure, `media` of a destruction, `report_digest` of a lab result.
pub fn attachments(statement: &Statement) -> Vec<(&ItemId, &str)> {
    fn all<'a>(item: &'a ItemId, list: &'a [String]) -> Vec<(&'a ItemId, &'a str)> {
        list.iter().map(|d| (item, d.as_str())).collect()
    }
    match &statement.body {
        Body::ContrabandFound(b) => all(&b.item, &b.photos),
        Body::ItemSealed(b) => all(&b.item, &b.photos),
        Body::SeizureRecorded(b) => all(&b.item, &b.photos),
        Body::Destroyed(b) => all(&b.item, &b.media),
        Body::LabResult(b) => vec![(&b.item, b.report_digest.as_str())],
        _ => Vec::new(),
    }
}

/// The writes one admitted statement causes. `identity` is the state the statement was checked
/// against (it names the signers as they were then).
pub fn writes(
    identity: &rules::State,
    admitted: &rules::Admitted,
    leaf_hash: &Hash,
    recorded_at: Timestamp,
    changes: &[ItemChange],
) -> Vec<Write> {
    let statement = admitted.statement();
    let seq = admitted.seq();
    // A re-recorded entry keeps the time the old ledger recorded the act.
    let recorded_at = statement.recorded_at_or(recorded_at);
    let mut out = Vec::new();
    let act = Act {
        statement,
        seq,
        recorded_at,
        signers: signer_views(identity, statement),
        summary: summary(statement),
        leaf_b64: B64.encode(leaf_hash),
        attested_by: statement.attests.as_ref().and_then(|a| {
            identity.refounding().map(|r| AttestedView {
                officer: r.by.to_string(),
                origin: r.origin.clone(),
                seq: a.seq,
            })
        }),
    };
    let event = act.event(changes);
    out.push(Write::Count {
        key: key(FACILITY, &[statement.facility.as_str().as_bytes()]),
        field: "events".into(),
        delta: 1,
    });
    for change in changes {
        item_writes(&mut out, &act, change);
    }
    let persons = named_persons(statement);
    if let Some(incident) = &incident_of(statement, changes) {
        incident_writes(&mut out, incident, seq, &event, &persons);
    }
    person_writes(&mut out, statement, seq, &event, persons);
    for (item, _, seal) in crate::domain::custody::seals_applied(statement) {
        out.push(Write::Put {
            key: seq_key(SEALS, seal.as_bytes(), seq),
            value: encode(&item.to_string()),
        });
    }
    for (item, digest) in attachments(statement) {
        let k = key(BLOBS, &[digest.as_bytes(), item.as_str().as_bytes()]);
        out.push(Write::Put {
            key: k,
            value: encode(&seq),
        });
    }
    if let Body::SubjectErased(b) = &statement.body {
        out.push(Write::Put {
            key: key(ERASED, &[b.subject.to_string().as_bytes()]),
            value: encode(&seq),
        });
    }
    if let Body::SubjectsLinked(b) = &statement.body {
        for (a, z) in [(b.subject, b.same_as), (b.same_as, b.subject)] {
            out.push(Write::Put {
                key: key(LINKS, &[a.to_string().as_bytes(), z.to_string().as_bytes()]),
                value: encode(&seq),
            });
        }
    }
    out
}

/// What every view write of one statement shares.
struct Act<'a> {
    statement: &'a Statement,
    seq: u64,
    recorded_at: Timestamp,
    signers: Vec<SignerView>,
    summary: String,
    leaf_b64: String,
    attested_by: Option<AttestedView>,
}

impl Act<'_> {
    /// The event as the incident and person views list it.
    fn event(&self, changes: &[ItemChange]) -> EventView {
        let statement = self.statement;
        EventView {
            seq: self.seq,
            recorded_at: self.recorded_at.to_canonical(),
            occurred_at: statement.occurred_at.to_canonical(),
            kind: statement.kind.as_str().to_owned(),
            indonesian: statement.kind.indonesian().to_owned(),
            facility: statement.facility.to_string(),
            items: changes.iter().map(|c| c.after.id.to_string()).collect(),
            summary: self.summary.clone(),
        }
    }

    /// The event as `item`'s timeline shows it, with the item's state after it.
    fn timeline_entry(&self, item: &ItemState) -> TimelineEntry {
        let statement = self.statement;
        TimelineEntry {
            seq: self.seq,
            recorded_at: self.recorded_at.to_canonical(),
            occurred_at: statement.occurred_at.to_canonical(),
            kind: statement.kind.as_str().to_owned(),
            indonesian: statement.kind.indonesian().to_owned(),
            facility: statement.facility.to_string(),
            statement_id: statement.id.to_string(),
            leaf_hash: self.leaf_b64.clone(),
            signers: self.signers.clone(),
            summary: self.summary.clone(),
            uraian: None,
            seals: item.seals.clone(),
            holder: item.holder.as_ref().map(|h| h.to_string()),
            status: item.status.as_str().to_owned(),
            location: item.location.clone(),
            gross_mass_mg: item.gross_mass_mg,
            net_mass_mg: item.net_mass_mg,
            count: item.count,
            readability_mg: item
                .mass_reference
                .as_ref()
                .filter(|r| r.seq == self.seq)
                .map(|r| r.readability_mg),
            attested_by: self.attested_by.clone(),
        }
    }
}

/// The writes for one changed item: its state, its timeline entry, holdings, pending transfers,
/// facility counts and its incident.
fn item_writes(out: &mut Vec<Write>, act: &Act<'_>, change: &ItemChange) {
    let item = &change.after;
    let id = item.id.as_str().as_bytes();
    let state = encode(item);
    out.push(Write::Put {
        key: key(ITEMS, &[id]),
        value: state.clone(),
    });
    out.push(Write::Put {
        key: seq_key(TIMELINE, id, act.seq),
        value: encode(&act.timeline_entry(item)),
    });
    holdings(out, change.before.as_ref(), item, &state);
    pending(out, change, &state);
    facility_counts(out, change);
    if let Some(incident) = &item.incident {
        out.push(Write::Put {
            key: key(INCIDENT_ITEMS, &[incident.as_bytes(), id]),
            value: Vec::new(),
        });
    }
}

/// Pending transfers: put (with the item's state, `state`) while the item is in transit, deleted
/// when it arrives.
fn pending(out: &mut Vec<Write>, change: &ItemChange, state: &[u8]) {
    let item = &change.after;
    let id = item.id.as_str().as_bytes();
    match (change.before.as_ref().map(|b| b.status), item.status) {
        (_, Status::InTransit) => out.push(Write::Put {
            key: key(PENDING, &[id]),
            value: state.to_vec(),
        }),
        (Some(Status::InTransit), _) => out.push(Write::Delete {
            key: key(PENDING, &[id]),
        }),
        _ => {}
    }
}

/// Per-facility counts by status (the item's home facility): a new item, or a change of status.
fn facility_counts(out: &mut Vec<Write>, change: &ItemChange) {
    let item = &change.after;
    let fac = item.facility.as_bytes();
    match &change.before {
        None => {
            out.push(Write::Count {
                key: key(FACILITY, &[fac]),
                field: "items".into(),
                delta: 1,
            });
            out.push(Write::Count {
                key: key(FACILITY, &[fac]),
                field: item.status.as_str().into(),
                delta: 1,
            });
        }
        Some(b) if b.status != item.status => {
            out.push(Write::Count {
                key: key(FACILITY, &[fac]),
                field: b.status.as_str().into(),
                delta: -1,
            });
            out.push(Write::Count {
                key: key(FACILITY, &[fac]),
                field: item.status.as_str().into(),
                delta: 1,
            });
        }
        _ => {}
    }
}

/// The incident the statement is listed under: searches and finds under their incident number,
/// other acts under their first item's.
fn incident_of(statement: &Statement, changes: &[ItemChange]) -> Option<String> {
    match &statement.body {
        Body::SearchConducted(b) => Some(b.incident.clone()),
        Body::ContrabandFound(b) => Some(b.incident.clone()),
        _ => changes.first().and_then(|c| c.after.incident.clone()),
    }
}

/// The persons the statement names (subject, persons found, possessor, owner), by person key.
fn named_persons(statement: &Statement) -> Vec<(String, PersonView)> {
    let mut persons: Vec<(String, PersonView)> = Vec::new();
    match &statement.body {
        Body::SearchConducted(b) => {
            if let Some(p) = b.subject.person()
                && let Some(k) = p.key()
            {
                persons.push((k, p.into()));
            }
        }
        Body::ContrabandFound(b) => {
            for p in &b.persons {
                if let Some(k) = p.key() {
                    persons.push((k, p.into()));
                }
            }
        }
        Body::SeizureRecorded(b) => {
            if let Some(k) = b.possessor.key() {
                persons.push((k, (&b.possessor).into()));
            }
        }
        Body::SubjectsLinked(b) => {
            for id in [b.subject, b.same_as] {
                persons.push((id.to_string(), PersonView::Linked { subject: id }));
            }
        }
        Body::SubjectErased(b) => {
            persons.push((
                b.subject.to_string(),
                PersonView::Linked { subject: b.subject },
            ));
        }
        Body::Returned(b) => {
            if let Some(p) = &b.owner
                && let Some(k) = p.key()
            {
                persons.push((k, p.into()));
            }
        }
        _ => {}
    }
    persons
}

/// The incident view: the event, then each person named.
fn incident_writes(
    out: &mut Vec<Write>,
    incident: &str,
    seq: u64,
    event: &EventView,
    persons: &[(String, PersonView)],
) {
    out.push(Write::Put {
        key: seq_key(INCIDENT_EVENTS, incident.as_bytes(), seq),
        value: encode(event),
    });
    for (k, p) in persons {
        out.push(Write::Put {
            key: key(INCIDENT_PERSONS, &[incident.as_bytes(), k.as_bytes()]),
            value: encode(p),
        });
    }
}

/// Person view: the persons named, and every officer who signed, each once, in key order.
fn person_writes(
    out: &mut Vec<Write>,
    statement: &Statement,
    seq: u64,
    event: &EventView,
    persons: Vec<(String, PersonView)>,
) {
    let mut keys: Vec<String> = persons.into_iter().map(|(k, _)| k).collect();
    for s in &statement.signers {
        keys.push(s.officer.to_string());
    }
    keys.sort();
    keys.dedup();
    for k in keys {
        let role = statement
            .signers
            .iter()
            .find(|s| s.officer.as_str() == k)
            .map(|s| s.role.as_str().to_string());
        let e = PersonEvent {
            event: event.clone(),
            role: role.unwrap_or_else(|| "named person".into()),
        };
        out.push(Write::Put {
            key: seq_key(PERSONS, k.as_bytes(), seq),
            value: encode(&e),
        });
    }
}

/// Holdings by officer and by unit: an entry per held item under its holder and its unit, whose
/// value is the item's state (`state`, the bytes of its item entry), rewritten by every change
/// of a held item so that a holdings query reads the entries alone.
fn holdings(out: &mut Vec<Write>, before: Option<&ItemState>, after: &ItemState, state: &[u8]) {
    let id = after.id.as_str().as_bytes();
    let held = |s: &ItemState| -> Vec<Vec<u8>> {
        if s.status != Status::Held {
            return Vec::new();
        }
        let officer = s.holder.as_ref().map(|h| h.to_string()).unwrap_or_default();
        let mut keys = vec![key(HOLDER, &[officer.as_bytes(), id])];
        if let Some(u) = &s.unit {
            keys.push(key(UNIT, &[u.as_bytes(), id]));
        }
        keys
    };
    let new = held(after);
    for old in before.map(held).unwrap_or_default() {
        if !new.contains(&old) {
            out.push(Write::Delete { key: old });
        }
    }
    for k in new {
        out.push(Write::Put {
            key: k,
            value: state.to_vec(),
        });
    }
}

/// The item id at the end of a holdings or incident-items key.
pub fn trailing_item(k: &[u8]) -> Option<ItemId> {
    let pos = k.iter().rposition(|&b| b == 0)?;
    ItemId::parse(std::str::from_utf8(&k[pos + 1..]).ok()?).ok()
}

// The encoding of the view values: the one place that says how a value is laid out in sled.

/// An event as the incident (`ne`) and person (`pe`) views list it. Its JSON (field names
/// sorted, as `--json` and the API print it) is [`EventView::to_json`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventView {
    pub seq: u64,
    pub recorded_at: String,
    pub occurred_at: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub indonesian: String,
    pub facility: String,
    pub items: Vec<String>,
    pub summary: String,
}

impl EventView {
    /// The event as the queries answer it.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("an event view is plain data and always serializes")
    }
}

/// An event in a person's view (`pe`): the event and the part the person had in it (the
/// signer's role, or `named person`). Its JSON is the event's with an `as` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonEvent {
    pub event: EventView,
    pub role: String,
}

impl PersonEvent {
    /// The event as the person query answers it.
    pub fn to_json(&self) -> serde_json::Value {
        let mut json = self.event.to_json();
        json["as"] = serde_json::Value::from(self.role.clone());
        json
    }
}

/// A person named in an incident (`np`): [`Person`] with its variant as an ordinary enum tag
/// (the statement's `kind` field is an internal tag, which a format that does not describe
/// itself cannot read back). Its JSON is the person's, `kind` and all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PersonView {
    Inmate {
        sdp: String,
        name: Option<String>,
    },
    Visitor {
        nik: String,
        name: String,
    },
    ForeignNational {
        passport: String,
        nationality: String,
        name: String,
    },
    Officer {
        officer: OfficerId,
    },
    Unidentified {
        description: String,
    },
    // New variants go last: a view's bytes name its variant by position (postcard).
    Subject {
        category: SubjectKind,
        subject: SubjectId,
        commitment: Commitment,
    },
    /// A subject as a link names it: the id alone (a link carries no commitment).
    Linked {
        subject: SubjectId,
    },
}

impl From<&Person> for PersonView {
    fn from(p: &Person) -> Self {
        match p.clone() {
            Person::Subject {
                category,
                subject,
                commitment,
            } => Self::Subject {
                category,
                subject,
                commitment,
            },
            Person::Inmate { sdp, name } => Self::Inmate { sdp, name },
            Person::Visitor { nik, name } => Self::Visitor { nik, name },
            Person::ForeignNational {
                passport,
                nationality,
                name,
            } => Self::ForeignNational {
                passport,
                nationality,
                name,
            },
            Person::Officer { officer } => Self::Officer { officer },
            Person::Unidentified { description } => Self::Unidentified { description },
        }
    }
}

impl PersonView {
    /// The person as the incident query answers it (the statement's JSON of the person).
    pub fn to_json(&self) -> serde_json::Value {
        let person = match self.clone() {
            Self::Linked { subject } => {
                return serde_json::json!({"kind": "subject", "subject": subject});
            }
            Self::Subject {
                category,
                subject,
                commitment,
            } => Person::Subject {
                category,
                subject,
                commitment,
            },
            Self::Inmate { sdp, name } => Person::Inmate { sdp, name },
            Self::Visitor { nik, name } => Person::Visitor { nik, name },
            Self::ForeignNational {
                passport,
                nationality,
                name,
            } => Person::ForeignNational {
                passport,
                nationality,
                name,
            },
            Self::Officer { officer } => Person::Officer { officer },
            Self::Unidentified { description } => Person::Unidentified { description },
        };
        serde_json::to_value(person).expect("a person is plain data and always serializes")
    }
}

/// A facility's counters (`f`): `events`, `items` and one per status, by name.
pub type Counts = BTreeMap<String, i64>;

/// A view value that does not decode as the type its key holds: postcard's own words, or ours
/// for bytes left over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undecodable(Message);

crate::english_display!(Undecodable);

impl Explain for Undecodable {
    fn explain(&self) -> Message {
        self.0.clone()
    }
}

/// The bytes of a view value: postcard, serde's compact binary format (varint integers, length-
/// prefixed strings, no field names). Measured against JSON on 100,000 entries it made the views
/// smaller and the rebuild faster (BENCHMARKS.md, "View encoding"). Every value type is plain
/// data (no internally tagged or untagged enums, no skipped fields), as postcard requires.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    postcard::to_allocvec(value).expect("view values are plain data and always encode")
}

/// A view value from its bytes ([`encode`]'s inverse): the whole of `bytes`, nothing left over.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Undecodable> {
    match postcard::take_from_bytes(bytes) {
        Ok((value, [])) => Ok(value),
        Ok((_, rest)) => Err(Undecodable(
            msg("err.projection.left_over").arg("count", rest.len()),
        )),
        Err(e) => Err(Undecodable(Message::verbatim(e.to_string()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A digest (hex) of the bytes `value` is stored as in the views.
    fn stored_digest(value: &impl Serialize) -> String {
        let digest = crate::format::merkle::leaf_hash(&encode(value));
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The bytes a timeline entry is stored as belong to one views format: a field added or
    /// moved changes them, and this test then asks for `VIEWS_FORMAT` to move too (old views
    /// would not decode; a new format has them rebuilt when the ledger opens). Fix the digest
    /// only together with the format number.
    #[test]
    fn a_changed_timeline_entry_layout_changes_the_views_format() {
        let entry: TimelineEntry = serde_json::from_value(json!({
            "seq": 17, "recorded_at": "2025-08-05T03:04:00.000Z",
            "occurred_at": "2025-08-05T03:00:00.000Z", "type": "weighed",
            "indonesian": "penimbangan", "facility": "LPN-JAKARTA",
            "statement_id": "0198782f-9100-76be-9f17-1e3ec9dc7d79", "leaf_hash": "AA==",
            "signers": [{"role": "weigher", "officer": "85071234", "name": "Rudi",
                         "unit": "Sat", "officer_roles": ["investigator"]}],
            "summary": "weighed", "uraian": null, "seals": ["SEG-1"], "holder": "85071234",
            "status": "held", "location": null, "gross_mass_mg": 12840, "net_mass_mg": 11200,
            "count": 14, "readability_mg": 1, "attested_by": null
        }))
        .expect("a timeline entry");
        assert_eq!(
            (VIEWS_FORMAT, stored_digest(&entry).as_str()),
            (
                8,
                "b276197e3f9dea9ed0a89261210c7577507e73db8244318cbedce6609c34d6bf"
            ),
            "the stored layout of a timeline entry changed: bump VIEWS_FORMAT"
        );
    }

    /// The same pin for an item's state, which every item view stores.
    #[test]
    fn a_changed_item_state_layout_changes_the_views_format() {
        let item: crate::domain::custody::ItemState = serde_json::from_value(json!({
            "born_as": "contraband_found", "born_at": "2025-08-04T02:15:00.000Z", "born_seq": 12,
            "case": "LP/B/412", "category": "narcotic", "children": ["BB-1-S1"],
            "corrections": [], "count": 12, "description": "sachets",
            "destroyed_mass_mg": null, "events": 12, "facility": "LPN-JAKARTA",
            "gross_mass_mg": 12420, "head": "AA==", "holder": "85071234", "id": "BB-1",
            "incident": "INS-1", "lab": null, "last_seq": 27, "location": "Ruang",
            "mass_reference": {"net_mass_mg": 10790, "readability_mg": 1, "seq": 26},
            "net_mass_mg": 10790, "notified_seq": 20,
            "order": {"order_number": "PRINT-1", "retained_mass_mg": null, "seq": 25,
                      "status": "destroy"},
            "parent": null, "persons": ["subj-1"], "sealed_seq": 19, "seals": ["SEG-1"],
            "status": "held", "transfer": null, "unit": "Sat", "weighed_seq": 26
        }))
        .expect("an item state");
        assert_eq!(
            (VIEWS_FORMAT, stored_digest(&item).as_str()),
            (
                8,
                "3303cc97b665c4fbc9e1841e4d0181ac30451720e195c5e854ec8abe7b809449"
            ),
            "the stored layout of an item state changed: bump VIEWS_FORMAT"
        );
    }

    /// A named person's view answers exactly the statement's JSON of that person, for every
    /// kind of person, and comes back from its bytes unchanged.
    #[test]
    fn a_persons_view_answers_the_persons_json_for_every_kind() {
        let persons = [
            json!({"kind": "inmate", "sdp": "SDP-1", "name": null}),
            json!({"kind": "inmate", "sdp": "SDP-2", "name": "A"}),
            json!({"kind": "visitor", "nik": "3174055708900003", "name": "B"}),
            json!({"kind": "foreign_national", "passport": "X1", "nationality": "MY", "name": "C"}),
            json!({"kind": "officer", "officer": "85071234"}),
            json!({"kind": "unidentified", "description": "a man in a red shirt"}),
            json!({"kind": "subject", "category": "visitor",
                   "subject": format!("subj-{}", "ab".repeat(16)),
                   "commitment": "cd".repeat(32)}),
        ];
        for p in persons {
            let person: Person = serde_json::from_value(p.clone()).expect("a person");
            let view = PersonView::from(&person);
            assert_eq!(view.to_json(), p);
            assert_eq!(decode::<PersonView>(&encode(&view)), Ok(view));
        }
    }

    /// A person's event answers the event's JSON with `as` added; counters come back as counted.
    #[test]
    fn events_and_counters_come_back_from_their_bytes() {
        let event = EventView {
            seq: 7,
            recorded_at: "2025-08-05T01:30:00.000Z".into(),
            occurred_at: "2025-08-05T01:29:00.000Z".into(),
            kind: "search_conducted".into(),
            indonesian: "penggeledahan".into(),
            facility: "LPN".into(),
            items: vec!["BB-1".into()],
            summary: "s".into(),
        };
        let e = PersonEvent {
            event: event.clone(),
            role: "named person".into(),
        };
        let mut expected = event.to_json();
        expected["as"] = json!("named person");
        assert_eq!(e.to_json(), expected);
        assert_eq!(expected["type"], json!("search_conducted"));
        assert_eq!(decode::<PersonEvent>(&encode(&e)), Ok(e));
        let counts = Counts::from([("events".to_owned(), 3), ("held".to_owned(), -1)]);
        assert_eq!(decode::<Counts>(&encode(&counts)), Ok(counts));
    }

    /// Bytes that are not one whole value of the type are refused, not half read: trailing
    /// bytes, a truncated value, and the JSON of the formats before 3.
    #[test]
    fn decode_refuses_what_is_not_exactly_one_value() {
        let counts = Counts::from([("events".to_owned(), 3)]);
        let mut bytes = encode(&counts);
        bytes.push(0);
        assert!(decode::<Counts>(&bytes).is_err());
        bytes.truncate(bytes.len() - 2);
        assert!(decode::<Counts>(&bytes).is_err());
        assert!(decode::<Counts>(br#"{"events":3}"#).is_err());
    }
}
