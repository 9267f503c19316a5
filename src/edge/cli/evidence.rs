//! Evidence for court: `custody bundle export` and `bundle verify` (one self-contained file an
//! auditor verifies offline with only the verifier key) and `custody report` (the printable
//! berita acara describing exactly one bundle). It must never verify a bundle itself (that is
//! `app::bundle`'s) nor pick an exit code number.

use super::args::{JsonArg, SourceArg};
use super::args::{Source, source};
use super::common::{
    Failure, Outcome, as_of_arg, input, print_json, read_vkey, show, unreadable, unwritable,
};
use crate::app::bundle::Cut;
use crate::base::time::Clock;
use crate::base::words::{Explain as _, Message, msg};
use crate::edge::render::said;
use crate::edge::report::{ReportAct, Subject};
use crate::format::statement::Body;
use clap::{Args, Subcommand};
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Subcommand, Debug)]
pub(super) enum BundleCommand {
    /// Write one self-contained file: the item's (and its parent's and samples') leaves — or every item of a case with --incident — the identity leaves of every officer they name, inclusion proofs, the checkpoint and the verifier key
    Export(BundleExportArgs),
    /// Verify a bundle with no ledger and no network: checkpoint signature, inclusion proofs, officer signatures and key validity, the item chains, then the audit
    Verify(BundleVerifyArgs),
}

/// What a bundle or a report is about: one item (with its lot), or every item of one case.
#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
pub(super) struct CutArg {
    /// The item (with its parent and its samples)
    #[arg(long, value_name = "ID")]
    item: Option<String>,
    /// Every item of this incident (the case), with the incident's own acts
    #[arg(long, value_name = "ID")]
    incident: Option<String>,
}

impl CutArg {
    fn cut(&self) -> Result<crate::app::bundle::Cut, Failure> {
        use crate::app::bundle::Cut;
        match (&self.item, &self.incident) {
            (Some(item), _) => Ok(Cut::Item(
                crate::base::ids::ItemId::parse(item).map_err(input("--item"))?,
            )),
            (None, Some(incident)) if !incident.trim().is_empty() => {
                Ok(Cut::Incident(incident.clone()))
            }
            _ => Err(Failure::usage(msg("err.cli.empty_incident"))),
        }
    }
}

#[derive(Args, Debug)]
pub(super) struct BundleExportArgs {
    #[command(flatten)]
    ledger: SourceArg,
    #[command(flatten)]
    cut: CutArg,
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// For a court: add the personal data of the persons the bundle names, with the salts that prove it is what was recorded (read through the subject register as --officer with --key, logged; a local --ledger only)
    #[arg(long, requires = "officer")]
    disclose: bool,
    /// Your staff number (NIP/NRP), for --disclose
    #[arg(long, value_name = "ID")]
    officer: Option<String>,
    /// Against the checkpoint of the first SIZE entries (from the checkpoint history) instead of the latest: only what was recorded before it, and the same bytes whenever it is made
    #[arg(long, value_name = "SIZE")]
    checkpoint: Option<u64>,
    #[command(flatten)]
    json: JsonArg,
}

#[derive(Args, Debug)]
pub(super) struct BundleVerifyArgs {
    /// The bundle file
    file: PathBuf,
    /// The ledger's verifier key (a string, or a file holding it), obtained from a channel you trust
    #[arg(long, value_name = "VKEY")]
    vkey: String,
    /// Judge open clocks at this moment (RFC 3339 UTC; default now)
    #[arg(long, value_name = "TIME")]
    as_of: Option<String>,
    /// The digest printed on a report (XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-X): refused unless this bundle is the one the printed page describes
    #[arg(long, value_name = "DIGEST")]
    printed_digest: Option<String>,
    #[command(flatten)]
    json: JsonArg,
}

/// `custody bundle export|verify`.
pub(super) fn bundle(command: BundleCommand, clock: &Arc<dyn Clock>) -> Outcome {
    match command {
        BundleCommand::Export(a) => bundle_export(a, clock),
        BundleCommand::Verify(a) => bundle_verify(a, clock),
    }
}

