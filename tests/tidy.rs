//! House rules, checked on every `cargo test`: modules import only from their own layer or lower
//! ones (ARCHITECTURE.md, "Layers"), `ed25519_dalek` is named in one module only, the pure core does no I/O and
//! reads no clock or randomness, no `unwrap()` outside tests, and every source file opens with a
//! `//!` doc saying what it owns.

use std::path::{Path, PathBuf};

/// Layers, bottom-up: each is a folder of `src/`, and a module's layer is the folder it sits in.
/// `keys` sits below the formats because envelopes and notes must sign and verify; it decides
/// nothing about which bytes are signed (ARCHITECTURE.md explains).
const LAYERS: &[&str] = &["base", "keys", "format", "domain", "storage", "app", "edge"];

/// Layers that must stay pure: no file system, network, clock or randomness.
const PURE: &[&str] = &["base", "format", "domain"];

fn layer_of(layer: &str) -> Option<usize> {
    LAYERS.iter().position(|l| *l == layer)
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

/// A source file of the library: its layer (its folder), its module name, its text.
struct Module {
    /// The layer folder (`""` for a file outside every layer folder).
    layer: String,
    /// The layer's module the file belongs to: its stem, or for a file in a module's own folder
    /// (`src/edge/cli/queries.rs`) that folder's name (`cli`).
    name: String,
    /// The path below `src/`, for messages.
    relative: String,
    text: String,
}

impl Module {
    fn path(&self) -> String {
        format!("src/{}", self.relative)
    }
}

/// Every `.rs` file under `src/` except `lib.rs` and `main.rs`. A file outside a layer folder
/// gets the layer `""`, which no layer has.
fn src_modules() -> Vec<Module> {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    files
        .into_iter()
        .filter_map(|p| {
            let relative = p.strip_prefix(root().join("src")).ok()?.to_path_buf();
            let text = std::fs::read_to_string(&p).ok()?;
            let parts: Vec<String> = relative
                .iter()
                .map(|c| c.to_string_lossy().into_owned())
                .collect();
            let stem = |s: &str| s.trim_end_matches(".rs").to_owned();
            let (layer, name) = match parts.as_slice() {
                [file] => (String::new(), stem(file)),
                [layer, file] => (layer.clone(), stem(file)),
                [layer, module, ..] => (layer.clone(), module.clone()),
                [] => return None,
            };
            let relative = relative.display().to_string();
            Some(Module {
                layer,
                name,
                relative,
                text,
            })
        })
        .filter(|m| !(m.layer.is_empty() && (m.name == "lib" || m.name == "main")))
        .collect()
}

/// The paths a line of code names through `crate::`, each as its first two segments (layer and
/// module, or just the layer): `crate::app::ledger::Ledger` gives `["app", "ledger"]`;
/// `crate::{app::ledger, format::{leaf, note}}` gives three paths.
fn paths_used(line: &str) -> Vec<Vec<String>> {
    let mut used = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        expand(rest, Vec::new(), &mut used);
    }
    used
}

