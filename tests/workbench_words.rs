//! The workbench's word catalogues (`src/base/words/id.json` and `en.json`) against the
//! schemas: every field of every statement type, every enumerated value, every item status and
//! every officer and signer role has a label in both languages, and neither catalogue has a word
//! the other lacks; and every word the code asks the catalogues for — the page's, the PDF
//! report's (`report.*`), the terminal's (`cli.*`) — is in both. The browser test
//! (tests/workbench.rs) then finds a labelled control for each field; this one finds the gaps
//! without a browser.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn catalogue(lang: &str) -> BTreeMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("src/base/words/{lang}.json"));
    let text = std::fs::read_to_string(&path).expect("catalogue is readable");
    serde_json::from_str(&text).expect("catalogue is a JSON object of strings")
}

/// Every property name and every `enum`/`const` value anywhere in the schemas.
fn schema_words() -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut fields, mut values) = (BTreeSet::new(), BTreeSet::new());
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
    for entry in std::fs::read_dir(dir).expect("schemas/ is readable") {
        let path = entry.expect("entry").path();
        if path.file_name().is_some_and(|n| n == "openapi.json") {
            continue;
        }
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("read"))
            .expect("schema is JSON");
        walk(&v, &mut fields, &mut values);
    }
    (fields, values)
}

fn walk(v: &Value, fields: &mut BTreeSet<String>, values: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::Object(props)) = map.get("properties") {
                fields.extend(props.keys().cloned());
            }
            if let Some(Value::Array(list)) = map.get("enum") {
                values.extend(list.iter().filter_map(Value::as_str).map(str::to_owned));
            }
            map.values().for_each(|x| walk(x, fields, values));
        }
        Value::Array(list) => list.iter().for_each(|x| walk(x, fields, values)),
        _ => {}
    }
}

#[test]
fn both_catalogues_have_the_same_words() {
    let (id, en) = (catalogue("id"), catalogue("en"));
    let only_id: Vec<_> = id.keys().filter(|k| !en.contains_key(*k)).collect();
    let only_en: Vec<_> = en.keys().filter(|k| !id.contains_key(*k)).collect();
    assert!(only_id.is_empty(), "in id.json only: {only_id:?}");
    assert!(only_en.is_empty(), "in en.json only: {only_en:?}");
    let empty: Vec<_> = id
        .iter()
        .chain(&en)
        .filter(|(_, v)| v.trim().is_empty())
        .collect();
    assert!(empty.is_empty(), "empty words: {empty:?}");
}

#[test]
fn every_schema_field_and_value_has_a_label_in_both_languages() {
    let (fields, values) = schema_words();
    assert!(
        fields.len() > 100 && values.len() > 80,
        "the walk found the schemas' words"
    );
    for lang in ["id", "en"] {
        let words = catalogue(lang);
        let missing: Vec<String> = fields
            .iter()
            .map(|f| format!("field.{f}"))
            .chain(values.iter().map(|v| format!("enum.{v}")))
            .filter(|k| !words.contains_key(k))
            .collect();
        assert!(missing.is_empty(), "{lang}.json lacks {missing:?}");
    }
}

#[test]
fn every_item_status_has_a_label() {
    for lang in ["id", "en"] {
        let words = catalogue(lang);
        for s in custody::Status::ALL {
            assert!(
                words.contains_key(&format!("enum.{}", s.as_str())),
                "{lang}.json lacks the status {}",
                s.as_str()
            );
        }
    }
}

/// Indonesian is the default, so its words must not simply be the English ones copied: at most a
/// few proper names and abbreviations (BNN, BPOM, WIB, NIK, …) are the same in both.
#[test]
fn the_indonesian_catalogue_is_not_the_english_one() {
    let (id, en) = (catalogue("id"), catalogue("en"));
    let same: Vec<_> = id
        .iter()
        .filter(|(k, v)| en.get(*k) == Some(v))
        .map(|(k, _)| k)
        .collect();
    assert!(
        same.len() * 10 < id.len(),
        "{} of {} words are the same in both: {same:?}",
        same.len(),
        id.len()
    );
}

/// Every `.rs` and `.js` file under `dir`, recursively.
fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e == "rs" || (e == "js" && !path.to_string_lossy().contains(".min.")))
        {
            out.push(path);
        }
    }
}

