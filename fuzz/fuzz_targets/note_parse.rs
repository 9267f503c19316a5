//! Fuzzes signed notes and checkpoints: `Note::parse`, `note::open`, `Checkpoint::parse`,
//! `note::open_checkpoint` and `VerifierKey::parse` give Ok or Err for any bytes, and whatever
//! parses re-serializes to the same bytes. Seeds: `corpus/note_parse/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    custody::fuzz_harness::note_parse(data);
});
