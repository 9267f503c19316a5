//! Hostile clients against the real `custody serve` on loopback: malformed JSON, invalid UTF-8,
//! deep nesting, a huge body, a body that stalls, a header that never ends, thousands of
//! connections, a replayed envelope and envelopes from another ledger. Each gets its status (or
//! its connection closed), the log does not change, the server keeps serving, and its memory
//! stays bounded. Signed reads are replayed too: signed for another server's name, sent twice with
//! one nonce, signed before the server started; and an unknown key, a wrong signature and a
//! rotated-out key get one answer, byte for byte. What a hostile reader could learn from answers (existence oracles, the
//! roster, echoed input, internals in error bodies) and what a server must refuse on its face (a
//! body that is not JSON, cleartext HTTP/2) is in `tests/no_oracle.rs`.

mod common;

use common::*;
use custody::httpsig::{self, RequestParts};
use custody::{Clock, SecretKey, SystemClock};
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The server's `host:port`.
fn addr(server: &Server) -> String {
    server
        .url
        .strip_prefix("http://")
        .expect("plain HTTP on loopback")
        .to_owned()
}

/// Sends raw bytes and reads the whole answer (the server closes after `connection: close`).
fn raw(server: &Server, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr(server)).expect("connects");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    s.write_all(request).expect("sends");
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

fn post(server: &Server, body: &[u8]) -> String {
    let mut request = format!(
        "POST /v1/statements HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    raw(server, &request)
}

fn status(answer: &str) -> u16 {
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"))
}

/// The error code of a JSON error answer.
fn code(answer: &str) -> String {
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("an error body is JSON ({e}): {answer}"));
    v["error"]["code"].as_str().unwrap_or_default().to_owned()
}

/// The server's resident memory, in KiB.
fn rss_kib(server: &Server) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id()))
        .expect("a Linux /proc");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS")
}

