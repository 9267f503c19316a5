//! Re-founding: re-records a ledger's whole history, entry for entry at the same seqs, into a new
//! ledger whose genesis names the old one (`refounds`: origin, checkpoint size and root), for an
//! operator who must get identities out of the log itself — the upgrade (`subject migrate`)
//! cannot, since the old leaves are immutable. Persons named in the clear are recorded into the
//! new ledger's subject register and named by subject id and commitment; identifiers in free text
//! are masked; the register's live subjects are copied with their salts. Every re-recorded entry
//! carries `attests` (the old seq, leaf hash and recording time) and is signed by the attesting
//! administrator alone: the new ledger carries the administrator's attestation, not the original
//! officers' signatures, which stay verifiable in the old ledger (docs/PRIVACY.md, "Re-founding").
//! Never writes the old ledger's log; its register's access log records the copy.

use crate::app::compose::{self, ComposeError};
use crate::app::ledger::{AppendError, Ledger, OpenError};
use crate::app::subjects::{Asker, Subjects, SubjectsError};
use crate::base::class::{Class, Classify};
use crate::base::ids::{OfficerId, OfficerRole, Origin};
use crate::base::time::Clock;
use crate::base::words::{Explain, Message, msg};
use crate::format::leaf::Leaf;
use crate::format::merkle::{self, Hash};
use crate::keys::signing::SecretKey;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// What to re-found, where, and who attests it.
pub struct Request<'a> {
    /// The ledger whose history is re-recorded (only read).
    pub from: &'a Ledger,
    /// A new folder for the new ledger.
    pub to: &'a Path,
    pub origin: Origin,
    /// An administrator of the old ledger, whose current key is `key`.
    pub admin: OfficerId,
    pub key: &'a SecretKey,
    /// Why, with its legal basis: recorded in the new genesis.
    pub reason: String,
}

/// What a re-founding did.
pub struct Refounded {
    pub ledger: Ledger,
    /// Entries re-recorded after the genesis (the old size − 1).
    pub entries: u64,
    /// Persons named in the clear that are now named by subject id and commitment.
    pub persons_moved: u64,
    /// Identifiers masked in free text.
    pub identifiers_masked: u64,
    /// Live subjects copied from the old register.
    pub subjects_copied: u64,
    /// The rules version the new ledger moved to after its history, if it was older.
    pub rules_adopted: Option<u32>,
}

/// Why a re-founding stopped. The new folder is left as it is (a partial new ledger is never
/// mistaken for a whole one: its genesis names the size it must reach, and `verify` says how far
/// it got); the old ledger is unchanged.
#[derive(Debug)]
pub enum RefoundError {
    NotVerified(Message),
    NotAdmin {
        officer: OfficerId,
        /// Why not, as a catalogue key (`err.refound.not_admin_enrolled`).
        why: &'static str,
    },
    Open(OpenError),
    Subjects(SubjectsError),
    Read {
        seq: u64,
        reason: Message,
    },
    Append {
        seq: u64,
        source: AppendError,
    },
    Compose(ComposeError),
    Result(Message),
}

impl From<OpenError> for RefoundError {
    fn from(e: OpenError) -> Self {
        Self::Open(e)
    }
}

impl From<SubjectsError> for RefoundError {
    fn from(e: SubjectsError) -> Self {
        Self::Subjects(e)
    }
}

impl From<ComposeError> for RefoundError {
    fn from(e: ComposeError) -> Self {
        Self::Compose(e)
    }
}

crate::english_display!(RefoundError);

impl Explain for RefoundError {
    fn explain(&self) -> Message {
        match self {
            Self::NotVerified(reason) => {
                msg("err.refound.not_verified").part("reason", reason.clone())
            }
            Self::NotAdmin { officer, why } => msg("err.refound.not_admin")
                .arg("officer", officer)
                .part("why", msg(why)),
            Self::Open(e) => e.explain(),
            Self::Subjects(e) => e.explain(),
            Self::Read { seq, reason } => msg("err.refound.read")
                .arg("seq", seq)
                .part("reason", reason.clone()),
            Self::Append { seq, source } => msg("err.refound.append")
                .arg("seq", seq)
                .part("reason", source.explain()),
            Self::Compose(e) => e.explain(),
            Self::Result(reason) => msg("err.refound.result").part("reason", reason.clone()),
        }
    }
}

impl Classify for RefoundError {
    fn class(&self) -> Class {
        match self {
            Self::NotVerified(_) | Self::Result(_) => Class::Corrupt,
            Self::NotAdmin { .. } => Class::Forbidden,
            Self::Open(e) => e.class(),
            Self::Subjects(e) => e.class(),
            Self::Read { .. } => Class::Corrupt,
            Self::Append { source, .. } => source.class(),
            Self::Compose(e) => e.class(),
        }
    }
}

