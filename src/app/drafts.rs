//! Drafts: partially signed DSSE envelopes that the officers named in a statement co-sign, one
//! device at a time, before one of them submits it (docs/FORMAT.md §13b.4). Owns what a draft may
//! take (a signature by the current key of an enrolled, unrevoked officer the statement names, over
//! PAE of the very payload stored), what the draft view says (who signed, who declined, who is
//! missing, which `after` heads are stale) and the draft files in `private/drafts/` (one per
//! statement id, replaced crash-safely). A draft is exactly the envelope `custody sign` adds to,
//! so the command line and a browser co-sign the same bytes.
//!
//! Never writes the log: submitting goes through `log::Writes::submit`, the one write path, and a
//! draft is only deleted after the ledger answered with a receipt. Never speaks HTTP and never
//! decides who may read custody data (the server's signed-read check comes first).

use crate::app::ledger::Ledger;
use crate::app::log::Writes;
use crate::app::queries;
use crate::base::class::{Class, Classify, Reported};
use crate::base::ids::{OfficerId, StatementId};
use crate::base::limits::ENVELOPE_BYTES_MAX;
use crate::base::time::Timestamp;
use crate::base::words::{Explain, Message, msg};
use crate::domain::rules::State;
use crate::format::envelope::{Envelope, EnvelopeError, EnvelopeSignature};
use crate::format::statement::Statement;
use crate::keys::signing::Signature;
use crate::storage::fault::StoreError;
use crate::storage::recovery::replace_file;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Where drafts live in a ledger folder: under `private/`, never copied by mirrors; a draft is
/// not evidence until it is recorded.
pub const DRAFTS_DIR: &str = "private/drafts";
/// Drafts waiting at once on one ledger: a large facility's day of acts waiting for a second
/// signer, with room to spare; beyond it a new draft is refused (503) rather than letting an
/// unauthenticated sender fill the disk. Each is at most `DRAFT_FILE_BYTES_MAX`, so the folder
/// stays under 256 MiB.
pub const DRAFTS_MAX: usize = 1024;
/// A draft's envelope may be no larger than the envelope the ledger accepts: a draft that could
/// not be submitted is worth nothing.
pub const DRAFT_BYTES_MAX: usize = ENVELOPE_BYTES_MAX;
/// A reason for declining to sign, in characters: a sentence or two for the other signers, as
/// long as a statement's short free-text fields.
pub const DECLINE_REASON_CHARS_MAX: usize = 500;
/// A draft file: its envelope and at most one decline per named signer (a statement names at most
/// a few dozen). Four envelopes' worth holds both; a larger file is not one this module wrote.
pub const DRAFT_FILE_BYTES_MAX: usize = 4 * DRAFT_BYTES_MAX;

/// Why a draft request was refused. Every message names the field and the rule, in Indonesian and
/// English.
#[derive(Debug)]
pub enum DraftError {
    Envelope(EnvelopeError),
    Statement(crate::format::statement::StatementError),
    Unsigned,
    SignerNotEnrolled {
        officer: OfficerId,
        role: String,
    },
    NotASigner {
        field: String,
        keyid: String,
    },
    BadSignature {
        field: String,
        keyid: String,
    },
    Recorded(StatementId),
    OtherPayload(StatementId),
    NoDraft(String),
    Full,
    NotNamed(OfficerId),
    Reason,
    AlreadySigned(OfficerId),
    /// The signers still to sign, as `officer (role)`, comma-separated.
    Incomplete(String),
    /// What moved since the draft was made.
    Stale(Message),
    /// Why a draft file or the drafts folder could not be read or written.
    Storage(Message),
    /// The statement would be refused by the item rules if it were recorded now: told to the
    /// officer who makes the draft, at the field the rule names, before anyone else signs.
    Rule(crate::domain::rules::RuleError),
    Ledger(Reported),
}

crate::english_display!(DraftError);

