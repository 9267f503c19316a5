//! The officers' workbench in real Chromium over HTTPS (the facility CA from `custody tls init`
//! trusted through the browser's NSS database, as on a phone with `ca.pem` installed), at 360 ×
//! 740, driven only through visible controls: taps, typing and file choosers — no statement JSON
//! is ever injected. Two tests:
//!
//! - every act's form has a labelled control for every field its schema names (and an option for
//!   every value of every enumeration), so a form cannot silently lose a field;
//! - the demo scenario on phones: a new officer makes a key in the page and asks to be enrolled;
//!   the administrator approves in their browser; the officer records the search, two finds,
//!   two seals, two weighings and one handover of both items, a second browser co-signing as
//!   witness (and the administrator as second witness of the handover); the police investigator
//!   receives both in one act while the server is stopped, and the outbox sends it once the
//!   server is back. `custody verify` then finds exactly those statements.
//!
//! Screenshots of each screen are saved under the test's target folder
//! (`target/tmp/workbench-screens/`). It must never weaken the browser's checks.

mod browser;
mod common;

use base64::Engine as _;
use browser::Browser;
use common::{Server, custody, poll_until, stderr_of};
use serde_json::Value;
use sha2::Digest as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a screen may take to show what a step waits for (a draft round trip, a signature).
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

const ADMIN: &str = "197905112005011002";
const WITNESS: &str = "199001152014022001";
const INVESTIGATOR: &str = "85071234";
const NEW_OFFICER: &str = "199203152015031004";
const ITEMS: [&str; 2] = ["BB-LPN-2025-0501", "BB-LPN-2025-0502"];

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn run_ok(args: &[&str]) -> String {
    let out = custody().args(args).output().expect("custody runs");
    assert!(
        out.status.success(),
        "custody {args:?}: {}",
        stderr_of(&out)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// A founding-only demo ledger, its TLS files, and the server on a fixed free port (so it can be
/// stopped and started again at the same address).
struct Station {
    dir: tempfile::TempDir,
    server: Option<Server>,
    port: u16,
}

impl Station {
    fn new() -> Station {
        let dir = tempfile::tempdir().expect("temp dir");
        run_ok(&[
            "demo",
            "--founding-only",
            "--ledger",
            s(&dir.path().join("ledger")),
        ]);
        let tls = dir.path().join("tls");
        run_ok(&[
            "tls",
            "init",
            "--out",
            s(&tls),
            "--name",
            "localhost",
            "--ip",
            "127.0.0.1",
        ]);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut station = Station {
            dir,
            server: None,
            port,
        };
        station.start();
        station
    }
    fn ledger(&self) -> PathBuf {
        self.dir.path().join("ledger")
    }
    fn key(&self, name: &str) -> PathBuf {
        self.ledger().join("demo-keys").join(name)
    }
    fn ca(&self) -> PathBuf {
        self.dir.path().join("tls/ca.pem")
    }
    fn base(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }
    fn start(&mut self) {
        let tls = self.dir.path().join("tls");
        let listen = format!("127.0.0.1:{}", self.port);
        let (cert, key) = (tls.join("server.pem"), tls.join("server-key.pem"));
        let server = Server::start(
            &self.ledger(),
            &[
                "--listen",
                &listen,
                "--tls-cert",
                s(&cert),
                "--tls-key",
                s(&key),
            ],
        );
        self.server = Some(server);
    }
    fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            assert!(server.terminate(), "the server stops cleanly");
        }
    }
}

/// One phone: a browser with the facility CA, and where its screenshots go.
struct Phone {
    b: Browser,
    name: &'static str,
    shots: PathBuf,
    /// Where this phone's browser saves downloads.
    downloads: PathBuf,
}

