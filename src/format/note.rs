//! Signed notes (C2SP signed-note v1.0.0) and log checkpoints (C2SP tlog-checkpoint v1.0.0).
//!
//! This module owns the exact bytes of every note and checkpoint the ledger signs or reads: the
//! text, the blank separator line, the `— <name> <base64>` signature lines, the key hash and the
//! verifier-key strings. Those bytes must stay identical to what Go's
//! `golang.org/x/mod/sumdb/note` produces and accepts, because auditors and witnesses check our
//! checkpoints with tools we did not write.
//!
//! It must never do I/O, read a clock, draw randomness, or decide which keys are trusted: callers
//! pass the known verifier keys in. Signatures are made and checked only through
//! `crate::keys::signing` (always `verify_strict`); this module never names the Ed25519 library.
//!
//! Where Go is lenient and the C2SP spec allows us to be strict, we are strict, so that every
//! note and key string we accept Go accepts too, and every note we write Go can open:
//! - base64 must be canonical (Go ignores non-zero trailing bits);
//! - key hashes in key strings must be lowercase hex (Go also takes upper case);
//! - key names may not contain control characters (they could never appear in a valid note);
//! - Ed25519 public keys must be valid, non-weak points (`PublicKey::from_bytes`);
//! - every signature line by a known key is verified, including repeats (Go checks only the
//!   first line per key and skips the rest);
//! - a note is at most `NOTE_BYTES_MAX` bytes with at most `NOTE_SIGNATURES_MAX` signature lines;
//! - a checkpoint origin must be a valid `Origin` (printable ASCII without spaces or '+'), so it
//!   is always usable as the log's key name.

use crate::base::ids::{IdError, Origin};
use crate::base::limits::{NOTE_BYTES_MAX, NOTE_SIGNATURES_MAX};
use crate::base::words::{Explain, Message, msg};
use crate::format::merkle::Hash;
use crate::keys::signing::{KeyError, PUBLIC_KEY_BYTES, PublicKey, SecretKey, Signature};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest, Sha256};
use std::fmt;

/// The signature type byte C2SP assigns to Ed25519; it prefixes the key in key strings and is
/// hashed into the key hash, so one key can never be mistaken for another algorithm's.
const ALG_ED25519: u8 = 0x01;

/// Every signature line starts with an em dash (U+2014) and a space. A hyphen looks the same in
/// most fonts, which is exactly why it is spelled out here once.
const SIG_PREFIX: &str = "\u{2014} ";

/// The literal prefix Go puts on signer keys so they are never confused with verifier keys.
const SIGNER_KEY_PREFIX: &str = "PRIVATE+KEY+";

/// How much of an untrusted string an error message repeats: enough to recognise it, never a
/// megabyte of junk in a log line.
const SHOWN_CHARS_MAX: usize = 80;

/// Why a note, key string or checkpoint was refused; each says what is wrong and what to do.
/// Every `reason` is the catalogue key of the sentence that says what is wrong.
#[derive(Debug)]
pub enum NoteError {
    TooLarge {
        bytes: usize,
        max: usize,
    },
    NotUtf8 {
        offset: usize,
    },
    ControlCharacter {
        code: u32,
        offset: usize,
    },
    EmptyText,
    TextMissingNewline,
    NoSignatureBlock,
    MissingFinalNewline,
    MalformedSignatureLine {
        line: usize,
        reason: &'static str,
    },
    TooManySignatures {
        max: usize,
    },
    InvalidKeyName {
        name: String,
        reason: &'static str,
    },
    MalformedVerifierKey {
        reason: &'static str,
    },
    KeyHashMismatch {
        name: String,
        claimed: u32,
        computed: u32,
    },
    UnsupportedAlgorithm(u8),
    WrongKeyLength {
        bytes: usize,
    },
    PublicKey(KeyError),
    MalformedSignerKey {
        reason: &'static str,
    },
    InvalidSignature {
        name: String,
        key_hash: u32,
    },
    AmbiguousKey {
        name: String,
        key_hash: u32,
    },
    NoVerifiedSignature {
        signers: String,
        known: String,
    },
    CheckpointTooShort {
        lines: usize,
    },
    CheckpointMissingNewline,
    CheckpointOrigin(IdError),
    CheckpointSize {
        value: String,
        reason: &'static str,
    },
    CheckpointRoot {
        reason: &'static str,
    },
    CheckpointExtension {
        index: usize,
        reason: &'static str,
    },
    CheckpointOriginMismatch {
        origin: String,
        key_name: String,
    },
}

crate::english_display!(NoteError);