/// Re-founds `req.from` into a new ledger at `req.to`. `progress(done, total)` is called as the
/// old ledger is verified and again as entries are re-recorded.
pub fn refound(
    req: &Request<'_>,
    clock: Arc<dyn Clock>,
    progress: &mut dyn FnMut(&str, u64, u64),
) -> Result<Refounded, RefoundError> {
    let from = req.from;
    let cp = from.checkpoint();
    verified(from, "verifying", progress).map_err(RefoundError::NotVerified)?;
    let asker = attester(from, &req.admin, req.key)?;
    let old_genesis = read_leaf(from, 0)?;
    let (_, mut genesis) = decoded(&old_genesis, 0)?;
    let refounds = json!({
        "origin": from.origin().as_str(),
        "size": cp.size,
        "root": b64(&cp.root),
        "by": req.admin.as_str(),
        "key": req.key.public().to_base64(),
        "reason": req.reason,
    });
    let (ledger, founded) = Ledger::init(req.to, &req.origin, clock, |vkey| {
        genesis["origin"] = json!(req.origin.as_str());
        genesis["ledger_key"] = json!(vkey.to_string());
        genesis["refounds"] = refounds;
        sign(&genesis, req.key).map_err(|e| AppendError::Stopped(e.explain()))
    })?;
    let mut run = Run {
        from,
        to: &ledger,
        from_register: registers(from)?,
        to_register: ledger.subjects()?,
        asker,
        key: req.key,
        heads: HashMap::from([(merkle::leaf_hash(&old_genesis), founded.leaf_hash)]),
        moved: 0,
        masked: 0,
    };
    let subjects_copied = match &run.from_register {
        Some(r) => r.copy_into(&run.to_register, &run.asker, ledger.now())?,
        None => 0,
    };
    for seq in 1..cp.size {
        run.rerecord(seq)?;
        progress("re-recording", seq + 1, cp.size);
    }
    let (moved, masked) = (run.moved, run.masked);
    let rules_adopted = adopt_newest_rules(&ledger, &req.admin, req.key)?;
    verified(&ledger, "verifying the new ledger", progress).map_err(RefoundError::Result)?;
    Ok(Refounded {
        ledger,
        entries: cp.size - 1,
        persons_moved: moved,
        identifiers_masked: masked,
        subjects_copied,
        rules_adopted,
    })
}

/// Verifies the whole of `ledger` as of its checkpoint.
fn verified(
    ledger: &Ledger,
    what: &str,
    progress: &mut dyn FnMut(&str, u64, u64),
) -> Result<(), Message> {
    let cp = ledger.checkpoint();
    crate::app::verify::verify_log(
        ledger.store(),
        cp.note.as_bytes(),
        ledger.verifier_key(),
        &mut |d, t| progress(what, d, t),
    )
    .map(|_| ())
    .map_err(|e| e.explain())
}

/// The administrator who attests, proven by their current key in the old ledger.
fn attester(from: &Ledger, admin: &OfficerId, key: &SecretKey) -> Result<Asker, RefoundError> {
    let state = from.state();
    let is_admin = state
        .officer(admin)
        .is_some_and(|o| o.record.roles.contains(&OfficerRole::Admin));
    if !is_admin {
        return Err(RefoundError::NotAdmin {
            officer: admin.clone(),
            why: "err.refound.not_admin_enrolled",
        });
    }
    Asker::prove(&state, admin, key).map_err(|_| RefoundError::NotAdmin {
        officer: admin.clone(),
        why: "err.refound.key_not_current",
    })
}

/// The old ledger's register, if it has one (a ledger made before the register has none).
fn registers(from: &Ledger) -> Result<Option<Arc<Subjects>>, RefoundError> {
    if !crate::app::subjects::master_key_path(from.dir()).exists() {
        return Ok(None);
    }
    Ok(Some(from.subjects()?))
}

/// One re-founding under way: what has been re-recorded so far.
struct Run<'a> {
    from: &'a Ledger,
    to: &'a Ledger,
    from_register: Option<Arc<Subjects>>,
    to_register: Arc<Subjects>,
    asker: Asker,
    key: &'a SecretKey,
    /// Old leaf hash → the new leaf hash of the same seq, to carry `after` across.
    heads: HashMap<Hash, Hash>,
    moved: u64,
    masked: u64,
}

