//! Application: `custody doctor` — checks a ledger folder that will not open (or any other),
//! reports every problem with the file and the rule it breaks and whether acknowledged data is
//! at risk, and with `repair` fixes only what is provably safe: quarantining (never deleting)
//! files sled would misread, and rebuilding the disposable views from the log. Must never drop,
//! rewrite or reorder an acknowledged entry.
//!
//! Without `repair` it changes nothing (beyond creating the empty `lock` file in a ledger made
//! before there was one): the folder is copied under the ledger's lock, so the copy is consistent,
//! and the repairs are tried on the copy, so the report says exactly what `--repair` would do.
//! With `repair`, the checks, the repairs and the open all happen under that one lock.

use crate::app::ledger::{LedgerPaths, OpenError, Repair};
use crate::base::words::{Explain, Message, msg};
use crate::storage::recovery::{self, LedgerLock, SnapshotName};
use crate::storage::store::StoreError;
use crate::{app::ledger::Ledger, app::verify};
use std::fmt::Display;
use std::path::{Path, PathBuf};

/// Whether entries the ledger acknowledged may be lost or altered because of a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    /// The problem is in a file that holds nothing acknowledged (or nothing was ever acknowledged).
    None,
    /// The log itself is damaged: acknowledged entries may be missing or altered.
    #[serde(rename = "at_risk")]
    Entries,
    /// Cannot tell until the store opens.
    Unknown,
}

/// What was, or can be, done about a problem.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum Action {
    /// Fixed by this run (with `repair`).
    Repaired(String),
    /// `--repair` would fix it, as described.
    Repairable(String),
    /// Only an operator can fix it; the text says how.
    Manual(String),
}

/// One problem: the file, the check it failed, what that means.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    pub file: String,
    /// A stable name of the check (docs/RELIABILITY.md lists them).
    pub check: &'static str,
    pub problem: String,
    pub acknowledged_data: Risk,
    pub action: Action,
    /// `problem` and the action's text as messages, to be said in either language (the JSON
    /// keeps the English above).
    #[serde(skip)]
    pub said: Said,
}

/// A finding's problem and what to do about it, before they are put into a language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    pub problem: Message,
    pub action: Message,
}

impl Finding {
    /// The finding of `check` about `file`: its problem, and its action of kind `kind`
    /// (`Action::Manual`, …), kept as messages and said in English for the JSON.
    fn new(
        file: impl Display,
        check: &'static str,
        problem: Message,
        risk: Risk,
        kind: fn(String) -> Action,
        action: Message,
    ) -> Self {
        Self {
            file: file.to_string(),
            check,
            problem: problem.english(),
            acknowledged_data: risk,
            action: kind(action.english()),
            said: Said { problem, action },
        }
    }
}

impl Finding {
    /// This finding with every `from` its words name replaced by `to`: the doctor opens a
    /// scratch copy, and its advice must name the real ledger.
    fn renamed(mut self, from: &str, to: &str) -> Self {
        self.said.problem = self.said.problem.replacing(from, to);
        self.said.action = self.said.action.replacing(from, to);
        self.problem = self.said.problem.english();
        let action = self.said.action.english();
        self.action = match self.action {
            Action::Repaired(_) => Action::Repaired(action),
            Action::Repairable(_) => Action::Repairable(action),
            Action::Manual(_) => Action::Manual(action),
        };
        self
    }
}

/// What a safe repair's action is: done by this run (`repair`), or what `--repair` would do.
fn repaired_if(repair: bool) -> fn(String) -> Action {
    if repair {
        Action::Repaired
    } else {
        Action::Repairable
    }
}

/// What the doctor found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Diagnosis {
    pub ledger: String,
    pub repair: bool,
    pub findings: Vec<Finding>,
    /// Entries in the log, when it opened.
    pub entries: Option<u64>,
    /// True when the whole log verified (every signature, hash link and the checkpoint).
    pub verified: bool,
}

