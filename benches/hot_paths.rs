//! Criterion micro-benchmarks of the ledger's CPU hot paths, each over realistic ~1 KiB custody
//! statements built with the crate's own public API (`compose`, `signing`, `rules`): leaf
//! encoding and hashing, Merkle appends, inclusion proofs and their verification, strict Ed25519
//! verification of every signature of an envelope, envelope and statement (JSON schema) parsing,
//! the rule check, and the item fold plus view writes of an admitted statement.
//!
//! No I/O is measured here: sled, fsync, group commit and checkpoints are `custody bench`'s job.
//! This file only reports times; it asserts nothing about them (the `expect`s below guard the
//! fixtures, never a speed).
//!
//! Run: `cargo bench --bench hot_paths` (about two minutes on 2 cores); one group only:
//! `cargo bench --bench hot_paths -- merkle/`.

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use custody::Envelope;
use custody::Leaf;
use custody::Statement;
use custody::compose::{self, OfficerInput};
use custody::merkle::{self, CompactRange, Hash, MemoryTree};
use custody::note::VerifierKey;
use custody::projection;
use custody::rules::{self, State};
use custody::{Clock, ManualClock, Timestamp};
use custody::{ItemId, OfficerId, OfficerRole, Origin};
use custody::{PublicKey, SecretKey};
use serde_json::{Value, json};
use std::hint::black_box;
use std::time::Duration;

const ORIGIN: &str = "custody.lapas-narkotika-jakarta.go.id/ledger";
const FACILITY: &str = "LPN-JAKARTA";
const ITEM: &str = "BB-2025-000418";
const SEAL: &str = "SEG-2025-000418";
/// The size the statements are padded towards: a typical custody statement.
const STATEMENT_BYTES_TARGET: usize = 1024;
/// Officers enrolled besides the four who sign, so that lookups are not in a toy-sized state.
const FILLER_OFFICERS: usize = 200;
/// Leaves already in the compact range `merkle/append` appends to.
const APPEND_START: u64 = 1_000_000;
/// Leaves in the in-memory tree the proofs are taken from.
const TREE_LEAVES: u64 = 1 << 20;
/// Distinct leaf indices the proof benchmarks cycle through.
const PROBES: usize = 4096;

/// An enrolled officer and their signing key.
struct Officer {
    id: OfficerId,
    key: SecretKey,
}

impl Officer {
    fn new(nip: &str) -> Self {
        Self {
            id: OfficerId::parse(nip)
                .expect("an 18-digit NIP or 8-digit NRP is a valid officer id"),
            key: SecretKey::generate().expect("the operating system supplies randomness"),
        }
    }

    fn input(&self, name: &str, agency: &str, unit: &str, role: OfficerRole) -> OfficerInput {
        OfficerInput {
            id: self.id.clone(),
            name: name.to_owned(),
            agency: agency.to_owned(),
            unit: unit.to_owned(),
            roles: vec![role],
            public_key: self.key.public(),
            rank: None,
        }
    }
}

/// Everything the benchmarks share: an identity state with the signers enrolled (built through
/// `custody::admit` + `rules::apply`, as the ledger builds it) and the signed statements.
struct Fixture {
    clock: ManualClock,
    state: State,
    finder: Officer,
    witnesses: [Officer; 2],
    /// note_added, signed by its author: one signature.
    note: Envelope,
    /// contraband_found, signed by the finder and two witnesses: three signatures.
    find: Envelope,
}

/// The `recorded_at` the benchmarks check statements at: after every act of the fixture.
fn recorded() -> Timestamp {
    Timestamp::parse("2099-01-01T00:00:00Z").expect("a valid RFC 3339 UTC time")
}

fn parse(envelope: &Envelope) -> Statement {
    Statement::parse(envelope.payload()).expect("the fixture's statements pass their schema")
}

/// Checks and folds an identity statement into `state`, as the sequencer does.
fn admit(state: &mut State, envelope: Envelope) {
    let statement = parse(&envelope);
    let admitted = custody::admit(
        state,
        &custody::NoItems,
        envelope,
        statement,
        None,
        recorded(),
    )
    .expect("the fixture's identity statements pass the rules");
    rules::apply(state, &admitted);
}

