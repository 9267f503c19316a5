//! `custody tls init`, checked with stock tools rather than our own parser: openssl verifies the
//! chain and prints what the certificates say (name constraints, SANs, P-256, serverAuth, the
//! validity), refuses a leaf for a name outside the constraints, and `custody serve` with the
//! files is trusted by a client given only ca.pem.

mod common;

use common::{Server, custody, demo_ledger, required_tool, stderr_of};
use std::path::{Path, PathBuf};
use std::process::Command;

const INSTALL: &str = "apt-get install openssl";

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// `tls init --out DIR` with `args`; asserts success.
fn init(dir: &Path, args: &[&str]) {
    let out = custody()
        .args(["tls", "init", "--out", s(dir)])
        .args(args)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr_of(&out));
}

/// Runs openssl with `args` and returns (success, stdout + stderr).
fn openssl(openssl: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(openssl)
        .args(args)
        .output()
        .expect("openssl runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn text_of(tool: &Path, cert: &Path) -> String {
    let (ok, text) = openssl(tool, &["x509", "-noout", "-text", "-in", s(cert)]);
    assert!(ok, "{text}");
    text
}

/// Days between openssl's `notBefore=` and `notAfter=` dates ("Mar 10 00:00:00 2029 GMT").
fn validity_days(tool: &Path, cert: &Path) -> i64 {
    let (ok, text) = openssl(tool, &["x509", "-noout", "-dates", "-in", s(cert)]);
    assert!(ok, "{text}");
    let date = |key: &str| {
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .expect("a date line");
        let parts: Vec<&str> = line.split_whitespace().collect();
        let month = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ]
        .iter()
        .position(|m| *m == parts[0])
        .expect("a month")
            + 1;
        let day: i8 = parts[1].parse().expect("a day");
        let year: i16 = parts[3].parse().expect("a year");
        let month = i8::try_from(month).expect("month");
        jiff::civil::date(year, month, day)
    };
    let span = date("notBefore=").until(date("notAfter=")).expect("a span");
    i64::from(span.get_days())
}

#[test]
fn openssl_verifies_the_chain_and_reads_what_the_certificates_say() {
    let Some(tool) = required_tool("tls_init", &["openssl"], INSTALL) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("tls");
    init(
        &dir,
        &["--name", "gudang.lapas.local", "--ip", "192.168.10.5"],
    );
    let (ca, server) = (dir.join("ca.pem"), dir.join("server.pem"));
    let (ok, text) = openssl(&tool, &["verify", "-CAfile", s(&ca), s(&server)]);
    assert!(ok, "openssl verify: {text}");

    let ca_text = text_of(&tool, &ca);
    for wanted in [
        "Name Constraints",
        "DNS:gudang.lapas.local",
        "IP:192.168.10.5/255.255.255.255",
        "CA:TRUE",
        "pathlen:0",
        "Certificate Sign, CRL Sign",
        "CN = custody local CA gudang.lapas.local",
        "prime256v1",
    ] {
        assert!(
            ca_text.contains(wanted),
            "ca.pem lacks {wanted:?}:\n{ca_text}"
        );
    }
    let server_text = text_of(&tool, &server);
    for wanted in [
        "DNS:gudang.lapas.local",
        "IP Address:192.168.10.5",
        "prime256v1",
        "TLS Web Server Authentication",
        "CA:FALSE",
    ] {
        assert!(
            server_text.contains(wanted),
            "server.pem lacks {wanted:?}:\n{server_text}"
        );
    }
    assert!(!server_text.contains("localhost"), "{server_text}");
    let days = validity_days(&tool, &server);
    assert!((1..=825).contains(&days), "server valid {days} days");
    assert!(
        validity_days(&tool, &ca) >= 3650,
        "the CA outlives renewals"
    );
}

/// Signs a leaf for `name` with the generated CA key, using openssl alone; returns its path.
fn leaf_signed_by_the_ca(tool: &Path, dir: &Path, name: &str) -> PathBuf {
    let (key, csr, ext, leaf) = (
        dir.join("evil-key.pem"),
        dir.join("evil.csr"),
        dir.join("evil.ext"),
        dir.join("evil.pem"),
    );
    std::fs::write(&ext, format!("subjectAltName=DNS:{name}\n")).expect("write ext");
    let subj = format!("/CN={name}");
    let (ok, text) = openssl(
        tool,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            s(&key),
            "-subj",
            &subj,
            "-out",
            s(&csr),
        ],
    );
    assert!(ok, "openssl req: {text}");
    let (ok, text) = openssl(
        tool,
        &[
            "x509",
            "-req",
            "-in",
            s(&csr),
            "-CA",
            s(&dir.join("ca.pem")),
            "-CAkey",
            s(&dir.join("ca-key.pem")),
            "-CAcreateserial",
            "-days",
            "30",
            "-extfile",
            s(&ext),
            "-out",
            s(&leaf),
        ],
    );
    assert!(ok, "openssl x509 -req: {text}");
    leaf
}

