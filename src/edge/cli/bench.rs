//! `custody bench`: the ledger's measurements (appends from concurrent writers, locally, over
//! HTTP in this process or to a running server; verification, queries and rebuild on generated
//! ledgers) and how their tables and JSON lines are printed. It reports only what the library
//! measured; it must never time anything itself nor pick an exit code number.

use super::common::{Failure, Outcome, input, progress_bar, read_key, remote};
use crate::app::bench::{AppendPlan, AppendResult};
use crate::base::ids::OfficerId;
use crate::base::time::Clock;
use crate::base::words::{Explain as _, msg};
use crate::edge::render::said;
use crate::keys::signing::SecretKey;
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Subcommand, Debug)]
pub(super) enum BenchCommand {
    /// Durable, verified appends of pre-signed ~1 KiB statements from --writers threads for --seconds; prints a table, then a JSON line
    Append(AppendArgs),
    /// Full verification (every signature strictly checked) of a generated ledger of --entries entries
    Verify(VerifyArgs),
    /// Item history, holdings and inclusion-proof latency on a generated ledger of --entries entries
    Query(QueryArgs),
    /// Rebuild of every view from the log of a generated ledger of --entries entries
    Rebuild(RebuildArgs),
    /// This machine's limits, to judge the other figures by: strict Ed25519 verification alone and SHA-256 of ~1 KiB leaves alone (one core, every core), and page write + fdatasync alone in --dir
    Ceilings(CeilingsArgs),
}

#[derive(Args, Debug)]
pub(super) struct CeilingsArgs {
    /// Seconds spent on each of the five measurements
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// Folder on the disk to measure fdatasync on (a temporary file is made there and removed); keep it on the ledger's disk. Default: the system's temporary folder
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub(super) struct AppendArgs {
    #[arg(long, default_value_t = 1)]
    writers: usize,
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Signatures per statement: 1 = a note; K > 1 = a find of contraband by a finder and K-1 witnesses
    #[arg(long, default_value_t = 1)]
    signatures: usize,
    /// Directory for the new benchmark ledger (must not exist or be empty; kept afterwards). Default: a temporary one, removed afterwards
    #[arg(long, value_name = "DIR")]
    ledger: Option<PathBuf>,
    /// Append over HTTP to a running `custody serve`; the benchmark's officers are enrolled there first, signed by --admin with --admin-key
    #[arg(long, value_name = "URL", requires_all = ["admin", "admin_key"], conflicts_with_all = ["ledger", "http"])]
    server: Option<String>,
    /// The administrator (NIP/NRP) who enrolls the benchmark's officers on --server
    #[arg(long, value_name = "ID")]
    admin: Option<String>,
    /// The administrator's key file (PKCS#8 PEM)
    #[arg(long, value_name = "FILE")]
    admin_key: Option<PathBuf>,
    /// CA certificate to trust for an https --server
    #[arg(long, value_name = "FILE")]
    ca_cert: Option<PathBuf>,
    /// Append over HTTP through a `custody serve` started on 127.0.0.1 in this process, on a new ledger
    #[arg(long)]
    http: bool,
}

#[derive(Args, Debug)]
pub(super) struct VerifyArgs {
    #[arg(long, default_value_t = 100_000)]
    entries: u64,
    #[command(flatten)]
    cache: CacheArg,
}

#[derive(Args, Debug)]
pub(super) struct QueryArgs {
    #[arg(long, default_value_t = 100_000)]
    entries: u64,
    #[arg(long, default_value_t = 2000, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    samples: usize,
    #[command(flatten)]
    cache: CacheArg,
}

#[derive(Args, Debug)]
pub(super) struct RebuildArgs {
    #[arg(long, default_value_t = 100_000)]
    entries: u64,
    #[command(flatten)]
    cache: CacheArg,
}

/// Where generated benchmark ledgers are kept between runs, one per size.
#[derive(Args, Debug)]
struct CacheArg {
    /// Folder of generated ledgers, one per --entries (reused when present)
    #[arg(long, value_name = "DIR", env = "CUSTODY_BENCH_CACHE")]
    cache: Option<PathBuf>,
}

impl CacheArg {
    fn dir(&self) -> PathBuf {
        self.cache
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join("custody-bench"))
    }
}

