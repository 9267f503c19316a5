//! The log store conformance suite: the `LogStore` contract (src/storage/log.rs) checked once, as
//! generic functions, against every implementation — the journal on disk (`JournalStore`) and the
//! in-memory log (`MemLog`) — then the journal's own recovery from what a crash or a damaged disk
//! leaves in its files: torn tails cut back for every length, garbage after the last batch, a
//! flipped byte anywhere (corruption before the last batch, a cut inside it), missing segments,
//! bits flipped on reads, and partial writes; dropping covered segments (a drop mark made
//! durable first, a drop a crash interrupted finished on open, a segment lost below the mark
//! refused). A property test runs random batches, reopens, drops and torn tails against a model
//! (`Vec<Vec<u8>>` and the first index held).

use custody::{
    FaultKind, FaultRates, Faults, JournalOptions, JournalStore, LogStore, MemLog,
    RECORD_HEADER_BYTES, StoreError, TailCut, splitmix64,
};
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A store under test: how to make one and how to close and open it again.
trait Subject {
    type Store: LogStore;
    /// A fresh, empty store keeping its files (if it has any) in `dir`.
    fn create(dir: &Path, segment_bytes: u64, faults: Option<Arc<Faults>>) -> Self::Store;
    /// Closes `store` and opens it again (with `faults`); answers it and the bytes `open` cut.
    fn reopen(
        store: Self::Store,
        dir: &Path,
        segment_bytes: u64,
        faults: Option<Arc<Faults>>,
    ) -> (Self::Store, u64);
    /// Closes `store`, cuts up to `k` bytes from the end of its last file, and opens it again.
    /// Answers the store, the bytes `open` cut, and the last file's length before and after the
    /// cut (`(0, 0)` for a store without files).
    fn tear(
        store: Self::Store,
        dir: &Path,
        segment_bytes: u64,
        k: u64,
    ) -> (Self::Store, u64, (u64, u64));
}

struct Journal;
struct Memory;

fn journal_options(segment_bytes: u64, faults: Option<Arc<Faults>>) -> JournalOptions {
    JournalOptions {
        segment_bytes,
        faults,
    }
}

impl Subject for Journal {
    type Store = JournalStore;
    fn create(dir: &Path, segment_bytes: u64, faults: Option<Arc<Faults>>) -> JournalStore {
        let (store, cut) =
            JournalStore::open_with(dir, journal_options(segment_bytes, faults)).expect("opens");
        assert_eq!(cut, TailCut::default(), "a new journal has nothing to cut");
        store
    }
    fn reopen(
        store: JournalStore,
        dir: &Path,
        segment_bytes: u64,
        faults: Option<Arc<Faults>>,
    ) -> (JournalStore, u64) {
        drop(store);
        let (store, cut) =
            JournalStore::open_with(dir, journal_options(segment_bytes, faults)).expect("reopens");
        (store, cut.bytes)
    }
    fn tear(
        store: JournalStore,
        dir: &Path,
        segment_bytes: u64,
        k: u64,
    ) -> (JournalStore, u64, (u64, u64)) {
        drop(store);
        let lens = segments(dir).last().map_or((0, 0), |last| {
            let len = std::fs::metadata(last).expect("segment").len();
            let kept = len - k.min(len);
            truncate(last, kept);
            (len, kept)
        });
        let (store, cut) =
            JournalStore::open_with(dir, journal_options(segment_bytes, None)).expect("reopens");
        (store, cut.bytes, lens)
    }
}

impl Subject for Memory {
    type Store = MemLog;
    fn create(_: &Path, _: u64, faults: Option<Arc<Faults>>) -> MemLog {
        MemLog::with_faults(faults)
    }
    fn reopen(store: MemLog, _: &Path, _: u64, _: Option<Arc<Faults>>) -> (MemLog, u64) {
        (store.reopen(), 0)
    }
    fn tear(store: MemLog, _: &Path, _: u64, _: u64) -> (MemLog, u64, (u64, u64)) {
        (store.reopen(), 0, (0, 0))
    }
}

// ---- Helpers ------------------------------------------------------------------------------

/// Segment size for the tests that want many segments.
const SMALL_SEGMENT_BYTES: u64 = 1000;
/// Segment size for the tests that want one.
const ONE_SEGMENT_BYTES: u64 = 64 * 1024 * 1024;

/// `len` bytes that depend on `seed`: each entry's bytes differ from every other's.
fn entry(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed;
    (0..len).map(|_| splitmix64(&mut state) as u8).collect()
}

/// A batch of `count` entries, seeded by `seed`, of lengths cycling through `lens`.
fn batch(seed: u64, count: usize, lens: &[usize]) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| entry(seed * 1000 + i as u64, lens[i % lens.len()]))
        .collect()
}

fn append(store: &mut impl LogStore, batch: &[Vec<u8>]) -> Result<u64, StoreError> {
    let refs: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
    store.append(&refs)
}

