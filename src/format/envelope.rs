//! DSSE envelopes ("Dead Simple Signing Envelope", secure-systems-lab): the one place that decides
//! which bytes an officer signs — `PAE(payloadType, payload)` over the statement bytes exactly as
//! the client produced them. Never re-serializes a statement, never decides whether a signer is
//! allowed (that is `rules`).

use crate::base::limits::{
    ENVELOPE_BYTES_MAX, KEY_ID_CHARS_MAX, SIGNATURES_MAX, STATEMENT_BYTES_MAX,
};
use crate::base::words::{Explain, Message, msg};
use crate::keys::signing::{PublicKey, SecretKey, Signature};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE as B64URL};
use serde::{Deserialize, Serialize};

/// The DSSE payload type of every custody statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.custody.statement+json";

/// An envelope that could not be read; names the field and the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvelopeError {
    TooLarge {
        size: usize,
        max: usize,
    },
    /// What is wrong with the JSON (`statement::json_fault`), without serde's own sentence.
    Malformed(Message),
    PayloadType(String),
    PayloadEncoding,
    PayloadTooLarge {
        size: usize,
        max: usize,
    },
    SignatureCount {
        count: usize,
        max: usize,
    },
    KeyId {
        index: usize,
        max: usize,
    },
    SignatureEncoding {
        index: usize,
    },
    DuplicateKeyId {
        index: usize,
        keyid: String,
    },
}

crate::english_display!(EnvelopeError);

impl Explain for EnvelopeError {
    fn explain(&self) -> Message {
        match self {
            Self::TooLarge { size, max } => msg("err.envelope.too_large")
                .arg("size", size)
                .arg("max", max),
            Self::Malformed(problem) => {
                msg("err.envelope.malformed").part("problem", problem.clone())
            }
            Self::PayloadType(got) => msg("err.envelope.payload_type")
                .quoted("got", got)
                .quoted("want", PAYLOAD_TYPE),
            Self::PayloadEncoding => msg("err.envelope.payload_encoding"),
            Self::PayloadTooLarge { size, max } => msg("err.envelope.payload_too_large")
                .arg("size", size)
                .arg("max", max),
            Self::SignatureCount { count, max } => msg("err.envelope.signature_count")
                .arg("count", count)
                .arg("max", max),
            Self::KeyId { index, max } => msg("err.envelope.key_id")
                .arg("index", index)
                .arg("max", max),
            Self::SignatureEncoding { index } => {
                msg("err.envelope.signature_encoding").arg("index", index)
            }
            Self::DuplicateKeyId { index, keyid } => msg("err.envelope.duplicate_key_id")
                .arg("index", index)
                .quoted("keyid", keyid),
        }
    }
}

/// The pre-authentication encoding DSSE signs:
/// `"DSSEv1" SP len(type) SP type SP len(body) SP body`, lengths in ASCII decimal bytes.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload_type.len() + payload.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// One signature of an envelope: the signer's key id and the raw signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeSignature {
    pub keyid: String,
    pub sig: Signature,
}

