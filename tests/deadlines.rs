//! Running statutory clocks (*tenggat waktu*): a find starts the 72-hour clock for handing the
//! item to the police; `custody deadlines` and `GET /v1/deadlines` show it with its legal basis
//! and due time, running before the limit and overdue after it, and gone once the police have
//! received the item. The same deadlines are in the audit's JSON.

mod common;

use common::*;
use serde_json::Value;

const ITEM: &str = "BB-2025-000418";
const FOUND_AT: &str = "2025-08-04T02:15:00.000Z";
const DUE_AT: &str = "2025-08-07T02:15:00.000Z";

fn record_a_find(f: &Fixture) {
    record_find(f, ITEM, FOUND_AT);
}

fn deadlines_as_of(f: &Fixture, as_of: &str) -> Value {
    run_json(&["deadlines", "--ledger", f.ledger_str(), "--as-of", as_of])
}

#[test]
fn a_find_starts_the_handover_clock_which_runs_then_is_overdue() {
    let f = Fixture::new();
    record_a_find(&f);
    let running = deadlines_as_of(&f, "2025-08-05T00:00:00Z");
    let list = running.as_array().expect("a list");
    assert_eq!(list.len(), 1, "{running}");
    let d = &list[0];
    assert_eq!(d["item"], ITEM);
    assert_eq!(d["clock"], "handover_to_police");
    assert_eq!(d["started_at"], FOUND_AT);
    assert_eq!(d["due_at"], DUE_AT, "72 hours after the find");
    assert_eq!(d["overdue"], false);
    assert!(d["basis"].as_str().is_some_and(|b| !b.is_empty()), "{d}");
    let late = deadlines_as_of(&f, "2025-08-08T00:00:00Z");
    assert_eq!(late[0]["overdue"], true, "{late}");
    // The audit carries the same clock.
    let audit = run_json(&[
        "audit",
        "--ledger",
        f.ledger_str(),
        "--item",
        ITEM,
        "--as-of",
        "2025-08-05T00:00:00Z",
    ]);
    assert_eq!(audit["deadlines"], running, "{audit}");
}

#[test]
fn the_server_answers_the_same_deadlines_to_a_signed_reader() {
    let f = Fixture::new();
    record_a_find(&f);
    let expected = deadlines_as_of(&f, "2025-08-05T00:00:00Z");
    let server = Server::on_port_zero(&f.ledger);
    let path = "/v1/deadlines?as_of=2025-08-05T00:00:00Z";
    let (status, body) = signed_call(&server, "GET", path, Some(&f.key("gate-b")), None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, expected);
    let (status, _) = signed_call(&server, "GET", path, None, None);
    assert_eq!(
        status, 401,
        "deadlines are custody data: the read must be signed"
    );
}
