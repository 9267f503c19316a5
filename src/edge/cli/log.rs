//! The log itself: `custody checkpoint`, `vkey`, `entry`, `prove`, `verify`, `doctor`, `export`
//! and `rebuild` — the signed checkpoint, raw leaves, proofs, full verification and the ledger's
//! repair and export. It prints what the library computes; it must never judge a leaf or a proof
//! itself (verification is `app::verify`'s) nor pick an exit code number.

use super::args::{JsonArg, LedgerArg, PlaceArg, SourceArg};
use super::args::{public_source, source};
use super::common::{
    Failure, Outcome, open, phases, print_json, progress_bar, read_key, read_vkey, show,
    write_stdout,
};
use crate::app::ledger::Ledger;
use crate::base::time::Clock;
use crate::base::words::{Explain as _, msg};
use crate::edge::render::said;
use crate::edge::web::both;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Args, Debug)]
pub(super) struct CheckpointArgs {
    #[command(flatten)]
    ledger: SourceArg,
    /// The checkpoint of the first N entries instead of the latest: byte for byte the one the ledger gave at that size
    #[arg(long, value_name = "N")]
    size: Option<u64>,
    #[command(flatten)]
    json: JsonArg,
}
/// `custody checkpoint`.
pub(super) fn checkpoint(a: CheckpointArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let CheckpointArgs {
        ledger: src,
        size,
        json,
    } = a;
    let note = public_source(&src.place, clock)?
        .log()
        .checkpoint_note(size)?;
    if json.json {
        let cp = crate::format::note::checkpoint_unverified(note.as_bytes())
            .map_err(|e| Failure::corrupt(msg("err.cli.checkpoint").part("error", e.explain())))?;
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

#[derive(Args, Debug)]
pub(super) struct VkeyArgs {
    #[command(flatten)]
    ledger: LedgerArg,
    #[command(flatten)]
    json: JsonArg,
}
/// `custody vkey`.
pub(super) fn vkey(a: VkeyArgs) -> Outcome {
    let VkeyArgs { ledger, json } = a;
    let ledger = open(&ledger.ledger)?;
    if json.json {
        print_json(&json!({"vkey": ledger.verifier_key().to_string()}));
    } else {
        out!("{}", ledger.verifier_key());
    }
    Ok(())
}

#[derive(Args, Debug)]
pub(super) struct EntryArgs {
    #[command(flatten)]
    ledger: SourceArg,
    seq: u64,
    /// Decode the leaf and its statement as JSON instead
    #[arg(long)]
    json: bool,
}
/// `custody entry`.
pub(super) fn entry(a: EntryArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let EntryArgs {
        ledger: src,
        seq,
        json,
    } = a;
    let bytes = source(&src, clock)?.log().entry(seq)?;
    if json {
        print_json(&entry_json(&bytes)?);
    } else {
        write_stdout(&bytes)?;
    }
    Ok(())
}

#[derive(Args, Debug)]
pub(super) struct VerifyArgs {
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
}

#[derive(Args, Debug)]
pub(super) struct DoctorArgs {
    #[command(flatten)]
    ledger: LedgerArg,
    /// Repair what is provably safe; without it nothing is changed (the checks run on a copy)
    #[arg(long)]
    repair: bool,
    #[command(flatten)]
    json: JsonArg,
}

#[derive(Args, Debug)]
pub(super) struct ExportArgs {
    #[command(flatten)]
    ledger: LedgerArg,
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    #[command(flatten)]
    json: JsonArg,
}
/// `custody export`.
pub(super) fn export(a: ExportArgs) -> Outcome {
    let ExportArgs { ledger, out, json } = a;
    let ledger = open(&ledger.ledger)?;
    let cp = ledger.checkpoint();
    let bar = progress_bar(cp.size, "exporting");
    let summary = crate::app::export::export_tiles(
        ledger.store(),
        cp.note.as_bytes(),
        cp.size,
        &out,
        &mut |d, _| bar.set_position(d),
    )
    .map_err(Failure::from)?;
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
        let exported = said(
            "cli.export.done",
            &[
                ("entries", &summary.size),
                ("out", &out.display()),
                ("bundles", &summary.entry_bundles),
                ("tiles", &summary.hash_tiles),
                ("bytes", &summary.bytes),
            ],
        );
        out!("{exported}");
        let verify = said(
            "cli.export.verify",
            &[("out", &out.display()), ("vkey", ledger.verifier_key())],
        );
        out!("{verify}");
    }
    Ok(())
}

#[derive(Args, Debug)]
pub(super) struct ImportArgs {
    /// The tlog-tiles export (`custody export --out`) or a copy of a ledger's public/ folder
    #[arg(long, value_name = "DIR")]
    tiles: PathBuf,
    /// The new ledger's folder (must not exist or be empty)
    #[arg(long, value_name = "DIR")]
    ledger: PathBuf,
    /// The original ledger's key (its private/ledger-key.pem): a restore that records again
    #[arg(long, value_name = "FILE")]
    ledger_key: Option<PathBuf>,
    /// The ledger's verifier key (a string, or a file holding it): without --ledger-key, a read-only replica
    #[arg(long, value_name = "VKEY")]
    vkey: Option<String>,
    #[command(flatten)]
    json: JsonArg,
}
/// `custody import`.
pub(super) fn import(a: ImportArgs) -> Outcome {
    let ImportArgs {
        tiles,
        ledger,
        ledger_key,
        vkey,
        json,
    } = a;
    let key = ledger_key.as_deref().map(read_key).transpose()?;
    let vkey = vkey.as_deref().map(read_vkey).transpose()?;
    let bar = progress_bar(0, "verifying");
    let report = crate::app::import::import(&tiles, &ledger, key, vkey, &mut phases(&bar))?;
    bar.finish_and_clear();
    show(json.json, &report, || {
        let kind = if report.replica {
            both("cli.read_only_replica")
        } else {
            both("cli.restore_that_records_again")
        };
        let imported = said(
            "cli.import.done",
            &[
                ("entries", &report.entries),
                ("ledger", &report.ledger),
                ("kind", &kind),
            ],
        );
        out!("{imported}");
        out!("{}", said("cli.verifier_key", &[("vkey", &report.vkey)]));
    })
}

#[derive(Args, Debug)]
pub(super) struct UpgradeArgs {
    #[command(flatten)]
    ledger: LedgerArg,
    #[command(flatten)]
    json: JsonArg,
}
/// `custody upgrade`.
pub(super) fn upgrade(a: UpgradeArgs) -> Outcome {
    let UpgradeArgs { ledger, json } = a;
    let bar = progress_bar(0, "copying");
    let report = crate::app::upgrade::upgrade(&ledger.ledger, &mut phases(&bar))?;
    bar.finish_and_clear();
    show(json.json, &report, || {
        if report.from_layout == report.to_layout {
            let current = said(
                "cli.upgrade.current",
                &[("ledger", &report.ledger), ("layout", &report.to_layout)],
            );
            out!("{current}");
        } else {
            let upgraded = said(
                "cli.upgrade.done",
                &[
                    ("ledger", &report.ledger),
                    ("from", &report.from_layout),
                    ("to", &report.to_layout),
                    ("entries", &report.entries),
                ],
            );
            out!("{upgraded}");
        }
        if report.old_leaves_removed > 0 {
            let removed = said(
                "cli.upgrade.removed",
                &[("leaves", &report.old_leaves_removed)],
            );
            out!("{removed}");
        }
    })
}

#[derive(Args, Debug)]
pub(super) struct RebuildArgs {
    #[command(flatten)]
    ledger: LedgerArg,
    /// Check every signature again (all cores); by default the signatures verified when each entry was appended are trusted, and the leaves are proven against the signed checkpoint's root
    #[arg(long)]
    verify_signatures: bool,
    #[command(flatten)]
    json: JsonArg,
}
/// `custody rebuild`.
pub(super) fn rebuild(a: RebuildArgs) -> Outcome {
    let RebuildArgs {
        ledger,
        verify_signatures,
        json,
    } = a;
    let bar = progress_bar(0, "rebuilding");
    let report = Ledger::rebuild(&ledger.ledger, verify_signatures, &mut |d, t| {
        bar.set_length(t);
        bar.set_position(d);
    })?;
    bar.finish_and_clear();
    let same = report.before == report.after;
    if json.json {
        print_json(
            &json!({"size": report.size, "digest_before": B64.encode(report.before), "digest_after": B64.encode(report.after), "identical": same, "signatures_verified": report.signatures_verified}),
        );
    } else {
        out!("{}", said("cli.rebuild.done", &[("entries", &report.size)]));
        if verify_signatures {
            let verified = said(
                "cli.rebuild.signatures",
                &[("signatures", &report.signatures_verified)],
            );
            out!("{verified}");
        }
        let before = B64.encode(report.before);
        out!("{}", said("cli.rebuild.before", &[("digest", &before)]));
        let after = B64.encode(report.after);
        out!("{}", said("cli.rebuild.after", &[("digest", &after)]));
        if same {
            out!("{}", said("cli.rebuild.identical", &[]));
        } else {
            out!("{}", said("cli.rebuild.different", &[]));
        }
    }
    if same {
        Ok(())
    } else {
        Err(Failure::refused(msg("err.cli.projections_differed")))
    }
}

fn entry_json(bytes: &[u8]) -> Result<Value, Failure> {
    let leaf = crate::format::leaf::Leaf::decode(bytes)
        .map_err(|e| Failure::corrupt(msg("err.cli.stored_leaf").part("error", e.explain())))?;
    let statement: Value = serde_json::from_slice(leaf.envelope.payload())
        .map_err(|e| Failure::corrupt(msg("err.cli.stored_statement").arg("error", e)))?;
    Ok(json!({
        "seq": leaf.seq,
        "recorded_at": leaf.recorded_at.to_canonical(),
        "prev": B64.encode(leaf.prev),
        "leaf_hash": B64.encode(crate::format::merkle::leaf_hash(bytes)),
        "signatures": leaf.envelope.signatures().iter().map(|s| json!({"keyid": s.keyid, "sig": s.sig.to_base64()})).collect::<Vec<_>>(),
        "statement": statement,
    }))
}

#[derive(Subcommand, Debug)]
pub(super) enum ProveCommand {
    /// Inclusion proof of the leaf at SEQ in the tree of --size leaves (default: latest checkpoint)
    Inclusion(InclusionArgs),
    /// Consistency proof between tree sizes OLD and NEW (default: latest checkpoint)
    Consistency(ConsistencyArgs),
}

#[derive(Args, Debug)]
pub(super) struct InclusionArgs {
    #[command(flatten)]
    ledger: PlaceArg,
    seq: u64,
    #[arg(long)]
    size: Option<u64>,
}

#[derive(Args, Debug)]
pub(super) struct ConsistencyArgs {
    #[command(flatten)]
    ledger: PlaceArg,
    old: u64,
    new: Option<u64>,
}

/// `custody prove inclusion|consistency`.
pub(super) fn prove(command: ProveCommand, clock: &Arc<dyn Clock>) -> Outcome {
    match command {
        ProveCommand::Inclusion(a) => inclusion(a, clock),
        ProveCommand::Consistency(a) => consistency(a, clock),
    }
}

/// `custody prove inclusion`.
fn inclusion(a: InclusionArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let InclusionArgs {
        ledger: place,
        seq,
        size,
    } = a;
    let proof = public_source(&place, clock)?.log().inclusion(seq, size)?;
    print_json(&serde_json::to_value(&proof).expect("a proof serializes"));
    Ok(())
}

/// `custody prove consistency`.
fn consistency(a: ConsistencyArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let ConsistencyArgs {
        ledger: place,
        old,
        new,
    } = a;
    let proof = public_source(&place, clock)?.log().consistency(old, new)?;
    print_json(&serde_json::to_value(&proof).expect("a proof serializes"));
    Ok(())
}

/// `custody verify`: a ledger, or a tlog-tiles export with its verifier key.
pub(super) fn verify(a: VerifyArgs) -> Outcome {
    let VerifyArgs {
        ledger,
        tiles,
        vkey,
        json,
    } = a;
    let json = json.json;
    // `what` is the JSON's `source`, which stays as it is in every language; `shown` says it.
    let (report, what, shown) = match (ledger, tiles) {
        (_, Some(dir)) => {
            let vkey = read_vkey(vkey.as_deref().unwrap_or_default())?;
            let note = crate::app::export::TilesSource::read_checkpoint(&dir)?;
            let cp = crate::format::note::open_checkpoint(&note, &vkey).map_err(|e| {
                Failure::refused(msg("err.cli.checkpoint_failed").part("error", e.explain()))
            })?;
            let source = crate::app::export::TilesSource::new(&dir, cp.size);
            let bar = progress_bar(cp.size, "verifying");
            let report = crate::app::verify::verify_log(&source, &note, &vkey, &mut |d, _| {
                bar.set_position(d)
            });
            bar.finish_and_clear();
            let shown = said("cli.verify.tiles", &[("dir", &dir.display())]);
            (report?, format!("tiles export {}", dir.display()), shown)
        }
        (Some(dir), None) => {
            let ledger = open(&dir)?;
            let vkey = match vkey {
                Some(v) => read_vkey(&v)?,
                None => ledger.verifier_key().clone(),
            };
            let cp = ledger.checkpoint();
            let bar = progress_bar(cp.size, "verifying");
            let report = crate::app::verify::verify_log(
                ledger.store(),
                cp.note.as_bytes(),
                &vkey,
                &mut |d, _| bar.set_position(d),
            );
            bar.finish_and_clear();
            let shown = said("cli.verify.ledger", &[("dir", &dir.display())]);
            (report?, format!("ledger {}", dir.display()), shown)
        }
        (None, None) => {
            return Err(Failure::usage(msg("err.cli.verify_what")));
        }
    };
    if json {
        print_verified_json(&report, &what);
    } else {
        print_verified(&report, &shown);
    }
    Ok(())
}

/// What `custody verify --json` prints for a log that verified.
fn print_verified_json(report: &crate::app::verify::Report, what: &str) {
    print_json(&json!({
        "ok": true,
        "source": what,
        "origin": report.origin.as_str(),
        "size": report.size,
        "root": B64.encode(report.root),
        "statements": report.statements,
        "signatures": report.signatures,
        "officers_enrolled": report.officers_enrolled,
        "officers_revoked": report.officers_revoked,
        "refounds": report.refounding.as_ref().map(|r| json!({
            "origin": r.origin, "size": r.size, "attested_by": r.by.as_str(),
        })),
    }));
}

/// What `custody verify` prints for a log that verified: `what` names it (a ledger, an export).
fn print_verified(report: &crate::app::verify::Report, what: &str) {
    let ok = said(
        "cli.verify.ok",
        &[
            ("what", &what),
            ("entries", &report.size),
            ("origin", &report.origin),
            ("root", &B64.encode(report.root)),
        ],
    );
    out!("{ok}");
    if let Some(r) = &report.refounding {
        let refounded = said(
            "cli.verify.refounded",
            &[
                ("last", &(r.size - 1)),
                ("origin", &r.origin),
                ("admin", &r.by),
            ],
        );
        out!("{refounded}");
    }
}

/// `custody doctor`: exit 0 when the ledger opens and verifies with nothing left to do, 1 when a
/// problem remains (for `--repair`, or for an operator).
pub(super) fn doctor(a: DoctorArgs) -> Outcome {
    let DoctorArgs {
        ledger,
        repair,
        json,
    } = a;
    let (dir, json) = (ledger.ledger.as_path(), json.json);
    let bar = progress_bar(0, "verifying");
    let diagnosis = crate::app::doctor::diagnose(dir, repair, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .map_err(|e| Failure::corrupt(e.explain()))?;
    bar.finish_and_clear();
    show(json, &diagnosis, || print_diagnosis(&diagnosis))?;
    if diagnosis.healthy() {
        Ok(())
    } else if diagnosis
        .findings
        .iter()
        .any(|f| matches!(f.action, crate::app::doctor::Action::Manual(_)))
    {
        Err(Failure::refused(msg("err.cli.doctor_manual")))
    } else {
        Err(Failure::refused(
            msg("err.cli.doctor_repairable").arg("ledger", dir.display()),
        ))
    }
}

/// `custody doctor`'s text: one block per finding, its problem and action in the terminal's
/// language, then the verdict.
fn print_diagnosis(d: &crate::app::doctor::Diagnosis) {
    use crate::app::doctor::{Action, Risk};
    let lang = crate::edge::terminal_lang();
    out!("{}", said("cli.doctor.ledger", &[("ledger", &d.ledger)]));
    for f in &d.findings {
        out!("");
        out!("[{}] {}", f.check, f.file);
        out!("  {}: {}", both("cli.problem"), f.said.problem.render(lang));
        let risk = match f.acknowledged_data {
            Risk::None => both("cli.not_at_risk"),
            Risk::Entries => both("cli.at_risk").to_uppercase(),
            Risk::Unknown => both("cli.unknown_until_the_store_opens"),
        };
        out!("  {}: {risk}", both("cli.acknowledged_entries"));
        let action = f.said.action.render(lang);
        match &f.action {
            Action::Repaired(_) => out!("  {}: {action}", both("cli.repaired")),
            Action::Repairable(_) => out!("  {}", said("cli.doctor.would", &[("action", &action)])),
            Action::Manual(_) => out!("  {}: {action}", both("cli.operator")),
        }
    }
    out!("");
    match (d.entries, d.verified) {
        (Some(n), true) => out!("{}", said("cli.doctor.verified", &[("entries", &n)])),
        (Some(n), false) => out!("{}", said("cli.doctor.failed", &[("entries", &n)])),
        (None, _) => out!("log: {}", both("cli.did_not_open")),
    }
    if d.findings.is_empty() {
        out!("{}", both("cli.no_problems_found"));
    }
}
