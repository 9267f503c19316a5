//! Who may act where: the write scope of rules version 2 as data (`WRITE_SCOPE`), and the reaches
//! it shares with the read scope of `access` (enrolled at the facility that holds an item, in the
//! unit that holds it, its holder, the receiver its pending release names), defined once here so
//! that what an officer may read and what they may write cannot drift apart. Pure: no I/O, clock
//! or randomness. It never decides signatures or keys (`rules`) nor the custody state machine
//! (`custody`, which asks it); it only says whether an officer's reach covers an item or a
//! facility.

use crate::base::ids::{OfficerId, OfficerRole};
use crate::domain::rules::{ACTING_ROLES, OfficerState, RULES_VERSION_NEWEST};
use crate::format::statement::{Signer, StatementType};

/// The first rules version under which write scope applies.
pub const WRITE_SCOPE_SINCE: u32 = 2;

pub use crate::domain::rules::UNIT_AT_FACILITY_SINCE;

/// Roles that read every facility's records: they judge whole cases and the ledger itself.
pub const READ_ALL_ROLES: [OfficerRole; 2] = [OfficerRole::Prosecutor, OfficerRole::Auditor];

/// An officer as scope sees them: who, their home facility (the facility of their enrollment),
/// their unit and their officer roles.
#[derive(Debug, Clone, Copy)]
pub struct Officer<'a> {
    pub id: &'a OfficerId,
    pub facility: &'a str,
    pub unit: &'a str,
    pub roles: &'a [OfficerRole],
}

impl<'a> Officer<'a> {
    pub fn of(o: &'a OfficerState) -> Self {
        Self {
            id: &o.record.id,
            facility: o.facility.as_str(),
            unit: &o.record.unit,
            roles: &o.record.roles,
        }
    }
}

/// Where an item is, as scope sees it (`custody::ItemState::placement` builds one).
#[derive(Debug, Clone, Copy)]
pub struct Placement<'a> {
    /// The facility that holds it: the facility of the statement that created it.
    pub facility: &'a str,
    /// The unit of its holder.
    pub unit: Option<&'a str>,
    /// The facility its holder is enrolled at (with `unit`, the holder's unit at that facility).
    pub holder_facility: Option<&'a str>,
    pub holder: Option<&'a OfficerId>,
    /// Who its pending release goes to: the officer it names, if any, and the unit.
    pub release_to: Option<(Option<&'a OfficerId>, &'a str)>,
    /// The case it belongs to, once formally seized (a sample inherits its parent's).
    pub case: Option<&'a str>,
}

/// One way an officer may reach an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Enrolled at the facility that holds it.
    Facility,
    /// Enrolled in the unit that holds it, at the holder's facility (from rules version
    /// `UNIT_AT_FACILITY_SINCE`; by unit name alone before).
    Unit,
    /// Its holder.
    Holder,
    /// The officer its pending release names, or an officer of the unit it names.
    Receiver,
    /// Signing beside its holder, who signs the same statement: a hand-over in person (a
    /// Rupbasan custodian taking an item into the store from the officer who brings it) or an
    /// act the custody rules make the holder co-sign anyway (a destruction, a lab result).
    BesideHolder,
    /// Any item of a case (formally seized): the prosecutor's status order.
    Case,
}

impl Reach {
    /// Whether `officer` reaches the item at `place` this way under rules `version`; `signers`
    /// are the statement's (only `BesideHolder` looks at them).
    pub fn reaches(
        self,
        officer: &Officer<'_>,
        place: &Placement<'_>,
        signers: &[Signer],
        version: u32,
    ) -> bool {
        match self {
            Self::Facility => place.facility == officer.facility,
            Self::Unit => {
                place.unit == Some(officer.unit)
                    && (version < UNIT_AT_FACILITY_SINCE
                        || place.holder_facility == Some(officer.facility))
            }
            Self::Holder => place.holder == Some(officer.id),
            Self::Receiver => place
                .release_to
                .is_some_and(|(to, unit)| to == Some(officer.id) || unit == officer.unit),
            Self::BesideHolder => place
                .holder
                .is_some_and(|h| signers.iter().any(|s| &s.officer == h)),
            Self::Case => place.case.is_some(),
        }
    }
}

/// What an officer not in `READ_ALL_ROLES` reads: items their facility holds, items they or their
/// unit hold, items sent to them or their unit. Every one is also a write reach (`ON_ITEMS`), so
/// an officer who may not read an item may act on it only beside its holder.
pub const READ_REACHES: &[Reach] = &[Reach::Facility, Reach::Unit, Reach::Holder, Reach::Receiver];

