//! `JournalStore`: the log store in append-only segment files. Each entry is one record (a
//! 32-byte header with its index, its place in its batch and two CRC-32s, then the bytes); each
//! batch is written with one `write` and made durable with one `fdatasync`; a segment is named by
//! the index of its first entry. `open` scans every record, rebuilds the in-memory index, cuts a
//! torn tail and refuses damage. Segments wholly below a durable drop mark (`dropped`) may be
//! deleted (`drop_before`), once the caller holds their entries elsewhere. docs/STORAGE.md gives the bytes and the crash windows;
//! `log::LogStore` the contract. Locks nothing: the ledger's own lock covers its folder.

use crate::base::limits::{JOURNAL_SEGMENT_BYTES_MAX, LOG_BATCH_BYTES_MAX, LOG_BATCH_ENTRIES_MAX};
use crate::base::words::{Explain as _, Message, msg};
use crate::storage::fault::{FaultKind, Faults, StoreError, crash_point};
use crate::storage::log::{LogStore, check_batch, check_range};
use crate::storage::recovery::{replace_file, sync_dir};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

/// Bytes of a record's header, before its payload.
pub const RECORD_HEADER_BYTES: usize = 32;
/// A record's first four bytes: the journal's format, version 1.
const RECORD_MAGIC: &[u8; 4] = b"CJR1";
/// A segment is named by its first entry's index in 20 decimal digits (every u64 fits), then this.
const SEGMENT_SUFFIX: &str = ".journal";
const SEGMENT_DIGITS: usize = 20;
/// The drop mark's file in the journal folder: `DROP_MARK_HEADER`, then the mark in decimal and a
/// newline. Absent: nothing was ever dropped (mark 0).
const DROP_MARK_FILE: &str = "dropped";
const DROP_MARK_HEADER: &str = "custody-journal-dropped 1\n";

/// A record's header. On disk, little-endian: magic (4) ‖ length (u32) ‖ index (u64) ‖ position
/// (u32) ‖ remaining (u32) ‖ CRC-32 of the payload ‖ CRC-32 of the 28 bytes before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Header {
    /// Payload bytes.
    length: u32,
    /// The entry's index in the log.
    index: u64,
    /// Entries of its batch before this one.
    position: u32,
    /// Entries of its batch after this one: 0 ends the batch.
    remaining: u32,
    payload_crc: u32,
}

impl Header {
    fn encode(&self) -> [u8; RECORD_HEADER_BYTES] {
        let mut h = [0u8; RECORD_HEADER_BYTES];
        h[0..4].copy_from_slice(RECORD_MAGIC);
        h[4..8].copy_from_slice(&self.length.to_le_bytes());
        h[8..16].copy_from_slice(&self.index.to_le_bytes());
        h[16..20].copy_from_slice(&self.position.to_le_bytes());
        h[20..24].copy_from_slice(&self.remaining.to_le_bytes());
        h[24..28].copy_from_slice(&self.payload_crc.to_le_bytes());
        let crc = crc32fast::hash(&h[..28]);
        h[28..32].copy_from_slice(&crc.to_le_bytes());
        h
    }

    /// The header at the start of `bytes`, if its magic and checksum hold and its fields are ones
    /// this journal writes.
    fn decode(bytes: &[u8]) -> Option<Self> {
        let h = bytes.get(..RECORD_HEADER_BYTES)?;
        let u32_at = |at: usize| h[at..at + 4].try_into().ok().map(u32::from_le_bytes);
        if &h[0..4] != RECORD_MAGIC || u32_at(28)? != crc32fast::hash(&h[..28]) {
            return None;
        }
        let header = Self {
            length: u32_at(4)?,
            index: h[8..16].try_into().ok().map(u64::from_le_bytes)?,
            position: u32_at(16)?,
            remaining: u32_at(20)?,
            payload_crc: u32_at(24)?,
        };
        let batch = u64::from(header.position) + u64::from(header.remaining) + 1;
        let sane = header.length as usize <= LOG_BATCH_BYTES_MAX
            && batch <= LOG_BATCH_ENTRIES_MAX as u64
            && u64::from(header.position) <= header.index;
        sane.then_some(header)
    }

