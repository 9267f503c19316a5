//! The tamper matrix: every way of altering a ledger at rest that the fault model names, tried
//! many times at random places against the sled directory, the checkpoint file beside it and a
//! tlog-tiles export. A trial counts as detected when `custody verify` fails (or the ledger
//! refuses to open) with a message naming what broke, and as harmless when verification passes
//! and the log is unchanged (same size and root: the flip hit bytes that carry no data) and —
//! for a sled ledger — every view still answers exactly as before the tamper: the `--json`
//! output of every investigator query (items, each item and its history, holdings of every
//! officer and unit, pending, incidents, persons, facilities, officers, the audit) and the views'
//! digest (`custody rebuild`). The trials read the views through the library, whose answers are
//! first checked to be byte for byte what `custody … --json` prints on the untouched ledger
//! (one process per query per trial would make the matrix slow). An export is harmless only when
//! its files are byte for byte the original's. Anything else is undetected, and fails the test.
//! The table is printed (`-- --nocapture`).
//!
//! `CUSTODY_TAMPER_TRIALS` (default 8) sets the trials per random case and
//! `CUSTODY_TAMPER_SEED` the seed; docs/RELIABILITY.md records a long run.

mod common;

use common::*;
use custody::Envelope;
use custody::Leaf;
use custody::Ledger;
use custody::SecretKey;
use custody::merkle::Hash;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The moment the audit judges open clocks at, fixed so that its answer is reproducible.
const AS_OF: &str = "2025-08-22T01:00:00Z";

/// A small seeded generator so a failing trial can be replayed from the printed seed.
struct Rng(u64);

impl Rng {
    fn word(&mut self) -> u64 {
        custody::splitmix64(&mut self.0)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.word() % n.max(1) as u64) as usize
    }
}

/// The untouched ledger, its export and an older copy of both, made once.
struct Pristine {
    _tmp: tempfile::TempDir,
    ledger: PathBuf,
    tiles: PathBuf,
    older_ledger: PathBuf,
    older_tiles: PathBuf,
    /// Another demo ledger: its key signs the forged checkpoints.
    other: PathBuf,
    _other_tmp: tempfile::TempDir,
    vkey: String,
    size: u64,
    root: String,
    /// What an investigator sees of the untouched ledger: every query and its answer.
    views: Vec<(Query, Answer)>,
    /// The views' digest (`Ledger::rebuild`'s, as `custody rebuild` prints) of the untouched
    /// ledger.
    views_digest: Hash,
}

/// A query command line, without `--ledger` and `--json`.
type Query = Vec<String>;

fn checkpoint_of(ledger: &Path) -> (u64, String) {
    let cp = run_json(&["checkpoint", "--ledger", ledger.to_str().expect("utf-8")]);
    (
        cp["size"].as_u64().expect("size"),
        cp["root"].as_str().expect("root").to_owned(),
    )
}

fn export(ledger: &Path, out: &Path) {
    custody()
        .args(["export", "--ledger"])
        .arg(ledger)
        .arg("--out")
        .arg(out)
        .assert()
        .success();
}