/// Appends and records in `model`, checking the index the batch got.
fn append_ok(store: &mut impl LogStore, model: &mut Vec<Vec<u8>>, batch: &[Vec<u8>]) {
    let first = append(store, batch).expect("appends");
    assert_eq!(
        first,
        model.len() as u64,
        "a batch starts where the log ends"
    );
    model.extend(batch.iter().cloned());
}

/// The store holds exactly `model`: its length, the whole range, each entry, and ranges of
/// several sizes.
fn assert_holds(store: &impl LogStore, model: &[Vec<u8>]) {
    let len = model.len() as u64;
    assert_eq!(store.len(), len);
    assert_eq!(store.is_empty(), model.is_empty());
    assert_eq!(store.read(0, len).expect("reads all"), model);
    for (i, want) in model.iter().enumerate() {
        assert_eq!(&store.get(i as u64).expect("reads one"), want, "entry {i}");
    }
    for step in [2, 3, 7] {
        for start in (0..len).step_by(step) {
            let end = (start + step as u64 + 1).min(len);
            let got = store.read(start, end).expect("reads a range");
            assert_eq!(got, model[start as usize..end as usize], "{start}..{end}");
        }
    }
}

fn is_misuse<T: std::fmt::Debug>(r: Result<T, StoreError>) -> bool {
    matches!(r, Err(StoreError::Misuse(_)))
}

/// The segment files of the journal in `dir`, in order.
fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("journal folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "journal"))
        .collect();
    found.sort();
    found
}

fn truncate(path: &Path, len: u64) {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("segment")
        .set_len(len)
        .expect("truncates");
}

/// Bytes a batch takes in a journal segment.
fn record_bytes(batch: &[Vec<u8>]) -> u64 {
    batch
        .iter()
        .map(|e| (RECORD_HEADER_BYTES + e.len()) as u64)
        .sum()
}

/// After the last segment (of `before` bytes, holding the last of `batches`) was cut to
/// `after` bytes: how many batches survive, and where the last survivor ends in that file.
fn survivors(batches: &[Vec<Vec<u8>>], before: u64, after: u64) -> (usize, u64) {
    let mut keep = batches.len();
    let mut end = before;
    while keep > 0 && end > after {
        end -= record_bytes(&batches[keep - 1]);
        keep -= 1;
    }
    (keep, end)
}

// ---- The contract, for every store --------------------------------------------------------

fn empty_store<S: Subject>() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = S::create(dir.path(), ONE_SEGMENT_BYTES, None);
    assert_holds(&store, &[]);
    assert!(is_misuse(store.get(0)), "no entry 0 in an empty log");
    assert!(is_misuse(store.read(0, 1)));
    assert!(is_misuse(store.get(u64::MAX)));
    assert_eq!(store.append(&[]).expect("an empty batch"), 0);
    assert_eq!(store.len(), 0, "an empty batch appends nothing");
    let (store, cut) = S::reopen(store, dir.path(), ONE_SEGMENT_BYTES, None);
    assert_eq!(cut, 0);
    assert_holds(&store, &[]);
}

fn append_and_read_back_in_order<S: Subject>() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = S::create(dir.path(), ONE_SEGMENT_BYTES, None);
    let mut model = Vec::new();
    for (seed, count) in [(1, 1), (2, 3), (3, 2), (4, 5)] {
        append_ok(&mut store, &mut model, &batch(seed, count, &[10, 0, 33, 1]));
        assert_holds(&store, &model);
    }
    assert_eq!(
        store.append(&[]).expect("an empty batch"),
        model.len() as u64
    );
    assert!(
        is_misuse(store.read(3, 2)),
        "a range that ends before it starts"
    );
    assert!(
        is_misuse(store.read(0, model.len() as u64 + 1)),
        "a range past the end"
    );
    assert!(is_misuse(store.get(model.len() as u64)));
    assert_holds(&store, &model);
}

fn indices_are_contiguous_across_batches<S: Subject>() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = S::create(dir.path(), SMALL_SEGMENT_BYTES, None);
    let mut model = Vec::new();
    let mut firsts = Vec::new();
    for seed in 0..40u64 {
        let b = batch(seed, 1 + (seed % 4) as usize, &[5, 17]);
        firsts.push(append(&mut store, &b).expect("appends"));
        model.extend(b);
    }
    let mut expected = 0;
    for (seed, first) in firsts.iter().enumerate() {
        assert_eq!(*first, expected, "batch {seed}");
        expected += 1 + (seed as u64 % 4);
    }
    assert_holds(&store, &model);
}

fn large_entries<S: Subject>() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = S::create(dir.path(), SMALL_SEGMENT_BYTES * 64, None);
    let mut model = Vec::new();
    append_ok(&mut store, &mut model, &batch(1, 3, &[0, 1, 65_535]));
    // Larger than a segment: the batch fills one of its own.
    append_ok(&mut store, &mut model, &batch(2, 2, &[1 << 20, 3 << 20]));
    append_ok(&mut store, &mut model, &batch(3, 2, &[100]));
    assert_holds(&store, &model);
    let (store, cut) = S::reopen(store, dir.path(), SMALL_SEGMENT_BYTES * 64, None);
    assert_eq!(cut, 0);
    assert_holds(&store, &model);
}