    /// The index of the first entry of this record's batch.
    fn batch_first(&self) -> u64 {
        self.index - u64::from(self.position)
    }
}

/// The records of one batch, ready for a single write.
fn encode_batch(first: u64, batch: &[&[u8]]) -> Vec<u8> {
    let total: usize = batch.iter().map(|e| RECORD_HEADER_BYTES + e.len()).sum();
    let mut out = Vec::with_capacity(total);
    let last = batch.len() - 1;
    for (i, entry) in batch.iter().enumerate() {
        let header = Header {
            length: u32::try_from(entry.len()).expect("entries are within LOG_BATCH_BYTES_MAX"),
            index: first + i as u64,
            position: u32::try_from(i).expect("batches are within LOG_BATCH_ENTRIES_MAX"),
            remaining: u32::try_from(last - i).expect("batches are within LOG_BATCH_ENTRIES_MAX"),
            payload_crc: crc32fast::hash(entry),
        };
        out.extend_from_slice(&header.encode());
        out.extend_from_slice(entry);
    }
    out
}

/// Checks one record read back (`bytes`: its header and payload exactly) as entry `index`, and
/// answers its payload.
fn verify_record(
    bytes: &[u8],
    index: u64,
    path: &Path,
    offset: u64,
) -> Result<Vec<u8>, StoreError> {
    let damaged = |why: &'static str| {
        StoreError::corrupt(
            msg("err.store.journal_entry_damaged")
                .arg("index", index)
                .arg("offset", offset)
                .arg("path", path.display())
                .part("why", msg(why)),
        )
    };
    let header = Header::decode(bytes).ok_or_else(|| damaged("err.store.header_fails_checksum"))?;
    let payload = &bytes[RECORD_HEADER_BYTES..];
    if header.index != index || header.length as usize != payload.len() {
        return Err(damaged("err.store.header_names_another"));
    }
    if crc32fast::hash(payload) != header.payload_crc {
        return Err(damaged("err.store.bytes_fail_checksum"));
    }
    Ok(payload.to_vec())
}

/// An I/O failure on `path`; `what` is the catalogue key of the sentence saying what was being
/// done (`err.store.io_reading`), with `{path}` and `{reason}` (the system's own words).
fn io(path: &Path, what: &'static str, e: &std::io::Error) -> StoreError {
    StoreError::io(msg(what).arg("path", path.display()).arg("reason", e))
}

fn segment_name(first: u64) -> String {
    format!("{first:0SEGMENT_DIGITS$}{SEGMENT_SUFFIX}")
}

/// Creates `dir` if it does not exist, durably.
fn ensure_dir(dir: &Path) -> Result<(), StoreError> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| io(dir, "err.store.io_creating_journal_folder", &e))?;
    match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => sync_dir(parent),
        _ => Ok(()),
    }
}

/// The segment files in `dir`, by first index. Other files are left alone; a `.journal` file
/// whose name this journal would not write is refused.
fn segment_files(dir: &Path) -> Result<Vec<(u64, PathBuf)>, StoreError> {
    let entries = std::fs::read_dir(dir).map_err(|e| io(dir, "err.store.io_listing", &e))?;
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io(dir, "err.store.io_listing", &e))?;
        let name = entry.file_name();
        let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(SEGMENT_SUFFIX)) else {
            continue;
        };
        let first = (stem.len() == SEGMENT_DIGITS && stem.bytes().all(|b| b.is_ascii_digit()))
            .then(|| stem.parse::<u64>().ok())
            .flatten()
            .ok_or_else(|| {
                StoreError::corrupt(
                    msg("err.store.segment_name_foreign").arg("path", entry.path().display()),
                )
            })?;
        found.push((first, entry.path()));
    }
    found.sort();
    Ok(found)
}

/// The drop mark in `dir` (0 when there is none): entries below it may have been dropped.
fn read_mark(dir: &Path) -> Result<u64, StoreError> {
    let path = dir.join(DROP_MARK_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io(&path, "err.store.io_reading", &e)),
    };
    text.strip_prefix(DROP_MARK_HEADER)
        .and_then(|rest| rest.strip_suffix('\n'))
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or_else(|| {
            StoreError::corrupt(msg("err.store.drop_mark_foreign").arg("path", path.display()))
        })
}

