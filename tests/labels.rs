//! Labels as a scanner reads them: each SVG label rendered to PNG by `rsvg-convert` and decoded by
//! `zbarimg`, which must find the Code 128 symbol and the QR code, each with exactly the id, for
//! generated ids (digit runs of every length, hyphens); and the label routes of `custody serve`
//! on the demo ledger: the A4 sheet of an `item_sealed` entry lists each applied seal, an act
//! that creates no label and a seal never applied are 404, and an officer of another prison gets
//! the same 404 for a seal on an item they may not read.

mod common;

use common::*;
use custody::httpsig::{self, RequestParts};
use custody::labels::Label;
use custody::{Clock, SecretKey, SystemClock};
use std::path::{Path, PathBuf};

const ITEM: &str = "BB-LPN-2025-0418";
const SEAL: &str = "SEG-2025-000418";
const CIPINANG: &str = "198101012006041009";
/// Render resolution: 50 mm at 1200 dpi is 2362 px, so a 32-character id's narrowest bar (about
/// 0.1 mm) is still 4–5 px wide for the decoder.
const RENDER_DPI: &str = "1200";
/// Generated ids per run: enough to cover digit runs of every parity at every position.
const GENERATED_IDS: usize = 24;
/// The longest generated id: past about 32 characters a 48 mm symbol's bars fall under 0.1 mm,
/// narrower than a label printer draws (203 dpi is 0.125 mm a dot).
const GENERATED_ID_CHARS_MAX: u64 = 32;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The tools this test needs, or `None` (outside CI) when they are missing.
fn tools() -> Option<(PathBuf, PathBuf)> {
    let install = "apt-get install zbar-tools librsvg2-bin";
    let rsvg = required_tool("labels", &["rsvg-convert"], install)?;
    let zbar = required_tool("labels", &["zbarimg"], install)?;
    Some((rsvg, zbar))
}