impl Explain for NoteError {
    #[allow(clippy::too_many_lines)] // one arm per variant reads better than a split
    fn explain(&self) -> Message {
        match self {
            Self::TooLarge { bytes, max } => msg("err.note.too_large")
                .arg("bytes", bytes)
                .arg("max", max),
            Self::NotUtf8 { offset } => msg("err.note.not_utf8").arg("offset", offset),
            Self::ControlCharacter { code, offset } => msg("err.note.control_character")
                .arg("code", format!("{code:04X}"))
                .arg("offset", offset),
            Self::EmptyText => msg("err.note.empty_text"),
            Self::TextMissingNewline => msg("err.note.text_missing_newline"),
            Self::NoSignatureBlock => msg("err.note.no_signature_block"),
            Self::MissingFinalNewline => msg("err.note.missing_final_newline"),
            Self::MalformedSignatureLine { line, reason } => {
                msg("err.note.malformed_signature_line")
                    .arg("line", line)
                    .part("reason", msg(reason))
            }
            Self::TooManySignatures { max } => msg("err.note.too_many_signatures").arg("max", max),
            Self::InvalidKeyName { name, reason } => msg("err.note.invalid_key_name")
                .quoted("name", name)
                .part("reason", msg(reason)),
            Self::MalformedVerifierKey { reason } => {
                msg("err.note.malformed_verifier_key").part("reason", msg(reason))
            }
            Self::KeyHashMismatch {
                name,
                claimed,
                computed,
            } => msg("err.note.key_hash_mismatch")
                .quoted("name", name)
                .arg("claimed", format!("{claimed:08x}"))
                .arg("computed", format!("{computed:08x}")),
            Self::UnsupportedAlgorithm(byte) => {
                msg("err.note.unsupported_algorithm").arg("byte", format!("{byte:02x}"))
            }
            Self::WrongKeyLength { bytes } => msg("err.note.wrong_key_length").arg("bytes", bytes),
            Self::PublicKey(e) => msg("err.note.public_key").part("why", e.explain()),
            Self::MalformedSignerKey { reason } => {
                msg("err.note.malformed_signer_key").part("reason", msg(reason))
            }
            Self::InvalidSignature { name, key_hash } => msg("err.note.invalid_signature")
                .arg("name", name)
                .arg("key_hash", format!("{key_hash:08x}")),
            Self::AmbiguousKey { name, key_hash } => msg("err.note.ambiguous_key")
                .quoted("name", name)
                .arg("key_hash", format!("{key_hash:08x}")),
            Self::NoVerifiedSignature { signers, known } => msg("err.note.no_verified_signature")
                .arg("signers", signers)
                .arg("known", known),
            Self::CheckpointTooShort { lines } => {
                msg("err.note.checkpoint_too_short").arg("lines", lines)
            }
            Self::CheckpointMissingNewline => msg("err.note.checkpoint_missing_newline"),
            Self::CheckpointOrigin(e) => msg("err.note.checkpoint_origin").part("why", e.explain()),
            Self::CheckpointSize { value, reason } => msg("err.note.checkpoint_size")
                .quoted("value", value)
                .part("reason", msg(reason)),
            Self::CheckpointRoot { reason } => {
                msg("err.note.checkpoint_root").part("reason", msg(reason))
            }
            Self::CheckpointExtension { index, reason } => msg("err.note.checkpoint_extension")
                .arg("index", index)
                .part("reason", msg(reason)),
            Self::CheckpointOriginMismatch { origin, key_name } => {
                msg("err.note.checkpoint_origin_mismatch")
                    .quoted("origin", origin)
                    .quoted("key_name", key_name)
            }
        }
    }
}

/// The first 80 characters of an untrusted string, for error messages.
fn shown(s: &str) -> String {
    s.chars().take(SHOWN_CHARS_MAX).collect()
}

/// Canonical standard base64 (padded, zero trailing bits). Strictness keeps one byte string to
/// one spelling, so a signature line cannot be re-spelled into a "different" line.
fn decode_b64(text: &str) -> Option<Vec<u8>> {
    if text.is_empty() {
        return None;
    }
    B64.decode(text).ok()
}

/// `s` split at the first `sep`, as Go's `chop`: a missing separator leaves the tail empty.
fn chop(s: &str, sep: char) -> (&str, &str) {
    s.split_once(sep).unwrap_or((s, ""))
}

/// Exactly 8 lowercase hex digits, as Go's `%08x` writes them.
fn parse_hash_hex(text: &str) -> Option<u32> {
    let lower_hex = text.len() == 8
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !lower_hex {
        return None;
    }
    u32::from_str_radix(text, 16).ok()
}

/// Why `name` cannot be a key name, if it cannot (a catalogue key). The C2SP rule is non-empty, no Unicode white
/// space (Rust's `is_whitespace` and Go's `unicode.IsSpace` both follow the Unicode White_Space
/// property), no '+'. We also refuse control characters, which no valid note can carry.
fn key_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("err.note.why.key_name_empty")
    } else if name.contains('+') {
        Some("err.note.why.key_name_plus")
    } else if name.chars().any(char::is_whitespace) {
        Some("err.note.why.key_name_space")
    } else if name.chars().any(char::is_control) {
        Some("err.note.why.key_name_control")
    } else {
        None
    }
}

fn check_key_name(name: &str) -> Result<(), NoteError> {
    match key_name_problem(name) {
        Some(reason) => Err(NoteError::InvalidKeyName {
            name: shown(name),
            reason,
        }),
        None => Ok(()),
    }
}

/// Signed notes may hold no ASCII control character but newline. In a `&str` every byte below
/// 0x20 is such a character (bytes of multi-byte UTF-8 sequences are all 0x80 or above).
fn check_control_chars(text: &str) -> Result<(), NoteError> {
    match text.bytes().position(|b| b < 0x20 && b != b'\n') {
        Some(offset) => Err(NoteError::ControlCharacter {
            code: u32::from(text.as_bytes()[offset]),
            offset,
        }),
        None => Ok(()),
    }
}

/// The rules for a text about to be signed: non-empty, newline-terminated, no control chars.
fn check_text(text: &str) -> Result<(), NoteError> {
    if text.is_empty() {
        return Err(NoteError::EmptyText);
    }
    if !text.ends_with('\n') {
        return Err(NoteError::TextMissingNewline);
    }
    check_control_chars(text)
}

