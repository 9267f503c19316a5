//! Fuzzes the HTTP Message Signature headers of signed reads (`Signature-Input`, `Signature`)
//! with the request's path and query: parsing gives Ok or Err for any bytes, what parses
//! re-parses from its own value, and custody's own signatures always verify. Seeds:
//! `corpus/http_signature/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    custody::fuzz_harness::http_signature(data);
});
