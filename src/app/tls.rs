//! `custody tls init`: a facility's local CA and server certificate (`keys::tls`) written into a
//! folder as `ca.pem`, `ca-key.pem`, `server.pem` and `server-key.pem`, the keys readable by
//! their owner only (0600). It must never overwrite a file: every path is checked before anything
//! is written, and each file is created new. It decides nothing a certificate says.

use crate::base::class::{Class, Classify};
use crate::base::time::Timestamp;
use crate::base::words::{Explain, Message, msg};
use crate::keys::tls::{self, Pair, Request, TlsError};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The files `tls init` writes, in the order it writes them.
pub const CA_CERT_FILE: &str = "ca.pem";
pub const CA_KEY_FILE: &str = "ca-key.pem";
pub const SERVER_CERT_FILE: &str = "server.pem";
pub const SERVER_KEY_FILE: &str = "server-key.pem";

/// What was written: the four paths and the two certificates' fingerprints.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Written {
    pub ca_cert: PathBuf,
    pub ca_key: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    /// SHA-256 of the CA certificate's DER (`AB:CD:…`): compare it with what a phone shows.
    pub ca_sha256: String,
    /// SHA-256 of the server certificate's DER.
    pub server_sha256: String,
}

#[derive(Debug)]
pub enum InitError {
    Certificate(TlsError),
    Exists(PathBuf),
    Io(PathBuf, std::io::Error),
}

impl From<TlsError> for InitError {
    fn from(e: TlsError) -> Self {
        Self::Certificate(e)
    }
}

crate::english_display!(InitError);

impl Explain for InitError {
    fn explain(&self) -> Message {
        match self {
            Self::Certificate(e) => e.explain(),
            Self::Exists(path) => msg("err.tls_init.exists").arg("path", path.display()),
            Self::Io(path, e) => msg("err.tls_init.io")
                .arg("path", path.display())
                .arg("reason", e),
        }
    }
}

impl Classify for InitError {
    fn class(&self) -> Class {
        match self {
            Self::Certificate(e) => e.class(),
            Self::Exists(_) => Class::Usage,
            Self::Io(..) => Class::Corrupt,
        }
    }
}

/// Generates the CA and server certificate for `request` and writes them into `out` (created
/// when missing). Refuses before writing anything if any of the four files exists.
pub fn init(out: &Path, request: &Request, now: Timestamp) -> Result<Written, InitError> {
    let paths = [CA_CERT_FILE, CA_KEY_FILE, SERVER_CERT_FILE, SERVER_KEY_FILE].map(|f| out.join(f));
    if let Some(existing) = paths.iter().find(|p| p.symlink_metadata().is_ok()) {
        return Err(InitError::Exists(existing.clone()));
    }
    let Pair { ca, server } = tls::generate(request, now)?;
    std::fs::create_dir_all(out).map_err(|e| InitError::Io(out.to_owned(), e))?;
    let [ca_cert, ca_key, server_cert, server_key] = paths;
    write_new(&ca_cert, &ca.cert_pem, 0o644)?;
    write_new(&ca_key, &ca.key_pem, 0o600)?;
    write_new(&server_cert, &server.cert_pem, 0o644)?;
    write_new(&server_key, &server.key_pem, 0o600)?;
    Ok(Written {
        ca_cert,
        ca_key,
        server_cert,
        server_key,
        ca_sha256: ca.fingerprint,
        server_sha256: server.fingerprint,
    })
}

/// Creates `path` (never replacing a file) with `mode` on Unix, writes `text` and syncs it.
fn write_new(path: &Path, text: &str, mode: u32) -> Result<(), InitError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let io = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            InitError::Exists(path.to_owned())
        } else {
            InitError::Io(path.to_owned(), e)
        }
    };
    let mut file = opts.open(path).map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)
}
