//! The subject register: the only place custody keeps the personal data of people who are not
//! officers (inmates, visitors, foreign nationals, unidentified persons), in a folder the caller
//! gives (`private/register/`, mode 0700). Each subject's record is sealed under its own random
//! data key; the data keys, and the key of the lookup index, are sealed under the operator's
//! master key in one file of fixed-size slots overwritten in place, so that erasing a subject
//! destroys its key on disk and with it every copy of the record (docs/FORMAT.md §17.4).
//!
//! It must never write personal data in the clear (not in a file, an error or a log line), never
//! draw randomness except through `keys::signing::random_bytes`, and knows no custody rule: who
//! may enrol, read or erase a subject is decided above it.

use crate::base::class::{Class, Classify};
use crate::base::limits::{RECORD_BYTES_MAX, REGISTER_SUBJECTS_MAX, SALTS_PER_SUBJECT_MAX};
use crate::base::words::{Explain, Message, msg};
use crate::format::subject::{PersonalFields, SUBJECT_ID_BYTES, Salt, SubjectId, unhex};
use crate::keys::signing::{self, KeyError, hex};
use chacha20poly1305::aead::{Aead as _, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, KeyInit, Mac as _};
use sha2::Sha256;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::os::unix::fs::{
    DirBuilderExt as _, FileExt as _, OpenOptionsExt as _, PermissionsExt as _,
};
use std::path::{Path, PathBuf};
use zeroize::Zeroize as _;

/// Bytes of every key: the master key, the lookup key and each data key (256-bit).
const KEY_BYTES: usize = 32;
/// Bytes of an XChaCha20-Poly1305 nonce: 192 bits, large enough to draw at random every time.
const NONCE_BYTES: usize = 24;
/// Bytes of a key sealed under the master key: the key and the 16-byte Poly1305 tag.
const WRAPPED_BYTES: usize = KEY_BYTES + 16;
/// Bytes of one slot of `keys.slots` (layout in docs/FORMAT.md §17.4).
const KEY_SLOT_BYTES: usize = 96;
/// Bytes of one slot of `lookup.slots`.
const LOOKUP_SLOT_BYTES: usize = 56;
/// The id field of slot 0, which holds the lookup key instead of a subject's data key.
const KEYS_MAGIC: &[u8; SUBJECT_ID_BYTES] = b"custody-keys-v1\n";
/// The first line of a master key file.
const MASTER_HEADER: &str = "custody-master-key v1";
/// A master key file is two short lines: anything longer is not one, and is not read whole.
const MASTER_FILE_BYTES_MAX: u64 = 256;
/// The first bytes of every lookup HMAC, naming the scheme and its version.
const LOOKUP_TAG: &[u8] = b"custody/subject-lookup/v1\n";
/// The first byte of a record file: the version of its layout.
const RECORD_VERSION: u8 = 1;

const STATE_LIVE: u8 = 1;
const STATE_ERASED: u8 = 2;
const STATE_LOOKUP_KEY: u8 = 3;

const KEYS_FILE: &str = "keys.slots";
const KEYS_FILE_NEW: &str = "keys.slots.new";
const LOOKUP_FILE: &str = "lookup.slots";
const RECORDS_DIR: &str = "records";

/// Why a register operation failed. Messages never include personal data.
#[derive(Debug)]
pub enum RegisterError {
    /// `reason`: the system's own words.
    Io {
        path: String,
        reason: String,
    },
    MasterKeyFile {
        path: String,
        reason: Message,
    },
    WrongMasterKey {
        path: String,
    },
    FolderMode {
        path: String,
        mode: u32,
    },
    Damaged(Message),
    Erased(SubjectId),
    Unknown(SubjectId),
    Duplicate(SubjectId),
    IdentifierTaken {
        field: &'static str,
        owner: SubjectId,
    },
    Full {
        field: &'static str,
        /// The limit reached, as a catalogue key (`err.register.rule_subjects_max`).
        rule: &'static str,
    },
    Key(KeyError),
}

impl From<KeyError> for RegisterError {
    fn from(e: KeyError) -> Self {
        Self::Key(e)
    }
}

crate::english_display!(RegisterError);

impl Explain for RegisterError {
    fn explain(&self) -> Message {
        match self {
            Self::Io { path, reason } => msg("err.register.io")
                .arg("path", path)
                .arg("reason", reason),
            Self::MasterKeyFile { path, reason } => msg("err.register.master_key_file")
                .arg("path", path)
                .part("reason", reason.clone()),
            Self::WrongMasterKey { path } => msg("err.register.wrong_master_key").arg("path", path),
            Self::FolderMode { path, mode } => msg("err.register.folder_mode")
                .arg("path", path)
                .arg("mode", format!("{mode:o}")),
            Self::Damaged(reason) => msg("err.register.damaged").part("reason", reason.clone()),
            Self::Erased(id) => msg("err.register.erased").arg("subject", id),
            Self::Unknown(id) => msg("err.register.unknown").arg("subject", id),
            Self::Duplicate(id) => msg("err.register.duplicate").arg("subject", id),
            Self::IdentifierTaken { field, owner } => msg("err.register.identifier_taken")
                .arg("field", field)
                .arg("owner", owner),
            Self::Full { field, rule } => msg("err.register.full")
                .arg("field", field)
                .part("rule", msg(rule)),
            Self::Key(e) => e.explain(),
        }
    }
}

