//! The personal data of one person who is not an officer (a data subject), as the subject register
//! (`storage::register`) keeps it: the subject id that stands for the person in the log, the
//! validated fields, and the salted commitment to them that a statement may carry instead of the
//! fields themselves (docs/FORMAT.md, "Subject commitments"). Also the check that free text holds
//! nothing shaped like a NIK or a passport number (`looks_like_identifier`).
//!
//! Pure: it must never read a clock, the file system or randomness. Ids and salts are minted by the
//! caller from `keys::signing::random_bytes`; this file only gives their bytes a form.

use crate::base::class::{Class, Classify, echo};
use crate::base::limits::{
    NAME_CHARS_MAX, PASSPORT_CHARS_MAX, PASSPORT_CHARS_MIN, SDP_CHARS_MAX, SDP_CHARS_MIN,
};
use crate::base::words::{Explain, Message, msg};
use crate::keys::signing::hex;
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// Bytes of a subject id: 128 random bits, so ids minted on devices never collide.
pub const SUBJECT_ID_BYTES: usize = 16;
/// Bytes of a commitment salt: 256 random bits, so a commitment reveals nothing of its fields even
/// to someone who can guess them (a NIK has only ~10^16 values, a name far fewer).
pub const SALT_BYTES: usize = 32;
/// The text form's prefix of a subject id.
const SUBJECT_ID_PREFIX: &str = "subj-";
/// The first bytes hashed into every commitment: they name the encoding and its version, so a
/// commitment can never be mistaken for the SHA-256 of anything else custody hashes.
pub const COMMITMENT_TAG: &[u8] = b"custody/subject-commitment/v1\n";

/// Why a subject's field, id, salt or commitment was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectError {
    /// A field breaks its rule; `rule` is the catalogue key of the rule's sentence.
    Field {
        field: &'static str,
        rule: &'static str,
    },
    /// Text that should be an id, salt or commitment is not one; `rule` is a catalogue key.
    Text {
        field: &'static str,
        text: String,
        rule: &'static str,
    },
}

impl SubjectError {
    fn field(field: &'static str, rule: &'static str) -> Self {
        Self::Field { field, rule }
    }

    fn text(field: &'static str, text: &str, rule: &'static str) -> Self {
        Self::Text {
            field,
            text: echo(text),
            rule,
        }
    }
}

crate::english_display!(SubjectError);

impl Explain for SubjectError {
    fn explain(&self) -> Message {
        match self {
            Self::Field { field, rule } => msg("err.subject.field")
                .arg("field", field)
                .part("rule", msg(rule)),
            Self::Text { field, text, rule } => msg("err.subject.text")
                .arg("field", field)
                .quoted("text", text)
                .part("rule", msg(rule)),
        }
    }
}

impl Classify for SubjectError {
    fn class(&self) -> Class {
        match self {
            Self::Field { .. } => Class::Invalid,
            Self::Text { .. } => Class::Malformed,
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            Self::Field { field, .. } | Self::Text { field, .. } => Some((*field).to_owned()),
        }
    }
}

/// Decodes exactly `N` bytes from lowercase hex (the only form custody writes).
pub fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let bytes = text.as_bytes();
    if bytes.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        *o = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(out)
}

/// Serde as the text form (`Display` / `FromStr`), for the newtypes below.
macro_rules! serde_as_text {
    ($t:ty) => {
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// The pseudonym that stands for one person: 16 random bytes, written `subj-` and 32 lowercase
/// hex digits. It says nothing about the person; only the register links it to them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubjectId([u8; SUBJECT_ID_BYTES]);

impl SubjectId {
    /// The id of these bytes; the caller mints them from `keys::signing::random_bytes`.
    pub const fn from_bytes(bytes: [u8; SUBJECT_ID_BYTES]) -> Self {
        Self(bytes)
    }

    pub const fn as_bytes(&self) -> &[u8; SUBJECT_ID_BYTES] {
        &self.0
    }
}

impl fmt::Display for SubjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SUBJECT_ID_PREFIX}{}", hex(&self.0))
    }
}

impl fmt::Debug for SubjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for SubjectId {
    type Err = SubjectError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.strip_prefix(SUBJECT_ID_PREFIX)
            .and_then(unhex::<SUBJECT_ID_BYTES>)
            .map(Self)
            .ok_or_else(|| SubjectError::text("subject", text, "err.subject.rule.subject_id"))
    }
}

