//! Composing statements for the acts the ledger's own commands record (genesis, enrollment,
//! rotation, revocation, notes), filling a statement's missing `id` and `occurred_at`, and
//! signing envelopes with local keys. Application layer: it may read the injected clock and the
//! operating system's randomness, but never writes the log itself.

use crate::base::ids::{OfficerId, OfficerRole, SignerRole, StatementId};
use crate::base::time::Clock;
use crate::base::words::{Explain, Message, msg};
use crate::format::envelope::{Envelope, EnvelopeError};
use crate::keys::signing::{self, KeyError, PublicKey, SecretKey};
use serde_json::{Map, Value, json};

/// An officer's enrollment data as given on the command line or by the demo.
#[derive(Debug, Clone)]
pub struct OfficerInput {
    pub id: OfficerId,
    pub name: String,
    pub agency: String,
    pub unit: String,
    pub roles: Vec<OfficerRole>,
    pub public_key: PublicKey,
    /// Rank or grade (*pangkat / golongan*), when known.
    pub rank: Option<String>,
}

impl OfficerInput {
    fn to_json(&self) -> Value {
        let mut record = json!({
            "id": self.id.as_str(),
            "name": self.name,
            "agency": self.agency,
            "unit": self.unit,
            "roles": self.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            "public_key": self.public_key.to_base64(),
        });
        if let Some(rank) = &self.rank {
            record["rank"] = json!(rank);
        }
        record
    }
}

#[derive(Debug)]
pub enum ComposeError {
    NotAnObject,
    Key(KeyError),
    Envelope(EnvelopeError),
    Statement(crate::format::statement::StatementError),
}

crate::english_display!(ComposeError);

impl Explain for ComposeError {
    fn explain(&self) -> Message {
        match self {
            Self::NotAnObject => msg("err.compose.not_an_object"),
            Self::Key(e) => e.explain(),
            Self::Envelope(e) => e.explain(),
            Self::Statement(e) => e.explain(),
        }
    }
}

impl From<KeyError> for ComposeError {
    fn from(e: KeyError) -> Self {
        Self::Key(e)
    }
}

impl From<EnvelopeError> for ComposeError {
    fn from(e: EnvelopeError) -> Self {
        Self::Envelope(e)
    }
}

impl From<crate::format::statement::StatementError> for ComposeError {
    fn from(e: crate::format::statement::StatementError) -> Self {
        Self::Statement(e)
    }
}

/// A new statement id: UUIDv7 from the clock and the operating system's randomness.
pub fn new_statement_id(clock: &dyn Clock) -> Result<StatementId, KeyError> {
    let mut random = [0u8; 10];
    signing::fill_random(&mut random)?;
    let ms = u64::try_from(clock.now().unix_ms()).unwrap_or(0);
    Ok(StatementId::from_parts(ms, &random))
}

/// Adds `id` (a new UUIDv7) and `occurred_at` (now) when the statement lacks them. Returns the
/// input bytes untouched when nothing was missing, so that what the officer wrote is what is
/// signed.
pub fn fill_defaults(bytes: &[u8], clock: &dyn Clock) -> Result<Vec<u8>, ComposeError> {
    // Re-serializing would silently keep one copy of a repeated key: the parse refuses it.
    let Value::Object(mut map) = crate::format::statement::parse_unambiguous(bytes)? else {
        // Not an object (or not JSON): leave it for the statement parser to explain.
        return Ok(bytes.to_vec());
    };
    let mut changed = false;
    if !map.contains_key("id") {
        map.insert(
            "id".into(),
            Value::String(new_statement_id(clock)?.to_string()),
        );
        changed = true;
    }
    if !map.contains_key("occurred_at") {
        map.insert(
            "occurred_at".into(),
            Value::String(clock.now().to_seconds_text()),
        );
        changed = true;
    }
    if !changed {
        return Ok(bytes.to_vec());
    }
    Ok(serde_json::to_vec(&Value::Object(map)).expect("a JSON object always serializes"))
}

