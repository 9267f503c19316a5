//! Who may read what: authenticates a signed read request against the identity state of the log
//! (enrolled, unrevoked, current key) and scopes what the officer may see by role and facility.
//! What an officer's scope reaches is decided by `scope` (`READ_ALL_ROLES`, `READ_REACHES`), the
//! same reaches write scope uses, so that reads and writes cannot drift apart. Pure: no clock
//! (callers pass `now`), no I/O; it never decides writes (the envelope's signatures, the role
//! table and the write scope do).

use crate::base::ids::{FacilityId, OfficerId, OfficerRole};
use crate::domain::custody::ItemState;
use crate::domain::rules::State;
use crate::domain::scope;
use crate::format::httpsig::{HttpSigError, Presented};

/// Why a read was refused before any data was looked at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    Signature(#[from] HttpSigError),
    #[error("key id {0} is not enrolled in this ledger; ask an administrator to enroll your key")]
    UnknownKey(String),
    #[error(
        "key {keyid} of officer {officer} was replaced by a rotation; sign with the officer's current key"
    )]
    RetiredKey { keyid: String, officer: OfficerId },
    #[error("officer {0} is revoked and may no longer read custody records")]
    Revoked(OfficerId),
}

/// What an officer may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every record (prosecutors and auditors).
    All,
    /// Records of their own facility, and items they or their unit hold or are sent.
    Facility {
        facility: FacilityId,
        officer: OfficerId,
        unit: String,
        roles: Vec<OfficerRole>,
    },
}

/// An officer whose signed request verified against the log's identity state. Only
/// `authenticate` makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    officer: OfficerId,
    scope: Scope,
}

impl Reader {
    pub fn officer(&self) -> &OfficerId {
        &self.officer
    }

    pub fn reads_all(&self) -> bool {
        self.scope == Scope::All
    }

    /// May this officer see the item (and its history, audit and bundle)? `identity` is the log's
    /// identity state, which says where the item's holder is enrolled.
    pub fn may_read_item(&self, item: &ItemState, identity: &State) -> bool {
        match &self.scope {
            Scope::All => true,
            Scope::Facility {
                facility,
                officer,
                unit,
                roles,
            } => {
                let me = scope::Officer {
                    id: officer,
                    facility: facility.as_str(),
                    unit,
                    roles,
                };
                scope::may_read(&me, &item.placement(identity))
            }
        }
    }

    /// May this officer see an act recorded at `facility`?
    pub fn may_read_facility(&self, facility: &str) -> bool {
        match &self.scope {
            Scope::All => true,
            Scope::Facility { facility: own, .. } => own.as_str() == facility,
        }
    }

    /// May this officer see another officer's entry in the roster (name, NIP, unit, keys)? Readers
    /// of everything and administrators (who enroll officers) see every officer; others see the
    /// officers of their own facility and of their own unit.
    pub fn may_read_officer(&self, facility: &str, unit: &str) -> bool {
        match &self.scope {
            Scope::All => true,
            Scope::Facility {
                facility: own,
                unit: own_unit,
                roles,
                ..
            } => {
                roles.contains(&OfficerRole::Admin) || own.as_str() == facility || own_unit == unit
            }
        }
    }

    /// A sentence for a refusal, naming the officer's scope.
    pub fn refusal(&self, what: &str) -> String {
        match &self.scope {
            Scope::All => format!("{what} is not readable"),
            Scope::Facility { facility, .. } => format!(
                "officer {} reads records of facility {facility} and items their unit holds; {what} is outside that scope (prosecutors and auditors read all)",
                self.officer
            ),
        }
    }
}

/// Verifies a presented signature against every key enrolled under its key id, then checks that
/// the key is the officer's current one and the officer is not revoked.
pub fn authenticate(state: &State, presented: &Presented, now: i64) -> Result<Reader, AuthError> {
    presented.check_time(now)?;
    let candidates = state.keys_with_id(&presented.keyid);
    if candidates.is_empty() {
        return Err(AuthError::UnknownKey(presented.keyid.clone()));
    }
    let key = candidates
        .iter()
        .find(|k| presented.verify(k).is_ok())
        .ok_or_else(|| HttpSigError::BadSignature(presented.keyid.clone()))?;
    let officer = state
        .officer_of_key(key)
        .expect("every key in the key-id index belongs to an enrolled officer");
    let id = officer.record.id.clone();
    if officer.revoked_at.is_some() {
        return Err(AuthError::Revoked(id));
    }
    if officer.current_key().map(|k| &k.key) != Some(key) {
        return Err(AuthError::RetiredKey {
            keyid: presented.keyid.clone(),
            officer: id,
        });
    }
    let scope = if scope::reads_all(&officer.record.roles) {
        Scope::All
    } else {
        Scope::Facility {
            facility: officer.facility.clone(),
            officer: id.clone(),
            unit: officer.record.unit.clone(),
            roles: officer.record.roles.clone(),
        }
    };
    Ok(Reader { officer: id, scope })
}

impl crate::base::class::Classify for AuthError {
    fn class(&self) -> crate::base::class::Class {
        use crate::base::class::Class;
        match self {
            Self::Revoked(_) => Class::Forbidden,
            _ => Class::Unauthenticated,
        }
    }
}
