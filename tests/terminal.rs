//! Recording at the terminal (`custody template`, `custody new`): every template parses and the
//! custody ones replay the demo scenario on a founded ledger; `custody new` records from flags
//! with local times; missing fields are all named at once without a terminal (exit 2, nothing
//! written); enumeration errors list the allowed values; a statement queued in the outbox exits
//! 8; and the interactive `custody new` is driven through a real terminal (tmux).

mod common;

use common::{custody, required_tool, stderr_of};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The demo's key file of each officer the templates name (src/app/demo.rs `CAST`).
const KEYS: &[(&str, &str)] = &[
    ("197905112005011002", "admin.pem"),
    ("198803222010121003", "gate-officer-a.pem"),
    ("199001152014022001", "gate-officer-b.pem"),
    ("197512031998031001", "head-of-security.pem"),
    ("198906142012122002", "security-officer.pem"),
    ("85071234", "investigator.pem"),
    ("90030456", "investigator-2.pem"),
    ("76010123", "unit-head.pem"),
    ("198204102006042001", "lab-examiner.pem"),
    ("70050678", "lab-head.pem"),
    ("198507142010121001", "prosecutor.pem"),
];

/// A demo ledger with its officers enrolled and no act yet.
fn founded() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("station");
    custody()
        .args(["demo", "--founding-only", "--ledger"])
        .arg(&dir)
        .assert()
        .success();
    (tmp, dir)
}

fn key(ledger: &Path, officer: &str) -> PathBuf {
    let file = KEYS
        .iter()
        .find(|(o, _)| *o == officer)
        .expect("a demo officer")
        .1;
    ledger.join("demo-keys").join(file)
}

fn size(ledger: &Path) -> u64 {
    let out = custody()
        .args(["checkpoint", "--json", "--ledger"])
        .arg(ledger)
        .output()
        .expect("runs");
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    v["size"].as_u64().expect("size")
}

fn template(kind: &str) -> Value {
    let out = custody()
        .args(["template", kind, "--json"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "template {kind}: {}", stderr_of(&out));
    serde_json::from_slice(&out.stdout).expect("a template is JSON")
}

#[test]
fn every_template_parses_and_the_list_names_every_type() {
    let out = custody().arg("template").output().expect("runs");
    let list = String::from_utf8_lossy(&out.stdout).into_owned();
    for &kind in custody::StatementType::ALL {
        assert!(
            list.contains(kind.as_str()) && list.contains(kind.indonesian()),
            "{kind}"
        );
        let bytes = serde_json::to_vec(&template(kind.as_str())).expect("serializes");
        let parsed = custody::Statement::parse(&bytes).unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(parsed.kind, kind);
    }
    assert!(list.contains("contraband found") && list.contains("temuan barang terlarang"));
    let bad = custody().args(["template", "sabu"]).output().expect("runs");
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr_of(&bad).contains("contraband_found"));
}

/// Records a template, signed by its signers, with a new id and `after` filled from the ledger.
fn record_template(ledger: &Path, kind: &str) {
    let mut t = template(kind);
    let obj = t.as_object_mut().expect("an object");
    obj.remove("id");
    obj.remove("after");
    let file = ledger.with_file_name(format!("{kind}.json"));
    std::fs::write(&file, serde_json::to_vec(&t).expect("serializes")).expect("write");
    let mut cmd = custody();
    cmd.args(["record", "--fill-after", "--ledger"])
        .arg(ledger)
        .arg(&file);
    for s in t["signers"].as_array().expect("signers") {
        cmd.arg("--key")
            .arg(key(ledger, s["officer"].as_str().expect("officer")));
    }
    let out = cmd.output().expect("runs");
    assert!(out.status.success(), "record {kind}: {}", stderr_of(&out));
}