impl Explain for DraftError {
    fn explain(&self) -> Message {
        match self {
            Self::Envelope(e) => e.explain(),
            Self::Statement(e) => msg("err.draft.statement").part("reason", e.explain()),
            Self::Unsigned => msg("err.draft.unsigned"),
            Self::SignerNotEnrolled { officer, role } => msg("err.draft.signer_not_enrolled")
                .arg("officer", officer)
                .arg("role", role),
            Self::NotASigner { field, keyid } => msg("err.draft.not_a_signer")
                .arg("field", field)
                .arg("keyid", keyid),
            Self::BadSignature { field, keyid } => msg("err.draft.bad_signature")
                .arg("field", field)
                .arg("keyid", keyid),
            Self::Recorded(id) => msg("err.draft.recorded").arg("id", id),
            Self::OtherPayload(id) => msg("err.draft.other_payload").arg("id", id),
            Self::NoDraft(id) => msg("err.draft.no_draft").arg("id", id),
            Self::Full => msg("err.draft.full").arg("max", DRAFTS_MAX),
            Self::NotNamed(officer) => msg("err.draft.not_named").arg("officer", officer),
            Self::Reason => msg("err.draft.reason").arg("max", DECLINE_REASON_CHARS_MAX),
            Self::AlreadySigned(officer) => msg("err.draft.already_signed").arg("officer", officer),
            Self::Incomplete(who) => msg("err.draft.incomplete").arg("who", who),
            Self::Stale(why) => msg("err.draft.stale").part("reason", why.clone()),
            Self::Storage(why) => msg("err.draft.storage").part("reason", why.clone()),
            Self::Rule(e) => e.explain(),
            Self::Ledger(r) => r.explain(),
        }
    }
}

impl From<EnvelopeError> for DraftError {
    fn from(e: EnvelopeError) -> Self {
        Self::Envelope(e)
    }
}

impl From<crate::format::statement::StatementError> for DraftError {
    fn from(e: crate::format::statement::StatementError) -> Self {
        Self::Statement(e)
    }
}

impl From<crate::domain::rules::RuleError> for DraftError {
    fn from(e: crate::domain::rules::RuleError) -> Self {
        Self::Rule(e)
    }
}

impl Classify for DraftError {
    fn class(&self) -> Class {
        match self {
            Self::Envelope(e) => e.class(),
            Self::Statement(e) => e.class(),
            Self::Unsigned | Self::Reason => Class::Invalid,
            Self::SignerNotEnrolled { .. } | Self::BadSignature { .. } => Class::Refused,
            Self::NotASigner { .. } | Self::NotNamed(_) => Class::Forbidden,
            Self::Recorded(_)
            | Self::OtherPayload(_)
            | Self::AlreadySigned(_)
            | Self::Incomplete(_)
            | Self::Stale(_) => Class::Conflict,
            Self::NoDraft(_) => Class::NotFound,
            Self::Full => Class::Unavailable,
            Self::Storage(_) => Class::Corrupt,
            Self::Rule(e) => e.class(),
            Self::Ledger(r) => r.class(),
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            Self::Envelope(e) => e.field(),
            Self::Statement(e) => e.field_path().map(|p| format!("payload{p}")),
            Self::Unsigned | Self::Incomplete(_) => Some("signatures".into()),
            Self::SignerNotEnrolled { .. } => Some("signers".into()),
            Self::NotASigner { field, .. } | Self::BadSignature { field, .. } => {
                Some(field.clone())
            }
            Self::Recorded(_) | Self::NoDraft(_) => Some("id".into()),
            Self::OtherPayload(_) => Some("payload".into()),
            Self::NotNamed(_) | Self::AlreadySigned(_) => Some("signer".into()),
            Self::Reason => Some("reason".into()),
            Self::Stale(_) => Some("after".into()),
            Self::Full => Some("drafts".into()),
            Self::Storage(_) => None,
            Self::Rule(e) => e.field(),
            Self::Ledger(r) => r.field(),
        }
    }
}

impl From<StoreError> for DraftError {
    fn from(e: StoreError) -> Self {
        Self::Storage(e.explain())
    }
}

/// A signer's refusal to sign, kept with the draft so the others see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Declined {
    pub reason: String,
    pub at: String,
}

/// A draft file: the envelope as collected so far and the declines by officer.
#[derive(Debug, Serialize, Deserialize)]
struct DraftFile {
    envelope: Value,
    #[serde(default)]
    declined: BTreeMap<String, Declined>,
}

/// A draft in memory: its envelope, its parsed statement and its declines.
#[derive(Debug, Clone)]
pub struct Draft {
    pub envelope: Envelope,
    pub statement: Statement,
    pub declined: BTreeMap<String, Declined>,
}