fn pristine() -> Pristine {
    let (tmp, ledger) = demo_ledger();
    let older_ledger = tmp.path().join("older");
    copy_dir(&ledger, &older_ledger);
    let older_tiles = tmp.path().join("older-tiles");
    export(&older_ledger, &older_tiles);
    // One more statement makes the live ledger newer than the copy.
    let note = tmp.path().join("note.json");
    std::fs::write(
        &note,
        r#"{"type":"note_added","facility":"LPN-JAKARTA","signers":[{"role":"author","officer":"199001152014022001"}],"after":{},"text":"Pemeriksaan ulang segel gudang"}"#,
    )
    .expect("write");
    custody()
        .args(["record", "--ledger"])
        .arg(&ledger)
        .arg("--key")
        .arg(ledger.join("demo-keys/gate-officer-b.pem"))
        .arg(&note)
        .assert()
        .success();
    let tiles = tmp.path().join("tiles");
    export(&ledger, &tiles);
    let vkey = vkey_of(&ledger);
    let (size, root) = checkpoint_of(&ledger);
    // The views are read from a copy, so that opening them cannot alter what the trials copy.
    let views_copy = tmp.path().join("views");
    copy_dir(&ledger, &views_copy);
    let queries = view_queries(&views_copy);
    // What the trials compare is read through the library; here, once, it is checked to be
    // byte for byte what the real binary prints, query by query.
    let views = answers(&views_copy, &queries).expect("the untouched ledger opens");
    for ((query, cli), (_, library)) in cli_answers(&views_copy, &queries).iter().zip(&views) {
        assert!(
            cli.is_ok(),
            "custody {query:?} on the untouched ledger: {cli:?}"
        );
        assert_eq!(
            cli, library,
            "custody {query:?} --json and the library's answer differ"
        );
    }
    let views_digest = match views_digest(&views_copy) {
        Ok(digest) => digest,
        Err(why) => panic!("the untouched ledger's views: {why}"),
    };
    let (other_tmp, other) = demo_ledger();
    Pristine {
        _tmp: tmp,
        ledger,
        tiles,
        older_ledger,
        older_tiles,
        other,
        _other_tmp: other_tmp,
        vkey,
        size,
        root,
        views,
        views_digest,
    }
}

