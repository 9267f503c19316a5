//! Evidence bundles: one self-contained JSON file holding an item's leaves, those of its parent
//! and samples, the identity leaves of every officer they name, an inclusion proof for each
//! against one signed checkpoint, that checkpoint and the ledger's verifier key — and nothing
//! else from the log. `verify` checks a bundle with no ledger and no network, re-running the same
//! rules and the audit on its events. Never trusts the bundle's own copy of the verifier key.

use crate::app::casefile;
use crate::app::ledger::{Ledger, ProofRequestError, SignedCheckpoint};
use crate::app::subjects::Asker;
use crate::base::ids::ItemId;
use crate::base::time::Timestamp;
use crate::base::words::{Explain, Message, msg};
use crate::domain::audit::{self, AuditEvent, Finding};
use crate::domain::custody::{self, ItemState};
use crate::domain::rules;
use crate::format::leaf::Leaf;
use crate::format::merkle::{self, Hash};
use crate::format::note::{self, VerifierKey};
use crate::format::statement::{Body, Statement};
use crate::format::subject::{Commitment, PersonalFields, Salt, SubjectId, opens};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// The format name written into every bundle.
pub const BUNDLE_FORMAT: &str = "custody-bundle/v1";
/// A bundle may not exceed 64 MiB: a case's leaves are a few hundred KiB; anything larger is not
/// a bundle this verifier should load into memory.
pub const BUNDLE_BYTES_MAX: usize = 64 * 1024 * 1024;

#[derive(Debug)]
pub enum BundleError {
    Case(casefile::CaseError),
    Format(Message),
    Checkpoint(Message),
    Origin {
        bundle: String,
        given: String,
    },
    Entry {
        seq: u64,
        reason: Message,
    },
    Ledger(Message),
    /// The checkpoint asked for (`--checkpoint SIZE`) cannot be given.
    Size(Message),
    Subjects(crate::app::subjects::SubjectsError),
    Disclosure(Message),
}

impl From<casefile::CaseError> for BundleError {
    fn from(e: casefile::CaseError) -> Self {
        Self::Case(e)
    }
}

crate::english_display!(BundleError);

impl Explain for BundleError {
    fn explain(&self) -> Message {
        match self {
            Self::Case(e) => e.explain(),
            Self::Format(reason) => msg("err.bundle.format")
                .arg("format", BUNDLE_FORMAT)
                .part("reason", reason.clone()),
            Self::Checkpoint(reason) => msg("err.bundle.checkpoint").part("reason", reason.clone()),
            Self::Origin { bundle, given } => msg("err.bundle.origin")
                .arg("bundle", bundle)
                .arg("given", given),
            Self::Entry { seq, reason } => msg("err.bundle.entry")
                .arg("seq", seq)
                .part("reason", reason.clone()),
            Self::Ledger(reason) => msg("err.bundle.ledger").part("reason", reason.clone()),
            Self::Size(reason) => reason.clone(),
            Self::Subjects(e) => e.explain(),
            Self::Disclosure(reason) => msg("err.bundle.disclosure").part("reason", reason.clone()),
        }
    }
}

/// A storage or decoding failure while a bundle is made from the ledger.
fn unreadable(e: &impl Explain) -> BundleError {
    BundleError::Ledger(e.explain())
}

fn leaf_missing(seq: u64) -> BundleError {
    BundleError::Ledger(msg("err.bundle.leaf_missing").arg("seq", seq))
}

