//! `custody subject …`: the subject register from the terminal — record a person (their data into
//! the register, a subject id and commitment out, for a statement), look a person up by NIK,
//! passport or SDP number, show their data, erase them, read the access log, and make a master
//! key. Each reads as an officer proven by their own `--key`; the register decides who may do what
//! (`app::subjects`). Must never print personal data without the register's permission, and never
//! take it from a command-line argument of a query (only `record` takes fields, which it stores).

use super::args::{JsonArg, LedgerArg, PlaceArg};
use super::common::{Failure, Outcome, input, open, print_json, read_key, remote, show};
use crate::app::ledger::Ledger;
use crate::app::subjects::{self, Ask, Asker, Identifier};
use crate::base::class::Classify as _;
use crate::base::ids::OfficerId;
use crate::base::time::Clock;
use crate::base::words::{Explain as _, msg};
use crate::edge::render::said;
use crate::edge::web::both;
use crate::format::subject::{PersonalFields, SubjectId, SubjectKind};
use clap::{Args, Subcommand};
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Subcommand, Debug)]
pub(super) enum SubjectCommand {
    /// Record a person who is not an officer (register subjek): prints the subject id and the `person` JSON a statement carries
    Record(RecordArgs),
    /// Find a person's subject id by NIK, passport or SDP number (logged)
    Lookup(LookupArgs),
    /// Show a person's data (name, numbers, birth date) to an officer whose role may read it (logged)
    Show(ShowArgs),
    /// Erase a person's data: destroys their key, so the register can no longer show or find them; the log still verifies (administrator; logged with the legal basis)
    Erase(EraseArgs),
    /// Print the register's access log: who recorded, looked up, read or erased whom, and when (each line signed and chained)
    AccessLog(AccessLogArgs),
    /// Make a new master key file (0600) for a register kept outside the ledger folder (CUSTODY_MASTER_KEY)
    MasterKey(MasterKeyArgs),
    /// Show the retention periods in force, or adopt a new table with --set FILE (administrator; every earlier table is kept)
    Retention(RetentionArgs),
    /// List the persons due for erasure under the retention table in force (administrator; logged)
    Due(MigrateArgs),
    /// Move the personal data of the persons older entries name in the clear (rules versions 1-3) into the register; the entries themselves stay as they are (docs/PRIVACY.md)
    Migrate(MigrateArgs),
    /// Re-wrap every person's key under a new master key (make it with `master-key`), then put it in place of the old one; the ledger must not be open elsewhere
    RotateMasterKey(RotateArgs),
}

#[derive(Args, Debug)]
pub(super) struct RetentionArgs {
    #[command(flatten)]
    ledger: LedgerArg,
    #[command(flatten)]
    asker: AskerArg,
    /// A new table: {"version": N, "periods": [{"category": "visitor", "days": 730, "source": "…"}, …]}
    #[arg(long, value_name = "FILE")]
    set: Option<PathBuf>,
    #[command(flatten)]
    json: JsonArg,
}

/// A ledger, the officer asking (an administrator) and `--json`: `due` and `migrate`.
#[derive(Args, Debug)]
pub(super) struct MigrateArgs {
    #[command(flatten)]
    ledger: LedgerArg,
    #[command(flatten)]
    asker: AskerArg,
    #[command(flatten)]
    json: JsonArg,
}

#[derive(Args, Debug)]
pub(super) struct RotateArgs {
    #[command(flatten)]
    ledger: LedgerArg,
    /// The new master key file
    #[arg(long, value_name = "FILE")]
    new: PathBuf,
    #[command(flatten)]
    json: JsonArg,
}

/// The officer who asks and the key that proves it.
#[derive(Args, Debug, Clone)]
pub(super) struct AskerArg {
    /// Your staff number (NIP/NRP)
    #[arg(long, value_name = "ID")]
    officer: String,
    /// Your officer key (PKCS#8 PEM), which proves you are asking (also from CUSTODY_KEY)
    #[arg(long, env = "CUSTODY_KEY", value_name = "FILE")]
    key: PathBuf,
}