/// `custody bundle export`.
fn bundle_export(a: BundleExportArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let BundleExportArgs {
        ledger: src,
        cut,
        out,
        disclose,
        officer,
        checkpoint,
        json,
    } = a;
    let cut = cut.cut()?;
    if out.exists() {
        return Err(Failure::usage(
            msg("err.cli.out_exists").arg("path", out.display()),
        ));
    }
    let source = source(&src, clock)?;
    let bytes = match officer.filter(|_| disclose) {
        Some(officer) => disclosing_bundle(&source, &src, &cut, &officer, checkpoint)?,
        None => source.reads().bundle(&cut, checkpoint)?,
    };
    let bundle: crate::app::bundle::Bundle = serde_json::from_slice(&bytes)
        .map_err(|e| Failure::corrupt(msg("err.cli.bundle_malformed").arg("error", e)))?;
    std::fs::write(&out, &bytes).map_err(|e| Failure::corrupt(unwritable(out.display(), &e)))?;
    let (digest, printed) = digests(&bytes);
    if json.json {
        print_json(
            &json!({"out": out.display().to_string(), "entries": bundle.entries.len(), "bytes": bytes.len(), "sha256": digest, "printed_digest": printed, "items": bundle.items}),
        );
    } else {
        let wrote = said(
            "cli.bundle.wrote",
            &[
                ("file", &out.display()),
                ("entries", &bundle.entries.len()),
                ("bytes", &bytes.len()),
                ("sha256", &digest),
                ("printed", &printed),
            ],
        );
        out!("{wrote}");
        out!(
            "{}",
            said("cli.bundle.items", &[("items", &bundle.items.join(", "))])
        );
        out!(
            "{}",
            said(
                "cli.bundle.verify_anywhere",
                &[("file", &out.display()), ("vkey", &bundle.vkey)],
            )
        );
    }
    Ok(())
}

/// A bundle's SHA-256 in hex and its printed digest (`format::printed_digest`).
fn digests(bytes: &[u8]) -> (String, String) {
    use sha2::Digest as _;
    let sha: [u8; 32] = sha2::Sha256::digest(bytes).into();
    (
        crate::keys::signing::hex(&sha),
        crate::format::printed_digest::PrintedDigest::of(&sha).to_string(),
    )
}

/// The bundle of `cut` (at the checkpoint of `size` leaves, or the latest) with the personal data
/// of the persons it names, read from the local ledger's register as `officer` (proven by `--key`).
fn disclosing_bundle(
    source: &Source,
    src: &SourceArg,
    cut: &crate::app::bundle::Cut,
    officer: &str,
    size: Option<u64>,
) -> Result<Vec<u8>, Failure> {
    let Source::Local(ledger) = source else {
        return Err(Failure::usage(msg("err.cli.disclose_needs_ledger")));
    };
    let key_file = src
        .read_key
        .as_deref()
        .ok_or_else(|| Failure::usage(msg("err.cli.disclose_needs_key")))?;
    let officer = crate::base::ids::OfficerId::parse(officer).map_err(input("--officer"))?;
    let asker = crate::app::subjects::Asker::prove(
        &ledger.state(),
        &officer,
        &super::common::read_key(key_file)?,
    )
    .map_err(Failure::from)?;
    let mut bundle = crate::app::bundle::export(ledger, cut, size).map_err(Failure::from)?;
    crate::app::bundle::disclose(ledger, &mut bundle, &asker).map_err(Failure::from)?;
    Ok(crate::app::reads::bundle_bytes(&bundle))
}

/// `custody bundle verify`.
fn bundle_verify(a: BundleVerifyArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let BundleVerifyArgs {
        file,
        vkey,
        as_of,
        printed_digest,
        json,
    } = a;
    let vkey = read_vkey(&vkey)?;
    let as_of = as_of_arg(as_of, clock.as_ref())?;
    let printed = printed_digest
        .as_deref()
        .map(crate::format::printed_digest::PrintedDigest::parse)
        .transpose()
        .map_err(input("--printed-digest"))?;
    let bytes = std::fs::read(&file).map_err(|e| Failure::usage(unreadable(file.display(), &e)))?;
    let mut report = crate::app::bundle::verify(&bytes, &vkey, as_of)
        .map_err(|e| Failure::refused(msg("err.cli.bundle_failed").part("error", e.explain())))?;
    if let Some(printed) = printed {
        if printed.to_string() != report.printed_digest {
            return Err(Failure::refused(
                msg("err.cli.printed_digest_mismatch")
                    .arg("printed", printed)
                    .arg("digest", &report.printed_digest),
            ));
        }
        report.printed_digest_confirmed = true;
    }
    show(json.json, &report, || crate::edge::render::bundle(&report))
}