/// A library's own message (base64, JSON), the same in both languages.
fn foreign(e: &impl std::fmt::Display) -> Message {
    Message::verbatim(e.to_string())
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleEntry {
    pub seq: u64,
    /// The leaf bytes, standard base64.
    pub leaf: String,
    /// Inclusion proof of this leaf in the checkpoint's tree (RFC 9162), standard base64 hashes.
    pub proof: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    pub format: String,
    pub origin: String,
    /// The ledger's verifier key, for information: the verifier must be given the key by a
    /// channel it trusts, and refuses a bundle whose key differs.
    pub vkey: String,
    /// The signed checkpoint note every proof is against.
    pub checkpoint: String,
    /// The item the bundle was cut for (its lot: the item, its parent chain, its samples)…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// …or the incident (the case) whose every item it holds: exactly one of the two.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<String>,
    pub items: Vec<String>,
    pub entries: Vec<BundleEntry>,
    /// For a court only (`custody bundle export --disclose`): the personal data of the persons
    /// the entries name as subjects, with the salts that open their commitments. Absent, the
    /// bundle holds nothing personal.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disclosed: Vec<Disclosure>,
}

/// One entry of a bundle as a report renders it: its position, when it was recorded, its leaf
/// hash (base64) and its statement.
#[derive(Debug, Clone)]
pub struct BundleAct {
    pub seq: u64,
    pub recorded_at: Timestamp,
    pub leaf_hash: String,
    pub statement: Statement,
}

impl Bundle {
    /// Every entry's statement, in log order, as its leaf holds it (not verified here: a caller
    /// renders a bundle `verify` has already accepted).
    pub fn acts(&self) -> Result<Vec<BundleAct>, BundleError> {
        self.entries
            .iter()
            .map(|entry| {
                let fail = |reason: Message| BundleError::Entry {
                    seq: entry.seq,
                    reason,
                };
                let bytes = B64.decode(&entry.leaf).map_err(|e| fail(foreign(&e)))?;
                let leaf = Leaf::decode(&bytes).map_err(|e| fail(e.explain()))?;
                let statement =
                    Statement::parse(leaf.envelope.payload()).map_err(|e| fail(e.explain()))?;
                Ok(BundleAct {
                    seq: entry.seq,
                    recorded_at: statement.recorded_at_or(leaf.recorded_at),
                    leaf_hash: B64.encode(merkle::leaf_hash(&bytes)),
                    statement,
                })
            })
            .collect()
    }
}

/// One person's data disclosed in a bundle, and the salts that open the commitments the bundle's
/// statements carry for them (docs/FORMAT.md §17).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disclosure {
    pub subject: SubjectId,
    pub fields: PersonalFields,
    pub salts: Vec<Salt>,
}

/// What a verified disclosure proves: the person's fields are the ones the statements at `seqs`
/// committed to.
#[derive(Debug, Clone, Serialize)]
pub struct Disclosed {
    pub subject: SubjectId,
    pub fields: PersonalFields,
    pub seqs: Vec<u64>,
}

fn officers_named(s: &Statement) -> Vec<crate::base::ids::OfficerId> {
    let mut out: Vec<_> = s.signers.iter().map(|x| x.officer.clone()).collect();
    match &s.body {
        Body::CustodyReleased(b) => out.extend(b.to_officer.clone()),
        Body::OfficerEnrolled { officer } => out.push(officer.id.clone()),
        Body::LedgerGenesis { admin, .. } => out.push(admin.id.clone()),
        Body::OfficerKeyRotated { officer, .. }
        | Body::OfficerKeyReplaced { officer, .. }
        | Body::OfficerRevoked { officer, .. } => out.push(officer.clone()),
        Body::OfficerUpdated(u) => out.push(u.officer.clone()),
        _ => {}
    }
    out
}

/// What a bundle is cut for: one item's lot, or every item of one case (an incident) with the
/// incident's own acts (a search, a notification).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cut {
    Item(ItemId),
    Incident(String),
}

impl Cut {
    /// The cut as the bundle's fields carry it: (`item`, `incident`).
    fn fields(&self) -> (Option<String>, Option<String>) {
        match self {
            Self::Item(i) => (Some(i.to_string()), None),
            Self::Incident(id) => (None, Some(id.clone())),
        }
    }

    /// The casefile scope whose events the bundle holds.
    fn scope(&self) -> casefile::Scope {
        match self {
            Self::Item(i) => casefile::Scope::Item(i.clone()),
            Self::Incident(id) => casefile::Scope::Incident(id.clone()),
        }
    }
}

impl Cut {
    /// "item X" or "incident X", as a message says it.
    pub fn message(&self) -> Message {
        match self {
            Self::Item(i) => msg("err.bundle.cut_item").arg("item", i),
            Self::Incident(id) => msg("err.bundle.cut_incident").arg("incident", id),
        }
    }

    /// "barang X" or "kejadian X", for the Indonesian half of a message.
    pub fn indonesian(&self) -> String {
        self.message().indonesian()
    }
}

/// "item X" or "incident X", for the English half of a message.
impl std::fmt::Display for Cut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message().english())
    }
}

/// The checkpoint a bundle is made against: the latest, or that of the first `size` leaves (from
/// the checkpoint history, `Ledger::checkpoint_at`).
fn checkpoint_for(
    ledger: &Ledger,
    size: Option<u64>,
) -> Result<Arc<SignedCheckpoint>, BundleError> {
    match size {
        None => Ok(ledger.checkpoint()),
        Some(0) => Err(BundleError::Size(msg("err.bundle.size_zero"))),
        Some(size) => ledger.checkpoint_at(size).map_err(|e| match e {
            ProofRequestError::Storage(e) => unreadable(&e),
            other => BundleError::Size(
                msg("err.bundle.no_checkpoint_of_size")
                    .arg("size", size)
                    .part("reason", other.explain()),
            ),
        }),
    }
}