/// Every investigator query over the ledger's views, for every item, incident, person, officer,
/// unit, status and facility the ledger names: what `custody items`, `officers` and `facilities`
/// list, and what they point at.
fn view_queries(ledger: &Path) -> Vec<Query> {
    let l = ledger.to_str().expect("utf-8");
    let items = run_json(&["items", "--ledger", l]);
    let officers = run_json(&["officers", "--ledger", l]);
    let facilities = run_json(&["facilities", "--ledger", l]);
    let items = items.as_array().expect("a list of items");
    let officers = officers.as_array().expect("a list of officers");
    let facilities = facilities.as_object().expect("counts by facility");
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    let mut queries: Vec<Query> = vec![
        vec!["items".into()],
        vec!["officers".into()],
        vec!["facilities".into()],
        vec!["pending".into()],
        vec![
            "audit".into(),
            "--all".into(),
            "--as-of".into(),
            AS_OF.into(),
        ],
    ];
    for status in ["held", "in_transit", "destroyed", "returned", "forfeited"] {
        queries.push(vec!["items".into(), "--status".into(), status.into()]);
    }
    for facility in facilities.keys() {
        queries.push(vec!["items".into(), "--facility".into(), facility.clone()]);
    }
    let (mut incidents, mut persons, mut units) =
        (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for item in items {
        let id = text(&item["id"]).expect("an item id");
        queries.push(vec!["item".into(), id.clone()]);
        queries.push(vec!["history".into(), id.clone()]);
        incidents.extend(text(&item["incident"]));
        units.extend(text(&item["unit"]));
        for person in item["persons"].as_array().into_iter().flatten() {
            persons.extend(text(person));
        }
    }
    for officer in officers {
        let id = text(&officer["id"]).expect("an officer id");
        queries.push(vec!["holdings".into(), id.clone()]);
        persons.insert(id);
        units.extend(text(&officer["unit"]));
    }
    // The scenario names every kind of view: an empty answer set would compare nothing.
    assert!(
        items.len() >= 2 && !officers.is_empty() && !incidents.is_empty() && !persons.is_empty(),
        "the demo ledger has items, officers, an incident and persons"
    );
    for incident in incidents {
        queries.push(vec!["incident".into(), incident]);
    }
    for person in persons {
        queries.push(vec!["person".into(), person]);
    }
    for unit in units {
        queries.push(vec!["holdings".into(), "--unit".into(), unit]);
    }
    queries
}

/// What one query answers: the exact text `custody QUERY --ledger L --json` prints, or why it
/// was refused.
type Answer = Result<String, String>;

/// The answer to `query` read through the library, serialized exactly as the CLI's `--json`
/// prints it (`pristine` checks the two are byte-equal on the untouched ledger). In-process, so
/// that every harmless trial can ask every query without starting a process for each.
fn read(ledger: &Ledger, query: &[String]) -> Answer {
    use custody::{Holder, Reads as _};
    use custody::{ItemId, OfficerId};
    fn json<T: serde::Serialize, E: std::fmt::Display>(answer: Result<T, E>) -> Answer {
        let value = serde_json::to_value(answer.map_err(|e| e.to_string())?)
            .expect("every answer serializes");
        Ok(serde_json::to_string_pretty(&value).expect("JSON serializes") + "\n")
    }
    // An item view, with the officers' names beside their ids and each event's Indonesian line
    // beside its summary, as the CLI adds them.
    fn named<T: serde::Serialize, E: std::fmt::Display>(
        ledger: &Ledger,
        answer: Result<T, E>,
    ) -> Answer {
        let mut value = serde_json::to_value(answer.map_err(|e| e.to_string())?)
            .expect("every answer serializes");
        custody::uraian::annotate(&mut value, |seq| ledger.statement_at(seq).ok());
        ledger
            .names()
            .map_err(|e| e.to_string())?
            .annotate(&mut value);
        Ok(serde_json::to_string_pretty(&value).expect("JSON serializes") + "\n")
    }
    let words: Vec<&str> = query.iter().map(String::as_str).collect();
    let item = |id: &str| ItemId::parse(id).expect("an item id");
    match words.as_slice() {
        ["items"] => named(ledger, ledger.items(None, None)),
        ["items", "--status", status] => named(
            ledger,
            ledger.items(
                Some(custody::Status::parse(status).expect("a status")),
                None,
            ),
        ),
        ["items", "--facility", facility] => named(ledger, ledger.items(None, Some(facility))),
        ["item", id] => named(ledger, ledger.item(&item(id))),
        ["history", id] => named(ledger, ledger.history(&item(id))),
        ["holdings", "--unit", unit] => {
            named(ledger, ledger.holdings(&Holder::Unit((*unit).to_owned())))
        }
        ["holdings", officer] => named(
            ledger,
            ledger.holdings(&Holder::Officer(
                OfficerId::parse(officer).expect("an officer id"),
            )),
        ),
        ["pending"] => named(ledger, ledger.pending()),
        ["incident", id] => named(ledger, ledger.incident(id)),
        ["person", id] => named(ledger, ledger.person(id)),
        ["facilities"] => json(ledger.facilities()),
        ["officers"] => json(ledger.officers()),
        // As `custody audit` does locally: the whole log, verified first.
        ["audit", "--all", "--as-of", as_of] => json(custody::casefile::audit(
            ledger,
            &custody::casefile::Scope::All,
            custody::Timestamp::parse(as_of).expect("a time"),
            &mut |_, _| {},
        )),
        _ => panic!("no reader for the query {query:?}"),
    }
}

/// Every query's answer from the ledger in `dir`, or why it does not open.
fn answers(dir: &Path, queries: &[Query]) -> Result<Vec<(Query, Answer)>, String> {
    let ledger = Ledger::open(dir).map_err(|e| format!("the ledger no longer opens: {e}"))?;
    let answers = queries
        .iter()
        .map(|query| (query.clone(), read(&ledger, query)))
        .collect();
    ledger.close();
    Ok(answers)
}

/// Each query's answer from the real binary, `custody QUERY --ledger L --json`.
fn cli_answers(dir: &Path, queries: &[Query]) -> Vec<(Query, Answer)> {
    queries
        .iter()
        .map(|query| {
            let out = custody()
                .env_remove("CUSTODY_SERVER")
                .env_remove("CUSTODY_KEY")
                .args(query)
                .arg("--ledger")
                .arg(dir)
                .arg("--json")
                .output()
                .expect("runs");
            let answer = if out.status.success() {
                Ok(String::from_utf8(out.stdout).expect("JSON is UTF-8"))
            } else {
                Err(format!("exit {:?}: {}", out.status.code(), stderr_of(&out)))
            };
            (query.clone(), answer)
        })
        .collect()
}

/// The views' digest (`Ledger::rebuild`'s digest before it drops them, as `custody rebuild`
/// compares), after checking that folding the log again reproduced it.
fn views_digest(dir: &Path) -> Result<Hash, String> {
    let report =
        Ledger::rebuild(dir, false, &mut |_, _| {}).map_err(|e| format!("rebuild: {e}"))?;
    if report.before != report.after {
        return Err(format!(
            "the views' digest {} differs from a rebuild from the log ({})",
            hex(&report.before),
            hex(&report.after)
        ));
    }
    Ok(report.before)
}

fn hex(hash: &Hash) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// The first line where two answers differ, with its neighbours, to name a change briefly.
fn first_difference(before: &str, after: &str) -> String {
    let (b, a): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
    let at = (0..b.len().max(a.len()))
        .find(|&i| b.get(i) != a.get(i))
        .unwrap_or(0);
    let around =
        |l: &[&str]| l[at.saturating_sub(2).min(l.len())..(at + 3).min(l.len())].join("\n");
    format!(
        "at line {}:\n--- before\n{}\n--- after\n{}",
        at + 1,
        around(&b),
        around(&a)
    )
}

/// Whether every view of the ledger in `dir` answers exactly as the untouched ledger's did, and
/// its views' digest is the untouched one; else what changed. Ends with a rebuild of the views.
fn views_unchanged(p: &Pristine, dir: &Path) -> Result<(), String> {
    let queries: Vec<Query> = p.views.iter().map(|(q, _)| q.clone()).collect();
    for ((query, now), (_, before)) in answers(dir, &queries)?.iter().zip(&p.views) {
        if now != before {
            let what = match (before, now) {
                (Ok(b), Ok(a)) => first_difference(b, a),
                _ => format!("before: {before:?}\nafter: {now:?}"),
            };
            return Err(format!(
                "`custody {} --json` answers differently, {what}",
                query.join(" ")
            ));
        }
    }
    let digest = views_digest(dir)?;
    if digest != p.views_digest {
        return Err(format!(
            "the views' digest changed from {} to {}",
            hex(&p.views_digest),
            hex(&digest)
        ));
    }
    Ok(())
}

#[derive(Debug, PartialEq)]
enum Outcome {
    /// Refused, and the message names the part that broke.
    Detected,
    /// Verification passed, the log is exactly the original and (for a sled ledger) so is every
    /// view.
    Harmless,
    Undetected(String),
}

/// What `custody verify` says of a tampered sled ledger.
fn judge_ledger(p: &Pristine, ledger: &Path) -> Outcome {
    let out = custody()
        .args(["verify", "--ledger"])
        .arg(ledger)
        .output()
        .expect("runs");
    let err = stderr_of(&out);
    if !out.status.success() {
        return named(&err, out.status.code());
    }
    let (size, root) = checkpoint_of(ledger);
    if size != p.size || root != p.root {
        return Outcome::Undetected(format!("verify passed with size {size} root {root}"));
    }
    // The log is the original; what an investigator reads from it must be too.
    match views_unchanged(p, ledger) {
        Ok(()) => Outcome::Harmless,
        Err(why) => {
            Outcome::Undetected(format!("verify passed and the log is unchanged, but {why}"))
        }
    }
}

/// What `custody verify --tiles` says of a tampered export.
fn judge_tiles(p: &Pristine, tiles: &Path) -> Outcome {
    let out = custody()
        .args(["verify", "--tiles"])
        .arg(tiles)
        .args(["--vkey", &p.vkey])
        .output()
        .expect("runs");
    let err = stderr_of(&out);
    if !out.status.success() {
        return named(&err, out.status.code());
    }
    // An export has no views: its files are all a reader sees, so harmless means byte-identical.
    let same = std::fs::read(tiles.join("checkpoint")).ok()
        == std::fs::read(p.tiles.join("checkpoint")).ok();
    if same && dirs_equal(tiles, &p.tiles) {
        Outcome::Harmless
    } else {
        Outcome::Undetected("verify --tiles passed on an altered export".into())
    }
}

/// A refusal counts only with an exit code of 1 (verification failed) or 3 (corrupt store) and
/// a message that says what broke; a panic or a bare failure is not an explanation.
fn named(err: &str, code: Option<i32>) -> Outcome {
    let names_it = [
        "seq ",
        "checkpoint",
        "Merkle",
        "leaf",
        "entries",
        "corrupt",
        "tile",
        "export",
        "root",
    ]
    .iter()
    .any(|w| err.contains(w));
    if matches!(code, Some(1 | 3)) && names_it && !err.contains("panicked") {
        Outcome::Detected
    } else {
        Outcome::Undetected(format!(
            "refused without a clear reason (exit {code:?}): {err}"
        ))
    }
}

fn dirs_equal(a: &Path, b: &Path) -> bool {
    let mut fa = Vec::new();
    let mut fb = Vec::new();
    files(a, a, &mut fa);
    files(b, b, &mut fb);
    fa.sort();
    fb.sort();
    fa == fb
}

fn files(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    for e in std::fs::read_dir(dir).expect("dir").flatten() {
        let path = e.path();
        if path.is_dir() {
            files(root, &path, out);
        } else {
            let rel = path.strip_prefix(root).expect("inside").to_path_buf();
            out.push((rel, std::fs::read(&path).expect("read")));
        }
    }
}

fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    files(dir, dir, &mut out);
    out.into_iter()
        .filter(|(_, b)| !b.is_empty())
        .map(|(p, _)| dir.join(p))
        .collect()
}

