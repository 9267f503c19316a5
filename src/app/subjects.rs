//! The subject register as the ledger's use-cases see it: recording a person who is not an
//! officer (a pseudonym and a commitment for the statement, the personal data into the register),
//! looking a person up by NIK, passport or SDP number, showing their data to an officer whose role
//! allows it, erasing them, and the signed access log that answers "who looked at me". Every
//! edge (CLI, HTTP) calls these; none opens the register itself. Never writes personal data to the
//! log, `public/` or any file outside `private/register/`; never shows personal data to an officer
//! whose role the privacy table (`domain::privacy`) does not allow, and never without logging it.

use crate::base::class::{Class, Classify};
use crate::base::ids::{OfficerId, OfficerRole};
use crate::base::time::Timestamp;
use crate::base::words::{Explain, Message, msg};
use crate::domain::privacy::{self, RetentionTable};
use crate::domain::rules::State;
use crate::format::subject::{
    Commitment, PersonalFields, Salt, SubjectId, SubjectKind, commit, opens,
};
use crate::keys::signing::{self, KeyError, PublicKey, SecretKey, Signature};
use crate::storage::register::{MasterKey, Record, Register, RegisterError, generate_master_key};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The register's folder inside a ledger folder.
pub const REGISTER_DIR: &str = "private/register";
/// The master key's default place inside a ledger folder (made by `custody init` and `custody
/// demo`); `MASTER_KEY_ENV` names another file, e.g. one on a separate volume the operator rotates.
pub const MASTER_KEY_FILE: &str = "private/master-key";
pub const MASTER_KEY_ENV: &str = "CUSTODY_MASTER_KEY";
/// The access log inside the register folder: one JSON line per access, hash-chained and signed
/// with the ledger's key.
const ACCESS_LOG_FILE: &str = "access.log";
/// Every retention table adopted, oldest first, inside the register folder (`RetentionTable`).
const RETENTION_FILE: &str = "retention.json";

/// An erasure asked for: whom, on what legal basis, under which order (if the retention table
/// does not already make the person due), and the moment of their last act in the log.
#[derive(Debug, Clone)]
pub struct Erasure<'a> {
    pub subject: &'a SubjectId,
    pub basis: &'a str,
    pub order: Option<&'a str>,
    pub last_ms: Option<i64>,
}

