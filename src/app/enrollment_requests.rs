//! Enrollment requests: a new officer's device makes a key and asks to be enrolled; an
//! administrator approves by recording an ordinary `officer_enrolled` statement (docs/FORMAT.md
//! §13b.5). Owns checking a request (the officer record by the very schema and parser of
//! `officer_enrolled`, the key not enrolled yet, the proof of possession of the key), its short
//! code, and the request files in `private/enrollment-requests/` (officers' names, so never in
//! `public/`), replaced crash-safely and bounded in number.
//!
//! Never enrolls anyone: only a statement signed by an administrator does, through the log. Never
//! speaks HTTP and never decides who may read the requests beyond the administrator role the
//! caller passes in.

use crate::base::class::{Class, Classify};
use crate::base::ids::{OfficerId, OfficerRole};
use crate::base::time::Timestamp;
use crate::base::words::{Explain, Message, msg};
use crate::domain::rules::State;
use crate::format::statement::Statement;
use crate::keys::signing::{PublicKey, Signature};
use crate::storage::fault::StoreError;
use crate::storage::recovery::replace_file;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Where enrollment requests live in a ledger folder: under `private/` (they hold officers'
/// names, and they are not evidence).
pub const ENROLLMENT_REQUESTS_DIR: &str = "private/enrollment-requests";
/// Requests waiting at once: every officer of a large facility enrolling in one week. Anyone may
/// send one (the officer has no enrolled key yet), so the bound keeps an unauthenticated sender
/// from filling the disk; beyond it a request is refused (503) until an administrator approves or
/// rejects some.
pub const ENROLLMENT_REQUESTS_MAX: usize = 256;
/// A request file: an officer record and a key, a few hundred bytes; a larger file is not one this
/// module wrote.
pub const ENROLLMENT_REQUEST_FILE_BYTES_MAX: usize = 16 * 1024;
/// What the proof of possession signs, before ` <officer id> <public key>` (UTF-8, one space
/// each): the context names the purpose and its version, so the signature opens nothing else.
pub const POP_CONTEXT: &str = "custody-enrollment-request:v1";

/// A fixed statement id and administrator for checking a request's officer record through the
/// `officer_enrolled` schema: the record is checked, not these.
const CHECK_STATEMENT_ID: &str = "01890000-0000-7000-8000-000000000000";
const CHECK_ADMIN: &str = "00000000";

/// Why an enrollment request was refused; every message names the field and the rule, in
/// Indonesian and English.
#[derive(Debug)]
pub enum EnrollmentError {
    /// The field as the request names it, and the rule it breaks.
    Field {
        field: String,
        rule: Message,
    },
    Pop,
    KeyEnrolled(OfficerId),
    OfficerEnrolled(OfficerId),
    OtherRequest(String),
    Full,
    NoRequest(String),
    NotAdmin(OfficerId),
    /// Why a request file or the requests folder could not be read or written.
    Storage(Message),
}

crate::english_display!(EnrollmentError);

impl Explain for EnrollmentError {
    fn explain(&self) -> Message {
        match self {
            Self::Field { field, rule } => msg("err.enrollment.field")
                .arg("field", field)
                .part("rule", rule.clone()),
            Self::Pop => msg("err.enrollment.pop").arg("context", POP_CONTEXT),
            Self::KeyEnrolled(officer) => {
                msg("err.enrollment.key_enrolled").arg("officer", officer)
            }
            Self::OfficerEnrolled(officer) => {
                msg("err.enrollment.officer_enrolled").arg("officer", officer)
            }
            Self::OtherRequest(code) => msg("err.enrollment.other_request").arg("code", code),
            Self::Full => msg("err.enrollment.full").arg("max", ENROLLMENT_REQUESTS_MAX),
            Self::NoRequest(code) => msg("err.enrollment.no_request").arg("code", code),
            Self::NotAdmin(officer) => msg("err.enrollment.not_admin").arg("officer", officer),
            Self::Storage(why) => msg("err.enrollment.storage").part("reason", why.clone()),
        }
    }
}

impl Classify for EnrollmentError {
    fn class(&self) -> Class {
        match self {
            Self::Field { .. } => Class::Invalid,
            Self::Pop => Class::Refused,
            Self::KeyEnrolled(_) | Self::OfficerEnrolled(_) | Self::OtherRequest(_) => {
                Class::Conflict
            }
            Self::Full => Class::Unavailable,
            Self::NoRequest(_) => Class::NotFound,
            Self::NotAdmin(_) => Class::Forbidden,
            Self::Storage(_) => Class::Corrupt,
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            Self::Field { field, .. } => Some(field.clone()),
            Self::Pop => Some("pop".into()),
            Self::KeyEnrolled(_) | Self::OtherRequest(_) => Some("public_key".into()),
            Self::OfficerEnrolled(_) => Some("officer.id".into()),
            Self::NoRequest(_) => Some("code".into()),
            Self::Full | Self::NotAdmin(_) | Self::Storage(_) => None,
        }
    }
}

impl From<StoreError> for EnrollmentError {
    fn from(e: StoreError) -> Self {
        Self::Storage(e.explain())
    }
}

fn field(field: &str, rule: Message) -> EnrollmentError {
    EnrollmentError::Field {
        field: field.to_owned(),
        rule,
    }
}

/// The body of `POST /v1/enrollment-requests`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestWire {
    officer: Value,
    public_key: String,
    facility: String,
    pop: String,
}

