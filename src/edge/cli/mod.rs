//! The command-line edge: parses arguments (clap), reads input files, calls the library, renders
//! output for people or as JSON (`--json`), and maps every failure's class to an exit code in one
//! place (`common::exit_code`; README "Exit codes"). Holds no business rules.
//!
//! This module owns the command line itself (`Cli`, `Command`: every subcommand, in the order
//! `--help` lists them) and `run`, which hands each command to its family's module: `admin` (keys,
//! founding, enrolling, revoking, rotating), `record` (signing and submitting statements, the
//! outbox), `terminal` (templates and `new`: statements without JSON), `log` (checkpoints, entries, proofs, verification, doctor, export, rebuild),
//! `queries` (the investigator's reads and the audit), `subject` (the subject register), `evidence` (bundles and the printable
//! report), `bench`, `tools` (torture, serve, demo) and `tls` (the certificates of serve over HTTPS); `args` holds the argument groups they
//! share and `common` the failures and helpers. It must never hold a command's body.

use crate::base::time::{Clock, SystemClock};
use clap::{Parser, Subcommand};
use std::process::ExitCode;
use std::sync::Arc;

/// Writes a line to stdout, ignoring a closed pipe (`custody entry 3 | head` must not panic).
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($t)*);
    }};
}

/// Writes to stdout without a newline, ignoring a closed pipe.
macro_rules! out_raw {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout().lock(), $($t)*);
    }};
}

mod admin;
mod args;
mod bench;
mod common;
mod evidence;
mod help;
mod log;
mod queries;
mod record;
mod registers;
mod subject;
mod terminal;
mod tls;
mod tools;

use common::Outcome;

#[derive(Parser, Debug)]
#[command(
    name = "custody",
    version,
    about = "Tamper-evident chain-of-custody ledger (buku register barang bukti)",
    long_about = "custody records every act on seized contraband — search, find, seal, weighing, handover, seizure, lab result, destruction — as a statement signed by the officers involved, in an append-only RFC 6962 log with signed C2SP checkpoints."
)]
pub struct Cli {
    /// The language of the terminal's words and of a report's PDF: id (Indonesian) or en
    /// (English). Default: the terminal as CUSTODY_LANG says, else English; a PDF in Indonesian.
    /// Errors are always told in both.
    #[arg(long, global = true, value_name = "LANG")]
    lang: Option<LangArg>,
    #[command(subcommand)]
    command: Command,
}

/// `--lang`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
enum LangArg {
    Id,
    En,
}