/// Writes `bytes` to `path` crash-safely (`recovery::replace_file`).
fn write_durably(path: &Path, bytes: &[u8]) -> Result<(), SubjectsError> {
    crate::storage::recovery::replace_file(path, bytes).map_err(|e| SubjectsError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// Why a use-case of the register failed.
#[derive(Debug)]
pub enum SubjectsError {
    Register(RegisterError),
    NoMasterKey {
        path: String,
    },
    /// `what` is the catalogue key of what the officer asked to do; `why` says why not.
    Forbidden {
        officer: OfficerId,
        what: &'static str,
        why: Message,
    },
    Key(KeyError),
    /// `reason`: the system's own words.
    Io {
        path: String,
        reason: String,
    },
    AccessLog(Message),
    Retained {
        subject: SubjectId,
        why: Message,
    },
    Retention(Message),
}

crate::english_display!(SubjectsError);

impl Explain for SubjectsError {
    fn explain(&self) -> Message {
        match self {
            Self::Register(e) => e.explain(),
            Self::NoMasterKey { path } => msg("err.subjects.no_master_key")
                .arg("path", path)
                .arg("env", MASTER_KEY_ENV),
            Self::Forbidden { officer, what, why } => msg("err.subjects.forbidden")
                .arg("officer", officer)
                .part("what", msg(what))
                .part("why", why.clone()),
            Self::Key(e) => msg("err.subjects.key").part("reason", e.explain()),
            Self::Io { path, reason } => Message::verbatim(format!("{path}: {reason}")),
            Self::AccessLog(why) => msg("err.subjects.access_log").part("reason", why.clone()),
            Self::Retained { subject, why } => msg("err.subjects.retained")
                .arg("subject", subject)
                .part("why", why.clone()),
            Self::Retention(why) => msg("err.subjects.retention").part("reason", why.clone()),
        }
    }
}

impl From<RegisterError> for SubjectsError {
    fn from(e: RegisterError) -> Self {
        Self::Register(e)
    }
}

impl From<KeyError> for SubjectsError {
    fn from(e: KeyError) -> Self {
        Self::Key(e)
    }
}

impl Classify for SubjectsError {
    fn class(&self) -> Class {
        match self {
            Self::Register(e) => e.class(),
            Self::NoMasterKey { .. } => Class::Usage,
            Self::Forbidden { .. } => Class::Forbidden,
            Self::Key(e) => e.class(),
            Self::Io { .. } | Self::AccessLog(_) => Class::Corrupt,
            Self::Retained { .. } => Class::Refused,
            Self::Retention(_) => Class::Invalid,
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            Self::Register(e) => e.field(),
            Self::Key(_) => Some("--key".into()),
            _ => None,
        }
    }
}

/// The master key file of the ledger in `dir`: `MASTER_KEY_ENV` if set, else `MASTER_KEY_FILE`.
pub fn master_key_path(dir: &Path) -> PathBuf {
    std::env::var_os(MASTER_KEY_ENV).map_or_else(|| dir.join(MASTER_KEY_FILE), PathBuf::from)
}

/// Makes a master key for a new ledger in `dir`, unless `MASTER_KEY_ENV` names one the operator
/// keeps elsewhere (then that file must already exist when the register is first used).
pub fn create_master_key(dir: &Path) -> Result<(), SubjectsError> {
    if std::env::var_os(MASTER_KEY_ENV).is_some() {
        return Ok(());
    }
    generate_master_key(&dir.join(MASTER_KEY_FILE))?;
    Ok(())
}

/// What a statement carries for a person recorded through the register, and the salt that opens
/// its commitment (kept in the register, given to a court only with a disclosure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectRef {
    pub subject: SubjectId,
    pub category: SubjectKind,
    pub commitment: Commitment,
    pub salt: Salt,
    /// False when the person was already in the register (found by an identifier).
    pub new: bool,
}

impl SubjectRef {
    /// The statement's JSON of this person (`schemas/common.json`, person kind `subject`).
    pub fn person(&self) -> Value {
        json!({
            "kind": "subject",
            "category": self.category,
            "subject": self.subject,
            "commitment": self.commitment,
        })
    }
}

/// A person recorded on a device that cannot reach the server: a fresh random id and salt, the
/// commitment the statement carries, and the signed request that registers them when the device
/// syncs (`Ask::Enroll`). Until then the person's data is only in the device's outbox.
pub fn mint_offline(
    fields: PersonalFields,
    officer: &OfficerId,
    key: &SecretKey,
    now: Timestamp,
) -> Result<(SubjectRef, Vec<u8>), SubjectsError> {
    let subject = SubjectId::from_bytes(signing::random_bytes()?);
    let salt = Salt::from_bytes(signing::random_bytes()?);
    let recorded = SubjectRef {
        subject,
        category: fields.kind(),
        commitment: commit(&salt, &subject, &fields),
        salt,
        new: true,
    };
    let request = signed_request(
        &Ask::Enroll {
            subject,
            salt,
            fields,
        },
        officer,
        key,
        now,
    );
    Ok((recorded, request))
}

/// The answer to recording a person, as both edges print it (`--json` and the HTTP API).
pub fn recorded_view(r: &SubjectRef) -> Value {
    json!({
        "subject": r.subject,
        "category": r.category,
        "commitment": r.commitment,
        "new": r.new,
        "person": r.person(),
    })
}

/// What a permitted read shows: the person's fields and every salt recorded for them, each of
/// which opens the commitment of one statement naming them.
#[derive(Debug, Clone)]
pub struct Shown {
    pub subject: SubjectId,
    pub fields: PersonalFields,
    pub salts: Vec<Salt>,
}

impl Shown {
    /// Whether `commitment` (from a statement) is one of this person's, with a recorded salt.
    pub fn opens(&self, commitment: &Commitment) -> Option<Salt> {
        self.salts
            .iter()
            .find(|salt| opens(commitment, salt, &self.subject, &self.fields))
            .copied()
    }
}

/// An identifier a person may be looked up by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identifier {
    Nik(String),
    Passport {
        passport: String,
        nationality: String,
    },
    Sdp(String),
}

impl Identifier {
    /// What the access log says was searched for: the kind only, never the number.
    fn kind(&self) -> &'static str {
        match self {
            Self::Nik(_) => "nik",
            Self::Passport { .. } => "passport",
            Self::Sdp(_) => "sdp",
        }
    }
}

/// The officer who asks, proven by their key: enrolled, not revoked, the key their current one.
#[derive(Debug, Clone)]
pub struct Asker {
    officer: OfficerId,
    roles: Vec<OfficerRole>,
}

impl Asker {
    /// Proves that `key` is `officer`'s current key in `state` (a local read needs the reader's
    /// key as a read over HTTP needs their signature).
    pub fn prove(
        state: &State,
        officer: &OfficerId,
        key: &SecretKey,
    ) -> Result<Self, SubjectsError> {
        let forbidden = |why: &'static str| SubjectsError::Forbidden {
            officer: officer.clone(),
            what: "err.subjects.what.use_register",
            why: msg(why),
        };
        let o = state
            .officer(officer)
            .ok_or_else(|| forbidden("err.subjects.why.not_enrolled"))?;
        if o.revoked_at.is_some() {
            return Err(forbidden("err.subjects.why.revoked"));
        }
        let current: Option<&PublicKey> = o.current_key().map(|k| &k.key);
        if current != Some(&key.public()) {
            return Err(forbidden("err.subjects.why.not_current_key"));
        }
        Ok(Self {
            officer: officer.clone(),
            roles: o.record.roles.clone(),
        })
    }

    /// The officer asking.
    pub fn officer(&self) -> &OfficerId {
        &self.officer
    }

    /// An asker the server has authenticated by the request's signature.
    pub fn authenticated(officer: OfficerId, roles: Vec<OfficerRole>) -> Self {
        Self { officer, roles }
    }

    fn may(&self, allowed: &[OfficerRole], what: &'static str) -> Result<(), SubjectsError> {
        if self.roles.iter().any(|r| allowed.contains(r)) {
            return Ok(());
        }
        Err(SubjectsError::Forbidden {
            officer: self.officer.clone(),
            what,
            why: msg("err.subjects.why.roles").arg(
                "roles",
                allowed
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        })
    }
}

