//! Bad input through the real binary: every case gets a clear error naming the field or rule,
//! the right exit code (2 input, 1 rule), and leaves the ledger unchanged (same size, verifies).

mod common;

use common::*;

struct Case {
    name: &'static str,
    /// The statement file's contents.
    statement: String,
    /// Key names (in the fixture) that sign it.
    keys: &'static [&'static str],
    exit: i32,
    /// Words the error message must contain.
    says: &'static [&'static str],
}

// The long form reads better here: a table of bad inputs, one case each.
#[allow(clippy::too_many_lines)]
fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "malformed JSON",
            statement: r#"{"type":"note_added","text":"#.into(),
            keys: &["gate-a"],
            exit: 2,
            says: &["not valid JSON"],
        },
        Case {
            name: "schema violation names the field",
            statement: note_by(GATE_A, r#","colour":"red""#),
            keys: &["gate-a"],
            exit: 2,
            says: &["colour"],
        },
        Case {
            name: "bad officer id names the field",
            statement: note_by("BUDI", ""),
            keys: &["gate-a"],
            exit: 2,
            says: &["/signers/0/officer"],
        },
        Case {
            name: "unknown statement type",
            statement: note_by(GATE_A, "").replace("note_added", "teleported"),
            keys: &["gate-a"],
            exit: 2,
            says: &["/type", "teleported"],
        },
        Case {
            name: "unknown officer",
            statement: note_by(OUTSIDER, ""),
            keys: &["outsider"],
            exit: 1,
            says: &[OUTSIDER, "not enrolled"],
        },
        Case {
            name: "missing required signer",
            statement: note_by(GATE_A, ""),
            keys: &["gate-b"],
            exit: 1,
            says: &[GATE_A, "did not sign"],
        },
        Case {
            name: "key used before enrollment",
            statement: note_by(GATE_A, ""),
            keys: &["gate-a", "spare"],
            exit: 1,
            says: &["keys may sign only after their enrollment"],
        },
        Case {
            name: "a role that may not act",
            statement: format!(
                r#"{{"type":"officer_revoked","facility":"{FACILITY}","signers":[{{"role":"admin","officer":"{GATE_A}"}}],"after":{{}},"officer":"{GATE_B}","reason":"x"}}"#
            ),
            keys: &["gate-a"],
            exit: 1,
            says: &["needs one of [admin]"],
        },
        Case {
            name: "oversized statement",
            statement: note_by(
                GATE_A,
                &format!(r#","refers_to":0,"x":"{}""#, "a".repeat(40_000)),
            ),
            keys: &["gate-a"],
            exit: 2,
            says: &["limit"],
        },
        Case {
            name: "duplicate keys",
            statement: note_by(GATE_A, r#","text":"other text""#),
            keys: &["gate-a"],
            exit: 2,
            says: &["/text", "twice"],
        },
        Case {
            name: "time not in UTC",
            statement: note_by(GATE_A, r#","occurred_at":"2025-08-04T09:30:00+07:00""#),
            keys: &["gate-a"],
            exit: 2,
            says: &["/occurred_at"],
        },
    ]
}

#[test]
fn each_bad_statement_is_refused_clearly_and_changes_nothing() {
    let f = Fixture::new();
    let size = f.size();
    for case in cases() {
        let file = f.write("bad.json", case.statement.as_bytes());
        let mut cmd = custody();
        cmd.args(["record", "--ledger", f.ledger_str()]);
        for k in case.keys {
            cmd.arg("--key").arg(f.key(k));
        }
        let out = cmd.arg(&file).output().expect("runs");
        let err = stderr_of(&out);
        assert_eq!(
            out.status.code(),
            Some(case.exit),
            "{}: exit code; stderr: {err}",
            case.name
        );
        for word in case.says {
            assert!(
                err.contains(word),
                "{}: error should mention {word:?}: {err}",
                case.name
            );
        }
        assert!(err.starts_with("error: "), "{}: {err}", case.name);
        told_in_indonesian_then_english(&err, case.name);
    }
    f.assert_unchanged(size);
}

/// Every refusal is told twice: its class and message in Indonesian on the first line, then in
/// English on the next (each from the catalogue), and the two are not the same words.
fn told_in_indonesian_then_english(err: &str, case: &str) {
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines.len() >= 2 && lines[1].starts_with("       ") && !lines[1].trim().is_empty(),
        "{case}: Indonesian, then English on the next line: {err}"
    );
    assert_ne!(
        lines[0].trim_start_matches("error: "),
        lines[1].trim(),
        "{case}: the Indonesian line is not the English one"
    );
}

/// The refusal of an officer who is not enrolled reads, word for word, as the catalogue says it
/// in each language, with the officer's id and signer role filled in.
#[test]
fn a_refusal_reads_as_the_catalogue_says_it_in_both_languages() {
    use custody::words::{Lang, says};
    let f = Fixture::new();
    let file = f.write("stranger.json", note_by(OUTSIDER, "").as_bytes());
    let out = custody()
        .args(["record", "--ledger", f.ledger_str(), "--key"])
        .arg(f.key("outsider"))
        .arg(&file)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    let values = [("officer", OUTSIDER), ("role", "author")];
    for (lang, class) in [
        (Lang::Indonesian, "class.rule"),
        (Lang::English, "class.rule"),
    ] {
        let rule = says(lang, "err.rule.unknown_officer", &values);
        let line = format!(
            "{}: {}",
            says(lang, class, &[]),
            says(lang, "err.ledger.rule", &[("reason", &rule)])
        );
        assert!(err.contains(&line), "{lang:?} {line:?} in {err}");
    }
    assert!(err.contains("tidak terdaftar"), "{err}");
}

#[test]
fn a_tampered_signature_is_refused() {
    let f = Fixture::new();
    let size = f.size();
    let note = f.write("note.json", note_by(GATE_A, "").as_bytes());
    let signed = custody()
        .args(["sign", "--key"])
        .arg(f.key("gate-a"))
        .arg(&note)
        .output()
        .expect("runs");
    assert!(signed.status.success());
    let mut env: serde_json::Value = serde_json::from_slice(&signed.stdout).expect("json");
    // Flip one character of the signature.
    let sig = env["signatures"][0]["sig"]
        .as_str()
        .expect("sig")
        .to_owned();
    let flipped: String = sig
        .char_indices()
        .map(|(i, c)| {
            if i == 5 {
                if c == 'A' { 'B' } else { 'A' }
            } else {
                c
            }
        })
        .collect();
    env["signatures"][0]["sig"] = serde_json::Value::String(flipped);
    let bad = f.write("bad-env.json", env.to_string().as_bytes());
    let out = custody()
        .args(["submit", "--ledger", f.ledger_str()])
        .arg(&bad)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("does not verify"),
        "{}",
        stderr_of(&out)
    );
    f.assert_unchanged(size);
}

