//! The PDF berita acara made by the binary itself (`custody report --out FILE.pdf`): its text as
//! `pdftotext` reads it (title, item, decimal-comma masses, Indonesian dates, every officer of the
//! history, page numbers), byte-identical output whatever `TZ` and `LANG` say, page 1 rendered by
//! `pdftoppm`, and its QR code read back by `zbarimg`. Without poppler-utils (or zbar-tools) on
//! PATH these fail when the environment variable `CI` is set (.ci/run installs both), and
//! otherwise print a note that they did not run.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const ITEM: &str = "BB-LPN-2025-0418";
const AS_OF: &str = "2025-08-22T01:00:00Z";
const INSTALL: &str = "apt-get install poppler-utils";

/// `custody report` of the demo item as of `AS_OF` into `out`, with `args` added: its output.
fn run_report(dir: &Path, args: &[&str], out: &Path) -> std::process::Output {
    custody()
        .args(["report", "--ledger"])
        .arg(dir)
        .args(["--item", ITEM, "--as-of", AS_OF])
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .expect("runs")
}

/// Writes the PDF report of the demo item to `out`, with `env` set for the run.
fn write_pdf(dir: &Path, out: &Path, env: &[(&str, &str)]) -> Vec<u8> {
    let mut cmd = custody();
    cmd.args(["report", "--ledger"])
        .arg(dir)
        .args(["--item", ITEM, "--as-of", AS_OF, "--out"])
        .arg(out);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let run = cmd.output().expect("runs");
    assert!(run.status.success(), "{}", stderr_of(&run));
    let bytes = std::fs::read(out).expect("the PDF");
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
    bytes
}

/// The item's history as `custody history --json` gives it.
fn history_json(dir: &Path) -> serde_json::Value {
    let run = custody()
        .args(["history", "--ledger"])
        .arg(dir)
        .args([ITEM, "--json"])
        .output()
        .expect("runs");
    assert!(run.status.success(), "{}", stderr_of(&run));
    serde_json::from_slice(&run.stdout).expect("JSON")
}