/// Flips one bit: half the time anywhere in the file, half the time in a byte that is not zero
/// (sled's files are mostly zero padding, and a flip there changes nothing).
fn flip_random(path: &Path, rng: &mut Rng) {
    let mut bytes = std::fs::read(path).expect("read");
    let nonzero: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] != 0).collect();
    let at = if rng.word().is_multiple_of(2) || nonzero.is_empty() {
        rng.below(bytes.len())
    } else {
        nonzero[rng.below(nonzero.len())]
    };
    bytes[at] ^= 1 << (rng.word() % 8);
    std::fs::write(path, bytes).expect("write");
}

fn truncate_random(path: &Path, rng: &mut Rng) {
    let bytes = std::fs::read(path).expect("read");
    let keep = rng.below(bytes.len());
    std::fs::write(path, &bytes[..keep]).expect("write");
}

fn bundle_path(p: &Pristine, tiles: &Path) -> PathBuf {
    tiles.join(format!("tile/entries/000.p/{}", p.size))
}

/// The demo's officer keys, to re-sign with.
fn demo_keys(p: &Pristine) -> Vec<SecretKey> {
    std::fs::read_dir(p.ledger.join("demo-keys"))
        .expect("keys")
        .flatten()
        .map(|e| SecretKey::read_file(&e.path()).expect("key"))
        .collect()
}

