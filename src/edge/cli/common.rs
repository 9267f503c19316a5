//! What every command shares: `Failure` (a class and a message), the one place a class becomes an
//! exit code (`exit_code`), every classified error turned into a failure (`From`), opening the
//! ledger or a server (`open`, `source`, `remote`), reading keys and input files, and printing
//! (`print_json`, `show`, `write_stdout`, `progress_bar`). It must never hold a command's own
//! logic or a business rule, and no other module of the CLI may pick an exit code.

use crate::app::ledger::Ledger;
use crate::base::class::{Class, Classify};
use crate::base::time::Clock;
use crate::base::words::{Explain as _, Lang, Message, msg};
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
    message: Message,
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
    pub fn new(class: Class, message: impl Into<Message>) -> Self {
        Self {
            class,
            message: message.into(),
        }
    }

    /// Bad arguments: exit 2.
    pub fn usage(message: impl Into<Message>) -> Self {
        Self::new(Class::Usage, message)
    }

    /// A rule or the verifier refused: exit 1.
    pub fn refused(message: impl Into<Message>) -> Self {
        Self::new(Class::Refused, message)
    }

    /// Storage failed or holds what cannot be: exit 3.
    pub fn corrupt(message: impl Into<Message>) -> Self {
        Self::new(Class::Corrupt, message)
    }

    pub fn exit_code(&self) -> u8 {
        exit_code(self.class)
    }

    /// What the user reads on stderr: the class and the message in Indonesian, then in English;
    /// one line when the message is the same in both (a system's own words).
    pub(super) fn message(&self) -> String {
        let [id, en] = Lang::BOTH.map(|lang| self.message.render(lang));
        let [id_class, en_class] =
            Lang::BOTH.map(|lang| crate::edge::web::class_word(self.class, lang));
        if id == en {
            format!("{id_class} / {en_class}: {en}")
        } else {
            format!("{id_class}: {id}\n       {en_class}: {en}")
        }
    }

    /// The same failure, its message prefixed with what was being read: a flag (`--as-of`), said
    /// as it is, or a word (`statement`), said in each language.
    pub(super) fn context(self, what: &str) -> Self {
        let prefix = match what {
            "statement" => msg("err.cli.statement"),
            "envelope" => msg("err.cli.envelope"),
            "item" => msg("err.cli.item"),
            "officer" => msg("err.cli.officer"),
            "subject" => msg("err.cli.subject"),
            option => msg("err.cli.option").arg("option", option),
        };
        Self::new(self.class, prefix.part("error", self.message))
    }
}

/// Every classified error becomes a failure of its class, with its message and, when the message
/// does not name it, its field.
impl<E: Classify> From<E> for Failure {
    fn from(e: E) -> Self {
        let message = e.explain();
        let message = match e.field() {
            Some(field) if !field.is_empty() && !message.english().contains(field.as_str()) => {
                msg("err.in_field")
                    .part("message", message)
                    .arg("field", field)
            }
            _ => message,
        };
        Self::new(e.class(), message)
    }
}

/// The Indonesian line printed before clap's own (English) account of a command line it could
/// not parse: which argument, which value, which rule, from the catalogue (`err.cli.args.*`).
pub(super) fn usage_in_indonesian(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let context = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(v)) => v.join(", "),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let arg = context(ContextKind::InvalidArg);
    let message = match e.kind() {
        ErrorKind::MissingRequiredArgument => msg("err.cli.args.missing").arg("args", arg),
        ErrorKind::UnknownArgument => msg("err.cli.args.unknown").arg("arg", arg),
        ErrorKind::InvalidSubcommand => msg("err.cli.args.unknown_command")
            .arg("command", context(ContextKind::InvalidSubcommand)),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => msg("err.cli.args.value")
            .arg("value", context(ContextKind::InvalidValue))
            .arg("arg", arg),
        ErrorKind::ArgumentConflict => msg("err.cli.args.conflict")
            .arg("arg", arg)
            .arg("other", context(ContextKind::PriorArg)),
        ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            msg("err.cli.args.no_command")
        }
        ErrorKind::TooManyValues | ErrorKind::WrongNumberOfValues | ErrorKind::TooFewValues => {
            msg("err.cli.args.count").arg("arg", arg)
        }
        _ => msg("err.cli.args.other"),
    };
    format!(
        "error: {}: {}",
        crate::edge::web::class_word(Class::Usage, Lang::Indonesian),
        message.indonesian()
    )
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
        eprintln!(
            "custody: {}",
            repair.explain().render(crate::edge::terminal_lang())
        );
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
    result.map_err(|e| Failure::usage(unreadable(path.display(), &e)))?;
    Ok(buf)
}

pub(super) fn write_stdout(bytes: &[u8]) -> Outcome {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure::corrupt(msg("err.cli.stdout").arg("error", e)))
        }
        _ => Ok(()),
    }
}

/// What could not be read (a file, `--vkey FILE`) and the system's reason.
pub(super) fn unreadable(what: impl std::fmt::Display, e: &std::io::Error) -> Message {
    msg("err.cli.unreadable").arg("what", what).arg("error", e)
}

/// What could not be written (a file, a folder) and the system's reason.
pub(super) fn unwritable(what: impl std::fmt::Display, e: &std::io::Error) -> Message {
    msg("err.cli.unwritable").arg("what", what).arg("error", e)
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
        bar.set_message(phase(what));
        bar.set_length(total);
        bar.set_position(done);
    }
}

pub(super) fn progress_bar(total: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    // The template's `{…}` are indicatif's own places, which the catalogue leaves as written.
    if let Ok(style) =
        indicatif::ProgressStyle::with_template(&crate::edge::render::said("cli.progress", &[]))
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(phase(what));
    bar
}

/// A phase of work as the terminal names it: the library and the commands name each phase in
/// English (`verifying`), and the catalogue says it in the terminal's language; a phase it does
/// not know is shown as named.
fn phase(what: &str) -> String {
    let key = match what {
        "verifying" => "cli.phase.verifying",
        "copying" => "cli.phase.copying",
        "re-recording" => "cli.phase.re_recording",
        "verifying the new ledger" => "cli.phase.verifying_new",
        "exporting" => "cli.phase.exporting",
        "rebuilding" => "cli.phase.rebuilding",
        "auditing" => "cli.phase.auditing",
        "generating" => "cli.phase.generating",
        _ => return what.to_owned(),
    };
    crate::edge::render::said(key, &[])
}

pub(super) fn read_vkey(arg: &str) -> Result<VerifierKey, Failure> {
    // Accept the key string itself or a file holding it (as `custody vkey > FILE` writes).
    let text = if Path::new(arg).is_file() {
        std::fs::read_to_string(arg)
            .map_err(|e| Failure::usage(unreadable(format_args!("--vkey {arg}"), &e)))?
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
