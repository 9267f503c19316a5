//! Key files and OpenSSL (docs/FORMAT.md §3.1): custody writes officer and ledger keys as PKCS#8
//! v1 PEM, which Debian's OpenSSL 3 reads; keys written by `openssl genpkey` are read by custody
//! with the same public key; a DSSE envelope signed by `openssl pkeyutl` over the PAE of §5.2,
//! assembled by hand (§5.1, key id of §3.2), is recorded, and refused once one signature byte is
//! flipped; and PKCS#8 v2 files (what earlier versions of custody wrote, and RFC 8410's example)
//! are still read, unless their public key is not the seed's.
//!
//! Needs `openssl` on PATH (Debian: `apt-get install openssl`). Without it the tests that use it
//! print why and pass, unless the environment variable `CI` is set, when they fail: .ci/run
//! installs it.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use common::{Fixture, GATE_A, custody, note_by, run_json, stderr_of};
use sha2::{Digest as _, Sha256};
use std::ffi::OsStr;
use std::path::Path;

/// The DSSE payload type of custody statements (FORMAT.md §5.1).
const PAYLOAD_TYPE: &str = "application/vnd.custody.statement+json";
/// The 16 bytes before the seed in every PKCS#8 v1 Ed25519 key (RFC 8410 §7).
const V1_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// Whether `openssl` can run here. When it cannot: panics if `CI` is set, otherwise says so on
/// stderr and answers false (the calling test then returns, passing).
fn openssl_present(test: &str) -> bool {
    let why = match std::process::Command::new("openssl")
        .arg("version")
        .output()
    {
        Ok(out) if out.status.success() => return true,
        Ok(out) => format!(
            "`openssl version` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => format!("`openssl` is not on PATH ({e})"),
    };
    if std::env::var_os("CI").is_some() {
        panic!(
            "CI is set but {test} cannot run: {why}; .ci/run should have installed it \
             (apt package `openssl`)"
        );
    }
    eprintln!(
        "SKIPPED openssl_keys::{test}: {why}; install it with `apt-get install openssl` \
         (with CI set this is a failure)"
    );
    false
}

/// Runs openssl with `args`, asserts exit 0, returns stdout.
fn openssl<S: AsRef<OsStr>>(args: &[S]) -> Vec<u8> {
    let shown: Vec<_> = args.iter().map(|a| a.as_ref().to_string_lossy()).collect();
    let out = std::process::Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {shown:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The raw 32-byte public key of a private key file, as OpenSSL derives it: the last 32 bytes of
/// the SubjectPublicKeyInfo DER.
fn openssl_public_key(key: &Path) -> [u8; 32] {
    let spki = openssl(&[
        OsStr::new("pkey"),
        OsStr::new("-in"),
        key.as_os_str(),
        OsStr::new("-pubout"),
        OsStr::new("-outform"),
        OsStr::new("DER"),
    ]);
    assert_eq!(
        spki.len(),
        44,
        "an Ed25519 SubjectPublicKeyInfo is 44 bytes"
    );
    spki[12..].try_into().expect("32 bytes")
}

/// The DER inside a PEM file.
fn pem_der(path: &Path) -> Vec<u8> {
    let text = std::fs::read_to_string(path).expect("PEM file reads");
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    B64.decode(body).expect("PEM body is base64")
}

/// `der` as a `PRIVATE KEY` PEM, 64 characters a line.
fn private_key_pem(der: &[u8]) -> String {
    let b64 = B64.encode(der);
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    pem
}

/// A PKCS#8 v2 (RFC 5958 OneAsymmetricKey) Ed25519 key: version 1, the seed, then the public key
/// as `[1] IMPLICIT BIT STRING` with no unused bits — the layout earlier versions of custody wrote.
fn v2_der(seed: &[u8; 32], public: &[u8; 32]) -> Vec<u8> {
    let mut der = vec![
        0x30, 0x51, 0x02, 0x01, 0x01, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(seed);
    der.extend_from_slice(&[0x81, 0x21, 0x00]);
    der.extend_from_slice(public);
    assert_eq!(der.len(), 0x53);
    der
}

/// What `custody key public FILE` prints (base64 of the raw public key), asserting exit 0.
fn custody_public_key(key: &Path) -> String {
    let out = custody()
        .args(["key", "public"])
        .arg(key)
        .output()
        .expect("custody runs");
    assert!(
        out.status.success(),
        "custody key public {} failed: {}",
        key.display(),
        stderr_of(&out)
    );
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .trim()
        .to_owned()
}

/// FORMAT.md §3.2: the first 8 bytes of SHA-256 of the raw public key, lowercase hex.
fn key_id(public: &[u8; 32]) -> String {
    Sha256::digest(public)[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn custody_key_files_are_read_by_openssl_with_the_same_public_key() {
    if !openssl_present("custody_key_files_are_read_by_openssl_with_the_same_public_key") {
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let key = tmp.path().join("officer.pem");
    let made = run_json(&["key", "new", "--out", key.to_str().expect("UTF-8 path")]);
    let printed = made["public_key"].as_str().expect("public_key").to_owned();

    // The file is the v1 form: the fixed 16-byte prefix, then the seed, nothing else.
    let der = pem_der(&key);
    assert_eq!(der.len(), 48, "PKCS#8 v1 Ed25519 is 48 bytes: {der:02x?}");
    assert_eq!(der[..16], V1_PREFIX);

    // Debian's OpenSSL reads it…
    let text = openssl(&[
        OsStr::new("pkey"),
        OsStr::new("-in"),
        key.as_os_str(),
        OsStr::new("-noout"),
        OsStr::new("-text"),
    ]);
    let text = String::from_utf8_lossy(&text);
    assert!(text.contains("ED25519 Private-Key"), "{text}");
    // …and derives the public key custody printed when it made the key, and prints now.
    let public = openssl_public_key(&key);
    assert_eq!(B64.encode(public), printed);
    assert_eq!(custody_public_key(&key), printed);
    let shown = run_json(&["key", "show", key.to_str().expect("UTF-8 path")]);
    assert_eq!(shown["public_key"], printed.as_str());
    assert_eq!(shown["key_id"], key_id(&public).as_str());

    // The ledger key is written the same way.
    let f = Fixture::new();
    let ledger_key = f.ledger.join("private/ledger-key.pem");
    assert_eq!(pem_der(&ledger_key)[..16], V1_PREFIX);
    openssl(&[
        OsStr::new("pkey"),
        OsStr::new("-in"),
        ledger_key.as_os_str(),
        OsStr::new("-noout"),
    ]);
}

#[test]
fn openssl_generated_keys_are_read_by_custody_with_the_same_public_key() {
    if !openssl_present("openssl_generated_keys_are_read_by_custody_with_the_same_public_key") {
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let key = tmp.path().join("k.pem");
    openssl(&[
        OsStr::new("genpkey"),
        OsStr::new("-algorithm"),
        OsStr::new("ed25519"),
        OsStr::new("-out"),
        key.as_os_str(),
    ]);
    // What openssl writes is the same v1 layout custody writes.
    let der = pem_der(&key);
    assert_eq!(der.len(), 48, "{der:02x?}");
    assert_eq!(der[..16], V1_PREFIX);

    let public = openssl_public_key(&key);
    assert_eq!(custody_public_key(&key), B64.encode(public));
    let shown = run_json(&["key", "show", key.to_str().expect("UTF-8 path")]);
    assert_eq!(shown["public_key"], B64.encode(public).as_str());
    assert_eq!(shown["key_id"], key_id(&public).as_str());
}

#[test]
// The long form reads better here: one scenario read top to bottom (sign with openssl, assemble, submit, tamper); split, the order of its steps would be hidden.
#[allow(clippy::too_many_lines)]
fn an_envelope_signed_by_openssl_is_recorded_and_refused_with_a_flipped_byte() {
    if !openssl_present("an_envelope_signed_by_openssl_is_recorded_and_refused_with_a_flipped_byte")
    {
        return;
    }
    let f = Fixture::new();
    let key = f.key("gate-a");
    let public = openssl_public_key(&key);
    assert_eq!(B64.encode(public), f.public_key("gate-a"));

    // The statement, and its PAE exactly as FORMAT.md §5.2 spells it.
    let statement = note_by(
        GATE_A,
        r#","id":"01987a3c-5b2e-7c41-9a10-0e5d5a1c0f01","occurred_at":"2025-08-04T02:15:00Z""#,
    );
    let mut pae = format!(
        "DSSEv1 {} {PAYLOAD_TYPE} {} ",
        PAYLOAD_TYPE.len(),
        statement.len()
    )
    .into_bytes();
    pae.extend_from_slice(statement.as_bytes());
    assert!(pae.starts_with(b"DSSEv1 38 application/vnd.custody.statement+json "));
    let pae_file = f.write("pae.bin", &pae);

    // Signed by OpenSSL (pure Ed25519 over the raw message) with the key file custody wrote.
    let sig_file = f.tmp.path().join("sig.bin");
    openssl(&[
        OsStr::new("pkeyutl"),
        OsStr::new("-sign"),
        OsStr::new("-rawin"),
        OsStr::new("-inkey"),
        key.as_os_str(),
        OsStr::new("-in"),
        pae_file.as_os_str(),
        OsStr::new("-out"),
        sig_file.as_os_str(),
    ]);
    let sig = std::fs::read(&sig_file).expect("signature file");
    assert_eq!(sig.len(), 64);

    // The envelope of §5.1, by hand.
    let envelope = |sig: &[u8]| {
        serde_json::json!({
            "payloadType": PAYLOAD_TYPE,
            "payload": B64.encode(statement.as_bytes()),
            "signatures": [{"keyid": key_id(&public), "sig": B64.encode(sig)}],
        })
        .to_string()
    };
    let size = f.size();

    // One flipped signature byte: refused, nothing appended.
    let mut flipped = sig.clone();
    flipped[17] ^= 0x01;
    let bad = f.write("bad-envelope.json", envelope(&flipped).as_bytes());
    let out = custody()
        .args(["submit", "--ledger", f.ledger_str()])
        .arg(&bad)
        .output()
        .expect("custody runs");
    assert!(
        !out.status.success(),
        "a flipped signature byte was accepted"
    );
    assert!(
        stderr_of(&out).contains("does not verify"),
        "{}",
        stderr_of(&out)
    );
    f.assert_unchanged(size);

    // The envelope as signed: recorded as the next entry.
    let good = f.write("envelope.json", envelope(&sig).as_bytes());
    let receipt = run_json(&[
        "submit",
        "--ledger",
        f.ledger_str(),
        good.to_str().expect("UTF-8 path"),
    ]);
    assert_eq!(receipt["seq"], size);
    assert_eq!(f.size(), size + 1);
    custody()
        .args(["verify", "--ledger", f.ledger_str()])
        .assert()
        .success();
}

#[test]
fn pkcs8_v2_key_files_are_still_read_unless_their_public_key_is_not_their_own() {
    let tmp = tempfile::tempdir().expect("temp dir");

    // RFC 8410 §10.3's example: v2, with an attribute and the public key.
    let rfc = tmp.path().join("rfc8410-v2.pem");
    std::fs::write(
        &rfc,
        "-----BEGIN PRIVATE KEY-----\n\
         MHICAQEwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n\
         oB8wHQYKKoZIhvcNAQkJFDEPDA1DdXJkbGUgQ2hhaXJzgSEAGb9ECWmEzf6FQbrB\n\
         Z9w7lshQhqowtrbLDFw4rXAxZuE=\n\
         -----END PRIVATE KEY-----\n",
    )
    .expect("write");
    assert_eq!(
        custody_public_key(&rfc),
        "Gb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE="
    );

    // The layout earlier versions of custody wrote, for a key custody makes now.
    let fresh = tmp.path().join("fresh.pem");
    let made = run_json(&["key", "new", "--out", fresh.to_str().expect("UTF-8 path")]);
    let public_b64 = made["public_key"].as_str().expect("public_key");
    let public: [u8; 32] = B64
        .decode(public_b64)
        .expect("base64")
        .try_into()
        .expect("32 bytes");
    let seed: [u8; 32] = pem_der(&fresh)[16..].try_into().expect("a 32-byte seed");
    let v2 = tmp.path().join("v2.pem");
    std::fs::write(&v2, private_key_pem(&v2_der(&seed, &public))).expect("write");
    assert_eq!(custody_public_key(&v2), public_b64);
    let shown = run_json(&["key", "show", v2.to_str().expect("UTF-8 path")]);
    assert_eq!(shown["key_id"], key_id(&public).as_str());

    // A v2 file whose public key is another key's: refused, saying why.
    let other = tmp.path().join("other.pem");
    let other_b64 =
        run_json(&["key", "new", "--out", other.to_str().expect("UTF-8 path")])["public_key"]
            .as_str()
            .expect("public_key")
            .to_owned();
    let other_public: [u8; 32] = B64
        .decode(&other_b64)
        .expect("base64")
        .try_into()
        .expect("32 bytes");
    let forged = tmp.path().join("forged.pem");
    std::fs::write(&forged, private_key_pem(&v2_der(&seed, &other_public))).expect("write");
    let out = custody()
        .args(["key", "public"])
        .arg(&forged)
        .output()
        .expect("custody runs");
    assert!(!out.status.success(), "a mismatched v2 key was read");
    let why = stderr_of(&out);
    assert!(
        why.contains("is not the public key of its private key") && why.contains(&other_b64),
        "{why}"
    );
    assert!(
        out.stdout.is_empty(),
        "printed a public key for a refused file"
    );
}