serde_as_text!(SubjectId);

/// The random bytes hashed with a subject's fields into a commitment, kept only in the register.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Salt([u8; SALT_BYTES]);

impl Salt {
    pub const fn from_bytes(bytes: [u8; SALT_BYTES]) -> Self {
        Self(bytes)
    }

    pub const fn as_bytes(&self) -> &[u8; SALT_BYTES] {
        &self.0
    }
}

impl fmt::Display for Salt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

// A salt is as secret as the fields it hides: never in a log line or a panic message.
impl fmt::Debug for Salt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Salt(…)")
    }
}

impl FromStr for Salt {
    type Err = SubjectError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        unhex(text)
            .map(Self)
            .ok_or_else(|| SubjectError::text("salt", "…", "err.subject.rule.hex64"))
    }
}

serde_as_text!(Salt);

/// SHA-256 of a subject's salt, id and fields (`commit`): 64 lowercase hex digits as text.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Commitment([u8; 32]);

impl Commitment {
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Commitment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

impl fmt::Debug for Commitment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Commitment({self})")
    }
}

impl FromStr for Commitment {
    type Err = SubjectError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        unhex(text)
            .map(Self)
            .ok_or_else(|| SubjectError::text("commitment", text, "err.subject.rule.hex64"))
    }
}

serde_as_text!(Commitment);

/// Which kind of person this is; an officer is never a subject (officers are enrolled by key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// A prisoner (warga binaan, SDP).
    Inmate,
    /// A visitor (pengunjung).
    Visitor,
    /// A foreign national (warga negara asing).
    ForeignNational,
    /// A person not (yet) identified (belum dikenal).
    Unidentified,
}

impl SubjectKind {
    /// The name as the statements' `person.kind` spells it, and as the commitment hashes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Inmate => "inmate",
            Self::Visitor => "visitor",
            Self::ForeignNational => "foreign_national",
            Self::Unidentified => "unidentified",
        }
    }
}

/// What one subject's fields are, as stored and as parsed back: every field checked again on the
/// way in (`TryFrom`), so a record that deserializes is a record that validates.
#[derive(serde::Serialize, serde::Deserialize)]
struct FieldsText {
    kind: SubjectKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nik: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    passport: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nationality: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sdp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    birth_date: Option<String>,
}

/// The personal data of one subject. Only `kind` is required; every other field is checked by its
/// `with_…` constructor against the rule `schemas/common.json` gives it (or, for the birth date,
/// a real calendar date in `YYYY-MM-DD`).
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "FieldsText", into = "FieldsText")]
pub struct PersonalFields {
    kind: SubjectKind,
    name: Option<String>,
    nik: Option<String>,
    passport: Option<String>,
    nationality: Option<String>,
    sdp: Option<String>,
    birth_date: Option<String>,
}

// Personal data stays out of logs and panic messages: only the kind and which fields are present.
impl fmt::Debug for PersonalFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let present: Vec<&str> = self
            .encoded()
            .iter()
            .skip(1)
            .filter_map(|(name, value)| value.map(|_| *name))
            .collect();
        write!(f, "PersonalFields({}, {present:?})", self.kind.as_str())
    }
}

fn is_upper_or_digit(c: char) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit()
}

impl PersonalFields {
    /// A subject of this kind of whom nothing else is known yet.
    pub const fn new(kind: SubjectKind) -> Self {
        Self {
            kind,
            name: None,
            nik: None,
            passport: None,
            nationality: None,
            sdp: None,
            birth_date: None,
        }
    }

    /// Full name: 1 to 128 characters (`name` in schemas/common.json), no control characters.
    pub fn with_name(mut self, name: &str) -> Result<Self, SubjectError> {
        let chars = name.chars().count();
        if chars == 0 || chars > NAME_CHARS_MAX || name.chars().any(char::is_control) {
            return Err(SubjectError::field("name", "err.subject.rule.name"));
        }
        self.name = Some(name.to_owned());
        Ok(self)
    }

