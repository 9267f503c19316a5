//! The read side as one interface: every investigator query, the audit of an item and its
//! evidence bundle, answered with typed values whose JSON is the CLI's `--json` and the HTTP API's
//! body alike. `Reads` is implemented here for an open ledger and in `client` for a remote server,
//! so the CLI renders both the same way. Never writes, never renders, never decides who may read.

use crate::app::bundle::{Bundle, Cut};
use crate::app::casefile::{self, AuditReport, CaseError, Scope};
use crate::app::ledger::Ledger;
use crate::app::names::Names;
use crate::app::queries::{self, Incident, Pending};
use crate::base::class::{Class, Classify, Reported};
use crate::base::ids::{ItemId, OfficerId};
use crate::base::time::Timestamp;
use crate::base::words::{Explain, Message, msg};
use crate::domain::audit::Severity;
use crate::domain::custody::{ItemState, Status};
use crate::domain::projection::TimelineEntry;
use crate::storage::store::StoreError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Why a read could not be answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    NotFound(Message),
    BadRequest {
        field: String,
        message: Message,
    },
    Refused(Message),
    Unavailable(Message),
    Storage(Message),
    /// A server answered with a refusal of this class (the remote `Reads`).
    Reported(Reported),
}

impl ReadError {
    /// The one answer for an item that is not on record, and for one the requester may not read:
    /// the two must not be told apart (docs/FORMAT.md §13b.2).
    pub fn no_item(id: &ItemId) -> Self {
        Self::NotFound(msg("err.read.no_item").arg("item", id))
    }

    /// The one answer for an incident not on record or not readable.
    pub fn no_incident(id: &str) -> Self {
        Self::NotFound(msg("err.read.no_incident").arg("incident", crate::base::class::echo(id)))
    }

    /// The one answer for a person no event involves, or none the requester may read.
    pub fn no_person(id: &str) -> Self {
        Self::NotFound(msg("err.read.no_person").quoted("person", crate::base::class::echo(id)))
    }
}

crate::english_display!(ReadError);

impl Explain for ReadError {
    fn explain(&self) -> Message {
        match self {
            Self::NotFound(m) | Self::Refused(m) | Self::Unavailable(m) | Self::Storage(m) => {
                m.clone()
            }
            Self::BadRequest { field, message } => msg("err.read.bad_request")
                .arg("field", field)
                .part("message", message.clone()),
            Self::Reported(r) => r.explain(),
        }
    }
}

impl Classify for ReadError {
    fn class(&self) -> Class {
        match self {
            Self::NotFound(_) => Class::NotFound,
            Self::BadRequest { .. } => Class::Usage,
            Self::Refused(_) => Class::Forbidden,
            Self::Unavailable(_) => Class::Unavailable,
            Self::Storage(_) => Class::Corrupt,
            Self::Reported(r) => r.class,
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            Self::BadRequest { field, .. } => Some(field.clone()),
            Self::Reported(r) => r.field.clone(),
            _ => None,
        }
    }
}

impl From<StoreError> for ReadError {
    fn from(e: StoreError) -> Self {
        Self::Storage(e.explain())
    }
}

impl From<crate::app::ledger::ProofRequestError> for ReadError {
    fn from(e: crate::app::ledger::ProofRequestError) -> Self {
        Self::Reported(Reported::of(&e))
    }
}

impl From<CaseError> for ReadError {
    fn from(e: CaseError) -> Self {
        match e {
            CaseError::NoItem(_) | CaseError::NoIncident(_) => Self::NotFound(e.explain()),
            other => Self::Storage(other.explain()),
        }
    }
}

/// An item and every event of it, in log order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct History {
    pub item: ItemState,
    pub events: Vec<TimelineEntry>,
}

/// Every event involving one person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonEvents {
    pub person: String,
    pub events: Vec<Value>,
}

/// Whose holdings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    Officer(OfficerId),
    Unit(String),
}