fn statement(
    kind: &str,
    clock: &dyn Clock,
    facility: &str,
    signers: &[(SignerRole, &OfficerId)],
    body: Map<String, Value>,
) -> Result<Vec<u8>, ComposeError> {
    let mut map = Map::new();
    map.insert("type".into(), json!(kind));
    map.insert("id".into(), json!(new_statement_id(clock)?.to_string()));
    map.insert("occurred_at".into(), json!(clock.now().to_seconds_text()));
    map.insert("facility".into(), json!(facility));
    map.insert(
        "signers".into(),
        Value::Array(
            signers
                .iter()
                .map(|(role, officer)| json!({"role": role.as_str(), "officer": officer.as_str()}))
                .collect(),
        ),
    );
    map.insert("after".into(), json!({}));
    map.extend(body);
    Ok(serde_json::to_vec(&Value::Object(map)).expect("a JSON object always serializes"))
}

fn body(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The genesis of a new ledger: it starts under the newest rules version this software knows.
pub fn genesis(
    clock: &dyn Clock,
    facility: &str,
    origin: &str,
    ledger_key: &str,
    admin: &OfficerInput,
) -> Result<Vec<u8>, ComposeError> {
    statement(
        "ledger_genesis",
        clock,
        facility,
        &[(SignerRole::Admin, &admin.id)],
        body(json!({
            "origin": origin,
            "ledger_key": ledger_key,
            "admin": admin.to_json(),
            "rules": crate::domain::rules::RULES_VERSION_NEWEST,
        })),
    )
}

pub fn enrollment(
    clock: &dyn Clock,
    facility: &str,
    admin: &OfficerId,
    officer: &OfficerInput,
    reason: Option<&str>,
) -> Result<Vec<u8>, ComposeError> {
    let mut b = body(json!({"officer": officer.to_json()}));
    if let Some(r) = reason {
        b.insert("reason".into(), json!(r));
    }
    statement(
        "officer_enrolled",
        clock,
        facility,
        &[(SignerRole::Admin, admin)],
        b,
    )
}

pub fn rotation(
    clock: &dyn Clock,
    facility: &str,
    admin: &OfficerId,
    officer: &OfficerId,
    new_key: &PublicKey,
    reason: &str,
) -> Result<Vec<u8>, ComposeError> {
    statement(
        "officer_key_rotated",
        clock,
        facility,
        &[(SignerRole::Admin, admin), (SignerRole::KeyHolder, officer)],
        body(
            json!({"officer": officer.as_str(), "public_key": new_key.to_base64(), "reason": reason}),
        ),
    )
}

/// An `officer_updated` changing the fields `changes` holds (`name`, `rank`, `agency`, `unit`,
/// `home`), signed by the administrator.
pub fn officer_update(
    clock: &dyn Clock,
    facility: &str,
    admin: &OfficerId,
    officer: &OfficerId,
    changes: Map<String, Value>,
    reason: &str,
) -> Result<Vec<u8>, ComposeError> {
    let mut b = changes;
    b.insert("officer".into(), json!(officer.as_str()));
    b.insert("reason".into(), json!(reason));
    statement(
        "officer_updated",
        clock,
        facility,
        &[(SignerRole::Admin, admin)],
        b,
    )
}

/// A `facility_registered` of `record` (its code, name, address, zone and letterhead), signed by
/// the administrator.
pub fn facility_registration(
    clock: &dyn Clock,
    facility: &str,
    admin: &OfficerId,
    record: Value,
) -> Result<Vec<u8>, ComposeError> {
    statement(
        "facility_registered",
        clock,
        facility,
        &[(SignerRole::Admin, admin)],
        body(record),
    )
}

/// What replaces a lost key: whose, the new key, why, and the report of the loss if any.
pub struct Replacement<'a> {
    pub officer: &'a OfficerId,
    pub new_key: &'a PublicKey,
    pub reason: &'a str,
    pub report: Option<&'a str>,
}

