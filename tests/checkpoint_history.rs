//! The checkpoint history: every checkpoint the ledger gave (in a receipt, a report, `public/`)
//! can be had again, byte for byte, by its size — `Ledger::checkpoint_at`, `custody checkpoint
//! --size N` and `GET /v1/checkpoint?size=N` — because signing is deterministic and the root at
//! a size never changes. Checked against the receipts the ledger actually handed out, across a
//! reopen, and refused beyond the latest size the same way locally and over HTTP.

mod common;
mod support;

use common::{Server, custody, run_json};
use std::path::{Path, PathBuf};
use support::*;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn every_receipts_checkpoint_is_given_again_by_its_size_locally_and_over_http() {
    let w = World::new();
    let ledger_dir: PathBuf = w.dir.path().join("l");
    let mut given = vec![
        w.find("BB-HIST-1", GATE_A, GATE_B)
            .expect("found")
            .checkpoint,
    ];
    for _ in 0..12 {
        given.push(w.note("BB-HIST-1", GATE_A).expect("noted").checkpoint);
    }
    for cp in &given {
        let again = w.ledger.checkpoint_at(cp.size).expect("in range");
        assert_eq!(again.note, cp.note, "size {}", cp.size);
    }
    let latest = w.ledger.checkpoint().size;
    assert!(w.ledger.checkpoint_at(latest + 1).is_err());
    let World {
        dir: _dir, ledger, ..
    } = w;
    drop(ledger);

    // After a reopen, through the command line and through a server: the same bytes.
    for cp in given.iter().step_by(4) {
        let size = cp.size.to_string();
        let local = custody()
            .args(["checkpoint", "--ledger", s(&ledger_dir), "--size", &size])
            .output()
            .expect("runs");
        assert!(local.status.success());
        assert_eq!(String::from_utf8_lossy(&local.stdout), cp.note);
    }
    let beyond = (latest + 1).to_string();
    let refused = custody()
        .args(["checkpoint", "--ledger", s(&ledger_dir), "--size", &beyond])
        .output()
        .expect("runs");
    assert_eq!(
        refused.status.code(),
        Some(2),
        "beyond the log is a usage error"
    );

    let server = Server::start(&ledger_dir, &[]);
    for cp in given.iter().step_by(5) {
        let size = cp.size.to_string();
        let remote = run_json(&["checkpoint", "--server", &server.url, "--size", &size]);
        assert_eq!(remote["note"], cp.note.as_str(), "size {size}");
        assert_eq!(remote["size"], cp.size);
    }
    let remote = custody()
        .args(["checkpoint", "--server", &server.url, "--size", &beyond])
        .output()
        .expect("runs");
    assert_eq!(
        remote.status.code(),
        Some(2),
        "the same class through the server"
    );
}
