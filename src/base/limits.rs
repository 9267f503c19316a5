//! Every size and count bound the ledger enforces, each with its unit in the name and the reason
//! it exists. Owns no logic; must never grow a limit without a reason beside it.

/// A statement (the signed JSON) may not exceed 32 KiB: a field report of an act is short, and the
/// bound keeps a maximal statement's envelope inside one tlog-tiles entry (see `LEAF_BYTES_MAX`).
pub const STATEMENT_BYTES_MAX: usize = 32 * 1024;

/// A leaf may not exceed 65,535 bytes: tlog-tiles entry bundles prefix each entry with a
/// big-endian u16 length, so a longer leaf could not be exported.
pub const LEAF_BYTES_MAX: usize = 65_535;

/// At most 16 signatures on one envelope: the largest act (a destruction with invited officials)
/// has about ten signers, and the bound keeps a maximal statement's leaf under `LEAF_BYTES_MAX`.
pub const SIGNATURES_MAX: usize = 16;

/// An envelope as submitted (JSON, base64 payload, signatures) may not exceed 64 KiB: the payload
/// inflates by 4/3 in base64 and each signature line adds under 200 bytes.
pub const ENVELOPE_BYTES_MAX: usize = 64 * 1024;

/// A blob (a photo, a scan, a lab report PDF) may not exceed 8 MiB: a phone's photo is 2–5 MiB
/// as JPEG, a scanned report a few hundred KiB, and the server holds one whole upload in memory
/// while it checks its digest (at most `BLOB_UPLOADS_MAX` at once).
pub const PHOTO_BYTES_MAX: usize = 8 * 1024 * 1024;

/// Blob uploads in service at once: each holds up to `PHOTO_BYTES_MAX` in memory, so 8 bound the
/// server's upload memory to 64 MiB; more are answered 503 with `Retry-After`.
pub const BLOB_UPLOADS_MAX: usize = 8;

/// A DSSE key id is at most 64 characters: ours are 16 hex digits; the bound stops a hostile
/// envelope from filling a leaf with key-id text.
pub const KEY_ID_CHARS_MAX: usize = 64;

/// Statements the sequencer takes into one group commit at most: large enough to amortize a
/// flush (~5–7k fsyncs/s here), small enough that one batch's latency stays in milliseconds.
pub const BATCH_STATEMENTS_MAX: usize = 1024;

/// Statements waiting for the sequencer at most, across all callers: back-pressure instead of
/// unbounded memory when writers outrun the disk.
pub const QUEUE_STATEMENTS_MAX: usize = 8192;

/// sled's page cache, in bytes: sled defaults to 1 GiB and its RSS can exceed the setting, so the
/// ledger sets it explicitly to keep a small server small.
pub const SLED_CACHE_BYTES: u64 = 64 * 1024 * 1024;
/// The environment variable that sets sled's page cache in MiB instead (`SLED_CACHE_MIB_RANGE`):
/// a server with much memory and many views may want more; a small device less.
pub const SLED_CACHE_ENV: &str = "CUSTODY_SLED_CACHE_MIB";
/// What `SLED_CACHE_ENV` may say, in MiB: below 8 sled thrashes on the views of a single item's
/// history; above 64 GiB is beyond any machine custody is meant for.
pub const SLED_CACHE_MIB_RANGE: std::ops::RangeInclusive<u64> = 8..=65_536;

/// A checkpoint's origin line is at most 255 bytes: C2SP leaves the length open; a bound keeps
/// notes small and rules out abuse of the one free-text line that is signed.
pub const ORIGIN_BYTES_MAX: usize = 255;

/// A signed note (checkpoint with signatures) may not exceed 16 KiB when read back: it is a few
/// hundred bytes plus cosignatures, so anything larger is not a checkpoint.
pub const NOTE_BYTES_MAX: usize = 16 * 1024;

/// Signature lines read from one note at most (C2SP signed-note recommends verifiers bound this).
pub const NOTE_SIGNATURES_MAX: usize = 100;

/// Hashes in one proof at most: a tree of 2^63 leaves needs 63 per path, and a consistency proof
/// at most twice that.
pub const PROOF_HASHES_MAX: usize = 128;

/// An error message repeats at most 64 characters of the input it refuses: enough to recognise an
/// id or a value, too little to turn an error into an echo of whatever a client sent.
pub const ECHO_CHARS_MAX: usize = 64;

/// Nonces of signed reads the server remembers at most, across all keys: each takes about 100
/// bytes (a 16-byte digest of key id and nonce, its expiry, its key's name, two index entries), so
/// the cache stays near 26 MiB at worst. When it is full a nonced read is refused as "try again
/// later" (503), never accepted unchecked.
pub const NONCE_CACHE_ENTRIES_MAX: usize = 262_144;