/// `custody bench append|verify|query|rebuild|ceilings`.
pub(super) fn run(command: BenchCommand, clock: &Arc<dyn Clock>) -> Outcome {
    match command {
        BenchCommand::Append(a) => append(a, clock),
        BenchCommand::Verify(a) => verify(a),
        BenchCommand::Rebuild(a) => rebuild(a),
        BenchCommand::Query(a) => query(a),
        BenchCommand::Ceilings(a) => ceilings(a),
    }
}

/// `custody bench ceilings`.
fn ceilings(a: CeilingsArgs) -> Outcome {
    let dir = a.dir.unwrap_or_else(std::env::temp_dir);
    let c = crate::app::ceilings::measure(&dir, a.seconds).map_err(bench_failure)?;
    bench_print(
        &said("cli.bench.ceilings", &[]),
        format!(
            "{:>5}  {:>15.0}  {:>12.0}  {:>22.0}  {:>19.0}  {:>11.0}  {:>16.2}  {:>6.2}",
            c.cores,
            c.strict_verify_per_s_one_core,
            c.strict_verify_per_s_all_cores,
            c.sha256_leaves_per_s_one_core,
            c.sha256_leaves_per_s_all_cores,
            c.fdatasync_per_s,
            c.fdatasync_p50_ms,
            c.fdatasync_p99_ms
        ),
        &c,
    );
    Ok(())
}

/// `custody bench append`: to a running server, or to a new ledger here (directly or over HTTP).
fn append(a: AppendArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let AppendArgs {
        writers,
        seconds,
        signatures,
        ledger,
        server,
        admin,
        admin_key,
        ca_cert,
        http,
    } = a;
    let plan = AppendPlan::new(writers, seconds, signatures).map_err(bench_failure)?;
    let r = if let Some(url) = server {
        let admin =
            OfficerId::parse(admin.as_deref().unwrap_or_default()).map_err(input("--admin"))?;
        let key = read_key(admin_key.as_deref().unwrap_or(Path::new("")))?;
        bench_remote(&url, ca_cert.as_deref(), &admin, key, &plan, clock)?
    } else {
        append_local(ledger, http, &plan, clock)?
    };
    let opt = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.0}"));
    bench_print(
        &said("cli.bench.append", &[]),
        format!(
            "{:>7}  {:>10}  {:>10}  {:>9.0}  {:>6.2}  {:>6.2}  {:>10}  {:>16}  {:>12.0}",
            r.writers,
            r.signatures,
            r.statements,
            r.appends_per_s,
            r.p50_ms,
            r.p99_ms,
            opt(r.leaf_bytes_per_entry),
            opt(r.disk_bytes_per_entry),
            r.peak_rss_mb
        ),
        &r,
    );
    Ok(())
}

/// `bench append` on a new ledger in `ledger` (default: a temporary folder, removed afterwards),
/// directly or over HTTP (`--http`).
fn append_local(
    ledger: Option<PathBuf>,
    http: bool,
    plan: &AppendPlan,
    clock: &Arc<dyn Clock>,
) -> Result<AppendResult, Failure> {
    let temporary = match &ledger {
        Some(_) => None,
        None => Some(
            tempfile_dir("custody-bench-append")
                .map_err(|e| Failure::corrupt(msg("err.cli.temp_folder").arg("error", e)))?,
        ),
    };
    let dir = ledger
        .clone()
        .or_else(|| temporary.clone())
        .expect("one of the two is set");
    let result = if http {
        bench_http(&dir, plan, clock)
    } else {
        crate::app::bench::append(&dir, plan).map_err(bench_failure)
    };
    if let Some(t) = temporary {
        let _ = std::fs::remove_dir_all(t);
    }
    result
}