/// A parsed DSSE envelope around a custody statement. Its signatures are not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    payload: Vec<u8>,
    signatures: Vec<EnvelopeSignature>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireSignature {
    keyid: String,
    sig: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireEnvelope {
    #[serde(rename = "payloadType")]
    payload_type: String,
    payload: String,
    signatures: Vec<WireSignature>,
}

impl Envelope {
    /// Wraps statement bytes with no signatures yet (for signing on one or more devices).
    pub fn unsigned(payload: Vec<u8>) -> Result<Self, EnvelopeError> {
        if payload.len() > STATEMENT_BYTES_MAX {
            return Err(EnvelopeError::PayloadTooLarge {
                size: payload.len(),
                max: STATEMENT_BYTES_MAX,
            });
        }
        Ok(Self {
            payload,
            signatures: Vec::new(),
        })
    }

    /// Parses an envelope as submitted. Requires at least one signature.
    pub fn parse(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        let env = Self::parse_allowing_unsigned(bytes)?;
        if env.signatures.is_empty() {
            return Err(EnvelopeError::SignatureCount {
                count: 0,
                max: SIGNATURES_MAX,
            });
        }
        Ok(env)
    }

    /// Parses an envelope that may still be collecting signatures (`custody sign`).
    pub fn parse_allowing_unsigned(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        if bytes.len() > ENVELOPE_BYTES_MAX {
            return Err(EnvelopeError::TooLarge {
                size: bytes.len(),
                max: ENVELOPE_BYTES_MAX,
            });
        }
        let wire: WireEnvelope = serde_json::from_slice(bytes)
            .map_err(|e| EnvelopeError::Malformed(crate::format::statement::json_fault(&e)))?;
        Self::from_wire(wire)
    }

    fn from_wire(wire: WireEnvelope) -> Result<Self, EnvelopeError> {
        if wire.payload_type != PAYLOAD_TYPE {
            return Err(EnvelopeError::PayloadType(wire.payload_type));
        }
        // DSSE lets producers use either base64 alphabet; we store the standard one.
        let payload = B64
            .decode(&wire.payload)
            .or_else(|_| B64URL.decode(&wire.payload))
            .map_err(|_| EnvelopeError::PayloadEncoding)?;
        let mut env = Self::unsigned(payload)?;
        if wire.signatures.len() > SIGNATURES_MAX {
            return Err(EnvelopeError::SignatureCount {
                count: wire.signatures.len(),
                max: SIGNATURES_MAX,
            });
        }
        for (index, s) in wire.signatures.into_iter().enumerate() {
            if s.keyid.is_empty() || s.keyid.chars().count() > KEY_ID_CHARS_MAX {
                return Err(EnvelopeError::KeyId {
                    index,
                    max: KEY_ID_CHARS_MAX,
                });
            }
            let sig = B64
                .decode(&s.sig)
                .or_else(|_| B64URL.decode(&s.sig))
                .ok()
                .and_then(|b| Signature::from_slice(&b).ok())
                .ok_or(EnvelopeError::SignatureEncoding { index })?;
            if env.signatures.iter().any(|x| x.keyid == s.keyid) {
                return Err(EnvelopeError::DuplicateKeyId {
                    index,
                    keyid: s.keyid,
                });
            }
            env.signatures.push(EnvelopeSignature {
                keyid: s.keyid,
                sig,
            });
        }
        Ok(env)
    }

    /// The statement bytes, exactly as signed.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    pub fn signatures(&self) -> &[EnvelopeSignature] {
        &self.signatures
    }

    /// The bytes every signature covers.
    pub fn signed_bytes(&self) -> Vec<u8> {
        pae(PAYLOAD_TYPE, &self.payload)
    }

    /// Adds (or replaces) this key's signature over the payload.
    pub fn sign(&mut self, key: &SecretKey) -> Result<(), EnvelopeError> {
        let keyid = key.public().key_id();
        let sig = key.sign(&self.signed_bytes());
        if let Some(existing) = self.signatures.iter_mut().find(|s| s.keyid == keyid) {
            existing.sig = sig;
            return Ok(());
        }
        if self.signatures.len() >= SIGNATURES_MAX {
            return Err(EnvelopeError::SignatureCount {
                count: self.signatures.len() + 1,
                max: SIGNATURES_MAX,
            });
        }
        self.signatures.push(EnvelopeSignature { keyid, sig });
        Ok(())
    }

    /// Adds a signature made on another device (a co-signer's, over `signed_bytes`). A key id
    /// already present keeps the signature it has: a draft collects each key's signature once.
    /// Returns whether it was added. Whether the signature verifies is the caller's check.
    pub fn add_signature(&mut self, signature: EnvelopeSignature) -> Result<bool, EnvelopeError> {
        if self.signatures.iter().any(|s| s.keyid == signature.keyid) {
            return Ok(false);
        }
        if self.signatures.len() >= SIGNATURES_MAX {
            return Err(EnvelopeError::SignatureCount {
                count: self.signatures.len() + 1,
                max: SIGNATURES_MAX,
            });
        }
        self.signatures.push(signature);
        Ok(true)
    }

    /// Checks one signature against a key (strict Ed25519 over the PAE bytes).
    pub fn verify_signature(
        &self,
        index: usize,
        key: &PublicKey,
        signed_bytes: &[u8],
    ) -> Result<(), crate::keys::signing::KeyError> {
        let sig = &self
            .signatures
            .get(index)
            .ok_or(crate::keys::signing::KeyError::SignatureInvalid)?
            .sig;
        key.verify_strict(signed_bytes, sig)
    }

    /// The canonical JSON form: fields in the order payloadType, payload, signatures; standard
    /// base64; no whitespace. Leaves embed exactly this.
    pub fn to_json(&self) -> String {
        let wire = WireEnvelope {
            payload_type: PAYLOAD_TYPE.to_owned(),
            payload: B64.encode(&self.payload),
            signatures: self
                .signatures
                .iter()
                .map(|s| WireSignature {
                    keyid: s.keyid.clone(),
                    sig: s.sig.to_base64(),
                })
                .collect(),
        };
        serde_json::to_string(&wire).expect("an envelope of strings always serializes")
    }

    /// The same, pretty-printed for people and files.
    pub fn to_json_pretty(&self) -> String {
        let value: serde_json::Value =
            serde_json::from_str(&self.to_json()).expect("to_json produces JSON");
        serde_json::to_string_pretty(&value).expect("a JSON value always serializes")
    }
}