/// Builds the bundle of an item's lot, or of a whole case, against the ledger's latest
/// checkpoint, or against the checkpoint of its first `size` leaves: then only what was recorded
/// before it (the events, the items they touch, the identity leaves) is in the bundle, and the
/// same ledger and size give the same bytes whenever it is made.
pub fn export(ledger: &Ledger, cut: &Cut, size: Option<u64>) -> Result<Bundle, BundleError> {
    let cp = checkpoint_for(ledger, size)?;
    let mut gathered = casefile::gather(ledger, &cut.scope(), &mut |_, _| {})?;
    gathered.events.retain(|e| e.seq < cp.size);
    let touched = casefile::items_recorded_before(ledger, &gathered.items, cp.size)?;
    let recorded = match cut {
        Cut::Item(item) => touched.contains(item),
        Cut::Incident(_) => !touched.is_empty(),
    };
    if !recorded {
        return Err(BundleError::Size(
            msg("err.bundle.not_yet_recorded")
                .part("cut", cut.message())
                .arg("n", cp.size),
        ));
    }
    gathered.items = touched;
    let mut seqs: BTreeSet<u64> = gathered.events.iter().map(|e| e.seq).collect();
    // The identity leaves of every officer the case names, and of the administrators who signed
    // those, until nothing new is named; genesis always (it founds the first administrator), and
    // every rules adoption (it decides the rules the events after it were checked under, which the
    // verifier's fold must apply too).
    let mut officers: BTreeSet<crate::base::ids::OfficerId> = gathered
        .events
        .iter()
        .flat_map(|e| officers_named(&e.statement))
        .collect();
    add_identity_leaves(ledger, cp.size, &mut seqs, &mut officers)?;
    let entries = proven_entries(ledger, seqs, cp.size)?;
    let (item, incident) = cut.fields();
    Ok(Bundle {
        format: BUNDLE_FORMAT.to_owned(),
        origin: ledger.origin().to_string(),
        vkey: ledger.verifier_key().to_string(),
        checkpoint: cp.note.clone(),
        item,
        incident,
        items: gathered.items.iter().map(|i| i.to_string()).collect(),
        entries,
        disclosed: Vec::new(),
    })
}

/// Adds to `seqs` the identity leaves below `size` of every officer in `officers`, and of the
/// administrators who signed those, until nothing new is named; genesis always (it founds the
/// first administrator), and every rules adoption and facility registration.
fn add_identity_leaves(
    ledger: &Ledger,
    size: u64,
    seqs: &mut BTreeSet<u64>,
    officers: &mut BTreeSet<crate::base::ids::OfficerId>,
) -> Result<(), BundleError> {
    let store = ledger.store();
    let identity: Vec<(u64, Statement)> = store
        .identity_seqs()
        .map_err(|e| unreadable(&e))?
        .into_iter()
        .filter(|seq| *seq < size)
        .map(|seq| {
            let bytes = store
                .leaf(seq)
                .map_err(|e| unreadable(&e))?
                .ok_or_else(|| leaf_missing(seq))?;
            let leaf = Leaf::decode(&bytes).map_err(|e| unreadable(&e))?;
            let st = Statement::parse(leaf.envelope.payload()).map_err(|e| unreadable(&e))?;
            Ok((seq, st))
        })
        .collect::<Result<_, BundleError>>()?;
    loop {
        let before = (seqs.len(), officers.len());
        for (seq, st) in &identity {
            let named = officers_named(st);
            let subject = match &st.body {
                Body::OfficerEnrolled { officer } => Some(&officer.id),
                Body::LedgerGenesis { admin, .. } => Some(&admin.id),
                Body::OfficerKeyRotated { officer, .. }
                | Body::OfficerKeyReplaced { officer, .. }
                | Body::OfficerRevoked { officer, .. } => Some(officer),
                Body::OfficerUpdated(u) => Some(&u.officer),
                _ => None,
            };
            // Rules adoptions decide how later events were checked; the register of places gives
            // the report its letterheads and local times: both are carried whole.
            let adoption = matches!(
                st.body,
                Body::RulesAdopted { .. } | Body::FacilityRegistered(_)
            );
            if *seq == 0 || adoption || subject.is_some_and(|s| officers.contains(s)) {
                seqs.insert(*seq);
                officers.extend(named);
            }
        }
        if (seqs.len(), officers.len()) == before {
            break;
        }
    }
    Ok(())
}

