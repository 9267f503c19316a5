//! `custody torture`: the reliability harness. The crash torture runs the real `custody serve` in
//! a child process under concurrent writers, kills it (SIGKILL at a random moment, or an abort at
//! a named crash point inside the group commit), reopens the ledger and checks that nothing
//! acknowledged was lost and nothing is silently wrong. The storage fault suite drives the
//! embedded ledger through a seeded fault layer at the store boundary. Both report numbers and
//! name every failure; neither ever repairs what it finds.

use crate::app::bench::{Founded, GeneratedOfficer};
use crate::app::compose;
use crate::app::compose::BuildError;
use crate::app::ledger::{CRASH_AT_ENV, CRASH_POINTS, Ledger, OpenError};
use crate::app::verify::{self, Verifier};
use crate::base::ids::{OfficerId, OfficerRole};
use crate::base::limits::JOURNAL_SEGMENT_ENV;
use crate::base::time::{Clock, SystemClock};
use crate::base::words::{Explain, Message, msg};
use crate::edge::client::Remote;
use crate::format::envelope::Envelope;
use crate::format::merkle::{self, Hash};
use crate::format::note::{self, VerifierKey};
use crate::keys::signing::SecretKey;
use crate::storage::store::{FaultKind, FaultRates, Faults, JOURNAL_DIR, SLED_DIR};
use std::collections::BTreeMap;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a cycle's load runs before a timed SIGKILL, at most: long enough for several group
/// commits, short enough that hundreds of cycles fit in minutes.
const KILL_AFTER_MS_MAX: u64 = 400;
/// Journal segments of the tortured server: small, so that every publication drops some and the
/// kills land inside drops too (the default, 64 MiB, would never fill in a torture).
const TORTURE_SEGMENT_BYTES: u64 = 16 * 1024;
/// How long to wait for a server to reach an armed crash point before killing it anyway.
const CRASH_POINT_WAIT_MS: u64 = 10_000;
/// How long a restarted server may take to print its address (a reopen replays the views).
const START_WAIT_MS: u64 = 60_000;
/// A start-up kill lands at most this long after the server was started: opening a torture ledger
/// (lock, quarantine check, sled's own recovery and snapshot, catch-up) takes tens of ms.
const OPEN_KILL_MS_MAX: u64 = 40;
/// How long a start-up kill watches for sled's snapshot file before giving up on that window.
const SNAPSHOT_WATCH_MS: u64 = 5_000;
/// A kill "early" lands within this many ms after the server said it listens.
const EARLY_KILL_MS_MAX: u64 = 20;
/// The facility of the torture ledger's officers.
const FACILITY: &str = "TORTURE";

/// Why a torture could not run (what it finds goes into its report instead).
#[derive(Debug)]
pub enum TortureError {
    /// An option or a value given does not fit: why, said whole.
    Input(Message),
    Open(OpenError),
    /// The torture ledger could not be built: the builder's message.
    Setup(Message),
}

crate::english_display!(TortureError);

impl Explain for TortureError {
    fn explain(&self) -> Message {
        match self {
            Self::Input(why) | Self::Setup(why) => why.clone(),
            Self::Open(e) => e.explain(),
        }
    }
}

impl From<OpenError> for TortureError {
    fn from(e: OpenError) -> Self {
        Self::Open(e)
    }
}

/// A seeded generator: every random choice of a run follows from its seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    pub fn word(&mut self) -> u64 {
        crate::storage::store::splitmix64(&mut self.0)
    }
    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.word() % (hi - lo + 1)
    }
}

/// A seed from the clock, for runs not told one.
pub fn fresh_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
}

/// An enrolled officer whose key the harness holds.
struct Signer {
    id: OfficerId,
    key: SecretKey,
}

fn officer_id(n: usize) -> Result<OfficerId, TortureError> {
    OfficerId::parse(&format!("1991020320210{:05}", n % 100_000))
        .map_err(|e| TortureError::Input(e.explain()))
}

/// Creates a new ledger in `dir` with `officers` enrolled officers besides the administrator,
/// and answers their keys. The ledger is closed again before this returns.
fn create_ledger(dir: &Path, officers: usize) -> Result<(VerifierKey, Vec<Signer>), TortureError> {
    let setup = |e: BuildError| TortureError::Setup(e.explain());
    let founded = Founded::new(dir, "torture.custody.invalid/ledger", FACILITY).map_err(setup)?;
    let mut signers = Vec::with_capacity(officers);
    for n in 0..officers {
        let id = officer_id(n)?;
        let key = founded
            .enroll(GeneratedOfficer {
                id: id.clone(),
                name: format!("Petugas Uji {n}"),
                agency: "imipas",
                unit: format!("Regu {}", n % 4),
                role: OfficerRole::GateOfficer,
            })
            .map_err(setup)?;
        signers.push(Signer { id, key });
    }
    let vkey = founded.ledger.verifier_key().clone();
    founded.ledger.close();
    Ok((vkey, signers))
}

/// The `n`-th statement of writer `w`: a find of contraband (finder and a witness sign, which
/// creates an item in the views) or a note, ~1 KiB or less, as officers record them.
fn statement(
    signers: &[Signer],
    w: usize,
    n: u64,
    clock: &dyn Clock,
) -> Result<Envelope, compose::ComposeError> {
    let me = &signers[w % signers.len()];
    if n.is_multiple_of(2) {
        let witness = &signers[(w + 1) % signers.len()];
        let item = format!("BB-TRT-{w:03}-{n:07}");
        let bytes = compose::contraband_found(
            clock,
            FACILITY,
            &me.id,
            &[&witness.id],
            &item,
            &format!("INS-TRT-{w:03}"),
            "Diselipkan di lipatan kardus paket kiriman",
        )?;
        compose::sign_statement(bytes, &[&me.key, &witness.key])
    } else {
        let text = format!("Catatan jaga regu {w}, nomor {n}: kontrol blok selesai, aman.");
        let bytes = compose::note(clock, FACILITY, &me.id, &text, None)?;
        compose::sign_statement(bytes, &[&me.key])
    }
}

