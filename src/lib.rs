//! custody: a tamper-evident chain-of-custody ledger. The library holds every layer, one folder
//! each, bottom-up (ARCHITECTURE.md); the `custody` binary is a thin edge over it. A module may
//! import only from its own layer or a lower one (`tests/tidy.rs` checks it). This file only
//! declares the layers, in order, and must never hold logic.
#![forbid(unsafe_code)]

pub mod app;
pub mod base;
pub mod domain;
pub mod edge;
pub mod format;
pub mod keys;
pub mod storage;
