//! The demonstration: builds a small ledger from generated keys on a replayed clock (Lapas
//! Narkotika Jakarta, August 2025), then verifies it, so a newcomer sees the whole write and
//! verify path in one command. Keys are written beside the log in `demo-keys/` so the newcomer
//! can keep recording. Never touches an existing ledger: the directory must be new or empty.
//! What it did is answered as data (`DemoReport`, `Step`); the edge puts it into words.

use crate::app::compose::{self, BuildError, OfficerInput};
use crate::app::ledger::Ledger;
use crate::app::subjects::{Asker, SubjectsError};
use crate::app::verify;
use crate::base::class::Classify as _;
use crate::base::ids::{OfficerId, OfficerRole, Origin, SignerRole};
use crate::base::time::{Clock, ManualClock, Timestamp};
use crate::base::words::{Explain as _, Message, msg};
use crate::format::statement::{Statement, StatementType};
use crate::format::subject::{PersonalFields, SubjectKind};
use crate::keys::signing::SecretKey;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// The demo ledger's origin.
pub const DEMO_ORIGIN: &str = "custody.lapas-narkotika-jakarta.demo/ledger";
/// The demo facility code.
pub const DEMO_FACILITY: &str = "LPN-JAKARTA";

/// One recorded act of the story: its seq and what it recorded, as data the edge puts into
/// words (`edge::render::demo_step`).
#[derive(Debug, Clone)]
pub struct Step {
    pub seq: u64,
    pub act: Act,
}

/// What a step recorded.
#[derive(Debug, Clone)]
pub enum Act {
    /// The ledger founded by its administrator (`ledger_genesis`).
    Founded { admin: OfficerId, name: String },
    /// An officer enrolled, with the role and unit the story gives them (`officer_enrolled`).
    Enrolled {
        officer: OfficerId,
        name: String,
        role: OfficerRole,
        unit: String,
    },
    /// One act of the scenario, of this statement type.
    Recorded(StatementType),
}

impl Act {
    /// The statement type the step recorded.
    pub fn kind(&self) -> StatementType {
        match self {
            Self::Founded { .. } => StatementType::LedgerGenesis,
            Self::Enrolled { .. } => StatementType::OfficerEnrolled,
            Self::Recorded(kind) => *kind,
        }
    }
}

impl Step {
    /// The step as JSON: its seq and statement type, and for the founding and each enrollment
    /// the officer it concerned.
    pub fn to_json(&self) -> Value {
        let (seq, kind) = (self.seq, self.act.kind().as_str());
        match &self.act {
            Act::Founded { admin, name } => {
                json!({"seq": seq, "type": kind, "officer": admin, "name": name})
            }
            Act::Enrolled {
                officer,
                name,
                role,
                unit,
            } => {
                json!({"seq": seq, "type": kind, "officer": officer, "name": name, "role": role, "unit": unit})
            }
            Act::Recorded(_) => json!({"seq": seq, "type": kind}),
        }
    }
}

/// What the demo did and whether the result verified: data only; the edge prints it
/// (`edge::render::demo`).
#[derive(Debug)]
pub struct DemoReport {
    pub ledger: String,
    pub vkey: String,
    pub steps: Vec<Step>,
    pub verify: Result<verify::Report, Message>,
    /// The seized lot's history, as `custody history` shows it.
    pub history: Vec<crate::domain::projection::TimelineEntry>,
    /// The statements of the history's events, by seq: what the edge reads each event's
    /// Indonesian line (*uraian*) from.
    pub statements: BTreeMap<u64, Statement>,
    /// The audit of the seized lot, as of the day after the destruction.
    pub findings: Vec<crate::domain::audit::Finding>,
    pub item: Option<crate::domain::custody::ItemState>,
}

impl DemoReport {
    pub fn verified_ok(&self) -> bool {
        self.verify.is_ok()
    }