impl crate::base::class::Classify for EnvelopeError {
    fn class(&self) -> crate::base::class::Class {
        use crate::base::class::Class;
        match self {
            Self::TooLarge { .. } | Self::PayloadTooLarge { .. } => Class::TooLarge,
            _ => Class::Malformed,
        }
    }

    /// The envelope field at fault, as DSSE's JSON spells it.
    fn field(&self) -> Option<String> {
        match self {
            Self::PayloadType(_) => Some("payloadType".into()),
            Self::PayloadEncoding | Self::PayloadTooLarge { .. } => Some("payload".into()),
            Self::SignatureCount { .. } => Some("signatures".into()),
            Self::KeyId { index, .. } | Self::DuplicateKeyId { index, .. } => {
                Some(format!("signatures[{index}].keyid"))
            }
            Self::SignatureEncoding { index } => Some(format!("signatures[{index}].sig")),
            Self::TooLarge { .. } | Self::Malformed(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_specification() {
        // The DSSE spec's own example: PAE("http://example.com/HelloWorld", "hello world").
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn sign_serialize_parse_verify() {
        let key = SecretKey::from_seed(&[9; 32]);
        let mut env = Envelope::unsigned(br#"{"type":"note_added"}"#.to_vec()).expect("small");
        env.sign(&key).expect("room for a signature");
        let back = Envelope::parse(env.to_json().as_bytes()).expect("parses");
        assert_eq!(back, env);
        back.verify_signature(0, &key.public(), &back.signed_bytes())
            .expect("verifies");
        assert_eq!(back.to_json(), env.to_json(), "canonical form is stable");
    }

    #[test]
    fn unsigned_or_foreign_envelopes_are_refused() {
        let env = Envelope::unsigned(b"{}".to_vec()).expect("small");
        assert!(matches!(
            Envelope::parse(env.to_json().as_bytes()),
            Err(EnvelopeError::SignatureCount { count: 0, .. })
        ));
        let foreign =
            r#"{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}"#;
        assert!(matches!(
            Envelope::parse_allowing_unsigned(foreign.as_bytes()),
            Err(EnvelopeError::PayloadType(_))
        ));
    }
}