impl Classify for RegisterError {
    fn class(&self) -> Class {
        match self {
            Self::Io { .. } | Self::Damaged(_) => Class::Corrupt,
            Self::MasterKeyFile { .. } => Class::Malformed,
            Self::WrongMasterKey { .. } | Self::FolderMode { .. } => Class::Usage,
            Self::Erased(_) | Self::Unknown(_) => Class::NotFound,
            Self::Duplicate(_) | Self::IdentifierTaken { .. } => Class::Conflict,
            Self::Full { .. } => Class::TooLarge,
            Self::Key(e) => e.class(),
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            Self::IdentifierTaken { field, .. } | Self::Full { field, .. } => {
                Some((*field).to_owned())
            }
            _ => None,
        }
    }
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> RegisterError + '_ {
    move |e| RegisterError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// The operator's master key: 32 random bytes that seal every other key of the register. It is
/// kept apart from the register (another disk, a token, a safe), so that a copy of the register
/// folder alone opens nothing.
pub struct MasterKey([u8; KEY_BYTES]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(…)")
    }
}

// Keys leave memory when dropped, not whenever the allocator reuses the bytes.
impl Drop for MasterKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl MasterKey {
    /// The key in the file at `path` (`generate_master_key`'s text form). A file that group or
    /// others may read is refused, as ssh refuses such a private key: the key may have leaked.
    pub fn read(path: &Path) -> Result<Self, RegisterError> {
        let err = |reason: Message| RegisterError::MasterKeyFile {
            path: path.display().to_string(),
            reason,
        };
        let io = |e: std::io::Error| err(Message::verbatim(e.to_string()));
        let file = File::open(path).map_err(io)?;
        let mode = file.metadata().map_err(io)?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(err(
                msg("err.register.master_key_mode").arg("mode", format!("{:o}", mode & 0o777))
            ));
        }
        let mut text = String::new();
        file.take(MASTER_FILE_BYTES_MAX)
            .read_to_string(&mut text)
            .map_err(io)?;
        let mut lines = text.lines();
        let key = match (lines.next(), lines.next(), lines.next()) {
            (Some(MASTER_HEADER), Some(hex), None) => unhex::<KEY_BYTES>(hex),
            _ => None,
        };
        key.map(Self)
            .ok_or_else(|| err(msg("err.register.master_key_format").arg("header", MASTER_HEADER)))
    }
}

/// Makes a new master key from OS randomness and writes it to `path` (mode 0600, fsynced); refuses
/// to overwrite any file there, since losing a master key loses every record it seals.
pub fn generate_master_key(path: &Path) -> Result<MasterKey, RegisterError> {
    let err = |reason: Message| RegisterError::MasterKeyFile {
        path: path.display().to_string(),
        reason,
    };
    let io = |e: std::io::Error| err(Message::verbatim(e.to_string()));
    let key = signing::random_bytes::<KEY_BYTES>()?;
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                err(msg("err.register.master_key_exists"))
            } else {
                io(e)
            }
        })?;
    file.write_all(format!("{MASTER_HEADER}\n{}\n", hex(&key)).as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io)?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        sync_dir(parent)?;
    }
    Ok(MasterKey(key))
}

/// One subject's record as sealed in `records/<id>`: the fields, and the salts of the commitments
/// made to them, so that a disclosure can later open each commitment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Record {
    pub fields: PersonalFields,
    pub salts: Vec<Salt>,
}

/// What `Register::open` found and did about what a crash (or damage) left.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// True if the folder had no register and an empty one was made.
    pub created: bool,
    /// Key slots cut from the end of `keys.slots`: a torn append of an enrolment that never
    /// returned.
    pub torn_key_slots: usize,
    /// Key slots (not at the end) whose checksum fails: their subjects read as damaged.
    pub damaged_key_slots: usize,
    /// Record files with no key slot (an enrolment that crashed before its commit point): ignored.
    pub orphan_records: Vec<SubjectId>,
    /// Record files of erased subjects (an erasure that crashed after its commit point): removed.
    pub erased_records_removed: usize,
    /// Live subjects with no record file: they read as damaged.
    pub missing_records: Vec<SubjectId>,
    /// Lookup entries zeroed: those of subjects not live (a crashed enrolment or erasure) and
    /// those whose checksum failed.
    pub lookup_entries_cleared: usize,
}

/// What a key slot says about its subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SlotState {
    Live,
    Erased,
    Damaged,
}

/// Which identifier a lookup entry is for: the `which` byte of its HMAC input.
#[derive(Debug, Clone, Copy)]
enum Which {
    Nik = 1,
    Passport = 2,
    Sdp = 3,
}

fn sync_dir(dir: &Path) -> Result<(), RegisterError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

fn seal(
    key: &[u8; KEY_BYTES],
    aad: &[u8],
    plain: &[u8],
) -> Result<([u8; NONCE_BYTES], Vec<u8>), RegisterError> {
    let nonce = signing::random_bytes::<NONCE_BYTES>()?;
    let cipher = XChaCha20Poly1305::new(&(*key).into());
    let sealed = cipher
        .encrypt(&XNonce::from(nonce), Payload { msg: plain, aad })
        .map_err(|_| RegisterError::Damaged(msg("err.register.sealing_failed")))?;
    Ok((nonce, sealed))
}

/// The plaintext of `sealed`, or `None` if it was not sealed under this key, nonce and `aad`.
fn unseal(
    key: &[u8; KEY_BYTES],
    nonce: &[u8; NONCE_BYTES],
    aad: &[u8],
    sealed: &[u8],
) -> Option<Vec<u8>> {
    let cipher = XChaCha20Poly1305::new(&(*key).into());
    cipher
        .decrypt(&XNonce::from(*nonce), Payload { msg: sealed, aad })
        .ok()
}

