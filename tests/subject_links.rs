//! Two subject ids that are one person — recorded twice, e.g. offline on two devices — are joined
//! by a signed `subjects_linked` act: the person query of either id then answers the events of
//! both (and of ids linked to those), the statements that named them stay as signed, and a link
//! that cannot be true or that a role may not sign is refused when it is recorded.

mod support;

use serde_json::{Value, json};
use support::*;

/// A find of `item` by the gate officers naming `person`.
fn find_naming(w: &World, item: &str, person: Value) {
    w.act("contraband_found", &[("finder", GATE_A), ("witness", GATE_B)], &[item], json!({
        "incident": "INS-LINK-1", "item": item,
        "description": {"name": "sachets", "form": "crystal"},
        "category": "narcotic", "count": 1, "concealment": "shoe", "persons": [person], "photos": []}))
        .expect("a find naming a subject");
}

fn link(
    w: &World,
    signer: usize,
    a: u8,
    b: u8,
    basis: &str,
) -> Result<custody::Receipt, custody::AppendError> {
    let id = |n: u8| subject("visitor", n)["subject"].clone();
    w.act(
        "subjects_linked",
        &[("actor", signer)],
        &[],
        json!({"subject": id(a), "same_as": id(b), "basis": basis}),
    )
}

/// The seqs of the events `custody person` answers for subject `n`.
fn events_of(w: &World, n: u8) -> Vec<u64> {
    let id = subject("visitor", n)["subject"]
        .as_str()
        .expect("id")
        .to_owned();
    custody::queries::person(w.ledger.store(), &id)
        .expect("reads")
        .iter()
        .map(|e| e["seq"].as_u64().expect("seq"))
        .collect()
}

#[test]
fn a_link_joins_two_ids_and_queries_of_either_follow_it() {
    let w = World::new();
    find_naming(&w, "BB-LINK-1", subject("visitor", 1));
    find_naming(&w, "BB-LINK-2", subject("visitor", 2));
    find_naming(&w, "BB-LINK-3", subject("visitor", 3));
    let (one, two) = (events_of(&w, 1), events_of(&w, 2));
    assert_eq!((one.len(), two.len()), (1, 1), "apart before the link");

    let linked = link(&w, INVESTIGATOR, 1, 2, "the same NIK in the register").expect("linked");
    let both = events_of(&w, 1);
    assert_eq!(both, events_of(&w, 2), "either id answers the same events");
    assert_eq!(
        both,
        [one[0], two[0], linked.seq],
        "both finds and the link, in log order"
    );

    // A third device's id, linked to the second: the first reaches it through the second.
    let third = link(&w, SECURITY, 2, 3, "the same SDP number in the register").expect("linked");
    assert_eq!(events_of(&w, 1).len(), 5, "three finds and two links");
    assert!(events_of(&w, 3).contains(&third.seq));
    assert_eq!(
        events_of(&w, 4),
        Vec::<u64>::new(),
        "an id never named has no events"
    );
}

#[test]
fn a_link_that_cannot_be_true_or_that_a_role_may_not_sign_is_refused() {
    let w = World::new();
    find_naming(&w, "BB-LINK-1", subject("visitor", 1));
    let size = w.size();
    let why = refusal(link(&w, INVESTIGATOR, 1, 1, "same person"));
    assert!(
        why.contains("same_as") && why.contains("two subject ids"),
        "{why}"
    );
    let why = refusal(link(&w, GATE_A, 1, 2, "same person"));
    assert!(why.contains("actor"), "a gate officer may not link: {why}");
    let why = refusal(link(
        &w,
        INVESTIGATOR,
        1,
        2,
        "both had NIK 3174055708900003",
    ));
    assert!(why.contains("/basis") && why.contains("nik"), "{why}");
    assert_eq!(w.size(), size, "nothing recorded");
}
