//! Shared fixtures for the CLI tests: a ledger with an administrator and enrolled officers, built
//! through the real `custody` binary, and small helpers to run it and read its JSON.
#![allow(dead_code)]

use assert_cmd::Command;
use serde_json::Value;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};

pub const ADMIN: &str = "197905112005011002";
pub const GATE_A: &str = "198803222010121003";
pub const GATE_B: &str = "199001152014022001";
pub const OUTSIDER: &str = "198001012005011001";
pub const FACILITY: &str = "LPN-JAKARTA";
pub const ORIGIN: &str = "custody.test.go.id/ledger";

pub fn custody() -> Command {
    let mut cmd = Command::cargo_bin("custody").expect("the custody binary is built");
    // A developer's shell may name a ledger, a server or a key: the tests name their own.
    cmd.env_remove("CUSTODY_LEDGER")
        .env_remove("CUSTODY_SERVER")
        .env_remove("CUSTODY_KEY");
    cmd
}

pub fn run_json(args: &[&str]) -> Value {
    let out = custody().args(args).arg("--json").output().expect("runs");
    assert!(
        out.status.success(),
        "custody {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("--json prints JSON")
}

/// A ledger with an admin and two enrolled gate officers; keys in `dir/keys`.
pub struct Fixture {
    pub tmp: tempfile::TempDir,
    pub ledger: PathBuf,
    pub keys: PathBuf,
}

impl Fixture {
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let keys = tmp.path().join("keys");
        std::fs::create_dir(&keys).expect("keys dir");
        let ledger = tmp.path().join("ledger");
        let f = Self { tmp, ledger, keys };
        for name in ["admin", "gate-a", "gate-b", "outsider", "spare"] {
            custody()
                .args(["key", "new", "--out"])
                .arg(f.key(name))
                .assert()
                .success();
        }
        custody()
            .args(["init", "--ledger"])
            .arg(&f.ledger)
            .args(["--origin", ORIGIN, "--admin-key"])
            .arg(f.key("admin"))
            .args([
                "--admin-id",
                ADMIN,
                "--admin-name",
                "Hendra Wijaya",
                "--facility",
                FACILITY,
            ])
            .assert()
            .success();
        f.enroll(GATE_A, "gate-a", "gate_officer");
        f.enroll(GATE_B, "gate-b", "gate_officer");
        f
    }

    pub fn key(&self, name: &str) -> PathBuf {
        self.keys.join(format!("{name}.pem"))
    }

    pub fn public_key(&self, name: &str) -> String {
        let v = run_json(&["key", "show", self.key(name).to_str().expect("utf-8 path")]);
        v["public_key"].as_str().expect("public_key").to_owned()
    }

    pub fn enroll(&self, officer: &str, key: &str, roles: &str) {
        let pk = self.public_key(key);
        custody()
            .args(["enroll", "--ledger"])
            .arg(&self.ledger)
            .arg("--key")
            .arg(self.key("admin"))
            .args([
                "--officer",
                officer,
                "--name",
                "Petugas Uji",
                "--agency",
                "imipas",
            ])
            .args(["--unit", "P2U", "--roles", roles, "--public-key", &pk])
            .assert()
            .success();
    }

    pub fn ledger_str(&self) -> &str {
        self.ledger.to_str().expect("utf-8 path")
    }

    pub fn size(&self) -> u64 {
        run_json(&["checkpoint", "--ledger", self.ledger_str()])["size"]
            .as_u64()
            .expect("size")
    }

    pub fn write(&self, name: &str, contents: &[u8]) -> PathBuf {
        let p = self.tmp.path().join(name);
        std::fs::write(&p, contents).expect("write");
        p
    }

    /// Asserts that the ledger still verifies and still has `size` entries.
    pub fn assert_unchanged(&self, size: u64) {
        assert_eq!(self.size(), size, "the ledger size changed");
        custody()
            .args(["verify", "--ledger"])
            .arg(&self.ledger)
            .assert()
            .success();
    }
}

/// A note by `officer`, with optional extra JSON fields appended inside the object.
pub fn note_by(officer: &str, extra: &str) -> String {
    format!(
        r#"{{"type":"note_added","facility":"{FACILITY}","signers":[{{"role":"author","officer":"{officer}"}}],"after":{{}},"text":"Gate log checked"{extra}}}"#
    )
}

/// A fresh `custody demo` ledger (the docs/DOMAIN.md scenario, keys in `demo-keys/`).
pub fn demo_ledger() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("demo");
    custody()
        .args(["demo", "--ledger"])
        .arg(&dir)
        .assert()
        .success();
    (tmp, dir)
}

pub fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// The entries of a tlog-tiles entry bundle (each a big-endian u16 length, then the leaf).
pub fn split_bundle(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 2 <= bytes.len() {
        let len = usize::from(u16::from_be_bytes([bytes[at], bytes[at + 1]]));
        out.push(bytes[at + 2..at + 2 + len].to_vec());
        at += 2 + len;
    }
    out
}

