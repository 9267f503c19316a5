//! What every command shares: `Failure`, the one place failures become exit codes
//! (`Failure::exit_code`) and the `From` impls that classify the library's errors, opening the
//! ledger or a server (`open`, `source`, `remote`), reading keys and input files, and printing
//! (`print_json`, `show`, `write_stdout`, `progress_bar`). It must never hold a command's own
//! logic or a business rule, and no other module of the CLI may pick an exit code.

use crate::app::ledger::{AppendError, Ledger, OpenError, ProofRequestError};
use crate::app::reads::ReadError;
use crate::app::verify;
use crate::base::time::Clock;
use crate::edge::client::{ClientError, Remote};
use crate::format::note::VerifierKey;
use crate::keys::signing::SecretKey;
use serde_json::Value;
use std::io::{Read as _, Write as _};
use std::path::Path;
use std::sync::Arc;

/// Every way a command can fail, by the exit code it maps to.
#[derive(Debug)]
pub enum Failure {
    /// A rule refused the statement, or verification found a fault: exit 1.
    Rejected(String),
    /// Bad arguments or bad input: exit 2.
    Input(String),
    /// I/O failure or corruption: exit 3.
    Io(String),
}

impl Failure {
    /// The only place failures become exit codes.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Rejected(_) => 1,
            Self::Input(_) => 2,
            Self::Io(_) => 3,
        }
    }

    pub(super) fn message(&self) -> &str {
        match self {
            Self::Rejected(m) | Self::Input(m) | Self::Io(m) => m,
        }
    }
}

impl From<AppendError> for Failure {
    fn from(e: AppendError) -> Self {
        match e {
            AppendError::Envelope(_) | AppendError::Statement(_) | AppendError::Leaf(_) => {
                Self::Input(e.to_string())
            }
            AppendError::Rule(_) | AppendError::IdConflict { .. } => Self::Rejected(e.to_string()),
            AppendError::Storage(_) | AppendError::Stopped(_) => Self::Io(e.to_string()),
        }
    }
}

impl From<OpenError> for Failure {
    fn from(e: OpenError) -> Self {
        match e {
            OpenError::NotALedger { .. } | OpenError::Exists { .. } | OpenError::Key(_) => {
                Self::Input(e.to_string())
            }
            OpenError::Genesis(inner) => Self::from(inner),
            OpenError::Storage(_) | OpenError::Corrupt(_) | OpenError::Io(_) => {
                Self::Io(e.to_string())
            }
        }
    }
}

impl From<ProofRequestError> for Failure {
    fn from(e: ProofRequestError) -> Self {
        match e {
            ProofRequestError::Storage(_) => Self::Io(e.to_string()),
            _ => Self::Input(e.to_string()),
        }
    }
}

impl From<verify::VerifyError> for Failure {
    fn from(e: verify::VerifyError) -> Self {
        match e {
            verify::VerifyError::Read(_) => Self::Io(format!("verification FAILED: {e}")),
            _ => Self::Rejected(format!("verification FAILED: {e}")),
        }
    }
}

pub(super) fn input<E: std::fmt::Display>(what: &str) -> impl Fn(E) -> Failure + '_ {
    move |e| Failure::Input(format!("{what}: {e}"))
}

pub(super) type Outcome = Result<(), Failure>;

impl From<ReadError> for Failure {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::NotFound(_) | ReadError::BadRequest { .. } => Self::Input(e.to_string()),
            ReadError::Refused(m) => Self::Rejected(format!("refused: {m}")),
            ReadError::Unavailable(_) | ReadError::Storage(_) => Self::Io(e.to_string()),
        }
    }
}