#[derive(Args, Debug)]
pub(super) struct RecordArgs {
    #[command(flatten)]
    place: PlaceArg,
    /// When --server cannot be reached: mint the subject id here, keep the person's data in this folder (0700) and register them with `custody sync`
    #[arg(long, value_name = "DIR", requires = "server")]
    outbox: Option<PathBuf>,
    #[command(flatten)]
    asker: AskerArg,
    /// Kind of person: inmate, visitor, foreign_national or unidentified
    #[arg(long, value_name = "KIND")]
    kind: String,
    /// Full name as on the identity document (nama lengkap)
    #[arg(long)]
    name: Option<String>,
    /// Citizen identity number, 16 digits (NIK)
    #[arg(long)]
    nik: Option<String>,
    /// Passport number (nomor paspor); needs --nationality
    #[arg(long, requires = "nationality")]
    passport: Option<String>,
    /// Nationality, ISO 3166-1 alpha-3, e.g. MYS (kewarganegaraan)
    #[arg(long)]
    nationality: Option<String>,
    /// Inmate registration number (nomor registrasi SDP)
    #[arg(long)]
    sdp: Option<String>,
    /// Date of birth, YYYY-MM-DD (tanggal lahir)
    #[arg(long, value_name = "DATE")]
    birth_date: Option<String>,
    #[command(flatten)]
    json: JsonArg,
}

#[derive(Args, Debug)]
pub(super) struct LookupArgs {
    #[command(flatten)]
    place: PlaceArg,
    #[command(flatten)]
    asker: AskerArg,
    /// NIK, 16 digits
    #[arg(long, group = "identifier")]
    nik: Option<String>,
    /// Passport number; needs --nationality
    #[arg(long, group = "identifier", requires = "nationality")]
    passport: Option<String>,
    #[arg(long)]
    nationality: Option<String>,
    /// Inmate registration number (SDP)
    #[arg(long, group = "identifier")]
    sdp: Option<String>,
    #[command(flatten)]
    json: JsonArg,
}

#[derive(Args, Debug)]
pub(super) struct ShowArgs {
    #[command(flatten)]
    place: PlaceArg,
    #[command(flatten)]
    asker: AskerArg,
    /// The subject id (subj-…)
    subject: String,
    #[command(flatten)]
    json: JsonArg,
}

#[derive(Args, Debug)]
pub(super) struct EraseArgs {
    #[command(flatten)]
    ledger: LedgerArg,
    #[command(flatten)]
    asker: AskerArg,
    /// The subject id (subj-…)
    subject: String,
    /// The legal basis of the erasure, e.g. the retention period that ran out (dasar hukum)
    #[arg(long)]
    basis: String,
    /// The number of a court order or legal duty that requires the erasure now, when the retention table does not yet make the person due (nomor penetapan)
    #[arg(long, value_name = "DOCUMENT_NO")]
    order: Option<String>,
    #[command(flatten)]
    json: JsonArg,
}

#[derive(Args, Debug)]
pub(super) struct AccessLogArgs {
    #[command(flatten)]
    ledger: LedgerArg,
    #[command(flatten)]
    json: JsonArg,
}

#[derive(Args, Debug)]
pub(super) struct MasterKeyArgs {
    /// Where to write it (never overwritten)
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    #[command(flatten)]
    json: JsonArg,
}

