//! Fuzzes `JournalStore::open` on a segment file of arbitrary bytes: it opens or refuses as
//! corrupt, what it opens reads back, and a second open cuts nothing more. Seeds:
//! `corpus/journal_open/`, segments written by the journal, torn and flipped.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    custody::fuzz_harness::journal_open(data);
});
