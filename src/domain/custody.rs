//! The custody state machine for items: births, holders, transfers, seals, masses, lab results,
//! prosecutors' orders and terminal states. Pure: no I/O, clock or randomness. `check` decides
//! whether a statement may act on the items it names (given a view of their current states);
//! `apply` folds an admitted statement into new item states and cannot fail. The same code runs
//! on append, on rebuild and in `verify`.

use crate::base::ids::{ItemId, OfficerId, SignerRole};
use crate::base::time::Timestamp;
use crate::base::words::msg;
use crate::domain::rules::{self, RuleError};
use crate::domain::scope::{self, Placement};
use crate::format::merkle::Hash;
use crate::format::statement::{
    Body, ContrabandFound, Correction, CustodyReleased, ItemSealed, LabResult, Returned,
    SampleSetAside, SeizureRecorded, Statement, StatementType, StatusDetermined, Weighed,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Where an item stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// In someone's accountable custody (*dalam penguasaan*).
    Held,
    /// Released by one holder and not yet received by the next (*dalam perjalanan*).
    InTransit,
    /// Destroyed before witnesses (*dimusnahkan*). Terminal.
    Destroyed,
    /// Returned to its owner (*dikembalikan*). Terminal.
    Returned,
    /// Forfeited to the state (*dirampas untuk negara*). Terminal.
    Forfeited,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Self::Held,
        Self::InTransit,
        Self::Destroyed,
        Self::Returned,
        Self::Forfeited,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Held => "held",
            Self::InTransit => "in_transit",
            Self::Destroyed => "destroyed",
            Self::Returned => "returned",
            Self::Forfeited => "forfeited",
        }
    }

    pub fn indonesian(self) -> &'static str {
        match self {
            Self::Held => "dalam penguasaan",
            Self::InTransit => "dalam perjalanan",
            Self::Destroyed => "dimusnahkan",
            Self::Returned => "dikembalikan",
            Self::Forfeited => "dirampas untuk negara",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Destroyed | Self::Returned | Self::Forfeited)
    }
}

/// A release waiting for its receipt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    pub release_seq: u64,
    pub released_at: Timestamp,
    /// When the release happened, as its officers declare it (`occurred_at`): the start of the
    /// transit the audit (class 2) and rules version 5 judge.
    pub release_occurred_at: Timestamp,
    pub from_officer: OfficerId,
    pub from_unit: Option<String>,
    pub to_officer: Option<OfficerId>,
    pub to_unit: String,
    pub purpose: String,
}

/// A prosecutor's order on the item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub seq: u64,
    pub order_number: String,
    pub status: String,
    pub retained_mass_mg: Option<u64>,
}

/// The lab's finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabFinding {
    pub seq: u64,
    pub report_number: String,
    pub result: String,
    pub substance: String,
    pub narcotic_class: Option<String>,
    pub consumed_mass_mg: u64,
}

/// The mass a later weighing under the same intact seals is compared with: the latest weighing, a
/// lab result's residue, or a parent's mass less a sample set aside from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MassReference {
    /// The statement that set it; a sealing after it starts a new seal set.
    pub seq: u64,
    pub net_mass_mg: u64,
    /// The readability d of the balance behind it (1 mg for a lab result).
    pub readability_mg: u64,
}

/// Everything known about an item after the events so far.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemState {
    pub id: ItemId,
    pub born_seq: u64,
    /// When the act that created the item happened (its `occurred_at`).
    pub born_at: Timestamp,
    pub born_as: String,
    pub facility: String,
    pub incident: Option<String>,
    pub case: Option<String>,
    pub parent: Option<ItemId>,
    pub children: Vec<ItemId>,
    pub category: Option<String>,
    pub description: Option<String>,
    pub status: Status,
    pub holder: Option<OfficerId>,
    pub unit: Option<String>,
    pub location: Option<String>,
    pub seals: Vec<String>,
    pub sealed_seq: Option<u64>,
    pub count: Option<u64>,
    pub gross_mass_mg: Option<u64>,
    pub net_mass_mg: Option<u64>,
    pub weighed_seq: Option<u64>,
    pub mass_reference: Option<MassReference>,
    pub transfer: Option<Transfer>,
    pub order: Option<Order>,
    pub lab: Option<LabFinding>,
    pub notified_seq: Option<u64>,
    pub destroyed_mass_mg: Option<u64>,
    pub persons: Vec<String>,
    pub corrections: Vec<u64>,
    pub events: u64,
    pub last_seq: u64,
    /// Base64 leaf hash of the item's latest event: what the next statement's `after` must name.
    pub head: String,
}

impl ItemState {
    /// Where the item is, as the read and write scopes see it; `identity` says where its holder
    /// is enrolled.
    pub fn placement<'a>(&'a self, identity: &'a rules::State) -> Placement<'a> {
        Placement {
            facility: &self.facility,
            unit: self.unit.as_deref(),
            holder_facility: self
                .holder
                .as_ref()
                .and_then(|h| identity.officer(h))
                .map(|o| o.facility.as_str()),
            holder: self.holder.as_ref(),
            release_to: self
                .transfer
                .as_ref()
                .map(|t| (t.to_officer.as_ref(), t.to_unit.as_str())),
            case: self.case.as_deref(),
        }
    }
}

/// A change to one item made by one statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemChange {
    pub before: Option<ItemState>,
    pub after: ItemState,
}

/// Read access to current item states (the projection store, plus what this batch changed).
pub trait ItemView {
    fn item(&self, id: &ItemId) -> Option<ItemState>;
    /// The item a seal number was first applied to, and the seq that applied it.
    fn seal(&self, seal: &str) -> Option<(ItemId, u64)>;
}