/// The leaves at `seqs`, each with its inclusion proof in the tree of `size`.
fn proven_entries(
    ledger: &Ledger,
    seqs: BTreeSet<u64>,
    size: u64,
) -> Result<Vec<BundleEntry>, BundleError> {
    let mut entries = Vec::with_capacity(seqs.len());
    for seq in seqs {
        let bytes = ledger
            .leaf(seq)
            .map_err(|e| unreadable(&e))?
            .ok_or_else(|| leaf_missing(seq))?;
        let proof = ledger
            .inclusion_proof(seq, size)
            .map_err(|e| unreadable(&e))?;
        entries.push(BundleEntry {
            seq,
            leaf: B64.encode(&bytes),
            proof: proof.iter().map(|h| B64.encode(h)).collect(),
        });
    }
    Ok(entries)
}

/// The subjects a bundle's entries name, each with its commitments and their seqs.
fn subjects_in(
    bundle: &Bundle,
) -> Result<BTreeMap<SubjectId, Vec<(u64, Commitment)>>, BundleError> {
    let mut out: BTreeMap<SubjectId, Vec<(u64, Commitment)>> = BTreeMap::new();
    for entry in &bundle.entries {
        let fail = |reason: Message| BundleError::Entry {
            seq: entry.seq,
            reason,
        };
        let bytes = B64.decode(&entry.leaf).map_err(|e| fail(foreign(&e)))?;
        let leaf = Leaf::decode(&bytes).map_err(|e| fail(e.explain()))?;
        let body: serde_json::Value =
            serde_json::from_slice(leaf.envelope.payload()).map_err(|e| fail(foreign(&e)))?;
        for (subject, commitment) in crate::format::people::subjects_named(&body) {
            out.entry(subject)
                .or_default()
                .push((entry.seq, commitment));
        }
    }
    Ok(out)
}

/// Adds to `bundle` the personal data of every person its entries name, for a court: each read
/// through the register as `asker` (who must be allowed to read it; each read is logged), with
/// only the salts that open the bundle's commitments.
pub fn disclose(ledger: &Ledger, bundle: &mut Bundle, asker: &Asker) -> Result<(), BundleError> {
    let register = ledger.subjects().map_err(BundleError::Subjects)?;
    for (subject, named) in subjects_in(bundle)? {
        let shown = register
            .show(&subject, asker, ledger.now())
            .map_err(BundleError::Subjects)?;
        let mut salts: Vec<Salt> = Vec::new();
        for salt in named.iter().filter_map(|(_, c)| shown.opens(c)) {
            if !salts.contains(&salt) {
                salts.push(salt);
            }
        }
        bundle.disclosed.push(Disclosure {
            subject,
            fields: shown.fields,
            salts,
        });
    }
    Ok(())
}

/// Checks each disclosure: a person the entries name, whose every commitment in the bundle opens
/// with one of the disclosed salts and the disclosed fields.
fn check_disclosures(bundle: &Bundle) -> Result<Vec<Disclosed>, BundleError> {
    let named = subjects_in(bundle)?;
    bundle
        .disclosed
        .iter()
        .map(|d| {
            let commitments = named.get(&d.subject).ok_or_else(|| {
                BundleError::Disclosure(
                    msg("err.bundle.subject_not_named").arg("subject", d.subject),
                )
            })?;
            for (seq, c) in commitments {
                if !d
                    .salts
                    .iter()
                    .any(|salt| opens(c, salt, &d.subject, &d.fields))
                {
                    return Err(BundleError::Disclosure(
                        msg("err.bundle.commitment_unopened")
                            .arg("subject", d.subject)
                            .arg("seq", seq),
                    ));
                }
            }
            Ok(Disclosed {
                subject: d.subject,
                fields: d.fields.clone(),
                seqs: commitments.iter().map(|(seq, _)| *seq).collect(),
            })
        })
        .collect()
}

/// How one officer signed one act: the key the ledger knew for them at that position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignedBy {
    pub officer: String,
    /// The role the act names them in (`finder`, `witness`, …).
    pub role: String,
    /// The key id (docs/FORMAT.md §3.2) of the key their signature was checked with.
    pub key_id: String,
}

/// Whether a person an act concerns signed its record: the possessor of a seizure, the suspect
/// of a sample.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Acknowledgement {
    /// `possessor` or `suspect`.
    pub party: String,
    /// `signed`, `refused` or `absent`.
    pub status: String,
    /// What the person said or did on refusing, as recorded.
    pub note: Option<String>,
}

