//! The rules that decide whether a statement may enter the log at a given position: who must
//! sign it, which enrolled officers and keys may, and the identity state those statements build.
//! Pure: no I/O, clock or randomness. `check` decides and returns an `Admitted` statement (a type
//! only this module can build); `apply` folds an admitted statement into the state and cannot
//! fail. The same fold runs on append, on reopen and in `verify`.

use crate::base::ids::{FacilityId, ItemId, OfficerId, OfficerRole, Origin, SignerRole};
use crate::base::time::Timestamp;
use crate::base::words::{Explain, Message, msg};
use crate::format::envelope::Envelope;
use crate::format::statement::{Body, OfficerRecord, Signer, Statement, StatementType};
use crate::keys::signing::PublicKey;
use std::collections::{BTreeMap, HashMap};

/// The rules version of ledgers written before rules were versioned (a genesis without `rules`):
/// no write scope — any enrolled officer whose role the role table allows may act on any item,
/// at any facility.
pub const RULES_VERSION_FIRST: u32 = 1;
/// The newest rules version this software knows, which every new ledger's genesis names:
/// version 2 adds write scope (`scope::WRITE_SCOPE`): an act on an item is signed by an officer
/// who may act on it, at a facility where they may act. A ledger moves to a newer version with a
/// `rules_adopted` statement; every entry is checked under the version in force at its position.
/// Version 3 makes the unit reach of write scope a unit at a facility
/// (`scope::UNIT_AT_FACILITY_SINCE`).
/// Version 4 keeps personal data off the log (`SUBJECTS_OFF_LOG_SINCE`).
/// Version 5 refuses at record time what cannot be true (`IMPOSSIBLE_FACTS_REFUSED_SINCE`).
pub const RULES_VERSION_NEWEST: u32 = 5;

/// The first rules version under which a statement that cannot be true is refused when it is
/// recorded, not only reported by the audit afterwards: an act dated after the ledger recorded it
/// (beyond `OCCURRED_AT_SKEW_SECONDS`), an act on an item dated before the act that created it, a
/// seal number already applied to another item, a sample heavier than its parent, a reference to
/// a statement that is not what the field says it is; and what is suspicious but possible (a mass
/// difference under intact seals, a late receipt) unless the statement confirms it was seen
/// (`confirmed`). A log is evidence: a fact that the audit can only flag later has already been
/// signed, witnessed and mirrored, and the officers who could have corrected it are gone.
pub const IMPOSSIBLE_FACTS_REFUSED_SINCE: u32 = 5;

/// How far, in seconds, an act's `occurred_at` may lie after the ledger's `recorded_at` for it
/// under rules version 5: the officer's device and the ledger's server keep their own clocks, and
/// a phone set by hand or not yet synchronised is a few minutes off; five minutes forgives that
/// without admitting an act dated in the future.
pub const OCCURRED_AT_SKEW_SECONDS: i64 = 300;

/// The first rules version under which a person who is not an officer is named only by a subject
/// id and a commitment (the personal data in the subject register, docs/PRIVACY.md), and free text
/// may hold nothing shaped like a NIK or passport number (`domain::privacy`). The log is immutable
/// and mirrored: what it holds, every mirror holds forever.
pub const SUBJECTS_OFF_LOG_SINCE: u32 = 4;

/// The first rules version under which units are tied to facilities: a unit name belongs to the
/// facility of its first enrollment, and the unit reach of write scope is a unit *at a facility*
/// (an officer reaches an item their unit holds only when the holder is enrolled at the officer's
/// own facility). Unit names are free text and repeat across institutions (every Lapas has a "P2U"
/// gate unit and a "KPLP"), so under version 2 a gate officer of one Lapas reached what the
/// same-named unit of another held. Reads always use the newest rules.
pub const UNIT_AT_FACILITY_SINCE: u32 = 3;

/// One function in an act (a signer role) and who may fill it.
#[derive(Debug)]
pub struct SignerRule {
    pub role: SignerRole,
    pub min: usize,
    pub max: usize,
    /// Officer roles allowed to fill it; an officer needs at least one of them.
    pub officer_roles: &'static [OfficerRole],
}

/// Who must sign a statement type.
#[derive(Debug)]
pub struct TypeRule {
    pub kind: StatementType,
    pub signers: &'static [SignerRule],
}

use OfficerRole::*;

/// Every role that acts: every `OfficerRole` but `auditor`, which is read-only and signs nothing
/// (docs/DOMAIN.md "the acting roles"; a test keeps it equal to `OfficerRole::ALL` without it).
pub const ACTING_ROLES: &[OfficerRole] = &[
    Admin,
    GateOfficer,
    SecurityOfficer,
    Investigator,
    LabExaminer,
    LabHead,
    Custodian,
    Prosecutor,
];

/// Who may search and find: prison gate and security staff, and police investigators.
pub const SEARCHERS: &[OfficerRole] = &[GateOfficer, SecurityOfficer, Investigator];

/// Who may handle an item physically (seal, weigh, count).
pub const HANDLERS: &[OfficerRole] = &[
    GateOfficer,
    SecurityOfficer,
    Investigator,
    LabExaminer,
    Custodian,
];

const fn signer(
    role: SignerRole,
    min: usize,
    max: usize,
    officer_roles: &'static [OfficerRole],
) -> SignerRule {
    SignerRule {
        role,
        min,
        max,
        officer_roles,
    }
}

const fn row(kind: StatementType, signers: &'static [SignerRule]) -> TypeRule {
    TypeRule { kind, signers }
}

use SignerRole as S;
use StatementType as T;

/// The role table: required signers per statement type (docs/DOMAIN.md "Event vocabulary"; the
/// summary is in docs/EVENTS.md). `min`/`max` count the signers in each role; each signer is a
/// different officer. The first signer role of each row is the *acting* one (`acting_role`): the
/// officer who does the act, whom write scope (`scope`) judges; the others sign beside them.
#[rustfmt::skip]
pub const TYPE_RULES: &[TypeRule] = &[
    row(T::LedgerGenesis, &[signer(S::Admin, 1, 1, &[Admin])]),
    row(T::OfficerEnrolled, &[signer(S::Admin, 1, 1, &[Admin])]),
    row(T::OfficerKeyRotated, &[signer(S::Admin, 1, 1, &[Admin]), signer(S::KeyHolder, 1, 1, ACTING_ROLES)]),
    row(T::OfficerRevoked, &[signer(S::Admin, 1, 1, &[Admin])]),
    row(T::SearchConducted, &[signer(S::Actor, 1, 1, SEARCHERS), signer(S::Witness, 1, 4, ACTING_ROLES)]),
    row(T::ContrabandFound, &[signer(S::Finder, 1, 1, SEARCHERS), signer(S::Witness, 1, 4, ACTING_ROLES)]),
    row(T::ItemSealed, &[signer(S::Actor, 1, 1, HANDLERS), signer(S::Witness, 1, 4, ACTING_ROLES)]),
    row(T::Weighed, &[signer(S::Weigher, 1, 1, HANDLERS), signer(S::Witness, 1, 4, ACTING_ROLES)]),
    row(T::CustodyReleased, &[signer(S::Giver, 1, 1, ACTING_ROLES), signer(S::Witness, 2, 4, ACTING_ROLES)]),
    row(T::CustodyReceived, &[signer(S::Receiver, 1, 1, ACTING_ROLES), signer(S::Witness, 0, 4, ACTING_ROLES)]),
    row(T::SeizureRecorded, &[signer(S::Investigator, 1, 1, &[Investigator]), signer(S::Witness, 2, 4, ACTING_ROLES)]),
    row(T::SampleSetAside, &[signer(S::Investigator, 1, 1, &[Investigator, LabExaminer]), signer(S::Witness, 0, 4, ACTING_ROLES)]),
    row(T::SeizureNotified, &[signer(S::Investigator, 1, 1, &[Investigator])]),
    row(T::LabRequested, &[signer(S::UnitHead, 1, 1, &[Investigator])]),
    row(T::LabReceived, &[signer(S::LabIntake, 1, 1, &[LabExaminer, LabHead]), signer(S::Witness, 0, 4, ACTING_ROLES)]),
    row(T::LabResult, &[signer(S::Examiner, 1, 1, &[LabExaminer]), signer(S::LabHead, 1, 1, &[LabHead])]),
    row(T::StatusDetermined, &[signer(S::Prosecutor, 1, 1, &[Prosecutor])]),
    row(T::Stored, &[signer(S::Custodian, 1, 1, &[Custodian]), signer(S::Deliverer, 1, 1, ACTING_ROLES)]),
    row(T::CheckedOut, &[signer(S::Custodian, 1, 1, &[Custodian]), signer(S::Borrower, 1, 1, ACTING_ROLES)]),
    row(T::Returned, &[signer(S::Custodian, 1, 1, &[Custodian]), signer(S::Borrower, 0, 1, ACTING_ROLES), signer(S::Witness, 0, 4, ACTING_ROLES)]),
    row(T::Destroyed, &[signer(S::Actor, 1, 1, &[Investigator, Custodian, Prosecutor]), signer(S::Witness, 2, 8, ACTING_ROLES), signer(S::Official, 0, 8, ACTING_ROLES)]),
    row(T::InventoryCounted, &[signer(S::Counter, 2, 2, HANDLERS), signer(S::Supervisor, 1, 1, ACTING_ROLES)]),
    row(T::NoteAdded, &[signer(S::Author, 1, 1, ACTING_ROLES)]),
    row(T::Correction, &[signer(S::Author, 1, 1, ACTING_ROLES), signer(S::Supervisor, 1, 1, ACTING_ROLES)]),
    row(T::RulesAdopted, &[signer(S::Admin, 1, 1, &[Admin])]),
    row(T::SubjectsLinked, &[signer(S::Actor, 1, 1, &[Investigator, SecurityOfficer]), signer(S::Witness, 0, 4, ACTING_ROLES)]),
    row(T::SubjectErased, &[signer(S::Admin, 1, 1, &[Admin])]),
    row(T::OfficerKeyReplaced, &[signer(S::Admin, 1, 1, &[Admin]), signer(S::Witness, 1, 4, ACTING_ROLES)]),
    row(T::OfficerUpdated, &[signer(S::Admin, 1, 1, &[Admin])]),
    row(T::FacilityRegistered, &[signer(S::Admin, 1, 1, &[Admin])]),
];