/// A key slot's bytes: `id ‖ state ‖ 000 ‖ nonce ‖ wrapped ‖ crc` (all zero after `state` when
/// erased).
fn key_slot(
    id: &[u8; SUBJECT_ID_BYTES],
    state: u8,
    sealed: Option<(&[u8; NONCE_BYTES], &[u8])>,
) -> [u8; KEY_SLOT_BYTES] {
    let mut slot = [0u8; KEY_SLOT_BYTES];
    slot[..16].copy_from_slice(id);
    slot[16] = state;
    if let Some((nonce, wrapped)) = sealed {
        slot[20..44].copy_from_slice(nonce);
        slot[44..44 + WRAPPED_BYTES].copy_from_slice(wrapped);
    }
    let crc = crc32fast::hash(&slot[..92]);
    slot[92..].copy_from_slice(&crc.to_be_bytes());
    slot
}

/// A key slot with `key` sealed under `master`, bound to the slot's id.
fn wrap(
    master: &[u8; KEY_BYTES],
    id: &[u8; SUBJECT_ID_BYTES],
    state: u8,
    key: &[u8; KEY_BYTES],
) -> Result<[u8; KEY_SLOT_BYTES], RegisterError> {
    let (nonce, wrapped) = seal(master, id, key)?;
    Ok(key_slot(id, state, Some((&nonce, &wrapped))))
}

/// The key in a live (or lookup-key) slot, or `None` if the checksum fails or `master` does not
/// open it.
fn unwrap_slot(master: &[u8; KEY_BYTES], slot: &[u8]) -> Option<[u8; KEY_BYTES]> {
    if !crc_ok(slot) {
        return None;
    }
    let nonce: [u8; NONCE_BYTES] = slot[20..44].try_into().ok()?;
    let key = unseal(master, &nonce, &slot[..16], &slot[44..44 + WRAPPED_BYTES])?;
    key.try_into().ok()
}

fn crc_ok(slot: &[u8]) -> bool {
    let (body, crc) = slot.split_at(slot.len() - 4);
    crc32fast::hash(body).to_be_bytes() == crc
}

fn lookup_slot(tag: &[u8; 32], id: &SubjectId) -> [u8; LOOKUP_SLOT_BYTES] {
    let mut slot = [0u8; LOOKUP_SLOT_BYTES];
    slot[..32].copy_from_slice(tag);
    slot[32..48].copy_from_slice(id.as_bytes());
    slot[48] = STATE_LIVE;
    let crc = crc32fast::hash(&slot[..52]);
    slot[52..].copy_from_slice(&crc.to_be_bytes());
    slot
}

/// Writes `bytes` at `offset` and makes them durable (`fdatasync`): an in-place overwrite of the
/// same blocks, which is what makes an erasure destroy the bytes it covers on a file system that
/// overwrites in place (ext4, xfs; not a copy-on-write one such as btrfs or ZFS, nor an SSD's
/// remapped flash pages below the file system).
fn write_durably(file: &File, path: &Path, offset: u64, bytes: &[u8]) -> Result<(), RegisterError> {
    file.write_all_at(bytes, offset)
        .and_then(|()| file.sync_data())
        .map_err(io(path))
}

/// Writes a whole new file at `path` beside its final name `path.tmp`-style: temp, fsync, rename,
/// fsync of the folder.
fn replace_file(path: &Path, tmp: &Path, bytes: &[u8]) -> Result<(), RegisterError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(tmp)
        .map_err(io(tmp))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(io(tmp))?;
    std::fs::rename(tmp, path).map_err(io(path))?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

/// An open subject register (see the module doc and docs/FORMAT.md §17.4 for the files).
///
/// The contract, method by method — what is durable when it returns `Ok`:
///
/// - `enroll`: the sealed record (`records/<id>`: temp file, fsync, rename, folder fsync), then
///   the lookup entries (`lookup.slots`, fdatasync), then the subject's key slot appended to
///   `keys.slots` (fdatasync) — the commit point. A crash before it leaves a record file without
///   a slot and perhaps lookup entries of a subject that does not exist: `open` ignores and
///   reports the record (`OpenReport::orphan_records`; an enrolment retried with the same id
///   replaces it) and zeroes the entries. A torn append at the end of `keys.slots` is cut.
/// - `add_salt`: the record rewritten whole (temp, fsync, rename, folder fsync) with a fresh
///   nonce; a crash leaves the old record or the new one.
/// - `erase`: the key slot overwritten in place with the erased form (id kept, everything else
///   zero) and fdatasynced — the commit point: from then on the record cannot be opened by anyone
///   — then the subject's lookup entries zeroed in place (fdatasync), then the record file
///   removed (folder fsync). A crash after the commit point leaves entries and a record file of
///   an erased subject: `open` zeroes the entries and removes the file. The subject id stays in its
///   slot so that `read` answers `Erased`, not "unknown", forever after; an id is a random
///   pseudonym, not personal data on its own.
/// - `rotate_master`: a new `keys.slots` with every key re-sealed under the new master key is
///   written beside the old one (`keys.slots.new`, fsync), renamed over it and the folder
///   fsynced. A crash before the rename leaves the old file in force (`open` removes the new
///   one); after it, only the new master key opens the register, so the operator keeps both keys
///   until `rotate_master` returns. The old file's blocks are released to the file system, not
///   overwritten: until they are reused, a raw image of the disk still holds every data key that
///   was live at the rotation, sealed under the OLD master key (and, if an earlier file was
///   replaced the same way, keys of subjects erased since). Those copies are harmless only once
///   every copy of the old master key is destroyed: rotation is how an old master key is retired,
///   and destroying it is part of the rotation.
///
/// A key slot (not at the end) whose checksum fails, or a live subject without a record file,
/// reads as `Damaged`; erasing such a subject still destroys its slot. One process at a time:
/// the caller holds the ledger's lock while it has the register open.
pub struct Register {
    dir: PathBuf,
    master: [u8; KEY_BYTES],
    lookup_key: [u8; KEY_BYTES],
    keys: File,
    key_slots: u64,
    subjects: HashMap<SubjectId, (u64, SlotState)>,
    lookups: File,
    lookup_slots: u64,
    entries: HashMap<[u8; 32], (u64, SubjectId)>,
    free_lookup_slots: Vec<u64>,
    report: OpenReport,
}