/// Reads one `use` tree at `text` after `prefix`, pushing each path's first two segments.
fn expand(text: &str, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    if prefix.len() == 2 {
        out.push(prefix);
        return;
    }
    if let Some(inner) = text.strip_prefix('{') {
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    expand(inner[start..i].trim(), prefix.clone(), out);
                    return;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(inner[start..i].trim(), prefix.clone(), out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        return;
    }
    let name: String = text
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if name.is_empty() || name == "self" {
        if !prefix.is_empty() {
            out.push(prefix);
        }
        return;
    }
    let after = &text[name.len()..];
    let mut path = prefix;
    path.push(name);
    match after.strip_prefix("::") {
        Some(next) => expand(next, path, out),
        None => out.push(path),
    }
}

/// The layers a line of code names through `crate::` paths.
fn layers_used(line: &str) -> Vec<String> {
    paths_used(line).into_iter().map(|p| p[0].clone()).collect()
}

/// The text of a file without its `#[cfg(test)]` items (each the attribute and the item after
/// it, to its closing brace): code after a test module is read like any other.
fn non_test(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        rest = &rest[at + "#[cfg(test)]".len()..];
        // Skip the item: up to its `;` (a `use`) or its balanced `{ … }` block.
        let mut depth = 0usize;
        let mut end = rest.len();
        for (i, c) in rest.char_indices() {
            match c {
                ';' if depth == 0 => {
                    end = i + 1;
                    break;
                }
                '{' => depth += 1,
                '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        // Keep the line count, so that line numbers after a test module stay true.
        out.push_str(&"\n".repeat(rest[..end].matches('\n').count()));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Which modules each module's code (tests left out) names: `layer/module` → `layer/module`s.
fn graph<'a>(
    modules: impl Iterator<Item = (&'a str, &'a str, &'a str)>,
) -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let mut edges = std::collections::BTreeMap::new();
    for (layer, name, text) in modules {
        let me = format!("{layer}/{name}");
        let entry: &mut std::collections::BTreeSet<String> = edges.entry(me.clone()).or_default();
        for (_, line) in code_lines(&non_test(text)) {
            for path in paths_used(line) {
                if let [l, m] = path.as_slice() {
                    let other = format!("{l}/{m}");
                    if other != me {
                        entry.insert(other);
                    }
                }
            }
        }
    }
    edges
}

/// Every cycle of the graph, each once, as the modules on it (a depth-first search that reports
/// a back edge's loop).
fn cycles(
    edges: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
) -> Vec<Vec<String>> {
    fn visit(
        node: &str,
        edges: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut std::collections::BTreeSet<String>,
        found: &mut Vec<Vec<String>>,
    ) {
        if let Some(at) = stack.iter().position(|n| n == node) {
            found.push(stack[at..].to_vec());
            return;
        }
        if done.contains(node) {
            return;
        }
        stack.push(node.to_owned());
        for next in edges.get(node).into_iter().flatten() {
            visit(next, edges, stack, done, found);
        }
        stack.pop();
        done.insert(node.to_owned());
    }
    let mut found = Vec::new();
    let mut done = std::collections::BTreeSet::new();
    for node in edges.keys() {
        visit(node, edges, &mut Vec::new(), &mut done, &mut found);
    }
    found
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
    for m in src_modules() {
        assert!(
            layer_of(&m.layer).is_some(),
            "src/{}{}.rs is in no layer folder: move it into one of {LAYERS:?} (and ARCHITECTURE.md's code map)",
            if m.layer.is_empty() {
                String::new()
            } else {
                format!("{}/", m.layer)
            },
            m.name
        );
    }
}

/// Imports in `text` (the file `file` below `src/`, of `layer`) of modules from a higher layer.
fn layer_violations(layer: &str, file: &str, text: &str) -> Vec<String> {
    let mut violations = Vec::new();
    let Some(own) = layer_of(layer) else {
        return violations;
    };
    for (line_no, line) in code_lines(&non_test(text)) {
        for other in layers_used(line) {
            let Some(theirs) = layer_of(&other) else {
                continue;
            };
            if theirs > own {
                violations.push(format!("src/{file}:{line_no} ({layer}) uses {other}"));
            }
        }
    }
    violations
}

#[test]
fn no_module_imports_from_a_layer_above_its_own() {
    let violations: Vec<String> = src_modules()
        .iter()
        .flat_map(|m| layer_violations(&m.layer, &m.relative, &m.text))
        .collect();
    assert!(
        violations.is_empty(),
        "layer violations:\n{}",
        violations.join("\n")
    );
}

#[test]
fn no_module_cycles_at_any_level() {
    let modules = src_modules();
    let edges = graph(
        modules
            .iter()
            .map(|m| (m.layer.as_str(), m.name.as_str(), m.text.as_str())),
    );
    let found = cycles(&edges);
    assert!(
        found.is_empty(),
        "modules that import each other in a circle (break it by moving the shared part down, or by passing it in):\n{}",
        found
            .iter()
            .map(|c| c.join(" -> "))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Inside a module's own folder (`src/edge/cli/`), which of its files each file names through
/// `super::`: `common` → `args` when common.rs says `use super::args::…`.
fn folder_graph(
    modules: &[Module],
) -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let mut edges = std::collections::BTreeMap::new();
    for m in modules {
        let parts: Vec<&str> = m.relative.trim_end_matches(".rs").split('/').collect();
        let [layer, module, file] = parts.as_slice() else {
            continue;
        };
        let me = format!("{layer}/{module}/{file}");
        let entry: &mut std::collections::BTreeSet<String> = edges.entry(me.clone()).or_default();
        for (_, line) in code_lines(&non_test(&m.text)) {
            let mut rest = line;
            while let Some(at) = rest.find("super::") {
                rest = &rest[at + "super::".len()..];
                let mut names = Vec::new();
                expand(rest, Vec::new(), &mut names);
                for name in names.iter().filter_map(|p| p.first()) {
                    let other = format!("{layer}/{module}/{name}");
                    if other != me {
                        entry.insert(other);
                    }
                }
            }
        }
    }
    edges
}

#[test]
fn no_cycles_between_the_files_of_a_module_folder() {
    let modules = src_modules();
    let edges = folder_graph(&modules);
    assert!(
        edges.keys().any(|k| k.starts_with("edge/cli/")),
        "tidy sees no module folder"
    );
    let found = cycles(&edges);
    assert!(
        found.is_empty(),
        "files of one module folder that import each other in a circle:\n{}",
        found
            .iter()
            .map(|c| c.join(" -> "))
            .collect::<Vec<_>>()
            .join("\n")
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
        "ed25519_dalek named outside src/keys/signing.rs: {offenders:?}"
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
    for m in src_modules() {
        if !PURE.contains(&m.layer.as_str()) {
            continue;
        }
        for (line_no, line) in code_lines(&non_test(&m.text)) {
            for word in FORBIDDEN {
                // The clock's own home may read the clock, and nothing else may.
                if m.name == "time" && *word == "Timestamp::now" {
                    continue;
                }
                if line.contains(word) {
                    violations.push(format!("{}:{line_no}: {word}", m.path()));
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
        for (line_no, line) in code_lines(&non_test(&text)) {
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
        modules.len() >= 40,
        "tidy sees only {} modules",
        modules.len()
    );
    assert!(
        modules
            .iter()
            .any(|m| m.layer == "domain" && m.name == "rules")
    );
    let edges = graph(
        modules
            .iter()
            .map(|m| (m.layer.as_str(), m.name.as_str(), m.text.as_str())),
    );
    let imports: usize = edges.values().map(|e| e.len()).sum();
    assert!(
        imports >= 150,
        "tidy sees only {imports} imports between modules"
    );
    assert!(edges["domain/custody"].contains("domain/rules"));
    assert_eq!(
        non_test("a\n#[cfg(test)]\nmod t { x }\nb").replace('\n', ""),
        "ab"
    );
    assert_eq!(
        paths_used("use crate::{app::ledger, format::{leaf, note}};").len(),
        3
    );
    let cyclic = [
        ("a", "x", "crate::a::y::f();"),
        ("a", "y", "use crate::a::x;"),
    ];
    assert_eq!(
        cycles(&graph(cyclic.iter().map(|(l, n, t)| (*l, *n, *t)))).len(),
        1
    );
    assert!(layer_of("edge") > layer_of("app"));
    // A domain module reaching up into storage is caught; reaching down into formats is not.
    let up = "use crate::storage::store::LedgerStore;\n";
    assert_eq!(layer_violations("domain", "domain/rules.rs", up).len(), 1);
    let grouped = "use crate::{format::leaf, app::ledger::Ledger};\n";
    assert_eq!(
        layer_violations("domain", "domain/rules.rs", grouped).len(),
        1
    );
    let down = "use crate::format::statement::Statement;\n";
    assert_eq!(layer_violations("domain", "domain/rules.rs", down).len(), 0);
    let in_tests = "#[cfg(test)]\nuse crate::app::ledger::Ledger;\n";
    assert_eq!(
        layer_violations("domain", "domain/rules.rs", in_tests).len(),
        0
    );
}
