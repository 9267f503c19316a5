//! The HTTP service end to end: the real `custody serve` binary on 127.0.0.1:0, driven by the
//! real client (`custody … --server`) and by raw HTTP. Every route, the error shapes, signed and
//! unsigned reads, scope refusals, duplicates, 64 concurrent writers, each limit, graceful
//! shutdown under load, TLS, and the outbox across a server that is down and later up.

mod common;

use common::*;
use custody::Remote;
use custody::SecretKey;
use custody::httpsig::{self, RequestParts};
use custody::{Clock, SystemClock};
use serde_json::Value;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

const ITEM: &str = "BB-LPN-2025-0418";
const INCIDENT: &str = "INS-LPN-2025-0091";
const LAB_EXAMINER: &str = "198204102006042001";
const SECURITY_OFFICER: &str = "197512031998031001";
const AS_OF: &str = "2025-08-22T01:00:00Z";

/// A stand-in server on `port` that answers one request with 503 (the ledger is opening), as
/// custody does, then stops listening.
fn busy_server(port: u16) -> std::thread::JoinHandle<()> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("binds the port");
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("a client");
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        // Read the request: its header, then as many body bytes as it declares.
        while let Ok(n @ 1..) = stream.read(&mut buf) {
            seen.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&seen).to_lowercase();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if seen.len() >= end + 4 + length {
                    break;
                }
            }
        }
        let body = r#"{"error":{"code":"unavailable","title":"belum tersedia","message":"the ledger is opening; retry shortly"}}"#;
        let answer = format!(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(answer.as_bytes()).expect("answers");
    })
}

/// A raw request: status, lower-cased headers we care about, body.
fn call(
    method: &str,
    url: &str,
    body: Option<&[u8]>,
    headers: &[(&str, &str)],
) -> (u16, Option<String>, Vec<u8>) {
    let agent = agent();
    let result = match (method, body) {
        ("GET", _) => {
            let mut r = agent.get(url);
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.call()
        }
        (_, b) => {
            let mut r = agent.post(url).header("content-type", "application/json");
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.send(b.unwrap_or_default())
        }
    };
    let mut response = result.expect("the server answers");
    let accept = response
        .headers()
        .get("accept-signature")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_vec()
        .expect("body");
    (response.status().as_u16(), accept, body)
}

fn error_of(body: &[u8]) -> Value {
    let v: Value = serde_json::from_slice(body).expect("errors are JSON");
    let e = v["error"].clone();
    assert!(e["code"].is_string(), "{v}");
    assert!(e["message"].is_string(), "{v}");
    e
}

fn remote(url: &str, key: &Path) -> Remote {
    let key = SecretKey::read_file(key).expect("key");
    Remote::new(url, Some(key), None, Arc::new(SystemClock)).expect("client")
}

