//! Content-addressed blobs beside the ledger: the photos, scans and lab reports that statements
//! name by digest (`photos`, `media`, `report_digest`), kept as
//! `private/blobs/sha256/<2 hex>/<62 hex>`. Owns writing a blob crash-safely and once, reading it
//! back only after its SHA-256 matches its name, and telling its media type by its first bytes.
//! Never puts a blob into the log, never writes outside `private/blobs/` (photos may show people:
//! no mirror or export copies them), and never decides who may read one — the HTTP edge does,
//! through the views' digest index.

use crate::base::class::{Class, Classify};
use crate::base::limits::PHOTO_BYTES_MAX;
use crate::base::words::{Explain, Message, msg};
use crate::storage::layout::BLOBS_DIR;
use crate::storage::recovery::sync_dir;
use sha2::Digest as _;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

/// A digest's text: `sha256:` and 64 lowercase hex digits (docs/EVENTS.md `digest`).
pub const DIGEST_PREFIX: &str = "sha256:";

/// The SHA-256 digest naming a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest([u8; 32]);

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(sha2::Sha256::digest(bytes).into())
    }

    /// `sha256:` and 64 lowercase hex digits, as statements write it.
    pub fn parse(text: &str) -> Result<Self, BlobError> {
        let bad = || BlobError::BadDigest(crate::base::class::echo(text));
        let hex = text.strip_prefix(DIGEST_PREFIX).ok_or_else(bad)?;
        if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(Self(out))
    }

    /// The 64 lowercase hex digits.
    pub fn hex(&self) -> String {
        crate::keys::signing::hex(&self.0)
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{DIGEST_PREFIX}{}", self.hex())
    }
}

/// What a blob may be, told by its first bytes (never by what a client claims).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    Jpeg,
    Png,
    Webp,
    Pdf,
}

impl MediaType {
    /// The type `bytes` start as: JPEG (`FF D8 FF`), PNG (its 8-byte signature), WebP (`RIFF`,
    /// a size, `WEBP`) or PDF (`%PDF-`); anything else is `None`.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else if bytes.starts_with(b"%PDF-") {
            Some(Self::Pdf)
        } else {
            None
        }
    }

    /// The media type sent as `Content-Type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Pdf => "application/pdf",
        }
    }
}

/// Why a blob was not stored or not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobError {
    BadDigest(String),
    DigestMismatch {
        claimed: Digest,
        actual: Digest,
    },
    TooLarge {
        bytes: u64,
    },
    UnsupportedType,
    /// A stored blob whose bytes no longer hash to its name (or that could never have been
    /// written): never served.
    Corrupt(Digest),
    Io(Message),
}

crate::english_display!(BlobError);

impl Explain for BlobError {
    fn explain(&self) -> Message {
        match self {
            Self::BadDigest(text) => msg("err.blob.bad_digest").quoted("digest", text),
            Self::DigestMismatch { claimed, actual } => msg("err.blob.digest_mismatch")
                .arg("actual", actual)
                .arg("claimed", claimed),
            Self::TooLarge { bytes } => msg("err.blob.too_large")
                .arg("bytes", bytes)
                .arg("max", PHOTO_BYTES_MAX),
            Self::UnsupportedType => msg("err.blob.unsupported_type"),
            Self::Corrupt(digest) => msg("err.blob.corrupt").arg("digest", digest),
            Self::Io(reason) => msg("err.blob.io").part("reason", reason.clone()),
        }
    }
}

impl Classify for BlobError {
    fn class(&self) -> Class {
        match self {
            Self::BadDigest(_) => Class::Usage,
            Self::DigestMismatch { .. } => Class::Malformed,
            Self::TooLarge { .. } => Class::TooLarge,
            Self::UnsupportedType => Class::UnsupportedMedia,
            Self::Corrupt(_) => Class::Corrupt,
            Self::Io(_) => Class::Internal,
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            Self::BadDigest(_) => Some("digest".into()),
            Self::DigestMismatch { .. } | Self::TooLarge { .. } | Self::UnsupportedType => {
                Some("body".into())
            }
            Self::Corrupt(_) | Self::Io(_) => None,
        }
    }
}

/// What `put` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    pub digest: Digest,
    /// False when an intact blob of that digest was there already.
    pub new: bool,
}

