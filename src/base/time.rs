//! Time: the one place that reads the wall clock, behind the `Clock` trait so that the pure core
//! and the tests can inject time. Owns the RFC 3339 UTC form used in statements and leaves; must
//! never be bypassed by a direct clock read anywhere else.

use std::fmt;
use std::sync::Mutex;

/// A point in time, UTC, with millisecond precision (the precision the log records).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(jiff::Timestamp);

/// A timestamp that is not RFC 3339 in UTC ("Z"), or is outside the supported range.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not an RFC 3339 UTC time such as 2025-08-04T09:30:00Z: {0}")]
pub struct TimeError(String);

impl crate::base::class::Classify for TimeError {
    fn class(&self) -> crate::base::class::Class {
        crate::base::class::Class::Invalid
    }
}

impl Timestamp {
    /// Parses RFC 3339 with a `Z` offset (officers' devices must send UTC so that two statements
    /// are ordered by their text as well as by their instant).
    pub fn parse(text: &str) -> Result<Self, TimeError> {
        let shown = crate::base::class::echo(text);
        if !text.ends_with('Z') {
            return Err(TimeError(format!("{shown:?} does not end in Z")));
        }
        // A leap second would be read as :59, giving two texts for one instant; refuse it.
        if text.get(17..19) == Some("60") {
            return Err(TimeError(format!("{shown:?} names a leap second (:60)")));
        }
        let ts: jiff::Timestamp = text
            .parse()
            .map_err(|e: jiff::Error| TimeError(format!("{shown:?}: {e}")))?;
        Ok(Self(ts))
    }

    /// From milliseconds since the Unix epoch.
    pub fn from_unix_ms(ms: i64) -> Result<Self, TimeError> {
        jiff::Timestamp::from_millisecond(ms)
            .map(Self)
            .map_err(|e| TimeError(e.to_string()))
    }

    pub fn unix_ms(self) -> i64 {
        self.0.as_millisecond()
    }

    /// The canonical text form: `YYYY-MM-DDTHH:MM:SS.mmmZ`, always three fractional digits, so
    /// that a leaf's bytes are a function of the instant alone.
    pub fn to_canonical(self) -> String {
        self.0.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    }

    /// Whole seconds form for human output and default `occurred_at`: `YYYY-MM-DDTHH:MM:SSZ`.
    pub fn to_seconds_text(self) -> String {
        self.0.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    }

    /// This instant plus `ms` milliseconds (saturating at the supported range).
    pub fn plus_ms(self, ms: i64) -> Self {
        Self::from_unix_ms(self.unix_ms().saturating_add(ms)).unwrap_or(self)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_canonical())
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_canonical())
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A source of the current time, injected wherever time is needed.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The machine's wall clock, truncated to milliseconds.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let ms = jiff::Timestamp::now().as_millisecond();
        Timestamp::from_unix_ms(ms).expect("the system clock is within jiff's supported range")
    }
}

/// A clock that only moves when told to: for tests and for replaying a scenario.
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        Self(Mutex::new(start))
    }

    pub fn set(&self, to: Timestamp) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = to;
    }

    pub fn advance_ms(&self, ms: i64) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *t = t.plus_ms(ms);
    }
}

impl ManualClock {
    /// The current time in whole seconds, as a statement's `occurred_at`.
    pub fn now_text(&self) -> String {
        self.now().to_seconds_text()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_round_trips_and_has_millis() {
        let t = Timestamp::parse("2025-08-04T09:30:00Z").expect("valid");
        assert_eq!(t.to_canonical(), "2025-08-04T09:30:00.000Z");
        assert_eq!(Timestamp::parse(&t.to_canonical()).expect("valid"), t);
    }

    #[test]
    fn leap_seconds_are_refused() {
        assert!(Timestamp::parse("2016-12-31T23:59:60Z").is_err());
        assert!(Timestamp::parse("2016-12-31T23:59:59Z").is_ok());
    }

    #[test]
    fn offsets_other_than_z_are_refused() {
        assert!(Timestamp::parse("2025-08-04T09:30:00+07:00").is_err());
        assert!(Timestamp::parse("2025-08-04 09:30").is_err());
    }
}