impl Run<'_> {
    /// Re-records old entry `seq` at the same seq of the new ledger.
    fn rerecord(&mut self, seq: u64) -> Result<(), RefoundError> {
        let bytes = read_leaf(self.from, seq)?;
        let old_hash = merkle::leaf_hash(&bytes);
        let (leaf, mut statement) = decoded(&bytes, seq)?;
        let mut failed = None;
        let now = self.to.now();
        let moved = crate::format::people::replace_clear_persons(&mut statement, &mut |person| {
            self.subject_for(person, seq, now).unwrap_or_else(|e| {
                failed.get_or_insert(e);
                Value::Null
            })
        });
        if let Some(e) = failed {
            return Err(e);
        }
        self.moved += moved as u64;
        self.masked += crate::format::people::mask_free_text(&mut statement) as u64;
        self.carry_after(&mut statement);
        let recorded_at = statement
            .get("attests")
            .and_then(|a| a.get("recorded_at"))
            .cloned()
            .unwrap_or_else(|| json!(leaf.recorded_at.to_canonical()));
        statement["attests"] = json!({
            "seq": seq,
            "leaf": b64(&old_hash),
            "recorded_at": recorded_at,
        });
        let envelope = sign(&statement, self.key)?;
        let receipt = self
            .to
            .submit_envelope(envelope)
            .map_err(|source| RefoundError::Append { seq, source })?;
        self.heads.insert(old_hash, receipt.leaf_hash);
        Ok(())
    }

    /// The subject object that names `person` (an object in the clear) in the new ledger.
    fn subject_for(
        &self,
        person: &Value,
        seq: u64,
        now: crate::base::time::Timestamp,
    ) -> Result<Value, RefoundError> {
        let fields =
            crate::app::subjects::clear_fields(person).ok_or_else(|| RefoundError::Read {
                seq,
                reason: msg("err.refound.person_refused"),
            })?;
        let recorded = self.to_register.record(fields, &self.asker, now)?;
        Ok(recorded.person())
    }

    /// Rewrites each `after` hash to the new leaf hash of the entry it named (a hash that named
    /// no entry — the chain was already broken — is kept, so the audit still finds the break).
    fn carry_after(&self, statement: &mut Value) {
        let Some(Value::Object(after)) = statement.get_mut("after") else {
            return;
        };
        for head in after.values_mut() {
            let old = head
                .as_str()
                .and_then(|t| crate::app::ledger::decode_hash(t).ok());
            if let Some(new) = old.and_then(|h| self.heads.get(&h)) {
                *head = json!(b64(new));
            }
        }
    }
}

/// Moves the new ledger to the newest rules after its history, signed by the administrator (a
/// re-founded ledger is made to keep personal data off the log, which rules version 4 enforces).
fn adopt_newest_rules(
    ledger: &Ledger,
    admin: &OfficerId,
    key: &SecretKey,
) -> Result<Option<u32>, RefoundError> {
    use crate::domain::rules::RULES_VERSION_NEWEST;
    let state = ledger.state();
    if state.rules_version() >= RULES_VERSION_NEWEST {
        return Ok(None);
    }
    let facility = state
        .officer(admin)
        .map(|o| o.facility.to_string())
        .unwrap_or_default();
    let bytes = compose::rules_adoption(ledger.clock(), &facility, admin, RULES_VERSION_NEWEST)?;
    let envelope = compose::sign_statement(bytes, &[key])?;
    let seq = state.size();
    ledger
        .submit_envelope(envelope)
        .map_err(|source| RefoundError::Append { seq, source })?;
    Ok(Some(RULES_VERSION_NEWEST))
}

fn read_leaf(ledger: &Ledger, seq: u64) -> Result<Vec<u8>, RefoundError> {
    ledger
        .leaf(seq)
        .map_err(|e| RefoundError::Read {
            seq,
            reason: e.explain(),
        })?
        .ok_or_else(|| RefoundError::Read {
            seq,
            reason: msg("err.refound.not_covered"),
        })
}

/// A leaf and its statement JSON.
fn decoded(bytes: &[u8], seq: u64) -> Result<(Leaf, Value), RefoundError> {
    let read = |reason: Message| RefoundError::Read { seq, reason };
    let leaf = Leaf::decode(bytes).map_err(|e| read(e.explain()))?;
    // serde_json's own words: the same in both languages.
    let statement = serde_json::from_slice(leaf.envelope.payload())
        .map_err(|e| read(Message::verbatim(e.to_string())))?;
    Ok((leaf, statement))
}

fn sign(
    statement: &Value,
    key: &SecretKey,
) -> Result<crate::format::envelope::Envelope, ComposeError> {
    let bytes = serde_json::to_vec(statement).expect("a JSON value always serializes");
    compose::sign_statement(bytes, &[key])
}

fn b64(hash: &Hash) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(hash)
}
