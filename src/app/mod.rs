//! Application: the use-cases — the ledger's write path and opening, verification, export,
//! queries, case files and bundles, composing statements, the demo, the doctor, the storage
//! layout upgrade, re-founding, the subject register's use-cases, drafts being co-signed and
//! enrollment requests (both kept beside the log, never in it), the benchmarks and the TLS
//! certificates of `custody serve` (`tls`).
//! No HTTP, no terminal output.

pub mod attachments;
pub mod bench;
pub mod bundle;
pub mod casefile;
pub mod ceilings;
pub mod compose;
pub mod demo;
pub mod doctor;
pub mod drafts;
pub mod enrollment_requests;
pub mod erasure;
pub mod export;
pub mod import;
pub mod ledger;
pub mod log;
pub mod names;
pub mod publish;
pub mod queries;
pub mod reads;
pub mod refound;
pub mod subjects;
pub mod templates;
pub mod tls;
pub mod upgrade;
pub mod verify;