fn many_small_batches_cross_segments<S: Subject>() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = S::create(dir.path(), SMALL_SEGMENT_BYTES, None);
    let mut model = Vec::new();
    for seed in 0..200u64 {
        let b = batch(seed, 1 + (seed % 3) as usize, &[10, 40, 60]);
        append_ok(&mut store, &mut model, &b);
    }
    assert_holds(&store, &model);
    let (mut store, cut) = S::reopen(store, dir.path(), SMALL_SEGMENT_BYTES, None);
    assert_eq!(cut, 0);
    assert_holds(&store, &model);
    append_ok(&mut store, &mut model, &batch(999, 2, &[70]));
    assert_holds(&store, &model);
}

fn reopen_preserves_everything_acknowledged<S: Subject>() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = S::create(dir.path(), SMALL_SEGMENT_BYTES, None);
    let mut model = Vec::new();
    for round in 0..4u64 {
        for seed in 0..10 {
            append_ok(
                &mut store,
                &mut model,
                &batch(round * 100 + seed, 2, &[30, 3]),
            );
        }
        let cut;
        (store, cut) = S::reopen(store, dir.path(), SMALL_SEGMENT_BYTES, None);
        assert_eq!(cut, 0, "a clean close leaves nothing to cut");
        assert_holds(&store, &model);
    }
}

fn a_batch_over_the_limits_is_misuse_and_changes_nothing<S: Subject>() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = S::create(dir.path(), ONE_SEGMENT_BYTES, None);
    let mut model = Vec::new();
    append_ok(&mut store, &mut model, &batch(1, 2, &[8]));
    let too_many: Vec<&[u8]> = vec![&[]; 65_537];
    assert!(is_misuse(store.append(&too_many)));
    // Misuse writes nothing and does not stop the store.
    append_ok(&mut store, &mut model, &batch(2, 1, &[8]));
    assert_holds(&store, &model);
    let max: Vec<&[u8]> = vec![&[]; 65_536];
    append_ok(
        &mut store,
        &mut model,
        &max.iter().map(|e| e.to_vec()).collect::<Vec<_>>(),
    );
    assert_eq!(store.len(), 3 + 65_536);
}

/// With appends failing at random (a failed write, a short write, a failed fdatasync): a failed
/// append acknowledges nothing, the store then refuses appends until reopened, reads never answer
/// wrong bytes, and reopening finds exactly what was acknowledged.
fn failed_appends_acknowledge_nothing<S: Subject>() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rates = FaultRates {
        write_fail_ppm: 60_000,
        short_write_ppm: 60_000,
        flush_fail_ppm: 60_000,
        ..FaultRates::default()
    };
    let faults = Arc::new(Faults::new(7, rates));
    let mut store = S::create(dir.path(), SMALL_SEGMENT_BYTES, Some(faults.clone()));
    let mut model: Vec<Vec<u8>> = Vec::new();
    let mut failures = 0;
    for seed in 0..300u64 {
        let b = batch(seed, 1 + (seed % 3) as usize, &[20, 45]);
        match append(&mut store, &b) {
            Ok(first) => {
                assert_eq!(first, model.len() as u64);
                model.extend(b);
            }
            Err(e) => {
                failures += 1;
                assert!(matches!(e, StoreError::Io(_)), "{e}");
                let refused = append(&mut store, &batch(10_000 + seed, 1, &[5]));
                assert!(
                    matches!(refused, Err(StoreError::Io(_))),
                    "refuses until reopened"
                );
                assert_holds(&store, &model);
                let cut;
                (store, cut) =
                    S::reopen(store, dir.path(), SMALL_SEGMENT_BYTES, Some(faults.clone()));
                assert_eq!(cut, 0, "the failed batch was taken back");
                assert_holds(&store, &model);
            }
        }
    }
    let injected = faults.injected();
    for kind in [
        FaultKind::WriteFail,
        FaultKind::ShortWrite,
        FaultKind::FlushFail,
    ] {
        assert!(injected.contains(&kind), "{kind:?} was never injected");
    }
    assert_eq!(failures, injected.len());
    assert_holds(&store, &model);
}

