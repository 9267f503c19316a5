//! The case: `custody bundle export --incident ID` cuts one bundle holding every item of an
//! incident, `bundle verify` checks it (and refuses one that claims an item of another case, or
//! that names both an item and an incident), `custody report --incident ID` writes the case's PDF
//! berita acara from that bundle — every item, every act with the item it is about, the printed
//! digest of the bundle beside it — byte for byte the same in two processes whatever `TZ` says,
//! and a server gives the same case bundle to a reader who may see the whole case and refuses one
//! who may not. Text is read back with `pdftotext` (poppler-utils: required when `CI` is set).

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

const INCIDENT: &str = "INS-LPN-2025-0091";
const ITEMS: [&str; 2] = ["BB-LPN-2025-0418", "BB-LPN-2025-0418-S1"];
const AS_OF: &str = "2025-08-22T01:00:00Z";

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// `custody bundle verify FILE --json`: its exit code and JSON.
fn verify(dir: &Path, bundle: &Path, extra: &[&str]) -> (Option<i32>, Value, String) {
    let run = custody()
        .args(["bundle", "verify", s(bundle), "--vkey", vkey_of(dir).trim()])
        .args(["--as-of", AS_OF, "--json"])
        .args(extra)
        .output()
        .expect("runs");
    let json = serde_json::from_slice(&run.stdout).unwrap_or(Value::Null);
    (run.status.code(), json, stderr_of(&run))
}

/// Exports the case bundle of the demo incident from the ledger folder into `out`.
fn export_case(dir: &Path, out: &Path, size: Option<u64>) -> Vec<u8> {
    let mut cmd = custody();
    cmd.args([
        "bundle",
        "export",
        "--ledger",
        s(dir),
        "--incident",
        INCIDENT,
    ])
    .args(["--out", s(out)]);
    if let Some(size) = size {
        cmd.args(["--checkpoint", &size.to_string()]);
    }
    let run = cmd.output().expect("runs");
    assert!(run.status.success(), "{}", stderr_of(&run));
    std::fs::read(out).expect("the bundle")
}