/// The register of one ledger, with its access log. One per open ledger (the ledger's lock covers
/// the folder); every method may be called from any thread.
pub struct Subjects {
    /// The register's folder (`private/register/`).
    dir: PathBuf,
    register: Mutex<Register>,
    log: Mutex<AccessLog>,
}

impl Subjects {
    /// Opens the register of the ledger in `dir` (creating an empty one on first use) with the
    /// master key, and its access log, signed with `ledger_key`.
    pub fn open(dir: &Path, ledger_key: SecretKey) -> Result<Self, SubjectsError> {
        let key_path = master_key_path(dir);
        if !key_path.exists() {
            return Err(SubjectsError::NoMasterKey {
                path: key_path.display().to_string(),
            });
        }
        let register_dir = dir.join(REGISTER_DIR);
        let register = open_rotating(&key_path, &register_dir)?;
        let log = AccessLog::open(register_dir.join(ACCESS_LOG_FILE), ledger_key)?;
        Ok(Self {
            dir: register_dir,
            register: Mutex::new(register),
            log: Mutex::new(log),
        })
    }

    fn register(&self) -> std::sync::MutexGuard<'_, Register> {
        self.register.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `by.may(allowed, what)`, and a refusal written to the access log too: an attempt to read
    /// someone's data without the right is itself part of "who looked at me". `what` is the
    /// catalogue key of what was asked; the log keeps its English words, as it always has.
    fn permitted(
        &self,
        by: &Asker,
        allowed: &[OfficerRole],
        what: &'static str,
        now: Timestamp,
    ) -> Result<(), SubjectsError> {
        let refused = match by.may(allowed, what) {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        let wanted = msg(what).english();
        self.logged(json!({"at": now.to_string(), "officer": by.officer, "action": "refused", "wanted": wanted}))?;
        Err(refused)
    }

    fn logged(&self, entry: Value) -> Result<(), SubjectsError> {
        self.log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .append(entry)
    }

    /// Records a person for a statement: the same person (by NIK, passport or SDP number) is the
    /// same subject; a new one gets a random id. Answers a fresh salt and the commitment to the
    /// register's fields under it, for the statement to carry.
    pub fn record(
        &self,
        fields: PersonalFields,
        by: &Asker,
        now: Timestamp,
    ) -> Result<SubjectRef, SubjectsError> {
        self.permitted(
            by,
            privacy::SUBJECT_RECORDERS,
            "err.subjects.what.record_person",
            now,
        )?;
        let mut register = self.register();
        let known = identifiers(&fields)
            .iter()
            .find_map(|i| lookup(&register, i));
        let salt = Salt::from_bytes(signing::random_bytes()?);
        let (subject, stored, new) = match known {
            Some(id) => {
                let record = register.read(&id)?.ok_or(RegisterError::Unknown(id))?;
                (id, record.fields, false)
            }
            None => {
                let id = SubjectId::from_bytes(signing::random_bytes()?);
                register.enroll(fields.clone(), id)?;
                (id, fields, true)
            }
        };
        register.add_salt(&subject, salt)?;
        drop(register);
        self.logged(json!({"at": now.to_string(), "officer": by.officer, "action": if new { "enroll" } else { "record" }, "subject": subject}))?;
        Ok(SubjectRef {
            subject,
            category: stored.kind(),
            commitment: commit(&salt, &subject, &stored),
            salt,
            new,
        })
    }

    /// Registers a person a device recorded offline under the id and salt it minted: a retry is a
    /// no-op; identifiers another subject already holds are not indexed again, and those subjects
    /// are answered (the same person recorded twice: an officer joins the ids with
    /// `subjects_linked`). Logged.
    pub fn enroll_offline(
        &self,
        subject: SubjectId,
        salt: Salt,
        fields: PersonalFields,
        by: &Asker,
        now: Timestamp,
    ) -> Result<Vec<SubjectId>, SubjectsError> {
        self.permitted(
            by,
            privacy::SUBJECT_RECORDERS,
            "err.subjects.what.record_person",
            now,
        )?;
        let mut register = self.register();
        let same_as = match register.read(&subject) {
            Ok(Some(record)) if record.salts.contains(&salt) => return Ok(Vec::new()),
            Ok(Some(_)) => Vec::new(),
            Ok(None) => register.enroll_offline(fields, subject)?,
            Err(e) => return Err(e.into()),
        };
        register.add_salt(&subject, salt)?;
        drop(register);
        self.logged(json!({"at": now.to_string(), "officer": by.officer, "action": "enroll-offline", "subject": subject, "same_as": same_as}))?;
        Ok(same_as)
    }

    /// Copies every live subject, with its id and every salt, into `to` (the register of a ledger
    /// that re-founds this one), so that each commitment the re-recorded entries carry still
    /// opens; erased subjects stay erased. Logged in both access logs. Answers how many.
    pub fn copy_into(
        &self,
        to: &Subjects,
        by: &Asker,
        now: Timestamp,
    ) -> Result<u64, SubjectsError> {
        self.permitted(
            by,
            privacy::REGISTER_MOVERS,
            "err.subjects.what.copy_register",
            now,
        )?;
        let register = self.register();
        let mut copied = 0;
        for id in register.live_subjects() {
            let Some(Record { fields, salts }) = register.read(&id)? else {
                continue;
            };
            let mut target = to.register();
            if target.read(&id)?.is_none() {
                target.enroll_offline(fields, id)?;
            }
            for salt in salts {
                target.add_salt(&id, salt)?;
            }
            copied += 1;
        }
        drop(register);
        let entry = |action: &str| json!({"at": now.to_string(), "officer": by.officer, "action": action, "subjects": copied});
        self.logged(entry("copied-out"))?;
        to.logged(entry("copied-in"))?;
        Ok(copied)
    }

    /// The subject an identifier belongs to, for an officer who may look people up; logged.
    pub fn lookup(
        &self,
        identifier: &Identifier,
        by: &Asker,
        now: Timestamp,
    ) -> Result<Option<SubjectId>, SubjectsError> {
        self.permitted(
            by,
            privacy::SUBJECT_FINDERS,
            "err.subjects.what.look_up",
            now,
        )?;
        let found = lookup(&self.register(), identifier);
        self.logged(json!({"at": now.to_string(), "officer": by.officer, "action": "lookup", "by": identifier.kind(), "subject": found}))?;
        Ok(found)
    }

    /// A subject's personal data, for an officer whose role may read it; logged before it is
    /// answered (a read that cannot be logged is not answered).
    pub fn show(&self, id: &SubjectId, by: &Asker, now: Timestamp) -> Result<Shown, SubjectsError> {
        self.permitted(
            by,
            privacy::PERSONAL_DATA_READERS,
            "err.subjects.what.read_data",
            now,
        )?;
        self.logged(
            json!({"at": now.to_string(), "officer": by.officer, "action": "show", "subject": id}),
        )?;
        let Record { fields, salts } = self
            .register()
            .read(id)?
            .ok_or(RegisterError::Unknown(*id))?;
        Ok(Shown {
            subject: *id,
            fields,
            salts,
        })
    }

    /// Decides whether `erasure` may go ahead: asked by an administrator, and the person due under
    /// the retention table in force — or an `order` given. Answers that table's version (`None`
    /// with an order). Changes nothing.
    pub fn permit_erasure(
        &self,
        erasure: &Erasure<'_>,
        by: &Asker,
        now: Timestamp,
    ) -> Result<Option<u32>, SubjectsError> {
        self.permitted(
            by,
            privacy::SUBJECT_ERASERS,
            "err.subjects.what.erase_data",
            now,
        )?;
        let id = erasure.subject;
        let due = self.due_of(id, erasure.last_ms)?;
        if erasure.order.is_some() {
            return Ok(None);
        }
        match due {
            Some((at, version)) if at <= now.unix_ms() => Ok(Some(version)),
            Some((at, version)) => {
                let at = Timestamp::from_unix_ms(at)
                    .map(|t| t.to_string())
                    .unwrap_or_default();
                Err(SubjectsError::Retained {
                    subject: *id,
                    why: msg("err.subjects.retained_until")
                        .arg("version", version)
                        .arg("at", at),
                })
            }
            None => Err(SubjectsError::Retained {
                subject: *id,
                why: msg("err.subjects.no_period"),
            }),
        }
    }

    /// Destroys a subject's key (crypto-shredding): the register can no longer show them or find
    /// them by any identifier; the log, which never held their data, still verifies. Called once
    /// the `subject_erased` act is in the log (`Ledger::erase_subject`), and by the catch-up of
    /// acts whose erasure a crash interrupted. An already erased subject is left as it is. Logged.
    pub fn erase_recorded(
        &self,
        id: &SubjectId,
        seq: u64,
        by: Option<&OfficerId>,
        now: Timestamp,
    ) -> Result<(), SubjectsError> {
        match self.register().erase(id) {
            Ok(()) | Err(RegisterError::Erased(_)) => {}
            Err(e) => return Err(e.into()),
        }
        self.logged(json!({"at": now.to_string(), "officer": by, "action": "erase", "subject": id, "seq": seq}))
    }

    /// Whether `id`'s key is still live (not erased, not unknown).
    pub fn is_live(&self, id: &SubjectId) -> bool {
        self.register().is_live(id)
    }

    /// When `id` is due for erasure under the retention table in force (Unix ms), and that table's
    /// version; `None` without a table or a period for the person's kind.
    fn due_of(
        &self,
        id: &SubjectId,
        last_ms: Option<i64>,
    ) -> Result<Option<(i64, u32)>, SubjectsError> {
        let Some(table) = self.retention()?.pop() else {
            return Ok(None);
        };
        let Some(last) = last_ms else {
            return Ok(None);
        };
        let kind = self
            .register()
            .read(id)?
            .ok_or(RegisterError::Unknown(*id))?
            .fields
            .kind();
        Ok(table.due(kind, last).map(|(at, _)| (at, table.version)))
    }

    /// Every retention table adopted, oldest first (the last is in force).
    pub fn retention(&self) -> Result<Vec<RetentionTable>, SubjectsError> {
        let path = self.dir.join(RETENTION_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                SubjectsError::AccessLog(Message::verbatim(format!("{}: {e}", path.display())))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(io_error(&path, &e)),
        }
    }

    /// Adopts `table` as the next retention table (an administrator; logged). Older tables stay.
    pub fn set_retention(
        &self,
        table: RetentionTable,
        by: &Asker,
        now: Timestamp,
    ) -> Result<(), SubjectsError> {
        self.permitted(
            by,
            privacy::SUBJECT_ERASERS,
            "err.subjects.what.set_retention",
            now,
        )?;
        let mut tables = self.retention()?;
        table
            .check(tables.len() as u32 + 1)
            .map_err(SubjectsError::Retention)?;
        let version = table.version;
        tables.push(table);
        let path = self.dir.join(RETENTION_FILE);
        let bytes = serde_json::to_vec_pretty(&tables).expect("tables serialize");
        write_durably(&path, &bytes)?;
        self.logged(json!({"at": now.to_string(), "officer": by.officer, "action": "retention", "version": version}))
    }

    /// The persons due for erasure at `now` under the table in force: each live subject whose
    /// last act (`last_ms`, from the log's views) lies longer ago than their kind's period.
    pub fn due(
        &self,
        by: &Asker,
        now: Timestamp,
        last_ms: impl Fn(&SubjectId) -> Option<i64>,
    ) -> Result<Vec<Value>, SubjectsError> {
        self.permitted(
            by,
            privacy::SUBJECT_ERASERS,
            "err.subjects.what.list_due",
            now,
        )?;
        let ids = self.register().live_subjects();
        let mut out = Vec::new();
        for id in ids {
            if let Some((at, version)) = self.due_of(&id, last_ms(&id))?
                && at <= now.unix_ms()
            {
                let at = Timestamp::from_unix_ms(at)
                    .map(|t| t.to_string())
                    .unwrap_or_default();
                out.push(json!({"subject": id, "due": at, "retention_version": version}));
            }
        }
        self.logged(json!({"at": now.to_string(), "officer": by.officer, "action": "due", "subjects": out.len()}))?;
        Ok(out)
    }

    /// Every access recorded, each checked against the chain and the ledger's key.
    pub fn access_log(&self) -> Result<Vec<Value>, SubjectsError> {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).entries()
    }
}