/// Readers running beside the writer: every `len` a reader sees only grows, and every entry
/// below it reads back exactly as appended — a batch is never visible before it is durable, and
/// an append in flight (waiting on its fsync) neither blocks nor misleads a read.
fn reads_run_beside_appends<S: Subject>()
where
    S::Store: 'static,
{
    const BATCHES: u64 = 150;
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(S::create(dir.path(), SMALL_SEGMENT_BYTES, None));
    let expected = |i: u64| entry(i, 1 + (i % 97) as usize);
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                let (mut seen, mut checked) = (0u64, 0u64);
                while seen < BATCHES * 3 {
                    let len = store.len();
                    assert!(len >= seen, "len went back from {seen} to {len}");
                    for (i, got) in (seen..len).zip(store.read(seen, len).expect("reads")) {
                        assert_eq!(got, expected(i), "entry {i}");
                        checked += 1;
                    }
                    seen = len;
                }
                checked
            })
        })
        .collect();
    for b in 0..BATCHES {
        let batch: Vec<Vec<u8>> = (b * 3..b * 3 + 3).map(expected).collect();
        let refs: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
        assert_eq!(store.append(&refs).expect("appends"), b * 3);
    }
    for r in readers {
        assert_eq!(r.join().expect("reader"), BATCHES * 3);
    }
}

#[derive(Debug, Clone)]
enum Op {
    Append(Vec<Vec<u8>>),
    Reopen,
    /// Cut up to this many bytes off the last file, then reopen.
    Tear(u64),
    /// Drop the entries below this percentage of the log's length.
    Drop(u64),
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let entry = prop::collection::vec(any::<u8>(), 0..80);
    let op = prop_oneof![
        6 => prop::collection::vec(entry, 0..5).prop_map(Op::Append),
        1 => Just(Op::Reopen),
        2 => (1u64..400).prop_map(Op::Tear),
        2 => (0u64..=100).prop_map(Op::Drop),
    ];
    prop::collection::vec(op, 1..30)
}

/// Runs `ops` against a store and the model: after each, the store holds the model.
fn model_run<S: Subject>(ops: &[Op]) -> Result<(), TestCaseError> {
    const SEGMENT: u64 = 300;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = S::create(dir.path(), SEGMENT, None);
    let mut batches: Vec<Vec<Vec<u8>>> = Vec::new();
    for op in ops {
        match op {
            Op::Append(b) => {
                let first = append(&mut store, b).expect("appends");
                prop_assert_eq!(first, batches.iter().map(Vec::len).sum::<usize>() as u64);
                if !b.is_empty() {
                    batches.push(b.clone());
                }
            }
            Op::Reopen => {
                let cut;
                (store, cut) = S::reopen(store, dir.path(), SEGMENT, None);
                prop_assert_eq!(cut, 0);
            }
            Op::Tear(k) => {
                let (torn, cut, (before, after)) = S::tear(store, dir.path(), SEGMENT, *k);
                store = torn;
                let (keep, end) = survivors(&batches, before, after);
                batches.truncate(keep);
                prop_assert_eq!(cut, after - end, "cut back to the last whole batch");
            }
            Op::Drop(percent) => {
                let (before, below) = (store.start(), store.len() * percent / 100);
                let start = store.drop_before(below).expect("drops");
                prop_assert!(start >= before, "a drop never lowers the start");
                prop_assert!(
                    start <= below.max(before),
                    "a drop never takes an entry at or above `below`"
                );
            }
        }
        let model: Vec<Vec<u8>> = batches.iter().flatten().cloned().collect();
        let start = store.start();
        prop_assert_eq!(store.len(), model.len() as u64);
        prop_assert_eq!(
            store.read(start, store.len()).expect("reads"),
            &model[start as usize..]
        );
        if start > 0 {
            prop_assert!(
                is_misuse(store.read(start - 1, start)),
                "a dropped entry is not served"
            );
        }
    }
    Ok(())
}

/// Drops below every index of a log of many segments: the start rises to at most the index
/// asked, every entry from it on reads back, appends go on, and all of it survives a reopen.
fn drops_keep_every_entry_from_the_start_on<S: Subject>() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = S::create(dir.path(), SMALL_SEGMENT_BYTES, None);
    let mut model = Vec::new();
    for seed in 0..60u64 {
        append_ok(&mut store, &mut model, &batch(seed, 2, &[40, 90]));
    }
    let len = store.len();
    assert!(
        is_misuse(store.drop_before(len + 1)),
        "nothing beyond the end to drop"
    );
    let mut start = 0;
    for below in (0..=len).step_by(7) {
        let now = store.drop_before(below).expect("drops");
        assert!(
            start <= now && now <= below.max(start),
            "{start} ≤ {now} ≤ {below}"
        );
        start = now;
        assert_eq!(store.start(), start);
        assert_eq!(store.len(), len, "a drop keeps the length");
        assert_eq!(
            store.read(start, len).expect("reads"),
            &model[start as usize..]
        );
    }
    assert!(start > 0, "a log of many segments drops some");
    assert!(is_misuse(store.read(start - 1, start)));
    assert!(is_misuse(store.get(0)));
    append_ok(&mut store, &mut model, &batch(999, 3, &[70]));
    let (store, cut) = S::reopen(store, dir.path(), SMALL_SEGMENT_BYTES, None);
    assert_eq!(
        (cut, store.start()),
        (0, start),
        "the start survives a reopen"
    );
    assert_eq!(
        store.read(start, store.len()).expect("reads"),
        &model[start as usize..]
    );
}