    pub fn to_json(&self) -> Value {
        json!({
            "ledger": self.ledger,
            "origin": DEMO_ORIGIN,
            "vkey": self.vkey,
            "steps": self.steps.iter().map(Step::to_json).collect::<Vec<_>>(),
            "item": self.item,
            "history": self.history,
            "audit": {"as_of": DEMO_AUDIT_AS_OF, "findings": self.findings},
            "verify": match &self.verify {
                Ok(r) => json!({"ok": true, "size": r.size}),
                Err(e) => json!({"ok": false, "error": e.english()}),
            },
        })
    }
}

struct Officer {
    input: OfficerInput,
    key: SecretKey,
    file: &'static str,
}

/// Where the cast's keys come from: fresh ones, or the `demo-keys/` folder of an earlier run.
#[derive(Debug, Clone, Copy)]
enum Keys<'a> {
    Generate,
    Load(&'a Path),
}

/// The officer of row `m` of the cast, with a new key or the one in its file.
fn officer(keys: Keys<'_>, m: &Member) -> Result<Officer, BuildError> {
    let key = match keys {
        Keys::Generate => SecretKey::generate()?,
        Keys::Load(dir) => SecretKey::read_file(&dir.join(m.file))?,
    };
    Ok(Officer {
        input: OfficerInput {
            id: OfficerId::parse(m.id).map_err(|e| BuildError::Io(e.explain()))?,
            name: m.name.into(),
            agency: m.agency.into(),
            unit: m.unit.into(),
            roles: vec![m.role],
            public_key: key.public(),
            rank: None,
        },
        key,
        file: m.file,
    })
}

/// The units of the scenario.
const LAPAS: &str = "P2U Lapas Narkotika Jakarta";
const KPLP: &str = "KPLP Lapas Narkotika Jakarta";
const POLRES: &str = "Satresnarkoba Polres Jakarta Timur";
const LABFOR: &str = "Labfor Polri";

/// Where the scenario's acts go: the ledger itself, or (in the client) a server.
pub trait DemoTarget {
    /// Appends a signed envelope; answers its seq.
    fn append(&self, envelope: crate::format::envelope::Envelope) -> Result<u64, BuildError>;
    /// The item's current head, which the next act names in `after`.
    fn head(&self, item: &crate::base::ids::ItemId) -> Result<String, BuildError>;
    /// Records a person in the subject register, as `officer` (proven by `key`); answers the
    /// statement's JSON of the person (a subject id and a commitment, no personal data).
    fn subject(
        &self,
        fields: PersonalFields,
        officer: &OfficerId,
        key: &SecretKey,
    ) -> Result<Value, BuildError>;
}

impl DemoTarget for Ledger {
    fn append(&self, envelope: crate::format::envelope::Envelope) -> Result<u64, BuildError> {
        Ok(self.submit_envelope(envelope)?.seq)
    }

    fn head(&self, item: &crate::base::ids::ItemId) -> Result<String, BuildError> {
        crate::app::queries::item(self.store(), item)
            .map_err(|e| BuildError::Io(e.explain()))?
            .map(|s| s.head)
            .ok_or_else(|| BuildError::Io(msg("err.demo.item_missing").arg("item", item)))
    }

    fn subject(
        &self,
        fields: PersonalFields,
        officer: &OfficerId,
        key: &SecretKey,
    ) -> Result<Value, BuildError> {
        let failed = |e: SubjectsError| BuildError::Target {
            class: e.class(),
            message: e.explain(),
        };
        let asker = Asker::prove(&self.state(), officer, key).map_err(failed)?;
        let now = self.now();
        let recorded = self
            .subjects()
            .and_then(|s| s.record(fields, &asker, now))
            .map_err(failed)?;
        Ok(recorded.person())
    }
}

/// The evidence labels of the scenario.
pub const DEMO_ITEM: &str = "BB-LPN-2025-0418";
pub const DEMO_SAMPLE: &str = "BB-LPN-2025-0418-S1";
pub const DEMO_INCIDENT: &str = "INS-LPN-2025-0091";
/// The demo audits the lot as of the morning after the destruction.
pub const DEMO_AUDIT_AS_OF: &str = "2025-08-22T01:00:00Z";
/// The visitor in whose rice box the sachets were found: her NIK and name, kept in the subject
/// register and never in the log.
pub const DEMO_VISITOR_NIK: &str = "3174055708900003";
pub const DEMO_VISITOR_NAME: &str = "Siti Aminah";

