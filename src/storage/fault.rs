//! Storage failures and injected faults: `StoreError` (every failure the storage layer answers,
//! with its class) and `Faults` (seeded, reproducible storage faults for the reliability suite:
//! a failed write, a failed flush, a failed checkpoint write, a read that returns flipped bits, a
//! short write) and the crash points the torture arms (`crash_point`). Shared by every store
//! below the ledger; knows no file format and does no I/O beyond aborting at an armed point.

use crate::base::words::{Explain, Message, msg};

/// The environment variable that arms a crash point (the torture harness sets it on the server
/// it kills): `<point>:<n>` aborts the process the n-th time it passes `<point>`.
pub const CRASH_AT_ENV: &str = "CUSTODY_CRASH_AT";

/// Aborts the process here if `CUSTODY_CRASH_AT` names this point and its count runs out. An
/// abort runs no destructor and flushes nothing, like SIGKILL. Unset, this is one atomic load.
pub fn crash_point(point: &str) {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static ARMED: OnceLock<Option<(String, AtomicU64)>> = OnceLock::new();
    let armed = ARMED.get_or_init(|| {
        let text = std::env::var(CRASH_AT_ENV).ok()?;
        let (name, count) = text.split_once(':')?;
        Some((name.to_owned(), AtomicU64::new(count.parse().ok()?)))
    });
    if let Some((name, left)) = armed
        && name == point
        && left.fetch_sub(1, Ordering::SeqCst) == 1
    {
        std::process::abort();
    }
}

/// A storage failure. The ledger stops acknowledging when it sees one.
#[derive(Debug, Clone)]
pub enum StoreError {
    Io(Detail),
    Corrupt(Detail),
    /// Another process holds the ledger: not a fault, try again when it is done.
    Busy(Detail),
    /// The store's configuration (an environment variable) is not one it can use; nothing was
    /// opened.
    Config(Detail),
    /// The caller broke a store's API (read past the end, a batch over its limit): a bug in
    /// custody, not in the disk; nothing was written.
    Misuse(Detail),
}

/// A failure of each kind, saying `message`.
impl StoreError {
    pub fn io(message: Message) -> Self {
        Self::Io(message.into())
    }

    pub fn corrupt(message: Message) -> Self {
        Self::Corrupt(message.into())
    }

    pub fn busy(message: Message) -> Self {
        Self::Busy(message.into())
    }

    pub fn config(message: Message) -> Self {
        Self::Config(message.into())
    }

    pub fn misuse(message: Message) -> Self {
        Self::Misuse(message.into())
    }

    /// An I/O failure on `path`, in the system's own words (`reason`): `{path}: {reason}`.
    pub fn io_at(path: &std::path::Path, reason: &impl std::fmt::Display) -> Self {
        Self::io(
            msg("err.store.at_path")
                .arg("path", path.display())
                .arg("reason", reason),
        )
    }
}

/// What a storage failure says: a message from the catalogue, with its English sentence kept
/// beside it so that, read as text (`contains`, `{}`), it is the sentence the `String` it
/// replaced held — callers that look for a word in it (the conformance tests, the fuzz harness)
/// read it as before.
#[derive(Debug, Clone)]
pub struct Detail {
    message: Message,
    english: String,
}

impl Detail {
    /// The message, to be said in either language.
    pub fn message(&self) -> &Message {
        &self.message
    }
}

impl From<Message> for Detail {
    fn from(message: Message) -> Self {
        let english = message.english();
        Self { message, english }
    }
}

impl std::ops::Deref for Detail {
    type Target = str;
    fn deref(&self) -> &str {
        &self.english
    }
}

impl std::fmt::Display for Detail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.english)
    }
}

crate::english_display!(StoreError);

impl Explain for StoreError {
    fn explain(&self) -> Message {
        match self {
            Self::Io(d) => msg("err.store.io").part("reason", d.message.clone()),
            // Every corruption message ends by naming the command that says what can be
            // repaired, unless it names it already.
            Self::Corrupt(d) if d.contains("custody doctor") => {
                msg("err.store.corrupt_doctor_named").part("reason", d.message.clone())
            }
            Self::Corrupt(d) => msg("err.store.corrupt").part("reason", d.message.clone()),
            Self::Busy(d) | Self::Config(d) => d.message.clone(),
            Self::Misuse(d) => msg("err.store.misuse").part("reason", d.message.clone()),
        }
    }
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        // sled's own words: the same in both languages.
        let said = Message::verbatim(e.to_string());
        match e {
            sled::Error::Corruption { .. } => Self::corrupt(said),
            _ => Self::io(said),
        }
    }
}

