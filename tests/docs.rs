//! The documentation cannot drift from the code it describes:
//!
//! - every statement type in `schemas/` is named in docs/FORMAT.md and docs/EVENTS.md, each of its
//!   top-level body fields is named (in backticks) in its row of FORMAT.md §4.4 and of EVENTS.md,
//!   and every property its schema defines at any depth (nested objects, array items, `oneOf`
//!   branches and the shared `$defs` of `schemas/common.json` it refers to) is named in backticks
//!   in EVENTS.md;
//! - every subcommand and every long flag that `custody --help` and `custody <sub> --help` list
//!   (asked of the real binary) appears in README.md or docs/*.md;
//! - every `custody <subcommand>` written in code in README.md or docs/*.md (fenced blocks and
//!   inline code) names a subcommand the binary has.
//!
//! Each parser is also checked to find at least a plausible number of things, so that a parser
//! that silently finds nothing cannot make these tests pass.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// README.md and every docs/*.md, as (path, text).
fn user_docs() -> Vec<(String, String)> {
    let mut docs = vec![("README.md".to_owned(), read("README.md"))];
    let mut names: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs/")
        .map(|e| e.expect("docs/ entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    names.sort();
    for p in names {
        let rel = format!("docs/{}", p.file_name().expect("name").to_string_lossy());
        docs.push((rel.clone(), read(&rel)));
    }
    docs
}

// ---------------------------------------------------------------------------------------------
// Schemas

/// The statement types: every schemas/<type>.json except the shared and HTTP ones.
fn statement_types() -> Vec<String> {
    let mut types: Vec<String> = std::fs::read_dir(root().join("schemas"))
        .expect("schemas/")
        .map(|e| e.expect("schemas/ entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| p.file_stem().expect("stem").to_string_lossy().into_owned())
        .filter(|n| n != "common" && n != "openapi")
        .collect();
    types.sort();
    types
}

fn schema(name: &str) -> serde_json::Value {
    serde_json::from_str(&read(&format!("schemas/{name}.json")))
        .unwrap_or_else(|e| panic!("schemas/{name}.json: {e}"))
}

/// Property names of a schema at every depth: `properties`, array `items`, `additionalProperties`,
/// `oneOf`/`anyOf`/`allOf` branches and `if`/`then`/`else`. With `common`, references into
/// `schemas/common.json` (`urn:custody:schema:common#/$defs/…`, or `#/$defs/…` inside it) are
/// followed too, each definition once; `local` collects only what the schema itself spells out.
fn walk(
    s: &serde_json::Value,
    common: Option<&serde_json::Value>,
    seen_defs: &mut BTreeSet<String>,
    out: &mut BTreeSet<String>,
) {
    let Some(obj) = s.as_object() else { return };
    if let (Some(common), Some(r)) = (common, obj.get("$ref").and_then(|r| r.as_str()))
        && let Some(def) = r.rsplit("/$defs/").next().filter(|_| r.contains("/$defs/"))
        && seen_defs.insert(def.to_owned())
    {
        let target = &common["$defs"][def];
        assert!(!target.is_null(), "{r} names no definition in common.json");
        walk(target, Some(common), seen_defs, out);
    }
    if let Some(props) = obj.get("properties").and_then(|p| p.as_object()) {
        for (name, sub) in props {
            out.insert(name.clone());
            walk(sub, common, seen_defs, out);
        }
    }
    for key in ["items", "additionalProperties", "if", "then", "else"] {
        if let Some(sub) = obj.get(key) {
            walk(sub, common, seen_defs, out);
        }
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        for sub in obj
            .get(key)
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            walk(sub, common, seen_defs, out);
        }
    }
}

/// The top-level body fields of a statement type (its own `properties`, without `type`).
fn body_fields(s: &serde_json::Value) -> BTreeSet<String> {
    s["properties"]
        .as_object()
        .expect("a statement schema has properties")
        .keys()
        .filter(|k| *k != "type")
        .cloned()
        .collect()
}

/// Every property a statement of this type can carry, at any depth, the common fields included.
fn all_properties(s: &serde_json::Value, common: &serde_json::Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut seen = BTreeSet::new();
    walk(s, Some(common), &mut seen, &mut out);
    walk(common, Some(common), &mut seen, &mut out);
    out
}

/// Whether `text` contains `` `name` `` (the name alone in a code span).
fn in_backticks(text: &str, name: &str) -> bool {
    text.contains(&format!("`{name}`"))
}

/// The table row of a document that starts with `` | `type` | ``.
fn row<'a>(doc: &'a str, kind: &str) -> Option<&'a str> {
    let start = format!("| `{kind}` |");
    doc.lines().find(|l| l.starts_with(&start))
}

#[test]
fn the_schema_walker_finds_the_fields() {
    let types = statement_types();
    assert!(
        types.len() >= 24,
        "found only {} statement types in schemas/: {types:?}",
        types.len()
    );
    assert!(types.iter().any(|t| t == "note_added"));
    assert!(!types.iter().any(|t| t == "common" || t == "openapi"));
    let common = schema("common");
    let props = all_properties(&schema("status_determined"), &common);
    for p in [
        "order_number",
        "items",
        "item",
        "status",
        "retained_mass_mg",
        "after",
        "signers",
        "role",
    ] {
        assert!(
            props.contains(p),
            "walker missed {p} in status_determined: {props:?}"
        );
    }
    let person = all_properties(&schema("seizure_recorded"), &common);
    for p in [
        "possessor",
        "warrant",
        "issued_by",
        "nik",
        "passport",
        "nationality",
        "sdp",
    ] {
        assert!(
            person.contains(p),
            "walker missed {p} in seizure_recorded: {person:?}"
        );
    }
    let total: BTreeSet<String> = types
        .iter()
        .flat_map(|t| all_properties(&schema(t), &common))
        .collect();
    assert!(
        total.len() >= 100,
        "found only {} distinct properties",
        total.len()
    );
    // The checks below can fail: a row that lacks a field is caught.
    let fake = "| `weighed` | penimbangan | `item`, `gross_mass_mg` |";
    let missing: Vec<String> = body_fields(&schema("weighed"))
        .into_iter()
        .filter(|f| !in_backticks(row(fake, "weighed").expect("row"), f))
        .collect();
    assert!(missing.contains(&"net_mass_mg".to_owned()), "{missing:?}");
}

#[test]
fn every_statement_type_and_field_is_documented() {
    let format = read("docs/FORMAT.md");
    let events = read("docs/EVENTS.md");
    let common = schema("common");
    let mut problems = Vec::new();
    for kind in statement_types() {
        let s = schema(&kind);
        assert_eq!(
            s["properties"]["type"]["const"], kind,
            "schemas/{kind}.json must fix type to its file name"
        );
        for (doc, text) in [("docs/FORMAT.md", &format), ("docs/EVENTS.md", &events)] {
            match row(text, &kind) {
                None => problems.push(format!("{doc} has no table row starting | `{kind}` |")),
                Some(r) => {
                    for f in body_fields(&s) {
                        if !in_backticks(r, &f) {
                            problems
                                .push(format!("{doc}: the row of `{kind}` does not name `{f}`"));
                        }
                    }
                }
            }
        }
        for p in all_properties(&s, &common) {
            if !in_backticks(&events, &p) {
                problems.push(format!(
                    "docs/EVENTS.md never names `{p}` (a property of schemas/{kind}.json)"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The count of types the docs state is the count of schemas.
#[test]
fn the_docs_count_the_statement_types_right() {
    let n = statement_types().len();
    assert!(
        read("docs/EVENTS.md").contains(&format!("one of the {n} rows below")),
        "docs/EVENTS.md must say `one of the {n} rows below`"
    );
    assert!(
        read("docs/FORMAT.md").contains(&format!("There are {n} statement types")),
        "docs/FORMAT.md must say `There are {n} statement types`"
    );
}

// ---------------------------------------------------------------------------------------------
// The command line

/// What one `--help` page lists: subcommands (without clap's own `help`) and long flags.
#[derive(Debug, Default)]
struct HelpPage {
    commands: Vec<String>,
    flags: Vec<String>,
}

fn parse_help(text: &str) -> HelpPage {
    let mut page = HelpPage::default();
    let mut section = "";
    for line in text.lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            section = line;
            continue;
        }
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.len() == line.len() {
            continue;
        }
        match section {
            "Commands:" => {
                let name = trimmed.split_whitespace().next().expect("a command name");
                if name != "help" {
                    page.commands.push(name.to_owned());
                }
            }
            "Options:" if trimmed.starts_with('-') => {
                // `-h, --help  …` or `--ledger <DIR>  …`: the long flag of the line.
                if let Some(at) = trimmed.find("--") {
                    let flag: String = trimmed[at..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                        .collect();
                    if flag.len() > 2 {
                        page.flags.push(flag);
                    }
                }
            }
            _ => {}
        }
    }
    page
}

fn help(path: &[String]) -> HelpPage {
    let out = assert_cmd::Command::cargo_bin("custody")
        .expect("the custody binary")
        .args(path)
        .arg("--help")
        .output()
        .expect("custody runs");
    assert!(
        out.status.success(),
        "custody {} --help failed",
        path.join(" ")
    );
    parse_help(&String::from_utf8(out.stdout).expect("UTF-8 help"))
}

/// Every command path (`["key", "new"]`, …) with the long flags its help lists.
fn command_tree() -> BTreeMap<Vec<String>, Vec<String>> {
    let mut tree = BTreeMap::new();
    let mut todo = vec![Vec::new()];
    while let Some(path) = todo.pop() {
        let page = help(&path);
        for c in &page.commands {
            let mut sub = path.clone();
            sub.push(c.clone());
            todo.push(sub);
        }
        tree.insert(path, page.flags);
    }
    tree
}

/// Whether `text` contains `needle` not followed by a character that would continue a flag or
/// command name (so `--admin` is not found in `--admin-key`).
fn has_word(text: &str, needle: &str) -> bool {
    text.match_indices(needle).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + needle.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

#[test]
fn the_help_parser_finds_commands_and_flags() {
    let tree = command_tree();
    let top: Vec<&Vec<String>> = tree.keys().filter(|p| p.len() == 1).collect();
    assert!(
        top.len() >= 30,
        "found only {} subcommands: {top:?}",
        top.len()
    );
    for nested in [
        ["key", "new"],
        ["prove", "inclusion"],
        ["bundle", "verify"],
        ["bench", "append"],
    ] {
        let path: Vec<String> = nested.iter().map(|s| s.to_string()).collect();
        assert!(
            tree.contains_key(&path),
            "missed custody {}",
            nested.join(" ")
        );
    }
    let flags: BTreeSet<&String> = tree.values().flatten().collect();
    assert!(
        flags.len() >= 50,
        "found only {} distinct long flags",
        flags.len()
    );
    for f in ["--ledger", "--json", "--as-of", "--fill-after", "--help"] {
        assert!(flags.iter().any(|x| *x == f), "missed {f}");
    }
    assert!(has_word("use --admin-key FILE", "--admin-key"));
    assert!(!has_word("use --admin-key FILE", "--admin"));
}

#[test]
fn every_subcommand_and_flag_is_documented() {
    let docs: String = user_docs().into_iter().map(|(_, t)| t + "\n").collect();
    let mut problems = Vec::new();
    for (path, flags) in command_tree() {
        match path.as_slice() {
            [] => {}
            // A top-level command as it is typed: `custody verify`.
            [one] => {
                if !has_word(&docs, &format!("custody {one}")) {
                    problems.push(format!("`custody {one}` is documented nowhere"));
                }
            }
            // A nested one by its last two words: `bench append`, `prove inclusion`.
            [.., parent, last] => {
                if !has_word(&docs, &format!("{parent} {last}")) {
                    problems.push(format!(
                        "`custody {}` is documented nowhere",
                        path.join(" ")
                    ));
                }
            }
        }
        for f in flags {
            if !has_word(&docs, &f) {
                problems.push(format!(
                    "`{f}` (custody {} --help) is documented nowhere",
                    path.join(" ")
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "README.md and docs/*.md must mention these:\n{}",
        problems.join("\n")
    );
}

/// The code in a Markdown text: fenced blocks and inline code spans.
fn code_of(markdown: &str) -> Vec<String> {
    let mut code = Vec::new();
    let mut fence: Option<String> = None;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            match fence.take() {
                Some(block) => code.push(block),
                None => fence = Some(String::new()),
            }
            continue;
        }
        match fence.as_mut() {
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {
                let mut parts = line.split('`');
                parts.next();
                while let (Some(span), Some(_)) = (parts.next(), parts.next()) {
                    code.push(span.to_owned());
                }
            }
        }
    }
    code
}

/// Every `custody <word>…` in a piece of code: the words that follow `custody` as a command,
/// stopping at the first argument that is not a plain lower-case word.
fn invocations(code: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for (at, _) in code.match_indices("custody ") {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.') {
            continue;
        }
        let words: Vec<String> = code[at + "custody ".len()..]
            .split_whitespace()
            .take(2)
            .take_while(|w| {
                w.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                    && w.chars().all(|c| c.is_ascii_lowercase() || c == '-')
            })
            .map(str::to_owned)
            .collect();
        if !words.is_empty() {
            found.push(words);
        }
    }
    found
}

/// The invocations in `markdown` that name no command of `tree`.
fn unknown_commands(
    markdown: &str,
    tree: &BTreeMap<Vec<String>, Vec<String>>,
) -> (usize, Vec<String>) {
    let mut seen = 0;
    let mut bad = Vec::new();
    for code in code_of(markdown) {
        for words in invocations(&code) {
            seen += 1;
            let top = vec![words[0].clone()];
            if !tree.contains_key(&top) {
                bad.push(format!("custody {}", words[0]));
                continue;
            }
            // A command with subcommands: the next word, if it is one, must be one of them.
            let has_subcommands = tree.keys().any(|k| k.len() == 2 && k[0] == words[0]);
            if has_subcommands
                && let Some(next) = words.get(1)
                && !tree.contains_key(&vec![words[0].clone(), next.clone()])
            {
                bad.push(format!("custody {} {next}", words[0]));
            }
        }
    }
    (seen, bad)
}

#[test]
fn every_command_the_docs_show_exists() {
    let tree = command_tree();
    // The check can fail.
    let (_, bad) = unknown_commands(
        "```sh\ncustody frobnicate --ledger x\ncustody prove everything 3\n```\nand `custody verify`",
        &tree,
    );
    assert_eq!(bad, ["custody frobnicate", "custody prove everything"]);
    let mut total = 0;
    let mut problems = Vec::new();
    for (path, text) in user_docs() {
        let (seen, bad) = unknown_commands(&text, &tree);
        total += seen;
        problems.extend(
            bad.into_iter()
                .map(|b| format!("{path}: `{b}` is not a command")),
        );
    }
    assert!(
        total >= 40,
        "found only {total} `custody …` invocations in the docs' code"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// README.md, ARCHITECTURE.md and docs/ may name DOMAIN.md only as docs/DOMAIN.md (the file in
/// this repository), and DESIGN.md not at all: a fresh clone has nothing else.
#[test]
fn the_docs_send_no_one_outside_the_repository() {
    for (path, text) in user_docs()
        .into_iter()
        .chain([("ARCHITECTURE.md".to_owned(), read("ARCHITECTURE.md"))])
    {
        for (n, line) in text.lines().enumerate() {
            for name in ["DESIGN.md", "DOMAIN.md"] {
                for (at, _) in line.match_indices(name) {
                    let ok = name == "DOMAIN.md"
                        && (line[..at].ends_with("docs/")
                            || (path.starts_with("docs/") && !line[..at].ends_with('/')));
                    assert!(
                        ok,
                        "{path}:{}: {name} must be docs/DOMAIN.md (or, in docs/, DOMAIN.md): {line}",
                        n + 1
                    );
                }
            }
        }
    }
    assert!(Path::new(&root().join("docs/DOMAIN.md")).is_file());
}