/// An entry bundle of `entries`.
pub fn join_bundle(entries: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        out.extend_from_slice(&u16::try_from(e.len()).expect("small").to_be_bytes());
        out.extend_from_slice(e);
    }
    out
}

/// A running `custody serve`; killed on drop if a test did not stop it.
pub struct Server {
    pub child: std::process::Child,
    _stdout: std::io::BufReader<std::process::ChildStdout>,
    pub url: String,
    log: PathBuf,
}

impl Server {
    pub fn start(ledger: &Path, args: &[&str]) -> Server {
        let log = ledger.with_extension(format!("serve-{}.log", std::process::id()));
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_custody"))
            .args(["serve", "--ledger"])
            .arg(ledger)
            .args(args)
            .env_remove("CUSTODY_LEDGER")
            .stdout(std::process::Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("custody serve starts");
        let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .expect("the server prints its address");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| {
                panic!(
                    "unexpected first line {line:?}; log: {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            })
            .to_owned();
        Server {
            child,
            _stdout: stdout,
            url,
            log,
        }
    }

    pub fn on_port_zero(ledger: &Path) -> Server {
        Self::start(ledger, &["--listen", "127.0.0.1:0"])
    }

    /// SIGTERM, then waits; returns whether the server exited cleanly.
    pub fn terminate(mut self) -> bool {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        self.child.wait().expect("the server exits").success()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The verifier key string of a ledger (`custody vkey`).
pub fn vkey_of(ledger: &Path) -> String {
    String::from_utf8(
        custody()
            .args(["vkey", "--ledger"])
            .arg(ledger)
            .output()
            .expect("runs")
            .stdout,
    )
    .expect("utf-8")
    .trim()
    .to_owned()
}

/// The newest snapshot sled committed in a ledger's store (`log.sled/snap.<16 hex>`) and its LSN.
pub fn newest_snapshot(ledger: &Path) -> (PathBuf, u64) {
    std::fs::read_dir(ledger.join("private/log.sled"))
        .expect("log.sled")
        .map(|e| e.expect("entry").path())
        .filter_map(|path| {
            let name = path.file_name()?.to_string_lossy().into_owned();
            let hex = name.strip_prefix("snap.")?;
            let lsn = (hex.len() == 16).then(|| u64::from_str_radix(hex, 16).ok())??;
            Some((path, lsn))
        })
        .max_by_key(|(_, lsn)| *lsn)
        .expect("sled committed a snapshot")
}

/// Makes the views claim to reflect the log up to `watermark` only (their contents unchanged), so
/// that catching them up replays acts they already hold: views that disagree with the log.
pub fn lower_views_watermark(ledger: &Path, watermark: u64) {
    let store = custody::LedgerStore::open(ledger).expect("opens");
    store
        .apply_projection(&[], watermark)
        .expect("watermark written");
    store.flush().expect("flush");
}

/// Polls `condition` every 10 ms until it holds; panics naming `what` once `within` has passed
/// without it. For waiting on a state (a server up, a file present, a process gone) instead of
/// sleeping for a guessed time.
pub fn poll_until(within: std::time::Duration, what: &str, mut condition: impl FnMut() -> bool) {
    poll_for(within, what, || condition().then_some(()));
}

/// Polls `probe` every 10 ms until it answers `Some`, and returns that answer; panics naming
/// `what` once `within` has passed without one.
pub fn poll_for<T>(
    within: std::time::Duration,
    what: &str,
    mut probe: impl FnMut() -> Option<T>,
) -> T {
    let deadline = std::time::Instant::now() + within;
    loop {
        if let Some(answer) = probe() {
            return answer;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "gave up after {within:?} waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Whether the environment variable `CI` is set (to anything but the empty string): then every
/// tool `.ci/run` installs must be there, and a test that needs one fails without it.
pub fn under_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// The first of `names` found as an executable file on PATH.
pub fn on_path(names: &[&str]) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| {
                p.metadata()
                    .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            })
    })
}

/// The external tool `test` needs: the first of `names` on PATH. When none is there, under CI
/// (`under_ci`) the test fails, since `.ci/run` should have installed it with `install`; elsewhere
/// a note saying the test did not run goes to stderr (past the test harness's capture, so that
/// it shows in a plain `cargo test`) and the caller returns.
pub fn required_tool(test: &str, names: &[&str], install: &str) -> Option<PathBuf> {
    if let Some(found) = on_path(names) {
        return Some(found);
    }
    let missing = names.join("` or `");
    assert!(
        !under_ci(),
        "{test}: CI is set but `{missing}` is not on PATH; .ci/run should have installed it \
         ({install})"
    );
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "NOTE: {test} did NOT run: `{missing}` is not on PATH ({install}); it passes here only \
         because CI is unset, and fails under CI"
    );
    None
}

/// An HTTP client that hands back every status (errors included) instead of failing on 4xx/5xx,
/// for tests that check the server's answers themselves.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(30)))
        .build()
        .into()
}

/// One HTTP request to a test server, signed per RFC 9421 by `key` when given: (status, JSON body).
pub fn signed_call(
    server: &Server,
    method: &str,
    path: &str,
    key: Option<&Path>,
    body: Option<&Value>,
) -> (u16, Value) {
    let url = format!("{}{path}", server.url);
    let authority = server.url.trim_start_matches("http://").to_owned();
    let mut headers = Vec::new();
    if let Some(key) = key {
        let key = custody::SecretKey::read_file(key).expect("key");
        let (path, query) = path
            .split_once('?')
            .map_or((path, None), |(p, q)| (p, Some(q)));
        let created = custody::Clock::now(&custody::SystemClock).unix_ms() / 1000;
        let (input, sig) = custody::httpsig::sign(
            &key,
            &custody::httpsig::RequestParts {
                method,
                authority: &authority,
                path,
                query,
                headers: vec![],
            },
            created,
        );
        headers.push(("signature-input", input));
        headers.push(("signature", sig));
    }
    let agent = agent();
    let result = match method {
        "GET" => {
            let mut r = agent.get(&url);
            for (k, v) in &headers {
                r = r.header(*k, v.as_str());
            }
            r.call()
        }
        "DELETE" => {
            let mut r = agent.delete(&url);
            for (k, v) in &headers {
                r = r.header(*k, v.as_str());
            }
            r.call()
        }
        _ => {
            let mut r = agent.post(&url).header("content-type", "application/json");
            for (k, v) in &headers {
                r = r.header(*k, v.as_str());
            }
            r.send(body.map(Value::to_string).unwrap_or_default().as_bytes())
        }
    };
    let mut response = result.expect("the server answers");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Enrolls a gate officer of another prison (LP-CIPINANG) with the demo key `cipinang`.
pub fn enroll_outsider(dir: &Path, officer: &str) {
    let keys = dir.join("demo-keys");
    let key = keys.join("cipinang.pem");
    custody()
        .args(["key", "new", "--out", key.to_str().expect("utf-8 path")])
        .assert()
        .success();
    let public = run_json(&["key", "show", key.to_str().expect("utf-8 path")])["public_key"]
        .as_str()
        .expect("public key")
        .to_owned();
    custody()
        .args([
            "enroll",
            "--ledger",
            dir.to_str().expect("utf-8 path"),
            "--key",
        ])
        .arg(keys.join("admin.pem"))
        .args(["--officer", officer, "--name", "Sari Cipinang"])
        .args(["--agency", "imipas", "--unit", "P2U Cipinang"])
        .args(["--roles", "gate_officer", "--facility", "LP-CIPINANG"])
        .args(["--public-key", &public])
        .assert()
        .success();
}

/// A `contraband_found` of `item` by gate officer A (finder) witnessed by gate officer B, without
/// id or time (`custody sign` and `custody record` fill them).
pub fn find_json(item: &str) -> Value {
    serde_json::json!({
        "type": "contraband_found",
        "facility": FACILITY,
        "signers": [
            {"role": "finder", "officer": GATE_A},
            {"role": "witness", "officer": GATE_B}
        ],
        "after": {item: null},
        "incident": "INS-LPN-2025-0091",
        "item": item,
        "description": {"name": "14 sachet plastik berisi kristal diduga sabu", "form": "crystal"},
        "category": "narcotic",
        "count": 14,
        "concealment": "Di bawah nasi dalam kotak makan",
        "persons": [],
        "photos": []
    })
}

/// A find of `item` at `occurred_at` by gate officer A, witnessed by gate officer B, recorded
/// in `f`'s ledger with both keys: it starts the 72-hour clock for handing the item over.
pub fn record_find(f: &Fixture, item: &str, occurred_at: &str) {
    let mut statement = find_json(item);
    statement["occurred_at"] = Value::String(occurred_at.to_owned());
    let file = f.write("find.json", statement.to_string().as_bytes());
    let out = custody()
        .args(["record", "--ledger", f.ledger_str(), "--key"])
        .arg(f.key("gate-a"))
        .arg("--key")
        .arg(f.key("gate-b"))
        .arg(&file)
        .output()
        .expect("runs");
    assert!(out.status.success(), "record: {}", stderr_of(&out));
}

/// The text of a PDF as `pdftotext` (poppler-utils) reads it; `None` only outside CI when the
/// tool is missing (`required_tool` says so; under CI a missing tool fails the test).
pub fn pdf_text(test: &str, pdf: &Path) -> Option<String> {
    let tool = required_tool(test, &["pdftotext"], "apt-get install poppler-utils")?;
    let run = std::process::Command::new(tool)
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext runs");
    assert!(run.status.success(), "{}", stderr_of(&run));
    Some(String::from_utf8_lossy(&run.stdout).into_owned())
}