#[test]
fn the_custody_templates_replay_the_demo_on_a_founded_ledger() {
    let (_tmp, ledger) = founded();
    let before = size(&ledger);
    for kind in [
        "officer_enrolled",
        "search_conducted",
        "contraband_found",
        "item_sealed",
        "note_added",
        "custody_released",
        "custody_received",
        "weighed",
        "seizure_recorded",
        "sample_set_aside",
        "seizure_notified",
        "lab_requested",
    ] {
        record_template(&ledger, kind);
    }
    // The sample goes to the lab (a release of the sample, built from flags), then the lab acts.
    let out = custody()
        .args(["new", "custody_released", "--ledger"])
        .arg(&ledger)
        .args(["--facility", "LPN-JAKARTA", "--at", "2025-08-06 08:00 WIB"])
        .args([
            "--signer",
            "giver=85071234",
            "--signer",
            "witness=90030456",
            "--signer",
            "witness=76010123",
        ])
        .arg("--key")
        .arg(key(&ledger, "85071234"))
        .arg("--key")
        .arg(key(&ledger, "90030456"))
        .arg("--key")
        .arg(key(&ledger, "76010123"))
        .args([
            "--item",
            "BB-LPN-2025-0418-S1",
            "--to-officer",
            "198204102006042001",
            "--to-unit",
            "Labfor Polri",
        ])
        .args([
            "--purpose",
            "pemeriksaan laboratoris",
            "--seals",
            "SEG-2025-000419",
            "--seals-intact",
            "ya",
        ])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr_of(&out));
    for kind in ["lab_received", "lab_result", "status_determined"] {
        record_template(&ledger, kind);
    }
    assert_eq!(size(&ledger), before + 16);
    custody()
        .args(["verify", "--ledger"])
        .arg(&ledger)
        .assert()
        .success();
}

/// `custody new contraband_found` with every field as a flag, by the two gate officers.
fn new_find(ledger: &Path, at: &str) -> std::process::Output {
    custody()
        .args(["new", "contraband_found", "--ledger"])
        .arg(ledger)
        .args(["--facility", "LPN-JAKARTA", "--at", at])
        .args([
            "--signer",
            "finder=198803222010121003",
            "--signer",
            "witness=199001152014022001",
        ])
        .arg("--key")
        .arg(key(ledger, "198803222010121003"))
        .arg("--key")
        .arg(key(ledger, "199001152014022001"))
        .args([
            "--incident",
            "INS-LPN-2025-0091",
            "--item",
            "BB-LPN-2025-0418",
        ])
        .args([
            "--description",
            "name=14 sachet plastik berisi kristal diduga sabu,form=crystal",
        ])
        .args([
            "--description",
            "colour=bening",
            "--category",
            "narcotic_i",
            "--narcotic-class",
            "I",
        ])
        .args(["--count", "14", "--gross-mass-mg", "12840"])
        .args([
            "--concealment",
            "Di bawah nasi dalam kotak makan bawaan pengunjung",
        ])
        .args(["--photos", &format!("sha256:{}", "ab".repeat(32))])
        .output()
        .expect("runs")
}