impl Drop for Register {
    fn drop(&mut self) {
        self.master.zeroize();
        self.lookup_key.zeroize();
    }
}

impl std::fmt::Debug for Register {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Register({}, {} subjects)",
            self.dir.display(),
            self.subjects.len()
        )
    }
}

fn open_rw(path: &Path) -> Result<File, RegisterError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(io(path))
}

/// Makes an empty register in `dir`: `records/`, an empty `lookup.slots`, and `keys.slots` with a
/// fresh lookup key in slot 0 (written last, so a folder with `keys.slots` is a whole register).
/// Refuses a folder that holds register files but no `keys.slots`: its keys were lost, and a new
/// lookup key would hide that.
fn create(dir: &Path, master: &[u8; KEY_BYTES]) -> Result<(), RegisterError> {
    let records = dir.join(RECORDS_DIR);
    let has_records = std::fs::read_dir(&records).is_ok_and(|mut d| d.next().is_some());
    if has_records || dir.join(LOOKUP_FILE).exists() {
        return Err(RegisterError::Damaged(
            msg("err.register.keys_file_lost")
                .arg("path", dir.display())
                .arg("file", KEYS_FILE),
        ));
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&records)
        .map_err(io(&records))?;
    replace_file(&dir.join(LOOKUP_FILE), &dir.join("lookup.slots.tmp"), &[])?;
    let lookup_key = signing::random_bytes::<KEY_BYTES>()?;
    let slot0 = wrap(master, KEYS_MAGIC, STATE_LOOKUP_KEY, &lookup_key)?;
    replace_file(&dir.join(KEYS_FILE), &dir.join(KEYS_FILE_NEW), &slot0)
}

/// Reads a slot file whole, cutting a torn tail (a partial last slot); returns the bytes and how
/// many bytes were cut.
fn read_slots(
    file: &File,
    path: &Path,
    slot_bytes: usize,
) -> Result<(Vec<u8>, usize), RegisterError> {
    let mut bytes = Vec::new();
    (&*file).read_to_end(&mut bytes).map_err(io(path))?;
    let torn = bytes.len() % slot_bytes;
    if torn != 0 {
        bytes.truncate(bytes.len() - torn);
        file.set_len(bytes.len() as u64)
            .and_then(|()| file.sync_data())
            .map_err(io(path))?;
    }
    // Slot 0 and one key slot a subject, or up to three lookup entries a subject and as many
    // free ones: four slots a subject bounds both files.
    if bytes.len() / slot_bytes > REGISTER_SUBJECTS_MAX * 4 {
        return Err(RegisterError::Damaged(
            msg("err.register.too_many_slots").arg("path", path.display()),
        ));
    }
    Ok((bytes, torn))
}

