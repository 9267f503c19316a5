//! `custody bench`: end-to-end load measurements of the real ledger. Statements are generated and
//! signed before the clock starts, so the figures measure the ledger (parse, verify, sequence,
//! flush, checkpoint), not the client. Reports numbers; never asserts a speed.

use crate::app::compose::{self, BuildError, OfficerInput};
use crate::app::ledger::Ledger;
use crate::base::ids::{OfficerId, OfficerRole, Origin, SignerRole};
use crate::base::time::{Clock, SystemClock};
use crate::base::words::{Explain as _, Message, msg};
use crate::format::envelope::Envelope;
use crate::format::merkle::Hash;
use crate::keys::signing::SecretKey;
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    pub fn new(dir: &Path, origin: &str, facility: &str) -> Result<Self, BuildError> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let origin = Origin::parse(origin).map_err(|e| BuildError::Input(e.explain()))?;
        let admin_key = SecretKey::generate()?;
        let admin = OfficerInput {
            id: gen_officer(99_999),
            name: "Generated Admin".into(),
            agency: "imipas".into(),
            unit: "TU".into(),
            roles: vec![OfficerRole::Admin],
            public_key: admin_key.public(),
            rank: None,
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
    pub fn enroll(&self, officer: GeneratedOfficer) -> Result<SecretKey, BuildError> {
        let (key, envelope) = officer.enrollment(
            self.clock.as_ref(),
            &self.facility,
            &self.admin,
            &self.admin_key,
        )?;
        self.ledger.submit_envelope(envelope)?;
        Ok(key)
    }
}

impl GeneratedOfficer {
    /// A new key for this officer and their enrollment at `facility`, signed by `admin`: what
    /// `Founded::enroll` appends, and what `bench append --server` sends.
    pub fn enrollment(
        self,
        clock: &dyn Clock,
        facility: &str,
        admin: &OfficerId,
        admin_key: &SecretKey,
    ) -> Result<(SecretKey, Envelope), BuildError> {
        let key = SecretKey::generate()?;
        let input = OfficerInput {
            id: self.id,
            name: self.name,
            agency: self.agency.into(),
            unit: self.unit,
            roles: vec![self.role],
            public_key: key.public(),
            rank: None,
        };
        let bytes = compose::enrollment(clock, facility, admin, &input, None)?;
        Ok((key, compose::sign_statement(bytes, &[admin_key])?))
    }
}

/// Officer ids for generated signers: NIPs that differ in their last digits.
fn officer_id(n: usize) -> Result<OfficerId, BuildError> {
    OfficerId::parse(&format!("1990010120200{:05}", n % 100_000))
        .map_err(|e| BuildError::Input(e.explain()))
}

/// What an append benchmark runs: how many writers, for how long, with how many signatures.
/// Only `AppendPlan::new` makes one, so every plan is within bounds.
#[derive(Debug, Clone, Copy)]
pub struct AppendPlan {
    writers: usize,
    seconds: f64,
    signatures: usize,
}

/// Warm-up before the measured run: long enough for the caches, the group commit and the
/// allocator to settle, and to estimate how many statements the measured run needs.
const WARM_UP_SECONDS: f64 = 1.0;
/// Statements per writer signed for each round of the warm-up (rounds go on until
/// `WARM_UP_SECONDS` have passed), and at least `WARM_UP_ROUND_MIN` per round.
const WARM_UP_ROUND_PER_WRITER: usize = 16;
const WARM_UP_ROUND_MIN: usize = 512;
/// The longest run `--seconds` accepts: the statements for it are signed and held in memory
/// before the clock starts.
const RUN_SECONDS_MAX: f64 = 3600.0;
/// Statements pre-signed beyond the warm-up's rate times the run's length, so that writers do not
/// run out before the clock does.
const PRESIGN_MARGIN: f64 = 1.3;