fn demo_key(dir: &Path, name: &str) -> PathBuf {
    dir.join("demo-keys").join(format!("{name}.pem"))
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A signed note by gate officer A, as bytes of a DSSE envelope.
fn signed_note(f: &Fixture, extra: &str) -> Vec<u8> {
    let key = SecretKey::read_file(&f.key("gate-a")).expect("key");
    let bytes = custody::compose::fill_defaults(note_by(GATE_A, extra).as_bytes(), &SystemClock)
        .expect("fills");
    custody::compose::sign_statement(bytes, &[&key])
        .expect("signs")
        .to_json_pretty()
        .into_bytes()
}

#[test]
// The long form reads better here: a table of routes, each compared with its CLI command.
#[allow(clippy::too_many_lines)]
fn every_read_route_answers_what_the_cli_json_answers() {
    let (_tmp, dir) = demo_ledger();
    let l = s(&dir);
    let items = run_json(&["items", "--ledger", l]);
    let unit = items
        .as_array()
        .expect("list")
        .iter()
        .find_map(|i| i["unit"].as_str().map(str::to_owned))
        .expect("an item held by a unit");
    // The visitor is named by her subject id (her NIK and name stay in the register).
    let incident = run_json(&["incident", "--ledger", l, INCIDENT]);
    let visitor = incident["persons"][0]["subject"]
        .as_str()
        .expect("the visitor's subject id")
        .to_owned();
    let queries: Vec<Vec<&str>> = vec![
        vec!["items"],
        vec!["items", "--status", "destroyed"],
        vec!["item", ITEM],
        vec!["history", ITEM],
        vec!["holdings", LAB_EXAMINER],
        vec!["holdings", "--unit", &unit],
        vec!["pending"],
        vec!["incident", INCIDENT],
        vec!["person", &visitor],
        vec!["facilities"],
        vec!["officers"],
        vec!["audit", "--item", ITEM, "--as-of", AS_OF],
        vec!["audit", "--incident", INCIDENT, "--as-of", AS_OF],
        vec!["checkpoint"],
        vec!["entry", "3"],
    ];
    let local: Vec<Value> = queries
        .iter()
        .map(|q| {
            let mut args = q.clone();
            args.extend(["--ledger", l]);
            run_json(&args)
        })
        .collect();
    let proofs = [["prove", "inclusion", "5"], ["prove", "consistency", "10"]];
    let stdout = |args: &[&str]| {
        let out = custody().args(args).output().expect("runs");
        assert!(out.status.success(), "{args:?}: {}", stderr_of(&out));
        out.stdout
    };
    let local_proofs: Vec<Vec<u8>> = proofs
        .iter()
        .map(|p| stdout(&[&p[..], &["--ledger", l]].concat()))
        .collect();
    let report_local = dir.with_extension("local.html");
    custody()
        .args([
            "report", "--ledger", l, "--item", ITEM, "--as-of", AS_OF, "--out",
        ])
        .arg(&report_local)
        .assert()
        .success();
    let bundle_local = dir.with_extension("local.bundle");
    custody()
        .args(["bundle", "export", "--ledger", l, "--item", ITEM, "--out"])
        .arg(&bundle_local)
        .assert()
        .success();

    let server = Server::on_port_zero(&dir);
    let key = demo_key(&dir, "prosecutor");
    for (q, expected) in queries.iter().zip(&local) {
        let mut args = q.clone();
        args.extend(["--server", &server.url, "--key", s(&key)]);
        assert_eq!(&run_json(&args), expected, "custody {q:?} over HTTP");
    }
    for (p, expected) in proofs.iter().zip(&local_proofs) {
        let got = stdout(&[&p[..], &["--server", &server.url]].concat());
        assert_eq!(&got, expected, "custody {p:?} over HTTP (public)");
    }
    let report_remote = dir.with_extension("remote.html");
    custody()
        .args([
            "report",
            "--item",
            ITEM,
            "--as-of",
            AS_OF,
            "--server",
            &server.url,
        ])
        .args(["--key", s(&key), "--out"])
        .arg(&report_remote)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(&report_local).expect("local report"),
        std::fs::read(&report_remote).expect("remote report"),
        "the berita acara made over HTTP is the one made at the ledger"
    );
    let bundle_remote = dir.with_extension("remote.bundle");
    custody()
        .args(["bundle", "export", "--item", ITEM, "--server", &server.url])
        .args(["--key", s(&key), "--out"])
        .arg(&bundle_remote)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(&bundle_local).expect("local bundle"),
        std::fs::read(&bundle_remote).expect("remote bundle"),
        "the bundle over HTTP is byte for byte the exported one"
    );
    // Text output works over HTTP too (rendered from the same typed answers).
    let out = custody()
        .args(["history", ITEM, "--server", &server.url, "--key", s(&key)])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let history = String::from_utf8_lossy(&out.stdout);
    assert!(history.contains("riwayat"));
    assert!(
        history.contains("after: holder Rudi Hartono (NRP 85071234) ·")
            && history
                .contains("Rudi Hartono (NRP 85071234) — Satresnarkoba Polres Jakarta Timur ["),
        "officers by name over HTTP, from the roster: {history}"
    );
    // The ids stay bare in the JSON, the names beside them: the same over HTTP as at the ledger
    // (the loop above compared every answer).
    let item = &local[queries
        .iter()
        .position(|q| q[..] == ["item", ITEM])
        .expect("item")];
    assert_eq!(item["holder"], "85071234");
    assert_eq!(item["holder_name"], "Rudi Hartono");
    assert!(
        server
            .log()
            .contains("path=/v1/items/BB-LPN-2025-0418/history status=200"),
        "one log line per request: {}",
        server.log()
    );
    assert!(server.terminate(), "a clean exit on SIGTERM");
}