/// Settings of a crash torture run.
#[derive(Debug, Clone)]
pub struct CrashConfig {
    /// The ledger folder; created by the run, so it must not exist yet.
    pub dir: PathBuf,
    pub cycles: u64,
    pub writers: usize,
    pub seed: u64,
    /// The `custody` binary to run as the server.
    pub exe: PathBuf,
    /// Rebuild the views from the log and compare every this many cycles (1: every cycle).
    pub rebuild_every: u64,
    /// Share of cycles, in percent, whose kill lands during start-up: while the server opens
    /// the ledger, while sled writes its snapshot, or in the first moments after it listens.
    pub startup_percent: u64,
}

/// What a crash torture run found. `lost` and `undetected_corruption` must both be 0.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct CrashReport {
    pub cycles: u64,
    pub acked: u64,
    pub lost: u64,
    pub undetected_corruption: u64,
    /// Statements in the log at the end (acknowledged, plus those durable but never answered).
    pub entries: u64,
    /// How the server died, by kind: `sigkill` after a random delay, or the crash point armed.
    pub kills: BTreeMap<String, u64>,
    /// Statements in flight at a crash, submitted again after the restart: `recovered` were
    /// already durable (answered 200 with their original seq), the rest were appended anew.
    pub resubmitted: u64,
    pub recovered: u64,
    /// Acknowledged statements submitted again on purpose: each must get its original seq.
    pub retries_checked: u64,
    /// Consistency proofs checked between a new checkpoint and one seen before.
    pub consistency_checked: u64,
    pub rebuilds_compared: u64,
    /// Kills that landed while the server was opening the ledger or just after (all kinds).
    pub startup_kills: u64,
    /// Of those, kills that left sled's `snap.*.generating` file behind (landed between its
    /// creation and its rename): each must be moved to quarantine by the next open.
    pub snapshot_kills: u64,
    /// Files the reopens moved to `quarantine/` (snapshots sled never committed).
    pub quarantined: u64,
    /// Reopens refused after a kill (a ledger that would not open): must be 0.
    pub refused_opens: u64,
    pub seed: u64,
    pub seconds: f64,
    /// Each failure, named; empty on a clean run.
    pub failures: Vec<String>,
}

impl CrashReport {
    /// The one line the run ends with.
    pub fn line(&self) -> String {
        format!(
            "cycles={} acked={} lost={} undetected_corruption={} startup_kills={} refused_opens={}",
            self.cycles,
            self.acked,
            self.lost,
            self.undetected_corruption,
            self.startup_kills,
            self.refused_opens
        )
    }
    pub fn passed(&self) -> bool {
        self.lost == 0
            && self.undetected_corruption == 0
            && self.refused_opens == 0
            && self.failures.is_empty()
    }
}

/// An acknowledgement as a writer received it.
#[derive(Debug, Clone)]
struct Ack {
    id: [u8; 16],
    seq: u64,
    leaf_hash: Hash,
    envelope: Vec<u8>,
}

/// What the writers of one cycle bring back.
#[derive(Default)]
struct CycleLoad {
    acks: Vec<Ack>,
    /// Envelopes sent without an answer (the server died): submitted again next cycle.
    in_flight: Vec<Vec<u8>>,
    /// Signed checkpoints from receipts, verified.
    checkpoints: Vec<(u64, Hash)>,
    resubmitted: u64,
    recovered: u64,
    retries_checked: u64,
    failures: Vec<String>,
}

/// A running server child.
struct ServerChild {
    child: Child,
    url: String,
}

/// Starts `custody serve` on the ledger without waiting for it; `first_line` brings the line it
/// prints once it listens (or nothing, if it dies first).
fn spawn_server(
    exe: &Path,
    dir: &Path,
    log: &Path,
    crash_at: Option<&str>,
) -> Result<(Child, std::sync::mpsc::Receiver<String>), String> {
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| format!("{}: {e}", log.display()))?;
    let mut command = Command::new(exe);
    command
        .args(["serve", "--ledger"])
        .arg(dir)
        .args(["--listen", "127.0.0.1:0"])
        .env_remove(CRASH_AT_ENV)
        .env(JOURNAL_SEGMENT_ENV, TORTURE_SEGMENT_BYTES.to_string())
        .stdout(Stdio::piped())
        .stderr(log_file);
    if let Some(point) = crash_at {
        command.env(CRASH_AT_ENV, point);
    }
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    let stdout = child.stdout.take().expect("stdout was piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = std::io::BufReader::new(stdout);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = tx.send(line);
        // Keep reading so the server never blocks on a full pipe.
        let mut sink = String::new();
        while reader.read_line(&mut sink).is_ok_and(|n| n > 0) {
            sink.clear();
        }
    });
    Ok((child, rx))
}

fn start_server(
    exe: &Path,
    dir: &Path,
    log: &Path,
    crash_at: Option<&str>,
) -> Result<ServerChild, String> {
    let (mut child, first_line) = spawn_server(exe, dir, log, crash_at)?;
    let line = first_line
        .recv_timeout(Duration::from_millis(START_WAIT_MS))
        .unwrap_or_default();
    match line.trim().strip_prefix("listening on ") {
        Some(url) => Ok(ServerChild {
            child,
            url: url.to_owned(),
        }),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            let tail = std::fs::read_to_string(log).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(5).collect();
            Err(format!(
                "the server did not start after the crash: {}",
                tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
            ))
        }
    }
}

/// True while sled is writing a snapshot it has not yet renamed into place.
fn snapshot_being_written(sled: &Path) -> bool {
    std::fs::read_dir(sled).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            crate::storage::recovery::snapshot_name(&e.file_name().to_string_lossy())
                == crate::storage::recovery::SnapshotName::Generating
        })
    })
}

