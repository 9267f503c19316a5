//! Investigator queries over the projections: items, one item, its history, holdings, pending
//! transfers, incidents, persons and facility counts. Reads only; never touches the log and never
//! renders text (the CLI does).

use crate::base::ids::{ItemId, OfficerId};
use crate::domain::custody::{ItemState, Status, Transfer};
use crate::domain::projection::{self, Counts, EventView, PersonEvent, PersonView, TimelineEntry};
use crate::storage::store::{LedgerStore, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, StoreError> {
    projection::decode(bytes).map_err(|e| {
        StoreError::corrupt(
            crate::base::words::msg("err.store.projection_undecodable")
                .arg("what", what)
                .arg("reason", e),
        )
    })
}

/// One item's current state.
pub fn item(store: &LedgerStore, id: &ItemId) -> Result<Option<ItemState>, StoreError> {
    store
        .projection_get(&projection::key(
            projection::ITEMS,
            &[id.as_str().as_bytes()],
        ))?
        .map(|b| parse(&b, "item"))
        .transpose()
}

/// Every item, optionally only those with a status and/or at a facility.
pub fn items(
    store: &LedgerStore,
    status: Option<Status>,
    facility: Option<&str>,
) -> Result<Vec<ItemState>, StoreError> {
    let mut out = Vec::new();
    for (_, v) in store.projection_scan(projection::ITEMS)? {
        let s: ItemState = parse(&v, "item")?;
        if status.is_some_and(|st| st != s.status) || facility.is_some_and(|f| f != s.facility) {
            continue;
        }
        out.push(s);
    }
    Ok(out)
}

/// The id of every item, in order, without reading the items.
pub fn item_ids(store: &LedgerStore) -> Result<Vec<ItemId>, StoreError> {
    store
        .projection_keys(projection::ITEMS)?
        .iter()
        .map(|k| {
            std::str::from_utf8(&k[projection::ITEMS.len()..])
                .ok()
                .and_then(|s| ItemId::parse(s).ok())
                .ok_or_else(|| {
                    StoreError::corrupt(crate::base::words::msg("err.store.item_key_malformed"))
                })
        })
        .collect()
}

/// Every event of an item, in log order.
pub fn history(store: &LedgerStore, id: &ItemId) -> Result<Vec<TimelineEntry>, StoreError> {
    let mut prefix = projection::key(projection::TIMELINE, &[id.as_str().as_bytes()]);
    prefix.push(0);
    store
        .projection_scan(&prefix)?
        .iter()
        .map(|(_, v)| parse(v, "timeline entry"))
        .collect()
}

/// The items whose ids end the keys under `prefix`, each read from its own item entry.
fn items_under(store: &LedgerStore, prefix: &[u8]) -> Result<Vec<ItemState>, StoreError> {
    let mut out = Vec::new();
    for (k, _) in store.projection_scan(prefix)? {
        if let Some(id) = projection::trailing_item(&k)
            && let Some(s) = item(store, &id)?
        {
            out.push(s);
        }
    }
    Ok(out)
}

/// The item states the entries under `prefix` carry as their values (holdings and pending
/// entries do): one range scan, no read per item.
fn states_under(
    store: &LedgerStore,
    prefix: &[u8],
    what: &str,
) -> Result<Vec<ItemState>, StoreError> {
    store
        .projection_scan(prefix)?
        .iter()
        .map(|(_, v)| parse(v, what))
        .collect()
}

/// Items an officer holds now.
pub fn holdings_of_officer(
    store: &LedgerStore,
    officer: &OfficerId,
) -> Result<Vec<ItemState>, StoreError> {
    let mut prefix = projection::key(projection::HOLDER, &[officer.as_str().as_bytes()]);
    prefix.push(0);
    states_under(store, &prefix, "holding")
}

/// Items a unit holds now.
pub fn holdings_of_unit(store: &LedgerStore, unit: &str) -> Result<Vec<ItemState>, StoreError> {
    let mut prefix = projection::key(projection::UNIT, &[unit.as_bytes()]);
    prefix.push(0);
    states_under(store, &prefix, "holding")
}

/// A release waiting for its receipt.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    pub item: ItemId,
    pub transfer: Transfer,
}

impl Pending {
    /// The pending transfer of an item in transit (none when it names no transfer).
    pub fn of(item: ItemState) -> Option<Self> {
        let transfer = item.transfer?;
        Some(Self {
            item: item.id,
            transfer,
        })
    }
}