/// 0x01 followed by the 32 key bytes: the "encoded public key" that key strings carry and the
/// key hash covers.
fn encoded_public_key(key: &PublicKey) -> [u8; 1 + PUBLIC_KEY_BYTES] {
    let mut out = [0u8; 1 + PUBLIC_KEY_BYTES];
    out[0] = ALG_ED25519;
    out[1..].copy_from_slice(&key.to_bytes());
    out
}

/// SHA-256 over name, newline and the encoded key, first four bytes big-endian.
fn key_hash_of_encoded(name: &str, encoded: &[u8]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update(encoded);
    let digest = h.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// The C2SP key ID of an Ed25519 key under `name`:
/// `SHA-256(name || 0x0A || 0x01 || public key)[:4]`, big-endian. It identifies the key in
/// signature lines; it is not a security check (the full key is always compared by verifying).
pub fn key_hash(name: &str, key: &PublicKey) -> u32 {
    key_hash_of_encoded(name, &encoded_public_key(key))
}

/// A named Ed25519 verifier key, as in Go's `NewVerifier`: `<name>+<hash>+<base64 key>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    hash: u32,
    key: PublicKey,
}

impl VerifierKey {
    pub fn new(name: &str, key: PublicKey) -> Result<Self, NoteError> {
        check_key_name(name)?;
        Ok(Self {
            name: name.to_owned(),
            hash: key_hash(name, &key),
            key,
        })
    }

    /// Parses a verifier key string. The checks run in Go's order (shape, hash, algorithm,
    /// length) so that the same mangled string fails for the same reason in both.
    pub fn parse(s: &str) -> Result<Self, NoteError> {
        let malformed = |reason| NoteError::MalformedVerifierKey { reason };
        if s.len() > NOTE_BYTES_MAX {
            return Err(malformed("err.note.why.verifier_key_too_long"));
        }
        let (name, rest) = chop(s, '+');
        let (hash16, key64) = chop(rest, '+');
        check_key_name(name)?;
        let claimed =
            parse_hash_hex(hash16).ok_or_else(|| malformed("err.note.why.key_hash_hex"))?;
        let encoded = decode_b64(key64).ok_or_else(|| malformed("err.note.why.key_base64"))?;
        let computed = key_hash_of_encoded(name, &encoded);
        if claimed != computed {
            return Err(NoteError::KeyHashMismatch {
                name: shown(name),
                claimed,
                computed,
            });
        }
        let Some((&alg, raw)) = encoded.split_first() else {
            return Err(malformed("err.note.why.key_empty"));
        };
        if alg != ALG_ED25519 {
            return Err(NoteError::UnsupportedAlgorithm(alg));
        }
        if raw.len() != PUBLIC_KEY_BYTES {
            return Err(NoteError::WrongKeyLength { bytes: raw.len() });
        }
        let key = PublicKey::from_slice(raw).map_err(NoteError::PublicKey)?;
        Ok(Self {
            name: name.to_owned(),
            hash: claimed,
            key,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_hash(&self) -> u32 {
        self.hash
    }

    pub fn public_key(&self) -> &PublicKey {
        &self.key
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}+{:08x}+{}",
            self.name,
            self.hash,
            B64.encode(encoded_public_key(&self.key))
        )
    }
}

/// Parses Go's signer key string `PRIVATE+KEY+<name>+<hash>+<base64(0x01 || seed)>`, checking
/// the hash against the derived public key. For test vectors and interoperability only: the
/// ledger keeps its own keys as PKCS#8 files. Errors never repeat any part of the key data.
pub fn parse_signer_key(s: &str) -> Result<(String, SecretKey), NoteError> {
    let malformed = |reason| NoteError::MalformedSignerKey { reason };
    let rest = s
        .strip_prefix(SIGNER_KEY_PREFIX)
        .ok_or_else(|| malformed("err.note.why.signer_key_prefix"))?;
    let (name, rest) = chop(rest, '+');
    let (hash16, key64) = chop(rest, '+');
    check_key_name(name)?;
    let claimed = parse_hash_hex(hash16).ok_or_else(|| malformed("err.note.why.key_hash_hex"))?;
    let mut encoded = decode_b64(key64).ok_or_else(|| malformed("err.note.why.key_base64"))?;
    let parsed = match encoded.split_first() {
        Some((&ALG_ED25519, seed)) => match <[u8; 32]>::try_from(seed) {
            Ok(seed) => Ok(SecretKey::from_seed(&seed)),
            Err(_) => Err(NoteError::WrongKeyLength { bytes: seed.len() }),
        },
        Some((&alg, _)) => Err(NoteError::UnsupportedAlgorithm(alg)),
        None => Err(malformed("err.note.why.key_empty")),
    };
    // Best effort: do not leave the decoded seed in freed memory (no zeroize dependency here).
    encoded.fill(0);
    std::hint::black_box(&encoded);
    let key = parsed?;
    let computed = key_hash(name, &key.public());
    if claimed != computed {
        return Err(NoteError::KeyHashMismatch {
            name: shown(name),
            claimed,
            computed,
        });
    }
    Ok((name.to_owned(), key))
}

/// Formats Go's signer key string for `name` and an Ed25519 seed. It takes the seed rather than
/// a `SecretKey` because `signing` deliberately does not hand seeds out. The result is secret.
pub fn format_signer_key(name: &str, seed: &[u8; 32]) -> Result<String, NoteError> {
    check_key_name(name)?;
    let public = SecretKey::from_seed(seed).public();
    let mut encoded = [0u8; 33];
    encoded[0] = ALG_ED25519;
    encoded[1..].copy_from_slice(seed);
    let text = format!(
        "{SIGNER_KEY_PREFIX}{name}+{:08x}+{}",
        key_hash(name, &public),
        B64.encode(encoded)
    );
    encoded.fill(0);
    std::hint::black_box(&encoded);
    Ok(text)
}

/// One signature line: who claims to have signed (name and key hash) and the signature bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub key_hash: u32,
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The line as written in a note, newline included.
    fn to_line(&self) -> String {
        let mut raw = Vec::with_capacity(4 + self.signature.len());
        raw.extend_from_slice(&self.key_hash.to_be_bytes());
        raw.extend_from_slice(&self.signature);
        format!("{SIG_PREFIX}{} {}\n", self.name, B64.encode(raw))
    }
}