#[test]
// The long form reads better here: one scenario read top to bottom, route by route.
#[allow(clippy::too_many_lines)]
fn the_log_is_public_and_its_contents_are_not() {
    let (_tmp, dir) = demo_ledger();
    let l = s(&dir);
    let note = custody()
        .args(["checkpoint", "--ledger", l])
        .output()
        .expect("runs")
        .stdout;
    let consistency: Value = serde_json::from_slice(
        &custody()
            .args(["prove", "consistency", "--ledger", l, "10"])
            .output()
            .expect("runs")
            .stdout,
    )
    .expect("json");
    let entry3 = custody()
        .args(["entry", "--ledger", l, "3"])
        .output()
        .expect("runs")
        .stdout;
    let tiles = dir.with_extension("tiles");
    custody()
        .args(["export", "--ledger", l, "--out"])
        .arg(&tiles)
        .assert()
        .success();
    let size = run_json(&["checkpoint", "--ledger", l])["size"]
        .as_u64()
        .expect("size");

    let vkey = custody::note::VerifierKey::parse(
        run_json(&["vkey", "--ledger", l])["vkey"]
            .as_str()
            .expect("vkey"),
    )
    .expect("vkey parses");
    let server = Server::on_port_zero(&dir);
    let u = &server.url;
    for path in ["/v1/checkpoint", "/checkpoint"] {
        let (status, _, body) = call("GET", &format!("{u}{path}"), None, &[]);
        assert_eq!((status, body.as_slice()), (200, note.as_slice()), "{path}");
    }
    let (status, _, body) = call("GET", &format!("{u}/v1/proofs/inclusion?seq=5"), None, &[]);
    assert_eq!(status, 200);
    let proof: custody::InclusionProofView = serde_json::from_slice(&body).expect("proof");
    let receipt = custody::ReceiptView {
        seq: 5,
        leaf_hash: proof.leaf_hash.clone(),
        duplicate: false,
        checkpoint: String::from_utf8(note.clone()).expect("utf-8"),
        inclusion_proof: proof,
    };
    receipt
        .check(Some(&vkey))
        .expect("the public proof places leaf 5 under the signed checkpoint");
    let (status, _, body) = call(
        "GET",
        &format!("{u}/v1/proofs/consistency?old=10"),
        None,
        &[],
    );
    assert_eq!(status, 200);
    let body: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(body["hashes"], consistency["hashes"]);
    let (status, _, body) = call("GET", &format!("{u}/v1/proofs/inclusion"), None, &[]);
    assert_eq!(
        (status, error_of(&body)["field"].as_str()),
        (400, Some("seq"))
    );
    let (status, _, _) = call(
        "GET",
        &format!("{u}/v1/proofs/inclusion?seq=5&size=9999"),
        None,
        &[],
    );
    assert_eq!(status, 400, "a proof beyond the checkpoint is refused");

    // Hash tiles are public and equal the export; entry bundles need a reader of everything.
    let hash_tile = format!("tile/0/000.p/{size}");
    let (status, _, body) = call("GET", &format!("{u}/{hash_tile}"), None, &[]);
    assert_eq!(status, 200);
    assert_eq!(
        body,
        std::fs::read(tiles.join(&hash_tile)).expect("exported tile")
    );
    let entries_tile = format!("tile/entries/000.p/{size}");
    let (status, accept, body) = call("GET", &format!("{u}/{entries_tile}"), None, &[]);
    assert_eq!(status, 401, "{}", String::from_utf8_lossy(&body));
    assert!(accept.is_some_and(|a| a.contains("@authority")));
    let gate = remote(u, &demo_key(&dir, "gate-officer-a"));
    let refused = gate
        .get_signed(&format!("/{entries_tile}"))
        .expect_err("a gate officer");
    assert!(refused.to_string().contains("HTTP 403"), "{refused}");
    let prosecutor = remote(u, &demo_key(&dir, "prosecutor"));
    assert_eq!(
        prosecutor
            .get_signed(&format!("/{entries_tile}"))
            .expect("a prosecutor"),
        std::fs::read(tiles.join(&entries_tile)).expect("exported bundle")
    );
    assert_eq!(
        prosecutor.get_signed("/v1/entries/3").expect("entry"),
        entry3
    );
    let (status, _, _) = call("GET", &format!("{u}/tile/0/001"), None, &[]);
    assert_eq!(status, 404, "a tile beyond the checkpoint");
    let (status, _, _) = call("GET", &format!("{u}/tile/0/1"), None, &[]);
    assert_eq!(status, 404, "a non-canonical tile path");

    let (status, _, body) = call("GET", &format!("{u}/healthz"), None, &[]);
    assert_eq!(status, 200);
    let health: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(health["size"], size);
    let (status, _, body) = call("GET", &format!("{u}/v1/openapi.json"), None, &[]);
    assert_eq!(status, 200);
    assert_eq!(body, custody::OPENAPI_JSON.as_bytes());
    let (status, _, body) = call("GET", &format!("{u}/v1/nothing-here"), None, &[]);
    assert_eq!(
        (status, error_of(&body)["code"].as_str()),
        (404, Some("not_found"))
    );
    let (status, _, body) = call("GET", &format!("{u}/metrics"), None, &[]);
    assert_eq!(status, 200);
    let metrics = String::from_utf8(body).expect("text");
    for name in [
        "custody_appends_total",
        "custody_batch_statements_bucket",
        "custody_commit_seconds_bucket",
        "custody_flush_seconds_count",
        "custody_http_rejections_total{reason=\"unauthenticated\"} 1",
        "custody_http_rejections_total{reason=\"forbidden\"} 1",
        "custody_http_responses_total{status=\"200\"}",
    ] {
        assert!(metrics.contains(name), "{name} in\n{metrics}");
    }
}