#[derive(Args, Debug)]
pub(super) struct ReportArgs {
    #[command(flatten)]
    ledger: SourceArg,
    #[command(flatten)]
    cut: CutArg,
    /// Where to write the report: FILE.html, or FILE.pdf for the PDF berita acara
    #[arg(long, value_name = "FILE.html|FILE.pdf")]
    out: PathBuf,
    /// html (A4, Indonesian with English alongside) or pdf (the berita acara in Indonesian, made without a browser); default: by the extension of --out
    #[arg(long, value_name = "FORMAT")]
    format: Option<ReportFormat>,
    /// Judge open clocks at this moment (RFC 3339 UTC; default now)
    #[arg(long, value_name = "TIME")]
    as_of: Option<String>,
    /// Name the persons involved, from the subject register, for a reader allowed to see them (as --officer with --key; logged; the report then describes the disclosing bundle)
    #[arg(long, requires = "officer")]
    disclose: bool,
    /// Your staff number (NIP/NRP), for --disclose
    #[arg(long, value_name = "ID")]
    officer: Option<String>,
    /// Make it at the checkpoint of the first SIZE entries (from the checkpoint history) instead of the latest: the same ledger, SIZE and --as-of give the same bytes whenever it is made
    #[arg(long, value_name = "SIZE")]
    checkpoint: Option<u64>,
    /// The berita acara of one act of the item (its log position, as `custody history` shows it) instead of the whole history; PDF only
    #[arg(long, value_name = "SEQ", conflicts_with = "incident")]
    act: Option<u64>,
}

/// What `custody report` writes.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
pub(super) enum ReportFormat {
    Html,
    Pdf,
}

/// The format asked for, or the one `--out`'s extension names (`.pdf`; anything else is HTML).
fn report_format(format: Option<ReportFormat>, out: &std::path::Path) -> ReportFormat {
    format.unwrap_or_else(|| match out.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("pdf") => ReportFormat::Pdf,
        _ => ReportFormat::Html,
    })
}

/// Renders the report in `format` and writes it to `out`.
fn write_report(
    input: &crate::edge::report::ReportInput<'_>,
    format: ReportFormat,
    out: &std::path::Path,
) -> Outcome {
    let bytes = match format {
        ReportFormat::Html => crate::edge::report::html(input).into_bytes(),
        ReportFormat::Pdf => crate::edge::report_pdf::pdf(input)
            .map_err(|e| Failure::corrupt(msg("err.cli.pdf_report").arg("error", e)))?,
    };
    std::fs::write(out, bytes).map_err(|e| Failure::corrupt(unwritable(out.display(), &e)))
}

