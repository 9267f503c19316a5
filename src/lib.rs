//! custody: a tamper-evident chain-of-custody ledger. The library holds every layer (DESIGN.md §4);
//! the `custody` binary is a thin edge over it. This file only declares the modules, in layer
//! order, and must never hold logic.
#![forbid(unsafe_code)]

// foundation
pub mod ids;
pub mod limits;
pub mod metrics;
pub mod time;
// formats
pub mod envelope;
pub mod httpsig;
pub mod leaf;
pub mod merkle;
pub mod note;
pub mod statement;
// keys
pub mod signing;
// domain
pub mod access;
pub mod audit;
pub mod clocks;
pub mod custody;
pub mod projection;
pub mod rules;
// storage
pub mod recovery;
pub mod store;
// application
pub mod bench;
pub mod bundle;
pub mod casefile;
pub mod compose;
pub mod demo;
pub mod doctor;
pub mod export;
pub mod ledger;
pub mod queries;
pub mod reads;
pub mod verify;
// edges
pub mod cli;
pub mod client;
#[doc(hidden)]
pub mod fuzz_harness;
pub mod render;
pub mod report;
pub mod server;
pub mod torture;
