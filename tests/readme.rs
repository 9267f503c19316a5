//! The README's five-minute walkthrough, run as written (bash, in a fresh directory, with the
//! built `custody` on PATH), so the README cannot drift from what the binary does.

use std::process::Command;

fn walkthrough() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let start = readme
        .find("## Five-minute walkthrough")
        .expect("the walkthrough section exists");
    let block = &readme[start..];
    let open = block.find("```sh\n").expect("a sh block") + 6;
    let close = block[open..].find("\n```\n").expect("the block ends") + open;
    block[open..close].to_owned()
}

#[test]
fn the_readme_walkthrough_runs_as_written() {
    let script = walkthrough();
    assert!(
        script.contains("custody verify --tiles"),
        "the walkthrough reaches the export check"
    );
    // The test harness has already built the binary; the walkthrough's build line is skipped.
    let script: String = script
        .lines()
        .filter(|l| !l.starts_with("cargo build"))
        .collect::<Vec<_>>()
        .join("\n");
    let bin = assert_cmd::cargo::cargo_bin("custody");
    let bin_dir = bin.parent().expect("binary dir");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .arg("-euo")
        .arg("pipefail")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env("PATH", path)
        .env_remove("CUSTODY_LEDGER")
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "walkthrough failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains("already recorded at seq"),
        "the resubmission is answered as a duplicate:\n{stdout}"
    );
    assert!(stdout.contains("OK: tiles export"), "{stdout}");
}
