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

/// A new ledger founded by a generated administrator, for generated load (the benchmarks and
/// the torture harness); officers with generated keys are enrolled into it with `enroll`.
pub struct Founded {
    pub ledger: Ledger,
    pub clock: Arc<dyn Clock>,
    facility: String,
    admin: OfficerId,
    admin_key: SecretKey,
}

/// A generated officer to enroll: everything but the key, which `Founded::enroll` generates.
pub struct GeneratedOfficer {
    pub id: OfficerId,
    pub name: String,
    pub agency: &'static str,
    pub unit: String,
    pub role: OfficerRole,
}

impl Founded {
    pub fn new(dir: &Path, origin: &str, facility: &str) -> Result<Self, BenchError> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let origin = Origin::parse(origin).map_err(|e| BenchError::Input(e.to_string()))?;
        let admin_key = SecretKey::generate()?;
        let admin = OfficerInput {
            id: gen_officer(99_999),
            name: "Generated Admin".into(),
            agency: "imipas".into(),
            unit: "TU".into(),
            roles: vec![OfficerRole::Admin],
            public_key: admin_key.public(),
        };
        let (ledger, _) = compose::init_ledger(
            dir,
            &origin,
            facility,
            Arc::clone(&clock),
            &admin,
            &admin_key,
        )?;
        Ok(Self {
            ledger,
            clock,
            facility: facility.to_owned(),
            admin: admin.id,
            admin_key,
        })
    }

    /// Enrolls `officer` with a new key (signed by the administrator) and answers the key.
    pub fn enroll(&self, officer: GeneratedOfficer) -> Result<SecretKey, BenchError> {
        let key = SecretKey::generate()?;
        let input = OfficerInput {
            id: officer.id,
            name: officer.name,
            agency: officer.agency.into(),
            unit: officer.unit,
            roles: vec![officer.role],
            public_key: key.public(),
        };
        let bytes = compose::enrollment(
            self.clock.as_ref(),
            &self.facility,
            &self.admin,
            &input,
            None,
        )?;
        self.ledger
            .submit_envelope(compose::sign_statement(bytes, &[&self.admin_key])?)?;
        Ok(key)
    }
}

/// Officer ids for generated signers: NIPs that differ in their last digits.
fn officer_id(n: usize) -> Result<OfficerId, BenchError> {
    OfficerId::parse(&format!("1990010120200{:05}", n % 100_000))
        .map_err(|e| BenchError::Input(e.to_string()))
}

/// A new benchmark ledger with its writers' statements already signed.
pub struct PreparedAppend {
    pub ledger: Ledger,
    /// One list of envelopes per writer.
    pub work: Vec<Vec<Envelope>>,
    pub statement_bytes: usize,
    pub signatures: usize,
}