macro_rules! conformance {
    ($($module:ident: $subject:ty),* $(,)?) => {$(
        mod $module {
            use super::*;

            #[test]
            fn an_empty_store_holds_nothing() {
                empty_store::<$subject>();
            }
            #[test]
            fn entries_read_back_in_order() {
                append_and_read_back_in_order::<$subject>();
            }
            #[test]
            fn indices_are_contiguous_across_batches() {
                super::indices_are_contiguous_across_batches::<$subject>();
            }
            #[test]
            fn large_entries_read_back() {
                large_entries::<$subject>();
            }
            #[test]
            fn many_small_batches_across_segments() {
                many_small_batches_cross_segments::<$subject>();
            }
            #[test]
            fn reopening_keeps_every_acknowledged_entry() {
                reopen_preserves_everything_acknowledged::<$subject>();
            }
            #[test]
            fn an_oversized_batch_is_misuse() {
                a_batch_over_the_limits_is_misuse_and_changes_nothing::<$subject>();
            }
            #[test]
            fn reads_run_beside_appends() {
                super::reads_run_beside_appends::<$subject>();
            }
            #[test]
            fn a_failed_append_acknowledges_nothing() {
                failed_appends_acknowledge_nothing::<$subject>();
            }
            #[test]
            fn drops_keep_every_entry_from_the_start_on() {
                super::drops_keep_every_entry_from_the_start_on::<$subject>();
            }

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(48))]
                #[test]
                fn random_batches_reopens_and_tears_keep_the_model(ops in ops()) {
                    model_run::<$subject>(&ops)?;
                }
            }
        }
    )*};
}

conformance!(journal: Journal, memlog: Memory);

// ---- The journal's files ------------------------------------------------------------------

/// A journal in `dir` holding `batches` (in one segment unless `segment_bytes` is small).
fn journal_with(dir: &Path, segment_bytes: u64, batches: &[Vec<Vec<u8>>]) -> Vec<Vec<u8>> {
    let mut store = Journal::create(dir, segment_bytes, None);
    let mut model = Vec::new();
    for b in batches {
        append_ok(&mut store, &mut model, b);
    }
    model
}

fn open_journal(dir: &Path, segment_bytes: u64) -> Result<(JournalStore, TailCut), StoreError> {
    JournalStore::open_with(dir, journal_options(segment_bytes, None))
}

fn three_batches() -> Vec<Vec<Vec<u8>>> {
    vec![
        batch(1, 3, &[7, 0, 20]),
        batch(2, 2, &[12]),
        batch(3, 4, &[9, 1]),
    ]
}

#[test]
fn a_torn_tail_is_cut_back_to_the_last_whole_batch_for_every_length() {
    let dir = tempfile::tempdir().expect("temp dir");
    let batches = three_batches();
    let model = journal_with(dir.path(), ONE_SEGMENT_BYTES, &batches);
    let [file] = segments(dir.path()).try_into().expect("one segment");
    let original = std::fs::read(&file).expect("segment");
    let len = original.len() as u64;
    assert_eq!(len, batches.iter().map(|b| record_bytes(b)).sum::<u64>());
    for k in 1..=len {
        std::fs::write(&file, &original[..(len - k) as usize]).expect("tears");
        let (store, cut) = open_journal(dir.path(), ONE_SEGMENT_BYTES).expect("opens");
        let (keep, end) = survivors(&batches, len, len - k);
        let kept: usize = batches[..keep].iter().map(Vec::len).sum();
        assert_holds(&store, &model[..kept]);
        assert_eq!(cut.bytes, len - k - end, "k = {k}");
        assert_eq!(cut.segment.is_some(), cut.bytes > 0);
        assert_eq!(
            std::fs::metadata(&file).expect("segment").len(),
            end,
            "cut durably"
        );
        std::fs::write(&file, &original).expect("restores");
    }
}

#[test]
fn garbage_after_the_last_batch_is_cut_and_reported() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = journal_with(dir.path(), ONE_SEGMENT_BYTES, &three_batches());
    let [file] = segments(dir.path()).try_into().expect("one segment");
    let original = std::fs::read(&file).expect("segment");
    let mut tails: Vec<Vec<u8>> = (1..100).map(|n| vec![0u8; n]).collect();
    tails.extend((1..200).map(|n| entry(n as u64, n)));
    // A header's start (its magic) and a header with its checksum broken.
    tails.push(original[..10].to_vec());
    tails.push(
        original[..RECORD_HEADER_BYTES]
            .iter()
            .map(|b| b ^ 0xFF)
            .collect(),
    );
    for tail in tails {
        let mut torn = original.clone();
        torn.extend_from_slice(&tail);
        std::fs::write(&file, &torn).expect("writes");
        let (mut store, cut) = open_journal(dir.path(), ONE_SEGMENT_BYTES).expect("opens");
        assert_eq!(cut.bytes, tail.len() as u64, "{tail:?}");
        assert_eq!(cut.segment.as_deref(), Some(file.as_path()));
        assert!(cut.to_string().contains("never acknowledged"), "{cut}");
        assert_holds(&store, &model);
        // Appends go on right after the last whole batch, with no garbage in between.
        let mut more = model.clone();
        append_ok(&mut store, &mut more, &batch(50, 2, &[6]));
        drop(store);
        let (store, cut) = open_journal(dir.path(), ONE_SEGMENT_BYTES).expect("reopens");
        assert_eq!(cut.bytes, 0);
        assert_holds(&store, &more);
        std::fs::write(&file, &original).expect("restores");
    }
}