type Case<'a> = (
    &'static str,
    Box<dyn Fn(&Pristine, &Path, &mut Rng) -> Outcome + 'a>,
);

/// One tampering case: copies what it alters into `scratch`, alters it, judges it.
// The long form reads better here: a table of tamper cases, one entry each.
#[allow(clippy::too_many_lines)]
fn cases<'a>() -> Vec<Case<'a>> {
    let ledger_copy = |p: &Pristine, scratch: &Path| {
        let l = scratch.join("ledger");
        copy_dir(&p.ledger, &l);
        l
    };
    let tiles_copy = |p: &Pristine, scratch: &Path| {
        let t = scratch.join("tiles");
        copy_dir(&p.tiles, &t);
        t
    };
    vec![
        (
            "sled: bit flip at a random offset",
            Box::new(move |p, s, rng| {
                let l = ledger_copy(p, s);
                let files = all_files(&l.join("private/log.sled"));
                flip_random(&files[rng.below(files.len())], rng);
                judge_ledger(p, &l)
            }),
        ),
        (
            "sled: a file truncated",
            Box::new(move |p, s, rng| {
                let l = ledger_copy(p, s);
                let files = all_files(&l.join("private/log.sled"));
                truncate_random(&files[rng.below(files.len())], rng);
                judge_ledger(p, &l)
            }),
        ),
        (
            "sled: rolled back to an earlier copy",
            Box::new(move |p, s, _| {
                let l = ledger_copy(p, s);
                std::fs::remove_dir_all(l.join("private/log.sled")).expect("rm");
                copy_dir(
                    &p.older_ledger.join("private/log.sled"),
                    &l.join("private/log.sled"),
                );
                judge_ledger(p, &l)
            }),
        ),
        (
            "journal: bit flip at a random offset",
            Box::new(move |p, s, rng| {
                let l = ledger_copy(p, s);
                let files = all_files(&l.join("private/journal"));
                flip_random(&files[rng.below(files.len())], rng);
                judge_ledger(p, &l)
            }),
        ),
        (
            "journal: a segment truncated",
            Box::new(move |p, s, rng| {
                let l = ledger_copy(p, s);
                let files = all_files(&l.join("private/journal"));
                truncate_random(&files[rng.below(files.len())], rng);
                judge_ledger(p, &l)
            }),
        ),
        (
            "journal and sled: rolled back together to an earlier copy",
            Box::new(move |p, s, _| {
                let l = ledger_copy(p, s);
                for part in ["private/log.sled", "private/journal"] {
                    std::fs::remove_dir_all(l.join(part)).expect("rm");
                    copy_dir(&p.older_ledger.join(part), &l.join(part));
                }
                judge_ledger(p, &l)
            }),
        ),
        (
            "checkpoint file: bit flip",
            Box::new(move |p, s, rng| {
                let l = ledger_copy(p, s);
                flip_random(&l.join("private/checkpoint.slots"), rng);
                judge_ledger(p, &l)
            }),
        ),
        (
            "checkpoint file: truncated",
            Box::new(move |p, s, rng| {
                let l = ledger_copy(p, s);
                truncate_random(&l.join("private/checkpoint.slots"), rng);
                judge_ledger(p, &l)
            }),
        ),
        (
            "checkpoint file: signed with another key",
            Box::new(move |p, s, _| {
                let l = ledger_copy(p, s);
                std::fs::copy(
                    p.other.join("private/checkpoint.slots"),
                    l.join("private/checkpoint.slots"),
                )
                .expect("copy");
                judge_ledger(p, &l)
            }),
        ),
        (
            "tiles: bit flip at a random offset",
            Box::new(move |p, s, rng| {
                let t = tiles_copy(p, s);
                let files = all_files(&t);
                flip_random(&files[rng.below(files.len())], rng);
                judge_tiles(p, &t)
            }),
        ),
        (
            "tiles: a file truncated",
            Box::new(move |p, s, rng| {
                let t = tiles_copy(p, s);
                let files = all_files(&t);
                truncate_random(&files[rng.below(files.len())], rng);
                judge_tiles(p, &t)
            }),
        ),
        (
            "tiles: a leaf removed",
            Box::new(move |p, s, rng| {
                let t = tiles_copy(p, s);
                let path = bundle_path(p, &t);
                let mut entries = split_bundle(&std::fs::read(&path).expect("read"));
                entries.remove(rng.below(entries.len()));
                std::fs::write(&path, join_bundle(&entries)).expect("write");
                judge_tiles(p, &t)
            }),
        ),
        (
            "tiles: two leaves swapped",
            Box::new(move |p, s, rng| {
                let t = tiles_copy(p, s);
                let path = bundle_path(p, &t);
                let mut entries = split_bundle(&std::fs::read(&path).expect("read"));
                let a = rng.below(entries.len() - 1);
                let b = a + 1 + rng.below(entries.len() - a - 1);
                entries.swap(a, b);
                std::fs::write(&path, join_bundle(&entries)).expect("write");
                judge_tiles(p, &t)
            }),
        ),
        (
            "tiles: a leaf re-signed by another enrolled officer",
            Box::new(move |p, s, rng| {
                let t = tiles_copy(p, s);
                let path = bundle_path(p, &t);
                let mut entries = split_bundle(&std::fs::read(&path).expect("read"));
                let k = 1 + rng.below(entries.len() - 1);
                let leaf = Leaf::decode(&entries[k]).expect("a leaf");
                let keys = demo_keys(p);
                let key = &keys[rng.below(keys.len())];
                let mut envelope =
                    Envelope::unsigned(leaf.envelope.payload().to_vec()).expect("payload");
                envelope.sign(key).expect("signs");
                let forged = Leaf { envelope, ..leaf };
                let bytes = forged.encode().expect("encodes");
                if bytes == entries[k] {
                    // The same officer as before, alone: nothing changed.
                    return judge_tiles(p, &t);
                }
                entries[k] = bytes;
                std::fs::write(&path, join_bundle(&entries)).expect("write");
                match judge_tiles(p, &t) {
                    Outcome::Detected => {
                        let out = custody()
                            .args(["verify", "--tiles"])
                            .arg(&t)
                            .args(["--vkey", &p.vkey])
                            .output()
                            .expect("runs");
                        let err = stderr_of(&out);
                        if err.contains(&format!("seq {k}")) {
                            Outcome::Detected
                        } else {
                            Outcome::Undetected(format!("refused, but not at seq {k}: {err}"))
                        }
                    }
                    other => other,
                }
            }),
        ),
        (
            "tiles: a tile deleted",
            Box::new(move |p, s, rng| {
                let t = tiles_copy(p, s);
                let files: Vec<_> = all_files(&t)
                    .into_iter()
                    .filter(|f| !f.ends_with("checkpoint"))
                    .collect();
                std::fs::remove_file(&files[rng.below(files.len())]).expect("rm");
                judge_tiles(p, &t)
            }),
        ),
        (
            "tiles: checkpoint signed with another key",
            Box::new(move |p, s, _| {
                let t = tiles_copy(p, s);
                let forged = custody()
                    .args(["checkpoint", "--ledger"])
                    .arg(&p.other)
                    .output()
                    .expect("runs")
                    .stdout;
                std::fs::write(t.join("checkpoint"), forged).expect("write");
                judge_tiles(p, &t)
            }),
        ),
        (
            "tiles: older tiles under the newer checkpoint",
            Box::new(move |p, s, _| {
                let t = s.join("tiles");
                copy_dir(&p.older_tiles, &t);
                std::fs::copy(p.tiles.join("checkpoint"), t.join("checkpoint")).expect("copy");
                judge_tiles(p, &t)
            }),
        ),
    ]
}

