//! Keys: `signing`, the one module that names the Ed25519 library — strict verification, key
//! files, OS randomness. Decides nothing about which bytes are signed (the formats do).

pub mod signing;
pub mod tls;
