//! Time: the one place that reads the wall clock, behind the `Clock` trait so that the pure core
//! and the tests can inject time. Owns the RFC 3339 UTC form used in statements and leaves, and
//! the local times officers type and read (`Zone`: WIB, WITA, WIT or a fixed offset; parsed by
//! `parse_local`, shown by `Timestamp::in_zone`). Must never be bypassed by a direct clock read
//! anywhere else, and never guesses a zone: a local time without one is refused.

use crate::base::words::{Explain, Message, msg};
use std::fmt;
use std::sync::Mutex;

/// A point in time, UTC, with millisecond precision (the precision the log records).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(jiff::Timestamp);

/// A timestamp that is not RFC 3339 in UTC ("Z"), or is outside the supported range; or a local
/// time that names no zone, or no time. The whole message: each sentence opens as the English one
/// always has ("not an RFC 3339 UTC time such as …: "), and the Indonesian says what was wrong.
#[derive(Debug, PartialEq, Eq)]
pub struct TimeError(Message);

crate::english_display!(TimeError);

impl Explain for TimeError {
    fn explain(&self) -> Message {
        self.0.clone()
    }
}

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
            return Err(TimeError(msg("err.time.no_z").quoted("text", &shown)));
        }
        // A leap second would be read as :59, giving two texts for one instant; refuse it.
        if text.get(17..19) == Some("60") {
            return Err(TimeError(
                msg("err.time.leap_second").quoted("text", &shown),
            ));
        }
        let ts: jiff::Timestamp = text.parse().map_err(|e: jiff::Error| {
            TimeError(
                msg("err.time.unreadable")
                    .quoted("text", &shown)
                    .arg("reason", e),
            )
        })?;
        Ok(Self(ts))
    }

    /// From milliseconds since the Unix epoch.
    pub fn from_unix_ms(ms: i64) -> Result<Self, TimeError> {
        jiff::Timestamp::from_millisecond(ms)
            .map(Self)
            .map_err(|e| TimeError(msg("err.time.out_of_range").arg("reason", e)))
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

/// A time zone an officer may name: Indonesia's three (WIB +07:00, WITA +08:00, WIT +09:00), UTC,
/// or a fixed offset. Only fixed offsets: Indonesia has no daylight saving time; a facility's own
/// zone comes from the register of places (`facility_registered`, docs/FORMAT.md §2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Zone {
    Utc,
    Wib,
    Wita,
    Wit,
    /// Seconds east of UTC, a whole number of minutes within ±`ZONE_OFFSET_MINUTES_MAX`.
    Fixed(i32),
}

/// The largest offset from UTC accepted, in minutes: ±14:00 is the widest offset in use
/// anywhere (Kiribati); anything beyond is a typing error.
pub const ZONE_OFFSET_MINUTES_MAX: i32 = 14 * 60;

impl Zone {
    /// Every named zone, for tests and listings.
    pub const NAMED: [Zone; 4] = [Zone::Utc, Zone::Wib, Zone::Wita, Zone::Wit];

    /// `WIB`, `WITA`, `WIT`, `UTC`, `Z` (any case) or `+HH:MM` / `-HH:MM`.
    pub fn parse(text: &str) -> Result<Self, TimeError> {
        let shown = crate::base::class::echo(text);
        match text.to_ascii_uppercase().as_str() {
            "UTC" | "Z" => return Ok(Self::Utc),
            "WIB" => return Ok(Self::Wib),
            "WITA" => return Ok(Self::Wita),
            "WIT" => return Ok(Self::Wit),
            _ => {}
        }
        let bad = || {
            TimeError(
                msg("err.time.not_a_zone")
                    .quoted("text", &shown)
                    .part("zones", msg("err.time.zone_names")),
            )
        };
        let (sign, rest) = match text.as_bytes().first() {
            Some(b'+') => (1, &text[1..]),
            Some(b'-') => (-1, &text[1..]),
            _ => return Err(bad()),
        };
        let (h, m) = rest.split_once(':').ok_or_else(bad)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(bad());
        }
        let h: i32 = h.parse().map_err(|_| bad())?;
        let m: i32 = m.parse().map_err(|_| bad())?;
        let minutes = h * 60 + m;
        if m >= 60 || minutes > ZONE_OFFSET_MINUTES_MAX {
            return Err(bad());
        }
        Ok(Self::Fixed(sign * minutes * 60))
    }

    /// Seconds east of UTC.
    pub fn offset_seconds(self) -> i32 {
        match self {
            Self::Utc => 0,
            Self::Wib => 7 * 3600,
            Self::Wita => 8 * 3600,
            Self::Wit => 9 * 3600,
            Self::Fixed(s) => s,
        }
    }

    /// The zone's name as shown beside a local time: `WIB`, `UTC`, `+05:30`.
    pub fn label(self) -> String {
        match self {
            Self::Utc => "UTC".into(),
            Self::Wib => "WIB".into(),
            Self::Wita => "WITA".into(),
            Self::Wit => "WIT".into(),
            Self::Fixed(s) => {
                let sign = if s < 0 { '-' } else { '+' };
                let m = s.unsigned_abs() / 60;
                format!("{sign}{:02}:{:02}", m / 60, m % 60)
            }
        }
    }

    fn offset(self) -> jiff::tz::Offset {
        jiff::tz::Offset::from_seconds(self.offset_seconds())
            .expect("a zone's offset is within ±14:00")
    }
}

