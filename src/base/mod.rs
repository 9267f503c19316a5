//! Foundation: named limits with their reasons, id newtypes that parse, time behind the `Clock`
//! trait, lock-free metrics, and the catalogue of words every message is said from. No I/O, no clock read outside `time::SystemClock`.

pub mod class;
pub mod ids;
pub mod limits;
pub mod metrics;
pub mod time;
pub mod words;
