//! Fuzzes `Leaf::decode`: any bytes give Ok or Err, and an accepted leaf re-encodes to exactly
//! the bytes it came from (one spelling per leaf hash). Seeds: `corpus/leaf_decode/`, real
//! leaves of the demo ledger.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    custody::fuzz_harness::leaf_decode(data);
});
