//! What labels and attachments need from an open ledger: the statement recorded at a seq, the
//! item a seal number was applied to (the seal index `sa`), the items whose history names a blob
//! and the blobs an item's history names (the blob index `bl`), and the ledger's blob store. Used by the HTTP edge's label and blob
//! routes; callable from the command line alike. Never renders, never decides who may read
//! (the caller checks every item against the reader's scope), and never writes the log.

use crate::app::ledger::Ledger;
use crate::app::log::LogReads as _;
use crate::app::reads::ReadError;
use crate::base::ids::ItemId;
use crate::domain::projection;
use crate::format::leaf::Leaf;
use crate::format::statement::Statement;
use crate::storage::blobs::{BlobStore, Digest};

/// A blob an act of an item's history names: the act's seq and the blob's SHA-256 (hex).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Attachment {
    pub seq: u64,
    pub digest: String,
}

impl Ledger {
    /// The statement recorded at `seq` (not found beyond the latest checkpoint).
    pub fn statement_at(&self, seq: u64) -> Result<Statement, ReadError> {
        let bytes = self.entry(seq)?;
        let leaf = Leaf::decode(&bytes).map_err(|e| {
            ReadError::Storage(
                crate::base::words::msg("err.read.entry_undecodable")
                    .arg("seq", seq)
                    .part("reason", crate::base::words::Explain::explain(&e)),
            )
        })?;
        Statement::parse(leaf.envelope.payload()).map_err(|e| {
            ReadError::Storage(
                crate::base::words::msg("err.read.entry_statement")
                    .arg("seq", seq)
                    .part("reason", crate::base::words::Explain::explain(&e)),
            )
        })
    }

    /// The item seal number `seal` was first applied to, and the seq of that act: a seal number
    /// belongs to one item (rules version 5), so the first use names it.
    pub fn seal_use(&self, seal: &str) -> Result<Option<(ItemId, u64)>, ReadError> {
        let entries = self
            .store()
            .projection_scan(&projection::seal_prefix(seal))?;
        Ok(projection::first_seal_use(&entries))
    }

    /// Every item whose history names the blob `digest` (in `photos`, `media` or
    /// `report_digest`).
    pub fn items_naming(&self, digest: &Digest) -> Result<Vec<ItemId>, ReadError> {
        let prefix = projection::blob_prefix(&digest.to_string());
        Ok(self
            .store()
            .projection_keys(&prefix)?
            .iter()
            .filter_map(|k| projection::trailing_item(k))
            .collect())
    }

    /// The attachments (photos, media, lab reports) the history of `item` names, from the blob
    /// index, in log order: each act's seq and the blob's digest. One scan of the index.
    pub fn attachments_of(&self, item: &ItemId) -> Result<Vec<Attachment>, ReadError> {
        let mut out: Vec<Attachment> = self
            .store()
            .projection_scan(projection::BLOBS)?
            .iter()
            .filter(|(k, _)| projection::trailing_item(k).as_ref() == Some(item))
            .filter_map(|(k, v)| {
                let rest = k.strip_prefix(projection::BLOBS)?;
                let digest = std::str::from_utf8(rest.split(|&b| b == 0).next()?).ok()?;
                let seq: u64 = projection::decode(v).ok()?;
                Some(Attachment {
                    seq,
                    digest: digest.to_owned(),
                })
            })
            .collect();
        out.sort_by(|a, b| (a.seq, &a.digest).cmp(&(b.seq, &b.digest)));
        Ok(out)
    }

    /// The ledger folder's blobs (`private/blobs/`).
    pub fn blobs(&self) -> BlobStore {
        BlobStore::new(self.dir())
    }
}
