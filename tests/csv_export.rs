//! `--csv` on the list queries, read back by Python's standard `csv` module (a stock RFC 4180
//! reader, not ours): the same rows as `--json`, in the same order, with the same plain values,
//! lists joined, the officers' names beside their ids, and free text that a spreadsheet would run
//! as a formula made inert. Python 3 is required when `CI` is set (.ci/run has it).

mod common;

use common::*;
use serde_json::Value;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

const ITEM: &str = "BB-LPN-2025-0418";
const AS_OF: &str = "2025-08-22T01:00:00Z";

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Runs `custody ARGS --csv` and answers its standard output.
fn csv_of(args: &[&str]) -> String {
    let run = custody().args(args).arg("--csv").output().expect("runs");
    assert!(run.status.success(), "{args:?}: {}", stderr_of(&run));
    String::from_utf8(run.stdout).expect("UTF-8")
}

/// `text` read by Python's `csv.DictReader`: one JSON object per row, every value a string.
fn python_rows(python: &Path, text: &str) -> Vec<serde_json::Map<String, Value>> {
    let mut child = Command::new(python)
        .args([
            "-c",
            "import csv, io, json, sys; print(json.dumps(list(csv.DictReader(io.StringIO(sys.stdin.read(), newline='')))))",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("writes");
    let out = child.wait_with_output().expect("python ends");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).expect("JSON rows");
    rows.into_iter()
        .map(|r| r.as_object().expect("a row").clone())
        .collect()
}

/// Checks that every row of `csv` has, for each of `fields`, the plain value the JSON row has.
fn same_rows(python: &Path, csv: &str, json: &[Value], fields: &[&str]) {
    let rows = python_rows(python, csv);
    assert_eq!(rows.len(), json.len(), "one row per entry:\n{csv}");
    assert!(!rows.is_empty(), "the list is not empty");
    for (row, want) in rows.iter().zip(json) {
        for field in fields {
            let want = match &want[*field] {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                Value::Array(a) => a
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join("; "),
                other => other.to_string(),
            };
            assert_eq!(row[*field], Value::String(want), "field {field} in {row:?}");
        }
    }
}

#[test]
fn every_list_as_csv_reads_back_as_the_json_rows() {
    let Some(python) = required_tool("csv_export", &["python3"], "apt-get install python3") else {
        return;
    };
    let (_tmp, dir) = demo_ledger();
    let l = s(&dir);
    let items = run_json(&["items", "--ledger", l]);
    same_rows(
        &python,
        &csv_of(&["items", "--ledger", l]),
        items.as_array().expect("items"),
        &[
            "id",
            "status",
            "holder",
            "holder_name",
            "seals",
            "net_mass_mg",
        ],
    );
    let history = run_json(&["history", "--ledger", l, ITEM]);
    same_rows(
        &python,
        &csv_of(&["history", "--ledger", l, ITEM]),
        history["events"].as_array().expect("events"),
        &["seq", "type", "occurred_at", "summary", "holder", "status"],
    );
    // The lab sample is still held at the end of the demo.
    let held = items
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["status"] == "held")
        .expect("an item still held");
    let holder = held["holder"].as_str().expect("a holder").to_owned();
    let holdings = run_json(&["holdings", "--ledger", l, &holder]);
    same_rows(
        &python,
        &csv_of(&["holdings", "--ledger", l, &holder]),
        holdings.as_array().expect("holdings"),
        &["id", "holder_name"],
    );
    let audit = run_json(&["audit", "--ledger", l, "--item", ITEM, "--as-of", AS_OF]);
    same_rows(
        &python,
        &csv_of(&["audit", "--ledger", l, "--item", ITEM, "--as-of", AS_OF]),
        audit["findings"].as_array().expect("findings"),
        &["class", "severity", "indonesian", "english", "seqs"],
    );
    let officers = run_json(&["officers", "--ledger", l]);
    same_rows(
        &python,
        &csv_of(&["officers", "--ledger", l]),
        officers.as_array().expect("officers"),
        &["id", "name", "unit", "agency"],
    );
}

/// The running clocks as CSV: a find starts the 72-hour clock for the handover to the police.
#[test]
fn the_running_clocks_as_csv_read_back_as_the_json_rows() {
    let Some(python) = required_tool("csv_export", &["python3"], "apt-get install python3") else {
        return;
    };
    let f = Fixture::new();
    record_find(&f, "BB-2025-000418", "2025-08-04T02:15:00.000Z");
    let args = [
        "deadlines",
        "--ledger",
        f.ledger_str(),
        "--as-of",
        "2025-08-05T00:00:00Z",
    ];
    let deadlines = run_json(&args);
    same_rows(
        &python,
        &csv_of(&args),
        deadlines.as_array().expect("deadlines"),
        &["item", "due_at", "overdue", "basis", "started_seq"],
    );
}

#[test]
fn csv_and_json_together_are_refused() {
    let (_tmp, dir) = demo_ledger();
    let run = custody()
        .args(["items", "--ledger", s(&dir), "--csv", "--json"])
        .output()
        .expect("runs");
    assert_eq!(run.status.code(), Some(2), "{}", stderr_of(&run));
    assert!(stderr_of(&run).contains("--csv"), "{}", stderr_of(&run));
}
