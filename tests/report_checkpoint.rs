//! A report made at a checkpoint is reproducible and matchable: `custody report --checkpoint SIZE`
//! gives the same PDF and the same bundle after more is recorded, the report prints the bundle's
//! printed digest (six groups and a check character) and its as-of moment, and `custody bundle
//! verify --printed-digest` tells a printed page and a bundle that belong together from two that
//! do not, and a mistyped digest from both. Text is read back from the PDF with `pdftotext`
//! (poppler-utils: required when `CI` is set, as `.ci/run` installs it).

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

const ITEM: &str = "BB-LPN-2025-0418";
const AS_OF: &str = "2025-08-22T01:00:00Z";

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// `custody report` of the demo item at `checkpoint` (or the latest) into `out`: the PDF's and
/// its bundle's bytes.
fn report(dir: &Path, out: &Path, checkpoint: Option<u64>) -> (Vec<u8>, Vec<u8>) {
    let mut cmd = custody();
    cmd.args([
        "report",
        "--ledger",
        s(dir),
        "--item",
        ITEM,
        "--as-of",
        AS_OF,
    ])
    .args(["--out", s(out)]);
    if let Some(size) = checkpoint {
        cmd.args(["--checkpoint", &size.to_string()]);
    }
    let run = cmd.output().expect("runs");
    assert!(run.status.success(), "{}", stderr_of(&run));
    let bundle = PathBuf::from(format!("{}.bundle.json", out.display()));
    (
        std::fs::read(out).expect("the PDF"),
        std::fs::read(bundle).expect("the bundle beside it"),
    )
}

/// The demo key file (named by role) of the officer `id`: the one whose key id is theirs.
fn key_file_of(dir: &Path, id: &str) -> PathBuf {
    let officers = run_json(&["officers", "--ledger", s(dir)]);
    let officer = officers
        .as_array()
        .expect("officers")
        .iter()
        .find(|o| o["id"] == id)
        .expect("enrolled");
    let key_id = officer["keys"]
        .as_array()
        .expect("keys")
        .last()
        .expect("a key")["key_id"]
        .clone();
    std::fs::read_dir(dir.join("demo-keys"))
        .expect("demo keys")
        .map(|e| e.expect("entry").path())
        .find(|p| run_json(&["key", "show", s(p)])["key_id"] == key_id)
        .expect("the officer's demo key")
}

/// Records a note about the demo item, by the officer who holds it at the end of the demo.
fn note_about_the_item(dir: &Path) {
    let holder = run_json(&["item", "--ledger", s(dir), ITEM])["holder"]
        .as_str()
        .expect("the item has a holder")
        .to_owned();
    let run = custody()
        .args(["new", "note_added", "--ledger", s(dir)])
        .args(["--facility", "LPN-JAKARTA", "--at", "2025-08-23 10:00 WIB"])
        .args(["--signer", &format!("author={holder}")])
        .arg("--key")
        .arg(key_file_of(dir, &holder))
        .args(["--item", ITEM, "--text", "Segel diperiksa ulang, utuh"])
        .output()
        .expect("runs");
    assert!(run.status.success(), "{}", stderr_of(&run));
}

/// `custody bundle verify FILE --printed-digest DIGEST`: its status, JSON and stderr.
fn verify_printed(dir: &Path, bundle: &Path, digest: &str) -> (Option<i32>, Value, String) {
    let run = custody()
        .args(["bundle", "verify", s(bundle), "--vkey", vkey_of(dir).trim()])
        .args(["--as-of", AS_OF, "--printed-digest", digest, "--json"])
        .output()
        .expect("runs");
    let json = serde_json::from_slice(&run.stdout).unwrap_or(Value::Null);
    (run.status.code(), json, stderr_of(&run))
}