/// One named signer as the view shows them.
#[derive(Debug, Clone, Serialize)]
pub struct SignerView {
    pub role: String,
    pub officer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub signed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declined: Option<Declined>,
}

/// A signer still to sign.
#[derive(Debug, Clone, Serialize)]
pub struct Missing {
    pub role: String,
    pub officer: String,
}

/// An item whose head moved since the draft was made: `expected` is the draft's `after` (null:
/// a new item), `current` the item's latest leaf hash (null: not on record).
#[derive(Debug, Clone, Serialize)]
pub struct Stale {
    pub item: String,
    pub expected: Option<String>,
    pub current: Option<String>,
}

/// What every draft route answers (docs/FORMAT.md §13b.4).
#[derive(Debug, Clone, Serialize)]
pub struct DraftView {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub envelope: Value,
    pub statement: Value,
    pub signers: Vec<SignerView>,
    pub missing: Vec<Missing>,
    pub stale: Vec<Stale>,
    pub complete: bool,
}

/// The keyid of the current key of `officer`, if enrolled, unrevoked and keyed.
fn current_keyid(state: &State, officer: &OfficerId) -> Option<String> {
    state
        .officer(officer)
        .and_then(|o| o.current_key())
        .map(|k| k.keyid.clone())
}

/// Decides that every named signer could sign now (enrolled, not revoked): a draft that names
/// anyone else could never be recorded.
fn check_signers(state: &State, statement: &Statement) -> Result<(), DraftError> {
    for s in &statement.signers {
        if current_keyid(state, &s.officer).is_none() {
            return Err(DraftError::SignerNotEnrolled {
                officer: s.officer.clone(),
                role: s.role.as_str().to_owned(),
            });
        }
    }
    Ok(())
}

/// Decides that `sig` (named `field` in the refusals) is by the current key of an officer named
/// in `statement`'s signers and verifies over PAE of `envelope`'s payload; returns that officer.
fn check_signature(
    state: &State,
    statement: &Statement,
    envelope: &Envelope,
    sig: &EnvelopeSignature,
    field: &str,
) -> Result<OfficerId, DraftError> {
    let officer = statement
        .signers
        .iter()
        .map(|s| &s.officer)
        .find(|o| current_keyid(state, o).as_deref() == Some(sig.keyid.as_str()))
        .ok_or_else(|| DraftError::NotASigner {
            field: format!("{field}.keyid"),
            keyid: sig.keyid.clone(),
        })?;
    let key = state
        .officer(officer)
        .and_then(|o| o.current_key())
        .map(|k| k.key)
        .ok_or_else(|| DraftError::NotASigner {
            field: format!("{field}.keyid"),
            keyid: sig.keyid.clone(),
        })?;
    key.verify_strict(&envelope.signed_bytes(), &sig.sig)
        .map_err(|_| DraftError::BadSignature {
            field: format!("{field}.sig"),
            keyid: sig.keyid.clone(),
        })?;
    Ok(officer.clone())
}

/// Whether the statement id is in the log already.
fn recorded(ledger: &Ledger, id: &StatementId) -> Result<bool, DraftError> {
    Ok(ledger.store().statement_id(id.as_bytes())?.is_some())
}

/// The view of `draft` against the ledger now: who signed (with their current key), who declined,
/// who is missing, which heads moved.
pub fn view(ledger: &Ledger, draft: &Draft) -> Result<DraftView, DraftError> {
    let state = ledger.state();
    let signers: Vec<SignerView> = draft
        .statement
        .signers
        .iter()
        .map(|s| {
            let officer = state.officer(&s.officer);
            let signed = current_keyid(&state, &s.officer)
                .is_some_and(|k| draft.envelope.signatures().iter().any(|x| x.keyid == k));
            SignerView {
                role: s.role.as_str().to_owned(),
                officer: s.officer.to_string(),
                name: officer.map(|o| o.record.name.clone()),
                signed,
                declined: draft.declined.get(s.officer.as_str()).cloned(),
            }
        })
        .collect();
    let missing: Vec<Missing> = signers
        .iter()
        .filter(|s| !s.signed)
        .map(|s| Missing {
            role: s.role.clone(),
            officer: s.officer.clone(),
        })
        .collect();
    let stale = stale_items(ledger, &draft.statement)?;
    let envelope: Value =
        serde_json::from_str(&draft.envelope.to_json()).map_err(|e| json_failed(&e))?;
    let statement: Value =
        serde_json::from_slice(draft.envelope.payload()).map_err(|e| json_failed(&e))?;
    Ok(DraftView {
        id: draft.statement.id.to_string(),
        kind: draft.statement.kind.as_str().to_owned(),
        envelope,
        statement,
        complete: missing.is_empty() && stale.is_empty(),
        signers,
        missing,
        stale,
    })
}