/// An officer's note, its free text sized so that the statement is about 1 KiB.
fn note(clock: &dyn Clock, author: &Officer) -> Envelope {
    const TEXT: &str = "Barang bukti diperiksa ulang di ruang P2U bersama dua saksi; kemasan \
        plastik klip dalam keadaan utuh, segel tidak rusak, label sesuai berita acara. ";
    let probe =
        compose::note(clock, FACILITY, &author.id, "x", Some(41)).expect("a note always composes");
    let want = STATEMENT_BYTES_TARGET
        .saturating_sub(probe.len() - 1)
        .max(1);
    let text: String = TEXT.chars().cycle().take(want).collect();
    let bytes = compose::note(clock, FACILITY, &author.id, text.trim_end(), Some(41))
        .expect("a note always composes");
    compose::sign_statement(bytes, &[&author.key]).expect("one signature fits an envelope")
}

/// A find with what a gate officer records in practice (suspected class, provisional mass, the
/// visitor and the inmate, photo digests): about 1 KiB.
fn find(clock: &dyn Clock, finder: &Officer, witnesses: &[Officer; 2]) -> Envelope {
    let bytes = compose::contraband_found(
        clock,
        FACILITY,
        &finder.id,
        &[&witnesses[0].id, &witnesses[1].id],
        ITEM,
        "INS-LPN-2025-0091",
        "Di bawah nasi dalam kotak makan bawaan pengunjung, dibungkus plastik hitam dan \
         dilakban, ditemukan saat pemeriksaan barang titipan di pintu P2U",
    )
    .expect("a find always composes");
    let mut value: Value = serde_json::from_slice(&bytes).expect("compose writes JSON");
    let Value::Object(map) = &mut value else {
        unreachable!("compose writes a JSON object")
    };
    map.extend([
        (
            "description".to_owned(),
            json!({
                "name": "14 sachet plastik klip berisi kristal bening diduga sabu",
                "form": "crystal",
                "colour": "bening",
            }),
        ),
        ("narcotic_class".to_owned(), json!("I")),
        ("count".to_owned(), json!(14)),
        ("gross_mass_mg".to_owned(), json!(12_840)),
        (
            "persons".to_owned(),
            json!([
                {"kind": "visitor", "nik": "3175034508900003", "name": "Siti Rahmawati"},
                {"kind": "inmate", "sdp": "B.I-123/2024", "name": "Andi Saputra"},
            ]),
        ),
        (
            "photos".to_owned(),
            json!([
                "sha256:7a0dcd81996fac881986f1c8854e16ee08bacd42840f131bb95271f57b612b71",
                "sha256:cecbc6e760c771f5458eb38883bf40802ab8171d7d5c302619f3e53ad3b5e801",
                "sha256:4fd0725396f07396aba3e887ba8ad1dfe64a792cbbc00d86c36e50c4696a51f8",
            ]),
        ),
    ]);
    let bytes = serde_json::to_vec(&value).expect("a JSON value always serializes");
    compose::sign_statement(bytes, &[&finder.key, &witnesses[0].key, &witnesses[1].key])
        .expect("three signatures fit an envelope")
}

/// The finder hands the (sealed) item to the police: giver and two witnesses sign.
fn release(clock: &dyn Clock, fx: &Fixture, head: &str) -> Envelope {
    let [w1, w2] = &fx.witnesses;
    let statement = json!({
        "type": "custody_released",
        "id": compose::new_statement_id(clock)
            .expect("the operating system supplies randomness")
            .to_string(),
        "occurred_at": clock.now().to_seconds_text(),
        "facility": FACILITY,
        "signers": [
            {"role": "giver", "officer": fx.finder.id.as_str()},
            {"role": "witness", "officer": w1.id.as_str()},
            {"role": "witness", "officer": w2.id.as_str()},
        ],
        "after": { ITEM: head },
        "item": ITEM,
        "to_officer": "85061234",
        "to_unit": "Satresnarkoba Polres Jakarta Timur",
        "purpose": "Penyidikan tindak pidana narkotika atas temuan di pintu P2U Lapas Narkotika Jakarta",
        "seals": [SEAL],
        "seals_intact": true,
        "mass_observed_mg": 12_840,
        "count_observed": 14,
    });
    let bytes = serde_json::to_vec(&statement).expect("a JSON value always serializes");
    compose::sign_statement(bytes, &[&fx.finder.key, &w1.key, &w2.key])
        .expect("three signatures fit an envelope")
}