/// What `zbarimg --raw` reads in `png` with only `symbology` enabled (`code128`, `qrcode`).
fn decode(zbar: &Path, png: &Path, symbology: &str) -> Vec<String> {
    let out = std::process::Command::new(zbar)
        .args(["--raw", "-q", "-Sdisable"])
        .arg(format!("-S{symbology}.enable"))
        .arg(png)
        .output()
        .expect("zbarimg runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .filter(|l| !l.is_empty())
        .collect()
}

/// Renders `svg` to PNG and asserts both symbols decode to exactly `code`.
fn assert_scans_as(tools: &(PathBuf, PathBuf), dir: &Path, svg: &str, code: &str) {
    let (rsvg, zbar) = tools;
    let svg_file = dir.join("label.svg");
    let png = dir.join("label.png");
    std::fs::write(&svg_file, svg).expect("writes the label");
    let out = std::process::Command::new(rsvg)
        .args(["-d", RENDER_DPI, "-p", RENDER_DPI, "-b", "white", "-o"])
        .arg(&png)
        .arg(&svg_file)
        .output()
        .expect("rsvg-convert runs");
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(decode(zbar, &png, "code128"), [code], "Code 128 of {code}");
    assert_eq!(decode(zbar, &png, "qrcode"), [code], "QR code of {code}");
}

/// An id as `item_id` allows (`^[A-Z0-9][A-Z0-9-]{1,63}$`), from `seed`: letters, digit runs of
/// random length and hyphens, so that the encoder's set changes fall everywhere.
fn generated_id(seed: &mut u64) -> String {
    const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let target = 2 + custody::splitmix64(seed) % (GENERATED_ID_CHARS_MAX - 1);
    let mut id = String::new();
    while (id.len() as u64) < target {
        let r = custody::splitmix64(seed);
        match r % 4 {
            0 if !id.is_empty() && !id.ends_with('-') => id.push('-'),
            1 => {
                let i = usize::try_from((r >> 8) % 26).expect("small");
                id.push(char::from(LETTERS[i]));
            }
            _ => {
                for _ in 0..1 + (r >> 8) % 9 {
                    id.push(char::from(
                        b'0' + u8::try_from((r >> 16) % 10).expect("digit"),
                    ));
                }
            }
        }
    }
    id.truncate(usize::try_from(target).expect("small"));
    if id.ends_with('-') {
        id.pop();
        id.push('7');
    }
    id
}

/// The control: with its symbols hidden, a label scans as nothing (so the scans of the labels
/// are their symbols' and could fail).
fn symbols_hidden_scan_as_nothing(tools: &(PathBuf, PathBuf), dir: &Path) {
    let (rsvg, zbar) = tools;
    let bare = Label::Seal {
        seal: ITEM.into(),
        item: ITEM.into(),
        facility: "LPN-JAKARTA".into(),
        date: "2025-08-04 WIB".into(),
    }
    .svg()
    .expect("draws")
    .replace("<path ", "<path visibility=\"hidden\" ");
    let (svg_file, png) = (dir.join("bare.svg"), dir.join("bare.png"));
    std::fs::write(&svg_file, bare).expect("writes");
    let rendered = std::process::Command::new(rsvg)
        .args(["-d", RENDER_DPI, "-p", RENDER_DPI, "-b", "white", "-o"])
        .arg(&png)
        .arg(&svg_file)
        .status()
        .expect("rsvg-convert runs");
    assert!(rendered.success());
    assert!(decode(zbar, &png, "code128").is_empty());
    assert!(decode(zbar, &png, "qrcode").is_empty());
}

#[test]
fn labels_scan_as_their_id_in_code_128_and_in_the_qr_code() {
    let Some(tools) = tools() else { return };
    let tmp = tempfile::tempdir().expect("tmp");
    let mut ids: Vec<String> = [
        ITEM,
        "BB-1",
        "12",
        "123",
        "1234",
        "12345",
        "0000000000",
        "A-1-22-333-4444-55555",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    symbols_hidden_scan_as_nothing(&tools, tmp.path());
    let mut seed = 0x1abe_15ed;
    ids.extend((0..GENERATED_IDS).map(|_| generated_id(&mut seed)));
    for id in &ids {
        let item = Label::Item {
            id: id.clone(),
            description: Some("14 sachet plastik <kristal> & \"bening\"".into()),
            facility: "LPN-JAKARTA".into(),
            date: "2025-08-04 WIB".into(),
        };
        assert_scans_as(&tools, tmp.path(), &item.svg().expect("draws"), id);
        let seal = Label::Seal {
            seal: id.clone(),
            item: ITEM.into(),
            facility: "LPN-JAKARTA".into(),
            date: "2025-08-04 WIB".into(),
        };
        assert_scans_as(&tools, tmp.path(), &seal.svg().expect("draws"), id);
    }
}

/// A GET of `path` signed with the demo key `who`: status, content type and body.
fn signed_get(server: &Server, dir: &Path, who: &str, path: &str) -> (u16, String, String) {
    let key = SecretKey::read_file(&dir.join("demo-keys").join(format!("{who}.pem"))).expect("key");
    let parts = RequestParts {
        method: "GET",
        authority: server.url.trim_start_matches("http://"),
        path,
        query: None,
        headers: vec![],
    };
    let (input, signature) = httpsig::sign(&key, &parts, SystemClock.now().unix_ms() / 1000);
    let mut response = agent()
        .get(&format!("{}{path}", server.url))
        .header("signature-input", &input)
        .header("signature", &signature)
        .call()
        .expect("the server answers");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.body_mut().read_to_string().expect("text body");
    (status, content_type, body)
}

/// The seq of the first event of `type` in the demo item's history.
fn seq_of(dir: &Path, kind: &str) -> u64 {
    let history = run_json(&["history", ITEM, "--ledger", s(dir)]);
    history["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["type"] == kind)
        .and_then(|e| e["seq"].as_u64())
        .unwrap_or_else(|| panic!("no {kind} in {history}"))
}

#[test]
fn the_sheet_of_a_sealing_lists_each_seal_and_labels_stay_in_scope() {
    let (_tmp, dir) = demo_ledger();
    let sealed = seq_of(&dir, "item_sealed");
    let found = seq_of(&dir, "contraband_found");
    enroll_outsider(&dir, CIPINANG);
    let server = Server::on_port_zero(&dir);
    let gate = "gate-officer-a";

    let (status, content_type, sheet) =
        signed_get(&server, &dir, gate, &format!("/v1/entries/{sealed}/labels"));
    assert_eq!(status, 200, "{sheet}");
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(sheet.contains("@page { size: A4;"), "{sheet}");
    // The demo seals the item with one seal: one label, a seal label, naming seal and item.
    assert_eq!(sheet.matches("<svg").count(), 1, "{sheet}");
    assert!(sheet.contains("SEGEL") && sheet.contains(SEAL) && sheet.contains(ITEM));

    let (status, _, sheet) =
        signed_get(&server, &dir, gate, &format!("/v1/entries/{found}/labels"));
    assert_eq!(status, 200, "{sheet}");
    assert!(
        sheet.contains("BARANG BUKTI") && sheet.contains(ITEM),
        "{sheet}"
    );

    // The genesis creates no label; a seal never applied has none.
    let (status, _, body) = signed_get(&server, &dir, gate, "/v1/entries/0/labels");
    assert_eq!(status, 404, "{body}");
    let (status, _, body) = signed_get(&server, &dir, gate, "/v1/seals/SEG-NEVER-1/label.svg");
    assert_eq!(status, 404, "{body}");

    let (status, content_type, svg) =
        signed_get(&server, &dir, gate, &format!("/v1/seals/{SEAL}/label.svg"));
    assert_eq!(
        (status, content_type.as_str()),
        (200, "image/svg+xml"),
        "{svg}"
    );
    assert!(svg.starts_with("<svg") && svg.contains(SEAL), "{svg}");
    let (status, _, svg) = signed_get(&server, &dir, gate, &format!("/v1/items/{ITEM}/label.svg"));
    assert_eq!(status, 200, "{svg}");
    assert!(
        svg.contains("LPN-JAKARTA") && svg.contains("2025-08-04"),
        "{svg}"
    );
    if let Some(tools) = tools() {
        let tmp = tempfile::tempdir().expect("tmp");
        assert_scans_as(&tools, tmp.path(), &svg, ITEM);
    }

    outsider_sees_nothing(&server, &dir, sealed);
    assert!(server.terminate());
}

/// To an officer of another prison the demo item's seal, its label and the sheet of the sealing
/// at `sealed` answer exactly as a seal never applied and an act that creates no label.
fn outsider_sees_nothing(server: &Server, dir: &Path, sealed: u64) {
    let (status, _, outside) = signed_get(
        server,
        dir,
        "cipinang",
        &format!("/v1/seals/{SEAL}/label.svg"),
    );
    let (_, _, never) = signed_get(server, dir, "cipinang", "/v1/seals/SEG-NEVER-1/label.svg");
    assert_eq!(status, 404, "{outside}");
    assert_eq!(
        outside.replace(SEAL, "SEG-NEVER-1"),
        never,
        "the refusal tells nothing"
    );
    let (status, _, outside) = signed_get(
        server,
        dir,
        "cipinang",
        &format!("/v1/entries/{sealed}/labels"),
    );
    let (_, _, none) = signed_get(server, dir, "cipinang", "/v1/entries/0/labels");
    assert_eq!(status, 404, "{outside}");
    assert_eq!(outside.replace(&sealed.to_string(), "0"), none);
    let (status, _, _) = signed_get(
        server,
        dir,
        "cipinang",
        &format!("/v1/items/{ITEM}/label.svg"),
    );
    assert_eq!(status, 404);
}
