//! What every command shares: `Failure` (a class and a message), the one place a class becomes an
//! exit code (`exit_code`), every classified error turned into a failure (`From`), opening the
//! ledger or a server (`open`, `source`, `remote`), reading keys and input files, and printing
//! (`print_json`, `show`, `write_stdout`, `progress_bar`). It must never hold a command's own
//! logic or a business rule, and no other module of the CLI may pick an exit code.

use crate::app::ledger::Ledger;
use crate::base::class::{Class, Classify};
use crate::base::time::Clock;
use crate::edge::client::Remote;
use crate::format::note::VerifierKey;
use crate::keys::signing::SecretKey;
use serde_json::Value;
use std::io::{Read as _, Write as _};
use std::path::Path;
use std::sync::Arc;

/// A command's failure: its class (what the user must do about it) and the message that names
/// the field and the rule.
#[derive(Debug)]
pub struct Failure {
    class: Class,
    message: String,
}

/// The only place a class becomes an exit code (README "Exit codes", docs/FORMAT.md §13). Classes
/// a user handles alike share a code: every input error is 2, every "try again later" is 7.
pub const fn exit_code(class: Class) -> u8 {
    match class {
        Class::Refused => 1,
        Class::Usage
        | Class::Malformed
        | Class::Invalid
        | Class::TooLarge
        | Class::UnsupportedMedia
        | Class::MethodNotAllowed => 2,
        Class::Corrupt => 3,
        Class::NotFound => 4,
        Class::Conflict => 5,
        Class::Unauthenticated | Class::Forbidden => 6,
        Class::Unavailable | Class::Timeout => 7,
        Class::Queued => 8,
        Class::Internal => 9,
    }
}

impl Failure {
    pub fn new(class: Class, message: impl Into<String>) -> Self {
        Self {
            class,
            message: message.into(),
        }
    }

    /// Bad arguments: exit 2.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Class::Usage, message)
    }

    /// A rule or the verifier refused: exit 1.
    pub fn refused(message: impl Into<String>) -> Self {
        Self::new(Class::Refused, message)
    }

    /// Storage failed or holds what cannot be: exit 3.
    pub fn corrupt(message: impl Into<String>) -> Self {
        Self::new(Class::Corrupt, message)
    }

    pub fn exit_code(&self) -> u8 {
        exit_code(self.class)
    }

    /// What the user reads on stderr: the class in Indonesian and English, then the message.
    pub(super) fn message(&self) -> String {
        format!(
            "{}: {}",
            crate::edge::web::class_title(self.class),
            self.message
        )
    }

    /// The same failure, its message prefixed with what was being done.
    pub(super) fn context(self, what: &str) -> Self {
        Self::new(self.class, format!("{what}: {}", self.message))
    }
}

/// Every classified error becomes a failure of its class, with its message.
impl<E: Classify> From<E> for Failure {
    fn from(e: E) -> Self {
        let message = match e.field() {
            Some(field) if !field.is_empty() && !e.to_string().contains(field.as_str()) => {
                format!("{e} (field {field})")
            }
            _ => e.to_string(),
        };
        Self::new(e.class(), message)
    }
}

/// Classifies an error and says what was being read: `.map_err(input("--as-of"))`.
pub(super) fn input<E: Classify>(what: &str) -> impl Fn(E) -> Failure + '_ {
    move |e| Failure::from(e).context(what)
}

pub(super) type Outcome = Result<(), Failure>;

pub(super) fn remote(
    url: &str,
    key: Option<SecretKey>,
    ca_cert: Option<&Path>,
    clock: &Arc<dyn Clock>,
) -> Result<Remote, Failure> {
    Remote::new(url, key, ca_cert, Arc::clone(clock)).map_err(Failure::from)
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
    SecretKey::read_file(path).map_err(Failure::from)
}

pub(super) fn read_input(path: &Path) -> Result<Vec<u8>, Failure> {
    let limit = crate::base::limits::ENVELOPE_BYTES_MAX as u64 + 1;
    let mut buf = Vec::new();
    let result = if path == Path::new("-") {
        std::io::stdin().take(limit).read_to_end(&mut buf)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(limit).read_to_end(&mut buf))
    };
    result.map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
    Ok(buf)
}

pub(super) fn write_stdout(bytes: &[u8]) -> Outcome {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure::corrupt(format!("stdout: {e}")))
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

/// Shows on `bar` the progress of a use-case that reports it in named phases (`what`, done,
/// total), such as verifying then copying.
pub(super) fn phases(bar: &indicatif::ProgressBar) -> impl FnMut(&str, u64, u64) + '_ {
    move |what, done, total| {
        bar.set_message(what.to_owned());
        bar.set_length(total);
        bar.set_position(done);
    }
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
        std::fs::read_to_string(arg).map_err(|e| Failure::usage(format!("--vkey {arg}: {e}")))?
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
