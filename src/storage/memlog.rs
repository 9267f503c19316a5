//! `MemLog`: the log store in memory, for tests. It keeps the `LogStore` contract except
//! durability across the death of the process: `reopen` stands for closing and opening again,
//! which loses nothing acknowledged, and there is never a torn tail to cut.

use crate::base::words::{Explain as _, Message, msg};
use crate::storage::fault::{FaultKind, Faults, StoreError};
use crate::storage::log::{LogStore, check_batch, check_range};
use std::sync::{Arc, Mutex, RwLock};

/// The log's entries in a `Vec`. With `Faults`, an append can fail (a failed write, a short
/// write, a failed flush all look alike here: nothing is appended) and the store then refuses
/// appends until `reopen`, as the contract says.
#[derive(Debug, Default)]
pub struct MemLog {
    /// The entries from `start` on (the ones below were dropped), and `start`.
    entries: RwLock<(Vec<Vec<u8>>, u64)>,
    faults: Option<Arc<Faults>>,
    /// Why appends are refused, after an append failed; held for a whole append.
    failed: Mutex<Option<Message>>,
}

impl MemLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty log whose appends go through `faults`.
    pub fn with_faults(faults: Option<Arc<Faults>>) -> Self {
        Self {
            faults,
            ..Self::default()
        }
    }

    /// What closing and opening the store again gives: every acknowledged entry, appends
    /// allowed again.
    #[must_use]
    pub fn reopen(self) -> Self {
        Self {
            failed: Mutex::new(None),
            ..self
        }
    }

    fn inject(&self) -> Result<(), StoreError> {
        if let Some(f) = &self.faults {
            f.fail(FaultKind::WriteFail, "err.store.fault_writing_batch")?;
            f.fail(FaultKind::ShortWrite, "err.store.fault_writing_whole_batch")?;
            f.fail(FaultKind::FlushFail, "err.store.fault_making_durable")?;
        }
        Ok(())
    }
}

impl LogStore for MemLog {
    fn append(&self, batch: &[&[u8]]) -> Result<u64, StoreError> {
        let mut failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(why) = failed.as_ref() {
            return Err(StoreError::io(
                msg("err.store.log_refuses").part("why", why.clone()),
            ));
        }
        let first = self.len();
        check_batch(first, batch)?;
        if batch.is_empty() {
            return Ok(first);
        }
        if let Err(e) = self.inject() {
            *failed = Some(e.explain());
            return Err(e);
        }
        self.entries
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .0
            .extend(batch.iter().map(|e| e.to_vec()));
        Ok(first)
    }

    fn len(&self) -> u64 {
        let held = self.entries.read().unwrap_or_else(|p| p.into_inner());
        held.1 + held.0.len() as u64
    }

    fn start(&self) -> u64 {
        self.entries.read().unwrap_or_else(|p| p.into_inner()).1
    }

    /// Drops exactly the entries below `below`: memory has no larger unit.
    fn drop_before(&self, below: u64) -> Result<u64, StoreError> {
        let mut held = self.entries.write().unwrap_or_else(|p| p.into_inner());
        let (start, len) = (held.1, held.1 + held.0.len() as u64);
        if below > len {
            return Err(StoreError::misuse(
                msg("err.store.dropping_beyond")
                    .arg("below", below)
                    .arg("len", len),
            ));
        }
        if below > start {
            // Within `len`, which is a `Vec`'s length plus `start`: fits a usize.
            held.0.drain(..(below - start) as usize);
            held.1 = below;
        }
        Ok(held.1)
    }

    fn read(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        let held = self.entries.read().unwrap_or_else(|p| p.into_inner());
        check_range(held.1..held.1 + held.0.len() as u64, start, end)?;
        // Within the held range, which is a `Vec`'s: both fit a usize.
        Ok(held.0[(start - held.1) as usize..(end - held.1) as usize].to_vec())
    }
}