/// An enrolled officer as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficerView {
    pub id: String,
    pub name: String,
    pub agency: String,
    pub unit: String,
    /// The facility of the enrollment: the officer's home, which scopes their reads.
    pub facility: String,
    pub roles: Vec<String>,
    pub enrolled_at: u64,
    pub revoked_at: Option<u64>,
    pub keys: Vec<KeyView>,
    /// Rank or grade (*pangkat / golongan*), when recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<String>,
}

/// One key of an officer and the seqs in which it may sign: `(from_seq, until_seq]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyView {
    pub key_id: String,
    pub public_key: String,
    pub from_seq: u64,
    pub until_seq: Option<u64>,
}

/// The investigator's queries, whichever side answers them.
pub trait Reads {
    fn items(
        &self,
        status: Option<Status>,
        facility: Option<&str>,
    ) -> Result<Vec<ItemState>, ReadError>;
    fn item(&self, id: &ItemId) -> Result<ItemState, ReadError>;
    fn history(&self, id: &ItemId) -> Result<History, ReadError>;
    fn holdings(&self, who: &Holder) -> Result<Vec<ItemState>, ReadError>;
    fn pending(&self) -> Result<Vec<Pending>, ReadError>;
    fn incident(&self, id: &str) -> Result<Incident, ReadError>;
    fn person(&self, id: &str) -> Result<PersonEvents, ReadError>;
    fn facilities(&self) -> Result<BTreeMap<String, Value>, ReadError>;
    fn officers(&self) -> Result<Vec<OfficerView>, ReadError>;
    /// The audit of a scope (an item's lot, an incident, or the whole log), judged at `as_of`.
    fn audit(&self, scope: &Scope, as_of: Timestamp) -> Result<AuditReport, ReadError>;
    /// The evidence bundle of an item or of a whole case, as the exact bytes a prosecutor
    /// verifies: against the latest checkpoint, or that of the first `size` leaves (the same
    /// bytes whenever made).
    fn bundle(&self, cut: &Cut, size: Option<u64>) -> Result<Vec<u8>, ReadError>;

    /// The names of the officers this side lets the asker see (`officers`): how an answer shows
    /// its officers. Read once per command.
    fn names(&self) -> Result<Names, ReadError> {
        Ok(roster_names(&self.officers()?))
    }
}

/// The names of a roster's officers, by id.
pub fn roster_names(roster: &[OfficerView]) -> Names {
    Names::of(roster.iter().map(|o| (o.id.as_str(), o.name.as_str())))
}

/// The bytes of a bundle file: pretty JSON, so that the SHA-256 printed on a report is the digest
/// of the file on disk whichever way it was fetched.
pub fn bundle_bytes(bundle: &Bundle) -> Vec<u8> {
    serde_json::to_vec_pretty(bundle).expect("a bundle serializes")
}

impl Reads for Ledger {
    fn items(
        &self,
        status: Option<Status>,
        facility: Option<&str>,
    ) -> Result<Vec<ItemState>, ReadError> {
        Ok(queries::items(self.store(), status, facility)?)
    }

    fn item(&self, id: &ItemId) -> Result<ItemState, ReadError> {
        queries::item(self.store(), id)?.ok_or_else(|| ReadError::no_item(id))
    }

    fn history(&self, id: &ItemId) -> Result<History, ReadError> {
        let item = self.item(id)?;
        let events = queries::history(self.store(), id)?;
        Ok(History { item, events })
    }

    fn holdings(&self, who: &Holder) -> Result<Vec<ItemState>, ReadError> {
        Ok(match who {
            Holder::Officer(o) => queries::holdings_of_officer(self.store(), o)?,
            Holder::Unit(u) => queries::holdings_of_unit(self.store(), u)?,
        })
    }

    fn pending(&self) -> Result<Vec<Pending>, ReadError> {
        Ok(queries::pending(self.store())?)
    }

    fn incident(&self, id: &str) -> Result<Incident, ReadError> {
        let view = queries::incident(self.store(), id)?;
        if view.events.is_empty() && view.items.is_empty() {
            return Err(ReadError::no_incident(id));
        }
        Ok(view)
    }

