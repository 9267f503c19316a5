//! The command-line edge: parses arguments (clap), reads input files, calls the library, renders
//! output for people or as JSON (`--json`), and maps every failure to an exit code in one place
//! (`Failure::exit_code`): 0 ok, 1 verification or rule failure, 2 usage or input error,
//! 3 I/O or corruption. Holds no business rules.

use crate::app::compose::{self, OfficerInput};
use crate::app::export;
use crate::app::ledger::{AppendError, Ledger, OpenError, ProofRequestError, Receipt};
use crate::app::reads::{ReadError, Reads};
use crate::app::verify;
use crate::base::ids::{FacilityId, OfficerId, OfficerRole, Origin};
use crate::base::time::{Clock, SystemClock};
use crate::edge::client::{ClientError, Outbox, Remote};
use crate::format::envelope::Envelope;
use crate::format::note::VerifierKey;
use crate::keys::signing::{PublicKey, SecretKey};
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

/// A local ledger, or a server: where queries read and statements go.
#[derive(Args, Debug, Clone)]
struct PlaceArg {
    /// Ledger directory (also from CUSTODY_LEDGER)
    #[arg(
        long,
        env = "CUSTODY_LEDGER",
        value_name = "DIR",
        required_unless_present = "server"
    )]
    ledger: Option<PathBuf>,
    /// A custody server instead, e.g. http://127.0.0.1:8080 (also from CUSTODY_SERVER; it wins over CUSTODY_LEDGER)
    #[arg(long, env = "CUSTODY_SERVER", value_name = "URL")]
    server: Option<String>,
    /// A CA certificate (PEM) to trust for the server's TLS certificate
    #[arg(long, env = "CUSTODY_CA_CERT", value_name = "FILE")]
    ca_cert: Option<PathBuf>,
}

impl PlaceArg {
    fn ledger(&self) -> Result<&Path, Failure> {
        self.ledger
            .as_deref()
            .ok_or_else(|| Failure::Input("give --ledger DIR or --server URL".into()))
    }
}

/// Where a query reads from: a local ledger, or a server with a signed request.
#[derive(Args, Debug, Clone)]
struct SourceArg {
    #[command(flatten)]
    place: PlaceArg,
    /// Your officer key, which signs read requests to --server (also from CUSTODY_KEY)
    #[arg(long = "key", env = "CUSTODY_KEY", value_name = "FILE")]
    read_key: Option<PathBuf>,
}