/// Creates a new ledger in `dir`, enrolls one author per writer (at least `signatures`) and
/// pre-signs `count` statements of ~1 KiB: with one signature a note, with K > 1 a find of
/// contraband signed by its finder and K-1 witnesses, each creating a new item.
pub fn prepare_append(
    dir: &Path,
    writers: usize,
    count: usize,
    signatures: usize,
) -> Result<PreparedAppend, BenchError> {
    if writers == 0 || count == 0 {
        return Err(BenchError::Input(
            "--writers and --count must be at least 1".into(),
        ));
    }
    if !(1..=crate::limits::SIGNATURES_MAX).contains(&signatures) {
        return Err(BenchError::Input(format!(
            "--signatures must be 1 to {}",
            crate::limits::SIGNATURES_MAX
        )));
    }
    let founded = Founded::new(dir, "bench.custody.invalid/ledger", "BENCH")?;
    // One enrolled author per writer, so writers do not share a key; enough for the witnesses.
    let officers = writers.max(signatures);
    let mut authors = Vec::with_capacity(officers);
    for w in 0..officers {
        let id = officer_id(w)?;
        let key = founded.enroll(GeneratedOfficer {
            id: id.clone(),
            name: format!("Bench Officer {w}"),
            agency: "imipas",
            unit: "Bench".into(),
            role: OfficerRole::GateOfficer,
        })?;
        authors.push((id, key));
    }
    let Founded { ledger, clock, .. } = founded;
    // Pre-sign every statement: ~1 KiB each, like a realistic custody act.
    let text =
        "Pemeriksaan barang titipan di pintu utama; tidak ditemukan barang terlarang. ".repeat(11);
    let mut work: Vec<Vec<Envelope>> = vec![Vec::new(); writers];
    let mut statement_bytes = 0usize;
    let concealment = "Diselipkan di dasar kotak makanan kiriman keluarga, di bawah nasi";
    for i in 0..count {
        let w = i % writers;
        let (id, key) = &authors[w];
        let envelope = if signatures == 1 {
            let bytes = compose::note(clock.as_ref(), "BENCH", id, &text, None)?;
            statement_bytes = bytes.len();
            compose::sign_statement(bytes, &[key])?
        } else {
            let witnesses: Vec<&(OfficerId, SecretKey)> = (1..signatures)
                .map(|k| &authors[(w + k) % officers])
                .collect();
            let witness_ids: Vec<&OfficerId> = witnesses.iter().map(|(id, _)| id).collect();
            let bytes = compose::contraband_found(
                clock.as_ref(),
                "BENCH",
                id,
                &witness_ids,
                &format!("BB-BENCH-{i:08}"),
                &format!("INS-BENCH-{w:03}"),
                concealment,
            )?;
            statement_bytes = bytes.len();
            let mut keys = vec![key];
            keys.extend(witnesses.iter().map(|(_, k)| k));
            compose::sign_statement(bytes, &keys)?
        };
        work[w].push(envelope);
    }
    Ok(PreparedAppend {
        ledger,
        work,
        statement_bytes,
        signatures,
    })
}

/// Runs one writer thread per list of `work`, each calling `submit` for its items in turn, and
/// answers every latency. Used embedded (the ledger) and over HTTP (the client).
pub fn drive<T: Send, E: Send>(
    work: Vec<Vec<T>>,
    submit: &(dyn Fn(usize, T) -> Result<(), E> + Sync),
) -> Result<(Vec<Duration>, f64), E> {
    let start = Instant::now();
    let latencies = std::thread::scope(|s| {
        let handles: Vec<_> = work
            .into_iter()
            .enumerate()
            .map(|(w, items)| {
                s.spawn(move || -> Result<Vec<Duration>, E> {
                    let mut lat = Vec::with_capacity(items.len());
                    for item in items {
                        let t = Instant::now();
                        submit(w, item)?;
                        lat.push(t.elapsed());
                    }
                    Ok(lat)
                })
            })
            .collect();
        let mut all = Vec::new();
        for h in handles {
            all.extend(h.join().expect("a writer thread does not panic")?);
        }
        Ok(all)
    })?;
    Ok((latencies, start.elapsed().as_secs_f64()))
}

