//! Enrollment requests end to end against the real `custody serve`: a new officer's key asks to
//! be enrolled with a proof of possession, an administrator lists and reads the request (no one
//! else may), a request with a wrong proof, a bad record or an enrolled key is refused and stored
//! nowhere, and once `custody enroll` records the officer the request shows as enrolled; an
//! administrator may reject one.

mod common;

use common::*;
use custody::SecretKey;
use custody::enrollment_requests::{code_of, pop_message};
use serde_json::{Value, json};

const NEW_OFFICER: &str = "199505052020011001";

/// A request for `officer` with `key`'s public key, its proof of possession signed by `pop_key`.
fn request(f: &Fixture, officer: &str, key: &str, pop_key: &str) -> Value {
    let public_key = f.public_key(key);
    let signer = SecretKey::read_file(&f.key(pop_key)).expect("key");
    let pop = signer
        .sign(pop_message(officer, &public_key).as_bytes())
        .to_base64();
    json!({
        "officer": {
            "id": officer,
            "name": "Rina Kartika",
            "rank": "Penata Muda (III/a)",
            "agency": "imipas",
            "unit": "P2U",
            "roles": ["gate_officer"]
        },
        "public_key": public_key,
        "facility": FACILITY,
        "pop": pop
    })
}

/// The request `code` is listed and read by the administrator, and by no one else; returns its
/// path.
fn listed_for_administrators_only(f: &Fixture, server: &Server, code: &str) -> String {
    let admin = f.key("admin");
    // Only an administrator reads them.
    let (status, list) = signed_call(server, "GET", "/v1/enrollment-requests", Some(&admin), None);
    assert_eq!(status, 200, "{list}");
    let list = list.as_array().expect("a list").clone();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["code"], code);
    assert_eq!(list[0]["status"], "pending");
    assert_eq!(list[0]["officer"]["name"], "Rina Kartika");
    let (status, e) = signed_call(
        server,
        "GET",
        "/v1/enrollment-requests",
        Some(&f.key("gate-a")),
        None,
    );
    assert_eq!(status, 403, "{e}");
    let one = format!("/v1/enrollment-requests/{code}");
    let (status, e) = signed_call(server, "GET", &one, Some(&f.key("gate-a")), None);
    assert_eq!(status, 403, "{e}");
    let (status, e) = signed_call(server, "GET", &one, None, None);
    assert_eq!(status, 401, "{e}");

    one
}

#[test]
fn a_requested_enrollment_is_listed_for_administrators_and_marked_once_enrolled() {
    let f = Fixture::new();
    let server = Server::on_port_zero(&f.ledger);
    let admin = f.key("admin");
    let spare = custody::PublicKey::from_base64(&f.public_key("spare")).expect("key");

    let body = request(&f, NEW_OFFICER, "spare", "spare");
    let (status, answer) = signed_call(
        &server,
        "POST",
        "/v1/enrollment-requests",
        None,
        Some(&body),
    );
    assert_eq!(status, 201, "{answer}");
    let code = answer["code"].as_str().expect("code").to_owned();
    assert_eq!(code, code_of(&spare));
    assert!(
        code.len() == 9 && code.as_bytes()[4] == b'-',
        "XXXX-XXXX: {code}"
    );
    // The same request again answers the same code.
    let (status, again) = signed_call(
        &server,
        "POST",
        "/v1/enrollment-requests",
        None,
        Some(&body),
    );
    assert_eq!((status, &again["code"]), (201, &json!(code)), "{again}");

    let one = listed_for_administrators_only(&f, &server, &code);

    // The administrator enrolls the officer with an ordinary officer_enrolled.
    let out = custody()
        .args(["enroll", "--server", &server.url, "--key"])
        .arg(&admin)
        .args(["--officer", NEW_OFFICER, "--name", "Rina Kartika"])
        .args([
            "--agency",
            "imipas",
            "--unit",
            "P2U",
            "--roles",
            "gate_officer",
        ])
        .args(["--public-key", &f.public_key("spare")])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let (status, view) = signed_call(&server, "GET", &one, Some(&admin), None);
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["status"], "enrolled", "{view}");
    assert!(view["enrolled_seq"].as_u64().is_some(), "{view}");
    // Enrolled now: asking again is refused.
    let (status, e) = signed_call(
        &server,
        "POST",
        "/v1/enrollment-requests",
        None,
        Some(&body),
    );
    assert_eq!(status, 409, "{e}");
}

#[test]
fn a_wrong_proof_a_bad_record_or_an_enrolled_key_is_refused_and_stored_nowhere() {
    let f = Fixture::new();
    let server = Server::on_port_zero(&f.ledger);
    let post =
        |body: &Value| signed_call(&server, "POST", "/v1/enrollment-requests", None, Some(body));

    // The proof signed by another key than the one asking.
    let (status, e) = post(&request(&f, NEW_OFFICER, "spare", "outsider"));
    assert_eq!(status, 422, "{e}");
    assert_eq!(e["error"]["field"], "pop");
    assert!(
        e["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("custody-enrollment-request:v1")),
        "{e}"
    );
    // A proof over another officer id.
    let mut body = request(&f, NEW_OFFICER, "spare", "spare");
    body["officer"]["id"] = json!("199505052020011002");
    let (status, e) = post(&body);
    assert_eq!((status, &e["error"]["field"]), (422, &json!("pop")), "{e}");
    // The officer record is checked by the officer_enrolled schema.
    let mut body = request(&f, NEW_OFFICER, "spare", "spare");
    body["officer"]["roles"] = json!(["wizard"]);
    let (status, e) = post(&body);
    assert_eq!(status, 422, "{e}");
    assert_eq!(e["error"]["field"], "officer.roles.0", "{e}");
    let mut body = request(&f, NEW_OFFICER, "spare", "spare");
    body["facility"] = json!("not a facility");
    let (status, e) = post(&body);
    assert_eq!(
        (status, &e["error"]["field"]),
        (422, &json!("facility")),
        "{e}"
    );
    // A key already enrolled, and an officer already enrolled.
    let (status, e) = post(&request(&f, NEW_OFFICER, "gate-a", "gate-a"));
    assert_eq!(
        (status, &e["error"]["field"]),
        (409, &json!("public_key")),
        "{e}"
    );
    let (status, e) = post(&request(&f, GATE_B, "spare", "spare"));
    assert_eq!(
        (status, &e["error"]["field"]),
        (409, &json!("officer.id")),
        "{e}"
    );

    let admin = f.key("admin");
    let (status, list) = signed_call(
        &server,
        "GET",
        "/v1/enrollment-requests",
        Some(&admin),
        None,
    );
    assert_eq!((status, list), (200, json!([])));

    // A good one, rejected by the administrator.
    let (status, answer) = post(&request(&f, NEW_OFFICER, "spare", "spare"));
    assert_eq!(status, 201, "{answer}");
    let one = format!(
        "/v1/enrollment-requests/{}",
        answer["code"].as_str().expect("code")
    );
    let (status, e) = signed_call(&server, "DELETE", &one, Some(&f.key("gate-a")), None);
    assert_eq!(status, 403, "{e}");
    let (status, gone) = signed_call(&server, "DELETE", &one, Some(&admin), None);
    assert_eq!(status, 200, "{gone}");
    let (status, _) = signed_call(&server, "GET", &one, Some(&admin), None);
    assert_eq!(status, 404);
}