fn digest_of(label: &str) -> String {
    use sha2::Digest as _;
    format!(
        "sha256:{}",
        crate::keys::signing::hex(&sha2::Sha256::digest(label.as_bytes()))
    )
}

/// Records one act of the scenario: fills the common fields, names the items' current heads in
/// `after`, signs with every signer's key, appends.
struct Recorder<'a> {
    target: &'a dyn DemoTarget,
    clock: &'a ManualClock,
    steps: Vec<Step>,
}

impl Recorder<'_> {
    fn act(
        &mut self,
        at: &str,
        kind: &str,
        signers: &[(SignerRole, &Officer)],
        items: &[(&str, bool)],
        body: Value,
    ) -> Result<u64, BuildError> {
        let occurred = Timestamp::parse(at).map_err(|e| BuildError::Io(e.explain()))?;
        // Recorded a few minutes after the act, as on a real terminal.
        self.clock.set(occurred.plus_ms(4 * 60 * 1000));
        let mut after = serde_json::Map::new();
        for (item, new) in items {
            let head = if *new {
                Value::Null
            } else {
                let id = crate::base::ids::ItemId::parse(item)
                    .map_err(|e| BuildError::Io(e.explain()))?;
                Value::String(self.target.head(&id)?)
            };
            after.insert((*item).to_owned(), head);
        }
        let mut statement = json!({
            "type": kind,
            "id": compose::new_statement_id(self.clock)?.to_string(),
            "occurred_at": occurred.to_seconds_text(),
            "facility": DEMO_FACILITY,
            "signers": signers.iter().map(|(role, o)| json!({"role": role.as_str(), "officer": o.input.id.as_str()})).collect::<Vec<_>>(),
            "after": after,
        });
        if let (Value::Object(m), Value::Object(b)) = (&mut statement, body) {
            m.extend(b);
        }
        let bytes = serde_json::to_vec(&statement).expect("a JSON value serializes");
        let keys: Vec<&SecretKey> = signers.iter().map(|(_, o)| &o.key).collect();
        let seq = self.target.append(compose::sign_statement(bytes, &keys)?)?;
        let kind = StatementType::parse(kind).expect("the scenario's acts are of known types");
        self.steps.push(Step {
            seq,
            act: Act::Recorded(kind),
        });
        Ok(seq)
    }
}

/// Creates the ledger and enrolls the cast: the part of the scenario only an administrator at
/// the ledger's own machine can do (genesis needs the ledger's key).
fn found(
    dir: &Path,
    clock: &Arc<ManualClock>,
    c: &Cast,
) -> Result<(Ledger, Vec<Step>), BuildError> {
    let origin = Origin::parse(DEMO_ORIGIN).expect("a valid literal origin");
    let f = DEMO_FACILITY;
    let admin = &c.admin;
    let (ledger, receipt) = compose::init_ledger(
        dir,
        &origin,
        f,
        clock.clone() as Arc<dyn Clock>,
        &admin.input,
        &admin.key,
    )?;
    let mut steps = vec![Step {
        seq: receipt.seq,
        act: Act::Founded {
            admin: admin.input.id.clone(),
            name: admin.input.name.clone(),
        },
    }];
    for o in c.everyone().into_iter().skip(1) {
        clock.advance_ms(60 * 1000);
        let bytes = compose::enrollment(
            clock.as_ref(),
            f,
            &admin.input.id,
            &o.input,
            Some("Surat tugas / assignment letter"),
        )?;
        let r = ledger.submit_envelope(compose::sign_statement(bytes, &[&admin.key])?)?;
        steps.push(Step {
            seq: r.seq,
            act: Act::Enrolled {
                officer: o.input.id.clone(),
                name: o.input.name.clone(),
                role: o.input.roles[0],
                unit: o.input.unit.clone(),
            },
        });
    }

    Ok((ledger, steps))
}