/// A kill while the server starts: SIGKILL after a random delay (most land inside the open), or,
/// with `watch_snapshot`, the moment sled's snapshot file appears. Answers the kill's name and
/// whether it left sled's snapshot file behind (cut off between its creation and its rename).
fn startup_kill(
    exe: &Path,
    dir: &Path,
    log: &Path,
    rng: &mut Rng,
    watch_snapshot: bool,
) -> Result<(String, bool), String> {
    let (mut child, first_line) = spawn_server(exe, dir, log, None)?;
    let sled = dir.join("private/log.sled");
    let kill = if watch_snapshot {
        let deadline = Instant::now() + Duration::from_millis(SNAPSHOT_WATCH_MS);
        loop {
            // Polled without sleeping: the window is one small write and one fsync long.
            if snapshot_being_written(&sled) {
                let _ = child.kill();
                break "sigkill at sled's snapshot write";
            }
            if Instant::now() >= deadline
                || first_line.try_recv().is_ok()
                || matches!(child.try_wait(), Ok(Some(_)))
            {
                let _ = child.kill();
                break "sigkill during open (snapshot write not seen)";
            }
        }
    } else {
        std::thread::sleep(Duration::from_millis(rng.range(0, OPEN_KILL_MS_MAX)));
        let listening = first_line.try_recv().is_ok();
        let _ = child.kill();
        if listening {
            "sigkill just after open"
        } else {
            "sigkill during open"
        }
    };
    let _ = child.wait();
    Ok((kill.to_owned(), snapshot_being_written(&sled)))
}

/// How one cycle's server dies.
#[derive(Debug, Clone, Copy)]
enum Plan {
    /// Under load: SIGKILL after a random delay (`early`: within moments of listening), or an
    /// abort at an armed crash point of the group commit.
    Load {
        crash_at: Option<(&'static str, u64)>,
        early: bool,
    },
    /// SIGKILL at a random moment of the start-up, most inside the open.
    Open,
    /// A short load (so that sled's log runs past its snapshot), a kill, then a kill the moment
    /// the next start's sled writes its snapshot file.
    Snapshot,
}

impl Plan {
    fn draw(rng: &mut Rng, startup_percent: u64) -> Self {
        if rng.range(1, 100) <= startup_percent {
            return match rng.word() % 3 {
                0 => Self::Open,
                1 => Self::Snapshot,
                _ => Self::Load {
                    crash_at: None,
                    early: true,
                },
            };
        }
        let crash_at = if rng.word().is_multiple_of(2) {
            let point = CRASH_POINTS[(rng.word() % CRASH_POINTS.len() as u64) as usize];
            // A drop happens about once a publication (each second), a commit many times.
            let passes = if point.starts_with("drop-") {
                rng.range(1, 3)
            } else {
                rng.range(1, 40)
            };
            Some((point, passes))
        } else {
            None
        };
        Self::Load {
            crash_at,
            early: false,
        }
    }
}

/// A crash torture under way: what was acknowledged and seen so far.
struct Run<'a> {
    config: &'a CrashConfig,
    vkey: VerifierKey,
    signers: Arc<Vec<Signer>>,
    log: PathBuf,
    rng: Rng,
    report: CrashReport,
    acked: Vec<Ack>,
    in_flight: Vec<Vec<u8>>,
    seen: BTreeMap<u64, Hash>,
    verifier: Option<Verifier>,
    counters: Vec<u64>,
}

/// Runs the crash torture. Progress goes to `progress` (one line per cycle).
pub fn crash(
    config: &CrashConfig,
    progress: &mut dyn FnMut(&str),
) -> Result<CrashReport, TortureError> {
    if config.cycles == 0 || config.writers == 0 || config.startup_percent > 100 {
        return Err(TortureError::Input(msg("err.torture.counts")));
    }
    if config.dir.exists() {
        return Err(TortureError::Input(
            msg("err.torture.dir_exists").arg("dir", config.dir.display()),
        ));
    }
    let started = Instant::now();
    let (vkey, signers) = create_ledger(&config.dir, config.writers + 1)?;
    let mut run = Run {
        config,
        vkey,
        signers: Arc::new(signers),
        log: config.dir.with_extension("serve.log"),
        rng: Rng::new(config.seed),
        report: CrashReport {
            seed: config.seed,
            ..CrashReport::default()
        },
        acked: Vec::new(),
        in_flight: Vec::new(),
        seen: BTreeMap::new(),
        verifier: None,
        counters: vec![0u64; config.writers],
    };
    for cycle in 1..=config.cycles {
        run.report.cycles = cycle;
        if !run.cycle(cycle, progress) {
            break;
        }
    }
    run.finish()?;
    run.report.seconds = started.elapsed().as_secs_f64();
    Ok(run.report)
}

