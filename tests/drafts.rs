//! Drafts end to end against the real `custody serve`: a statement two officers co-sign, one with
//! `custody sign` on their key file and the other by posting `{keyid, sig}` computed by
//! `custody sign` too, then submitted and found in the log once with both signatures; a signature
//! by an officer the statement does not name is refused and changes nothing; a draft whose item
//! moved on is shown stale; a decline is shown; an incomplete draft is not submitted.

mod common;

use common::*;
use custody::SecretKey;
use serde_json::{Value, json};
use std::path::Path;

const ITEM: &str = "BB-2025-000418";

/// The find both officers sign, as text.
fn find_statement() -> String {
    find_json(ITEM).to_string()
}

/// `custody sign --key KEY FILE`: the envelope it prints.
fn sign_file(key: &Path, file: &Path) -> Value {
    let out = custody()
        .args(["sign", "--key"])
        .arg(key)
        .arg(file)
        .output()
        .expect("runs");
    assert!(out.status.success(), "custody sign: {}", stderr_of(&out));
    serde_json::from_slice(&out.stdout).expect("an envelope")
}

fn keyid(key: &Path) -> String {
    SecretKey::read_file(key).expect("key").public().key_id()
}

/// The signature of `keyid` in an envelope.
fn signature_of(envelope: &Value, keyid: &str) -> String {
    envelope["signatures"]
        .as_array()
        .expect("signatures")
        .iter()
        .find(|s| s["keyid"] == keyid)
        .and_then(|s| s["sig"].as_str())
        .expect("the key signed")
        .to_owned()
}

/// The fixture with a third gate officer enrolled who is named by no draft.
fn fixture() -> Fixture {
    let f = Fixture::new();
    f.enroll(OUTSIDER, "outsider", "gate_officer");
    f
}

/// Gate officer A's partly signed find, as `custody sign` prints it, and its file.
fn first_signature(f: &Fixture) -> (Value, std::path::PathBuf) {
    let statement = f.write("find.json", find_statement().as_bytes());
    let envelope = sign_file(&f.key("gate-a"), &statement);
    let file = f.write("find.envelope.json", envelope.to_string().as_bytes());
    (envelope, file)
}

fn signer<'a>(view: &'a Value, officer: &str) -> &'a Value {
    view["signers"]
        .as_array()
        .expect("signers")
        .iter()
        .find(|s| s["officer"] == officer)
        .expect("the officer is a signer")
}

/// Posts gate officer A's partly signed find as a draft and checks its view, then that gate
/// officer B finds it among their drafts and reads it.
fn posted_and_seen_by_the_second_signer(f: &Fixture, server: &Server, envelope: &Value, id: &str) {
    let (status, view) = signed_call(server, "POST", "/v1/drafts", None, Some(envelope));
    assert_eq!(status, 201, "{view}");
    assert_eq!(view["id"], id);
    assert_eq!(view["type"], "contraband_found");
    assert_eq!(view["complete"], false);
    assert_eq!(
        view["missing"],
        json!([{"role": "witness", "officer": GATE_B}])
    );
    assert_eq!(signer(&view, GATE_A)["signed"], true);
    assert_eq!(signer(&view, GATE_A)["name"], "Petugas Uji");
    assert_eq!(view["statement"]["item"], ITEM);

    // The second officer finds it waiting for them, and reads it.
    let (status, list) = signed_call(server, "GET", "/v1/drafts", Some(&f.key("gate-b")), None);
    assert_eq!(status, 200, "{list}");
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    let (status, seen) = signed_call(
        server,
        "GET",
        &format!("/v1/drafts/{id}"),
        Some(&f.key("gate-b")),
        None,
    );
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["envelope"], view["envelope"]);
}

