//! The registers of who and where, kept in the log by the administrator: a rank at enrollment, a
//! promotion or a transfer (`custody update-officer`), a place with its time zone and letterhead
//! (`custody register-facility`) — on the ledger folder and through a running server alike; what
//! the rules refuse changes nothing.

mod common;

use common::{Server, custody, demo_ledger, run_json, stderr_of};
use serde_json::Value;
use std::path::Path;

/// Agus Santoso, gate officer of the demo.
const GATE_A: &str = "198803222010121003";

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn admin_key(ledger: &Path) -> String {
    s(&ledger.join("demo-keys/admin.pem")).to_owned()
}

fn officer(ledger: &Path, id: &str) -> Value {
    let officers = run_json(&["officers", "--ledger", s(ledger)]);
    officers
        .as_array()
        .expect("officers")
        .iter()
        .find(|o| o["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} is enrolled: {officers}"))
}

fn size(ledger: &Path) -> u64 {
    run_json(&["verify", "--ledger", s(ledger)])["size"]
        .as_u64()
        .expect("size")
}

/// Runs `custody ARGS --key ADMIN` at `place` and returns its output.
fn admin_act(place: &[&str], key: &str, args: &[&str]) -> std::process::Output {
    custody()
        .args(args)
        .args(place)
        .args(["--key", key])
        .output()
        .expect("runs")
}

#[test]
fn a_promotion_and_a_corrected_single_word_name_are_recorded_and_shown() {
    let (_tmp, ledger) = demo_ledger();
    let (key, place) = (admin_key(&ledger), ["--ledger", s(&ledger)]);
    let out = admin_act(
        &place,
        &key,
        &[
            "update-officer",
            "--officer",
            GATE_A,
            "--rank",
            "Pengatur (II/c)",
            "--name",
            "Santoso",
            "--reason",
            "Kenaikan pangkat; nama sesuai KTP",
        ],
    );
    assert!(out.status.success(), "{}", stderr_of(&out));
    let agus = officer(&ledger, GATE_A);
    assert_eq!(agus["rank"], "Pengatur (II/c)", "{agus}");
    assert_eq!(agus["name"], "Santoso", "one word is a whole name");
    assert_eq!(
        agus["unit"], "P2U Lapas Narkotika Jakarta",
        "unchanged fields stay"
    );
    assert_eq!(run_json(&["verify", "--ledger", s(&ledger)])["ok"], true);
}

#[test]
fn an_update_that_changes_nothing_or_names_no_officer_is_refused_and_changes_nothing() {
    let (_tmp, ledger) = demo_ledger();
    let (key, place) = (admin_key(&ledger), ["--ledger", s(&ledger)]);
    let before = size(&ledger);
    let nothing = admin_act(
        &place,
        &key,
        &["update-officer", "--officer", GATE_A, "--reason", "x"],
    );
    assert_eq!(nothing.status.code(), Some(2), "{}", stderr_of(&nothing));
    assert!(
        stderr_of(&nothing).contains("--rank"),
        "{}",
        stderr_of(&nothing)
    );
    let unknown = admin_act(
        &place,
        &key,
        &[
            "update-officer",
            "--officer",
            "199912312020121001",
            "--rank",
            "II/a",
            "--reason",
            "x",
        ],
    );
    assert_eq!(unknown.status.code(), Some(1), "{}", stderr_of(&unknown));
    let elsewhere = admin_act(
        &place,
        &key,
        &[
            "update-officer",
            "--officer",
            GATE_A,
            "--home",
            "LPN-BANDUNG",
            "--reason",
            "mutasi",
        ],
    );
    assert_eq!(
        elsewhere.status.code(),
        Some(1),
        "{}",
        stderr_of(&elsewhere)
    );
    assert!(
        stderr_of(&elsewhere).contains("belongs to one facility"),
        "a unit name stays at its facility: {}",
        stderr_of(&elsewhere)
    );
    assert_eq!(size(&ledger), before);
}