/// Makes `mark` the drop mark in `dir`, durably (temporary file, `fdatasync`, rename, folder
/// `fsync`): a crash leaves the old mark or the new one.
fn write_mark(dir: &Path, mark: u64) -> Result<(), StoreError> {
    let text = format!("{DROP_MARK_HEADER}{mark}\n");
    replace_file(&dir.join(DROP_MARK_FILE), text.as_bytes())
}

/// Finishes a drop that a crash interrupted: deletes, oldest first, the segments wholly below
/// `mark` (each one whose successor starts at or below it), so that at most one segment starts
/// below the mark. Answers the segments left.
fn finish_drop(
    dir: &Path,
    mut files: Vec<(u64, PathBuf)>,
    mark: u64,
) -> Result<Vec<(u64, PathBuf)>, StoreError> {
    let dropped = files.windows(2).take_while(|w| w[1].0 <= mark).count();
    for (_, path) in files.drain(..dropped) {
        std::fs::remove_file(&path).map_err(|e| io(&path, "err.store.io_deleting", &e))?;
    }
    if dropped > 0 {
        sync_dir(dir)?;
    }
    Ok(files)
}

/// Entries of one segment to read: `at .. upto`, with the offsets of `at ..= upto`.
struct Span {
    path: PathBuf,
    at: u64,
    upto: u64,
    offsets: Vec<u64>,
    /// The segment's open file, if it is the last one (others are opened by path).
    active: Option<Arc<File>>,
}

/// One segment file as the in-memory index knows it.
#[derive(Debug)]
struct Segment {
    /// Index of its first entry (its name).
    first: u64,
    path: PathBuf,
    /// The offset of each entry's record in the file: 4 bytes per entry in memory. Every offset
    /// is below 2^32: a batch starts below `JOURNAL_SEGMENT_BYTES_MAX` and adds at most
    /// `LOG_BATCH_BYTES_MAX` plus a header per entry.
    offsets: Vec<u32>,
    /// The end of its last complete batch: where the next record goes.
    end: u64,
}

impl Segment {
    fn entries(&self) -> u64 {
        self.offsets.len() as u64
    }

    /// The offset of entry `index` (of this segment), or its end after the last.
    fn offset(&self, index: u64) -> u64 {
        let at = (index - self.first) as usize;
        self.offsets.get(at).map_or(self.end, |o| u64::from(*o))
    }
}

