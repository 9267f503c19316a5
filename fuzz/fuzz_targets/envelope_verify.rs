//! Fuzzes `Envelope::parse` and signature checking: any bytes give Ok or Err; an accepted
//! envelope round-trips through `to_json()`, every signature can be checked against a fixed test
//! key, and the test key's own signature over the payload verifies. Seeds: `corpus/envelope_verify/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    custody::fuzz_harness::envelope_verify(data);
});