/// The scenario's acts, from the search at the gate to the destruction.
fn acts(r: &mut Recorder<'_>, c: &Cast) -> Result<(), BuildError> {
    at_the_gate(r, c)?;
    with_the_police(r, c)?;
    at_the_lab(r, c)?;
    destruction(r, c)?;
    register_the_lapas(r, c)
}

/// The Lapas in the register of places, as its administrator keeps it: its zone (WIB), so that
/// every time of its acts reads as Jakarta's, and the letterhead its documents carry. Recorded
/// last so that the story's log positions stay those docs/DOMAIN.md and the README name.
fn register_the_lapas(r: &mut Recorder<'_>, c: &Cast) -> Result<(), BuildError> {
    r.act(
        "2025-08-21T03:00:00Z",
        "facility_registered",
        &[(SignerRole::Admin, &c.admin)],
        &[],
        json!({
            "code": DEMO_FACILITY,
            "name": "Lapas Narkotika Kelas IIA Jakarta",
            "address": "Jl. Raya Bekasi Timur No. 170",
            "time_zone": "WIB",
            "letterhead": ["KEMENTERIAN IMIGRASI DAN PEMASYARAKATAN", "LAPAS NARKOTIKA KELAS IIA JAKARTA"]
        }),
    )?;
    Ok(())
}

/// The visitor in whose rice box the sachets were found: her personal data, which goes into the
/// subject register; the statements name her by subject id and commitment only.
pub fn visitor_fields() -> PersonalFields {
    PersonalFields::new(SubjectKind::Visitor)
        .with_name(DEMO_VISITOR_NAME)
        .and_then(|f| f.with_nik(DEMO_VISITOR_NIK))
        .expect("the demo's visitor has valid fields")
}

/// Monday 4 August: the search at the gate, the find, the seal, the report to the prison head.
fn at_the_gate(r: &mut Recorder<'_>, c: &Cast) -> Result<(), BuildError> {
    let Cast {
        gate_a,
        gate_b,
        head,
        ..
    } = c;
    let visitor = r
        .target
        .subject(visitor_fields(), &gate_a.input.id, &gate_a.key)?;
    let item = DEMO_ITEM;
    // Monday 4 August 2025, 09:10 WIB: the rice box at the main gate.
    r.act("2025-08-04T02:10:00Z", "search_conducted", &[(SignerRole::Actor, gate_a), (SignerRole::Witness, gate_b)], &[], json!({
        "incident": DEMO_INCIDENT, "kind": "gate", "subject": visitor, "location": "Pintu utama P2U",
        "body_search": false, "outcome": "contraband_found"}))?;
    r.act("2025-08-04T02:15:00Z", "contraband_found", &[(SignerRole::Finder, gate_a), (SignerRole::Witness, gate_b)], &[(item, true)], json!({
        "incident": DEMO_INCIDENT, "item": item,
        "description": {"name": "14 plastic sachets of crystalline powder (sabu)", "form": "crystal", "colour": "white"},
        "category": "narcotic", "narcotic_class": "I", "count": 14, "gross_mass_mg": 12840,
        "concealment": "under the rice in a visitor's lunch box", "persons": [visitor],
        "photos": [digest_of("photo: rice box opened"), digest_of("photo: 14 sachets")]}))?;
    r.act("2025-08-04T02:30:00Z", "item_sealed", &[(SignerRole::Actor, gate_a), (SignerRole::Witness, gate_b)], &[(item, false)], json!({
        "item": item, "seals_applied": ["SEG-2025-000418"], "packaging": "transparent evidence bag, labelled",
        "photos": [digest_of("photo: sealed bag SEG-2025-000418")]}))?;
    r.act("2025-08-04T03:00:00Z", "note_added", &[(SignerRole::Author, head)], &[(item, false)], json!({
        "item": item, "text": "Kepala KPLP: kejadian dilaporkan ke Kalapas / incident reported to the prison head"}))?;
    Ok(())
}