impl AppendPlan {
    pub fn new(writers: usize, seconds: f64, signatures: usize) -> Result<Self, BuildError> {
        if writers == 0 {
            return Err(BuildError::Input(msg("err.bench.writers")));
        }
        if !(seconds > 0.0 && seconds <= RUN_SECONDS_MAX) {
            return Err(BuildError::Input(
                msg("err.bench.seconds").arg("max", RUN_SECONDS_MAX),
            ));
        }
        if !(1..=crate::base::limits::SIGNATURES_MAX).contains(&signatures) {
            return Err(BuildError::Input(
                msg("err.bench.signatures").arg("max", crate::base::limits::SIGNATURES_MAX),
            ));
        }
        Ok(Self {
            writers,
            seconds,
            signatures,
        })
    }

    pub fn writers(&self) -> usize {
        self.writers
    }
}

/// The benchmark's signers: one author per writer (so writers do not share a key), and at least
/// as many as there are signatures per statement (the witnesses).
pub struct Authors {
    officers: Vec<(OfficerId, SecretKey)>,
    writers: usize,
    signatures: usize,
    clock: Arc<dyn Clock>,
}

/// Generated officers for `plan`, numbered from `first` (their ids differ in the last five
/// digits): unenrolled records, for `Founded::enroll` or for enrollment over HTTP.
pub fn bench_officers(
    plan: &AppendPlan,
    first: usize,
) -> Result<Vec<GeneratedOfficer>, BuildError> {
    (0..plan.writers.max(plan.signatures))
        .map(|w| {
            Ok(GeneratedOfficer {
                id: officer_id(first + w)?,
                name: format!("Bench Officer {w}"),
                agency: "imipas",
                unit: "Bench".into(),
                role: OfficerRole::GateOfficer,
            })
        })
        .collect()
}

impl Authors {
    pub fn new(
        officers: Vec<(OfficerId, SecretKey)>,
        plan: &AppendPlan,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            officers,
            writers: plan.writers,
            signatures: plan.signatures,
            clock,
        }
    }

    /// Statement `i` (a new id; with K > 1 signatures a new item), written by writer `i % writers`:
    /// with one signature a ~1 KiB note, with K > 1 a find of contraband signed by its finder and
    /// K-1 witnesses.
    fn statement(&self, i: usize) -> Result<Envelope, BuildError> {
        let w = i % self.writers;
        let (id, key) = &self.officers[w];
        let clock = self.clock.as_ref();
        if self.signatures == 1 {
            let text =
                "Pemeriksaan barang titipan di pintu utama; tidak ditemukan barang terlarang. "
                    .repeat(11);
            let bytes = compose::note(clock, "BENCH", id, &text, None)?;
            return Ok(compose::sign_statement(bytes, &[key])?);
        }
        let n = self.officers.len();
        let witnesses: Vec<&(OfficerId, SecretKey)> = (1..self.signatures)
            .map(|k| &self.officers[(w + k) % n])
            .collect();
        let witness_ids: Vec<&OfficerId> = witnesses.iter().map(|(id, _)| id).collect();
        let bytes = compose::contraband_found(
            clock,
            "BENCH",
            id,
            &witness_ids,
            &format!("BB-BENCH-{i:09}"),
            &format!("INS-BENCH-{w:03}"),
            "Diselipkan di dasar kotak makanan kiriman keluarga, di bawah nasi",
        )?;
        let mut keys = vec![key];
        keys.extend(witnesses.iter().map(|(_, k)| k));
        Ok(compose::sign_statement(bytes, &keys)?)
    }

    /// Signs statements `from..to` on every core, dealt out to the writers (writer `i % writers`
    /// gets statement `i`), each turned into what the writer submits by `wrap`.
    fn presign<T: Send>(
        &self,
        from: usize,
        to: usize,
        wrap: &(dyn Fn(Envelope) -> T + Sync),
    ) -> Result<Vec<Vec<T>>, BuildError> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let per = (to - from).div_ceil(threads).max(1);
        // Each thread signs one contiguous range, so the ranges joined in order are in order.
        let signed: Vec<Vec<T>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let lo = (from + t * per).min(to);
                    let hi = (lo + per).min(to);
                    s.spawn(move || -> Result<Vec<T>, BuildError> {
                        (lo..hi).map(|i| Ok(wrap(self.statement(i)?))).collect()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a signing thread does not panic"))
                .collect::<Result<Vec<_>, _>>()
        })?;
        let mut work: Vec<Vec<T>> = (0..self.writers).map(|_| Vec::new()).collect();
        for (i, item) in (from..).zip(signed.into_iter().flatten()) {
            work[i % self.writers].push(item);
        }
        Ok(work)
    }
}

