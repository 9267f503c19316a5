//! Personal data stays off the log (docs/PRIVACY.md), checked through the real binary on the
//! demo: every entry of its tlog-tiles export is decoded (bundle → leaf → DSSE payload) and
//! searched for the visitor's NIK and name; a statement naming a person in the clear is refused
//! naming the field and changes nothing; only the roles that may read personal data see it, and
//! every read is in the access log; an erased person can no longer be shown or found while the
//! log still verifies; a changed access log is refused.

mod common;

use common::{custody, demo_ledger, run_json, split_bundle, vkey_of};
use custody::Leaf;
use std::path::{Path, PathBuf};

const NIK: &str = "3174055708900003";
const NAME: &str = "Siti Aminah";
const INVESTIGATOR: &str = "85071234";
const LAB_EXAMINER: &str = "198204102006042001";
const ADMIN: &str = "197905112005011002";

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A demo ledger, the investigator's key file and the visitor's subject id (found by her NIK).
fn demo_with_visitor() -> (tempfile::TempDir, PathBuf, String, String) {
    let (dir, ledger) = demo_ledger();
    let inv = key(&ledger, "investigator");
    let subject = visitor(s(&ledger), &inv);
    (dir, ledger, inv, subject)
}

/// The demo visitor's subject id, found by her NIK by the investigator.
fn visitor(ledger: &str, investigator_key: &str) -> String {
    let found = run_json(&[
        "subject",
        "lookup",
        "--nik",
        NIK,
        "--officer",
        INVESTIGATOR,
        "--key",
        investigator_key,
        "--ledger",
        ledger,
    ]);
    found["subject"].as_str().expect("a subject id").to_owned()
}

fn key(ledger: &Path, who: &str) -> String {
    s(&ledger.join("demo-keys").join(format!("{who}.pem"))).to_owned()
}

/// Every statement (DSSE payload, decoded) of a tiles export, in log order.
fn exported_statements(export: &Path) -> Vec<String> {
    let mut bundles = walk(&export.join("tile/entries"));
    bundles.sort();
    bundles
        .iter()
        .flat_map(|b| split_bundle(&std::fs::read(b).expect("bundle")))
        .map(|leaf| {
            let leaf = Leaf::decode(&leaf).expect("a leaf");
            String::from_utf8(leaf.envelope.payload().to_vec()).expect("utf-8 statement")
        })
        .collect()
}