/// The signatures of one act of the bundle, and the acknowledgements it records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActSignatures {
    pub seq: u64,
    /// The act's type (`seizure_recorded`) and its name in Indonesian (`penyitaan`).
    pub kind: String,
    pub indonesian: String,
    pub signers: Vec<SignedBy>,
    pub acknowledgements: Vec<Acknowledgement>,
}

/// The acknowledgements an act records (a seizure's possessor, a sample's suspect).
fn acknowledgements(statement: &Statement) -> Vec<Acknowledgement> {
    match &statement.body {
        Body::SeizureRecorded(b) => vec![Acknowledgement {
            party: "possessor".into(),
            status: b.possessor_acknowledgement.clone(),
            note: b.refusal_note.clone(),
        }],
        Body::SampleSetAside(b) => vec![Acknowledgement {
            party: "suspect".into(),
            status: b.suspect_acknowledgement.clone(),
            note: None,
        }],
        _ => Vec::new(),
    }
}

/// What a verified bundle establishes.
/// What a verified bundle proves, cannot prove, and who signed it, as messages.
#[derive(Debug, Clone, Default)]
pub struct Said {
    pub signers: Vec<Message>,
    pub proves: Vec<Message>,
    pub cannot_prove: Vec<Message>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BundleReport {
    pub origin: String,
    pub checkpoint_size: u64,
    pub checkpoint_root: String,
    /// The item the bundle was cut for, or (a case bundle) the incident: exactly one is set.
    pub item: Option<String>,
    pub incident: Option<String>,
    pub items: Vec<ItemState>,
    pub entries: usize,
    pub signers: Vec<String>,
    /// `signers`, `proves` and `cannot_prove` as messages, to be said in either language (the
    /// JSON keeps the English above).
    #[serde(skip)]
    pub said: Said,
    /// The name of every officer the bundle's identity statements enroll, by NIP/NRP: how the
    /// report shows an officer (`app::names`).
    pub officers: BTreeMap<String, String>,
    pub as_of: Timestamp,
    pub findings: Vec<Finding>,
    pub proves: Vec<String>,
    pub cannot_prove: Vec<String>,
    /// The persons whose data the bundle discloses, each proven against the commitments signed
    /// into the log (empty: the bundle discloses nothing personal).
    pub disclosed: Vec<Disclosed>,
    /// How each act that is not an identity statement was signed, in log order.
    pub signatures: Vec<ActSignatures>,
    /// The bundle's SHA-256 (hex) and its printed digest, as a report prints them.
    pub sha256: String,
    pub printed_digest: String,
    /// Whether the printed digest a person typed (`bundle verify --printed-digest`) was this one.
    pub printed_digest_confirmed: bool,
}

fn english(messages: &[Message]) -> Vec<String> {
    messages.iter().map(Message::english).collect()
}

fn decode_hash(text: &str, seq: u64) -> Result<Hash, BundleError> {
    B64.decode(text)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| BundleError::Entry {
            seq,
            reason: msg("err.bundle.proof_hash"),
        })
}

/// Verifies a bundle's bytes with the ledger's verifier key, and audits its events as of `as_of`.
pub fn verify(
    bytes: &[u8],
    vkey: &VerifierKey,
    as_of: Timestamp,
) -> Result<BundleReport, BundleError> {
    let bundle = read_bundle(bytes, vkey)?;
    let cp = note::open_checkpoint(bundle.checkpoint.as_bytes(), vkey)
        .map_err(|e| BundleError::Checkpoint(e.explain()))?;
    let cut = cut_of(&bundle)?;
    let mut replay = Replay::new(&cp, vkey);
    for entry in &bundle.entries {
        replay.entry(entry, &cp)?;
    }
    let Replay {
        state,
        items,
        events,
        signed_as,
        signatures,
        ..
    } = replay;
    let lot: Vec<ItemState> = bundle
        .items
        .iter()
        .filter_map(|i| ItemId::parse(i).ok())
        .filter_map(|i| items.get(&i).cloned())
        .collect();
    check_fields(&bundle, &cp, &cut, &items)?;
    let disclosed = check_disclosures(&bundle)?;
    let names = crate::app::names::Names::of_state(&state);
    let signers = signer_lines(&signed_as, &state, &names);
    let findings = audit::audit(&events, &state, as_of, audit::THRESHOLDS);
    let proves = proves(bundle.entries.len(), &cp, &lot, state.refounding());
    let cannot_prove = cannot_prove(&cp, &cut);
    let sha: [u8; 32] = {
        use sha2::Digest as _;
        sha2::Sha256::digest(bytes).into()
    };
    Ok(BundleReport {
        origin: cp.origin.to_string(),
        checkpoint_size: cp.size,
        checkpoint_root: B64.encode(cp.root),
        item: bundle.item.clone(),
        incident: bundle.incident.clone(),
        items: lot,
        entries: bundle.entries.len(),
        signers: english(&signers),
        officers: names.into_map(),
        as_of,
        findings,
        proves: english(&proves),
        cannot_prove: english(&cannot_prove),
        said: Said {
            signers,
            proves,
            cannot_prove,
        },
        disclosed,
        signatures,
        sha256: crate::keys::signing::hex(&sha),
        printed_digest: crate::format::printed_digest::PrintedDigest::of(&sha).to_string(),
        printed_digest_confirmed: false,
    })
}