pub fn type_rule(kind: StatementType) -> &'static TypeRule {
    TYPE_RULES
        .iter()
        .find(|r| r.kind == kind)
        .expect("every statement type has a row in TYPE_RULES (checked by tests)")
}

/// The signer role of the officer who does an act of this type: the first of its row.
pub fn acting_role(kind: StatementType) -> SignerRole {
    type_rule(kind).signers[0].role
}

/// Why a statement may not enter the log here. Each message (`err.rule.*` in the catalogues) names
/// the officer or item, the rule, and the seq that established the conflicting state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleError {
    GenesisFirst(StatementType),
    GenesisTwice,
    GenesisOrigin {
        expected: String,
        got: String,
    },
    GenesisLedgerKey {
        expected: String,
    },
    GenesisAdminRole,
    SignerRole {
        kind: StatementType,
        role: String,
        allowed: String,
    },
    SignerCount {
        kind: StatementType,
        role: &'static str,
        min: usize,
        max: usize,
        got: usize,
    },
    DuplicateSigner {
        officer: OfficerId,
    },
    UnknownOfficer {
        officer: OfficerId,
        role: String,
    },
    OfficerRevoked {
        officer: OfficerId,
        role: String,
        revoked_at: u64,
    },
    RoleNotAllowed {
        officer: OfficerId,
        role: String,
        has: String,
        needs: String,
    },
    MissingSignature {
        officer: OfficerId,
        role: String,
        keyid: String,
        since: u64,
    },
    BadSignature {
        officer: OfficerId,
        keyid: String,
    },
    StraySignature {
        index: usize,
        keyid: String,
        /// Whose key it is, if anyone's, and why it may not sign here.
        detail: Message,
    },
    AlreadyEnrolled {
        officer: OfficerId,
        seq: u64,
    },
    NotEnrolled {
        officer: OfficerId,
    },
    UnitElsewhere {
        unit: String,
        facility: String,
        here: String,
        seq: u64,
    },
    AlreadyRevoked {
        officer: OfficerId,
        seq: u64,
    },
    BadPublicKey {
        field: &'static str,
        /// Why the key does not parse, as the key's own error says it.
        reason: Message,
    },
    KeyInUse {
        field: &'static str,
        officer: OfficerId,
        seq: u64,
    },
    KeyIdInUse {
        field: &'static str,
        keyid: String,
        officer: OfficerId,
    },
    LastAdmin {
        officer: OfficerId,
    },
    KeyHolderMismatch {
        officer: OfficerId,
        got: OfficerId,
    },
    ReplacedOfficerSigns {
        officer: OfficerId,
    },
    RefersToFuture {
        refers_to: u64,
        last: u64,
    },
    UnknownItem {
        item: String,
    },
    OutOfScope {
        item: ItemId,
        officer: OfficerId,
        role: &'static str,
    },
    FacilityOutOfScope {
        facility: FacilityId,
        officer: OfficerId,
        role: &'static str,
        home: String,
    },
    LabelTaken {
        item: ItemId,
    },
    AfterExtra {
        item: ItemId,
    },
    AfterMissing {
        item: ItemId,
    },
    ItemExists {
        item: ItemId,
        seq: u64,
    },
    StaleView {
        item: ItemId,
        head: String,
        seq: u64,
    },
    ItemClosed {
        item: ItemId,
        status: &'static str,
        seq: u64,
    },
    InTransit {
        item: ItemId,
        seq: u64,
        to: String,
    },
    HolderMustSign {
        item: ItemId,
        holder: OfficerId,
        seq: u64,
    },
    NotHolder {
        item: ItemId,
        officer: OfficerId,
        holder: Option<OfficerId>,
        seq: u64,
    },
    NotInTransit {
        item: ItemId,
        seq: u64,
    },
    WrongReceiver {
        item: ItemId,
        officer: OfficerId,
        /// Whom the release names: an officer or unit, or a unit.
        to: Message,
        seq: u64,
    },
    SealMismatch {
        item: ItemId,
        expected: String,
        got: String,
        seq: u64,
    },
    SealNotOnItem {
        item: ItemId,
        seal: String,
        seals: String,
    },
    NoDestructionOrder {
        item: ItemId,
    },
    SampleTooLarge {
        item: ItemId,
        sample_mg: u64,
        known_mg: u64,
        seq: u64,
    },
    CorrectionOutsideItem {
        item: ItemId,
        refers_to: u64,
        born: u64,
        last: u64,
    },
    SignerMissing {
        role: &'static str,
        /// The catalogue key of the rule that wants this signer.
        why: &'static str,
    },
    RulesUnknown {
        field: &'static str,
        version: u32,
        newest: u32,
    },
    PersonInClear {
        field: String,
        kind: String,
    },
    NotAttested {
        seq: u64,
        last: u64,
    },
    AttestedOutside {
        seq: u64,
    },
    AttestedSeq {
        expected: u64,
        got: u64,
    },
    AttestationSignature {
        by: OfficerId,
        keyid: String,
        /// The catalogue key of what is wrong with the envelope's signatures.
        detail: &'static str,
    },
    IdentifierInText {
        field: String,
        what: &'static str,
    },
    LinkToItself {
        subject: String,
    },
    OccurredAfterRecorded {
        occurred_at: String,
        recorded_at: String,
        skew_s: i64,
    },
    BeforeItemExisted {
        item: ItemId,
        occurred_at: String,
        born_at: String,
        born_seq: u64,
    },
    SealUsed {
        field: &'static str,
        seal: String,
        other: ItemId,
        seq: u64,
    },
    MassAboveParent {
        field: &'static str,
        item: ItemId,
        mass_mg: u64,
        /// The catalogue key of the parent's mass compared against: net or gross.
        what: &'static str,
        parent_mg: u64,
        seq: u64,
    },
    WrongReference {
        field: &'static str,
        seq: u64,
        /// What the field must name.
        wants: Message,
    },
    Unconfirmed {
        /// The `confirmed` entry wanted (`custody::CONFIRM_*`), a name, not words.
        what: &'static str,
        /// What was seen that needs confirming.
        detail: Message,
    },
    RulesNotNewer {
        version: u32,
        in_force: u32,
        since: u64,
    },
}

