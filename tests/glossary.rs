//! docs/GLOSSARY.md lists every Indonesian name the code gives: the acts (statement types), the
//! item statuses, the audit's classes and severities, and the roles as the workbench labels them.
//! A name added in the code and not in the glossary fails here, and so does a glossary row with
//! no English rendering.

use custody::audit::{CLASSES_INDONESIAN, Severity};
use custody::{OfficerRole, SignerRole, StatementType, Status};
use std::collections::BTreeMap;

/// The glossary's rows: the Indonesian term (lower case, without the `*` of emphasis) and its
/// English rendering.
fn glossary() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/GLOSSARY.md"))
        .expect("docs/GLOSSARY.md");
    text.lines()
        .filter(|l| l.starts_with("| *"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            (
                cells[0].trim_matches('*').to_lowercase(),
                cells.get(1).copied().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The workbench's Indonesian label of an enumeration value (`enum.<value>` in id.json).
fn workbench_label(value: &str) -> String {
    let catalogue: serde_json::Value = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/base/words/id.json"
    )))
    .expect("id.json");
    catalogue[format!("enum.{value}")]
        .as_str()
        .unwrap_or_else(|| panic!("id.json labels enum.{value}"))
        .to_owned()
}

/// Every Indonesian name the code gives, with where it comes from.
fn names_in_the_code() -> Vec<(String, String)> {
    let mut names = Vec::new();
    for t in StatementType::ALL {
        names.push((
            t.indonesian().to_owned(),
            format!("statement type {}", t.as_str()),
        ));
    }
    for s in Status::ALL {
        names.push((s.indonesian().to_owned(), format!("status {}", s.as_str())));
    }
    for (class, name) in CLASSES_INDONESIAN {
        names.push((name.to_owned(), format!("audit class {class}")));
    }
    for s in ["info", "warning", "serious", "critical"] {
        let severity = Severity::parse(s).expect("a severity");
        names.push((severity.indonesian().to_owned(), format!("severity {s}")));
    }
    for r in OfficerRole::ALL {
        names.push((
            workbench_label(r.as_str()),
            format!("officer role {}", r.as_str()),
        ));
    }
    for r in SignerRole::ALL {
        names.push((
            workbench_label(r.as_str()),
            format!("signer role {}", r.as_str()),
        ));
    }
    names
}

#[test]
fn every_indonesian_name_the_code_gives_is_in_the_glossary() {
    let glossary = glossary();
    let missing: Vec<String> = names_in_the_code()
        .into_iter()
        .filter(|(name, _)| !glossary.contains_key(&name.to_lowercase()))
        .map(|(name, from)| format!("{name:?} ({from})"))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/GLOSSARY.md lacks: {}",
        missing.join(", ")
    );
}

#[test]
fn every_glossary_term_has_an_english_rendering() {
    let glossary = glossary();
    assert!(
        glossary.len() > 80,
        "the glossary's rows are read ({})",
        glossary.len()
    );
    for (term, english) in &glossary {
        assert!(!english.is_empty(), "{term} has no English rendering");
    }
}
