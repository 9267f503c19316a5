//! Ed25519 keys and signatures: the only module that names `ed25519_dalek`, the only source of
//! operating-system randomness, and the owner of key files (PKCS#8 PEM, mode 0600). It decides
//! how a signature is checked (always `verify_strict`) but never which bytes are signed: that is
//! the envelope's and the note's business.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::Write as _;
use std::path::Path;

pub const PUBLIC_KEY_BYTES: usize = 32;
pub const SIGNATURE_BYTES: usize = 64;

/// Why a key or signature was refused; each says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("public key is not valid base64 of 32 bytes: {0}")]
    PublicKeyEncoding(String),
    #[error("public key is not a valid Ed25519 point; ask the officer to generate a new key")]
    PublicKeyInvalid,
    #[error("public key is a weak (small-order) Ed25519 key and is refused; generate a new key")]
    PublicKeyWeak,
    #[error("signature is not valid base64 of 64 bytes")]
    SignatureEncoding,
    #[error("signature does not verify (strict Ed25519) for this key and message")]
    SignatureInvalid,
    #[error("key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
    #[error("the operating system gave no randomness: {0}")]
    Randomness(String),
}

/// An Ed25519 public key that is a valid, non-weak point.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    pub fn from_bytes(bytes: &[u8; PUBLIC_KEY_BYTES]) -> Result<Self, KeyError> {
        let vk = VerifyingKey::from_bytes(bytes).map_err(|_| KeyError::PublicKeyInvalid)?;
        // Weak keys make signatures that verify for many messages; enrollment must refuse them.
        if vk.is_weak() {
            return Err(KeyError::PublicKeyWeak);
        }
        Ok(Self(vk))
    }

    pub fn from_slice(bytes: &[u8]) -> Result<Self, KeyError> {
        let arr: [u8; PUBLIC_KEY_BYTES] = bytes.try_into().map_err(|_| {
            KeyError::PublicKeyEncoding(format!("{} bytes instead of 32", bytes.len()))
        })?;
        Self::from_bytes(&arr)
    }

    /// Parses standard base64 of the 32 raw key bytes.
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        let bytes = B64
            .decode(text.trim())
            .map_err(|e| KeyError::PublicKeyEncoding(e.to_string()))?;
        Self::from_slice(&bytes)
    }

    pub fn to_bytes(&self) -> [u8; PUBLIC_KEY_BYTES] {
        self.0.to_bytes()
    }

    pub fn to_base64(&self) -> String {
        B64.encode(self.0.as_bytes())
    }

    /// The officer key id used in DSSE signatures: the first 8 bytes of SHA-256 of the raw public
    /// key, as 16 lowercase hex digits. A hint for finding the key, never a substitute for it.
    pub fn key_id(&self) -> String {
        let digest = Sha256::digest(self.0.as_bytes());
        hex(&digest[..8])
    }

    /// Strict Ed25519 verification: rejects non-canonical encodings and small-order components
    /// that the lax check (and batch verification) accept. This is the validity rule.
    pub fn verify_strict(&self, message: &[u8], signature: &Signature) -> Result<(), KeyError> {
        let sig = ed25519_dalek::Signature::from_bytes(&signature.0);
        self.0
            .verify_strict(message, &sig)
            .map_err(|_| KeyError::SignatureInvalid)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_base64())
    }
}

/// Raw signature bytes (not yet known to be valid for anything).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature([u8; SIGNATURE_BYTES]);

impl Signature {
    pub fn from_bytes(bytes: [u8; SIGNATURE_BYTES]) -> Self {
        Self(bytes)
    }

    pub fn from_slice(bytes: &[u8]) -> Result<Self, KeyError> {
        let arr: [u8; SIGNATURE_BYTES] =
            bytes.try_into().map_err(|_| KeyError::SignatureEncoding)?;
        Ok(Self(arr))
    }

    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        let bytes = B64.decode(text).map_err(|_| KeyError::SignatureEncoding)?;
        Self::from_slice(&bytes)
    }

    pub fn to_bytes(&self) -> [u8; SIGNATURE_BYTES] {
        self.0
    }

    pub fn to_base64(&self) -> String {
        B64.encode(self.0)
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", self.to_base64())
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(public {})", self.public().to_base64())
    }
}

/// A private signing key. Never printed, never serialized except to its own 0600 PEM file.
pub struct SecretKey(SigningKey);

impl SecretKey {
    /// A fresh key from the operating system's randomness.
    pub fn generate() -> Result<Self, KeyError> {
        let mut seed = [0u8; 32];
        fill_random(&mut seed)?;
        Ok(Self(SigningKey::from_bytes(&seed)))
    }

    /// A key from a 32-byte seed: deterministic keys for tests, vectors and the demo.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(seed))
    }

    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.0.sign(message).to_bytes())
    }

    pub fn to_pem(&self) -> Result<String, KeyError> {
        self.0
            .to_pkcs8_pem(LineEnding::LF)
            .map(|z| z.to_string())
            .map_err(|e| KeyError::KeyFile {
                path: String::new(),
                reason: format!("cannot encode PKCS#8: {e}"),
            })
    }

    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        SigningKey::from_pkcs8_pem(pem)
            .map(Self)
            .map_err(|e| KeyError::KeyFile {
                path: String::new(),
                reason: format!("not an Ed25519 PKCS#8 PEM private key ({e})"),
            })
    }

    /// Writes the key as PKCS#8 PEM to a new file with mode 0600; refuses to overwrite an
    /// existing file, because overwriting a key loses the officer's identity.
    pub fn write_new_file(&self, path: &Path) -> Result<(), KeyError> {
        let err = |reason: String| KeyError::KeyFile {
            path: path.display().to_string(),
            reason,
        };
        let pem = self.to_pem()?;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            opts.mode(0o600);
        }
        let mut file = opts.open(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                err("already exists; refusing to overwrite a key (choose another --out)".into())
            } else {
                err(e.to_string())
            }
        })?;
        file.write_all(pem.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| err(e.to_string()))
    }

    pub fn read_file(path: &Path) -> Result<Self, KeyError> {
        let err = |reason: String| KeyError::KeyFile {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        Self::from_pem(&text).map_err(|e| match e {
            KeyError::KeyFile { reason, .. } => err(reason),
            other => other,
        })
    }
}

/// Fills `buf` with operating-system randomness (key seeds, UUIDv7 random bits).
pub fn fill_random(buf: &mut [u8]) -> Result<(), KeyError> {
    getrandom::fill(buf).map_err(|e| KeyError::Randomness(e.to_string()))
}

/// Lowercase hex, for key ids and digests shown to people.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_then_verify_strict() {
        let key = SecretKey::from_seed(&[1; 32]);
        let sig = key.sign(b"serah terima");
        key.public()
            .verify_strict(b"serah terima", &sig)
            .expect("verifies");
        assert!(key.public().verify_strict(b"serah terima!", &sig).is_err());
    }

    #[test]
    fn pem_round_trip() {
        let key = SecretKey::from_seed(&[2; 32]);
        let back = SecretKey::from_pem(&key.to_pem().expect("encodes")).expect("decodes");
        assert_eq!(back.public(), key.public());
    }

    #[test]
    fn weak_keys_are_refused() {
        // The identity point (small order): encoding 0x01 followed by zeros.
        let mut weak = [0u8; 32];
        weak[0] = 1;
        assert!(matches!(
            PublicKey::from_bytes(&weak),
            Err(KeyError::PublicKeyWeak)
        ));
    }
}