/// Parses a bundle's bytes: within the size limit, JSON of this format, and naming the verifier
/// key given (the anchor; the bundle's copy must agree with it).
fn read_bundle(bytes: &[u8], vkey: &VerifierKey) -> Result<Bundle, BundleError> {
    if bytes.len() > BUNDLE_BYTES_MAX {
        return Err(BundleError::Format(
            msg("err.bundle.too_large")
                .arg("bytes", bytes.len())
                .arg("max", BUNDLE_BYTES_MAX),
        ));
    }
    let bundle: Bundle =
        serde_json::from_slice(bytes).map_err(|e| BundleError::Format(foreign(&e)))?;
    if bundle.format != BUNDLE_FORMAT {
        return Err(BundleError::Format(
            msg("err.bundle.format_is").quoted("format", &bundle.format),
        ));
    }
    // The key given by the verifier is the anchor; the bundle's copy must agree with it.
    if bundle.vkey != vkey.to_string() {
        return Err(BundleError::Origin {
            bundle: bundle.vkey.clone(),
            given: vkey.to_string(),
        });
    }
    Ok(bundle)
}

/// The fold over a bundle's entries, in order: the identity state, the items, the audit's
/// events and the roles each officer signed in.
struct Replay {
    state: rules::State,
    items: HashMap<ItemId, ItemState>,
    /// Seal numbers and the first item (and seq) of the bundle they were applied to.
    seals: HashMap<String, (ItemId, u64)>,
    events: Vec<AuditEvent>,
    signed_as: BTreeMap<crate::base::ids::OfficerId, BTreeSet<String>>,
    signatures: Vec<ActSignatures>,
    /// The seq of the last entry folded.
    last: Option<u64>,
}

impl Replay {
    /// An empty fold for the log of checkpoint `cp`.
    fn new(cp: &note::Checkpoint, vkey: &VerifierKey) -> Self {
        Self {
            state: rules::State::new(cp.origin.clone(), vkey.to_string()),
            items: HashMap::new(),
            seals: HashMap::new(),
            events: Vec::new(),
            signed_as: BTreeMap::new(),
            signatures: Vec::new(),
            last: None,
        }
    }

    /// Checks one entry (its order, its leaf against the checkpoint, the rules at its seq) and
    /// folds it in.
    fn entry(&mut self, entry: &BundleEntry, cp: &note::Checkpoint) -> Result<(), BundleError> {
        let seq = entry.seq;
        let fail = |reason: Message| BundleError::Entry { seq, reason };
        if self.last.is_some_and(|l| seq <= l) {
            return Err(fail(msg("err.bundle.out_of_order")));
        }
        self.last = Some(seq);
        let (leaf, leaf_hash) = proven_leaf(entry, cp)?;
        let statement = Statement::parse(leaf.envelope.payload()).map_err(|e| fail(e.explain()))?;
        rules::skip_to(&mut self.state, seq);
        let (items, seals) = (&self.items, &self.seals);
        let view = custody::View {
            items: |id: &ItemId| items.get(id).cloned(),
            seals: |seal: &str| seals.get(seal).cloned(),
        };
        let recorded_at = leaf.recorded_at;
        let admitted = custody::admit(
            &self.state,
            &view,
            leaf.envelope,
            statement,
            None,
            recorded_at,
        )
        .map_err(|e| fail(msg("err.bundle.admit_refused").part("reason", e.explain())))?;
        let changes = custody::apply(&self.state, &view, &admitted, &leaf_hash, leaf.recorded_at);
        for c in changes {
            self.items.insert(c.after.id.clone(), c.after);
        }
        for (item, _, seal) in custody::seals_applied(admitted.statement()) {
            self.seals.entry(seal).or_insert((item, seq));
        }
        for s in &admitted.statement().signers {
            self.signed_as
                .entry(s.officer.clone())
                .or_default()
                .insert(s.role.as_str().to_string());
        }
        if !admitted.statement().kind.is_identity() {
            self.signatures
                .push(self.act_signatures(seq, admitted.statement()));
            self.events.push(AuditEvent {
                seq,
                recorded_at: admitted.statement().recorded_at_or(leaf.recorded_at),
                leaf_hash,
                statement: admitted.statement().clone(),
            });
        }
        rules::apply(&mut self.state, &admitted);
        Ok(())
    }
}