impl Phone {
    fn new(station: &Station, name: &'static str) -> Phone {
        let profile = station.dir.path().join(format!("profile-{name}"));
        let b = Browser::start(&profile, Some(&station.ca())).expect("Chromium starts");
        let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("workbench-screens");
        std::fs::create_dir_all(&shots).expect("screens folder");
        let downloads = browser::downloads(&profile);
        Phone {
            b,
            name,
            shots,
            downloads,
        }
    }
    /// The text of the file this phone's browser saved whose name starts with `prefix` and ends
    /// with `suffix` (waiting for the download to finish).
    fn downloaded(&self, prefix: &str, suffix: &str) -> String {
        let mut text = String::new();
        poll_until(STEP_TIMEOUT, &format!("a download {prefix}*"), || {
            let found = std::fs::read_dir(&self.downloads)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .find(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(prefix) && n.ends_with(suffix))
                });
            if let Some(path) = found {
                text = std::fs::read_to_string(path).unwrap_or_default();
            }
            !text.is_empty()
        });
        text
    }
    fn shot(&self, step: &str) {
        let path = self.shots.join(format!("{step}-{}.png", self.name));
        self.b.screenshot(&path).expect("screenshot");
        self.b
            .no_sideways_scroll()
            .unwrap_or_else(|e| panic!("{step} on {}: {e}", self.name));
    }
    fn wait(&self, css: &str) -> browser::Element<'_> {
        self.b.wait_for(css, STEP_TIMEOUT).unwrap_or_else(|e| {
            let text = self.b.body_text().unwrap_or_default();
            panic!(
                "{}: {e}\nfields refused: {}\npage: {text}",
                self.name,
                self.refusals()
            )
        })
    }
    /// The fields the page marked, with what it said of each: why a step did not go on.
    fn refusals(&self) -> Value {
        self.b
            .execute(
                "return [...document.querySelectorAll('.invalid')].map((e) =>
                   [e.getAttribute('data-field'), (e.querySelector('.error') || e).textContent])",
                &[],
            )
            .unwrap_or(Value::Null)
    }
    fn wait_text(&self, css: &str, text: &str) {
        self.b
            .wait_for_text(css, text, STEP_TIMEOUT)
            .unwrap_or_else(|e| {
                let page = self.b.body_text().unwrap_or_default();
                panic!("{}: {e}\npage: {page}", self.name)
            });
    }
    fn tap(&self, css: &str) {
        self.wait(css).click().expect("tap");
    }
    /// Taps the button whose text is `label` (the page's own words).
    fn tap_button(&self, label: &str) {
        let found = self
            .b
            .poll_find_button(label, STEP_TIMEOUT)
            .unwrap_or_else(|| {
                panic!(
                    "{}: no button {label:?}: {}",
                    self.name,
                    self.b.body_text().unwrap_or_default()
                )
            });
        found.click().expect("tap");
    }
    /// Types into the text control of the field at `path` (`data-field`).
    fn type_in(&self, path: &str, text: &str) {
        let css = format!("[data-field=\"{path}\"] input, [data-field=\"{path}\"] textarea");
        self.wait(&css).send_keys(text).expect("typing");
    }
    /// Chooses `value` in the picker of the field at `path`.
    fn choose(&self, path: &str, value: &str) {
        self.tap(&format!(
            "[data-field=\"{path}\"] option[value=\"{value}\"]"
        ));
    }
    /// Opens the screen at `hash` and waits until it is shown (the page numbers each rendering
    /// of a screen in `#main[data-ready]`), so no step acts on the screen it replaces.
    fn go(&self, hash: &str) {
        let target = format!("{}{hash}", self.base());
        if hash != "/#/" && self.b.current_url().is_ok_and(|u| u == target) {
            // The same address again is no navigation: start from home for a fresh screen.
            self.go("/#/");
        }
        let before = self.rendering();
        self.b
            .goto(&format!("{}{hash}", self.base()))
            .expect("navigates");
        let deadline = std::time::Instant::now() + STEP_TIMEOUT;
        while self.rendering() == before || self.rendering().is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "{}: {hash} was never shown",
                self.name
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    fn rendering(&self) -> String {
        let script = "return document.getElementById('main')?.dataset.ready || ''";
        let v = self.b.execute(script, &[]);
        v.ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
    fn base(&self) -> String {
        let url = self.b.current_url().expect("url");
        url.split("/#")
            .next()
            .unwrap_or(&url)
            .trim_end_matches('/')
            .to_owned()
    }
    /// Signs in with a key file for this session (a shared terminal), as an officer would.
    fn sign_in_with_file(&self, base: &str, officer: &str, key: &Path) {
        self.b
            .goto(&format!("{base}/"))
            .expect("opens the workbench");
        self.tap("details summary");
        self.wait("#import-officer")
            .send_keys(officer)
            .expect("typing");
        self.wait("#import-file")
            .send_keys(s(key))
            .expect("chooses the file");
        self.tap_button("Masuk");
        self.wait_text("#main h1", officer);
    }
}

/// The extension the phone helper needs: the first visible button whose text is `label`.
trait FindButton {
    fn poll_find_button(&self, label: &str, timeout: Duration) -> Option<browser::Element<'_>>;
}

impl FindButton for Browser {
    fn poll_find_button(&self, label: &str, timeout: Duration) -> Option<browser::Element<'_>> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            for e in self.find_all("button").unwrap_or_default() {
                if e.text().is_ok_and(|t| t.trim() == label) && e.is_displayed().unwrap_or(false) {
                    return Some(e);
                }
            }
            if std::time::Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

// ---- the forms against the schemas ----

/// The paths (`data-field`) a form must have for `node` at `path`, with the enumerated values each
/// must offer; the walk follows the page's rules: objects by field, lists by their first element
/// (`path/0/…`), a person by kind, with the register's personal fields for a subject.
fn expected(common: &Value, node: &Value, path: &str, out: &mut Vec<(String, Vec<String>)>) {
    let node = resolved(common, node);
    let values = |n: &Value| -> Vec<String> {
        n["enum"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    if let Some(alternatives) = node["oneOf"].as_array() {
        let mut kinds = Vec::new();
        for alt in alternatives {
            let alt = resolved(common, alt);
            let flat = alt["oneOf"]
                .as_array()
                .cloned()
                .unwrap_or_else(|| vec![alt.clone()]);
            for a in flat {
                let a = resolved(common, &a);
                kinds.extend(a["properties"]["kind"]["const"].as_str().map(str::to_owned));
                for (name, field) in a["properties"].as_object().into_iter().flatten() {
                    if !["kind", "subject", "commitment"].contains(&name.as_str()) {
                        expected(common, field, &format!("{path}/{name}"), out);
                    }
                }
            }
        }
        out.push((path.to_owned(), kinds));
        out.push((format!("{path}/kind"), vec![]));
        return;
    }
    match node["type"].as_str() {
        Some("object") if node["properties"].is_object() => {
            out.push((path.to_owned(), vec![]));
            for (name, field) in node["properties"].as_object().into_iter().flatten() {
                expected(common, field, &format!("{path}/{name}"), out);
            }
        }
        Some("array") => {
            let items = resolved(common, &node["items"]);
            out.push((path.to_owned(), values(&items)));
            let scalar_list = items["enum"].is_array() || items["type"] == "string";
            if !scalar_list && (items["type"] == "object" || items["oneOf"].is_array()) {
                expected(common, &node["items"], &format!("{path}/0"), out);
            }
        }
        _ => out.push((path.to_owned(), values(&node))),
    }
}

fn resolved(common: &Value, node: &Value) -> Value {
    let mut n = node.clone();
    while let Some(r) = n["$ref"].as_str().map(str::to_owned) {
        let Some(name) = r.split("#/$defs/").nth(1) else {
            break;
        };
        let mut merged = common["$defs"][name].clone();
        for (k, v) in n.as_object().into_iter().flatten() {
            if k != "$ref" {
                merged[k] = v.clone();
            }
        }
        n = merged;
    }
    n
}

/// A person's personal fields appear in the form of a person named through the register; the
/// schema names them only in the forms refused since rules version 4, so they are found there.
const SYSTEM_FIELDS: [&str; 7] = [
    "type",
    "id",
    "occurred_at",
    "facility",
    "signers",
    "after",
    "attests",
];

#[test]
fn every_act_has_a_labelled_control_for_each_field_and_value() {
    if !browser::available("every_act_has_a_labelled_control_for_each_field_and_value") {
        return;
    }
    let station = Station::new();
    let phone = Phone::new(&station, "admin");
    phone.sign_in_with_file(&station.base(), ADMIN, &station.key("admin.pem"));
    let common: Value = serde_json::from_str(include_str!("../schemas/common.json")).expect("json");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
    let mut checked = 0;
    for t in custody::StatementType::ALL {
        if t.as_str() == "ledger_genesis" {
            continue; // written by `custody init`, never by an officer
        }
        let schema: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("{}.json", t.as_str()))).expect("schema"),
        )
        .expect("json");
        let mut want = Vec::new();
        for (name, node) in schema["properties"].as_object().into_iter().flatten() {
            if !SYSTEM_FIELDS.contains(&name.as_str()) {
                expected(&common, node, name, &mut want);
            }
        }
        phone.go(&format!("/#/record/{}", t.as_str()));
        phone.wait(&format!("form#act[data-type=\"{}\"]", t.as_str()));
        // Lists of objects show their first element only after + Tambah.
        for add in phone
            .b
            .find_all("fieldset.list > button.secondary")
            .expect("buttons")
        {
            add.click().expect("tap");
        }
        let got = phone.b.execute(FORM_SCAN, &[]).expect("the form is read");
        for (path, values) in &want {
            let field = &got[path.as_str()];
            assert!(
                field.is_object(),
                "{}: no control for {path}; the form has {got}",
                t.as_str()
            );
            assert_eq!(
                field["labelled"],
                true,
                "{}: {path} has no label",
                t.as_str()
            );
            for v in values {
                let offered = field["values"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == v));
                assert!(
                    offered,
                    "{}: {path} does not offer {v:?}: {field}",
                    t.as_str()
                );
            }
            checked += 1;
        }
        phone
            .b
            .no_sideways_scroll()
            .unwrap_or_else(|e| panic!("{}: {e}", t.as_str()));
    }
    assert!(checked > 150, "only {checked} fields were checked");
}

