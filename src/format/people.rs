//! What a statement's JSON says about people: persons named with identifiers in the clear (refused
//! from rules version 4), free text holding something shaped like a NIK or a passport number,
//! and the subjects it names with their commitments. Found once, while the statement is parsed
//! (`Statement::people`), so that no check parses it again. Pure: it reads JSON; it never decides
//! (the rules do) and never looks anything up in the subject register.

use crate::format::subject::{Commitment, SubjectId, looks_like_identifier};
use serde_json::Value;

/// The person kinds that carry identifiers in the clear: readable in entries recorded before
/// rules version 4, refused from it on.
const CLEAR_PERSON_KINDS: [&str; 3] = ["inmate", "visitor", "foreign_national"];

/// Object keys whose string values are an officer's free text (and so may be checked for
/// identifiers): every field the schemas describe as a note, a place or a description.
const FREE_TEXT_KEYS: [&str; 13] = [
    "text",
    "basis",
    "concealment",
    "location",
    "purpose",
    "description",
    "name",
    "packaging",
    "open_reason",
    "refusal_note",
    "reason",
    "remarks",
    "result",
];

/// Every person a statement (its JSON) names as a subject: their id and the commitment the
/// statement carries, in the order they appear.
pub fn subjects_named(body: &Value) -> Vec<(SubjectId, Commitment)> {
    let mut out = Vec::new();
    collect_subjects(body, &mut out);
    out
}

fn collect_subjects(value: &Value, out: &mut Vec<(SubjectId, Commitment)>) {
    match value {
        Value::Object(map) => {
            if map.get("kind").and_then(Value::as_str) == Some("subject")
                && let (Some(Ok(id)), Some(Ok(c))) = (
                    map.get("subject")
                        .and_then(Value::as_str)
                        .map(str::parse::<SubjectId>),
                    map.get("commitment")
                        .and_then(Value::as_str)
                        .map(str::parse::<Commitment>),
                )
            {
                out.push((id, c));
            }
            map.values().for_each(|v| collect_subjects(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_subjects(v, out)),
        _ => {}
    }
}

/// Every person a statement (its JSON) names with identifiers in the clear (kinds `inmate`,
/// `visitor`, `foreign_national`, recorded under rules versions 1–3), as the objects it holds.
pub fn clear_persons(body: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    collect_clear(body, &mut out);
    out
}

fn collect_clear(value: &Value, out: &mut Vec<Value>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(kind)) = map.get("kind")
                && CLEAR_PERSON_KINDS.contains(&kind.as_str())
                && is_person(map)
            {
                out.push(value.clone());
                return;
            }
            map.values().for_each(|v| collect_clear(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_clear(v, out)),
        _ => {}
    }
}

/// What a statement says about a person that rules version 4 refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The object at `field` names a person of `kind` by identifiers in the clear.
    PersonInClear { field: String, kind: String },
    /// The free text at `field` holds something shaped like a `what` (`nik`, `passport`).
    IdentifierInText { field: String, what: &'static str },
}

/// The first thing in `body` (a statement's JSON) that rules version 4 refuses, if any. The
/// officers' own records (`officer_enrolled`, the genesis) name officers, who are not subjects:
/// their names stay (docs/PRIVACY.md, "Officers").
pub fn first_finding(body: &Value) -> Option<Finding> {
    let mut path = String::new();
    walk(body, &mut path, None)
}

fn walk(value: &Value, path: &mut String, key: Option<&str>) -> Option<Finding> {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(kind)) = map.get("kind")
                && CLEAR_PERSON_KINDS.contains(&kind.as_str())
                && is_person(map)
            {
                return Some(Finding::PersonInClear {
                    field: path.clone(),
                    kind: kind.clone(),
                });
            }
            map.iter().find_map(|(k, v)| descend(v, path, k, Some(k)))
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| descend(v, path, &i.to_string(), key)),
        Value::String(text) if key.is_some_and(|k| FREE_TEXT_KEYS.contains(&k)) => {
            looks_like_identifier(text).map(|what| Finding::IdentifierInText {
                field: path.clone(),
                what,
            })
        }
        _ => None,
    }
}

/// Walks into `value` at `path/segment` (a JSON pointer), then restores `path`.
fn descend(value: &Value, path: &mut String, segment: &str, key: Option<&str>) -> Option<Finding> {
    let len = path.len();
    path.push('/');
    path.push_str(&segment.replace('~', "~0").replace('/', "~1"));
    let found = walk(value, path, key);
    path.truncate(len);
    found
}