#[test]
// The long form reads better here: one scenario read top to bottom: each kind of key and scope, in the order a key lives.
#[allow(clippy::too_many_lines)]
fn reads_need_a_current_enrolled_key_and_stay_in_scope() {
    let (_tmp, dir) = demo_ledger();
    let l = s(&dir);
    let keys = dir.join("demo-keys");
    // An officer of another prison, a revoked officer, and a rotated key.
    for name in ["cipinang", "rotated-new", "stranger"] {
        custody()
            .args(["key", "new", "--out"])
            .arg(keys.join(format!("{name}.pem")))
            .assert()
            .success();
    }
    let public = |name: &str| {
        run_json(&["key", "show", s(&keys.join(format!("{name}.pem")))])["public_key"]
            .as_str()
            .expect("public key")
            .to_owned()
    };
    let admin = s(&keys.join("admin.pem")).to_owned();
    custody()
        .args([
            "enroll",
            "--ledger",
            l,
            "--key",
            &admin,
            "--officer",
            "198101012006041009",
        ])
        .args([
            "--name",
            "Sari Cipinang",
            "--agency",
            "imipas",
            "--unit",
            "P2U Cipinang",
        ])
        .args(["--roles", "gate_officer", "--facility", "LP-CIPINANG"])
        .args(["--public-key", &public("cipinang")])
        .assert()
        .success();
    custody()
        .args([
            "revoke",
            "--ledger",
            l,
            "--key",
            &admin,
            "--officer",
            SECURITY_OFFICER,
        ])
        .args(["--reason", "transferred", "--facility", "LPN-JAKARTA"])
        .assert()
        .success();
    let old = keys.join("gate-officer-b.pem");
    custody()
        .args([
            "rotate",
            "--ledger",
            l,
            "--key",
            &admin,
            "--old-key",
            s(&old),
        ])
        .args([
            "--officer",
            GATE_B,
            "--reason",
            "new phone",
            "--facility",
            "LPN-JAKARTA",
        ])
        .args(["--public-key", &public("rotated-new")])
        .assert()
        .success();

    let server = Server::on_port_zero(&dir);
    let u = &server.url;
    let path = format!("/v1/items/{ITEM}/history");

    let (status, _, body) = call("GET", &format!("{u}{path}"), None, &[]);
    assert_eq!(status, 401);
    let e = error_of(&body);
    assert_eq!(e["code"], "unauthenticated");
    assert!(
        e["message"].as_str().expect("text").contains("not signed"),
        "{e}"
    );

    let refused = |key: &str| {
        remote(u, &keys.join(format!("{key}.pem")))
            .get_signed(&path)
            .expect_err("refused")
            .to_string()
    };
    // An unknown key and a rotated-out key get the one answer of a signature not verified, which
    // does not say which (tests/hostile_http.rs compares the bodies byte for byte).
    let stranger = refused("stranger");
    assert!(
        stranger.contains(&not_verified()) && stranger.contains("HTTP 401"),
        "{stranger}"
    );
    // `head-of-security` is the revoked officer's key in the demo.
    let revoked = refused("head-of-security");
    assert!(
        revoked.contains("HTTP 403") && revoked.contains("revoked"),
        "{revoked}"
    );
    let retired = refused("gate-officer-b");
    assert_eq!(retired, stranger);
    remote(u, &keys.join("rotated-new.pem"))
        .get_signed(&path)
        .expect("the rotated-in key reads");

    // A signature for one target does not open another, and an old one has expired.
    let key = SecretKey::read_file(&keys.join("prosecutor.pem")).expect("key");
    let authority = u.trim_start_matches("http://");
    let now = SystemClock.now().unix_ms() / 1000;
    let sign = |p: &str, created: i64| {
        httpsig::sign(
            &key,
            &RequestParts {
                method: "GET",
                authority,
                path: p,
                query: None,
                headers: vec![],
            },
            created,
        )
    };
    let (input, sig) = sign("/v1/items/BB-LPN-2025-0418-S1/history", now);
    let headers = [
        ("signature-input", input.as_str()),
        ("signature", sig.as_str()),
    ];
    let (status, _, body) = call("GET", &format!("{u}{path}"), None, &headers);
    assert_eq!(status, 401);
    assert_eq!(error_of(&body)["message"], not_verified());
    let (input, sig) = sign(&path, now - 3600);
    let headers = [
        ("signature-input", input.as_str()),
        ("signature", sig.as_str()),
    ];
    let (status, _, body) = call("GET", &format!("{u}{path}"), None, &headers);
    assert_eq!(status, 401);
    assert!(
        error_of(&body)["message"]
            .as_str()
            .expect("text")
            .contains("sign the request again")
    );
    let (input, sig) = sign(&path, now);
    let headers = [
        ("signature-input", input.as_str()),
        ("signature", sig.as_str()),
    ];
    assert_eq!(call("GET", &format!("{u}{path}"), None, &headers).0, 200);

    // Scope: the Cipinang officer sees nothing of Jakarta (to him it does not exist: 404, as
    // tests/no_oracle.rs checks byte for byte); the prosecutor sees all.
    let cipinang = remote(u, &keys.join("cipinang.pem"));
    let e = cipinang
        .get_signed(&path)
        .expect_err("out of scope")
        .to_string();
    assert!(e.contains("HTTP 404") && !e.contains("LPN-JAKARTA"), "{e}");
    let list: Value =
        serde_json::from_slice(&cipinang.get_signed("/v1/items").expect("list")).expect("json");
    assert_eq!(list, serde_json::json!([]));
    let e = cipinang
        .get_signed(&format!("/v1/incidents/{INCIDENT}"))
        .expect_err("out of scope");
    assert!(e.to_string().contains("HTTP 404"), "{e}");
    let e = cipinang
        .get_signed(&format!("/v1/incidents/{INCIDENT}/audit"))
        .expect_err("an incident of another prison");
    assert!(e.to_string().contains("HTTP 404"), "{e}");
    let e = cipinang
        .get_signed("/v1/entries/1")
        .expect_err("raw entries");
    assert!(e.to_string().contains("HTTP 403"), "{e}");
    let all: Value = serde_json::from_slice(
        &remote(u, &keys.join("prosecutor.pem"))
            .get_signed("/v1/items")
            .expect("list"),
    )
    .expect("json");
    assert_eq!(all.as_array().expect("list").len(), 2);
    // The CLI says the item is not there, and exits 4 (not found), as for a missing item.
    let out = custody()
        .args([
            "item",
            ITEM,
            "--server",
            u,
            "--key",
            s(&keys.join("cipinang.pem")),
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(4), "not found");
    assert!(stderr_of(&out).contains("no item"), "{}", stderr_of(&out));
}

#[test]
// The long form reads better here: one scenario read top to bottom: each write and each error shape.
#[allow(clippy::too_many_lines)]
fn writes_answer_with_receipts_and_every_error_names_the_problem() {
    let f = Fixture::new();
    let server = Server::on_port_zero(&f.ledger);
    let u = &server.url;
    let statements = format!("{u}/v1/statements");
    let before = {
        let (_, _, b) = call("GET", &format!("{u}/healthz"), None, &[]);
        serde_json::from_slice::<Value>(&b).expect("json")["size"]
            .as_u64()
            .expect("size")
    };

    // The client records through the server and checks the receipt against the ledger's key.
    let vkey = {
        let (_, _, b) = call("GET", &format!("{u}/v1/checkpoint"), None, &[]);
        String::from_utf8(b).expect("utf-8")
    };
    assert!(vkey.starts_with(ORIGIN));
    let note_file = f.write("note.json", note_by(GATE_A, "").as_bytes());
    let out = custody()
        .args([
            "record",
            "--server",
            u,
            "--key",
            s(&f.key("gate-a")),
            "--json",
        ])
        .arg(&note_file)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let receipt: custody::ReceiptView = serde_json::from_slice(&out.stdout).expect("receipt");
    assert_eq!(receipt.seq, before);
    receipt.check(None).expect("the proof holds");

    // The same envelope twice: 201, then 200 with the original answer.
    let env = signed_note(&f, "");
    let (first, _, b1) = call("POST", &statements, Some(&env), &[]);
    let (second, _, b2) = call("POST", &statements, Some(&env), &[]);
    assert_eq!((first, second), (201, 200));
    let (r1, r2): (Value, Value) = (
        serde_json::from_slice(&b1).expect("json"),
        serde_json::from_slice(&b2).expect("json"),
    );
    assert_eq!(r1["seq"], r2["seq"]);
    assert_eq!(r1["leaf_hash"], r2["leaf_hash"]);
    assert_eq!(r2["duplicate"], true);

    // Each refusal: status, code, and the field where there is one.
    let mut conflicting: Value = serde_json::from_slice(&env).expect("json");
    let key = SecretKey::read_file(&f.key("gate-a")).expect("key");
    let payload = String::from_utf8(base64_decode(
        conflicting["payload"].as_str().expect("payload"),
    ))
    .expect("utf-8")
    .replace("Gate log checked", "A different text");
    conflicting = serde_json::from_str(
        &custody::compose::sign_statement(payload.into_bytes(), &[&key])
            .expect("signs")
            .to_json_pretty(),
    )
    .expect("json");
    let mut bad_type: Value = serde_json::from_slice(&env).expect("json");
    bad_type["payloadType"] = "text/plain".into();
    let outsider = {
        let key = SecretKey::read_file(&f.key("outsider")).expect("key");
        let bytes = custody::compose::fill_defaults(note_by(OUTSIDER, "").as_bytes(), &SystemClock)
            .expect("fills");
        custody::compose::sign_statement(bytes, &[&key])
            .expect("signs")
            .to_json_pretty()
    };
    let bad_field = {
        let bytes = custody::compose::fill_defaults(
            note_by(GATE_A, "")
                .replace(FACILITY, "lapas jakarta")
                .as_bytes(),
            &SystemClock,
        )
        .expect("fills");
        custody::compose::sign_statement(bytes, &[&key])
            .expect("signs")
            .to_json_pretty()
    };
    let huge = vec![b' '; custody::REQUEST_BODY_BYTES_MAX + 1];
    // (what, body, status, code, field)
    type Case<'a> = (&'a str, Vec<u8>, u16, &'a str, Option<&'a str>);
    let cases: Vec<Case> = vec![
        ("not JSON", b"{not json".to_vec(), 400, "malformed", None),
        (
            "invalid UTF-8",
            vec![0xff, 0xfe, 0x7b],
            400,
            "malformed",
            None,
        ),
        (
            "wrong payloadType",
            bad_type.to_string().into_bytes(),
            400,
            "malformed",
            Some("payloadType"),
        ),
        (
            "a field breaks its rule",
            bad_field.into_bytes(),
            422,
            "invalid",
            Some("/facility"),
        ),
        (
            "signed by no enrolled officer",
            outsider.into_bytes(),
            422,
            "rule",
            None,
        ),
        (
            "same id, other content",
            conflicting.to_string().into_bytes(),
            409,
            "conflict",
            Some("id"),
        ),
        ("too large", huge, 413, "too_large", None),
    ];
    for (what, body, status, code, field) in cases {
        let (got, _, answer) = call("POST", &statements, Some(&body), &[]);
        let e = error_of(&answer);
        assert_eq!(
            (got, e["code"].as_str()),
            (status, Some(code)),
            "{what}: {e}"
        );
        if let Some(field) = field {
            assert_eq!(e["field"], field, "{what}: {e}");
        }
    }
    let (_, _, b) = call("GET", &format!("{u}/healthz"), None, &[]);
    let after = serde_json::from_slice::<Value>(&b).expect("json")["size"]
        .as_u64()
        .expect("size");
    assert_eq!(after, before + 2, "refused requests changed nothing");
    let (_, _, metrics) = call("GET", &format!("{u}/metrics"), None, &[]);
    let metrics = String::from_utf8(metrics).expect("text");
    for line in [
        "custody_appends_total 2\n",
        "custody_duplicate_submissions_total 1\n",
        "custody_batch_statements_count 2\n",
        "custody_flush_seconds_count 2\n",
        "custody_http_rejections_total{reason=\"malformed\"} 3\n",
        "custody_http_rejections_total{reason=\"invalid\"} 1\n",
        "custody_http_rejections_total{reason=\"rule\"} 1\n",
        "custody_http_rejections_total{reason=\"conflict\"} 1\n",
        "custody_http_rejections_total{reason=\"too_large\"} 1\n",
    ] {
        assert!(metrics.contains(line), "{line:?} in\n{metrics}");
    }
    assert!(server.terminate());
    f.assert_unchanged(before + 2);
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .expect("base64")
}

