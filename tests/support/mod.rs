//! A custody world for library-level tests: a ledger on a manual clock with officers of every
//! role, and `act` to record a statement the way an officer's device would (common fields filled,
//! `after` naming the items' current heads, signed by each signer's key).
#![allow(dead_code)]

use custody::ItemState;
use custody::SecretKey;
use custody::compose::{self, OfficerInput};
use custody::{AppendError, Ledger, Receipt};
use custody::{ItemId, OfficerId, OfficerRole, Origin};
use custody::{ManualClock, Timestamp};
use serde_json::{Value, json};
use std::sync::Arc;

pub const FACILITY: &str = "LPN-JAKARTA";

/// A person who is not an officer, as statements name them from rules version 4: a subject id
/// and a commitment (the personal data would be in the subject register, which these custody-rule
/// tests do not need). `n` makes one person's id.
pub fn subject(category: &str, n: u8) -> Value {
    json!({"kind": "subject", "category": category,
           "subject": format!("subj-{}", format!("{n:02x}").repeat(16)),
           "commitment": format!("{n:02x}").repeat(32)})
}

pub struct Officer {
    pub id: OfficerId,
    pub key: SecretKey,
    pub unit: String,
}

pub struct World {
    pub dir: tempfile::TempDir,
    pub ledger: Ledger,
    pub clock: Arc<ManualClock>,
    pub admin: Officer,
    pub officers: Vec<Officer>,
}

/// Officers of the world, by index: 0,1 gate officers (P2U); 2 security officer (KPLP);
/// 3,4 investigators (Polres); 5 lab examiner, 6 lab head (Labfor); 7 prosecutor; 8 custodian.
pub const GATE_A: usize = 0;
pub const GATE_B: usize = 1;
pub const SECURITY: usize = 2;
pub const INVESTIGATOR: usize = 3;
pub const INVESTIGATOR_2: usize = 4;
pub const LAB_EXAMINER: usize = 5;
pub const LAB_HEAD: usize = 6;
pub const PROSECUTOR: usize = 7;
pub const CUSTODIAN: usize = 8;

const ROSTER: &[(&str, OfficerRole, &str)] = &[
    ("198803222010121003", OfficerRole::GateOfficer, "P2U"),
    ("199001152014022001", OfficerRole::GateOfficer, "P2U"),
    ("197512031998031001", OfficerRole::SecurityOfficer, "KPLP"),
    ("85071234", OfficerRole::Investigator, "Satresnarkoba"),
    ("90030456", OfficerRole::Investigator, "Satresnarkoba"),
    ("198204102006042001", OfficerRole::LabExaminer, "Labfor"),
    ("70050678", OfficerRole::LabHead, "Labfor"),
    ("198507142010121001", OfficerRole::Prosecutor, "Kejari"),
    ("198001012005011001", OfficerRole::Custodian, "Rupbasan"),
];

impl World {
    /// A new ledger on the newest rules.
    pub fn new() -> Self {
        Self::with_rules(None)
    }

    /// A new ledger whose genesis names rules `version` (the newest when `None`): a ledger as an
    /// older release of the software would have made it.
    pub fn with_rules(version: Option<u32>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = Arc::new(ManualClock::new(
            Timestamp::parse("2025-08-04T01:00:00Z").expect("valid"),
        ));
        let admin_key = SecretKey::from_seed(&[100; 32]);
        let admin_in = OfficerInput {
            id: OfficerId::parse("197905112005011002").expect("valid"),
            name: "Admin".into(),
            agency: "imipas".into(),
            unit: "TU".into(),
            roles: vec![OfficerRole::Admin],
            public_key: admin_key.public(),
            rank: None,
        };
        let origin = Origin::parse("custody.test/ledger").expect("valid");
        let (ledger, _) = Ledger::init(&dir.path().join("l"), &origin, clock.clone(), |vkey| {
            let b = compose::genesis(
                clock.as_ref(),
                FACILITY,
                origin.as_str(),
                &vkey.to_string(),
                &admin_in,
            )
            .map_err(|e| AppendError::Stopped(custody::words::Explain::explain(&e)))?;
            compose::sign_statement(under_rules(b, version), &[&admin_key])
                .map_err(|e| AppendError::Stopped(custody::words::Explain::explain(&e)))
        })
        .expect("init");
        let mut officers = Vec::new();
        for (i, (id, role, unit)) in ROSTER.iter().enumerate() {
            let key = SecretKey::from_seed(&[i as u8 + 1; 32]);
            let input = OfficerInput {
                id: OfficerId::parse(id).expect("valid"),
                name: format!("Petugas {i}"),
                agency: "imipas".into(),
                unit: (*unit).into(),
                roles: vec![*role],
                public_key: key.public(),
                rank: None,
            };
            let b = compose::enrollment(clock.as_ref(), FACILITY, &admin_in.id, &input, None)
                .expect("compose");
            ledger
                .submit_envelope(compose::sign_statement(b, &[&admin_key]).expect("sign"))
                .expect("enroll");
            officers.push(Officer {
                id: input.id,
                key,
                unit: (*unit).into(),
            });
        }
        let admin = Officer {
            id: admin_in.id,
            key: admin_key,
            unit: "TU".into(),
        };
        Self {
            dir,
            ledger,
            clock,
            admin,
            officers,
        }
    }

