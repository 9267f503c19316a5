//! Fuzzes a request to the HTTP API through the real router (routing, path and query
//! extraction, signed-read headers, body limits, statement parsing) against a small ledger: every
//! answer is a documented status with the JSON error body, never an internal failure. Seeds:
//! `corpus/http_request/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    custody::fuzz_harness::http_request(data);
});