/// A reach, and the officer roles that may use it.
#[derive(Debug)]
pub struct Grant {
    pub reach: Reach,
    pub roles: &'static [OfficerRole],
}

const fn grant(reach: Reach, roles: &'static [OfficerRole]) -> Grant {
    Grant { reach, roles }
}

/// Where the acting officer of a statement type may act.
#[derive(Debug)]
pub enum Where {
    /// Anywhere in the ledger: the administrator's acts (identity, rules); their `facility` is
    /// the enrolled officer's home, or informative.
    Ledger,
    /// On an existing item only through one of these grants, and at their own facility or the
    /// facility of an item they act on.
    Items(&'static [Grant]),
}

/// One row of the write scope: the statement type and where its acting officer (the first
/// signer role of its row in `rules::TYPE_RULES`) may act.
#[derive(Debug)]
pub struct WriteRule {
    pub kind: StatementType,
    pub reach: Where,
}

/// Every act on an item: the read reaches, and beside the item's holder.
const ON_ITEMS: &[Grant] = &[
    grant(Reach::Facility, ACTING_ROLES),
    grant(Reach::Unit, ACTING_ROLES),
    grant(Reach::Holder, ACTING_ROLES),
    grant(Reach::Receiver, ACTING_ROLES),
    grant(Reach::BesideHolder, ACTING_ROLES),
];

/// A prosecutor's status order: as `ON_ITEMS`, and any item of a case. Prosecutors read every
/// item; the ledger records no prosecutor's jurisdiction, and an order is their office's act on
/// seized goods wherever those are kept. (A destruction needs no such grant: the custody rules
/// make the holder sign it, so its actor always signs beside the holder.)
const ORDERS: &[Grant] = &[
    grant(Reach::Facility, ACTING_ROLES),
    grant(Reach::Unit, ACTING_ROLES),
    grant(Reach::Holder, ACTING_ROLES),
    grant(Reach::Receiver, ACTING_ROLES),
    grant(Reach::BesideHolder, ACTING_ROLES),
    grant(Reach::Case, &[OfficerRole::Prosecutor]),
];

const fn row(kind: StatementType, reach: Where) -> WriteRule {
    WriteRule { kind, reach }
}

use StatementType as T;
use Where::{Items, Ledger};

/// The write scope, per statement type (docs/DOMAIN.md "Write scope"). In force from rules
/// version `WRITE_SCOPE_SINCE`; under version 1 every officer may act anywhere.
#[rustfmt::skip]
pub const WRITE_SCOPE: &[WriteRule] = &[
    row(T::LedgerGenesis, Ledger),
    row(T::OfficerEnrolled, Ledger),
    row(T::OfficerKeyRotated, Ledger),
    row(T::OfficerKeyReplaced, Ledger),
    row(T::OfficerUpdated, Ledger),
    row(T::FacilityRegistered, Ledger),
    row(T::OfficerRevoked, Ledger),
    row(T::RulesAdopted, Ledger),
    row(T::SubjectErased, Ledger),
    row(T::SearchConducted, Items(ON_ITEMS)),
    row(T::ContrabandFound, Items(ON_ITEMS)),
    row(T::ItemSealed, Items(ON_ITEMS)),
    row(T::Weighed, Items(ON_ITEMS)),
    row(T::CustodyReleased, Items(ON_ITEMS)),
    row(T::CustodyReceived, Items(ON_ITEMS)),
    row(T::SeizureRecorded, Items(ON_ITEMS)),
    row(T::SampleSetAside, Items(ON_ITEMS)),
    row(T::SeizureNotified, Items(ON_ITEMS)),
    row(T::LabRequested, Items(ON_ITEMS)),
    row(T::LabReceived, Items(ON_ITEMS)),
    row(T::LabResult, Items(ON_ITEMS)),
    row(T::StatusDetermined, Items(ORDERS)),
    row(T::Stored, Items(ON_ITEMS)),
    row(T::CheckedOut, Items(ON_ITEMS)),
    row(T::Returned, Items(ON_ITEMS)),
    row(T::Destroyed, Items(ON_ITEMS)),
    row(T::InventoryCounted, Items(ON_ITEMS)),
    row(T::NoteAdded, Items(ON_ITEMS)),
    row(T::Correction, Items(ON_ITEMS)),
    row(T::SubjectsLinked, Items(ON_ITEMS)),
];

pub fn write_rule(kind: StatementType) -> &'static WriteRule {
    WRITE_SCOPE
        .iter()
        .find(|r| r.kind == kind)
        .expect("every statement type has a row in WRITE_SCOPE (checked by tests)")
}

/// Whether write scope applies to a statement checked under rules `version`.
pub fn applies(version: u32) -> bool {
    version >= WRITE_SCOPE_SINCE
}