impl Register {
    /// Opens the register in `dir` with `master`, making an empty one if the folder has none
    /// (the folder is created with mode 0700; an existing folder that group or others may open is
    /// refused). Repairs what a crash can leave (see the type's
    /// doc) and says what it found in `report()`. A master key that does not open the lookup key
    /// in slot 0 is refused (`WrongMasterKey`) before anything is repaired (but for cutting a partial
    /// slot from the end of `keys.slots`, which no key can make whole).
    pub fn open(dir: &Path, master: &MasterKey) -> Result<Self, RegisterError> {
        let mut report = OpenReport::default();
        if !dir.join(KEYS_FILE).exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(io(dir))?;
            create(dir, &master.0)?;
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                sync_dir(parent)?;
            }
            report.created = true;
        }
        let mode = std::fs::metadata(dir)
            .map_err(io(dir))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(RegisterError::FolderMode {
                path: dir.display().to_string(),
                mode: mode & 0o777,
            });
        }
        // A rotation that crashed before its rename: the old file is still the one in force.
        let new = dir.join(KEYS_FILE_NEW);
        if new.exists() {
            std::fs::remove_file(&new).map_err(io(&new))?;
        }
        let keys_path = dir.join(KEYS_FILE);
        let keys = open_rw(&keys_path)?;
        let (bytes, _) = read_slots(&keys, &keys_path, KEY_SLOT_BYTES)?;
        let lookup_key = bytes
            .get(..KEY_SLOT_BYTES)
            .filter(|s| s[..16] == *KEYS_MAGIC && s[16] == STATE_LOOKUP_KEY && crc_ok(s))
            .ok_or_else(|| {
                RegisterError::Damaged(
                    msg("err.register.slot0_not_lookup_key").arg("path", keys_path.display()),
                )
            })?;
        let lookup_key =
            unwrap_slot(&master.0, lookup_key).ok_or_else(|| RegisterError::WrongMasterKey {
                path: dir.display().to_string(),
            })?;
        let lookups_path = dir.join(LOOKUP_FILE);
        let mut register = Self {
            dir: dir.to_owned(),
            master: master.0,
            lookup_key,
            keys,
            key_slots: 1,
            subjects: HashMap::new(),
            lookups: open_rw(&lookups_path)?,
            lookup_slots: 0,
            entries: HashMap::new(),
            free_lookup_slots: Vec::new(),
            report,
        };
        register.load_keys(&bytes)?;
        register.load_lookups()?;
        register.scan_records()?;
        Ok(register)
    }

    /// What `open` found and repaired.
    pub fn report(&self) -> &OpenReport {
        &self.report
    }

    /// Indexes every key slot after slot 0; cuts a torn last slot.
    fn load_keys(&mut self, bytes: &[u8]) -> Result<(), RegisterError> {
        let slots: Vec<&[u8]> = bytes.chunks_exact(KEY_SLOT_BYTES).collect();
        let mut count = slots.len();
        if count > 1 && slots.last().is_some_and(|s| !crc_ok(s)) {
            // An append that never reached its fdatasync: the enrolment never returned.
            count -= 1;
            let path = self.dir.join(KEYS_FILE);
            self.keys
                .set_len((count * KEY_SLOT_BYTES) as u64)
                .and_then(|()| self.keys.sync_data())
                .map_err(io(&path))?;
            self.report.torn_key_slots += 1;
        }
        for (n, slot) in slots.iter().enumerate().take(count).skip(1) {
            let mut id = [0u8; SUBJECT_ID_BYTES];
            id.copy_from_slice(&slot[..16]);
            let state = match (crc_ok(slot), slot[16]) {
                (true, STATE_LIVE) => SlotState::Live,
                (true, STATE_ERASED) => SlotState::Erased,
                _ => {
                    self.report.damaged_key_slots += 1;
                    SlotState::Damaged
                }
            };
            self.subjects
                .entry(SubjectId::from_bytes(id))
                .or_insert((n as u64, state));
        }
        self.key_slots = count as u64;
        Ok(())
    }

    /// Indexes every lookup entry of a subject not erased; zeroes the others (entries of a crashed
    /// enrolment or erasure, and damaged ones) and keeps them as free slots.
    fn load_lookups(&mut self) -> Result<(), RegisterError> {
        let path = self.dir.join(LOOKUP_FILE);
        let (bytes, _) = read_slots(&self.lookups, &path, LOOKUP_SLOT_BYTES)?;
        let mut cleared = false;
        for (n, slot) in bytes.chunks_exact(LOOKUP_SLOT_BYTES).enumerate() {
            let n = n as u64;
            if slot.iter().all(|b| *b == 0) {
                self.free_lookup_slots.push(n);
                continue;
            }
            let mut id = [0u8; SUBJECT_ID_BYTES];
            id.copy_from_slice(&slot[32..48]);
            let id = SubjectId::from_bytes(id);
            // A damaged subject keeps its entries (lookups still skip it): its slot may yet be
            // erased, which zeroes them, and zeroing them here could not be undone.
            let kept = self
                .subjects
                .get(&id)
                .is_some_and(|(_, s)| *s != SlotState::Erased);
            if crc_ok(slot) && slot[48] == STATE_LIVE && kept {
                let mut tag = [0u8; 32];
                tag.copy_from_slice(&slot[..32]);
                self.entries.insert(tag, (n, id));
            } else {
                self.lookups
                    .write_all_at(&[0u8; LOOKUP_SLOT_BYTES], n * LOOKUP_SLOT_BYTES as u64)
                    .map_err(io(&path))?;
                self.free_lookup_slots.push(n);
                self.report.lookup_entries_cleared += 1;
                cleared = true;
            }
        }
        if cleared {
            self.lookups.sync_data().map_err(io(&path))?;
        }
        self.lookup_slots = (bytes.len() / LOOKUP_SLOT_BYTES) as u64;
        Ok(())
    }

    /// Removes temp files and the records of erased subjects; reports records without a slot and
    /// live subjects without a record.
    fn scan_records(&mut self) -> Result<(), RegisterError> {
        let records = self.dir.join(RECORDS_DIR);
        let mut seen = std::collections::HashSet::new();
        let mut removed = false;
        for entry in std::fs::read_dir(&records).map_err(io(&records))? {
            let path = entry.map_err(io(&records))?.path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let Ok(id) = name.parse::<SubjectId>() else {
                if name.ends_with(".tmp") {
                    std::fs::remove_file(&path).map_err(io(&path))?;
                    removed = true;
                }
                continue;
            };
            seen.insert(id);
            match self.subjects.get(&id).map(|(_, s)| *s) {
                None => self.report.orphan_records.push(id),
                Some(SlotState::Erased) => {
                    std::fs::remove_file(&path).map_err(io(&path))?;
                    self.report.erased_records_removed += 1;
                    removed = true;
                }
                Some(_) => {}
            }
        }
        if removed {
            sync_dir(&records)?;
        }
        let mut missing: Vec<SubjectId> = (self.subjects.iter())
            .filter(|(id, (_, s))| *s == SlotState::Live && !seen.contains(id))
            .map(|(id, _)| *id)
            .collect();
        missing.sort_unstable();
        self.report.missing_records = missing;
        self.report.orphan_records.sort_unstable();
        Ok(())
    }
}

impl Register {
    /// HMAC-SHA256 under the lookup key of one identifier: the only form in which an identifier
    /// reaches the disk outside its sealed record.
    fn tag(&self, which: Which, identifier: &[u8]) -> [u8; 32] {
        // HMAC takes a key of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.lookup_key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(LOOKUP_TAG);
        mac.update(&[which as u8]);
        mac.update(identifier);
        mac.finalize().into_bytes().into()
    }

