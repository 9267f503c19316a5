//! The same failure exits the same way whether the command works on a local ledger
//! (`--ledger DIR`) or through a server (`--server URL`): a statement that breaks its schema, one a
//! rule refuses, a reused id, bytes that are not a statement, an item that does not exist, a
//! request the server cannot authenticate or allow, a server that is gone, a statement queued in
//! the outbox — each class with its own exit code (docs/FORMAT.md §13). Each refusal leaves the
//! ledger as it was. The server runs on a copy of the local ledger (one process
//! at a time may hold a ledger), so both start from the same officers and history.

mod common;

use common::*;
use std::path::Path;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The fixture's ledger, and a server on a copy of it.
fn fixture_and_server() -> (Fixture, Server, std::path::PathBuf) {
    let f = Fixture::new();
    let copy = f.tmp.path().join("served");
    copy_dir(&f.ledger, &copy);
    let server = Server::on_port_zero(&copy);
    (f, server, copy)
}

/// Exit codes of `custody record` with `statement`, locally and through `server`.
fn record_both(f: &Fixture, server: &Server, key: &str, statement: &[u8]) -> (i32, i32) {
    let file = f.write("statement.json", statement);
    let local = custody()
        .args([
            "record",
            "--ledger",
            f.ledger_str(),
            "--key",
            s(&f.key(key)),
        ])
        .arg(&file)
        .output()
        .expect("runs");
    let remote = custody()
        .args(["record", "--server", &server.url, "--key", s(&f.key(key))])
        .arg(&file)
        .output()
        .expect("runs");
    (
        local.status.code().expect("exited"),
        remote.status.code().expect("exited"),
    )
}

#[test]
fn every_refusal_exits_alike_locally_and_through_the_server() {
    let (f, server, copy) = fixture_and_server();
    let size = f.size();
    let cases: [(&str, &str, String, i32); 4] = [
        (
            "a field that breaks its schema rule",
            "gate-a",
            note_by(GATE_A, "").replace(
                "\"facility\":\"LPN-JAKARTA\"",
                "\"facility\":\"lpn jakarta!\"",
            ),
            2,
        ),
        (
            "bytes that are not a statement",
            "gate-a",
            "{not json".to_owned(),
            2,
        ),
        (
            "a signer the rules refuse (not enrolled)",
            "outsider",
            note_by(OUTSIDER, ""),
            1,
        ),
        (
            "a signer who is not the officer named",
            "gate-b",
            note_by(GATE_A, ""),
            1,
        ),
    ];
    for (what, key, statement, expected) in cases {
        let (local, remote) = record_both(&f, &server, key, statement.as_bytes());
        assert_eq!(local, expected, "{what}: local exit");
        assert_eq!(
            remote, local,
            "{what}: through the server it exits {remote}, locally {local}"
        );
    }
    assert!(server.terminate());
    f.assert_unchanged(size);
    let served = run_json(&["checkpoint", "--ledger", s(&copy)]);
    assert_eq!(
        served["size"].as_u64(),
        Some(size),
        "the served ledger changed"
    );
}

/// Runs `custody ARGS…` and returns its exit code and stderr.
fn exit_of(args: &[&str]) -> (i32, String) {
    let out = custody().args(args).output().expect("runs");
    (out.status.code().expect("exited"), stderr_of(&out))
}

/// The same query, locally and through the server (signed with `key`): both exit codes, and the
/// remote stderr for the message.
fn query_both(f: &Fixture, server: &Server, key: &str, args: &[&str]) -> (i32, i32, String) {
    let mut local = args.to_vec();
    local.extend(["--ledger", f.ledger_str()]);
    let key = f.key(key);
    let mut remote = args.to_vec();
    remote.extend(["--server", &server.url, "--key", s(&key)]);
    let (l, _) = exit_of(&local);
    let (r, err) = exit_of(&remote);
    (l, r, err)
}