/// A stored request, as the file holds it and an administrator reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    pub code: String,
    pub officer: Value,
    pub public_key: String,
    pub keyid: String,
    pub facility: String,
    pub pop: String,
    pub requested_at: String,
}

/// A request as an administrator reads it: the stored request and whether the key is enrolled
/// now (`status`: `pending` or `enrolled`, with the seq of the enrollment).
#[derive(Debug, Clone, Serialize)]
pub struct RequestView {
    #[serde(flatten)]
    pub request: Stored,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrolled_seq: Option<u64>,
}

/// The short code of a key, shown to the officer and read out to the administrator: the first 8
/// hex digits (upper case) of SHA-256 of the 32 raw key bytes, as `XXXX-XXXX`.
pub fn code_of(key: &PublicKey) -> String {
    use sha2::Digest as _;
    let hex = crate::keys::signing::hex(&sha2::Sha256::digest(key.to_bytes())).to_uppercase();
    format!("{}-{}", &hex[..4], &hex[4..8])
}

/// The bytes the proof of possession signs: `custody-enrollment-request:v1 <officer id>
/// <public key>` in UTF-8, the key as the request spells it (base64).
pub fn pop_message(officer: &str, public_key: &str) -> String {
    format!("{POP_CONTEXT} {officer} {public_key}")
}

/// A statement field pointer of the check statement, as the request names the field.
fn request_field(pointer: &str) -> String {
    match pointer {
        "/officer/public_key" => "public_key".to_owned(),
        "/facility" => "facility".to_owned(),
        p => match p.strip_prefix("/officer/") {
            Some(rest) => format!("officer.{}", rest.replace('/', ".")),
            None if p == "/officer" => "officer".to_owned(),
            None => p.trim_start_matches('/').replace('/', "."),
        },
    }
}

/// Checks the officer record, key and facility with the schema and parser of `officer_enrolled`
/// (the request becomes the record of an enrollment statement, checked as that statement would
/// be), and returns the officer id and the key.
fn check_record(
    wire: &RequestWire,
    now: Timestamp,
) -> Result<(OfficerId, PublicKey), EnrollmentError> {
    let mut officer = wire.officer.clone();
    let Some(record) = officer.as_object_mut() else {
        return Err(field("officer", msg("err.enrollment.not_an_object")));
    };
    if record.contains_key("public_key") {
        return Err(field("officer.public_key", msg("err.enrollment.key_twice")));
    }
    record.insert("public_key".into(), json!(wire.public_key));
    let statement = json!({
        "type": "officer_enrolled",
        "id": CHECK_STATEMENT_ID,
        "occurred_at": now.to_canonical(),
        "facility": wire.facility,
        "signers": [{"role": "admin", "officer": CHECK_ADMIN}],
        "after": {},
        "officer": officer,
    });
    let bytes = serde_json::to_vec(&statement)
        .map_err(|e| field("officer", Message::verbatim(e.to_string())))?;
    let parsed = Statement::parse(&bytes).map_err(|e| match e {
        // The statement parser's rule, under the field as the request names it.
        crate::format::statement::StatementError::Field { field: f, rule } => {
            field(&request_field(&f), rule)
        }
        other => field("officer", other.explain()),
    })?;
    let crate::format::statement::Body::OfficerEnrolled { officer } = parsed.body else {
        return Err(field(
            "officer",
            msg("err.enrollment.not_an_officer_record"),
        ));
    };
    let key = PublicKey::from_base64(&officer.public_key)
        .map_err(|e| field("public_key", e.explain()))?;
    Ok((officer.id, key))
}