impl From<LangArg> for crate::base::words::Lang {
    fn from(lang: LangArg) -> Self {
        match lang {
            LangArg::Id => Self::Indonesian,
            LangArg::En => Self::English,
        }
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Manage officer keys (kunci petugas)
    #[command(subcommand)]
    Key(admin::KeyCommand),
    /// Create a new ledger with its checkpoint key and genesis statement (pembukaan buku register)
    Init(admin::InitArgs),
    /// Enroll an officer (pendaftaran petugas); signed by an administrator
    Enroll(admin::EnrollArgs),
    /// Revoke an officer (pencabutan petugas): none of their keys may sign after this
    Revoke(admin::RevokeArgs),
    /// Replace an officer's key (penggantian kunci); signed by an administrator and the old key
    Rotate(admin::RotateArgs),
    /// Replace a lost or stolen key without it (penggantian kunci yang hilang); signed by an administrator and witnesses, never the officer; the old key may sign nothing after it
    ReplaceKey(admin::ReplaceKeyArgs),
    /// Change an officer's record: name, rank, agency, unit or home facility (perubahan data petugas); signed by an administrator
    UpdateOfficer(registers::UpdateOfficerArgs),
    /// Register a facility, or change its entry: name, address, time zone, letterhead (pendaftaran satuan kerja); signed by an administrator
    RegisterFacility(registers::RegisterFacilityArgs),
    /// Sign a statement with local keys and append it (fills a missing id and occurred_at)
    Record(record::RecordArgs),
    /// Build a statement from flags, one per field (asks for missing ones at a terminal), sign and record it like record
    #[command(disable_help_flag = true)]
    New(terminal::NewArgs),
    /// Print a complete example statement of a type, or list the types (contoh pernyataan)
    Template(terminal::TemplateArgs),
    /// Add one signature to a statement or envelope and print the envelope (for signing on several devices)
    Sign(record::SignArgs),
    /// Append a fully signed envelope
    Submit(record::SubmitArgs),
    /// Print the latest signed checkpoint, byte for byte
    Checkpoint(log::CheckpointArgs),
    /// Print the ledger's checkpoint verifier key
    Vkey(log::VkeyArgs),
    /// Print the raw leaf bytes at SEQ, exactly what was hashed
    Entry(log::EntryArgs),
    /// Inclusion and consistency proofs (RFC 9162)
    #[command(subcommand)]
    Prove(log::ProveCommand),
    /// Verify the whole log: every leaf, signature, key validity, hash chain and the Merkle root
    Verify(log::VerifyArgs),
    /// Check a ledger folder that will not open (or any other): every problem with its file and rule; --repair fixes what is provably safe (quarantine, never delete; views rebuilt from the log)
    Doctor(log::DoctorArgs),
    /// Bring a ledger made by an older version to this version's storage layout (the leaves move into the journal), verifying every entry first
    Upgrade(log::UpgradeArgs),
    /// Re-record a ledger's whole history into a new ledger with no personal data in its log, under an administrator's attestation (pembentukan ulang buku); the old ledger stays as it is
    Refound(admin::RefoundArgs),
    /// Export the log as C2SP tlog-tiles files
    Export(log::ExportArgs),
    /// Build a ledger from a tlog-tiles export or a mirror's copy of public/, verifying everything: a restore with --ledger-key, else a read-only replica (--vkey)
    Import(log::ImportArgs),
    /// List items (daftar barang bukti), optionally by status and facility
    Items(queries::ItemsArgs),
    /// Show one item's current state (keadaan barang bukti)
    Item(queries::ItemArgs),
    /// Show every event of an item with time, act, signers and roles, seals, masses and location (riwayat)
    History(queries::HistoryArgs),
    /// Items an officer (NIP/NRP) or a unit holds now (penguasaan)
    Holdings(queries::HoldingsArgs),
    /// Releases not yet received (serah terima tertunda)
    Pending(queries::PendingArgs),
    /// Statutory clocks still running for items held or in transit, soonest due first, with their legal basis (tenggat waktu)
    Deadlines(queries::DeadlinesArgs),
    /// An incident: searches, finds, items and persons (kejadian)
    Incident(queries::IncidentArgs),
    /// Everything involving one person: a subject id (subj-…), an officer's NIP/NRP, or in entries recorded before rules version 4 SDP:<no>, NIK:<16 digits>, PASSPORT:<NAT>:<no>
    Person(queries::PersonArgs),
    /// The subject register: record, look up, show and erase people who are not officers (their data never enters the log)
    #[command(subcommand)]
    Subject(subject::SubjectCommand),
    /// Counts per facility: events, items, items by status
    Facilities(queries::FacilitiesArgs),
    /// Find every anomaly a defence lawyer would raise (docs/DOMAIN.md classes 1-14), with severity, proving seqs and a sentence in English and Indonesian
    Audit(queries::AuditArgs),
    /// Evidence bundles: export an item's case, verify it offline with only the verifier key
    #[command(subcommand)]
    Bundle(evidence::BundleCommand),
    /// Write a printable custody report (berita acara, A4, with a verification QR code): HTML, or a PDF in Indonesian made by the binary for --out FILE.pdf
    Report(evidence::ReportArgs),
    /// Drop every projection and rebuild it from the log, then compare digests
    Rebuild(log::RebuildArgs),
    /// List enrolled officers and their keys
    Officers(queries::OfficersArgs),
    /// Measure the ledger: durable, verified appends from concurrent writers (a new ledger in --ledger)
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Reliability torture: crash `custody serve` under load and check every acknowledgement survives (or, with --faults, inject storage faults into the embedded ledger)
    #[command(
        after_help = "Crash torture: custody torture --ledger DIR --cycles 20\nStorage faults: custody torture --faults --seeds 200 --ledger SCRATCH\nIt ends with one line (cycles=N acked=A lost=L undetected_corruption=U) and exits 1 unless L and U are 0."
    )]
    Torture(tools::TortureArgs),
    /// Serve the ledger over HTTP: statements in, signed reads out, the tlog-tiles read path for mirrors
    Serve(tools::ServeArgs),
    /// TLS for `custody serve` that phones trust: a facility's local CA and its server certificate
    #[command(subcommand)]
    Tls(tls::TlsCommand),
    /// Submit the envelopes waiting in an outbox, oldest first; each is answered recorded, already recorded or rejected
    Sync(record::SyncArgs),
    /// Create a demonstration ledger with generated keys, then verify it
    Demo(tools::DemoArgs),
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    if let Err(tag) = crate::edge::lang_from_env() {
        let failure = common::Failure::usage(
            crate::base::words::msg("err.cli.custody_lang")
                .arg("name", crate::edge::LANG_ENV)
                .quoted("value", crate::base::class::echo(&tag)),
        );
        eprintln!("error: {}", failure.message());
        return ExitCode::from(failure.exit_code());
    }
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let command = help::in_language(
        <Cli as clap::CommandFactory>::command(),
        help::early_lang(&args),
        "",
    );
    let parsed = command
        .try_get_matches_from(&args)
        .and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            if e.use_stderr() {
                eprintln!("{}", common::usage_in_indonesian(&e));
            }
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                common::exit_code(crate::base::class::Class::Usage)
            } else {
                0
            });
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.message());
            ExitCode::from(failure.exit_code())
        }
    }
}

