//! Photos beside the ledger, through the real `custody serve` on the demo ledger: a signed PUT
//! stores a JPEG under its digest (201, then 200), refuses a body that does not hash to the path's
//! digest (400), one over `PHOTO_BYTES_MAX` (413) and one that is not JPEG/PNG/WebP/PDF (415);
//! once a `contraband_found` names it, an officer who may read the item reads the same bytes
//! (with nosniff and a sandbox policy), an officer of another prison gets the 404 of a blob never
//! stored, and a blob damaged on disk answers 500 `corrupt`, never its bytes. Nothing of it
//! reaches `public/`.

mod common;

use common::*;
use custody::httpsig::{self, RequestParts};
use custody::{BlobDigest, Clock, SecretKey, SystemClock};
use serde_json::Value;
use std::path::Path;

const CIPINANG: &str = "198101012006041009";
const PHOTO_ITEM: &str = "BB-LPN-2025-0777";

/// A tiny valid JPEG: SOI, a JFIF APP0 segment, a comment naming `what`, EOI.
fn jpeg(what: &str) -> Vec<u8> {
    let mut b = vec![0xff, 0xd8];
    b.extend_from_slice(&[
        0xff, 0xe0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
    ]);
    let comment = what.as_bytes();
    let length = u16::try_from(comment.len() + 2).expect("short comment");
    b.extend_from_slice(&[0xff, 0xfe]);
    b.extend_from_slice(&length.to_be_bytes());
    b.extend_from_slice(comment);
    b.extend_from_slice(&[0xff, 0xd9]);
    b
}

/// A request to `path` signed with the demo key `who`: status, headers we check, body.
struct Answer {
    status: u16,
    content_type: String,
    nosniff: bool,
    csp: String,
    body: Vec<u8>,
}

fn signed(
    server: &Server,
    dir: &Path,
    who: &str,
    method: &str,
    path: &str,
    body: Option<&[u8]>,
) -> Answer {
    let key = SecretKey::read_file(&dir.join("demo-keys").join(format!("{who}.pem"))).expect("key");
    let parts = RequestParts {
        method,
        authority: server.url.trim_start_matches("http://"),
        path,
        query: None,
        headers: vec![],
    };
    let (input, signature) = httpsig::sign(&key, &parts, SystemClock.now().unix_ms() / 1000);
    let url = format!("{}{path}", server.url);
    let agent = agent();
    let result = match body {
        None => agent
            .get(&url)
            .header("signature-input", &input)
            .header("signature", &signature)
            .call(),
        Some(bytes) => agent
            .put(&url)
            .header("content-type", "application/octet-stream")
            .header("signature-input", &input)
            .header("signature", &signature)
            .send(bytes),
    };
    let mut response = result.expect("the server answers");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (content_type, nosniff, csp) = (
        header("content-type"),
        header("x-content-type-options") == "nosniff",
        header("content-security-policy"),
    );
    let body = response
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_vec()
        .expect("body");
    Answer {
        status: response.status().as_u16(),
        content_type,
        nosniff,
        csp,
        body,
    }
}

/// A signed PUT to `path` that declares `length` bytes and sends none: the server must refuse it
/// from the header alone (a client sending 8 MiB to be refused would see its pipe broken, so the
/// answer is read from a raw socket). Answers the response's text.
fn declared_too_large(server: &Server, dir: &Path, path: &str, length: usize) -> String {
    use std::io::{Read as _, Write as _};
    let key = SecretKey::read_file(&dir.join("demo-keys/gate-officer-a.pem")).expect("key");
    let host = server.url.trim_start_matches("http://");
    let parts = RequestParts {
        method: "PUT",
        authority: host,
        path,
        query: None,
        headers: vec![],
    };
    let (input, signature) = httpsig::sign(&key, &parts, SystemClock.now().unix_ms() / 1000);
    let mut stream = std::net::TcpStream::connect(host).expect("connects");
    write!(
        stream,
        "PUT {path} HTTP/1.1\r\nhost: {host}\r\nsignature-input: {input}\r\nsignature: {signature}\r\ncontent-length: {length}\r\nconnection: close\r\n\r\n"
    )
    .expect("sends the header");
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .expect("reads the answer");
    answer
}

fn code_of(answer: &Answer) -> String {
    let v: Value = serde_json::from_slice(&answer.body).expect("errors are JSON");
    v["error"]["code"].as_str().expect("a code").to_owned()
}

/// Records, through the server, a find at LPN-JAKARTA whose `photos` name `digest`.
fn record_find_with_photo(server: &Server, dir: &Path, digest: &str) {
    let statement = format!(
        r#"{{"type":"contraband_found","incident":"INS-LPN-2025-0091","item":"{PHOTO_ITEM}","description":{{"name":"1 telepon genggam","form":"device"}},"category":"phone","count":1,"concealment":"dalam kotak nasi","persons":[],"photos":["{digest}"],"signers":[{{"role":"finder","officer":"{GATE_A}"}},{{"role":"witness","officer":"{GATE_B}"}}],"facility":"LPN-JAKARTA","after":{{"{PHOTO_ITEM}":null}}}}"#
    );
    let file = dir.with_extension("find.json");
    std::fs::write(&file, statement).expect("writes");
    let keys = dir.join("demo-keys");
    let out = custody()
        .args(["record", "--server", &server.url, "--key"])
        .arg(keys.join("gate-officer-a.pem"))
        .arg("--key")
        .arg(keys.join("gate-officer-b.pem"))
        .arg(&file)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr_of(&out));
}

