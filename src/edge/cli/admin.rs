//! Keys and the ledger's administration: `custody key`, `init`, `enroll`, `revoke` and `rotate`.
//! It composes and signs identity statements and appends them; it must never decide who may
//! enroll or sign (the rules do, when the statement is appended) nor pick an exit code number.

use super::args::{JsonArg, TargetArg};
use super::common::{Failure, Outcome, input, open, print_json, read_key};
use super::record::{Place, deliver};
use crate::app::compose::{self, OfficerInput};
use crate::app::reads::OfficerView;
use crate::base::ids::{FacilityId, OfficerId, OfficerRole, Origin};
use crate::base::time::Clock;
use crate::base::words::{Explain as _, msg};
use crate::edge::render::said;
use crate::keys::signing::{PublicKey, SecretKey};
use clap::{Args, Subcommand};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Subcommand, Debug)]
pub(super) enum KeyCommand {
    /// Generate a new Ed25519 key (PKCS#8 PEM, mode 0600) and print its public key and key id
    New {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Print only the public key (base64) of a private key file, for enrollment
    Public { key: PathBuf },
    /// Print the public key and key id of a private key file
    Show {
        key: PathBuf,
        #[command(flatten)]
        json: JsonArg,
    },
}

/// `custody key new|public|show`.
pub(super) fn key(command: KeyCommand) -> Outcome {
    match command {
        KeyCommand::New { out, json } => key_new(&out, json.json),
        KeyCommand::Show { key, json } => key_show(&key, json.json),
        KeyCommand::Public { key } => {
            out!("{}", read_key(&key)?.public().to_base64());
            Ok(())
        }
    }
}

fn key_new(out: &Path, json: bool) -> Outcome {
    let key = SecretKey::generate().map_err(|e| Failure::corrupt(e.explain()))?;
    key.write_new_file(out)
        .map_err(|e| Failure::usage(e.explain()))?;
    show_public(&key, Some(out), json);
    Ok(())
}

fn key_show(path: &Path, json: bool) -> Outcome {
    let key = read_key(path)?;
    show_public(&key, Some(path), json);
    Ok(())
}

fn show_public(key: &SecretKey, path: Option<&Path>, json: bool) {
    let public = key.public();
    if json {
        print_json(&json!({
            "file": path.map(|p| p.display().to_string()),
            "public_key": public.to_base64(),
            "key_id": public.key_id(),
        }));
    } else {
        if let Some(p) = path {
            out!("{}", said("cli.key.private", &[("file", &p.display())]));
        }
        out!(
            "{}",
            said("cli.key.public", &[("key", &public.to_base64())])
        );
        out!("{}", said("cli.key.id", &[("id", &public.key_id())]));
    }
}

#[derive(Args, Debug)]
pub(super) struct InitArgs {
    #[arg(long, value_name = "DIR", env = "CUSTODY_LEDGER")]
    ledger: PathBuf,
    /// Log origin, e.g. custody.lapas-narkotika-jakarta.go.id/ledger
    #[arg(long)]
    origin: String,
    /// The founding administrator's private key file
    #[arg(long, value_name = "FILE")]
    admin_key: PathBuf,
    /// The founding administrator's NIP/NRP
    #[arg(long, value_name = "ID")]
    admin_id: String,
    #[arg(long, value_name = "NAME")]
    admin_name: String,
    #[arg(long, value_name = "AGENCY", default_value = "imipas")]
    admin_agency: String,
    #[arg(long, value_name = "UNIT", default_value = "Ledger administration")]
    admin_unit: String,
    /// The founding administrator's rank or grade (pangkat / golongan)
    #[arg(long, value_name = "RANK")]
    admin_rank: Option<String>,
    /// Facility code of the ledger's home, e.g. LPN-JAKARTA (no default: it scopes the
    /// administrator's reads and acts)
    #[arg(long)]
    facility: String,
    #[command(flatten)]
    json: JsonArg,
}
/// `custody init`.
pub(super) fn init(a: InitArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let InitArgs {
        ledger,
        origin,
        admin_key,
        admin_id,
        admin_name,
        admin_agency,
        admin_unit,
        admin_rank,
        facility,
        json,
    } = a;
    let origin = Origin::parse(&origin).map_err(input("--origin"))?;
    let facility = FacilityId::parse(&facility).map_err(input("--facility"))?;
    let key = read_key(&admin_key)?;
    let admin = OfficerInput {
        id: OfficerId::parse(&admin_id).map_err(input("--admin-id"))?,
        name: admin_name,
        agency: admin_agency,
        unit: admin_unit,
        roles: vec![OfficerRole::Admin],
        public_key: key.public(),
        rank: admin_rank,
    };
    let (ledger_handle, receipt) = compose::init_ledger(
        &ledger,
        &origin,
        facility.as_str(),
        Arc::clone(clock),
        &admin,
        &key,
    )?;
    let vkey = ledger_handle.verifier_key().to_string();
    if json.json {
        print_json(&json!({
            "ledger": ledger.display().to_string(),
            "origin": origin.as_str(),
            "vkey": vkey,
            "genesis": ledger_handle.receipt_view(&receipt)?,
        }));
    } else {
        out!(
            "{}",
            said(
                "cli.init.created",
                &[("ledger", &ledger.display()), ("origin", &origin)],
            )
        );
        out!("{}", said("cli.init.genesis", &[("seq", &receipt.seq)]));
        out!("{}", said("cli.init.vkey", &[]));
        out!("{vkey}");
    }
    Ok(())
}

#[derive(Args, Debug)]
pub(super) struct EnrollArgs {
    #[command(flatten)]
    admin: AdminTarget,
    /// The officer's NIP (18 digits) or NRP (8 digits)
    #[arg(long, value_name = "ID")]
    officer: String,
    #[arg(long)]
    name: String,
    /// imipas, polri, bnn, tni, kejaksaan, labfor, bpom or other
    #[arg(long)]
    agency: String,
    #[arg(long)]
    unit: String,
    /// Comma-separated roles, e.g. gate_officer,security_officer
    #[arg(long, value_delimiter = ',')]
    roles: Vec<String>,
    /// The officer's public key (base64), as printed by `custody key new`
    #[arg(long, value_name = "B64")]
    public_key: String,
    #[arg(long)]
    reason: Option<String>,
    /// Rank or grade (pangkat / golongan), e.g. "Penata Muda (III/a)" or IPDA
    #[arg(long)]
    rank: Option<String>,
    /// The officer's home facility, which scopes what they may read and act on (default: the
    /// administrator's own, named in the answer)
    #[arg(long)]
    facility: Option<String>,
    #[command(flatten)]
    json: JsonArg,
}
/// `custody enroll`.
pub(super) fn enroll(a: EnrollArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let EnrollArgs {
        admin: target,
        officer,
        name,
        agency,
        unit,
        roles,
        public_key,
        reason,
        rank,
        facility,
        json,
    } = a;
    let act = AdminAct::open(&target, clock)?;
    let admin = act.admin.clone();
    let roles = roles
        .iter()
        .map(|r| OfficerRole::parse(r.trim()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(input("--roles"))?;
    let officer = OfficerInput {
        id: OfficerId::parse(&officer).map_err(input("--officer"))?,
        name,
        agency,
        unit,
        roles,
        public_key: PublicKey::from_base64(&public_key).map_err(input("--public-key"))?,
        rank,
    };
    if facility.is_none() {
        eprintln!("custody: {}", said("cli.enroll.home_facility", &[]));
    }
    let facility = act.facility_or_own(facility)?;
    let bytes = compose::enrollment(
        clock.as_ref(),
        facility.as_str(),
        &admin,
        &officer,
        reason.as_deref(),
    )
    .map_err(input("statement"))?;
    act.deliver(&target.ledger, bytes, &[], json.json, clock)
}

#[derive(Args, Debug)]
pub(super) struct RevokeArgs {
    #[command(flatten)]
    admin: AdminTarget,
    #[arg(long, value_name = "ID")]
    officer: String,
    #[arg(long)]
    reason: String,
    /// Facility code recorded with the act (default: the administrator's own)
    #[arg(long)]
    facility: Option<String>,
    #[command(flatten)]
    json: JsonArg,
}
/// `custody revoke`.
pub(super) fn revoke(a: RevokeArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let RevokeArgs {
        admin: target,
        officer,
        reason,
        facility,
        json,
    } = a;
    let act = AdminAct::open(&target, clock)?;
    let officer = OfficerId::parse(&officer).map_err(input("--officer"))?;
    let facility = act.facility_or_own(facility)?;
    let bytes = compose::revocation(
        clock.as_ref(),
        facility.as_str(),
        &act.admin,
        &officer,
        &reason,
    )
    .map_err(input("statement"))?;
    act.deliver(&target.ledger, bytes, &[], json.json, clock)
}

#[derive(Args, Debug)]
pub(super) struct RotateArgs {
    #[command(flatten)]
    admin: AdminTarget,
    /// The officer's current (old) private key file
    #[arg(long, value_name = "FILE")]
    old_key: PathBuf,
    #[arg(long, value_name = "ID")]
    officer: String,
    /// The new public key (base64)
    #[arg(long, value_name = "B64")]
    public_key: String,
    #[arg(long)]
    reason: String,
    /// Facility code recorded with the act (default: the administrator's own)
    #[arg(long)]
    facility: Option<String>,
    #[command(flatten)]
    json: JsonArg,
}
/// `custody rotate`.
pub(super) fn rotate(a: RotateArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let RotateArgs {
        admin: target,
        old_key,
        officer,
        public_key,
        reason,
        facility,
        json,
    } = a;
    let act = AdminAct::open(&target, clock)?;
    let old = read_key(&old_key)?;
    let officer = OfficerId::parse(&officer).map_err(input("--officer"))?;
    let new_key = PublicKey::from_base64(&public_key).map_err(input("--public-key"))?;
    let facility = act.facility_or_own(facility)?;
    let bytes = compose::rotation(
        clock.as_ref(),
        facility.as_str(),
        &act.admin,
        &officer,
        &new_key,
        &reason,
    )
    .map_err(input("statement"))?;
    act.deliver(&target.ledger, bytes, &[&old], json.json, clock)
}

/// Where an administrator's act goes, and the key that signs it.
#[derive(Args, Debug)]
pub(super) struct AdminTarget {
    #[command(flatten)]
    pub(super) ledger: TargetArg,
    /// The administrator's private key file
    #[arg(long, value_name = "ADMIN_KEY")]
    key: PathBuf,
}

/// An administrator's act, signed here, on its way to the ledger here or to a server
/// (`--server`): the administrator is the enrolled officer whose current key `--key` is, found in
/// the officers list of wherever the act goes.
pub(super) struct AdminAct {
    place: Place,
    admin_key: SecretKey,
    pub(super) admin: OfficerId,
    officers: Vec<OfficerView>,
}

impl AdminAct {
    pub(super) fn open(target: &AdminTarget, clock: &Arc<dyn Clock>) -> Result<Self, Failure> {
        let key = &target.key;
        // Read twice rather than copied (a `SecretKey` is never cloned): once for the remote
        // place, which signs its reads with it, once to sign the act.
        let place = Place::open(&target.ledger, Some(read_key(key)?), clock)?;
        let officers = place.reads().officers().map_err(Failure::from)?;
        let admin_key = read_key(key)?;
        let admin = officer_of_key(&officers, &admin_key)?;
        Ok(Self {
            place,
            admin_key,
            admin,
            officers,
        })
    }

    /// The facility given with `--facility`, or else the administrator's own: an administrator
    /// enrolls the officers of their own facility unless told otherwise. An officer's home
    /// facility scopes what they may read and, under write scope, where they may act, so a fixed
    /// default (it was `HQ`) placed every officer enrolled without one at a facility where none
    /// of them works.
    pub(super) fn facility_or_own(&self, given: Option<String>) -> Result<FacilityId, Failure> {
        let text = match given {
            Some(f) => f,
            None => self
                .officers
                .iter()
                .find(|o| o.id == self.admin.as_str())
                .map(|o| o.facility.clone())
                .expect("open found this administrator among the officers"),
        };
        FacilityId::parse(&text).map_err(input("--facility"))
    }

    /// Signs `bytes` with the administrator's key and `others`, and delivers it (a server that
    /// cannot be reached queues it in `--outbox`, with its own exit code).
    pub(super) fn deliver(
        &self,
        target: &TargetArg,
        bytes: Vec<u8>,
        others: &[&SecretKey],
        json: bool,
        clock: &Arc<dyn Clock>,
    ) -> Outcome {
        let keys: Vec<&SecretKey> = std::iter::once(&self.admin_key)
            .chain(others.iter().copied())
            .collect();
        let envelope = compose::sign_statement(bytes, &keys).map_err(input("statement"))?;
        deliver(
            &self.place,
            target,
            envelope.to_json_pretty().into_bytes(),
            json,
            clock.as_ref(),
        )
    }
}

/// The officer whose current key is this private key's public key.
fn officer_of_key(officers: &[OfficerView], key: &SecretKey) -> Result<OfficerId, Failure> {
    let public = key.public().to_base64();
    officers
        .iter()
        .filter(|o| o.revoked_at.is_none())
        .find(|o| {
            o.keys
                .iter()
                .any(|k| k.until_seq.is_none() && k.public_key == public)
        })
        .map(|o| OfficerId::parse(&o.id).expect("an enrolled officer's id parses"))
        .ok_or_else(|| {
            Failure::refused(msg("err.cli.key_of_no_officer").arg("key", key.public().key_id()))
        })
}

#[derive(Args, Debug)]
pub(super) struct ReplaceKeyArgs {
    #[command(flatten)]
    admin: AdminTarget,
    /// The officer whose key was lost or stolen (NIP/NRP); they do not sign
    #[arg(long, value_name = "ID")]
    officer: String,
    /// The officer's new public key (base64), made on their new device with `custody key new`
    #[arg(long, value_name = "B64")]
    public_key: String,
    /// What happened to the old key, e.g. "telepon dinas hilang 3 Agustus 2025"
    #[arg(long)]
    reason: String,
    /// The number of the report of the loss (e.g. a police report)
    #[arg(long, value_name = "NO")]
    report: Option<String>,
    /// A witness's private key file (another officer who saw the replacement); repeat for up to 4
    #[arg(long = "witness-key", value_name = "FILE", required = true)]
    witness_keys: Vec<PathBuf>,
    /// Facility code recorded with the act (default: the administrator's own)
    #[arg(long)]
    facility: Option<String>,
    #[command(flatten)]
    json: JsonArg,
}
/// `custody replace-key`.
pub(super) fn replace_key(a: ReplaceKeyArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let act = AdminAct::open(&a.admin, clock)?;
    let officer = OfficerId::parse(&a.officer).map_err(input("--officer"))?;
    let new_key = PublicKey::from_base64(&a.public_key).map_err(input("--public-key"))?;
    let witness_keys = a
        .witness_keys
        .iter()
        .map(|p| read_key(p))
        .collect::<Result<Vec<_>, _>>()?;
    let witnesses = witness_keys
        .iter()
        .map(|k| officer_of_key(&act.officers, k))
        .collect::<Result<Vec<_>, _>>()?;
    let facility = act.facility_or_own(a.facility)?;
    let bytes = compose::key_replacement(
        clock.as_ref(),
        facility.as_str(),
        &act.admin,
        &witnesses,
        &compose::Replacement {
            officer: &officer,
            new_key: &new_key,
            reason: &a.reason,
            report: a.report.as_deref(),
        },
    )
    .map_err(input("statement"))?;
    let others: Vec<&SecretKey> = witness_keys.iter().collect();
    act.deliver(&a.admin.ledger, bytes, &others, a.json.json, clock)
}

#[derive(Args, Debug)]
pub(super) struct RefoundArgs {
    /// The ledger to re-found (only read; its register's access log records the copy)
    #[arg(long, value_name = "DIR")]
    from: PathBuf,
    /// A new folder for the re-founded ledger
    #[arg(long, value_name = "DIR")]
    ledger: PathBuf,
    /// The new ledger's log origin (it must differ from the old one: the two logs stand side by side)
    #[arg(long)]
    origin: String,
    /// The attesting administrator's NIP/NRP: an administrator of the old ledger
    #[arg(long, value_name = "ID")]
    admin_id: String,
    /// That administrator's current private key file; it signs every re-recorded entry
    #[arg(long, value_name = "FILE")]
    admin_key: PathBuf,
    /// Why, with the legal basis (recorded in the new genesis)
    #[arg(long)]
    reason: String,
    #[command(flatten)]
    json: JsonArg,
}
/// `custody refound`.
pub(super) fn refound(a: RefoundArgs, clock: &Arc<dyn Clock>) -> Outcome {
    use super::common::{phases, progress_bar, show};
    let origin = Origin::parse(&a.origin).map_err(input("--origin"))?;
    let admin = OfficerId::parse(&a.admin_id).map_err(input("--admin-id"))?;
    let key = read_key(&a.admin_key)?;
    let from = open(&a.from)?;
    if from.origin() == &origin {
        return Err(Failure::usage(msg("err.cli.refound_same_origin")));
    }
    let request = crate::app::refound::Request {
        from: &from,
        to: &a.ledger,
        origin,
        admin,
        key: &key,
        reason: a.reason,
    };
    let bar = progress_bar(0, "verifying");
    let done = crate::app::refound::refound(&request, Arc::clone(clock), &mut phases(&bar))?;
    bar.finish_and_clear();
    let cp = done.ledger.checkpoint();
    let report = json!({
        "ledger": a.ledger.display().to_string(),
        "from": a.from.display().to_string(),
        "size": cp.size,
        "entries_rerecorded": done.entries,
        "persons_moved": done.persons_moved,
        "identifiers_masked": done.identifiers_masked,
        "subjects_copied": done.subjects_copied,
        "rules_adopted": done.rules_adopted,
        "vkey": done.ledger.verifier_key().to_string(),
    });
    show(a.json.json, &report, || {
        let refounded = said(
            "cli.refound.done",
            &[
                ("from", &a.from.display()),
                ("ledger", &a.ledger.display()),
                ("entries", &done.entries),
                ("admin", &a.admin_id),
            ],
        );
        out!("{refounded}");
        let moved = said(
            "cli.refound.moved",
            &[
                ("persons", &done.persons_moved),
                ("masked", &done.identifiers_masked),
                ("subjects", &done.subjects_copied),
            ],
        );
        out!("{moved}");
        if let Some(v) = done.rules_adopted {
            out!("{}", said("cli.refound.rules", &[("version", &v)]));
        }
        let vkey = done.ledger.verifier_key();
        out!("{}", said("cli.verifier_key", &[("vkey", vkey)]));
    })
}