/// `custody subject …`.
pub(super) fn run(command: SubjectCommand, clock: &Arc<dyn Clock>) -> Outcome {
    match command {
        SubjectCommand::Record(a) => record(a, clock),
        SubjectCommand::Lookup(a) => lookup(a, clock),
        SubjectCommand::Show(a) => show_subject(a, clock),
        SubjectCommand::Erase(a) => erase(a),
        SubjectCommand::AccessLog(a) => access_log(a),
        SubjectCommand::Migrate(a) => migrate(a),
        SubjectCommand::Retention(a) => retention(a),
        SubjectCommand::Due(a) => due(a),
        SubjectCommand::RotateMasterKey(a) => {
            let _lock = crate::storage::recovery::LedgerLock::try_acquire(&a.ledger.ledger)
                .map_err(Failure::from)?
                .ok_or_else(|| {
                    Failure::new(
                        crate::base::class::Class::Unavailable,
                        msg("err.cli.ledger_in_use"),
                    )
                })?;
            subjects::rotate_master_key(&a.ledger.ledger, &a.new).map_err(Failure::from)?;
            let view = json!({"rotated": true, "key": subjects::master_key_path(&a.ledger.ledger).display().to_string()});
            show(a.json.json, &view, || {
                let rotated = said(
                    "cli.subject.master_key_rotated",
                    &[
                        ("new", &a.new.display()),
                        (
                            "old",
                            &subjects::master_key_path(&a.ledger.ledger).display(),
                        ),
                    ],
                );
                out!("{rotated}");
            })
        }
        SubjectCommand::MasterKey(a) => {
            crate::storage::register::generate_master_key(&a.out).map_err(Failure::from)?;
            let view = json!({"out": a.out.display().to_string()});
            show(a.json.json, &view, || {
                let wrote = said("cli.subject.master_key", &[("file", &a.out.display())]);
                out!("{wrote}");
            })
        }
    }
}

/// The ledger, and the officer asking, proven by their key.
fn opened(dir: &std::path::Path, asker: &AskerArg) -> Result<(Ledger, Asker), Failure> {
    let ledger = open(dir)?;
    let asker = Asker::prove(&ledger.state(), &officer(asker)?, &read_key(&asker.key)?)
        .map_err(Failure::from)?;
    Ok((ledger, asker))
}

fn officer(a: &AskerArg) -> Result<OfficerId, Failure> {
    OfficerId::parse(&a.officer).map_err(input("--officer"))
}

/// The fields `record` was given, each checked by its rule.
fn fields(a: &RecordArgs) -> Result<PersonalFields, Failure> {
    let kind: SubjectKind = serde_json::from_value(json!(a.kind))
        .map_err(|_| Failure::usage(msg("err.cli.subject_kind").quoted("kind", &a.kind)))?;
    let mut f = PersonalFields::new(kind);
    let field = |r: Result<PersonalFields, _>| r.map_err(Failure::from);
    if let Some(v) = &a.name {
        f = field(f.with_name(v))?;
    }
    if let Some(v) = &a.nik {
        f = field(f.with_nik(v))?;
    }
    match (&a.passport, &a.nationality) {
        (Some(p), Some(n)) => f = field(f.with_passport(p, n))?,
        (None, Some(n)) => f = field(f.with_nationality(n))?,
        _ => {}
    }
    if let Some(v) = &a.sdp {
        f = field(f.with_sdp(v))?;
    }
    if let Some(v) = &a.birth_date {
        f = field(f.with_birth_date(v))?;
    }
    Ok(f)
}

fn record(a: RecordArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let fields = fields(&a)?;
    let id = officer(&a.asker)?;
    let key = read_key(&a.asker.key)?;
    let view = if let Some(url) = &a.place.server {
        let server = remote(url, None, a.place.ca_cert.as_deref(), clock)?;
        match server.ask_register(&Ask::Record(fields.clone()), &id, &key) {
            Ok(view) => view,
            Err(e) if e.class().try_again_later() && a.outbox.is_some() => {
                let outbox = a.outbox.as_deref().unwrap_or(std::path::Path::new("."));
                return record_offline(fields, &id, &key, outbox, clock, a.json.json, &e);
            }
            Err(e) => return Err(Failure::from(e)),
        }
    } else {
        let ledger = open(a.place.ledger()?)?;
        let asker = Asker::prove(&ledger.state(), &id, &key).map_err(Failure::from)?;
        let recorded = ledger
            .subjects()
            .and_then(|s| s.record(fields, &asker, ledger.now()))
            .map_err(Failure::from)?;
        subjects::recorded_view(&recorded)
    };
    show(a.json.json, &view, || {
        out!(
            "{}: {} — {}",
            both("cli.subject"),
            view["subject"].as_str().unwrap_or(""),
            if view["new"] == true {
                both("cli.new")
            } else {
                both("cli.already_in_the_register")
            }
        );
        out!(
            "{}: {}",
            both("cli.person_for_the_statement"),
            view["person"]
        );
    })
}

