//! The classes every failure falls into, and the trait (`Classify`) by which an error names its
//! class. A class is what a user or a program must know to react (fix the input, try again later,
//! ask for access, call for help); the message says which field and which rule. The edges map a
//! class to an exit code (`edge::cli::common::exit_code`) and to an HTTP status
//! (`edge::http_status`), each in one place; this file must never pick either, and no error may
//! choose its own exit code or status.

use crate::base::words::{Explain, Message};
use std::fmt;

/// What kind of failure this is, as both edges report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// The command or request is wrong: a missing or unknown argument, a query parameter that
    /// does not parse, a missing signing key.
    Usage,
    /// The input is not what it claims to be: not JSON, not an envelope, not a key file.
    Malformed,
    /// The input parses, but a field breaks its rule (the schema, a pattern, a range).
    Invalid,
    /// The input is larger than its named limit.
    TooLarge,
    /// A body in a media type the route does not take.
    UnsupportedMedia,
    /// A known route asked with a method it does not answer.
    MethodNotAllowed,
    /// A custody rule refused the statement, or verification found a fault.
    Refused,
    /// The statement id was already recorded with other content.
    Conflict,
    /// No such record, or one the requester may not see (the two are one answer).
    NotFound,
    /// The request's signature does not prove who sent it.
    Unauthenticated,
    /// The requester is known but may not do this.
    Forbidden,
    /// The request took longer than the server allows.
    Timeout,
    /// Not now: the server is unreachable, still opening, overloaded or stopped. Try again.
    Unavailable,
    /// Kept in the device's outbox: NOT yet recorded; `custody sync` sends it later.
    Queued,
    /// Storage failed or holds what cannot be: an I/O error, a damaged ledger or answer.
    Corrupt,
    /// A fault in custody itself.
    Internal,
}

impl Class {
    /// Every class, in the order the docs list them.
    pub const ALL: [Self; 16] = [
        Self::Usage,
        Self::Malformed,
        Self::Invalid,
        Self::TooLarge,
        Self::UnsupportedMedia,
        Self::MethodNotAllowed,
        Self::Refused,
        Self::Conflict,
        Self::NotFound,
        Self::Unauthenticated,
        Self::Forbidden,
        Self::Timeout,
        Self::Unavailable,
        Self::Queued,
        Self::Corrupt,
        Self::Internal,
    ];

    /// The stable machine-readable code: the HTTP error body's `code`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Usage => "bad_request",
            Self::Malformed => "malformed",
            Self::Invalid => "invalid",
            Self::TooLarge => "too_large",
            Self::UnsupportedMedia => "unsupported_media_type",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Refused => "rule",
            Self::Conflict => "conflict",
            Self::NotFound => "not_found",
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden => "forbidden",
            Self::Timeout => "timeout",
            Self::Unavailable => "unavailable",
            Self::Queued => "queued",
            Self::Corrupt => "corrupt",
            Self::Internal => "internal",
        }
    }

    /// True for "not now" (unavailable, timed out): the same request may succeed later, so a
    /// device keeps a statement queued rather than give it up.
    pub const fn try_again_later(self) -> bool {
        matches!(self, Self::Unavailable | Self::Timeout)
    }

    /// The class whose code this is.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An error that knows its class, and the input field it is about when there is one; what it
/// means comes from the catalogue (`Explain`), and its `Display` is the English of that.
pub trait Classify: fmt::Display + Explain {
    fn class(&self) -> Class;

    /// The field at fault, as the input spells it (a JSON pointer, a parameter name).
    fn field(&self) -> Option<String> {
        None
    }
}

/// A failure reported across an interface (a server's answer, an embedded ledger's error), with
/// the class it was given, so the far side's class survives the trip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reported {
    pub class: Class,
    pub message: Message,
    pub field: Option<String>,
}

impl Reported {
    pub fn of(e: &impl Classify) -> Self {
        Self {
            class: e.class(),
            message: e.explain(),
            field: e.field(),
        }
    }
}

impl fmt::Display for Reported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message.english())
    }
}

impl std::error::Error for Reported {}

impl Explain for Reported {
    fn explain(&self) -> Message {
        self.message.clone()
    }
}

impl Classify for Reported {
    fn class(&self) -> Class {
        self.class
    }

    fn field(&self) -> Option<String> {
        self.field.clone()
    }
}

/// `input` as an error message may repeat it: whole up to `ECHO_CHARS_MAX` characters, else its
/// start and an ellipsis, so a hostile 5,000-character id does not come back whole.
pub fn echo(input: &str) -> String {
    let max = crate::base::limits::ECHO_CHARS_MAX;
    match input.char_indices().nth(max) {
        None => input.to_owned(),
        Some((cut, _)) => format!("{}…", &input[..cut]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_round_trip() {
        for class in Class::ALL {
            assert_eq!(Class::from_code(class.code()), Some(class));
        }
        let mut codes: Vec<_> = Class::ALL.iter().map(|c| c.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Class::ALL.len());
        assert_eq!(Class::from_code("no_such_code"), None);
    }

    #[test]
    fn echo_caps_long_input_at_a_char_boundary() {
        assert_eq!(echo("BB-1"), "BB-1");
        let long = "é".repeat(5000);
        let cut = echo(&long);
        assert_eq!(cut.chars().count(), crate::base::limits::ECHO_CHARS_MAX + 1);
        assert!(cut.ends_with('…'));
    }
}