/// What scanning one segment found.
#[derive(Debug, Default)]
struct Scan {
    /// Offsets of the entries of complete batches.
    offsets: Vec<u32>,
    /// Where the last complete batch ends.
    complete_end: u64,
    file_len: u64,
    /// Where the scan stopped short of the file's end, and why, as a catalogue key (`None`:
    /// every byte is in a complete batch).
    fault: Option<(u64, &'static str)>,
    /// The index the first record that failed should have had: entries before `fault`.
    next_index: u64,
}

/// Reads until `buf` is full or the file ends; answers the bytes read.
fn read_full(reader: &mut impl std::io::Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The next record of a scan at `offset`: its header, with its payload in `payload`, or why it
/// does not check (a catalogue key).
fn next_record(
    reader: &mut impl std::io::Read,
    offset: u64,
    file_len: u64,
    payload: &mut Vec<u8>,
    path: &Path,
) -> Result<Result<Header, &'static str>, StoreError> {
    let mut head = [0u8; RECORD_HEADER_BYTES];
    let got = read_full(reader, &mut head).map_err(|e| io(path, "err.store.io_reading", &e))?;
    if got < RECORD_HEADER_BYTES {
        return Ok(Err("err.store.header_cut_short"));
    }
    let Some(header) = Header::decode(&head) else {
        return Ok(Err("err.store.header_bad_checksum"));
    };
    if offset + (RECORD_HEADER_BYTES as u64) + u64::from(header.length) > file_len {
        return Ok(Err("err.store.record_cut_short"));
    }
    payload.resize(header.length as usize, 0);
    reader
        .read_exact(payload)
        .map_err(|e| io(path, "err.store.io_reading", &e))?;
    if crc32fast::hash(payload) != header.payload_crc {
        return Ok(Err("err.store.record_bad_checksum"));
    }
    Ok(Ok(header))
}

/// Scans the segment at `path`, whose first entry is `first`: every record, in order, to the end
/// of the file or the first record that does not check. An intact record out of sequence is
/// corruption at once (no torn write leaves one).
fn scan_segment(path: &Path, first: u64) -> Result<Scan, StoreError> {
    let file = File::open(path).map_err(|e| io(path, "err.store.io_opening", &e))?;
    let file_len = (file.metadata())
        .map_err(|e| io(path, "err.store.io_reading", &e))?
        .len();
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    let mut scan = Scan {
        file_len,
        ..Scan::default()
    };
    let mut pending: Vec<u32> = Vec::new();
    let mut previous: Option<Header> = None;
    let mut payload = Vec::new();
    let mut offset = 0u64;
    while offset < file_len {
        let header = match next_record(&mut reader, offset, file_len, &mut payload, path)? {
            Ok(header) => header,
            Err(why) => {
                scan.fault = Some((offset, why));
                break;
            }
        };
        let index = first + (scan.offsets.len() + pending.len()) as u64;
        in_sequence(&header, index, previous.as_ref()).map_err(|why| {
            let why = msg("err.store.entry_out_of_sequence")
                .arg("index", index)
                .part("why", why);
            corrupt_at(path, offset, why)
        })?;
        pending.push(
            u32::try_from(offset)
                .map_err(|_| corrupt_at(path, offset, msg("err.store.segment_too_long")))?,
        );
        offset += (RECORD_HEADER_BYTES as u64) + u64::from(header.length);
        previous = (header.remaining > 0).then_some(header);
        if header.remaining == 0 {
            scan.offsets.append(&mut pending);
            scan.complete_end = offset;
        }
    }
    if scan.fault.is_none() && !pending.is_empty() {
        scan.fault = Some((offset, "err.store.ends_inside_batch"));
    }
    scan.next_index = first + (scan.offsets.len() + pending.len()) as u64;
    Ok(scan)
}

/// Whether an intact record is the one expected next: entry `index`, following `previous` in its
/// batch (`None`: a batch starts here).
fn in_sequence(header: &Header, index: u64, previous: Option<&Header>) -> Result<(), Message> {
    if header.index != index {
        return Err(msg("err.store.record_is_entry").arg("index", header.index));
    }
    let fits = match previous {
        None => header.position == 0,
        Some(p) => header.position == p.position + 1 && header.remaining + 1 == p.remaining,
    };
    if fits {
        Ok(())
    } else {
        Err(msg("err.store.record_out_of_place"))
    }
}

fn corrupt_at(path: &Path, offset: u64, why: Message) -> StoreError {
    StoreError::corrupt(
        msg("err.store.journal_segment_damaged")
            .arg("path", path.display())
            .arg("offset", offset)
            .part("why", why),
    )
}

/// After a scan of the last segment stopped at `from`, whose record should have been entry
/// `next_index`: the first intact record of a *later* batch in the rest of the file, as (its
/// index, its offset). Finding one proves the damage is older than an acknowledged batch (a
/// batch is written only after the one before it was acknowledged).
fn later_batch_after(
    path: &Path,
    from: u64,
    file_len: u64,
    next_index: u64,
) -> Result<Option<(u64, u64)>, StoreError> {
    let file = File::open(path).map_err(|e| io(path, "err.store.io_opening", &e))?;
    let mut rest = vec![0u8; (file_len - from) as usize];
    file.read_exact_at(&mut rest, from)
        .map_err(|e| io(path, "err.store.io_reading", &e))?;
    for at in 1..rest.len() {
        if !rest[at..].starts_with(RECORD_MAGIC) {
            continue;
        }
        let Some(header) = Header::decode(&rest[at..]) else {
            continue;
        };
        let payload_at = at + RECORD_HEADER_BYTES;
        let payload = rest.get(payload_at..payload_at + header.length as usize);
        if header.batch_first() > next_index
            && payload.is_some_and(|p| crc32fast::hash(p) == header.payload_crc)
        {
            return Ok(Some((header.index, from + at as u64)));
        }
    }
    Ok(None)
}

/// Cuts the file at `path` to `len` bytes, durably.
fn cut_file(path: &Path, len: u64) -> Result<(), StoreError> {
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| io(path, "err.store.io_opening", &e))?;
    file.set_len(len)
        .and_then(|()| file.sync_data())
        .map_err(|e| io(path, "err.store.io_cutting_tail", &e))
}