/// The tree size of the server's checkpoint.
fn checkpoint_size(server: &Server) -> u64 {
    let answer = raw(
        server,
        b"GET /v1/checkpoint HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    );
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    body.lines()
        .nth(1)
        .and_then(|l| l.parse().ok())
        .unwrap_or_else(|| panic!("a checkpoint: {answer}"))
}

/// The status of `GET /healthz`, or `None` when the connection was closed without an answer.
fn healthz(server: &Server) -> Option<u16> {
    let answer = raw(
        server,
        b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    );
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
}

fn healthy(server: &Server) {
    let answer = raw(
        server,
        b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    );
    assert_eq!(status(&answer), 200, "{answer}");
}

/// A note by gate officer A, signed.
fn signed_note(f: &Fixture) -> Vec<u8> {
    let plain = f.write("note.json", note_by(GATE_A, "").as_bytes());
    custody()
        .args(["sign", "--key"])
        .arg(f.key("gate-a"))
        .arg(plain)
        .output()
        .expect("signs")
        .stdout
}

#[test]
fn malformed_bodies_are_refused_with_their_reason_and_change_nothing() {
    let f = Fixture::new();
    let size = f.size();
    let server = Server::on_port_zero(&f.ledger);
    // Deep, yet under the body limit: the parser's depth limit answers, not the stack.
    let nested = format!("{}{}", "[".repeat(30_000), "]".repeat(30_000));
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("malformed JSON", br#"{"payload": "#.to_vec(), 400),
        ("invalid UTF-8", b"{\"payload\":\"\xff\xfe\xfd\"}".to_vec(), 400),
        ("deep nesting", nested.into_bytes(), 400),
        ("not an object", b"[1,2,3]".to_vec(), 400),
        ("empty", Vec::new(), 400),
        (
            "a payload that is not a statement",
            br#"{"payloadType":"application/vnd.custody.statement+json","payload":"aGVsbG8=","signatures":[]}"#.to_vec(),
            400,
        ),
    ];
    for (what, body, want) in cases {
        let answer = post(&server, &body);
        assert_eq!(status(&answer), want, "{what}: {answer}");
        assert!(!code(&answer).is_empty(), "{what}: {answer}");
    }
    healthy(&server);
    drop(server);
    f.assert_unchanged(size);
}

#[test]
fn a_huge_body_is_refused_without_being_read_whole() {
    let f = Fixture::new();
    let size = f.size();
    let server = Server::on_port_zero(&f.ledger);
    let before = rss_kib(&server);
    // Declared huge: refused from the header alone.
    let answer = raw(
        &server,
        b"POST /v1/statements HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1073741824\r\nconnection: close\r\n\r\n{",
    );
    assert_eq!(status(&answer), 413, "{answer}");
    // Sent chunked, 64 MiB of it: refused once the limit is crossed.
    let mut s = TcpStream::connect(addr(&server)).expect("connects");
    s.write_all(b"POST /v1/statements HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n")
        .expect("sends");
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..64 {
        let head = format!("{:x}\r\n", chunk.len());
        if s.write_all(head.as_bytes()).is_err()
            || s.write_all(&chunk).is_err()
            || s.write_all(b"\r\n").is_err()
        {
            break; // the server stopped reading: that is the point
        }
    }
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert_eq!(status(&answer), 413, "{answer}");
    let grown = rss_kib(&server).saturating_sub(before);
    eprintln!("64 MiB sent chunked: refused, RSS grew by {grown} KiB");
    assert!(grown < 32 * 1024, "the server grew by {grown} KiB");
    healthy(&server);
    drop(server);
    f.assert_unchanged(size);
}

#[test]
fn a_stalled_body_times_out_and_a_trickled_header_is_cut_off() {
    let f = Fixture::new();
    let size = f.size();
    let server = Server::start(
        &f.ledger,
        &[
            "--listen",
            "127.0.0.1:0",
            "--request-timeout-ms",
            "1000",
            "--header-timeout-ms",
            "1000",
        ],
    );
    // The header arrives, the body never does.
    let started = Instant::now();
    let answer = raw(
        &server,
        b"POST /v1/statements HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 500\r\nconnection: close\r\n\r\n{\"payload\":",
    );
    assert_eq!(status(&answer), 408, "{answer}");
    assert_eq!(code(&answer), "timeout");
    assert!(started.elapsed() < Duration::from_secs(20));
    // The header itself trickles in and never ends: the connection is closed.
    let mut s = TcpStream::connect(addr(&server)).expect("connects");
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")
        .expect("sends");
    let started = Instant::now();
    let mut answer = Vec::new();
    let read = s.read_to_end(&mut answer);
    assert!(
        read.is_ok() && started.elapsed() < Duration::from_secs(15),
        "the server closed the connection ({read:?} after {:?})",
        started.elapsed()
    );
    // An idle connection that never sends a byte is closed too.
    let mut idle = TcpStream::connect(addr(&server)).expect("connects");
    idle.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let started = Instant::now();
    let mut nothing = Vec::new();
    assert!(idle.read_to_end(&mut nothing).is_ok());
    assert!(started.elapsed() < Duration::from_secs(15));
    // So is a kept-alive connection that goes silent after its answer.
    let mut kept = TcpStream::connect(addr(&server)).expect("connects");
    kept.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    kept.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .expect("sends");
    let started = Instant::now();
    let mut answer = Vec::new();
    assert!(kept.read_to_end(&mut answer).is_ok());
    assert_eq!(status(&String::from_utf8_lossy(&answer)), 200);
    assert!(started.elapsed() < Duration::from_secs(15));
    healthy(&server);
    drop(server);
    f.assert_unchanged(size);
}

#[test]
fn thousands_of_connections_are_bounded_and_the_server_keeps_serving() {
    let f = Fixture::new();
    let server = Server::start(
        &f.ledger,
        &[
            "--listen",
            "127.0.0.1:0",
            "--connections-max",
            "200",
            // Only the bound is under test: silent connections are not timed out meanwhile.
            "--header-timeout-ms",
            "600000",
        ],
    );
    let before = rss_kib(&server);
    let mut sockets = Vec::new();
    for _ in 0..3000 {
        match TcpStream::connect(addr(&server)) {
            Ok(s) => sockets.push(s),
            Err(_) => break,
        }
    }
    assert!(sockets.len() > 1000, "opened {}", sockets.len());
    // The server closes every connection beyond its bound as it accepts it: reading one gives
    // end-of-file (or a reset). Wait until no more than the bound are left open.
    for s in &sockets {
        s.set_nonblocking(true).expect("non-blocking");
    }
    let mut closed = vec![false; sockets.len()];
    let mut open = 0;
    poll_until(
        Duration::from_secs(30),
        "the server to close the connections beyond its bound of 200",
        || {
            open = 0;
            for (s, closed) in sockets.iter_mut().zip(closed.iter_mut()) {
                if *closed {
                    continue;
                }
                let mut byte = [0u8; 1];
                match s.read(&mut byte) {
                    Ok(0) => *closed = true,
                    Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => *closed = true,
                    _ => open += 1,
                }
            }
            open <= 200
        },
    );
    assert!(open >= 100, "the first connections were kept ({open})");
    let grown = rss_kib(&server).saturating_sub(before);
    eprintln!(
        "{} connections opened, {open} kept open by the server, RSS grew by {grown} KiB",
        sockets.len()
    );
    assert!(grown < 64 * 1024, "the server grew by {grown} KiB");
    drop(sockets);
    // The server notices the closed sockets and frees their slots: it serves again.
    poll_until(
        Duration::from_secs(30),
        "the server to answer /healthz once the sockets are closed",
        || healthz(&server) == Some(200),
    );
    healthy(&server);
}

#[test]
fn a_replayed_envelope_is_answered_with_its_first_receipt_and_appends_nothing() {
    let f = Fixture::new();
    let server = Server::on_port_zero(&f.ledger);
    let envelope = signed_note(&f);
    let first = post(&server, &envelope);
    assert_eq!(status(&first), 201, "{first}");
    let size = checkpoint_size(&server);
    for _ in 0..5 {
        let again = post(&server, &envelope);
        assert_eq!(status(&again), 200, "{again}");
        let body = |a: &str| -> serde_json::Value {
            serde_json::from_str(a.split("\r\n\r\n").nth(1).unwrap_or_default()).expect("JSON")
        };
        assert_eq!(body(&again)["seq"], body(&first)["seq"]);
        assert_eq!(body(&again)["leaf_hash"], body(&first)["leaf_hash"]);
        assert_eq!(body(&again)["duplicate"], true);
    }
    assert_eq!(checkpoint_size(&server), size, "replays append nothing");
}

#[test]
fn envelopes_from_another_ledger_are_refused_and_change_nothing() {
    let f = Fixture::new();
    let size = f.size();
    let (_other_tmp, other) = demo_ledger();
    let server = Server::on_port_zero(&f.ledger);
    let envelope_at = |seq: u64| -> Vec<u8> {
        let ledger = custody::Ledger::open(&other).expect("opens");
        let bytes = ledger.leaf(seq).expect("reads").expect("present");
        ledger.close();
        custody::Leaf::decode(&bytes)
            .expect("a leaf")
            .envelope
            .to_json()
            .into_bytes()
    };
    // A statement of the other ledger, signed by its officers: not enrolled here.
    let answer = post(&server, &envelope_at(12));
    assert_eq!(status(&answer), 422, "{answer}");
    assert_eq!(code(&answer), "rule", "{answer}");
    // The other ledger's genesis: this ledger has its own.
    let answer = post(&server, &envelope_at(0));
    assert_eq!(status(&answer), 422, "{answer}");
    healthy(&server);
    drop(server);
    f.assert_unchanged(size);
}

/// The server's clock in Unix seconds (the tests and the server share the machine's clock).
fn now_s() -> i64 {
    SystemClock.now().unix_ms().div_euclid(1000)
}

/// A signed read as a client would make it: `GET path` signed with the key file `key` for
/// `authority` at `created`, with `nonce` when given.
struct SignedRead<'a> {
    key: &'a std::path::Path,
    authority: &'a str,
    path: &'a str,
    created: i64,
    nonce: Option<&'a str>,
}