/// Flips `mask` into byte `at` of `file`, opens the journal, then puts the byte back. Answers
/// what the open found (every entry, and the bytes it cut) or its error.
fn open_with_flip(
    dir: &Path,
    segment_bytes: u64,
    file: &Path,
    at: usize,
    mask: u8,
) -> Result<(Vec<Vec<u8>>, u64), StoreError> {
    let original = std::fs::read(file).expect("segment");
    let mut flipped = original.clone();
    flipped[at] ^= mask;
    std::fs::write(file, &flipped).expect("writes");
    let opened = open_journal(dir, segment_bytes)
        .map(|(store, cut)| (store.read(0, store.len()).expect("reads"), cut.bytes));
    std::fs::write(file, &original).expect("restores");
    opened
}

fn is_corrupt<T>(r: &Result<T, StoreError>) -> bool {
    matches!(r, Err(StoreError::Corrupt(_)))
}

#[test]
fn a_flipped_byte_before_the_last_batch_is_corruption_and_inside_it_a_cut() {
    let dir = tempfile::tempdir().expect("temp dir");
    let batches = three_batches();
    let model = journal_with(dir.path(), ONE_SEGMENT_BYTES, &batches);
    let [file] = segments(dir.path()).try_into().expect("one segment");
    let len = std::fs::metadata(&file).expect("segment").len() as usize;
    let last_batch_at = (record_bytes(&batches[0]) + record_bytes(&batches[1])) as usize;
    for at in 0..len {
        for mask in [0x01, 0x10, 0x80] {
            let opened = open_with_flip(dir.path(), ONE_SEGMENT_BYTES, &file, at, mask);
            if at < last_batch_at {
                assert!(is_corrupt(&opened), "byte {at}: {opened:?}");
            } else {
                // Indistinguishable from a torn tail: the whole last batch is cut, never
                // returned with a wrong byte.
                let (entries, cut) = opened.expect("opens");
                assert_eq!(entries, model[..5], "byte {at}");
                assert_eq!(cut, (len - last_batch_at) as u64);
            }
        }
    }
}

#[test]
fn every_flipped_bit_of_an_earlier_header_is_corruption_naming_the_place() {
    let dir = tempfile::tempdir().expect("temp dir");
    journal_with(dir.path(), ONE_SEGMENT_BYTES, &three_batches());
    let [file] = segments(dir.path()).try_into().expect("one segment");
    // The second record starts after the first's header and 7 bytes.
    let header_at = RECORD_HEADER_BYTES + 7;
    for at in header_at..header_at + RECORD_HEADER_BYTES {
        for bit in 0..8 {
            let opened = open_with_flip(dir.path(), ONE_SEGMENT_BYTES, &file, at, 1 << bit);
            let Err(StoreError::Corrupt(message)) = opened else {
                panic!("byte {at} bit {bit}: {opened:?}");
            };
            assert!(message.contains(&format!("byte {header_at}")), "{message}");
        }
    }
}

#[test]
fn damage_in_an_earlier_segment_is_corruption_even_in_its_last_batch() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = journal_with(dir.path(), 100, &three_batches());
    let files = segments(dir.path());
    assert_eq!(files.len(), 3, "each batch starts a segment of its own");
    for (i, file) in files.iter().enumerate() {
        let len = std::fs::metadata(file).expect("segment").len() as usize;
        for at in 0..len {
            let opened = open_with_flip(dir.path(), 100, file, at, 0x04);
            if i < 2 {
                assert!(is_corrupt(&opened), "segment {i} byte {at}: {opened:?}");
            } else {
                assert_eq!(opened.expect("opens").0, model[..5]);
            }
        }
    }
}

#[test]
fn segments_are_named_by_their_first_index_and_bounded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let batches: Vec<_> = (0..60)
        .map(|s| batch(s, 1 + (s % 3) as usize, &[10, 50]))
        .collect();
    let model = journal_with(dir.path(), SMALL_SEGMENT_BYTES, &batches);
    let files = segments(dir.path());
    assert!(files.len() > 5, "{} segments", files.len());
    let mut total = 0u64;
    for file in &files {
        let bytes = std::fs::read(file).expect("segment");
        assert!(
            bytes.len() as u64 <= SMALL_SEGMENT_BYTES,
            "{}",
            file.display()
        );
        let first = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes"));
        let name = file
            .file_stem()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        assert_eq!(name, format!("{first:020}"));
        assert_eq!(first, total, "contiguous");
        total += count_records(&bytes);
    }
    assert_eq!(total, model.len() as u64);
}