    fn passport_identifier(passport: &str, nationality: &str) -> Vec<u8> {
        [passport.as_bytes(), &[0], nationality.as_bytes()].concat()
    }

    /// The lookup tags of the identifiers `fields` holds, with the field each is for.
    fn tags(&self, fields: &PersonalFields) -> Vec<(&'static str, [u8; 32])> {
        let mut tags = Vec::new();
        if let Some(nik) = fields.nik() {
            tags.push(("nik", self.tag(Which::Nik, nik.as_bytes())));
        }
        if let (Some(p), Some(n)) = (fields.passport(), fields.nationality()) {
            tags.push((
                "passport",
                self.tag(Which::Passport, &Self::passport_identifier(p, n)),
            ));
        }
        if let Some(sdp) = fields.sdp() {
            tags.push(("sdp", self.tag(Which::Sdp, sdp.as_bytes())));
        }
        tags
    }

    /// The live subject an entry with this tag points to.
    fn find(&self, tag: &[u8; 32]) -> Option<SubjectId> {
        let (_, id) = self.entries.get(tag)?;
        let live = self
            .subjects
            .get(id)
            .is_some_and(|(_, s)| *s == SlotState::Live);
        live.then_some(*id)
    }

    /// The subject whose NIK this is, if one is enrolled and not erased.
    /// Whether `id`'s key is live (enrolled, not erased, not damaged).
    pub fn is_live(&self, id: &SubjectId) -> bool {
        matches!(self.subjects.get(id), Some((_, SlotState::Live)))
    }

    /// Every subject whose key is live (not erased), in id order.
    pub fn live_subjects(&self) -> Vec<SubjectId> {
        let mut ids: Vec<SubjectId> = self
            .subjects
            .iter()
            .filter(|(_, (_, state))| matches!(state, SlotState::Live))
            .map(|(id, _)| *id)
            .collect();
        ids.sort();
        ids
    }

    pub fn lookup_nik(&self, nik: &str) -> Option<SubjectId> {
        self.find(&self.tag(Which::Nik, nik.as_bytes()))
    }

    /// The subject holding this passport of this nationality, if one is enrolled and not erased.
    pub fn lookup_passport(&self, passport: &str, nationality: &str) -> Option<SubjectId> {
        self.find(&self.tag(
            Which::Passport,
            &Self::passport_identifier(passport, nationality),
        ))
    }

    /// The subject with this inmate registration number, if one is enrolled and not erased.
    pub fn lookup_sdp(&self, sdp: &str) -> Option<SubjectId> {
        self.find(&self.tag(Which::Sdp, sdp.as_bytes()))
    }

    fn record_path(&self, id: &SubjectId) -> PathBuf {
        self.dir.join(RECORDS_DIR).join(id.to_string())
    }

    /// Seals `record` under `key` and writes it as `records/<id>` (durable on return).
    fn write_record(
        &self,
        id: &SubjectId,
        key: &[u8; KEY_BYTES],
        record: &Record,
    ) -> Result<(), RegisterError> {
        let json = serde_json::to_vec(record).map_err(|e| {
            RegisterError::Damaged(
                msg("err.register.record_unwritable")
                    .arg("subject", id)
                    .arg("reason", e),
            )
        })?;
        let (nonce, sealed) = seal(key, id.as_bytes(), &json)?;
        let bytes = [&[RECORD_VERSION][..], &nonce, &sealed].concat();
        let path = self.record_path(id);
        replace_file(&path, &path.with_extension("tmp"), &bytes)
    }

    /// Enrolls a new subject `id` (minted by the caller from `keys::signing::random_bytes`) with
    /// `fields` and a fresh data key; durable on return (see the type's doc). Refuses an id
    /// already in the register (live or erased: an id is never reused) and an NIK, passport or SDP
    /// number that already belongs to another subject.
    pub fn enroll(&mut self, fields: PersonalFields, id: SubjectId) -> Result<(), RegisterError> {
        self.enroll_with(fields, id, false).map(|_| ())
    }

    /// Enrolls a person a device recorded offline under an id it minted: like `enroll`, except
    /// that an identifier another subject already holds is not indexed again — the person was
    /// recorded twice. Answers those other subjects, for an officer to join the two ids with a
    /// `subjects_linked` act.
    pub fn enroll_offline(
        &mut self,
        fields: PersonalFields,
        id: SubjectId,
    ) -> Result<Vec<SubjectId>, RegisterError> {
        self.enroll_with(fields, id, true)
    }

