//! The whole path the web workbench's tests stand on, proven once in real Chromium: `custody serve`
//! over HTTPS with a certificate from `custody tls init`, trusted only because the facility CA is
//! in the browser's NSS database (as on a phone with `ca.pem` installed). The page is a secure
//! context with WebCrypto Ed25519 (a signature made in the page verifies in Rust), service workers
//! and a 360 px viewport; two browsers run at once; going offline is possible; a server whose
//! certificate comes from another CA, or a browser without the CA, is refused.
//!
//! It must never pass by weakening the browser's checks (no certificate-error flags): a refusal
//! here is Chromium's own.

mod browser;
mod common;

use base64::Engine as _;
use browser::{Browser, VIEWPORT_HEIGHT_PX, VIEWPORT_WIDTH_PX};
use common::{Server, custody, stderr_of};
use serde_json::{Value, json};
use std::path::Path;

const TEST: &str = "browser_smoke";

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// `custody tls init` for `localhost` and `127.0.0.1` into `dir`: a fresh CA each time.
fn tls_init(dir: &Path) {
    let out = custody()
        .args(["tls", "init", "--out", s(dir), "--name", "localhost"])
        .args(["--ip", "127.0.0.1"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "tls init: {}", stderr_of(&out));
}

/// A founding-only demo ledger (the administrator and officers, no acts): quick to make.
fn ledger(dir: &Path) {
    let out = custody()
        .args(["demo", "--founding-only", "--ledger", s(dir)])
        .output()
        .expect("runs");
    assert!(out.status.success(), "demo: {}", stderr_of(&out));
}

fn serve_https(ledger: &Path, tls: &Path) -> Server {
    let server = Server::start(
        ledger,
        &[
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            s(&tls.join("server.pem")),
            "--tls-key",
            s(&tls.join("server-key.pem")),
        ],
    );
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    server
}

/// The `/healthz` answer the page shows, when it is one (`status` and `origin` present).
fn healthz_in(text: &str) -> Option<Value> {
    let v: Value = serde_json::from_str(text.trim()).ok()?;
    (v["status"] == "ok" && v["origin"].is_string()).then_some(v)
}

/// Loads `/healthz` and asserts that the document is the server's answer, over HTTPS.
fn loads_healthz(b: &Browser, base: &str) -> Value {
    let url = format!("{base}/healthz");
    b.goto(&url)
        .unwrap_or_else(|e| panic!("{url} did not load: {e}\n{}", b.driver_log()));
    assert_eq!(b.current_url().expect("url"), url, "no redirect");
    let text = b.body_text().expect("body text");
    healthz_in(&text).unwrap_or_else(|| panic!("not the server's /healthz answer: {text:?}"))
}

/// Declares `width=device-width` in the page (as the workbench's pages do; the JSON answer has no
/// `<head>` of its own to say it) and answers `[innerWidth, innerHeight]` once laid out again.
fn phone_viewport(b: &Browser) -> Value {
    b.execute(
        "const meta = document.createElement('meta');
         meta.name = 'viewport';
         meta.content = 'width=device-width, initial-scale=1';
         document.head.appendChild(meta);
         return new Promise((done) => requestAnimationFrame(
           () => done([window.innerWidth, window.innerHeight])));",
        &[],
    )
    .expect("script runs")
}

/// Generates an Ed25519 key in the page (WebCrypto, non-extractable private key), signs `message`
/// and hands back the raw public key and signature.
fn sign_in_page(b: &Browser, message: &str) -> (Vec<u8>, Vec<u8>) {
    let answer = b
        .execute(
            "return (async () => {
               const key = await crypto.subtle.generateKey({name: 'Ed25519'}, false,
                                                           ['sign', 'verify']);
               const data = new TextEncoder().encode(arguments[0]);
               const sig = await crypto.subtle.sign({name: 'Ed25519'}, key.privateKey, data);
               const pub = await crypto.subtle.exportKey('raw', key.publicKey);
               const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)));
               return {public_key: b64(pub), signature: b64(sig),
                       private_extractable: key.privateKey.extractable};
             })()",
            &[json!(message)],
        )
        .expect("WebCrypto Ed25519 generateKey/sign/exportKey run in the page");
    assert_eq!(answer["private_extractable"], false, "{answer}");
    let field = |k: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(answer[k].as_str().expect("base64 string"))
            .expect("base64")
    };
    (field("public_key"), field("signature"))
}