impl Run<'_> {
    /// One kill and the checks after it; false when the run must stop.
    fn cycle(&mut self, cycle: u64, progress: &mut dyn FnMut(&str)) -> bool {
        let plan = Plan::draw(&mut self.rng, self.config.startup_percent);
        let killed = match plan {
            Plan::Load { crash_at, early } => self.load_and_kill(crash_at, early),
            Plan::Open => self.startup_kill(false).map(|k| (k, 0)),
            Plan::Snapshot => self
                .load_and_kill(None, false)
                .and_then(|(_, acks)| Ok((self.startup_kill(true)?, acks))),
        };
        let (kill, new_acks) = match killed {
            Ok(k) => k,
            Err(e) => {
                self.report.refused_opens += 1;
                self.report.failures.push(format!("cycle {cycle}: {e}"));
                return false;
            }
        };
        // Everything is checked against the ledger as the crash left it.
        let rebuild =
            cycle.is_multiple_of(self.config.rebuild_every.max(1)) || cycle == self.config.cycles;
        let refused_before = self.report.refused_opens;
        match check_cycle(
            &self.config.dir,
            &self.vkey,
            &self.acked,
            &mut self.seen,
            &mut self.verifier,
            rebuild,
            &mut self.report,
        ) {
            Ok(size) => {
                self.report.entries = size;
                progress(&format!(
                    "cycle {cycle}/{}: {kill}; {new_acks} acknowledged (total {}), log {size} entries, verified",
                    self.config.cycles,
                    self.acked.len()
                ));
                true
            }
            Err(e) => {
                // A ledger that refuses to open was detected; anything else got past the checks.
                if self.report.refused_opens == refused_before {
                    self.report.undetected_corruption += 1;
                }
                self.report.failures.push(format!("cycle {cycle}: {e}"));
                progress(&format!(
                    "cycle {cycle}/{}: FAILED: {e}",
                    self.config.cycles
                ));
                false
            }
        }
    }

    /// Starts the server, runs the writers, kills it as `crash_at`/`early` say, and takes in
    /// what the writers brought back. Answers the kill's name and the new acknowledgements.
    fn load_and_kill(
        &mut self,
        crash_at: Option<(&'static str, u64)>,
        early: bool,
    ) -> Result<(String, usize), String> {
        let armed = crash_at.map(|(p, n)| format!("{p}:{n}"));
        let mut server = start_server(
            &self.config.exe,
            &self.config.dir,
            &self.log,
            armed.as_deref(),
        )?;
        let load = run_cycle(
            &server,
            &self.signers,
            &self.vkey,
            std::mem::take(&mut self.in_flight),
            &self.acked,
            &mut self.counters,
            &mut self.rng,
        );
        let kill = match crash_at {
            None if early => {
                std::thread::sleep(Duration::from_millis(self.rng.range(0, EARLY_KILL_MS_MAX)));
                self.report.startup_kills += 1;
                "sigkill early".to_owned()
            }
            None => {
                std::thread::sleep(Duration::from_millis(self.rng.range(10, KILL_AFTER_MS_MAX)));
                "sigkill".to_owned()
            }
            Some((point, _)) => wait_for_crash_point(&mut server.child, point),
        };
        let _ = server.child.kill();
        let _ = server.child.wait();
        *self.report.kills.entry(kill.clone()).or_default() += 1;
        let new_acks = self.take_load(join_load(load));
        Ok((kill, new_acks))
    }

    /// A kill during start-up (see `startup_kill`), counted.
    fn startup_kill(&mut self, watch_snapshot: bool) -> Result<String, String> {
        let (kill, left_snapshot) = startup_kill(
            &self.config.exe,
            &self.config.dir,
            &self.log,
            &mut self.rng,
            watch_snapshot,
        )?;
        self.report.startup_kills += 1;
        self.report.snapshot_kills += u64::from(left_snapshot);
        *self.report.kills.entry(kill.clone()).or_default() += 1;
        Ok(kill)
    }

    /// Takes in what a cycle's writers brought back; answers how many new acknowledgements.
    fn take_load(&mut self, load: CycleLoad) -> usize {
        let report = &mut self.report;
        report.resubmitted += load.resubmitted;
        report.recovered += load.recovered;
        report.retries_checked += load.retries_checked;
        for f in load.failures {
            report.undetected_corruption += 1;
            report
                .failures
                .push(format!("cycle {}: {f}", report.cycles));
        }
        let new_acks = load.acks.len();
        self.acked.extend(load.acks);
        self.in_flight = load.in_flight;
        for (size, root) in load.checkpoints {
            if let Some(other) = self.seen.insert(size, root)
                && other != root
            {
                report.undetected_corruption += 1;
                report.failures.push(format!(
                    "cycle {}: two signed checkpoints of size {size} with different roots",
                    report.cycles
                ));
            }
        }
        new_acks
    }

    /// A last verification from scratch: what the incremental checks established, once whole.
    fn finish(&mut self) -> Result<(), TortureError> {
        self.report.acked = self.acked.len() as u64;
        self.report.quarantined = count_files(
            &self
                .config
                .dir
                .join(crate::storage::recovery::QUARANTINE_DIR),
        );
        if !self.report.failures.is_empty() {
            return Ok(());
        }
        let ledger = Ledger::open(&self.config.dir)?;
        let cp = ledger.checkpoint();
        if let Err(e) = verify::verify_log(
            ledger.store(),
            cp.note.as_bytes(),
            &self.vkey,
            &mut |_, _| {},
        ) {
            self.report.undetected_corruption += 1;
            self.report
                .failures
                .push(format!("final full verification: {e}"));
        }
        ledger.close();
        Ok(())
    }
}

/// Waits for a server armed with a crash point to abort there; kills it if it never gets there.
fn wait_for_crash_point(child: &mut Child, point: &str) -> String {
    let deadline = Instant::now() + Duration::from_millis(CRASH_POINT_WAIT_MS);
    loop {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return format!("abort at {point}");
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            return format!("sigkill ({point} not reached)");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Files under `dir`, at any depth (0 when it does not exist).
fn count_files(dir: &Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| {
                if e.path().is_dir() {
                    count_files(&e.path())
                } else {
                    1
                }
            })
            .sum()
    })
}

/// Waits for a cycle's writers and sums up what they bring back.
fn join_load(handles: Vec<std::thread::JoinHandle<CycleLoad>>) -> CycleLoad {
    let mut all = CycleLoad::default();
    for h in handles {
        let mut one = h.join().unwrap_or_else(|_| CycleLoad {
            failures: vec!["a writer thread panicked".into()],
            ..CycleLoad::default()
        });
        all.acks.append(&mut one.acks);
        all.in_flight.append(&mut one.in_flight);
        all.checkpoints.append(&mut one.checkpoints);
        all.failures.append(&mut one.failures);
        all.resubmitted += one.resubmitted;
        all.recovered += one.recovered;
        all.retries_checked += one.retries_checked;
    }
    all
}

/// Starts the writers against `server`; they run until it stops answering.
fn run_cycle(
    server: &ServerChild,
    signers: &Arc<Vec<Signer>>,
    vkey: &VerifierKey,
    in_flight: Vec<Vec<u8>>,
    acked: &[Ack],
    counters: &mut [u64],
    rng: &mut Rng,
) -> Vec<std::thread::JoinHandle<CycleLoad>> {
    let writers = counters.len();
    // Spread the envelopes left in flight over the writers; each writer also re-sends a few
    // acknowledged statements, whose answers must repeat their original seq and leaf hash.
    let mut resend: Vec<Vec<Vec<u8>>> = vec![Vec::new(); writers];
    for (i, e) in in_flight.into_iter().enumerate() {
        resend[i % writers].push(e);
    }
    let mut retries: Vec<Vec<Ack>> = vec![Vec::new(); writers];
    for retry in retries.iter_mut() {
        for _ in 0..2 {
            if !acked.is_empty() {
                retry.push(acked[(rng.word() % acked.len() as u64) as usize].clone());
            }
        }
    }
    let mut handles = Vec::with_capacity(writers);
    for (w, (resend, retries)) in resend.into_iter().zip(retries).enumerate() {
        let url = server.url.clone();
        let signers = Arc::clone(signers);
        let vkey = vkey.clone();
        let first = counters[w];
        // Reserve numbers generously; unused ones are simply skipped.
        counters[w] += 100_000;
        handles.push(std::thread::spawn(move || {
            writer(&url, &signers, &vkey, w, first, resend, retries)
        }));
    }
    handles
}

