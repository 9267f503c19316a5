//! `custody bench`: end-to-end load measurements of the real ledger. Statements are generated and
//! signed before the clock starts, so the figures measure the ledger (parse, verify, sequence,
//! flush, checkpoint), not the client. Reports numbers; never asserts a speed.

use crate::compose::{self, OfficerInput};
use crate::envelope::Envelope;
use crate::ids::{OfficerId, OfficerRole, Origin};
use crate::ledger::{AppendError, Ledger, OpenError};
use crate::signing::{KeyError, SecretKey};
use crate::time::{Clock, SystemClock};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{0}")]
    Open(#[from] OpenError),
    #[error("{0}")]
    Append(#[from] AppendError),
    #[error("{0}")]
    Key(#[from] KeyError),
    #[error("{0}")]
    Compose(#[from] compose::ComposeError),
    #[error("{0}")]
    Input(String),
}

/// The result of an append benchmark.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AppendResult {
    pub appends_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub writers: usize,
    pub signatures: usize,
    pub statements: usize,
    pub statement_bytes: usize,
    pub seconds: f64,
    pub disk_bytes_per_entry: f64,
}

/// Officer ids for generated signers: NIPs that differ in their last digits.
fn officer_id(n: usize) -> Result<OfficerId, BenchError> {
    OfficerId::parse(&format!("1990010120200{:05}", n % 100_000))
        .map_err(|e| BenchError::Input(e.to_string()))
}

/// Appends `count` pre-signed ~1 KiB notes from `writers` threads into a new ledger in `dir`.
/// Only single-signer statements exist until the custody acts land, so `signatures` must be 1.
pub fn append(
    dir: &Path,
    writers: usize,
    count: usize,
    signatures: usize,
) -> Result<AppendResult, BenchError> {
    if writers == 0 || count == 0 {
        return Err(BenchError::Input(
            "--writers and --count must be at least 1".into(),
        ));
    }
    if signatures != 1 {
        return Err(BenchError::Input(
            "only --signatures 1 is available until the custody event types (multi-signer acts) land".into(),
        ));
    }
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let origin = Origin::parse("bench.custody.invalid/ledger")
        .map_err(|e| BenchError::Input(e.to_string()))?;
    let admin_key = SecretKey::generate()?;
    let admin = OfficerInput {
        id: officer_id(99_999)?,
        name: "Bench Admin".into(),
        agency: "imipas".into(),
        unit: "Bench".into(),
        roles: vec![OfficerRole::Admin],
        public_key: admin_key.public(),
    };
    let (ledger, _) = Ledger::init(dir, &origin, Arc::clone(&clock), |vkey| {
        let bytes = compose::genesis(
            clock.as_ref(),
            "BENCH",
            origin.as_str(),
            &vkey.to_string(),
            &admin,
        )
        .map_err(|e| AppendError::Stopped(e.to_string()))?;
        compose::sign_statement(bytes, &[&admin_key])
            .map_err(|e| AppendError::Stopped(e.to_string()))
    })?;
    // One enrolled author per writer, so writers do not share a key.
    let mut authors = Vec::with_capacity(writers);
    for w in 0..writers {
        let key = SecretKey::generate()?;
        let officer = OfficerInput {
            id: officer_id(w)?,
            name: format!("Bench Officer {w}"),
            agency: "imipas".into(),
            unit: "Bench".into(),
            roles: vec![OfficerRole::GateOfficer],
            public_key: key.public(),
        };
        let bytes = compose::enrollment(clock.as_ref(), "BENCH", &admin.id, &officer, None)?;
        ledger.submit_envelope(compose::sign_statement(bytes, &[&admin_key])?)?;
        authors.push((officer.id, key));
    }
    // Pre-sign every statement: ~1 KiB each, like a realistic custody act.
    let text =
        "Pemeriksaan barang titipan di pintu utama; tidak ditemukan barang terlarang. ".repeat(11);
    let mut work: Vec<Vec<Envelope>> = vec![Vec::new(); writers];
    let mut statement_bytes = 0usize;
    for i in 0..count {
        let w = i % writers;
        let (id, key) = &authors[w];
        let bytes = compose::note(clock.as_ref(), "BENCH", id, &text, None)?;
        statement_bytes = bytes.len();
        work[w].push(compose::sign_statement(bytes, &[key])?);
    }
    let ledger = Arc::new(ledger);
    let before = ledger.checkpoint().size;
    let start = Instant::now();
    let mut latencies: Vec<Duration> = std::thread::scope(|s| {
        let handles: Vec<_> = work
            .into_iter()
            .map(|envelopes| {
                let ledger = Arc::clone(&ledger);
                s.spawn(move || -> Result<Vec<Duration>, AppendError> {
                    let mut lat = Vec::with_capacity(envelopes.len());
                    for env in envelopes {
                        let t = Instant::now();
                        ledger.submit_envelope(env)?;
                        lat.push(t.elapsed());
                    }
                    Ok(lat)
                })
            })
            .collect();
        let mut all = Vec::new();
        for h in handles {
            match h.join() {
                Ok(Ok(l)) => all.extend(l),
                Ok(Err(e)) => return Err(BenchError::Append(e)),
                Err(_) => return Err(BenchError::Input("a writer thread panicked".into())),
            }
        }
        Ok(all)
    })?;
    let elapsed = start.elapsed().as_secs_f64();
    let appended = ledger.checkpoint().size - before;
    latencies.sort();
    let pct = |p: f64| -> f64 {
        let i = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let disk = ledger.store().size_on_disk().unwrap_or(0) as f64;
    Ok(AppendResult {
        appends_per_s: appended as f64 / elapsed,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        writers,
        signatures,
        statements: count,
        statement_bytes,
        seconds: elapsed,
        disk_bytes_per_entry: disk / ledger.checkpoint().size as f64,
    })
}