/// `custody report`.
pub(super) fn report(a: ReportArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let (src, out, act, checkpoint) = (a.ledger, a.out, a.act, a.checkpoint);
    let cut = a.cut.cut()?;
    let as_of = as_of_arg(a.as_of, clock.as_ref())?;
    let source = source(&src, clock)?;
    let reads = source.reads();
    // The report is made from the bundle it names, at its checkpoint: the items' state and the
    // findings are what verifying those exact bytes establishes, and the history stops where the
    // checkpoint does. So the same ledger, checkpoint and as-of give the same report.
    let bundle_bytes = match a.officer.filter(|_| a.disclose) {
        Some(officer) => disclosing_bundle(&source, &src, &cut, &officer, checkpoint)?,
        None => reads.bundle(&cut, checkpoint)?,
    };
    let (bundle, verified) = verified_bundle(&bundle_bytes, as_of)?;
    // The bundle's statements, decoded once: each act's uraian, and a case's own acts.
    let acts = bundle.acts().map_err(report_bundle)?;
    let history = report_acts(reads, &cut, &acts, &verified)?;
    let as_of_text = as_of.to_canonical();
    let (names, facilities) = (reads.names()?, reads.facilities()?);
    let uraian: std::collections::BTreeMap<u64, String> = acts
        .iter()
        .map(|a| (a.seq, crate::edge::uraian::indonesian(&a.statement)))
        .collect();
    let input = crate::edge::report::ReportInput {
        subject: subject_of(&cut, &verified)?,
        lot: &verified.items,
        history: &history,
        findings: &verified.findings,
        origin: &bundle.origin,
        checkpoint_size: verified.checkpoint_size,
        checkpoint_root: &verified.checkpoint_root,
        bundle_sha256: &verified.sha256,
        printed_digest: &verified.printed_digest,
        uraian: &uraian,
        signatures: &verified.signatures,
        // A court document is Indonesian unless `--lang en` asks otherwise; CUSTODY_LANG, which
        // sets the terminal's language, never changes a document's bytes.
        lang: crate::edge::chosen_lang().unwrap_or(crate::base::words::Lang::Indonesian),
        act,
        vkey: &bundle.vkey,
        as_of: &as_of_text,
        disclosed: &bundle.disclosed,
        names: &names,
        facilities: &facilities,
    };
    let format = report_format(a.format, &out);
    check_act(act, &history, &cut, format)?;
    write_report(&input, format, &out)?;
    let beside = write_bundle_beside(&out, &bundle_bytes)?;
    let wrote = said(
        "cli.report.wrote",
        &[
            ("file", &out.display()),
            ("acts", &history.len()),
            ("findings", &verified.findings.len()),
            ("size", &verified.checkpoint_size),
            ("as_of", &as_of_text),
            ("bundle", &beside.display()),
            ("sha256", &verified.sha256),
            ("printed", &verified.printed_digest),
        ],
    );
    out!("{wrote}");
    Ok(())
}

/// The bundle just made for a report did not read or verify: the ledger's own bytes are wrong.
fn report_bundle(e: crate::app::bundle::BundleError) -> Failure {
    Failure::corrupt(msg("err.cli.report_bundle").part("error", e.explain()))
}

/// What the report describes: the item's state as its bundle's verification establishes it,
/// or the case.
fn subject_of<'a>(
    cut: &'a Cut,
    verified: &'a crate::app::bundle::BundleReport,
) -> Result<Subject<'a>, Failure> {
    Ok(match cut {
        Cut::Item(id) => {
            Subject::Item(verified.items.iter().find(|s| s.id == *id).ok_or_else(|| {
                Failure::corrupt(msg("err.cli.bundle_lacks_item").arg("item", id))
            })?)
        }
        Cut::Incident(incident) => Subject::Case(incident),
    })
}

/// The acts a report lists, below its bundle's checkpoint: the item's history, or for a case
/// each item's, merged in log order (an act on several items has a row for each), with the
/// incident's own acts (its searches) from the bundle.
fn report_acts(
    reads: &dyn crate::app::reads::Reads,
    cut: &Cut,
    bundle_acts: &[crate::app::bundle::BundleAct],
    verified: &crate::app::bundle::BundleReport,
) -> Result<Vec<ReportAct>, Failure> {
    let items: Vec<crate::base::ids::ItemId> = match cut {
        Cut::Item(id) => vec![id.clone()],
        Cut::Incident(_) => verified.items.iter().map(|s| s.id.clone()).collect(),
    };
    let mut acts = Vec::new();
    for item in items {
        for entry in reads.history(&item)?.events {
            if entry.seq < verified.checkpoint_size {
                acts.push(ReportAct {
                    item: Some(item.clone()),
                    entry,
                });
            }
        }
    }
    if let Cut::Incident(incident) = cut {
        let names = crate::app::names::Names::from_map(verified.officers.clone());
        acts.extend(
            bundle_acts
                .iter()
                .filter(|a| matches!(&a.statement.body, Body::SearchConducted(s) if s.incident == *incident))
                .map(|a| ReportAct {
                    item: None,
                    entry: incident_entry(a, &names),
                }),
        );
    }
    acts.sort_by(|a, b| (a.entry.seq, &a.item).cmp(&(b.entry.seq, &b.item)));
    Ok(acts)
}

