//! Storage: the bytes on disk — the sled layout, atomic batches and flushes, the checkpoint file,
//! the ledger's lock and what a killed process can leave; the log store contract (`log`) with its
//! append-only journal (`journal`) and in-memory (`memlog`) implementations, not yet used by the
//! ledger; the upper Merkle tree kept in memory for proofs (`node_cache`). Knows no custody rule.

pub mod journal;
pub mod log;
pub mod memlog;
pub mod node_cache;
pub mod recovery;
pub mod store;
