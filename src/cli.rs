//! The command-line edge: parses arguments (clap), reads input files, calls the library, renders
//! output for people or as JSON (`--json`), and maps every failure to an exit code in one place
//! (`Failure::exit_code`): 0 ok, 1 verification or rule failure, 2 usage or input error,
//! 3 I/O or corruption. Holds no business rules.

use crate::compose::{self, OfficerInput};
use crate::envelope::Envelope;
use crate::export;
use crate::ids::{FacilityId, OfficerId, OfficerRole, Origin};
use crate::ledger::{AppendError, Ledger, OpenError, ProofRequestError, Receipt};
use crate::merkle::Hash;
use crate::note::VerifierKey;
use crate::signing::{PublicKey, SecretKey};
use crate::time::{Clock, SystemClock};
use crate::verify;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use clap::{Args, Parser, Subcommand};
use serde_json::{Value, json};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
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

#[derive(Parser, Debug)]
#[command(
    name = "custody",
    version,
    about = "Tamper-evident chain-of-custody ledger (buku register barang bukti)",
    long_about = "custody records every act on seized contraband — search, find, seal, weighing, handover, seizure, lab result, destruction — as a statement signed by the officers involved, in an append-only RFC 6962 log with signed C2SP checkpoints."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Debug, Clone)]
struct LedgerArg {
    /// Ledger directory (also from CUSTODY_LEDGER)
    #[arg(long, env = "CUSTODY_LEDGER", value_name = "DIR")]
    ledger: PathBuf,
}