/// An act of the incident itself (a search) as a row of the case's acts: its time, place,
/// signers and summary; it changes no item, so it shows no seals, masses or holder.
fn incident_entry(
    act: &crate::app::bundle::BundleAct,
    names: &crate::app::names::Names,
) -> crate::domain::projection::TimelineEntry {
    let st = &act.statement;
    crate::domain::projection::TimelineEntry {
        seq: act.seq,
        recorded_at: act.recorded_at.to_canonical(),
        occurred_at: st.occurred_at.to_canonical(),
        kind: st.kind.as_str().to_owned(),
        indonesian: st.kind.indonesian().to_owned(),
        facility: st.facility.to_string(),
        statement_id: st.id.to_string(),
        leaf_hash: act.leaf_hash.clone(),
        signers: st
            .signers
            .iter()
            .map(|s| crate::domain::projection::SignerView {
                role: s.role.as_str().to_owned(),
                officer: s.officer.to_string(),
                name: names.name(s.officer.as_str()).map(str::to_owned),
                unit: None,
                officer_roles: Vec::new(),
            })
            .collect(),
        summary: crate::domain::projection::summary(st),
        uraian: None,
        seals: Vec::new(),
        holder: None,
        status: String::new(),
        location: None,
        gross_mass_mg: None,
        net_mass_mg: None,
        count: None,
        readability_mg: None,
        attested_by: None,
    }
}

/// A bundle the report was just given, parsed and verified with its own key (the source's): what
/// the report may state is what this verification establishes.
fn verified_bundle(
    bytes: &[u8],
    as_of: crate::base::time::Timestamp,
) -> Result<(crate::app::bundle::Bundle, crate::app::bundle::BundleReport), Failure> {
    let bundle: crate::app::bundle::Bundle = serde_json::from_slice(bytes)
        .map_err(|e| Failure::corrupt(msg("err.cli.bundle_malformed").arg("error", e)))?;
    let vkey = read_vkey(&bundle.vkey)?;
    let verified = crate::app::bundle::verify(bytes, &vkey, as_of).map_err(report_bundle)?;
    Ok((bundle, verified))
}

/// Refuses an `--act` that is not an act of the item's history as of the report's checkpoint, or
/// that asks for HTML.
fn check_act(
    act: Option<u64>,
    history: &[ReportAct],
    cut: &Cut,
    format: ReportFormat,
) -> Result<(), Failure> {
    let Some(seq) = act else { return Ok(()) };
    if format != ReportFormat::Pdf {
        return Err(Failure::usage(msg("err.cli.act_needs_pdf")));
    }
    if !history.iter().any(|a| a.entry.seq == seq) {
        let seqs: Vec<String> = history.iter().map(|a| a.entry.seq.to_string()).collect();
        return Err(Failure::usage(
            msg("err.cli.not_an_act")
                .arg("seq", seq)
                .part("cut", cut_words(cut))
                .arg("acts", seqs.join(", ")),
        ));
    }
    Ok(())
}

/// What a report is about, in words: "item X" or "incident X".
fn cut_words(cut: &Cut) -> Message {
    match cut {
        Cut::Item(item) => msg("err.cli.cut_item").arg("item", item),
        Cut::Incident(incident) => msg("err.cli.cut_incident").arg("incident", incident),
    }
}

/// The bundle a report describes, written beside it (`REPORT.bundle.json`) byte for byte as the
/// report's digest and QR name it, so that the printed page and the bundle that proves it leave
/// together and can always be matched again.
fn write_bundle_beside(out: &std::path::Path, bytes: &[u8]) -> Result<std::path::PathBuf, Failure> {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".bundle.json");
    let path = out.with_file_name(name);
    std::fs::write(&path, bytes).map_err(|e| Failure::corrupt(unwritable(path.display(), &e)))?;
    Ok(path)
}