/// Where a rotation keeps the new master key until the register is re-wrapped under it: beside
/// the master key file, renamed over it once the rotation is durable.
fn next_key_path(key_path: &Path) -> PathBuf {
    let mut name = key_path.as_os_str().to_owned();
    name.push(".next");
    PathBuf::from(name)
}

/// Opens the register with the master key at `key_path`, finishing a rotation a crash
/// interrupted: if the register is already wrapped under the key waiting in `<key>.next`, that
/// key is renamed into place; if it is still under the old one, the waiting key is removed.
fn open_rotating(key_path: &Path, register_dir: &Path) -> Result<Register, SubjectsError> {
    let next = next_key_path(key_path);
    match Register::open(register_dir, &MasterKey::read(key_path)?) {
        Err(RegisterError::WrongMasterKey { .. }) if next.exists() => {
            let register = Register::open(register_dir, &MasterKey::read(&next)?)?;
            replace_key_file(&next, key_path)?;
            Ok(register)
        }
        Ok(register) => {
            if next.exists() {
                std::fs::remove_file(&next).map_err(|e| io_error(&next, &e))?;
            }
            Ok(register)
        }
        Err(e) => Err(e.into()),
    }
}

fn io_error(path: &Path, e: &std::io::Error) -> SubjectsError {
    SubjectsError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// Renames `from` over `to` and makes the rename durable.
fn replace_key_file(from: &Path, to: &Path) -> Result<(), SubjectsError> {
    std::fs::rename(from, to).map_err(|e| io_error(to, &e))?;
    let dir = to.parent().unwrap_or(Path::new("."));
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error(dir, &e))
}

