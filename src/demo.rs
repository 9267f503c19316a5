//! The demonstration: builds a small ledger from generated keys on a replayed clock (Lapas
//! Narkotika Jakarta, August 2025), then verifies it, so a newcomer sees the whole write and
//! verify path in one command. Keys are written beside the log in `demo-keys/` so the newcomer
//! can keep recording. Never touches an existing ledger: the directory must be new or empty.

use crate::compose::{self, OfficerInput};
use crate::ids::{OfficerId, OfficerRole, Origin};
use crate::ledger::{AppendError, Ledger, OpenError};
use crate::signing::{KeyError, SecretKey};
use crate::time::{Clock, ManualClock, Timestamp};
use crate::verify;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

/// The demo ledger's origin.
pub const DEMO_ORIGIN: &str = "custody.lapas-narkotika-jakarta.demo/ledger";
/// The demo facility code.
pub const DEMO_FACILITY: &str = "LPN-JAKARTA";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("{0}")]
    Open(#[from] OpenError),
    #[error("{0}")]
    Append(#[from] AppendError),
    #[error("{0}")]
    Key(#[from] KeyError),
    #[error("{0}")]
    Compose(#[from] compose::ComposeError),
    #[error("{0}")]
    Io(String),
}

/// One recorded act, for the printed story.
#[derive(Debug, Clone)]
pub struct Step {
    pub seq: u64,
    pub what: String,
}

/// What the demo did and whether the result verified.
#[derive(Debug)]
pub struct DemoReport {
    pub ledger: String,
    pub vkey: String,
    pub steps: Vec<Step>,
    pub verify: Result<verify::Report, String>,
}

impl DemoReport {
    pub fn verified_ok(&self) -> bool {
        self.verify.is_ok()
    }

    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "custody demo: ledger {} (origin {DEMO_ORIGIN})",
            self.ledger
        );
        for s in &self.steps {
            let _ = writeln!(out, "  seq {:>3}  {}", s.seq, s.what);
        }
        match &self.verify {
            Ok(r) => {
                let _ = writeln!(
                    out,
                    "verify: OK — {} entries; every signature, key validity, hash link and the signed checkpoint check out",
                    r.size
                );
            }
            Err(e) => {
                let _ = writeln!(out, "verify: FAILED — {e}");
            }
        }
        let _ = writeln!(out, "verifier key: {}", self.vkey);
        let _ = writeln!(
            out,
            "officer keys: {}/demo-keys/ (try: custody officers --ledger {})",
            self.ledger, self.ledger
        );
        out
    }

    pub fn to_json(&self) -> Value {
        json!({
            "ledger": self.ledger,
            "origin": DEMO_ORIGIN,
            "vkey": self.vkey,
            "steps": self.steps.iter().map(|s| json!({"seq": s.seq, "what": s.what})).collect::<Vec<_>>(),
            "verify": match &self.verify {
                Ok(r) => json!({"ok": true, "size": r.size}),
                Err(e) => json!({"ok": false, "error": e}),
            },
        })
    }
}

struct Officer {
    input: OfficerInput,
    key: SecretKey,
    file: &'static str,
}

fn officer(
    id: &str,
    name: &str,
    agency: &str,
    unit: &str,
    roles: &[OfficerRole],
    file: &'static str,
) -> Result<Officer, DemoError> {
    let key = SecretKey::generate()?;
    Ok(Officer {
        input: OfficerInput {
            id: OfficerId::parse(id).map_err(|e| DemoError::Io(e.to_string()))?,
            name: name.into(),
            agency: agency.into(),
            unit: unit.into(),
            roles: roles.to_vec(),
            public_key: key.public(),
        },
        key,
        file,
    })
}

/// Runs the demo into `dir`. `_clock` is accepted for symmetry with other commands; the demo
/// replays its own scenario clock so that the story has the dates of the scenario.
pub fn run(dir: &Path, _clock: Arc<dyn Clock>) -> Result<DemoReport, DemoError> {
    let start = Timestamp::parse("2025-08-04T01:00:00Z").expect("a valid literal time");
    let clock = Arc::new(ManualClock::new(start));
    let origin = Origin::parse(DEMO_ORIGIN).expect("a valid literal origin");
    let f = DEMO_FACILITY;
    let admin = officer(
        "197905112005011002",
        "Hendra Wijaya",
        "imipas",
        "Tata Usaha Lapas Narkotika Jakarta",
        &[OfficerRole::Admin],
        "admin.pem",
    )?;
    let gate_a = officer(
        "198803222010121003",
        "Agus Santoso",
        "imipas",
        "P2U Lapas Narkotika Jakarta",
        &[OfficerRole::GateOfficer],
        "gate-officer-a.pem",
    )?;
    let gate_b = officer(
        "199001152014022001",
        "Budi Rahmawati",
        "imipas",
        "P2U Lapas Narkotika Jakarta",
        &[OfficerRole::GateOfficer],
        "gate-officer-b.pem",
    )?;
    let head = officer(
        "197512031998031001",
        "Slamet Riyadi",
        "imipas",
        "KPLP Lapas Narkotika Jakarta",
        &[OfficerRole::SecurityOfficer],
        "head-of-security.pem",
    )?;
    let investigator = officer(
        "85071234",
        "Rudi Hartono",
        "polri",
        "Satresnarkoba Polres Jakarta Timur",
        &[OfficerRole::Investigator],
        "investigator.pem",
    )?;

    let mut steps = Vec::new();
    let (ledger, receipt) = Ledger::init(dir, &origin, clock.clone(), |vkey| {
        let bytes = compose::genesis(
            clock.as_ref(),
            f,
            origin.as_str(),
            &vkey.to_string(),
            &admin.input,
        )
        .map_err(|e| AppendError::Stopped(e.to_string()))?;
        compose::sign_statement(bytes, &[&admin.key])
            .map_err(|e| AppendError::Stopped(e.to_string()))
    })?;
    steps.push(Step {
        seq: receipt.seq,
        what: format!(
            "ledger_genesis (pembentukan buku) by admin {}",
            admin.input.name
        ),
    });
    let keys_dir = dir.join("demo-keys");
    std::fs::create_dir_all(&keys_dir)
        .map_err(|e| DemoError::Io(format!("{}: {e}", keys_dir.display())))?;

    let mut record = |what: String, bytes: Vec<u8>, keys: &[&SecretKey]| -> Result<(), DemoError> {
        clock.advance_ms(5 * 60 * 1000);
        let receipt = ledger.submit_envelope(compose::sign_statement(bytes, keys)?)?;
        steps.push(Step {
            seq: receipt.seq,
            what,
        });
        Ok(())
    };
    for o in [&gate_a, &gate_b, &head, &investigator] {
        let bytes = compose::enrollment(
            clock.as_ref(),
            f,
            &admin.input.id,
            &o.input,
            Some("Surat tugas / assignment letter"),
        )?;
        record(
            format!(
                "officer_enrolled (pendaftaran petugas): {} {} as {}",
                o.input.id, o.input.name, o.input.roles[0]
            ),
            bytes,
            &[&admin.key],
        )?;
    }
    let bytes = compose::note(
        clock.as_ref(),
        f,
        &gate_a.input.id,
        "Shift P2U pintu utama dimulai / gate shift started",
        None,
    )?;
    record(
        format!("note_added (catatan) by {}", gate_a.input.name),
        bytes,
        &[&gate_a.key],
    )?;

    // Officer A's phone is replaced: the key rotates, signed by the admin and the old key.
    let new_a = SecretKey::generate()?;
    let bytes = compose::rotation(
        clock.as_ref(),
        f,
        &admin.input.id,
        &gate_a.input.id,
        &new_a.public(),
        "Perangkat baru / new device",
    )?;
    record(
        format!(
            "officer_key_rotated (penggantian kunci) for {}",
            gate_a.input.name
        ),
        bytes,
        &[&admin.key, &gate_a.key],
    )?;
    let bytes = compose::note(
        clock.as_ref(),
        f,
        &gate_a.input.id,
        "Kunci baru dipakai / signing with the new key",
        Some(1),
    )?;
    record(
        format!(
            "note_added (catatan) by {} with the new key",
            gate_a.input.name
        ),
        bytes,
        &[&new_a],
    )?;

    // Officer B is transferred: revoked from here on; earlier signatures stay valid.
    let bytes = compose::revocation(
        clock.as_ref(),
        f,
        &admin.input.id,
        &gate_b.input.id,
        "Mutasi / transferred to another facility",
    )?;
    record(
        format!(
            "officer_revoked (pencabutan petugas): {}",
            gate_b.input.name
        ),
        bytes,
        &[&admin.key],
    )?;

    for (o, key) in [
        (&admin, &admin.key),
        (&gate_a, &new_a),
        (&gate_b, &gate_b.key),
        (&head, &head.key),
        (&investigator, &investigator.key),
    ] {
        key.write_new_file(&keys_dir.join(o.file))?;
    }

    let cp = ledger.checkpoint();
    let vkey = ledger.verifier_key().clone();
    let verify = verify::verify_log(ledger.store(), cp.note.as_bytes(), &vkey, &mut |_, _| {})
        .map_err(|e| e.to_string());
    Ok(DemoReport {
        ledger: dir.display().to_string(),
        vkey: vkey.to_string(),
        steps,
        verify,
    })
}