/// Whether an officer with these roles reads every item.
pub fn reads_all(roles: &[OfficerRole]) -> bool {
    roles.iter().any(|r| READ_ALL_ROLES.contains(r))
}

/// May `officer` read the item at `place` (and its history, audit and bundle)? Reads follow the
/// newest rules, whatever rules a ledger's entries were written under.
pub fn may_read(officer: &Officer<'_>, place: &Placement<'_>) -> bool {
    may_read_under(officer, place, RULES_VERSION_NEWEST)
}

/// `may_read` under rules `version`: what write scope compares an act with when it decides
/// whether a refusal may name the item.
pub fn may_read_under(officer: &Officer<'_>, place: &Placement<'_>, version: u32) -> bool {
    reads_all(officer.roles)
        || READ_REACHES
            .iter()
            .any(|r| r.reaches(officer, place, &[], version))
}

/// May `officer`, the acting officer of a `kind` statement signed by `signers`, act on the item
/// at `place` under rules `version`?
pub fn may_act(
    kind: StatementType,
    officer: &Officer<'_>,
    place: &Placement<'_>,
    signers: &[Signer],
    version: u32,
) -> bool {
    match write_rule(kind).reach {
        Where::Ledger => true,
        Where::Items(grants) => grants.iter().any(|g| {
            g.roles.iter().any(|r| officer.roles.contains(r))
                && g.reach.reaches(officer, place, signers, version)
        }),
    }
}

/// May `officer`, the acting officer of a `kind` statement, record it at `facility`, acting on
/// existing items held at `item_facilities` (every one of which they may act on)? Their own
/// facility always; another only when it holds an item they act on.
pub fn may_act_at(
    kind: StatementType,
    officer: &Officer<'_>,
    facility: &str,
    item_facilities: &[&str],
) -> bool {
    match write_rule(kind).reach {
        Where::Ledger => true,
        Where::Items(_) => officer.facility == facility || item_facilities.contains(&facility),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_statement_type_has_a_write_scope_row() {
        for &t in StatementType::ALL {
            assert_eq!(write_rule(t).kind, t);
        }
        assert_eq!(WRITE_SCOPE.len(), StatementType::ALL.len());
    }

    #[test]
    fn write_scope_is_a_version_this_software_writes_and_not_the_first() {
        use crate::domain::rules::{RULES_VERSION_FIRST, RULES_VERSION_NEWEST};
        assert!(!applies(RULES_VERSION_FIRST));
        assert!(applies(RULES_VERSION_NEWEST));
    }

    #[test]
    fn ledger_wide_acts_are_the_administrators() {
        for r in WRITE_SCOPE {
            let admin = crate::domain::rules::type_rule(r.kind).signers[0]
                .officer_roles
                .iter()
                .all(|o| *o == OfficerRole::Admin);
            assert_eq!(matches!(r.reach, Where::Ledger), admin, "{}", r.kind);
        }
    }

    #[test]
    fn every_item_act_grants_at_least_the_read_reaches() {
        for r in WRITE_SCOPE {
            if let Where::Items(grants) = r.reach {
                for reach in READ_REACHES {
                    assert!(
                        grants
                            .iter()
                            .any(|g| g.reach == *reach && g.roles == ACTING_ROLES),
                        "{} lacks {reach:?}",
                        r.kind
                    );
                }
            }
        }
    }

    #[test]
    fn a_unit_reaches_across_facilities_only_under_version_2() {
        let (me, holder) = (
            OfficerId::parse("199203152015031004").expect("valid"),
            OfficerId::parse("198803222010121003").expect("valid"),
        );
        let officer = Officer {
            id: &me,
            facility: "LPN-BANDUNG",
            unit: "P2U",
            roles: &[OfficerRole::GateOfficer],
        };
        let held_in = |facility| Placement {
            facility: "LPN-JAKARTA",
            unit: Some("P2U"),
            holder_facility: Some(facility),
            holder: Some(&holder),
            release_to: None,
            case: None,
        };
        let there = held_in("LPN-JAKARTA");
        assert!(Reach::Unit.reaches(&officer, &there, &[], 2));
        assert!(!Reach::Unit.reaches(&officer, &there, &[], UNIT_AT_FACILITY_SINCE));
        assert!(!may_read(&officer, &there), "reads follow the newest rules");
        assert!(may_read_under(&officer, &there, 2));
        let here = held_in("LPN-BANDUNG");
        assert!(Reach::Unit.reaches(&officer, &here, &[], UNIT_AT_FACILITY_SINCE));
        assert!(may_read(&officer, &here));
    }
}