#[test]
fn new_records_from_flags_and_local_times_are_one_instant() {
    let (_tmp, ledger) = founded();
    let out = new_find(&ledger, "2025-08-04 09:15 WIB");
    assert!(out.status.success(), "{}", stderr_of(&out));
    // The seal, half an hour later, written in WITA and WIT: `after` comes from the ledger.
    for (at, seal) in [
        ("2025-08-04 10:30 WITA", "SEG-2025-000418"),
        ("2025-08-04 11:45 WIT", "SEG-2025-000421"),
    ] {
        let out = custody()
            .args(["new", "item_sealed", "--ledger"])
            .arg(&ledger)
            .args(["--facility", "LPN-JAKARTA", "--at", at])
            .args([
                "--signer",
                "actor=198803222010121003",
                "--signer",
                "witness=199001152014022001",
            ])
            .arg("--key")
            .arg(key(&ledger, "198803222010121003"))
            .arg("--key")
            .arg(key(&ledger, "199001152014022001"))
            .args([
                "--item",
                "BB-LPN-2025-0418",
                "--seals-applied",
                seal,
                "--packaging",
                "Kantong bening",
            ])
            .output()
            .expect("runs");
        assert!(out.status.success(), "{at}: {}", stderr_of(&out));
    }
    let json = custody()
        .args(["history", "BB-LPN-2025-0418", "--json", "--ledger"])
        .arg(&ledger)
        .output()
        .expect("runs");
    let h: Value = serde_json::from_slice(&json.stdout).expect("JSON");
    let times: Vec<&str> = h["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["occurred_at"].as_str().expect("time"))
        .collect();
    assert_eq!(
        times,
        [
            "2025-08-04T02:15:00.000Z",
            "2025-08-04T02:30:00.000Z",
            "2025-08-04T02:45:00.000Z"
        ]
    );
    let text = custody()
        .args(["history", "BB-LPN-2025-0418", "--ledger"])
        .arg(&ledger)
        .env("CUSTODY_TZ", "WIB")
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("2025-08-04 09:15:00 WIB") && text.contains("2025-08-04 09:45:00 WIB"),
        "{text}"
    );
    let wit = custody()
        .args(["history", "BB-LPN-2025-0418", "--tz", "WIT", "--ledger"])
        .arg(&ledger)
        .output()
        .expect("runs");
    assert!(String::from_utf8_lossy(&wit.stdout).contains("2025-08-04 11:45:00 WIT"));
}