/// Sums up a run: rate, latency percentiles, disk per entry.
pub fn summarize(
    ledger: &Ledger,
    appended: u64,
    mut latencies: Vec<Duration>,
    elapsed: f64,
    writers: usize,
    signatures: usize,
    statement_bytes: usize,
) -> AppendResult {
    latencies.sort();
    let pct = |p: f64| -> f64 {
        let i = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let disk = ledger.store().size_on_disk().unwrap_or(0) as f64;
    AppendResult {
        appends_per_s: appended as f64 / elapsed,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        writers,
        signatures,
        statements: latencies.len(),
        statement_bytes,
        seconds: elapsed,
        disk_bytes_per_entry: disk / ledger.checkpoint().size.max(1) as f64,
    }
}

/// Appends `count` pre-signed ~1 KiB notes from `writers` threads into a new ledger in `dir`,
/// calling the ledger directly (embedded).
pub fn append(
    dir: &Path,
    writers: usize,
    count: usize,
    signatures: usize,
) -> Result<AppendResult, BenchError> {
    let p = prepare_append(dir, writers, count, signatures)?;
    let ledger = Arc::new(p.ledger);
    let before = ledger.checkpoint().size;
    let (latencies, elapsed) = drive(p.work, &|_, env| {
        ledger
            .submit_envelope(env)
            .map(|_| ())
            .map_err(BenchError::Append)
    })?;
    let appended = ledger.checkpoint().size - before;
    Ok(summarize(
        &ledger,
        appended,
        latencies,
        elapsed,
        writers,
        p.signatures,
        p.statement_bytes,
    ))
}

/// The result of a query benchmark.
#[derive(Debug, Clone, serde::Serialize)]
pub struct QueryResult {
    pub entries: u64,
    pub items: u64,
    pub samples: usize,
    pub history_p50_us: f64,
    pub history_p99_us: f64,
    pub history_events_per_item: f64,
    pub holdings_p50_us: f64,
    pub holdings_p99_us: f64,
    pub holdings_items_per_officer: f64,
    pub proof_p50_us: f64,
    pub proof_p99_us: f64,
    pub proof_bytes: usize,
    pub generated: bool,
    pub generate_seconds: f64,
    pub peak_rss_mb: f64,
}

/// Gate officers, investigators (in units of ten) in the generated ledger.
const GEN_GATE_OFFICERS: usize = 20;
const GEN_INVESTIGATORS: usize = 200;
/// Events per generated item: find, seal, weigh, note, release, receive, weigh, three notes.
const GEN_EVENTS_PER_ITEM: u64 = 10;
/// Writer threads generating a ledger: enough to fill group commits.
const GEN_WRITERS: usize = 64;

fn gen_officer(n: usize) -> OfficerId {
    OfficerId::parse(&format!("1985010120100{:05}", n)).expect("a generated NIP is 18 digits")
}

/// Peak resident set size of this process, in MiB (Linux; 0 elsewhere).
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_owned)
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

struct GenOfficer {
    id: OfficerId,
    key: SecretKey,
    unit: String,
}