/// An `ItemView` from two look-ups: items by id, and seal numbers to their first item.
pub struct View<I, S> {
    pub items: I,
    pub seals: S,
}

impl<I, S> ItemView for View<I, S>
where
    I: Fn(&ItemId) -> Option<ItemState>,
    S: Fn(&str) -> Option<(ItemId, u64)>,
{
    fn item(&self, id: &ItemId) -> Option<ItemState> {
        (self.items)(id)
    }
    fn seal(&self, seal: &str) -> Option<(ItemId, u64)> {
        (self.seals)(seal)
    }
}

/// A view with no items and no seals: for replaying identity statements alone.
pub struct NoItems;

impl ItemView for NoItems {
    fn item(&self, _: &ItemId) -> Option<ItemState> {
        None
    }
    fn seal(&self, _: &str) -> Option<(ItemId, u64)> {
        None
    }
}

/// The seal numbers a statement applies, each with the item it goes on and the field naming it.
pub fn seals_applied(statement: &Statement) -> Vec<(ItemId, &'static str, String)> {
    let on = |item: &ItemId, field: &'static str, seals: &[String]| {
        seals
            .iter()
            .map(|x| (item.clone(), field, x.clone()))
            .collect::<Vec<_>>()
    };
    match &statement.body {
        Body::ItemSealed(b) => on(&b.item, "/seals_applied", &b.seals_applied),
        Body::SampleSetAside(b) => {
            let mut v = on(&b.item, "/parent_seals", &b.parent_seals);
            v.extend(on(&b.sample, "/sample_seals", &b.sample_seals));
            v
        }
        Body::LabResult(b) => on(&b.item, "/residue_seals", &b.residue_seals),
        _ => Vec::new(),
    }
}

/// The custody rules over `ItemView`, as `rules::check` takes them.
struct Items<'a>(&'a dyn ItemView);

impl rules::ItemRules for Items<'_> {
    fn check_items(&self, state: &rules::State, statement: &Statement) -> Result<(), RuleError> {
        check(state, self.0, statement)
    }
}

/// Decides whether `statement` (carried by `envelope`) may be the next leaf after `state`, with
/// the items it touches as `items` shows them: every identity, signature and body rule
/// (`rules::check`), then the custody rules (`check`). The one way to an `Admitted`.
pub fn admit(
    state: &rules::State,
    items: &dyn ItemView,
    envelope: crate::format::envelope::Envelope,
    statement: Statement,
    pre: Option<&rules::PreVerified>,
    recorded_at: Timestamp,
) -> Result<rules::Admitted, RuleError> {
    rules::check(state, &Items(items), envelope, statement, pre, recorded_at)
}

fn b64(h: &Hash) -> String {
    B64.encode(h)
}

fn same_seals(a: &[String], b: &[String]) -> bool {
    a.iter().collect::<BTreeSet<_>>() == b.iter().collect::<BTreeSet<_>>()
}

/// Decides whether `statement` may act on the items it names, given their states.
pub fn check(
    identity: &rules::State,
    items: &dyn ItemView,
    statement: &Statement,
) -> Result<(), RuleError> {
    let actors = acting_officers(identity, statement);
    let current = current_states(identity, items, statement, &actors)?;
    check_facility(statement, &actors, &current)?;
    check_open(statement, &current)?;
    check_body(identity, statement, &current)?;
    if identity.rules_version() >= rules::IMPOSSIBLE_FACTS_REFUSED_SINCE {
        check_facts(identity, items, statement, &current)?;
    }
    Ok(())
}

/// The officers write scope judges: those in the statement's acting signer role, when the rules
/// in force have write scope and the act is not ledger-wide (an administrator's). Empty otherwise.
fn acting_officers<'a>(
    identity: &'a rules::State,
    statement: &Statement,
) -> Vec<(SignerRole, scope::Officer<'a>)> {
    let ledger_wide = matches!(
        scope::write_rule(statement.kind).reach,
        scope::Where::Ledger
    );
    if !scope::applies(identity.rules_version()) || ledger_wide {
        return Vec::new();
    }
    let role = rules::acting_role(statement.kind);
    statement
        .signers
        .iter()
        .filter(|s| s.role == role)
        .filter_map(|s| identity.officer(&s.officer))
        .map(|o| (role, scope::Officer::of(o)))
        .collect()
}

