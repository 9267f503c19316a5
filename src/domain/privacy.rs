//! What a statement may say about people under rules version 4 and later: a person who is not an
//! officer is a subject (a pseudonym and a commitment, the personal data in the subject register),
//! never their identifiers in the clear; and free text holds nothing shaped like a NIK or a
//! passport number, so identities do not leak into notes. Pure: it reads the statement's JSON and
//! decides; it must never look anything up in the register (the log stays checkable without it).

use crate::base::ids::OfficerRole::{self, *};
use crate::format::subject::{Commitment, SubjectId, looks_like_identifier};
use serde_json::Value;

/// Who may record a person in the subject register (and so put their subject id in a
/// statement): the roles that search people and seize from them.
pub const SUBJECT_RECORDERS: &[OfficerRole] = &[GateOfficer, SecurityOfficer, Investigator, Admin];
/// Who may find a person's subject id by their NIK, passport or SDP number: those who record
/// people (a returning visitor is the same subject), and those who read personal data.
pub const SUBJECT_FINDERS: &[OfficerRole] = &[
    GateOfficer,
    SecurityOfficer,
    Investigator,
    Prosecutor,
    Admin,
];
/// Who may read a person's data (name, numbers, birth date): the investigator who builds the case
/// file, the prosecutor who charges, and the prison's security unit that searched them. Lab staff,
/// custodians and auditors work on items and never need to know whose they were.
pub const PERSONAL_DATA_READERS: &[OfficerRole] = &[SecurityOfficer, Investigator, Prosecutor];
/// Who may erase a person's data: the administrator, accountable for retention.
pub const SUBJECT_ERASERS: &[OfficerRole] = &[Admin];

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

/// How long the register keeps a person's data after the last act that names them, per kind of
/// person: data the operator supplies (there is no period in the law custody could assume), each
/// period with its legal source, versioned — a new table never rewrites an older one, so every
/// erasure can be judged against the table that was in force.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionTable {
    /// 1 for the first table, one more for each after it.
    pub version: u32,
    pub periods: Vec<RetentionPeriod>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionPeriod {
    pub category: crate::format::subject::SubjectKind,
    /// Days after the last act naming the person.
    pub days: u32,
    /// The rule that sets it (an article, a regulation, an internal decree).
    pub source: String,
}

/// A retention table's longest period, in days: 100 years; anything longer is a typo.
pub const RETENTION_DAYS_MAX: u32 = 36_500;

impl RetentionTable {
    /// Checks a table an operator supplies as version `version`: one period per kind at most,
    /// each within `RETENTION_DAYS_MAX`, each with a source.
    pub fn check(&self, version: u32) -> Result<(), String> {
        if self.version != version {
            return Err(format!(
                "field version is {}, but the next table is version {version}",
                self.version
            ));
        }
        for (i, p) in self.periods.iter().enumerate() {
            if p.days == 0 || p.days > RETENTION_DAYS_MAX {
                return Err(format!(
                    "field periods/{i}/days is {}: 1 to {RETENTION_DAYS_MAX} days",
                    p.days
                ));
            }
            if p.source.trim().is_empty() {
                return Err(format!(
                    "field periods/{i}/source is empty: name the rule that sets the period"
                ));
            }
            if self.periods[..i].iter().any(|q| q.category == p.category) {
                return Err(format!(
                    "field periods/{i}/category repeats {}",
                    p.category.as_str()
                ));
            }
        }
        Ok(())
    }

    /// When a person of `category` whose last act was at `last` (Unix ms) is due for erasure
    /// (Unix ms), if the table has a period for them.
    pub fn due(
        &self,
        category: crate::format::subject::SubjectKind,
        last_ms: i64,
    ) -> Option<(i64, &RetentionPeriod)> {
        let p = self.periods.iter().find(|p| p.category == category)?;
        Some((last_ms + i64::from(p.days) * 86_400_000, p))
    }
}

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
    fn a_retention_table_is_checked_and_counts_days_from_the_last_act() {
        use crate::format::subject::SubjectKind;
        let period = |category, days| RetentionPeriod {
            category,
            days,
            source: "Keputusan (test)".into(),
        };
        let table = RetentionTable {
            version: 1,
            periods: vec![period(SubjectKind::Visitor, 30)],
        };
        assert_eq!(table.check(1), Ok(()));
        assert!(
            table.check(2).is_err(),
            "the next table has the next version"
        );
        let day_ms = 86_400_000;
        assert_eq!(
            table.due(SubjectKind::Visitor, 5).map(|(at, _)| at),
            Some(5 + 30 * day_ms)
        );
        assert_eq!(
            table.due(SubjectKind::Inmate, 5),
            None,
            "no period: never due"
        );
        for bad in [
            vec![period(SubjectKind::Visitor, 0)],
            vec![period(SubjectKind::Visitor, RETENTION_DAYS_MAX + 1)],
            vec![
                period(SubjectKind::Visitor, 3),
                period(SubjectKind::Visitor, 4),
            ],
            vec![RetentionPeriod {
                source: " ".into(),
                ..period(SubjectKind::Inmate, 3)
            }],
        ] {
            let t = RetentionTable {
                version: 1,
                periods: bad,
            };
            assert!(t.check(1).is_err(), "{t:?}");
        }
    }

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
}
