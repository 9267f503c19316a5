//! Identifier newtypes that parse, not validate: once an `OfficerId` or `StatementId` exists, it is
//! well formed. Owns the textual rules for ids; must never do I/O or read a clock.

use crate::base::words::{Explain, Message, msg};
use serde::{Deserialize, Serialize};
use std::fmt;

/// An identifier that failed its format rule; says which rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdError {
    /// What the value was to be, as a catalogue key (`id.kind.officer`).
    pub kind: &'static str,
    pub value: String,
    /// The rule it breaks, as a catalogue key (`id.rule.officer`).
    pub rule: &'static str,
}

crate::english_display!(IdError);

impl Explain for IdError {
    fn explain(&self) -> Message {
        msg("err.id.invalid")
            .part("kind", msg(self.kind))
            .quoted("value", &self.value)
            .part("rule", msg(self.rule))
    }
}

/// A code: 2–64 upper-case ASCII letters, digits and hyphens, not starting with a hyphen.
fn is_code(s: &str) -> bool {
    (2..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
}

fn id_error(kind: &'static str, value: &str, rule: &'static str) -> IdError {
    // An error message must stay readable even when the input was a megabyte of junk; cut at a
    // character boundary, since ids arrive as arbitrary UTF-8.
    let value = crate::base::class::echo(value);
    IdError { kind, value, rule }
}

impl crate::base::class::Classify for IdError {
    fn class(&self) -> crate::base::class::Class {
        crate::base::class::Class::Invalid
    }
}

macro_rules! string_newtype {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(&self.0)
            }
        }
        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::parse(&s)
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
    };
}

/// An officer's staff number: NIP (18 digits, civil servants) or NRP (8 digits, police and
/// military). Staff numbers are the identity courts know officers by, so free text is refused.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OfficerId(String);

impl OfficerId {
    pub const RULE: &'static str = "id.rule.officer";

    pub fn parse(s: &str) -> Result<Self, IdError> {
        let digits = s.bytes().all(|b| b.is_ascii_digit());
        if digits && (s.len() == 8 || s.len() == 18) {
            Ok(Self(s.to_owned()))
        } else {
            Err(id_error("id.kind.officer", s, Self::RULE))
        }
    }
}
string_newtype!(OfficerId);

/// A statement id: a UUIDv7 in lowercase hyphenated form, made by the client. It is the
/// idempotency key, so its text form must be unique per UUID (no upper case, no braces).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StatementId(uuid::Uuid);

impl StatementId {
    pub const RULE: &'static str = "id.rule.statement";

    pub fn parse(s: &str) -> Result<Self, IdError> {
        let uuid =
            uuid::Uuid::try_parse(s).map_err(|_| id_error("id.kind.statement", s, Self::RULE))?;
        let canonical = uuid.hyphenated().to_string();
        if uuid.get_version_num() != 7 || canonical != s {
            return Err(id_error("id.kind.statement", s, Self::RULE));
        }
        Ok(Self(uuid))
    }

    /// Builds a v7 id from a time and 10 random bytes supplied by the caller (the core has no
    /// randomness of its own).
    pub fn from_parts(unix_ms: u64, random: &[u8; 10]) -> Self {
        Self(uuid::Builder::from_unix_timestamp_millis(unix_ms, random).into_uuid())
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }
}

impl fmt::Display for StatementId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.hyphenated())
    }
}

impl TryFrom<String> for StatementId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}

impl From<StatementId> for String {
    fn from(v: StatementId) -> String {
        v.to_string()
    }
}

/// A facility code such as `LPN-JAKARTA` (upper-case letters, digits and hyphens, 2–64 chars):
/// codes, not names, so that two spellings of one prison are not two facilities.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FacilityId(String);

impl FacilityId {
    pub const RULE: &'static str = "id.rule.facility";

    pub fn parse(s: &str) -> Result<Self, IdError> {
        if is_code(s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(id_error("id.kind.facility", s, Self::RULE))
        }
    }
}
string_newtype!(FacilityId);

/// An evidence label (item id), e.g. `BB-2025-000418`: upper-case letters, digits and hyphens,
/// 2–64 characters. Incident ids and seal ids share this form.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ItemId(String);

impl ItemId {
    pub const RULE: &'static str = "id.rule.item";

    pub fn parse(s: &str) -> Result<Self, IdError> {
        if is_code(s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(id_error("id.kind.item", s, Self::RULE))
        }
    }
}
string_newtype!(ItemId);

/// A log origin (the checkpoint's first line and the ledger key's name), e.g.
/// `custody.lapas-jakarta.go.id/ledger`: printable ASCII without spaces or `+`, as C2SP
/// signed-note key names require.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Origin(String);

impl Origin {
    pub const RULE: &'static str = "id.rule.origin";

    pub fn parse(s: &str) -> Result<Self, IdError> {
        let ok = !s.is_empty()
            && s.len() <= crate::base::limits::ORIGIN_BYTES_MAX
            && s.bytes().all(|b| b.is_ascii_graphic() && b != b'+');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(id_error("id.kind.origin", s, Self::RULE))
        }
    }
}
string_newtype!(Origin);