/// One writer: re-sends what was in flight, checks a few retries, then records new statements
/// until the server stops answering.
#[allow(clippy::too_many_arguments)]
fn writer(
    url: &str,
    signers: &[Signer],
    vkey: &VerifierKey,
    w: usize,
    first: u64,
    resend: Vec<Vec<u8>>,
    retries: Vec<Ack>,
) -> CycleLoad {
    let mut load = CycleLoad::default();
    let remote = match Remote::new(url, None, None, Arc::new(SystemClock)) {
        Ok(r) => r,
        Err(e) => {
            load.failures.push(format!("writer {w}: {e}"));
            return load;
        }
    };
    let mut submitter = Submitter {
        remote,
        vkey,
        largest: None,
    };
    if submitter.resend(resend, &retries, &mut load) {
        submitter.record_new(signers, w, first, &mut load);
    }
    if let Some(cp) = submitter.largest {
        load.checkpoints.push(cp);
    }
    load
}

/// A writer's connection to the server, and the largest checkpoint its receipts have shown.
struct Submitter<'a> {
    remote: Remote,
    vkey: &'a VerifierKey,
    largest: Option<(u64, Hash)>,
}

impl Submitter<'_> {
    /// Re-sends the envelopes left in flight (what was not re-sent stays in flight for the next
    /// cycle), then the retries of acknowledged statements; false when the server is gone.
    fn resend(&mut self, resend: Vec<Vec<u8>>, retries: &[Ack], load: &mut CycleLoad) -> bool {
        let mut alive = true;
        let mut pending = resend.into_iter();
        for envelope in pending.by_ref() {
            if !self.submit(envelope, None, load, true) {
                alive = false;
                break;
            }
        }
        load.in_flight.extend(pending);
        if !alive {
            return false;
        }
        for ack in retries {
            if !self.submit(ack.envelope.clone(), Some(ack), load, false) {
                return false;
            }
        }
        true
    }

    /// Records new statements of writer `w`, numbered from `first`, until the server stops
    /// answering.
    fn record_new(&mut self, signers: &[Signer], w: usize, first: u64, load: &mut CycleLoad) {
        let clock = SystemClock;
        let mut alive = true;
        let mut n = first;
        while alive {
            let envelope = match statement(signers, w, n, &clock) {
                Ok(e) => e.to_json().into_bytes(),
                Err(e) => {
                    load.failures.push(format!("writer {w}: {e}"));
                    break;
                }
            };
            n += 1;
            alive = self.submit(envelope, None, load, false);
        }
    }

    /// Answers one submission; false when the server is gone. `expect` is the acknowledgement a
    /// retry must repeat; `resent` marks an envelope a crash left in flight.
    fn submit(
        &mut self,
        envelope: Vec<u8>,
        expect: Option<&Ack>,
        load: &mut CycleLoad,
        resent: bool,
    ) -> bool {
        match self.remote.submit(&envelope) {
            Ok((status, receipt)) => {
                self.answered(envelope, status, &receipt, expect, load, resent);
                true
            }
            Err(e) if e.is_unreachable() => {
                if expect.is_none() {
                    load.in_flight.push(envelope);
                }
                false
            }
            Err(crate::edge::client::ClientError::Refused { status: 503, .. }) => {
                // Overloaded or stopping: the statement was not acknowledged; keep it.
                if expect.is_none() {
                    load.in_flight.push(envelope);
                }
                false
            }
            Err(e) => {
                load.failures
                    .push(format!("a valid statement was refused: {e}"));
                true
            }
        }
    }

    /// Checks a receipt: its checkpoint verifies, a retry is answered with the original seq and
    /// leaf hash, and a new statement's acknowledgement is kept.
    fn answered(
        &mut self,
        envelope: Vec<u8>,
        status: u16,
        receipt: &crate::app::ledger::ReceiptView,
        expect: Option<&Ack>,
        load: &mut CycleLoad,
        resent: bool,
    ) {
        let cp = match receipt.check(Some(self.vkey)) {
            Ok(cp) => cp,
            Err(e) => {
                load.failures
                    .push(format!("a receipt does not verify: {e}"));
                return;
            }
        };
        if self.largest.is_none_or(|(s, _)| cp.size > s) {
            self.largest = Some((cp.size, cp.root));
        }
        let leaf_hash = crate::app::ledger::decode_hash(&receipt.leaf_hash).unwrap_or([0; 32]);
        if let Some(ack) = expect {
            load.retries_checked += 1;
            if status != 200 || receipt.seq != ack.seq || leaf_hash != ack.leaf_hash {
                load.failures.push(format!(
                    "a retry of the statement acknowledged at seq {} was answered {status} at seq {}",
                    ack.seq, receipt.seq
                ));
            }
            return;
        }
        if resent {
            load.resubmitted += 1;
            if status == 200 {
                load.recovered += 1;
            }
        }
        match statement_id(&envelope) {
            Ok(id) => load.acks.push(Ack {
                id,
                seq: receipt.seq,
                leaf_hash,
                envelope,
            }),
            Err(e) => load
                .failures
                .push(format!("an acknowledged envelope does not parse: {e}")),
        }
    }
}