/// An `officer_key_replaced`: the administrator and the witnesses sign; the officer whose key
/// was lost does not.
pub fn key_replacement(
    clock: &dyn Clock,
    facility: &str,
    admin: &OfficerId,
    witnesses: &[OfficerId],
    r: &Replacement<'_>,
) -> Result<Vec<u8>, ComposeError> {
    let mut signers = vec![(SignerRole::Admin, admin)];
    signers.extend(witnesses.iter().map(|w| (SignerRole::Witness, w)));
    let mut b = body(json!({
        "officer": r.officer.as_str(),
        "public_key": r.new_key.to_base64(),
        "reason": r.reason,
    }));
    if let Some(report) = r.report {
        b.insert("report".into(), json!(report));
    }
    statement("officer_key_replaced", clock, facility, &signers, b)
}

pub fn revocation(
    clock: &dyn Clock,
    facility: &str,
    admin: &OfficerId,
    officer: &OfficerId,
    reason: &str,
) -> Result<Vec<u8>, ComposeError> {
    statement(
        "officer_revoked",
        clock,
        facility,
        &[(SignerRole::Admin, admin)],
        body(json!({"officer": officer.as_str(), "reason": reason})),
    )
}

pub fn note(
    clock: &dyn Clock,
    facility: &str,
    author: &OfficerId,
    text: &str,
    refers_to: Option<u64>,
) -> Result<Vec<u8>, ComposeError> {
    let mut b = body(json!({"text": text}));
    if let Some(seq) = refers_to {
        b.insert("refers_to".into(), json!(seq));
    }
    statement(
        "note_added",
        clock,
        facility,
        &[(SignerRole::Author, author)],
        b,
    )
}

/// A find of contraband that creates `item`: the finder and every witness sign it.
pub fn contraband_found(
    clock: &dyn Clock,
    facility: &str,
    finder: &OfficerId,
    witnesses: &[&OfficerId],
    item: &str,
    incident: &str,
    concealment: &str,
) -> Result<Vec<u8>, ComposeError> {
    let mut signers = vec![(SignerRole::Finder, finder)];
    signers.extend(witnesses.iter().map(|w| (SignerRole::Witness, *w)));
    let mut bytes = body(json!({
        "incident": incident,
        "item": item,
        "description": {"name": "Sachet plastik berisi kristal diduga sabu", "form": "crystal"},
        "category": "narcotic",
        "count": 1,
        "concealment": concealment,
        "persons": [],
        "photos": [],
    }));
    bytes.insert("after".into(), json!({ item: null }));
    statement("contraband_found", clock, facility, &signers, bytes)
}

/// A `rules_adopted` moving the ledger to rules `version`, signed by the administrator `admin`.
pub fn rules_adoption(
    clock: &dyn Clock,
    facility: &str,
    admin: &OfficerId,
    version: u32,
) -> Result<Vec<u8>, ComposeError> {
    statement(
        "rules_adopted",
        clock,
        facility,
        &[(SignerRole::Admin, admin)],
        body(json!({ "version": version })),
    )
}

/// Wraps statement bytes in an envelope signed by every key given.
pub fn sign_statement(bytes: Vec<u8>, keys: &[&SecretKey]) -> Result<Envelope, ComposeError> {
    let mut envelope = Envelope::unsigned(bytes)?;
    for key in keys {
        envelope.sign(key)?;
    }
    Ok(envelope)
}

/// Fills a missing `after` with the current head of every item the statement touches (null for
/// items it creates), as an officer's device does after reading the items. `head` answers an
/// item's current head, or None if the ledger does not hold it. Statements that already carry
/// `after` are returned untouched: the officers signed what they saw.
pub fn fill_after(
    bytes: &[u8],
    head: &dyn Fn(&crate::base::ids::ItemId) -> Option<String>,
) -> Result<Vec<u8>, ComposeError> {
    let Value::Object(mut map) = crate::format::statement::parse_unambiguous(bytes)? else {
        return Ok(bytes.to_vec());
    };
    if map.contains_key("after") {
        return Ok(bytes.to_vec());
    }
    let mut probe = map.clone();
    probe.insert("after".into(), json!({}));
    let probe = serde_json::to_vec(&Value::Object(probe)).expect("a JSON object always serializes");
    let statement = crate::format::statement::Statement::parse(&probe)?;
    let after: Map<String, Value> = statement
        .body
        .items()
        .into_iter()
        .map(|(item, _)| {
            let h = head(&item).map_or(Value::Null, Value::String);
            (item.to_string(), h)
        })
        .collect();
    map.insert("after".into(), Value::Object(after));
    Ok(serde_json::to_vec(&Value::Object(map)).expect("a JSON object always serializes"))
}

