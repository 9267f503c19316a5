//! Interoperability with Go's transparency-log code: builds a demo ledger with the `custody`
//! binary, grows it by one statement, and has `tests/interop/go/main.go` — which uses
//! `golang.org/x/mod/sumdb/note` and `golang.org/x/mod/sumdb/tlog` unmodified — open both
//! checkpoints, hash a raw leaf and check the inclusion and consistency proofs. Then it tampers
//! with the inputs and expects the Go verifier to refuse them.
//!
//! Needs `go` on PATH and golang.org/x/mod in a GOPATH (Debian: `apt-get install golang-go
//! golang-golang-x-mod-dev`, which puts it in /usr/share/gocode). Without them the test prints
//! why and passes, unless CUSTODY_REQUIRE_GO=1, when it fails. The Go program is built in GOPATH
//! mode with GOPROXY=off, so it never touches the network. CUSTODY_GOPATH overrides the GOPATH
//! searched for golang.org/x/mod.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

const DEFAULT_GOPATH: &str = "/usr/share/gocode";
const ORIGIN: &str = "custody.lapas-narkotika-jakarta.demo/ledger";
/// The demo's head of security (security_officer), whose key is demo-keys/head-of-security.pem.
const HEAD_OF_SECURITY: &str = "197512031998031001";

fn custody() -> Command {
    Command::cargo_bin("custody").expect("the custody binary is built for integration tests")
}