#[test]
fn a_facility_is_registered_through_the_server_with_its_zone_and_letterhead() {
    let (_tmp, ledger) = demo_ledger();
    let key = admin_key(&ledger);
    let server = Server::on_port_zero(&ledger);
    let out = admin_act(
        &["--server", server.url.as_str()],
        &key,
        &[
            "register-facility",
            "--code",
            "LPN-JAYAPURA",
            "--name",
            "Lapas Narkotika Kelas IIA Jayapura",
            "--address",
            "Doyo Baru, Sentani",
            "--zone",
            "WIT",
            "--letterhead",
            "KEMENTERIAN IMIGRASI DAN PEMASYARAKATAN REPUBLIK INDONESIA",
            "--letterhead",
            "LEMBAGA PEMASYARAKATAN NARKOTIKA KELAS IIA JAYAPURA",
        ],
    );
    assert!(out.status.success(), "{}", stderr_of(&out));
    let bad_zone = admin_act(
        &["--server", server.url.as_str()],
        &key,
        &[
            "register-facility",
            "--code",
            "LPN-X",
            "--name",
            "X",
            "--address",
            "X",
            "--zone",
            "+07:00",
            "--letterhead",
            "X",
        ],
    );
    assert_eq!(bad_zone.status.code(), Some(2), "{}", stderr_of(&bad_zone));
    assert!(
        stderr_of(&bad_zone).contains("WITA"),
        "the valid zones are named"
    );
    assert!(server.terminate());
    let places = run_json(&["facilities", "--ledger", s(&ledger)]);
    let jayapura = &places["LPN-JAYAPURA"];
    assert_eq!(jayapura["time_zone"], "WIT", "{places}");
    assert_eq!(jayapura["letterhead"].as_array().map(Vec::len), Some(2));
    assert!(
        places["LPN-JAKARTA"]["events"].as_u64() > Some(0),
        "counts stay"
    );
}

/// Once the demo's Lapas is in the register of places, its acts' times read in WIB and the
/// report carries its letterhead; `--tz` still chooses, and `--json` keeps the stored UTC.
#[test]
fn a_registered_facility_gives_the_history_its_zone_and_the_report_its_letterhead() {
    let (tmp, ledger) = demo_ledger();
    let key = admin_key(&ledger);
    let out = admin_act(
        &["--ledger", s(&ledger)],
        &key,
        &[
            "register-facility",
            "--code",
            "LPN-JAKARTA",
            "--name",
            "Lapas Narkotika Kelas IIA Jakarta",
            "--address",
            "Jl. Raya Bekasi Timur No. 170",
            "--zone",
            "WIB",
            "--letterhead",
            "DIREKTORAT JENDERAL PEMASYARAKATAN",
        ],
    );
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = |args: &[&str]| {
        let out = custody().args(args).output().expect("runs");
        assert!(out.status.success(), "{}", stderr_of(&out));
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let item = "BB-LPN-2025-0418";
    let history = text(&["history", "--ledger", s(&ledger), item]);
    // The find at 02:15 UTC on 4 August 2025 happened at 09:15 in Jakarta.
    assert!(
        history.contains("2025-08-04 09:15") && history.contains("WIB"),
        "{history}"
    );
    let chosen = text(&["history", "--ledger", s(&ledger), item, "--tz", "WIT"]);
    assert!(chosen.contains("2025-08-04 11:15"), "{chosen}");
    let json = run_json(&["history", "--ledger", s(&ledger), item]);
    assert!(json.to_string().contains("2025-08-04T02:15:00"), "{json}");
    let report = tmp.path().join("report.html");
    text(&[
        "report",
        "--ledger",
        s(&ledger),
        "--item",
        item,
        "--out",
        s(&report),
    ]);
    let html = std::fs::read_to_string(&report).expect("report");
    assert!(
        html.contains("DIREKTORAT JENDERAL PEMASYARAKATAN"),
        "the letterhead heads it"
    );
    assert!(html.contains("09:15"), "times in the facility's zone");
}