/// Rotates the register of the ledger in `dir` (closed: nothing else has it open) to the master
/// key in `new_key`: the new key is copied beside the current one (`<key>.next`, 0600, durable),
/// every subject's key re-wrapped under it (`Register::rotate_master`), then the copy renamed
/// over the current key file. A crash at any step leaves a register that opens
/// (`open_rotating`). The old key must then be destroyed wherever else it is kept (backups):
/// the old slot file's blocks still hold keys wrapped under it (docs/PRIVACY.md).
pub fn rotate_master_key(dir: &Path, new_key: &Path) -> Result<(), SubjectsError> {
    let key_path = master_key_path(dir);
    let register_dir = dir.join(REGISTER_DIR);
    let mut register = open_rotating(&key_path, &register_dir)?;
    let new = MasterKey::read(new_key)?;
    let next = next_key_path(&key_path);
    copy_key_file(new_key, &next)?;
    register.rotate_master(&new)?;
    drop(register);
    replace_key_file(&next, &key_path)
}

/// Copies a key file to `to` (0600), durably.
fn copy_key_file(from: &Path, to: &Path) -> Result<(), SubjectsError> {
    let bytes = std::fs::read(from).map_err(|e| io_error(from, &e))?;
    write_durably(to, &bytes)
}

/// The identifiers of `fields` a person may be found by.
fn identifiers(fields: &PersonalFields) -> Vec<Identifier> {
    let mut out = Vec::new();
    if let Some(nik) = fields.nik() {
        out.push(Identifier::Nik(nik.to_owned()));
    }
    if let (Some(passport), Some(nationality)) = (fields.passport(), fields.nationality()) {
        out.push(Identifier::Passport {
            passport: passport.to_owned(),
            nationality: nationality.to_owned(),
        });
    }
    if let Some(sdp) = fields.sdp() {
        out.push(Identifier::Sdp(sdp.to_owned()));
    }
    out
}