/// Where a signed statement goes: a local ledger, or a server (with an outbox for when it is
/// unreachable).
#[derive(Args, Debug, Clone)]
struct TargetArg {
    #[command(flatten)]
    place: PlaceArg,
    /// Keep the signed envelope in this folder when the server cannot be reached; send it later with `custody sync`
    #[arg(long, value_name = "DIR", requires = "server")]
    outbox: Option<PathBuf>,
    /// The ledger's verifier key: check the receipt's checkpoint signature too (a string or a file)
    #[arg(long, env = "CUSTODY_VKEY", value_name = "VKEY")]
    vkey: Option<String>,
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
        ledger: TargetArg,
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
        ledger: TargetArg,
        /// Envelope JSON file, or - for standard input
        envelope: PathBuf,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Print the latest signed checkpoint, byte for byte
    Checkpoint {
        #[command(flatten)]
        ledger: SourceArg,
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
        ledger: SourceArg,
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
    /// Check a ledger folder that will not open (or any other): every problem with its file and rule; --repair fixes what is provably safe (quarantine, never delete; views rebuilt from the log)
    Doctor {
        #[command(flatten)]
        ledger: LedgerArg,
        /// Repair what is provably safe; without it nothing is changed (the checks run on a copy)
        #[arg(long)]
        repair: bool,
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
        ledger: SourceArg,
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
        ledger: SourceArg,
        id: String,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Show every event of an item with time, act, signers and roles, seals, masses and location (riwayat)
    History {
        #[command(flatten)]
        ledger: SourceArg,
        id: String,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Items an officer (NIP/NRP) or a unit holds now (penguasaan)
    Holdings {
        #[command(flatten)]
        ledger: SourceArg,
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
        ledger: SourceArg,
        #[command(flatten)]
        json: JsonArg,
    },
    /// An incident: searches, finds, items and persons (kejadian)
    Incident {
        #[command(flatten)]
        ledger: SourceArg,
        id: String,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Everything involving one person: SDP:<no>, NIK:<16 digits>, PASSPORT:<NAT>:<no>, or an officer's NIP/NRP
    Person {
        #[command(flatten)]
        ledger: SourceArg,
        id: String,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Counts per facility: events, items, items by status
    Facilities {
        #[command(flatten)]
        ledger: SourceArg,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Find every anomaly a defence lawyer would raise (docs/DOMAIN.md classes 1-14), with severity, proving seqs and a sentence in English and Indonesian
    Audit {
        #[command(flatten)]
        ledger: SourceArg,
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
        ledger: SourceArg,
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
        ledger: SourceArg,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Measure the ledger: durable, verified appends from concurrent writers (a new ledger in --ledger)
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Reliability torture: crash `custody serve` under load and check every acknowledgement survives (or, with --faults, inject storage faults into the embedded ledger)
    #[command(
        after_help = "Crash torture: custody torture --ledger DIR --cycles 20\nStorage faults: custody torture --faults --seeds 200 --ledger SCRATCH\nIt ends with one line (cycles=N acked=A lost=L undetected_corruption=U) and exits 1 unless L and U are 0."
    )]
    Torture {
        /// A new folder: the torture ledger (crash mode), or the scratch folder for one ledger per seed (--faults)
        #[arg(long, value_name = "DIR")]
        ledger: PathBuf,
        /// Kill-and-restart cycles of the crash torture
        #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
        cycles: u64,
        /// Concurrent HTTP writers
        #[arg(long, value_name = "W", default_value_t = 8, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
        writers: usize,
        /// Seed of every random choice (kill times, crash points, faults); printed so a failure can be rerun
        #[arg(long, value_name = "S")]
        seed: Option<u64>,
        /// Compare the views with a rebuild from the log every K cycles (the last cycle always)
        #[arg(long, value_name = "K", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
        rebuild_every: u64,
        /// Percent of cycles killed during start-up: during the open, in sled's snapshot window, or just after listening
        #[arg(long, value_name = "P", default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=100))]
        startup_percent: u64,
        /// Run the storage fault suite instead: one embedded ledger per seed through the fault layer
        #[arg(long)]
        faults: bool,
        /// Seeds of the fault suite, starting at --seed (default 1)
        #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
        seeds: u64,
        /// Statements each fault seed tries to record
        #[arg(long, value_name = "N", default_value_t = 40, value_parser = clap::value_parser!(u64).range(1..))]
        statements: u64,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Serve the ledger over HTTP: statements in, signed reads out, the tlog-tiles read path for mirrors
    Serve {
        #[command(flatten)]
        ledger: LedgerArg,
        /// Address to listen on; plain HTTP only on loopback, anything else needs --tls-cert and --tls-key
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// TLS certificate chain (PEM)
        #[arg(long, value_name = "FILE", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// TLS private key (PEM)
        #[arg(long, value_name = "FILE", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Requests served at once; more are answered 503 at once
        #[arg(long, value_name = "N", default_value_t = crate::edge::server::CONCURRENT_REQUESTS_MAX)]
        concurrency_max: usize,
        /// Time allowed for a whole request, upload included; slower ones are answered 408
        #[arg(long, value_name = "MS", default_value_t = crate::edge::server::REQUEST_TIMEOUT_MS)]
        request_timeout_ms: u64,
        /// Open connections at once; more are closed as soon as they are accepted
        #[arg(long, value_name = "N", default_value_t = crate::edge::server::CONNECTIONS_MAX, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
        connections_max: usize,
        /// Time allowed for a request's header to arrive; slower connections are closed
        #[arg(long, value_name = "MS", default_value_t = crate::edge::server::HEADER_READ_TIMEOUT_MS, value_parser = clap::value_parser!(u64).range(1..))]
        header_timeout_ms: u64,
    },
    /// Submit the envelopes waiting in an outbox, oldest first; each is answered recorded, already recorded or rejected
    Sync {
        /// The custody server, e.g. http://127.0.0.1:8080 (also from CUSTODY_SERVER)
        #[arg(long, env = "CUSTODY_SERVER", value_name = "URL")]
        server: String,
        #[arg(long, value_name = "DIR")]
        outbox: PathBuf,
        /// A CA certificate (PEM) to trust for the server's TLS certificate
        #[arg(long, env = "CUSTODY_CA_CERT", value_name = "FILE")]
        ca_cert: Option<PathBuf>,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Create a demonstration ledger with generated keys, then verify it
    Demo {
        /// The new ledger's directory (must not exist or be empty)
        #[arg(
            long,
            value_name = "DIR",
            env = "CUSTODY_LEDGER",
            required_unless_present = "server"
        )]
        ledger: Option<PathBuf>,
        /// Only found the ledger and enroll the officers (keys in DIR/demo-keys); record the acts later through a server with --server
        #[arg(long, requires = "ledger")]
        founding_only: bool,
        /// Record the scenario's acts through this server instead, signed here with the keys in --keys
        #[arg(long, value_name = "URL", conflicts_with = "founding_only")]
        server: Option<String>,
        /// The demo-keys folder written by `custody demo --founding-only`
        #[arg(long, value_name = "DIR", requires = "server")]
        keys: Option<PathBuf>,
        /// A CA certificate (PEM) to trust for the server's TLS certificate
        #[arg(long, env = "CUSTODY_CA_CERT", value_name = "FILE")]
        ca_cert: Option<PathBuf>,
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
        ledger: SourceArg,
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
    /// Durable, verified appends of pre-signed ~1 KiB statements from --writers threads for --seconds; prints a table, then a JSON line
    Append {
        #[arg(long, default_value_t = 1)]
        writers: usize,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// Signatures per statement: 1 = a note; K > 1 = a find of contraband by a finder and K-1 witnesses
        #[arg(long, default_value_t = 1)]
        signatures: usize,
        /// Directory for the new benchmark ledger (must not exist or be empty; kept afterwards). Default: a temporary one, removed afterwards
        #[arg(long, value_name = "DIR")]
        ledger: Option<PathBuf>,
        /// Append over HTTP to a running `custody serve`; the benchmark's officers are enrolled there first, signed by --admin with --admin-key
        #[arg(long, value_name = "URL", requires_all = ["admin", "admin_key"], conflicts_with_all = ["ledger", "http"])]
        server: Option<String>,
        /// The administrator (NIP/NRP) who enrolls the benchmark's officers on --server
        #[arg(long, value_name = "ID")]
        admin: Option<String>,
        /// The administrator's key file (PKCS#8 PEM)
        #[arg(long, value_name = "FILE")]
        admin_key: Option<PathBuf>,
        /// CA certificate to trust for an https --server
        #[arg(long, value_name = "FILE")]
        ca_cert: Option<PathBuf>,
        /// Append over HTTP through a `custody serve` started on 127.0.0.1 in this process, on a new ledger
        #[arg(long)]
        http: bool,
    },
    /// Full verification (every signature strictly checked) of a generated ledger of --entries entries
    Verify {
        #[arg(long, default_value_t = 100_000)]
        entries: u64,
        #[command(flatten)]
        cache: CacheArg,
    },
    /// Item history, holdings and inclusion-proof latency on a generated ledger of --entries entries
    Query {
        #[arg(long, default_value_t = 100_000)]
        entries: u64,
        #[arg(long, default_value_t = 2000, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
        samples: usize,
        #[command(flatten)]
        cache: CacheArg,
    },
    /// Rebuild of every view from the log of a generated ledger of --entries entries
    Rebuild {
        #[arg(long, default_value_t = 100_000)]
        entries: u64,
        #[command(flatten)]
        cache: CacheArg,
    },
}

/// Where generated benchmark ledgers are kept between runs, one per size.
#[derive(Args, Debug)]
struct CacheArg {
    /// Folder of generated ledgers, one per --entries (reused when present)
    #[arg(long, value_name = "DIR", env = "CUSTODY_BENCH_CACHE")]
    cache: Option<PathBuf>,
}

impl CacheArg {
    fn dir(&self) -> PathBuf {
        self.cache
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join("custody-bench"))
    }
}

#[derive(Subcommand, Debug)]
enum ProveCommand {
    /// Inclusion proof of the leaf at SEQ in the tree of --size leaves (default: latest checkpoint)
    Inclusion {
        #[command(flatten)]
        ledger: PlaceArg,
        seq: u64,
        #[arg(long)]
        size: Option<u64>,
    },
    /// Consistency proof between tree sizes OLD and NEW (default: latest checkpoint)
    Consistency {
        #[command(flatten)]
        ledger: PlaceArg,
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
                    "genesis": ledger_handle.receipt_view(&receipt)?,
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
            ledger: target,
            keys,
            statement,
            fill_after,
            json,
        } => {
            let raw = read_input(&statement)?;
            let first_key = keys.first().cloned();
            let keys = keys
                .iter()
                .map(|k| read_key(k))
                .collect::<Result<Vec<_>, _>>()?;
            let mut bytes =
                compose::fill_defaults(&raw, clock.as_ref()).map_err(input("statement"))?;
            let refs: Vec<&SecretKey> = keys.iter().collect();
            match &target.place.server {
                None => {
                    let ledger = open(target.place.ledger()?)?;
                    if fill_after {
                        let store = ledger.store();
                        let head = |id: &crate::base::ids::ItemId| {
                            crate::app::queries::item(store, id)
                                .ok()
                                .flatten()
                                .map(|s| s.head)
                        };
                        bytes = compose::fill_after(&bytes, &head).map_err(input("statement"))?;
                    }
                    append_signed(&ledger, bytes, &refs, json.json, "recorded")
                }
                Some(url) => {
                    let read_key = first_key.as_deref().map(read_key).transpose()?;
                    let remote = remote(url, read_key, target.place.ca_cert.as_deref(), &clock)?;
                    let outbox = target
                        .outbox
                        .as_deref()
                        .map(Outbox::open)
                        .transpose()
                        .map_err(client_failure)?;
                    if fill_after {
                        bytes = fill_after_remote(&remote, outbox.as_ref(), &bytes)?;
                    }
                    let envelope =
                        compose::sign_statement(bytes, &refs).map_err(input("statement"))?;
                    submit_remote(
                        &remote,
                        outbox.as_ref(),
                        &target,
                        envelope.to_json_pretty().into_bytes(),
                        json.json,
                        clock.as_ref(),
                    )
                }
            }
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
                crate::format::statement::Statement::parse(&bytes).map_err(input("statement"))?;
                Envelope::unsigned(bytes).map_err(input("statement"))?
            };
            envelope.sign(&key).map_err(input("envelope"))?;
            out!("{}", envelope.to_json_pretty());
            Ok(())
        }
        Command::Submit {
            ledger: target,
            envelope,
            json,
        } => {
            let raw = read_input(&envelope)?;
            match &target.place.server {
                None => {
                    let ledger = open(target.place.ledger()?)?;
                    let receipt = ledger.submit(&raw)?;
                    print_receipt(&ledger, &receipt, json.json, "recorded")
                }
                Some(url) => {
                    let remote = remote(url, None, target.place.ca_cert.as_deref(), &clock)?;
                    let outbox = target
                        .outbox
                        .as_deref()
                        .map(Outbox::open)
                        .transpose()
                        .map_err(client_failure)?;
                    submit_remote(
                        &remote,
                        outbox.as_ref(),
                        &target,
                        raw,
                        json.json,
                        clock.as_ref(),
                    )
                }
            }
        }
        Command::Checkpoint { ledger: src, json } => {
            let note = match &src.place.server {
                Some(url) => {
                    let remote = remote(url, None, src.place.ca_cert.as_deref(), &clock)?;
                    String::from_utf8(
                        remote
                            .get_public("/v1/checkpoint")
                            .map_err(client_failure)?,
                    )
                    .map_err(|_| Failure::Io("the server's checkpoint is not UTF-8".into()))?
                }
                None => open(src.place.ledger()?)?.checkpoint().note.clone(),
            };
            if json.json {
                let cp = crate::format::note::checkpoint_unverified(note.as_bytes())
                    .map_err(|e| Failure::Io(format!("checkpoint: {e}")))?;
                print_json(&json!({
                    "origin": cp.origin.as_str(),
                    "size": cp.size,
                    "root": B64.encode(cp.root),
                    "note": note,
                }));
            } else {
                write_stdout(note.as_bytes())?;
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
        Command::Entry {
            ledger: src,
            seq,
            json,
        } => {
            let bytes = match source(&src, &clock)? {
                Source::Remote(remote) => remote
                    .get_signed(&format!("/v1/entries/{seq}"))
                    .map_err(client_failure)?,
                Source::Local(ledger) => {
                    let size = ledger.checkpoint().size;
                    ledger
                        .leaf(seq)
                        .map_err(|e| Failure::Io(e.to_string()))?
                        .ok_or_else(|| {
                            Failure::Input(format!(
                                "no entry {seq}: the log holds seqs 0 to {}",
                                size.saturating_sub(1)
                            ))
                        })?
                }
            };
            if json {
                print_json(&entry_json(&bytes)?);
            } else {
                write_stdout(&bytes)?;
            }
            Ok(())
        }
        Command::Prove { command } => match command {
            ProveCommand::Inclusion {
                ledger: place,
                seq,
                size,
            } => {
                if let Some(url) = &place.server {
                    let size = size.map(|s| format!("&size={s}")).unwrap_or_default();
                    return print_public(
                        url,
                        &place,
                        &format!("/v1/proofs/inclusion?seq={seq}{size}"),
                        &clock,
                    );
                }
                let ledger = open(place.ledger()?)?;
                let size = size.unwrap_or(ledger.checkpoint().size);
                let proof = ledger.inclusion_view(seq, size)?;
                print_json(&serde_json::to_value(&proof).expect("a proof serializes"));
                Ok(())
            }
            ProveCommand::Consistency {
                ledger: place,
                old,
                new,
            } => {
                if let Some(url) = &place.server {
                    let new = new.map(|n| format!("&new={n}")).unwrap_or_default();
                    return print_public(
                        url,
                        &place,
                        &format!("/v1/proofs/consistency?old={old}{new}"),
                        &clock,
                    );
                }
                let ledger = open(place.ledger()?)?;
                let new = new.unwrap_or(ledger.checkpoint().size);
                let hashes = ledger.consistency_proof(old, new)?;
                print_json(
                    &json!({"old_size": old, "new_size": new, "hashes": hashes.iter().map(|h| B64.encode(h)).collect::<Vec<_>>()}),
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
        Command::Doctor {
            ledger,
            repair,
            json,
        } => doctor_command(&ledger.ledger, repair, json.json),
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
        Command::Officers { ledger: src, json } => {
            let source = source(&src, &clock)?;
            let list = source.reads().officers()?;
            show(json.json, &list, || crate::edge::render::officers(&list))
        }
        Command::Items {
            ledger: src,
            status,
            facility,
            json,
        } => {
            let status = status
                .map(|s| {
                    crate::domain::custody::Status::parse(&s).ok_or_else(|| {
                        Failure::Input(format!(
                            "--status {s:?}: use held, in_transit, destroyed, returned or forfeited"
                        ))
                    })
                })
                .transpose()?;
            let source = source(&src, &clock)?;
            let list = source.reads().items(status, facility.as_deref())?;
            show(json.json, &list, || crate::edge::render::items(&list))
        }
        Command::Item {
            ledger: src,
            id,
            json,
        } => {
            let id = crate::base::ids::ItemId::parse(&id).map_err(input("item"))?;
            let item = source(&src, &clock)?.reads().item(&id)?;
            show(json.json, &item, || crate::edge::render::item(&item))
        }
        Command::History {
            ledger: src,
            id,
            json,
        } => {
            let id = crate::base::ids::ItemId::parse(&id).map_err(input("item"))?;
            let history = source(&src, &clock)?.reads().history(&id)?;
            show(json.json, &history, || {
                crate::edge::render::history(&history.item, &history.events)
            })
        }
        Command::Holdings {
            ledger: src,
            officer,
            unit,
            json,
        } => {
            let (who, holder) = match (officer, unit) {
                (Some(o), _) => {
                    let o = OfficerId::parse(&o).map_err(input("officer"))?;
                    (
                        format!("officer {o}"),
                        crate::app::reads::Holder::Officer(o),
                    )
                }
                (None, Some(u)) => (format!("unit {u}"), crate::app::reads::Holder::Unit(u)),
                (None, None) => {
                    return Err(Failure::Input(
                        "give an officer's NIP/NRP or --unit UNIT".into(),
                    ));
                }
            };
            let list = source(&src, &clock)?.reads().holdings(&holder)?;
            if json.json {
                print_json(&serde_json::to_value(&list).expect("items serialize"));
            } else {
                out!(
                    "Holdings of {who} (barang dalam penguasaan): {} item(s)",
                    list.len()
                );
                crate::edge::render::items(&list);
            }
            Ok(())
        }
        Command::Pending { ledger: src, json } => {
            let list = source(&src, &clock)?.reads().pending()?;
            show(json.json, &list, || crate::edge::render::pending(&list))
        }
        Command::Incident {
            ledger: src,
            id,
            json,
        } => {
            let view = source(&src, &clock)?.reads().incident(&id)?;
            show(json.json, &view, || crate::edge::render::incident(&view))
        }
        Command::Person {
            ledger: src,
            id,
            json,
        } => {
            let view = source(&src, &clock)?.reads().person(&id)?;
            show(json.json, &view, || {
                crate::edge::render::person(&view.person, &view.events)
            })
        }
        Command::Facilities { ledger: src, json } => {
            let map = source(&src, &clock)?.reads().facilities()?;
            if json.json {
                print_json(&serde_json::to_value(&map).expect("counts serialize"));
            } else {
                for (f, counts) in map {
                    out!("{f}: {counts}");
                }
            }
            Ok(())
        }
        Command::Audit {
            ledger: src,
            item,
            incident,
            all,
            as_of,
            fail_on,
            json,
        } => {
            let scope = match (item, incident, all) {
                (Some(i), _, _) => crate::app::casefile::Scope::Item(
                    crate::base::ids::ItemId::parse(&i).map_err(input("--item"))?,
                ),
                (None, Some(i), _) => crate::app::casefile::Scope::Incident(i),
                (None, None, true) => crate::app::casefile::Scope::All,
                (None, None, false) => {
                    return Err(Failure::Input(
                        "give --item ID, --incident ID or --all".into(),
                    ));
                }
            };
            let as_of = as_of_arg(as_of, clock.as_ref())?;
            let fail_on = fail_on
                .map(|s| {
                    crate::domain::audit::Severity::parse(&s).ok_or_else(|| {
                        Failure::Input(format!(
                            "--fail-on {s:?}: use info, warning, serious or critical"
                        ))
                    })
                })
                .transpose()?;
            let report = match &src.place.server {
                Some(_) => source(&src, &clock)?.reads().audit(&scope, as_of)?,
                // Locally, with a progress bar: `--all` verifies the whole log first.
                None => local_audit(src.place.ledger()?, &scope, as_of)?,
            };
            if json.json {
                print_json(&serde_json::to_value(&report).expect("the report serializes"));
            } else {
                crate::edge::render::audit(&report);
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
                    ledger: src,
                    item,
                    out,
                    json,
                },
        } => {
            let id = crate::base::ids::ItemId::parse(&item).map_err(input("--item"))?;
            if out.exists() {
                return Err(Failure::Input(format!(
                    "{} already exists; choose another --out",
                    out.display()
                )));
            }
            let bytes = source(&src, &clock)?.reads().bundle(&id)?;
            let bundle: crate::app::bundle::Bundle = serde_json::from_slice(&bytes)
                .map_err(|e| Failure::Io(format!("the bundle is malformed: {e}")))?;
            std::fs::write(&out, &bytes)
                .map_err(|e| Failure::Io(format!("{}: {e}", out.display())))?;
            let digest = crate::keys::signing::hex(&{
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
            let report = crate::app::bundle::verify(&bytes, &vkey, as_of)
                .map_err(|e| Failure::Rejected(format!("bundle verification FAILED: {e}")))?;
            show(json.json, &report, || crate::edge::render::bundle(&report))
        }
        Command::Report {
            ledger: src,
            item,
            out,
            as_of,
        } => {
            let id = crate::base::ids::ItemId::parse(&item).map_err(input("--item"))?;
            let as_of = as_of_arg(as_of, clock.as_ref())?;
            let source = source(&src, &clock)?;
            let reads = source.reads();
            let history = reads.history(&id)?;
            let audit = reads.audit(&crate::app::casefile::Scope::Item(id.clone()), as_of)?;
            // The report describes exactly the bundle it names: its lot, checkpoint and key.
            let bundle_bytes = reads.bundle(&id)?;
            let bundle: crate::app::bundle::Bundle = serde_json::from_slice(&bundle_bytes)
                .map_err(|e| Failure::Io(format!("the bundle is malformed: {e}")))?;
            let lot = bundle
                .items
                .iter()
                .filter_map(|i| crate::base::ids::ItemId::parse(i).ok())
                .map(|i| reads.item(&i))
                .collect::<Result<Vec<_>, _>>()?;
            let cp = crate::format::note::checkpoint_unverified(bundle.checkpoint.as_bytes())
                .map_err(|e| Failure::Io(format!("the bundle's checkpoint: {e}")))?;
            let digest = crate::keys::signing::hex(&{
                use sha2::Digest as _;
                sha2::Sha256::digest(&bundle_bytes)
            });
            let root = B64.encode(cp.root);
            let as_of_text = as_of.to_canonical();
            let html = crate::edge::report::html(&crate::edge::report::ReportInput {
                item: &history.item,
                lot: &lot,
                history: &history.events,
                findings: &audit.findings,
                origin: &bundle.origin,
                checkpoint_size: cp.size,
                checkpoint_root: &root,
                bundle_sha256: &digest,
                vkey: &bundle.vkey,
                as_of: &as_of_text,
            });
            std::fs::write(&out, html.as_bytes())
                .map_err(|e| Failure::Io(format!("{}: {e}", out.display())))?;
            out!(
                "wrote {} ({} acts, {} findings); the bundle it describes has sha256 {digest}",
                out.display(),
                history.events.len(),
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
        Command::Bench { command } => bench(command, &clock),
        Command::Torture {
            ledger,
            cycles,
            writers,
            seed,
            rebuild_every,
            startup_percent,
            faults,
            seeds,
            statements,
            json,
        } => torture(
            &ledger,
            TortureArgs {
                cycles,
                writers,
                seed,
                rebuild_every,
                startup_percent,
                faults,
                seeds,
                statements,
                json: json.json,
            },
        ),
        Command::Serve {
            ledger,
            listen,
            tls_cert,
            tls_key,
            concurrency_max,
            request_timeout_ms,
            connections_max,
            header_timeout_ms,
        } => {
            init_logging();
            let dir = ledger.ledger;
            let tls = match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => Some(crate::edge::server::TlsFiles { cert, key }),
                _ => None,
            };
            let config = crate::edge::server::ServeConfig {
                concurrency_max,
                request_timeout_ms,
                connections_max,
                header_timeout_ms,
                ..crate::edge::server::ServeConfig::new(listen, tls)
            };
            crate::edge::server::run(
                move || open(&dir),
                config,
                |addr, tls| {
                    out!(
                        "listening on {}://{addr}",
                        if tls { "https" } else { "http" }
                    );
                },
            )
            .map_err(|e| match e {
                crate::edge::server::Served::Open(failure) => failure,
                crate::edge::server::Served::Serve(
                    e @ (crate::edge::server::ServeError::NotLoopback(_)
                    | crate::edge::server::ServeError::Tls(_)),
                ) => Failure::Input(e.to_string()),
                crate::edge::server::Served::Serve(other) => Failure::Io(other.to_string()),
            })
        }
        Command::Sync {
            server,
            outbox,
            ca_cert,
            json,
        } => {
            let remote = remote(&server, None, ca_cert.as_deref(), &clock)?;
            if !outbox.is_dir() {
                return Err(Failure::Input(format!(
                    "outbox {} does not exist; give the folder `record --outbox` wrote to",
                    outbox.display()
                )));
            }
            let outbox = Outbox::open(&outbox).map_err(client_failure)?;
            let results = outbox
                .sync(&remote, &mut |r| {
                    if !json.json {
                        let detail = match (&r.seq, &r.message) {
                            (Some(seq), _) => format!("seq {seq}"),
                            (None, Some(m)) => m.clone(),
                            (None, None) => String::new(),
                        };
                        out!("{:<17} {}  {detail}", r.outcome, r.file);
                    }
                })
                .map_err(client_failure)?;
            let count = |o: &str| results.iter().filter(|r| r.outcome == o).count();
            let left = outbox.queued().map_err(client_failure)?.len();
            if json.json {
                print_json(&json!({"results": results, "still_queued": left}));
            } else {
                out!(
                    "{} recorded, {} already recorded, {} rejected (kept in rejected/), {} still queued",
                    count("recorded"),
                    count("already_recorded"),
                    count("rejected"),
                    left
                );
            }
            if count("unreachable") > 0 {
                Err(Failure::Io(format!(
                    "{} is unreachable; {left} envelope(s) stay queued; run `custody sync` again later",
                    remote.url()
                )))
            } else if count("rejected") > 0 {
                Err(Failure::Rejected(format!(
                    "{} envelope(s) were rejected by the server; the reasons are beside them in the outbox's rejected/ folder",
                    count("rejected")
                )))
            } else {
                Ok(())
            }
        }
        Command::Demo {
            ledger,
            founding_only,
            server,
            keys,
            ca_cert,
            json,
        } => {
            let demo_failure = |e: crate::app::demo::DemoError| match e {
                crate::app::demo::DemoError::Open(e) => Failure::from(e),
                crate::app::demo::DemoError::Append(e) => Failure::from(e),
                crate::app::demo::DemoError::Target(m) => Failure::Rejected(m),
                other => Failure::Io(other.to_string()),
            };
            if let Some(url) = server {
                let keys = keys.ok_or_else(|| {
                    Failure::Input(
                        "give --keys DIR (the demo-keys folder of `custody demo --founding-only`)"
                            .into(),
                    )
                })?;
                // Reads for `after` are signed by the administrator, who reads the home facility.
                let admin = read_key(&keys.join("admin.pem"))?;
                let remote = remote(&url, Some(admin), ca_cert.as_deref(), &clock)?;
                let steps = crate::app::demo::record_acts(&remote, &keys).map_err(demo_failure)?;
                if json.json {
                    print_json(
                        &json!({"server": url, "steps": steps.iter().map(|s| json!({"seq": s.seq, "what": s.what})).collect::<Vec<_>>()}),
                    );
                } else {
                    out!(
                        "recorded the scenario's acts through {url}, each signed here by its officers:"
                    );
                    for s in &steps {
                        out!("  seq {:>3}  {}", s.seq, s.what);
                    }
                }
                return Ok(());
            }
            let ledger = ledger.ok_or_else(|| Failure::Input("give --ledger DIR".into()))?;
            if founding_only {
                let (vkey, steps) = crate::app::demo::found_only(&ledger).map_err(demo_failure)?;
                if json.json {
                    print_json(
                        &json!({"ledger": ledger.display().to_string(), "vkey": vkey, "steps": steps.iter().map(|s| json!({"seq": s.seq, "what": s.what})).collect::<Vec<_>>()}),
                    );
                } else {
                    for s in &steps {
                        out!("  seq {:>3}  {}", s.seq, s.what);
                    }
                    out!(
                        "founded {} with {} officers; their keys are in {}",
                        ledger.display(),
                        steps.len() - 1,
                        ledger.join("demo-keys").display()
                    );
                    out!("verifier key: {vkey}");
                }
                return Ok(());
            }
            let report =
                crate::app::demo::run(&ledger, Arc::clone(&clock)).map_err(demo_failure)?;
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

/// `--as-of TIME`, or now.
fn as_of_arg(
    arg: Option<String>,
    clock: &dyn Clock,
) -> Result<crate::base::time::Timestamp, Failure> {
    match arg {
        Some(t) => crate::base::time::Timestamp::parse(&t).map_err(input("--as-of")),
        None => Ok(clock.now()),
    }
}

/// `custody doctor`: exit 0 when the ledger opens and verifies with nothing left to do, 1 when a
/// problem remains (for `--repair`, or for an operator).
fn doctor_command(dir: &Path, repair: bool, json: bool) -> Outcome {
    let bar = progress_bar(0, "verifying");
    let diagnosis = crate::app::doctor::diagnose(dir, repair, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .map_err(|e| Failure::Io(e.to_string()))?;
    bar.finish_and_clear();
    show(json, &diagnosis, || crate::edge::render::doctor(&diagnosis))?;
    if diagnosis.healthy() {
        Ok(())
    } else if diagnosis
        .findings
        .iter()
        .any(|f| matches!(f.action, crate::app::doctor::Action::Manual(_)))
    {
        Err(Failure::Rejected(
            "problems remain that only an operator can fix (see each finding's action)".into(),
        ))
    } else {
        Err(Failure::Rejected(format!(
            "repairable problems found; nothing was changed. Run: custody doctor --ledger {} --repair",
            dir.display()
        )))
    }
}

/// Opens the ledger for every command, and says on stderr what opening had to repair.
fn open(dir: &Path) -> Result<Ledger, Failure> {
    let ledger = Ledger::open(dir).map_err(Failure::from)?;
    for repair in ledger.repairs() {
        eprintln!("custody: {repair}");
    }
    Ok(ledger)
}

fn read_key(path: &Path) -> Result<SecretKey, Failure> {
    SecretKey::read_file(path).map_err(|e| Failure::Input(e.to_string()))
}

fn read_input(path: &Path) -> Result<Vec<u8>, Failure> {
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

fn print_receipt(ledger: &Ledger, receipt: &Receipt, json: bool, verb: &str) -> Outcome {
    print_receipt_view(&ledger.receipt_view(receipt)?, json, verb, false);
    Ok(())
}

fn entry_json(bytes: &[u8]) -> Result<Value, Failure> {
    let leaf = crate::format::leaf::Leaf::decode(bytes)
        .map_err(|e| Failure::Io(format!("stored leaf: {e}")))?;
    let statement: Value = serde_json::from_slice(leaf.envelope.payload())
        .map_err(|e| Failure::Io(format!("stored statement: {e}")))?;
    Ok(json!({
        "seq": leaf.seq,
        "recorded_at": leaf.recorded_at.to_canonical(),
        "prev": B64.encode(leaf.prev),
        "leaf_hash": B64.encode(crate::format::merkle::leaf_hash(bytes)),
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
            let cp = crate::format::note::open_checkpoint(&note, &vkey)
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
fn client_failure(e: ClientError) -> Failure {
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

/// Where queries read from, opened.
enum Source {
    Local(Ledger),
    Remote(Box<Remote>),
}

impl Source {
    fn reads(&self) -> &dyn Reads {
        match self {
            Self::Local(l) => l,
            Self::Remote(r) => r.as_ref(),
        }
    }
}

fn remote(
    url: &str,
    key: Option<SecretKey>,
    ca_cert: Option<&Path>,
    clock: &Arc<dyn Clock>,
) -> Result<Remote, Failure> {
    Remote::new(url, key, ca_cert, Arc::clone(clock)).map_err(client_failure)
}

/// A server when `--server` is given (it wins over CUSTODY_LEDGER), else the local ledger.
fn source(src: &SourceArg, clock: &Arc<dyn Clock>) -> Result<Source, Failure> {
    match &src.place.server {
        Some(url) => {
            let key = src.read_key.as_deref().ok_or_else(|| {
                Failure::Input(
                    "reading custody records from --server needs a signed request: give --key FILE (your officer key)".into(),
                )
            })?;
            let key = Some(read_key(key)?);
            let remote = remote(url, key, src.place.ca_cert.as_deref(), clock)?;
            Ok(Source::Remote(Box::new(remote)))
        }
        None => Ok(Source::Local(open(src.place.ledger()?)?)),
    }
}

fn local_audit(
    dir: &Path,
    scope: &crate::app::casefile::Scope,
    as_of: crate::base::time::Timestamp,
) -> Result<crate::app::casefile::AuditReport, Failure> {
    let ledger = open(dir)?;
    let bar = progress_bar(0, "auditing");
    let report = crate::app::casefile::audit(&ledger, scope, as_of, &mut |d, t| {
        bar.set_length(t);
        bar.set_position(d);
    })
    .map_err(|e| match e {
        crate::app::casefile::CaseError::NoItem(_)
        | crate::app::casefile::CaseError::NoIncident(_) => Failure::Input(e.to_string()),
        other => Failure::Io(other.to_string()),
    })?;
    bar.finish_and_clear();
    Ok(report)
}

/// Fills `after` from the server; when it cannot be reached, from the heads this device last
/// saw (its outbox remembers the leaf of every receipt), and says so.
fn fill_after_remote(
    remote: &Remote,
    outbox: Option<&Outbox>,
    bytes: &[u8],
) -> Result<Vec<u8>, Failure> {
    // `fill_after` takes a plain `Fn`; the cells record what the lookups ran into.
    let unreachable: std::cell::RefCell<Option<String>> = std::cell::RefCell::new(None);
    let cached = outbox.map(Outbox::heads).unwrap_or_default();
    let from_cache: std::cell::RefCell<Vec<String>> = std::cell::RefCell::new(Vec::new());
    let head = |id: &crate::base::ids::ItemId| match remote.item(id) {
        Ok(item) => Some(item.head),
        Err(ReadError::Unavailable(m)) => {
            *unreachable.borrow_mut() = Some(m);
            None
        }
        Err(_) => None,
    };
    let filled = compose::fill_after(bytes, &head);
    match (filled, unreachable.into_inner()) {
        (Ok(b), None) => Ok(b),
        (_, Some(reason)) if outbox.is_some() => {
            let cache = |id: &crate::base::ids::ItemId| {
                let h = cached.get(id.as_str()).cloned();
                if h.is_some() {
                    from_cache.borrow_mut().push(id.to_string());
                }
                h
            };
            let b = compose::fill_after(bytes, &cache).map_err(|e| {
                Failure::Io(format!(
                    "the server is unreachable ({reason}) and this device has not seen the item's latest act, so `after` cannot be filled: {e}; give `after` in the statement"
                ))
            })?;
            eprintln!(
                "note: the server is unreachable; `after` was filled from the heads this device last saw ({})",
                from_cache.borrow().join(", ")
            );
            Ok(b)
        }
        (_, Some(reason)) => Err(Failure::Io(format!(
            "cannot fill `after`: {reason}; give --outbox DIR to work offline"
        ))),
        (Err(e), None) => Err(Failure::Input(format!("statement: {e}"))),
    }
}

/// Submits a signed envelope to the server; when it cannot be reached and an outbox is given,
/// keeps the envelope there durably and says so.
fn submit_remote(
    remote: &Remote,
    outbox: Option<&Outbox>,
    target: &TargetArg,
    envelope: Vec<u8>,
    json: bool,
    clock: &dyn Clock,
) -> Outcome {
    let vkey = target.vkey.as_deref().map(read_vkey).transpose()?;
    match remote.submit(&envelope) {
        Ok((_, receipt)) => {
            receipt.check(vkey.as_ref()).map_err(|e| {
                Failure::Rejected(format!("the server's receipt does not hold: {e}"))
            })?;
            if let Some(o) = outbox {
                o.remember(&envelope, &receipt).map_err(client_failure)?;
            }
            print_receipt_view(&receipt, json, "recorded", vkey.is_some());
            Ok(())
        }
        Err(e) if e.is_unreachable() && outbox.is_some() => {
            let o = outbox.expect("checked above");
            let env = Envelope::parse(&envelope).map_err(input("envelope"))?;
            let id = crate::format::statement::Statement::parse(env.payload())
                .map_err(input("statement"))?
                .id
                .to_string();
            let path = o.put(&envelope, &id, clock.now()).map_err(client_failure)?;
            if json {
                print_json(
                    &json!({"queued": path.display().to_string(), "statement_id": id, "reason": e.to_string()}),
                );
            } else {
                out!("server unreachable ({e})");
                out!(
                    "queued {id} in {} — NOT yet recorded; run `custody sync --server {} --outbox DIR` when the server is back",
                    path.display(),
                    remote.url()
                );
            }
            Ok(())
        }
        Err(e) => Err(client_failure(e)),
    }
}

fn print_receipt_view(
    receipt: &crate::app::ledger::ReceiptView,
    json: bool,
    verb: &str,
    signature_checked: bool,
) {
    if json {
        print_json(&serde_json::to_value(receipt).expect("a receipt serializes"));
    } else if receipt.duplicate {
        out!(
            "already recorded at seq {} (same statement id and content); nothing new was written",
            receipt.seq
        );
    } else {
        out!(
            "{verb}: seq {} (leaf hash {}), covered by checkpoint size {}",
            receipt.seq,
            receipt.leaf_hash,
            receipt.inclusion_proof.tree_size
        );
        if signature_checked {
            out!(
                "receipt checked: the inclusion proof holds and the checkpoint is signed by the ledger's key"
            );
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CUSTODY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

/// `custody bench append --http`: the same pre-signed statements, POSTed by every writer to a
/// server on loopback in this process (each writer with its own connection).
fn bench_failure(e: crate::app::bench::BenchError) -> Failure {
    match e {
        crate::app::bench::BenchError::Input(m) => Failure::Input(m),
        other => Failure::Io(other.to_string()),
    }
}

/// Prints a benchmark's table (header and row), then its result as one JSON line (the last line).
fn bench_print<T: serde::Serialize>(header: &str, row: String, result: &T) {
    out!("{header}");
    out!("{row}");
    out!(
        "{}",
        serde_json::to_string(result).expect("plain numbers serialize")
    );
}

/// Runs one benchmark step behind a progress bar labelled `what`.
fn with_bar<T>(
    entries: u64,
    what: &str,
    run: impl FnOnce(&mut dyn FnMut(u64, u64)) -> Result<T, crate::app::bench::BenchError>,
) -> Result<T, Failure> {
    let bar = progress_bar(entries, what);
    let result = run(&mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    });
    bar.finish_and_clear();
    result.map_err(bench_failure)
}

/// A generated ledger from the cache, generating it (with a progress bar) when missing.
fn bench_cached(cache: &CacheArg, entries: u64) -> Result<crate::app::bench::Cached, Failure> {
    let cached = with_bar(entries, "generating", |progress| {
        crate::app::bench::cached_ledger(&cache.dir(), entries, progress)
    })?;
    if cached.generated {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "generated {} in {:.0} s (kept for later runs)",
            cached.dir.display(),
            cached.generate_seconds
        );
    }
    Ok(cached)
}

fn bench(command: BenchCommand, clock: &Arc<dyn Clock>) -> Outcome {
    match command {
        BenchCommand::Append {
            writers,
            seconds,
            signatures,
            ledger,
            server,
            admin,
            admin_key,
            ca_cert,
            http,
        } => {
            let plan = crate::app::bench::AppendPlan::new(writers, seconds, signatures)
                .map_err(bench_failure)?;
            let r = if let Some(url) = server {
                let admin = OfficerId::parse(admin.as_deref().unwrap_or_default())
                    .map_err(input("--admin"))?;
                let key = read_key(admin_key.as_deref().unwrap_or(Path::new("")))?;
                bench_remote(&url, ca_cert.as_deref(), &admin, key, &plan, clock)?
            } else {
                let temporary = match &ledger {
                    Some(_) => None,
                    None => Some(
                        tempfile_dir("custody-bench-append")
                            .map_err(|e| Failure::Io(format!("a temporary folder: {e}")))?,
                    ),
                };
                let dir = ledger
                    .clone()
                    .or_else(|| temporary.clone())
                    .expect("one of the two is set");
                let result = if http {
                    bench_http(&dir, &plan, clock)
                } else {
                    crate::app::bench::append(&dir, &plan).map_err(bench_failure)
                };
                if let Some(t) = temporary {
                    let _ = std::fs::remove_dir_all(t);
                }
                result?
            };
            let opt = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.0}"));
            bench_print(
                "writers  signatures  statements  appends/s  p50 ms  p99 ms  leaf bytes  disk bytes/entry  peak RSS MiB",
                format!(
                    "{:>7}  {:>10}  {:>10}  {:>9.0}  {:>6.2}  {:>6.2}  {:>10}  {:>16}  {:>12.0}",
                    r.writers,
                    r.signatures,
                    r.statements,
                    r.appends_per_s,
                    r.p50_ms,
                    r.p99_ms,
                    opt(r.leaf_bytes_per_entry),
                    opt(r.disk_bytes_per_entry),
                    r.peak_rss_mb
                ),
                &r,
            );
            Ok(())
        }
        BenchCommand::Verify { entries, cache } => {
            let cached = bench_cached(&cache, entries)?;
            let r = with_bar(entries, "verifying", |progress| {
                crate::app::bench::verify(&cached.dir, entries, progress)
            })?;
            bench_print(
                "entries   seconds  entries/s  peak RSS MiB",
                format!(
                    "{:>8}  {:>7.2}  {:>9.0}  {:>12.0}",
                    r.entries, r.seconds, r.entries_per_s, r.peak_rss_mb
                ),
                &r,
            );
            Ok(())
        }
        BenchCommand::Rebuild { entries, cache } => {
            let cached = bench_cached(&cache, entries)?;
            let r = with_bar(entries, "rebuilding", |progress| {
                crate::app::bench::rebuild(&cached.dir, entries, progress)
            })?;
            bench_print(
                "entries   seconds  events/s  peak RSS MiB",
                format!(
                    "{:>8}  {:>7.2}  {:>8.0}  {:>12.0}",
                    r.entries, r.seconds, r.events_per_s, r.peak_rss_mb
                ),
                &r,
            );
            Ok(())
        }
        BenchCommand::Query {
            entries,
            samples,
            cache,
        } => {
            let cached = bench_cached(&cache, entries)?;
            let r =
                crate::app::bench::query(&cached.dir, entries, samples).map_err(bench_failure)?;
            bench_print(
                "entries   items    history p50/p99 µs   holdings p50/p99 µs   proof p50/p99 µs   proof bytes  peak RSS MiB",
                format!(
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
                ),
                &r,
            );
            Ok(())
        }
    }
}

/// A new, empty folder under the system's temporary folder.
fn tempfile_dir(prefix: &str) -> std::io::Result<PathBuf> {
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).map_err(|e| std::io::Error::other(e.to_string()))?;
    let dir = std::env::temp_dir().join(format!("{prefix}-{}", u64::from_le_bytes(suffix)));
    std::fs::create_dir(&dir)?;
    Ok(dir)
}

/// `bench append --http`: a new ledger in `dir` served by `custody serve` on loopback in this
/// process; every writer POSTs its envelopes with its own HTTP client (kept-alive connection).
fn bench_http(
    dir: &Path,
    plan: &crate::app::bench::AppendPlan,
    clock: &Arc<dyn Clock>,
) -> Result<crate::app::bench::AppendResult, Failure> {
    let (ledger, authors) =
        crate::app::bench::found_bench_ledger(dir, plan).map_err(bench_failure)?;
    let ledger = Arc::new(ledger);
    let config = crate::edge::server::ServeConfig::new(
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        None,
    );
    let running = crate::edge::server::spawn(Arc::clone(&ledger), config)
        .map_err(|e| Failure::Io(e.to_string()))?;
    let url = format!("http://{}", running.addr);
    let measured = bench_over_http(&url, None, plan, &authors, clock);
    running.stop().map_err(|e| Failure::Io(e.to_string()))?;
    Ok(crate::app::bench::AppendResult::from_measured(plan, measured?).with_disk(&ledger))
}

/// Runs the measured part of an append benchmark against `url`, one HTTP client per writer.
fn bench_over_http(
    url: &str,
    ca_cert: Option<&Path>,
    plan: &crate::app::bench::AppendPlan,
    authors: &crate::app::bench::Authors,
    clock: &Arc<dyn Clock>,
) -> Result<crate::app::bench::Measured, Failure> {
    let clients = (0..plan.writers())
        .map(|_| remote(url, None, ca_cert, clock))
        .collect::<Result<Vec<_>, _>>()?;
    crate::app::bench::measure(
        plan,
        authors,
        &|e| e.to_json().into_bytes(),
        &|w, bytes: Vec<u8>| {
            clients[w]
                .submit(&bytes)
                .map(|_| ())
                .map_err(|e| crate::app::bench::BenchError::Input(format!("{url}: {e}")))
        },
    )
    .map_err(bench_failure)
}

/// `bench append --server URL`: enrolls the benchmark's officers on a running server (signed by
/// the given administrator, as any enrollment), then appends over HTTP.
fn bench_remote(
    url: &str,
    ca_cert: Option<&Path>,
    admin: &OfficerId,
    admin_key: SecretKey,
    plan: &crate::app::bench::AppendPlan,
    clock: &Arc<dyn Clock>,
) -> Result<crate::app::bench::AppendResult, Failure> {
    let client = remote(url, None, ca_cert, clock)?;
    // A run-specific block of officer ids, so that a second run against the same ledger enrolls
    // new officers rather than colliding with the first run's.
    let mut salt = [0u8; 2];
    getrandom::fill(&mut salt).map_err(|e| Failure::Io(format!("randomness: {e}")))?;
    let first = (usize::from(u16::from_le_bytes(salt)) % 900 + 100) * 100;
    let mut officers = Vec::new();
    for officer in crate::app::bench::bench_officers(plan, first).map_err(bench_failure)? {
        let id = officer.id.clone();
        let (key, envelope) = officer
            .enrollment(clock.as_ref(), "BENCH", admin, &admin_key)
            .map_err(bench_failure)?;
        client
            .submit(envelope.to_json().as_bytes())
            .map_err(|e| {
                Failure::Rejected(format!(
                    "{url} refused enrolling benchmark officer {id}: {e} (is --admin an administrator of that ledger, with --admin-key its key?)"
                ))
            })?;
        officers.push((id, key));
    }
    let authors = crate::app::bench::Authors::new(officers, plan, Arc::clone(clock));
    let measured = bench_over_http(url, ca_cert, plan, &authors, clock)?;
    Ok(crate::app::bench::AppendResult::from_measured(
        plan, measured,
    ))
}

/// Prints the JSON a public route answers (proofs), re-serialized like the local command's.
fn print_public(url: &str, place: &PlaceArg, path: &str, clock: &Arc<dyn Clock>) -> Outcome {
    let remote = remote(url, None, place.ca_cert.as_deref(), clock)?;
    let body = remote.get_public(path).map_err(client_failure)?;
    let value: Value = serde_json::from_slice(&body)
        .map_err(|e| Failure::Io(format!("the server's answer to {path}: {e}")))?;
    print_json(&value);
    Ok(())
}

/// Prints an answer as JSON with `--json`, else as text.
fn show<T: serde::Serialize>(json: bool, value: &T, text: impl FnOnce()) -> Outcome {
    if json {
        print_json(&serde_json::to_value(value).expect("every answer serializes to JSON"));
    } else {
        text();
    }
    Ok(())
}

struct TortureArgs {
    cycles: u64,
    writers: usize,
    seed: Option<u64>,
    rebuild_every: u64,
    startup_percent: u64,
    faults: bool,
    seeds: u64,
    statements: u64,
    json: bool,
}

/// `custody torture`: the crash torture or the storage fault suite; exit 1 when anything
/// acknowledged was lost or anything wrong went undetected.
fn torture(dir: &Path, a: TortureArgs) -> Outcome {
    use crate::edge::torture;
    let failure = |e: torture::TortureError| match e {
        torture::TortureError::Input(m) => Failure::Input(m),
        other => Failure::Io(other.to_string()),
    };
    let mut progress = |line: &str| eprintln!("{line}");
    if a.faults {
        let config = torture::FaultConfig {
            seeds: a.seeds,
            first_seed: a.seed.unwrap_or(1),
            statements: a.statements,
        };
        std::fs::create_dir_all(dir).map_err(|e| Failure::Io(format!("{}: {e}", dir.display())))?;
        eprintln!(
            "fault suite: seeds {}..{}, {} statements each",
            config.first_seed,
            config.first_seed + config.seeds,
            config.statements
        );
        let r = torture::faults(&config, dir, &mut progress).map_err(failure)?;
        show(a.json, &r, || {
            for (kind, n) in &r.injected {
                out!("injected {kind:<16} {n:>8}");
            }
            out!("refused submissions    {:>8}", r.refused);
            out!("refused opens          {:>8}", r.refused_opens);
            for f in &r.failures {
                out!("FAILED: {f}");
            }
            out!("{}", r.line());
        })?;
        return if r.passed() {
            Ok(())
        } else {
            Err(Failure::Rejected(format!(
                "fault suite FAILED: {}",
                r.line()
            )))
        };
    }
    let seed = a.seed.unwrap_or_else(torture::fresh_seed);
    let exe = std::env::current_exe()
        .map_err(|e| Failure::Io(format!("cannot find the custody binary: {e}")))?;
    eprintln!(
        "crash torture: {} cycles, {} writers, seed {seed} (rerun with --seed {seed})",
        a.cycles, a.writers
    );
    let config = torture::CrashConfig {
        dir: dir.to_path_buf(),
        cycles: a.cycles,
        writers: a.writers,
        seed,
        exe,
        rebuild_every: a.rebuild_every,
        startup_percent: a.startup_percent,
    };
    let r = torture::crash(&config, &mut progress).map_err(failure)?;
    show(a.json, &r, || {
        for (kill, n) in &r.kills {
            out!("killed: {kill:<36} {n:>6}");
        }
        out!("log entries at the end          {:>8}", r.entries);
        out!(
            "in flight at a crash, resent    {:>8} ({} were already durable)",
            r.resubmitted,
            r.recovered
        );
        out!("retries answered with their seq {:>8}", r.retries_checked);
        out!(
            "consistency proofs checked      {:>8}",
            r.consistency_checked
        );
        out!("views compared with a rebuild   {:>8}", r.rebuilds_compared);
        out!(
            "kills during start-up           {:>8} ({} in sled's snapshot window)",
            r.startup_kills,
            r.snapshot_kills
        );
        out!("files moved to quarantine/      {:>8}", r.quarantined);
        out!("reopens refused                 {:>8}", r.refused_opens);
        out!("seconds                         {:>8.1}", r.seconds);
        for f in &r.failures {
            out!("FAILED: {f}");
        }
        out!("{}", r.line());
    })?;
    if r.passed() {
        Ok(())
    } else {
        Err(Failure::Rejected(format!(
            "torture FAILED (seed {seed}): {}",
            r.line()
        )))
    }
}