fn statement_id(envelope: &Value) -> String {
    let payload = base64_decode(envelope["payload"].as_str().expect("payload"));
    let v: Value = serde_json::from_slice(&payload).expect("statement");
    v["id"].as_str().expect("id").to_owned()
}

/// Reads every leaf of a stopped ledger: statement id → (seq, leaf hash).
fn leaves(dir: &Path) -> std::collections::HashMap<String, (u64, String)> {
    use base64::Engine as _;
    let ledger = custody::Ledger::open(dir).expect("opens");
    let size = ledger.checkpoint().size;
    let mut out = std::collections::HashMap::new();
    for seq in 0..size {
        let bytes = ledger.leaf(seq).expect("reads").expect("present");
        let leaf = custody::Leaf::decode(&bytes).expect("decodes");
        let statement = custody::Statement::parse(leaf.envelope.payload()).expect("parses");
        let hash =
            base64::engine::general_purpose::STANDARD.encode(custody::merkle::leaf_hash(&bytes));
        assert!(
            out.insert(statement.id.to_string(), (seq, hash)).is_none(),
            "statement id {} appears twice",
            statement.id
        );
    }
    out
}

/// Writers POST pre-signed envelopes; returns (statement id, seq, leaf hash) of each 201.
fn write_concurrently(
    url: &str,
    work: Vec<Vec<Vec<u8>>>,
    acks: &std::sync::atomic::AtomicUsize,
) -> (Vec<(String, u64, String)>, usize) {
    let statements = format!("{url}/v1/statements");
    std::thread::scope(|scope| {
        let handles: Vec<_> = work
            .into_iter()
            .map(|envelopes| {
                let statements = statements.clone();
                scope.spawn(move || {
                    let agent = agent();
                    let mut acked = Vec::new();
                    let mut failed = 0;
                    for env in envelopes {
                        let id = statement_id(&serde_json::from_slice(&env).expect("json"));
                        match agent
                            .post(&statements)
                            .header("content-type", "application/json")
                            .send(&env[..])
                        {
                            Ok(mut r) if r.status().as_u16() == 201 => {
                                let v: Value = serde_json::from_slice(
                                    &r.body_mut().read_to_vec().expect("body"),
                                )
                                .expect("receipt");
                                acks.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                                acked.push((
                                    id,
                                    v["seq"].as_u64().expect("seq"),
                                    v["leaf_hash"].as_str().expect("hash").to_owned(),
                                ));
                            }
                            _ => failed += 1,
                        }
                    }
                    (acked, failed)
                })
            })
            .collect();
        let mut acked = Vec::new();
        let mut failed = 0;
        for h in handles {
            let (a, f) = h.join().expect("writer thread");
            acked.extend(a);
            failed += f;
        }
        (acked, failed)
    })
}