/// Latencies and wall time of one measured run.
pub struct Measured {
    pub latencies: Vec<Duration>,
    pub seconds: f64,
    pub statement_bytes: usize,
}

/// Warms up for `WARM_UP_SECONDS`, pre-signs as many statements as the warm-up's rate says the
/// run needs, then starts the clock and has every writer submit its statements until `seconds`
/// have passed. `submit(writer, item)` appends one statement and waits for its receipt.
pub fn measure<T: Send>(
    plan: &AppendPlan,
    authors: &Authors,
    wrap: &(dyn Fn(Envelope) -> T + Sync),
    submit: &(dyn Fn(usize, T) -> Result<(), BuildError> + Sync),
) -> Result<Measured, BuildError> {
    let statement_bytes = authors.statement(0)?.payload().len();
    let round = (plan.writers * WARM_UP_ROUND_PER_WRITER).max(WARM_UP_ROUND_MIN);
    let (mut signed, mut warmed, mut warm_seconds) = (0, 0, 0.0);
    while warm_seconds < WARM_UP_SECONDS {
        let warm = authors.presign(signed, signed + round, wrap)?;
        signed += round;
        let (latencies, seconds) = drive(warm, None, submit)?;
        warmed += latencies.len();
        warm_seconds += seconds;
    }
    let rate = warmed as f64 / warm_seconds;
    let count = (rate * plan.seconds * PRESIGN_MARGIN).ceil() as usize + plan.writers * 2;
    let work = authors.presign(signed, signed + count, wrap)?;
    let deadline = Duration::from_secs_f64(plan.seconds);
    let (latencies, seconds) = drive(work, Some(deadline), submit)?;
    Ok(Measured {
        latencies,
        seconds,
        statement_bytes,
    })
}

/// Runs one writer thread per list of `work`, each calling `submit` for its items in turn (until
/// `deadline` has passed, if given), and answers every latency and the wall time.
pub fn drive<T: Send, E: Send>(
    work: Vec<Vec<T>>,
    deadline: Option<Duration>,
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
                        if deadline.is_some_and(|d| t.duration_since(start) >= d) {
                            break;
                        }
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

/// The `p` quantile (0 to 1, nearest rank) of `sorted`, ascending; zero when it is empty.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
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
    /// Where the ledger is on this machine (embedded), or `null` over HTTP to another process.
    pub leaf_bytes_per_entry: Option<f64>,
    pub disk_bytes_per_entry: Option<f64>,
    pub peak_rss_mb: f64,
}

impl AppendResult {
    /// Sums up a run: rate, latency percentiles; disk and leaf sizes are filled in by the caller
    /// when it can see the ledger.
    pub fn from_measured(plan: &AppendPlan, mut m: Measured) -> Self {
        m.latencies.sort();
        let pct = |p: f64| percentile(&m.latencies, p).as_secs_f64() * 1000.0;
        Self {
            appends_per_s: m.latencies.len() as f64 / m.seconds,
            p50_ms: pct(0.50),
            p99_ms: pct(0.99),
            writers: plan.writers,
            signatures: plan.signatures,
            statements: m.latencies.len(),
            statement_bytes: m.statement_bytes,
            seconds: m.seconds,
            leaf_bytes_per_entry: None,
            disk_bytes_per_entry: None,
            peak_rss_mb: peak_rss_mb(),
        }
    }

    /// Fills in the ledger's size on disk per entry (its whole folder: `private/` and `public/`,
    /// which trails by at most a publication interval) and its mean leaf size (over the last
    /// `LEAF_SAMPLE` leaves), flushing first so that what is counted is what is durable.
    pub fn with_disk(mut self, ledger: &Ledger) -> Self {
        const LEAF_SAMPLE: u64 = 1000;
        let size = ledger.checkpoint().size.max(1);
        let from = size.saturating_sub(LEAF_SAMPLE);
        let (mut bytes, mut n) = (0usize, 0usize);
        for seq in from..size {
            if let Ok(Some(leaf)) = ledger.leaf(seq) {
                bytes += leaf.len();
                n += 1;
            }
        }
        let _ = ledger.store().flush();
        let disk = folder_bytes(ledger.dir()).unwrap_or(0) as f64;
        self.leaf_bytes_per_entry = Some(bytes as f64 / n.max(1) as f64);
        self.disk_bytes_per_entry = Some(disk / size as f64);
        self
    }
}