/// The catalogue keys a source file names as whole string literals: `"cli.seals"`,
/// `"report.the_acts"`, `t("item.masses")`.
fn keys_named(text: &str) -> BTreeSet<String> {
    const PREFIXES: &[&str] = &[
        "cli.",
        "report.",
        "case.",
        "item.",
        "incident.",
        "person.",
        "err.",
        "id.kind.",
        "id.rule.",
        "field_how.",
        "bundle.",
        "repair.",
        "audit.",
        "doctor.",
    ];
    // Every `"` that opens a prefix, read to the next `"`: counting quotes from the file's start
    // would lose its way at a `'"'` character literal or an escaped quote.
    let mut out = BTreeSet::new();
    for (at, _) in text.match_indices('"') {
        let rest = &text[at + 1..];
        let Some(end) = rest.find('"') else { continue };
        let quoted = &rest[..end];
        let is_key = PREFIXES.iter().any(|p| quoted.starts_with(p))
            && quoted.len() > 5
            && quoted
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
        if is_key {
            out.insert(quoted.to_owned());
        }
    }
    out
}

/// One catalogue of words per language for the page, the paper, the terminal and every error:
/// every key the code asks for — the workbench's `t("…")`, the PDF report's `tr(r, "report.…")`,
/// the terminal's `both("cli.…")` and `say("cli.…")`, every error's `msg("err.…")` — is in id.json
/// and in en.json, so a word missing from a language fails here rather than printing its key.
#[test]
fn every_word_the_code_asks_for_is_in_both_catalogues() {
    let (id, en) = (catalogue("id"), catalogue("en"));
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut asked = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable");
        for key in keys_named(&text) {
            asked += 1;
            assert!(
                id.contains_key(&key) && en.contains_key(&key),
                "{} asks for {key:?}, which id.json or en.json lacks",
                file.display()
            );
        }
    }
    assert!(asked > 100, "the scan found the code's keys ({asked})");
}

/// The `{name}` places of a catalogue sentence.
fn places(sentence: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = sentence;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close)
                if close > 0
                    && after[..close]
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                out.insert(after[..close].to_owned());
                rest = &after[close + 1..];
            }
            _ => rest = after,
        }
    }
    out
}

/// A sentence says the same values in both languages: a translation that dropped `{seq}` or
/// misspelt `{item}` would print a message without the value the reader needs (or with the
/// place's name in braces), so each key's places must be the same in id.json and en.json.
#[test]
fn every_sentence_has_the_same_places_in_both_languages() {
    // The one sentence whose languages say a date differently: Indonesian practice spells out
    // day, date, month, year and hour ("Pada hari ini Senin, tanggal …"); English writes it whole.
    const SAID_DIFFERENTLY: &[&str] = &["report.today"];
    let (id, en) = (catalogue("id"), catalogue("en"));
    let differ: Vec<String> = id
        .iter()
        .filter(|(key, _)| !SAID_DIFFERENTLY.contains(&key.as_str()))
        .filter_map(|(key, id_text)| {
            let en_text = en.get(key)?;
            (places(id_text) != places(en_text)).then(|| {
                format!(
                    "{key}: id {:?} vs en {:?}",
                    places(id_text),
                    places(en_text)
                )
            })
        })
        .collect();
    assert!(differ.is_empty(), "places differ: {differ:#?}");
    assert_eq!(
        places("{item} at seq {seq}, not {x y} or {}"),
        ["item", "seq"].map(String::from).into()
    );
}

/// The other way round: every error and terminal sentence in the catalogues (`err.*`, `cli.*`,
/// `field_how.*`, `id.*`, `bundle.*`, `repair.*`, `audit.*`, `doctor.*`) is asked for by the code, so a sentence the code stopped saying does
/// not linger for translators to keep up.
#[test]
fn every_error_and_terminal_sentence_in_the_catalogue_is_used() {
    let en = catalogue("en");
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut named = BTreeSet::new();
    for file in files {
        named.extend(keys_named(
            &std::fs::read_to_string(&file).expect("readable"),
        ));
    }
    let unused: Vec<&String> = en
        .keys()
        .filter(|k| {
            [
                "err.",
                "cli.",
                "field_how.",
                "id.",
                "bundle.",
                "repair.",
                "audit.",
                "doctor.",
            ]
            .iter()
            .any(|p| k.starts_with(p))
        })
        .filter(|k| !named.contains(*k))
        .collect();
    assert!(
        unused.is_empty(),
        "in the catalogues, asked for by no code: {unused:?}"
    );
}

/// No ledger can judge evidence legally valid (*sah*): what the terminal and the reports say of a
/// verification names what was checked. "tidak sah" stays in error messages, where it means an
/// input is invalid, not a judgement of evidence.
#[test]
fn no_sentence_of_the_terminal_or_the_reports_calls_anything_sah() {
    let id = catalogue("id");
    let judged: Vec<&String> = id
        .iter()
        .filter(|(k, _)| !k.starts_with("err.") && !k.starts_with("class."))
        .filter(|(_, v)| {
            v.split(|c: char| !c.is_alphanumeric())
                .any(|w| w.eq_ignore_ascii_case("sah"))
        })
        .map(|(k, _)| k)
        .collect();
    assert!(judged.is_empty(), "calls something sah: {judged:?}");
}