    fn enroll_with(
        &mut self,
        fields: PersonalFields,
        id: SubjectId,
        offline: bool,
    ) -> Result<Vec<SubjectId>, RegisterError> {
        if self.subjects.contains_key(&id) {
            return Err(RegisterError::Duplicate(id));
        }
        if self.subjects.len() >= REGISTER_SUBJECTS_MAX {
            return Err(RegisterError::Full {
                field: "subject",
                rule: "err.register.rule_subjects_max",
            });
        }
        let mut tags = self.tags(&fields);
        let mut owners = Vec::new();
        for (field, tag) in &tags {
            match self.find(tag) {
                Some(owner) if offline => owners.push(owner),
                Some(owner) => return Err(RegisterError::IdentifierTaken { field, owner }),
                None => {}
            }
        }
        tags.retain(|(_, tag)| self.find(tag).is_none());
        let key = signing::random_bytes::<KEY_BYTES>()?;
        self.write_record(
            &id,
            &key,
            &Record {
                fields,
                salts: Vec::new(),
            },
        )?;
        let lookups_path = self.dir.join(LOOKUP_FILE);
        let mut placed = Vec::new();
        for (_, tag) in &tags {
            let n = self.free_lookup_slots.pop().unwrap_or_else(|| {
                self.lookup_slots += 1;
                self.lookup_slots - 1
            });
            self.lookups
                .write_all_at(&lookup_slot(tag, &id), n * LOOKUP_SLOT_BYTES as u64)
                .map_err(io(&lookups_path))?;
            placed.push((*tag, n));
        }
        self.lookups.sync_data().map_err(io(&lookups_path))?;
        let slot = wrap(&self.master, id.as_bytes(), STATE_LIVE, &key)?;
        let n = self.key_slots;
        write_durably(
            &self.keys,
            &self.dir.join(KEYS_FILE),
            n * KEY_SLOT_BYTES as u64,
            &slot,
        )?;
        self.key_slots += 1;
        self.subjects.insert(id, (n, SlotState::Live));
        for (tag, n) in placed {
            self.entries.insert(tag, (n, id));
        }
        owners.dedup();
        Ok(owners)
    }

    /// The data key of a live subject, read from its slot and opened with the master key.
    fn data_key(&self, id: &SubjectId) -> Result<Option<[u8; KEY_BYTES]>, RegisterError> {
        let n = match self.subjects.get(id) {
            None => return Ok(None),
            Some((_, SlotState::Erased)) => return Err(RegisterError::Erased(*id)),
            Some((_, SlotState::Damaged)) => {
                return Err(RegisterError::Damaged(
                    msg("err.register.key_slot_damaged").arg("subject", id),
                ));
            }
            Some((n, SlotState::Live)) => *n,
        };
        let path = self.dir.join(KEYS_FILE);
        let mut slot = [0u8; KEY_SLOT_BYTES];
        self.keys
            .read_exact_at(&mut slot, n * KEY_SLOT_BYTES as u64)
            .map_err(io(&path))?;
        if slot[..16] != *id.as_bytes() {
            return Err(RegisterError::Damaged(
                msg("err.register.key_slot_moved")
                    .arg("slot", n)
                    .arg("subject", id),
            ));
        }
        unwrap_slot(&self.master, &slot).map(Some).ok_or_else(|| {
            RegisterError::Damaged(msg("err.register.key_slot_shut").arg("subject", id))
        })
    }

    /// The record of subject `id`: `Ok(None)` if the register never had it, `Err(Erased)` if it
    /// was erased, `Err(Damaged)` if its slot or record cannot be opened.
    pub fn read(&self, id: &SubjectId) -> Result<Option<Record>, RegisterError> {
        let Some(key) = self.data_key(id)? else {
            return Ok(None);
        };
        let path = self.record_path(id);
        let damaged = |what: Message| {
            RegisterError::Damaged(
                msg("err.register.record_damaged")
                    .arg("subject", id)
                    .part("what", what),
            )
        };
        let file = File::open(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => damaged(msg("err.register.record_missing")),
            _ => io(&path)(e),
        })?;
        let mut bytes = Vec::new();
        file.take(RECORD_BYTES_MAX + 1)
            .read_to_end(&mut bytes)
            .map_err(io(&path))?;
        if bytes.len() as u64 > RECORD_BYTES_MAX || bytes.len() < 1 + NONCE_BYTES {
            return Err(damaged(msg("err.register.record_size")));
        }
        if bytes[0] != RECORD_VERSION {
            return Err(damaged(msg("err.register.record_version")));
        }
        let mut nonce = [0u8; NONCE_BYTES];
        nonce.copy_from_slice(&bytes[1..=NONCE_BYTES]);
        let json = unseal(&key, &nonce, id.as_bytes(), &bytes[1 + NONCE_BYTES..])
            .ok_or_else(|| damaged(msg("err.register.record_sealed")))?;
        serde_json::from_slice(&json)
            .map(Some)
            // serde's message could quote a field's value: only its category and place are shown.
            .map_err(|e| {
                damaged(
                    msg("err.register.record_unparsed")
                        .arg("category", format!("{:?}", e.classify()))
                        .arg("column", e.column()),
                )
            })
    }
}

impl Register {
    /// Keeps `salt`, the salt of a commitment the caller made to this subject's fields
    /// (`format::subject::commit`), in the subject's record, so that a disclosure can later open
    /// the commitment. Durable on return; a salt already kept is not kept twice.
    pub fn add_salt(&mut self, id: &SubjectId, salt: Salt) -> Result<(), RegisterError> {
        let mut record = self.read(id)?.ok_or(RegisterError::Unknown(*id))?;
        if record.salts.contains(&salt) {
            return Ok(());
        }
        if record.salts.len() >= SALTS_PER_SUBJECT_MAX {
            return Err(RegisterError::Full {
                field: "salt",
                rule: "err.register.rule_salts_max",
            });
        }
        record.salts.push(salt);
        let key = self.data_key(id)?.ok_or(RegisterError::Unknown(*id))?;
        self.write_record(id, &key, &record)
    }