/// Enrolls the benchmark's officers into a new ledger in `dir` and answers it with its authors.
pub fn found_bench_ledger(dir: &Path, plan: &AppendPlan) -> Result<(Ledger, Authors), BuildError> {
    let founded = Founded::new(dir, "bench.custody.invalid/ledger", "BENCH")?;
    let mut officers = Vec::new();
    for officer in bench_officers(plan, 0)? {
        let id = officer.id.clone();
        officers.push((id, founded.enroll(officer)?));
    }
    let Founded { ledger, clock, .. } = founded;
    let authors = Authors::new(officers, plan, clock);
    Ok((ledger, authors))
}

/// Appends from `plan.writers` threads into a new ledger in `dir`, calling the ledger directly
/// (embedded): durable, verified appends of pre-signed statements.
pub fn append(dir: &Path, plan: &AppendPlan) -> Result<AppendResult, BuildError> {
    let (ledger, authors) = found_bench_ledger(dir, plan)?;
    let m = measure(plan, &authors, &|e| e, &|_, env| {
        ledger
            .submit_envelope(env)
            .map(|_| ())
            .map_err(BuildError::Append)
    })?;
    Ok(AppendResult::from_measured(plan, m).with_disk(&ledger))
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
) -> Result<Ledger, BuildError> {
    let founded = Founded::new(dir, "bench.custody.invalid/ledger", "BENCH")?;
    let officers = enroll_generated(&founded)?;
    let Founded { ledger, clock, .. } = founded;
    let base = ledger.checkpoint().size;
    let items = entries.saturating_sub(base).div_ceil(GEN_EVENTS_PER_ITEM);
    let stories = Stories {
        ledger: &ledger,
        clock: clock.as_ref(),
        officers: &officers,
    };
    stories.tell(items, base, progress)?;
    Ok(ledger)
}

/// Enrolls the generated ledger's gate officers (first) and investigators (in units of ten).
fn enroll_generated(founded: &Founded) -> Result<Vec<GenOfficer>, BuildError> {
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
    Ok(officers)
}

/// Writes the generated custody stories into a ledger: item `k`'s story is told by gate
/// officers and investigators chosen by `k`.
struct Stories<'a> {
    ledger: &'a Ledger,
    clock: &'a dyn Clock,
    officers: &'a [GenOfficer],
}