#[test]
fn missing_fields_are_all_named_without_a_terminal_and_nothing_is_written() {
    let (_tmp, ledger) = founded();
    let before = size(&ledger);
    let out = custody()
        .args(["new", "contraband_found", "--ledger"])
        .arg(&ledger)
        .arg("--key")
        .arg(key(&ledger, "198803222010121003"))
        .args(["--count", "14"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    for field in [
        "/facility",
        "/signers",
        "/incident",
        "/item",
        "/description",
        "/category",
        "/concealment",
    ] {
        assert!(
            err.contains(&format!("  {field}: ")),
            "{field} not named: {err}"
        );
    }
    assert!(
        !err.contains("  /count: ") && !err.contains("  /photos: "),
        "{err}"
    );
    assert!(
        err.contains("kolom wajib")
            && err.contains("required field")
            && err.contains("sharp_object"),
        "{err}"
    );
    assert_eq!(size(&ledger), before);
    // A local time without a zone is refused naming the zones.
    let out = new_find(&ledger, "2025-08-04 09:15");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        ["WIB", "WITA", "WIT"]
            .iter()
            .all(|z| stderr_of(&out).contains(z)),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(size(&ledger), before);
}

#[test]
fn enumeration_errors_list_the_allowed_values() {
    let (_tmp, ledger) = founded();
    let find = template("contraband_found");
    let cases = [
        (
            "category",
            serde_json::json!("drugs"),
            "/category",
            vec!["narcotic_i", "sim_card", "sharp_object", "other"],
        ),
        (
            "narcotic_class",
            serde_json::json!("IV"),
            "/narcotic_class",
            vec!["I, II, III"],
        ),
        (
            "signers",
            serde_json::json!([{"role": "penemu", "officer": "198803222010121003"}]),
            "/signers/0/role",
            vec!["finder", "witness"],
        ),
        (
            "occurred_at",
            serde_json::json!("2025-08-04T09:15:00+07:00"),
            "/occurred_at",
            vec!["UTC", "Z", "custody new --at", "WIB"],
        ),
    ];
    for (field, value, pointer, listed) in cases {
        let mut bad = find.clone();
        bad[field] = value;
        let file = ledger.with_file_name("bad.json");
        std::fs::write(&file, serde_json::to_vec(&bad).expect("serializes")).expect("write");
        let out = custody()
            .args(["record", "--ledger"])
            .arg(&ledger)
            .arg("--key")
            .arg(key(&ledger, "198803222010121003"))
            .arg(&file)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{field}");
        let err = stderr_of(&out);
        assert!(err.contains(pointer), "{field}: {err}");
        for v in listed {
            assert!(err.contains(v), "{field}: {v} not listed: {err}");
        }
    }
}

#[test]
fn a_statement_queued_in_the_outbox_exits_8() {
    let (tmp, ledger) = founded();
    let outbox = tmp.path().join("outbox");
    let out = custody()
        .args([
            "new",
            "note_added",
            "--server",
            "http://127.0.0.1:9",
            "--outbox",
        ])
        .arg(&outbox)
        .args([
            "--facility",
            "LPN-JAKARTA",
            "--signer",
            "author=198803222010121003",
        ])
        .arg("--key")
        .arg(key(&ledger, "198803222010121003"))
        .args(["--text", "Shift P2U pintu utama dimulai"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(8), "{}", stderr_of(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("NOT yet recorded"));
    assert!(std::fs::read_dir(&outbox).expect("outbox").count() >= 1);
}

/// Runs `tmux` on this test's own server (socket), so that nothing else's sessions are touched.
fn tmux(tmux: &Path, socket: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(tmux)
        .args(["-L", socket])
        .args(args)
        .output()
        .expect("tmux runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn interactive_new_asks_for_each_missing_field_in_a_real_terminal() {
    let Some(bin) = required_tool(
        "interactive_new_asks_for_each_missing_field_in_a_real_terminal",
        &["tmux"],
        "apt-get install tmux",
    ) else {
        return;
    };
    let (tmp, ledger) = founded();
    let before = size(&ledger);
    let socket = format!("custody-test-{}", std::process::id());
    let done = tmp.path().join("exit");
    let script = format!(
        "{} new note_added --ledger {} --key {}; echo $? > {}; sleep 60",
        assert_cmd::cargo::cargo_bin("custody").display(),
        ledger.display(),
        key(&ledger, "198803222010121003").display(),
        done.display()
    );
    tmux(
        &bin,
        &socket,
        &[
            "new-session",
            "-d",
            "-s",
            "new",
            "-x",
            "200",
            "-y",
            "50",
            &script,
        ],
    );
    let screen = || {
        tmux(
            &bin,
            &socket,
            &["capture-pane", "-p", "-t", "new", "-S", "-100"],
        )
    };
    // Each answer goes in once its question is on the screen.
    for (question, answer) in [
        ("/facility:", "LPN-JAKARTA"),
        ("/signers:", "author=198803222010121003"),
        ("an empty line ends", ""),
        ("/text:", "Shift P2U pintu utama dimulai"),
    ] {
        common::poll_until(std::time::Duration::from_secs(20), question, || {
            screen().contains(question)
        });
        tmux(&bin, &socket, &["send-keys", "-t", "new", "-l", answer]);
        tmux(&bin, &socket, &["send-keys", "-t", "new", "Enter"]);
    }
    common::poll_until(
        std::time::Duration::from_secs(30),
        "custody new to end",
        || done.exists(),
    );
    let shown = screen();
    tmux(&bin, &socket, &["kill-server"]);
    assert_eq!(
        std::fs::read_to_string(&done).expect("exit code").trim(),
        "0",
        "{shown}"
    );
    assert!(
        shown.contains("pilihan") || shown.contains("teks / text"),
        "{shown}"
    );
    asked_by_name(&shown, &["facility", "text"]);
    assert_eq!(size(&ledger), before + 1);
}

/// Each of `fields` was asked by its name in the workbench's words, from the same catalogue as
/// the page: `/facility: Satuan kerja / Facility — …`.
fn asked_by_name(shown: &str, fields: &[&str]) {
    let words: serde_json::Value = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/base/words/id.json"
    )))
    .expect("id.json");
    for field in fields {
        let label = words[format!("field.{field}")].as_str().expect("a label");
        assert!(
            shown.contains(&format!("/{field}: {label} / ")),
            "/{field} is asked by its name {label:?}: {shown}"
        );
    }
}