#[test]
fn an_export_of_the_demo_holds_no_nik_and_no_name_of_the_visitor() {
    let (dir, ledger) = demo_ledger();
    let export = dir.path().join("export");
    let out = custody()
        .args(["export", "--ledger", s(&ledger), "--out", s(&export)])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let statements = exported_statements(&export);
    assert_eq!(statements.len(), 29, "every entry of the demo decoded");
    let naming: Vec<&String> = statements
        .iter()
        .filter(|st| st.contains("\"kind\":\"subject\""))
        .collect();
    assert_eq!(
        naming.len(),
        3,
        "the search, the find and the seizure name the visitor"
    );
    for st in &statements {
        assert!(
            !st.contains(NIK) && !st.contains(NAME),
            "personal data in the log: {st}"
        );
    }
    // The same search finds what it looks for: a statement of rules version 3 in the clear.
    let clear = r#"{"persons":[{"kind":"visitor","nik":"3174055708900003","name":"Siti Aminah"}]}"#;
    assert!(clear.contains(NIK) && clear.contains(NAME));
    // Nor does any other file a mirror copies.
    for file in walk(&ledger.join("public")) {
        let bytes = std::fs::read(&file).expect("file");
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(NIK) && !text.contains(NAME),
            "{}",
            file.display()
        );
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn a_person_in_the_clear_or_a_nik_in_a_note_is_refused_naming_the_field() {
    let (dir, ledger) = demo_ledger();
    let size = run_json(&["checkpoint", "--ledger", s(&ledger)])["size"].clone();
    let cases = [
        (
            r#"{"type":"contraband_found","incident":"INS-1","item":"BB-PRIV-1","description":{"name":"sachets","form":"crystal"},"category":"narcotic","count":1,"concealment":"bag","persons":[{"kind":"visitor","nik":"3174055708900003","name":"Siti Aminah"}],"photos":[],"signers":[{"role":"finder","officer":"198803222010121003"},{"role":"witness","officer":"199001152014022001"}],"facility":"LPN-JAKARTA","after":{"BB-PRIV-1":null}}"#,
            "/persons/0",
            &["gate-officer-a", "gate-officer-b"][..],
        ),
        (
            r#"{"type":"note_added","text":"milik pengunjung NIK 3174055708900003","signers":[{"role":"author","officer":"198803222010121003"}],"facility":"LPN-JAKARTA","after":{}}"#,
            "/text",
            &["gate-officer-a"][..],
        ),
    ];
    for (statement, field, signers) in cases {
        let file = dir.path().join("statement.json");
        std::fs::write(&file, statement).expect("writes");
        let out = custody()
            .args(["record", "--ledger", s(&ledger), s(&file)])
            .args(
                signers
                    .iter()
                    .flat_map(|w| ["--key".to_owned(), key(&ledger, w)]),
            )
            .output()
            .expect("runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "refused: {err}");
        assert!(
            err.contains(field) && err.contains("rules version 4"),
            "{err}"
        );
        assert_eq!(
            run_json(&["checkpoint", "--ledger", s(&ledger)])["size"],
            size,
            "nothing recorded"
        );
    }
}

#[test]
fn reads_need_a_role_that_may_read_and_are_logged() {
    let (_dir, ledger, inv, subject) = demo_with_visitor();
    let l = s(&ledger);
    let shown = run_json(&[
        "subject",
        "show",
        &subject,
        "--officer",
        INVESTIGATOR,
        "--key",
        &inv,
        "--ledger",
        l,
    ]);
    assert_eq!(shown["fields"]["nik"], NIK);
    assert_eq!(shown["fields"]["name"], NAME);
    assert!(
        shown["salts"].as_u64() >= Some(2),
        "one salt per recording: {shown}"
    );

    // The lab examiner may not read it; an officer with someone else's key proves nothing.
    let refused = custody()
        .args(["subject", "show", &subject, "--officer", LAB_EXAMINER])
        .args(["--key", &key(&ledger, "lab-examiner"), "--ledger", l])
        .output()
        .expect("runs");
    assert_eq!(refused.status.code(), Some(6), "forbidden");
    assert!(!String::from_utf8_lossy(&refused.stdout).contains(NAME));
    let impostor = custody()
        .args(["subject", "show", &subject, "--officer", INVESTIGATOR])
        .args(["--key", &key(&ledger, "lab-examiner"), "--ledger", l])
        .output()
        .expect("runs");
    assert_eq!(impostor.status.code(), Some(6), "not the officer's key");

    let log = run_json(&["subject", "access-log", "--ledger", l]);
    let actions: Vec<(&str, &str)> = log
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["officer"].as_str().unwrap_or(""),
                e["action"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(actions.contains(&(INVESTIGATOR, "lookup")), "{actions:?}");
    assert!(actions.contains(&(INVESTIGATOR, "show")), "{actions:?}");
    assert!(
        !actions.contains(&(LAB_EXAMINER, "show")),
        "a refused read showed nothing"
    );
    assert!(
        actions.contains(&(LAB_EXAMINER, "refused")),
        "the refused attempt is in the log too: {actions:?}"
    );
}

#[test]
fn an_erased_person_can_no_longer_be_shown_or_found_and_the_log_still_verifies() {
    let (_dir, ledger, inv, subject) = demo_with_visitor();
    let l = s(&ledger);
    // Only the administrator erases; afterwards nothing finds or shows her, and the log verifies.
    let by_investigator = custody()
        .args([
            "subject",
            "erase",
            &subject,
            "--basis",
            "test",
            "--officer",
            INVESTIGATOR,
        ])
        .args(["--key", &inv, "--ledger", l])
        .output()
        .expect("runs");
    assert_eq!(by_investigator.status.code(), Some(6));
    erase_when_due(&ledger, &subject);
    for args in [
        vec!["subject", "show", subject.as_str()],
        vec!["subject", "lookup", "--nik", NIK],
    ] {
        let out = custody()
            .args(&args)
            .args(["--officer", INVESTIGATOR, "--key", &inv, "--ledger", l])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(4), "{args:?} after erasure");
    }
    assert_eq!(run_json(&["verify", "--ledger", l])["ok"], true);
    let register = ledger.join("private/register");
    for file in walk(&register) {
        let text = String::from_utf8_lossy(&std::fs::read(&file).expect("file")).into_owned();
        assert!(
            !text.contains(NIK) && !text.contains(NAME),
            "{}",
            file.display()
        );
    }
}

/// Erases `subject` as the administrator the way retention allows: refused while no table makes
/// her due, listed as due once a table is adopted whose period has run out since her last act
/// (August 2025), then erased with that basis.
fn erase_when_due(ledger: &Path, subject: &str) {
    let l = s(ledger);
    let admin_key = key(ledger, "admin");
    let admin = [
        "--officer",
        ADMIN,
        "--key",
        admin_key.as_str(),
        "--ledger",
        l,
    ];
    let erase = [
        &[
            "subject",
            "erase",
            subject,
            "--basis",
            "retention period ended",
        ][..],
        &admin,
    ]
    .concat();
    let early = custody().args(&erase).output().expect("runs");
    assert_eq!(early.status.code(), Some(1), "no table yet: retained");
    assert!(String::from_utf8_lossy(&early.stderr).contains("still retained"));
    let table = ledger.with_extension("retention.json");
    std::fs::write(&table, r#"{"version": 1, "periods": [{"category": "visitor", "days": 30, "source": "Keputusan Kalapas (test) no. 1/2025"}]}"#).expect("writes");
    let tables = run_json(&[&["subject", "retention", "--set", s(&table)][..], &admin].concat());
    assert_eq!(tables[0]["version"], 1);
    let due = run_json(&[&["subject", "due"][..], &admin].concat());
    assert_eq!(due[0]["subject"], subject, "{due}");
    let erased = run_json(&erase);
    // The erasure is an act in the log, signed by the administrator, naming the basis.
    let seq = erased["seq"].as_u64().expect("recorded");
    let entry = run_json(&["entry", &seq.to_string(), "--ledger", l]);
    let text = entry.to_string();
    assert!(
        text.contains("subject_erased") && text.contains(subject),
        "{text}"
    );
}

#[test]
fn an_erasure_recorded_in_the_log_is_finished_when_the_register_next_opens() {
    let (dir, ledger, inv, subject) = demo_with_visitor();
    let l = s(&ledger);
    // The act is recorded, then the process dies before the key is destroyed: here, the act is
    // recorded by hand, as `custody subject erase` records it first.
    let act = dir.path().join("erased.json");
    std::fs::write(
        &act,
        serde_json::json!({
        "type": "subject_erased", "subject": subject, "basis": "court order (test)",
        "order": "PEN/1/PID/2026/PN.JKT", "signers": [{"role": "admin", "officer": ADMIN}],
        "facility": "LPN-JAKARTA", "after": {}})
        .to_string(),
    )
    .expect("writes");
    let recorded = custody()
        .args([
            "record",
            "--ledger",
            l,
            "--key",
            &key(&ledger, "admin"),
            s(&act),
        ])
        .output()
        .expect("runs");
    assert!(
        recorded.status.success(),
        "{}",
        String::from_utf8_lossy(&recorded.stderr)
    );
    let out = custody()
        .args([
            "subject",
            "lookup",
            "--nik",
            NIK,
            "--officer",
            INVESTIGATOR,
            "--key",
            &inv,
            "--ledger",
            l,
        ])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(4),
        "opening the register finished the erasure"
    );
}

#[test]
fn a_changed_access_log_is_refused() {
    let (_dir, ledger) = demo_ledger();
    let log = ledger.join("private/register/access.log");
    let text = std::fs::read_to_string(&log).expect("the demo's recordings are logged");
    assert!(text.lines().count() >= 2, "{text}");
    // Remove the first line: the chain breaks.
    let rest: String = text.lines().skip(1).map(|l| format!("{l}\n")).collect();
    std::fs::write(&log, rest).expect("tampers");
    let out = custody()
        .args(["subject", "access-log", "--ledger", s(&ledger)])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3), "corrupt");
    assert!(String::from_utf8_lossy(&out.stderr).contains("access log"));
}

