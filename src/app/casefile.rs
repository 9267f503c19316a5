//! Case files: the verified events of one scope — an item's lot (the item, its parent and its
//! samples), an incident, or the whole log — gathered for the audit (and, later, for evidence
//! bundles). Reads the log and the projections; never writes.

use crate::app::ledger::Ledger;
use crate::app::queries;
use crate::base::ids::ItemId;
use crate::base::time::Timestamp;
use crate::base::words::{Explain, Lang, Message, msg, says};
use crate::domain::audit::{self, AuditEvent, Finding, Thresholds};
use crate::format::leaf::Leaf;
use crate::format::merkle;
use crate::format::statement::Statement;
use crate::storage::store::StoreError;
use std::collections::BTreeSet;

/// What to audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Item(ItemId),
    Incident(String),
    All,
}

#[derive(Debug)]
pub enum CaseError {
    NoItem(ItemId),
    NoIncident(String),
    Storage(StoreError),
    Corrupt { seq: u64, reason: Message },
}

impl From<StoreError> for CaseError {
    fn from(e: StoreError) -> Self {
        Self::Storage(e)
    }
}

crate::english_display!(CaseError);

impl Explain for CaseError {
    fn explain(&self) -> Message {
        match self {
            Self::NoItem(item) => msg("err.case.no_item").arg("item", item),
            Self::NoIncident(incident) => msg("err.case.no_incident").arg("incident", incident),
            Self::Storage(e) => e.explain(),
            Self::Corrupt { seq, reason } => msg("err.case.corrupt")
                .arg("seq", seq)
                .part("reason", reason.clone()),
        }
    }
}

/// An audit's result: what was examined and what was found.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct AuditReport {
    /// What was examined, in English; `scope_indonesian` says it in Indonesian (absent from a
    /// server that predates it).
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope_indonesian: Option<String>,
    pub as_of: Timestamp,
    pub clocks_version: String,
    pub items: Vec<ItemId>,
    pub events: usize,
    pub log_verified: Option<bool>,
    pub findings: Vec<Finding>,
    /// The statutory clocks still running at `as_of`, soonest due first (`audit::deadlines`).
    #[serde(default)]
    pub deadlines: Vec<audit::Deadline>,
}

fn event(ledger: &Ledger, seq: u64) -> Result<AuditEvent, CaseError> {
    let bytes = ledger.leaf(seq)?.ok_or_else(|| CaseError::Corrupt {
        seq,
        reason: msg("err.case.leaf_missing"),
    })?;
    let leaf = Leaf::decode(&bytes).map_err(|e| CaseError::Corrupt {
        seq,
        reason: e.explain(),
    })?;
    let statement = Statement::parse(leaf.envelope.payload()).map_err(|e| CaseError::Corrupt {
        seq,
        reason: e.explain(),
    })?;
    Ok(AuditEvent {
        seq,
        recorded_at: statement.recorded_at_or(leaf.recorded_at),
        leaf_hash: merkle::leaf_hash(&bytes),
        statement,
    })
}

/// An item's lot: its root ancestor and every sample below it.
pub fn lot(ledger: &Ledger, item: &ItemId) -> Result<Vec<ItemId>, CaseError> {
    let store = ledger.store();
    let mut root = queries::item(store, item)?.ok_or_else(|| CaseError::NoItem(item.clone()))?;
    while let Some(p) = root.parent.clone() {
        root = queries::item(store, &p)?.ok_or_else(|| CaseError::NoItem(p.clone()))?;
    }
    let mut out = Vec::new();
    let mut todo = vec![root.id.clone()];
    while let Some(id) = todo.pop() {
        let s = queries::item(store, &id)?.ok_or_else(|| CaseError::NoItem(id.clone()))?;
        todo.extend(s.children.iter().cloned());
        out.push(id);
    }
    out.sort();
    Ok(out)
}

/// Those of `items` with an event among the first `size` leaves (an item of the lot made later,
/// such as a sample taken after, did not exist then).
pub fn items_recorded_before(
    ledger: &Ledger,
    items: &[ItemId],
    size: u64,
) -> Result<Vec<ItemId>, CaseError> {
    let mut out = Vec::with_capacity(items.len());
    for i in items {
        if queries::history(ledger.store(), i)?
            .first()
            .is_some_and(|e| e.seq < size)
        {
            out.push(i.clone());
        }
    }
    Ok(out)
}

/// The seqs of every event on these items, ascending.
fn item_seqs(ledger: &Ledger, items: &[ItemId]) -> Result<BTreeSet<u64>, CaseError> {
    let mut seqs = BTreeSet::new();
    for i in items {
        for e in queries::history(ledger.store(), i)? {
            seqs.insert(e.seq);
        }
    }
    Ok(seqs)
}

