//! Nothing for those who may not read, and error bodies for people: to an officer of another
//! prison, an item, incident or person on record answers exactly as one that is not (status and
//! body, with only the id they sent differing); the roster is scoped like every other list; error
//! bodies echo at most 64 characters of input and never a Rust or library type name; a statement
//! must be sent as `application/json`; cleartext HTTP/2 is refused. Each ran against the real
//! `custody serve` on the demo ledger, with requests signed per RFC 9421.

mod common;

use common::*;
use custody::SecretKey;
use custody::httpsig::{self, RequestParts};
use custody::{Clock, SystemClock};
use serde_json::Value;
use std::path::Path;

const CIPINANG: &str = "198101012006041009";

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The demo ledger with one more officer, a gate officer of another prison (LP-CIPINANG), and a
/// server on it.
fn demo_with_outsider() -> (tempfile::TempDir, std::path::PathBuf, Server) {
    let (tmp, dir) = demo_ledger();
    let keys = dir.join("demo-keys");
    let key = keys.join("cipinang.pem");
    custody()
        .args(["key", "new", "--out", s(&key)])
        .assert()
        .success();
    let public = run_json(&["key", "show", s(&key)])["public_key"]
        .as_str()
        .expect("public key")
        .to_owned();
    custody()
        .args([
            "enroll",
            "--ledger",
            s(&dir),
            "--key",
            s(&keys.join("admin.pem")),
        ])
        .args(["--officer", CIPINANG, "--name", "Sari Cipinang"])
        .args(["--agency", "imipas", "--unit", "P2U Cipinang"])
        .args(["--roles", "gate_officer", "--facility", "LP-CIPINANG"])
        .args(["--public-key", &public])
        .assert()
        .success();
    let server = Server::on_port_zero(&dir);
    (tmp, dir, server)
}

/// A GET of `path_and_query` signed with the demo key `who`: status and body.
fn signed_get(server: &Server, dir: &Path, who: &str, path_and_query: &str) -> (u16, String) {
    let key = SecretKey::read_file(&dir.join("demo-keys").join(format!("{who}.pem"))).expect("key");
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    let now = SystemClock.now().unix_ms() / 1000;
    let parts = RequestParts {
        method: "GET",
        authority: server.url.trim_start_matches("http://"),
        path,
        query,
        headers: vec![],
    };
    let (input, signature) = httpsig::sign(&key, &parts, now);
    let mut response = agent()
        .get(&format!("{}{path_and_query}", server.url))
        .header("signature-input", &input)
        .header("signature", &signature)
        .call()
        .expect("the server answers");
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().expect("text body");
    (status, body)
}

/// A POST to `/v1/statements` with `content_type` (if any): status and body.
fn post(server: &Server, content_type: Option<&str>, body: &[u8]) -> (u16, String) {
    let mut request = agent().post(&format!("{}/v1/statements", server.url));
    if let Some(t) = content_type {
        request = request.header("content-type", t);
    }
    let mut response = request.send(body).expect("the server answers");
    let status = response.status().as_u16();
    (
        status,
        response.body_mut().read_to_string().expect("text body"),
    )
}

#[test]
fn what_an_officer_may_not_read_answers_exactly_as_what_does_not_exist() {
    let (_tmp, dir, server) = demo_with_outsider();
    // The visitor is named by her subject id, as the incident (read by the prosecutor) says.
    let (status, incident) = signed_get(
        &server,
        &dir,
        "prosecutor",
        "/v1/incidents/INS-LPN-2025-0091",
    );
    assert_eq!(status, 200, "{incident}");
    let incident: Value = serde_json::from_str(&incident).expect("JSON");
    let visitor = incident["persons"][0]["subject"]
        .as_str()
        .expect("the visitor's subject id")
        .to_owned();
    // (route on record, the same route for an id not on record, the two ids)
    let pairs = [
        ("BB-LPN-2025-0418", "BB-LPN-2025-9999", "/v1/items/{}"),
        (
            "BB-LPN-2025-0418",
            "BB-LPN-2025-9999",
            "/v1/items/{}/history",
        ),
        ("BB-LPN-2025-0418", "BB-LPN-2025-9999", "/v1/items/{}/audit"),
        (
            "BB-LPN-2025-0418",
            "BB-LPN-2025-9999",
            "/v1/items/{}/bundle",
        ),
        ("INS-LPN-2025-0091", "INS-LPN-2025-9999", "/v1/incidents/{}"),
        (
            "INS-LPN-2025-0091",
            "INS-LPN-2025-9999",
            "/v1/incidents/{}/audit",
        ),
        (
            visitor.as_str(),
            "subj-00000000000000000000000000000000",
            "/v1/persons/{}",
        ),
    ];
    for (real, absent, route) in pairs {
        let (real_status, real_body) =
            signed_get(&server, &dir, "cipinang", &route.replace("{}", real));
        let (absent_status, absent_body) =
            signed_get(&server, &dir, "cipinang", &route.replace("{}", absent));
        assert_eq!(real_status, 404, "{route}: {real_body}");
        assert_eq!(absent_status, 404, "{route}: {absent_body}");
        assert_eq!(
            real_body.replace(real, "ID"),
            absent_body.replace(absent, "ID"),
            "{route}: the answers tell an existing record from a missing one"
        );
        assert!(!real_body.contains("LPN-JAKARTA"), "{route}: {real_body}");
        // Someone who may read it does get it.
        let (status, body) = signed_get(&server, &dir, "prosecutor", &route.replace("{}", real));
        assert_eq!(status, 200, "{route}: {body}");
    }
    assert!(server.terminate());
}