/// `custody bench verify`.
fn verify(a: VerifyArgs) -> Outcome {
    let VerifyArgs { entries, cache } = a;
    let cached = bench_cached(&cache, entries)?;
    let r = with_bar(entries, "verifying", |progress| {
        crate::app::bench::verify(&cached.dir, entries, progress)
    })?;
    bench_print(
        &said("cli.bench.verify", &[]),
        format!(
            "{:>8}  {:>7.2}  {:>9.0}  {:>12.0}  {:>12.0}  {:>10.0}  {:>24.2}",
            r.entries,
            r.seconds,
            r.entries_per_s,
            r.signatures_per_s,
            r.peak_rss_mb,
            r.leaf_bytes_per_entry,
            r.disk_bytes_per_leaf_byte
        ),
        &r,
    );
    Ok(())
}

/// `custody bench rebuild`.
fn rebuild(a: RebuildArgs) -> Outcome {
    let RebuildArgs { entries, cache } = a;
    let cached = bench_cached(&cache, entries)?;
    let r = with_bar(entries, "rebuilding", |progress| {
        crate::app::bench::rebuild(&cached.dir, entries, progress)
    })?;
    bench_print(
        &said("cli.bench.rebuild", &[]),
        format!(
            "{:>8}  {:>7.2}  {:>8.0}  {:>12.0}",
            r.entries, r.seconds, r.events_per_s, r.peak_rss_mb
        ),
        &r,
    );
    Ok(())
}

/// `custody bench query`.
fn query(a: QueryArgs) -> Outcome {
    let QueryArgs {
        entries,
        samples,
        cache,
    } = a;
    let cached = bench_cached(&cache, entries)?;
    let r = crate::app::bench::query(&cached.dir, entries, samples).map_err(bench_failure)?;
    bench_print(
        &said("cli.bench.query", &[]),
        format!(
            "{:>8}  {:>7}  {:>8.0} / {:<8.0}  {:>8.0} / {:<8.0}  {:>6.0} / {:<6.0}  {:>11}  {:>12.0}",
            r.entries,
            r.items,
            r.history_p50_us,
            r.history_p99_us,
            r.holdings_p50_us,
            r.holdings_p99_us,
            r.proof_p50_us,
            r.proof_p99_us,
            r.proof_bytes,
            r.peak_rss_mb
        ),
        &r,
    );
    Ok(())
}

/// A benchmark error as a failure: bad arguments exit 2, anything else 3.
fn bench_failure(e: crate::app::compose::BuildError) -> Failure {
    Failure::from(e)
}

/// Prints a benchmark's table (header and row), then its result as one JSON line (the last line).
fn bench_print<T: serde::Serialize>(header: &str, row: String, result: &T) {
    out!("{header}");
    out!("{row}");
    out!(
        "{}",
        serde_json::to_string(result).expect("plain numbers serialize")
    );
}

/// Runs one benchmark step behind a progress bar labelled `what`.
fn with_bar<T>(
    entries: u64,
    what: &str,
    run: impl FnOnce(&mut dyn FnMut(u64, u64)) -> Result<T, crate::app::compose::BuildError>,
) -> Result<T, Failure> {
    let bar = progress_bar(entries, what);
    let result = run(&mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    });
    bar.finish_and_clear();
    result.map_err(bench_failure)
}

/// A generated ledger from the cache, generating it (with a progress bar) when missing.
fn bench_cached(cache: &CacheArg, entries: u64) -> Result<crate::app::bench::Cached, Failure> {
    let cached = with_bar(entries, "generating", |progress| {
        crate::app::bench::cached_ledger(&cache.dir(), entries, progress)
    })?;
    if cached.generated {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "{}",
            said(
                "cli.bench.generated",
                &[
                    ("ledger", &cached.dir.display()),
                    ("seconds", &format!("{:.0}", cached.generate_seconds)),
                ],
            )
        );
    }
    Ok(cached)
}

/// A new, empty folder under the system's temporary folder.
fn tempfile_dir(prefix: &str) -> std::io::Result<PathBuf> {
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).map_err(|e| std::io::Error::other(e.to_string()))?;
    let dir = std::env::temp_dir().join(format!("{prefix}-{}", u64::from_le_bytes(suffix)));
    std::fs::create_dir(&dir)?;
    Ok(dir)
}

