//! The investigator's queries through the real binary on the demo scenario: items, one item, its
//! history with every signer, holdings by officer and unit, pending transfers, the incident, the
//! visitor's person view, and a rebuild that reproduces the projections exactly.

mod common;

use common::*;

const ITEM: &str = "BB-LPN-2025-0418";
const SAMPLE: &str = "BB-LPN-2025-0418-S1";
const LAB_EXAMINER: &str = "198204102006042001";

fn demo() -> (tempfile::TempDir, String) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("demo");
    let out = custody()
        .args(["demo", "--ledger"])
        .arg(&dir)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(
        text.contains("History (riwayat) of BB-LPN-2025-0418"),
        "{text}"
    );
    assert!(text.contains("verify: OK"), "{text}");
    (tmp, dir.to_str().expect("utf-8").to_owned())
}

fn text(args: &[&str]) -> String {
    let out = custody().args(args).output().expect("runs");
    assert!(
        out.status.success(),
        "custody {args:?}: {}",
        stderr_of(&out)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
// The long form reads better here: one scenario read top to bottom: each query of the demo story and what it must answer.
#[allow(clippy::too_many_lines)]
fn the_demo_story_can_be_queried() {
    let (_tmp, l) = demo();

    let items = run_json(&["items", "--ledger", &l]);
    let items = items.as_array().expect("list");
    assert_eq!(items.len(), 2);
    let destroyed = run_json(&["items", "--ledger", &l, "--status", "destroyed"]);
    assert_eq!(destroyed.as_array().expect("list").len(), 1);
    assert_eq!(destroyed[0]["id"], ITEM);
    assert!(
        text(&["items", "--ledger", &l]).contains("dimusnahkan"),
        "Indonesian beside English"
    );

    let item = run_json(&["item", "--ledger", &l, SAMPLE]);
    assert_eq!(item["status"], "held");
    assert_eq!(item["holder"], LAB_EXAMINER);
    assert_eq!(item["net_mass_mg"], 340);
    assert_eq!(item["parent"], ITEM);

    let history = run_json(&["history", "--ledger", &l, ITEM]);
    let events = history["events"].as_array().expect("events");
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["type"].as_str().expect("type"))
        .collect();
    assert_eq!(
        kinds,
        [
            "contraband_found",
            "item_sealed",
            "note_added",
            "custody_released",
            "custody_received",
            "weighed",
            "seizure_recorded",
            "sample_set_aside",
            "seizure_notified",
            "status_determined",
            "weighed",
            "destroyed"
        ]
    );
    let destruction = events.last().expect("last");
    let roles: Vec<&str> = destruction["signers"]
        .as_array()
        .expect("signers")
        .iter()
        .map(|s| s["role"].as_str().expect("role"))
        .collect();
    assert_eq!(roles, ["actor", "witness", "witness", "official"]);
    assert!(
        destruction["signers"][0]["name"]
            .as_str()
            .is_some_and(|n| !n.is_empty())
    );
    let human = text(&["history", "--ledger", &l, ITEM]);
    assert!(
        human.contains("riwayat")
            && human.contains("ditandatangani")
            && human.contains("SEG-2025-000418"),
        "{human}"
    );

    let held = run_json(&["holdings", "--ledger", &l, LAB_EXAMINER]);
    assert_eq!(held.as_array().expect("list").len(), 1);
    assert_eq!(held[0]["id"], SAMPLE);
    let unit = run_json(&["holdings", "--ledger", &l, "--unit", "Labfor Polri"]);
    assert_eq!(unit.as_array().expect("list").len(), 1);
    let police = run_json(&["holdings", "--ledger", &l, "85071234"]);
    assert!(
        police.as_array().expect("list").is_empty(),
        "a destroyed item is held by no one"
    );

    let pending = run_json(&["pending", "--ledger", &l]);
    assert!(pending.as_array().expect("list").is_empty());

    let incident = run_json(&["incident", "--ledger", &l, "INS-LPN-2025-0091"]);
    assert_eq!(incident["items"].as_array().expect("items").len(), 2);
    assert_eq!(incident["events"][0]["type"], "search_conducted");
    let named = &incident["persons"][0];
    assert_eq!(
        named["kind"], "subject",
        "the visitor is a subject: {named}"
    );
    assert_eq!(named["category"], "visitor");
    assert!(
        named.get("nik").is_none() && named.get("name").is_none(),
        "no personal data in the views: {named}"
    );

    // The investigator finds her by NIK through the register, then her events.
    let key = format!("{l}/demo-keys/investigator.pem");
    let found = run_json(&[
        "subject",
        "lookup",
        "--nik",
        "3174055708900003",
        "--officer",
        "85071234",
        "--key",
        &key,
        "--ledger",
        &l,
    ]);
    assert_eq!(found["subject"], named["subject"]);
    let subject = found["subject"].as_str().expect("a subject id");
    let person = run_json(&["person", "--ledger", &l, subject]);
    let acts: Vec<&str> = person["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["type"].as_str().expect("type"))
        .collect();
    assert_eq!(
        acts,
        ["search_conducted", "contraband_found", "seizure_recorded"]
    );
    let officer = run_json(&["person", "--ledger", &l, "85071234"]);
    assert!(
        officer["events"].as_array().expect("events").len() >= 8,
        "every act the investigator signed"
    );

    let rebuilt = run_json(&["rebuild", "--ledger", &l]);
    assert_eq!(rebuilt["identical"], true);
    assert_eq!(rebuilt["digest_before"], rebuilt["digest_after"]);
    assert_eq!(rebuilt["signatures_verified"], 0, "trusted as recorded");
    // Checking every signature again rebuilds the same views, and checks as many signatures as
    // a full verification does.
    let strict = run_json(&["rebuild", "--ledger", &l, "--verify-signatures"]);
    assert_eq!(strict["identical"], true);
    assert_eq!(strict["digest_after"], rebuilt["digest_after"]);
    let verified = run_json(&["verify", "--ledger", &l]);
    assert!(
        verified["signatures"].as_u64().expect("signatures") > 28,
        "{verified}"
    );
    assert_eq!(strict["signatures_verified"], verified["signatures"]);
}

#[test]
fn queries_for_things_that_do_not_exist_say_so() {
    let (_tmp, l) = demo();
    // Not on record: exit 4 (not found); not a valid question: exit 2 (usage or input).
    for (args, words, code) in [
        (
            vec!["item", "--ledger", &l, "BB-NOPE-1"],
            "no item BB-NOPE-1",
            4,
        ),
        (vec!["history", "--ledger", &l, "bad label"], "item id", 2),
        (
            vec!["incident", "--ledger", &l, "INS-NOPE"],
            "no incident",
            4,
        ),
        (
            vec![
                "person",
                "--ledger",
                &l,
                "subj-00000000000000000000000000000000",
            ],
            "no events involve",
            4,
        ),
        (
            vec!["items", "--ledger", &l, "--status", "lost"],
            "--status",
            2,
        ),
    ] {
        let out = custody().args(&args).output().expect("runs");
        assert_eq!(out.status.code(), Some(code), "{args:?}");
        assert!(
            stderr_of(&out).contains(words),
            "{args:?}: {}",
            stderr_of(&out)
        );
    }
}

#[test]
fn an_officer_can_record_on_the_current_state_with_fill_after() {
    let (_tmp, l) = demo();
    let note = format!(
        r#"{{"type":"note_added","facility":"LPN-JAKARTA","signers":[{{"role":"author","officer":"{LAB_EXAMINER}"}}],"item":"{SAMPLE}","text":"Sisa sampel disimpan / residue stored"}}"#
    );
    let dir = tempfile::tempdir().expect("temp");
    let file = dir.path().join("note.json");
    std::fs::write(&file, note).expect("write");
    let key = format!("{l}/demo-keys/lab-examiner.pem");
    // Without `after`, the statement is refused and says what is missing.
    let out = custody()
        .args(["record", "--ledger", &l, "--key", &key])
        .arg(&file)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("after"), "{}", stderr_of(&out));
    // With --fill-after the device fills the sample's current head and the note lands on it.
    let before = run_json(&["item", "--ledger", &l, SAMPLE]);
    let receipt = run_json(&[
        "record",
        "--ledger",
        &l,
        "--key",
        &key,
        "--fill-after",
        file.to_str().expect("path"),
    ]);
    let after = run_json(&["item", "--ledger", &l, SAMPLE]);
    assert_eq!(after["last_seq"], receipt["seq"]);
    assert_eq!(after["head"], receipt["leaf_hash"]);
    assert_ne!(after["head"], before["head"]);
}

#[test]
fn the_audit_reads_the_late_destruction_aloud() {
    let (_tmp, l) = demo();
    let report = run_json(&[
        "audit",
        "--ledger",
        &l,
        "--item",
        ITEM,
        "--as-of",
        "2025-08-22T01:00:00Z",
    ]);
    let findings = report["findings"].as_array().expect("findings");
    let late = findings
        .iter()
        .find(|f| f["class"] == 8)
        .expect("the missed destruction clock");
    assert_eq!(late["severity"], "serious");
    assert!(
        late["english"].as_str().expect("text").contains("2 days"),
        "{late}"
    );
    assert!(
        late["indonesian"]
            .as_str()
            .expect("text")
            .contains("terlambat"),
        "{late}"
    );
    assert_eq!(late["seqs"], serde_json::json!([25, 27]));
    // --fail-on turns a serious finding into exit code 1.
    let out = custody()
        .args([
            "audit",
            "--ledger",
            &l,
            "--item",
            ITEM,
            "--as-of",
            "2025-08-22T01:00:00Z",
            "--fail-on",
            "serious",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let out = custody()
        .args([
            "audit",
            "--ledger",
            &l,
            "--item",
            ITEM,
            "--as-of",
            "2025-08-22T01:00:00Z",
            "--fail-on",
            "critical",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let all = run_json(&[
        "audit",
        "--ledger",
        &l,
        "--all",
        "--as-of",
        "2025-08-22T01:00:00Z",
    ]);
    assert_eq!(all["log_verified"], true);
}

#[test]
fn officers_are_shown_by_name_and_staff_number_and_json_keeps_the_ids() {
    let (_tmp, l) = demo();
    let rudi = "Rudi Hartono (NRP 85071234)";
    let ratna = "Ratna Sari (NIP 198204102006042001)";
    let items = text(&["items", "--ledger", &l]);
    assert!(items.contains(rudi) && items.contains(ratna), "{items}");
    let item = text(&["item", "--ledger", &l, SAMPLE]);
    assert!(
        item.contains(&format!("holder (pemegang):        {ratna}")),
        "{item}"
    );
    let history = text(&["history", "--ledger", &l, ITEM]);
    assert!(
        history.contains(&format!(
            "receiver   {rudi} — Satresnarkoba Polres Jakarta Timur ["
        )),
        "signer lines as name (NRP …) — unit: {history}"
    );
    assert!(
        history.contains(&format!("after: holder {rudi} ·"))
            && history.contains("after: holder Agus Santoso (NIP 198803222010121003) ·"),
        "the holder after each event: {history}"
    );
    let held = text(&["holdings", "--ledger", &l, LAB_EXAMINER]);
    assert!(
        held.contains(&format!("Holdings of officer {ratna}")) && held.contains(SAMPLE),
        "{held}"
    );
    let person = text(&["person", "--ledger", &l, "85071234"]);
    assert!(
        person.contains(&format!("Events involving {rudi}")),
        "{person}"
    );
    let officers = text(&["officers", "--ledger", &l]);
    assert!(
        officers.contains(rudi) && officers.contains(ratna),
        "{officers}"
    );

    // --json keeps the bare ids and adds the names beside them.
    let list = run_json(&["items", "--ledger", &l]);
    let destroyed = list
        .as_array()
        .expect("list")
        .iter()
        .find(|i| i["id"] == ITEM)
        .expect("the item");
    assert_eq!(destroyed["holder"], "85071234");
    assert_eq!(destroyed["holder_name"], "Rudi Hartono");
    let one = run_json(&["item", "--ledger", &l, SAMPLE]);
    assert_eq!(one["holder"], LAB_EXAMINER);
    assert_eq!(one["holder_name"], "Ratna Sari");
    assert_eq!(one["transfer"], serde_json::Value::Null);
    let history = run_json(&["history", "--ledger", &l, ITEM]);
    assert_eq!(history["item"]["holder"], "85071234");
    assert_eq!(history["events"][0]["holder"], "198803222010121003");
    assert_eq!(history["events"][0]["holder_name"], "Agus Santoso");
    let held = run_json(&["holdings", "--ledger", &l, LAB_EXAMINER]);
    assert_eq!(held[0]["holder"], LAB_EXAMINER);
    assert_eq!(held[0]["holder_name"], "Ratna Sari");
}

#[test]
fn an_open_transfer_names_its_giver_and_receiver() {
    let (_tmp, l) = demo();
    let release = format!(
        r#"{{"type":"custody_released","facility":"LPN-JAKARTA","signers":[{{"officer":"{LAB_EXAMINER}","role":"giver"}},{{"officer":"70050678","role":"witness"}},{{"officer":"198507142010121001","role":"witness"}}],"item":"{SAMPLE}","purpose":"pemeriksaan ulang / re-examination","seals":["SEG-LAB-2025-3312"],"seals_intact":true,"to_officer":"85071234","to_unit":"Satresnarkoba Polres Jakarta Timur"}}"#
    );
    let dir = tempfile::tempdir().expect("temp");
    let file = dir.path().join("release.json");
    std::fs::write(&file, release).expect("write");
    let key = |name: &str| format!("{l}/demo-keys/{name}.pem");
    let (examiner, head, prosecutor) = (key("lab-examiner"), key("lab-head"), key("prosecutor"));
    text(&[
        "record",
        "--ledger",
        &l,
        "--key",
        &examiner,
        "--key",
        &head,
        "--key",
        &prosecutor,
        "--fill-after",
        file.to_str().expect("path"),
    ]);
    let (ratna, rudi) = (
        "Ratna Sari (NIP 198204102006042001)",
        "Rudi Hartono (NRP 85071234)",
    );
    let pending = text(&["pending", "--ledger", &l]);
    assert!(
        pending.contains(&format!("by {ratna} → {rudi} (Satresnarkoba")),
        "{pending}"
    );
    let item = text(&["item", "--ledger", &l, SAMPLE]);
    assert!(item.contains(&format!("by {ratna} to {rudi}")), "{item}");
    let json = run_json(&["pending", "--ledger", &l]);
    let t = &json[0]["transfer"];
    assert_eq!(t["from_officer"], LAB_EXAMINER);
    assert_eq!(t["from_officer_name"], "Ratna Sari");
    assert_eq!(t["to_officer"], "85071234");
    assert_eq!(t["to_officer_name"], "Rudi Hartono");
    let out = dir.path().join("report.html");
    text(&[
        "report",
        "--ledger",
        &l,
        "--item",
        SAMPLE,
        "--out",
        out.to_str().expect("path"),
    ]);
    let html = std::fs::read_to_string(&out).expect("the report");
    assert!(
        html.contains(&format!(
            "{ratna} → {rudi} (Satresnarkoba Polres Jakarta Timur)"
        )),
        "the report names the giver and the receiver"
    );
}

/// Every act that set the mass later masses rest on carries its balance's readability in the
/// history — both weighings of the demo item, the sampling that took mass from it — and no other
/// act does (views format 7).
#[test]
fn every_weighing_in_the_history_carries_its_balance_s_readability() {
    let (_tmp, l) = demo();
    let history = run_json(&["history", "--ledger", &l, ITEM]);
    let events = history["events"].as_array().expect("events");
    let with: Vec<(&str, u64)> = events
        .iter()
        .filter_map(|e| {
            e["readability_mg"]
                .as_u64()
                .map(|d| (e["type"].as_str().expect("type"), d))
        })
        .collect();
    assert_eq!(
        with,
        [("weighed", 1), ("sample_set_aside", 1), ("weighed", 1)],
        "{history}"
    );
    for e in events {
        let kind = e["type"].as_str().expect("type");
        if !matches!(kind, "weighed" | "sample_set_aside") {
            assert!(e["readability_mg"].is_null(), "{kind}: {e}");
        }
    }
}

/// `--lang id` (or `CUSTODY_LANG=id`): the terminal speaks Indonesian — the catalogue's
/// sentences, statuses and roles in their Indonesian words, masses with the decimal comma — while
/// the default terminal stays English and `--json` is the same in both.
#[test]
fn the_terminal_speaks_indonesian_on_request() {
    let (_tmp, dir) = demo();
    let history = text(&["--lang", "id", "history", ITEM, "--ledger", &dir]);
    for said in [
        "Riwayat barang bukti BB-LPN-2025-0418",
        "kini dimusnahkan",
        "ditandatangani penemu",
        "[petugas P2U]",
        "berat kotor 12,840 g",
    ] {
        assert!(history.contains(said), "{said:?} in {history}");
    }
    for english in [
        "History (riwayat)",
        "now destroyed",
        "12.840 g",
        "signed by",
    ] {
        assert!(!history.contains(english), "{english:?} in {history}");
    }
    let by_env = custody()
        .env("CUSTODY_LANG", "id")
        .args(["item", ITEM, "--ledger", &dir])
        .output()
        .expect("runs");
    let item = String::from_utf8(by_env.stdout).expect("utf-8");
    assert!(
        item.contains("berat bersih:") && item.contains("10,790 g"),
        "{item}"
    );
    let english = text(&["item", ITEM, "--ledger", &dir]);
    assert!(
        english.contains("10.790 g") && english.contains("destroyed ("),
        "{english}"
    );
    let json = |lang: &str| text(&["--lang", lang, "item", ITEM, "--ledger", &dir, "--json"]);
    assert_eq!(json("id"), json("en"));
}

/// `custody --lang id demo`: the whole story in Indonesian — the history's title, each act's
/// *uraian* with its masses in the decimal comma, the audit and the verification — and none of
/// the English sentences the default terminal prints.
#[test]
fn the_demo_speaks_indonesian_on_request() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("demo");
    let out = custody()
        .args(["--lang", "id", "demo", "--ledger"])
        .arg(&dir)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let demo = String::from_utf8(out.stdout).expect("utf-8");
    for said in [
        "custody demo: buku register",
        "sabu di dalam kotak nasi seorang pengunjung",
        "oleh administrator Hendra Wijaya",
        "Agus Santoso sebagai petugas P2U pada P2U Lapas Narkotika Jakarta",
        "Riwayat barang bukti BB-LPN-2025-0418 — kini dimusnahkan:",
        "ditimbang: kotor 12,840 g, bersih 11,200 g",
        "ditandatangani: penemu Agus Santoso",
        "Pemeriksaan barang bukti per 2025-08-22T01:00:00Z: 2 temuan",
        "[SERIUS] Barang BB-LPN-2025-0418",
        "verifikasi: OK — 29 entri",
        "kunci verifikasi: ",
        "kunci petugas: ",
        "selanjutnya: custody items --ledger",
    ] {
        assert!(demo.contains(said), "{said:?} in {demo}");
    }
    for english in [
        "in a visitor's rice box",
        "Agus Santoso, gate_officer",
        "History (riwayat)",
        "now destroyed",
        "by admin",
        "weighed: gross",
        "12.840 g",
        "signed: ",
        "Audit (pemeriksaan)",
        "finding(s)",
        "[SERIOUS]",
        "Item BB-LPN-2025-0418: destruction",
        "verify: OK",
        "every signature",
        "verifier key:",
        "officer keys:",
        "next: ",
    ] {
        assert!(!demo.contains(english), "{english:?} in {demo}");
    }
}