    /// NIK from the e-ID card: exactly 16 digits (`nik`).
    pub fn with_nik(mut self, nik: &str) -> Result<Self, SubjectError> {
        if nik.len() != 16 || !nik.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SubjectError::field("nik", "err.subject.rule.nik"));
        }
        self.nik = Some(nik.to_owned());
        Ok(self)
    }

    /// Passport number (6–12 upper-case letters and digits, `passport`) with its issuing
    /// nationality: a passport number is unique only within the state that issued it.
    pub fn with_passport(
        mut self,
        passport: &str,
        nationality: &str,
    ) -> Result<Self, SubjectError> {
        if !(PASSPORT_CHARS_MIN..=PASSPORT_CHARS_MAX).contains(&passport.len())
            || !passport.chars().all(is_upper_or_digit)
        {
            return Err(SubjectError::field("passport", "err.subject.rule.passport"));
        }
        self = self.with_nationality(nationality)?;
        self.passport = Some(passport.to_owned());
        Ok(self)
    }

    /// Nationality as an ISO 3166-1 alpha-3 code (`nationality`), e.g. MYS.
    pub fn with_nationality(mut self, nationality: &str) -> Result<Self, SubjectError> {
        if nationality.len() != 3 || !nationality.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(SubjectError::field(
                "nationality",
                "err.subject.rule.nationality",
            ));
        }
        self.nationality = Some(nationality.to_owned());
        Ok(self)
    }

    /// Inmate registration number (`sdp_id`): `^[A-Z0-9][A-Z0-9./-]{3,31}$`.
    pub fn with_sdp(mut self, sdp: &str) -> Result<Self, SubjectError> {
        let mut chars = sdp.chars();
        let first_ok = chars.next().is_some_and(is_upper_or_digit);
        let rest_ok = chars.all(|c| is_upper_or_digit(c) || matches!(c, '.' | '/' | '-'));
        if !first_ok || !rest_ok || !(SDP_CHARS_MIN..=SDP_CHARS_MAX).contains(&sdp.len()) {
            return Err(SubjectError::field("sdp", "err.subject.rule.sdp"));
        }
        self.sdp = Some(sdp.to_owned());
        Ok(self)
    }

    /// Date of birth: a real calendar date written `YYYY-MM-DD`.
    pub fn with_birth_date(mut self, date: &str) -> Result<Self, SubjectError> {
        if !is_calendar_date(date) {
            return Err(SubjectError::field(
                "birth_date",
                "err.subject.rule.birth_date",
            ));
        }
        self.birth_date = Some(date.to_owned());
        Ok(self)
    }

    pub const fn kind(&self) -> SubjectKind {
        self.kind
    }

    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    pub fn nik(&self) -> Option<&str> {
        self.nik.as_deref()
    }

    pub fn passport(&self) -> Option<&str> {
        self.passport.as_deref()
    }

    pub fn nationality(&self) -> Option<&str> {
        self.nationality.as_deref()
    }

    pub fn sdp(&self) -> Option<&str> {
        self.sdp.as_deref()
    }

    pub fn birth_date(&self) -> Option<&str> {
        self.birth_date.as_deref()
    }

    /// The fields in commitment order (docs/FORMAT.md, "Subject commitments"), by their names.
    fn encoded(&self) -> [(&'static str, Option<&str>); 7] {
        [
            ("kind", Some(self.kind.as_str())),
            ("name", self.name()),
            ("nik", self.nik()),
            ("passport", self.passport()),
            ("nationality", self.nationality()),
            ("sdp", self.sdp()),
            ("birth_date", self.birth_date()),
        ]
    }
}

impl TryFrom<FieldsText> for PersonalFields {
    type Error = SubjectError;

    fn try_from(t: FieldsText) -> Result<Self, Self::Error> {
        let mut f = Self::new(t.kind);
        if let Some(v) = &t.name {
            f = f.with_name(v)?;
        }
        if let Some(v) = &t.nik {
            f = f.with_nik(v)?;
        }
        match (&t.passport, &t.nationality) {
            (Some(p), Some(n)) => f = f.with_passport(p, n)?,
            (Some(_), None) => {
                return Err(SubjectError::field(
                    "nationality",
                    "err.subject.rule.nationality_with_passport",
                ));
            }
            (None, Some(n)) => f = f.with_nationality(n)?,
            (None, None) => {}
        }
        if let Some(v) = &t.sdp {
            f = f.with_sdp(v)?;
        }
        if let Some(v) = &t.birth_date {
            f = f.with_birth_date(v)?;
        }
        Ok(f)
    }
}