#[test]
fn a_court_bundle_discloses_the_possessor_proven_and_a_changed_name_is_refused() {
    let (dir, ledger) = demo_ledger();
    let l = s(&ledger);
    let vkey = vkey_of(&ledger);
    let (plain, court) = (dir.path().join("plain.json"), dir.path().join("court.json"));
    run_json(&[
        "bundle",
        "export",
        "--ledger",
        l,
        "--item",
        "BB-LPN-2025-0418",
        "--out",
        s(&plain),
    ]);
    run_json(&[
        "bundle",
        "export",
        "--ledger",
        l,
        "--item",
        "BB-LPN-2025-0418",
        "--out",
        s(&court),
        "--disclose",
        "--officer",
        INVESTIGATOR,
        "--key",
        &key(&ledger, "investigator"),
    ]);
    let plain_text = std::fs::read_to_string(&plain).expect("bundle");
    assert!(
        !plain_text.contains(NIK) && !plain_text.contains(NAME),
        "nothing personal without --disclose"
    );

    let report = run_json(&["bundle", "verify", s(&court), "--vkey", &vkey]);
    let disclosed = &report["disclosed"][0];
    assert_eq!(disclosed["fields"]["nik"], NIK, "{report}");
    assert_eq!(disclosed["fields"]["name"], NAME);
    assert_eq!(
        disclosed["seqs"].as_array().map(Vec::len),
        Some(2),
        "the find and the seizure"
    );
    let plain_report = run_json(&["bundle", "verify", s(&plain), "--vkey", &vkey]);
    assert_eq!(plain_report["disclosed"], serde_json::json!([]));

    // A name changed after the fact does not open the commitment signed into the log.
    let forged = dir.path().join("forged.json");
    let court_text = std::fs::read_to_string(&court).expect("bundle");
    std::fs::write(&forged, court_text.replace(NAME, "Siti Aminah Binti X")).expect("writes");
    let out = custody()
        .args(["bundle", "verify", s(&forged), "--vkey", &vkey])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not open the commitment"));
    // And the disclosure was itself a logged read of her data.
    let log = run_json(&["subject", "access-log", "--ledger", l]);
    assert!(
        log.as_array()
            .expect("entries")
            .iter()
            .any(|e| e["officer"] == INVESTIGATOR && e["action"] == "show"),
        "{log}"
    );
}

