//! The same failure exits the same way whether the command works on a local ledger
//! (`--ledger DIR`) or through a server (`--server URL`): a statement that breaks its schema, one a
//! rule refuses, a reused id, bytes that are not a statement, an item that does not exist. Each
//! refusal leaves the ledger as it was. The server runs on a copy of the local ledger (one process
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

#[test]
fn a_reused_id_and_a_missing_item_exit_alike_locally_and_through_the_server() {
    let (f, server, _copy) = fixture_and_server();
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
    assert_eq!((local, remote), (1, 1), "the same id with other bytes");

    let local = custody()
        .args(["item", "BB-NOPE-1", "--ledger", f.ledger_str()])
        .output()
        .expect("runs");
    let remote = custody()
        .args(["item", "BB-NOPE-1", "--server", &server.url])
        .args(["--key", s(&f.key("admin"))])
        .output()
        .expect("runs");
    assert_eq!(local.status.code(), Some(2), "{}", stderr_of(&local));
    assert_eq!(
        remote.status.code(),
        local.status.code(),
        "{}",
        stderr_of(&remote)
    );
    assert!(server.terminate());
}