impl From<PersonalFields> for FieldsText {
    fn from(f: PersonalFields) -> Self {
        Self {
            kind: f.kind,
            name: f.name,
            nik: f.nik,
            passport: f.passport,
            nationality: f.nationality,
            sdp: f.sdp,
            birth_date: f.birth_date,
        }
    }
}

/// True for `YYYY-MM-DD` naming a day of the proleptic Gregorian calendar (year 0001 or later).
fn is_calendar_date(text: &str) -> bool {
    let b = text.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return false;
    }
    let num =
        |r: std::ops::Range<usize>| b[r].iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    let (year, month, day) = (num(0..4), num(5..7), num(8..10));
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year >= 1 && (1..=days).contains(&day)
}

/// The commitment to `fields` under `salt` for subject `id`: SHA-256 over the encoding of
/// docs/FORMAT.md, "Subject commitments" — the tag, the 16 id bytes, the 32 salt bytes, then each
/// field in a fixed order as a presence byte (0 or 1) and, when present, its UTF-8 length as a
/// big-endian u32 and its bytes.
pub fn commit(salt: &Salt, id: &SubjectId, fields: &PersonalFields) -> Commitment {
    let mut h = Sha256::new();
    h.update(COMMITMENT_TAG);
    h.update(id.as_bytes());
    h.update(salt.as_bytes());
    for (_, value) in fields.encoded() {
        match value {
            None => h.update([0u8]),
            Some(text) => {
                // Every field is bounded far below 4 GiB (a name is ≤ 128 characters), so the
                // length always fits; saturating keeps the function total all the same.
                let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
                h.update([1u8]);
                h.update(len.to_be_bytes());
                h.update(text.as_bytes());
            }
        }
    }
    Commitment(h.finalize().into())
}

/// True if `commitment` is the commitment to exactly these fields for this id under this salt.
/// A plain comparison suffices: the commitment is public, and the check leaks only what the
/// caller already holds.
pub fn opens(
    commitment: &Commitment,
    salt: &Salt,
    id: &SubjectId,
    fields: &PersonalFields,
) -> bool {
    commit(salt, id, fields) == *commitment
}

/// Month abbreviations, English and Indonesian, as they appear in dates written `17AUG2025`.
const MONTHS: [&str; 16] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC", "MEI",
    "AGU", "OKT", "DES",
];

/// `17AUG2025`, `1JAN25`: a day, a month's abbreviation and a year — a date, not a passport.
fn is_compact_date(token: &str) -> bool {
    let day_len = token.bytes().take_while(u8::is_ascii_digit).count();
    let rest = &token[day_len..];
    (1..=2).contains(&day_len)
        && MONTHS.iter().any(|m| {
            rest.strip_prefix(m)
                .is_some_and(|y| matches!(y.len(), 2 | 4) && y.bytes().all(|b| b.is_ascii_digit()))
        })
}

/// `500MG`, `12KG`, `3PCS`: a quantity and its unit — digits then at most three letters.
fn is_quantity(token: &str) -> bool {
    let digits = token.bytes().take_while(u8::is_ascii_digit).count();
    let letters = &token[digits..];
    digits > 0
        && (1..=3).contains(&letters.len())
        && letters.bytes().all(|b| b.is_ascii_uppercase())
}

/// A token shaped like a passport number: 6–12 upper-case letters and digits with at least two
/// digits and one letter, and not a compact date or a quantity with its unit.
fn is_passport_like(token: &str) -> bool {
    let digits = token.bytes().filter(u8::is_ascii_digit).count();
    let letters = token.bytes().filter(u8::is_ascii_uppercase).count();
    (PASSPORT_CHARS_MIN..=PASSPORT_CHARS_MAX).contains(&token.len())
        && digits + letters == token.len()
        && digits >= 2
        && letters >= 1
        && !is_compact_date(token)
        && !is_quantity(token)
}