// The long form reads better here: builds the whole benchmark fixture (ledger, officers, signed statements) in one place, in the order the ledger needs.
#[allow(clippy::too_many_lines)]
fn fixture() -> Fixture {
    custody::warm_up();
    let clock = ManualClock::new(
        Timestamp::parse("2025-08-04T02:20:00Z").expect("a valid RFC 3339 UTC time"),
    );
    let ledger_key = SecretKey::generate().expect("the operating system supplies randomness");
    let vkey = VerifierKey::new(ORIGIN, ledger_key.public())
        .expect("the origin is a valid key name")
        .to_string();
    let mut state = State::new(
        Origin::parse(ORIGIN).expect("the origin is valid"),
        vkey.clone(),
    );

    let admin = Officer::new("197805112003121001");
    let admin_input = admin.input(
        "Bambang Sutrisno",
        "imipas",
        "Tata Usaha Lapas Narkotika Jakarta",
        OfficerRole::Admin,
    );
    let genesis = compose::genesis(&clock, FACILITY, ORIGIN, &vkey, &admin_input)
        .expect("a genesis always composes");
    admit(
        &mut state,
        compose::sign_statement(genesis, &[&admin.key]).expect("one signature fits"),
    );

    let enroll = |state: &mut State, officer: OfficerInput| {
        clock.advance_ms(1_000);
        let bytes = compose::enrollment(&clock, FACILITY, &admin.id, &officer, None)
            .expect("an enrollment always composes");
        admit(
            state,
            compose::sign_statement(bytes, &[&admin.key]).expect("one signature fits"),
        );
    };
    let finder = Officer::new("198703152010121002");
    let witnesses = [
        Officer::new("199001202015031004"),
        Officer::new("199205062017121003"),
    ];
    let kplp = "KPLP Lapas Narkotika Jakarta";
    enroll(
        &mut state,
        finder.input("Rudi Hartono", "imipas", kplp, OfficerRole::GateOfficer),
    );
    enroll(
        &mut state,
        witnesses[0].input("Dewi Lestari", "imipas", kplp, OfficerRole::SecurityOfficer),
    );
    enroll(
        &mut state,
        witnesses[1].input("Agus Salim", "imipas", kplp, OfficerRole::SecurityOfficer),
    );
    for n in 0..FILLER_OFFICERS {
        let filler = Officer::new(&format!("1990010120200{n:05}"));
        enroll(
            &mut state,
            filler.input(
                &format!("Petugas {n}"),
                "imipas",
                kplp,
                OfficerRole::GateOfficer,
            ),
        );
    }
    // The police investigator the item is released to (`to_officer` must be enrolled).
    let police = Officer::new("85061234");
    enroll(
        &mut state,
        police.input(
            "Dedi Kurniawan",
            "polri",
            "Satresnarkoba Polres Jakarta Timur",
            OfficerRole::Investigator,
        ),
    );
    // Ordinary statements follow the enrollments in the log.
    let later = state.size() + 1_000;
    rules::skip_to(&mut state, later);
    clock.advance_ms(3_600_000);

    let note = note(&clock, &finder);
    let find = find(&clock, &finder, &witnesses);
    eprintln!(
        "fixture: {} officers enrolled; note_added statement {} B (1 signature), \
         contraband_found statement {} B (3 signatures), its envelope JSON {} B",
        state.officers().count(),
        note.payload().len(),
        find.payload().len(),
        find.to_json().len(),
    );
    Fixture {
        clock,
        state,
        finder,
        witnesses,
        note,
        find,
    }
}

/// The leaf the sequencer would build for `envelope` at `seq`.
fn leaf_of(envelope: &Envelope, seq: u64, recorded_at: Timestamp) -> Leaf {
    Leaf {
        seq,
        recorded_at,
        prev: merkle::leaf_hash(b"the previous leaf"),
        envelope: envelope.clone(),
    }
}

fn bench_leaf(c: &mut Criterion, fx: &Fixture) {
    let leaf = leaf_of(&fx.find, fx.state.size(), fx.clock.now());
    let bytes = leaf
        .encode()
        .expect("a ~1 KiB leaf is within the leaf limit");
    let mut g = c.benchmark_group("leaf");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("encode", |b| {
        b.iter(|| {
            black_box(&leaf)
                .encode()
                .expect("a ~1 KiB leaf is within the leaf limit")
        })
    });
    g.bench_function("hash", |b| b.iter(|| merkle::leaf_hash(black_box(&bytes))));
    g.finish();
}