/// A key of an officer and the part of the log in which it may sign: seqs in
/// `(from_seq, until_seq]`, i.e. after the statement that enrolled it, up to and including the
/// statement that retired it (a rotation is signed by the old key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyState {
    pub key: PublicKey,
    pub keyid: String,
    pub from_seq: u64,
    pub until_seq: Option<u64>,
}

/// An enrolled officer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficerState {
    pub record: OfficerRecord,
    /// The facility of the enrollment statement: the officer's home, which scopes their reads.
    pub facility: FacilityId,
    pub enrolled_at: u64,
    pub revoked_at: Option<u64>,
    pub keys: Vec<KeyState>,
}

impl OfficerState {
    /// The key that may sign for this officer now, if any.
    pub fn current_key(&self) -> Option<&KeyState> {
        if self.revoked_at.is_some() {
            return None;
        }
        self.keys.iter().find(|k| k.until_seq.is_none())
    }
}

/// The identity state of a ledger after its first `size` leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    origin: Origin,
    ledger_key: String,
    size: u64,
    /// The rules version in force for the next statement, and the seq that put it in force.
    rules: u32,
    rules_since: u64,
    officers: BTreeMap<OfficerId, OfficerState>,
    /// Every key ever enrolled, by raw bytes, to refuse reuse and to find an officer by key.
    keys: HashMap<[u8; 32], (OfficerId, u64)>,
    /// Every key ever enrolled, by key id (validity is decided by `check`, not here).
    by_keyid: HashMap<String, Vec<PublicKey>>,
    /// Each unit name and the facility (and seq) of its first enrollment: from rules version 3 a
    /// unit name belongs to one facility, so that a release to a unit names one place.
    unit_homes: BTreeMap<String, (FacilityId, u64)>,
    /// The re-founding the genesis declared, if any.
    refounding: Option<Refounding>,
    /// The register of places: each facility code's latest `facility_registered`, and its seq.
    facilities: BTreeMap<FacilityId, (crate::format::statement::FacilityRecord, u64)>,
}

/// A re-founding as its genesis declared it (`refounds`, docs/FORMAT.md §17.7): entries 1 to
/// `size - 1` re-record the old ledger `origin` one for one, each signed by `key`, the attesting
/// administrator `by`, in place of the officers it names. The officers' own signatures stay in
/// the old ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refounding {
    pub origin: String,
    pub size: u64,
    pub by: OfficerId,
    pub key: PublicKey,
}

/// A statement that passed every check at a given position. Only `check` makes one, so holding
/// one proves the signatures and rules were checked against that state.
#[derive(Debug, Clone)]
pub struct Admitted {
    statement: Statement,
    envelope: Envelope,
    seq: u64,
}

impl Admitted {
    pub fn statement(&self) -> &Statement {
        &self.statement
    }
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }
    pub fn seq(&self) -> u64 {
        self.seq
    }
    pub fn into_envelope(self) -> Envelope {
        self.envelope
    }
}

/// Signatures already checked cryptographically against a key, outside the sequencer: index in
/// the envelope → the key it verified under. Only `preverify` builds one.
#[derive(Debug, Clone, Default)]
pub struct PreVerified {
    verified: Vec<(usize, PublicKey)>,
}

impl State {
    /// An empty ledger with this origin and checkpoint verifier key, waiting for its genesis.
    pub fn new(origin: Origin, ledger_key: String) -> Self {
        Self {
            origin,
            ledger_key,
            size: 0,
            rules: RULES_VERSION_FIRST,
            rules_since: 0,
            officers: BTreeMap::new(),
            keys: HashMap::new(),
            by_keyid: HashMap::new(),
            unit_homes: BTreeMap::new(),
            refounding: None,
            facilities: BTreeMap::new(),
        }
    }

    /// A facility as the register of places records it now, and the seq that recorded it.
    pub fn facility(
        &self,
        code: &FacilityId,
    ) -> Option<&(crate::format::statement::FacilityRecord, u64)> {
        self.facilities.get(code)
    }

    /// Every registered facility, by code.
    pub fn facilities(
        &self,
    ) -> impl Iterator<Item = &(crate::format::statement::FacilityRecord, u64)> {
        self.facilities.values()
    }

    /// The re-founding this ledger's genesis declared, if any.
    pub fn refounding(&self) -> Option<&Refounding> {
        self.refounding.as_ref()
    }

    /// The attesting administrator's key when the next entry lies inside the re-founding.
    fn attesting(&self) -> Option<&Refounding> {
        self.refounding.as_ref().filter(|r| self.size < r.size)
    }

    pub fn origin(&self) -> &Origin {
        &self.origin
    }
    pub fn ledger_key(&self) -> &str {
        &self.ledger_key
    }
    /// Leaves folded so far; the seq the next statement gets.
    pub fn size(&self) -> u64 {
        self.size
    }
    /// The rules version the next statement is checked under.
    pub fn rules_version(&self) -> u32 {
        self.rules
    }
    /// The seq of the statement that put the rules version in force (0: the genesis).
    pub fn rules_since(&self) -> u64 {
        self.rules_since
    }
    /// Every key ever enrolled under this key id (usually one; ids are 8 bytes of a hash).
    pub fn keys_with_id(&self, keyid: &str) -> &[PublicKey] {
        self.by_keyid.get(keyid).map_or(&[], Vec::as_slice)
    }

    /// The officer a key was enrolled for, whether or not it may still sign.
    pub fn officer_of_key(&self, key: &PublicKey) -> Option<&OfficerState> {
        self.keys
            .get(&key.to_bytes())
            .and_then(|(id, _)| self.officers.get(id))
    }

    pub fn officer(&self, id: &OfficerId) -> Option<&OfficerState> {
        self.officers.get(id)
    }
    pub fn officers(&self) -> impl Iterator<Item = &OfficerState> {
        self.officers.values()
    }

    /// Keys a signature's key id may refer to: those enrolled here, plus the founding admin's key
    /// carried by a genesis statement (which is enrolled by the very statement it signs).
    /// Looked up by key id through an index kept by `apply` (a scan of every officer per
    /// signature cost ~100 µs per statement on a ledger of a few hundred officers).
    fn candidate_keys(&self, statement: &Statement, keyid: &str) -> Vec<PublicKey> {
        let mut out: Vec<PublicKey> = self.by_keyid.get(keyid).cloned().unwrap_or_default();
        if let Body::LedgerGenesis { admin, .. } = &statement.body
            && let Ok(key) = PublicKey::from_base64(&admin.public_key)
            && key.key_id() == keyid
        {
            out.push(key);
        }
        // An entry `check` will refuse gets no attesting key to try.
        if let Ok(Some(key)) = attestation(self, statement)
            && key.key_id() == keyid
        {
            out.push(key);
        }
        out
    }
}

/// Checks every signature that names a key this state knows, with strict Ed25519. Safe to run on
/// many threads before the sequencer: the sequencer's `check` only trusts a result whose key is
/// still the signer's current key at the assigned position.
pub fn preverify(state: &State, envelope: &Envelope, statement: &Statement) -> PreVerified {
    let signed = envelope.signed_bytes();
    by_key_id(state, envelope, statement, |key, sig| {
        key.verify_strict(&signed, sig).is_ok()
    })
}

