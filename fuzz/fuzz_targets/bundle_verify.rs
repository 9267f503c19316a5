//! Fuzzes the offline verifier of item bundles (`custody bundle verify`): Ok or Err for any
//! bytes, the same answer twice, and what it accepts is consistent. Seeds:
//! `corpus/bundle_verify/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    custody::fuzz_harness::bundle_verify(data);
});