/// Reads a local time as officers write it and returns the one instant it names: `2025-08-04
/// 14:30 WIB` (also `WITA`, `WIT`, `UTC`, `+07:00`, with or without seconds, `T` or a space),
/// or RFC 3339 with an offset (`2025-08-04T14:30:00+07:00`, `…Z`). A time without a zone is
/// refused, naming the zones: the same words mean three instants across Indonesia.
pub fn parse_local(text: &str) -> Result<Timestamp, TimeError> {
    let shown = crate::base::class::echo(text);
    let text = text.trim();
    let (civil, zone) = split_zone(text).ok_or_else(|| {
        TimeError(
            msg("err.time.no_zone")
                .quoted("text", &shown)
                .part("zones", msg("err.time.zone_names")),
        )
    })?;
    let zone = Zone::parse(zone)?;
    if civil.len() >= 19 && civil.get(17..19) == Some("60") {
        return Err(TimeError(
            msg("err.time.leap_second").quoted("text", &shown),
        ));
    }
    let dt: jiff::civil::DateTime = civil.trim().parse().map_err(|e: jiff::Error| {
        TimeError(
            msg("err.time.not_local")
                .quoted("text", &shown)
                .arg("reason", e),
        )
    })?;
    let ts = zone.offset().to_timestamp(dt).map_err(|e| {
        TimeError(
            msg("err.time.local_out_of_range")
                .quoted("text", &shown)
                .arg("reason", e),
        )
    })?;
    Ok(Timestamp(ts))
}

/// Splits `civil time` from its zone: a trailing word (`WIB`, `+07:00`) after a space, an offset
/// or `Z` glued to the time, or None when there is no zone.
fn split_zone(text: &str) -> Option<(&str, &str)> {
    if let Some((civil, zone)) = text.rsplit_once(' ')
        && civil.contains(':')
        && (zone.starts_with(['+', '-']) || zone.chars().all(|c| c.is_ascii_alphabetic()))
    {
        return Some((civil, zone));
    }
    if let Some(civil) = text.strip_suffix(['Z', 'z']) {
        return Some((civil, "Z"));
    }
    // An offset glued to the time: the last '+' or a '-' after the time's colon.
    let time_at = text.find(':')?;
    let at = text[time_at..].rfind(['+', '-'])? + time_at;
    Some((&text[..at], &text[at..]))
}

impl Timestamp {
    /// This instant as local time in `zone`, with the zone: `2025-08-04 09:15:00 WIB`; in UTC,
    /// the RFC 3339 form `2025-08-04T02:15:00Z`.
    pub fn in_zone(self, zone: Zone) -> String {
        if zone == Zone::Utc {
            return self.to_seconds_text();
        }
        let local = self.0.to_zoned(jiff::tz::TimeZone::fixed(zone.offset()));
        format!("{} {}", local.strftime("%Y-%m-%d %H:%M:%S"), zone.label())
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
    #[test]
    fn local_times_in_every_zone_name_one_instant() {
        let utc = Timestamp::parse("2025-08-04T07:30:00Z").expect("valid");
        for text in [
            "2025-08-04 14:30 WIB",
            "2025-08-04 15:30 WITA",
            "2025-08-04 16:30 WIT",
            "2025-08-04 14:30:00 +07:00",
            "2025-08-04T14:30:00+07:00",
            "2025-08-04T07:30:00Z",
            "2025-08-04 07:30 UTC",
            "2025-08-04 14:30 wib",
        ] {
            assert_eq!(parse_local(text), Ok(utc), "{text}");
        }
        assert_eq!(utc.in_zone(Zone::Wib), "2025-08-04 14:30:00 WIB");
        assert_eq!(utc.in_zone(Zone::Utc), "2025-08-04T07:30:00Z");
    }

    #[test]
    fn a_local_time_without_a_zone_is_refused_naming_the_zones() {
        for text in ["2025-08-04 14:30", "2025-08-04T14:30:00", "kemarin"] {
            let e = parse_local(text).expect_err(text).to_string();
            assert!(
                e.contains("WIB") && e.contains("WITA") && e.contains("WIT"),
                "{e}"
            );
        }
        assert!(parse_local("2025-08-04 14:30 XYZ").is_err());
        assert!(parse_local("2025-08-04 14:30 +15:00").is_err());
        assert!(parse_local("2016-12-31 23:59:60 WIB").is_err());
    }

    proptest::proptest! {
        #[test]
        fn local_time_round_trips_in_every_zone(
            secs in 0i64..4_102_444_800,
            zone in proptest::sample::select(vec![
                Zone::Utc, Zone::Wib, Zone::Wita, Zone::Wit, Zone::Fixed(19_800), Zone::Fixed(-36_000),
            ]),
        ) {
            let t = Timestamp::from_unix_ms(secs * 1000).expect("in range");
            let shown = t.in_zone(zone);
            proptest::prop_assert_eq!(parse_local(&shown), Ok(t), "{}", shown);
            let zone_again = Zone::parse(&zone.label()).expect("a label parses");
            proptest::prop_assert_eq!(zone_again.offset_seconds(), zone.offset_seconds());
        }
    }
}
