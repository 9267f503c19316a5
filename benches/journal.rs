//! Criterion micro-benchmark of the journal (`JournalStore`, the ledger's log store): one
//! group-commit batch of 64 entries of 1 KiB appended and made durable (one `fdatasync`), and
//! the same 64 entries read back as one range (one `pread`, every record's CRCs checked).
//!
//! Unlike `hot_paths`, this measures the disk: the append's time is mostly the `fdatasync`, and
//! depends on the file system and device under the temporary folder (`TMPDIR`). It reports
//! times only and asserts nothing about them.
//!
//! Run: `cargo bench --bench journal` (under a minute).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use custody::{JournalStore, LogStore};
use std::hint::black_box;
use std::time::Duration;

/// Entries in one batch: a group commit under moderate load.
const BATCH_ENTRIES: usize = 64;
/// Bytes per entry: a typical custody leaf.
const ENTRY_BYTES: usize = 1024;

fn journal(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, _) = JournalStore::open(dir.path()).expect("opens");
    let entries: Vec<Vec<u8>> = (0..BATCH_ENTRIES)
        .map(|i| vec![i as u8; ENTRY_BYTES])
        .collect();
    let batch: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
    let mut g = c.benchmark_group("journal");
    g.throughput(Throughput::Bytes((BATCH_ENTRIES * ENTRY_BYTES) as u64));
    g.bench_function("append_64x1KiB_fdatasync", |b| {
        b.iter(|| store.append(black_box(&batch)).expect("appends"))
    });
    let len = store.len();
    g.bench_function("read_64x1KiB", |b| {
        b.iter(|| {
            store
                .read(black_box(len - BATCH_ENTRIES as u64), len)
                .expect("reads")
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = journal
}
criterion_main!(benches);