#[test]
fn a_photo_is_stored_once_and_read_only_by_those_who_may_read_its_item() {
    let (_tmp, dir) = demo_ledger();
    enroll_outsider(&dir, CIPINANG);
    let server = Server::on_port_zero(&dir);
    let gate = "gate-officer-a";
    let photo = jpeg("foto: telepon dalam kotak nasi");
    let digest = BlobDigest::of(&photo).to_string();
    let path = format!("/v1/blobs/{digest}");

    // Not named by any statement yet: stored, but no one may read it.
    let put = signed(&server, &dir, gate, "PUT", &path, Some(&photo));
    assert_eq!(put.status, 201, "{}", String::from_utf8_lossy(&put.body));
    let again = signed(&server, &dir, gate, "PUT", &path, Some(&photo));
    assert_eq!(again.status, 200);
    let stored: Value = serde_json::from_slice(&again.body).expect("JSON");
    assert_eq!(stored["media_type"], "image/jpeg");
    assert_eq!(stored["digest"], digest.as_str());
    assert_eq!(signed(&server, &dir, gate, "GET", &path, None).status, 404);

    refusals_name_their_rule(&server, &dir, &path);

    // Named by a find at LPN-JAKARTA: its facility's officer reads the same bytes.
    record_find_with_photo(&server, &dir, &digest);
    let read = signed(&server, &dir, gate, "GET", &path, None);
    assert_eq!(read.status, 200, "{}", String::from_utf8_lossy(&read.body));
    assert_eq!(read.body, photo);
    // The item lists it among its attachments, at the find's seq.
    let listed = signed(
        &server,
        &dir,
        gate,
        "GET",
        &format!("/v1/items/{PHOTO_ITEM}/attachments"),
        None,
    );
    assert_eq!(
        listed.status,
        200,
        "{}",
        String::from_utf8_lossy(&listed.body)
    );
    let listed: Value = serde_json::from_slice(&listed.body).expect("JSON");
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["digest"], digest.as_str());
    assert!(listed[0]["seq"].as_u64().is_some(), "{listed}");
    assert_eq!(read.content_type, "image/jpeg");
    assert!(read.nosniff);
    assert_eq!(read.csp, "sandbox");

    outsider_gets_the_404_of_a_blob_never_stored(&server, &dir, &digest);

    // Damaged on disk: 500 corrupt, never the bytes.
    let hex = digest.trim_start_matches("sha256:");
    let file = dir
        .join("private/blobs/sha256")
        .join(&hex[..2])
        .join(&hex[2..]);
    let mut damaged = photo.clone();
    let last = damaged.len() - 3;
    damaged[last] ^= 0x20;
    std::fs::write(&file, &damaged).expect("damages the blob");
    let corrupt = signed(&server, &dir, gate, "GET", &path, None);
    assert_eq!(
        (corrupt.status, code_of(&corrupt).as_str()),
        (500, "corrupt")
    );
    assert!(
        !corrupt.body.windows(4).any(|w| w == b"foto"),
        "no bytes of the photo"
    );
    assert!(server.terminate());

    public_holds_none_of(&dir, &photo);
}

/// A body of another digest (400 malformed, naming the rule and the field), one declared over
/// `PHOTO_BYTES_MAX` (413, refused from its header), a GIF (415), a digest that does not parse
/// (400).
fn refusals_name_their_rule(server: &Server, dir: &Path, path: &str) {
    let gate = "gate-officer-a";
    let other = signed(server, dir, gate, "PUT", path, Some(&jpeg("another photo")));
    assert_eq!((other.status, code_of(&other).as_str()), (400, "malformed"));
    let refusal = String::from_utf8_lossy(&other.body).into_owned();
    assert!(
        refusal.contains("SHA-256") && refusal.contains("\"field\":\"body\""),
        "{refusal}"
    );
    let mut big = jpeg("big");
    big.resize(custody::PHOTO_BYTES_MAX + 1, 0);
    let big_path = format!("/v1/blobs/{}", BlobDigest::of(&big));
    let too_large = declared_too_large(server, dir, &big_path, big.len());
    assert!(too_large.starts_with("HTTP/1.1 413"), "{too_large}");
    assert!(too_large.contains("PHOTO_BYTES_MAX"), "{too_large}");
    let gif = b"GIF89a\x01\x00\x01\x00".to_vec();
    let gif_path = format!("/v1/blobs/{}", BlobDigest::of(&gif));
    let gif_answer = signed(server, dir, gate, "PUT", &gif_path, Some(&gif));
    assert_eq!(gif_answer.status, 415);
    let bad = signed(server, dir, gate, "GET", "/v1/blobs/sha256:ABC", None);
    assert_eq!(bad.status, 400);
}

/// Another prison's officer gets the 404 of a blob never stored, byte for byte but the digest.
fn outsider_gets_the_404_of_a_blob_never_stored(server: &Server, dir: &Path, digest: &str) {
    let path = format!("/v1/blobs/{digest}");
    let outside = signed(server, dir, "cipinang", "GET", &path, None);
    let never_digest = BlobDigest::of(b"never stored").to_string();
    let never = signed(
        server,
        dir,
        "cipinang",
        "GET",
        &format!("/v1/blobs/{never_digest}"),
        None,
    );
    assert_eq!(outside.status, 404);
    assert_eq!(
        String::from_utf8_lossy(&outside.body).replace(digest, &never_digest),
        String::from_utf8_lossy(&never.body)
    );
}

/// Nothing of `photo` in what mirrors copy (`public/`).
fn public_holds_none_of(dir: &Path, photo: &[u8]) {
    let mut stack = vec![dir.join("public")];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("reads public/") {
            let p = entry.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).expect("reads");
                assert!(
                    !bytes.windows(photo.len()).any(|w| w == photo),
                    "{}",
                    p.display()
                );
            }
        }
    }
}