fn lookup(register: &Register, identifier: &Identifier) -> Option<SubjectId> {
    match identifier {
        Identifier::Nik(nik) => register.lookup_nik(nik),
        Identifier::Passport {
            passport,
            nationality,
        } => register.lookup_passport(passport, nationality),
        Identifier::Sdp(sdp) => register.lookup_sdp(sdp),
    }
}

/// The append-only access log: one line per access, `{"entry": {…, "prev": <hex SHA-256 of the
/// previous line>}, "sig": <base64 Ed25519 signature of the entry's JSON by the ledger key>}`.
/// Each line is written and `fdatasync`ed before the access it records is answered.
struct AccessLog {
    path: PathBuf,
    key: SecretKey,
    /// SHA-256 of the last line (all zeros before the first).
    last: [u8; 32],
}

impl AccessLog {
    fn open(path: PathBuf, key: SecretKey) -> Result<Self, SubjectsError> {
        let mut log = Self {
            path,
            key,
            last: [0; 32],
        };
        log.entries()?;
        Ok(log)
    }

    fn io(&self, e: &std::io::Error) -> SubjectsError {
        SubjectsError::Io {
            path: self.path.display().to_string(),
            reason: e.to_string(),
        }
    }

    fn append(&mut self, mut entry: Value) -> Result<(), SubjectsError> {
        entry["prev"] = Value::from(signing::hex(&self.last));
        let text = entry.to_string();
        let sig = self.key.sign(text.as_bytes());
        let line = format!("{}\n", json!({"entry": entry, "sig": sig.to_base64()}));
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| self.io(&e))?;
        file.write_all(line.as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(|e| self.io(&e))?;
        self.last = Sha256::digest(line.trim_end().as_bytes()).into();
        Ok(())
    }

    /// Reads every line, checking each one's signature and its link to the line before; sets the
    /// chain's end.
    fn entries(&mut self) -> Result<Vec<Value>, SubjectsError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(self.io(&e)),
        };
        let public = self.key.public();
        let mut last = [0u8; 32];
        let mut out = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let bad = |why: &'static str| {
                SubjectsError::AccessLog(
                    msg("err.subjects.log_line")
                        .arg("line", n + 1)
                        .part("why", msg(why)),
                )
            };
            let v: Value =
                serde_json::from_str(line).map_err(|_| bad("err.subjects.line_not_json"))?;
            let entry = v
                .get("entry")
                .ok_or_else(|| bad("err.subjects.line_no_entry"))?;
            let sig = v["sig"]
                .as_str()
                .and_then(|s| Signature::from_base64(s).ok())
                .ok_or_else(|| bad("err.subjects.line_no_signature"))?;
            public
                .verify_strict(entry.to_string().as_bytes(), &sig)
                .map_err(|_| bad("err.subjects.line_bad_signature"))?;
            if entry["prev"].as_str() != Some(signing::hex(&last).as_str()) {
                return Err(bad("err.subjects.line_out_of_order"));
            }
            last = Sha256::digest(line.as_bytes()).into();
            out.push(entry.clone());
        }
        self.last = last;
        Ok(out)
    }
}

/// The DSSE payload type of a signed request to the register (`POST /v1/subjects…`): its signature
/// covers `pae(SUBJECT_REQUEST_TYPE, request)`, so it can never pass for a statement's.
pub const SUBJECT_REQUEST_TYPE: &str = "application/vnd.custody.subject-request+json";