impl Diagnosis {
    /// Opens and verifies, with nothing left for an operator or for `--repair` to do.
    pub fn healthy(&self) -> bool {
        self.verified
            && self
                .findings
                .iter()
                .all(|f| matches!(f.action, Action::Repaired(_)))
    }
}

/// The doctor's own failure (not a problem of the ledger): it could not make its scratch copy.
#[derive(Debug)]
pub struct DoctorError(Message);

crate::english_display!(DoctorError);

impl Explain for DoctorError {
    fn explain(&self) -> Message {
        msg("err.doctor.failed").part("reason", self.0.clone())
    }
}

/// Examines the ledger in `dir`; with `repair`, repairs what is provably safe.
pub fn diagnose(
    dir: &Path,
    repair: bool,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Diagnosis, DoctorError> {
    let mut d = Diagnosis {
        ledger: dir.display().to_string(),
        repair,
        findings: Vec::new(),
        entries: None,
        verified: false,
    };
    if !layout(dir, &mut d) {
        return Ok(d);
    }
    let lock = match LedgerLock::try_acquire(dir) {
        Ok(Some(lock)) => lock,
        Ok(None) => {
            d.findings.push(in_use(dir));
            return Ok(d);
        }
        Err(e) => return Err(DoctorError(e.explain())),
    };
    let sled = LedgerPaths::new(dir).sled();
    let doctor = |e: StoreError| DoctorError(e.explain());
    let torn_conf = conf(&sled, repair, &mut d);
    if repair {
        // Everything under the one lock, so nothing can take the ledger between check and repair.
        let now = crate::base::time::Clock::now(&crate::base::time::SystemClock);
        let moved = recovery::make_safe_for_open(&lock, &sled, &recovery::stamp(now));
        let moved = moved.map_err(doctor)?;
        let files: Vec<_> = moved.iter().map(|m| (m.from.clone(), m.bytes)).collect();
        snapshot_findings(&files, true, &mut d);
        if torn_conf {
            rewrite_conf(&lock).map_err(doctor)?;
        }
        open_and_verify(lock, dir, repair, progress, &mut d);
    } else {
        let mut files =
            recovery::snapshot_files(&sled, SnapshotName::Generating).map_err(doctor)?;
        files.extend(recovery::snapshot_files(&sled, SnapshotName::Unknown).map_err(doctor)?);
        let files: Vec<_> = files.into_iter().map(|f| (f.path, f.bytes)).collect();
        snapshot_findings(&files, false, &mut d);
        let scratch = Scratch::copy(&lock)?;
        drop(lock);
        let scratch_lock = LedgerLock::acquire(&scratch.0).map_err(doctor)?;
        if torn_conf {
            rewrite_conf(&scratch_lock).map_err(doctor)?;
        }
        open_and_verify(scratch_lock, dir, repair, progress, &mut d);
    }
    Ok(d)
}

/// The folder, the key and the store are where a ledger keeps them. False when there is nothing
/// more to examine.
fn layout(dir: &Path, d: &mut Diagnosis) -> bool {
    let paths = LedgerPaths::new(dir);
    let missing = |file: &Path, problem: &'static str, action: &'static str| {
        Finding::new(
            file.display(),
            "layout",
            msg(problem),
            Risk::Unknown,
            Action::Manual,
            msg(action),
        )
    };
    if !dir.is_dir() {
        d.findings.push(missing(
            dir,
            "doctor.folder_missing",
            "doctor.folder_missing.action",
        ));
        return false;
    }
    let mut whole = true;
    if !paths.sled().is_dir() {
        d.findings.push(missing(
            &paths.sled(),
            "doctor.store_missing",
            "doctor.store_missing.action",
        ));
        whole = false;
    }
    if !paths.key().is_file() {
        d.findings.push(missing(
            &paths.key(),
            "doctor.key_missing",
            "doctor.key_missing.action",
        ));
        whole = false;
    }
    whole
}

fn in_use(dir: &Path) -> Finding {
    Finding::new(
        dir.join(recovery::LOCK_FILE).display(),
        "in-use",
        msg("doctor.in_use"),
        Risk::None,
        Action::Manual,
        msg("doctor.in_use.action"),
    )
}

/// Findings for the snapshot files opening moves aside (`moved`: already moved, by `--repair`).
fn snapshot_findings(files: &[(PathBuf, u64)], moved: bool, d: &mut Diagnosis) {
    for (path, bytes) in files {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let uncommitted =
            name.as_deref().map(recovery::snapshot_name) == Some(SnapshotName::Generating);
        let (check, problem, why) = if uncommitted {
            (
                "snapshot-uncommitted",
                msg("doctor.snapshot_uncommitted"),
                msg("doctor.snapshot_uncommitted.why"),
            )
        } else {
            (
                "snapshot-unknown-name",
                msg("doctor.snapshot_unknown_name"),
                msg("doctor.snapshot_unknown_name.why"),
            )
        };
        let action = if moved {
            msg("doctor.quarantine.moved")
        } else {
            msg("doctor.quarantine.move")
        };
        d.findings.push(Finding::new(
            path.display(),
            check,
            problem.arg("bytes", bytes),
            Risk::None,
            repaired_if(moved),
            action.part("why", why),
        ));
    }
}

/// sled's `conf`: written once, on the store's first open, without a temporary file or fsync, so
/// a kill during `init` (before this version built ledgers aside) or a power cut can tear it, and
/// sled then refuses the store. True when it is torn (longer than what sled itself treats as
/// absent and rewrites, and failing its CRC).
fn conf(sled: &Path, repair: bool, d: &mut Diagnosis) -> bool {
    /// sled treats a `conf` of at most this many bytes as absent and writes it again.
    const CONF_EMPTY_BYTES_MAX: usize = 8;
    const CRC_BYTES: usize = 4;
    let path = sled.join("conf");
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        // sled writes a missing `conf` itself.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return false,
        Err(e) => {
            d.findings.push(Finding::new(
                path.display(),
                "store-io",
                msg("doctor.conf_unreadable").arg("reason", e),
                Risk::Unknown,
                Action::Manual,
                msg("doctor.io.action"),
            ));
            return false;
        }
    };
    if bytes.len() <= CONF_EMPTY_BYTES_MAX {
        return false;
    }
    let (body, crc) = bytes.split_at(bytes.len() - CRC_BYTES);
    let stored = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
    if crc32fast::hash(body) == stored {
        return false;
    }
    d.findings.push(Finding::new(
        path.display(),
        "sled-conf-torn",
        msg("doctor.conf_torn"),
        Risk::None,
        repaired_if(repair),
        msg("doctor.conf_torn.action"),
    ));
    true
}

