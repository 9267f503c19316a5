//! The operator's tools: `custody torture` (crash torture and storage fault suite), `serve` (the
//! HTTP server) and `demo` (a demonstration ledger). It starts them and prints what they report;
//! it must never repair what the torture finds, nor serve a request itself (that is
//! `edge::server`'s), nor pick an exit code number.

use super::args::{JsonArg, LedgerArg};
use super::common::{Failure, Outcome, open, print_json, read_key, remote, show, unwritable};
use crate::base::time::Clock;
use crate::base::words::msg;
use crate::edge::render::{demo_step, said};
use crate::edge::torture::{self, CrashReport, FaultReport};
use clap::Args;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Args, Debug)]
pub(super) struct TortureArgs {
    /// A new folder: the torture ledger (crash mode), or the scratch folder for one ledger per seed (--faults)
    #[arg(long, value_name = "DIR")]
    ledger: PathBuf,
    /// Kill-and-restart cycles of the crash torture
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    cycles: u64,
    /// Concurrent HTTP writers
    #[arg(long, value_name = "W", default_value_t = 8, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    writers: usize,
    /// Seed of every random choice (kill times, crash points, faults); printed so a failure can be rerun
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
    /// Compare the views with a rebuild from the log every K cycles (the last cycle always)
    #[arg(long, value_name = "K", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    rebuild_every: u64,
    /// Percent of cycles killed during start-up: during the open, in sled's snapshot window, or just after listening
    #[arg(long, value_name = "P", default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=100))]
    startup_percent: u64,
    /// Run the storage fault suite instead: one embedded ledger per seed through the fault layer
    #[arg(long)]
    faults: bool,
    /// Seeds of the fault suite, starting at --seed (default 1)
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    seeds: u64,
    /// Statements each fault seed tries to record
    #[arg(long, value_name = "N", default_value_t = 40, value_parser = clap::value_parser!(u64).range(1..))]
    statements: u64,
    #[command(flatten)]
    json: JsonArg,
}

/// `custody torture`: the crash torture or the storage fault suite; exit 1 when anything
/// acknowledged was lost or anything wrong went undetected.
pub(super) fn torture(a: TortureArgs) -> Outcome {
    if a.faults {
        torture_faults(&a)
    } else {
        torture_crash(&a)
    }
}

fn torture_failure(e: torture::TortureError) -> Failure {
    Failure::from(e)
}

/// `custody torture --faults`: one embedded ledger per seed through the storage fault layer.
fn torture_faults(a: &TortureArgs) -> Outcome {
    let dir = a.ledger.as_path();
    let mut progress = |line: &str| eprintln!("{line}");
    let config = torture::FaultConfig {
        seeds: a.seeds,
        first_seed: a.seed.unwrap_or(1),
        statements: a.statements,
    };
    std::fs::create_dir_all(dir).map_err(|e| Failure::corrupt(unwritable(dir.display(), &e)))?;
    let started = said(
        "cli.torture.fault_suite",
        &[
            ("first", &config.first_seed),
            ("end", &(config.first_seed + config.seeds)),
            ("statements", &config.statements),
        ],
    );
    eprintln!("{started}");
    let r = torture::faults(&config, dir, &mut progress).map_err(torture_failure)?;
    show(a.json.json, &r, || print_faults(&r))?;
    if r.passed() {
        Ok(())
    } else {
        Err(Failure::refused(
            msg("err.cli.fault_suite_failed").arg("result", r.line()),
        ))
    }
}

/// The fault suite's report as text.
fn print_faults(r: &FaultReport) {
    print_by_name("cli.torture.injected", &r.injected, 16, 8);
    print_counts(&[
        ("cli.torture.refused", r.refused, 0),
        ("cli.torture.refused_opens", r.refused_opens, 0),
    ]);
    print_failures(&r.failures, &r.line());
}

/// Counts by name (faults injected by kind, kills by moment), one a line: the name padded to
/// `width` columns, the count right-aligned in `digits`.
fn print_by_name(
    key: &'static str,
    counts: &std::collections::BTreeMap<String, u64>,
    width: usize,
    digits: usize,
) {
    for (name, n) in counts {
        let name = format!("{name:<width$}");
        let count = format!("{n:>digits$}");
        out!("{}", said(key, &[("name", &name), ("count", &count)]));
    }
}

