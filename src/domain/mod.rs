//! Domain: who must sign what, the identity state, the item state machine, the views each
//! admitted statement writes, the audit, the statutory clocks and who may read what. Pure: no
//! I/O, clock or randomness — every moment it judges at is an input.

pub mod access;
pub mod audit;
pub mod clocks;
pub mod custody;
pub mod projection;
pub mod rules;