/// Runs custody with `args`, asserts exit 0, returns stdout.
fn run_custody(args: &[&str]) -> Vec<u8> {
    let out = custody().args(args).output().expect("custody runs");
    assert!(
        out.status.success(),
        "custody {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// The GOPATH holding golang.org/x/mod, or why Go cannot be used here.
fn go_setup() -> Result<PathBuf, String> {
    let version = std::process::Command::new("go").arg("version").output();
    match version {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            return Err(format!(
                "`go version` failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Err(e) => return Err(format!("`go` is not on PATH ({e})")),
    }
    let gopath = std::env::var_os("CUSTODY_GOPATH")
        .map_or_else(|| PathBuf::from(DEFAULT_GOPATH), PathBuf::from);
    for package in ["note", "tlog"] {
        let dir = gopath.join("src/golang.org/x/mod/sumdb").join(package);
        if !dir.is_dir() {
            return Err(format!(
                "golang.org/x/mod/sumdb/{package} is not in GOPATH {} (no {})",
                gopath.display(),
                dir.display()
            ));
        }
    }
    Ok(gopath)
}

/// Builds the Go verifier into `dir` (offline, GOPATH mode) and returns its path.
fn build_go_verifier(gopath: &Path, dir: &Path) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/go/main.go");
    let binary = dir.join("custody-interop");
    let mut go = std::process::Command::new("go");
    go.arg("build")
        .arg("-o")
        .arg(&binary)
        .arg(&source)
        .env("GO111MODULE", "off")
        .env("GOPATH", gopath)
        .env("GOPROXY", "off")
        .env("GOFLAGS", "")
        .env("GOTOOLCHAIN", "local")
        .env("CGO_ENABLED", "0");
    let no_cache_home = std::env::var_os("GOCACHE").is_none()
        && std::env::var_os("XDG_CACHE_HOME").is_none()
        && std::env::var_os("HOME").is_none();
    if no_cache_home {
        go.env("GOCACHE", dir.join("gocache"));
    }
    let out = go.output().expect("go build runs");
    assert!(
        out.status.success(),
        "go build of {} failed:\n{}{}",
        source.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    binary
}

/// The inputs of one run of the Go verifier.
#[derive(Clone)]
struct Inputs {
    vkey: String,
    checkpoint: PathBuf,
    old_checkpoint: PathBuf,
    leaf: PathBuf,
    seq: u64,
    inclusion: PathBuf,
    consistency: PathBuf,
}

fn go_verify(verifier: &Path, inputs: &Inputs) -> std::process::Output {
    Command::new(verifier)
        .arg(&inputs.vkey)
        .arg(&inputs.checkpoint)
        .arg(&inputs.old_checkpoint)
        .arg(&inputs.leaf)
        .arg(inputs.seq.to_string())
        .arg(&inputs.inclusion)
        .arg(&inputs.consistency)
        .output()
        .expect("the Go verifier runs")
}

fn assert_go_accepts(verifier: &Path, inputs: &Inputs, what: &str) {
    let out = go_verify(verifier, inputs);
    assert!(
        out.status.success() && out.stdout == b"OK\n",
        "Go verifier refused {what} ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn assert_go_refuses(verifier: &Path, inputs: &Inputs, what: &str, reason: &str) {
    let out = go_verify(verifier, inputs);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "Go verifier accepted {what}:\n{}{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        out.stdout.is_empty(),
        "Go verifier printed {:?} for {what}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        stderr.contains(reason),
        "Go verifier refused {what}, but not for {reason:?}: {stderr}"
    );
}

/// Writes the raw leaf at `seq` and its inclusion proof in the current tree into `dir`.
fn leaf_and_proof(ledger: &str, dir: &Path, seq: u64) -> (PathBuf, PathBuf) {
    let leaf = dir.join(format!("leaf-{seq}"));
    let proof = dir.join(format!("inclusion-{seq}.json"));
    write(
        &leaf,
        &run_custody(&["entry", "--ledger", ledger, &seq.to_string()]),
    );
    write(
        &proof,
        &run_custody(&["prove", "inclusion", "--ledger", ledger, &seq.to_string()]),
    );
    (leaf, proof)
}

fn checkpoint_size(note: &[u8]) -> u64 {
    let text = std::str::from_utf8(note).expect("a checkpoint is UTF-8");
    text.lines()
        .nth(1)
        .and_then(|l| l.parse().ok())
        .unwrap_or_else(|| panic!("checkpoint has no size line: {text:?}"))
}

#[test]
// The long form reads better here: one scenario read top to bottom: build, export, then each check Go makes.
#[allow(clippy::too_many_lines)]
fn go_sumdb_note_and_tlog_verify_custody_checkpoints_leaves_and_proofs() {
    let gopath = match go_setup() {
        Ok(p) => p,
        Err(why) => {
            let help =
                "install Go and x/mod with: apt-get install -y golang-go golang-golang-x-mod-dev";
            if std::env::var("CUSTODY_REQUIRE_GO").is_ok_and(|v| v == "1") {
                panic!("CUSTODY_REQUIRE_GO=1 but the Go interop check cannot run: {why}; {help}");
            }
            eprintln!(
                "SKIPPED go_interop: {why}; {help} (set CUSTODY_REQUIRE_GO=1 to make this a failure)"
            );
            return;
        }
    };
    let tmp = tempfile::tempdir().expect("temporary directory");
    let dir = tmp.path();
    let verifier = build_go_verifier(&gopath, dir);

    // A demo ledger, and its checkpoint before the tree grows.
    let ledger_dir = dir.join("ledger");
    let ledger = path_str(&ledger_dir);
    run_custody(&["demo", "--ledger", ledger]);
    let old_note = run_custody(&["checkpoint", "--ledger", ledger]);
    let old_size = checkpoint_size(&old_note);
    let old_checkpoint = dir.join("checkpoint-old");
    write(&old_checkpoint, &old_note);

    // One more statement: a note by the head of security, signed with the demo key.
    let statement = dir.join("note.json");
    let text = format!(
        r#"{{"type":"note_added","facility":"LPN-JAKARTA","signers":[{{"role":"author","officer":"{HEAD_OF_SECURITY}"}}],"after":{{}},"text":"Pemeriksaan interop Go / Go interop check","refers_to":0}}"#
    );
    write(&statement, text.as_bytes());
    let key = ledger_dir.join("demo-keys/head-of-security.pem");
    let receipt = run_custody(&[
        "record",
        "--ledger",
        ledger,
        "--key",
        path_str(&key),
        path_str(&statement),
        "--json",
    ]);
    let receipt: serde_json::Value =
        serde_json::from_slice(&receipt).expect("record --json prints JSON");
    let seq = receipt["seq"].as_u64().expect("the receipt has a seq");
    assert_eq!(seq, old_size, "the new statement is the next leaf");

    let new_note = run_custody(&["checkpoint", "--ledger", ledger]);
    assert_eq!(checkpoint_size(&new_note), old_size + 1);
    let checkpoint = dir.join("checkpoint");
    write(&checkpoint, &new_note);
    let vkey =
        String::from_utf8(run_custody(&["vkey", "--ledger", ledger])).expect("the vkey is UTF-8");
    let vkey = vkey.trim().to_owned();
    assert!(
        vkey.starts_with(&format!("{ORIGIN}+")),
        "vkey {vkey:?} is named after the origin"
    );
    let consistency = dir.join("consistency.json");
    write(
        &consistency,
        &run_custody(&[
            "prove",
            "consistency",
            "--ledger",
            ledger,
            &old_size.to_string(),
        ]),
    );
    let (leaf, inclusion) = leaf_and_proof(ledger, dir, seq);

    let good = Inputs {
        vkey: vkey.clone(),
        checkpoint: checkpoint.clone(),
        old_checkpoint: old_checkpoint.clone(),
        leaf: leaf.clone(),
        seq,
        inclusion: inclusion.clone(),
        consistency: consistency.clone(),
    };
    assert_go_accepts(&verifier, &good, "the new leaf and both checkpoints");

    // Older leaves too: the genesis and one in the middle of the tree.
    for older in [0, 3] {
        let (leaf, inclusion) = leaf_and_proof(ledger, dir, older);
        let inputs = Inputs {
            leaf,
            inclusion,
            seq: older,
            ..good.clone()
        };
        assert_go_accepts(&verifier, &inputs, &format!("leaf {older}"));
    }

    // A flipped byte in the leaf changes its hash, so the inclusion proof must fail.
    let mut bytes = std::fs::read(&leaf).expect("leaf file");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    let tampered_leaf = dir.join("leaf-tampered");
    write(&tampered_leaf, &bytes);
    assert_go_refuses(
        &verifier,
        &Inputs {
            leaf: tampered_leaf,
            ..good.clone()
        },
        "a leaf with one flipped byte",
        "tlog.CheckRecord",
    );

    // The verifier key of another ledger with the same origin: a well-formed key that did not sign.
    let other_key = dir.join("other-admin.pem");
    run_custody(&["key", "new", "--out", path_str(&other_key)]);
    let other_dir = dir.join("other-ledger");
    run_custody(&[
        "init",
        "--ledger",
        path_str(&other_dir),
        "--origin",
        ORIGIN,
        "--admin-key",
        path_str(&other_key),
        "--admin-id",
        "197905112005011002",
        "--admin-name",
        "Other Admin",
        "--facility",
        "LPN-JAKARTA",
    ]);
    let wrong_vkey = String::from_utf8(run_custody(&["vkey", "--ledger", path_str(&other_dir)]))
        .expect("the vkey is UTF-8")
        .trim()
        .to_owned();
    assert_ne!(wrong_vkey, vkey);
    assert_go_refuses(
        &verifier,
        &Inputs {
            vkey: wrong_vkey,
            ..good.clone()
        },
        "checkpoints checked with another ledger's verifier key",
        "note.Open",
    );

    // A checkpoint whose signed text was altered (tree size changed).
    let altered = String::from_utf8(new_note.clone())
        .expect("a checkpoint is UTF-8")
        .replacen(
            &format!("\n{}\n", old_size + 1),
            &format!("\n{}\n", old_size + 2),
            1,
        );
    assert_ne!(altered.as_bytes(), &new_note[..]);
    let altered_checkpoint = dir.join("checkpoint-altered");
    write(&altered_checkpoint, altered.as_bytes());
    assert_go_refuses(
        &verifier,
        &Inputs {
            checkpoint: altered_checkpoint,
            ..good.clone()
        },
        "a checkpoint with an altered tree size",
        "note.Open",
    );

    // A consistency proof with one hash changed.
    let mut proof: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&consistency).expect("proof file"))
            .expect("proof JSON");
    let first = proof["hashes"][0]
        .as_str()
        .expect("the proof has a hash")
        .to_owned();
    let flipped = if first.starts_with('A') {
        first.replacen('A', "B", 1)
    } else {
        format!("A{}", &first[1..])
    };
    proof["hashes"][0] = serde_json::Value::String(flipped);
    let bad_consistency = dir.join("consistency-altered.json");
    write(&bad_consistency, proof.to_string().as_bytes());
    assert_go_refuses(
        &verifier,
        &Inputs {
            consistency: bad_consistency,
            ..good
        },
        "an altered consistency proof",
        "tlog.CheckTree",
    );
}