/// Replaces every person `clear_persons` finds in `body` with what `with` answers for it (a
/// re-founding answers the subject the register recorded); answers how many were replaced.
pub fn replace_clear_persons(body: &mut Value, with: &mut dyn FnMut(&Value) -> Value) -> usize {
    match body {
        Value::Object(map) => {
            if let Some(Value::String(kind)) = map.get("kind")
                && CLEAR_PERSON_KINDS.contains(&kind.as_str())
                && is_person(map)
            {
                *body = with(body);
                return 1;
            }
            map.values_mut()
                .map(|v| replace_clear_persons(v, with))
                .sum()
        }
        Value::Array(items) => items
            .iter_mut()
            .map(|v| replace_clear_persons(v, with))
            .sum(),
        _ => 0,
    }
}

/// Masks what looks like an identifier in every free-text field of `body` (the fields
/// `first_finding` checks), with `subject::mask_identifiers`; answers how many were masked.
pub fn mask_free_text(body: &mut Value) -> usize {
    mask_walk(body, None)
}

fn mask_walk(value: &mut Value, key: Option<&str>) -> usize {
    match value {
        Value::Object(map) => map
            .iter_mut()
            .map(|(k, v)| mask_walk(v, Some(k.as_str())))
            .sum(),
        Value::Array(items) => items.iter_mut().map(|v| mask_walk(v, key)).sum(),
        Value::String(text) if key.is_some_and(|k| FREE_TEXT_KEYS.contains(&k)) => {
            let (masked, count) = crate::format::subject::mask_identifiers(text);
            *text = masked;
            count
        }
        _ => 0,
    }
}

/// Whether an object with a person's `kind` is a person (it carries a person's identifier), not
/// another object that happens to have a `kind` field (a search's kind is `gate`, `cell`, …).
fn is_person(map: &serde_json::Map<String, Value>) -> bool {
    ["nik", "sdp", "passport", "name"]
        .iter()
        .any(|k| map.contains_key(*k))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_person_in_the_clear_is_found_with_its_place() {
        let body = json!({"type": "contraband_found", "persons": [
            {"kind": "officer", "officer": "198803222010121003"},
            {"kind": "visitor", "nik": "3174055708900003", "name": "Siti Aminah"}]});
        assert_eq!(
            first_finding(&body),
            Some(Finding::PersonInClear {
                field: "/persons/1".into(),
                kind: "visitor".into()
            })
        );
        let subject = json!({"type": "search_conducted", "kind": "gate", "subject": {
            "kind": "subject", "category": "visitor",
            "subject": format!("subj-{}", "ab".repeat(16)), "commitment": "cd".repeat(32)},
            "location": "Pintu utama P2U"});
        assert_eq!(first_finding(&subject), None);
    }

    #[test]
    fn identifiers_in_free_text_are_found_and_ids_elsewhere_are_not() {
        let note =
            json!({"item": "BB-2025-000418", "text": "milik pengunjung NIK 3174055708900003"});
        assert_eq!(
            first_finding(&note),
            Some(Finding::IdentifierInText {
                field: "/text".into(),
                what: "nik"
            })
        );
        let passport = json!({"description": {"name": "bag of A1234567 holder"}});
        assert_eq!(
            first_finding(&passport),
            Some(Finding::IdentifierInText {
                field: "/description/name".into(),
                what: "passport"
            })
        );
        let fine = json!({"item": "BB-2025-000418", "seals": ["SEG-2025-000418"],
            "text": "diserahkan 17 Agustus 2025 pukul 09.10 WIB, 12840 mg",
            "signers": [{"role": "actor", "officer": "198803222010121003"}]});
        assert_eq!(first_finding(&fine), None);
    }

    #[test]
    fn a_rewritten_body_has_nothing_first_finding_refuses() {
        let mut body = json!({"type": "contraband_found", "text": "NIK 3174055708900003",
            "persons": [{"kind": "officer", "officer": "198803222010121003"},
                {"kind": "visitor", "nik": "3174055708900003", "name": "Siti Aminah"}],
            "search": {"kind": "gate", "location": "Pintu utama"}});
        let replaced = replace_clear_persons(&mut body, &mut |p| {
            assert_eq!(p["nik"], "3174055708900003");
            json!({"kind": "unidentified", "description": "x"})
        });
        assert_eq!(replaced, 1);
        assert_eq!(mask_free_text(&mut body), 1);
        assert_eq!(first_finding(&body), None);
        assert_eq!(
            body["search"]["kind"], "gate",
            "a search kind is not a person"
        );
    }
}