#[derive(Args, Debug, Clone, Copy)]
struct JsonArg {
    /// Print machine-readable JSON instead of text
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Manage officer keys (kunci petugas)
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Create a new ledger with its checkpoint key and genesis statement (pembentukan buku)
    Init {
        #[arg(long, value_name = "DIR", env = "CUSTODY_LEDGER")]
        ledger: PathBuf,
        /// Log origin, e.g. custody.lapas-narkotika-jakarta.go.id/ledger
        #[arg(long)]
        origin: String,
        /// The founding administrator's private key file
        #[arg(long, value_name = "FILE")]
        admin_key: PathBuf,
        /// The founding administrator's NIP/NRP
        #[arg(long, value_name = "ID")]
        admin_id: String,
        #[arg(long, value_name = "NAME")]
        admin_name: String,
        #[arg(long, value_name = "AGENCY", default_value = "imipas")]
        admin_agency: String,
        #[arg(long, value_name = "UNIT", default_value = "Ledger administration")]
        admin_unit: String,
        /// Facility code of the ledger's home, e.g. LPN-JAKARTA
        #[arg(long, default_value = "HQ")]
        facility: String,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Enroll an officer (pendaftaran petugas); signed by an administrator
    Enroll {
        #[command(flatten)]
        ledger: LedgerArg,
        /// The administrator's private key file
        #[arg(long, value_name = "ADMIN_KEY")]
        key: PathBuf,
        /// The officer's NIP (18 digits) or NRP (8 digits)
        #[arg(long, value_name = "ID")]
        officer: String,
        #[arg(long)]
        name: String,
        /// imipas, polri, bnn, tni, kejaksaan, labfor, bpom or other
        #[arg(long)]
        agency: String,
        #[arg(long)]
        unit: String,
        /// Comma-separated roles, e.g. gate_officer,security_officer
        #[arg(long, value_delimiter = ',')]
        roles: Vec<String>,
        /// The officer's public key (base64), as printed by `custody key new`
        #[arg(long, value_name = "B64")]
        public_key: String,
        #[arg(long)]
        reason: Option<String>,
        #[arg(long, default_value = "HQ")]
        facility: String,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Revoke an officer (pencabutan petugas): none of their keys may sign after this
    Revoke {
        #[command(flatten)]
        ledger: LedgerArg,
        #[arg(long, value_name = "ADMIN_KEY")]
        key: PathBuf,
        #[arg(long, value_name = "ID")]
        officer: String,
        #[arg(long)]
        reason: String,
        #[arg(long, default_value = "HQ")]
        facility: String,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Replace an officer's key (penggantian kunci); signed by an administrator and the old key
    Rotate {
        #[command(flatten)]
        ledger: LedgerArg,
        #[arg(long, value_name = "ADMIN_KEY")]
        key: PathBuf,
        /// The officer's current (old) private key file
        #[arg(long, value_name = "FILE")]
        old_key: PathBuf,
        #[arg(long, value_name = "ID")]
        officer: String,
        /// The new public key (base64)
        #[arg(long, value_name = "B64")]
        public_key: String,
        #[arg(long)]
        reason: String,
        #[arg(long, default_value = "HQ")]
        facility: String,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Sign a statement with local keys and append it (fills a missing id and occurred_at)
    Record {
        #[command(flatten)]
        ledger: LedgerArg,
        /// Private key file of a signer; repeat for every signer
        #[arg(long = "key", value_name = "FILE", required = true)]
        keys: Vec<PathBuf>,
        /// Statement JSON file, or - for standard input
        statement: PathBuf,
        /// When the statement has no `after`, fill it with the current head of each item it names
        /// (the officers sign the state they see now)
        #[arg(long)]
        fill_after: bool,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Add one signature to a statement or envelope and print the envelope (for signing on several devices)
    Sign {
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// Statement or envelope JSON file, or - for standard input
        input: PathBuf,
    },
    /// Append a fully signed envelope
    Submit {
        #[command(flatten)]
        ledger: LedgerArg,
        /// Envelope JSON file, or - for standard input
        envelope: PathBuf,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Print the latest signed checkpoint, byte for byte
    Checkpoint {
        #[command(flatten)]
        ledger: LedgerArg,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Print the ledger's checkpoint verifier key
    Vkey {
        #[command(flatten)]
        ledger: LedgerArg,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Print the raw leaf bytes at SEQ, exactly what was hashed
    Entry {
        #[command(flatten)]
        ledger: LedgerArg,
        seq: u64,
        /// Decode the leaf and its statement as JSON instead
        #[arg(long)]
        json: bool,
    },
    /// Inclusion and consistency proofs (RFC 9162)
    Prove {
        #[command(subcommand)]
        command: ProveCommand,
    },
    /// Verify the whole log: every leaf, signature, key validity, hash chain and the Merkle root
    Verify {
        #[arg(long, env = "CUSTODY_LEDGER", value_name = "DIR")]
        ledger: Option<PathBuf>,
        /// A tlog-tiles export to verify instead of a ledger (needs --vkey; takes precedence over --ledger)
        #[arg(long, value_name = "DIR", requires = "vkey")]
        tiles: Option<PathBuf>,
        /// The ledger's verifier key (a string, or a file holding it)
        #[arg(long, value_name = "VKEY")]
        vkey: Option<String>,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Export the log as C2SP tlog-tiles files
    Export {
        #[command(flatten)]
        ledger: LedgerArg,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[command(flatten)]
        json: JsonArg,
    },
    /// List items (daftar barang bukti), optionally by status and facility
    Items {
        #[command(flatten)]
        ledger: LedgerArg,
        /// held, in_transit, destroyed, returned or forfeited
        #[arg(long)]
        status: Option<String>,
        /// Facility code, e.g. LPN-JAKARTA
        #[arg(long)]
        facility: Option<String>,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Show one item's current state (keadaan barang bukti)
    Item {
        #[command(flatten)]
        ledger: LedgerArg,
        id: String,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Show every event of an item with time, act, signers and roles, seals, masses and location (riwayat)
    History {
        #[command(flatten)]
        ledger: LedgerArg,
        id: String,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Items an officer (NIP/NRP) or a unit holds now (penguasaan)
    Holdings {
        #[command(flatten)]
        ledger: LedgerArg,
        /// The officer's NIP/NRP
        #[arg(required_unless_present = "unit")]
        officer: Option<String>,
        /// A unit name, exactly as enrolled, e.g. "Satresnarkoba Polres Jakarta Timur"
        #[arg(long, conflicts_with = "officer")]
        unit: Option<String>,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Releases not yet received (serah terima tertunda)
    Pending {
        #[command(flatten)]
        ledger: LedgerArg,
        #[command(flatten)]
        json: JsonArg,
    },
    /// An incident: searches, finds, items and persons (kejadian)
    Incident {
        #[command(flatten)]
        ledger: LedgerArg,
        id: String,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Everything involving one person: SDP:<no>, NIK:<16 digits>, PASSPORT:<NAT>:<no>, or an officer's NIP/NRP
    Person {
        #[command(flatten)]
        ledger: LedgerArg,
        id: String,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Counts per facility: events, items, items by status
    Facilities {
        #[command(flatten)]
        ledger: LedgerArg,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Find every anomaly a defence lawyer would raise (DOMAIN.md classes 1-14), with severity, proving seqs and a sentence in English and Indonesian
    Audit {
        #[command(flatten)]
        ledger: LedgerArg,
        /// Audit one item with its parent and samples
        #[arg(long, conflicts_with_all = ["incident", "all"])]
        item: Option<String>,
        /// Audit every item of an incident
        #[arg(long, conflicts_with = "all")]
        incident: Option<String>,
        /// Audit the whole log (verifies it first)
        #[arg(long)]
        all: bool,
        /// Judge open clocks and gaps at this moment (RFC 3339 UTC; default now)
        #[arg(long, value_name = "TIME")]
        as_of: Option<String>,
        /// Exit 1 when a finding reaches this severity: info, warning, serious or critical
        #[arg(long, value_name = "SEVERITY")]
        fail_on: Option<String>,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Evidence bundles: export an item's case, verify it offline with only the verifier key
    Bundle {
        #[command(subcommand)]
        command: BundleCommand,
    },
    /// Write a printable custody report (berita acara, A4 HTML with a verification QR code)
    Report {
        #[command(flatten)]
        ledger: LedgerArg,
        #[arg(long, value_name = "ID")]
        item: String,
        #[arg(long, value_name = "FILE.html")]
        out: PathBuf,
        /// Judge open clocks at this moment (RFC 3339 UTC; default now)
        #[arg(long, value_name = "TIME")]
        as_of: Option<String>,
    },
    /// Drop every projection and rebuild it from the log, then compare digests
    Rebuild {
        #[command(flatten)]
        ledger: LedgerArg,
        #[command(flatten)]
        json: JsonArg,
    },
    /// List enrolled officers and their keys
    Officers {
        #[command(flatten)]
        ledger: LedgerArg,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Measure the ledger: durable, verified appends from concurrent writers (a new ledger in --ledger)
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Create a demonstration ledger with generated keys, then verify it
    Demo {
        #[arg(long, value_name = "DIR", env = "CUSTODY_LEDGER")]
        ledger: PathBuf,
        #[command(flatten)]
        json: JsonArg,
    },
}

#[derive(Subcommand, Debug)]
enum KeyCommand {
    /// Generate a new Ed25519 key (PKCS#8 PEM, mode 0600) and print its public key and key id
    New {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Print only the public key (base64) of a private key file, for enrollment
    Public { key: PathBuf },
    /// Print the public key and key id of a private key file
    Show {
        key: PathBuf,
        #[command(flatten)]
        json: JsonArg,
    },
}

#[derive(Subcommand, Debug)]
enum BundleCommand {
    /// Write one self-contained file: the item's (and its parent's and samples') leaves, the identity leaves of every officer they name, inclusion proofs, the checkpoint and the verifier key
    Export {
        #[command(flatten)]
        ledger: LedgerArg,
        #[arg(long, value_name = "ID")]
        item: String,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Verify a bundle with no ledger and no network: checkpoint signature, inclusion proofs, officer signatures and key validity, the item chains, then the audit
    Verify {
        /// The bundle file
        file: PathBuf,
        /// The ledger's verifier key (a string, or a file holding it), obtained from a channel you trust
        #[arg(long, value_name = "VKEY")]
        vkey: String,
        /// Judge open clocks at this moment (RFC 3339 UTC; default now)
        #[arg(long, value_name = "TIME")]
        as_of: Option<String>,
        #[command(flatten)]
        json: JsonArg,
    },
}

#[derive(Subcommand, Debug)]
enum BenchCommand {
    /// Measures history, holdings and inclusion-proof latency; generates the ledger (10 custody events per item) unless DIR already holds one that large
    Query {
        /// Ledger directory; reused as a cache when it already holds at least --entries entries
        #[arg(long, value_name = "DIR")]
        ledger: PathBuf,
        #[arg(long, default_value_t = 100_000)]
        entries: u64,
        #[arg(long, default_value_t = 2000)]
        samples: usize,
    },
    /// Pre-signs --count statements, then appends them from --writers threads; prints a table and a JSON line
    Append {
        /// Directory for the new benchmark ledger (must not exist or be empty)
        #[arg(long, value_name = "DIR")]
        ledger: PathBuf,
        #[arg(long, default_value_t = 1)]
        writers: usize,
        #[arg(long, default_value_t = 5000)]
        count: usize,
        #[arg(long, default_value_t = 1)]
        signatures: usize,
    },
}

#[derive(Subcommand, Debug)]
enum ProveCommand {
    /// Inclusion proof of the leaf at SEQ in the tree of --size leaves (default: latest checkpoint)
    Inclusion {
        #[command(flatten)]
        ledger: LedgerArg,
        seq: u64,
        #[arg(long)]
        size: Option<u64>,
    },
    /// Consistency proof between tree sizes OLD and NEW (default: latest checkpoint)
    Consistency {
        #[command(flatten)]
        ledger: LedgerArg,
        old: u64,
        new: Option<u64>,
    },
}

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

    fn message(&self) -> &str {
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

fn input<E: std::fmt::Display>(what: &str) -> impl Fn(E) -> Failure + '_ {
    move |e| Failure::Input(format!("{what}: {e}"))
}

type Outcome = Result<(), Failure>;

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
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

fn run(cli: Cli) -> Outcome {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match cli.command {
        Command::Key { command } => match command {
            KeyCommand::New { out, json } => key_new(&out, json.json),
            KeyCommand::Show { key, json } => key_show(&key, json.json),
            KeyCommand::Public { key } => {
                out!("{}", read_key(&key)?.public().to_base64());
                Ok(())
            }
        },
        Command::Init {
            ledger,
            origin,
            admin_key,
            admin_id,
            admin_name,
            admin_agency,
            admin_unit,
            facility,
            json,
        } => {
            let origin = Origin::parse(&origin).map_err(input("--origin"))?;
            let facility = FacilityId::parse(&facility).map_err(input("--facility"))?;
            let key = read_key(&admin_key)?;
            let admin = OfficerInput {
                id: OfficerId::parse(&admin_id).map_err(input("--admin-id"))?,
                name: admin_name,
                agency: admin_agency,
                unit: admin_unit,
                roles: vec![OfficerRole::Admin],
                public_key: key.public(),
            };
            let (ledger_handle, receipt) = compose::init_ledger(
                &ledger,
                &origin,
                facility.as_str(),
                Arc::clone(&clock),
                &admin,
                &key,
            )?;
            let vkey = ledger_handle.verifier_key().to_string();
            if json.json {
                print_json(&json!({
                    "ledger": ledger.display().to_string(),
                    "origin": origin.as_str(),
                    "vkey": vkey,
                    "genesis": receipt_json(&ledger_handle, &receipt)?,
                }));
            } else {
                out!("created ledger {} (origin {origin})", ledger.display());
                out!("genesis recorded at seq {}", receipt.seq);
                out!("verifier key (give this to prosecutors and auditors):");
                out!("{vkey}");
            }
            Ok(())
        }
        Command::Enroll {
            ledger,
            key,
            officer,
            name,
            agency,
            unit,
            roles,
            public_key,
            reason,
            facility,
            json,
        } => {
            let ledger = open(&ledger.ledger)?;
            let admin_key = read_key(&key)?;
            let admin = officer_of_key(&ledger, &admin_key)?;
            let roles = roles
                .iter()
                .map(|r| OfficerRole::parse(r.trim()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(input("--roles"))?;
            let officer = OfficerInput {
                id: OfficerId::parse(&officer).map_err(input("--officer"))?,
                name,
                agency,
                unit,
                roles,
                public_key: PublicKey::from_base64(&public_key).map_err(input("--public-key"))?,
            };
            let facility = FacilityId::parse(&facility).map_err(input("--facility"))?;
            let bytes = compose::enrollment(
                clock.as_ref(),
                facility.as_str(),
                &admin,
                &officer,
                reason.as_deref(),
            )
            .map_err(input("statement"))?;
            append_signed(&ledger, bytes, &[&admin_key], json.json, "enrolled")
        }
        Command::Revoke {
            ledger,
            key,
            officer,
            reason,
            facility,
            json,
        } => {
            let ledger = open(&ledger.ledger)?;
            let admin_key = read_key(&key)?;
            let admin = officer_of_key(&ledger, &admin_key)?;
            let officer = OfficerId::parse(&officer).map_err(input("--officer"))?;
            let facility = FacilityId::parse(&facility).map_err(input("--facility"))?;
            let bytes =
                compose::revocation(clock.as_ref(), facility.as_str(), &admin, &officer, &reason)
                    .map_err(input("statement"))?;
            append_signed(&ledger, bytes, &[&admin_key], json.json, "revoked")
        }
        Command::Rotate {
            ledger,
            key,
            old_key,
            officer,
            public_key,
            reason,
            facility,
            json,
        } => {
            let ledger = open(&ledger.ledger)?;
            let admin_key = read_key(&key)?;
            let old = read_key(&old_key)?;
            let admin = officer_of_key(&ledger, &admin_key)?;
            let officer = OfficerId::parse(&officer).map_err(input("--officer"))?;
            let new_key = PublicKey::from_base64(&public_key).map_err(input("--public-key"))?;
            let facility = FacilityId::parse(&facility).map_err(input("--facility"))?;
            let bytes = compose::rotation(
                clock.as_ref(),
                facility.as_str(),
                &admin,
                &officer,
                &new_key,
                &reason,
            )
            .map_err(input("statement"))?;
            append_signed(&ledger, bytes, &[&admin_key, &old], json.json, "rotated")
        }
        Command::Record {
            ledger,
            keys,
            statement,
            fill_after,
            json,
        } => {
            let raw = read_input(&statement)?;
            let keys = keys
                .iter()
                .map(|k| read_key(k))
                .collect::<Result<Vec<_>, _>>()?;
            let ledger = open(&ledger.ledger)?;
            let mut bytes =
                compose::fill_defaults(&raw, clock.as_ref()).map_err(input("statement"))?;
            if fill_after {
                let store = ledger.store();
                let head = |id: &crate::ids::ItemId| {
                    crate::queries::item(store, id)
                        .ok()
                        .flatten()
                        .map(|s| s.head)
                };
                bytes = compose::fill_after(&bytes, &head).map_err(input("statement"))?;
            }
            let refs: Vec<&SecretKey> = keys.iter().collect();
            append_signed(&ledger, bytes, &refs, json.json, "recorded")
        }
        Command::Sign { key, input: path } => {
            let raw = read_input(&path)?;
            let key = read_key(&key)?;
            let is_envelope = serde_json::from_slice::<Value>(&raw)
                .ok()
                .and_then(|v| v.get("payloadType").cloned())
                .is_some();
            let mut envelope = if is_envelope {
                Envelope::parse_allowing_unsigned(&raw).map_err(input("envelope"))?
            } else {
                let bytes =
                    compose::fill_defaults(&raw, clock.as_ref()).map_err(input("statement"))?;
                crate::statement::Statement::parse(&bytes).map_err(input("statement"))?;
                Envelope::unsigned(bytes).map_err(input("statement"))?
            };
            envelope.sign(&key).map_err(input("envelope"))?;
            out!("{}", envelope.to_json_pretty());
            Ok(())
        }
        Command::Submit {
            ledger,
            envelope,
            json,
        } => {
            let raw = read_input(&envelope)?;
            let ledger = open(&ledger.ledger)?;
            let receipt = ledger.submit(&raw)?;
            print_receipt(&ledger, &receipt, json.json, "recorded")
        }
        Command::Checkpoint { ledger, json } => {
            let ledger = open(&ledger.ledger)?;
            let cp = ledger.checkpoint();
            if json.json {
                print_json(&json!({
                    "origin": ledger.origin().as_str(),
                    "size": cp.size,
                    "root": B64.encode(cp.root),
                    "note": cp.note,
                }));
            } else {
                write_stdout(cp.note.as_bytes())?;
            }
            Ok(())
        }
        Command::Vkey { ledger, json } => {
            let ledger = open(&ledger.ledger)?;
            if json.json {
                print_json(&json!({"vkey": ledger.verifier_key().to_string()}));
            } else {
                out!("{}", ledger.verifier_key());
            }
            Ok(())
        }
        Command::Entry { ledger, seq, json } => {
            let ledger = open(&ledger.ledger)?;
            let size = ledger.checkpoint().size;
            let bytes = ledger
                .leaf(seq)
                .map_err(|e| Failure::Io(e.to_string()))?
                .ok_or_else(|| {
                    Failure::Input(format!(
                        "no entry {seq}: the log holds seqs 0 to {}",
                        size.saturating_sub(1)
                    ))
                })?;
            if json {
                print_json(&entry_json(&bytes)?);
            } else {
                write_stdout(&bytes)?;
            }
            Ok(())
        }
        Command::Prove { command } => match command {
            ProveCommand::Inclusion { ledger, seq, size } => {
                let ledger = open(&ledger.ledger)?;
                let size = size.unwrap_or(ledger.checkpoint().size);
                let hashes = ledger.inclusion_proof(seq, size)?;
                let bytes = ledger
                    .leaf(seq)
                    .map_err(|e| Failure::Io(e.to_string()))?
                    .ok_or_else(|| Failure::Input(format!("no entry {seq}")))?;
                print_json(&json!({
                    "index": seq,
                    "tree_size": size,
                    "leaf_hash": B64.encode(crate::merkle::leaf_hash(&bytes)),
                    "hashes": hashes_b64(&hashes),
                }));
                Ok(())
            }
            ProveCommand::Consistency { ledger, old, new } => {
                let ledger = open(&ledger.ledger)?;
                let new = new.unwrap_or(ledger.checkpoint().size);
                let hashes = ledger.consistency_proof(old, new)?;
                print_json(
                    &json!({"old_size": old, "new_size": new, "hashes": hashes_b64(&hashes)}),
                );
                Ok(())
            }
        },
        Command::Verify {
            ledger,
            tiles,
            vkey,
            json,
        } => verify_command(ledger, tiles, vkey, json.json),
        Command::Export { ledger, out, json } => {
            let ledger = open(&ledger.ledger)?;
            let cp = ledger.checkpoint();
            let bar = progress_bar(cp.size, "exporting");
            let summary = export::export_tiles(
                ledger.store(),
                cp.note.as_bytes(),
                cp.size,
                &out,
                &mut |d, _| bar.set_position(d),
            )
            .map_err(|e| match e {
                export::ExportError::NotEmpty { .. } => Failure::Input(e.to_string()),
                _ => Failure::Io(e.to_string()),
            })?;
            bar.finish_and_clear();
            if json.json {
                print_json(&json!({
                    "out": out.display().to_string(),
                    "size": summary.size,
                    "entry_bundles": summary.entry_bundles,
                    "hash_tiles": summary.hash_tiles,
                    "bytes": summary.bytes,
                }));
            } else {
                out!(
                    "exported {} entries to {} ({} entry bundles, {} hash tiles, {} bytes)",
                    summary.size,
                    out.display(),
                    summary.entry_bundles,
                    summary.hash_tiles,
                    summary.bytes
                );
                out!(
                    "verify it anywhere with: custody verify --tiles {} --vkey '{}'",
                    out.display(),
                    ledger.verifier_key()
                );
            }
            Ok(())
        }
        Command::Officers { ledger, json } => officers(&ledger.ledger, json.json),
        Command::Items {
            ledger,
            status,
            facility,
            json,
        } => {
            let status = status
                .map(|s| {
                    crate::custody::Status::parse(&s).ok_or_else(|| {
                        Failure::Input(format!(
                            "--status {s:?}: use held, in_transit, destroyed, returned or forfeited"
                        ))
                    })
                })
                .transpose()?;
            let ledger = open(&ledger.ledger)?;
            let list =
                crate::queries::items(ledger.store(), status, facility.as_deref()).map_err(io)?;
            if json.json {
                print_json(&serde_json::to_value(&list).expect("items serialize"));
            } else {
                crate::render::items(&list);
            }
            Ok(())
        }
        Command::Item { ledger, id, json } => {
            let (_ledger, _, item) = open_item(&ledger.ledger, &id)?;
            if json.json {
                print_json(&serde_json::to_value(&item).expect("item serializes"));
            } else {
                crate::render::item(&item);
            }
            Ok(())
        }
        Command::History { ledger, id, json } => {
            let (ledger, id, item) = open_item(&ledger.ledger, &id)?;
            let events = crate::queries::history(ledger.store(), &id).map_err(io)?;
            if json.json {
                print_json(&json!({"item": item, "events": events}));
            } else {
                crate::render::history(&item, &events);
            }
            Ok(())
        }
        Command::Holdings {
            ledger,
            officer,
            unit,
            json,
        } => {
            let ledger = open(&ledger.ledger)?;
            let (who, list) = match (officer, unit) {
                (Some(o), _) => {
                    let o = OfficerId::parse(&o).map_err(input("officer"))?;
                    (
                        format!("officer {o}"),
                        crate::queries::holdings_of_officer(ledger.store(), &o).map_err(io)?,
                    )
                }
                (None, Some(u)) => (
                    format!("unit {u}"),
                    crate::queries::holdings_of_unit(ledger.store(), &u).map_err(io)?,
                ),
                (None, None) => {
                    return Err(Failure::Input(
                        "give an officer's NIP/NRP or --unit UNIT".into(),
                    ));
                }
            };
            if json.json {
                print_json(&serde_json::to_value(&list).expect("items serialize"));
            } else {
                out!(
                    "Holdings of {who} (barang dalam penguasaan): {} item(s)",
                    list.len()
                );
                crate::render::items(&list);
            }
            Ok(())
        }
        Command::Pending { ledger, json } => {
            let ledger = open(&ledger.ledger)?;
            let list = crate::queries::pending(ledger.store()).map_err(io)?;
            if json.json {
                print_json(&serde_json::to_value(&list).expect("pending serializes"));
            } else {
                crate::render::pending(&list);
            }
            Ok(())
        }
        Command::Incident { ledger, id, json } => {
            let ledger = open(&ledger.ledger)?;
            let view = crate::queries::incident(ledger.store(), &id).map_err(io)?;
            if view.events.is_empty() && view.items.is_empty() {
                return Err(Failure::Input(format!("no incident {id} in this ledger")));
            }
            if json.json {
                print_json(&serde_json::to_value(&view).expect("incident serializes"));
            } else {
                crate::render::incident(&view);
            }
            Ok(())
        }
        Command::Person { ledger, id, json } => {
            let ledger = open(&ledger.ledger)?;
            let events = crate::queries::person(ledger.store(), &id).map_err(io)?;
            if events.is_empty() {
                return Err(Failure::Input(format!(
                    "no events involve {id:?} (use SDP:<no>, NIK:<16 digits>, PASSPORT:<NAT>:<no>, or a NIP/NRP)"
                )));
            }
            if json.json {
                print_json(&json!({"person": id, "events": events}));
            } else {
                crate::render::person(&id, &events);
            }
            Ok(())
        }
        Command::Facilities { ledger, json } => {
            let ledger = open(&ledger.ledger)?;
            let list = crate::queries::facilities(ledger.store()).map_err(io)?;
            if json.json {
                print_json(&Value::Object(list.into_iter().collect()));
            } else {
                for (f, counts) in list {
                    out!("{f}: {counts}");
                }
            }
            Ok(())
        }
        Command::Audit {
            ledger,
            item,
            incident,
            all,
            as_of,
            fail_on,
            json,
        } => {
            let scope = match (item, incident, all) {
                (Some(i), _, _) => crate::casefile::Scope::Item(
                    crate::ids::ItemId::parse(&i).map_err(input("--item"))?,
                ),
                (None, Some(i), _) => crate::casefile::Scope::Incident(i),
                (None, None, true) => crate::casefile::Scope::All,
                (None, None, false) => {
                    return Err(Failure::Input(
                        "give --item ID, --incident ID or --all".into(),
                    ));
                }
            };
            let as_of = as_of_arg(as_of, clock.as_ref())?;
            let fail_on = fail_on
                .map(|s| {
                    crate::audit::Severity::parse(&s).ok_or_else(|| {
                        Failure::Input(format!(
                            "--fail-on {s:?}: use info, warning, serious or critical"
                        ))
                    })
                })
                .transpose()?;
            let ledger = open(&ledger.ledger)?;
            let bar = progress_bar(0, "auditing");
            let report = crate::casefile::audit(&ledger, &scope, as_of, &mut |d, t| {
                bar.set_length(t);
                bar.set_position(d);
            })
            .map_err(|e| match e {
                crate::casefile::CaseError::NoItem(_)
                | crate::casefile::CaseError::NoIncident(_) => Failure::Input(e.to_string()),
                other => Failure::Io(other.to_string()),
            })?;
            bar.finish_and_clear();
            if json.json {
                print_json(&serde_json::to_value(&report).expect("the report serializes"));
            } else {
                crate::render::audit(&report);
            }
            if let Some(level) = fail_on {
                let worst = report.findings.iter().map(|f| f.severity).max();
                if worst.is_some_and(|w| w >= level) {
                    return Err(Failure::Rejected(format!(
                        "the audit found {} finding(s) at or above {}",
                        report
                            .findings
                            .iter()
                            .filter(|f| f.severity >= level)
                            .count(),
                        level.as_str()
                    )));
                }
            }
            Ok(())
        }
        Command::Bundle {
            command:
                BundleCommand::Export {
                    ledger,
                    item,
                    out,
                    json,
                },
        } => {
            let (ledger, id, _) = open_item(&ledger.ledger, &item)?;
            let bundle =
                crate::bundle::export(&ledger, &id).map_err(|e| Failure::Io(e.to_string()))?;
            let bytes = serde_json::to_vec_pretty(&bundle).expect("a bundle serializes");
            if out.exists() {
                return Err(Failure::Input(format!(
                    "{} already exists; choose another --out",
                    out.display()
                )));
            }
            std::fs::write(&out, &bytes)
                .map_err(|e| Failure::Io(format!("{}: {e}", out.display())))?;
            let digest = crate::signing::hex(&{
                use sha2::Digest as _;
                sha2::Sha256::digest(&bytes)
            });
            if json.json {
                print_json(
                    &json!({"out": out.display().to_string(), "entries": bundle.entries.len(), "bytes": bytes.len(), "sha256": digest, "items": bundle.items}),
                );
            } else {
                out!(
                    "wrote {} ({} entries, {} bytes, sha256 {digest})",
                    out.display(),
                    bundle.entries.len(),
                    bytes.len()
                );
                out!("items: {}", bundle.items.join(", "));
                out!(
                    "verify anywhere: custody bundle verify {} --vkey '{}'",
                    out.display(),
                    bundle.vkey
                );
            }
            Ok(())
        }
        Command::Bundle {
            command:
                BundleCommand::Verify {
                    file,
                    vkey,
                    as_of,
                    json,
                },
        } => {
            let vkey = read_vkey(&vkey)?;
            let as_of = as_of_arg(as_of, clock.as_ref())?;
            let bytes = std::fs::read(&file)
                .map_err(|e| Failure::Input(format!("{}: {e}", file.display())))?;
            let report = crate::bundle::verify(&bytes, &vkey, as_of)
                .map_err(|e| Failure::Rejected(format!("bundle verification FAILED: {e}")))?;
            if json.json {
                print_json(&serde_json::to_value(&report).expect("the report serializes"));
            } else {
                crate::render::bundle(&report);
            }
            Ok(())
        }
        Command::Report {
            ledger,
            item,
            out,
            as_of,
        } => {
            let (ledger, id, state) = open_item(&ledger.ledger, &item)?;
            let as_of = as_of_arg(as_of, clock.as_ref())?;
            let audit = crate::casefile::audit(
                &ledger,
                &crate::casefile::Scope::Item(id.clone()),
                as_of,
                &mut |_, _| {},
            )
            .map_err(|e| Failure::Io(e.to_string()))?;
            let lot = crate::casefile::lot(&ledger, &id).map_err(|e| Failure::Io(e.to_string()))?;
            let lot: Vec<crate::custody::ItemState> = lot
                .iter()
                .filter_map(|i| crate::queries::item(ledger.store(), i).ok().flatten())
                .collect();
            let history = crate::queries::history(ledger.store(), &id).map_err(io)?;
            let bundle =
                crate::bundle::export(&ledger, &id).map_err(|e| Failure::Io(e.to_string()))?;
            let bundle_bytes = serde_json::to_vec_pretty(&bundle).expect("a bundle serializes");
            let digest = crate::signing::hex(&{
                use sha2::Digest as _;
                sha2::Sha256::digest(&bundle_bytes)
            });
            let cp = ledger.checkpoint();
            let root = B64.encode(cp.root);
            let vkey = ledger.verifier_key().to_string();
            let as_of_text = as_of.to_canonical();
            let html = crate::report::html(&crate::report::ReportInput {
                item: &state,
                lot: &lot,
                history: &history,
                findings: &audit.findings,
                origin: ledger.origin().as_str(),
                checkpoint_size: cp.size,
                checkpoint_root: &root,
                bundle_sha256: &digest,
                vkey: &vkey,
                as_of: &as_of_text,
            });
            std::fs::write(&out, html.as_bytes())
                .map_err(|e| Failure::Io(format!("{}: {e}", out.display())))?;
            out!(
                "wrote {} ({} acts, {} findings); the bundle it describes has sha256 {digest}",
                out.display(),
                history.len(),
                audit.findings.len()
            );
            out!("(export the same bundle now with: custody bundle export --item {id} --out FILE)");
            Ok(())
        }
        Command::Rebuild { ledger, json } => {
            let bar = progress_bar(0, "rebuilding");
            let report = Ledger::rebuild(&ledger.ledger, &mut |d, t| {
                bar.set_length(t);
                bar.set_position(d);
            })?;
            bar.finish_and_clear();
            let same = report.before == report.after;
            if json.json {
                print_json(
                    &json!({"size": report.size, "digest_before": B64.encode(report.before), "digest_after": B64.encode(report.after), "identical": same}),
                );
            } else {
                out!("rebuilt the projections from {} entries", report.size);
                out!("digest before: {}", B64.encode(report.before));
                out!("digest after:  {}", B64.encode(report.after));
                out!(
                    "{}",
                    if same {
                        "identical: the projections are a pure function of the log"
                    } else {
                        "DIFFERENT: the old projections did not match the log; the rebuilt ones are now in place"
                    }
                );
            }
            if same {
                Ok(())
            } else {
                Err(Failure::Rejected(
                    "projections differed from a rebuild".into(),
                ))
            }
        }
        Command::Bench {
            command:
                BenchCommand::Query {
                    ledger,
                    entries,
                    samples,
                },
        } => {
            let bar = progress_bar(entries, "generating");
            let r = crate::bench::query(&ledger, entries, samples, &mut |d, t| {
                bar.set_length(t);
                bar.set_position(d);
            })
            .map_err(|e| match e {
                crate::bench::BenchError::Input(m) => Failure::Input(m),
                other => Failure::Io(other.to_string()),
            })?;
            bar.finish_and_clear();
            out!(
                "entries   items    history p50/p99 µs   holdings p50/p99 µs   proof p50/p99 µs   proof bytes  peak RSS MiB"
            );
            out!(
                "{:>8}  {:>7}  {:>8.0} / {:<8.0}  {:>8.0} / {:<8.0}  {:>6.0} / {:<6.0}  {:>11}  {:>12.0}",
                r.entries,
                r.items,
                r.history_p50_us,
                r.history_p99_us,
                r.holdings_p50_us,
                r.holdings_p99_us,
                r.proof_p50_us,
                r.proof_p99_us,
                r.proof_bytes,
                r.peak_rss_mb
            );
            out!(
                "{}",
                serde_json::to_string(&r).expect("plain numbers serialize")
            );
            Ok(())
        }
        Command::Bench {
            command:
                BenchCommand::Append {
                    ledger,
                    writers,
                    count,
                    signatures,
                },
        } => {
            let r =
                crate::bench::append(&ledger, writers, count, signatures).map_err(|e| match e {
                    crate::bench::BenchError::Input(m) => Failure::Input(m),
                    other => Failure::Io(other.to_string()),
                })?;
            out!("writers  signatures  statements  appends/s  p50 ms  p99 ms  bytes/entry on disk");
            out!(
                "{:>7}  {:>10}  {:>10}  {:>9.0}  {:>6.2}  {:>6.2}  {:>8.0}",
                r.writers,
                r.signatures,
                r.statements,
                r.appends_per_s,
                r.p50_ms,
                r.p99_ms,
                r.disk_bytes_per_entry
            );
            out!(
                "{}",
                serde_json::to_string(&r).expect("plain numbers serialize")
            );
            Ok(())
        }
        Command::Demo { ledger, json } => {
            let report = crate::demo::run(&ledger, Arc::clone(&clock)).map_err(|e| match e {
                crate::demo::DemoError::Open(e) => Failure::from(e),
                crate::demo::DemoError::Append(e) => Failure::from(e),
                other => Failure::Io(other.to_string()),
            })?;
            if json.json {
                print_json(&report.to_json());
            } else {
                out_raw!("{}", report.to_text());
            }
            if report.verified_ok() {
                Ok(())
            } else {
                Err(Failure::Rejected("the demo ledger did not verify".into()))
            }
        }
    }
}

/// Opens the ledger and reads one item, or says plainly that it is not there.
fn open_item(
    dir: &Path,
    id: &str,
) -> Result<(Ledger, crate::ids::ItemId, crate::custody::ItemState), Failure> {
    let id = crate::ids::ItemId::parse(id).map_err(input("item"))?;
    let ledger = open(dir)?;
    let item = crate::queries::item(ledger.store(), &id)
        .map_err(io)?
        .ok_or_else(|| Failure::Input(format!("no item {id} in this ledger")))?;
    Ok((ledger, id, item))
}

/// `--as-of TIME`, or now.
fn as_of_arg(arg: Option<String>, clock: &dyn Clock) -> Result<crate::time::Timestamp, Failure> {
    match arg {
        Some(t) => crate::time::Timestamp::parse(&t).map_err(input("--as-of")),
        None => Ok(clock.now()),
    }
}

fn io(e: crate::store::StoreError) -> Failure {
    Failure::Io(e.to_string())
}

fn open(dir: &Path) -> Result<Ledger, Failure> {
    Ledger::open(dir).map_err(Failure::from)
}

fn read_key(path: &Path) -> Result<SecretKey, Failure> {
    SecretKey::read_file(path).map_err(|e| Failure::Input(e.to_string()))
}

fn read_input(path: &Path) -> Result<Vec<u8>, Failure> {
    let limit = crate::limits::ENVELOPE_BYTES_MAX as u64 + 1;
    let mut buf = Vec::new();
    let result = if path == Path::new("-") {
        std::io::stdin().take(limit).read_to_end(&mut buf)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(limit).read_to_end(&mut buf))
    };
    result.map_err(|e| Failure::Input(format!("{}: {e}", path.display())))?;
    Ok(buf)
}

fn write_stdout(bytes: &[u8]) -> Outcome {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure::Io(format!("stdout: {e}")))
        }
        _ => Ok(()),
    }
}

fn print_json(value: &Value) {
    out!(
        "{}",
        serde_json::to_string_pretty(value).expect("a JSON value always serializes")
    );
}

fn hashes_b64(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(|h| B64.encode(h)).collect()
}

/// The officer whose current key is this private key's public key.
fn officer_of_key(ledger: &Ledger, key: &SecretKey) -> Result<OfficerId, Failure> {
    let public = key.public();
    let state = ledger.state();
    state
        .officers()
        .find(|o| o.current_key().is_some_and(|k| k.key == public))
        .map(|o| o.record.id.clone())
        .ok_or_else(|| {
            Failure::Rejected(format!(
                "key {} is not the current key of any enrolled officer in this ledger",
                public.key_id()
            ))
        })
}

fn append_signed(
    ledger: &Ledger,
    bytes: Vec<u8>,
    keys: &[&SecretKey],
    json: bool,
    verb: &str,
) -> Outcome {
    let envelope = compose::sign_statement(bytes, keys).map_err(input("statement"))?;
    let receipt = ledger.submit_envelope(envelope)?;
    print_receipt(ledger, &receipt, json, verb)
}

fn receipt_json(ledger: &Ledger, receipt: &Receipt) -> Result<Value, Failure> {
    let proof = ledger.inclusion_proof(receipt.seq, receipt.checkpoint.size)?;
    Ok(json!({
        "seq": receipt.seq,
        "leaf_hash": B64.encode(receipt.leaf_hash),
        "duplicate": receipt.duplicate,
        "checkpoint": receipt.checkpoint.note,
        "inclusion_proof": {
            "index": receipt.seq,
            "tree_size": receipt.checkpoint.size,
            "leaf_hash": B64.encode(receipt.leaf_hash),
            "hashes": hashes_b64(&proof),
        },
    }))
}

fn print_receipt(ledger: &Ledger, receipt: &Receipt, json: bool, verb: &str) -> Outcome {
    if json {
        print_json(&receipt_json(ledger, receipt)?);
    } else if receipt.duplicate {
        out!(
            "already recorded at seq {} (same statement id and content); nothing new was written",
            receipt.seq
        );
    } else {
        out!(
            "{verb}: seq {} (leaf hash {}), covered by checkpoint size {}",
            receipt.seq,
            B64.encode(receipt.leaf_hash),
            receipt.checkpoint.size
        );
    }
    Ok(())
}

fn entry_json(bytes: &[u8]) -> Result<Value, Failure> {
    let leaf =
        crate::leaf::Leaf::decode(bytes).map_err(|e| Failure::Io(format!("stored leaf: {e}")))?;
    let statement: Value = serde_json::from_slice(leaf.envelope.payload())
        .map_err(|e| Failure::Io(format!("stored statement: {e}")))?;
    Ok(json!({
        "seq": leaf.seq,
        "recorded_at": leaf.recorded_at.to_canonical(),
        "prev": B64.encode(leaf.prev),
        "leaf_hash": B64.encode(crate::merkle::leaf_hash(bytes)),
        "signatures": leaf.envelope.signatures().iter().map(|s| json!({"keyid": s.keyid, "sig": s.sig.to_base64()})).collect::<Vec<_>>(),
        "statement": statement,
    }))
}

fn key_new(out: &Path, json: bool) -> Outcome {
    let key = SecretKey::generate().map_err(|e| Failure::Io(e.to_string()))?;
    key.write_new_file(out)
        .map_err(|e| Failure::Input(e.to_string()))?;
    show_public(&key, Some(out), json);
    Ok(())
}

fn key_show(path: &Path, json: bool) -> Outcome {
    let key = read_key(path)?;
    show_public(&key, Some(path), json);
    Ok(())
}

fn show_public(key: &SecretKey, path: Option<&Path>, json: bool) {
    let public = key.public();
    if json {
        print_json(&json!({
            "file": path.map(|p| p.display().to_string()),
            "public_key": public.to_base64(),
            "key_id": public.key_id(),
        }));
    } else {
        if let Some(p) = path {
            out!("private key: {} (keep it secret; mode 0600)", p.display());
        }
        out!("public key:  {}", public.to_base64());
        out!("key id:      {}", public.key_id());
    }
}

fn progress_bar(total: u64, what: &str) -> indicatif::ProgressBar {
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

fn read_vkey(arg: &str) -> Result<VerifierKey, Failure> {
    // Accept the key string itself or a file holding it (as `custody vkey > FILE` writes).
    let text = if Path::new(arg).is_file() {
        std::fs::read_to_string(arg).map_err(|e| Failure::Input(format!("--vkey {arg}: {e}")))?
    } else {
        arg.to_owned()
    };
    VerifierKey::parse(text.trim()).map_err(input("--vkey"))
}

fn verify_command(
    ledger: Option<PathBuf>,
    tiles: Option<PathBuf>,
    vkey: Option<String>,
    json: bool,
) -> Outcome {
    let (report, what) = match (ledger, tiles) {
        (_, Some(dir)) => {
            let vkey = read_vkey(vkey.as_deref().unwrap_or_default())?;
            let note = export::TilesSource::read_checkpoint(&dir)?;
            let cp = crate::note::open_checkpoint(&note, &vkey)
                .map_err(|e| Failure::Rejected(format!("verification FAILED: checkpoint: {e}")))?;
            let source = export::TilesSource::new(&dir, cp.size);
            let bar = progress_bar(cp.size, "verifying");
            let report = verify::verify_log(&source, &note, &vkey, &mut |d, _| bar.set_position(d));
            bar.finish_and_clear();
            (report?, format!("tiles export {}", dir.display()))
        }
        (Some(dir), None) => {
            let ledger = open(&dir)?;
            let vkey = match vkey {
                Some(v) => read_vkey(&v)?,
                None => ledger.verifier_key().clone(),
            };
            let cp = ledger.checkpoint();
            let bar = progress_bar(cp.size, "verifying");
            let report =
                verify::verify_log(ledger.store(), cp.note.as_bytes(), &vkey, &mut |d, _| {
                    bar.set_position(d)
                });
            bar.finish_and_clear();
            (report?, format!("ledger {}", dir.display()))
        }
        (None, None) => {
            return Err(Failure::Input(
                "give --ledger DIR (or CUSTODY_LEDGER) or --tiles DIR --vkey VKEY".into(),
            ));
        }
    };
    if json {
        print_json(&json!({
            "ok": true,
            "source": what,
            "origin": report.origin.as_str(),
            "size": report.size,
            "root": B64.encode(report.root),
            "statements": report.statements,
            "officers_enrolled": report.officers_enrolled,
            "officers_revoked": report.officers_revoked,
        }));
    } else {
        out!(
            "OK: {what}: {} entries verified (origin {}, root {}); every signature, key, hash link and the checkpoint check out",
            report.size,
            report.origin,
            B64.encode(report.root)
        );
    }
    Ok(())
}

fn officers(dir: &Path, json: bool) -> Outcome {
    let ledger = open(dir)?;
    let state = ledger.state();
    if json {
        let list: Vec<Value> = state
            .officers()
            .map(|o| {
                json!({
                    "id": o.record.id.as_str(),
                    "name": o.record.name,
                    "agency": o.record.agency,
                    "unit": o.record.unit,
                    "roles": o.record.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
                    "enrolled_at": o.enrolled_at,
                    "revoked_at": o.revoked_at,
                    "keys": o.keys.iter().map(|k| json!({
                        "key_id": k.keyid,
                        "public_key": k.key.to_base64(),
                        "from_seq": k.from_seq,
                        "until_seq": k.until_seq,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        print_json(&Value::Array(list));
    } else {
        out!(
            "{:<20} {:<28} {:<10} {:<34} status",
            "NIP/NRP",
            "name (nama)",
            "agency",
            "roles (peran)"
        );
        for o in state.officers() {
            let status = match (o.revoked_at, o.current_key()) {
                (Some(at), _) => format!("revoked at seq {at} (dicabut)"),
                (None, Some(k)) => format!("active, key {} since seq {}", k.keyid, k.from_seq),
                (None, None) => "no key".to_owned(),
            };
            let roles: Vec<&str> = o.record.roles.iter().map(|r| r.as_str()).collect();
            out!(
                "{:<20} {:<28} {:<10} {:<34} {status}",
                o.record.id,
                o.record.name,
                o.record.agency,
                roles.join(",")
            );
        }
    }
    Ok(())
}