/// Tuesday 5 August: the handover to the police, the weighing, the seizure, the sample set
/// aside and the notification.
fn with_the_police(r: &mut Recorder<'_>, c: &Cast) -> Result<(), BuildError> {
    let Cast {
        gate_a,
        gate_b,
        dewi,
        rudi,
        yusuf,
        ..
    } = c;
    let polres = POLRES;
    // The investigator records her again: the same subject (found by NIK), a new commitment.
    let visitor = r
        .target
        .subject(visitor_fields(), &rudi.input.id, &rudi.key)?;
    let (item, sample) = (DEMO_ITEM, DEMO_SAMPLE);
    // Tuesday morning: handover to the police before two witnesses.
    r.act("2025-08-05T01:30:00Z", "custody_released", &[(SignerRole::Giver, gate_a), (SignerRole::Witness, gate_b), (SignerRole::Witness, dewi)], &[(item, false)], json!({
        "item": item, "to_officer": rudi.input.id.as_str(), "to_unit": polres, "purpose": "penyidikan / investigation",
        "seals": ["SEG-2025-000418"], "seals_intact": true, "count_observed": 14}))?;
    r.act(
        "2025-08-05T01:35:00Z",
        "custody_received",
        &[(SignerRole::Receiver, rudi), (SignerRole::Witness, yusuf)],
        &[(item, false)],
        json!({
        "item": item, "seals": ["SEG-2025-000418"], "seals_intact": true, "count_observed": 14,
        "location": "Ruang barang bukti Satresnarkoba"}),
    )?;
    r.act(
        "2025-08-05T03:00:00Z",
        "weighed",
        &[(SignerRole::Weigher, rudi), (SignerRole::Witness, yusuf)],
        &[(item, false)],
        json!({
        "item": item, "gross_mass_mg": 12840, "net_mass_mg": 11200, "balance_id": "OHAUS-PX224-03",
        "readability_mg": 1, "calibration_ref": "KAL/2025/07/118", "seals_intact": true}),
    )?;
    r.act("2025-08-05T03:30:00Z", "seizure_recorded", &[(SignerRole::Investigator, rudi), (SignerRole::Witness, yusuf), (SignerRole::Witness, dewi)], &[(item, false)], json!({
        "item": item, "case": "LP/B/412/VIII/2025/Resnarkoba",
        "warrant": {"number": "PRIN-SITA/412/VIII/2025/Resnarkoba", "issued_by": "Ketua Pengadilan Negeri Jakarta Timur", "date": "2025-08-05"},
        "legal_basis": ["UU 35/2009 art. 87", "PP 40/2013 art. 14"],
        "description": "14 plastic sachets of crystalline powder suspected methamphetamine",
        "count": 14, "net_mass_mg": 11200, "possessor": visitor, "possessor_acknowledgement": "refused",
        "refusal_note": "Pengunjung menolak menandatangani berita acara / the visitor refused to sign",
        "photos": [digest_of("photo: seizure record")]}))?;
    r.act("2025-08-05T04:00:00Z", "sample_set_aside", &[(SignerRole::Investigator, rudi), (SignerRole::Witness, yusuf)], &[(item, false), (sample, true)], json!({
        "item": item, "sample": sample, "rule": "statistical", "sample_count": 2, "sample_net_mass_mg": 410,
        "sample_seals": ["SEG-2025-000419"], "parent_seals": ["SEG-2025-000420"], "suspect_acknowledgement": "refused"}))?;
    r.act("2025-08-05T06:00:00Z", "seizure_notified", &[(SignerRole::Investigator, rudi)], &[(item, false)], json!({
        "item": item, "letter_number": "B/1187/VIII/2025/Resnarkoba", "recipients": ["kejari", "court", "bpom"]}))?;
    Ok(())
}

