//! Who may do what with a person's data (the role tables the subject register enforces) and how
//! long it is kept (the operator's versioned retention tables). What a statement may say about
//! people under rules version 4 is found in its JSON by `format::people` and refused by `rules`.
//! Pure: it must never look anything up in the register.

use crate::base::ids::OfficerRole::{self, *};
use crate::base::words::{Message, msg};

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
/// Who may move a whole register into a re-founded ledger: the administrator who attests the
/// re-founding (docs/PRIVACY.md, "Re-founding").
pub const REGISTER_MOVERS: &[OfficerRole] = &[Admin];

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
    /// each within `RETENTION_DAYS_MAX`, each with a source. The refusal is the catalogue's.
    pub fn check(&self, version: u32) -> Result<(), Message> {
        if self.version != version {
            return Err(msg("err.privacy.retention_version")
                .arg("version", self.version)
                .arg("next", version));
        }
        for (i, p) in self.periods.iter().enumerate() {
            if p.days == 0 || p.days > RETENTION_DAYS_MAX {
                return Err(msg("err.privacy.retention_days")
                    .arg("index", i)
                    .arg("days", p.days)
                    .arg("max", RETENTION_DAYS_MAX));
            }
            if p.source.trim().is_empty() {
                return Err(msg("err.privacy.retention_source").arg("index", i));
            }
            if self.periods[..i].iter().any(|q| q.category == p.category) {
                return Err(msg("err.privacy.retention_category")
                    .arg("index", i)
                    .arg("category", p.category.as_str()));
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
#[cfg(test)]
mod tests {
    use super::*;

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
}