/// A note split into its text and signature lines. Parsed, NOT verified: nothing in it may be
/// trusted until [`open`] has checked a signature from a known key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<NoteSignature>,
}

impl Note {
    /// Parses the signed-note syntax exactly as Go's `note.Open` does before verifying.
    pub fn parse(bytes: &[u8]) -> Result<Note, NoteError> {
        if bytes.len() > NOTE_BYTES_MAX {
            return Err(NoteError::TooLarge {
                bytes: bytes.len(),
                max: NOTE_BYTES_MAX,
            });
        }
        let all = std::str::from_utf8(bytes).map_err(|e| NoteError::NotUtf8 {
            offset: e.valid_up_to(),
        })?;
        check_control_chars(all)?;
        // The text may itself hold blank lines; the signatures start after the last one, and
        // the text keeps its final newline but not the blank separator line.
        let split = all.rfind("\n\n").ok_or(NoteError::NoSignatureBlock)?;
        let (text, block) = (&all[..split + 1], &all[split + 2..]);
        if block.is_empty() {
            return Err(NoteError::NoSignatureBlock);
        }
        if !block.ends_with('\n') {
            return Err(NoteError::MissingFinalNewline);
        }
        let mut signatures = Vec::new();
        for (index, line) in block.split_terminator('\n').enumerate() {
            if index >= NOTE_SIGNATURES_MAX {
                return Err(NoteError::TooManySignatures {
                    max: NOTE_SIGNATURES_MAX,
                });
            }
            signatures.push(parse_signature_line(line, index + 1)?);
        }
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The text the signatures cover: everything before the blank line, final newline included.
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Text, blank line, signature lines: the inverse of `parse` (base64 is canonical, so the
    /// bytes come back identical).
    fn to_bytes_string(&self) -> String {
        let mut out = String::with_capacity(self.text.len() + 1 + 128 * self.signatures.len());
        out.push_str(&self.text);
        out.push('\n');
        for sig in &self.signatures {
            out.push_str(&sig.to_line());
        }
        out
    }
}

/// One `— <name> <base64(key hash || signature)>` line, without its newline.
fn parse_signature_line(line: &str, number: usize) -> Result<NoteSignature, NoteError> {
    let malformed = |reason| NoteError::MalformedSignatureLine {
        line: number,
        reason,
    };
    let rest = line
        .strip_prefix(SIG_PREFIX)
        .ok_or_else(|| malformed("err.note.why.signature_line_prefix"))?;
    // Like Go: the name ends at the first space, and everything after it must be base64, so a
    // name with a space in it leaves non-base64 text behind and the line is refused.
    let (name, b64) = chop(rest, ' ');
    if let Some(reason) = key_name_problem(name) {
        return Err(malformed(reason));
    }
    let raw = decode_b64(b64).ok_or_else(|| malformed("err.note.why.signature_base64"))?;
    if raw.len() < 5 {
        return Err(malformed("err.note.why.signature_short"));
    }
    let (hash, signature) = raw.split_at(4);
    let key_hash = u32::from_be_bytes(
        hash.try_into()
            .expect("split_at(4) gives exactly four bytes"),
    );
    Ok(NoteSignature {
        name: name.to_owned(),
        key_hash,
        signature: signature.to_vec(),
    })
}

/// The signature line `key` makes over `text` under `name`.
fn signature_for(text: &str, name: &str, key: &SecretKey) -> NoteSignature {
    NoteSignature {
        name: name.to_owned(),
        key_hash: key_hash(name, &key.public()),
        signature: key.sign(text.as_bytes()).to_bytes().to_vec(),
    }
}

/// Refuses to write a note that `Note::parse` would refuse to read back.
fn check_written(note: String, signatures: usize) -> Result<String, NoteError> {
    if note.len() > NOTE_BYTES_MAX {
        return Err(NoteError::TooLarge {
            bytes: note.len(),
            max: NOTE_BYTES_MAX,
        });
    }
    if signatures > NOTE_SIGNATURES_MAX {
        return Err(NoteError::TooManySignatures {
            max: NOTE_SIGNATURES_MAX,
        });
    }
    Ok(note)
}

/// Signs `text` and returns the full note bytes: text + "\n" + one signature line.
pub fn sign(text: &str, name: &str, key: &SecretKey) -> Result<String, NoteError> {
    check_text(text)?;
    check_key_name(name)?;
    let note = Note {
        text: text.to_owned(),
        signatures: vec![signature_for(text, name, key)],
    };
    check_written(note.to_bytes_string(), 1)
}

/// Adds a signature line to an existing note (for cosigning / witnesses later): keeps existing lines.
///
/// The new line goes last. An existing line with the same key name and key hash is dropped, as
/// Go's `note.Sign` does, so re-signing never leaves two lines for one key. This does not verify
/// the existing signatures: a cosigner must [`open`] the note with the keys it trusts first.
pub fn add_signature(note: &str, name: &str, key: &SecretKey) -> Result<String, NoteError> {
    let mut parsed = Note::parse(note.as_bytes())?;
    check_key_name(name)?;
    let new = signature_for(&parsed.text, name, key);
    parsed
        .signatures
        .retain(|s| !(s.name == new.name && s.key_hash == new.key_hash));
    parsed.signatures.push(new);
    let count = parsed.signatures.len();
    check_written(parsed.to_bytes_string(), count)
}

/// A note whose text was covered by at least one valid signature from a known key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenedNote {
    pub text: String,
    /// Names of the known keys whose signatures verified, in note order, each once.
    pub verified_by: Vec<String>,
}

/// Opens a note: parses it, verifies every signature line whose (name, key hash) matches one of
/// `known` (with `PublicKey::verify_strict`) and ignores lines by unknown keys; errors if any
/// known-key signature fails, or if none verifies. Returns the verified text and the names that
/// verified.
///
/// A failing signature from a known key rejects the whole note (C2SP says SHOULD, Go does): a
/// known log or witness never signs bad bytes, so such a line means tampering.
pub fn open(bytes: &[u8], known: &[VerifierKey]) -> Result<OpenedNote, NoteError> {
    let note = Note::parse(bytes)?;
    let mut verified_by: Vec<String> = Vec::new();
    for sig in &note.signatures {
        // C2SP: a key is identified by name AND hash together; sharing only one of them with a
        // known key makes a signature unknown, and unknown signatures are ignored.
        let mut matching = known
            .iter()
            .filter(|k| k.name == sig.name && k.hash == sig.key_hash);
        let Some(first) = matching.next() else {
            continue;
        };
        if matching.any(|other| other.key != first.key) {
            return Err(NoteError::AmbiguousKey {
                name: shown(&sig.name),
                key_hash: sig.key_hash,
            });
        }
        let invalid = || NoteError::InvalidSignature {
            name: shown(&sig.name),
            key_hash: sig.key_hash,
        };
        // A signature of the wrong length from a known key is a failed signature, not an
        // unknown one: the key is known, so the note is rejected (as Go does).
        let signature = Signature::from_slice(&sig.signature).map_err(|_| invalid())?;
        first
            .key
            .verify_strict(note.text.as_bytes(), &signature)
            .map_err(|_| invalid())?;
        if !verified_by.contains(&sig.name) {
            verified_by.push(sig.name.clone());
        }
    }
    if verified_by.is_empty() {
        let signers: Vec<String> = note
            .signatures
            .iter()
            .map(|s| format!("{}+{:08x}", shown(&s.name), s.key_hash))
            .collect();
        let known: Vec<String> = known
            .iter()
            .map(|k| format!("{}+{:08x}", shown(&k.name), k.hash))
            .collect();
        return Err(NoteError::NoVerifiedSignature {
            signers: signers.join(", "),
            known: known.join(", "),
        });
    }
    Ok(OpenedNote {
        text: note.text,
        verified_by,
    })
}

/// A transparency-log checkpoint: the tree head a log signs (C2SP tlog-checkpoint).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: Origin,
    pub size: u64,
    pub root: Hash,
    /// Optional opaque lines after the root, each non-empty and without its newline. C2SP does
    /// not recommend them (monitors cannot audit them); they are kept so that we can read and
    /// cosign other logs' checkpoints byte for byte.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// The note text: origin, decimal size, base64 root, extensions, each ending in "\n".
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        );
        for line in &self.extensions {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// Parses checkpoint text strictly: one spelling per checkpoint, so two different texts are
    /// never the same tree head.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        if text.len() > NOTE_BYTES_MAX {
            return Err(NoteError::TooLarge {
                bytes: text.len(),
                max: NOTE_BYTES_MAX,
            });
        }
        check_control_chars(text)?;
        let body = text
            .strip_suffix('\n')
            .ok_or(NoteError::CheckpointMissingNewline)?;
        let lines: Vec<&str> = body.split('\n').collect();
        let [origin, size, root, extensions @ ..] = lines.as_slice() else {
            return Err(NoteError::CheckpointTooShort { lines: lines.len() });
        };
        let origin = Origin::parse(origin).map_err(NoteError::CheckpointOrigin)?;
        let size = parse_tree_size(size)?;
        let root = parse_root(root)?;
        for (index, line) in extensions.iter().enumerate() {
            check_extension(line, index + 1)?;
        }
        Ok(Self {
            origin,
            size,
            root,
            extensions: extensions.iter().map(|s| (*s).to_owned()).collect(),
        })
    }

    /// Fields are public, so a checkpoint built by hand may hold extension lines that would
    /// change the text's line structure; refuse those before signing.
    fn check(&self) -> Result<(), NoteError> {
        for (index, line) in self.extensions.iter().enumerate() {
            check_extension(line, index + 1)?;
        }
        Ok(())
    }
}

