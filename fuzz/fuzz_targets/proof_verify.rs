//! Fuzzes Merkle proof verification: `verify_inclusion` and `verify_consistency` on sizes,
//! hashes and proofs taken from the input never panic and agree with RFC 9162's algorithm, and
//! proofs from a small input-built `MemoryTree` verify until one bit is flipped.
//! Seeds: `corpus/proof_verify/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    custody::fuzz_harness::proof_verify(data);
});