#[test]
fn two_officers_co_sign_a_draft_and_it_is_recorded_once_with_both_signatures() {
    let f = fixture();
    let (envelope, file) = first_signature(&f);
    let id = serde_json::from_slice::<Value>(&base64_decode(
        envelope["payload"].as_str().expect("payload"),
    ))
    .expect("statement")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let size = f.size();
    let server = Server::on_port_zero(&f.ledger);

    posted_and_seen_by_the_second_signer(&f, &server, &envelope, &id);

    // Not complete: submitting names who must still sign, and records nothing.
    let (status, e) = signed_call(
        &server,
        "POST",
        &format!("/v1/drafts/{id}/submit"),
        None,
        None,
    );
    assert_eq!(status, 409, "{e}");
    let message = e["error"]["message"].as_str().expect("message");
    assert!(
        message.contains(GATE_B) && message.contains("witness"),
        "{message}"
    );

    // The second signature, made by `custody sign` on the same envelope, posted alone.
    let both = sign_file(&f.key("gate-b"), &file);
    let b = keyid(&f.key("gate-b"));
    let body = json!({"keyid": b, "sig": signature_of(&both, &b)});
    let (status, view) = signed_call(
        &server,
        "POST",
        &format!("/v1/drafts/{id}/signatures"),
        None,
        Some(&body),
    );
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["complete"], true, "{view}");
    assert_eq!(view["missing"], json!([]));
    // The draft is exactly the envelope `custody sign` made: CLI and browser co-sign alike.
    assert_eq!(view["envelope"], both);

    let (status, receipt) = signed_call(
        &server,
        "POST",
        &format!("/v1/drafts/{id}/submit"),
        None,
        None,
    );
    assert_eq!(status, 201, "{receipt}");
    let seq = receipt["seq"].as_u64().expect("seq");
    let (status, _) = signed_call(
        &server,
        "GET",
        &format!("/v1/drafts/{id}"),
        Some(&f.key("gate-a")),
        None,
    );
    assert_eq!(status, 404, "the submitted draft is removed");
    // A draft of a recorded statement is refused.
    let (status, e) = signed_call(&server, "POST", "/v1/drafts", None, Some(&envelope));
    assert_eq!(status, 409, "{e}");
    assert!(server.terminate());

    assert_eq!(f.size(), size + 1, "recorded exactly once");
    custody()
        .args(["verify", "--ledger", f.ledger_str()])
        .assert()
        .success();
    let entry = run_json(&["entry", &seq.to_string(), "--ledger", f.ledger_str()]);
    assert_eq!(entry["statement"]["id"], id);
    assert_eq!(entry["signatures"], both["signatures"]);
    let history = run_json(&["history", ITEM, "--ledger", f.ledger_str()]);
    let text = history.to_string();
    assert_eq!(text.matches(&id).count(), 1, "{history}");
}

#[test]
fn a_signature_by_an_officer_not_named_is_refused_and_changes_nothing() {
    let f = fixture();
    let (envelope, file) = first_signature(&f);
    let server = Server::on_port_zero(&f.ledger);
    let (status, view) = signed_call(&server, "POST", "/v1/drafts", None, Some(&envelope));
    assert_eq!(status, 201, "{view}");
    let id = view["id"].as_str().expect("id").to_owned();

    let outsider = keyid(&f.key("outsider"));
    let signed = sign_file(&f.key("outsider"), &file);
    let body = json!({"keyid": outsider, "sig": signature_of(&signed, &outsider)});
    let (status, e) = signed_call(
        &server,
        "POST",
        &format!("/v1/drafts/{id}/signatures"),
        None,
        Some(&body),
    );
    assert_eq!(status, 403, "{e}");
    assert_eq!(e["error"]["field"], "keyid", "{e}");
    // A named signer's key id with a signature over other bytes does not verify.
    let b = keyid(&f.key("gate-b"));
    let forged = json!({"keyid": b, "sig": signature_of(&signed, &outsider)});
    let (status, e) = signed_call(
        &server,
        "POST",
        &format!("/v1/drafts/{id}/signatures"),
        None,
        Some(&forged),
    );
    assert_eq!(status, 422, "{e}");
    assert_eq!(e["error"]["field"], "sig", "{e}");
    // Nor may the outsider post a whole envelope carrying their signature.
    let (status, e) = signed_call(&server, "POST", "/v1/drafts", None, Some(&signed));
    assert_eq!(status, 403, "{e}");
    // Nor read the draft.
    let (status, _) = signed_call(
        &server,
        "GET",
        &format!("/v1/drafts/{id}"),
        Some(&f.key("outsider")),
        None,
    );
    assert_eq!(status, 403);
    let (_, list) = signed_call(&server, "GET", "/v1/drafts", Some(&f.key("outsider")), None);
    assert_eq!(list, json!([]));

    let (status, after) = signed_call(
        &server,
        "GET",
        &format!("/v1/drafts/{id}"),
        Some(&f.key("gate-a")),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(after["envelope"], envelope, "the draft is unchanged");
    assert_eq!(after["complete"], false);
}

#[test]
fn a_draft_whose_item_moved_on_is_stale_and_a_decline_is_shown() {
    let f = fixture();
    // The find is recorded directly; the seal is drafted on its head.
    let find = f.write("find.json", find_statement().as_bytes());
    custody()
        .args(["record", "--ledger", f.ledger_str(), "--key"])
        .arg(f.key("gate-a"))
        .arg("--key")
        .arg(f.key("gate-b"))
        .arg(&find)
        .assert()
        .success();
    let head = run_json(&["item", ITEM, "--ledger", f.ledger_str()])["head"]
        .as_str()
        .expect("head")
        .to_owned();
    let seal = json!({
        "type": "item_sealed",
        "facility": FACILITY,
        "signers": [{"role": "actor", "officer": GATE_A}, {"role": "witness", "officer": GATE_B}],
        "after": {ITEM: head},
        "item": ITEM,
        "seals_applied": ["SEG-2025-000418"],
        "packaging": "Kantong plastik klip bening",
        "photos": []
    });
    let seal = f.write("seal.json", seal.to_string().as_bytes());
    let envelope = sign_file(&f.key("gate-a"), &seal);
    let server = Server::on_port_zero(&f.ledger);
    let (status, view) = signed_call(&server, "POST", "/v1/drafts", None, Some(&envelope));
    assert_eq!(status, 201, "{view}");
    assert_eq!(view["stale"], json!([]));
    let id = view["id"].as_str().expect("id").to_owned();

    let reason = declined_by_gate_b(&f, &server, &id);
    record_a_note(&f, &server);
    let (status, view) = signed_call(
        &server,
        "GET",
        &format!("/v1/drafts/{id}"),
        Some(&f.key("gate-a")),
        None,
    );
    assert_eq!(status, 200, "{view}");
    let stale = view["stale"].as_array().expect("stale");
    assert_eq!(stale.len(), 1, "{view}");
    assert_eq!(stale[0]["item"], ITEM);
    assert_eq!(stale[0]["expected"], head.as_str());
    assert_ne!(stale[0]["current"], head.as_str());
    assert_eq!(view["complete"], false);
    assert_eq!(
        signer(&view, GATE_B)["declined"]["reason"],
        reason["reason"],
        "the decline is kept"
    );

    // Only a signer may discard it.
    let draft = format!("/v1/drafts/{id}");
    let (status, _) = signed_call(&server, "DELETE", &draft, Some(&f.key("outsider")), None);
    assert_eq!(status, 403);
    let (status, gone) = signed_call(&server, "DELETE", &draft, Some(&f.key("gate-b")), None);
    assert_eq!(status, 200, "{gone}");
    let (status, _) = signed_call(&server, "GET", &draft, Some(&f.key("gate-a")), None);
    assert_eq!(status, 404);
}

/// Gate officer B declines the draft `id`, signed (an outsider and an unsigned request may
/// not); returns the reason sent.
fn declined_by_gate_b(f: &Fixture, server: &Server, id: &str) -> Value {
    // Gate officer B declines, signed; an outsider may not.
    let path = format!("/v1/drafts/{id}/decline");
    let reason = json!({"reason": "Segel belum terpasang saat saya tiba"});
    let (status, e) = signed_call(
        server,
        "POST",
        &path,
        Some(&f.key("outsider")),
        Some(&reason),
    );
    assert_eq!(status, 403, "{e}");
    let (status, e) = signed_call(server, "POST", &path, None, Some(&reason));
    assert_eq!(status, 401, "{e}");
    let (status, view) = signed_call(server, "POST", &path, Some(&f.key("gate-b")), Some(&reason));
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        signer(&view, GATE_B)["declined"]["reason"],
        reason["reason"]
    );
    assert!(signer(&view, GATE_A).get("declined").is_none());

    reason
}