/// A server's refusal exits as the same failure does locally: by the error's `code` (422 carries
/// both a field that breaks its schema rule, exit 2 as locally, and a rule's refusal, exit 1), and
/// by the status only when the body has no code custody knows.
pub(super) fn client_failure(e: ClientError) -> Failure {
    match &e {
        ClientError::Refused { status, code, .. } => match (code.as_str(), status) {
            (
                "malformed" | "invalid_field" | "invalid_leaf" | "too_large" | "bad_request"
                | "not_found",
                _,
            ) => Failure::Input(e.to_string()),
            ("rule" | "id_conflict" | "unauthenticated" | "forbidden", _) => {
                Failure::Rejected(e.to_string())
            }
            (_, 400 | 404 | 413) => Failure::Input(e.to_string()),
            (_, 401 | 403 | 409 | 422) => Failure::Rejected(e.to_string()),
            _ => Failure::Io(e.to_string()),
        },
        ClientError::Setup(_) => Failure::Input(e.to_string()),
        ClientError::Unreachable { .. } | ClientError::Protocol(_) | ClientError::Outbox { .. } => {
            Failure::Io(e.to_string())
        }
    }
}

pub(super) fn remote(
    url: &str,
    key: Option<SecretKey>,
    ca_cert: Option<&Path>,
    clock: &Arc<dyn Clock>,
) -> Result<Remote, Failure> {
    Remote::new(url, key, ca_cert, Arc::clone(clock)).map_err(client_failure)
}

/// `--as-of TIME`, or now.
pub(super) fn as_of_arg(
    arg: Option<String>,
    clock: &dyn Clock,
) -> Result<crate::base::time::Timestamp, Failure> {
    match arg {
        Some(t) => crate::base::time::Timestamp::parse(&t).map_err(input("--as-of")),
        None => Ok(clock.now()),
    }
}

/// Opens the ledger for every command, and says on stderr what opening had to repair.
pub(super) fn open(dir: &Path) -> Result<Ledger, Failure> {
    let ledger = Ledger::open(dir).map_err(Failure::from)?;
    for repair in ledger.repairs() {
        eprintln!("custody: {repair}");
    }
    Ok(ledger)
}

pub(super) fn read_key(path: &Path) -> Result<SecretKey, Failure> {
    SecretKey::read_file(path).map_err(|e| Failure::Input(e.to_string()))
}

pub(super) fn read_input(path: &Path) -> Result<Vec<u8>, Failure> {
    let limit = crate::base::limits::ENVELOPE_BYTES_MAX as u64 + 1;
    let mut buf = Vec::new();
    let result = if path == Path::new("-") {
        std::io::stdin().take(limit).read_to_end(&mut buf)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(limit).read_to_end(&mut buf))
    };
    result.map_err(|e| Failure::Input(format!("{}: {e}", path.display())))?;
    Ok(buf)
}

pub(super) fn write_stdout(bytes: &[u8]) -> Outcome {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure::Io(format!("stdout: {e}")))
        }
        _ => Ok(()),
    }
}

pub(super) fn print_json(value: &Value) {
    out!(
        "{}",
        serde_json::to_string_pretty(value).expect("a JSON value always serializes")
    );
}

pub(super) fn progress_bar(total: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg} [{bar:40}] {pos}/{len} entries ({per_sec}, eta {eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
}

pub(super) fn read_vkey(arg: &str) -> Result<VerifierKey, Failure> {
    // Accept the key string itself or a file holding it (as `custody vkey > FILE` writes).
    let text = if Path::new(arg).is_file() {
        std::fs::read_to_string(arg).map_err(|e| Failure::Input(format!("--vkey {arg}: {e}")))?
    } else {
        arg.to_owned()
    };
    VerifierKey::parse(text.trim()).map_err(input("--vkey"))
}

/// Prints an answer as JSON with `--json`, else as text.
pub(super) fn show<T: serde::Serialize>(json: bool, value: &T, text: impl FnOnce()) -> Outcome {
    if json {
        print_json(&serde_json::to_value(value).expect("every answer serializes to JSON"));
    } else {
        text();
    }
    Ok(())
}
