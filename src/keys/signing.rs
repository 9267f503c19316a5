//! Ed25519 keys and signatures: the only module that names `ed25519_dalek`, the only source of
//! operating-system randomness, and the owner of key files (PKCS#8 PEM, mode 0600). It decides
//! how a signature is checked (always `verify_strict`) but never which bytes are signed: that is
//! the envelope's and the note's business.
//!
//! Key files are written as PKCS#8 v1 (RFC 5208 `PrivateKeyInfo`, version 0, the 32-byte seed and
//! no public key: RFC 8410 §7), the form OpenSSL 3 and Python's `cryptography` read and write.
//! Both v1 and v2 (RFC 5958 `OneAsymmetricKey`, version 1, with the public key — what earlier
//! versions of custody wrote) are read; a v2 file whose public key is not the one derived from
//! its seed is refused.

use crate::base::words::{Explain, Message, msg};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, KeypairBytes};
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::Write as _;
use std::path::Path;

pub const PUBLIC_KEY_BYTES: usize = 32;
pub const SIGNATURE_BYTES: usize = 64;

/// Why a key or signature was refused; each says what to do about it.
#[derive(Debug)]
pub enum KeyError {
    /// Why the text is not 32 bytes of base64 (the base64 decoder's message, or the length).
    PublicKeyEncoding(Message),
    PublicKeyInvalid,
    PublicKeyWeak,
    SignatureEncoding,
    SignatureInvalid,
    /// `reason`: what is wrong with the file (ours, or the operating system's or PKCS#8's words).
    KeyFile {
        path: String,
        reason: Message,
    },
    Randomness(String),
}

crate::english_display!(KeyError);

