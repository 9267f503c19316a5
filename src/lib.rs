//! custody: a tamper-evident chain-of-custody ledger. The library holds every layer, one folder
//! each, bottom-up (ARCHITECTURE.md); the `custody` binary is a thin edge over it. A module may
//! import only from its own layer or a lower one (`tests/tidy.rs` checks it). This file declares
//! the layers, in order, and the library's public surface; it must never hold logic.
#![forbid(unsafe_code)]

mod app;
mod base;
mod domain;
mod edge;
mod format;
mod keys;
mod storage;

// The public surface: exactly what the binary, `tests/`, `fuzz/` and `benches/` use. Everything
// else is private to the crate, so a change inside a layer cannot break a caller outside it.

/// The binary's entry point (`src/main.rs`).
pub use edge::cli::main;
/// The fuzz targets' entry points (`fuzz/`), replayed over the corpus by `tests/fuzz_corpus.rs`.
pub use edge::fuzz_harness;

/// The exact bytes: checked against external vectors and stock tools (RFC 6962 / transparency-dev
/// vectors, C2SP notes, RFC 9421, OpenSSL, Go's sumdb) and by property tests.
pub use format::envelope::Envelope;
pub use format::leaf::Leaf;
pub use format::statement::{Signer, Statement, StatementType, warm_up};
pub use format::{httpsig, merkle, note};
pub use keys::signing::{PublicKey, SecretKey, Signature};

/// Ids and time, which every test builds its inputs from.
pub use base::ids::{ItemId, OfficerId, OfficerRole, Origin, SignerRole};
pub use base::time::{Clock, ManualClock, SystemClock, Timestamp};

/// The catalogue of words, by which tests read what a message says in each language.
pub use base::words;

/// The pure rules and projections, replayed by property and tamper tests.
pub use domain::custody::{ItemState, NoItems, Status, View, admit, apply};
pub use domain::{audit, projection, rules, scope};

/// The use-cases that integration tests and benches drive in-process.
pub use app::ledger::{AppendError, InclusionProofView, Ledger, Receipt, ReceiptView};
pub use app::reads::{Holder, Reads};
/// Bringing a ledger of an older storage layout to this one (`custody upgrade`).
pub use app::upgrade::{UpgradeReport, upgrade};
pub use app::{bundle, casefile, compose, drafts, enrollment_requests, names, queries, verify};
pub use storage::store::{LedgerStore, splitmix64};

/// The log store contract and its implementations, which one conformance suite runs against
/// (`tests/log_store_conformance.rs`), with the seeded faults it injects.
pub use storage::journal::{JournalOptions, JournalStore, RECORD_HEADER_BYTES, TailCut};
pub use storage::log::LogStore;
pub use storage::memlog::MemLog;
pub use storage::node_cache::{CACHED_LEVEL_MIN, CachedNodes, UpperNodes};
pub use storage::store::{FaultKind, FaultRates, Faults, StoreError};

/// The subject register and the commitments statements will carry instead of personal data
/// (`tests/subject_register.rs`; docs/FORMAT.md §17).
pub use format::subject::{
    Commitment, PersonalFields, Salt, SubjectError, SubjectId, SubjectKind, commit,
    looks_like_identifier, opens,
};
pub use keys::signing::random_bytes;
pub use storage::register::{
    MasterKey, OpenReport, Record, Register, RegisterError, generate_master_key,
};

/// The blob store's limit, digests and media types (`tests/photos.rs`).
pub use base::limits::PHOTO_BYTES_MAX;
/// The HTTP edge's contract, checked by the API tests.
pub use edge::client::Remote;
/// Item and seal labels and their Code 128 encoder, scanned back by `tests/labels.rs`.
pub use edge::labels;
pub use edge::report::esc;
pub use edge::server::{OPENAPI_JSON, REQUEST_BODY_BYTES_MAX, ROUTES};
pub use edge::uraian;
pub use storage::blobs::Digest as BlobDigest;
