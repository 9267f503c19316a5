//! Formats: the exact bytes that are signed or hashed — statements and their schemas, DSSE
//! envelopes, leaves, C2SP notes and checkpoints, RFC 6962 Merkle hashing and proofs, the RFC 9421
//! signature base of a read, and the printed digest of a bundle. Pure: no I/O, clock or randomness.

pub mod categories;
pub mod envelope;
pub mod fields;
pub mod httpsig;
pub mod leaf;
pub mod merkle;
pub mod note;
pub mod people;
pub mod printed_digest;
pub mod statement;
pub mod subject;
pub mod tiles;
