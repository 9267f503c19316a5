//! Domain: who must sign what, the identity state and its rules version, the item state machine,
//! who may act on what (write scope) and read what, the views each admitted statement writes, the
//! audit and the statutory clocks. Pure: no I/O, clock or randomness — every moment it judges at
//! is an input.

pub mod access;
pub mod audit;
pub mod clocks;
pub mod custody;
pub mod privacy;
pub mod projection;
pub mod rules;
pub mod scope;