impl Replay {
    /// How the act at `seq` was signed: each signer with the key the identity state holds for
    /// them before the act is applied (the key `admit` has just checked their signature with).
    fn act_signatures(&self, seq: u64, statement: &Statement) -> ActSignatures {
        let signers = statement
            .signers
            .iter()
            .map(|s| SignedBy {
                officer: s.officer.to_string(),
                role: s.role.as_str().to_owned(),
                key_id: self
                    .state
                    .officer(&s.officer)
                    .and_then(|o| o.current_key())
                    .map_or_else(String::new, |k| k.keyid.clone()),
            })
            .collect();
        ActSignatures {
            seq,
            kind: statement.kind.as_str().to_owned(),
            indonesian: statement.kind.indonesian().to_owned(),
            signers,
            acknowledgements: acknowledgements(statement),
        }
    }
}

/// An entry's leaf and its hash, once its inclusion proof verifies against the checkpoint and
/// the leaf decodes and says it is at the entry's seq.
fn proven_leaf(entry: &BundleEntry, cp: &note::Checkpoint) -> Result<(Leaf, Hash), BundleError> {
    let seq = entry.seq;
    let fail = |reason: Message| BundleError::Entry { seq, reason };
    let leaf_bytes = B64
        .decode(&entry.leaf)
        .map_err(|_| fail(msg("err.bundle.leaf_not_base64")))?;
    let leaf_hash = merkle::leaf_hash(&leaf_bytes);
    let proof = entry
        .proof
        .iter()
        .map(|h| decode_hash(h, seq))
        .collect::<Result<Vec<_>, _>>()?;
    merkle::verify_inclusion(seq, cp.size, &leaf_hash, &proof, &cp.root).map_err(|e| {
        fail(
            msg("err.bundle.proof_fails")
                .arg("size", cp.size)
                .part("reason", e.explain()),
        )
    })?;
    let leaf = Leaf::decode(&leaf_bytes).map_err(|e| fail(e.explain()))?;
    if leaf.seq != seq {
        return Err(fail(msg("err.bundle.leaf_seq").arg("said", leaf.seq)));
    }
    Ok((leaf, leaf_hash))
}

/// Checks the bundle's own fields against what the verified events show: its item has an event,
/// its origin is the checkpoint's, its item list is the items the events touch.
/// What the bundle says it was cut for: exactly one of `item` and `incident`.
fn cut_of(bundle: &Bundle) -> Result<Cut, BundleError> {
    match (&bundle.item, &bundle.incident) {
        (Some(item), None) => ItemId::parse(item).map(Cut::Item).map_err(|e| {
            BundleError::Format(msg("err.bundle.field_item").part("reason", e.explain()))
        }),
        (None, Some(incident)) if !incident.is_empty() => Ok(Cut::Incident(incident.clone())),
        _ => Err(BundleError::Format(msg("err.bundle.cut_unclear"))),
    }
}

/// The incident an item belongs to: its own, or that of the first ancestor in the bundle that
/// names one (a sample carries its parent's case).
fn incident_of<'a>(items: &'a HashMap<ItemId, ItemState>, item: &'a ItemState) -> Option<&'a str> {
    let mut at = item;
    for _ in 0..items.len() {
        if let Some(incident) = &at.incident {
            return Some(incident);
        }
        at = items.get(at.parent.as_ref()?)?;
    }
    None
}

