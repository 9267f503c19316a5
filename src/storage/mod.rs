//! Storage: the bytes on disk — the ledger folder's storage (`store`: the journal that holds the
//! log's entries and is the acknowledgement point, sled beside it for the Merkle nodes, indexes
//! and views), the checkpoint file, the storage layout's version file (`layout`), the ledger's
//! lock and what a killed process can leave (`recovery`); the log store contract (`log`) with its
//! append-only journal (`journal`) and in-memory (`memlog`) implementations; the upper Merkle
//! tree kept in memory for proofs (`node_cache`) and the levels below it that sled does not keep
//! (`low_nodes`); the attachments statements name by digest
//! (`blobs`). Knows no custody rule.

pub mod blobs;
pub mod fault;
pub mod journal;
pub mod layout;
pub mod log;
pub mod low_nodes;
pub mod memlog;
pub mod node_cache;
pub mod recovery;
pub mod register;
pub mod store;