/// Whether free text (an officer's note) holds something shaped like a person's identifier, so
/// that a caller can refuse to record it in the log: `Some("nik")` for a run of exactly 16 digits
/// (longer runs, such as an officer's 18-digit NIP, are not NIKs), `Some("passport")` for a word of
/// letters and digits shaped like a passport number (`is_passport_like`), `None` otherwise. Words
/// are split at every character that is not an ASCII letter or digit, so the parts of item ids,
/// dates and statement ids (`BB-2025-000418`, `2025-08-17`, lower-case UUIDs) never match.
pub fn looks_like_identifier(text: &str) -> Option<&'static str> {
    let digit_runs = text.split(|c: char| !c.is_ascii_digit());
    if digit_runs.into_iter().any(|run| run.len() == 16) {
        return Some("nik");
    }
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .any(is_passport_like)
        .then_some("passport")
}

/// What replaces an identifier a re-founding masks in free text (`mask_identifiers`): a word an
/// officer reading the note understands, and one `looks_like_identifier` never matches.
pub const IDENTIFIER_MASK: &str = "[disamarkan]";

/// `text` with everything `looks_like_identifier` finds replaced by `IDENTIFIER_MASK` — each
/// passport-shaped word, and each run of exactly 16 digits — and how many were replaced.
pub fn mask_identifiers(text: &str) -> (String, usize) {
    let (mut out, mut masked) = mask_pass(text);
    // Masking a NIK inside a longer word can leave a passport-shaped rest standing alone
    // (`0000000000000000A0000000`); each further pass masks at least one more identifier, and the
    // mask itself is never one, so this ends.
    while looks_like_identifier(&out).is_some() {
        let (again, more) = mask_pass(&out);
        out = again;
        masked += more;
    }
    (out, masked)
}

/// One pass of `mask_identifiers` over the words of `text`.
fn mask_pass(text: &str) -> (String, usize) {
    let mut out = String::with_capacity(text.len());
    let mut masked = 0;
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| c.is_ascii_alphanumeric()) {
        out.push_str(&rest[..start]);
        let word_len = rest[start..]
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len() - start);
        let word = &rest[start..start + word_len];
        if is_passport_like(word) {
            out.push_str(IDENTIFIER_MASK);
            masked += 1;
        } else {
            masked += mask_nik_runs(word, &mut out);
        }
        rest = &rest[start + word_len..];
    }
    out.push_str(rest);
    (out, masked)
}