/// Moves the torn `conf` to quarantine and writes the one sled writes for custody's settings
/// (temporary file, fsync, rename, folder fsync).
fn rewrite_conf(lock: &LedgerLock) -> Result<(), StoreError> {
    let sled = LedgerPaths::new(lock.dir()).sled();
    let path = sled.join("conf");
    let fresh = crate::storage::store::fresh_conf(&lock.dir().join(".doctor-conf"))?;
    let torn = recovery::Incomplete {
        bytes: std::fs::metadata(&path).map_or(0, |m| m.len()),
        path: path.clone(),
    };
    let now = crate::base::time::Clock::now(&crate::base::time::SystemClock);
    recovery::quarantine(lock, &[torn], &recovery::stamp(now))?;
    let temporary = sled.join("conf.doctor");
    let io = |e: std::io::Error| StoreError::io_at(&temporary, &e);
    std::fs::write(&temporary, &fresh).map_err(io)?;
    std::fs::File::open(&temporary)
        .and_then(|f| f.sync_all())
        .map_err(io)?;
    std::fs::rename(&temporary, &path).map_err(io)?;
    recovery::sync_dir(&sled)
}

/// A scratch copy of the ledger (without `quarantine/`, `private/blobs/` and the lock file) in the temporary
/// folder, removed when dropped — also when the doctor fails half-way.
struct Scratch(PathBuf);