/// Decides whether the acting officers may act on the existing item `s`, which the statement
/// names with `seen` in `after`. An officer who may not even read the item is refused exactly as
/// if it did not exist — before anything else about it (its head, its seq) is compared — so that
/// a refusal reveals nothing about an item the officer may not see; creating an item under its
/// label is refused without its seq.
fn check_reach(
    identity: &rules::State,
    statement: &Statement,
    actors: &[(SignerRole, scope::Officer<'_>)],
    s: &ItemState,
    seen: Option<&Hash>,
    can_create: bool,
) -> Result<(), RuleError> {
    let place = s.placement(identity);
    let version = identity.rules_version();
    for (role, officer) in actors {
        let reads = scope::may_read_under(officer, &place, version);
        let acts = seen.is_some()
            && scope::may_act(statement.kind, officer, &place, &statement.signers, version);
        match (reads, acts) {
            (_, true) => {}
            // Named as new: refused below as an existing item, with its seq, which they may see.
            (true, false) if seen.is_none() => {}
            (true, false) => {
                return Err(RuleError::OutOfScope {
                    item: s.id.clone(),
                    officer: officer.id.clone(),
                    role: role.as_str(),
                });
            }
            (false, false) if seen.is_none() && can_create => {
                return Err(RuleError::LabelTaken { item: s.id.clone() });
            }
            (false, false) => {
                return Err(RuleError::UnknownItem {
                    item: s.id.to_string(),
                });
            }
        }
    }
    Ok(())
}

/// Decides whether the statement's `facility` is one its acting officers may act at: their own,
/// or one that holds an item the statement acts on (each of which they may act on, or
/// `check_reach` would have refused it).
fn check_facility(
    statement: &Statement,
    actors: &[(SignerRole, scope::Officer<'_>)],
    current: &[Option<ItemState>],
) -> Result<(), RuleError> {
    let held_at: Vec<&str> = current
        .iter()
        .flatten()
        .map(|s| s.facility.as_str())
        .collect();
    for (role, officer) in actors {
        if !scope::may_act_at(
            statement.kind,
            officer,
            statement.facility.as_str(),
            &held_at,
        ) {
            return Err(RuleError::FacilityOutOfScope {
                facility: statement.facility.clone(),
                officer: officer.id.clone(),
                role: role.as_str(),
                home: officer.facility.to_owned(),
            });
        }
    }
    Ok(())
}

/// Decides whether `after` names exactly the touched items, each as the view shows it (its
/// current head, or none for an item the statement creates) and within the acting officers'
/// reach (`check_reach`); returns the touched items' states in the order of `Body::items`
/// (None: created by this statement).
fn current_states(
    identity: &rules::State,
    items: &dyn ItemView,
    statement: &Statement,
    actors: &[(SignerRole, scope::Officer<'_>)],
) -> Result<Vec<Option<ItemState>>, RuleError> {
    let touched = statement.body.items();
    // `after` names exactly the touched items.
    for item in statement.after.keys() {
        if !touched.iter().any(|(t, _)| t == item) {
            return Err(RuleError::AfterExtra { item: item.clone() });
        }
    }
    let mut current = Vec::with_capacity(touched.len());
    for (item, creates) in &touched {
        let Some(seen) = statement.after.get(item) else {
            return Err(RuleError::AfterMissing { item: item.clone() });
        };
        let state = items.item(item);
        if let Some(s) = &state {
            let can_create = *creates || statement.kind == StatementType::SeizureRecorded;
            check_reach(identity, statement, actors, s, seen.as_ref(), can_create)?;
        }
        match (state, seen) {
            (None, None) => {
                let can_create = *creates || statement.kind == StatementType::SeizureRecorded;
                if !can_create {
                    return Err(RuleError::UnknownItem {
                        item: item.to_string(),
                    });
                }
                current.push(None);
            }
            (None, Some(_)) => {
                return Err(RuleError::UnknownItem {
                    item: item.to_string(),
                });
            }
            (Some(s), None) => {
                return Err(RuleError::ItemExists {
                    item: item.clone(),
                    seq: s.born_seq,
                });
            }
            (Some(s), Some(hash)) => {
                if b64(hash) != s.head {
                    return Err(RuleError::StaleView {
                        item: item.clone(),
                        head: s.head.clone(),
                        seq: s.last_seq,
                    });
                }
                current.push(Some(s));
            }
        }
    }
    Ok(current)
}

/// Decides whether the existing items are open to this statement: a closed item takes only
/// annotations, an item in transit only its receipt (or annotations).
fn check_open(statement: &Statement, current: &[Option<ItemState>]) -> Result<(), RuleError> {
    for state in current.iter().flatten() {
        let annotations = matches!(
            statement.kind,
            StatementType::NoteAdded | StatementType::Correction
        );
        if state.status.is_terminal() && !annotations {
            return Err(RuleError::ItemClosed {
                item: state.id.clone(),
                status: state.status.as_str(),
                seq: state.last_seq,
            });
        }
        let receipt = matches!(
            statement.kind,
            StatementType::CustodyReceived | StatementType::LabReceived
        );
        if state.status == Status::InTransit && !receipt && !annotations {
            let t = state
                .transfer
                .as_ref()
                .expect("an item in transit has a transfer");
            return Err(RuleError::InTransit {
                item: state.id.clone(),
                seq: t.release_seq,
                to: t
                    .to_officer
                    .as_ref()
                    .map_or_else(|| t.to_unit.clone(), |o| o.to_string()),
            });
        }
    }
    Ok(())
}

/// Decides the rules of the statement's own type, on the first item it names (`current[0]`).
fn check_body(
    identity: &rules::State,
    statement: &Statement,
    current: &[Option<ItemState>],
) -> Result<(), RuleError> {
    let existing = current.first().and_then(|s| s.as_ref());
    let s = || existing.expect("checked above");
    match &statement.body {
        Body::ItemSealed(b) => check_sealed(statement, s(), b),
        Body::Weighed(_) | Body::LabResult(_) => holder_signs(statement, s()),
        Body::Destroyed(_) => check_destroyed(statement, s()),
        Body::CustodyReleased(b) => check_released(identity, statement, s(), b),
        Body::CustodyReceived(b) => {
            check_received(identity, statement, s(), &b.seals, b.seals_intact)
        }
        Body::LabReceived(b) => check_received(identity, statement, s(), &b.seals, b.seals_intact),
        Body::SeizureRecorded(_) => existing.map_or(Ok(()), |s| holder_signs(statement, s)),
        Body::SampleSetAside(b) => check_sample(identity, statement, s(), b),
        Body::Stored(_) => {
            let s = s();
            must_hold(
                s,
                signer(statement, SignerRole::Deliverer)
                    .expect("the signer table requires a deliverer"),
            )
        }
        Body::CheckedOut(_) => {
            let s = s();
            must_hold(
                s,
                signer(statement, SignerRole::Custodian)
                    .expect("the signer table requires a custodian"),
            )
        }
        Body::Returned(b) => check_returned(statement, s(), b),
        Body::NoteAdded { refers_to, .. } => match refers_to {
            Some(r) => refers_to_past(identity, *r),
            None => Ok(()),
        },
        Body::Correction(c) => check_correction(identity, existing, c),
        Body::ContrabandFound(_)
        | Body::SearchConducted(_)
        | Body::SeizureNotified(_)
        | Body::LabRequested(_)
        | Body::StatusDetermined(_)
        | Body::InventoryCounted(_) => Ok(()),
        Body::SubjectsLinked(b) if b.subject == b.same_as => Err(RuleError::LinkToItself {
            subject: b.subject.to_string(),
        }),
        Body::SubjectsLinked(_) | Body::SubjectErased(_) => Ok(()),
        Body::LedgerGenesis { .. }
        | Body::OfficerEnrolled { .. }
        | Body::OfficerKeyRotated { .. }
        | Body::OfficerKeyReplaced { .. }
        | Body::OfficerUpdated(_)
        | Body::FacilityRegistered(_)
        | Body::OfficerRevoked { .. }
        | Body::RulesAdopted { .. } => Ok(()),
    }
}

/// The officer who signs in `role`, if any.
fn signer(statement: &Statement, role: SignerRole) -> Option<&OfficerId> {
    statement
        .signers
        .iter()
        .find(|s| s.role == role)
        .map(|s| &s.officer)
}

/// Decides whether the item's holder is among the signers.
fn holder_signs(statement: &Statement, state: &ItemState) -> Result<(), RuleError> {
    let holder = state.holder.as_ref().expect("a held item has a holder");
    if statement.signers.iter().any(|s| &s.officer == holder) {
        Ok(())
    } else {
        Err(RuleError::HolderMustSign {
            item: state.id.clone(),
            holder: holder.clone(),
            seq: state.last_seq,
        })
    }
}

/// Decides whether `officer` holds the item: a hand-over (release, storage, loan, return) must
/// come from the current holder.
fn must_hold(state: &ItemState, officer: &OfficerId) -> Result<(), RuleError> {
    if state.holder.as_ref() == Some(officer) {
        Ok(())
    } else {
        Err(RuleError::NotHolder {
            item: state.id.clone(),
            officer: officer.clone(),
            holder: state.holder.clone(),
            seq: state.last_seq,
        })
    }
}

/// Decides whether seals declared intact are the item's seals.
fn seals_match(state: &ItemState, seals: &[String], intact: bool) -> Result<(), RuleError> {
    if intact && !same_seals(&state.seals, seals) {
        return Err(RuleError::SealMismatch {
            item: state.id.clone(),
            expected: state.seals.join(", "),
            got: seals.join(", "),
            seq: state.sealed_seq.unwrap_or(state.born_seq),
        });
    }
    Ok(())
}

/// Decides a sealing: the holder signs, and only seals on the item are removed.
fn check_sealed(statement: &Statement, s: &ItemState, b: &ItemSealed) -> Result<(), RuleError> {
    holder_signs(statement, s)?;
    for seal in &b.seals_removed {
        if !s.seals.contains(seal) {
            return Err(RuleError::SealNotOnItem {
                item: s.id.clone(),
                seal: seal.clone(),
                seals: s.seals.join(", "),
            });
        }
    }
    Ok(())
}

/// Decides a destruction: the holder signs, under a prosecutor's order to destroy.
fn check_destroyed(statement: &Statement, s: &ItemState) -> Result<(), RuleError> {
    holder_signs(statement, s)?;
    if s.order.as_ref().is_none_or(|o| o.status != "destroy") {
        return Err(RuleError::NoDestructionOrder { item: s.id.clone() });
    }
    Ok(())
}

/// Decides a release: the giver holds the item, seals declared intact match, and a named
/// receiver is enrolled and unrevoked.
fn check_released(
    identity: &rules::State,
    statement: &Statement,
    s: &ItemState,
    b: &CustodyReleased,
) -> Result<(), RuleError> {
    let giver = signer(statement, SignerRole::Giver).expect("the signer table requires a giver");
    must_hold(s, giver)?;
    seals_match(s, &b.seals, b.seals_intact)?;
    if let Some(to) = &b.to_officer
        && identity.officer(to).is_none_or(|o| o.revoked_at.is_some())
    {
        return Err(RuleError::NotEnrolled {
            officer: to.clone(),
        });
    }
    Ok(())
}

/// Decides a receipt (by an officer or the lab): the item is in transit, the receiver is the
/// named officer or of the named unit, and seals declared intact match.
fn check_received(
    identity: &rules::State,
    statement: &Statement,
    s: &ItemState,
    seals: &[String],
    intact: bool,
) -> Result<(), RuleError> {
    let receiver = signer(statement, SignerRole::Receiver)
        .or_else(|| signer(statement, SignerRole::LabIntake))
        .expect("the signer table requires a receiver");
    let Some(t) = s
        .transfer
        .as_ref()
        .filter(|_| s.status == Status::InTransit)
    else {
        return Err(RuleError::NotInTransit {
            item: s.id.clone(),
            seq: s.last_seq,
        });
    };
    let unit_ok = identity
        .officer(receiver)
        .is_some_and(|o| o.record.unit == t.to_unit);
    let named_ok = t.to_officer.as_ref().is_some_and(|o| o == receiver);
    let allowed = if t.to_officer.is_some() {
        named_ok || unit_ok
    } else {
        unit_ok
    };
    if !allowed {
        return Err(RuleError::WrongReceiver {
            item: s.id.clone(),
            officer: receiver.clone(),
            to: t
                .to_officer
                .as_ref()
                .map_or_else(
                    || msg("err.rule.wrong_receiver.unit"),
                    |o| msg("err.rule.wrong_receiver.officer_or_unit").arg("officer", o),
                )
                .arg("unit", &t.to_unit),
            seq: t.release_seq,
        });
    }
    seals_match(s, seals, intact)
}

/// Decides a sample: the holder signs, the sample is no heavier than the item's known net mass,
/// and it is a new item, not the parent.
fn check_sample(
    identity: &rules::State,
    statement: &Statement,
    s: &ItemState,
    b: &SampleSetAside,
) -> Result<(), RuleError> {
    holder_signs(statement, s)?;
    // From rules version 5 `sample_within_parent` decides this, naming the field.
    if identity.rules_version() < rules::IMPOSSIBLE_FACTS_REFUSED_SINCE
        && let Some(net) = s.net_mass_mg
        && b.sample_net_mass_mg > net
    {
        return Err(RuleError::SampleTooLarge {
            item: s.id.clone(),
            sample_mg: b.sample_net_mass_mg,
            known_mg: net,
            seq: s.weighed_seq.unwrap_or(s.born_seq),
        });
    }
    if b.sample == b.item {
        return Err(RuleError::ItemExists {
            item: b.sample.clone(),
            seq: s.born_seq,
        });
    }
    Ok(())
}

/// Decides, from rules version 5 (`rules::IMPOSSIBLE_FACTS_REFUSED_SINCE`), what cannot be true
/// of the items the statement names: an act before the item existed, a seal number already
/// applied to another item, a sample heavier than its parent, a re-weigh reference that is not a
/// re-weigh of the item; and what needs `confirmed` (a mass difference under intact seals, a late
/// receipt).
fn check_facts(
    identity: &rules::State,
    items: &dyn ItemView,
    statement: &Statement,
    current: &[Option<ItemState>],
) -> Result<(), RuleError> {
    for s in current.iter().flatten() {
        if statement.occurred_at < s.born_at {
            return Err(RuleError::BeforeItemExisted {
                item: s.id.clone(),
                occurred_at: statement.occurred_at.to_canonical(),
                born_at: s.born_at.to_canonical(),
                born_seq: s.born_seq,
            });
        }
    }
    seals_single_use(identity, items, statement)?;
    let Some(s) = current.first().and_then(|s| s.as_ref()) else {
        return Ok(());
    };
    match &statement.body {
        Body::SampleSetAside(b) => sample_within_parent(s, b),
        Body::Destroyed(b) => reweigh_of_item(s, b.reweigh_seq),
        Body::Weighed(b) => mass_difference_confirmed(s, b),
        Body::CustodyReceived(b) => late_receipt_confirmed(statement, s, &b.confirmed),
        Body::LabReceived(b) => late_receipt_confirmed(statement, s, &b.confirmed),
        _ => Ok(()),
    }
}

/// Decides that every seal number the statement applies is new, or already this item's: a
/// serialized seal is single-use, so a number once applied to one item never goes on another,
/// even after that seal was broken, removed or its item closed.
fn seals_single_use(
    identity: &rules::State,
    items: &dyn ItemView,
    statement: &Statement,
) -> Result<(), RuleError> {
    let claims = seals_applied(statement);
    for (i, (item, field, seal)) in claims.iter().enumerate() {
        let here = claims[..i]
            .iter()
            .find(|(other, _, s)| s == seal && other != item)
            .map(|(other, _, _)| (other.clone(), identity.size()));
        let before = items.seal(seal).filter(|(other, _)| other != item);
        if let Some((other, seq)) = before.or(here) {
            return Err(RuleError::SealUsed {
                field,
                seal: seal.clone(),
                other,
                seq,
            });
        }
    }
    Ok(())
}

/// Decides that a sample is no heavier than its parent's latest net mass, or, before any net mass
/// is known, than the gross mass found.
fn sample_within_parent(s: &ItemState, b: &SampleSetAside) -> Result<(), RuleError> {
    let known = match (s.net_mass_mg, s.gross_mass_mg) {
        (Some(net), _) => Some((
            net,
            "err.rule.mass_above_parent.net",
            s.weighed_seq.unwrap_or(s.born_seq),
        )),
        (None, Some(gross)) => Some((gross, "err.rule.mass_above_parent.gross", s.born_seq)),
        (None, None) => None,
    };
    match known {
        Some((parent_mg, what, seq)) if b.sample_net_mass_mg > parent_mg => {
            Err(RuleError::MassAboveParent {
                field: "/sample_net_mass_mg",
                item: s.id.clone(),
                mass_mg: b.sample_net_mass_mg,
                what,
                parent_mg,
                seq,
            })
        }
        _ => Ok(()),
    }
}

/// Decides that a destruction's `reweigh_seq` names the item's latest weighing or lab result.
fn reweigh_of_item(s: &ItemState, reweigh: Option<u64>) -> Result<(), RuleError> {
    let Some(seq) = reweigh else { return Ok(()) };
    let lab = s.lab.as_ref().map(|l| l.seq);
    if Some(seq) == s.weighed_seq || Some(seq) == lab {
        return Ok(());
    }
    let latest: Vec<String> = [s.weighed_seq, lab]
        .into_iter()
        .flatten()
        .map(|q| format!("seq {q}"))
        .collect();
    let wants = msg("err.rule.wrong_reference.reweigh").arg("item", &s.id);
    Err(RuleError::WrongReference {
        field: "/reweigh_seq",
        seq,
        wants: if latest.is_empty() {
            wants.part("latest", msg("err.rule.wrong_reference.none"))
        } else {
            wants.arg("latest", latest.join(", "))
        },
    })
}

/// What a `confirmed` entry says was seen: a net mass that changed beyond the balances'
/// uncertainty under the same intact seals (audit class 6).
pub const CONFIRM_MASS_DIFFERENCE: &str = "mass_difference";
/// What a `confirmed` entry says was seen: a receipt more than the audit's transit threshold after
/// the release (audit class 2).
pub const CONFIRM_LATE_RECEIPT: &str = "late_receipt";

/// Decides that a weighing under intact seals whose net mass differs from the reference under the
/// same seals by more than `audit::DRIFT_READABILITIES`·d confirms the difference.
fn mass_difference_confirmed(s: &ItemState, b: &Weighed) -> Result<(), RuleError> {
    let Some(r) = s.mass_reference else {
        return Ok(());
    };
    let same_seals = s.sealed_seq.is_none_or(|sealed| r.seq >= sealed);
    let tolerance =
        crate::domain::audit::DRIFT_READABILITIES * r.readability_mg.max(b.readability_mg);
    let diff = r.net_mass_mg.abs_diff(b.net_mass_mg);
    if b.seals_intact
        && same_seals
        && diff > tolerance
        && !b.confirmed.iter().any(|c| c == CONFIRM_MASS_DIFFERENCE)
    {
        return Err(RuleError::Unconfirmed {
            what: CONFIRM_MASS_DIFFERENCE,
            detail: msg("err.rule.unconfirmed.mass_difference")
                .arg("item", &s.id)
                .arg("net_mg", b.net_mass_mg)
                .arg("diff_mg", diff)
                .arg("reference_mg", r.net_mass_mg)
                .arg("seq", r.seq)
                .arg("tolerance_mg", tolerance),
        });
    }
    Ok(())
}

/// Decides that a receipt more than the audit's transit threshold after its release confirms it.
fn late_receipt_confirmed(
    statement: &Statement,
    s: &ItemState,
    confirmed: &[String],
) -> Result<(), RuleError> {
    let Some(t) = &s.transfer else { return Ok(()) };
    let limit = crate::domain::audit::THRESHOLDS.transit_hours;
    let hours = (statement.occurred_at.unix_ms() - t.release_occurred_at.unix_ms()) / 3_600_000;
    if hours > limit && !confirmed.iter().any(|c| c == CONFIRM_LATE_RECEIPT) {
        return Err(RuleError::Unconfirmed {
            what: CONFIRM_LATE_RECEIPT,
            detail: msg("err.rule.unconfirmed.late_receipt")
                .arg("item", &s.id)
                .arg("hours", hours)
                .arg("seq", t.release_seq)
                .arg("limit", limit),
        });
    }
    Ok(())
}

/// Decides a return: to storage the borrower hands it back; to the owner the custodian does,
/// before a witness. Seals declared intact must match.
fn check_returned(statement: &Statement, s: &ItemState, b: &Returned) -> Result<(), RuleError> {
    let who = if b.to == "storage" {
        signer(statement, SignerRole::Borrower).ok_or(RuleError::SignerMissing {
            role: SignerRole::Borrower.as_str(),
            why: "err.rule.signer_missing.return_to_storage",
        })?
    } else {
        if signer(statement, SignerRole::Witness).is_none() {
            return Err(RuleError::SignerMissing {
                role: SignerRole::Witness.as_str(),
                why: "err.rule.signer_missing.return_to_owner",
            });
        }
        signer(statement, SignerRole::Custodian).expect("the signer table requires a custodian")
    };
    must_hold(s, who)?;
    seals_match(s, &b.seals, b.seals_intact)
}

/// Decides whether `refers_to` names a leaf already in the log.
fn refers_to_past(identity: &rules::State, refers_to: u64) -> Result<(), RuleError> {
    if refers_to >= identity.size() {
        return Err(RuleError::RefersToFuture {
            refers_to,
            last: identity.size().saturating_sub(1),
        });
    }
    Ok(())
}

/// Decides a correction: it refers to a leaf already in the log and, when it names an item, to
/// one of that item's events.
fn check_correction(
    identity: &rules::State,
    existing: Option<&ItemState>,
    c: &Correction,
) -> Result<(), RuleError> {
    refers_to_past(identity, c.refers_to)?;
    if let Some(s) = existing
        && (c.refers_to < s.born_seq || c.refers_to > s.last_seq)
    {
        return Err(RuleError::CorrectionOutsideItem {
            item: s.id.clone(),
            refers_to: c.refers_to,
            born: s.born_seq,
            last: s.last_seq,
        });
    }
    Ok(())
}

fn new_item(
    id: &ItemId,
    statement: &Statement,
    seq: u64,
    holder: &OfficerId,
    identity: &rules::State,
) -> ItemState {
    ItemState {
        id: id.clone(),
        born_seq: seq,
        born_at: statement.occurred_at,
        born_as: statement.kind.as_str().to_owned(),
        facility: statement.facility.to_string(),
        incident: None,
        case: None,
        parent: None,
        children: Vec::new(),
        category: None,
        description: None,
        status: Status::Held,
        holder: Some(holder.clone()),
        unit: identity.officer(holder).map(|o| o.record.unit.clone()),
        location: None,
        seals: Vec::new(),
        sealed_seq: None,
        count: None,
        gross_mass_mg: None,
        net_mass_mg: None,
        weighed_seq: None,
        mass_reference: None,
        transfer: None,
        order: None,
        lab: None,
        notified_seq: None,
        destroyed_mass_mg: None,
        persons: Vec::new(),
        corrections: Vec::new(),
        events: 0,
        last_seq: seq,
        head: String::new(),
    }
}

fn add_person(state: &mut ItemState, key: Option<String>) {
    if let Some(k) = key
        && !state.persons.contains(&k)
    {
        state.persons.push(k);
    }
}

/// Folds an admitted statement into the states of the items it touches. `identity` is the
/// identity state *before* the statement (the one it was checked against).
pub fn apply(
    identity: &rules::State,
    items: &dyn ItemView,
    admitted: &rules::Admitted,
    leaf_hash: &Hash,
    recorded_at: Timestamp,
) -> Vec<ItemChange> {
    let statement = admitted.statement();
    let seq = admitted.seq();
    // A re-recorded entry keeps the time the old ledger recorded the act.
    let recorded_at = statement.recorded_at_or(recorded_at);
    let fold = Fold {
        identity,
        items,
        statement,
        seq,
        recorded_at,
    };
    let mut changes: Vec<ItemChange> = Vec::new();
    for (id, _) in statement.body.items() {
        let before = items.item(&id);
        let first_actor = statement.signers[0].officer.clone();
        let mut s = before
            .clone()
            .unwrap_or_else(|| new_item(&id, statement, seq, &first_actor, identity));
        fold.body(&id, before.as_ref(), &mut s);
        s.events += 1;
        s.last_seq = seq;
        s.head = b64(leaf_hash);
        changes.push(ItemChange { before, after: s });
    }
    changes
}

/// One admitted statement being folded into item states: what every fold reads.
struct Fold<'a> {
    identity: &'a rules::State,
    items: &'a dyn ItemView,
    statement: &'a Statement,
    seq: u64,
    recorded_at: Timestamp,
}

impl Fold<'_> {
    /// The officer who signs in `role`, if any.
    fn signer(&self, role: SignerRole) -> Option<OfficerId> {
        signer(self.statement, role).cloned()
    }

    /// The unit `officer` is enrolled in, before the statement.
    fn unit_of(&self, officer: &OfficerId) -> Option<String> {
        self.identity
            .officer(officer)
            .map(|s| s.record.unit.clone())
    }

    /// Makes `officer` the item's holder, in the unit they are enrolled in.
    fn hand_to(&self, s: &mut ItemState, officer: OfficerId) {
        s.unit = self.unit_of(&officer);
        s.holder = Some(officer);
    }

    /// Applies the statement's own type to item `id` (`before`: its state before, if any).
    fn body(&self, id: &ItemId, before: Option<&ItemState>, s: &mut ItemState) {
        let seq = self.seq;
        match &self.statement.body {
            Body::ContrabandFound(b) => self.found(s, b),
            Body::ItemSealed(b) => sealed(s, b, seq),
            Body::Weighed(b) => {
                s.gross_mass_mg = Some(b.gross_mass_mg);
                s.net_mass_mg = Some(b.net_mass_mg);
                s.weighed_seq = Some(seq);
                s.mass_reference = Some(MassReference {
                    seq,
                    net_mass_mg: b.net_mass_mg,
                    readability_mg: b.readability_mg,
                });
            }
            Body::CustodyReleased(b) => self.released(s, b),
            Body::CustodyReceived(_) | Body::LabReceived(_) => self.received(s),
            Body::SeizureRecorded(b) => self.seized(s, b, before.is_none()),
            Body::SampleSetAside(b) if *id == b.item => sample_taken(s, b, seq),
            Body::SampleSetAside(b) => self.sample_born(s, b),
            Body::SeizureNotified(_) => s.notified_seq = Some(seq),
            Body::LabRequested(_) => {}
            Body::LabResult(b) => lab_result(s, b, seq),
            Body::StatusDetermined(b) => ordered(s, b, id, seq),
            Body::Stored(b) => {
                self.hand_to(
                    s,
                    self.signer(SignerRole::Custodian)
                        .expect("checked: a custodian signs"),
                );
                s.location = Some(format!(
                    "{} › {} › {}",
                    b.location.store, b.location.room, b.location.shelf
                ));
            }
            Body::CheckedOut(_) => {
                self.hand_to(
                    s,
                    self.signer(SignerRole::Borrower)
                        .expect("checked: a borrower signs"),
                );
            }
            Body::Returned(b) => self.returned(s, b),
            Body::Destroyed(b) => {
                s.status = Status::Destroyed;
                s.destroyed_mass_mg = Some(b.mass_destroyed_mg);
            }
            Body::Correction(c) => corrected(s, c, seq),
            Body::NoteAdded { .. } => {}
            Body::SearchConducted(_)
            | Body::InventoryCounted(_)
            | Body::SubjectsLinked(_)
            | Body::SubjectErased(_)
            | Body::LedgerGenesis { .. }
            | Body::OfficerEnrolled { .. }
            | Body::OfficerKeyRotated { .. }
            | Body::OfficerKeyReplaced { .. }
            | Body::OfficerUpdated(_)
            | Body::FacilityRegistered(_)
            | Body::OfficerRevoked { .. }
            | Body::RulesAdopted { .. } => {}
        }
    }

    /// A find: the finder holds the item, described as found, with the persons named.
    fn found(&self, s: &mut ItemState, b: &ContrabandFound) {
        self.hand_to(
            s,
            self.signer(SignerRole::Finder)
                .expect("checked: a finder signs"),
        );
        s.incident = Some(b.incident.clone());
        s.category = Some(b.category.clone());
        s.description = Some(b.description.name.clone());
        s.count = Some(b.count);
        s.gross_mass_mg = b.gross_mass_mg;
        for p in &b.persons {
            add_person(s, p.key());
        }
    }

    /// A release: the item is in transit from the giver to the named officer or unit.
    fn released(&self, s: &mut ItemState, b: &CustodyReleased) {
        let giver = self
            .signer(SignerRole::Giver)
            .expect("checked: a giver signs");
        s.status = Status::InTransit;
        s.transfer = Some(Transfer {
            release_seq: self.seq,
            released_at: self.recorded_at,
            release_occurred_at: self.statement.occurred_at,
            from_unit: self.unit_of(&giver),
            from_officer: giver,
            to_officer: b.to_officer.clone(),
            to_unit: b.to_unit.clone(),
            purpose: b.purpose.clone(),
        });
    }

    /// A receipt (by an officer or the lab): the receiver holds the item; the transfer ends.
    fn received(&self, s: &mut ItemState) {
        let receiver = self
            .signer(SignerRole::Receiver)
            .or_else(|| self.signer(SignerRole::LabIntake))
            .expect("checked: a receiver signs");
        s.status = Status::Held;
        self.hand_to(s, receiver);
        s.transfer = None;
        if let Body::CustodyReceived(b) = &self.statement.body
            && let Some(l) = &b.location
        {
            s.location = Some(l.clone());
        }
    }

    /// A seizure: an item it creates is held by the investigator; any item gets the case, count,
    /// possessor and (when stated) net mass.
    fn seized(&self, s: &mut ItemState, b: &SeizureRecorded, creates: bool) {
        if creates {
            self.hand_to(
                s,
                self.signer(SignerRole::Investigator)
                    .expect("checked: an investigator signs"),
            );
        }
        s.case = Some(b.case.clone());
        s.description.get_or_insert_with(|| b.description.clone());
        s.count = Some(b.count);
        if b.net_mass_mg.is_some() {
            s.net_mass_mg = b.net_mass_mg;
        }
        add_person(s, b.possessor.key());
    }

    /// The new sample: it inherits the parent's holder, incident, case, category and persons.
    fn sample_born(&self, s: &mut ItemState, b: &SampleSetAside) {
        let parent = self
            .items
            .item(&b.item)
            .expect("checked: the parent exists");
        s.holder = parent.holder.clone();
        s.unit = parent.unit.clone();
        s.parent = Some(b.item.clone());
        s.incident = parent.incident.clone();
        s.case = parent.case.clone();
        s.category = parent.category.clone();
        s.description = parent
            .description
            .as_ref()
            .map(|d| format!("sample of {d}"));
        s.count = Some(b.sample_count);
        s.net_mass_mg = Some(b.sample_net_mass_mg);
        s.seals = b.sample_seals.clone();
        s.sealed_seq = Some(self.seq);
        s.persons = parent.persons.clone();
    }

    /// A return: to storage the custodian holds it again; to the owner the item is closed.
    fn returned(&self, s: &mut ItemState, b: &Returned) {
        if b.to == "storage" {
            self.hand_to(
                s,
                self.signer(SignerRole::Custodian)
                    .expect("checked: a custodian signs"),
            );
        } else {
            s.status = Status::Returned;
            if let Some(owner) = &b.owner {
                add_person(s, owner.key());
            }
        }
    }
}

/// A sealing: the removed seals go, the applied ones are added once each.
fn sealed(s: &mut ItemState, b: &ItemSealed, seq: u64) {
    s.seals.retain(|x| !b.seals_removed.contains(x));
    for seal in &b.seals_applied {
        if !s.seals.contains(seal) {
            s.seals.push(seal.clone());
        }
    }
    s.sealed_seq = Some(seq);
}

/// The parent of a sample: less the sample's mass and count, resealed, with the new child.
fn sample_taken(s: &mut ItemState, b: &SampleSetAside, seq: u64) {
    s.net_mass_mg = s
        .net_mass_mg
        .map(|m| m.saturating_sub(b.sample_net_mass_mg));
    s.count = s.count.map(|c| c.saturating_sub(b.sample_count));
    s.seals = b.parent_seals.clone();
    s.sealed_seq = Some(seq);
    s.mass_reference = s.mass_reference.map(|r| MassReference {
        seq,
        net_mass_mg: r.net_mass_mg.saturating_sub(b.sample_net_mass_mg),
        readability_mg: r.readability_mg,
    });
    s.children.push(b.sample.clone());
}

/// A lab result: the residue's mass and seals, and the finding.
fn lab_result(s: &mut ItemState, b: &LabResult, seq: u64) {
    s.net_mass_mg = Some(b.residue_mass_mg);
    s.seals = b.residue_seals.clone();
    s.sealed_seq = Some(seq);
    s.mass_reference = Some(MassReference {
        seq,
        net_mass_mg: b.residue_mass_mg,
        readability_mg: 1,
    });
    s.lab = Some(LabFinding {
        seq,
        report_number: b.report_number.clone(),
        result: b.result.clone(),
        substance: b.substance.clone(),
        narcotic_class: b.narcotic_class.clone(),
        consumed_mass_mg: b.consumed_mass_mg,
    });
}

/// A prosecutor's order: the item's part of it; forfeiture closes the item.
fn ordered(s: &mut ItemState, b: &StatusDetermined, id: &ItemId, seq: u64) {
    if let Some(i) = b.items.iter().find(|i| i.item == *id) {
        s.order = Some(Order {
            seq,
            order_number: b.order_number.clone(),
            status: i.status.clone(),
            retained_mass_mg: i.retained_mass_mg,
        });
        if i.status == "forfeit" {
            s.status = Status::Forfeited;
        }
    }
}

/// A correction, recorded on the item.
fn corrected(s: &mut ItemState, c: &Correction, seq: u64) {
    s.corrections.push(seq);
    // A correction supersedes the item's known mass or count (the original event
    // stays in the log, and the history shows both).
    let int = |k: &str| c.fields.get(k).and_then(serde_json::Value::as_u64);
    if let Some(v) = int("/net_mass_mg") {
        s.net_mass_mg = Some(v);
    }
    if let Some(v) = int("/gross_mass_mg") {
        s.gross_mass_mg = Some(v);
    }
    if let Some(v) = int("/count") {
        s.count = Some(v);
    }
}
