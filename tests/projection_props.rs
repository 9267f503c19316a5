//! Property test over random custody histories (several items and officers, valid and invalid
//! acts mixed): every refused act leaves the log and the projections unchanged, and the
//! projections built incrementally equal a rebuild from the log, digest for digest.

mod support;

use proptest::prelude::*;
use support::*;

const ITEMS: [&str; 3] = ["BB-P-0001", "BB-P-0002", "BB-P-0003"];
const OFFICERS: [usize; 5] = [GATE_A, GATE_B, SECURITY, INVESTIGATOR, INVESTIGATOR_2];

#[derive(Debug, Clone)]
enum Act {
    Find {
        item: usize,
        by: usize,
        witness: usize,
    },
    Seal {
        item: usize,
        by: usize,
        witness: usize,
        seal: u8,
    },
    Weigh {
        item: usize,
        by: usize,
        witness: usize,
        net: u64,
    },
    Release {
        item: usize,
        by: usize,
        to: usize,
        seal: u8,
    },
    Receive {
        item: usize,
        by: usize,
        seal: u8,
        intact: bool,
    },
    Note {
        item: usize,
        by: usize,
    },
}

fn act() -> impl Strategy<Value = Act> {
    let i = 0..ITEMS.len();
    let o = 0..OFFICERS.len();
    prop_oneof![
        (i.clone(), o.clone(), o.clone()).prop_map(|(item, by, witness)| Act::Find {
            item,
            by,
            witness
        }),
        (i.clone(), o.clone(), o.clone(), 0..3u8).prop_map(|(item, by, witness, seal)| Act::Seal {
            item,
            by,
            witness,
            seal
        }),
        (i.clone(), o.clone(), o.clone(), 1..20_000u64).prop_map(|(item, by, witness, net)| {
            Act::Weigh {
                item,
                by,
                witness,
                net,
            }
        }),
        (i.clone(), o.clone(), o.clone(), 0..3u8).prop_map(|(item, by, to, seal)| Act::Release {
            item,
            by,
            to,
            seal
        }),
        (i.clone(), o.clone(), 0..3u8, any::<bool>()).prop_map(|(item, by, seal, intact)| {
            Act::Receive {
                item,
                by,
                seal,
                intact,
            }
        }),
        (i, o).prop_map(|(item, by)| Act::Note { item, by }),
    ]
}

fn seal(n: u8) -> String {
    format!("SEG-P-{n:04}")
}

