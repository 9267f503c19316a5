//! Officers as people read them: the one label an officer is shown by everywhere a human reads
//! (`Rudi Hartono (NRP 85071234)`, `Dewi Lestari (NIP 198803222010121003)`, the bare id when the
//! officer is not known), the names of a set of officers taken from the one roster a command
//! reads (`Reads::officers`) or from the identity statements a bundle carries, and the display
//! fields (`holder_name`, `from_officer_name`, `to_officer_name`) added beside the ids in the JSON
//! of the item views. Never a second source of names, never replaces or removes an id.

use crate::domain::rules;
use serde_json::Value;
use std::collections::BTreeMap;

/// The keys of the item views that hold an officer id; each gets `<key>_name` beside it.
pub const OFFICER_KEYS: [&str; 3] = ["holder", "from_officer", "to_officer"];

/// An officer as a person reads them: `Name (NIP id)` for an 18-digit NIP, `Name (NRP id)` for
/// an 8-digit NRP, the bare id when there is no name.
pub fn officer_label(id: &str, name: Option<&str>) -> String {
    let kind = match id.len() {
        8 => "NRP",
        18 => "NIP",
        _ => "id",
    };
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => format!("{n} ({kind} {id})"),
        None => id.to_owned(),
    }
}

/// The names of the officers one answer may name, by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names(BTreeMap<String, String>);

impl Names {
    /// The names of a roster, as `(id, name)` pairs (`app::reads::roster_names` gives those of
    /// `Reads::officers`, as the asker may see it).
    pub fn of<'a>(roster: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self(
            roster
                .into_iter()
                .map(|(id, name)| (id.to_owned(), name.to_owned()))
                .collect(),
        )
    }

    /// The names of every officer an identity state enrolls (a bundle's, replayed offline).
    pub fn of_state(state: &rules::State) -> Self {
        Self(
            state
                .officers()
                .map(|o| (o.record.id.to_string(), o.record.name.clone()))
                .collect(),
        )
    }

    /// Names already gathered, by id (a bundle report's `officers`).
    pub fn from_map(map: BTreeMap<String, String>) -> Self {
        Self(map)
    }

    pub fn name(&self, id: &str) -> Option<&str> {
        self.0.get(id).map(String::as_str)
    }

    /// The officer's label ([`officer_label`]), the bare id when unknown.
    pub fn label(&self, id: &str) -> String {
        officer_label(id, self.name(id))
    }

    /// The label of an optional officer, `none` when there is none.
    pub fn label_or(&self, id: Option<&str>, none: &str) -> String {
        id.map_or_else(|| none.to_owned(), |id| self.label(id))
    }

    /// Every name, by id (a bundle report's `officers`).
    pub fn into_map(self) -> BTreeMap<String, String> {
        self.0
    }

    /// Adds `<key>_name` beside every [`OFFICER_KEYS`] key of every object in `value`: the name
    /// of the officer it names, or null (no officer, or one not known here). Nothing else changes.
    pub fn annotate(&self, value: &mut Value) {
        match value {
            Value::Array(list) => list.iter_mut().for_each(|v| self.annotate(v)),
            Value::Object(map) => {
                for v in map.values_mut() {
                    self.annotate(v);
                }
                for key in OFFICER_KEYS {
                    let Some(id) = map.get(key) else { continue };
                    let name = id
                        .as_str()
                        .and_then(|id| self.name(id))
                        .map_or(Value::Null, Value::from);
                    map.entry(format!("{key}_name")).or_insert(name);
                }
            }
            _ => {}
        }
    }

    /// `value`'s JSON with the display names added ([`Names::annotate`]).
    pub fn json<T: serde::Serialize>(&self, value: &T) -> Value {
        let mut json = serde_json::to_value(value).expect("every answer serializes to JSON");
        self.annotate(&mut json);
        json
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_say_nip_or_nrp_and_fall_back_to_the_id() {
        assert_eq!(
            officer_label("85071234", Some("Rudi Hartono")),
            "Rudi Hartono (NRP 85071234)"
        );
        assert_eq!(
            officer_label("198803222010121003", Some("Dewi Lestari")),
            "Dewi Lestari (NIP 198803222010121003)"
        );
        assert_eq!(officer_label("85071234", None), "85071234");
        assert_eq!(officer_label("85071234", Some(" ")), "85071234");
    }

    #[test]
    fn annotate_adds_names_beside_ids_and_keeps_them() {
        let names = Names(BTreeMap::from([("85071234".into(), "Rudi Hartono".into())]));
        let mut v = serde_json::json!([{"holder": "85071234", "transfer": {"from_officer": "85071234", "to_officer": null}},
            {"holder": "12345678"}]);
        names.annotate(&mut v);
        assert_eq!(v[0]["holder"], "85071234");
        assert_eq!(v[0]["holder_name"], "Rudi Hartono");
        assert_eq!(v[0]["transfer"]["from_officer_name"], "Rudi Hartono");
        assert_eq!(v[0]["transfer"]["to_officer_name"], Value::Null);
        assert_eq!(v[1]["holder_name"], Value::Null);
    }
}