fn assert_acked_present(dir: &Path, acked: &[(String, u64, String)]) {
    let log = leaves(dir);
    for (id, seq, hash) in acked {
        assert_eq!(
            log.get(id),
            Some(&(*seq, hash.clone())),
            "acknowledged statement {id} must be at seq {seq} with the acknowledged leaf hash"
        );
    }
    custody()
        .args(["verify", "--ledger"])
        .arg(dir)
        .assert()
        .success();
    let rebuild = run_json(&["rebuild", "--ledger", s(dir)]);
    assert_eq!(rebuild["identical"], true, "projections equal a rebuild");
}

#[test]
fn sixty_four_concurrent_writers_are_each_recorded_exactly_once() {
    const WRITERS: usize = 64;
    const EACH: usize = 5;
    let f = Fixture::new();
    let before = f.size();
    let work: Vec<Vec<Vec<u8>>> = (0..WRITERS)
        .map(|_| (0..EACH).map(|_| signed_note(&f, "")).collect())
        .collect();
    let server = Server::on_port_zero(&f.ledger);
    let acks = std::sync::atomic::AtomicUsize::new(0);
    let (acked, failed) = write_concurrently(&server.url.clone(), work, &acks);
    assert_eq!((acked.len(), failed), (WRITERS * EACH, 0));
    let seqs: std::collections::BTreeSet<u64> = acked.iter().map(|a| a.1).collect();
    assert_eq!(
        seqs.len(),
        WRITERS * EACH,
        "every acknowledgement has its own seq"
    );
    assert!(server.terminate());
    assert_eq!(f.size(), before + (WRITERS * EACH) as u64);
    assert_acked_present(&f.ledger, &acked);
}