/// The items of `statement`'s `after` whose latest leaf hash is no longer the one it names (or
/// that exist now, when it names none): a newer act was recorded, so the signers signed a state
/// that is gone.
fn stale_items(ledger: &Ledger, statement: &Statement) -> Result<Vec<Stale>, DraftError> {
    let mut out = Vec::new();
    for (item, expected) in &statement.after {
        let current = queries::item(ledger.store(), item)?.map(|i| i.head);
        let expected = expected.map(|h| B64.encode(h));
        if current != expected {
            out.push(Stale {
                item: item.to_string(),
                expected,
                current,
            });
        }
    }
    Ok(out)
}

/// The drafts of one ledger folder. One lock orders every change to the files (each change is a
/// read, a decision and a crash-safe replace).
pub struct Drafts {
    dir: PathBuf,
    lock: Mutex<()>,
}

impl Drafts {
    /// The drafts of the ledger folder `ledger_dir` (the folder is made on the first draft).
    pub fn new(ledger_dir: &Path) -> Self {
        Self {
            dir: ledger_dir.join(DRAFTS_DIR),
            lock: Mutex::new(()),
        }
    }

    fn guard(&self) -> std::sync::MutexGuard<'_, ()> {
        self.lock.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn path(&self, id: &StatementId) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    fn io(&self, e: &std::io::Error) -> DraftError {
        DraftError::Storage(Message::verbatim(format!("{}: {e}", self.dir.display())))
    }