/// Generates a ledger of at least `entries` entries of custody stories (10 events per item)
/// into `dir`, from `GEN_WRITERS` threads.
fn generate(
    dir: &Path,
    entries: u64,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Ledger, BenchError> {
    use serde_json::json;
    let founded = Founded::new(dir, "bench.custody.invalid/ledger", "BENCH")?;
    let mut officers = Vec::new();
    for n in 0..GEN_GATE_OFFICERS + GEN_INVESTIGATORS {
        let (role, agency, unit) = if n < GEN_GATE_OFFICERS {
            (OfficerRole::GateOfficer, "imipas", "P2U".to_owned())
        } else {
            (
                OfficerRole::Investigator,
                "polri",
                format!("Satresnarkoba {:02}", (n - GEN_GATE_OFFICERS) / 10),
            )
        };
        let key = founded.enroll(GeneratedOfficer {
            id: gen_officer(n),
            name: format!("Petugas {n}"),
            agency,
            unit: unit.clone(),
            role,
        })?;
        officers.push(GenOfficer {
            id: gen_officer(n),
            key,
            unit,
        });
    }
    let Founded { ledger, clock, .. } = founded;
    let base = ledger.checkpoint().size;
    let items = entries.saturating_sub(base).div_ceil(GEN_EVENTS_PER_ITEM);
    let ledger = Arc::new(ledger);
    let done = std::sync::atomic::AtomicU64::new(0);
    let officers = &officers;
    let act = |kind: &str,
               signers: &[&GenOfficer],
               item: &str,
               head: Option<crate::merkle::Hash>,
               body: serde_json::Value|
     -> Result<crate::merkle::Hash, BenchError> {
        use base64::Engine as _;
        let mut st = json!({
            "type": kind,
            "id": compose::new_statement_id(clock.as_ref())?.to_string(),
            "occurred_at": clock.now().to_seconds_text(),
            "facility": "BENCH",
            "signers": [],
            "after": { item: head.map(|h| base64::engine::general_purpose::STANDARD.encode(h)) },
        });
        let roles: Vec<&str> = match kind {
            "contraband_found" => vec!["finder", "witness"],
            "item_sealed" => vec!["actor", "witness"],
            "weighed" => vec!["weigher", "witness"],
            "custody_released" => vec!["giver", "witness", "witness"],
            "custody_received" => vec!["receiver"],
            _ => vec!["author"],
        };
        st["signers"] = serde_json::Value::Array(
            signers
                .iter()
                .zip(roles)
                .map(|(o, r)| json!({"role": r, "officer": o.id.as_str()}))
                .collect(),
        );
        if let (serde_json::Value::Object(m), serde_json::Value::Object(b)) = (&mut st, body) {
            m.extend(b);
        }
        let keys: Vec<&SecretKey> = signers.iter().map(|o| &o.key).collect();
        let env =
            compose::sign_statement(serde_json::to_vec(&st).expect("JSON serializes"), &keys)?;
        Ok(ledger.submit_envelope(env)?.leaf_hash)
    };
    let story = |k: u64| -> Result<(), BenchError> {
        let item = format!("BB-GEN-{k:08}");
        let g = |i: u64| &officers[(i % GEN_GATE_OFFICERS as u64) as usize];
        let inv = |i: u64| &officers[GEN_GATE_OFFICERS + (i % GEN_INVESTIGATORS as u64) as usize];
        let (finder, witness) = (g(k), g(k + 1));
        let investigator = inv(k);
        let seal = format!("SEG-GEN-{k:08}");
        let h = act(
            "contraband_found",
            &[finder, witness],
            &item,
            None,
            json!({
            "incident": format!("INS-GEN-{:06}", k / 4), "item": item,
            "description": {"name": "sachets of crystalline powder", "form": "crystal", "colour": "white"},
            "category": "narcotic", "narcotic_class": "I", "count": 3 + k % 20, "gross_mass_mg": 1000 + k % 50_000,
            "concealment": "inside a food parcel", "persons": [{"kind": "inmate", "sdp": format!("B.I-{}/2025", k % 5000)}], "photos": []}),
        )?;
        let h = act(
            "item_sealed",
            &[finder, witness],
            &item,
            Some(h),
            json!({"item": item, "seals_applied": [seal], "packaging": "evidence bag", "photos": []}),
        )?;
        let h = act(
            "weighed",
            &[finder, witness],
            &item,
            Some(h),
            json!({"item": item, "gross_mass_mg": 1000 + k % 50_000, "net_mass_mg": 800 + k % 40_000, "balance_id": "BAL-1", "readability_mg": 1, "calibration_ref": "KAL-1", "seals_intact": true}),
        )?;
        let h = act(
            "note_added",
            &[finder],
            &item,
            Some(h),
            json!({"item": item, "text": "Dilaporkan ke KPLP / reported to security"}),
        )?;
        let h = act(
            "custody_released",
            &[finder, witness, g(k + 2)],
            &item,
            Some(h),
            json!({"item": item, "to_officer": investigator.id.as_str(), "to_unit": investigator.unit, "purpose": "penyidikan", "seals": [seal], "seals_intact": true}),
        )?;
        let h = act(
            "custody_received",
            &[investigator],
            &item,
            Some(h),
            json!({"item": item, "seals": [seal], "seals_intact": true}),
        )?;
        let h = act(
            "weighed",
            &[investigator, inv(k + 1)],
            &item,
            Some(h),
            json!({"item": item, "gross_mass_mg": 1000 + k % 50_000, "net_mass_mg": 800 + k % 40_000, "balance_id": "BAL-2", "readability_mg": 1, "calibration_ref": "KAL-2", "seals_intact": true}),
        )?;
        let mut h = h;
        for n in 0..3 {
            h = act(
                "note_added",
                &[investigator],
                &item,
                Some(h),
                json!({"item": item, "text": format!("Pemeriksaan berkas {n} / case file review {n}")}),
            )?;
        }
        Ok(())
    };
    let first_error: std::sync::Mutex<Option<BenchError>> = std::sync::Mutex::new(None);
    std::thread::scope(|s| {
        for w in 0..GEN_WRITERS as u64 {
            let (story, done, first_error) = (&story, &done, &first_error);
            s.spawn(move || {
                let mut k = w;
                while k < items {
                    if let Err(e) = story(k) {
                        first_error
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .get_or_insert(e);
                        return;
                    }
                    done.fetch_add(GEN_EVENTS_PER_ITEM, std::sync::atomic::Ordering::Relaxed);
                    k += GEN_WRITERS as u64;
                }
            });
        }
        loop {
            std::thread::sleep(Duration::from_millis(500));
            let d = done.load(std::sync::atomic::Ordering::Relaxed);
            progress(base + d, base + items * GEN_EVENTS_PER_ITEM);
            if d >= items * GEN_EVENTS_PER_ITEM
                || first_error
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .is_some()
            {
                break;
            }
        }
    });
    if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    Arc::try_unwrap(ledger)
        .map_err(|_| BenchError::Input("the generated ledger is still shared".into()))
}

/// Measures history, holdings and inclusion-proof latency on a ledger of at least `entries`
/// entries in `dir`, generating it first unless a large enough one is already there (a cache).
pub fn query(
    dir: &Path,
    entries: u64,
    samples: usize,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<QueryResult, BenchError> {
    let started = Instant::now();
    let (ledger, generated) = if dir.join("log.sled").exists() {
        let l = Ledger::open(dir)?;
        if l.checkpoint().size < entries {
            return Err(BenchError::Input(format!(
                "{} holds {} entries, fewer than --entries {entries}; remove it to generate a new one",
                dir.display(),
                l.checkpoint().size
            )));
        }
        (l, false)
    } else {
        (generate(dir, entries, progress)?, true)
    };
    let generate_seconds = started.elapsed().as_secs_f64();
    let store = ledger.store();
    let size = ledger.checkpoint().size;
    let items =
        crate::queries::items(store, None, None).map_err(|e| BenchError::Input(e.to_string()))?;
    if items.is_empty() {
        return Err(BenchError::Input(
            "the ledger holds no items to query".into(),
        ));
    }
    // A deterministic spread of samples (no randomness needed for a fair sample).
    let pick = |i: usize, n: usize| i.wrapping_mul(2_654_435_761) % n.max(1);
    let mut history = Vec::with_capacity(samples);
    let mut history_events = 0usize;
    for i in 0..samples {
        let id = &items[pick(i, items.len())].id;
        let t = Instant::now();
        let events =
            crate::queries::history(store, id).map_err(|e| BenchError::Input(e.to_string()))?;
        history.push(t.elapsed());
        history_events += events.len();
    }
    let holders: Vec<OfficerId> = ledger
        .state()
        .officers()
        .map(|o| o.record.id.clone())
        .collect();
    let mut holdings = Vec::with_capacity(samples);
    let mut held = 0usize;
    for i in 0..samples {
        let officer = &holders[pick(i, holders.len())];
        let t = Instant::now();
        let list = crate::queries::holdings_of_officer(store, officer)
            .map_err(|e| BenchError::Input(e.to_string()))?;
        holdings.push(t.elapsed());
        held += list.len();
    }
    let mut proofs = Vec::with_capacity(samples);
    let mut proof_bytes = 0;
    for i in 0..samples {
        let seq = pick(i, size as usize) as u64;
        let t = Instant::now();
        let proof = ledger
            .inclusion_proof(seq, size)
            .map_err(|e| BenchError::Input(e.to_string()))?;
        proofs.push(t.elapsed());
        proof_bytes = proof_bytes.max(proof.len() * 32);
    }
    let pct = |v: &mut Vec<Duration>, p: f64| -> f64 {
        v.sort();
        let i = ((v.len() as f64 - 1.0) * p).round() as usize;
        v.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e6)
    };
    Ok(QueryResult {
        entries: size,
        items: items.len() as u64,
        samples,
        history_p50_us: pct(&mut history, 0.50),
        history_p99_us: pct(&mut history, 0.99),
        history_events_per_item: history_events as f64 / samples as f64,
        holdings_p50_us: pct(&mut holdings, 0.50),
        holdings_p99_us: pct(&mut holdings, 0.99),
        holdings_items_per_officer: held as f64 / samples as f64,
        proof_p50_us: pct(&mut proofs, 0.50),
        proof_p99_us: pct(&mut proofs, 0.99),
        proof_bytes,
        generated,
        generate_seconds,
        peak_rss_mb: peak_rss_mb(),
    })
}