/// Per `data-field`: whether a label names it (a `label for` a control inside, or the fieldset's
/// legend) with a word from the catalogue (a missing word shows as ⟦key⟧, U+27E6) and every
/// option or checkbox value offered inside it.
const FORM_SCAN: &str = r#"
const out = {};
for (const box of document.querySelectorAll('form#act [data-field]')) {
  const path = box.getAttribute('data-field');
  const controls = [...box.querySelectorAll('input, select, textarea')];
  const named = (e) => !!e && e.textContent.trim() !== '' && !e.textContent.includes('\u27e6');
  const labelled = box.matches('fieldset') ? named(box.querySelector(':scope > legend'))
    : controls.some((c) => c.id && named(box.querySelector(`label[for="${c.id}"]`)));
  const values = [...box.querySelectorAll('option, input[type=checkbox]')].map((o) => o.value).filter(Boolean);
  const known = out[path];
  out[path] = { labelled: labelled || (known && known.labelled) || false, values: [...(known ? known.values : []), ...values] };
}
return out;
"#;

// ---- the demo scenario on phones ----

/// The new officer makes a key in the page, asks to be enrolled, and the administrator approves.
fn enroll_in_the_page(officer: &Phone, admin: &Phone, base: &str) {
    officer
        .b
        .goto(&format!("{base}/"))
        .expect("opens the workbench");
    officer.shot("01-no-key");
    officer.tap_button("Buat kunci di perangkat ini");
    officer.type_in("officer/id", NEW_OFFICER);
    officer.type_in("officer/name", "Sri Wahyuni");
    officer.type_in("officer/rank", "Pengatur (II/c)");
    officer.choose("officer/agency", "imipas");
    officer.type_in("officer/unit", "P2U Lapas Narkotika Jakarta");
    officer.tap("[data-field=\"officer/roles\"] input[value=\"gate_officer\"]");
    officer.type_in("facility", "LPN-JAKARTA");
    officer.shot("02-enrollment-request");
    officer.tap_button("Kirim permintaan");
    let code = officer.wait("#enroll-code").text().expect("code");
    officer.shot("03-enrollment-code");
    admin.go("/#/requests");
    admin.wait_text("#main", &code);
    admin.shot("04-requests");
    admin.tap(&format!("[data-code=\"{code}\"] button.primary"));
    admin.wait_text("#flash", "Tercatat");
    officer.b.goto(&format!("{base}/#/")).expect("reload");
    officer.wait_text("#main h1", NEW_OFFICER);
    officer.shot("05-home");
}