/// Records a person on a device that cannot reach the server: the subject id and salt minted
/// here, the request that registers them kept in the outbox for `custody sync`. Prints the
/// `person` object (usable in a statement now) and exits 8 (queued: NOT yet registered).
fn record_offline(
    fields: PersonalFields,
    officer: &OfficerId,
    key: &crate::keys::signing::SecretKey,
    outbox: &std::path::Path,
    clock: &Arc<dyn Clock>,
    json: bool,
    why: &crate::edge::client::ClientError,
) -> Outcome {
    let (recorded, request) =
        subjects::mint_offline(fields, officer, key, clock.now()).map_err(Failure::from)?;
    let outbox = crate::edge::client::Outbox::open(outbox).map_err(Failure::from)?;
    let file = outbox
        .put_subject(&recorded.subject, &request)
        .map_err(Failure::from)?;
    let mut view = subjects::recorded_view(&recorded);
    view["queued"] = json!(file.display().to_string());
    show(json, &view, || {
        out!(
            "{}",
            said("cli.subject.minted", &[("subject", &recorded.subject)])
        );
        out!(
            "{}: {}",
            both("cli.person_for_the_statement"),
            view["person"]
        );
    })?;
    Err(Failure::new(
        crate::base::class::Class::Queued,
        msg("err.cli.subject_queued")
            .part("reason", why.explain())
            .arg("path", file.display()),
    ))
}

fn lookup(a: LookupArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let identifier = match (&a.nik, &a.passport, &a.sdp) {
        (Some(nik), _, _) => Identifier::Nik(nik.clone()),
        (_, Some(passport), _) => Identifier::Passport {
            passport: passport.clone(),
            nationality: a.nationality.clone().unwrap_or_default(),
        },
        (_, _, Some(sdp)) => Identifier::Sdp(sdp.clone()),
        _ => {
            return Err(Failure::usage(msg("err.cli.lookup_by_what")));
        }
    };
    let subject = if let Some(url) = &a.place.server {
        let answer = remote(url, None, a.place.ca_cert.as_deref(), clock)?
            .ask_register(
                &Ask::Lookup(identifier),
                &officer(&a.asker)?,
                &read_key(&a.asker.key)?,
            )
            .map_err(Failure::from)?;
        subject_id(answer["subject"].as_str().unwrap_or_default())?
    } else {
        let (ledger, asker) = opened(a.place.ledger()?, &a.asker)?;
        ledger
            .subjects()
            .and_then(|s| s.lookup(&identifier, &asker, ledger.now()))
            .map_err(Failure::from)?
            .ok_or_else(|| {
                Failure::new(
                    crate::base::class::Class::NotFound,
                    msg("err.cli.no_such_subject"),
                )
            })?
    };
    let view = json!({"subject": subject});
    show(a.json.json, &view, || out!("{subject}"))
}

fn subject_id(text: &str) -> Result<SubjectId, Failure> {
    text.parse::<SubjectId>().map_err(input("subject"))
}

fn show_subject(a: ShowArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let id = subject_id(&a.subject)?;
    let view = if let Some(url) = &a.place.server {
        let key = read_key(&a.asker.key)?;
        remote(url, Some(key), a.place.ca_cert.as_deref(), clock)?
            .show_subject(&id)
            .map_err(Failure::from)?
    } else {
        let (ledger, asker) = opened(a.place.ledger()?, &a.asker)?;
        let shown = ledger
            .subjects()
            .and_then(|s| s.show(&id, &asker, ledger.now()))
            .map_err(Failure::from)?;
        json!({"subject": shown.subject, "fields": shown.fields, "salts": shown.salts.len()})
    };
    show(a.json.json, &view, || {
        out!("{}: {id}", both("cli.subject"));
        out!("{}", view["fields"]);
    })
}

fn erase(a: EraseArgs) -> Outcome {
    let id = subject_id(&a.subject)?;
    let (ledger, asker) = opened(&a.ledger.ledger, &a.asker)?;
    let key = read_key(&a.asker.key)?;
    let receipts =
        crate::app::erasure::erase_person(&ledger, &id, &a.basis, a.order.as_deref(), &asker, &key)
            .map_err(Failure::from)?;
    let seqs: Vec<u64> = receipts.iter().map(|r| r.seq).collect();
    let view = json!({"subject": id, "erased": true, "seq": seqs.first(), "acts": seqs});
    show(a.json.json, &view, || {
        let erased = said(
            "cli.subject.erased",
            &[
                ("subject", &id),
                ("linked", &seqs.len().saturating_sub(1)),
                ("seqs", &format!("{seqs:?}")),
            ],
        );
        out!("{erased}");
    })
}