/// 5-7 August: the sample goes to the forensic laboratory, which reports its result.
fn at_the_lab(r: &mut Recorder<'_>, c: &Cast) -> Result<(), BuildError> {
    let Cast {
        rudi,
        yusuf,
        kasat,
        ratna,
        bambang,
        ..
    } = c;
    let labfor = LABFOR;
    let sample = DEMO_SAMPLE;
    r.act("2025-08-05T07:00:00Z", "lab_requested", &[(SignerRole::UnitHead, kasat)], &[(sample, false)], json!({
        "item": sample, "lab": labfor, "letter_number": "R/1190/VIII/2025/Resnarkoba", "seals": ["SEG-2025-000419"]}))?;
    r.act("2025-08-06T01:00:00Z", "custody_released", &[(SignerRole::Giver, rudi), (SignerRole::Witness, yusuf), (SignerRole::Witness, kasat)], &[(sample, false)], json!({
        "item": sample, "to_officer": ratna.input.id.as_str(), "to_unit": labfor, "purpose": "pemeriksaan laboratoris / lab examination",
        "seals": ["SEG-2025-000419"], "seals_intact": true, "count_observed": 2}))?;
    r.act("2025-08-06T02:00:00Z", "lab_received", &[(SignerRole::LabIntake, ratna)], &[(sample, false)], json!({
        "item": sample, "lab_case": "LAB-2025-08-3312", "seals": ["SEG-2025-000419"], "seals_intact": true, "mass_observed_mg": 410}))?;
    r.act("2025-08-07T08:00:00Z", "lab_result", &[(SignerRole::Examiner, ratna), (SignerRole::LabHead, bambang)], &[(sample, false)], json!({
        "item": sample, "report_number": "BA-LAB/3312/VIII/2025", "result": "positive", "substance": "methamphetamine",
        "narcotic_class": "I", "method": "GC-MS", "net_mass_mg": 390, "consumed_mass_mg": 50, "residue_mass_mg": 340,
        "residue_seals": ["SEG-LAB-2025-3312"], "report_digest": digest_of("lab report BA-LAB/3312/VIII/2025")}))?;
    Ok(())
}

/// 12-21 August: the prosecutor's order, the reweighing and the (late) destruction.
fn destruction(r: &mut Recorder<'_>, c: &Cast) -> Result<(), BuildError> {
    let Cast {
        dewi,
        rudi,
        yusuf,
        andi,
        ..
    } = c;
    let (item, sample) = (DEMO_ITEM, DEMO_SAMPLE);
    r.act("2025-08-12T03:00:00Z", "status_determined", &[(SignerRole::Prosecutor, andi)], &[(item, false), (sample, false)], json!({
        "order_number": "PRINT-123/M.1.13/Enz.1/08/2025",
        "items": [{"item": item, "status": "destroy"}, {"item": sample, "status": "evidence", "retained_mass_mg": 340}]}))?;
    let reweigh = r.act(
        "2025-08-21T01:30:00Z",
        "weighed",
        &[(SignerRole::Weigher, rudi), (SignerRole::Witness, yusuf)],
        &[(item, false)],
        json!({
        "item": item, "gross_mass_mg": 12420, "net_mass_mg": 10790, "balance_id": "OHAUS-PX224-03",
        "readability_mg": 1, "calibration_ref": "KAL/2025/07/118", "seals_intact": true}),
    )?;
    // Nine days after the order: two days past the 7-day limit of UU 35/2009 art. 91(2).
    r.act("2025-08-21T02:00:00Z", "destroyed", &[(SignerRole::Actor, rudi), (SignerRole::Witness, yusuf), (SignerRole::Witness, dewi), (SignerRole::Official, andi)], &[(item, false)], json!({
        "item": item, "order_ref": "PRINT-123/M.1.13/Enz.1/08/2025", "reweigh_seq": reweigh, "mass_destroyed_mg": 10790,
        "method": "dissolved in water and incinerated", "media": [digest_of("video: destruction"), digest_of("photo: ashes")]}))?;
    Ok(())
}

fn write_keys(dir: &Path, c: &Cast) -> Result<(), BuildError> {
    let keys_dir = dir.join("demo-keys");
    std::fs::create_dir_all(&keys_dir)
        .map_err(|e| BuildError::Io(Message::verbatim(format!("{}: {e}", keys_dir.display()))))?;
    for o in c.everyone() {
        o.key.write_new_file(&keys_dir.join(o.file))?;
    }

    Ok(())
}

