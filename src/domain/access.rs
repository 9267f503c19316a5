//! Who may read what: authenticates a signed read request against the identity state of the log
//! (enrolled, unrevoked, current key) and scopes what the officer may see by role and facility.
//! What an officer's scope reaches is decided by `scope` (`READ_ALL_ROLES`, `READ_REACHES`), the
//! same reaches write scope uses, so that reads and writes cannot drift apart. Pure: no clock
//! (callers pass `now`), no I/O; it never decides writes (the envelope's signatures, the role
//! table and the write scope do).

use crate::base::ids::{FacilityId, OfficerId, OfficerRole};
use crate::base::words::{Explain, Message, msg};
use crate::domain::custody::ItemState;
use crate::domain::rules::State;
use crate::domain::scope;
use crate::format::httpsig::{HttpSigError, NOT_VERIFIED, Presented};
use crate::keys::signing::{PublicKey, SecretKey};

/// Why a read was refused before any data was looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// The signature headers are missing, malformed, or outside their validity window: about the
    /// request alone, whatever key it names.
    Signature(HttpSigError),
    /// The signature was not verified as an enrolled officer's current key. Every reason answers
    /// with the one message `NOT_VERIFIED`, so that no answer tells which key ids exist; the
    /// reason is for the server's log.
    NotVerified(Unverified),
    /// The signature verified with the key of a revoked officer: only the key's holder can make
    /// one, and the holder knows whose key it is.
    Revoked(OfficerId),
}

crate::english_display!(AuthError);

impl Explain for AuthError {
    fn explain(&self) -> Message {
        match self {
            Self::Signature(e) => e.explain(),
            Self::NotVerified(_) => msg(NOT_VERIFIED),
            Self::Revoked(officer) => msg("err.auth.revoked").arg("officer", officer),
        }
    }
}

/// Why a signature was not verified. Told to the server's log, never to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unverified {
    /// No enrolled key has this key id.
    UnknownKey,
    /// The signature does not verify with any key of this key id.
    BadSignature,
    /// The key verified but was replaced by a rotation.
    RetiredKey,
    /// The request was signed for a name (`@authority`) the server does not answer to.
    Authority,
    /// The nonce was already used with this key within the signature's validity window.
    Replayed,
    /// The request carries a nonce but was signed before the server started, so the server
    /// cannot know whether the nonce was used before.
    BeforeStart,
}

impl From<HttpSigError> for AuthError {
    fn from(e: HttpSigError) -> Self {
        match e {
            HttpSigError::BadSignature(_) => Self::NotVerified(Unverified::BadSignature),
            other => Self::Signature(other),
        }
    }
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
}

/// Verifies a presented signature against every key enrolled under its key id, then checks that
/// the officer is not revoked and the key is the officer's current one. An unknown key id, a
/// signature that does not verify and a rotated-out key are one refusal (`NotVerified`).
pub fn authenticate(state: &State, presented: &Presented, now: i64) -> Result<Reader, AuthError> {
    presented.check_time(now)?;
    let candidates = state.keys_with_id(&presented.keyid);
    if candidates.is_empty() {
        // As much work as a known key id with a wrong signature, so that the time of the answer
        // does not tell either.
        let _ = presented.verify(decoy_key());
        return Err(AuthError::NotVerified(Unverified::UnknownKey));
    }
    let key = candidates
        .iter()
        .find(|k| presented.verify(k).is_ok())
        .ok_or(AuthError::NotVerified(Unverified::BadSignature))?;
    let officer = state
        .officer_of_key(key)
        .expect("every key in the key-id index belongs to an enrolled officer");
    let id = officer.record.id.clone();
    if officer.revoked_at.is_some() {
        return Err(AuthError::Revoked(id));
    }
    if officer.current_key().map(|k| &k.key) != Some(key) {
        return Err(AuthError::NotVerified(Unverified::RetiredKey));
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

/// A key no officer holds, checked against when the key id is unknown.
fn decoy_key() -> &'static PublicKey {
    static DECOY: std::sync::OnceLock<PublicKey> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| SecretKey::from_seed(&[0x5a; 32]).public())
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