fn check_fields(
    bundle: &Bundle,
    cp: &note::Checkpoint,
    cut: &Cut,
    items: &HashMap<ItemId, ItemState>,
) -> Result<(), BundleError> {
    match cut {
        Cut::Item(item) if !items.contains_key(item) => {
            return Err(BundleError::Format(
                msg("err.bundle.no_item_event").arg("item", item),
            ));
        }
        Cut::Item(_) => {}
        Cut::Incident(incident) => {
            if items.is_empty() {
                return Err(BundleError::Format(
                    msg("err.bundle.no_incident_item").arg("incident", incident),
                ));
            }
            // A case bundle holds the case's items and nothing else: each is recorded under the
            // incident (itself or, for a sample, through its parent).
            if let Some(stray) = items
                .values()
                .find(|s| incident_of(items, s) != Some(incident.as_str()))
            {
                return Err(BundleError::Format(
                    msg("err.bundle.stray_item")
                        .arg("item", &stray.id)
                        .arg("incident", incident),
                ));
            }
        }
    }
    // Every field must agree with what the verified events show; none is taken on trust.
    if bundle.origin != cp.origin.as_str() {
        return Err(BundleError::Format(
            msg("err.bundle.origin_differs")
                .quoted("origin", &bundle.origin)
                .arg("checkpoint", &cp.origin),
        ));
    }
    let mut listed: Vec<&str> = bundle.items.iter().map(String::as_str).collect();
    listed.sort_unstable();
    let mut seen: Vec<&str> = items.keys().map(ItemId::as_str).collect();
    seen.sort_unstable();
    if listed != seen {
        return Err(BundleError::Format(
            msg("err.bundle.items_differ")
                .arg("listed", listed.join(", "))
                .arg("seen", seen.join(", ")),
        ));
    }
    Ok(())
}

/// One line per signer: `Name (NIP …)`, unit and the roles they signed in.
fn signer_lines(
    signed_as: &BTreeMap<crate::base::ids::OfficerId, BTreeSet<String>>,
    state: &rules::State,
    names: &crate::app::names::Names,
) -> Vec<Message> {
    signed_as
        .iter()
        .map(|(officer, roles)| {
            let o = state.officer(officer);
            msg("bundle.signer_line")
                .arg("officer", names.label(officer.as_str()))
                .arg("unit", o.map_or(String::new(), |o| o.record.unit.clone()))
                .arg(
                    "roles",
                    roles.iter().cloned().collect::<Vec<_>>().join(", "),
                )
        })
        .collect()
}

/// What a verified bundle of `entries` entries proves, item by item of the `lot`.
fn proves(
    entries: usize,
    cp: &note::Checkpoint,
    lot: &[ItemState],
    refounding: Option<&rules::Refounding>,
) -> Vec<Message> {
    let by_item: BTreeMap<&ItemId, (u64, u64)> = lot
        .iter()
        .map(|s| (&s.id, (s.born_seq, s.last_seq)))
        .collect();
    let mut proves = vec![
        msg("bundle.proves.in_log")
            .arg("entries", entries)
            .arg("origin", &cp.origin)
            .arg("size", cp.size)
            .arg("root", B64.encode(cp.root)),
        msg("bundle.proves.signatures"),
    ];
    if let Some(r) = refounding {
        proves.push(
            msg("bundle.proves.refounding")
                .arg("last", r.size - 1)
                .arg("origin", &r.origin)
                .arg("admin", &r.by),
        );
    }
    for (id, (born, last)) in by_item {
        proves.push(
            msg("bundle.proves.chain")
                .arg("item", id)
                .arg("born", born)
                .arg("last", last),
        );
    }
    proves
}

/// What no bundle can prove, whatever it holds.
fn cannot_prove(cp: &note::Checkpoint, cut: &Cut) -> Vec<Message> {
    let mut out = vec![
        msg("bundle.cannot.after")
            .arg("last", cp.size.saturating_sub(1))
            .arg("size", cp.size),
        msg("bundle.cannot.contents"),
        msg("bundle.cannot.identities"),
    ];
    if let Cut::Incident(incident) = cut {
        out.push(msg("bundle.cannot.other_items").arg("incident", incident));
    }
    out
}

impl crate::base::class::Classify for BundleError {
    /// A bundle that does not verify is refused; a ledger that cannot build one is storage.
    fn class(&self) -> crate::base::class::Class {
        use crate::base::class::Class;
        match self {
            Self::Case(e) => e.class(),
            Self::Ledger(_) => Class::Corrupt,
            Self::Size(_) => Class::Usage,
            Self::Subjects(e) => e.class(),
            Self::Format(_)
            | Self::Checkpoint(_)
            | Self::Origin { .. }
            | Self::Entry { .. }
            | Self::Disclosure(_) => Class::Refused,
        }
    }

    fn field(&self) -> Option<String> {
        matches!(self, Self::Size(_)).then(|| "--checkpoint".to_owned())
    }
}