/// What `open` cut from the end of the journal: the bytes of a batch never acknowledged (or,
/// indistinguishably, of a last batch damaged after it was — see `LogStore`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TailCut {
    /// The segment file that was cut, if any.
    pub segment: Option<PathBuf>,
    /// Bytes removed from its end (0: the journal ended at the end of a batch).
    pub bytes: u64,
}

impl crate::base::words::Explain for TailCut {
    fn explain(&self) -> crate::base::words::Message {
        use crate::base::words::msg;
        match &self.segment {
            None => msg("repair.tail_clean"),
            Some(path) => msg("repair.tail_cut")
                .arg("bytes", self.bytes)
                .arg("segment", path.display()),
        }
    }
}

/// In English, as the logs and tests read it.
impl std::fmt::Display for TailCut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        crate::base::words::english(self, f)
    }
}

/// How a journal is opened.
#[derive(Debug, Clone)]
pub struct JournalOptions {
    /// A segment grows to at most this many bytes before the next batch starts a new one:
    /// `JOURNAL_SEGMENT_BYTES_MAX` unless a test wants many segments (1 ..= that).
    pub segment_bytes: u64,
    /// Faults to inject into appends and reads (`None`: every real open).
    pub faults: Option<Arc<Faults>>,
}

impl Default for JournalOptions {
    fn default() -> Self {
        Self {
            segment_bytes: JOURNAL_SEGMENT_BYTES_MAX,
            faults: None,
        }
    }
}

/// The log store in append-only segment files in one folder (see the module doc). Appends are
/// serialised by `writer`; the index is behind its own lock, held only to look offsets up or to
/// add a batch that is already durable, so reads go on while an append waits on its `fdatasync`.
#[derive(Debug)]
pub struct JournalStore {
    dir: PathBuf,
    segment_bytes: u64,
    faults: Option<Arc<Faults>>,
    index: RwLock<Index>,
    /// Held for a whole append; holds why appends are refused, after one failed.
    writer: Mutex<Option<Message>>,
}

/// What the journal holds: its segments and their entries.
#[derive(Debug)]
struct Index {
    segments: Vec<Segment>,
    len: u64,
    /// The last segment, open for appending and reading (`None` while there is no segment).
    active: Option<Arc<File>>,
    /// The durable drop mark: no entry at or above it was ever dropped.
    mark: u64,
}

impl Index {
    /// The first index held: the first segment's.
    fn start(&self) -> u64 {
        self.segments.first().map_or(0, |s| s.first)
    }
}

impl JournalStore {
    /// Opens the journal in `dir` with the default options.
    pub fn open(dir: &Path) -> Result<(Self, TailCut), StoreError> {
        Self::open_with(dir, JournalOptions::default())
    }

    /// Opens (creating the folder if needed) the journal in `dir`: scans every segment, rebuilds
    /// the index, cuts a torn tail of the last segment (durably) and answers what it cut; refuses
    /// damage before an acknowledged batch, a segment missing or out of place, or a record out of
    /// sequence, with `StoreError::Corrupt`.
    pub fn open_with(dir: &Path, options: JournalOptions) -> Result<(Self, TailCut), StoreError> {
        if !(1..=JOURNAL_SEGMENT_BYTES_MAX).contains(&options.segment_bytes) {
            return Err(StoreError::misuse(
                msg("err.store.segment_size_outside")
                    .arg("bytes", options.segment_bytes)
                    .arg("max", JOURNAL_SEGMENT_BYTES_MAX),
            ));
        }
        ensure_dir(dir)?;
        let mark = read_mark(dir)?;
        let files = finish_drop(dir, segment_files(dir)?, mark)?;
        let first = files.first().map_or(0, |(first, _)| *first);
        if first > mark || (files.is_empty() && mark > 0) {
            return Err(StoreError::corrupt(
                msg("err.store.journal_segment_missing")
                    .arg("dir", dir.display())
                    .arg("first", first)
                    .arg("mark", mark),
            ));
        }
        let last = files.len().checked_sub(1);
        let mut segments = Vec::with_capacity(files.len());
        let mut len = first;
        let mut cut = TailCut::default();
        for (i, (first, path)) in files.into_iter().enumerate() {
            if first != len {
                let why = msg("err.store.segment_misplaced")
                    .arg("len", len)
                    .arg("first", first);
                return Err(corrupt_at(&path, 0, why));
            }
            let segment = settle(path, first, Some(i) == last, &mut cut)?;
            len += segment.entries();
            segments.push(segment);
        }
        let active = match segments.last() {
            Some(s) => Some(Arc::new(open_for_append(&s.path)?)),
            None => None,
        };
        let store = Self {
            dir: dir.to_path_buf(),
            segment_bytes: options.segment_bytes,
            faults: options.faults,
            index: RwLock::new(Index {
                segments,
                len,
                active,
                mark,
            }),
            writer: Mutex::new(None),
        };
        Ok((store, cut))
    }