/// What a signed request to the register asks (`POST /v1/subjects`, `POST /v1/subjects/lookup`).
#[derive(Debug, Clone)]
pub enum Ask {
    /// Record this person (`SubjectRef` back).
    Record(PersonalFields),
    /// Find the subject an identifier belongs to.
    Lookup(Identifier),
    /// Register a person a device recorded offline, under the id and salt it minted
    /// (`mint_offline`), whose commitment a statement already carries.
    Enroll {
        subject: SubjectId,
        salt: Salt,
        fields: PersonalFields,
    },
}

impl Ask {
    fn to_json(&self) -> Value {
        match self {
            Self::Record(fields) => json!({"action": "record", "fields": fields}),
            Self::Lookup(Identifier::Nik(nik)) => json!({"action": "lookup", "nik": nik}),
            Self::Lookup(Identifier::Passport {
                passport,
                nationality,
            }) => json!({"action": "lookup", "passport": passport, "nationality": nationality}),
            Self::Lookup(Identifier::Sdp(sdp)) => json!({"action": "lookup", "sdp": sdp}),
            Self::Enroll {
                subject,
                salt,
                fields,
            } => json!({"action": "enroll", "subject": subject, "salt": salt, "fields": fields}),
        }
    }

    fn from_json(v: &Value) -> Result<Self, RequestError> {
        let text = |k: &'static str| {
            v[k].as_str()
                .map(str::to_owned)
                .ok_or(RequestError::Field(k))
        };
        match v["action"].as_str() {
            Some("record") => serde_json::from_value(v["fields"].clone())
                .map(Self::Record)
                .map_err(|e| invalid_fields(&e)),
            Some("enroll") => Ok(Self::Enroll {
                subject: serde_json::from_value(v["subject"].clone())
                    .map_err(|_| RequestError::Field("request/subject"))?,
                salt: serde_json::from_value(v["salt"].clone())
                    .map_err(|_| RequestError::Field("request/salt"))?,
                fields: serde_json::from_value(v["fields"].clone())
                    .map_err(|e| invalid_fields(&e))?,
            }),
            Some("lookup") if v.get("nik").is_some() => {
                Ok(Self::Lookup(Identifier::Nik(text("nik")?)))
            }
            Some("lookup") if v.get("sdp").is_some() => {
                Ok(Self::Lookup(Identifier::Sdp(text("sdp")?)))
            }
            Some("lookup") => Ok(Self::Lookup(Identifier::Passport {
                passport: text("passport")?,
                nationality: text("nationality")?,
            })),
            _ => Err(RequestError::Field("request/action")),
        }
    }
}

/// A request to the register, signed by the officer's key, for a server: `{"request":
/// {"officer", "at", "action", …}, "sig"}`. Personal data and identifiers travel only in this
/// body (never in a URL, which servers log) and only over the server's TLS.
pub fn signed_request(ask: &Ask, officer: &OfficerId, key: &SecretKey, now: Timestamp) -> Vec<u8> {
    let mut request = ask.to_json();
    request["officer"] = json!(officer);
    request["at"] = json!(now.unix_ms().div_euclid(1000));
    let text = request.to_string();
    let sig = key.sign(&crate::format::envelope::pae(
        SUBJECT_REQUEST_TYPE,
        text.as_bytes(),
    ));
    json!({"request": request, "sig": sig.to_base64()})
        .to_string()
        .into_bytes()
}

/// `request/fields` of a signed request does not read as a person's fields, in serde's words.
fn invalid_fields(e: &serde_json::Error) -> RequestError {
    RequestError::Invalid(msg("err.subjects.invalid_fields").arg("reason", e))
}

/// Opens a signed request to the register: the officer is enrolled, unrevoked and signed with
/// their current key, within `READ_SIGNATURE_AGE_S_MAX` of `now`. Answers who asked and what.
pub fn open_request(
    state: &State,
    body: &[u8],
    now: Timestamp,
) -> Result<(Asker, Ask), RequestError> {
    use crate::format::httpsig::READ_SIGNATURE_AGE_S_MAX;
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| RequestError::Malformed(msg("err.subjects.not_json").arg("reason", e)))?;
    let request = v.get("request").ok_or(RequestError::Field("request"))?;
    let officer: OfficerId = serde_json::from_value(request["officer"].clone())
        .map_err(|_| RequestError::Field("request/officer"))?;
    let at = request["at"]
        .as_i64()
        .ok_or(RequestError::Field("request/at"))?;
    let sig = v["sig"]
        .as_str()
        .and_then(|s| Signature::from_base64(s).ok())
        .ok_or(RequestError::Field("sig"))?;
    let (o, key) = state
        .officer(&officer)
        .and_then(|o| o.current_key().map(|k| (o, k)))
        .ok_or(RequestError::NotVerified)?;
    let signed = crate::format::envelope::pae(SUBJECT_REQUEST_TYPE, request.to_string().as_bytes());
    key.key
        .verify_strict(&signed, &sig)
        .map_err(|_| RequestError::NotVerified)?;
    let age = now.unix_ms().div_euclid(1000) - at;
    if !(-READ_SIGNATURE_AGE_S_MAX..=READ_SIGNATURE_AGE_S_MAX).contains(&age) {
        return Err(RequestError::Stale { age });
    }
    let ask = Ask::from_json(request)?;
    Ok((Asker::authenticated(officer, o.record.roles.clone()), ask))
}