/// Records in a segment's bytes, by walking their lengths.
fn count_records(bytes: &[u8]) -> u64 {
    let (mut at, mut n) = (0, 0);
    while at < bytes.len() {
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().expect("4 bytes"));
        at += RECORD_HEADER_BYTES + len as usize;
        n += 1;
    }
    n
}

#[test]
fn a_missing_misnamed_or_repeated_piece_is_corruption() {
    let dir = tempfile::tempdir().expect("temp dir");
    journal_with(dir.path(), 100, &three_batches());
    let files = segments(dir.path());
    let moved = dir.path().join("aside");
    // A segment missing from the middle.
    std::fs::rename(&files[1], &moved).expect("moves");
    assert!(is_corrupt(&open_journal(dir.path(), 100)));
    std::fs::rename(&moved, &files[1]).expect("moves back");
    // The last segment under another index.
    let renamed = dir.path().join("00000000000000000006.journal");
    std::fs::rename(&files[2], &renamed).expect("renames");
    assert!(is_corrupt(&open_journal(dir.path(), 100)));
    std::fs::rename(&renamed, &files[2]).expect("renames back");
    // A name this journal never writes.
    let stray = dir.path().join("7.journal");
    std::fs::write(&stray, b"").expect("writes");
    assert!(is_corrupt(&open_journal(dir.path(), 100)));
    std::fs::remove_file(&stray).expect("removes");
    // Another file in the folder is left alone.
    std::fs::write(dir.path().join("README"), b"notes").expect("writes");
    // An intact record repeated at the end is out of sequence: no torn write leaves one.
    let last = std::fs::read(&files[2]).expect("segment");
    let mut repeated = last.clone();
    repeated.extend_from_slice(&last[last.len() - (RECORD_HEADER_BYTES + 1)..]);
    std::fs::write(&files[2], &repeated).expect("writes");
    assert!(is_corrupt(&open_journal(dir.path(), 100)));
    std::fs::write(&files[2], &last).expect("restores");
    let (store, cut) = open_journal(dir.path(), 100).expect("opens");
    assert_eq!((store.len(), cut.bytes), (9, 0));
}

#[test]
fn a_drop_is_marked_before_it_deletes_is_finished_on_open_and_a_lost_segment_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let batches: Vec<_> = (0..12).map(|seed| batch(seed, 2, &[30])).collect();
    let model = journal_with(dir.path(), 200, &batches);
    let files = segments(dir.path());
    assert!(files.len() >= 4, "{files:?}");
    let kept = std::fs::read(&files[0]).expect("segment");
    let (store, _) = open_journal(dir.path(), 200).expect("opens");
    let start = store.drop_before(model.len() as u64 - 1).expect("drops");
    drop(store);
    let left = segments(dir.path());
    assert_eq!(
        left.len(),
        1,
        "every segment but the last dropped: {left:?}"
    );
    let mark = std::fs::read_to_string(dir.path().join("dropped")).expect("a drop mark");
    assert_eq!(mark, format!("custody-journal-dropped 1\n{start}\n"));
    // A crash after the mark, before the deletions: the segment is back, opening drops it again.
    std::fs::write(&files[0], &kept).expect("restores a dropped segment");
    let (store, cut) = open_journal(dir.path(), 200).expect("opens");
    assert_eq!((store.start(), cut.bytes), (start, 0));
    assert!(!files[0].exists(), "opening finished the drop");
    let held = store.read(start, store.len()).expect("reads");
    assert_eq!(held, &model[start as usize..]);
    drop(store);
    // The mark lost: a journal starting after 0 without one lost its first segments.
    let mark_file = dir.path().join("dropped");
    std::fs::rename(&mark_file, dir.path().join("aside")).expect("moves");
    assert!(is_corrupt(&open_journal(dir.path(), 200)));
    std::fs::rename(dir.path().join("aside"), &mark_file).expect("moves back");
    // The last segment lost: the mark says entries remain, and no segment holds them.
    std::fs::rename(&left[0], dir.path().join("aside")).expect("moves");
    assert!(is_corrupt(&open_journal(dir.path(), 200)));
    std::fs::rename(dir.path().join("aside"), &left[0]).expect("moves back");
    // A mark this journal never writes.
    std::fs::write(&mark_file, b"dropped 3\n").expect("writes");
    assert!(is_corrupt(&open_journal(dir.path(), 200)));
    std::fs::write(&mark_file, mark.as_bytes()).expect("restores");
    assert_eq!(
        open_journal(dir.path(), 200).expect("opens").0.start(),
        start
    );
}