    pub fn officer(&self, i: usize) -> &Officer {
        &self.officers[i]
    }

    pub fn item(&self, id: &str) -> Option<ItemState> {
        custody::queries::item(
            self.ledger.store(),
            &ItemId::parse(id).expect("valid label"),
        )
        .expect("reads")
    }

    /// The item's current head, for `after`.
    pub fn head(&self, id: &str) -> Value {
        self.item(id).map_or(Value::Null, |s| Value::String(s.head))
    }

    pub fn size(&self) -> u64 {
        self.ledger.checkpoint().size
    }

    /// Records a statement: `signers` are (role, officer index), `after` the items' heads as the
    /// signers see them now (`new` items get null).
    pub fn act(
        &self,
        kind: &str,
        signers: &[(&str, usize)],
        items: &[&str],
        body: Value,
    ) -> Result<Receipt, AppendError> {
        let after: serde_json::Map<String, Value> = items
            .iter()
            .map(|i| ((*i).to_owned(), self.head(i)))
            .collect();
        self.act_with_after(kind, signers, Value::Object(after), body)
    }

    pub fn act_with_after(
        &self,
        kind: &str,
        signers: &[(&str, usize)],
        after: Value,
        body: Value,
    ) -> Result<Receipt, AppendError> {
        self.act_at(FACILITY, kind, signers, after, body)
    }

    /// Records a statement at `facility` (the others record at `FACILITY`).
    pub fn act_at(
        &self,
        facility: &str,
        kind: &str,
        signers: &[(&str, usize)],
        after: Value,
        body: Value,
    ) -> Result<Receipt, AppendError> {
        let env = self.envelope_at(facility, kind, signers, after, body);
        self.ledger.submit_envelope(env)
    }

    /// Signs a statement at `facility` without recording it: what an officer's device holds
    /// before it is sent.
    pub fn envelope_at(
        &self,
        facility: &str,
        kind: &str,
        signers: &[(&str, usize)],
        after: Value,
        body: Value,
    ) -> custody::Envelope {
        self.clock.advance_ms(60_000);
        let mut st = json!({
            "type": kind,
            "id": compose::new_statement_id(self.clock.as_ref()).expect("randomness").to_string(),
            "occurred_at": self.clock.now_text(),
            "facility": facility,
            "signers": signers.iter().map(|(r, i)| json!({"role": r, "officer": self.officers[*i].id.as_str()})).collect::<Vec<_>>(),
            "after": after,
        });
        if let (Value::Object(m), Value::Object(b)) = (&mut st, body) {
            m.extend(b);
        }
        let keys: Vec<&SecretKey> = signers
            .iter()
            .map(|(_, i)| &self.officers[*i].key)
            .collect();
        compose::sign_statement(serde_json::to_vec(&st).expect("json"), &keys).expect("sign")
    }

    /// Enrolls one more officer, at `facility` (their home), and answers their index.
    pub fn enroll_at(&mut self, id: &str, role: OfficerRole, unit: &str, facility: &str) -> usize {
        self.try_enroll_at(id, role, unit, facility)
            .expect("enroll")
    }