impl Scratch {
    fn copy(lock: &LedgerLock) -> Result<Self, DoctorError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path =
            std::env::temp_dir().join(format!("custody-doctor-{}-{nanos}", std::process::id()));
        let scratch = Self(path);
        copy_tree(lock.dir(), lock.dir(), &scratch.0).map_err(|e| {
            DoctorError(
                msg("err.doctor.copying")
                    .arg("path", scratch.0.display())
                    .arg("reason", e),
            )
        })?;
        Ok(scratch)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Copies the ledger folder `root` (from `from` down) to `to`, leaving out its lock, its
/// quarantine and its blobs.
fn copy_tree(root: &Path, from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        let path = entry.path();
        let relative = path.strip_prefix(root).unwrap_or(&path);
        // Blobs (photos that may show people) are not part of what the doctor checks, and a
        // copy of them in the temporary folder would put personal data outside `private/`.
        if relative == Path::new(recovery::QUARANTINE_DIR)
            || relative == Path::new(recovery::LOCK_FILE)
            || relative == Path::new(crate::storage::layout::BLOBS_DIR)
        {
            continue;
        }
        if entry.file_type()?.is_dir() {
            copy_tree(root, &path, &to.join(&name))?;
        } else {
            std::fs::copy(entry.path(), to.join(&name))?;
        }
    }
    Ok(())
}

/// Opens the ledger whose lock is held (the real one, or the scratch copy of `real`) and verifies
/// its log.
fn open_and_verify(
    lock: LedgerLock,
    real: &Path,
    repair: bool,
    progress: &mut dyn FnMut(u64, u64),
    d: &mut Diagnosis,
) {
    let opened = lock.dir().display().to_string();
    let first = d.findings.len();
    open_and_verify_at(lock, real, repair, progress, d);
    let real = real.display().to_string();
    if opened != real {
        for f in &mut d.findings[first..] {
            *f = f.clone().renamed(&opened, &real);
        }
    }
}

/// [`open_and_verify`] as the open names it (the scratch copy's paths, when it is one).
fn open_and_verify_at(
    lock: LedgerLock,
    real: &Path,
    repair: bool,
    progress: &mut dyn FnMut(u64, u64),
    d: &mut Diagnosis,
) {
    let ledger = match Ledger::open_locked(
        lock,
        std::sync::Arc::new(crate::base::time::SystemClock),
        None,
    ) {
        Ok(l) => l,
        Err(e) => {
            d.findings.push(open_failure(real, e));
            return;
        }
    };
    d.findings.extend(
        ledger
            .repairs()
            .iter()
            .filter_map(|r| repair_finding(real, repair, r)),
    );
    let cp = ledger.checkpoint();
    d.entries = Some(cp.size);
    match verify::verify_log(
        ledger.store(),
        cp.note.as_bytes(),
        ledger.verifier_key(),
        progress,
    ) {
        Ok(_) => d.verified = true,
        Err(e) => d.findings.push(Finding::new(
            LedgerPaths::new(real).journal().display(),
            "log-verify",
            msg("doctor.log_unverified").part("reason", e.explain()),
            Risk::Entries,
            Action::Manual,
            msg("doctor.restore.action"),
        )),
    }
    ledger.close();
}