#[test]
fn the_same_id_with_other_content_is_refused_and_a_retry_is_answered() {
    let f = Fixture::new();
    let id = r#","id":"01987a3c-5b2e-7c41-9a10-3f2b8c4d5e6f","occurred_at":"2025-08-04T02:15:00Z""#;
    let first = f.write("first.json", note_by(GATE_A, id).as_bytes());
    let receipt = run_json(&[
        "record",
        "--ledger",
        f.ledger_str(),
        "--key",
        f.key("gate-a").to_str().expect("path"),
        first.to_str().expect("path"),
    ]);
    let size = f.size();
    // A retry of the very same signed statement: same seq, nothing new.
    let retry = run_json(&[
        "record",
        "--ledger",
        f.ledger_str(),
        "--key",
        f.key("gate-a").to_str().expect("path"),
        first.to_str().expect("path"),
    ]);
    assert_eq!(retry["seq"], receipt["seq"]);
    assert_eq!(retry["duplicate"], true);
    // The same id with different words: refused, naming the original seq.
    let other = f.write(
        "other.json",
        note_by(GATE_A, id)
            .replace("Gate log checked", "Changed")
            .as_bytes(),
    );
    let out = custody()
        .args(["record", "--ledger", f.ledger_str(), "--key"])
        .arg(f.key("gate-a"))
        .arg(&other)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(5), "a conflict");
    let err = stderr_of(&out);
    assert!(
        err.contains("already recorded at seq") && err.contains("different content"),
        "{err}"
    );
    f.assert_unchanged(size);
}

#[test]
fn usage_errors_exit_2() {
    let out = custody().args(["verify"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let out = custody()
        .args([
            "record",
            "--ledger",
            "/nonexistent/x",
            "--key",
            "/nonexistent/k",
            "-",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let out = custody()
        .args(["checkpoint", "--ledger", "/nonexistent/ledger"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("custody init"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn a_sled_cache_setting_out_of_range_is_a_usage_error_naming_it_and_changes_nothing() {
    let f = Fixture::new();
    let size = f.size();
    for bad in ["abc", "0", "7", "65537", "-1", ""] {
        let out = custody()
            .env("CUSTODY_SLED_CACHE_MIB", bad)
            .args(["items", "--ledger", f.ledger_str()])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        let err = stderr_of(&out);
        assert!(
            err.contains("CUSTODY_SLED_CACHE_MIB") && err.contains("8..=65536"),
            "{err}"
        );
    }
    let out = custody()
        .env("CUSTODY_SLED_CACHE_MIB", "16")
        .args(["items", "--ledger", f.ledger_str()])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr_of(&out));
    f.assert_unchanged(size);
}

/// A command line clap cannot parse is told in Indonesian first (which argument, which value),
/// then in clap's own English, and exits 2 like every other usage error.
#[test]
fn a_command_line_that_does_not_parse_is_told_in_indonesian_too() {
    let f = Fixture::new();
    let cases: [(&[&str], &str, &str); 3] = [
        (
            &["verify", "--ledger", f.ledger_str(), "--bogus"],
            "argumen --bogus tidak dikenal",
            "unexpected argument '--bogus'",
        ),
        (
            &["holdings", "--ledger", f.ledger_str()],
            "argumen wajib belum diberikan: <OFFICER>",
            "required arguments were not provided",
        ),
        (
            &[
                "report",
                "--ledger",
                f.ledger_str(),
                "--out",
                "x.pdf",
                "--format",
                "docx",
            ],
            "nilai docx tidak sah untuk --format",
            "invalid value 'docx' for '--format",
        ),
    ];
    for (args, indonesian, english) in cases {
        let out = custody().args(args).output().expect("runs");
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.starts_with(&format!("error: perintah salah: {indonesian}")),
            "{args:?}: {err}"
        );
        assert!(err.contains(english), "{args:?}: {err}");
    }
}

/// A `CUSTODY_LANG` that names no language is refused before anything runs, in both languages,
/// rather than silently falling back to English.
#[test]
fn a_custody_lang_that_names_no_language_is_refused() {
    let f = Fixture::new();
    let out = custody()
        .env("CUSTODY_LANG", "jawa")
        .args(["items", "--ledger", f.ledger_str()])
        .output()
        .expect("runs");
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("CUSTODY_LANG berisi \"jawa\"")
            && err.contains("CUSTODY_LANG is \"jawa\": the terminal's language is id (Indonesian) or en (English)"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}