fn perform(w: &World, a: &Act) -> Result<custody::Receipt, custody::AppendError> {
    match *a {
        Act::Find { item, by, witness } => w.find(ITEMS[item], OFFICERS[by], OFFICERS[witness]),
        Act::Seal {
            item,
            by,
            witness,
            seal: s,
        } => w.seal(ITEMS[item], OFFICERS[by], OFFICERS[witness], &seal(s)),
        Act::Weigh {
            item,
            by,
            witness,
            net,
        } => w.weigh(ITEMS[item], OFFICERS[by], OFFICERS[witness], net),
        Act::Release {
            item,
            by,
            to,
            seal: s,
        } => {
            let others: Vec<usize> = OFFICERS
                .iter()
                .copied()
                .filter(|o| *o != OFFICERS[by])
                .take(2)
                .collect();
            w.release(
                ITEMS[item],
                OFFICERS[by],
                [others[0], others[1]],
                OFFICERS[to],
                &[&seal(s)],
            )
        }
        Act::Receive {
            item,
            by,
            seal: s,
            intact,
        } => w.receive(ITEMS[item], OFFICERS[by], &[&seal(s)], intact),
        Act::Note { item, by } => w.note(ITEMS[item], OFFICERS[by]),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn incremental_projections_equal_a_rebuild_and_refusals_change_nothing(acts in proptest::collection::vec(act(), 5..40)) {
        let w = World::new();
        // Every history starts from real finds, so the random acts have items to act on.
        for item in ITEMS {
            w.find(item, GATE_A, GATE_B).expect("a first find is always valid");
        }
        let mut accepted = ITEMS.len();
        for a in &acts {
            let size = w.size();
            let digest = w.ledger.store().projection_digest().expect("digest");
            match perform(&w, a) {
                Ok(_) => accepted += 1,
                Err(custody::AppendError::Rule(_)) => {
                    prop_assert_eq!(w.size(), size, "a refusal changed the log: {:?}", a);
                    prop_assert_eq!(w.ledger.store().projection_digest().expect("digest"), digest, "a refusal changed the views: {:?}", a);
                }
                Err(other) => prop_assert!(false, "unexpected error for {:?}: {}", a, other),
            }
        }
        let incremental = w.ledger.store().projection_digest().expect("digest");
        let w_items = custody::queries::items(w.ledger.store(), None, None).expect("items");
        let dir = w.dir.path().join("l");
        let World { ledger, dir: tmp, .. } = w;
        drop(ledger);
        let report = custody::Ledger::rebuild(&dir, false, &mut |_, _| {}).expect("rebuild");
        prop_assert_eq!(report.before, incremental);
        prop_assert_eq!(report.after, incremental, "the rebuilt views differ from the incremental ones");
        drop(tmp);
        // Every accepted act touched exactly one item: the items' event counts add up to them.
        let events: u64 = ITEMS.iter().map(|i| w_items.iter().find(|s| s.id.as_str() == *i).map_or(0, |s| s.events)).sum();
        prop_assert_eq!(events, accepted as u64);
    }
}

/// The holdings under `prefix` as they were answered before the holdings entries carried the
/// items' states: each held item's id taken from its key, its state read from its own entry.
fn read_one_by_one(store: &custody::LedgerStore, prefix: &[u8]) -> Vec<custody::ItemState> {
    store
        .projection_keys(prefix)
        .expect("keys")
        .iter()
        .filter_map(|k| custody::projection::trailing_item(k))
        .filter_map(|id| custody::queries::item(store, &id).expect("item"))
        .collect()
}

/// `key(prefix, [part])` followed by the separator: every entry of one holder.
fn under(prefix: &[u8], part: &str) -> Vec<u8> {
    let mut k = custody::projection::key(prefix, &[part.as_bytes()]);
    k.push(0);
    k
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn holdings_and_pending_equal_the_item_states_read_one_by_one(acts in proptest::collection::vec(act(), 5..40)) {
        use custody::projection::{HOLDER, UNIT};
        let w = World::new();
        for item in ITEMS {
            w.find(item, GATE_A, GATE_B).expect("a first find is always valid");
        }
        for a in &acts {
            let _ = perform(&w, a);
        }
        let store = w.ledger.store();
        let items = custody::queries::items(store, None, None).expect("items");
        for o in OFFICERS {
            let officer = w.officer(o).id.clone();
            let answer = custody::queries::holdings_of_officer(store, &officer).expect("holdings");
            prop_assert_eq!(&answer, &read_one_by_one(store, &under(HOLDER, officer.as_str())));
            let held: Vec<_> = items.iter().filter(|s| s.status == custody::Status::Held && s.holder.as_ref() == Some(&officer)).cloned().collect();
            prop_assert_eq!(&answer, &held, "officer {}", officer);
        }
        let units: std::collections::BTreeSet<String> = items.iter().filter_map(|s| s.unit.clone()).collect();
        for unit in &units {
            let answer = custody::queries::holdings_of_unit(store, unit).expect("holdings");
            prop_assert_eq!(&answer, &read_one_by_one(store, &under(UNIT, unit)));
            let held: Vec<_> = items.iter().filter(|s| s.status == custody::Status::Held && s.unit.as_ref() == Some(unit)).cloned().collect();
            prop_assert_eq!(&answer, &held, "unit {}", unit);
        }
        // Pending: the transfer of every item in transit, in id order, as its state names it.
        let pending = custody::queries::pending(store).expect("pending");
        let expected: Vec<serde_json::Value> = items
            .iter()
            .filter(|s| s.status == custody::Status::InTransit)
            .filter_map(|s| s.transfer.as_ref().map(|t| serde_json::json!({ "item": s.id, "transfer": t })))
            .collect();
        prop_assert_eq!(serde_json::to_value(&pending).expect("json"), serde_json::Value::from(expected));
    }
}
