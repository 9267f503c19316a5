//! The log's own reads (the signed checkpoint, inclusion and consistency proofs, a raw entry) and
//! the one write (a signed envelope in, a receipt out), each as an interface that the embedded
//! ledger implements here and the HTTP client implements in `edge::client`. The CLI runs each
//! command once against either (`--ledger` or `--server`), and the server answers each route by
//! calling the ledger's implementation, so both edges share one use-case. Never renders, never
//! decides who may read (the server checks scope before it calls `entry`).

use crate::app::ledger::{InclusionProofView, Ledger, ReceiptView};
use crate::app::reads::ReadError;
use crate::base::class::Reported;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

/// A consistency proof with base64 hashes (RFC 9162 §2.1.4), as sent to clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsistencyView {
    pub old_size: u64,
    pub new_size: u64,
    pub hashes: Vec<String>,
}

/// Reading the log itself.
pub trait LogReads {
    /// The signed checkpoint of the first `size` leaves (the latest when `None`), as C2SP
    /// signed-note text: byte for byte the one the ledger gave at that size.
    fn checkpoint_note(&self, size: Option<u64>) -> Result<String, ReadError>;
    /// The inclusion proof of `seq` in the tree of `size` leaves (the latest checkpoint's size
    /// when `None`).
    fn inclusion(&self, seq: u64, size: Option<u64>) -> Result<InclusionProofView, ReadError>;
    /// The consistency proof from `old` leaves to `new` (the latest checkpoint's size when None).
    fn consistency(&self, old: u64, new: Option<u64>) -> Result<ConsistencyView, ReadError>;
    /// The leaf bytes at `seq` (docs/FORMAT.md §6).
    fn entry(&self, seq: u64) -> Result<Vec<u8>, ReadError>;
}

/// Recording a signed statement.
pub trait Writes {
    /// Appends `envelope` (DSSE JSON) and answers its receipt once it is durable; the same
    /// envelope again answers the original receipt with `duplicate: true`.
    fn submit(&self, envelope: &[u8]) -> Result<ReceiptView, Reported>;
}

impl LogReads for Ledger {
    fn checkpoint_note(&self, size: Option<u64>) -> Result<String, ReadError> {
        let cp = match size {
            Some(size) => self.checkpoint_at(size)?,
            None => self.checkpoint(),
        };
        Ok(cp.note.clone())
    }

    fn inclusion(&self, seq: u64, size: Option<u64>) -> Result<InclusionProofView, ReadError> {
        let size = size.unwrap_or(self.checkpoint().size);
        Ok(self.inclusion_view(seq, size)?)
    }

    fn consistency(&self, old: u64, new: Option<u64>) -> Result<ConsistencyView, ReadError> {
        let new = new.unwrap_or(self.checkpoint().size);
        let hashes = self.consistency_proof(old, new)?;
        Ok(ConsistencyView {
            old_size: old,
            new_size: new,
            hashes: hashes.iter().map(|h| B64.encode(h)).collect(),
        })
    }

    fn entry(&self, seq: u64) -> Result<Vec<u8>, ReadError> {
        let size = self.checkpoint().size;
        if seq >= size {
            return Err(ReadError::NotFound(
                crate::base::words::msg("err.read.no_entry")
                    .arg("seq", seq)
                    .arg("last", size.saturating_sub(1)),
            ));
        }
        self.leaf(seq)?.ok_or_else(|| {
            ReadError::Storage(crate::base::words::msg("err.read.entry_missing").arg("seq", seq))
        })
    }
}

impl Writes for Ledger {
    fn submit(&self, envelope: &[u8]) -> Result<ReceiptView, Reported> {
        let receipt = Ledger::submit(self, envelope).map_err(|e| Reported::of(&e))?;
        self.receipt_view(&receipt).map_err(|e| Reported::of(&e))
    }
}