/// How often each fault fires, in parts per million of the calls that can fail that way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultRates {
    /// `append` fails before anything is applied.
    pub write_fail_ppm: u32,
    /// `flush` fails (the batch may or may not reach the disk later, as with a real fsync error).
    pub flush_fail_ppm: u32,
    /// Writing the checkpoint file fails.
    pub checkpoint_fail_ppm: u32,
    /// A log read (leaf, Merkle node, statement id index) returns one flipped bit.
    pub read_flip_ppm: u32,
    /// A journal append writes only part of its batch, then fails (the sled store has no such
    /// fault: sled applies a batch in memory and writes it at `flush`).
    pub short_write_ppm: u32,
    /// Renaming a file into place in `public/` fails (a tile or the published checkpoint).
    pub rename_fail_ppm: u32,
}

/// One injected fault, as the reliability suite reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    WriteFail,
    FlushFail,
    CheckpointFail,
    ReadFlip,
    ShortWrite,
    RenameFail,
}

/// A seeded source of storage faults shared by a store and its checkpoint file. Deterministic:
/// the same seed and the same sequence of calls inject the same faults. `clear` ends the fault
/// (the disk is replaced, the cable reseated) without forgetting what was injected.
#[derive(Debug)]
pub struct Faults {
    state: std::sync::Mutex<FaultState>,
}

#[derive(Debug)]
struct FaultState {
    rng: u64,
    rates: FaultRates,
    injected: Vec<FaultKind>,
}

impl Faults {
    pub fn new(seed: u64, rates: FaultRates) -> Self {
        Self {
            state: std::sync::Mutex::new(FaultState {
                rng: seed ^ 0x9E37_79B9_7F4A_7C15,
                rates,
                injected: Vec::new(),
            }),
        }
    }

    /// Stops injecting faults from now on.
    pub fn clear(&self) {
        self.lock().rates = FaultRates::default();
    }

    /// Every fault injected so far, in order.
    pub fn injected(&self) -> Vec<FaultKind> {
        self.lock().injected.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FaultState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Rolls for `kind`; a hit is recorded. Returns a random word for the caller's use.
    pub(super) fn roll(&self, kind: FaultKind) -> Option<u64> {
        let mut s = self.lock();
        let ppm = match kind {
            FaultKind::WriteFail => s.rates.write_fail_ppm,
            FaultKind::FlushFail => s.rates.flush_fail_ppm,
            FaultKind::CheckpointFail => s.rates.checkpoint_fail_ppm,
            FaultKind::ReadFlip => s.rates.read_flip_ppm,
            FaultKind::ShortWrite => s.rates.short_write_ppm,
            FaultKind::RenameFail => s.rates.rename_fail_ppm,
        };
        if ppm == 0 {
            return None;
        }
        let draw = splitmix64(&mut s.rng);
        if draw % 1_000_000 >= u64::from(ppm) {
            return None;
        }
        s.injected.push(kind);
        Some(splitmix64(&mut s.rng))
    }

    /// Fails with an injected I/O error when `kind` is rolled; `what` is the catalogue key of
    /// what failed (`err.store.fault_writing_batch`).
    pub fn fail(&self, kind: FaultKind, what: &'static str) -> Result<(), StoreError> {
        match self.roll(kind) {
            Some(_) => Err(StoreError::io(
                msg("err.store.injected_fault").part("what", msg(what)),
            )),
            None => Ok(()),
        }
    }

    /// Flips one bit of `bytes` when a read flip is rolled.
    pub(super) fn corrupt(&self, bytes: &mut [u8]) {
        if bytes.is_empty() {
            return;
        }
        if let Some(word) = self.roll(FaultKind::ReadFlip) {
            let bit = (word % (bytes.len() as u64 * 8)) as usize;
            bytes[bit / 8] ^= 1 << (bit % 8);
        }
    }
}

/// SplitMix64: a tiny, well-mixed generator; enough to schedule faults reproducibly.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl crate::base::class::Classify for StoreError {
    fn class(&self) -> crate::base::class::Class {
        match self {
            Self::Busy(_) => crate::base::class::Class::Unavailable,
            Self::Io(_) | Self::Corrupt(_) => crate::base::class::Class::Corrupt,
            Self::Misuse(_) => crate::base::class::Class::Internal,
            Self::Config(_) => crate::base::class::Class::Usage,
        }
    }
}