/// Copies `word` to `out` with each run of exactly 16 digits masked; answers how many.
fn mask_nik_runs(word: &str, out: &mut String) -> usize {
    let mut masked = 0;
    let mut rest = word;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 16 {
            out.push_str(IDENTIFIER_MASK);
            masked += 1;
        } else {
            out.push_str(&rest[..digits]);
        }
        let others = rest[digits..]
            .find(|c: char| c.is_ascii_digit())
            .map_or(rest.len(), |i| digits + i);
        out.push_str(&rest[digits..others]);
        rest = &rest[others..];
    }
    masked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> SubjectId {
        SubjectId::from_bytes([7; 16])
    }

    proptest::proptest! {
        /// Masking leaves nothing `looks_like_identifier` finds, keeps text without identifiers
        /// as it was, and counts one mask per identifier.
        #[test]
        fn masked_text_holds_no_identifier(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    "[0-9]{16}", "[A-Z][0-9]{7}", "[a-z ]{0,12}", "[0-9]{1,15}", "[ ,.:-]{1,3}",
                    "BB-2025-[0-9]{6}", "[0-9]{18}",
                ],
                0..8,
            ),
        ) {
            let text = parts.concat();
            let (masked, count) = mask_identifiers(&text);
            proptest::prop_assert_eq!(looks_like_identifier(&masked), None, "{} -> {}", text, masked);
            if looks_like_identifier(&text).is_none() {
                proptest::prop_assert_eq!(&masked, &text);
                proptest::prop_assert_eq!(count, 0);
            } else {
                proptest::prop_assert!(count > 0);
            }
        }
    }

    #[test]
    fn masking_keeps_the_words_around_an_identifier() {
        let (masked, n) =
            mask_identifiers("milik NIK 3174055708900003, paspor A1234567; NIP 198803222010121003");
        assert_eq!(n, 2);
        assert_eq!(
            masked,
            "milik NIK [disamarkan], paspor [disamarkan]; NIP 198803222010121003"
        );
    }

    #[test]
    fn subject_ids_round_trip_as_text_and_json() {
        let text = id().to_string();
        assert_eq!(text, format!("subj-{}", "07".repeat(16)));
        assert_eq!(text.parse::<SubjectId>(), Ok(id()));
        let json = serde_json::to_string(&id()).expect("serializes");
        assert_eq!(json, format!("\"{text}\""));
        assert_eq!(
            serde_json::from_str::<SubjectId>(&json).expect("parses"),
            id()
        );
        for bad in [
            "subj-07",
            "SUBJ-",
            "subj-ZZ070707070707070707070707070707",
            &text.to_uppercase(),
        ] {
            assert!(bad.parse::<SubjectId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn fields_are_validated_on_the_way_in_and_out() {
        let f = PersonalFields::new(SubjectKind::ForeignNational)
            .with_name("Ahmad bin Ismail")
            .and_then(|f| f.with_passport("A12345678", "MYS"))
            .and_then(|f| f.with_birth_date("1990-02-28"))
            .expect("valid");
        let json = serde_json::to_string(&f).expect("serializes");
        assert_eq!(
            serde_json::from_str::<PersonalFields>(&json).expect("parses"),
            f
        );
        let inmate = PersonalFields::new(SubjectKind::Inmate);
        assert!(inmate.clone().with_nik("317101234567890").is_err());
        assert!(inmate.clone().with_nik("3171012345678901").is_ok());
        assert!(inmate.clone().with_passport("a12345", "MYS").is_err());
        assert!(inmate.clone().with_passport("A12345", "Mys").is_err());
        assert!(inmate.clone().with_sdp("B.I-123/2024").is_ok());
        assert!(inmate.clone().with_sdp("-B.I").is_err());
        assert!(inmate.clone().with_name("").is_err());
        assert!(inmate.clone().with_name(&"x".repeat(129)).is_err());
        assert!(inmate.clone().with_birth_date("2024-02-29").is_ok());
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "0000-01-01",
            "2024-04-31",
        ] {
            assert!(inmate.clone().with_birth_date(bad).is_err(), "{bad}");
        }
        let bad = r#"{"kind":"visitor","nik":"12"}"#;
        assert!(serde_json::from_str::<PersonalFields>(bad).is_err());
        let lone = r#"{"kind":"visitor","passport":"A12345678"}"#;
        assert!(serde_json::from_str::<PersonalFields>(lone).is_err());
    }

    #[test]
    fn debug_shows_no_personal_data() {
        let f = PersonalFields::new(SubjectKind::Visitor)
            .with_nik("3171012345678901")
            .expect("valid");
        let shown = format!("{f:?} {:?}", Salt::from_bytes([9; 32]));
        assert!(
            !shown.contains("3171") && !shown.contains("0909"),
            "{shown}"
        );
    }

    #[test]
    fn absent_and_empty_are_different_commitments() {
        // The presence byte keeps "no name" apart from any name, and lengths keep field
        // boundaries: moving bytes from one field into the next changes the commitment.
        let salt = Salt::from_bytes([1; 32]);
        let a = PersonalFields::new(SubjectKind::Visitor);
        let b = a.clone().with_name("A").expect("valid");
        assert_ne!(commit(&salt, &id(), &a), commit(&salt, &id(), &b));
        assert!(opens(&commit(&salt, &id(), &b), &salt, &id(), &b));
    }

    #[test]
    fn identifier_shapes() {
        assert_eq!(
            looks_like_identifier("NIK 3171012345678901 dia"),
            Some("nik")
        );
        assert_eq!(looks_like_identifier("nik:3171012345678901."), Some("nik"));
        assert_eq!(
            looks_like_identifier("paspor A1234567 Malaysia"),
            Some("passport")
        );
        assert_eq!(looks_like_identifier("AB12CD34"), Some("passport"));
        for clean in [
            "2025-08-17T12:30:00Z",
            "BB-2025-000418 disegel SEG-2025-000418",
            "0198c2a3-5b7e-7c11-9a4e-3f2d1c0b9a88",
            "berat bersih 12500MG, 12500 mg, 3PCS",
            "diterima 17AUG2025 di LPN-JAKARTA",
            "NIP 198503122010011002",
            "SP.Sita/123/VIII/2025/Satresnarkoba",
            "",
        ] {
            assert_eq!(looks_like_identifier(clean), None, "{clean}");
        }
    }
}