/// A command's `--json` answer.
fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn through_the_server_the_register_answers_as_it_does_locally() {
    let (_dir, ledger) = demo_ledger();
    let server = common::Server::on_port_zero(&ledger);
    let url = server.url.clone();
    let remote = |args: &[&str], who: &str, officer: &str| {
        custody()
            .args(args)
            .args([
                "--server",
                &url,
                "--officer",
                officer,
                "--key",
                &key(&ledger, who),
            ])
            .arg("--json")
            .output()
            .expect("runs")
    };
    // A gate officer records a new visitor over HTTP; the same NIK again is the same subject.
    let record = [
        "subject",
        "record",
        "--kind",
        "visitor",
        "--name",
        "Budi Santoso",
        "--nik",
        "3174010101900001",
    ];
    let first = json(&remote(&record, "gate-officer-a", "198803222010121003"));
    assert_eq!(first["new"], true);
    let again = json(&remote(&record, "gate-officer-b", "199001152014022001"));
    assert_eq!(
        (again["new"].clone(), again["subject"].clone()),
        (false.into(), first["subject"].clone())
    );
    assert_ne!(
        again["commitment"], first["commitment"],
        "a fresh salt each time"
    );

    // The investigator finds and reads her; the lab examiner may not read.
    let lookup = ["subject", "lookup", "--nik", NIK];
    let found = json(&remote(&lookup, "investigator", INVESTIGATOR));
    let subject = found["subject"].as_str().expect("a subject").to_owned();
    let shown = json(&remote(
        &["subject", "show", &subject],
        "investigator",
        INVESTIGATOR,
    ));
    assert_eq!(shown["fields"]["name"], NAME);
    let refused = remote(&["subject", "show", &subject], "lab-examiner", LAB_EXAMINER);
    assert_eq!(refused.status.code(), Some(6));
    assert!(!String::from_utf8_lossy(&refused.stdout).contains(NAME));
    let missing = remote(
        &["subject", "lookup", "--nik", "3174019999999999"],
        "investigator",
        INVESTIGATOR,
    );
    assert_eq!(missing.status.code(), Some(4));
    assert!(server.terminate());
    let log = run_json(&["subject", "access-log", "--ledger", s(&ledger)]);
    let shows = log
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["action"] == "show" && e["officer"] == INVESTIGATOR)
        .count();
    assert_eq!(shows, 1, "the server logged the read: {log}");
}