/// Opens the ledger the crash left and checks it; answers the log size.
fn check_cycle(
    dir: &Path,
    vkey: &VerifierKey,
    acked: &[Ack],
    seen: &mut BTreeMap<u64, Hash>,
    verifier: &mut Option<Verifier>,
    rebuild: bool,
    report: &mut CrashReport,
) -> Result<u64, String> {
    let ledger = Ledger::open(dir).map_err(|e| {
        report.refused_opens += 1;
        format!("the ledger does not reopen: {e}")
    })?;
    let cp = ledger.checkpoint();
    let signed = note::open_checkpoint(cp.note.as_bytes(), vkey)
        .map_err(|e| format!("the reopened checkpoint does not verify: {e}"))?;
    let store = ledger.store();
    // 1. Every acknowledged statement is there, at its seq, with its leaf hash.
    for ack in acked {
        let at = store.statement_id(&ack.id).map_err(|e| e.to_string())?;
        let node = store.stored_node(0, ack.seq).map_err(|e| e.to_string())?;
        let ok = at.is_some_and(|at| at.seq == ack.seq)
            && ack.seq < signed.size
            && node == Some(ack.leaf_hash);
        if !ok {
            report.lost += 1;
        }
    }
    if report.lost > 0 {
        return Err(format!(
            "{} acknowledged statements are missing or moved",
            report.lost
        ));
    }
    // 2. The log verifies: the new leaves in full, the whole against the signed root.
    let v = verifier.get_or_insert_with(|| Verifier::new(signed.origin.clone(), vkey));
    v.advance(store, signed.size, &mut |_, _| {})
        .map_err(|e| format!("verification: {e}"))?;
    v.finish(&signed)
        .map_err(|e| format!("verification: {e}"))?;
    // 3. The new checkpoint extends every checkpoint seen before.
    for (&size, root) in seen.iter() {
        if size == 0 {
            continue;
        }
        if size > signed.size {
            return Err(format!(
                "a checkpoint of size {size} was seen, but the reopened log has only {} entries",
                signed.size
            ));
        }
        let proof = ledger
            .consistency_proof(size, signed.size)
            .map_err(|e| e.to_string())?;
        merkle::verify_consistency(size, signed.size, root, &signed.root, &proof).map_err(|e| {
            format!(
                "the checkpoint of size {} is not consistent with the one of size {size}: {e}",
                signed.size
            )
        })?;
        report.consistency_checked += 1;
    }
    seen.insert(signed.size, signed.root);
    ledger.close();
    drop(ledger);
    // 4. The views equal a rebuild from the log.
    if rebuild {
        let r = Ledger::rebuild(dir, false, &mut |_, _| {}).map_err(|e| format!("rebuild: {e}"))?;
        if r.before != r.after {
            return Err("the views differ from a rebuild from the log".into());
        }
        report.rebuilds_compared += 1;
    }
    Ok(signed.size)
}

/// Settings of a storage fault run.
#[derive(Debug, Clone, Copy)]
pub struct FaultConfig {
    pub seeds: u64,
    pub first_seed: u64,
    /// Statements each seed tries to record.
    pub statements: u64,
}

/// What the fault suite found. `lost` and `wrong_answers` must both be 0.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct FaultReport {
    pub seeds: u64,
    pub injected: BTreeMap<String, u64>,
    pub acked: u64,
    /// Acknowledged statements missing or changed once the fault cleared.
    pub lost: u64,
    /// Answers that were wrong and not an error: a receipt, leaf or proof that did not match.
    pub wrong_answers: u64,
    /// Submissions refused with a storage error while the fault lasted.
    pub refused: u64,
    /// Opens refused because the store no longer matched its checkpoint.
    pub refused_opens: u64,
    /// Stores rolled back to an older copy, and how many of those the open refused.
    pub rollbacks: u64,
    pub rollbacks_refused: u64,
    pub failures: Vec<String>,
}

impl FaultReport {
    pub fn passed(&self) -> bool {
        self.lost == 0
            && self.wrong_answers == 0
            && self.rollbacks == self.rollbacks_refused
            && self.failures.is_empty()
    }
    pub fn line(&self) -> String {
        format!(
            "seeds={} injected={} acked={} lost={} wrong_answers={} rollbacks_refused={}/{}",
            self.seeds,
            self.injected.values().sum::<u64>(),
            self.acked,
            self.lost,
            self.wrong_answers,
            self.rollbacks_refused,
            self.rollbacks
        )
    }
}

fn fault_name(k: FaultKind) -> &'static str {
    match k {
        FaultKind::WriteFail => "write_fail",
        FaultKind::FlushFail => "flush_fail",
        FaultKind::CheckpointFail => "checkpoint_fail",
        FaultKind::ReadFlip => "read_flip",
        FaultKind::ShortWrite => "short_write",
        FaultKind::RenameFail => "rename_fail",
    }
}