impl Explain for KeyError {
    fn explain(&self) -> Message {
        match self {
            Self::PublicKeyEncoding(why) => {
                msg("err.key.public_key_encoding").part("why", why.clone())
            }
            Self::PublicKeyInvalid => msg("err.key.public_key_invalid"),
            Self::PublicKeyWeak => msg("err.key.public_key_weak"),
            Self::SignatureEncoding => msg("err.key.signature_encoding"),
            Self::SignatureInvalid => msg("err.key.signature_invalid"),
            Self::KeyFile { path, reason } => msg("err.key.key_file")
                .arg("path", path)
                .part("reason", reason.clone()),
            Self::Randomness(why) => msg("err.key.randomness").arg("why", why),
        }
    }
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
            KeyError::PublicKeyEncoding(msg("err.key.why.length").arg("bytes", bytes.len()))
        })?;
        Self::from_bytes(&arr)
    }

    /// Parses standard base64 of the 32 raw key bytes.
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        let bytes = B64
            .decode(text.trim())
            .map_err(|e| KeyError::PublicKeyEncoding(Message::verbatim(e.to_string())))?;
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

    pub fn to_bytes(self) -> [u8; SIGNATURE_BYTES] {
        self.0
    }

    pub fn to_base64(self) -> String {
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

    /// The key as PKCS#8 v1 PEM (`-----BEGIN PRIVATE KEY-----`): the seed only, no public key.
    ///
    /// The DER is always 48 bytes, the fixed 16-byte prefix of RFC 8410 §7 then the seed:
    ///
    /// ```text
    /// 30 2e                  SEQUENCE (46 bytes): PrivateKeyInfo
    ///   02 01 00             INTEGER 0: version v1
    ///   30 05 06 03 2b 65 70 SEQUENCE { OID 1.3.101.112 }: id-Ed25519, no parameters
    ///   04 22 04 20 <seed>   OCTET STRING { OCTET STRING (32 bytes) }: CurvePrivateKey
    /// ```
    ///
    /// which is byte for byte what `openssl genpkey -algorithm ed25519` writes. `KeypairBytes`
    /// with no public key encodes exactly this (the pkcs8 crate writes version 0 when the public
    /// key is absent); a unit test pins the bytes. `SigningKey::to_pkcs8_pem` is not used: it
    /// adds the public key and so writes v2, which OpenSSL 3.0 and `cryptography` refuse.
    pub fn to_pem(&self) -> Result<String, KeyError> {
        KeypairBytes {
            secret_key: self.0.to_bytes(),
            public_key: None,
        }
        .to_pkcs8_pem(LineEnding::LF)
        .map(|z| z.to_string())
        .map_err(|e| KeyError::KeyFile {
            path: String::new(),
            reason: msg("err.key.why.encode").arg("error", e),
        })
    }

    /// Reads a PKCS#8 PEM Ed25519 private key, v1 (seed only) or v2 (seed and public key). A v2
    /// public key must be the one derived from the seed; otherwise the file is refused, because
    /// signing with it would make signatures for a key other than the one the file claims.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let refuse = |reason: Message| KeyError::KeyFile {
            path: String::new(),
            reason,
        };
        let pair = KeypairBytes::from_pkcs8_pem(pem)
            .map_err(|e| refuse(msg("err.key.why.not_pem").arg("error", e)))?;
        let key = SigningKey::from_bytes(&pair.secret_key);
        if let Some(stored) = &pair.public_key {
            let derived = key.verifying_key().to_bytes();
            if stored.to_bytes() != derived {
                return Err(refuse(
                    msg("err.key.why.v2_mismatch")
                        .arg("stored", B64.encode(stored.to_bytes()))
                        .arg("derived", B64.encode(derived)),
                ));
            }
        }
        Ok(Self(key))
    }

    /// Writes the key as PKCS#8 v1 PEM (see `to_pem`) to a new file with mode 0600; refuses to
    /// overwrite an existing file, because overwriting a key loses the officer's identity.
    pub fn write_new_file(&self, path: &Path) -> Result<(), KeyError> {
        let err = |reason: Message| KeyError::KeyFile {
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
                err(msg("err.key.why.exists"))
            } else {
                err(Message::verbatim(e.to_string()))
            }
        })?;
        file.write_all(pem.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| err(Message::verbatim(e.to_string())))
    }

    pub fn read_file(path: &Path) -> Result<Self, KeyError> {
        let err = |reason: Message| KeyError::KeyFile {
            path: path.display().to_string(),
            reason,
        };
        let text =
            std::fs::read_to_string(path).map_err(|e| err(Message::verbatim(e.to_string())))?;
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

/// `N` bytes of operating-system randomness: the subject register's keys, salts, nonces and
/// subject ids (`storage::register`), which must never come from anywhere else.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], KeyError> {
    let mut bytes = [0u8; N];
    fill_random(&mut bytes)?;
    Ok(bytes)
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

impl crate::base::class::Classify for KeyError {
    fn class(&self) -> crate::base::class::Class {
        use crate::base::class::Class;
        match self {
            Self::SignatureInvalid => Class::Refused,
            Self::Randomness(_) => Class::Internal,
            _ => Class::Malformed,
        }
    }
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

    /// RFC 8410 §10.3: the example private key, as v1 (the seed only).
    const RFC8410_V1: &str = "-----BEGIN PRIVATE KEY-----\n\
        MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n\
        -----END PRIVATE KEY-----\n";
    /// RFC 8410 §10.3: the same key as v2, with an attribute and the public key.
    const RFC8410_V2: &str = "-----BEGIN PRIVATE KEY-----\n\
        MHICAQEwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n\
        oB8wHQYKKoZIhvcNAQkJFDEPDA1DdXJkbGUgQ2hhaXJzgSEAGb9ECWmEzf6FQbrB\n\
        Z9w7lshQhqowtrbLDFw4rXAxZuE=\n\
        -----END PRIVATE KEY-----\n";
    /// The public key of the RFC 8410 example (the one its v2 form carries).
    const RFC8410_PUBLIC: &str = "Gb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=";

    fn der_of(pem: &str) -> Vec<u8> {
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        B64.decode(body).expect("PEM body is base64")
    }

    #[test]
    fn pem_is_pkcs8_v1_the_fixed_prefix_then_the_seed() {
        let seed = [7u8; 32];
        let pem = SecretKey::from_seed(&seed).to_pem().expect("encodes");
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{pem}");
        assert!(pem.ends_with("-----END PRIVATE KEY-----\n"), "{pem}");
        let mut expected = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        expected.extend_from_slice(&seed);
        assert_eq!(der_of(&pem), expected);
    }

    #[test]
    fn pem_of_the_rfc_8410_key_is_the_rfcs_v1_text() {
        let key = SecretKey::from_pem(RFC8410_V1).expect("the RFC's v1 key reads");
        assert_eq!(key.public().to_base64(), RFC8410_PUBLIC);
        assert_eq!(key.to_pem().expect("encodes"), RFC8410_V1);
    }

    #[test]
    fn v2_with_attributes_and_public_key_is_read() {
        let key = SecretKey::from_pem(RFC8410_V2).expect("the RFC's v2 key reads");
        assert_eq!(key.public().to_base64(), RFC8410_PUBLIC);
        // And it is written back as v1.
        assert_eq!(key.to_pem().expect("encodes"), RFC8410_V1);
    }

    #[test]
    fn v2_files_written_by_earlier_versions_are_read() {
        // Earlier versions wrote `SigningKey::to_pkcs8_pem`: version 1 with the public key.
        let old = SigningKey::from_bytes(&[3; 32])
            .to_pkcs8_pem(LineEnding::LF)
            .expect("encodes");
        assert_eq!(der_of(&old)[..5], [0x30, 0x51, 0x02, 0x01, 0x01]);
        let key = SecretKey::from_pem(&old).expect("an old v2 key reads");
        assert_eq!(key.public(), SecretKey::from_seed(&[3; 32]).public());
    }

    #[test]
    fn v2_with_a_public_key_not_its_own_is_refused() {
        let other = SecretKey::from_seed(&[4; 32]).public().to_bytes();
        let forged = KeypairBytes {
            secret_key: [3; 32],
            public_key: Some(ed25519_dalek::pkcs8::PublicKeyBytes(other)),
        }
        .to_pkcs8_pem(LineEnding::LF)
        .expect("encodes");
        let err = SecretKey::from_pem(&forged).expect_err("a mismatched v2 key is refused");
        let text = err.to_string();
        assert!(
            text.contains("is not the public key of its private key"),
            "{text}"
        );
        assert!(text.contains(&B64.encode(other)), "{text}");
        // Not a curve point at all: refused the same way, never signed with.
        let mut not_a_point = [0xffu8; 32];
        not_a_point[31] = 0x7f;
        let broken = KeypairBytes {
            secret_key: [3; 32],
            public_key: Some(ed25519_dalek::pkcs8::PublicKeyBytes(not_a_point)),
        }
        .to_pkcs8_pem(LineEnding::LF)
        .expect("encodes");
        assert!(SecretKey::from_pem(&broken).is_err());
    }

    #[test]
    fn other_pem_is_refused() {
        for text in [
            "",
            "-----BEGIN PUBLIC KEY-----\n\
             MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n\
             -----END PUBLIC KEY-----\n",
            // A v1 key of another algorithm's OID (X25519, 1.3.101.110).
            "-----BEGIN PRIVATE KEY-----\n\
             MC4CAQAwBQYDK2VuBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n\
             -----END PRIVATE KEY-----\n",
        ] {
            assert!(SecretKey::from_pem(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn key_files_are_v1_new_and_private() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("k.pem");
        let key = SecretKey::from_seed(&[5; 32]);
        key.write_new_file(&path).expect("writes");
        let text = std::fs::read_to_string(&path).expect("reads");
        assert_eq!(der_of(&text)[..5], [0x30, 0x2e, 0x02, 0x01, 0x00]);
        assert_eq!(
            SecretKey::read_file(&path).expect("reads").public(),
            key.public()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = SecretKey::from_seed(&[6; 32]).write_new_file(&path);
        assert!(matches!(again, Err(KeyError::KeyFile { .. })));
        assert_eq!(std::fs::read_to_string(&path).expect("reads"), text);
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