/// The scenario's first moment (the ledger is founded on 1 August 2025).
const DEMO_START: &str = "2025-08-01T01:00:00Z";

/// Only the founding: creates the ledger in `dir`, enrolls the cast and writes their keys to
/// `demo-keys/`, so that the acts can be recorded through a server (`record_acts`). Answers the
/// verifier key and the steps.
pub fn found_only(dir: &Path) -> Result<(String, Vec<Step>), BuildError> {
    let start = Timestamp::parse(DEMO_START).expect("a valid literal time");
    let clock = Arc::new(ManualClock::new(start));
    let c = cast(Keys::Generate)?;
    let (ledger, steps) = found(dir, &clock, &c)?;
    write_keys(dir, &c)?;
    let vkey = ledger.verifier_key().to_string();
    ledger.close();
    Ok((vkey, steps))
}

/// Records the scenario's acts through `target` (a server, from the client) with the cast's
/// keys read from `keys_dir` (the `demo-keys/` that `found_only` wrote). Every act is signed
/// here; the target only verifies and appends.
pub fn record_acts(target: &dyn DemoTarget, keys_dir: &Path) -> Result<Vec<Step>, BuildError> {
    let c = cast(Keys::Load(keys_dir))?;
    let start = Timestamp::parse(DEMO_START).expect("a valid literal time");
    let clock = ManualClock::new(start);
    let mut r = Recorder {
        target,
        clock: &clock,
        steps: Vec::new(),
    };
    acts(&mut r, &c)?;
    Ok(r.steps)
}

/// The officers of the scenario, as docs/DOMAIN.md tells it.
struct Cast {
    admin: Officer,
    gate_a: Officer,
    gate_b: Officer,
    head: Officer,
    dewi: Officer,
    rudi: Officer,
    yusuf: Officer,
    kasat: Officer,
    ratna: Officer,
    bambang: Officer,
    andi: Officer,
}

impl Cast {
    fn everyone(&self) -> [&Officer; 11] {
        [
            &self.admin,
            &self.gate_a,
            &self.gate_b,
            &self.head,
            &self.dewi,
            &self.rudi,
            &self.yusuf,
            &self.kasat,
            &self.ratna,
            &self.bambang,
            &self.andi,
        ]
    }
}

/// One officer of the scenario, as a row of `CAST`.
struct Member {
    id: &'static str,
    name: &'static str,
    agency: &'static str,
    unit: &'static str,
    role: OfficerRole,
    /// The key's file in `demo-keys/`.
    file: &'static str,
}

/// The officers of the scenario, as docs/DOMAIN.md tells it, in the order of `Cast`'s fields.
const CAST: [Member; 11] = [
    Member {
        id: "197905112005011002",
        name: "Hendra Wijaya",
        agency: "imipas",
        unit: "Tata Usaha Lapas Narkotika Jakarta",
        role: OfficerRole::Admin,
        file: "admin.pem",
    },
    Member {
        id: "198803222010121003",
        name: "Agus Santoso",
        agency: "imipas",
        unit: LAPAS,
        role: OfficerRole::GateOfficer,
        file: "gate-officer-a.pem",
    },
    Member {
        id: "199001152014022001",
        name: "Budi Rahmawati",
        agency: "imipas",
        unit: LAPAS,
        role: OfficerRole::GateOfficer,
        file: "gate-officer-b.pem",
    },
    Member {
        id: "197512031998031001",
        name: "Slamet Riyadi",
        agency: "imipas",
        unit: KPLP,
        role: OfficerRole::SecurityOfficer,
        file: "head-of-security.pem",
    },
    Member {
        id: "198906142012122002",
        name: "Dewi Lestari",
        agency: "imipas",
        unit: KPLP,
        role: OfficerRole::SecurityOfficer,
        file: "security-officer.pem",
    },
    Member {
        id: "85071234",
        name: "Rudi Hartono",
        agency: "polri",
        unit: POLRES,
        role: OfficerRole::Investigator,
        file: "investigator.pem",
    },
    Member {
        id: "90030456",
        name: "Yusuf Maulana",
        agency: "polri",
        unit: POLRES,
        role: OfficerRole::Investigator,
        file: "investigator-2.pem",
    },
    Member {
        id: "76010123",
        name: "Arief Wibowo",
        agency: "polri",
        unit: POLRES,
        role: OfficerRole::Investigator,
        file: "unit-head.pem",
    },
    Member {
        id: "198204102006042001",
        name: "Ratna Sari",
        agency: "labfor",
        unit: LABFOR,
        role: OfficerRole::LabExaminer,
        file: "lab-examiner.pem",
    },
    Member {
        id: "70050678",
        name: "Bambang Susilo",
        agency: "labfor",
        unit: LABFOR,
        role: OfficerRole::LabHead,
        file: "lab-head.pem",
    },
    Member {
        id: "198507142010121001",
        name: "Andi Pratama",
        agency: "kejaksaan",
        unit: "Kejari Jakarta Timur",
        role: OfficerRole::Prosecutor,
        file: "prosecutor.pem",
    },
];