impl<'a> SignedRead<'a> {
    /// `GET /v1/items` signed with `key` for `authority`, now, without a nonce.
    fn new(key: &'a std::path::Path, authority: &'a str) -> Self {
        Self {
            key,
            authority,
            path: "/v1/items",
            created: now_s(),
            nonce: None,
        }
    }

    /// The `Signature-Input` and `Signature` header values.
    fn headers(&self) -> (String, String) {
        let key = SecretKey::read_file(self.key).expect("a key file");
        let parts = RequestParts {
            method: "GET",
            authority: self.authority,
            path: self.path,
            query: None,
            headers: vec![],
        };
        httpsig::sign_with_nonce(&key, &parts, self.created, self.nonce)
    }

    /// Sends the request with `Host: host` and the given signature headers; the whole answer.
    fn send_as(
        &self,
        server: &Server,
        host: &str,
        (input, signature): &(String, String),
    ) -> String {
        let request = format!(
            "GET {} HTTP/1.1\r\nhost: {host}\r\nsignature-input: {input}\r\nsignature: {signature}\r\nconnection: close\r\n\r\n",
            self.path
        );
        raw(server, request.as_bytes())
    }

    /// Signs and sends the request with the `Host` it was signed for.
    fn send(&self, server: &Server) -> String {
        self.send_as(server, self.authority, &self.headers())
    }
}