/// A report's counts, one a line: each line's sentence, its count (right-aligned in 8
/// columns) and the second number some lines give in parentheses.
fn print_counts(rows: &[(&'static str, u64, u64)]) {
    for &(key, count, also) in rows {
        let count = format!("{count:>8}");
        out!("{}", said(key, &[("count", &count), ("also", &also)]));
    }
}

/// What failed, one a line, then the report's one-line summary (which scripts read as it is).
fn print_failures(failures: &[String], line: &str) {
    for f in failures {
        out!("{}", said("cli.torture.failed", &[("failure", f)]));
    }
    out!("{line}");
}

/// `custody torture`: kill `custody serve` under load, restart it, and check every acknowledgement.
fn torture_crash(a: &TortureArgs) -> Outcome {
    let mut progress = |line: &str| eprintln!("{line}");
    let seed = a.seed.unwrap_or_else(torture::fresh_seed);
    let exe = std::env::current_exe()
        .map_err(|e| Failure::corrupt(msg("err.cli.no_binary").arg("error", e)))?;
    let started = said(
        "cli.torture.crash",
        &[
            ("cycles", &a.cycles),
            ("writers", &a.writers),
            ("seed", &seed),
        ],
    );
    eprintln!("{started}");
    let config = torture::CrashConfig {
        dir: a.ledger.clone(),
        cycles: a.cycles,
        writers: a.writers,
        seed,
        exe,
        rebuild_every: a.rebuild_every,
        startup_percent: a.startup_percent,
    };
    let r = torture::crash(&config, &mut progress).map_err(torture_failure)?;
    show(a.json.json, &r, || print_crash(&r))?;
    if r.passed() {
        Ok(())
    } else {
        Err(Failure::refused(
            msg("err.cli.torture_failed")
                .arg("seed", seed)
                .arg("result", r.line()),
        ))
    }
}

/// The crash torture's report as text.
fn print_crash(r: &CrashReport) {
    print_by_name("cli.torture.killed", &r.kills, 36, 6);
    print_counts(&[
        ("cli.torture.entries", r.entries, 0),
        ("cli.torture.resent", r.resubmitted, r.recovered),
        ("cli.torture.retries", r.retries_checked, 0),
        ("cli.torture.consistency", r.consistency_checked, 0),
        ("cli.torture.rebuilds", r.rebuilds_compared, 0),
        (
            "cli.torture.startup_kills",
            r.startup_kills,
            r.snapshot_kills,
        ),
        ("cli.torture.quarantined", r.quarantined, 0),
        ("cli.torture.reopens_refused", r.refused_opens, 0),
    ]);
    let seconds = format!("{:>8.1}", r.seconds);
    out!("{}", said("cli.torture.seconds", &[("seconds", &seconds)]));
    print_failures(&r.failures, &r.line());
}

#[derive(Args, Debug)]
pub(super) struct ServeArgs {
    #[command(flatten)]
    ledger: LedgerArg,
    /// Address to listen on; plain HTTP only on loopback, anything else needs --tls-cert and --tls-key
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: std::net::SocketAddr,
    /// TLS certificate chain (PEM)
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM)
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Requests served at once; more are answered 503 at once
    #[arg(long, value_name = "N", default_value_t = crate::edge::server::CONCURRENT_REQUESTS_MAX)]
    concurrency_max: usize,
    /// Time allowed for a whole request, upload included; slower ones are answered 408
    #[arg(long, value_name = "MS", default_value_t = crate::edge::server::REQUEST_TIMEOUT_MS)]
    request_timeout_ms: u64,
    /// Open connections at once; more are closed as soon as they are accepted
    #[arg(long, value_name = "N", default_value_t = crate::edge::server::CONNECTIONS_MAX, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    connections_max: usize,
    /// Time allowed for a request's header to arrive; slower connections are closed
    #[arg(long, value_name = "MS", default_value_t = crate::edge::server::HEADER_READ_TIMEOUT_MS, value_parser = clap::value_parser!(u64).range(1..))]
    header_timeout_ms: u64,
    /// A name clients address the server by (repeatable); signed reads signed for any other are refused. Default: the listen address and localhost, with its port
    #[arg(long = "public-name", value_name = "HOST[:PORT]", value_parser = crate::edge::server::parse_public_name)]
    public_names: Vec<String>,
}
/// `custody serve`.
pub(super) fn serve(a: ServeArgs) -> Outcome {
    let ServeArgs {
        ledger,
        listen,
        tls_cert,
        tls_key,
        concurrency_max,
        request_timeout_ms,
        connections_max,
        header_timeout_ms,
        public_names,
    } = a;
    init_logging();
    let dir = ledger.ledger;
    let tls = match (tls_cert, tls_key) {
        (Some(cert), Some(key)) => Some(crate::edge::server::TlsFiles { cert, key }),
        _ => None,
    };
    let config = crate::edge::server::ServeConfig {
        concurrency_max,
        request_timeout_ms,
        connections_max,
        header_timeout_ms,
        public_names,
        ..crate::edge::server::ServeConfig::new(listen, tls)
    };
    crate::edge::server::run(
        move || open(&dir),
        config,
        |addr, tls| {
            // Not a sentence for people: `custody torture` and scripts read this line to find
            // the address, so it is the same in every language.
            out!(
                "listening on {}://{addr}",
                if tls { "https" } else { "http" }
            );
        },
    )
    .map_err(|e| match e {
        crate::edge::server::Served::Open(failure) => failure,
        crate::edge::server::Served::Serve(e) => Failure::from(e),
    })
}

/// Logs of `custody serve` on stderr, filtered by CUSTODY_LOG (default `info`).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CUSTODY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

#[derive(Args, Debug)]
pub(super) struct DemoArgs {
    /// The new ledger's directory (must not exist or be empty)
    #[arg(
        long,
        value_name = "DIR",
        env = "CUSTODY_LEDGER",
        required_unless_present = "server"
    )]
    ledger: Option<PathBuf>,
    /// Only found the ledger and enroll the officers (keys in DIR/demo-keys); record the acts later through a server with --server
    #[arg(long, requires = "ledger")]
    founding_only: bool,
    /// Record the scenario's acts through this server instead, signed here with the keys in --keys
    #[arg(long, value_name = "URL", conflicts_with = "founding_only")]
    server: Option<String>,
    /// The demo-keys folder written by `custody demo --founding-only`
    #[arg(long, value_name = "DIR", requires = "server")]
    keys: Option<PathBuf>,
    /// A CA certificate (PEM) to trust for the server's TLS certificate
    #[arg(long, env = "CUSTODY_CA_CERT", value_name = "FILE")]
    ca_cert: Option<PathBuf>,
    #[command(flatten)]
    json: JsonArg,
}

