//! House rules, checked on every `cargo test`: modules import only from their own layer or lower
//! ones (DESIGN.md §4), `ed25519_dalek` is named in one module only, the pure core does no I/O and
//! reads no clock or randomness, no `unwrap()` outside tests, and every source file opens with a
//! `//!` doc saying what it owns.

use std::path::{Path, PathBuf};

/// Layers, bottom-up. `signing` sits below the formats because envelopes and notes must sign and
/// verify; it decides nothing about which bytes are signed (ARCHITECTURE.md explains).
const LAYERS: &[(&str, &[&str])] = &[
    ("foundation", &["ids", "limits", "metrics", "time"]),
    ("keys", &["signing"]),
    (
        "formats",
        &["envelope", "httpsig", "leaf", "merkle", "note", "statement"],
    ),
    (
        "domain",
        &[
            "access",
            "custody",
            "rules",
            "projection",
            "audit",
            "clocks",
        ],
    ),
    ("storage", &["recovery", "store"]),
    (
        "application",
        &[
            "compose", "export", "ledger", "verify", "demo", "doctor", "bench", "bundle",
            "casefile", "queries", "reads",
        ],
    ),
    (
        "edges",
        &[
            "cli",
            "client",
            "render",
            "server",
            "report",
            "torture",
            "fuzz_harness",
        ],
    ),
];

/// Layers that must stay pure: no file system, network, clock or randomness.
const PURE: &[&str] = &["foundation", "formats", "domain"];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, mods)| mods.contains(&module))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path
                .file_name()
                .is_some_and(|n| n == "target" || n == "corpus" || n == "artifacts")
            {
                continue;
            }
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn src_modules() -> Vec<(String, String)> {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    files
        .into_iter()
        .filter_map(|p| {
            let name = p.file_stem()?.to_str()?.to_owned();
            let text = std::fs::read_to_string(&p).ok()?;
            Some((name, text))
        })
        .filter(|(name, _)| name != "lib" && name != "main")
        .collect()
}

/// The part of a file outside its `#[cfg(test)]` module.
fn non_test(text: &str) -> &str {
    text.split("#[cfg(test)]").next().unwrap_or(text)
}

/// Code lines, without `//` comments.
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.split("//").next().unwrap_or("")))
        .filter(|(_, l)| !l.trim().is_empty())
}

#[test]
fn every_module_has_a_layer() {
    for (name, _) in src_modules() {
        assert!(
            layer_of(&name).is_some(),
            "src/{name}.rs is in no layer: add it to LAYERS in tests/tidy.rs and to ARCHITECTURE.md"
        );
    }
}

/// Imports in `text` (module `name`) of modules from a higher layer.
fn layer_violations(name: &str, text: &str) -> Vec<String> {
    let mut violations = Vec::new();
    let Some(own) = layer_of(name) else {
        return violations;
    };
    for (line_no, line) in code_lines(non_test(text)) {
        for other in LAYERS.iter().flat_map(|(_, mods)| mods.iter()) {
            let used = line.contains(&format!("crate::{other}::"))
                || line.contains(&format!("crate::{other};"))
                || line.contains(&format!("crate::{other}}}"))
                || line.contains(&format!("crate::{{{other}"))
                || line.contains(&format!("crate::{{self, {other}"));
            let theirs = layer_of(other).unwrap_or(0);
            if used && theirs > own {
                violations.push(format!(
                    "src/{name}.rs:{line_no} ({}) uses {other} ({})",
                    LAYERS[own].0, LAYERS[theirs].0
                ));
            }
        }
    }
    violations
}

#[test]
fn no_module_imports_from_a_layer_above_its_own() {
    let violations: Vec<String> = src_modules()
        .iter()
        .flat_map(|(n, t)| layer_violations(n, t))
        .collect();
    assert!(
        violations.is_empty(),
        "layer violations:\n{}",
        violations.join("\n")
    );
}

#[test]
fn only_the_signing_module_names_ed25519_dalek() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let offenders: Vec<_> = files
        .iter()
        .filter(|p| p.file_stem().is_some_and(|s| s != "signing"))
        .filter(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains("ed25519_dalek")))
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "ed25519_dalek named outside src/signing.rs: {offenders:?}"
    );
}

#[test]
fn the_pure_core_does_no_io_and_reads_no_clock_or_randomness() {
    const FORBIDDEN: &[&str] = &[
        "std::fs",
        "std::net",
        "std::process",
        "std::env",
        "SystemTime",
        "Instant::now",
        "Timestamp::now",
        "getrandom",
        "rand::",
        "thread::spawn",
        "fill_random",
        "SecretKey::generate",
    ];
    let mut violations = Vec::new();
    for (name, text) in src_modules() {
        let Some(layer) = layer_of(&name) else {
            continue;
        };
        if !PURE.contains(&LAYERS[layer].0) {
            continue;
        }
        for (line_no, line) in code_lines(non_test(&text)) {
            for word in FORBIDDEN {
                // The clock's own home may read the clock, and nothing else may.
                if name == "time" && *word == "Timestamp::now" {
                    continue;
                }
                if line.contains(word) {
                    violations.push(format!("src/{name}.rs:{line_no}: {word}"));
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "impure core:\n{}",
        violations.join("\n")
    );
}

#[test]
fn no_unwrap_outside_tests() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut violations = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for (line_no, line) in code_lines(non_test(&text)) {
            if line.contains(".unwrap()") {
                violations.push(format!("{}:{line_no}", path.display()));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "unwrap() outside tests (use ? or expect with the invariant):\n{}",
        violations.join("\n")
    );
}

#[test]
fn every_source_file_opens_with_a_module_doc() {
    let mut files = Vec::new();
    for dir in ["src", "tests", "benches", "fuzz/fuzz_targets"] {
        rust_files(&root().join(dir), &mut files);
    }
    let missing: Vec<_> = files
        .iter()
        .filter(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            !text.trim_start().starts_with("//!")
        })
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "files without a leading //! doc: {missing:?}"
    );
}

#[test]
fn the_tidy_rules_can_fail() {
    // A guard against a checker that passes vacuously: it must see the modules and the layers.
    let modules = src_modules();
    assert!(
        modules.len() >= 10,
        "tidy sees only {} modules",
        modules.len()
    );
    assert!(non_test("a\n#[cfg(test)]\nb").trim() == "a");
    assert_eq!(layer_of("rules"), Some(3));
    assert!(layer_of("cli") > layer_of("ledger"));
    // A domain module reaching up into storage is caught; reaching down into formats is not.
    assert_eq!(
        layer_violations("rules", "use crate::store::SledStore;\n").len(),
        1
    );
    assert_eq!(
        layer_violations("rules", "use crate::statement::Statement;\n").len(),
        0
    );
    assert_eq!(
        layer_violations("rules", "#[cfg(test)]\nuse crate::ledger::Ledger;\n").len(),
        0
    );
}