/// Decides that neither the key (nor its key id) nor the officer is enrolled already.
fn check_new(state: &State, officer: &OfficerId, key: &PublicKey) -> Result<(), EnrollmentError> {
    if let Some(o) = state.officer_of_key(key) {
        return Err(EnrollmentError::KeyEnrolled(o.record.id.clone()));
    }
    if let Some(other) = state.keys_with_id(&key.key_id()).first()
        && let Some(o) = state.officer_of_key(other)
    {
        return Err(EnrollmentError::KeyEnrolled(o.record.id.clone()));
    }
    if state.officer(officer).is_some() {
        return Err(EnrollmentError::OfficerEnrolled(officer.clone()));
    }
    Ok(())
}

/// Checks a request body whole: its form, the record, the key not enrolled, the proof of
/// possession. Returns the request to store.
pub fn check_request(
    state: &State,
    body: &[u8],
    now: Timestamp,
) -> Result<Stored, EnrollmentError> {
    let value = crate::format::statement::parse_unambiguous(body)
        .map_err(|e| field("request", e.explain()))?;
    let wire: RequestWire = serde_json::from_value(value).map_err(|e| {
        field(
            "request",
            msg("err.enrollment.body_form")
                .part("problem", crate::format::statement::json_fault(&e)),
        )
    })?;
    let (officer, key) = check_record(&wire, now)?;
    check_new(state, &officer, &key)?;
    let sig = Signature::from_base64(&wire.pop).map_err(|_| EnrollmentError::Pop)?;
    key.verify_strict(
        pop_message(officer.as_str(), &wire.public_key).as_bytes(),
        &sig,
    )
    .map_err(|_| EnrollmentError::Pop)?;
    Ok(Stored {
        code: code_of(&key),
        officer: wire.officer,
        public_key: wire.public_key,
        keyid: key.key_id(),
        facility: wire.facility,
        pop: wire.pop,
        requested_at: now.to_canonical(),
    })
}

/// Decides that `reader` holds the administrator role now.
pub fn check_admin(state: &State, reader: &OfficerId) -> Result<(), EnrollmentError> {
    let admin = state
        .officer(reader)
        .is_some_and(|o| o.record.roles.contains(&OfficerRole::Admin));
    if admin {
        Ok(())
    } else {
        Err(EnrollmentError::NotAdmin(reader.clone()))
    }
}

/// A stored request as an administrator reads it now.
fn view_of(state: &State, request: Stored) -> RequestView {
    let enrolled = PublicKey::from_base64(&request.public_key)
        .ok()
        .and_then(|k| {
            let o = state.officer_of_key(&k)?;
            o.keys.iter().find(|s| s.key == k).map(|s| s.from_seq)
        });
    RequestView {
        request,
        status: if enrolled.is_some() {
            "enrolled"
        } else {
            "pending"
        },
        enrolled_seq: enrolled,
    }
}

/// The enrollment requests of one ledger folder; one lock orders every change.
pub struct EnrollmentRequests {
    dir: PathBuf,
    lock: Mutex<()>,
}

impl EnrollmentRequests {
    /// The requests of the ledger folder `ledger_dir` (the folder is made on the first request).
    pub fn new(ledger_dir: &Path) -> Self {
        Self {
            dir: ledger_dir.join(ENROLLMENT_REQUESTS_DIR),
            lock: Mutex::new(()),
        }
    }

    fn guard(&self) -> std::sync::MutexGuard<'_, ()> {
        self.lock.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn io(&self, e: &std::io::Error) -> EnrollmentError {
        EnrollmentError::Storage(Message::verbatim(format!("{}: {e}", self.dir.display())))
    }

