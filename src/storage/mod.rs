//! Storage: the bytes on disk — the sled layout, atomic batches and flushes, the checkpoint file,
//! the ledger's lock and what a killed process can leave. Knows no custody rule.

pub mod recovery;
pub mod store;