/// What opening repaired by itself, as a finding about the real ledger (`real`; the doctor may
/// have opened a scratch copy): rebuilt views, a torn journal tail cut, sled caught up from the
/// journal. Quarantined files are reported by the doctor's own checks, before the open.
fn repair_finding(real: &Path, repair: bool, r: &Repair) -> Option<Finding> {
    let paths = LedgerPaths::new(real);
    let (file, check, problem, what) = match r {
        Repair::Quarantined(_) => return None,
        Repair::ViewsRebuilt { entries, why } => (
            paths.sled(),
            "views-disagree",
            msg("doctor.views_disagree").part("why", why.clone()),
            msg("doctor.views_disagree.action").arg("entries", entries),
        ),
        Repair::TailCut(cut) => (
            cut.segment
                .as_ref()
                .and_then(|s| s.file_name())
                .map_or_else(|| paths.journal(), |name| paths.journal().join(name)),
            "journal-torn-tail",
            msg("doctor.torn_tail").arg("bytes", cut.bytes),
            msg("doctor.torn_tail.action"),
        ),
        Repair::CaughtUp { from, to } => (
            paths.sled(),
            "sled-behind",
            msg("doctor.sled_behind").arg("from", from).arg("to", to),
            msg("doctor.sled_behind.action")
                .arg("from", from)
                .arg("to", to),
        ),
    };
    Some(Finding::new(
        file.display(),
        check,
        problem,
        Risk::None,
        repaired_if(repair),
        what,
    ))
}

/// A finding's file, check, risk and what an operator must do.
type Diagnosed = (String, &'static str, Risk, Message);

/// What a storage error that stopped the open means, for the operator (`None`: the ledger is
/// held by another process, which is not a problem with it).
fn storage_failure(sled: String, e: &StoreError) -> Option<Diagnosed> {
    Some(match e {
        StoreError::Busy(_) => return None,
        StoreError::Corrupt(_) => (
            sled,
            "store-open",
            Risk::Unknown,
            msg("doctor.store_open.action").part("restore", msg("doctor.restore.action")),
        ),
        StoreError::Io(_) => (sled, "store-io", Risk::Unknown, msg("doctor.io.action")),
        StoreError::Config(_) => (
            sled,
            "store-config",
            Risk::None,
            msg("doctor.store_config.action").arg("env", crate::base::limits::SLED_CACHE_ENV),
        ),
        // A caller breaking a store's API is a bug in custody.
        StoreError::Misuse(_) => (
            sled,
            "store-misuse",
            Risk::Unknown,
            msg("doctor.store_misuse.action"),
        ),
    })
}

/// What an open that failed means, for the operator.
fn open_failure(real: &Path, e: OpenError) -> Finding {
    let sled = LedgerPaths::new(real).sled().display().to_string();
    let (file, check, risk, action) = match &e {
        OpenError::Storage(store) => match storage_failure(sled, store) {
            Some(diagnosed) => diagnosed,
            None => return in_use(real),
        },
        OpenError::Io(_) => (sled, "store-io", Risk::Unknown, msg("doctor.io.action")),
        OpenError::Key(_) => (
            LedgerPaths::new(real).key().display().to_string(),
            "ledger-key",
            Risk::None,
            msg("doctor.ledger_key.action"),
        ),
        OpenError::Corrupt(m) => (
            LedgerPaths::new(real).journal().display().to_string(),
            "log-consistency",
            if m.contains("missing") || m.contains("altered") {
                Risk::Entries
            } else {
                Risk::Unknown
            },
            msg("doctor.restore.action"),
        ),
        OpenError::OldLayout { .. } => (
            real.join(crate::storage::layout::LAYOUT_FILE)
                .display()
                .to_string(),
            "layout-version",
            Risk::None,
            msg("doctor.old_layout.action").arg("ledger", real.display()),
        ),
        OpenError::NotALedger { .. } | OpenError::Exists { .. } | OpenError::Genesis(_) => (
            real.display().to_string(),
            "layout",
            Risk::Unknown,
            msg("doctor.not_a_ledger.action"),
        ),
    };
    Finding::new(file, check, e.explain(), risk, Action::Manual, action)
}