/// The cast with its keys (generated, or read from an earlier run's `demo-keys/`).
fn cast(keys: Keys<'_>) -> Result<Cast, BuildError> {
    let [
        admin,
        gate_a,
        gate_b,
        head,
        dewi,
        rudi,
        yusuf,
        kasat,
        ratna,
        bambang,
        andi,
    ] = CAST.each_ref().map(|m| officer(keys, m));
    Ok(Cast {
        admin: admin?,
        gate_a: gate_a?,
        gate_b: gate_b?,
        head: head?,
        dewi: dewi?,
        rudi: rudi?,
        yusuf: yusuf?,
        kasat: kasat?,
        ratna: ratna?,
        bambang: bambang?,
        andi: andi?,
    })
}

/// Runs the demo into `dir`. `_clock` is accepted for symmetry with other commands; the demo
/// replays its own scenario clock so that the story has the dates of the scenario.
pub fn run(dir: &Path, _clock: Arc<dyn Clock>) -> Result<DemoReport, BuildError> {
    let start = Timestamp::parse(DEMO_START).expect("a valid literal time");
    let clock = Arc::new(ManualClock::new(start));
    let c = cast(Keys::Generate)?;
    let (ledger, mut steps) = found(dir, &clock, &c)?;
    let mut r = Recorder {
        target: &ledger,
        clock: &clock,
        steps: std::mem::take(&mut steps),
    };
    acts(&mut r, &c)?;
    let steps = r.steps;
    write_keys(dir, &c)?;
    let cp = ledger.checkpoint();
    let vkey = ledger.verifier_key().clone();
    let verify = verify::verify_log(ledger.store(), cp.note.as_bytes(), &vkey, &mut |_, _| {})
        .map_err(|e| e.explain());
    let id = crate::base::ids::ItemId::parse(DEMO_ITEM).expect("a valid literal label");
    let history = crate::app::queries::history(ledger.store(), &id)
        .map_err(|e| BuildError::Io(e.explain()))?;
    let item_state =
        crate::app::queries::item(ledger.store(), &id).map_err(|e| BuildError::Io(e.explain()))?;
    let statements = history
        .iter()
        .filter_map(|e| Some((e.seq, ledger.statement_at(e.seq).ok()?)))
        .collect();
    let as_of = Timestamp::parse(DEMO_AUDIT_AS_OF).expect("a valid literal time");
    let findings = crate::app::casefile::audit(
        &ledger,
        &crate::app::casefile::Scope::Item(id.clone()),
        as_of,
        &mut |_, _| {},
    )
    .map_err(|e| BuildError::Io(e.explain()))?
    .findings;
    Ok(DemoReport {
        findings,
        ledger: dir.display().to_string(),
        vkey: vkey.to_string(),
        steps,
        verify,
        history,
        statements,
        item: item_state,
    })
}