    /// The durable drop mark: entries below it may be gone (0: none ever were).
    pub fn drop_mark(&self) -> u64 {
        self.read_index().mark
    }

    fn read_index(&self) -> std::sync::RwLockReadGuard<'_, Index> {
        self.index.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write_index(&self) -> std::sync::RwLockWriteGuard<'_, Index> {
        self.index.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The segment a batch of `need` bytes goes into, and where in it: a new one, named by the
    /// next index, when there is none or the batch would take a non-empty one past the segment
    /// size. Called with the writer lock held, so nothing else changes the last segment.
    fn make_room(&self, need: u64) -> Result<(Arc<File>, PathBuf, u64), StoreError> {
        {
            let index = self.read_index();
            if let (Some(s), Some(file)) = (index.segments.last(), &index.active)
                && (s.end == 0 || s.end + need <= self.segment_bytes)
            {
                return Ok((Arc::clone(file), s.path.clone(), s.end));
            }
        }
        let first = self.read_index().len;
        let path = self.dir.join(segment_name(first));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| io(&path, "err.store.io_creating", &e))?;
        sync_dir(&self.dir)?;
        let file = Arc::new(file);
        let mut index = self.write_index();
        index.segments.push(Segment {
            first,
            path: path.clone(),
            offsets: Vec::new(),
            end: 0,
        });
        index.active = Some(Arc::clone(&file));
        Ok((file, path, 0))
    }

    /// Writes `bytes` (one batch's records) at the end of the last segment and makes them
    /// durable; on failure takes them back (truncate, fdatasync) before answering. Answers the
    /// offset the batch starts at. Called with the writer lock held.
    fn write_batch(&self, bytes: &[u8]) -> Result<u64, StoreError> {
        if let Some(f) = &self.faults {
            f.fail(FaultKind::WriteFail, "err.store.fault_writing_batch")?;
        }
        let (file, path, start) = self.make_room(bytes.len() as u64)?;
        if let Err(e) = write_durably(&file, bytes, start, self.faults.as_deref(), &path) {
            return Err(match file.set_len(start).and_then(|()| file.sync_data()) {
                Ok(()) => e,
                Err(back) => StoreError::io(
                    msg("err.store.take_back_failed")
                        .part("error", e.explain())
                        .arg("back", back),
                ),
            });
        }
        Ok(start)
    }

    /// Where entries `at ..` lie, up to the end of the segment holding `at` or `end`: the segment's
    /// path, the offsets of `at ..= upto` and its open file if it is the last. `Misuse` if a drop
    /// took the segment since the range was checked.
    fn locate(&self, at: u64, end: u64) -> Result<Span, StoreError> {
        let index = self.read_index();
        let s = index
            .segments
            .partition_point(|seg| seg.first <= at)
            .checked_sub(1)
            .ok_or_else(|| StoreError::misuse(msg("err.store.dropped_while_read").arg("at", at)))?;
        let segment = &index.segments[s];
        let upto = end.min(segment.first + segment.entries());
        let active = (s + 1 == index.segments.len())
            .then(|| index.active.clone())
            .flatten();
        Ok(Span {
            path: segment.path.clone(),
            at,
            upto,
            offsets: (at..=upto).map(|i| segment.offset(i)).collect(),
            active,
        })
    }

    /// Reads the entries of `span` into `out`, checking each record; no lock is held.
    fn read_span(&self, span: Span, out: &mut Vec<Vec<u8>>) -> Result<(), StoreError> {
        let Span {
            path,
            at,
            upto,
            offsets,
            active,
        } = span;
        let (lo, hi) = (offsets[0], offsets[offsets.len() - 1]);
        let mut buf = vec![0u8; (hi - lo) as usize];
        let file = match active {
            Some(file) => file,
            None => Arc::new(File::open(&path).map_err(|e| match e.kind() {
                // A drop may delete it after `locate`: the caller sees `start` rise and reroutes.
                std::io::ErrorKind::NotFound => {
                    StoreError::misuse(msg("err.store.segment_gone").arg("path", path.display()))
                }
                _ => io(&path, "err.store.io_opening", &e),
            })?),
        };
        file.read_exact_at(&mut buf, lo)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::UnexpectedEof => {
                    corrupt_at(&path, lo, msg("err.store.file_shorter"))
                }
                _ => io(&path, "err.store.io_reading", &e),
            })?;
        if let Some(f) = &self.faults {
            f.corrupt(&mut buf);
        }
        for (i, index) in (at..upto).enumerate() {
            let (from, to) = (offsets[i], offsets[i + 1]);
            let record = &buf[(from - lo) as usize..(to - lo) as usize];
            out.push(verify_record(record, index, &path, from)?);
        }
        Ok(())
    }
}

