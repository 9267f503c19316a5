//! The log store: the contract (`LogStore`) every holder of the log's entries keeps, whatever
//! holds the bytes — `journal::JournalStore` in append-only files, `memlog::MemLog` in memory for
//! tests. The ledger keeps its leaves in the journal (`store::LedgerStore`). docs/STORAGE.md
//! describes the journal's bytes and its crash windows; `tests/log_store_conformance.rs` runs one
//! suite against every implementation.

use crate::base::words::msg;
use crate::storage::fault::StoreError;

/// An append-only sequence of byte strings (the log's entries, indexed from 0), written in
/// group-commit batches.
///
/// # Contract
///
/// **Appending — the acknowledgement point.**
/// - `append` returns `Ok(first)` only when every entry of the batch is durable: for a store on
///   disk, written and made durable with one `fdatasync` per batch (and a directory `fsync`
///   whenever the batch starts a new file), so it survives a power cut. The entries take the
///   indices `first .. first + batch.len()`, with `first` the `len` before the call: indices are
///   contiguous across batches and never reused.
/// - An empty batch writes nothing and returns `Ok(len)`.
/// - A batch is all or nothing across a crash: after reopening, it is wholly present or wholly
///   absent, never in part, and never present without every batch appended before it.
/// - A batch of more than `LOG_BATCH_ENTRIES_MAX` entries or `LOG_BATCH_BYTES_MAX` entry bytes
///   is `StoreError::Misuse`; nothing is written and the store stays usable.
/// - Any other `Err` from `append` acknowledges nothing, and the store refuses every later
///   `append` (`StoreError::Io`) until it is reopened: it is never asked to add to a file whose
///   state it no longer knows, so a failed batch cannot be followed by a good one behind garbage.
///   `len` is unchanged and reads of earlier entries still answer. The store takes the failed
///   batch's bytes back before it returns (truncate, `fdatasync`); only if that too fails may
///   the batch come back on reopen — then wholly or not at all, like any unacknowledged batch.
///
/// **What a crash may leave:** every acknowledged batch, then at most part of one batch that was
/// never acknowledged (a torn tail: a short record, bytes of zeros or garbage, a record whose
/// checksum fails). Nothing else.
///
/// **Opening** (each implementation's `open`):
/// - cuts a torn tail back to the end of the last complete batch, makes the cut durable, and
///   reports how many bytes it removed, so that the caller can log it;
/// - refuses with `StoreError::Corrupt`, and repairs nothing, when damage lies before anything
///   written later (a checksum that fails in a batch followed by intact entries of a later batch,
///   a file missing from the middle, entries out of sequence): that damage happened after the
///   acknowledgement;
/// - cannot tell damage inside the *last* complete batch from a torn tail of a batch never
///   acknowledged (both leave a final batch that does not check), so it cuts that batch too and
///   reports it. A caller that knows a larger acknowledged size — the ledger's signed checkpoint —
///   compares it with `len` after opening and refuses a store that came back shorter.
///
/// **Reading.** `read` and `get` return exactly the bytes appended, or an error: a store on disk
/// checks every entry's checksums on every read and answers `StoreError::Corrupt` for bytes that
/// changed. An index at or beyond `len`, or below `start`, is `StoreError::Misuse` (the caller
/// knows both).
///
/// **Dropping.** `drop_before(below)` is the only way an acknowledged entry leaves the store, and
/// only when its caller holds it elsewhere (the ledger: in full entry bundles durable in
/// `public/`). It drops whole units (a segment file) holding only entries below `below`, never
/// the unit appends go to, so `start` rises to at most `below` and `len` is unchanged. Before the
/// first unit goes, the store makes durable a *drop mark* (the new `start`); units go oldest
/// first, so a crash part-way leaves a contiguous suffix, and opening finishes the drop. Opening
/// refuses (`StoreError::Corrupt`) a store whose first entry lies beyond its drop mark (a unit
/// lost, not dropped), and one whose mark is set but which holds no unit at all.
///
/// No method rewrites an acknowledged entry, and only `drop_before` deletes one; `open` cuts only
/// a tail that was never acknowledged. Every call is synchronous (ARCHITECTURE.md, "Synchronous core"). Appends are
/// serialised inside the store (the ledger has one writer, its committer); reads of acknowledged
/// entries may run at the same time as an append and never see a batch before it is durable.
pub trait LogStore: Send + Sync {
    /// Appends one group-commit batch; `Ok` is the acknowledgement (see the contract). Answers
    /// the index of the batch's first entry.
    fn append(&self, batch: &[&[u8]]) -> Result<u64, StoreError>;

    /// Entries acknowledged (or found complete on open): the next index `append` gives.
    fn len(&self) -> u64;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The first index still held: entries below it were dropped (`drop_before`); 0 until then.
    fn start(&self) -> u64;

    /// Drops the units holding only entries below `below` (see the contract), durably; answers
    /// the new `start`. Dropping below `start` or dropping nothing is `Ok(start)`; `below` beyond
    /// `len` is `StoreError::Misuse`.
    fn drop_before(&self, below: u64) -> Result<u64, StoreError>;

    /// The entries `start .. end`, in order: every one, or an error. The caller bounds the range
    /// (a rebuild reads in chunks); `start > end` or `end > len` is `StoreError::Misuse`.
    fn read(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StoreError>;

    /// The entry at `index`.
    fn get(&self, index: u64) -> Result<Vec<u8>, StoreError> {
        let end = index.checked_add(1).ok_or_else(|| {
            StoreError::misuse(msg("err.store.no_entry_index").arg("index", index))
        })?;
        self.read(index, end)?
            .pop()
            .ok_or_else(|| StoreError::misuse(msg("err.store.no_entry_at").arg("index", index)))
    }
}

/// Checks a batch against the limits every store shares (`LOG_BATCH_ENTRIES_MAX`,
/// `LOG_BATCH_BYTES_MAX`) and that its indices fit after `len`.
pub fn check_batch(len: u64, batch: &[&[u8]]) -> Result<(), StoreError> {
    use crate::base::limits::{LOG_BATCH_BYTES_MAX, LOG_BATCH_ENTRIES_MAX};
    if batch.len() > LOG_BATCH_ENTRIES_MAX {
        return Err(StoreError::misuse(
            msg("err.store.batch_too_many")
                .arg("count", batch.len())
                .arg("max", LOG_BATCH_ENTRIES_MAX),
        ));
    }
    let bytes: usize = batch.iter().map(|e| e.len()).sum();
    if bytes > LOG_BATCH_BYTES_MAX {
        return Err(StoreError::misuse(
            msg("err.store.batch_too_large")
                .arg("bytes", bytes)
                .arg("max", LOG_BATCH_BYTES_MAX),
        ));
    }
    if len.checked_add(batch.len() as u64).is_none() {
        return Err(StoreError::misuse(msg("err.store.indices_overflow")));
    }
    Ok(())
}

/// Checks that `from .. to` lies within a store holding the entries `held` (an empty range may
/// lie below `held.start`: it asks for nothing dropped).
pub fn check_range(held: std::ops::Range<u64>, from: u64, to: u64) -> Result<(), StoreError> {
    if from > to || to > held.end {
        return Err(StoreError::misuse(
            msg("err.store.range_beyond")
                .arg("from", from)
                .arg("to", to)
                .arg("len", held.end),
        ));
    }
    if from < held.start && from < to {
        return Err(StoreError::misuse(
            msg("err.store.range_dropped")
                .arg("from", from)
                .arg("to", to)
                .arg("start", held.start),
        ));
    }
    Ok(())
}
