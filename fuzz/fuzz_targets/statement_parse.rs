//! Fuzzes `Statement::parse` (duplicate-key check, JSON, schema validation, typed view):
//! any bytes give Ok or Err, parsing is deterministic, and an accepted statement keeps its
//! meaning with white space around it. Seeds: `corpus/statement_parse/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    custody::fuzz_harness::statement_parse(data);
});