/// Scans one segment and settles it: a segment that checks to its end is kept whole; the last
/// one's torn tail is cut (recorded in `cut`); any other fault is corruption.
fn settle(path: PathBuf, first: u64, last: bool, cut: &mut TailCut) -> Result<Segment, StoreError> {
    let scan = scan_segment(&path, first)?;
    if let Some((offset, why)) = scan.fault {
        if !last {
            let why = msg("err.store.damage_not_torn").part("why", msg(why));
            return Err(corrupt_at(&path, offset, why));
        }
        if let Some((index, at)) = later_batch_after(&path, offset, scan.file_len, scan.next_index)?
        {
            let why = msg("err.store.acknowledged_damaged")
                .part("why", msg(why))
                .arg("index", index)
                .arg("at", at);
            return Err(corrupt_at(&path, offset, why));
        }
        cut_file(&path, scan.complete_end)?;
        *cut = TailCut {
            segment: Some(path.clone()),
            bytes: scan.file_len - scan.complete_end,
        };
    }
    Ok(Segment {
        first,
        path,
        offsets: scan.offsets,
        end: scan.complete_end,
    })
}

fn open_for_append(path: &Path) -> Result<File, StoreError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| io(path, "err.store.io_opening", &e))
}

/// Writes `bytes` at `at` and `fdatasync`s: the acknowledgement point. Faults: a short write
/// (a prefix reaches the file) and a failed `fdatasync`.
fn write_durably(
    file: &File,
    bytes: &[u8],
    at: u64,
    faults: Option<&Faults>,
    path: &Path,
) -> Result<(), StoreError> {
    if let Some(word) = faults.and_then(|f| f.roll(FaultKind::ShortWrite)) {
        let part = (word % bytes.len() as u64) as usize;
        file.write_all_at(&bytes[..part], at)
            .map_err(|e| io(path, "err.store.io_writing", &e))?;
        return Err(StoreError::io(
            msg("err.store.short_write")
                .arg("part", part)
                .arg("bytes", bytes.len())
                .arg("path", path.display()),
        ));
    }
    file.write_all_at(bytes, at)
        .map_err(|e| io(path, "err.store.io_writing", &e))?;
    if let Some(f) = faults {
        f.fail(
            FaultKind::FlushFail,
            "err.store.fault_making_durable_fdatasync",
        )?;
    }
    file.sync_data()
        .map_err(|e| io(path, "err.store.io_fdatasync", &e))
}