#[test]
fn a_case_bundle_holds_every_item_of_the_incident_and_verifies() {
    let (tmp, dir) = demo_ledger();
    let out = tmp.path().join("case.bundle.json");
    let bytes = export_case(&dir, &out, None);
    let bundle: Value = serde_json::from_slice(&bytes).expect("JSON");
    assert_eq!(bundle["incident"], INCIDENT);
    assert!(
        bundle.get("item").is_none(),
        "a case bundle names no one item"
    );
    let mut items: Vec<&str> = bundle["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|v| v.as_str().expect("an id"))
        .collect();
    items.sort_unstable();
    assert_eq!(items, ITEMS);

    let (code, report, err) = verify(&dir, &out, &[]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(report["incident"], INCIDENT);
    assert_eq!(report["item"], Value::Null);
    let states: Vec<&str> = report["items"]
        .as_array()
        .expect("states")
        .iter()
        .map(|i| i["id"].as_str().expect("id"))
        .collect();
    for item in ITEMS {
        assert!(states.contains(&item), "{item} in {states:?}");
    }
    // The incident's own acts (the search) are inside, signed: more acts than the item's lot has.
    let lot = tmp.path().join("lot.bundle.json");
    let run = custody()
        .args(["bundle", "export", "--ledger", s(&dir), "--item", ITEMS[0]])
        .args(["--out", s(&lot)])
        .output()
        .expect("runs");
    assert!(run.status.success(), "{}", stderr_of(&run));
    let (_, lot_report, _) = verify(&dir, &lot, &[]);
    let acts = |r: &Value| r["signatures"].as_array().expect("signatures").len();
    assert!(
        acts(&report) > acts(&lot_report),
        "the case holds the incident's acts too: {} vs {}",
        acts(&report),
        acts(&lot_report)
    );
    let kinds: Vec<&str> = report["signatures"]
        .as_array()
        .expect("signatures")
        .iter()
        .map(|a| a["kind"].as_str().expect("kind"))
        .collect();
    assert!(kinds.contains(&"search_conducted"), "{kinds:?}");
    // What it cannot prove says so for the case: an item left out cannot be seen.
    let cannot = report["cannot_prove"].to_string();
    assert!(
        cannot.contains(&format!("incident {INCIDENT} has no other item")),
        "{cannot}"
    );
}

#[test]
fn a_case_bundle_that_lies_about_its_case_is_refused() {
    let (tmp, dir) = demo_ledger();
    let out = tmp.path().join("case.bundle.json");
    let bytes = export_case(&dir, &out, None);
    let bundle: Value = serde_json::from_slice(&bytes).expect("JSON");

    // Another case's number on the same entries: the items were recorded under the real one.
    let mut other = bundle.clone();
    other["incident"] = Value::from("INS-LPN-2025-0092");
    let path = tmp.path().join("other.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&other).expect("JSON")).expect("write");
    let (code, _, err) = verify(&dir, &path, &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("is not an item of incident INS-LPN-2025-0092"),
        "{err}"
    );

    // Both an item and an incident: what was it cut for?
    let mut both = bundle.clone();
    both["item"] = Value::from(ITEMS[0]);
    std::fs::write(&path, serde_json::to_vec_pretty(&both).expect("JSON")).expect("write");
    let (code, _, err) = verify(&dir, &path, &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("exactly one of the fields item and incident"),
        "{err}"
    );

    // An unknown incident is not found, and a bundle is not written.
    let missing = tmp.path().join("missing.json");
    let run = custody()
        .args([
            "bundle",
            "export",
            "--ledger",
            s(&dir),
            "--incident",
            "NO-SUCH",
        ])
        .args(["--out", s(&missing)])
        .output()
        .expect("runs");
    assert_eq!(run.status.code(), Some(4), "{}", stderr_of(&run));
    assert!(!missing.exists());
}

/// `custody report --incident` into `out` with `TZ` set: the PDF and the bundle beside it.
fn case_report(dir: &Path, out: &Path, tz: &str) -> (Vec<u8>, Vec<u8>) {
    let run = custody()
        .env("TZ", tz)
        .args(["report", "--ledger", s(dir), "--incident", INCIDENT])
        .args(["--as-of", AS_OF, "--out", s(out)])
        .output()
        .expect("runs");
    assert!(run.status.success(), "{}", stderr_of(&run));
    let beside = PathBuf::from(format!("{}.bundle.json", out.display()));
    (
        std::fs::read(out).expect("the PDF"),
        std::fs::read(beside).expect("the bundle beside it"),
    )
}

#[test]
fn the_case_report_lists_every_item_and_act_and_matches_its_bundle() {
    let (tmp, dir) = demo_ledger();
    let first = tmp.path().join("perkara.pdf");
    let (pdf, bundle) = case_report(&dir, &first, "Asia/Jakarta");
    let second = tmp.path().join("perkara-2.pdf");
    let (pdf_again, bundle_again) = case_report(&dir, &second, "America/New_York");
    assert!(pdf == pdf_again, "the same case report in two processes");
    assert!(
        bundle == bundle_again,
        "the same case bundle in two processes"
    );

    let Some(text) = pdf_text("case report", &first) else {
        return; // pdftotext missing outside CI: required_tool said so
    };
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains(&format!("Nomor kejadian (perkara): {INCIDENT}")),
        "{flat}"
    );
    assert!(flat.contains("I. Barang bukti perkara"), "{flat}");
    assert!(
        flat.contains("sampel dari"),
        "the sample names its parent: {flat}"
    );
    for item in ITEMS {
        assert!(flat.contains(item), "{item} in the case report");
    }
    // The sampling is an act on both items: a row for each.
    let sampled = flat.matches("penyisihan sampel").count();
    assert!(sampled >= 2, "the sampling's row for each item: {sampled}");

    // The report's printed digest confirms the bundle beside it, and only that one.
    let digest = flat
        .split("(untuk diketik):")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .expect("the printed digest")
        .to_owned();
    let beside = PathBuf::from(format!("{}.bundle.json", first.display()));
    let (code, report, err) = verify(&dir, &beside, &["--printed-digest", &digest]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(report["printed_digest_confirmed"], true);
    let lot = tmp.path().join("lot.pdf");
    let run = custody()
        .args(["report", "--ledger", s(&dir), "--item", ITEMS[0]])
        .args(["--as-of", AS_OF, "--out", s(&lot)])
        .output()
        .expect("runs");
    assert!(run.status.success(), "{}", stderr_of(&run));
    let lot_bundle = PathBuf::from(format!("{}.bundle.json", lot.display()));
    let (code, _, err) = verify(&dir, &lot_bundle, &["--printed-digest", &digest]);
    assert_eq!(code, Some(1), "the item's bundle is not the case's: {err}");
}

/// The case's acts begin where the case did: the search at the gate, an act of the incident that
/// changes no item, is a row of the acts table with its time, signers and uraian.
#[test]
fn the_case_s_acts_begin_with_the_search() {
    let (tmp, dir) = demo_ledger();
    let out = tmp.path().join("perkara.html");
    let run = custody()
        .args(["report", "--ledger", s(&dir), "--incident", INCIDENT])
        .args(["--as-of", AS_OF, "--out", s(&out)])
        .output()
        .expect("runs");
    assert!(run.status.success(), "{}", stderr_of(&run));
    let html = std::fs::read_to_string(&out).expect("the HTML report");
    let acts = html
        .split("Riwayat tindakan")
        .nth(1)
        .expect("the acts table")
        .split("</table>")
        .next()
        .expect("its end");
    let search = acts
        .find("<b>penggeledahan</b>")
        .expect("the search is an act of the case");
    let find = acts
        .find("<b>temuan barang terlarang</b>")
        .expect("the find");
    assert!(search < find, "the search comes first");
    assert!(
        acts.contains("penggeledahan pintu gerbang"),
        "its uraian: {acts}"
    );
}

#[test]
fn one_act_is_an_item_s_berita_acara_not_a_case_s() {
    let (tmp, dir) = demo_ledger();
    let run = custody()
        .args(["report", "--ledger", s(&dir), "--incident", INCIDENT])
        .args(["--act", "18", "--out"])
        .arg(tmp.path().join("act.pdf"))
        .output()
        .expect("runs");
    assert_eq!(run.status.code(), Some(2), "{}", stderr_of(&run));
    assert!(stderr_of(&run).contains("--act"), "{}", stderr_of(&run));
    assert!(!tmp.path().join("act.pdf").exists());
}

#[test]
fn a_server_gives_the_case_bundle_to_a_reader_of_the_whole_case_only() {
    let (tmp, dir) = demo_ledger();
    let size = run_json(&["checkpoint", "--ledger", s(&dir)])["size"]
        .as_u64()
        .expect("size");
    enroll_outsider(&dir, "198001012005011001");
    let local = export_case(&dir, &tmp.path().join("local.json"), Some(size));
    let report = |source: &[&str], out: &Path| {
        let run = custody()
            .args(["report", "--incident", INCIDENT, "--as-of", AS_OF])
            .args(["--checkpoint", &size.to_string(), "--out", s(out)])
            .args(source)
            .output()
            .expect("runs");
        assert!(run.status.success(), "{}", stderr_of(&run));
        std::fs::read(out).expect("the PDF")
    };
    let local_pdf = report(&["--ledger", s(&dir)], &tmp.path().join("local.pdf"));
    let server = Server::on_port_zero(&dir);
    let prosecutor = dir.join("demo-keys/prosecutor.pem");
    let remote_pdf = report(
        &["--server", &server.url, "--key", s(&prosecutor)],
        &tmp.path().join("remote.pdf"),
    );
    assert!(
        remote_pdf == local_pdf,
        "the case's berita acara through the server is the ledger's, byte for byte"
    );
    let remote = tmp.path().join("remote.json");
    let run = custody()
        .args(["bundle", "export", "--server", &server.url, "--key"])
        .arg(dir.join("demo-keys/prosecutor.pem"))
        .args(["--incident", INCIDENT, "--checkpoint", &size.to_string()])
        .args(["--out", s(&remote)])
        .output()
        .expect("runs");
    assert!(run.status.success(), "{}", stderr_of(&run));
    assert!(
        std::fs::read(&remote).expect("the bundle") == local,
        "the server's case bundle is the ledger's, byte for byte"
    );
    // An officer of another prison sees nothing of this case: not found, not forbidden.
    let (status, body) = signed_call(
        &server,
        "GET",
        &format!("/v1/incidents/{INCIDENT}/bundle"),
        Some(&dir.join("demo-keys/cipinang.pem")),
        None,
    );
    assert_eq!(status, 404, "{body}");
    // Unsigned: not authenticated.
    let (status, _) = signed_call(
        &server,
        "GET",
        &format!("/v1/incidents/{INCIDENT}/bundle"),
        None,
        None,
    );
    assert_eq!(status, 401);
}