/// The body of an answer.
fn body(answer: &str) -> &str {
    answer.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

/// Asserts that `answer` is the one 401 of a signature not verified.
fn assert_not_verified(answer: &str, what: &str) {
    assert_eq!(status(answer), 401, "{what}: {answer}");
    let v: serde_json::Value = serde_json::from_str(body(answer)).expect("a JSON error");
    assert_eq!(v["error"]["code"], "unauthenticated", "{what}: {answer}");
    assert_eq!(
        v["error"]["message"],
        custody::words::says(custody::words::Lang::English, httpsig::NOT_VERIFIED, &[]),
        "{what}: {answer}"
    );
}

#[test]
fn a_read_signed_for_another_server_name_is_refused() {
    let f = Fixture::new();
    let server = Server::on_port_zero(&f.ledger);
    let key = f.key("gate-a");
    let read = |authority| SignedRead::new(&key, authority);
    // Signed for, and sent with, a name that is not this server's: a request captured on its way
    // to another server (a test instance, a mirror) does not open this one.
    assert_not_verified(&read("evil.example").send(&server), "Host evil.example");
    assert_not_verified(
        &read("evil.example:80").send(&server),
        "Host evil.example:80",
    );
    // The server's default names: its listen address, and localhost with its port.
    let port = addr(&server).rsplit_once(':').expect("a port").1.to_owned();
    for name in [
        addr(&server),
        format!("localhost:{port}"),
        format!("LocalHost:{port}"),
    ] {
        let answer = SignedRead::new(&key, &name).send(&server);
        assert_eq!(status(&answer), 200, "{name}: {answer}");
    }
    // The same name on another port is another server.
    let other = format!("localhost:{}", port.parse::<u16>().expect("a port") ^ 1);
    assert_not_verified(&read(other.as_str()).send(&server), "another port");
}

#[test]
fn a_public_name_admits_reads_signed_for_it_and_only_those() {
    let f = Fixture::new();
    let server = Server::start(
        &f.ledger,
        &[
            "--listen",
            "127.0.0.1:0",
            "--public-name",
            "Custody.Example:8443",
        ],
    );
    let key = f.key("gate-a");
    let read = |authority| SignedRead::new(&key, authority);
    // As a client behind a proxy addresses it: signed for that name and sent with it.
    let answer = read("custody.example:8443").send(&server);
    assert_eq!(status(&answer), 200, "{answer}");
    assert_eq!(body(&answer), "[]");
    // Given names replace the defaults: the loopback address no longer names this server.
    let listen = addr(&server);
    assert_not_verified(&read(listen.as_str()).send(&server), "the listen address");
    assert_not_verified(&read("custody.example").send(&server), "without the port");
    // A bad name is refused at start-up.
    let out = custody()
        .args([
            "serve",
            "--ledger",
            f.ledger_str(),
            "--public-name",
            "https://x/",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
}

#[test]
fn a_nonce_is_answered_once_and_only_after_the_server_started() {
    let f = Fixture::new();
    let before_start = now_s() - 1;
    let server = Server::on_port_zero(&f.ledger);
    let key = f.key("gate-a");
    let authority = addr(&server);
    let read = |created, nonce| SignedRead {
        created,
        nonce,
        ..SignedRead::new(&key, &authority)
    };
    // One signed request, sent twice: answered once.
    let once = read(now_s(), Some("bm9uY2Utb25lLXJlYWQtMDE"));
    let headers = once.headers();
    let first = once.send_as(&server, &authority, &headers);
    assert_eq!(status(&first), 200, "{first}");
    assert_not_verified(&once.send_as(&server, &authority, &headers), "the replay");
    // A new nonce is a new request.
    let again = read(now_s(), Some("bm9uY2UtdHdvLXJlYWQtMDI")).send(&server);
    assert_eq!(status(&again), 200, "{again}");
    // Signed before the server started, the server cannot know whether an earlier run saw the
    // nonce: refused, though the signature is still fresh.
    let early = read(before_start, Some("bm9uY2UtZWFybHktcmVhZC0z")).send(&server);
    assert_not_verified(&early, "signed before the server started");
    // Without a nonce the same request is accepted (and may be replayed within its window).
    let bare = read(before_start, None);
    let headers = bare.headers();
    for _ in 0..2 {
        let answer = bare.send_as(&server, &authority, &headers);
        assert_eq!(status(&answer), 200, "{answer}");
    }
    let metrics = raw(
        &server,
        b"GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    );
    assert!(
        metrics.contains("custody_http_read_nonces 2\n"),
        "{metrics}"
    );
}

#[test]
fn an_unknown_key_a_wrong_signature_and_a_retired_key_get_one_answer() {
    let f = Fixture::new();
    // Officer A's key is rotated out, replaced by the spare key.
    custody()
        .args(["rotate", "--ledger", f.ledger_str(), "--key"])
        .arg(f.key("admin"))
        .arg("--old-key")
        .arg(f.key("gate-a"))
        .args(["--officer", GATE_A, "--reason", "new phone"])
        .args([
            "--facility",
            FACILITY,
            "--public-key",
            &f.public_key("spare"),
        ])
        .assert()
        .success();
    let server = Server::on_port_zero(&f.ledger);
    let authority = addr(&server);
    let (outsider, gate_b, gate_a) = (f.key("outsider"), f.key("gate-b"), f.key("gate-a"));
    let read = |key| SignedRead {
        nonce: Some("c2FtZS1ub25jZS1ldmVyeS10aW1l"),
        ..SignedRead::new(key, &authority)
    };
    let unknown = read(outsider.as_path()).send(&server);
    // Officer B's key id, with a signature made for another path.
    let wrong = {
        let made = SignedRead {
            path: "/v1/pending",
            ..read(gate_b.as_path())
        };
        read(gate_b.as_path()).send_as(&server, &authority, &made.headers())
    };
    let retired = read(gate_a.as_path()).send(&server);
    for (what, answer) in [
        ("unknown", &unknown),
        ("wrong", &wrong),
        ("retired", &retired),
    ] {
        assert_not_verified(answer, what);
    }
    assert_eq!(body(&unknown), body(&wrong));
    assert_eq!(body(&unknown), body(&retired));
    // The current keys read.
    for key in [f.key("spare"), f.key("gate-b")] {
        let answer = SignedRead::new(&key, &authority).send(&server);
        assert_eq!(status(&answer), 200, "{answer}");
    }
}
