//! RFC 9421 Appendix B.2.6 (Ed25519) against custody's HTTP Message Signatures code: the
//! signature base must match the RFC byte for byte, the RFC's signature must verify with the
//! RFC's key, and our signer must reproduce it.

use base64::Engine as _;
use custody::httpsig::{self, RequestParts};
use custody::{PublicKey, SecretKey};
use serde_json::Value;

fn vector() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/rfc9421/b26.json"
    );
    serde_json::from_slice(&std::fs::read(path).expect("vector file")).expect("JSON")
}

fn text<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().expect("string field")
}

#[test]
fn rfc9421_b26_signature_base_and_ed25519_signature() {
    let v = vector();
    let req = &v["request"];
    let headers: Vec<(&str, &str)> = req["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .map(|h| (h[0].as_str().expect("name"), h[1].as_str().expect("value")))
        .collect();
    let parts = RequestParts {
        method: text(req, "method"),
        authority: text(req, "authority"),
        path: text(req, "path"),
        query: Some(text(req, "query")),
        headers,
    };
    // custody reads the member labelled `custody`; the label is not part of the base.
    let relabel = |h: &str| h.replacen("sig-b26=", "custody=", 1);
    let input = httpsig::parse_signature_input(&relabel(text(&v, "signature_input")))
        .expect("the RFC's Signature-Input parses");
    assert_eq!(input.created, Some(1_618_884_473));
    assert_eq!(input.keyid.as_deref(), Some("test-key-ed25519"));
    let base = httpsig::signature_base(&parts, &input).expect("every component is present");
    assert_eq!(base, text(&v, "signature_base"));

    let signature = httpsig::parse_signature(&relabel(text(&v, "signature"))).expect("parses");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text(&v, "public_key_raw_base64url"))
        .expect("base64url");
    let public = PublicKey::from_slice(&raw).expect("a valid Ed25519 key");
    public
        .verify_strict(base.as_bytes(), &signature)
        .expect("the RFC's signature verifies over our base");

    let secret = SecretKey::from_pem(text(&v, "private_key_pem")).expect("the RFC's PKCS#8 key");
    assert_eq!(secret.public().to_bytes(), public.to_bytes());
    assert_eq!(
        secret.sign(base.as_bytes()).to_bytes(),
        signature.to_bytes(),
        "Ed25519 is deterministic: signing the base reproduces the RFC's signature"
    );
    // A changed component breaks it.
    let tampered = base.replace("/foo", "/bar");
    assert!(
        public
            .verify_strict(tampered.as_bytes(), &signature)
            .is_err()
    );
}
