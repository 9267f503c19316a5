//! Leaves: the bytes the log stores and the Merkle tree commits to. Owns their one canonical
//! encoding (built once by the sequencer) and a decoder that refuses anything not in that form.
//! Never re-encodes a stored leaf to hash it: the stored bytes are the leaf.
//!
//! Form (one line of JSON, no whitespace, fields in this order):
//! `{"seq":N,"recorded_at":"YYYY-MM-DDTHH:MM:SS.mmmZ","prev":"<base64 32 bytes>","envelope":<DSSE>}`

use crate::base::limits::LEAF_BYTES_MAX;
use crate::base::time::Timestamp;
use crate::base::words::{Explain, Message, msg};
use crate::format::envelope::{Envelope, EnvelopeError};
use crate::format::merkle::Hash;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;

/// `prev` of the first leaf (seq 0), which has no predecessor.
pub const GENESIS_PREV: Hash = [0u8; 32];

/// Why bytes are not a leaf in its one canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeafError {
    TooLarge {
        size: usize,
        max: usize,
    },
    /// serde_json's own message: the leaf is read by machines, never typed by a person.
    Malformed(String),
    /// Why the time is not one (the time parser's message).
    RecordedAt(Message),
    Prev,
    Envelope(EnvelopeError),
    NotCanonical,
}

crate::english_display!(LeafError);

impl Explain for LeafError {
    fn explain(&self) -> Message {
        match self {
            Self::TooLarge { size, max } => {
                msg("err.leaf.too_large").arg("size", size).arg("max", max)
            }
            Self::Malformed(problem) => msg("err.leaf.malformed").arg("problem", problem),
            Self::RecordedAt(problem) => {
                msg("err.leaf.recorded_at").part("problem", problem.clone())
            }
            Self::Prev => msg("err.leaf.prev"),
            Self::Envelope(e) => msg("err.leaf.envelope").part("problem", e.explain()),
            Self::NotCanonical => msg("err.leaf.not_canonical"),
        }
    }
}

impl From<EnvelopeError> for LeafError {
    fn from(e: EnvelopeError) -> Self {
        Self::Envelope(e)
    }
}

/// One log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    pub seq: u64,
    pub recorded_at: Timestamp,
    /// The leaf hash of leaf `seq - 1`, or `GENESIS_PREV` for seq 0: the hash chain.
    pub prev: Hash,
    pub envelope: Envelope,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    seq: u64,
    recorded_at: String,
    prev: String,
    envelope: serde_json::Value,
}

impl Leaf {
    /// The canonical bytes. Fails only when the result would exceed `LEAF_BYTES_MAX`.
    pub fn encode(&self) -> Result<Vec<u8>, LeafError> {
        let envelope = self.envelope.to_json();
        let mut out = Vec::with_capacity(envelope.len() + 120);
        out.extend_from_slice(b"{\"seq\":");
        out.extend_from_slice(self.seq.to_string().as_bytes());
        out.extend_from_slice(b",\"recorded_at\":\"");
        out.extend_from_slice(self.recorded_at.to_canonical().as_bytes());
        out.extend_from_slice(b"\",\"prev\":\"");
        out.extend_from_slice(B64.encode(self.prev).as_bytes());
        out.extend_from_slice(b"\",\"envelope\":");
        out.extend_from_slice(envelope.as_bytes());
        out.push(b'}');
        if out.len() > LEAF_BYTES_MAX {
            return Err(LeafError::TooLarge {
                size: out.len(),
                max: LEAF_BYTES_MAX,
            });
        }
        Ok(out)
    }

    /// Decodes leaf bytes, refusing any form but the canonical one so that one leaf hash has
    /// exactly one meaning.
    pub fn decode(bytes: &[u8]) -> Result<Self, LeafError> {
        if bytes.len() > LEAF_BYTES_MAX {
            return Err(LeafError::TooLarge {
                size: bytes.len(),
                max: LEAF_BYTES_MAX,
            });
        }
        let wire: Wire =
            serde_json::from_slice(bytes).map_err(|e| LeafError::Malformed(e.to_string()))?;
        let recorded_at =
            Timestamp::parse(&wire.recorded_at).map_err(|e| LeafError::RecordedAt(e.explain()))?;
        let prev: Hash = B64
            .decode(&wire.prev)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(LeafError::Prev)?;
        let envelope_bytes =
            serde_json::to_vec(&wire.envelope).map_err(|e| LeafError::Malformed(e.to_string()))?;
        let envelope = Envelope::parse(&envelope_bytes)?;
        let leaf = Self {
            seq: wire.seq,
            recorded_at,
            prev,
            envelope,
        };
        if leaf.encode()? != bytes {
            return Err(LeafError::NotCanonical);
        }
        Ok(leaf)
    }
}

impl crate::base::class::Classify for LeafError {
    fn class(&self) -> crate::base::class::Class {
        use crate::base::class::Class;
        match self {
            Self::TooLarge { .. } => Class::TooLarge,
            Self::Envelope(e) => e.class(),
            _ => Class::Invalid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::signing::SecretKey;

    fn sample() -> Leaf {
        let mut envelope = Envelope::unsigned(br#"{"type":"note_added"}"#.to_vec()).expect("small");
        envelope
            .sign(&SecretKey::from_seed(&[3; 32]))
            .expect("signs");
        Leaf {
            seq: 7,
            recorded_at: Timestamp::parse("2025-08-04T02:15:00.250Z").expect("valid"),
            prev: [0xab; 32],
            envelope,
        }
    }

    #[test]
    fn encode_decode_round_trip() {
        let leaf = sample();
        let bytes = leaf.encode().expect("fits");
        assert_eq!(Leaf::decode(&bytes).expect("decodes"), leaf);
    }

    #[test]
    fn non_canonical_bytes_are_refused() {
        let bytes = sample().encode().expect("fits");
        let text = String::from_utf8(bytes).expect("utf-8");
        let spaced = text.replacen("\"seq\":7", "\"seq\": 7", 1);
        assert_eq!(
            Leaf::decode(spaced.as_bytes()),
            Err(LeafError::NotCanonical)
        );
        let reordered = text
            .replacen("{\"seq\":7,", "{", 1)
            .replacen('}', ",\"seq\":7}", 1);
        assert!(Leaf::decode(reordered.as_bytes()).is_err());
    }
}

#[cfg(test)]
mod limit_tests {
    use super::*;
    use crate::base::limits::{SIGNATURES_MAX, STATEMENT_BYTES_MAX};
    use crate::keys::signing::SecretKey;

    #[test]
    fn a_maximal_statement_with_every_signature_fits_one_leaf() {
        let mut envelope =
            Envelope::unsigned(vec![b'x'; STATEMENT_BYTES_MAX]).expect("at the limit");
        for i in 0..SIGNATURES_MAX {
            envelope
                .sign(&SecretKey::from_seed(&[i as u8 + 1; 32]))
                .expect("room");
        }
        let leaf = Leaf {
            seq: u64::MAX,
            recorded_at: Timestamp::parse("2999-12-31T23:59:59.999Z").expect("valid"),
            prev: [0xff; 32],
            envelope,
        };
        let bytes = leaf
            .encode()
            .expect("a maximal leaf fits the tlog-tiles entry limit");
        assert!(bytes.len() <= LEAF_BYTES_MAX);
    }
}