#[test]
fn a_shutdown_under_load_acknowledges_only_what_is_durable() {
    let f = Fixture::new();
    let work: Vec<Vec<Vec<u8>>> = (0..16)
        .map(|_| (0..40).map(|_| signed_note(&f, "")).collect())
        .collect();
    let server = Server::on_port_zero(&f.ledger);
    let url = server.url.clone();
    let pid = server.child.id();
    let acks = std::sync::atomic::AtomicUsize::new(0);
    // SIGTERM once the writers are well under way (about a tenth of the work acknowledged).
    let (acked, failed) = std::thread::scope(|scope| {
        scope.spawn(|| {
            poll_until(
                Duration::from_secs(60),
                "64 acknowledgements before the SIGTERM",
                || acks.load(std::sync::atomic::Ordering::SeqCst) >= 64,
            );
            std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .expect("kill runs");
        });
        write_concurrently(&url, work, &acks)
    });
    let mut server = server;
    let status = server.child.wait().expect("exits");
    assert!(status.success(), "graceful exit: {}", server.log());
    assert!(acked.len() >= 64, "the signal came under load");
    assert!(
        acked.len() + failed == 16 * 40,
        "every request was either acknowledged or refused"
    );
    assert!(server.log().contains("shutting down"), "{}", server.log());
    assert_acked_present(&f.ledger, &acked);
}

#[test]
fn each_limit_is_answered_with_its_own_status() {
    let f = Fixture::new();
    let server = Server::start(
        &f.ledger,
        &[
            "--listen",
            "127.0.0.1:0",
            "--request-timeout-ms",
            "1500",
            "--concurrency-max",
            "1",
        ],
    );
    let addr = server.url.trim_start_matches("http://").to_owned();
    // A slow upload holds the only slot, so another request is shed at once with 503 …
    let mut slow = std::net::TcpStream::connect(&addr).expect("connects");
    slow.write_all(
        b"POST /v1/statements HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n",
    )
    .expect("writes");
    // The server asks for the body (100 Continue) only once the request holds the slot: wait for
    // that answer instead of a guessed time, then send the start of the body and stall.
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut interim = Vec::new();
    while !interim.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        match slow.read(&mut byte) {
            Ok(1) => interim.push(byte[0]),
            other => panic!(
                "no 100 Continue for the slow upload ({other:?}): {}",
                String::from_utf8_lossy(&interim)
            ),
        }
    }
    assert!(
        interim.starts_with(b"HTTP/1.1 100 Continue"),
        "{}",
        String::from_utf8_lossy(&interim)
    );
    slow.write_all(b"{\"payloadType\":").expect("writes");
    let (status, _, body) = call("GET", &format!("{}/healthz", server.url), None, &[]);
    assert_eq!(
        (status, error_of(&body)["code"].as_str()),
        (503, Some("unavailable"))
    );
    // … and the slow upload itself ends with 408 when its time is up.
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut answer = String::new();
    let _ = slow.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"timeout\""), "{answer}");
    // The slot is free again.
    assert_eq!(
        call("GET", &format!("{}/healthz", server.url), None, &[]).0,
        200
    );
    assert!(server.terminate());
}

#[test]
fn tls_serves_the_client_and_plain_http_stays_on_loopback() {
    let f = Fixture::new();
    let tls = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
    let out = custody()
        .args(["serve", "--ledger", f.ledger_str(), "--listen", "0.0.0.0:0"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("loopback"), "{}", stderr_of(&out));

    let server = Server::start(
        &f.ledger,
        &[
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            s(&tls.join("cert.pem")),
            "--tls-key",
            s(&tls.join("key.pem")),
        ],
    );
    let url = server.url.replace("127.0.0.1", "localhost");
    assert!(url.starts_with("https://"), "{url}");
    let note_file = f.write("note.json", note_by(GATE_A, "").as_bytes());
    let out = custody()
        .args(["record", "--server", &url, "--key", s(&f.key("gate-a"))])
        .args(["--ca-cert", s(&tls.join("ca.pem"))])
        .arg(&note_file)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let out = custody()
        .args(["record", "--server", &url, "--key", s(&f.key("gate-a"))])
        .arg(&note_file)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(6), "an unknown CA is not trusted");
    let officers = run_json(&[
        "officers",
        "--server",
        &url,
        "--key",
        s(&f.key("gate-a")),
        "--ca-cert",
        s(&tls.join("ca.pem")),
    ]);
    assert_eq!(
        officers.as_array().map(Vec::len),
        Some(3),
        "a signed read over TLS: {officers}"
    );
    assert!(server.terminate());
}