/// The events of a scope, in log order (identity statements left out), with what it covers.
pub struct Gathered {
    pub label: Message,
    pub items: Vec<ItemId>,
    pub events: Vec<AuditEvent>,
    /// For the whole log: whether it verified (and why not).
    pub verified: Option<Result<(), Message>>,
}

/// Gathers the scope's verified events.
pub fn gather(
    ledger: &Ledger,
    scope: &Scope,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Gathered, CaseError> {
    let (label, items, seqs, verified) = match scope {
        Scope::Item(id) => {
            let items = lot(ledger, id)?;
            let seqs = item_seqs(ledger, &items)?;
            (msg("audit.scope.item").arg("item", id), items, seqs, None)
        }
        Scope::Incident(id) => {
            let view = queries::incident(ledger.store(), id)?;
            if view.events.is_empty() && view.items.is_empty() {
                return Err(CaseError::NoIncident(id.clone()));
            }
            let mut items = BTreeSet::new();
            for s in &view.items {
                items.extend(lot(ledger, &s.id)?);
            }
            let items: Vec<ItemId> = items.into_iter().collect();
            let mut seqs = item_seqs(ledger, &items)?;
            seqs.extend(view.events.iter().filter_map(|e| e["seq"].as_u64()));
            (
                msg("audit.scope.incident").arg("incident", id),
                items,
                seqs,
                None,
            )
        }
        Scope::All => {
            // The whole log is verified first: a broken log is the first anomaly (class 1).
            let cp = ledger.checkpoint();
            let ok = crate::app::verify::verify_log(
                ledger.store(),
                cp.note.as_bytes(),
                ledger.verifier_key(),
                &mut |_, _| {},
            );
            let size = cp.size;
            let items = queries::items(ledger.store(), None, None)?
                .into_iter()
                .map(|s| s.id)
                .collect();
            (
                msg("audit.scope.all").arg("entries", size),
                items,
                (0..size).collect(),
                Some(ok.map(|_| ()).map_err(|e| e.explain())),
            )
        }
    };
    let total = seqs.len() as u64;
    let mut events = Vec::with_capacity(seqs.len());
    for (n, seq) in seqs.into_iter().enumerate() {
        let e = event(ledger, seq)?;
        if !e.statement.kind.is_identity() {
            events.push(e);
        }
        if n % 4096 == 0 {
            progress(n as u64, total);
        }
    }
    progress(total, total);
    Ok(Gathered {
        label,
        items,
        events,
        verified,
    })
}

/// Gathers the scope's events and audits them as of `as_of`.
pub fn audit(
    ledger: &Ledger,
    scope: &Scope,
    as_of: Timestamp,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<AuditReport, CaseError> {
    let Gathered {
        label,
        items,
        events,
        verified,
    } = gather(ledger, scope, progress)?;
    let identity = ledger.state();
    let mut findings = audit::audit(&events, &identity, as_of, audit::THRESHOLDS);
    let deadlines = audit::deadlines(&events, &identity, as_of);
    let log_verified = match verified {
        None => None,
        Some(Ok(_)) => Some(true),
        Some(Err(reason)) => {
            findings.insert(
                0,
                Finding {
                    class: 1,
                    name: "broken_log".into(),
                    name_id: audit::class_indonesian(1).into(),
                    severity: audit::Severity::Critical,
                    item: None,
                    seqs: Vec::new(),
                    english: says(
                        Lang::English,
                        "audit.broken_log",
                        &[("reason", &reason.english())],
                    ),
                    indonesian: says(
                        Lang::Indonesian,
                        "audit.broken_log",
                        &[("reason", &reason.indonesian())],
                    ),
                    detail: None,
                },
            );
            Some(false)
        }
    };
    Ok(AuditReport {
        scope: label.english(),
        scope_indonesian: Some(label.indonesian()),
        as_of,
        clocks_version: crate::domain::clocks::CLOCKS_VERSION.to_owned(),
        items,
        events: events.len(),
        log_verified,
        findings,
        deadlines,
    })
}

/// Thresholds in force, for display.
pub fn thresholds() -> Thresholds {
    audit::THRESHOLDS
}

impl crate::base::class::Classify for CaseError {
    fn class(&self) -> crate::base::class::Class {
        use crate::base::class::Class;
        match self {
            Self::NoItem(_) | Self::NoIncident(_) => Class::NotFound,
            Self::Storage(_) | Self::Corrupt { .. } => Class::Corrupt,
        }
    }
}