/// A blob read back and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    pub bytes: Vec<u8>,
    /// By its first bytes; `None` only for a blob stored before the type rule (never by `put`).
    pub media: Option<MediaType>,
}

/// The blobs of one ledger folder.
#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

/// An I/O failure on `path`; `what` is the catalogue key of the sentence saying what was being
/// done, with `{path}` and `{reason}` (the system's own words).
fn io(path: &Path, what: &'static str, e: &std::io::Error) -> BlobError {
    BlobError::Io(msg(what).arg("path", path.display()).arg("reason", e))
}

impl BlobStore {
    /// The blobs of the ledger folder `ledger_dir` (nothing is created until the first `put`).
    pub fn new(ledger_dir: &Path) -> Self {
        Self {
            root: ledger_dir.join(BLOBS_DIR),
        }
    }

    /// Where the blob `digest` lives: `sha256/<first 2 hex>/<other 62 hex>` (256 folders keep
    /// each one small).
    pub fn path(&self, digest: &Digest) -> PathBuf {
        let hex = digest.hex();
        self.root.join("sha256").join(&hex[..2]).join(&hex[2..])
    }

    /// Stores `bytes` under their own digest (see `put_as`).
    pub fn put(&self, bytes: &[u8]) -> Result<Stored, BlobError> {
        self.put_as(&Digest::of(bytes), bytes)
    }

    /// Stores `bytes` as the blob `claimed`, refusing them when they are too large, of a type not
    /// taken, or do not hash to `claimed`. Idempotent: an intact blob already there is kept
    /// (`new: false`); a damaged one is replaced. Crash-safe: written to a temporary name of its
    /// own (two uploads of one digest never share one), `fsync`ed, renamed into place, and the
    /// folder `fsync`ed, so a crash leaves the blob whole or absent (and perhaps a `.tmp` file).
    pub fn put_as(&self, claimed: &Digest, bytes: &[u8]) -> Result<Stored, BlobError> {
        if bytes.len() > PHOTO_BYTES_MAX {
            return Err(BlobError::TooLarge {
                bytes: bytes.len() as u64,
            });
        }
        let actual = Digest::of(bytes);
        if actual != *claimed {
            return Err(BlobError::DigestMismatch {
                claimed: *claimed,
                actual,
            });
        }
        if MediaType::sniff(bytes).is_none() {
            return Err(BlobError::UnsupportedType);
        }
        if matches!(self.get(claimed), Ok(Some(_))) {
            return Ok(Stored {
                digest: actual,
                new: false,
            });
        }
        let path = self.path(claimed);
        let dir = path.parent().unwrap_or(&self.root).to_path_buf();
        self.make_dirs(&dir)?;
        let suffix = crate::keys::signing::random_bytes::<8>().map_err(|e| {
            BlobError::Io(msg("err.blob.temporary_name").part("reason", e.explain()))
        })?;
        let temp = dir.join(format!(
            "{}.{}.tmp",
            &claimed.hex()[2..],
            crate::keys::signing::hex(&suffix)
        ));
        write_new(&temp, bytes)?;
        std::fs::rename(&temp, &path).map_err(|e| io(&path, "err.blob.renaming_into", &e))?;
        sync_dir(&dir).map_err(|e| BlobError::Io(e.explain()))?;
        Ok(Stored {
            digest: actual,
            new: true,
        })
    }

    /// Creates `dir` and the folders above it up to `private/`, each new one made durable in its
    /// parent.
    fn make_dirs(&self, dir: &Path) -> Result<(), BlobError> {
        if dir.is_dir() {
            return Ok(());
        }
        if let Some(parent) = dir.parent()
            && dir != self.root
        {
            self.make_dirs(parent)?;
        }
        match std::fs::create_dir(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(()),
            Err(e) => return Err(io(dir, "err.store.io_creating", &e)),
        }
        sync_dir(dir.parent().unwrap_or(dir)).map_err(|e| BlobError::Io(e.explain()))
    }