#[test]
fn chromium_trusts_the_facility_ca_and_the_page_is_a_secure_context() {
    if !browser::available(TEST) {
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let (station, tls) = (tmp.path().join("station"), tmp.path().join("tls"));
    ledger(&station);
    tls_init(&tls);
    let server = serve_https(&station, &tls);
    let ca = tls.join("ca.pem");

    let officer =
        Browser::start(&tmp.path().join("officer"), Some(&ca)).expect("officer's browser");
    let health = loads_healthz(&officer, &server.url);
    let witness =
        Browser::start(&tmp.path().join("witness"), Some(&ca)).expect("witness's browser");
    assert_eq!(
        loads_healthz(&witness, &server.url),
        health,
        "both browsers, at once, read the same server"
    );
    let url_by_name = server.url.replace("127.0.0.1", "localhost");
    loads_healthz(&witness, &url_by_name);
    drop(witness);

    let page = officer
        .execute(
            "return {secure: window.isSecureContext, protocol: location.protocol,
                     worker: ('serviceWorker' in navigator) && !!navigator.serviceWorker,
                     screen: screen.width, online: navigator.onLine}",
            &[],
        )
        .expect("script runs");
    assert_eq!(page["secure"], true, "{page}");
    assert_eq!(page["protocol"], "https:", "{page}");
    assert_eq!(page["worker"], true, "service workers are offered: {page}");
    assert_eq!(page["screen"], VIEWPORT_WIDTH_PX, "{page}");
    assert_eq!(page["online"], true, "{page}");
    assert_eq!(
        phone_viewport(&officer),
        json!([VIEWPORT_WIDTH_PX, VIEWPORT_HEIGHT_PX]),
        "a page that declares width=device-width is laid out at the phone's size"
    );
    officer.no_sideways_scroll().expect("fits the viewport");

    let message = "serah terima BB-0418 2025-08-04T09:30:00+07:00";
    let (public, signature) = sign_in_page(&officer, message);
    let public = custody::PublicKey::from_slice(&public).expect("a 32-byte Ed25519 key");
    let signature = custody::Signature::from_slice(&signature).expect("a 64-byte signature");
    public
        .verify_strict(message.as_bytes(), &signature)
        .expect("the page's signature verifies in Rust");
    assert!(
        public
            .verify_strict(b"serah terima BB-0419", &signature)
            .is_err(),
        "a signature over other bytes does not"
    );

    goes_offline_and_back(&officer);

    let shot = tmp.path().join("healthz.png");
    officer.screenshot(&shot).expect("screenshot");
    let png = std::fs::read(&shot).expect("written");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");

    refuses_another_ca(&officer, tmp.path());
    drop(officer);
    refuses_without_the_ca(&tmp.path().join("stranger"), &server.url);
    assert!(server.terminate(), "the server stops cleanly");
}

/// A fetch from the page fails while offline and succeeds again once back online.
fn goes_offline_and_back(b: &Browser) {
    let fetch = "return fetch('/healthz', {cache: 'no-store'})
                   .then(r => r.ok ? 'ok' : 'status ' + r.status, e => 'failed: ' + e)";
    assert_eq!(b.execute(fetch, &[]).expect("runs"), "ok", "online");
    b.set_offline(true).expect("offline");
    let answer = b.execute(fetch, &[]).expect("script runs");
    assert!(
        answer.as_str().is_some_and(|a| a.starts_with("failed")),
        "offline, yet the fetch answered {answer}"
    );
    assert_eq!(
        b.execute("return navigator.onLine", &[]).expect("runs"),
        false
    );
    b.set_offline(false).expect("online");
    assert_eq!(b.execute(fetch, &[]).expect("runs"), "ok", "online again");
}

/// What Chromium shows for a server it does not trust: its "connection is not private" page
/// (chromedriver reports the navigation itself as done, with the document at `chrome-error://`),
/// or, should a driver report it as a failed navigation, that error; never the server's answer.
fn assert_refused(b: &Browser, base: &str, why: &str) {
    let url = format!("{base}/healthz");
    let loaded = b.goto(&url);
    let text = b.body_text().unwrap_or_default();
    assert!(
        healthz_in(&text).is_none(),
        "{why}: the page shows the server's answer: {text:?}"
    );
    let said = match &loaded {
        Err(e) => e.message.clone(),
        Ok(()) => {
            let page = b
                .execute("return [location.href, window.isSecureContext]", &[])
                .expect("script runs");
            assert!(
                page[0]
                    .as_str()
                    .is_some_and(|h| h.starts_with("chrome-error:")),
                "{why}: not an error page: {page}"
            );
            text
        }
    };
    assert!(
        said.contains("ERR_CERT_AUTHORITY_INVALID"),
        "{why}: refused, but not for its certificate's issuer: {said}"
    );
}

/// A browser with an empty NSS database does not trust the facility's server: the trust above
/// came from the installed CA, not from anywhere else.
fn refuses_without_the_ca(profile: &Path, base: &str) {
    let stranger = Browser::start(profile, None).expect("browser without the CA");
    assert_refused(&stranger, base, "a browser without the CA");
}

/// The officer's browser (the facility CA installed) refuses a second server, on a ledger of its
/// own, whose certificate another CA made for the same names.
fn refuses_another_ca(officer: &Browser, root: &Path) {
    let (station, tls) = (root.join("other-station"), root.join("other-tls"));
    ledger(&station);
    tls_init(&tls);
    let server = serve_https(&station, &tls);
    assert_refused(officer, &server.url, "a certificate from another CA");
    assert!(server.terminate(), "the second server stops cleanly");
}