/// The printed digest as the PDF shows it (after "Sidik cetak berkas bukti (untuk diketik):").
fn printed_digest_in(pdf: &Path) -> String {
    let Some(text) = pdf_text("printed_digest_in", pdf) else {
        return String::new();
    };
    let text = text.replace('\n', " ");
    let after = text
        .split("(untuk diketik):")
        .nth(1)
        .expect("the PDF prints the printed digest");
    after
        .split_whitespace()
        .next()
        .expect("a digest")
        .to_owned()
}

/// Changes one character of a printed digest to another of its alphabet.
fn mistyped(digest: &str) -> String {
    let mut chars: Vec<char> = digest.chars().collect();
    chars[5] = if chars[5] == 'K' { 'M' } else { 'K' };
    chars.into_iter().collect()
}

#[test]
fn a_report_at_a_checkpoint_is_the_same_after_more_is_recorded_and_matches_its_bundle() {
    let (tmp, dir) = demo_ledger();
    let size = run_json(&["checkpoint", "--ledger", s(&dir)])["size"]
        .as_u64()
        .expect("size");
    let first = tmp.path().join("first.pdf");
    let (pdf, bundle) = report(&dir, &first, Some(size));

    note_about_the_item(&dir);
    let again = tmp.path().join("again.pdf");
    let (pdf_again, bundle_again) = report(&dir, &again, Some(size));
    assert!(
        pdf == pdf_again,
        "the PDF at checkpoint {size} is byte for byte the same"
    );
    assert!(bundle == bundle_again, "so is its bundle");
    let latest = tmp.path().join("latest.pdf");
    let (_, bundle_latest) = report(&dir, &latest, None);
    assert!(
        bundle_latest != bundle,
        "the latest checkpoint's bundle holds the note"
    );

    // The printed page and its own bundle belong together; with another bundle they do not.
    let printed = printed_digest_in(&first);
    if printed.is_empty() {
        return; // pdftotext missing outside CI: the note was printed
    }
    let first_bundle = tmp.path().join("first.pdf.bundle.json");
    let (code, json, err) = verify_printed(&dir, &first_bundle, &printed);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(json["printed_digest"], printed.as_str());
    assert_eq!(json["printed_digest_confirmed"], true);
    assert_eq!(json["checkpoint_size"], size);

    let latest_bundle = tmp.path().join("latest.pdf.bundle.json");
    let (code, _, err) = verify_printed(&dir, &latest_bundle, &printed);
    assert_eq!(code, Some(1), "another bundle is refused: {err}");
    assert!(err.contains("do not belong together"), "{err}");

    // One mistyped character is caught by the check character before any bundle is read.
    let (code, _, err) = verify_printed(&dir, &first_bundle, &mistyped(&printed));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("--printed-digest") && err.contains("check character"),
        "the error names the field and the rule: {err}"
    );
}

#[test]
fn a_checkpoint_that_cannot_be_given_is_refused_by_name() {
    let (tmp, dir) = demo_ledger();
    let size = run_json(&["checkpoint", "--ledger", s(&dir)])["size"]
        .as_u64()
        .expect("size");
    // The demo item's first act is some entries in; genesis and enrollments come first.
    for (checkpoint, says) in [
        ("0".to_owned(), "size 0 holds no entry"),
        ((size + 5).to_string(), "beyond the latest checkpoint"),
        ("2".to_owned(), "was not yet recorded"),
    ] {
        let out = tmp.path().join(format!("b-{checkpoint}.json"));
        let run = custody()
            .args(["bundle", "export", "--ledger", s(&dir), "--item", ITEM])
            .args(["--out", s(&out), "--checkpoint", &checkpoint])
            .output()
            .expect("runs");
        let err = stderr_of(&run);
        assert_eq!(
            run.status.code(),
            Some(2),
            "--checkpoint {checkpoint}: {err}"
        );
        assert!(
            err.contains("checkpoint") && err.contains(says),
            "--checkpoint {checkpoint}: {err}"
        );
        assert!(
            !out.exists(),
            "nothing written for --checkpoint {checkpoint}"
        );
    }
}