/// Cases whose result does not depend on the random draw run once.
const FIXED: [&str; 5] = [
    "sled: rolled back to an earlier copy",
    "journal and sled: rolled back together to an earlier copy",
    "checkpoint file: signed with another key",
    "tiles: checkpoint signed with another key",
    "tiles: older tiles under the newer checkpoint",
];

#[test]
fn every_tampering_of_a_ledger_at_rest_is_detected_or_changes_nothing() {
    let trials: usize = std::env::var("CUSTODY_TAMPER_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    let seed: u64 = std::env::var("CUSTODY_TAMPER_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_261_128);
    let p = pristine();
    let mut rng = Rng(seed);
    let mut failures = Vec::new();
    println!("tamper matrix, seed {seed}, {trials} trials per random case");
    println!(
        "a harmless ledger tamper answers {} investigator queries and keeps the views' digest",
        p.views.len()
    );
    println!(
        "{:<52} {:>6} {:>9} {:>9} {:>11}",
        "case", "tried", "detected", "harmless", "undetected"
    );
    for (name, case) in cases() {
        let runs = if FIXED.contains(&name) { 1 } else { trials };
        let (mut detected, mut harmless, mut undetected) = (0, 0, 0);
        for trial in 0..runs {
            let scratch = tempfile::tempdir().expect("temp dir");
            match case(&p, scratch.path(), &mut rng) {
                Outcome::Detected => detected += 1,
                Outcome::Harmless => harmless += 1,
                Outcome::Undetected(why) => {
                    undetected += 1;
                    failures.push(format!("{name} (seed {seed}, trial {trial}): {why}"));
                }
            }
        }
        println!("{name:<52} {runs:>6} {detected:>9} {harmless:>9} {undetected:>11}");
    }
    assert!(
        failures.is_empty(),
        "undetected tampering:\n{}",
        failures.join("\n")
    );
}