    /// The ids of every stored draft (temporary files and foreign names skipped).
    fn ids(&self) -> Result<Vec<StatementId>, DraftError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.io(&e)),
        };
        let mut ids = Vec::new();
        for entry in entries {
            let name = entry.map_err(|e| self.io(&e))?.file_name();
            let id = name
                .to_str()
                .and_then(|n| n.strip_suffix(".json"))
                .and_then(|n| StatementId::parse(n).ok());
            ids.extend(id);
        }
        ids.sort();
        Ok(ids)
    }

    /// The stored draft `id`, if any.
    fn load(&self, id: &StatementId) -> Result<Option<Draft>, DraftError> {
        let path = self.path(id);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io(&e)),
        };
        let damaged = |why: Message| DraftError::Storage(why.after(&path.display().to_string()));
        if bytes.len() > DRAFT_FILE_BYTES_MAX {
            return Err(damaged(
                msg("err.draft.file_too_large").arg("max", DRAFT_FILE_BYTES_MAX),
            ));
        }
        let file: DraftFile = serde_json::from_slice(&bytes)
            .map_err(|e| damaged(Message::verbatim(e.to_string())))?;
        let envelope = Envelope::parse_allowing_unsigned(file.envelope.to_string().as_bytes())
            .map_err(|e| damaged(e.explain()))?;
        let statement = Statement::parse(envelope.payload()).map_err(|e| damaged(e.explain()))?;
        Ok(Some(Draft {
            envelope,
            statement,
            declined: file.declined,
        }))
    }

    fn find(&self, id: &str) -> Result<(StatementId, Draft), DraftError> {
        let parsed = StatementId::parse(id).map_err(|_| DraftError::NoDraft(id.to_owned()))?;
        let draft = self
            .load(&parsed)?
            .ok_or_else(|| DraftError::NoDraft(parsed.to_string()))?;
        Ok((parsed, draft))
    }

    /// Writes `draft` crash-safely (temporary file, fsync, rename, fsync of the folder).
    fn store(&self, draft: &Draft) -> Result<(), DraftError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| self.io(&e))?;
        let envelope: Value =
            serde_json::from_str(&draft.envelope.to_json()).map_err(|e| json_failed(&e))?;
        let file = DraftFile {
            envelope,
            declined: draft.declined.clone(),
        };
        let bytes = serde_json::to_vec(&file).map_err(|e| json_failed(&e))?;
        Ok(replace_file(&self.path(&draft.statement.id), &bytes)?)
    }

    /// `POST /v1/drafts`: takes an envelope with at least one signature, each by the current key
    /// of a named signer and verifying; stores it, or merges its new signatures into the draft of
    /// the same id and payload. Returns the view and whether the draft is new.
    pub fn post(&self, ledger: &Ledger, body: &[u8]) -> Result<(bool, DraftView), DraftError> {
        let envelope = Envelope::parse_allowing_unsigned(body)?;
        if envelope.signatures().is_empty() {
            return Err(DraftError::Unsigned);
        }
        let statement = Statement::parse(envelope.payload())?;
        let state = ledger.state();
        check_signers(&state, &statement)?;
        for (i, sig) in envelope.signatures().iter().enumerate() {
            check_signature(
                &state,
                &statement,
                &envelope,
                sig,
                &format!("signatures[{i}]"),
            )?;
        }
        if recorded(ledger, &statement.id)? {
            return Err(DraftError::Recorded(statement.id));
        }
        ledger.precheck(&statement)?;
        let _guard = self.guard();
        let (new, draft) = match self.load(&statement.id)? {
            Some(mut stored) => {
                if stored.envelope.payload() != envelope.payload() {
                    return Err(DraftError::OtherPayload(statement.id));
                }
                for sig in envelope.signatures() {
                    stored.envelope.add_signature(sig.clone())?;
                }
                (false, stored)
            }
            None => {
                if self.ids()?.len() >= DRAFTS_MAX {
                    return Err(DraftError::Full);
                }
                let draft = Draft {
                    envelope,
                    statement,
                    declined: BTreeMap::new(),
                };
                (true, draft)
            }
        };
        let draft = forget_declines_of_signers(&state, draft);
        self.store(&draft)?;
        Ok((new, view(ledger, &draft)?))
    }

    /// `GET /v1/drafts/{id}`: the view, for a named signer.
    pub fn get(
        &self,
        ledger: &Ledger,
        id: &str,
        reader: &OfficerId,
    ) -> Result<DraftView, DraftError> {
        let (_, draft) = self.find(id)?;
        named(&draft, reader)?;
        view(ledger, &draft)
    }

    /// `GET /v1/drafts`: the views of every draft naming `reader` among its signers, by id.
    pub fn list(&self, ledger: &Ledger, reader: &OfficerId) -> Result<Vec<DraftView>, DraftError> {
        let mut out = Vec::new();
        for id in self.ids()? {
            if let Some(draft) = self.load(&id)?
                && named(&draft, reader).is_ok()
            {
                out.push(view(ledger, &draft)?);
            }
        }
        Ok(out)
    }

    /// `POST /v1/drafts/{id}/signatures`: one more signature (`keyid`, base64 `sig`), by the
    /// current key of a named signer over PAE of the stored payload.
    pub fn sign(
        &self,
        ledger: &Ledger,
        id: &str,
        keyid: &str,
        sig: &str,
    ) -> Result<DraftView, DraftError> {
        let sig = Signature::from_base64(sig).map_err(|_| DraftError::BadSignature {
            field: "sig".into(),
            keyid: crate::base::class::echo(keyid),
        })?;
        let signature = EnvelopeSignature {
            keyid: keyid.to_owned(),
            sig,
        };
        let _guard = self.guard();
        let (_, draft) = self.find(id)?;
        let state = ledger.state();
        check_signature(&state, &draft.statement, &draft.envelope, &signature, "")
            .map_err(strip_field_dot)?;
        let mut draft = draft;
        draft.envelope.add_signature(signature)?;
        let draft = forget_declines_of_signers(&state, draft);
        self.store(&draft)?;
        view(ledger, &draft)
    }

    /// `POST /v1/drafts/{id}/decline`: `reader`, a named signer who has not signed, declines with
    /// `reason` (kept with the draft, replacing an earlier reason of theirs).
    pub fn decline(
        &self,
        ledger: &Ledger,
        id: &str,
        reader: &OfficerId,
        reason: &str,
        at: Timestamp,
    ) -> Result<DraftView, DraftError> {
        let reason = reason.trim();
        if reason.is_empty()
            || reason.chars().count() > DECLINE_REASON_CHARS_MAX
            || reason.chars().any(char::is_control)
        {
            return Err(DraftError::Reason);
        }
        let _guard = self.guard();
        let (_, mut draft) = self.find(id)?;
        named(&draft, reader)?;
        if view(ledger, &draft)?
            .signers
            .iter()
            .any(|s| s.officer == reader.as_str() && s.signed)
        {
            return Err(DraftError::AlreadySigned(reader.clone()));
        }
        draft.declined.insert(
            reader.to_string(),
            Declined {
                reason: reason.to_owned(),
                at: at.to_canonical(),
            },
        );
        self.store(&draft)?;
        view(ledger, &draft)
    }

    /// `POST /v1/drafts/{id}/submit`: a complete draft is recorded through the ledger's one write
    /// path (`Writes::submit`, as `POST /v1/statements`), then removed; the receipt is answered.
    pub fn submit(
        &self,
        ledger: &Ledger,
        id: &str,
    ) -> Result<crate::app::ledger::ReceiptView, DraftError> {
        let (parsed, draft) = self.find(id)?;
        let shown = view(ledger, &draft)?;
        if !shown.missing.is_empty() {
            let who: Vec<String> = shown
                .missing
                .iter()
                .map(|m| format!("{} ({})", m.officer, m.role))
                .collect();
            return Err(DraftError::Incomplete(who.join(", ")));
        }
        if !shown.stale.is_empty() {
            let items: Vec<&str> = shown.stale.iter().map(|s| s.item.as_str()).collect();
            return Err(DraftError::Stale(
                msg("err.draft.newer_act").arg("items", items.join(", ")),
            ));
        }
        let receipt = Writes::submit(ledger, draft.envelope.to_json().as_bytes())
            .map_err(DraftError::Ledger)?;
        let _guard = self.guard();
        self.remove_file(&parsed)?;
        Ok(receipt)
    }

    /// `DELETE /v1/drafts/{id}`: a named signer discards the draft.
    pub fn discard(&self, id: &str, reader: &OfficerId) -> Result<String, DraftError> {
        let _guard = self.guard();
        let (parsed, draft) = self.find(id)?;
        named(&draft, reader)?;
        self.remove_file(&parsed)?;
        Ok(parsed.to_string())
    }

    fn remove_file(&self, id: &StatementId) -> Result<(), DraftError> {
        match std::fs::remove_file(self.path(id)) {
            Ok(()) => Ok(crate::storage::recovery::sync_dir(&self.dir)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.io(&e)),
        }
    }
}