#[test]
fn a_read_whose_bytes_changed_is_refused_never_answered() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = journal_with(dir.path(), SMALL_SEGMENT_BYTES, &three_batches());
    let rates = FaultRates {
        read_flip_ppm: 300_000,
        ..FaultRates::default()
    };
    let faults = Arc::new(Faults::new(11, rates));
    let options = journal_options(SMALL_SEGMENT_BYTES, Some(faults.clone()));
    let (store, _) = JournalStore::open_with(dir.path(), options).expect("opens");
    let (mut good, mut refused) = (0, 0);
    for round in 0..100u64 {
        let index = round % model.len() as u64;
        match store.get(index) {
            Ok(bytes) => {
                assert_eq!(bytes, model[index as usize]);
                good += 1;
            }
            Err(e) => {
                assert!(matches!(e, StoreError::Corrupt(_)), "{e}");
                refused += 1;
            }
        }
        let range = store.read(0, model.len() as u64);
        assert!(range.as_ref().is_ok_and(|r| *r == model) || is_corrupt(&range));
    }
    assert!(good > 0 && refused > 0, "{good} good, {refused} refused");
}

#[test]
fn a_short_write_is_taken_back_and_the_journal_refuses_until_reopened() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut model = journal_with(dir.path(), ONE_SEGMENT_BYTES, &three_batches());
    let [file] = segments(dir.path()).try_into().expect("one segment");
    let before = std::fs::metadata(&file).expect("segment").len();
    let rates = FaultRates {
        short_write_ppm: 1_000_000,
        ..FaultRates::default()
    };
    let faults = Arc::new(Faults::new(3, rates));
    let options = journal_options(ONE_SEGMENT_BYTES, Some(faults.clone()));
    let (mut store, _) = JournalStore::open_with(dir.path(), options).expect("opens");
    let failed = append(&mut store, &batch(60, 3, &[500]));
    assert!(matches!(failed, Err(StoreError::Io(_))), "{failed:?}");
    assert_eq!(
        std::fs::metadata(&file).expect("segment").len(),
        before,
        "taken back"
    );
    faults.clear();
    let refused = append(&mut store, &batch(61, 1, &[5]));
    let Err(StoreError::Io(message)) = refused else {
        panic!("{refused:?}");
    };
    assert!(
        message.contains("until the journal is reopened"),
        "{message}"
    );
    assert_eq!(faults.injected(), vec![FaultKind::ShortWrite]);
    assert_holds(&store, &model);
    drop(store);
    let (mut store, cut) = open_journal(dir.path(), ONE_SEGMENT_BYTES).expect("reopens");
    assert_eq!(cut.bytes, 0);
    append_ok(&mut store, &mut model, &batch(62, 2, &[8]));
    assert_holds(&store, &model);
}

#[test]
fn a_segment_size_outside_its_bounds_is_misuse() {
    let dir = tempfile::tempdir().expect("temp dir");
    assert!(is_misuse(open_journal(dir.path(), 0)));
    assert!(is_misuse(open_journal(dir.path(), (64 << 20) + 1)));
    let nested = dir.path().join("a").join("journal");
    let (store, cut) = JournalStore::open(&nested).expect("creates the folder");
    assert_eq!((store.len(), cut), (0, TailCut::default()));
    assert!(nested.is_dir());
}

/// A damaged segment, as the fuzz target sees one.
#[derive(Debug, Clone)]
enum Damage {
    Truncate(usize),
    Flip(usize, u8),
    Append(Vec<u8>),
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// The fuzz target's checks (`fuzz_harness::journal_open`) over real segments damaged at
    /// random: cut short, a bit flipped, garbage appended — in any mix.
    #[test]
    fn a_damaged_segment_opens_whole_or_is_refused_as_corrupt(
        sizes in proptest::collection::vec((1usize..5, 0usize..300), 1..6),
        damage in proptest::collection::vec(
            prop_oneof![
                any::<usize>().prop_map(Damage::Truncate),
                (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Damage::Flip(at, bit)),
                proptest::collection::vec(any::<u8>(), 0..80).prop_map(Damage::Append),
            ],
            0..4,
        ),
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        {
            let mut store = Journal::create(dir.path(), ONE_SEGMENT_BYTES, None);
            for (i, (count, len)) in sizes.iter().enumerate() {
                let b = batch(i as u64 + 1, *count, &[*len]);
                append(&mut store, &b).expect("appends");
            }
        }
        let mut bytes = std::fs::read(&segments(dir.path())[0]).expect("segment");
        for d in damage {
            match d {
                Damage::Truncate(at) => bytes.truncate(at % (bytes.len() + 1)),
                Damage::Flip(at, bit) if !bytes.is_empty() => {
                    let at = at % bytes.len();
                    bytes[at] ^= 1 << bit;
                }
                Damage::Flip(..) => {}
                Damage::Append(extra) => bytes.extend(extra),
            }
        }
        custody::fuzz_harness::journal_open(&bytes);
    }
}