/// Puts `value` under `key` in the views of a copy of the untouched ledger, leaving the log and
/// the watermark as they are, and returns the copy.
fn with_view_entry(p: &Pristine, scratch: &Path, key: &[u8], value: &[u8]) -> PathBuf {
    use custody::projection::Write;
    let l = scratch.join("ledger");
    copy_dir(&p.ledger, &l);
    let store = custody::LedgerStore::open(&l).expect("opens");
    let watermark = store.projection_watermark().expect("watermark");
    let write = Write::Put {
        key: key.to_vec(),
        value: value.to_vec(),
    };
    store
        .apply_projection(&[write], watermark)
        .expect("written");
    store.flush().expect("flush");
    l
}

/// The views check cannot pass by accident: a view that no longer answers as before — one an
/// investigator reads, or one only the views' digest covers — is never judged harmless.
#[test]
fn a_changed_view_is_never_judged_harmless() {
    let p = pristine();
    // An item's view, read from a copy (opening sled can write; the trials copy `p.ledger`).
    let scratch = tempfile::tempdir().expect("temp dir");
    copy_dir(&p.ledger, scratch.path());
    let store = custody::LedgerStore::open(scratch.path()).expect("opens");
    let (key, value) = store
        .projection_scan(custody::projection::ITEMS)
        .expect("scan")
        .into_iter()
        .next()
        .expect("an item view");
    drop(store);
    let mut item: custody::ItemState =
        custody::projection::decode(&value).expect("an item view decodes");
    item.location = Some("Gudang lain / another store room".into());
    let moved = custody::projection::encode(&item);

    let scratch = tempfile::tempdir().expect("temp dir");
    let l = with_view_entry(&p, scratch.path(), &key, &moved);
    let why = views_unchanged(&p, &l).expect_err("a moved item is seen");
    assert!(why.contains("`custody items --json`"), "{why}");
    assert!(why.contains("another store room"), "{why}");
    let scratch = tempfile::tempdir().expect("temp dir");
    let l = with_view_entry(&p, scratch.path(), &key, &moved);
    let outcome = judge_ledger(&p, &l);
    eprintln!("a moved item's view: {outcome:?}");
    assert_ne!(outcome, Outcome::Harmless);

    // An entry no query reads: only the digest sees it.
    let scratch = tempfile::tempdir().expect("temp dir");
    let l = with_view_entry(&p, scratch.path(), b"zz\0tamper", b"{}");
    let why = views_unchanged(&p, &l).expect_err("a stray entry is seen");
    assert!(why.contains("digest"), "{why}");
}