    /// Enrolls an officer, or answers why the ledger refused to.
    pub fn try_enroll_at(
        &mut self,
        id: &str,
        role: OfficerRole,
        unit: &str,
        facility: &str,
    ) -> Result<usize, AppendError> {
        let index = self.officers.len();
        let key = SecretKey::from_seed(&[u8::try_from(index + 1).expect("a small roster"); 32]);
        let input = OfficerInput {
            id: OfficerId::parse(id).expect("valid"),
            name: format!("Petugas {index}"),
            agency: "imipas".into(),
            unit: unit.into(),
            roles: vec![role],
            public_key: key.public(),
            rank: None,
        };
        let b = compose::enrollment(self.clock.as_ref(), facility, &self.admin.id, &input, None)
            .expect("compose");
        self.ledger
            .submit_envelope(compose::sign_statement(b, &[&self.admin.key]).expect("sign"))?;
        self.officers.push(Officer {
            id: input.id,
            key,
            unit: unit.into(),
        });
        Ok(index)
    }

    // Common acts of the custody story, valid when called in order.

    pub fn find(&self, item: &str, finder: usize, witness: usize) -> Result<Receipt, AppendError> {
        self.act(
            "contraband_found",
            &[("finder", finder), ("witness", witness)],
            &[item],
            json!({
            "incident": "INS-TEST-1", "item": item,
            "description": {"name": "sachets of crystalline powder", "form": "crystal"},
            "category": "narcotic", "narcotic_class": "I", "count": 14, "gross_mass_mg": 12840,
            "concealment": "rice box", "persons": [subject("visitor", 1)], "photos": []}),
        )
    }

    pub fn seal(
        &self,
        item: &str,
        actor: usize,
        witness: usize,
        seal: &str,
    ) -> Result<Receipt, AppendError> {
        self.act(
            "item_sealed",
            &[("actor", actor), ("witness", witness)],
            &[item],
            json!({
            "item": item, "seals_applied": [seal], "packaging": "evidence bag", "photos": []}),
        )
    }

    pub fn weigh(
        &self,
        item: &str,
        weigher: usize,
        witness: usize,
        net_mg: u64,
    ) -> Result<Receipt, AppendError> {
        self.act("weighed", &[("weigher", weigher), ("witness", witness)], &[item], json!({
            "item": item, "gross_mass_mg": net_mg + 1000, "net_mass_mg": net_mg, "balance_id": "B-1",
            "readability_mg": 1, "calibration_ref": "K-1", "seals_intact": true}))
    }

    pub fn release(
        &self,
        item: &str,
        giver: usize,
        witnesses: [usize; 2],
        to: usize,
        seals: &[&str],
    ) -> Result<Receipt, AppendError> {
        let to_officer = &self.officers[to];
        self.act("custody_released", &[("giver", giver), ("witness", witnesses[0]), ("witness", witnesses[1])], &[item], json!({
            "item": item, "to_officer": to_officer.id.as_str(), "to_unit": to_officer.unit, "purpose": "investigation",
            "seals": seals, "seals_intact": true}))
    }

    pub fn receive(
        &self,
        item: &str,
        receiver: usize,
        seals: &[&str],
        intact: bool,
    ) -> Result<Receipt, AppendError> {
        self.act(
            "custody_received",
            &[("receiver", receiver)],
            &[item],
            json!({
            "item": item, "seals": seals, "seals_intact": intact}),
        )
    }

    pub fn note(&self, item: &str, author: usize) -> Result<Receipt, AppendError> {
        self.act(
            "note_added",
            &[("author", author)],
            &[item],
            json!({"item": item, "text": "checked"}),
        )
    }
}

/// The rule error inside an append error, as text, or a panic naming what happened instead.
pub fn refusal(result: Result<Receipt, AppendError>) -> String {
    match result {
        Err(AppendError::Rule(e)) => e.to_string(),
        Err(other) => panic!("expected a rule refusal, got another error: {other}"),
        Ok(r) => panic!(
            "expected a rule refusal, but it was appended at seq {}",
            r.seq
        ),
    }
}

/// A genesis's bytes naming rules `version` instead (unchanged when `None`).
fn under_rules(genesis: Vec<u8>, version: Option<u32>) -> Vec<u8> {
    let Some(v) = version else {
        return genesis;
    };
    let mut value: serde_json::Value = serde_json::from_slice(&genesis).expect("a genesis is JSON");
    value["rules"] = serde_json::json!(v);
    serde_json::to_vec(&value).expect("JSON")
}