/// serde_json could not read or write a draft's JSON: its own words, nothing to translate.
fn json_failed(e: &serde_json::Error) -> DraftError {
    DraftError::Storage(Message::verbatim(e.to_string()))
}

/// Decides that `reader` is named in the draft's signers.
fn named(draft: &Draft, reader: &OfficerId) -> Result<(), DraftError> {
    if draft.statement.signers.iter().any(|s| &s.officer == reader) {
        Ok(())
    } else {
        Err(DraftError::NotNamed(reader.clone()))
    }
}

/// A signer who signs takes back their decline.
fn forget_declines_of_signers(state: &State, mut draft: Draft) -> Draft {
    let signed: Vec<String> = draft
        .statement
        .signers
        .iter()
        .filter(|s| {
            current_keyid(state, &s.officer)
                .is_some_and(|k| draft.envelope.signatures().iter().any(|x| x.keyid == k))
        })
        .map(|s| s.officer.to_string())
        .collect();
    draft
        .declined
        .retain(|officer, _| !signed.contains(officer));
    draft
}

/// The body of `POST /v1/drafts/{id}/signatures` names its fields `keyid` and `sig`, not
/// `.keyid` and `.sig` as the envelope check spells them.
fn strip_field_dot(e: DraftError) -> DraftError {
    match e {
        DraftError::NotASigner { field, keyid } => DraftError::NotASigner {
            field: field.trim_start_matches('.').to_owned(),
            keyid,
        },
        DraftError::BadSignature { field, keyid } => DraftError::BadSignature {
            field: field.trim_start_matches('.').to_owned(),
            keyid,
        },
        other => other,
    }
}