/// Every item in transit, in id order: the states the pending entries carry.
pub fn in_transit(store: &LedgerStore) -> Result<Vec<ItemState>, StoreError> {
    states_under(store, projection::PENDING, "pending transfer")
}

/// Every release waiting for its receipt, in item order.
pub fn pending(store: &LedgerStore) -> Result<Vec<Pending>, StoreError> {
    Ok(in_transit(store)?
        .into_iter()
        .filter_map(Pending::of)
        .collect())
}

/// An incident: its searches and finds, the items born in it, the persons named.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Incident {
    pub incident: String,
    pub events: Vec<Value>,
    pub items: Vec<ItemState>,
    pub persons: Vec<Value>,
}

pub fn incident(store: &LedgerStore, id: &str) -> Result<Incident, StoreError> {
    let mut p = projection::key(projection::INCIDENT_EVENTS, &[id.as_bytes()]);
    p.push(0);
    let events = store
        .projection_scan(&p)?
        .iter()
        .map(|(_, v)| parse::<EventView>(v, "incident event").map(|e| e.to_json()))
        .collect::<Result<_, _>>()?;
    let mut p = projection::key(projection::INCIDENT_ITEMS, &[id.as_bytes()]);
    p.push(0);
    let items = items_under(store, &p)?;
    let mut p = projection::key(projection::INCIDENT_PERSONS, &[id.as_bytes()]);
    p.push(0);
    let persons = store
        .projection_scan(&p)?
        .iter()
        .map(|(_, v)| parse::<PersonView>(v, "incident person").map(|p| p.to_json()))
        .collect::<Result<_, _>>()?;
    Ok(Incident {
        incident: id.to_owned(),
        events,
        items,
        persons,
    })
}

/// Every event involving a person: a subject id (with every subject id linked to it as the same
/// person, `subjects_linked`), an officer's NIP/NRP, or before rules version 4 `SDP:…`, `NIK:…`,
/// `PASSPORT:<nat>:…`. In log order, each event once.
pub fn person(store: &LedgerStore, key: &str) -> Result<Vec<Value>, StoreError> {
    let mut events: std::collections::BTreeMap<u64, Value> = std::collections::BTreeMap::new();
    for id in linked(store, key)? {
        let mut p = projection::key(projection::PERSONS, &[id.as_bytes()]);
        p.push(0);
        for (_, v) in store.projection_scan(&p)? {
            let e = parse::<PersonEvent>(&v, "person event")?;
            events.entry(e.event.seq).or_insert_with(|| e.to_json());
        }
    }
    Ok(events.into_values().collect())
}

/// `key` and every subject id linked to it, directly or through others (a link names two ids;
/// a person recorded on three devices takes two links).
pub fn linked(store: &LedgerStore, key: &str) -> Result<Vec<String>, StoreError> {
    let mut found = vec![key.to_owned()];
    let mut next = 0;
    while let Some(id) = found.get(next).cloned() {
        next += 1;
        let mut p = projection::key(projection::LINKS, &[id.as_bytes()]);
        p.push(0);
        for other in store.projection_keys(&p)? {
            let other = String::from_utf8_lossy(&other[p.len()..]).into_owned();
            if !found.contains(&other) {
                found.push(other);
            }
        }
    }
    Ok(found)
}

/// When the last act naming the person `key` (or an id linked to it) occurred, Unix ms.
pub fn last_act_ms(store: &LedgerStore, key: &str) -> Result<Option<i64>, StoreError> {
    Ok(person(store, key)?
        .iter()
        .filter_map(|e| e["occurred_at"].as_str())
        .filter_map(|t| crate::base::time::Timestamp::parse(t).ok())
        .map(|t| t.unix_ms())
        .max())
}

/// Per-facility counts: events, items, and items by status.
pub fn facilities(store: &LedgerStore) -> Result<Vec<(String, Value)>, StoreError> {
    store
        .projection_scan(projection::FACILITY)?
        .into_iter()
        .map(|(k, v)| {
            Ok((
                String::from_utf8_lossy(&k[projection::FACILITY.len()..]).into_owned(),
                Value::from_iter(parse::<Counts>(&v, "facility counts")?),
            ))
        })
        .collect()
}