    /// Erases subject `id`: its data key is overwritten in place in `keys.slots` and synced (from
    /// then on its record cannot be opened), its lookup entries are zeroed in place, and its
    /// record file is removed; all durable on return (see the type's doc). Erasing an erased
    /// subject again does nothing; a damaged one is erased all the same.
    pub fn erase(&mut self, id: &SubjectId) -> Result<(), RegisterError> {
        let n = match self.subjects.get(id) {
            None => return Err(RegisterError::Unknown(*id)),
            Some((_, SlotState::Erased)) => return Ok(()),
            Some((n, _)) => *n,
        };
        let erased = key_slot(id.as_bytes(), STATE_ERASED, None);
        write_durably(
            &self.keys,
            &self.dir.join(KEYS_FILE),
            n * KEY_SLOT_BYTES as u64,
            &erased,
        )?;
        self.subjects.insert(*id, (n, SlotState::Erased));
        let lookups_path = self.dir.join(LOOKUP_FILE);
        let mine: Vec<([u8; 32], u64)> = (self.entries.iter())
            .filter(|(_, (_, owner))| owner == id)
            .map(|(tag, (n, _))| (*tag, *n))
            .collect();
        for (tag, n) in &mine {
            self.lookups
                .write_all_at(&[0u8; LOOKUP_SLOT_BYTES], n * LOOKUP_SLOT_BYTES as u64)
                .map_err(io(&lookups_path))?;
            self.entries.remove(tag);
            self.free_lookup_slots.push(*n);
        }
        if !mine.is_empty() {
            self.lookups.sync_data().map_err(io(&lookups_path))?;
        }
        let path = self.record_path(id);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&path)(e)),
            _ => {}
        }
        sync_dir(&self.dir.join(RECORDS_DIR))
    }

    /// Re-seals the lookup key and every live data key under `new` in a new `keys.slots`, written
    /// beside the old one and renamed over it (see the type's doc for what the old file's blocks
    /// still hold, and why the old master key must then be destroyed). Slot numbers do not change;
    /// erased and damaged slots are copied as they are.
    pub fn rotate_master(&mut self, new: &MasterKey) -> Result<(), RegisterError> {
        let path = self.dir.join(KEYS_FILE);
        let mut old = vec![0u8; self.key_slots as usize * KEY_SLOT_BYTES];
        self.keys.read_exact_at(&mut old, 0).map_err(io(&path))?;
        let mut bytes = Vec::with_capacity(old.len());
        bytes.extend_from_slice(&wrap(
            &new.0,
            KEYS_MAGIC,
            STATE_LOOKUP_KEY,
            &self.lookup_key,
        )?);
        for slot in old.chunks_exact(KEY_SLOT_BYTES).skip(1) {
            let rewrapped = match (slot[16], unwrap_slot(&self.master, slot)) {
                (STATE_LIVE, Some(key)) => {
                    let id: &[u8; SUBJECT_ID_BYTES] = slot[..16]
                        .try_into()
                        .map_err(|_| RegisterError::Damaged(msg("err.register.slot_short")))?;
                    wrap(&new.0, id, STATE_LIVE, &key)?.to_vec()
                }
                _ => slot.to_vec(),
            };
            bytes.extend_from_slice(&rewrapped);
        }
        replace_file(&path, &self.dir.join(KEYS_FILE_NEW), &bytes)?;
        self.keys = open_rw(&path)?;
        self.master = new.0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::subject::{SubjectKind, commit, opens};

    fn id(n: u8) -> SubjectId {
        SubjectId::from_bytes([n; SUBJECT_ID_BYTES])
    }

    #[test]
    fn a_salt_kept_opens_the_commitment_it_was_made_for() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let master = generate_master_key(&tmp.path().join("m.key")).expect("key");
        let mut register = Register::open(&tmp.path().join("r"), &master).expect("creates");
        let fields = PersonalFields::new(SubjectKind::Inmate)
            .with_sdp("B.I-123/2024")
            .expect("valid");
        register.enroll(fields.clone(), id(1)).expect("enrolls");
        let salt = Salt::from_bytes(signing::random_bytes().expect("randomness"));
        let c = commit(&salt, &id(1), &fields);
        register.add_salt(&id(1), salt).expect("keeps");
        register.add_salt(&id(1), salt).expect("keeps once");
        let record = register.read(&id(1)).expect("reads").expect("present");
        assert_eq!(record.salts.len(), 1);
        assert!(
            record
                .salts
                .iter()
                .any(|s| opens(&c, s, &id(1), &record.fields))
        );
        assert!(matches!(
            register.add_salt(&id(2), salt),
            Err(RegisterError::Unknown(_))
        ));
    }

    #[test]
    fn open_finishes_an_erasure_that_crashed_after_its_commit_point() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let master = generate_master_key(&tmp.path().join("m.key")).expect("key");
        let dir = tmp.path().join("r");
        let mut register = Register::open(&dir, &master).expect("creates");
        let fields = PersonalFields::new(SubjectKind::Visitor)
            .with_nik("3171012345678901")
            .expect("valid");
        register.enroll(fields, id(1)).expect("enrolls");
        // The commit point of `erase` alone: the slot erased, entries and record left behind.
        let erased = key_slot(id(1).as_bytes(), STATE_ERASED, None);
        write_durably(
            &register.keys,
            &dir.join(KEYS_FILE),
            KEY_SLOT_BYTES as u64,
            &erased,
        )
        .expect("writes");
        drop(register);
        let register = Register::open(&dir, &master).expect("reopens");
        assert_eq!(register.report().erased_records_removed, 1);
        assert_eq!(register.report().lookup_entries_cleared, 1);
        assert_eq!(register.lookup_nik("3171012345678901"), None);
        assert!(matches!(
            register.read(&id(1)),
            Err(RegisterError::Erased(_))
        ));
        let lookups = std::fs::read(dir.join(LOOKUP_FILE)).expect("reads");
        assert!(
            lookups.iter().all(|b| *b == 0),
            "the entry is zeroed in place"
        );
    }
}