#[test]
fn rotating_the_master_key_keeps_every_subject_and_retires_the_old_key() {
    let (dir, ledger) = demo_ledger();
    let l = s(&ledger);
    let inv = key(&ledger, "investigator");
    let old = dir.path().join("old.key");
    std::fs::copy(ledger.join("private/master-key"), &old).expect("keeps the old key");
    let new = dir.path().join("new.key");
    run_json(&["subject", "master-key", "--out", s(&new)]);
    // A rotation that died before re-wrapping left its key waiting: opening removes it.
    let waiting = ledger.join("private/master-key.next");
    std::fs::copy(&new, &waiting).expect("a waiting key");
    let subject = visitor(l, &inv);
    assert!(
        !waiting.exists(),
        "the register was still under the old key"
    );

    run_json(&[
        "subject",
        "rotate-master-key",
        "--ledger",
        l,
        "--new",
        s(&new),
    ]);
    assert_eq!(
        std::fs::read(ledger.join("private/master-key")).expect("key"),
        std::fs::read(&new).expect("key"),
        "the new key is in place"
    );
    let show = [
        "subject",
        "show",
        &subject,
        "--officer",
        INVESTIGATOR,
        "--key",
        &inv,
    ];
    let shown = run_json(&[&show[..], &["--ledger", l]].concat());
    assert_eq!(
        shown["fields"]["nik"], NIK,
        "the subject survived the rotation"
    );
    let with_old = custody()
        .env("CUSTODY_MASTER_KEY", &old)
        .args(show)
        .args(["--ledger", l])
        .output()
        .expect("runs");
    assert_eq!(
        with_old.status.code(),
        Some(2),
        "the old key no longer opens it"
    );
    assert!(String::from_utf8_lossy(&with_old.stderr).contains("wrong master key"));
}

#[test]
fn the_report_names_the_possessor_only_for_a_reader_who_may_see_her() {
    let (dir, ledger) = demo_ledger();
    let l = s(&ledger);
    let (named, plain) = (dir.path().join("named.html"), dir.path().join("plain.html"));
    let report = [
        "report",
        "--ledger",
        l,
        "--item",
        "BB-LPN-2025-0418",
        "--out",
    ];
    let out = custody()
        .args(report)
        .arg(s(&plain))
        .output()
        .expect("runs");
    assert!(out.status.success());
    let out = custody()
        .args(report)
        .arg(s(&named))
        .args([
            "--disclose",
            "--officer",
            INVESTIGATOR,
            "--key",
            &key(&ledger, "investigator"),
        ])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (named, plain) = (
        std::fs::read_to_string(&named).expect("report"),
        std::fs::read_to_string(&plain).expect("report"),
    );
    assert!(
        named.contains(NAME) && named.contains(NIK),
        "the possessor is named"
    );
    assert!(
        !plain.contains(NAME) && !plain.contains(NIK),
        "nothing personal without --disclose"
    );
    let refused = custody()
        .args(report)
        .arg(s(&dir.path().join("lab.html")))
        .args([
            "--disclose",
            "--officer",
            LAB_EXAMINER,
            "--key",
            &key(&ledger, "lab-examiner"),
        ])
        .output()
        .expect("runs");
    assert_eq!(
        refused.status.code(),
        Some(6),
        "the lab may not see who she is"
    );
}