/// The officers who signed an act of the item's history, by name, from `custody history --json`.
fn officer_names(dir: &Path) -> Vec<String> {
    let v = history_json(dir);
    let mut names: Vec<String> = v["events"]
        .as_array()
        .expect("events")
        .iter()
        .flat_map(|e| e["signers"].as_array().expect("signers").clone())
        .map(|s| s["name"].as_str().expect("a named signer").to_owned())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The demo ledger with its Lapas in the register of places (zone WIB, a letterhead), as a
/// facility would have it: times then read in Jakarta's local time.
fn registered_demo() -> (tempfile::TempDir, PathBuf) {
    let (tmp, dir) = demo_ledger();
    let run = custody()
        .args(["register-facility", "--ledger"])
        .arg(&dir)
        .arg("--key")
        .arg(dir.join("demo-keys/admin.pem"))
        .args([
            "--code",
            "LPN-JAKARTA",
            "--name",
            "Lapas Narkotika Kelas IIA Jakarta",
        ])
        .args([
            "--address",
            "Jl. Raya Bekasi Timur No. 170",
            "--zone",
            "WIB",
        ])
        .args(["--letterhead", "KEMENTERIAN IMIGRASI DAN PEMASYARAKATAN"])
        .args(["--letterhead", "LAPAS NARKOTIKA KELAS IIA JAKARTA"])
        .output()
        .expect("runs");
    assert!(run.status.success(), "{}", stderr_of(&run));
    (tmp, dir)
}

fn pdftotext(tool: &Path, pdf: &Path) -> String {
    let run = Command::new(tool)
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext runs");
    assert!(run.status.success(), "{}", stderr_of(&run));
    // Lines broken inside a table cell join again, so a phrase is found whole.
    String::from_utf8_lossy(&run.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn tool(test: &str, name: &str) -> Option<PathBuf> {
    required_tool(test, &[name], INSTALL)
}

#[test]
fn the_pdf_is_an_indonesian_berita_acara_of_every_act() {
    let Some(pdftotext_bin) = tool("the_pdf_is_an_indonesian_berita_acara", "pdftotext") else {
        return;
    };
    let (tmp, dir) = registered_demo();
    let out = tmp.path().join("berita-acara.pdf");
    write_pdf(&dir, &out, &[]);
    let text = pdftotext(&pdftotext_bin, &out);
    for want in [
        "BERITA ACARA RANTAI PENGUASAAN BARANG BUKTI",
        ITEM,
        "10,790 g",
        // Each weighing with the readability of its balance.
        "10,790 g (d = 0,001 g)",
        // The destruction: 2025-08-21T02:00:00Z, a Thursday, 09.00 in Jakarta.
        "Kamis, 21 Agustus 2025 pukul 09.00 WIB",
        // The as-of moment in the facility's zone.
        "Pada hari ini Jumat, tanggal 22 bulan Agustus tahun 2025, pukul 08.00 WIB",
        "Halaman 1 dari",
        "LAPAS NARKOTIKA KELAS IIA JAKARTA",
        "bertempat di Lapas Narkotika Kelas IIA Jakarta",
        "pemusnahan",
        "tidak menggantikan",
        "bundle verify",
    ] {
        assert!(
            text.contains(want),
            "{want:?} is not in the PDF's text:\n{text}"
        );
    }
    assert!(!text.contains("10.790 g"), "masses take the decimal comma");
    let names = officer_names(&dir);
    assert!(names.len() >= 4, "{names:?}");
    for name in names {
        assert!(text.contains(&name), "{name} is not in the PDF's text");
    }
    signature_blocks_name_each_key(&dir, &text);
    let pages = text.matches("Halaman ").count();
    assert!(pages >= 2, "the acts table runs over pages: {pages}");
    assert!(
        text.contains(&format!("Halaman {pages} dari {pages}")),
        "the last page is numbered"
    );
}

/// The signature blocks: each signer of the history with the key id the ledger holds for them
/// (`custody officers`), the log position, the possessor's refusal of the seizure, and room for
/// wet signatures.
fn signature_blocks_name_each_key(dir: &Path, text: &str) {
    for want in [
        "V. Tanda tangan",
        "Tanda tangan basah",
        "Pihak yang disita: MENOLAK",
    ] {
        assert!(text.contains(want), "{want:?} is not in the PDF's text");
    }
    let run = custody()
        .args(["officers", "--ledger"])
        .arg(dir)
        .arg("--json")
        .output()
        .expect("runs");
    let officers: serde_json::Value = serde_json::from_slice(&run.stdout).expect("JSON");
    let names = officer_names(dir);
    for officer in officers.as_array().expect("officers") {
        if !names.iter().any(|n| officer["name"] == n.as_str()) {
            continue;
        }
        let key_id = officer["keys"][0]["key_id"].as_str().expect("a key id");
        assert!(
            text.contains(&format!("kunci {key_id}")),
            "{} signed with key {key_id}, which the PDF does not name",
            officer["name"]
        );
    }
}

#[test]
fn the_pdf_is_byte_identical_whatever_tz_and_lang_say() {
    let (tmp, dir) = registered_demo();
    let a = write_pdf(
        &dir,
        &tmp.path().join("a.pdf"),
        &[("TZ", "Asia/Jayapura"), ("LANG", "id_ID.UTF-8")],
    );
    let b = write_pdf(
        &dir,
        &tmp.path().join("b.pdf"),
        &[("TZ", "America/New_York"), ("LANG", "C"), ("LC_ALL", "C")],
    );
    assert!(a == b, "two runs gave different PDFs");
    // A different as-of moment is a different document, so the comparison above can fail.
    let mut cmd = custody();
    let c = tmp.path().join("c.pdf");
    cmd.args(["report", "--ledger"])
        .arg(&dir)
        .args(["--item", ITEM, "--as-of", "2025-08-23T01:00:00Z", "--out"])
        .arg(&c);
    assert!(cmd.output().expect("runs").status.success());
    assert!(std::fs::read(&c).expect("the PDF") != a);
}

#[test]
fn page_one_renders() {
    let Some(pdftoppm) = tool("page_one_renders", "pdftoppm") else {
        return;
    };
    let (tmp, dir) = registered_demo();
    let out = tmp.path().join("berita-acara.pdf");
    write_pdf(&dir, &out, &[]);
    let prefix = tmp.path().join("page");
    let run = Command::new(pdftoppm)
        .args(["-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile"])
        .arg(&out)
        .arg(&prefix)
        .output()
        .expect("pdftoppm runs");
    assert!(run.status.success(), "{}", stderr_of(&run));
    let png = std::fs::read(prefix.with_extension("png")).expect("page 1 as PNG");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 5_000,
        "{} bytes",
        png.len()
    );
}

#[test]
fn format_pdf_overrides_the_extension() {
    let (tmp, dir) = demo_ledger();
    let out = tmp.path().join("report.bin");
    let run = run_report(&dir, &["--format", "pdf"], &out);
    assert!(run.status.success(), "{}", stderr_of(&run));
    assert!(std::fs::read(&out).expect("written").starts_with(b"%PDF-"));
}

#[test]
fn the_qr_code_scans_back_to_the_verification_text() {
    let (Some(pdftoppm), Some(zbarimg)) = (
        tool("the_qr_code_scans_back", "pdftoppm"),
        required_tool(
            "the_qr_code_scans_back",
            &["zbarimg"],
            "apt-get install zbar-tools",
        ),
    ) else {
        return;
    };
    let (tmp, dir) = registered_demo();
    let out = tmp.path().join("berita-acara.pdf");
    write_pdf(&dir, &out, &[]);
    let prefix = tmp.path().join("page");
    let run = Command::new(pdftoppm)
        .args(["-png", "-r", "150"])
        .arg(&out)
        .arg(&prefix)
        .output()
        .expect("pdftoppm runs");
    assert!(run.status.success(), "{}", stderr_of(&run));
    let pages: Vec<PathBuf> = std::fs::read_dir(tmp.path())
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    assert!(!pages.is_empty());
    let run = Command::new(zbarimg)
        .arg("-q")
        .args(&pages)
        .output()
        .expect("zbarimg runs");
    let scanned = String::from_utf8_lossy(&run.stdout);
    assert!(
        scanned.contains("custody-report:v2") && scanned.contains(&format!("item={ITEM}")),
        "the QR code: {scanned}"
    );
    assert!(scanned.contains("bundle-sha256="), "{scanned}");
}

/// `--lang en`: the same document in English — title, dates, masses with the decimal point, act
/// names, findings, signatures and page numbers — for a reader who does not read Indonesian.
#[test]
fn the_english_rendering_is_the_same_document_in_english() {
    let Some(pdftotext_bin) = tool("the_english_rendering", "pdftotext") else {
        return;
    };
    let (tmp, dir) = registered_demo();
    let out = tmp.path().join("custody-record.pdf");
    let run = run_report(&dir, &["--lang", "en"], &out);
    assert!(run.status.success(), "{}", stderr_of(&run));
    let text = pdftotext(&pdftotext_bin, &out);
    for want in [
        "CHAIN-OF-CUSTODY RECORD OF EVIDENCE",
        "Thursday, 21 August 2025 at 09:00 WIB",
        "On Friday, 22 August 2025 at 08:00 WIB, at Lapas Narkotika Kelas IIA Jakarta",
        "10.790 g",
        "10.790 g (d = 0.001 g)",
        "destruction",
        "V. Signatures",
        "The possessor: REFUSED",
        "does not replace any original",
        "Page 1 of",
    ] {
        assert!(
            text.contains(want),
            "{want:?} is not in the English PDF:\n{text}"
        );
    }
    for indonesian in ["Halaman", "Pada hari ini", "10,790 g", "Tanda tangan basah"] {
        assert!(
            !text.contains(indonesian),
            "{indonesian:?} is in the English PDF"
        );
    }
}

/// The seq and signers' names of the item's first act of type `kind`, from `custody history`.
fn act_of(dir: &Path, kind: &str) -> (u64, Vec<String>) {
    let v = history_json(dir);
    let act = v["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["type"] == kind)
        .expect("the act is in the history");
    let names = act["signers"]
        .as_array()
        .expect("signers")
        .iter()
        .map(|s| s["name"].as_str().expect("a name").to_owned())
        .collect();
    (act["seq"].as_u64().expect("seq"), names)
}

/// `--act SEQ`: the berita acara of one act — the seizure — headed by its own name, opening at
/// its own time, with its signers, the possessor's refusal and the verification block; an act
/// that is not the item's, or HTML, is refused by name.
#[test]
fn one_act_has_its_own_berita_acara() {
    let Some(pdftotext_bin) = tool("one_act_has_its_own_berita_acara", "pdftotext") else {
        return;
    };
    let (tmp, dir) = registered_demo();
    let (seq, signers) = act_of(&dir, "seizure_recorded");
    let report = |act: &str, out: &Path| run_report(&dir, &["--act", act], out);
    let out = tmp.path().join("penyitaan.pdf");
    let run = report(&seq.to_string(), &out);
    assert!(run.status.success(), "{}", stderr_of(&run));
    let text = pdftotext(&pdftotext_bin, &out);
    for want in [
        "BERITA ACARA PENYITAAN".to_owned(),
        format!("No. urut log: {seq}"),
        "telah dilakukan penyitaan atas barang bukti".to_owned(),
        "II. Tanda tangan".to_owned(),
        "Pihak yang disita: MENOLAK".to_owned(),
        "III. Verifikasi".to_owned(),
        "tidak menggantikan".to_owned(),
    ] {
        assert!(
            text.contains(&want),
            "{want:?} is not in the act's PDF:\n{text}"
        );
    }
    for name in signers {
        assert!(
            text.contains(&name),
            "the signer {name} is not in the act's PDF"
        );
    }
    assert!(!text.contains("II. Riwayat tindakan"), "only the one act");
    // The act's uraian in Indonesian (the English line only in the English rendering).
    let flat = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    let indonesian = flat(&text);
    for want in [
        "disita berdasarkan surat perintah",
        "pihak yang disita menolak menandatangani",
    ] {
        assert!(indonesian.contains(want), "{want:?} in {indonesian}");
    }
    assert!(!indonesian.contains("seized under warrant"), "{indonesian}");
    let english_pdf = tmp.path().join("seizure-en.pdf");
    let run = run_report(
        &dir,
        &["--act", &seq.to_string(), "--lang", "en"],
        &english_pdf,
    );
    assert!(run.status.success(), "{}", stderr_of(&run));
    let english = flat(&pdftotext(&pdftotext_bin, &english_pdf));
    assert!(english.contains("seized under warrant"), "{english}");
    for (act, out) in [("99999", "x.pdf"), (&*seq.to_string(), "x.html")] {
        let run = report(act, &tmp.path().join(out));
        assert_eq!(run.status.code(), Some(2), "--act {act} --out {out}");
        assert!(stderr_of(&run).contains("--act"), "{}", stderr_of(&run));
    }
}
