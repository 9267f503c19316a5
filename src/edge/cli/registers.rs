//! `custody update-officer` and `custody register-facility`: the administrator's acts that keep
//! the registers of officers and of places (docs/EVENTS.md), on the ledger folder or through
//! `--server`. Parsing and delivery only; what may change is the rules' to decide.

use super::admin::{AdminAct, AdminTarget};
use super::args::JsonArg;
use super::common::{Failure, Outcome, input};
use crate::app::compose;
use crate::base::ids::{FacilityId, OfficerId};
use crate::base::time::Clock;
use crate::base::words::msg;
use clap::Args;
use serde_json::{Map, Value, json};
use std::sync::Arc;

#[derive(Args, Debug)]
pub(super) struct UpdateOfficerArgs {
    #[command(flatten)]
    admin: AdminTarget,
    /// The officer whose record changes (NIP/NRP)
    #[arg(long, value_name = "ID")]
    officer: String,
    /// The new full name (one word is a whole name)
    #[arg(long)]
    name: Option<String>,
    /// The new rank or grade (pangkat / golongan)
    #[arg(long)]
    rank: Option<String>,
    /// The new agency: imipas, polri, bnn, tni, kejaksaan, labfor, bpom or other
    #[arg(long)]
    agency: Option<String>,
    /// The new unit
    #[arg(long)]
    unit: Option<String>,
    /// The new home facility code, e.g. after a transfer (mutasi)
    #[arg(long, value_name = "CODE")]
    home: Option<String>,
    /// Why, e.g. the number of the decree
    #[arg(long)]
    reason: String,
    /// Facility code recorded with the act (default: the administrator's own)
    #[arg(long)]
    facility: Option<String>,
    #[command(flatten)]
    json: JsonArg,
}
/// `custody update-officer`.
pub(super) fn update_officer(a: UpdateOfficerArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let officer = OfficerId::parse(&a.officer).map_err(input("--officer"))?;
    if let Some(home) = &a.home {
        FacilityId::parse(home).map_err(input("--home"))?;
    }
    let changes: Map<String, Value> = [
        ("name", a.name),
        ("rank", a.rank),
        ("agency", a.agency),
        ("unit", a.unit),
        ("home", a.home),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k.to_owned(), json!(v))))
    .collect();
    if changes.is_empty() {
        return Err(Failure::usage(msg("err.cli.no_change")));
    }
    let act = AdminAct::open(&a.admin, clock)?;
    let facility = act.facility_or_own(a.facility)?;
    let bytes = compose::officer_update(
        clock.as_ref(),
        facility.as_str(),
        &act.admin,
        &officer,
        changes,
        &a.reason,
    )
    .map_err(input("statement"))?;
    act.deliver(&a.admin.ledger, bytes, &[], a.json.json, clock)
}

#[derive(Args, Debug)]
pub(super) struct RegisterFacilityArgs {
    #[command(flatten)]
    admin: AdminTarget,
    /// The facility code statements name it by, e.g. LPN-JAKARTA
    #[arg(long, value_name = "CODE")]
    code: String,
    /// Its name, e.g. "Lapas Narkotika Kelas IIA Jakarta"
    #[arg(long)]
    name: String,
    /// Its address
    #[arg(long)]
    address: String,
    /// Its time zone: WIB, WITA or WIT
    #[arg(long, value_name = "ZONE")]
    zone: String,
    /// One line of its letterhead (kop surat), top to bottom; repeat for each line (1 to 6)
    #[arg(long = "letterhead", value_name = "LINE", required = true)]
    letterhead: Vec<String>,
    #[command(flatten)]
    json: JsonArg,
}
/// `custody register-facility`.
pub(super) fn register_facility(a: RegisterFacilityArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let code = FacilityId::parse(&a.code).map_err(input("--code"))?;
    let zone = a.zone.to_uppercase();
    let record = json!({
        "code": code.as_str(),
        "name": a.name,
        "address": a.address,
        "time_zone": zone,
        "letterhead": a.letterhead,
    });
    let act = AdminAct::open(&a.admin, clock)?;
    // Recorded at the facility it registers: the register of places is the ledger's, and this
    // is where the place is said to be.
    let bytes = compose::facility_registration(clock.as_ref(), code.as_str(), &act.admin, record)
        .map_err(input("statement"))?;
    act.deliver(&a.admin.ledger, bytes, &[], a.json.json, clock)
}