/// Takes every signature of a recorded leaf as made by the key its id names, without checking it
/// again. Only for refolding a log whose exact leaves are covered by a checkpoint the ledger
/// signed, each of them verified strictly when it was appended (`Ledger::rebuild` checks that
/// root): the views are then derived from what was verified, not re-verified. `custody verify`
/// is where every signature is checked again.
pub fn trust_recorded(state: &State, envelope: &Envelope, statement: &Statement) -> PreVerified {
    by_key_id(state, envelope, statement, |_, _| true)
}

/// Every (signature, key) pair whose key id matches and that `accept` accepts.
fn by_key_id(
    state: &State,
    envelope: &Envelope,
    statement: &Statement,
    accept: impl Fn(&PublicKey, &crate::keys::signing::Signature) -> bool,
) -> PreVerified {
    let mut verified = Vec::new();
    for (index, sig) in envelope.signatures().iter().enumerate() {
        for key in state.candidate_keys(statement, &sig.keyid) {
            if accept(&key, &sig.sig) {
                verified.push((index, key));
            }
        }
    }
    PreVerified { verified }
}

/// The rules on items that a statement must pass as well before it is admitted: the custody
/// state machine (`custody`), which builds on the identity state decided here. Passed in rather
/// than called, so that `rules` does not depend on the module that depends on it.
pub trait ItemRules {
    fn check_items(&self, state: &State, statement: &Statement) -> Result<(), RuleError>;
}

/// Decides whether `statement` (carried by `envelope`) may be the next leaf after `state`: the
/// identity, signer and body rules here, then `items` (`custody::admit` passes the custody rules).
pub fn check(
    state: &State,
    items: &dyn ItemRules,
    envelope: Envelope,
    statement: Statement,
    pre: Option<&PreVerified>,
    recorded_at: Timestamp,
) -> Result<Admitted, RuleError> {
    let seq = state.size;
    match (seq, statement.kind) {
        (0, StatementType::LedgerGenesis) => check_genesis(state, &statement)?,
        (0, other) => return Err(RuleError::GenesisFirst(other)),
        (_, StatementType::LedgerGenesis) => return Err(RuleError::GenesisTwice),
        _ => {}
    }
    check_signer_table(&statement)?;
    let attested = attestation(state, &statement)?;
    match attested {
        Some(key) => check_attested(state, &envelope, &statement, key, pre)?,
        None => check_signatures(state, &envelope, &statement, pre)?,
    }
    check_body(state, &statement)?;
    // A re-founding exists to take personal data out of the log: what it re-records is held to
    // that whatever rules version the old entry was written under.
    if state.rules >= SUBJECTS_OFF_LOG_SINCE || attested.is_some() {
        personal_data_off_log(&statement)?;
    }
    if state.rules >= IMPOSSIBLE_FACTS_REFUSED_SINCE {
        not_in_the_future(&statement, recorded_at)?;
    }
    items.check_items(state, &statement)?;
    Ok(Admitted {
        statement,
        envelope,
        seq,
    })
}

/// Decides, from rules version `IMPOSSIBLE_FACTS_REFUSED_SINCE`, that the act did not happen after
/// the ledger recorded it: `recorded_at` is the ledger's clock at append (the leaf carries it), so
/// verify and replay decide the same as the append did.
fn not_in_the_future(statement: &Statement, recorded_at: Timestamp) -> Result<(), RuleError> {
    if statement.occurred_at > recorded_at.plus_ms(OCCURRED_AT_SKEW_SECONDS * 1000) {
        return Err(RuleError::OccurredAfterRecorded {
            occurred_at: statement.occurred_at.to_canonical(),
            recorded_at: recorded_at.to_canonical(),
            skew_s: OCCURRED_AT_SKEW_SECONDS,
        });
    }
    Ok(())
}

/// Decides, from rules version `SUBJECTS_OFF_LOG_SINCE`, that the statement names no person who
/// is not an officer in the clear and holds no identifier in its free text (found when it was
/// parsed: `Statement::people`).
fn personal_data_off_log(statement: &Statement) -> Result<(), RuleError> {
    use crate::format::people::Finding;
    match statement.people.clone() {
        None => Ok(()),
        Some(Finding::PersonInClear { field, kind }) => {
            Err(RuleError::PersonInClear { field, kind })
        }
        Some(Finding::IdentifierInText { field, what }) => {
            Err(RuleError::IdentifierInText { field, what })
        }
    }
}

fn check_genesis(state: &State, statement: &Statement) -> Result<(), RuleError> {
    let Body::LedgerGenesis {
        origin,
        ledger_key,
        admin,
        rules,
        ..
    } = &statement.body
    else {
        unreachable!("check_genesis is only called for ledger_genesis statements")
    };
    if origin != &state.origin {
        return Err(RuleError::GenesisOrigin {
            expected: state.origin.to_string(),
            got: origin.to_string(),
        });
    }
    if ledger_key != &state.ledger_key {
        return Err(RuleError::GenesisLedgerKey {
            expected: state.ledger_key.clone(),
        });
    }
    if !admin.roles.contains(&OfficerRole::Admin) {
        return Err(RuleError::GenesisAdminRole);
    }
    if let Some(version) = rules {
        known_version("rules", *version)?;
    }
    PublicKey::from_base64(&admin.public_key).map_err(|e| RuleError::BadPublicKey {
        field: "/admin/public_key",
        reason: e.explain(),
    })?;
    Ok(())
}

