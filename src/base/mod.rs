//! Foundation: named limits with their reasons, id newtypes that parse, time behind the `Clock`
//! trait, and lock-free metrics. No I/O, no clock read outside `time::SystemClock`.

pub mod class;
pub mod ids;
pub mod limits;
pub mod metrics;
pub mod time;