/// The officer fills a form (via `fill`), signs; a witness opens the draft on their phone, signs,
/// and records it. Answers the draft link.
fn act_with_witnesses(
    officer: &Phone,
    witnesses: &[&Phone],
    hash: &str,
    step: &str,
    fill: impl Fn(&Phone),
) {
    officer.go(hash);
    officer.wait("form#act");
    fill(officer);
    officer.shot(&format!("{step}-form"));
    officer.tap_button("Tanda tangani dan kirim");
    officer.wait("section.draft");
    officer.shot(&format!("{step}-draft"));
    let link = officer.b.current_url().expect("url");
    for (i, w) in witnesses.iter().enumerate() {
        w.b.goto(&link).expect("opens the draft link");
        w.wait("section.draft");
        w.shot(&format!("{step}-witness"));
        w.tap_button("Tanda tangani");
        if i + 1 == witnesses.len() {
            w.tap_button("Catat ke buku");
            w.wait_text("#result", "Tercatat di buku");
        } else {
            w.wait_text("#main", "Sudah menandatangani");
        }
    }
}

/// The officer makes the seal's draft; before the witness signs, a note on the item is recorded,
/// so the draft's `after` is no longer the item's head: the draft says who must sign again, the
/// officer makes it again (new id, current head, signed by them), and the witness signs that.
fn a_stale_draft_is_made_again(
    officer: &Phone,
    witness: &Phone,
    hash: &str,
    fill: impl Fn(&Phone),
) {
    officer.go(hash);
    officer.wait("form#act");
    fill(officer);
    officer.tap_button("Tanda tangani dan kirim");
    officer.wait("section.draft");
    let stale_link = officer.b.current_url().expect("url");
    officer.go(&format!("/#/record/note_added?item={}", ITEMS[0]));
    officer.type_in("text", "Label barang bukti dicetak ulang");
    officer.tap_button("Tanda tangani dan kirim");
    officer.wait_text("#result", "Tercatat di buku");
    officer.b.goto(&stale_link).expect("back to the draft");
    officer.wait_text(".flash.warn", "Harus menandatangani lagi");
    officer.shot("08-seal-stale");
    officer.tap_button("Buat ulang draf ini");
    let deadline = std::time::Instant::now() + STEP_TIMEOUT;
    while officer.b.current_url().expect("url") == stale_link {
        assert!(
            std::time::Instant::now() < deadline,
            "the draft was never made again"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let link = officer.b.current_url().expect("url");
    witness.b.goto(&link).expect("opens the new draft");
    witness.wait("section.draft");
    witness.tap_button("Tanda tangani");
    witness.tap_button("Catat ke buku");
    witness.wait_text("#result", "Tercatat di buku");
}

fn pick_signer(p: &Phone, role: &str, n: usize, officer: &str) {
    let id = format!("signer-{role}-{n}");
    if p.b.find(&format!("#{id}")).is_err() {
        p.tap_button(&format!("+ {}", role_label(role)));
    }
    p.tap(&format!("#{id} option[value=\"{officer}\"]"));
}

fn role_label(role: &str) -> &'static str {
    match role {
        "witness" => "saksi",
        _ => "?",
    }
}

fn find_item(p: &Phone, n: usize) {
    p.type_in("item", ITEMS[n]);
    p.type_in(
        "description/name",
        if n == 0 {
            "12 sachet plastik kristal bening"
        } else {
            "1 bungkus daun kering"
        },
    );
    p.choose("description/form", if n == 0 { "crystal" } else { "plant" });
    p.choose("category", if n == 0 { "narcotic_i" } else { "narcotic" });
    p.type_in("count", if n == 0 { "12" } else { "1" });
    p.type_in("concealment", "di bawah nasi dalam kotak makan");
    pick_signer(p, "witness", 0, WITNESS);
}

#[test]
fn the_demo_scenario_on_phones_over_https() {
    if !browser::available("the_demo_scenario_on_phones_over_https") {
        return;
    }
    let mut station = Station::new();
    let base = station.base();
    let officer = Phone::new(&station, "officer");
    let witness = Phone::new(&station, "witness");
    let admin = Phone::new(&station, "admin");
    admin.sign_in_with_file(&base, ADMIN, &station.key("admin.pem"));
    witness.sign_in_with_file(&base, WITNESS, &station.key("gate-officer-b.pem"));
    enroll_in_the_page(&officer, &admin, &base);
    let photo = station.dir.path().join("photo.png");
    search_and_find(&officer, &witness, &photo);
    // Both finds started the 72-hour clock for handing them to the police.
    officer.go("/#/deadlines");
    officer.wait_text("#deadlines", ITEMS[1]);
    officer.wait_text(
        "#deadlines",
        "Pasal 14 ayat (4) Peraturan Pemerintah Nomor 40 Tahun 2013",
    );
    officer.shot("09-deadlines");
    hand_both_over(&officer, &witness, &admin);
    let police = Phone::new(&station, "police");
    receive_while_the_server_is_down(&mut station, &police, &officer);
    station.stop();
    drop((officer, witness, admin, police));
    check_the_ledger(&station);
}

/// The investigator's searches: by incident (and on to the incident's page), by one label, by a
/// date range that holds nothing, and what one officer holds.
fn investigator_searches(police: &Phone) {
    police.go("/#/search");
    police
        .wait("#search-q")
        .send_keys("INS-LPN-2025-0200\n")
        .expect("types");
    police.wait_text("#search-results", ITEMS[0]);
    police.wait_text("#search-results", ITEMS[1]);
    police.shot("15b-search");
    police.wait_text("#search-shortcuts", "Kejadian INS-LPN-2025-0200");
    police.tap("#search-shortcuts a");
    police.wait_text("#incident-items", ITEMS[1]);
    police.wait_text("#incident-events", "penggeledahan");
    police.wait("#incident-findings");
    police.shot("15c-incident");
    // The prosecutor's file: an item's evidence bundle, saved from the incident's page.
    police.tap(&format!(
        "#incident-bundles button[data-item=\"{}\"]",
        ITEMS[0]
    ));
    let bundle: Value = serde_json::from_str(&police.downloaded(ITEMS[0], ".bundle.json"))
        .expect("the bundle is JSON");
    assert_eq!(bundle["format"], "custody-bundle/v1");
    assert_eq!(bundle["item"], ITEMS[0]);
    // …and the whole case in one bundle: every item of the incident.
    police.tap("#case-bundle");
    let case: Value = serde_json::from_str(&police.downloaded("INS-LPN-2025-0200", ".bundle.json"))
        .expect("the case bundle is JSON");
    assert_eq!(case["incident"], "INS-LPN-2025-0200");
    for item in ITEMS {
        assert!(
            case["items"]
                .as_array()
                .expect("items")
                .contains(&Value::from(item)),
            "{item} in the case bundle"
        );
    }
    police.go(&format!("/#/search?q={}", ITEMS[0]));
    police.wait_text("#search-results", ITEMS[0]);
    let results = police.wait("#search-results").text().expect("text");
    assert!(
        !results.contains(ITEMS[1]),
        "one label finds one item: {results}"
    );
    police.go("/#/search?from=2000-01-01&to=2000-01-31");
    police.wait("#search-none");
    police.go(&format!("/#/holdings/officer/{INVESTIGATOR}"));
    police.wait_text("#holder-items", ITEMS[0]);
    police.wait_text("#holder-items", ITEMS[1]);
}

/// The holdings saved from the page as a spreadsheet: a header, then one row per item held.
fn holdings_as_csv(police: &Phone) {
    police.tap_button("Unduh CSV (untuk lembar kerja)");
    let csv = police.downloaded("barang-dikuasai-", ".csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "a header and two items: {csv}");
    assert!(lines[0].split(',').any(|c| c == "id"), "{csv}");
    for item in ITEMS {
        assert!(
            lines[1..].iter().any(|l| l.contains(item)),
            "{item} in {csv}"
        );
    }
}

/// The search at the gate, then per item: the find, the seal and the weighing, each co-signed.
fn search_and_find(officer: &Phone, witness: &Phone, photo: &Path) {
    act_with_witnesses(
        officer,
        &[witness],
        "/#/record/search_conducted",
        "06-search",
        |p| {
            p.type_in("incident", "INS-LPN-2025-0200");
            p.choose("kind", "gate");
            p.choose("subject/kind", "subject");
            p.choose("subject/category", "visitor");
            p.type_in("subject/name", "Siti Aminah");
            p.type_in("subject/nik", "3174055708900003");
            p.type_in("location", "Pintu utama P2U");
            p.choose("body_search", "false");
            p.choose("outcome", "contraband_found");
            pick_signer(p, "witness", 0, WITNESS);
        },
    );
    for (n, item) in ITEMS.iter().enumerate() {
        let hash = "/#/record/contraband_found?incident=INS-LPN-2025-0200";
        act_with_witnesses(officer, &[witness], hash, &format!("07-find-{n}"), |p| {
            find_item(p, n);
            if n == 0 {
                // A photo from the phone (here: a picture the phone took of its own screen).
                p.b.screenshot(photo).expect("a picture");
                p.wait("[data-field=\"photos\"] input")
                    .send_keys(s(photo))
                    .expect("chooses");
            }
        });
        if n == 1 {
            a_reused_seal_is_refused_at_its_field(officer);
        }
        let seal = format!("SEG-2025-00050{}", n + 1);
        let hash = format!("/#/record/item_sealed?item={item}");
        let fill = |p: &Phone| {
            p.type_in("seals_applied/0", &seal);
            p.type_in("packaging", "kantong barang bukti transparan");
            pick_signer(p, "witness", 0, WITNESS);
        };
        if n == 0 {
            a_stale_draft_is_made_again(officer, witness, &hash, fill);
        } else {
            act_with_witnesses(officer, &[witness], &hash, &format!("08-seal-{n}"), fill);
        }
        let hash = format!("/#/record/weighed?item={item}");
        act_with_witnesses(officer, &[witness], &hash, &format!("09-weigh-{n}"), |p| {
            p.type_in("gross_mass_mg", if n == 0 { "12,84" } else { "3,5" });
            p.type_in("net_mass_mg", if n == 0 { "10,79" } else { "2,9" });
            p.type_in("balance_id", "TIMB-P2U-01");
            p.type_in("readability_mg", "1");
            p.type_in("calibration_ref", "KAL-2025-07");
            p.choose("seals_intact", "true");
            pick_signer(p, "witness", 0, WITNESS);
        });
    }
}

/// A seal number already used on the first item, typed for the second: the ledger's rule (seals
/// are single-use) answers when the draft is made, and the page shows it at the seal's field.
fn a_reused_seal_is_refused_at_its_field(officer: &Phone) {
    officer.go(&format!("/#/record/item_sealed?item={}", ITEMS[1]));
    officer.wait("form#act");
    officer.type_in("seals_applied/0", "SEG-2025-000501");
    officer.type_in("packaging", "kantong barang bukti transparan");
    pick_signer(officer, "witness", 0, WITNESS);
    officer.tap_button("Tanda tangani dan kirim");
    let field = officer.wait(".invalid[data-field^=\"seals_applied\"] > .error");
    let said = field.text().expect("text");
    assert!(
        said.contains("SEG-2025-000501"),
        "the refusal names the seal: {said}"
    );
    // In the page's language: the rule's Indonesian sentence from the catalogue, not the English.
    let english = custody::words::text(custody::words::Lang::English, "err.rule.seal_used");
    assert!(english.contains("a seal number is used once"), "{english}");
    assert!(
        said.contains("nomor segel hanya dipakai sekali")
            && !said.contains("a seal number is used once"),
        "the refusal is said in Indonesian: {said}"
    );
    officer.shot("08-seal-refused");
}

/// Both items to the police in one act: two statements, signed once by each signer.
fn hand_both_over(officer: &Phone, witness: &Phone, admin: &Phone) {
    let hash = format!("/#/record/custody_released?item={}", ITEMS[0]);
    act_with_witnesses(officer, &[witness, admin], &hash, "10-handover", |p| {
        p.type_in("to_officer", INVESTIGATOR);
        p.type_in("to_unit", "Satresnarkoba Polres Jakarta Timur");
        p.type_in("purpose", "penyidikan");
        p.choose("seals_intact", "true"); // the seals are the item's own, filled in by the page
        p.tap_button("+ Nomor label barang bukti");
        p.wait("#extra-item-0").send_keys(ITEMS[1]).expect("typing");
        pick_signer(p, "witness", 0, WITNESS);
        pick_signer(p, "witness", 1, ADMIN);
    });
}

/// The first item is opened from a photo of its label: the item page shows the label (Code 128
/// and QR from the server), the phone takes a picture of its screen, and the scan box reads the
/// picture (ZXing here, as in any browser without BarcodeDetector) and opens the item.
fn scan_a_photo_of_the_label(station: &Station, police: &Phone) {
    police.go(&format!("/#/item/{}", ITEMS[0]));
    police.wait_text("#main", "dalam perjalanan");
    let loaded = "const i = document.querySelector('img.label-preview'); return !!i && i.complete && i.naturalWidth > 0";
    let deadline = std::time::Instant::now() + STEP_TIMEOUT;
    while police.b.execute(loaded, &[]).ok() != Some(Value::Bool(true)) {
        assert!(
            std::time::Instant::now() < deadline,
            "the label was never shown"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let picture = station.dir.path().join("label-photo.png");
    police
        .b
        .screenshot(&picture)
        .expect("a picture of the label");
    police.go("/#/");
    police
        .wait("#scan-photo")
        .send_keys(s(&picture))
        .expect("chooses the picture");
    police.wait_text("#main h1", ITEMS[0]);
}

/// The first item's page shows the photo its find named (read with the investigator's signed
/// read, drawn from memory) and the history of its masses.
fn photo_and_masses_on_the_item_page(police: &Phone) {
    police.wait("#photos img.photo");
    poll_until(STEP_TIMEOUT, "the find's photo is drawn", || {
        police
            .b
            .execute(
                "const i = document.querySelector('#photos img.photo'); return i && i.complete && i.naturalWidth;",
                &[],
            )
            .ok()
            .and_then(|v| v.as_u64())
            .is_some_and(|w| w > 0)
    });
    police.wait_text("#mass-history", "10,790 g");
    police.wait_text("#mass-history", "± 0,001 g");
}

/// The investigator opens both items (the phone remembers them), then the server goes down: the
/// receipt of both is signed and waits in the outbox; the officer's phone still opens the
/// workbench (the service worker has it); when the server is back, the outbox sends the receipt.
fn receive_while_the_server_is_down(station: &mut Station, police: &Phone, officer: &Phone) {
    let base = station.base();
    police.sign_in_with_file(&base, INVESTIGATOR, &station.key("investigator.pem"));
    police.go(&format!("/#/item/{}", ITEMS[1]));
    police.wait_text("#main", "dalam perjalanan");
    // Each act in the page's language: the server's Indonesian line, not the English summary.
    police.wait_text("#main", "disegel dengan [SEG-");
    scan_a_photo_of_the_label(station, police);
    photo_and_masses_on_the_item_page(police);
    police.wait_text("#findings", "Peraturan Pemerintah Nomor 40 Tahun 2013");
    police.wait("#custody-graph svg rect");
    police.shot("11-item");
    station.stop();
    police.go(&format!("/#/record/custody_received?item={}", ITEMS[0]));
    police.wait("form#act");
    police.choose("seals_intact", "true");
    police.tap_button("+ Nomor label barang bukti");
    police
        .wait("#extra-item-0")
        .send_keys(ITEMS[1])
        .expect("typing");
    police.shot("12-offline-receipt");
    police.tap_button("Tanda tangani dan kirim");
    police.wait_text("#result", "Server tidak terjangkau");
    police.go("/#/outbox");
    police.wait_text("#outbox", "menunggu");
    police.shot("13-outbox-waiting");
    // A full load (not a hash change) while the server is down: only the service worker answers.
    officer
        .b
        .goto(&format!("{base}/?offline#/outbox"))
        .expect("opens offline");
    officer.wait("#outbox-empty");
    officer.shot("13-offline-reload");
    station.start();
    police.tap_button("Kirim sekarang");
    police.wait("#outbox-empty");
    police.shot("14-outbox-sent");
    // Both items are now the investigator's.
    police.go("/#/holdings");
    police.wait_text("#holdings", ITEMS[0]);
    police.wait_text("#holdings", ITEMS[1]);
    police.shot("15-holdings");
    holdings_as_csv(police);
    investigator_searches(police);
    // A stock-take of the shelf: one label scanned, one unexpected; the other item is missing.
    police.go("/#/stocktake");
    police
        .wait("#stocktake-scan")
        .send_keys(&format!("{}\n", ITEMS[0]))
        .expect("scans");
    police
        .wait("#stocktake-scan")
        .send_keys("BB-LPN-2025-0999\n")
        .expect("scans");
    police.wait_text("#stocktake ul.missing", ITEMS[1]);
    police.wait_text("#stocktake ul.extra", "BB-LPN-2025-0999");
    police.shot("16-stocktake");
    police.tap_button("Catat stock opname");
    police.wait("form#act[data-type=\"inventory_counted\"]");
    police.wait("[data-field=\"items_missing/0\"] input");
    let missing = police
        .b
        .execute(
            "return document.querySelector('[data-field=\"items_missing/0\"] input').value",
            &[],
        )
        .expect("reads the field");
    assert_eq!(
        missing, ITEMS[1],
        "the record of the stock-take names the missing item"
    );
}

/// What the phones recorded is exactly what the ledger holds, and it verifies.
fn check_the_ledger(station: &Station) {
    let ledger = station.ledger();
    let verify = run_ok(&["verify", "--ledger", s(&ledger)]);
    // 11 founding entries, the enrollment, the search, five acts on each of the two items, and
    // the note that made a draft stale.
    assert!(verify.contains("24 entries"), "{verify}");
    for id in ITEMS {
        let h: Value =
            serde_json::from_str(&run_ok(&["history", id, "--ledger", s(&ledger), "--json"]))
                .expect("json");
        let types: Vec<&str> = h["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter_map(|e| e["type"].as_str())
            .collect();
        let mut expected = vec!["contraband_found", "item_sealed", "weighed"];
        if id == ITEMS[0] {
            expected.insert(1, "note_added"); // the note that made the seal's first draft stale
        }
        expected.extend(["custody_released", "custody_received"]);
        assert_eq!(types, expected, "{id}: {h}");
        let first = &h["events"][0]["signers"];
        assert_eq!(
            first[0]["officer"], NEW_OFFICER,
            "{id}: found by the officer enrolled in the page"
        );
        assert_eq!(
            first[1]["officer"], WITNESS,
            "{id}: witnessed from the second phone"
        );
    }
    let item: Value = serde_json::from_str(&run_ok(&[
        "item",
        ITEMS[0],
        "--ledger",
        s(&ledger),
        "--json",
    ]))
    .expect("json");
    assert_eq!(item["holder"], INVESTIGATOR, "{item}");
    assert_eq!(
        item["net_mass_mg"], 10790,
        "10,79 g typed with a decimal comma: {item}"
    );
    check_the_photo(station);
    let out = station.dir.path().join("export");
    run_ok(&["export", "--ledger", s(&ledger), "--out", s(&out)]);
    let mut bytes = Vec::new();
    read_all(&out, &mut bytes);
    assert!(bytes.len() > 10_000, "the export holds the log");
    for secret in ["3174055708900003", "Siti Aminah"] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} is in what a mirror copies: the visitor belongs in the register only"
        );
    }
}

/// The photo chosen on the phone is stored beside the ledger under its digest, and the find's
/// statement (inside its leaf's envelope, base64) names it by that digest.
fn check_the_photo(station: &Station) {
    let ledger = station.ledger();
    // The photo is stored beside the ledger under its digest, which the find carries in the log.
    let photo = std::fs::read(station.dir.path().join("photo.png")).expect("the photo");
    let digest: String = sha2::Sha256::digest(&photo)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let blob = ledger
        .join("private/blobs/sha256")
        .join(&digest[..2])
        .join(&digest[2..]);
    assert_eq!(std::fs::read(&blob).expect("the photo is stored"), photo);
    // The find's statement (inside its leaf's envelope, base64) names the photo by digest.
    let h0: Value = serde_json::from_str(&run_ok(&[
        "history",
        ITEMS[0],
        "--ledger",
        s(&ledger),
        "--json",
    ]))
    .expect("json");
    let find = h0["events"][0]["seq"].as_u64().expect("seq").to_string();
    let leaf = run_ok(&["entry", &find, "--ledger", s(&ledger)]);
    let payload = leaf
        .split("\"payload\":\"")
        .nth(1)
        .and_then(|p| p.split('"').next())
        .expect("the leaf holds an envelope");
    let statement = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .expect("base64");
    let statement = String::from_utf8_lossy(&statement);
    let named = format!("\"photos\":[\"sha256:{digest}\"]");
    assert!(
        statement.contains(&named),
        "the find names its photo: {statement}"
    );
}

fn read_all(dir: &Path, into: &mut Vec<u8>) {
    for entry in std::fs::read_dir(dir).expect("readable") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            read_all(&path, into);
        } else {
            into.extend(std::fs::read(&path).expect("readable file"));
        }
    }
}