#[test]
fn conflict_not_found_and_usage_exit_alike_locally_and_through_the_server() {
    let (f, server, _copy) = fixture_and_server();
    // conflict (5): the same id with other bytes.
    let id = "0190b7c8-3d2a-7c41-9f3e-2a5b8c9d0e1f";
    let first = note_by(GATE_A, &format!(",\"id\":\"{id}\""));
    let (local, remote) = record_both(&f, &server, "gate-a", first.as_bytes());
    assert_eq!(
        (local, remote),
        (0, 0),
        "the first statement is recorded on both"
    );
    let other = first.replace("Gate log checked", "Gate log checked twice");
    let (local, remote) = record_both(&f, &server, "gate-a", other.as_bytes());
    assert_eq!((local, remote), (5, 5), "the same id with other bytes");

    // not found (4): an item that is not on record.
    let (l, r, err) = query_both(&f, &server, "admin", &["item", "BB-NOPE-1"]);
    assert_eq!((l, r), (4, 4), "{err}");
    assert!(told_in_both(&err, "tidak ditemukan", "not found"), "{err}");

    // usage (2): a proof for a tree larger than the log.
    let (l, _) = exit_of(&[
        "prove",
        "inclusion",
        "--seq",
        "0",
        "--size",
        "999",
        "--ledger",
        f.ledger_str(),
    ]);
    let (r, err) = exit_of(&[
        "prove",
        "inclusion",
        "--seq",
        "0",
        "--size",
        "999",
        "--server",
        &server.url,
    ]);
    assert_eq!((l, r), (2, 2), "{err}");

    assert!(server.terminate());
}

#[test]
fn denied_unavailable_and_queued_exit_with_their_own_codes() {
    let (f, server, _copy) = fixture_and_server();
    // unauthenticated (6): a read signed by a key no one enrolled (the server alone checks).
    let (r, err) = exit_of(&[
        "items",
        "--server",
        &server.url,
        "--key",
        s(&f.key("outsider")),
    ]);
    assert_eq!(r, 6, "{err}");
    assert!(
        told_in_both(&err, "tidak terautentikasi", "not authenticated"),
        "{err}"
    );
    // forbidden (6): a raw log entry, which only auditors and prosecutors read.
    let (r, err) = exit_of(&[
        "entry",
        "1",
        "--server",
        &server.url,
        "--key",
        s(&f.key("gate-a")),
    ]);
    assert_eq!(r, 6, "{err}");

    // unavailable (7): the ledger held by the running server, and a server that is gone.
    let served = server.url.clone();
    let (l, err) = exit_of(&["items", "--ledger", s(&_copy)]);
    assert_eq!(l, 7, "a ledger another process holds: {err}");
    assert!(server.terminate());
    let (r, err) = exit_of(&["items", "--server", &served, "--key", s(&f.key("admin"))]);
    assert_eq!(r, 7, "an unreachable server: {err}");

    // queued (8): recorded into the outbox, not the ledger.
    let outbox = f.tmp.path().join("outbox");
    std::fs::create_dir(&outbox).expect("outbox");
    let note = f.write("queued.json", note_by(GATE_A, "").as_bytes());
    let (r, err) = exit_of(&[
        "record",
        "--server",
        &served,
        "--outbox",
        s(&outbox),
        "--key",
        s(&f.key("gate-a")),
        s(&note),
    ]);
    assert_eq!(r, 8, "{err}");
    assert!(
        told_in_both(&err, "antre, BELUM tercatat", "queued, NOT yet recorded"),
        "{err}"
    );
}

#[test]
fn corruption_exits_3_and_names_its_class() {
    let f = Fixture::new();
    // A torn sled `conf` (as a kill while sled writes it leaves): sled refuses the store.
    let conf = f.ledger.join("private/log.sled").join("conf");
    let original = std::fs::read(&conf).expect("the store's conf");
    std::fs::write(&conf, &original[..original.len() / 2]).expect("tear the conf");
    let (code, err) = exit_of(&["verify", "--ledger", f.ledger_str()]);
    assert_eq!(code, 3, "a damaged store: {err}");
    assert!(
        told_in_both(&err, "penyimpanan rusak", "storage failure or corruption"),
        "{err}"
    );
}

/// An error told as the command line tells every error: its class and message in Indonesian,
/// then on the next line in English (`error: tidak ditemukan: …` / `       not found: …`), or
/// both classes on one line when the message is the same in both languages (a system's words).
fn told_in_both(err: &str, indonesian: &str, english: &str) -> bool {
    let one_line = err.contains(&format!("error: {indonesian} / {english}: "));
    let two_lines = err.contains(&format!("error: {indonesian}: "))
        && err.contains(&format!("\n       {english}: "));
    one_line || two_lines
}