/// What an enrolled officer may do in the ledger (docs/DOMAIN.md "Roles").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfficerRole {
    Admin,
    GateOfficer,
    SecurityOfficer,
    Investigator,
    LabExaminer,
    LabHead,
    Custodian,
    Prosecutor,
    Auditor,
}

impl OfficerRole {
    pub const ALL: [OfficerRole; 9] = [
        Self::Admin,
        Self::GateOfficer,
        Self::SecurityOfficer,
        Self::Investigator,
        Self::LabExaminer,
        Self::LabHead,
        Self::Custodian,
        Self::Prosecutor,
        Self::Auditor,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::GateOfficer => "gate_officer",
            Self::SecurityOfficer => "security_officer",
            Self::Investigator => "investigator",
            Self::LabExaminer => "lab_examiner",
            Self::LabHead => "lab_head",
            Self::Custodian => "custodian",
            Self::Prosecutor => "prosecutor",
            Self::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Result<Self, IdError> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| id_error("id.kind.role", s, "id.rule.role"))
    }
}

impl fmt::Display for OfficerRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A signer's function in one act (`signers[].role` of a statement; schemas/common.json
/// `$defs/signer_role`). Which ones a statement type admits, how many, and which officer roles may
/// fill them is the role table, `domain::rules::TYPE_RULES` (docs/EVENTS.md). `as_str` is the
/// exact JSON text, so statements, schemas and the log are unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignerRole {
    Admin,
    KeyHolder,
    Author,
    Supervisor,
    Actor,
    Witness,
    Finder,
    Weigher,
    Giver,
    Receiver,
    Investigator,
    UnitHead,
    LabIntake,
    Examiner,
    LabHead,
    Prosecutor,
    Custodian,
    Deliverer,
    Borrower,
    Official,
    Counter,
}

impl SignerRole {
    /// In the order of schemas/common.json `$defs/signer_role`.
    pub const ALL: [SignerRole; 21] = [
        Self::Admin,
        Self::KeyHolder,
        Self::Author,
        Self::Supervisor,
        Self::Actor,
        Self::Witness,
        Self::Finder,
        Self::Weigher,
        Self::Giver,
        Self::Receiver,
        Self::Investigator,
        Self::UnitHead,
        Self::LabIntake,
        Self::Examiner,
        Self::LabHead,
        Self::Prosecutor,
        Self::Custodian,
        Self::Deliverer,
        Self::Borrower,
        Self::Official,
        Self::Counter,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::KeyHolder => "key_holder",
            Self::Author => "author",
            Self::Supervisor => "supervisor",
            Self::Actor => "actor",
            Self::Witness => "witness",
            Self::Finder => "finder",
            Self::Weigher => "weigher",
            Self::Giver => "giver",
            Self::Receiver => "receiver",
            Self::Investigator => "investigator",
            Self::UnitHead => "unit_head",
            Self::LabIntake => "lab_intake",
            Self::Examiner => "examiner",
            Self::LabHead => "lab_head",
            Self::Prosecutor => "prosecutor",
            Self::Custodian => "custodian",
            Self::Deliverer => "deliverer",
            Self::Borrower => "borrower",
            Self::Official => "official",
            Self::Counter => "counter",
        }
    }

    pub fn parse(s: &str) -> Result<Self, IdError> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| id_error("id.kind.signer_role", s, "id.rule.signer_role"))
    }
}

impl fmt::Display for SignerRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn officer_ids_are_nip_or_nrp() {
        assert!(OfficerId::parse("198507142010121001").is_ok());
        assert!(OfficerId::parse("87051234").is_ok());
        for bad in ["", "1234567", "12345678a", "Budi", "1985071420101210011"] {
            assert!(OfficerId::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn statement_ids_are_canonical_v7() {
        let id = StatementId::from_parts(1_754_300_000_000, &[7; 10]);
        let text = id.to_string();
        assert_eq!(StatementId::parse(&text).expect("round trip"), id);
        assert!(StatementId::parse(&text.to_uppercase()).is_err());
        assert!(
            StatementId::parse("67e55044-10b1-426f-9247-bb680e5fe0c8").is_err(),
            "v4"
        );
    }

    #[test]
    fn long_multibyte_input_is_cut_at_a_character_boundary() {
        let junk = "é".repeat(100);
        let err = OfficerId::parse(&junk).expect_err("not a NIP");
        // ECHO_CHARS_MAX characters and an ellipsis.
        assert_eq!(err.value.chars().count(), 65);
        assert!(err.value.ends_with('…'));
    }

    #[test]
    fn roles_round_trip() {
        for r in OfficerRole::ALL {
            assert_eq!(OfficerRole::parse(r.as_str()).expect("known"), r);
        }
        assert!(OfficerRole::parse("janitor").is_err());
    }

    #[test]
    fn signer_roles_round_trip_as_json_strings() {
        for r in SignerRole::ALL {
            assert_eq!(SignerRole::parse(r.as_str()).expect("known"), r);
            let json = serde_json::to_string(&r).expect("serializes");
            assert_eq!(json, format!("\"{}\"", r.as_str()));
            assert_eq!(
                serde_json::from_str::<SignerRole>(&json).expect("parses"),
                r
            );
        }
        assert!(SignerRole::parse("janitor").is_err());
    }
}