/// Runs one command: a dispatch table, one line per command, to its family's module.
fn run(cli: Cli) -> Outcome {
    crate::edge::choose_lang(cli.lang.map(Into::into));
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match cli.command {
        Command::Key(c) => admin::key(c),
        Command::Init(a) => admin::init(a, &clock),
        Command::Enroll(a) => admin::enroll(a, &clock),
        Command::Revoke(a) => admin::revoke(a, &clock),
        Command::Rotate(a) => admin::rotate(a, &clock),
        Command::ReplaceKey(a) => admin::replace_key(a, &clock),
        Command::UpdateOfficer(a) => registers::update_officer(a, &clock),
        Command::RegisterFacility(a) => registers::register_facility(a, &clock),
        Command::Record(a) => record::record(a, &clock),
        Command::New(a) => terminal::new(a, &clock),
        Command::Template(a) => terminal::template(a),
        Command::Sign(a) => record::sign(a, &clock),
        Command::Submit(a) => record::submit(a, &clock),
        Command::Checkpoint(a) => log::checkpoint(a, &clock),
        Command::Vkey(a) => log::vkey(a),
        Command::Entry(a) => log::entry(a, &clock),
        Command::Prove(c) => log::prove(c, &clock),
        Command::Verify(a) => log::verify(a),
        Command::Doctor(a) => log::doctor(a),
        Command::Upgrade(a) => log::upgrade(a),
        Command::Refound(a) => admin::refound(a, &clock),
        Command::Export(a) => log::export(a),
        Command::Import(a) => log::import(a),
        Command::Items(a) => queries::items(a, &clock),
        Command::Item(a) => queries::item(a, &clock),
        Command::History(a) => queries::history(a, &clock),
        Command::Holdings(a) => queries::holdings(a, &clock),
        Command::Pending(a) => queries::pending(a, &clock),
        Command::Deadlines(a) => queries::deadlines(a, &clock),
        Command::Incident(a) => queries::incident(a, &clock),
        Command::Person(a) => queries::person(a, &clock),
        Command::Subject(c) => subject::run(c, &clock),
        Command::Facilities(a) => queries::facilities(a, &clock),
        Command::Audit(a) => queries::audit(a, &clock),
        Command::Bundle(c) => evidence::bundle(c, &clock),
        Command::Report(a) => evidence::report(a, &clock),
        Command::Rebuild(a) => log::rebuild(a),
        Command::Officers(a) => queries::officers(a, &clock),
        Command::Bench(c) => bench::run(c, &clock),
        Command::Torture(a) => tools::torture(a),
        Command::Serve(a) => tools::serve(a),
        Command::Tls(c) => tls::run(c, &clock),
        Command::Sync(a) => record::sync(a, &clock),
        Command::Demo(a) => tools::demo(a, &clock),
    }
}