/// Creates a ledger whose genesis names `admin` (signed with `admin_key`) at `facility`.
pub fn init_ledger(
    dir: &std::path::Path,
    origin: &crate::base::ids::Origin,
    facility: &str,
    clock: std::sync::Arc<dyn Clock>,
    admin: &OfficerInput,
    admin_key: &SecretKey,
) -> Result<(crate::app::ledger::Ledger, crate::app::ledger::Receipt), crate::app::ledger::OpenError>
{
    use crate::app::ledger::{AppendError, Ledger};
    let c = std::sync::Arc::clone(&clock);
    Ledger::init(dir, origin, clock, |vkey| {
        let bytes = genesis(
            c.as_ref(),
            facility,
            origin.as_str(),
            &vkey.to_string(),
            admin,
        )
        .map_err(|e| AppendError::Stopped(e.explain()))?;
        sign_statement(bytes, &[admin_key]).map_err(|e| AppendError::Stopped(e.explain()))
    })
}

impl crate::base::class::Classify for ComposeError {
    fn class(&self) -> crate::base::class::Class {
        match self {
            Self::NotAnObject => crate::base::class::Class::Malformed,
            Self::Key(e) => e.class(),
            Self::Envelope(e) => e.class(),
            Self::Statement(e) => e.class(),
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            Self::Envelope(e) => e.field(),
            Self::Statement(e) => e.field(),
            _ => None,
        }
    }
}

/// Why a generated ledger (the demo, a benchmark's, the torture harness's) could not be built.
#[derive(Debug)]
pub enum BuildError {
    Open(crate::app::ledger::OpenError),
    Append(crate::app::ledger::AppendError),
    Key(KeyError),
    Compose(ComposeError),
    /// A value the builder was given does not parse (an origin, a count): why, said whole.
    Input(Message),
    /// A read of what was just built failed: why, said whole.
    Io(Message),
    /// The server the acts went to refused one, with the class it gave.
    Target {
        class: crate::base::class::Class,
        message: Message,
    },
}

crate::english_display!(BuildError);

impl Explain for BuildError {
    fn explain(&self) -> Message {
        match self {
            Self::Open(e) => e.explain(),
            Self::Append(e) => e.explain(),
            Self::Key(e) => e.explain(),
            Self::Compose(e) => e.explain(),
            Self::Input(m) | Self::Io(m) => m.clone(),
            Self::Target { message, .. } => {
                msg("err.compose.target").part("message", message.clone())
            }
        }
    }
}

impl From<crate::app::ledger::OpenError> for BuildError {
    fn from(e: crate::app::ledger::OpenError) -> Self {
        Self::Open(e)
    }
}

impl From<crate::app::ledger::AppendError> for BuildError {
    fn from(e: crate::app::ledger::AppendError) -> Self {
        Self::Append(e)
    }
}

impl From<KeyError> for BuildError {
    fn from(e: KeyError) -> Self {
        Self::Key(e)
    }
}

impl From<ComposeError> for BuildError {
    fn from(e: ComposeError) -> Self {
        Self::Compose(e)
    }
}

impl crate::base::class::Classify for BuildError {
    fn class(&self) -> crate::base::class::Class {
        use crate::base::class::Class;
        match self {
            Self::Open(e) => e.class(),
            Self::Append(e) => e.class(),
            Self::Key(e) => e.class(),
            Self::Compose(e) => e.class(),
            Self::Input(_) => Class::Usage,
            Self::Io(_) => Class::Corrupt,
            Self::Target { class, .. } => *class,
        }
    }
}