#[test]
fn the_roster_is_scoped_like_every_other_list() {
    let (_tmp, dir, server) = demo_with_outsider();
    let ids = |who: &str| -> Vec<String> {
        let (status, body) = signed_get(&server, &dir, who, "/v1/officers");
        assert_eq!(status, 200, "{who}: {body}");
        let list: Value = serde_json::from_str(&body).expect("json");
        list.as_array()
            .expect("a list")
            .iter()
            .map(|o| o["id"].as_str().expect("id").to_owned())
            .collect()
    };
    assert_eq!(
        ids("cipinang"),
        [CIPINANG],
        "another prison's officer sees only their own"
    );
    let everyone = ids("prosecutor");
    assert!(
        everyone.len() >= 11 && everyone.iter().any(|o| o == CIPINANG),
        "{everyone:?}"
    );
    assert_eq!(
        ids("admin"),
        everyone,
        "an administrator sees every officer"
    );
    let jakarta = ids("gate-officer-a");
    assert!(!jakarta.iter().any(|o| o == CIPINANG), "{jakarta:?}");
    assert!(
        jakarta.len() > 1 && jakarta.len() < everyone.len(),
        "{jakarta:?}"
    );
    // The CLI through the server shows the same scoped list.
    let key = dir.join("demo-keys").join("cipinang.pem");
    let listed = run_json(&["officers", "--server", &server.url, "--key", s(&key)]);
    assert_eq!(listed.as_array().expect("a list").len(), 1);
    assert!(server.terminate());
}

#[test]
fn error_bodies_name_the_field_and_echo_little_of_the_input() {
    let (_tmp, dir, server) = demo_with_outsider();
    let long = "X".repeat(5000);
    for path in [
        format!("/v1/items/{long}"),
        format!("/v1/persons/subj-{long}"),
    ] {
        let (status, body) = signed_get(&server, &dir, "prosecutor", &path);
        assert!(status == 400 || status == 404, "{status}: {body}");
        assert!(
            !body.contains(&"X".repeat(65)),
            "more than 64 characters echoed: {body}"
        );
    }
    let (status, body) = signed_get(&server, &dir, "prosecutor", "/v1/proofs/inclusion?seq=abc");
    assert_eq!(status, 400, "{body}");
    let error = &serde_json::from_str::<Value>(&body).expect("json")["error"];
    assert_eq!(error["field"], "seq", "{body}");
    for internal in [
        "deserialize",
        "u64",
        "invalid digit",
        "struct",
        "serde",
        "axum",
    ] {
        assert!(!body.contains(internal), "{internal:?} in {body}");
    }
    let (status, body) = post(&server, Some("application/json"), b"[1,2,3]");
    assert_eq!(status, 400, "{body}");
    for internal in ["WireEnvelope", "struct", "elements", "serde"] {
        assert!(!body.contains(internal), "{internal:?} in {body}");
    }
    assert!(server.terminate());
}

#[test]
fn a_statement_must_be_sent_as_json() {
    let (_tmp, _dir, server) = demo_with_outsider();
    let size = || {
        let mut r = agent()
            .get(&format!("{}/healthz", server.url))
            .call()
            .expect("answers");
        let v: Value =
            serde_json::from_str(&r.body_mut().read_to_string().expect("text")).expect("json");
        v["size"].as_u64().expect("size")
    };
    let before = size();
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let (status, body) = post(&server, content_type, b"{}");
        assert_eq!(status, 415, "{content_type:?}: {body}");
        let error = &serde_json::from_str::<Value>(&body).expect("json")["error"];
        assert_eq!(error["code"], "unsupported_media_type", "{body}");
        assert_eq!(error["field"], "content-type", "{body}");
    }
    let (status, _) = post(&server, Some("application/json; charset=utf-8"), b"{}");
    assert_eq!(
        status, 400,
        "JSON with a charset parameter is taken (and refused as malformed)"
    );
    assert_eq!(size(), before, "refusals change nothing");
    assert!(server.terminate());
}

#[test]
fn cleartext_http2_is_refused() {
    let Some(curl) = required_tool(
        "cleartext_http2_is_refused",
        &["curl"],
        "apt-get install curl",
    ) else {
        return;
    };
    let (_tmp, _dir, server) = demo_with_outsider();
    let out = std::process::Command::new(curl)
        .args([
            "-s",
            "--http2-prior-knowledge",
            "-w",
            "\n%{http_version} %{http_code}",
        ])
        .arg(format!("{}/v1/checkpoint", server.url))
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.ends_with("2 400"), "{text}");
    assert!(text.contains("HTTP/1.1 only"), "{text}");
    assert!(server.terminate());
}