impl Stories<'_> {
    /// Tells the stories of items `0..items` from `GEN_WRITERS` threads (writer `w` tells every
    /// `GEN_WRITERS`-th story from `w`), reporting progress from a log of `base` entries, and
    /// stops at the first error.
    fn tell(
        &self,
        items: u64,
        base: u64,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), BuildError> {
        let done = std::sync::atomic::AtomicU64::new(0);
        let first_error: std::sync::Mutex<Option<BuildError>> = std::sync::Mutex::new(None);
        std::thread::scope(|s| {
            for w in 0..GEN_WRITERS as u64 {
                let (done, first_error) = (&done, &first_error);
                s.spawn(move || {
                    let mut k = w;
                    while k < items {
                        if let Err(e) = self.story(k) {
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
        match first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Gate officer `i` (modulo their number).
    fn gate(&self, i: u64) -> &GenOfficer {
        &self.officers[(i % GEN_GATE_OFFICERS as u64) as usize]
    }

    /// Investigator `i` (modulo their number).
    fn investigator(&self, i: u64) -> &GenOfficer {
        &self.officers[GEN_GATE_OFFICERS + (i % GEN_INVESTIGATORS as u64) as usize]
    }

    /// Item `k`'s ten events: found, sealed, weighed and noted at the gate, then handed to an
    /// investigator, weighed again and reviewed three times.
    fn story(&self, k: u64) -> Result<(), BuildError> {
        let item = format!("BB-GEN-{k:08}");
        let seal = format!("SEG-GEN-{k:08}");
        let h = self.at_the_gate(k, &item, &seal)?;
        self.with_the_investigator(k, &item, &seal, h)
    }

    /// The gate's part of item `k`'s story; answers the item's head.
    fn at_the_gate(&self, k: u64, item: &str, seal: &str) -> Result<Hash, BuildError> {
        let (finder, witness) = (self.gate(k), self.gate(k + 1));
        let h = self.act(
            "contraband_found",
            &[finder, witness],
            item,
            None,
            json!({
            "incident": format!("INS-GEN-{:06}", k / 4), "item": item,
            "description": {"name": "sachets of crystalline powder", "form": "crystal", "colour": "white"},
            "category": "narcotic", "narcotic_class": "I", "count": 3 + k % 20, "gross_mass_mg": 1000 + k % 50_000,
            "concealment": "inside a food parcel", "persons": [bench_inmate(k % 5000)], "photos": []}),
        )?;
        let h = self.act(
            "item_sealed",
            &[finder, witness],
            item,
            Some(h),
            json!({"item": item, "seals_applied": [seal], "packaging": "evidence bag", "photos": []}),
        )?;
        let h = self.act(
            "weighed",
            &[finder, witness],
            item,
            Some(h),
            json!({"item": item, "gross_mass_mg": 1000 + k % 50_000, "net_mass_mg": 800 + k % 40_000, "balance_id": "BAL-1", "readability_mg": 1, "calibration_ref": "KAL-1", "seals_intact": true}),
        )?;
        self.act(
            "note_added",
            &[finder],
            item,
            Some(h),
            json!({"item": item, "text": "Dilaporkan ke KPLP / reported to security"}),
        )
    }

    /// The rest of item `k`'s story from its head `h` at the gate: the handover to an
    /// investigator, a second weighing, three reviews.
    fn with_the_investigator(
        &self,
        k: u64,
        item: &str,
        seal: &str,
        h: Hash,
    ) -> Result<(), BuildError> {
        let (finder, witness) = (self.gate(k), self.gate(k + 1));
        let investigator = self.investigator(k);
        let h = self.act(
            "custody_released",
            &[finder, witness, self.gate(k + 2)],
            item,
            Some(h),
            json!({"item": item, "to_officer": investigator.id.as_str(), "to_unit": investigator.unit, "purpose": "penyidikan", "seals": [seal], "seals_intact": true}),
        )?;
        let h = self.act(
            "custody_received",
            &[investigator],
            item,
            Some(h),
            json!({"item": item, "seals": [seal], "seals_intact": true}),
        )?;
        let mut h = self.act(
            "weighed",
            &[investigator, self.investigator(k + 1)],
            item,
            Some(h),
            json!({"item": item, "gross_mass_mg": 1000 + k % 50_000, "net_mass_mg": 800 + k % 40_000, "balance_id": "BAL-2", "readability_mg": 1, "calibration_ref": "KAL-2", "seals_intact": true}),
        )?;
        for n in 0..3 {
            h = self.act(
                "note_added",
                &[investigator],
                item,
                Some(h),
                json!({"item": item, "text": format!("Pemeriksaan berkas {n} / case file review {n}")}),
            )?;
        }
        Ok(())
    }

    /// Signs one `kind` statement on `item` (whose head is `head`) by `signers` in the kind's
    /// roles, with the fields of `body`, appends it and answers its leaf hash.
    fn act(
        &self,
        kind: &str,
        signers: &[&GenOfficer],
        item: &str,
        head: Option<Hash>,
        body: serde_json::Value,
    ) -> Result<Hash, BuildError> {
        use base64::Engine as _;
        let mut st = json!({
            "type": kind,
            "id": compose::new_statement_id(self.clock)?.to_string(),
            "occurred_at": self.clock.now().to_seconds_text(),
            "facility": "BENCH",
            "signers": [],
            "after": { item: head.map(|h| base64::engine::general_purpose::STANDARD.encode(h)) },
        });
        let roles: Vec<SignerRole> = match kind {
            "contraband_found" => vec![SignerRole::Finder, SignerRole::Witness],
            "item_sealed" => vec![SignerRole::Actor, SignerRole::Witness],
            "weighed" => vec![SignerRole::Weigher, SignerRole::Witness],
            "custody_released" => vec![SignerRole::Giver, SignerRole::Witness, SignerRole::Witness],
            "custody_received" => vec![SignerRole::Receiver],
            _ => vec![SignerRole::Author],
        };
        st["signers"] = serde_json::Value::Array(
            signers
                .iter()
                .zip(roles)
                .map(|(o, r)| json!({"role": r.as_str(), "officer": o.id.as_str()}))
                .collect(),
        );
        if let (serde_json::Value::Object(m), serde_json::Value::Object(b)) = (&mut st, body) {
            m.extend(b);
        }
        let keys: Vec<&SecretKey> = signers.iter().map(|o| &o.key).collect();
        let env =
            compose::sign_statement(serde_json::to_vec(&st).expect("JSON serializes"), &keys)?;
        Ok(self.ledger.submit_envelope(env)?.leaf_hash)
    }
}

/// A generated ledger of at least `entries` entries, kept in `cache` (as `entries-N`) so that
/// repeated runs do not generate it again. A generation that did not finish is never taken for a
/// cached ledger: it is built under `entries-N.partial` and renamed when complete.
pub struct Cached {
    pub dir: std::path::PathBuf,
    pub generated: bool,
    pub generate_seconds: f64,
}

pub fn cached_ledger(
    cache: &Path,
    entries: u64,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Cached, BuildError> {
    if entries == 0 {
        return Err(BuildError::Input(msg("err.bench.entries")));
    }
    let dir = cache.join(format!("entries-{entries}"));
    if dir.join("private/log.sled").exists() {
        return Ok(Cached {
            dir,
            generated: false,
            generate_seconds: 0.0,
        });
    }
    let io = |e: std::io::Error| {
        BuildError::Input(Message::verbatim(format!("{}: {e}", cache.display())))
    };
    std::fs::create_dir_all(cache).map_err(io)?;
    let partial = cache.join(format!("entries-{entries}.partial"));
    if partial.exists() {
        std::fs::remove_dir_all(&partial).map_err(io)?;
    }
    let started = Instant::now();
    generate(&partial, entries, progress)?.close();
    std::fs::rename(&partial, &dir).map_err(io)?;
    Ok(Cached {
        dir,
        generated: true,
        generate_seconds: started.elapsed().as_secs_f64(),
    })
}

/// Opens a cached ledger and checks it holds at least `entries` entries.
fn open_cached(dir: &Path, entries: u64) -> Result<Ledger, BuildError> {
    let l = Ledger::open(dir)?;
    if l.checkpoint().size < entries {
        return Err(BuildError::Input(
            msg("err.bench.cache_short")
                .arg("dir", dir.display())
                .arg("size", l.checkpoint().size)
                .arg("entries", entries),
        ));
    }
    Ok(l)
}

/// The result of `bench verify`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VerifyResult {
    pub entries_per_s: f64,
    pub entries: u64,
    /// Signatures strictly checked, and per second (compare `bench ceilings`' all-core figure).
    pub signatures: u64,
    pub signatures_per_s: f64,
    pub seconds: f64,
    pub peak_rss_mb: f64,
    /// Mean bytes of a leaf (counted after the clock stopped).
    pub leaf_bytes_per_entry: f64,
    /// Bytes of the whole ledger folder per byte of leaf: what the log and its views cost on
    /// disk beyond the leaves themselves.
    pub disk_bytes_per_leaf_byte: f64,
}

/// Times a full verification (every leaf, every signature strictly) of the ledger in `dir`.
pub fn verify(
    dir: &Path,
    entries: u64,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<VerifyResult, BuildError> {
    let ledger = open_cached(dir, entries)?;
    let cp = ledger.checkpoint();
    let started = Instant::now();
    let report = crate::app::verify::verify_log(
        ledger.store(),
        cp.note.as_bytes(),
        ledger.verifier_key(),
        progress,
    )
    .map_err(|e| BuildError::Input(msg("err.bench.unverified").part("reason", e.explain())))?;
    let seconds = started.elapsed().as_secs_f64();
    let peak = peak_rss_mb();
    let mut leaf_bytes = 0u64;
    for seq in 0..cp.size {
        let leaf = ledger.leaf(seq).map_err(|e| BuildError::Io(e.explain()))?;
        let leaf =
            leaf.ok_or_else(|| BuildError::Io(msg("err.bench.leaf_missing").arg("seq", seq)))?;
        leaf_bytes += leaf.len() as u64;
    }
    ledger.close();
    let disk = folder_bytes(dir)
        .map_err(|e| BuildError::Io(Message::verbatim(format!("{}: {e}", dir.display()))))?;
    Ok(VerifyResult {
        entries_per_s: cp.size as f64 / seconds,
        entries: cp.size,
        signatures: report.signatures,
        signatures_per_s: report.signatures as f64 / seconds,
        seconds,
        peak_rss_mb: peak,
        leaf_bytes_per_entry: leaf_bytes as f64 / cp.size.max(1) as f64,
        disk_bytes_per_leaf_byte: disk as f64 / leaf_bytes.max(1) as f64,
    })
}

/// Bytes of every file under `dir`, as `du --apparent-size` counts them.
fn folder_bytes(dir: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            folder_bytes(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

/// The result of `bench rebuild`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RebuildResult {
    pub events_per_s: f64,
    pub entries: u64,
    pub seconds: f64,
    pub peak_rss_mb: f64,
}

/// Times a rebuild of every view from the log of the ledger in `dir` (the views end identical).
pub fn rebuild(
    dir: &Path,
    entries: u64,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<RebuildResult, BuildError> {
    open_cached(dir, entries)?.close();
    let started = Instant::now();
    let report = Ledger::rebuild(dir, false, progress)?;
    let seconds = started.elapsed().as_secs_f64();
    if report.before != report.after {
        return Err(BuildError::Input(msg("err.bench.rebuild_differs")));
    }
    Ok(RebuildResult {
        events_per_s: report.size as f64 / seconds,
        entries: report.size,
        seconds,
        peak_rss_mb: peak_rss_mb(),
    })
}

/// Measures history, holdings and inclusion-proof latency on the ledger in `dir` (at least
/// `entries` entries).
pub fn query(dir: &Path, entries: u64, samples: usize) -> Result<QueryResult, BuildError> {
    let ledger = open_cached(dir, entries)?;

    let store = ledger.store();
    let size = ledger.checkpoint().size;
    // Ids only: the samples are drawn from them, and the bench's own memory stays out of the
    // peak RSS it reports.
    let items = crate::app::queries::item_ids(store).map_err(|e| BuildError::Input(e.explain()))?;
    if items.is_empty() {
        return Err(BuildError::Input(msg("err.bench.no_items")));
    }
    // A deterministic spread of samples (no randomness needed for a fair sample).
    let pick = |i: usize, n: usize| i.wrapping_mul(2_654_435_761) % n.max(1);
    let mut history = Vec::with_capacity(samples);
    let mut history_events = 0usize;
    for i in 0..samples {
        let id = &items[pick(i, items.len())];
        let t = Instant::now();
        let events =
            crate::app::queries::history(store, id).map_err(|e| BuildError::Input(e.explain()))?;
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
        let list = crate::app::queries::holdings_of_officer(store, officer)
            .map_err(|e| BuildError::Input(e.explain()))?;
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
            .map_err(|e| BuildError::Input(e.explain()))?;
        proofs.push(t.elapsed());
        proof_bytes = proof_bytes.max(proof.len() * 32);
    }
    let pct = |v: &mut Vec<Duration>, p: f64| -> f64 {
        v.sort();
        percentile(v, p).as_secs_f64() * 1e6
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
        peak_rss_mb: peak_rss_mb(),
    })
}

/// One of the generated stories' inmates, as a statement names a person from rules version 4: a
/// subject id and a commitment, both derived from `n` (the generator keeps no subject register;
/// the ids only have to repeat as a real inmate's would).
fn bench_inmate(n: u64) -> serde_json::Value {
    use sha2::Digest as _;
    let digest =
        |tag: &str| crate::keys::signing::hex(&sha2::Sha256::digest(format!("bench-{tag}-{n}")));
    serde_json::json!({
        "kind": "subject", "category": "inmate",
        "subject": format!("subj-{}", &digest("inmate")[..32]),
        "commitment": digest("commitment"),
    })
}
