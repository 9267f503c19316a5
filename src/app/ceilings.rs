//! `custody bench ceilings`: the physical limits a ledger's rates are judged against, measured
//! on this machine in the same run — strict Ed25519 verification alone, SHA-256 leaf hashing
//! alone (one core and every core), and a device flush (`fdatasync`) alone on the disk that holds
//! the ledger. It measures primitives only: it never opens a ledger and never asserts a speed.

use crate::app::compose::BuildError;
use crate::base::words::{Message, msg};
use crate::format::merkle;
use crate::keys::signing::SecretKey;
use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

/// Bytes of the message signed and hashed in the CPU ceilings: about one custody statement
/// (the append benchmark's statements are ~1 KiB).
const CEILING_MESSAGE_BYTES: usize = 1024;

/// Bytes written before each flush in the fdatasync ceiling: one page, the least a group
/// commit writes.
const CEILING_FLUSH_WRITE_BYTES: usize = 4096;

/// Operations between two looks at the clock in the CPU loops, so that reading the clock costs
/// nothing next to the work measured.
const CEILING_OPS_PER_CLOCK_READ: u64 = 64;

/// What `custody bench ceilings` measured; every rate is per second of wall time.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Ceilings {
    /// Threads used for the all-core figures (`std::thread::available_parallelism`).
    pub cores: usize,
    pub message_bytes: usize,
    /// Strict Ed25519 verifications of one ~1 KiB message, on one core and on every core.
    pub strict_verify_per_s_one_core: f64,
    pub strict_verify_per_s_all_cores: f64,
    /// RFC 6962 leaf hashes (SHA-256 of 0x00 ‖ leaf) of ~1 KiB leaves.
    pub sha256_leaves_per_s_one_core: f64,
    pub sha256_leaves_per_s_all_cores: f64,
    /// `write` of one page then `fdatasync`, in a file beside the ledger, one after another.
    pub fdatasync_per_s: f64,
    pub fdatasync_p50_ms: f64,
    pub fdatasync_p99_ms: f64,
    /// Seconds spent on each of the five measurements.
    pub seconds_each: f64,
}

/// Measures every ceiling, each for `seconds` of wall time; the flush is measured in a
/// temporary file created in `dir` (keep `dir` on the disk the ledger is measured on).
pub fn measure(dir: &Path, seconds: f64) -> Result<Ceilings, BuildError> {
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(BuildError::Input(
            msg("err.bench.ceiling_seconds").arg("seconds", seconds),
        ));
    }
    if !dir.is_dir() {
        return Err(BuildError::Input(
            msg("err.bench.not_a_folder").arg("dir", dir.display()),
        ));
    }
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let span = Duration::from_secs_f64(seconds);
    let key = SecretKey::generate()?;
    let message = vec![b'x'; CEILING_MESSAGE_BYTES];
    let signature = key.sign(&message);
    let public = key.public();
    let verify = || {
        // A failure here would mean the key module is broken: count nothing rather than a
        // rate of failures.
        public.verify_strict(&message, &signature).is_ok()
    };
    let hash = || merkle::leaf_hash(&message) != [0u8; 32];
    let flush = flush_ceiling(dir, span)?;
    Ok(Ceilings {
        cores,
        message_bytes: CEILING_MESSAGE_BYTES,
        strict_verify_per_s_one_core: rate_on(1, span, &verify),
        strict_verify_per_s_all_cores: rate_on(cores, span, &verify),
        sha256_leaves_per_s_one_core: rate_on(1, span, &hash),
        sha256_leaves_per_s_all_cores: rate_on(cores, span, &hash),
        fdatasync_per_s: flush.per_s,
        fdatasync_p50_ms: flush.p50_ms,
        fdatasync_p99_ms: flush.p99_ms,
        seconds_each: seconds,
    })
}

/// Runs `op` on `threads` threads for `span` and answers how many succeeded per second.
fn rate_on(threads: usize, span: Duration, op: &(dyn Fn() -> bool + Sync)) -> f64 {
    let start = Instant::now();
    let done: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut ok = 0u64;
                    while start.elapsed() < span {
                        for _ in 0..CEILING_OPS_PER_CLOCK_READ {
                            ok += u64::from(op());
                        }
                    }
                    ok
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a measuring thread does not panic"))
            .sum()
    });
    done as f64 / start.elapsed().as_secs_f64()
}

struct FlushRate {
    per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// Writes one page and flushes it, again and again for `span`, in a temporary file in `dir`
/// (removed afterwards).
fn flush_ceiling(dir: &Path, span: Duration) -> Result<FlushRate, BuildError> {
    let io =
        |e: std::io::Error| BuildError::Io(Message::verbatim(format!("{}: {e}", dir.display())));
    let path = dir.join(format!(".custody-ceiling-{}", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(io)?;
    let measured = flush_loop(&mut file, span);
    drop(file);
    let removed = std::fs::remove_file(&path);
    let rate = measured.map_err(io)?;
    removed.map_err(io)?;
    Ok(rate)
}

/// The loop of `flush_ceiling`, on an open file.
fn flush_loop(file: &mut std::fs::File, span: Duration) -> std::io::Result<FlushRate> {
    let page = vec![0u8; CEILING_FLUSH_WRITE_BYTES];
    let mut latencies = Vec::new();
    let start = Instant::now();
    while start.elapsed() < span {
        let t = Instant::now();
        file.write_all(&page)?;
        file.sync_data()?;
        latencies.push(t.elapsed());
    }
    let seconds = start.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| crate::app::bench::percentile(&latencies, p).as_secs_f64() * 1000.0;
    Ok(FlushRate {
        per_s: latencies.len() as f64 / seconds,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    })
}