/// A server that answers "not now" (503, as while it opens or is at its limit) settles
/// nothing: both envelopes stay queued, none is moved to rejected/.
fn a_busy_server_settles_nothing(port: u16, url: &str, outbox: &Path) {
    let busy = busy_server(port);
    let out = custody()
        .args(["sync", "--server", url, "--outbox", s(outbox)])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(7), "{}", stderr_of(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 still queued"));
    let rejected = outbox.join("rejected");
    assert!(
        !rejected.exists() || std::fs::read_dir(&rejected).expect("dir").next().is_none(),
        "a 503 settled an envelope as rejected"
    );
    busy.join().expect("the busy server stops");
}

/// `sync` to an `outbox` that does not exist, and a read without a key, are refused (exit 2)
/// before anything is sent to `url` or created.
fn bad_input_is_refused_before_anything_is_sent(url: &str, outbox: &Path) {
    let out = custody()
        .args(["sync", "--server", url, "--outbox", s(outbox)])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("does not exist"));
    assert!(!outbox.exists(), "a mistyped outbox is not created");
    let out = custody()
        .args(["items", "--server", url])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("give --key FILE"));
}

#[test]
fn the_outbox_keeps_statements_while_the_server_is_down_and_sync_sends_them_once() {
    let f = Fixture::new();
    let before = f.size();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
        l.local_addr().expect("addr").port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let outbox = f.tmp.path().join("outbox");
    bad_input_is_refused_before_anything_is_sent(&url, &outbox);
    let note_file = f.write("note.json", note_by(GATE_A, "").as_bytes());
    for _ in 0..2 {
        let out = custody()
            .args(["record", "--server", &url, "--outbox", s(&outbox)])
            .args(["--key", s(&f.key("gate-a"))])
            .arg(&note_file)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(8), "queued: {}", stderr_of(&out));
        assert!(String::from_utf8_lossy(&out.stdout).contains("NOT yet recorded"));
    }
    let out = custody()
        .args(["sync", "--server", &url, "--outbox", s(&outbox)])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(7), "the server is still down");
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 still queued"));
    a_busy_server_settles_nothing(port, &url, &outbox);

    let server = Server::start(&f.ledger, &["--listen", &format!("127.0.0.1:{port}")]);
    let out = custody()
        .args(["sync", "--server", &url, "--outbox", s(&outbox), "--json"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    let results = report["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    assert!(
        results.iter().all(|r| r["outcome"] == "recorded"),
        "{report}"
    );
    assert!(
        results[0]["seq"].as_u64() < results[1]["seq"].as_u64(),
        "in order"
    );
    assert_eq!(report["still_queued"], 0);
    let sent = std::fs::read_dir(outbox.join("sent"))
        .expect("sent")
        .count();
    assert_eq!(sent, 4, "each envelope with its receipt");
    // A second sync has nothing to send; the heads cache knows the new statement.
    let again = run_json(&["sync", "--server", &url, "--outbox", s(&outbox)]);
    assert_eq!(again["results"], serde_json::json!([]));
    assert!(server.terminate());
    assert_eq!(f.size(), before + 2);
}

#[test]
fn the_openapi_document_describes_exactly_the_routes_served() {
    let doc: Value = serde_json::from_str(custody::OPENAPI_JSON).expect("OpenAPI is JSON");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        for method in ops.as_object().expect("operations").keys() {
            if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                documented.push((method.clone(), path.clone()));
            }
        }
    }
    // ROUTES is the router's own table; axum's catch-all `{*path}` is OpenAPI's `{path}`.
    let mut served: Vec<(String, String)> = custody::ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), p.replace("{*", "{")))
        .collect();
    documented.sort();
    served.sort();
    assert_eq!(documented, served);
}

/// Every event the server lists — an item's history, an incident's, a person's — carries its
/// Indonesian line (`uraian`) beside the English `summary`, written from the statement: the
/// seizure as the berita acara says it, the search in the workbench's words.
#[test]
fn events_come_with_their_indonesian_line() {
    let (_tmp, dir) = demo_ledger();
    let server = Server::on_port_zero(&dir);
    let key = dir.join("demo-keys/prosecutor.pem");
    let (status, history) = signed_call(
        &server,
        "GET",
        &format!("/v1/items/{ITEM}/history"),
        Some(&key),
        None,
    );
    assert_eq!(status, 200, "{history}");
    let events = history["events"].as_array().expect("events");
    for e in events {
        let line = e["uraian"]
            .as_str()
            .unwrap_or_else(|| panic!("no uraian: {e}"));
        assert_ne!(line, e["summary"].as_str().expect("summary"), "{e}");
    }
    let seizure = events
        .iter()
        .find(|e| e["type"] == "seizure_recorded")
        .expect("the seizure");
    let line = seizure["uraian"].as_str().expect("uraian");
    assert!(
        line.starts_with("disita berdasarkan surat perintah"),
        "{line}"
    );
    assert!(
        line.contains("pihak yang disita menolak menandatangani"),
        "{line}"
    );
    assert!(line.contains("11,200 g"), "the decimal comma: {line}");
    let (status, incident) = signed_call(
        &server,
        "GET",
        &format!("/v1/incidents/{INCIDENT}"),
        Some(&key),
        None,
    );
    assert_eq!(status, 200, "{incident}");
    let search = incident["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["type"] == "search_conducted")
        .expect("the search");
    assert!(
        search["uraian"]
            .as_str()
            .is_some_and(|l| l.starts_with("penggeledahan")),
        "{search}"
    );
}

/// The one English answer to a signed read that was not verified (`httpsig::NOT_VERIFIED`).
fn not_verified() -> String {
    custody::words::says(custody::words::Lang::English, httpsig::NOT_VERIFIED, &[])
}