/// `custody demo`: a demonstration ledger here (whole and verified, or only founded), or the
/// scenario's acts recorded through a server.
pub(super) fn demo(a: DemoArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let DemoArgs {
        ledger,
        founding_only,
        server,
        keys,
        ca_cert,
        json,
    } = a;
    if let Some(url) = server {
        return demo_remote(&url, keys, ca_cert.as_deref(), json.json, clock);
    }
    let ledger = ledger.ok_or_else(|| Failure::usage(msg("err.cli.demo_needs_ledger")))?;
    if founding_only {
        return demo_founding(&ledger, json.json);
    }
    let mut report = crate::app::demo::run(&ledger, Arc::clone(clock)).map_err(demo_failure)?;
    // Each event of the lot with its Indonesian line, as `custody history --json` answers it.
    for e in &mut report.history {
        e.uraian = report
            .statements
            .get(&e.seq)
            .map(crate::edge::uraian::indonesian);
    }
    if json.json {
        print_json(&report.to_json());
    } else {
        crate::edge::render::demo(&report);
    }
    if report.verified_ok() {
        Ok(())
    } else {
        Err(Failure::refused(msg("err.cli.demo_not_verified")))
    }
}

/// A demo's error as a failure.
fn demo_failure(e: crate::app::compose::BuildError) -> Failure {
    Failure::from(e)
}

/// `custody demo --server URL --keys DIR`: the scenario's acts, signed here, recorded there.
fn demo_remote(
    url: &str,
    keys: Option<PathBuf>,
    ca_cert: Option<&Path>,
    json: bool,
    clock: &Arc<dyn Clock>,
) -> Outcome {
    let keys = keys.ok_or_else(|| Failure::usage(msg("err.cli.demo_needs_keys")))?;
    // Reads for `after` are signed by the administrator, who reads the home facility.
    let admin = read_key(&keys.join("admin.pem"))?;
    let remote = remote(url, Some(admin), ca_cert, clock)?;
    let steps = crate::app::demo::record_acts(&remote, &keys).map_err(demo_failure)?;
    if json {
        print_json(
            &json!({"server": url, "steps": steps.iter().map(crate::app::demo::Step::to_json).collect::<Vec<_>>()}),
        );
    } else {
        out!("{}", said("cli.demo.remote", &[("server", &url)]));
        for s in &steps {
            out!("{}", demo_step(s));
        }
    }
    Ok(())
}

/// `custody demo --founding-only`: the ledger founded and its officers enrolled, keys in
/// DIR/demo-keys.
fn demo_founding(ledger: &Path, json: bool) -> Outcome {
    let (vkey, steps) = crate::app::demo::found_only(ledger).map_err(demo_failure)?;
    if json {
        print_json(
            &json!({"ledger": ledger.display().to_string(), "vkey": vkey, "steps": steps.iter().map(crate::app::demo::Step::to_json).collect::<Vec<_>>()}),
        );
    } else {
        for s in &steps {
            out!("{}", demo_step(s));
        }
        let founded = said(
            "cli.demo.founded",
            &[
                ("ledger", &ledger.display()),
                ("officers", &(steps.len() - 1)),
                ("keys", &ledger.join("demo-keys").display()),
            ],
        );
        out!("{founded}");
        out!("{}", said("cli.verifier_key", &[("vkey", &vkey)]));
    }
    Ok(())
}