    /// The blob `digest`, after checking on this read that its bytes hash to it: `None` when
    /// there is none, `Corrupt` when what is there does not match (or is larger than any blob
    /// `put` writes).
    pub fn get(&self, digest: &Digest) -> Result<Option<Blob>, BlobError> {
        let path = self.path(digest);
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&path, "err.store.io_opening", &e)),
        };
        let mut bytes = Vec::new();
        // One byte beyond the limit tells an oversized file without reading it whole.
        file.take(PHOTO_BYTES_MAX as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| io(&path, "err.store.io_reading", &e))?;
        if bytes.len() > PHOTO_BYTES_MAX || Digest::of(&bytes) != *digest {
            return Err(BlobError::Corrupt(*digest));
        }
        let media = MediaType::sniff(&bytes);
        Ok(Some(Blob { bytes, media }))
    }
}

/// Writes `bytes` to a new file at `path` (mode 0600) and makes them durable.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), BlobError> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| io(path, "err.store.io_creating", &e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| io(path, "err.store.io_writing", &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest JPEG start a sniffer takes, with some bytes after it.
    fn jpeg(tail: &[u8]) -> Vec<u8> {
        let mut b = vec![0xff, 0xd8, 0xff, 0xe0];
        b.extend_from_slice(tail);
        b
    }

    #[test]
    fn a_blob_is_stored_once_under_its_digest_and_checked_on_every_read() {
        let tmp = tempfile::tempdir().expect("tmp");
        // A ledger folder has `private/` (mode 0700); the store never makes it.
        std::fs::create_dir(tmp.path().join("private")).expect("private/");
        let store = BlobStore::new(tmp.path());
        let bytes = jpeg(b"photo");
        let first = store.put(&bytes).expect("stores");
        assert!(first.new);
        let again = store.put(&bytes).expect("stores again");
        assert!(!again.new);
        assert_eq!(first.digest, again.digest);
        let path = store.path(&first.digest);
        let hex = first.digest.hex();
        assert!(path.ends_with(format!("private/blobs/sha256/{}/{}", &hex[..2], &hex[2..])));
        let read = store.get(&first.digest).expect("reads").expect("is there");
        assert_eq!(read.bytes, bytes);
        assert_eq!(read.media, Some(MediaType::Jpeg));

        // One flipped byte on disk: a corrupt blob, never its bytes; a new put heals it.
        let mut damaged = bytes.clone();
        damaged[5] ^= 1;
        std::fs::write(&path, &damaged).expect("damages");
        assert_eq!(
            store.get(&first.digest),
            Err(BlobError::Corrupt(first.digest))
        );
        assert!(store.put(&bytes).expect("heals").new);
        assert!(store.get(&first.digest).expect("reads").is_some());
        let unknown = Digest::of(b"never stored");
        assert_eq!(store.get(&unknown), Ok(None));
    }

    #[test]
    fn wrong_digest_size_and_type_are_refused_and_nothing_is_written() {
        let tmp = tempfile::tempdir().expect("tmp");
        let store = BlobStore::new(tmp.path());
        let bytes = jpeg(b"x");
        let other = Digest::of(b"other");
        assert!(matches!(
            store.put_as(&other, &bytes),
            Err(BlobError::DigestMismatch { .. })
        ));
        assert_eq!(
            store.put(b"GIF89a not taken"),
            Err(BlobError::UnsupportedType)
        );
        let big = jpeg(&vec![0; PHOTO_BYTES_MAX]);
        assert!(matches!(store.put(&big), Err(BlobError::TooLarge { .. })));
        assert!(!tmp.path().join(BLOBS_DIR).exists());
    }

    #[test]
    fn media_types_come_from_magic_bytes_and_digests_parse_strictly() {
        assert_eq!(
            MediaType::sniff(b"\x89PNG\r\n\x1a\n..."),
            Some(MediaType::Png)
        );
        assert_eq!(
            MediaType::sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(MediaType::Webp)
        );
        assert_eq!(MediaType::sniff(b"%PDF-1.7"), Some(MediaType::Pdf));
        assert_eq!(MediaType::sniff(b"<svg"), None);
        let d = Digest::of(b"abc");
        assert_eq!(Digest::parse(&d.to_string()), Ok(d));
        for bad in [
            "sha256:ABC",
            &d.hex(),
            &format!("sha256:{}", d.hex().to_uppercase()),
            &format!("sha512:{}", d.hex()),
        ] {
            assert!(Digest::parse(bad).is_err(), "{bad}");
        }
    }
}