impl LogStore for JournalStore {
    fn append(&self, batch: &[&[u8]]) -> Result<u64, StoreError> {
        let mut failed = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(why) = failed.as_ref() {
            return Err(StoreError::io(
                msg("err.store.journal_refuses").part("why", why.clone()),
            ));
        }
        let first = self.len();
        check_batch(first, batch)?;
        if batch.is_empty() {
            return Ok(first);
        }
        let bytes = encode_batch(first, batch);
        let start = match self.write_batch(&bytes) {
            Ok(start) => start,
            Err(e) => {
                *failed = Some(e.explain());
                return Err(e);
            }
        };
        // Durable: only now do readers see the batch.
        let mut index = self.write_index();
        let segment = index
            .segments
            .last_mut()
            .expect("write_batch leaves a segment");
        let mut offset = start;
        for entry in batch {
            segment.offsets.push(
                u32::try_from(offset).expect("offsets in a segment are below 2^32 (Segment)"),
            );
            offset += (RECORD_HEADER_BYTES + entry.len()) as u64;
        }
        segment.end = offset;
        index.len += batch.len() as u64;
        Ok(first)
    }

    fn len(&self) -> u64 {
        self.read_index().len
    }

    fn start(&self) -> u64 {
        self.read_index().start()
    }

    fn drop_before(&self, below: u64) -> Result<u64, StoreError> {
        // The writer lock: no segment is created while the ones to drop are chosen.
        let _writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let (new_start, mark) = {
            let index = self.read_index();
            if below > index.len {
                return Err(StoreError::misuse(
                    msg("err.store.dropping_beyond")
                        .arg("below", below)
                        .arg("len", index.len),
                ));
            }
            let keep = index.segments.partition_point(|s| s.first <= below);
            let new_start = index.segments.get(keep.wrapping_sub(1)).map(|s| s.first);
            match new_start {
                Some(n) if n > index.start() => (n, index.mark),
                _ => return Ok(index.start()),
            }
        };
        if new_start > mark {
            write_mark(&self.dir, new_start)?;
        }
        let gone: Vec<PathBuf> = {
            let mut index = self.write_index();
            index.mark = index.mark.max(new_start);
            let dropped = index.segments.partition_point(|s| s.first < new_start);
            index.segments.drain(..dropped).map(|s| s.path).collect()
        };
        crash_point("drop-marked");
        for (i, path) in gone.iter().enumerate() {
            std::fs::remove_file(path).map_err(|e| io(path, "err.store.io_deleting", &e))?;
            if i == 0 {
                crash_point("drop-partial");
            }
        }
        sync_dir(&self.dir)?;
        Ok(new_start)
    }

    fn read(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        {
            let index = self.read_index();
            check_range(index.start()..index.len, start, end)?;
        }
        let mut out = Vec::with_capacity(usize::try_from(end - start).unwrap_or(0).min(4096));
        let mut at = start;
        while at < end {
            let span = self.locate(at, end)?;
            let upto = span.upto;
            self.read_span(span, &mut out)?;
            at = upto;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_reads_back_and_any_flipped_bit_is_refused() {
        let header = Header {
            length: 1234,
            index: 77,
            position: 3,
            remaining: 5,
            payload_crc: 0xDEAD_BEEF,
        };
        let bytes = header.encode();
        assert_eq!(Header::decode(&bytes), Some(header));
        assert_eq!(header.batch_first(), 74);
        for bit in 0..RECORD_HEADER_BYTES * 8 {
            let mut flipped = bytes;
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(Header::decode(&flipped), None, "bit {bit}");
        }
        assert_eq!(Header::decode(&bytes[..31]), None);
        assert_eq!(Header::decode(&[0u8; RECORD_HEADER_BYTES]), None);
    }

    #[test]
    fn segment_names_sort_as_their_indices_do() {
        assert_eq!(segment_name(0), "00000000000000000000.journal");
        assert_eq!(segment_name(u64::MAX), "18446744073709551615.journal");
        assert!(segment_name(99) < segment_name(100));
    }

    #[test]
    fn misuse_is_an_internal_fault() {
        use crate::base::class::{Class, Classify as _};
        let misuse = StoreError::misuse(msg("err.store.indices_overflow"));
        assert_eq!(misuse.class(), Class::Internal);
    }
}