/// `bench append --http`: a new ledger in `dir` served by `custody serve` on loopback in this
/// process; every writer POSTs its envelopes with its own HTTP client (kept-alive connection).
fn bench_http(
    dir: &Path,
    plan: &crate::app::bench::AppendPlan,
    clock: &Arc<dyn Clock>,
) -> Result<crate::app::bench::AppendResult, Failure> {
    let (ledger, authors) =
        crate::app::bench::found_bench_ledger(dir, plan).map_err(bench_failure)?;
    let ledger = Arc::new(ledger);
    let config = crate::edge::server::ServeConfig::new(
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        None,
    );
    let running = crate::edge::server::spawn(Arc::clone(&ledger), config)
        .map_err(|e| Failure::corrupt(e.explain()))?;
    let url = format!("http://{}", running.addr);
    let measured = bench_over_http(&url, None, plan, &authors, clock);
    running.stop().map_err(|e| Failure::corrupt(e.explain()))?;
    Ok(crate::app::bench::AppendResult::from_measured(plan, measured?).with_disk(&ledger))
}

/// Runs the measured part of an append benchmark against `url`, one HTTP client per writer.
fn bench_over_http(
    url: &str,
    ca_cert: Option<&Path>,
    plan: &crate::app::bench::AppendPlan,
    authors: &crate::app::bench::Authors,
    clock: &Arc<dyn Clock>,
) -> Result<crate::app::bench::Measured, Failure> {
    let clients = (0..plan.writers())
        .map(|_| remote(url, None, ca_cert, clock))
        .collect::<Result<Vec<_>, _>>()?;
    crate::app::bench::measure(
        plan,
        authors,
        &|e| e.to_json().into_bytes(),
        &|w, bytes: Vec<u8>| {
            clients[w].submit(&bytes).map(|_| ()).map_err(|e| {
                crate::app::compose::BuildError::Input(
                    msg("err.cli.bench_submit")
                        .arg("url", url)
                        .part("error", e.explain()),
                )
            })
        },
    )
    .map_err(bench_failure)
}

/// `bench append --server URL`: enrolls the benchmark's officers on a running server (signed by
/// the given administrator, as any enrollment), then appends over HTTP.
fn bench_remote(
    url: &str,
    ca_cert: Option<&Path>,
    admin: &OfficerId,
    admin_key: SecretKey,
    plan: &crate::app::bench::AppendPlan,
    clock: &Arc<dyn Clock>,
) -> Result<crate::app::bench::AppendResult, Failure> {
    let client = remote(url, None, ca_cert, clock)?;
    // A run-specific block of officer ids, so that a second run against the same ledger enrolls
    // new officers rather than colliding with the first run's.
    let mut salt = [0u8; 2];
    getrandom::fill(&mut salt)
        .map_err(|e| Failure::corrupt(msg("err.cli.randomness").arg("error", e)))?;
    let first = (usize::from(u16::from_le_bytes(salt)) % 900 + 100) * 100;
    let mut officers = Vec::new();
    for officer in crate::app::bench::bench_officers(plan, first).map_err(bench_failure)? {
        let id = officer.id.clone();
        let (key, envelope) = officer
            .enrollment(clock.as_ref(), "BENCH", admin, &admin_key)
            .map_err(bench_failure)?;
        client.submit(envelope.to_json().as_bytes()).map_err(|e| {
            Failure::refused(
                msg("err.cli.bench_enrol_refused")
                    .arg("url", url)
                    .arg("officer", &id)
                    .part("error", e.explain()),
            )
        })?;
        officers.push((id, key));
    }
    let authors = crate::app::bench::Authors::new(officers, plan, Arc::clone(clock));
    let measured = bench_over_http(url, ca_cert, plan, &authors, clock)?;
    Ok(crate::app::bench::AppendResult::from_measured(
        plan, measured,
    ))
}