fn parse_tree_size(line: &str) -> Result<u64, NoteError> {
    let bad = |reason| NoteError::CheckpointSize {
        value: shown(line),
        reason,
    };
    if line.is_empty() {
        return Err(bad("err.note.why.size_empty"));
    }
    // u64::from_str would also take a leading '+'; only plain digits are a tree size.
    if !line.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("err.note.why.size_digits"));
    }
    if line.len() > 1 && line.starts_with('0') {
        return Err(bad("err.note.why.size_leading_zero"));
    }
    line.parse::<u64>()
        .map_err(|_| bad("err.note.why.size_overflow"))
}

fn parse_root(line: &str) -> Result<Hash, NoteError> {
    let bad = |reason| NoteError::CheckpointRoot { reason };
    let bytes = decode_b64(line).ok_or_else(|| bad("err.note.why.root_base64"))?;
    Hash::try_from(bytes.as_slice()).map_err(|_| bad("err.note.why.root_length"))
}

fn check_extension(line: &str, index: usize) -> Result<(), NoteError> {
    let bad = |reason| NoteError::CheckpointExtension { index, reason };
    if line.is_empty() {
        return Err(bad("err.note.why.extension_empty"));
    }
    if line.bytes().any(|b| b < 0x20) {
        return Err(bad("err.note.why.extension_control"));
    }
    Ok(())
}