    /// A code as a file name, when it is one (`XXXX-XXXX`, hex, any case).
    fn path(&self, code: &str) -> Option<PathBuf> {
        let code = code.to_ascii_uppercase();
        let ok = code.len() == 9
            && code.char_indices().all(|(i, c)| {
                if i == 4 {
                    c == '-'
                } else {
                    c.is_ascii_hexdigit()
                }
            });
        ok.then(|| self.dir.join(format!("{code}.json")))
    }

    fn load_path(&self, path: &Path) -> Result<Option<Stored>, EnrollmentError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io(&e)),
        };
        if bytes.len() > ENROLLMENT_REQUEST_FILE_BYTES_MAX {
            return Err(EnrollmentError::Storage(
                msg("err.enrollment.file_too_large")
                    .arg("path", path.display())
                    .arg("max", ENROLLMENT_REQUEST_FILE_BYTES_MAX),
            ));
        }
        serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            EnrollmentError::Storage(Message::verbatim(format!("{}: {e}", path.display())))
        })
    }

    /// Every stored request, by code.
    fn all(&self) -> Result<Vec<Stored>, EnrollmentError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.io(&e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| self.io(&e))?.path();
            if path.extension().is_some_and(|x| x == "json")
                && let Some(request) = self.load_path(&path)?
            {
                out.push(request);
            }
        }
        out.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(out)
    }

    fn remove(&self, code: &str) -> Result<(), EnrollmentError> {
        let Some(path) = self.path(code) else {
            return Ok(());
        };
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(crate::storage::recovery::sync_dir(&self.dir)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.io(&e)),
        }
    }

    /// `POST /v1/enrollment-requests`: stores a checked request under its code; the same request
    /// again answers the same code. Requests whose key has been enrolled meanwhile are done, and
    /// are removed first, so they never count against the bound.
    pub fn post(
        &self,
        state: &State,
        body: &[u8],
        now: Timestamp,
    ) -> Result<String, EnrollmentError> {
        let request = check_request(state, body, now)?;
        let _guard = self.guard();
        let mut pending = 0;
        for stored in self.all()? {
            if view_of(state, stored.clone()).status == "enrolled" {
                self.remove(&stored.code)?;
            } else if stored.code == request.code {
                let same = stored.officer == request.officer
                    && stored.facility == request.facility
                    && stored.public_key == request.public_key;
                return if same {
                    Ok(stored.code)
                } else {
                    Err(EnrollmentError::OtherRequest(stored.code))
                };
            } else {
                pending += 1;
            }
        }
        if pending >= ENROLLMENT_REQUESTS_MAX {
            return Err(EnrollmentError::Full);
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| self.io(&e))?;
        let bytes = serde_json::to_vec(&request)
            .map_err(|e| EnrollmentError::Storage(Message::verbatim(e.to_string())))?;
        let path = self
            .path(&request.code)
            .ok_or_else(|| EnrollmentError::Storage(msg("err.enrollment.code_not_a_file_name")))?;
        replace_file(&path, &bytes)?;
        Ok(request.code)
    }

    /// `GET /v1/enrollment-requests`: every request kept, each with its status, for an
    /// administrator.
    pub fn list(
        &self,
        state: &State,
        reader: &OfficerId,
    ) -> Result<Vec<RequestView>, EnrollmentError> {
        check_admin(state, reader)?;
        Ok(self.all()?.into_iter().map(|r| view_of(state, r)).collect())
    }

    /// `GET /v1/enrollment-requests/{code}`, for an administrator.
    pub fn get(
        &self,
        state: &State,
        reader: &OfficerId,
        code: &str,
    ) -> Result<RequestView, EnrollmentError> {
        check_admin(state, reader)?;
        let stored = match self.path(code) {
            Some(path) => self.load_path(&path)?,
            None => None,
        };
        let stored =
            stored.ok_or_else(|| EnrollmentError::NoRequest(crate::base::class::echo(code)))?;
        Ok(view_of(state, stored))
    }

    /// `DELETE /v1/enrollment-requests/{code}`: an administrator rejects (or clears) a request.
    pub fn reject(
        &self,
        state: &State,
        reader: &OfficerId,
        code: &str,
    ) -> Result<String, EnrollmentError> {
        let found = self.get(state, reader, code)?;
        let _guard = self.guard();
        self.remove(&found.request.code)?;
        Ok(found.request.code)
    }
}