    fn person(&self, id: &str) -> Result<PersonEvents, ReadError> {
        let events = queries::person(self.store(), id)?;
        if events.is_empty() {
            return Err(ReadError::no_person(id));
        }
        Ok(PersonEvents {
            person: id.to_owned(),
            events,
        })
    }

    fn facilities(&self) -> Result<BTreeMap<String, Value>, ReadError> {
        let mut out: BTreeMap<String, Value> =
            queries::facilities(self.store())?.into_iter().collect();
        // The register of places beside the counts: a facility registered before any act there
        // is listed too.
        for (record, seq) in self.state().facilities() {
            let entry = out
                .entry(record.code.to_string())
                .or_insert_with(|| Value::Object(Default::default()));
            if let (Value::Object(map), Ok(Value::Object(reg))) =
                (entry, serde_json::to_value(record))
            {
                map.extend(reg.into_iter().filter(|(k, _)| k != "code"));
                map.insert("registered_at".into(), Value::from(*seq));
            }
        }
        Ok(out)
    }

    fn officers(&self) -> Result<Vec<OfficerView>, ReadError> {
        Ok(self
            .state()
            .officers()
            .map(|o| OfficerView {
                id: o.record.id.to_string(),
                name: o.record.name.clone(),
                agency: o.record.agency.clone(),
                unit: o.record.unit.clone(),
                facility: o.facility.to_string(),
                roles: o
                    .record
                    .roles
                    .iter()
                    .map(|r| r.as_str().to_owned())
                    .collect(),
                enrolled_at: o.enrolled_at,
                revoked_at: o.revoked_at,
                rank: o.record.rank.clone(),
                keys: o
                    .keys
                    .iter()
                    .map(|k| KeyView {
                        key_id: k.keyid.clone(),
                        public_key: k.key.to_base64(),
                        from_seq: k.from_seq,
                        until_seq: k.until_seq,
                    })
                    .collect(),
            })
            .collect())
    }

    fn audit(&self, scope: &Scope, as_of: Timestamp) -> Result<AuditReport, ReadError> {
        Ok(casefile::audit(self, scope, as_of, &mut |_, _| {})?)
    }

    fn bundle(&self, cut: &Cut, size: Option<u64>) -> Result<Vec<u8>, ReadError> {
        match cut {
            Cut::Item(id) => {
                self.item(id)?;
            }
            Cut::Incident(id) => {
                self.incident(id)?;
            }
        }
        let bundle = crate::app::bundle::export(self, cut, size).map_err(|e| match e {
            crate::app::bundle::BundleError::Size(message) => ReadError::BadRequest {
                field: "checkpoint".into(),
                message,
            },
            other => ReadError::Storage(other.explain()),
        })?;
        Ok(bundle_bytes(&bundle))
    }
}

/// The statutory clocks running at `as_of` for `items` (each audited with its lot), soonest due
/// first, each once: what the deadlines page and `custody deadlines` show. Whoever calls it has
/// already chosen the items the asker may read; clocks of any other item of a lot are left out.
pub fn deadlines(
    reads: &dyn Reads,
    items: &[ItemId],
    as_of: Timestamp,
) -> Result<Vec<crate::domain::audit::Deadline>, ReadError> {
    let wanted: std::collections::BTreeSet<&ItemId> = items.iter().collect();
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for id in items {
        for d in reads.audit(&Scope::Item(id.clone()), as_of)?.deadlines {
            if wanted.contains(&d.item) && seen.insert((d.item.clone(), d.clock.clone())) {
                out.push(d);
            }
        }
    }
    out.sort_by(|a, b| {
        a.due_at
            .unix_ms()
            .cmp(&b.due_at.unix_ms())
            .then(a.item.cmp(&b.item))
    });
    Ok(out)
}

/// The worst severity in a report, for `--fail-on`.
pub fn worst(report: &AuditReport) -> Option<Severity> {
    report.findings.iter().map(|f| f.severity).max()
}