/// Signs a checkpoint under the key name that equals its origin, as C2SP recommends and as
/// witnesses expect.
pub fn sign_checkpoint(cp: &Checkpoint, key: &SecretKey) -> Result<String, NoteError> {
    cp.check()?;
    sign(&cp.to_text(), cp.origin.as_str(), key)
}

/// The checkpoint a signed note carries, parsed but NOT verified: for showing a checkpoint that
/// came from a trusted place, or for arithmetic that a signature check elsewhere vouches for.
pub fn checkpoint_unverified(bytes: &[u8]) -> Result<Checkpoint, NoteError> {
    Checkpoint::parse(Note::parse(bytes)?.text())
}

/// Opens a signed checkpoint: the vkey's name must equal the checkpoint origin.
///
/// The signature is verified before the text is parsed, because unverified text must be
/// ignored; the origin is compared after, so a log's key cannot vouch for another log's origin.
pub fn open_checkpoint(bytes: &[u8], vkey: &VerifierKey) -> Result<Checkpoint, NoteError> {
    let opened = open(bytes, std::slice::from_ref(vkey))?;
    let cp = Checkpoint::parse(&opened.text)?;
    if cp.origin.as_str() != vkey.name() {
        return Err(NoteError::CheckpointOriginMismatch {
            origin: shown(cp.origin.as_str()),
            key_name: shown(vkey.name()),
        });
    }
    Ok(cp)
}