/// Why a signed request to the register was not taken.
#[derive(Debug)]
pub enum RequestError {
    /// What is wrong with the request's form.
    Malformed(Message),
    Field(&'static str),
    /// Which part of the request does not pass, and why.
    Invalid(Message),
    NotVerified,
    Stale {
        age: i64,
    },
}

crate::english_display!(RequestError);

impl Explain for RequestError {
    fn explain(&self) -> Message {
        match self {
            Self::Malformed(why) => msg("err.subjects.malformed").part("reason", why.clone()),
            Self::Field(field) => msg("err.subjects.field").arg("field", field),
            Self::Invalid(why) => why.clone(),
            Self::NotVerified => msg("err.subjects.not_verified"),
            Self::Stale { age } => msg("err.subjects.stale")
                .arg("age", age)
                .arg("max", crate::format::httpsig::READ_SIGNATURE_AGE_S_MAX),
        }
    }
}

impl Classify for RequestError {
    fn class(&self) -> Class {
        match self {
            Self::Malformed(_) => Class::Malformed,
            Self::Field(_) | Self::Invalid(_) => Class::Invalid,
            Self::NotVerified | Self::Stale { .. } => Class::Unauthenticated,
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            Self::Field(f) => Some((*f).to_owned()),
            _ => None,
        }
    }
}

/// What `migrate` found in a ledger recorded with persons in the clear (rules versions 1–3).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Migrated {
    /// Entries read.
    pub entries: u64,
    /// Persons named in the clear, counted once per statement that names them.
    pub persons: u64,
    /// Persons put into the register for the first time.
    pub new_subjects: u64,
    /// Persons whose fields do not pass today's rules (kept in the log as they are, not moved).
    pub skipped: u64,
}

/// Leaves read per chunk while migrating: bounded memory on a ledger of any size.
const MIGRATE_CHUNK_LEAVES: u64 = 4096;

/// Moves the personal data of every person a ledger names in the clear (entries recorded under
/// rules versions 1–3) into its subject register, as `asker` (an administrator or another role
/// that may record people): each identifier then finds its subject, whose data can be read with
/// scope, disclosed to a court and erased. The log's entries stay as they are — an immutable log
/// cannot be changed — so what mirrors and bundles already hold is not taken back
/// (docs/PRIVACY.md, "Ledgers recorded before rules version 4"). Makes the ledger's master key if
/// it has none.
pub fn migrate(
    dir: &Path,
    store: &crate::storage::store::LedgerStore,
    subjects: impl FnOnce() -> Result<std::sync::Arc<Subjects>, SubjectsError>,
    asker: &Asker,
    now: Timestamp,
) -> Result<Migrated, SubjectsError> {
    if !master_key_path(dir).exists() {
        create_master_key(dir)?;
    }
    let register = subjects()?;
    let mut report = Migrated::default();
    let size = store.log_len();
    let mut at = 0;
    while at < size {
        let end = size.min(at + MIGRATE_CHUNK_LEAVES);
        let leaves = store.leaves(at, end).map_err(|e| {
            SubjectsError::AccessLog(msg("err.subjects.reading_log").part("reason", e.explain()))
        })?;
        for bytes in leaves {
            report.entries += 1;
            let Ok(leaf) = crate::format::leaf::Leaf::decode(&bytes) else {
                continue;
            };
            let Ok(body) = serde_json::from_slice::<Value>(leaf.envelope.payload()) else {
                continue;
            };
            for person in crate::format::people::clear_persons(&body) {
                report.persons += 1;
                match clear_fields(&person) {
                    Some(fields) => {
                        if register.record(fields, asker, now)?.new {
                            report.new_subjects += 1;
                        }
                    }
                    None => report.skipped += 1,
                }
            }
        }
        at = end;
    }
    Ok(report)
}

/// The personal fields of a person named in the clear (`{"kind": "visitor", "nik", "name"}`, …),
/// if they pass today's rules.
pub fn clear_fields(person: &Value) -> Option<PersonalFields> {
    let text = |k: &str| person.get(k).and_then(Value::as_str);
    let kind: SubjectKind = serde_json::from_value(person.get("kind")?.clone()).ok()?;
    let mut f = PersonalFields::new(kind);
    if let Some(name) = text("name") {
        f = f.with_name(name).ok()?;
    }
    if let Some(nik) = text("nik") {
        f = f.with_nik(nik).ok()?;
    }
    if let (Some(p), Some(n)) = (text("passport"), text("nationality")) {
        f = f.with_passport(p, n).ok()?;
    }
    if let Some(sdp) = text("sdp") {
        f = f.with_sdp(sdp).ok()?;
    }
    Some(f)
}