/// Records another act on the item, through the server, by gate officer A.
fn record_a_note(f: &Fixture, server: &Server) {
    // Another act on the item is recorded: the draft's `after` is no longer the head.
    // Without `after`, so that `--fill-after` names the item's head now.
    let note = json!({
        "type": "note_added",
        "facility": FACILITY,
        "signers": [{"role": "author", "officer": GATE_A}],
        "item": ITEM,
        "text": "Barang dipindahkan ke lemari B"
    });
    let note = f.write("note.json", note.to_string().as_bytes());
    let out = custody()
        .args(["record", "--server", &server.url, "--fill-after", "--key"])
        .arg(f.key("gate-a"))
        .arg(&note)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr_of(&out));
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64")
}

/// A draft the item rules would refuse is refused when it is made, at the field the rule names,
/// before the witness is asked to sign; nothing is kept.
#[test]
fn a_draft_the_rules_would_refuse_is_refused_before_anyone_else_signs() {
    let f = fixture();
    let weighing = json!({
        "type": "weighed",
        "facility": FACILITY,
        "signers": [
            {"role": "weigher", "officer": GATE_A},
            {"role": "witness", "officer": GATE_B}
        ],
        "after": {"BB-2025-999999": null},
        "item": "BB-2025-999999",
        "gross_mass_mg": 12000,
        "net_mass_mg": 10000,
        "balance_id": "TIMB-01",
        "readability_mg": 1,
        "calibration_ref": "KAL-2025-07",
        "seals_intact": true
    });
    let file = f.write("weigh.json", weighing.to_string().as_bytes());
    let envelope = sign_file(&f.key("gate-a"), &file);
    let server = Server::on_port_zero(&f.ledger);
    let (status, e) = signed_call(&server, "POST", "/v1/drafts", None, Some(&envelope));
    assert_eq!(status, 422, "{e}");
    assert_eq!(e["error"]["code"], "rule", "{e}");
    let field = e["error"]["field"].as_str().unwrap_or_default();
    assert!(
        field.contains("item"),
        "the refusal names the item field: {e}"
    );
    let (status, list) = signed_call(&server, "GET", "/v1/drafts", Some(&f.key("gate-b")), None);
    assert_eq!(
        (status, list),
        (200, json!([])),
        "nothing was kept for the witness"
    );
}