/// Nonces one key may have in the cache at once: about 11 signed reads a second for the whole
/// validity window, far beyond an officer's device, so that one key (a compromised device, a
/// runaway script) fills its own share and cannot crowd out every other key.
pub const NONCES_PER_KEY_MAX: usize = 4_096;

/// A signed read's nonce is at least 16 characters: it rules out counters and other short,
/// guessable values (custody's client sends 16 random bytes, 22 characters of base64url); the
/// server cannot check that it is random.
pub const NONCE_CHARS_MIN: usize = 16;

/// A signed read's nonce is at most 64 characters: 32 random bytes in hex; anything longer is not
/// a nonce but payload in a header.
pub const NONCE_CHARS_MAX: usize = 64;

/// Entries in one log-store append at most: 64 times the sequencer's group commit
/// (`BATCH_STATEMENTS_MAX`), and few enough that a batch's position fields fit the journal's u32s.
pub const LOG_BATCH_ENTRIES_MAX: usize = 65_536;

/// Entry bytes in one log-store append at most (1 GiB): sixteen times the largest group commit
/// (1,024 leaves of 64 KiB), and small enough that every offset inside a journal segment stays
/// below 2^32, so the journal's in-memory index holds 4 bytes per entry.
pub const LOG_BATCH_BYTES_MAX: usize = 1 << 30;

/// A journal segment file grows to at most 64 MiB before the next batch starts a new one (a batch
/// is never split across files; one larger than this fills a segment of its own): segments are
/// the unit that can be dropped once tlog tiles cover them, and a torn tail re-reads at most one.
pub const JOURNAL_SEGMENT_BYTES_MAX: u64 = 64 * 1024 * 1024;
/// The environment variable that makes journal segments smaller than `JOURNAL_SEGMENT_BYTES_MAX`
/// (`JOURNAL_SEGMENT_BYTES_RANGE`): for tests that need many segments, so that dropping them
/// once the entry bundles in `public/` cover them is exercised on a small ledger.
pub const JOURNAL_SEGMENT_ENV: &str = "CUSTODY_JOURNAL_SEGMENT_BYTES";
/// What `JOURNAL_SEGMENT_ENV` may say, in bytes: at least 4 KiB (a page; smaller only multiplies
/// files), at most the default.
pub const JOURNAL_SEGMENT_BYTES_RANGE: std::ops::RangeInclusive<u64> =
    4096..=JOURNAL_SEGMENT_BYTES_MAX;

/// Merkle nodes covering at least 16 leaves (level 4 and up) are kept in memory for proofs: fewer
/// than n/8 hashes of 32 bytes for n entries, under 4 bytes per entry (about 4 MB at 10⁶ entries,
/// 40 MB at 10⁷, inside the 40 bytes per entry the memory budget allows). A proof then reads only
/// its four lowest siblings from the store instead of one node per level (~20 at 10⁶): at 256
/// leaves (eight reads) the proof p99 at 10⁶ was 127 µs against a goal of 100 (BENCHMARKS.md).
/// Must be a power of two.
pub const CACHED_SUBTREE_LEAVES_MIN: u64 = 16;

/// A subject's full name is at most 128 characters: the `name` rule of schemas/common.json, so
/// that a name the register accepts is one a statement may carry.
pub const NAME_CHARS_MAX: usize = 128;

/// A passport number is 6 to 12 upper-case letters and digits (`passport` in
/// schemas/common.json, ICAO 9303 allows up to 9 and national forms run a little longer); the same
/// bounds say which words of free text look like one (`format::subject::looks_like_identifier`).
pub const PASSPORT_CHARS_MIN: usize = 6;
/// See `PASSPORT_CHARS_MIN`.
pub const PASSPORT_CHARS_MAX: usize = 12;

/// An inmate registration number (SDP) is 4 to 32 characters: the `sdp_id` rule of
/// schemas/common.json.
pub const SDP_CHARS_MIN: usize = 4;
/// See `SDP_CHARS_MIN`.
pub const SDP_CHARS_MAX: usize = 32;

/// Commitment salts kept for one subject at most: one per statement that names the person by
/// commitment, and a person appears in a few dozen acts at most; the bound keeps a record (read
/// whole and sealed whole) small.
pub const SALTS_PER_SUBJECT_MAX: usize = 4096;

/// A sealed subject record read back may be at most 1 MiB: a maximal one (every field and
/// `SALTS_PER_SUBJECT_MAX` salts of 67 JSON bytes) is under 300 KiB, so anything larger is not a
/// record and is not read into memory.
pub const RECORD_BYTES_MAX: u64 = 1024 * 1024;

/// Subjects one register holds at most: its key slots (96 bytes each) and index are read whole on
/// open, so 4 million subjects (~400 MiB of slots, a few hundred MiB of index) bounds both the
/// file and the memory — far above the population a correctional system's register will hold.
pub const REGISTER_SUBJECTS_MAX: usize = 4 * 1024 * 1024;