/// When the last act naming `id` (or an id linked to it) occurred, from the log's views.
fn last_act_ms(ledger: &Ledger, id: &SubjectId) -> Result<Option<i64>, Failure> {
    crate::app::queries::last_act_ms(ledger.store(), &id.to_string()).map_err(Failure::from)
}

fn retention(a: RetentionArgs) -> Outcome {
    let (ledger, asker) = opened(&a.ledger.ledger, &a.asker)?;
    let register = ledger.subjects().map_err(Failure::from)?;
    if let Some(file) = &a.set {
        let bytes = super::common::read_input(file)?;
        let table: crate::domain::privacy::RetentionTable = serde_json::from_slice(&bytes)
            .map_err(|e| {
                Failure::new(
                    crate::base::class::Class::Malformed,
                    msg("err.cli.retention_table")
                        .arg("file", file.display())
                        .arg("error", e),
                )
            })?;
        register
            .set_retention(table, &asker, ledger.now())
            .map_err(Failure::from)?;
    }
    let tables = register.retention().map_err(Failure::from)?;
    let view = serde_json::to_value(&tables).expect("tables serialize");
    show(a.json.json, &view, || match tables.last() {
        None => out!("{}", said("cli.retention.none", &[])),
        Some(t) => {
            out!(
                "{}",
                said("cli.retention.version", &[("version", &t.version)])
            );
            for p in &t.periods {
                let period = said(
                    "cli.retention.period",
                    &[
                        ("category", &p.category.as_str()),
                        ("days", &p.days),
                        ("source", &p.source),
                    ],
                );
                out!("  {period}");
            }
        }
    })
}

fn due(a: MigrateArgs) -> Outcome {
    let (ledger, asker) = opened(&a.ledger.ledger, &a.asker)?;
    let register = ledger.subjects().map_err(Failure::from)?;
    let last = |id: &SubjectId| last_act_ms(&ledger, id).ok().flatten();
    let list = register
        .due(&asker, ledger.now(), last)
        .map_err(Failure::from)?;
    let view = serde_json::Value::from(list.clone());
    show(a.json.json, &view, || {
        out!("{}: {}", both("cli.due_for_erasure"), list.len());
        for d in &list {
            let row = said(
                "cli.due.row",
                &[
                    ("subject", &d["subject"].as_str().unwrap_or("")),
                    ("due", &d["due"].as_str().unwrap_or("")),
                    ("version", &d["retention_version"]),
                ],
            );
            out!("  {row}");
        }
    })
}

fn migrate(a: MigrateArgs) -> Outcome {
    let (ledger, asker) = opened(&a.ledger.ledger, &a.asker)?;
    let report = ledger.migrate_subjects(&asker).map_err(Failure::from)?;
    show(a.json.json, &report, || {
        let migrated = said(
            "cli.migrate.done",
            &[
                ("entries", &report.entries),
                ("persons", &report.persons),
                ("new", &report.new_subjects),
                ("skipped", &report.skipped),
            ],
        );
        out!("{migrated}");
        out!("{}", said("cli.migrate.unchanged", &[]));
    })
}

fn access_log(a: AccessLogArgs) -> Outcome {
    let ledger = open(&a.ledger.ledger)?;
    let entries = ledger
        .subjects()
        .and_then(|s| s.access_log())
        .map_err(Failure::from)?;
    if a.json.json {
        print_json(&serde_json::Value::from(entries));
        return Ok(());
    }
    for e in &entries {
        out!(
            "{}  {}  {}  {}",
            e["at"].as_str().unwrap_or(""),
            e["officer"].as_str().unwrap_or(""),
            e["action"].as_str().unwrap_or(""),
            e["subject"].as_str().unwrap_or("-")
        );
    }
    Ok(())
}