/// A deterministic spread of indices below `bound` (xorshift64*), so proofs are not all taken
/// for one hot path of the tree.
fn probes(bound: u64) -> Vec<u64> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..PROBES)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            x.wrapping_mul(0x2545_F491_4F6C_DD1D) % bound
        })
        .collect()
}

fn bench_merkle(c: &mut Criterion) {
    let mut g = c.benchmark_group("merkle");
    g.throughput(Throughput::Elements(1));

    // Append to a range that already holds a million leaves; the range keeps growing across
    // iterations, so the figure is the amortized cost (one node hash per append on average).
    let peaks = vec![merkle::leaf_hash(b"peak"); APPEND_START.count_ones() as usize];
    let mut range =
        CompactRange::from_parts(APPEND_START, peaks).expect("one peak per set bit of the size");
    let leaf = merkle::leaf_hash(b"a new leaf");
    g.bench_function("append", |b| b.iter(|| range.append(black_box(leaf))));

    let mut tree = MemoryTree::new();
    for i in 0..TREE_LEAVES {
        tree.push_hash(merkle::leaf_hash(&i.to_be_bytes()));
    }
    let root = tree.root();
    // A power of two (every subtree on the path is stored) and a size with a ragged right edge
    // (some siblings are recomputed from stored subtrees), as a live log mostly has.
    for size in [TREE_LEAVES, 1_000_000] {
        let indices = probes(size);
        g.bench_with_input(
            BenchmarkId::new("inclusion_proof", size),
            &size,
            |b, &size| {
                let mut n = 0usize;
                b.iter(|| {
                    let index = indices[n % PROBES];
                    n += 1;
                    merkle::inclusion_proof(&tree, black_box(index), size)
                        .expect("the tree holds every node below its size")
                })
            },
        );
    }

    let cases: Vec<(u64, Hash, Vec<Hash>)> = probes(TREE_LEAVES)
        .into_iter()
        .map(|index| {
            let proof = merkle::inclusion_proof(&tree, index, TREE_LEAVES)
                .expect("the tree holds every node below its size");
            (index, merkle::leaf_hash(&index.to_be_bytes()), proof)
        })
        .collect();
    g.bench_function("verify_inclusion", |b| {
        let mut n = 0usize;
        b.iter(|| {
            let (index, leaf, proof) = &cases[n % PROBES];
            n += 1;
            merkle::verify_inclusion(*index, TREE_LEAVES, leaf, proof, black_box(&root))
                .expect("a proof from the same tree verifies")
        })
    });
    g.finish();
}

/// Verifies every signature of `envelope`, the i-th under `keys[i]` (strict Ed25519 over PAE).
fn verify_all(envelope: &Envelope, keys: &[PublicKey]) {
    let signed = envelope.signed_bytes();
    for (index, key) in keys.iter().enumerate() {
        envelope
            .verify_signature(index, key, &signed)
            .expect("the fixture's signatures verify");
    }
}

fn bench_envelope(c: &mut Criterion, fx: &Fixture) {
    let [w1, w2] = &fx.witnesses;
    let one = [fx.finder.key.public()];
    let three = [fx.finder.key.public(), w1.key.public(), w2.key.public()];
    let mut g = c.benchmark_group("envelope");
    g.throughput(Throughput::Elements(1));
    g.bench_function("verify_strict_1sig", |b| {
        b.iter(|| verify_all(black_box(&fx.note), &one))
    });
    g.bench_function("verify_strict_3sig", |b| {
        b.iter(|| verify_all(black_box(&fx.find), &three))
    });
    let json = fx.find.to_json();
    g.throughput(Throughput::Bytes(json.len() as u64));
    g.bench_function("parse", |b| {
        b.iter(|| Envelope::parse(black_box(json.as_bytes())).expect("the envelope parses"))
    });
    g.finish();

    let mut g = c.benchmark_group("statement");
    g.throughput(Throughput::Bytes(fx.find.payload().len() as u64));
    g.bench_function("parse", |b| {
        b.iter(|| {
            Statement::parse(black_box(fx.find.payload()))
                .expect("the fixture's statements pass their schema")
        })
    });
    g.finish();
}