fn check_signer_table(statement: &Statement) -> Result<(), RuleError> {
    let rule = type_rule(statement.kind);
    for s in &statement.signers {
        if !rule.signers.iter().any(|r| r.role == s.role) {
            return Err(RuleError::SignerRole {
                kind: statement.kind,
                role: s.role.as_str().to_string(),
                allowed: rule
                    .signers
                    .iter()
                    .map(|r| r.role.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    for r in rule.signers {
        let got = statement
            .signers
            .iter()
            .filter(|s| s.role == r.role)
            .count();
        if got < r.min || got > r.max {
            return Err(RuleError::SignerCount {
                kind: statement.kind,
                role: r.role.as_str(),
                min: r.min,
                max: r.max,
                got,
            });
        }
    }
    // An administrator may rotate their own key (one officer as admin and key_holder), so that a
    // ledger with a single administrator can still replace that administrator's key.
    let own_rotation = statement.kind == StatementType::OfficerKeyRotated;
    for (i, s) in statement.signers.iter().enumerate() {
        if statement.signers[..i]
            .iter()
            .any(|t| t.officer == s.officer && !own_rotation)
        {
            return Err(RuleError::DuplicateSigner {
                officer: s.officer.clone(),
            });
        }
    }
    Ok(())
}

fn roles_text(roles: &[OfficerRole]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Decides whether each signer holds an officer role their signer role allows and signed with
/// their current key, and whether every signature in the envelope belongs to a signer.
/// The signer's current key and the seq it signs from, once their officer roles are found to
/// allow the signer role they take in this act.
fn allowed_signer(
    state: &State,
    statement: &Statement,
    rule: &TypeRule,
    signer: &Signer,
) -> Result<(PublicKey, u64), RuleError> {
    let (record_roles, key, since) = signer_key(state, statement, signer)?;
    let signer_rule = rule
        .signers
        .iter()
        .find(|r| r.role == signer.role)
        .expect("check_signer_table ran first");
    if !record_roles
        .iter()
        .any(|r| signer_rule.officer_roles.contains(r))
    {
        return Err(RuleError::RoleNotAllowed {
            officer: signer.officer.clone(),
            role: signer.role.as_str().to_string(),
            has: roles_text(&record_roles),
            needs: roles_text(signer_rule.officer_roles),
        });
    }
    Ok((key, since))
}

/// Decides whether the next entry is attested, and by which key: inside a re-founding every
/// entry must carry `attests` naming its own seq; outside one none may.
fn attestation(state: &State, statement: &Statement) -> Result<Option<PublicKey>, RuleError> {
    let seq = state.size;
    if let Body::LedgerGenesis {
        refounds: Some(r), ..
    } = &statement.body
    {
        if statement.attests.is_some() {
            return Err(RuleError::AttestedOutside { seq });
        }
        let key = PublicKey::from_base64(&r.key).map_err(|e| RuleError::BadPublicKey {
            field: "/refounds/key",
            reason: e.explain(),
        })?;
        return Ok(Some(key));
    }
    match (state.attesting(), &statement.attests) {
        (Some(r), Some(a)) if a.seq == seq => Ok(Some(r.key)),
        (Some(_), Some(a)) => Err(RuleError::AttestedSeq {
            expected: seq,
            got: a.seq,
        }),
        (Some(r), None) => Err(RuleError::NotAttested {
            seq,
            last: r.size - 1,
        }),
        (None, Some(_)) => Err(RuleError::AttestedOutside { seq }),
        (None, None) => Ok(None),
    }
}

/// An attested entry: the officers it names must be enrolled, current and allowed their roles at
/// this position, exactly as in the old ledger; the one signature is the attesting
/// administrator's, over these bytes.
fn check_attested(
    state: &State,
    envelope: &Envelope,
    statement: &Statement,
    key: PublicKey,
    pre: Option<&PreVerified>,
) -> Result<(), RuleError> {
    let rule = type_rule(statement.kind);
    for signer in &statement.signers {
        allowed_signer(state, statement, rule, signer)?;
    }
    let by = match &statement.body {
        Body::LedgerGenesis {
            refounds: Some(r), ..
        } => r.by.clone(),
        _ => state
            .attesting()
            .map(|r| r.by.clone())
            .expect("attestation found a re-founding"),
    };
    let keyid = key.key_id();
    let fail = |detail| RuleError::AttestationSignature {
        by: by.clone(),
        keyid: keyid.clone(),
        detail,
    };
    match envelope.signatures() {
        [one] if one.keyid == keyid => {}
        [_] => return Err(fail("err.rule.attestation_signature.other_key")),
        [] => return Err(fail("err.rule.attestation_signature.none")),
        _ => return Err(fail("err.rule.attestation_signature.several")),
    }
    let preverified = pre.is_some_and(|p| p.verified.iter().any(|(i, k)| *i == 0 && *k == key));
    if !preverified {
        envelope
            .verify_signature(0, &key, &envelope.signed_bytes())
            .map_err(|_| fail("err.rule.attestation_signature.bad"))?;
    }
    Ok(())
}

fn check_signatures(
    state: &State,
    envelope: &Envelope,
    statement: &Statement,
    pre: Option<&PreVerified>,
) -> Result<(), RuleError> {
    let rule = type_rule(statement.kind);
    let mut signed_bytes: Option<Vec<u8>> = None;
    let mut used = vec![false; envelope.signatures().len()];
    for signer in &statement.signers {
        let (key, since) = allowed_signer(state, statement, rule, signer)?;
        let keyid = key.key_id();
        let Some(index) = envelope.signatures().iter().position(|s| s.keyid == keyid) else {
            return Err(RuleError::MissingSignature {
                officer: signer.officer.clone(),
                role: signer.role.as_str().to_string(),
                keyid,
                since,
            });
        };
        let preverified =
            pre.is_some_and(|p| p.verified.iter().any(|(i, k)| *i == index && *k == key));
        if !preverified {
            let bytes = signed_bytes.get_or_insert_with(|| envelope.signed_bytes());
            envelope
                .verify_signature(index, &key, bytes)
                .map_err(|_| RuleError::BadSignature {
                    officer: signer.officer.clone(),
                    keyid: keyid.clone(),
                })?;
        }
        used[index] = true;
    }
    if let Some(index) = used.iter().position(|u| !u) {
        return Err(stray_signature(state, envelope, index));
    }
    Ok(())
}

/// Who the signer is, at this position: their officer roles, current key and the seq that key
/// signs from. The genesis admin is enrolled by the statement itself; everyone else must already
/// be enrolled, unrevoked, with a current key.
fn signer_key(
    state: &State,
    statement: &Statement,
    signer: &Signer,
) -> Result<(Vec<OfficerRole>, PublicKey, u64), RuleError> {
    match (&statement.body, state.officers.get(&signer.officer)) {
        (Body::LedgerGenesis { admin, .. }, _) if admin.id == signer.officer => {
            let key =
                PublicKey::from_base64(&admin.public_key).map_err(|e| RuleError::BadPublicKey {
                    field: "/admin/public_key",
                    reason: e.explain(),
                })?;
            Ok((admin.roles.clone(), key, 0))
        }
        (_, None) => Err(RuleError::UnknownOfficer {
            officer: signer.officer.clone(),
            role: signer.role.as_str().to_string(),
        }),
        (_, Some(o)) => {
            if let Some(revoked_at) = o.revoked_at {
                return Err(RuleError::OfficerRevoked {
                    officer: signer.officer.clone(),
                    role: signer.role.as_str().to_string(),
                    revoked_at,
                });
            }
            let k = o
                .current_key()
                .expect("an unrevoked officer always has exactly one current key");
            Ok((o.record.roles.clone(), k.key, k.from_seq))
        }
    }
}

/// The refusal of the envelope's signature `index`, which no signer made: says whose key it is,
/// if anyone's, and why it may not sign here.
fn stray_signature(state: &State, envelope: &Envelope, index: usize) -> RuleError {
    let keyid = envelope.signatures()[index].keyid.clone();
    let detail = state
        .officers
        .values()
        .find_map(|o| {
            o.keys.iter().find(|k| k.keyid == keyid).map(|k| {
                let (key, seq) = match (o.revoked_at, k.until_seq) {
                    (Some(at), _) => ("err.rule.stray_signature.revoked", Some(at)),
                    (None, Some(until)) => ("err.rule.stray_signature.rotated_out", Some(until)),
                    (None, None) => ("err.rule.stray_signature.not_listed", None),
                };
                let detail = msg(key).arg("officer", &o.record.id);
                match seq {
                    Some(seq) => detail.arg("seq", seq),
                    None => detail,
                }
            })
        })
        .unwrap_or_else(|| msg("err.rule.stray_signature.not_enrolled"));
    RuleError::StraySignature {
        index,
        keyid,
        detail,
    }
}

fn new_key(state: &State, field: &'static str, text: &str) -> Result<PublicKey, RuleError> {
    let key = PublicKey::from_base64(text).map_err(|e| RuleError::BadPublicKey {
        field,
        reason: e.explain(),
    })?;
    if let Some((officer, seq)) = state.keys.get(&key.to_bytes()) {
        return Err(RuleError::KeyInUse {
            field,
            officer: officer.clone(),
            seq: *seq,
        });
    }
    // Signatures name keys by id; two keys with one id would make a signer ambiguous.
    let keyid = key.key_id();
    if let Some(o) = state
        .officers
        .values()
        .find(|o| o.keys.iter().any(|k| k.keyid == keyid))
    {
        return Err(RuleError::KeyIdInUse {
            field,
            keyid,
            officer: o.record.id.clone(),
        });
    }
    Ok(key)
}

fn enrolled<'s>(state: &'s State, officer: &OfficerId) -> Result<&'s OfficerState, RuleError> {
    let o = state
        .officers
        .get(officer)
        .ok_or_else(|| RuleError::NotEnrolled {
            officer: officer.clone(),
        })?;
    if let Some(seq) = o.revoked_at {
        return Err(RuleError::AlreadyRevoked {
            officer: officer.clone(),
            seq,
        });
    }
    Ok(o)
}

/// Decides, from rules version `UNIT_AT_FACILITY_SINCE`, that `unit` is not already the
/// name of a unit at another facility than `facility`: unit names are free text, and a release
/// names its receiving unit by name alone, so one name must mean one place.
fn unit_at_one_facility(state: &State, unit: &str, facility: &FacilityId) -> Result<(), RuleError> {
    if state.rules < UNIT_AT_FACILITY_SINCE {
        return Ok(());
    }
    match state.unit_homes.get(unit) {
        Some((home, seq)) if home != facility => Err(RuleError::UnitElsewhere {
            unit: unit.to_owned(),
            facility: home.to_string(),
            here: facility.to_string(),
            seq: *seq,
        }),
        _ => Ok(()),
    }
}

/// Decides whether this software knows rules `version` (named by `field`).
fn known_version(field: &'static str, version: u32) -> Result<(), RuleError> {
    if (RULES_VERSION_FIRST..=RULES_VERSION_NEWEST).contains(&version) {
        Ok(())
    } else {
        Err(RuleError::RulesUnknown {
            field,
            version,
            newest: RULES_VERSION_NEWEST,
        })
    }
}

fn check_body(state: &State, statement: &Statement) -> Result<(), RuleError> {
    match &statement.body {
        Body::RulesAdopted { version } => {
            if *version <= state.rules {
                return Err(RuleError::RulesNotNewer {
                    version: *version,
                    in_force: state.rules,
                    since: state.rules_since,
                });
            }
            known_version("version", *version)
        }
        Body::LedgerGenesis { .. } => Ok(()),
        Body::OfficerEnrolled { officer } => {
            if let Some(o) = state.officers.get(&officer.id) {
                return Err(RuleError::AlreadyEnrolled {
                    officer: officer.id.clone(),
                    seq: o.enrolled_at,
                });
            }
            unit_at_one_facility(state, &officer.unit, &statement.facility)?;
            new_key(state, "/officer/public_key", &officer.public_key).map(|_| ())
        }
        Body::OfficerKeyRotated { .. } | Body::OfficerKeyReplaced { .. } => {
            check_key_act(state, statement)
        }
        Body::OfficerUpdated(u) => {
            let o = enrolled(state, &u.officer)?;
            if u.unit.is_some() || u.home.is_some() {
                let unit = u.unit.as_deref().unwrap_or(&o.record.unit);
                unit_at_one_facility(state, unit, u.home.as_ref().unwrap_or(&o.facility))?;
            }
            Ok(())
        }
        Body::OfficerRevoked { officer, .. } => {
            let target = enrolled(state, officer)?;
            let is_admin = |o: &OfficerState| {
                o.revoked_at.is_none() && o.record.roles.contains(&OfficerRole::Admin)
            };
            if is_admin(target) && state.officers.values().filter(|o| is_admin(o)).count() == 1 {
                return Err(RuleError::LastAdmin {
                    officer: officer.clone(),
                });
            }
            Ok(())
        }
        // Acts on items are decided by `custody::check`.
        _ => Ok(()),
    }
}

/// A new key for an officer: with the old key's signature (a rotation) or without it, before
/// witnesses (a lost key's replacement).
fn check_key_act(state: &State, statement: &Statement) -> Result<(), RuleError> {
    match &statement.body {
        Body::OfficerKeyRotated {
            officer,
            public_key,
            ..
        } => {
            enrolled(state, officer)?;
            let holder = statement
                .signers
                .iter()
                .find(|s| s.role == SignerRole::KeyHolder)
                .expect("the signer table requires one key_holder");
            if &holder.officer != officer {
                return Err(RuleError::KeyHolderMismatch {
                    officer: officer.clone(),
                    got: holder.officer.clone(),
                });
            }
            new_key(state, "/public_key", public_key).map(|_| ())
        }
        Body::OfficerKeyReplaced {
            officer,
            public_key,
            ..
        } => {
            enrolled(state, officer)?;
            // The lost key may be in someone else's hands: it must not vouch for its own successor,
            // and the officer's new key is not theirs to sign with until this is recorded.
            if statement.signers.iter().any(|s| &s.officer == officer) {
                return Err(RuleError::ReplacedOfficerSigns {
                    officer: officer.clone(),
                });
            }
            new_key(state, "/public_key", public_key).map(|_| ())
        }
        _ => unreachable!("check_key_act is only asked about key acts"),
    }
}

/// Folds an admitted statement into the state. Infallible: everything that could fail was
/// decided by `check` against this same state.
pub fn apply(state: &mut State, admitted: &Admitted) {
    assert_eq!(
        admitted.seq, state.size,
        "an Admitted statement is applied to the state it was checked against"
    );
    let seq = admitted.seq;
    let facility = &admitted.statement.facility;
    let parse_key =
        |text: &str| PublicKey::from_base64(text).expect("check verified this public key parses");
    match &admitted.statement.body {
        Body::LedgerGenesis {
            admin,
            rules,
            refounds,
            ..
        } => {
            enroll(state, admin, facility, parse_key(&admin.public_key), seq);
            state.rules = rules.unwrap_or(RULES_VERSION_FIRST);
            state.rules_since = seq;
            state.refounding = refounds.as_ref().map(|r| Refounding {
                origin: r.origin.clone(),
                size: r.size,
                by: r.by.clone(),
                key: parse_key(&r.key),
            });
        }
        Body::RulesAdopted { version } => {
            state.rules = *version;
            state.rules_since = seq;
        }
        Body::OfficerEnrolled { officer } => enroll(
            state,
            officer,
            facility,
            parse_key(&officer.public_key),
            seq,
        ),
        Body::OfficerKeyRotated {
            officer,
            public_key,
            ..
        }
        | Body::OfficerKeyReplaced {
            officer,
            public_key,
            ..
        } => {
            new_current_key(state, officer, parse_key(public_key), seq);
        }
        Body::OfficerRevoked { officer, .. } => {
            let o = state
                .officers
                .get_mut(officer)
                .expect("check verified the officer is enrolled");
            o.revoked_at = Some(seq);
        }
        Body::OfficerUpdated(u) => update_officer(state, u, seq),
        Body::FacilityRegistered(f) => {
            state.facilities.insert(f.code.clone(), (f.clone(), seq));
        }
        _ => {}
    }
    state.size += 1;
}

/// Ends `officer`'s current key at `seq` and makes `key` their current key from after it.
fn new_current_key(state: &mut State, officer: &OfficerId, key: PublicKey, seq: u64) {
    let o = state
        .officers
        .get_mut(officer)
        .expect("check verified the officer is enrolled");
    for k in o.keys.iter_mut().filter(|k| k.until_seq.is_none()) {
        k.until_seq = Some(seq);
    }
    o.keys.push(KeyState {
        key,
        keyid: key.key_id(),
        from_seq: seq,
        until_seq: None,
    });
    state.keys.insert(key.to_bytes(), (officer.clone(), seq));
    state.by_keyid.entry(key.key_id()).or_default().push(key);
}

/// Replaces the fields an `officer_updated` gives; a new unit name is homed where the officer now
/// is, as an enrollment homes it.
fn update_officer(state: &mut State, u: &crate::format::statement::OfficerUpdate, seq: u64) {
    let o = state
        .officers
        .get_mut(&u.officer)
        .expect("check verified the officer is enrolled");
    let set = |field: &mut String, new: &Option<String>| {
        if let Some(v) = new {
            field.clone_from(v);
        }
    };
    set(&mut o.record.name, &u.name);
    set(&mut o.record.agency, &u.agency);
    set(&mut o.record.unit, &u.unit);
    if u.rank.is_some() {
        o.record.rank.clone_from(&u.rank);
    }
    if let Some(home) = &u.home {
        o.facility = home.clone();
    }
    let (unit, home) = (o.record.unit.clone(), o.facility.clone());
    state.unit_homes.entry(unit).or_insert((home, seq));
}

fn enroll(
    state: &mut State,
    record: &OfficerRecord,
    facility: &FacilityId,
    key: PublicKey,
    seq: u64,
) {
    state.keys.insert(key.to_bytes(), (record.id.clone(), seq));
    state.by_keyid.entry(key.key_id()).or_default().push(key);
    state
        .unit_homes
        .entry(record.unit.clone())
        .or_insert_with(|| (facility.clone(), seq));
    state.officers.insert(
        record.id.clone(),
        OfficerState {
            record: record.clone(),
            facility: facility.clone(),
            enrolled_at: seq,
            revoked_at: None,
            keys: vec![KeyState {
                key,
                keyid: key.key_id(),
                from_seq: seq,
                until_seq: None,
            }],
        },
    );
}

/// Advances the state to `size` over leaves that carry no identity change, without re-checking
/// them: used when reopening a ledger, whose identity leaves are replayed (and re-checked) one by
/// one and whose other leaves cannot change who may sign. `verify` never uses this.
pub fn skip_to(state: &mut State, size: u64) {
    assert!(size >= state.size, "the state only moves forward");
    state.size = size;
}

crate::english_display!(RuleError);

impl Explain for RuleError {
    #[allow(clippy::too_many_lines)] // one arm per variant reads better than a split
    fn explain(&self) -> Message {
        match self {
            Self::GenesisFirst(kind) => msg("err.rule.genesis_first").arg("kind", kind),
            Self::GenesisTwice => msg("err.rule.genesis_twice"),
            Self::GenesisOrigin { expected, got } => msg("err.rule.genesis_origin")
                .quoted("got", got)
                .quoted("expected", expected),
            Self::GenesisLedgerKey { expected } => {
                msg("err.rule.genesis_ledger_key").quoted("expected", expected)
            }
            Self::GenesisAdminRole => msg("err.rule.genesis_admin_role"),
            Self::SignerRole {
                kind,
                role,
                allowed,
            } => msg("err.rule.signer_role")
                .quoted("role", role)
                .arg("kind", kind)
                .arg("allowed", allowed),
            Self::SignerCount {
                kind,
                role,
                min,
                max,
                got,
            } => msg("err.rule.signer_count")
                .arg("kind", kind)
                .arg("min", min)
                .arg("max", max)
                .quoted("role", role)
                .arg("got", got),
            Self::DuplicateSigner { officer } => {
                msg("err.rule.duplicate_signer").arg("officer", officer)
            }
            Self::UnknownOfficer { officer, role } => msg("err.rule.unknown_officer")
                .arg("officer", officer)
                .arg("role", role),
            Self::OfficerRevoked {
                officer,
                role,
                revoked_at,
            } => msg("err.rule.officer_revoked")
                .arg("officer", officer)
                .arg("role", role)
                .arg("revoked_at", revoked_at),
            Self::RoleNotAllowed {
                officer,
                role,
                has,
                needs,
            } => msg("err.rule.role_not_allowed")
                .arg("officer", officer)
                .arg("role", role)
                .arg("has", has)
                .arg("needs", needs),
            Self::MissingSignature {
                officer,
                role,
                keyid,
                since,
            } => msg("err.rule.missing_signature")
                .arg("officer", officer)
                .arg("role", role)
                .arg("keyid", keyid)
                .arg("since", since),
            Self::BadSignature { officer, keyid } => msg("err.rule.bad_signature")
                .arg("officer", officer)
                .arg("keyid", keyid),
            Self::StraySignature {
                index,
                keyid,
                detail,
            } => msg("err.rule.stray_signature")
                .arg("index", index)
                .arg("keyid", keyid)
                .part("detail", detail.clone()),
            Self::AlreadyEnrolled { officer, seq } => msg("err.rule.already_enrolled")
                .arg("officer", officer)
                .arg("seq", seq),
            Self::NotEnrolled { officer } => msg("err.rule.not_enrolled").arg("officer", officer),
            Self::UnitElsewhere {
                unit,
                facility,
                here,
                seq,
            } => msg("err.rule.unit_elsewhere")
                .quoted("unit", unit)
                .arg("unit_name", unit)
                .arg("facility", facility)
                .arg("here", here)
                .arg("seq", seq),
            Self::AlreadyRevoked { officer, seq } => msg("err.rule.already_revoked")
                .arg("officer", officer)
                .arg("seq", seq),
            Self::BadPublicKey { field, reason } => msg("err.rule.bad_public_key")
                .arg("field", field)
                .part("reason", reason.clone()),
            Self::KeyInUse {
                field,
                officer,
                seq,
            } => msg("err.rule.key_in_use")
                .arg("field", field)
                .arg("officer", officer)
                .arg("seq", seq),
            Self::KeyIdInUse {
                field,
                keyid,
                officer,
            } => msg("err.rule.key_id_in_use")
                .arg("field", field)
                .arg("keyid", keyid)
                .arg("officer", officer),
            Self::LastAdmin { officer } => msg("err.rule.last_admin").arg("officer", officer),
            Self::KeyHolderMismatch { officer, got } => msg("err.rule.key_holder_mismatch")
                .arg("got", got)
                .arg("officer", officer),
            Self::ReplacedOfficerSigns { officer } => {
                msg("err.rule.replaced_officer_signs").arg("officer", officer)
            }
            Self::RefersToFuture { refers_to, last } => msg("err.rule.refers_to_future")
                .arg("refers_to", refers_to)
                .arg("last", last),
            Self::UnknownItem { item } => msg("err.rule.unknown_item").arg("item", item),
            Self::OutOfScope {
                item,
                officer,
                role,
            } => msg("err.rule.out_of_scope")
                .arg("role", role)
                .arg("officer", officer)
                .arg("item", item),
            Self::FacilityOutOfScope {
                facility,
                officer,
                role,
                home,
            } => msg("err.rule.facility_out_of_scope")
                .arg("facility", facility)
                .arg("role", role)
                .arg("officer", officer)
                .arg("home", home),
            Self::LabelTaken { item } => msg("err.rule.label_taken").arg("item", item),
            Self::AfterExtra { item } => msg("err.rule.after_extra").arg("item", item),
            Self::AfterMissing { item } => msg("err.rule.after_missing").arg("item", item),
            Self::ItemExists { item, seq } => msg("err.rule.item_exists")
                .arg("item", item)
                .arg("seq", seq),
            Self::StaleView { item, head, seq } => msg("err.rule.stale_view")
                .arg("item", item)
                .arg("seq", seq)
                .arg("head", head),
            Self::ItemClosed { item, status, seq } => msg("err.rule.item_closed")
                .arg("item", item)
                .part("status", words_of(status, STATUS_WORDS))
                .arg("seq", seq),
            Self::InTransit { item, seq, to } => msg("err.rule.in_transit")
                .arg("item", item)
                .arg("seq", seq)
                .arg("to", to),
            Self::HolderMustSign { item, holder, seq } => msg("err.rule.holder_must_sign")
                .arg("item", item)
                .arg("holder", holder)
                .arg("seq", seq),
            Self::NotHolder {
                item,
                officer,
                holder,
                seq,
            } => msg("err.rule.not_holder")
                .arg("item", item)
                .arg("officer", officer)
                .part(
                    "holder",
                    holder.as_ref().map_or_else(
                        || msg("err.rule.not_holder.nobody"),
                        |h| msg("err.rule.not_holder.held_by").arg("holder", h),
                    ),
                )
                .arg("seq", seq),
            Self::NotInTransit { item, seq } => msg("err.rule.not_in_transit")
                .arg("item", item)
                .arg("seq", seq),
            Self::WrongReceiver {
                item,
                officer,
                to,
                seq,
            } => msg("err.rule.wrong_receiver")
                .arg("item", item)
                .arg("seq", seq)
                .part("to", to.clone())
                .arg("officer", officer),
            Self::SealMismatch {
                item,
                expected,
                got,
                seq,
            } => msg("err.rule.seal_mismatch")
                .arg("item", item)
                .arg("seq", seq)
                .arg("expected", expected)
                .arg("got", got),
            Self::SealNotOnItem { item, seal, seals } => msg("err.rule.seal_not_on_item")
                .arg("seal", seal)
                .arg("item", item)
                .arg("seals", seals),
            Self::NoDestructionOrder { item } => {
                msg("err.rule.no_destruction_order").arg("item", item)
            }
            Self::SampleTooLarge {
                item,
                sample_mg,
                known_mg,
                seq,
            } => msg("err.rule.sample_too_large")
                .arg("sample_mg", sample_mg)
                .arg("item", item)
                .arg("known_mg", known_mg)
                .arg("seq", seq),
            Self::CorrectionOutsideItem {
                item,
                refers_to,
                born,
                last,
            } => msg("err.rule.correction_outside_item")
                .arg("refers_to", refers_to)
                .arg("item", item)
                .arg("born", born)
                .arg("last", last),
            Self::SignerMissing { role, why } => msg("err.rule.signer_missing")
                .arg("role", role)
                .part("why", msg(why)),
            Self::RulesUnknown {
                field,
                version,
                newest,
            } => msg("err.rule.rules_unknown")
                .arg("field", field)
                .arg("version", version)
                .arg("newest", newest),
            Self::PersonInClear { field, kind } => msg("err.rule.person_in_clear")
                .arg("field", field)
                .part("kind", words_of(kind, PERSON_WORDS)),
            Self::NotAttested { seq, last } => msg("err.rule.not_attested")
                .arg("seq", seq)
                .arg("last", last),
            Self::AttestedOutside { seq } => msg("err.rule.attested_outside").arg("seq", seq),
            Self::AttestedSeq { expected, got } => msg("err.rule.attested_seq")
                .arg("got", got)
                .arg("expected", expected),
            Self::AttestationSignature { by, keyid, detail } => {
                msg("err.rule.attestation_signature")
                    .arg("by", by)
                    .arg("keyid", keyid)
                    .part("detail", msg(detail))
            }
            Self::IdentifierInText { field, what } => msg("err.rule.identifier_in_text")
                .arg("field", field)
                .part("what", words_of(what, IDENTIFIER_WORDS)),
            Self::LinkToItself { subject } => {
                msg("err.rule.link_to_itself").arg("subject", subject)
            }
            Self::OccurredAfterRecorded {
                occurred_at,
                recorded_at,
                skew_s,
            } => msg("err.rule.occurred_after_recorded")
                .arg("occurred_at", occurred_at)
                .arg("recorded_at", recorded_at)
                .arg("skew_s", skew_s),
            Self::BeforeItemExisted {
                item,
                occurred_at,
                born_at,
                born_seq,
            } => msg("err.rule.before_item_existed")
                .arg("occurred_at", occurred_at)
                .arg("item", item)
                .arg("born_at", born_at)
                .arg("born_seq", born_seq),
            Self::SealUsed {
                field,
                seal,
                other,
                seq,
            } => msg("err.rule.seal_used")
                .arg("field", field)
                .arg("seal", seal)
                .arg("other", other)
                .arg("seq", seq),
            Self::MassAboveParent {
                field,
                item,
                mass_mg,
                what,
                parent_mg,
                seq,
            } => msg("err.rule.mass_above_parent")
                .arg("field", field)
                .arg("mass_mg", mass_mg)
                .part("what", msg(what))
                .arg("item", item)
                .arg("parent_mg", parent_mg)
                .arg("seq", seq),
            Self::WrongReference { field, seq, wants } => msg("err.rule.wrong_reference")
                .arg("field", field)
                .arg("seq", seq)
                .part("wants", wants.clone()),
            Self::Unconfirmed { what, detail } => msg("err.rule.unconfirmed")
                .arg("what", what)
                .part("detail", detail.clone()),
            Self::RulesNotNewer {
                version,
                in_force,
                since,
            } => msg("err.rule.rules_not_newer")
                .arg("version", version)
                .arg("in_force", in_force)
                .arg("since", since),
        }
    }
}

/// Names the log spells in English (an item's status, a kind of person, a kind of identifier)
/// and the catalogue key of the words a sentence says them with: in English the name as the log
/// records it, in Indonesian what it means.
type Words = &'static [(&'static str, &'static str)];

/// The terminal statuses an item can be closed in (`custody::Status::as_str`).
const STATUS_WORDS: Words = &[
    ("destroyed", "err.rule.item_closed.destroyed"),
    ("returned", "err.rule.item_closed.returned"),
    ("forfeited", "err.rule.item_closed.forfeited"),
];

/// The kinds of person rules version 4 refuses in the clear (`format::people`).
const PERSON_WORDS: Words = &[
    ("inmate", "err.rule.person_in_clear.inmate"),
    ("visitor", "err.rule.person_in_clear.visitor"),
    (
        "foreign_national",
        "err.rule.person_in_clear.foreign_national",
    ),
];

/// What free text may look like (`format::subject::looks_like_identifier`).
const IDENTIFIER_WORDS: Words = &[
    ("nik", "err.rule.identifier_in_text.nik"),
    ("passport", "err.rule.identifier_in_text.passport"),
];

/// The catalogue's words for `name`, or the name itself when it is not one of `words`.
fn words_of(name: &str, words: Words) -> Message {
    words
        .iter()
        .find(|(n, _)| *n == name)
        .map_or_else(|| Message::verbatim(name), |(_, key)| msg(key))
}

impl crate::base::class::Classify for RuleError {
    fn class(&self) -> crate::base::class::Class {
        crate::base::class::Class::Refused
    }

    fn field(&self) -> Option<String> {
        match self {
            Self::PersonInClear { field, .. } | Self::IdentifierInText { field, .. } => {
                Some(field.clone())
            }
            Self::LinkToItself { .. } => Some("/same_as".into()),
            Self::ReplacedOfficerSigns { .. } => Some("/signers".into()),
            Self::NotAttested { .. } | Self::AttestedOutside { .. } => Some("/attests".into()),
            Self::AttestedSeq { .. } => Some("/attests/seq".into()),
            Self::OccurredAfterRecorded { .. } | Self::BeforeItemExisted { .. } => {
                Some("/occurred_at".into())
            }
            Self::SealUsed { field, .. }
            | Self::MassAboveParent { field, .. }
            | Self::WrongReference { field, .. } => Some((*field).into()),
            Self::Unconfirmed { .. } => Some("/confirmed".into()),
            Self::SignerRole { .. }
            | Self::SignerCount { .. }
            | Self::DuplicateSigner { .. }
            | Self::UnknownOfficer { .. }
            | Self::OfficerRevoked { .. }
            | Self::RoleNotAllowed { .. }
            | Self::HolderMustSign { .. }
            | Self::NotHolder { .. }
            | Self::WrongReceiver { .. }
            | Self::SignerMissing { .. } => Some("/signers".into()),
            Self::AfterExtra { .. } | Self::AfterMissing { .. } | Self::StaleView { .. } => {
                Some("/after".into())
            }
            // The item the act names (`item`; for a sample set aside, its parent).
            Self::UnknownItem { .. }
            | Self::OutOfScope { .. }
            | Self::LabelTaken { .. }
            | Self::ItemExists { .. }
            | Self::ItemClosed { .. }
            | Self::InTransit { .. }
            | Self::NotInTransit { .. }
            | Self::NoDestructionOrder { .. } => Some("/item".into()),
            Self::SealMismatch { .. } | Self::SealNotOnItem { .. } => Some("/seals".into()),
            Self::FacilityOutOfScope { .. } => Some("/facility".into()),
            Self::RefersToFuture { .. } => Some("/refers_to".into()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_statement_type_has_a_rule_row() {
        for &t in StatementType::ALL {
            assert_eq!(type_rule(t).kind, t);
        }
    }

    #[test]
    fn acting_roles_are_every_officer_role_but_auditor() {
        let expected: Vec<OfficerRole> = OfficerRole::ALL
            .into_iter()
            .filter(|r| *r != Auditor)
            .collect();
        assert_eq!(ACTING_ROLES, expected.as_slice());
    }

    #[test]
    fn every_signer_role_has_a_place_in_the_role_table() {
        for role in SignerRole::ALL {
            assert!(
                TYPE_RULES
                    .iter()
                    .any(|t| t.signers.iter().any(|r| r.role == role)),
                "signer role {role} is used by no statement type"
            );
        }
        for t in TYPE_RULES {
            for (i, r) in t.signers.iter().enumerate() {
                assert!(
                    t.signers[..i].iter().all(|q| q.role != r.role),
                    "{} lists signer role {} twice",
                    t.kind,
                    r.role
                );
            }
        }
    }
}
