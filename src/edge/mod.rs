//! Edges: the command line, the HTTP server and client, rendering for people, the printable
//! report, item and seal labels, the reliability harness and the fuzz entry points. They parse,
//! call and render; they hold no business rule.

pub mod cli;
pub mod client;
pub mod csv;
#[doc(hidden)]
pub mod fuzz_harness;
pub mod labels;
pub mod nonces;
pub mod render;
pub mod report;
pub mod report_pdf;
pub mod server;
pub mod status;
pub mod torture;
pub mod uraian;
pub mod web;