#[test]
fn the_ca_cannot_vouch_for_a_name_outside_its_constraints() {
    let Some(tool) = required_tool("tls_init", &["openssl"], INSTALL) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("tls");
    init(&dir, &["--name", "localhost", "--ip", "127.0.0.1"]);
    let ca = dir.join("ca.pem");
    let good = leaf_signed_by_the_ca(&tool, &dir, "sub.localhost");
    let (ok, text) = openssl(&tool, &["verify", "-CAfile", s(&ca), s(&good)]);
    assert!(ok, "a name inside the constraints verifies: {text}");
    let evil = leaf_signed_by_the_ca(&tool, &dir, "evil.example");
    let (ok, text) = openssl(&tool, &["verify", "-CAfile", s(&ca), s(&evil)]);
    assert!(!ok, "openssl accepted evil.example: {text}");
    assert!(
        text.contains("name constraint") || text.contains("subtree"),
        "not refused for its name: {text}"
    );
}

#[test]
fn an_ip_only_ca_vouches_for_no_dns_name() {
    let Some(tool) = required_tool("tls_init", &["openssl"], INSTALL) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("tls");
    init(&dir, &["--ip", "10.0.0.7"]);
    let ca = dir.join("ca.pem");
    let (ok, text) = openssl(
        &tool,
        &["verify", "-CAfile", s(&ca), s(&dir.join("server.pem"))],
    );
    assert!(ok, "the IP-only server certificate verifies: {text}");
    let evil = leaf_signed_by_the_ca(&tool, &dir, "evil.example");
    let (ok, text) = openssl(&tool, &["verify", "-CAfile", s(&ca), s(&evil)]);
    assert!(!ok, "an IP-only CA vouched for a DNS name: {text}");
}

#[test]
fn serve_with_the_files_is_trusted_through_ca_pem_alone() {
    let (tmp, ledger) = demo_ledger();
    let dir = tmp.path().join("tls");
    init(&dir, &["--name", "localhost", "--ip", "127.0.0.1"]);
    let server = Server::start(
        &ledger,
        &[
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            s(&dir.join("server.pem")),
            "--tls-key",
            s(&dir.join("server-key.pem")),
        ],
    );
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    let key = ledger.join("demo-keys/investigator.pem");
    for url in [
        server.url.clone(),
        server.url.replace("127.0.0.1", "localhost"),
    ] {
        let out = custody()
            .args(["items", "--server", &url, "--key", s(&key)])
            .args(["--ca-cert", s(&dir.join("ca.pem"))])
            .output()
            .expect("runs");
        assert!(out.status.success(), "{url}: {}", stderr_of(&out));
        assert!(!out.stdout.is_empty());
    }
    let out = custody()
        .args(["items", "--server", &server.url, "--key", s(&key)])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(6),
        "without --ca-cert the local CA is not trusted: {}",
        stderr_of(&out)
    );
    assert!(
        stderr_of(&out).contains("not authenticated"),
        "{}",
        stderr_of(&out)
    );
    assert!(server.terminate());
}

#[test]
fn a_second_init_refuses_and_leaves_every_file_as_it_was() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("tls");
    init(&dir, &["--name", "localhost"]);
    let files = ["ca.pem", "ca-key.pem", "server.pem", "server-key.pem"];
    let before: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(dir.join(f)).expect("written"))
        .collect();
    for key in ["ca-key.pem", "server-key.pem"] {
        let mode = std::fs::metadata(dir.join(key))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{key}");
    }
    let out = custody()
        .args(["tls", "init", "--out", s(&dir), "--name", "localhost"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("ca.pem"), "{}", stderr_of(&out));
    for (f, old) in files.iter().zip(&before) {
        assert_eq!(
            &std::fs::read(dir.join(f)).expect("still there"),
            old,
            "{f}"
        );
    }
    let out = custody()
        .args(["tls", "init", "--out", s(&tmp.path().join("none"))])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "no --name and no --ip");
}

#[test]
fn json_names_the_files_and_their_fingerprints() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("tls");
    let v = common::run_json(&["tls", "init", "--out", s(&dir), "--ip", "127.0.0.1"]);
    for field in ["ca_cert", "ca_key", "server_cert", "server_key"] {
        let path = v[field].as_str().expect("a path");
        assert!(Path::new(path).is_file(), "{field}: {v}");
    }
    let fp = v["ca_sha256"].as_str().expect("fingerprint");
    assert_eq!(fp.len(), 32 * 3 - 1, "{fp}");
    assert_ne!(v["ca_sha256"], v["server_sha256"]);
}

#[test]
fn a_name_that_is_not_a_dns_name_is_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let too_long = format!("{}.example", "a".repeat(250));
    for bad in [
        "*.lapas.local",
        "-gudang.local",
        "gudang..local",
        "gudang local",
        &too_long,
    ] {
        let dir = tmp.path().join("tls");
        let out = custody()
            .args(["tls", "init", "--out", s(&dir), "--name", bad])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr_of(&out));
        assert!(!dir.exists(), "{bad}: the folder was made");
    }
    let out = custody()
        .args([
            "tls",
            "init",
            "--out",
            s(&tmp.path().join("x")),
            "--ip",
            "999.1.1.1",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
}