impl crate::base::class::Classify for NoteError {
    fn class(&self) -> crate::base::class::Class {
        crate::base::class::Class::Malformed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str =
        "custody.example.go.id/ledger\n7\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n";

    fn key(n: u8) -> SecretKey {
        SecretKey::from_seed(&[n; 32])
    }

    fn vkey(name: &str, n: u8) -> VerifierKey {
        VerifierKey::new(name, key(n).public()).expect("valid name")
    }

    fn checkpoint() -> Checkpoint {
        let mut root = [0u8; 32];
        for (i, b) in root.iter_mut().enumerate() {
            *b = u8::try_from(i).expect("i < 32");
        }
        Checkpoint {
            origin: Origin::parse("custody.example.go.id/ledger").expect("valid origin"),
            size: 7,
            root,
            extensions: Vec::new(),
        }
    }

    #[test]
    fn checkpoint_text_round_trips() {
        let cp = checkpoint();
        assert_eq!(cp.to_text(), TEXT);
        assert_eq!(Checkpoint::parse(TEXT).expect("parses"), cp);

        let mut big = checkpoint();
        big.size = u64::MAX;
        big.extensions = vec!["ext one".into(), "— two".into()];
        let text = big.to_text();
        assert!(text.ends_with("\next one\n— two\n"));
        assert_eq!(Checkpoint::parse(&text).expect("parses"), big);

        let mut empty = checkpoint();
        empty.size = 0;
        assert_eq!(Checkpoint::parse(&empty.to_text()).expect("parses"), empty);
    }

    #[test]
    fn checkpoint_parse_rejects_malformed_text() {
        let root = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        let size = |s: &str| format!("o.example/log\n{s}\n{root}\n");
        for bad in [
            "07",
            "00",
            "+7",
            "-7",
            "",
            " 7",
            "7 ",
            "0x7",
            "18446744073709551616",
        ] {
            assert!(
                matches!(
                    Checkpoint::parse(&size(bad)),
                    Err(NoteError::CheckpointSize { .. })
                ),
                "size {bad:?} accepted"
            );
        }
        assert!(Checkpoint::parse(&size("0")).is_ok());
        assert!(Checkpoint::parse(&size("10")).is_ok());

        let missing_newline = TEXT.trim_end_matches('\n');
        assert!(matches!(
            Checkpoint::parse(missing_newline),
            Err(NoteError::CheckpointMissingNewline)
        ));

        // 31 bytes, 33 bytes, and a non-canonical spelling of 32 bytes (trailing bits set).
        for bad_root in [
            B64.encode([7u8; 31]),
            B64.encode([7u8; 33]),
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=".to_owned(),
            String::new(),
        ] {
            let text = format!("o.example/log\n1\n{bad_root}\n");
            assert!(
                matches!(
                    Checkpoint::parse(&text),
                    Err(NoteError::CheckpointRoot { .. })
                ),
                "root {bad_root:?} accepted"
            );
        }

        for bad_origin in ["", "has space", "a+b"] {
            let text = format!("{bad_origin}\n1\n{root}\n");
            assert!(
                matches!(
                    Checkpoint::parse(&text),
                    Err(NoteError::CheckpointOrigin(_))
                ),
                "origin {bad_origin:?} accepted"
            );
        }

        assert!(matches!(
            Checkpoint::parse(&format!("o.example/log\n1\n{root}\n\n")),
            Err(NoteError::CheckpointExtension { index: 1, .. })
        ));
        assert!(matches!(
            Checkpoint::parse("o.example/log\n1\n"),
            Err(NoteError::CheckpointTooShort { lines: 2 })
        ));
        assert!(matches!(
            Checkpoint::parse(&format!("o.example/log\r\n1\n{root}\n")),
            Err(NoteError::ControlCharacter { code: 0x0d, .. })
        ));
    }

    #[test]
    fn checkpoint_opens_only_with_its_own_key_and_name() {
        let cp = checkpoint();
        let origin = cp.origin.as_str();
        let note = sign_checkpoint(&cp, &key(1)).expect("signs");
        assert!(note.starts_with(TEXT));
        assert!(note[TEXT.len()..].starts_with("\n— custody.example.go.id/ledger "));

        assert_eq!(
            open_checkpoint(note.as_bytes(), &vkey(origin, 1)).expect("opens"),
            cp
        );
        // Same name, another key: its key hash differs, so the signature is unknown.
        assert!(matches!(
            open_checkpoint(note.as_bytes(), &vkey(origin, 2)),
            Err(NoteError::NoVerifiedSignature { .. })
        ));
        // Same key, another name: also a different key id.
        assert!(matches!(
            open_checkpoint(note.as_bytes(), &vkey("other.example/log", 1)),
            Err(NoteError::NoVerifiedSignature { .. })
        ));
        // A key that really signed, under a name that is not the origin: refused.
        let foreign = sign(TEXT, "other.example/log", &key(1)).expect("signs");
        assert!(matches!(
            open_checkpoint(foreign.as_bytes(), &vkey("other.example/log", 1)),
            Err(NoteError::CheckpointOriginMismatch { .. })
        ));
        // Extension lines that would change the text's shape are refused before signing.
        let mut bad = checkpoint();
        bad.extensions = vec!["two\nlines".into()];
        assert!(matches!(
            sign_checkpoint(&bad, &key(1)),
            Err(NoteError::CheckpointExtension { .. })
        ));
    }

    #[test]
    fn sign_then_add_signature_opens_under_both() {
        let a = vkey("log.example/a", 1);
        let b = vkey("witness.example/b", 2);
        let note = sign(TEXT, a.name(), &key(1)).expect("signs");
        let both = add_signature(&note, b.name(), &key(2)).expect("cosigns");
        assert!(both.starts_with(&note), "existing lines are kept");

        let opened = open(both.as_bytes(), &[a.clone(), b.clone()]).expect("opens");
        assert_eq!(opened.text, TEXT);
        assert_eq!(opened.verified_by, vec![a.name(), b.name()]);
        for only in [&a, &b] {
            let opened = open(both.as_bytes(), std::slice::from_ref(only)).expect("opens");
            assert_eq!(opened.verified_by, vec![only.name()]);
        }
        assert!(matches!(
            open(both.as_bytes(), &[vkey("log.example/a", 3)]),
            Err(NoteError::NoVerifiedSignature { .. })
        ));

        // Re-signing with a key that already signed replaces its line instead of repeating it.
        let again = add_signature(&both, a.name(), &key(1)).expect("re-signs");
        let parsed = Note::parse(again.as_bytes()).expect("parses");
        assert_eq!(parsed.signatures().len(), 2);
        assert_eq!(parsed.signatures()[1].name, a.name());
    }

    #[test]
    fn a_failing_known_signature_rejects_the_note() {
        let a = vkey("log.example/a", 1);
        let b = vkey("witness.example/b", 2);
        let note = sign(TEXT, a.name(), &key(1)).expect("signs");
        // b's name and key hash, but a signature made by another key.
        let mut parsed = Note::parse(note.as_bytes()).expect("parses");
        let mut forged = signature_for(TEXT, b.name(), &key(3));
        forged.key_hash = b.key_hash();
        parsed.signatures.push(forged);
        let bytes = parsed.to_bytes_string();
        assert!(open(bytes.as_bytes(), std::slice::from_ref(&a)).is_ok());
        assert!(matches!(
            open(bytes.as_bytes(), &[a, b]),
            Err(NoteError::InvalidSignature { .. })
        ));
    }

    #[test]
    fn ambiguous_known_keys_are_an_error_but_repeats_are_not() {
        let a = vkey("log.example/a", 1);
        let note = sign(TEXT, a.name(), &key(1)).expect("signs");
        assert!(open(note.as_bytes(), &[a.clone(), a.clone()]).is_ok());
        let mut twin = vkey("log.example/a", 2);
        twin.hash = a.key_hash();
        assert!(matches!(
            open(note.as_bytes(), &[a, twin]),
            Err(NoteError::AmbiguousKey { .. })
        ));
    }

    #[test]
    fn texts_with_blank_lines_round_trip() {
        let a = vkey("a", 1);
        for text in ["\n", "x\n\ny\n", "x\n\n", "x\n\n\n", "x\n\n— a AAAA\n"] {
            let note = sign(text, "a", &key(1)).expect("signs");
            let opened = open(note.as_bytes(), std::slice::from_ref(&a)).expect("opens");
            assert_eq!(opened.text, text);
        }
    }

    #[test]
    fn sign_refuses_what_open_would_refuse() {
        let k = key(1);
        assert!(matches!(sign("", "a", &k), Err(NoteError::EmptyText)));
        assert!(matches!(
            sign("no newline", "a", &k),
            Err(NoteError::TextMissingNewline)
        ));
        assert!(matches!(
            sign("tab\there\n", "a", &k),
            Err(NoteError::ControlCharacter { code: 9, offset: 3 })
        ));
        for name in ["", "a b", "a+b", "a\u{a0}b", "a\u{1}b"] {
            assert!(
                matches!(sign("x\n", name, &k), Err(NoteError::InvalidKeyName { .. })),
                "name {name:?} accepted"
            );
        }
        let huge = "x".repeat(NOTE_BYTES_MAX) + "\n";
        assert!(matches!(
            sign(&huge, "a", &k),
            Err(NoteError::TooLarge { .. })
        ));
    }

    #[test]
    fn parse_enforces_note_syntax_and_bounds() {
        let note = sign("x\n", "a", &key(1)).expect("signs");
        let line = &note["x\n\n".len()..];
        let bad: Vec<(String, &str)> = vec![
            ("x\n".into(), "no blank line"),
            ("x\n\n".into(), "no signatures"),
            (note.trim_end_matches('\n').into(), "truncated"),
            (note.replace('\n', "\r\n"), "CRLF"),
            (format!("{note}trailing text\n"), "line after signatures"),
            (note.replacen('—', "-", 1), "hyphen instead of em dash"),
            (note.replacen("— a ", "— a  ", 1), "two spaces"),
            (note.replacen("— a ", "—  ", 1), "empty name"),
            (format!("x\n\n{}", "— a AAAAAA==\n"), "too short"),
        ];
        for (text, why) in bad {
            assert!(Note::parse(text.as_bytes()).is_err(), "{why} accepted");
        }
        assert!(matches!(
            Note::parse(b"\xffx\n\n"),
            Err(NoteError::NotUtf8 { offset: 0 })
        ));

        let max = format!("x\n\n{}", line.repeat(NOTE_SIGNATURES_MAX));
        assert_eq!(
            Note::parse(max.as_bytes())
                .expect("the limit itself is accepted")
                .signatures()
                .len(),
            NOTE_SIGNATURES_MAX
        );
        let over = format!("{max}{line}");
        assert!(matches!(
            Note::parse(over.as_bytes()),
            Err(NoteError::TooManySignatures { .. })
        ));
        let big = vec![b'x'; NOTE_BYTES_MAX + 1];
        assert!(matches!(Note::parse(&big), Err(NoteError::TooLarge { .. })));
    }

    #[test]
    fn verifier_keys_round_trip_and_check_their_hash() {
        let v = vkey("log.example/a", 1);
        let text = v.to_string();
        assert_eq!(VerifierKey::parse(&text).expect("parses"), v);
        assert!(text.starts_with(&format!("log.example/a+{:08x}+", v.key_hash())));

        // Go's vector: algorithm byte 0x65 with a hash adjusted to match.
        assert!(matches!(
            VerifierKey::parse(
                "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
            ),
            Err(NoteError::UnsupportedAlgorithm(0x65))
        ));
        // Upper-case hash digits: Go takes them, we keep one spelling per key.
        let upper = text.replacen(
            &format!("{:08x}", v.key_hash()),
            &format!("{:08X}", v.key_hash()),
            1,
        );
        if upper != text {
            assert!(VerifierKey::parse(&upper).is_err());
        }
        // A weak (small-order) key is refused even with a matching hash.
        let mut weak = [0u8; 33];
        weak[0] = ALG_ED25519;
        weak[1] = 1;
        let weak_text = format!(
            "w+{:08x}+{}",
            key_hash_of_encoded("w", &weak),
            B64.encode(weak)
        );
        assert!(matches!(
            VerifierKey::parse(&weak_text),
            Err(NoteError::PublicKey(KeyError::PublicKeyWeak))
        ));
    }

    #[test]
    fn signer_keys_round_trip() {
        let seed = [9u8; 32];
        let skey = format_signer_key("log.example/a", &seed).expect("formats");
        let (name, parsed) = parse_signer_key(&skey).expect("parses");
        assert_eq!(name, "log.example/a");
        assert_eq!(parsed.public(), SecretKey::from_seed(&seed).public());
        assert!(parse_signer_key(&skey["PRIVATE+".len()..]).is_err());
        let wrong_hash = skey.replacen("log.example/a", "log.example/b", 1);
        assert!(matches!(
            parse_signer_key(&wrong_hash),
            Err(NoteError::KeyHashMismatch { .. })
        ));
        let shown = parse_signer_key(&wrong_hash)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            !shown.contains(&skey[skey.len() - 20..]),
            "errors never repeat key data"
        );
    }
}