/// Runs the storage fault suite: one fresh ledger per seed under `scratch`.
pub fn faults(
    config: &FaultConfig,
    scratch: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<FaultReport, TortureError> {
    let mut report = FaultReport::default();
    for seed in config.first_seed..config.first_seed + config.seeds {
        let dir = scratch.join(format!("fault-{seed}"));
        let _ = std::fs::remove_dir_all(&dir);
        let before = report.failures.len();
        if let Err(e) = fault_seed(seed, &dir, config.statements, &mut report) {
            report.failures.push(format!("seed {seed}: {e}"));
        }
        report.seeds += 1;
        if report.failures.len() > before {
            progress(&format!(
                "seed {seed}: FAILED (reproduce with --seed {seed} --seeds 1)"
            ));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(report)
}

/// One seed: a ledger under random faults of one or more kinds, then the fault clears.
fn fault_seed(
    seed: u64,
    dir: &Path,
    statements: u64,
    report: &mut FaultReport,
) -> Result<(), String> {
    let mut rng = Rng::new(seed);
    let (vkey, signers) = create_ledger(dir, 2).map_err(|e| e.to_string())?;
    let run = FaultRun {
        seed,
        dir,
        vkey: &vkey,
        signers: &signers,
        statements,
    };
    let faults = Arc::new(Faults::new(seed, fault_rates(&mut rng)));
    let recorded = run.record_under_faults(&faults, &mut rng, report)?;
    for k in faults.injected() {
        *report.injected.entry(fault_name(k).into()).or_default() += 1;
    }
    if recorded.refused_open {
        report.refused_opens += 1;
    }
    // The fault clears: everything acknowledged is there, the log verifies, and what was refused
    // can be recorded now.
    faults.clear();
    let size = run.check_after_clear(&recorded.acks, recorded.unanswered, report)?;
    // A store that reopens at an older state: copy it, record more, put the copy back.
    if seed.is_multiple_of(4) {
        run.check_rollback(size, report)?;
    }
    Ok(())
}

/// Which faults, and how often: each kind on with some chance, at 0.5%–10% of its calls.
fn fault_rates(rng: &mut Rng) -> FaultRates {
    let rate = |rng: &mut Rng| {
        if rng.word().is_multiple_of(2) {
            rng.range(5_000, 100_000) as u32
        } else {
            0
        }
    };
    FaultRates {
        write_fail_ppm: rate(rng),
        flush_fail_ppm: rate(rng),
        checkpoint_fail_ppm: rate(rng),
        read_flip_ppm: rate(rng),
        // The journal's appends: a prefix of the batch reaches the file, then the write fails.
        short_write_ppm: rate(rng),
        // Publishing public/: a failure is counted and retried, never stops the ledger.
        rename_fail_ppm: rate(rng),
    }
}

/// One seed's ledger and the officers who sign on it.
struct FaultRun<'a> {
    seed: u64,
    dir: &'a Path,
    vkey: &'a VerifierKey,
    signers: &'a [Signer],
    /// Statements the seed tries to record.
    statements: u64,
}

/// What a seed recorded while the faults lasted.
#[derive(Default)]
struct UnderFaults {
    acks: Vec<Ack>,
    /// Envelopes refused with a storage error: recorded again once the fault clears.
    unanswered: Vec<Vec<u8>>,
    /// The ledger did not open under the faults.
    refused_open: bool,
}

impl FaultRun<'_> {
    /// Opens the ledger with `faults` injected and submits the seed's statements, each followed by
    /// reads of something acknowledged; closes it again.
    fn record_under_faults(
        &self,
        faults: &Arc<Faults>,
        rng: &mut Rng,
        report: &mut FaultReport,
    ) -> Result<UnderFaults, String> {
        let mut recorded = UnderFaults::default();
        let clock = SystemClock;
        match Ledger::open_with_faults(self.dir, Arc::new(SystemClock), Some(Arc::clone(faults))) {
            Err(_) => recorded.refused_open = true,
            Ok(ledger) => {
                for n in 0..self.statements {
                    let envelope = statement(self.signers, (n % 2) as usize, n, &clock)
                        .map_err(|e| e.to_string())?
                        .to_json()
                        .into_bytes();
                    self.submit_under_faults(&ledger, faults, envelope, &mut recorded, report)?;
                    // Reads under faults: a leaf, a proof and a retry of something acknowledged.
                    let acks = &recorded.acks;
                    if let Some(ack) = acks.get((rng.word() % acks.len().max(1) as u64) as usize) {
                        check_reads(&ledger, self.vkey, ack, report);
                    }
                }
                ledger.close();
            }
        }
        Ok(recorded)
    }

    /// Submits one envelope under faults: an acknowledgement is never given after a failed write,
    /// flush or checkpoint, and its receipt is true; a refusal keeps the envelope for later.
    fn submit_under_faults(
        &self,
        ledger: &Ledger,
        faults: &Faults,
        envelope: Vec<u8>,
        recorded: &mut UnderFaults,
        report: &mut FaultReport,
    ) -> Result<(), String> {
        let seed = self.seed;
        let failed_before = faults.injected().iter().any(|k| *k != FaultKind::ReadFlip);
        match ledger.submit(&envelope) {
            Ok(receipt) => {
                // After a failed write, flush or checkpoint, nothing new is acknowledged.
                if failed_before && !receipt.duplicate {
                    report.wrong_answers += 1;
                    report.failures.push(format!(
                        "seed {seed}: seq {} was acknowledged after a storage failure",
                        receipt.seq
                    ));
                }
                // Every answer given under faults is an error or true.
                if let Ok(view) = ledger.receipt_view(&receipt)
                    && let Err(e) = view.check(Some(self.vkey))
                {
                    report.wrong_answers += 1;
                    report.failures.push(format!("seed {seed}: a receipt: {e}"));
                }
                let id = statement_id(&envelope)?;
                recorded.acks.push(Ack {
                    id,
                    seq: receipt.seq,
                    leaf_hash: receipt.leaf_hash,
                    envelope,
                });
            }
            Err(_) => {
                report.refused += 1;
                recorded.unanswered.push(envelope);
            }
        }
        Ok(())
    }

    /// With the fault cleared: every acknowledged leaf is there unchanged, every refused envelope
    /// can be recorded, and the log verifies. Answers the log size.
    fn check_after_clear(
        &self,
        acks: &[Ack],
        unanswered: Vec<Vec<u8>>,
        report: &mut FaultReport,
    ) -> Result<u64, String> {
        let seed = self.seed;
        let ledger = Ledger::open(self.dir).map_err(|e| format!("after the fault cleared: {e}"))?;
        for ack in acks {
            let ok = ledger
                .leaf(ack.seq)
                .ok()
                .flatten()
                .is_some_and(|b| merkle::leaf_hash(&b) == ack.leaf_hash);
            if !ok {
                report.lost += 1;
            }
        }
        report.acked += acks.len() as u64;
        for envelope in unanswered {
            if let Err(e) = ledger.submit(&envelope) {
                report.failures.push(format!(
                    "seed {seed}: a refused statement cannot be recorded after the fault cleared: {e}"
                ));
            }
        }
        let cp = ledger.checkpoint();
        verify::verify_log(
            ledger.store(),
            cp.note.as_bytes(),
            self.vkey,
            &mut |_, _| {},
        )
        .map_err(|e| format!("after the fault cleared, verification failed: {e}"))?;
        let size = cp.size;
        ledger.close();
        drop(ledger);
        self.check_public(size, report)?;
        Ok(size)
    }

    /// Closing published `public/` with the faults cleared: what a mirror copies verifies, at
    /// the log's size, whatever publications failed before.
    fn check_public(&self, size: u64, report: &mut FaultReport) -> Result<(), String> {
        use crate::app::export::TilesSource;
        let public = self.dir.join(crate::storage::layout::PUBLIC_DIR);
        let note = TilesSource::read_checkpoint(&public)
            .map_err(|e| format!("public/ after the fault cleared: {e}"))?;
        let source = TilesSource::new(&public, size);
        let published = verify::verify_log(&source, &note, self.vkey, &mut |_, _| {})
            .map_err(|e| format!("public/ after the fault cleared does not verify: {e}"))?;
        if published.size != size {
            report.failures.push(format!(
                "seed {}: public/ holds {} entries after close, the log {size}",
                self.seed, published.size
            ));
        }
        Ok(())
    }

    /// Rolls the store of `size` entries back: copies it, records one more statement, puts the
    /// copy back; the open must refuse it for the rollback.
    fn check_rollback(&self, size: u64, report: &mut FaultReport) -> Result<(), String> {
        let (seed, dir) = (self.seed, self.dir);
        // The whole store: the journal (the log's entries) and sled (what is derived from them).
        let copy = dir.with_extension("older");
        for part in [SLED_DIR, JOURNAL_DIR] {
            copy_dir(&dir.join(part), &copy.join(part)).map_err(|e| format!("copy: {e}"))?;
        }
        let ledger = Ledger::open(dir).map_err(|e| e.to_string())?;
        let envelope = statement(self.signers, 0, self.statements + 1, &SystemClock)
            .map_err(|e| e.to_string())?
            .to_json()
            .into_bytes();
        ledger.submit(&envelope).map_err(|e| e.to_string())?;
        ledger.close();
        drop(ledger);
        for part in [SLED_DIR, JOURNAL_DIR] {
            std::fs::remove_dir_all(dir.join(part)).map_err(|e| e.to_string())?;
            std::fs::rename(copy.join(part), dir.join(part)).map_err(|e| e.to_string())?;
        }
        std::fs::remove_dir_all(&copy).map_err(|e| e.to_string())?;
        report.rollbacks += 1;
        match Ledger::open(dir) {
            Err(OpenError::Corrupt(why)) if why.contains(&format!("holds {size} entries")) => {
                report.rollbacks_refused += 1;
            }
            Err(other) => report.failures.push(format!(
                "seed {seed}: the rolled-back store was refused, but not for the rollback: {other}"
            )),
            Ok(_) => report.failures.push(format!(
                "seed {seed}: a store rolled back from {} to {size} entries was opened",
                size + 1
            )),
        }
        Ok(())
    }
}

fn statement_id(envelope: &[u8]) -> Result<[u8; 16], String> {
    let e = Envelope::parse(envelope).map_err(|e| e.to_string())?;
    let s = crate::format::statement::Statement::parse(e.payload()).map_err(|e| e.to_string())?;
    Ok(*s.id.as_bytes())
}

/// Reads under faults: each answer is either an error or true.
fn check_reads(ledger: &Ledger, vkey: &VerifierKey, ack: &Ack, report: &mut FaultReport) {
    if let Ok(Some(bytes)) = ledger.leaf(ack.seq)
        && merkle::leaf_hash(&bytes) != ack.leaf_hash
    {
        report.wrong_answers += 1;
        report
            .failures
            .push(format!("leaf {} was served with other bytes", ack.seq));
    }
    let cp = ledger.checkpoint();
    if let Ok(proof) = ledger.inclusion_proof(ack.seq, cp.size) {
        let signed = note::open_checkpoint(cp.note.as_bytes(), vkey);
        let ok = signed.is_ok_and(|s| {
            merkle::verify_inclusion(ack.seq, s.size, &ack.leaf_hash, &proof, &s.root).is_ok()
        });
        if !ok {
            report.wrong_answers += 1;
            report
                .failures
                .push(format!("the inclusion proof of leaf {} was wrong", ack.seq));
        }
    }
    if let Ok(receipt) = ledger.submit(&ack.envelope)
        && (receipt.seq != ack.seq || receipt.leaf_hash != ack.leaf_hash || !receipt.duplicate)
    {
        report.wrong_answers += 1;
        report.failures.push(format!(
            "a retry of seq {} was answered with seq {}",
            ack.seq, receipt.seq
        ));
    }
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

impl crate::base::class::Classify for TortureError {
    fn class(&self) -> crate::base::class::Class {
        use crate::base::class::Class;
        match self {
            Self::Input(_) => Class::Usage,
            Self::Open(e) => e.class(),
            Self::Setup(_) => Class::Corrupt,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ledger with a few acknowledged statements, for the checker's own tests.
    fn small_ledger(dir: &Path) -> (VerifierKey, Vec<Ack>) {
        let (vkey, signers) = create_ledger(dir, 2).expect("creates");
        let ledger = Ledger::open(dir).expect("opens");
        let mut acks = Vec::new();
        for n in 0..4 {
            let envelope = statement(&signers, 0, n, &SystemClock)
                .expect("composes")
                .to_json()
                .into_bytes();
            let receipt = ledger.submit(&envelope).expect("appends");
            acks.push(Ack {
                id: statement_id(&envelope).expect("parses"),
                seq: receipt.seq,
                leaf_hash: receipt.leaf_hash,
                envelope,
            });
        }
        ledger.close();
        (vkey, acks)
    }

    #[test]
    fn the_checker_passes_a_sound_ledger() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("l");
        let (vkey, acks) = small_ledger(&dir);
        let mut report = CrashReport::default();
        let size = check_cycle(
            &dir,
            &vkey,
            &acks,
            &mut BTreeMap::new(),
            &mut None,
            true,
            &mut report,
        )
        .expect("sound");
        assert_eq!(size, 7, "genesis, 2 enrollments, 4 statements");
        assert_eq!(report.lost, 0);
    }

    #[test]
    fn the_checker_counts_an_acknowledgement_the_log_does_not_hold_as_lost() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("l");
        let (vkey, mut acks) = small_ledger(&dir);
        acks[1].leaf_hash[0] ^= 1;
        acks[2].seq = 99;
        let mut report = CrashReport::default();
        let e = check_cycle(
            &dir,
            &vkey,
            &acks,
            &mut BTreeMap::new(),
            &mut None,
            false,
            &mut report,
        )
        .expect_err("lost");
        assert_eq!(report.lost, 2, "{e}");
    }

    #[test]
    fn the_checker_refuses_a_log_that_does_not_extend_a_checkpoint_seen_before() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("l");
        let (vkey, acks) = small_ledger(&dir);
        let mut seen = BTreeMap::from([(5u64, [7u8; 32])]);
        let e = check_cycle(
            &dir,
            &vkey,
            &acks,
            &mut seen,
            &mut None,
            false,
            &mut CrashReport::default(),
        )
        .expect_err("inconsistent");
        assert!(e.contains("not consistent"), "{e}");
        let mut ahead = BTreeMap::from([(50u64, [7u8; 32])]);
        let e = check_cycle(
            &dir,
            &vkey,
            &acks,
            &mut ahead,
            &mut None,
            false,
            &mut CrashReport::default(),
        )
        .expect_err("shorter");
        assert!(e.contains("only 7 entries"), "{e}");
    }
}