fn bench_rules(c: &mut Criterion, fx: &Fixture) {
    let mut g = c.benchmark_group("rules");
    g.throughput(Throughput::Elements(1));
    for (name, envelope) in [("note_added", &fx.note), ("contraband_found", &fx.find)] {
        let statement = parse(envelope);
        g.bench_function(BenchmarkId::new("check", name), |b| {
            b.iter_batched(
                || (envelope.clone(), statement.clone()),
                |(e, s)| {
                    custody::admit(&fx.state, &custody::NoItems, e, s, None, recorded())
                        .expect("the fixture's statements pass the rules")
                },
                BatchSize::SmallInput,
            )
        });
    }
    // The sequencer's share when the caller's thread already verified the signatures.
    let statement = parse(&fx.find);
    let pre = rules::preverify(&fx.state, &fx.find, &statement);
    g.bench_function(
        BenchmarkId::new("check", "contraband_found_preverified"),
        |b| {
            b.iter_batched(
                || (fx.find.clone(), statement.clone()),
                |(e, s)| {
                    custody::admit(&fx.state, &custody::NoItems, e, s, Some(&pre), recorded())
                        .expect("the fixture's statements pass the rules")
                },
                BatchSize::SmallInput,
            )
        },
    );
    g.finish();
}

// The long form reads better here: one benchmark group: each measured step of the fold, in order.
#[allow(clippy::too_many_lines)]
fn bench_projection(c: &mut Criterion, fx: &Fixture) {
    let recorded_at = fx.clock.now();
    let seq = fx.state.size();
    let found = custody::admit(
        &fx.state,
        &custody::NoItems,
        fx.find.clone(),
        parse(&fx.find),
        None,
        recorded(),
    )
    .expect("the find passes the rules");
    let found_hash = merkle::leaf_hash(
        &leaf_of(&fx.find, seq, recorded_at)
            .encode()
            .expect("a ~1 KiB leaf is within the leaf limit"),
    );

    // The item as it stands after the find and a sealing (the sealing is applied to the item
    // state directly: only the seals matter to the release).
    let changes = custody::apply(
        &fx.state,
        &custody::NoItems,
        &found,
        &found_hash,
        recorded_at,
    );
    let mut held = changes
        .first()
        .expect("a find creates its item")
        .after
        .clone();
    held.seals = vec![SEAL.to_owned()];
    held.sealed_seq = Some(seq);
    let mut after_find = fx.state.clone();
    rules::apply(&mut after_find, &found);
    let items = custody::View {
        items: |id: &ItemId| (id == &held.id).then(|| held.clone()),
        seals: |_: &str| None,
    };
    let released_env = release(&fx.clock, fx, &held.head);
    let released = custody::admit(
        &after_find,
        &items,
        released_env.clone(),
        parse(&released_env),
        None,
        recorded(),
    )
    .expect("the release passes the rules");
    let released_hash = merkle::leaf_hash(
        &leaf_of(&released_env, seq + 1, recorded_at)
            .encode()
            .expect("a small leaf is within the leaf limit"),
    );

    let mut g = c.benchmark_group("projection");
    g.throughput(Throughput::Elements(1));
    g.bench_function(BenchmarkId::new("apply", "contraband_found"), |b| {
        b.iter(|| {
            let changes = custody::apply(
                &fx.state,
                &custody::NoItems,
                &found,
                &found_hash,
                recorded_at,
            );
            projection::writes(&fx.state, &found, &found_hash, recorded_at, &changes)
        })
    });
    g.bench_function(BenchmarkId::new("apply", "custody_released"), |b| {
        b.iter(|| {
            let changes =
                custody::apply(&after_find, &items, &released, &released_hash, recorded_at);
            projection::writes(
                &after_find,
                &released,
                &released_hash,
                recorded_at,
                &changes,
            )
        })
    });
    g.finish();
}

fn hot_paths(c: &mut Criterion) {
    let fx = fixture();
    bench_leaf(c, &fx);
    bench_merkle(c);
    bench_envelope(c, &fx);
    bench_rules(c, &fx);
    bench_projection(c, &fx);
}

criterion_group! {
    name = benches;
    // Short runs: the whole file finishes in about two minutes on 2 cores.
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = hot_paths
}
criterion_main!(benches);
