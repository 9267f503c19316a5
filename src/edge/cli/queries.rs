//! The investigator's reads: `custody officers`, `items`, `item`, `history`, `holdings`,
//! `pending`, `incident`, `person`, `facilities` and `audit`, from a local ledger or a server
//! through the one `Reads` interface. It parses the arguments and renders the typed answers; it
//! must never compute an answer itself (that is `app::reads`'s) nor pick an exit code number.

use super::args::{JsonArg, ListOutputArg, SourceArg};
use super::args::{Source, source};
use super::common::{Failure, Outcome, as_of_arg, input, open, print_json, progress_bar, show};
use crate::app::names::Names;
use crate::base::ids::OfficerId;
use crate::base::time::Clock;
use crate::base::words::msg;
use crate::edge::render::said;
use clap::Args;
use std::path::Path;
use std::sync::Arc;

#[derive(Args, Debug)]
pub(super) struct ItemsArgs {
    #[command(flatten)]
    ledger: SourceArg,
    /// held, in_transit, destroyed, returned or forfeited
    #[arg(long)]
    status: Option<String>,
    /// Facility code, e.g. LPN-JAKARTA
    #[arg(long)]
    facility: Option<String>,
    #[command(flatten)]
    json: ListOutputArg,
}
/// `custody items`.
pub(super) fn items(a: ItemsArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let ItemsArgs {
        ledger: src,
        status,
        facility,
        json,
    } = a;
    let status = status
        .map(|s| {
            crate::domain::custody::Status::parse(&s)
                .ok_or_else(|| Failure::usage(msg("err.cli.bad_status").quoted("status", &s)))
        })
        .transpose()?;
    let source = source(&src, clock)?;
    let list = source.reads().items(status, facility.as_deref())?;
    let names = source.reads().names()?;
    show_list(json, &list, &names, || {
        crate::edge::render::items(&list, &names)
    })
}

/// A list as JSON with the officers' display names beside their ids (`--json`), as CSV of the
/// same (`--csv`), or as text.
fn show_list<T: serde::Serialize>(
    out: ListOutputArg,
    value: &T,
    names: &Names,
    text: impl FnOnce(),
) -> Outcome {
    if out.csv {
        out_raw!("{}", crate::edge::csv::csv(&names.json(value)));
        return Ok(());
    }
    show_named(out.json, value, names, text)
}

/// An answer with events as JSON, each event with its Indonesian line (`uraian`) as the server
/// gives it: read here from the local ledger's statements, or already in the server's answer.
fn with_uraian(source: &Source, answer: &impl serde::Serialize) -> serde_json::Value {
    match source {
        Source::Local(ledger) => crate::edge::uraian::with_uraian(ledger, answer),
        _ => serde_json::to_value(answer).expect("every answer serializes to JSON"),
    }
}

/// The answer the text shows: with each event's Indonesian line as `with_uraian` added it (an
/// Indonesian terminal shows it), else as it was read.
fn annotated<T: serde::de::DeserializeOwned + Clone>(answer: &serde_json::Value, read: &T) -> T {
    serde_json::from_value(answer.clone()).unwrap_or_else(|_| read.clone())
}

/// `value` as JSON with the officers' display names beside their ids (`--json`), or as text.
fn show_named<T: serde::Serialize>(
    json: bool,
    value: &T,
    names: &Names,
    text: impl FnOnce(),
) -> Outcome {
    if json {
        print_json(&names.json(value));
    } else {
        text();
    }
    Ok(())
}

#[derive(Args, Debug)]
pub(super) struct ItemArgs {
    #[command(flatten)]
    ledger: SourceArg,
    id: String,
    #[command(flatten)]
    json: JsonArg,
}
/// `custody item`.
pub(super) fn item(a: ItemArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let ItemArgs {
        ledger: src,
        id,
        json,
    } = a;
    let id = crate::base::ids::ItemId::parse(&id).map_err(input("item"))?;
    let source = source(&src, clock)?;
    let item = source.reads().item(&id)?;
    let names = source.reads().names()?;
    show_named(json.json, &item, &names, || {
        crate::edge::render::item(&item, &names)
    })
}

#[derive(Args, Debug)]
pub(super) struct HistoryArgs {
    #[command(flatten)]
    ledger: SourceArg,
    id: String,
    /// Show times as local time in this zone: WIB, WITA, WIT or +HH:MM (also from CUSTODY_TZ); default: each act's facility's zone from the register of places, else UTC
    #[arg(long, env = "CUSTODY_TZ", value_name = "ZONE")]
    tz: Option<String>,
    #[command(flatten)]
    json: ListOutputArg,
}
/// `custody history`.
pub(super) fn history(a: HistoryArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let HistoryArgs {
        ledger: src,
        id,
        tz,
        json,
    } = a;
    let id = crate::base::ids::ItemId::parse(&id).map_err(input("item"))?;
    let zone = tz
        .as_deref()
        .map(crate::base::time::Zone::parse)
        .transpose()
        .map_err(input("--tz"))?;
    let source = source(&src, clock)?;
    let history = source.reads().history(&id)?;
    let names = source.reads().names()?;
    let zones = match zone {
        Some(z) => crate::edge::render::Zones::Fixed(z),
        None if json.json => crate::edge::render::Zones::Utc,
        None => crate::edge::render::Zones::of_facilities(&source.reads().facilities()?),
    };
    let answer = with_uraian(&source, &history);
    show_list(json, &answer, &names, || {
        let history = annotated(&answer, &history);
        crate::edge::render::history(&history.item, &history.events, &zones, &names)
    })
}

#[derive(Args, Debug)]
pub(super) struct HoldingsArgs {
    #[command(flatten)]
    ledger: SourceArg,
    /// The officer's NIP/NRP
    #[arg(required_unless_present = "unit")]
    officer: Option<String>,
    /// A unit name, exactly as enrolled, e.g. "Satresnarkoba Polres Jakarta Timur"
    #[arg(long, conflicts_with = "officer")]
    unit: Option<String>,
    #[command(flatten)]
    json: ListOutputArg,
}
/// `custody holdings`.
pub(super) fn holdings(a: HoldingsArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let HoldingsArgs {
        ledger: src,
        officer,
        unit,
        json,
    } = a;
    let holder = match (officer, unit) {
        (Some(o), _) => {
            crate::app::reads::Holder::Officer(OfficerId::parse(&o).map_err(input("officer"))?)
        }
        (None, Some(u)) => crate::app::reads::Holder::Unit(u),
        (None, None) => {
            return Err(Failure::usage(msg("err.cli.holdings_of_whom")));
        }
    };
    let source = source(&src, clock)?;
    let list = source.reads().holdings(&holder)?;
    let names = source.reads().names()?;
    show_list(json, &list, &names, || {
        let who = match &holder {
            crate::app::reads::Holder::Officer(o) => said(
                "cli.holdings.officer",
                &[("officer", &names.label(o.as_str()))],
            ),
            crate::app::reads::Holder::Unit(u) => said("cli.holdings.unit", &[("unit", u)]),
        };
        let title = said(
            "cli.holdings.title",
            &[("who", &who), ("count", &list.len())],
        );
        out!("{title}");
        crate::edge::render::items(&list, &names);
    })
}

#[derive(Args, Debug)]
pub(super) struct PendingArgs {
    #[command(flatten)]
    ledger: SourceArg,
    #[command(flatten)]
    json: ListOutputArg,
}
/// `custody pending`.
pub(super) fn pending(a: PendingArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let PendingArgs { ledger: src, json } = a;
    let source = source(&src, clock)?;
    let list = source.reads().pending()?;
    let names = source.reads().names()?;
    show_list(json, &list, &names, || {
        crate::edge::render::pending(&list, &names)
    })
}

#[derive(Args, Debug)]
pub(super) struct DeadlinesArgs {
    #[command(flatten)]
    ledger: SourceArg,
    /// Only this facility's items
    #[arg(long, value_name = "CODE")]
    facility: Option<String>,
    /// Judge the clocks at this moment (RFC 3339 UTC; default now)
    #[arg(long, value_name = "TIME")]
    as_of: Option<String>,
    #[command(flatten)]
    json: ListOutputArg,
}
/// `custody deadlines`: every statutory clock running for the items held or in transit.
pub(super) fn deadlines(a: DeadlinesArgs, clock: &Arc<dyn Clock>) -> Outcome {
    use crate::domain::custody::Status;
    let DeadlinesArgs {
        ledger: src,
        facility,
        as_of,
        json,
    } = a;
    let as_of = as_of_arg(as_of, clock.as_ref())?;
    let source = source(&src, clock)?;
    let reads = source.reads();
    let open: Vec<_> = reads
        .items(None, facility.as_deref())?
        .into_iter()
        .filter(|i| matches!(i.status, Status::Held | Status::InTransit))
        .map(|i| i.id)
        .collect();
    let list = crate::app::reads::deadlines(reads, &open, as_of)?;
    if json.csv {
        out_raw!(
            "{}",
            crate::edge::csv::csv(&serde_json::to_value(&list).unwrap_or_default())
        );
        return Ok(());
    }
    if json.json {
        print_json(&serde_json::to_value(&list).unwrap_or_default());
        return Ok(());
    }
    let title = said(
        "cli.deadlines.title",
        &[("as_of", &as_of), ("count", &list.len())],
    );
    out!("{title}");
    for d in &list {
        let state = if d.overdue {
            said("cli.deadlines.overdue", &[])
        } else {
            said("cli.deadlines.running", &[])
        };
        let row = said(
            "cli.deadlines.row",
            &[
                ("due", &d.due_at),
                ("item", &format!("{:<18}", d.item.as_str())),
                ("state", &state),
                ("indonesian", &d.indonesian),
                ("english", &d.english),
                ("basis", &d.basis),
                ("seq", &d.started_seq),
            ],
        );
        out!("  {row}");
    }
    Ok(())
}

#[derive(Args, Debug)]
pub(super) struct IncidentArgs {
    #[command(flatten)]
    ledger: SourceArg,
    id: String,
    #[command(flatten)]
    json: JsonArg,
}
/// `custody incident`.
pub(super) fn incident(a: IncidentArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let IncidentArgs {
        ledger: src,
        id,
        json,
    } = a;
    let source = source(&src, clock)?;
    let view = source.reads().incident(&id)?;
    let names = source.reads().names()?;
    let answer = with_uraian(&source, &view);
    show_named(json.json, &answer, &names, || {
        crate::edge::render::incident(&annotated(&answer, &view), &names)
    })
}

#[derive(Args, Debug)]
pub(super) struct PersonArgs {
    #[command(flatten)]
    ledger: SourceArg,
    id: String,
    #[command(flatten)]
    json: ListOutputArg,
}
/// `custody person`.
pub(super) fn person(a: PersonArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let PersonArgs {
        ledger: src,
        id,
        json,
    } = a;
    let source = source(&src, clock)?;
    let view = source.reads().person(&id)?;
    let names = source.reads().names()?;
    let answer = with_uraian(&source, &view);
    show_list(json, &answer, &names, || {
        let view = annotated(&answer, &view);
        crate::edge::render::person(&view.person, &view.events, &names)
    })
}

#[derive(Args, Debug)]
pub(super) struct FacilitiesArgs {
    #[command(flatten)]
    ledger: SourceArg,
    #[command(flatten)]
    json: JsonArg,
}
/// `custody facilities`.
pub(super) fn facilities(a: FacilitiesArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let FacilitiesArgs { ledger: src, json } = a;
    let map = source(&src, clock)?.reads().facilities()?;
    if json.json {
        print_json(&serde_json::to_value(&map).expect("counts serialize"));
    } else {
        for (f, counts) in map {
            out!("{f}: {counts}");
        }
    }
    Ok(())
}

#[derive(Args, Debug)]
pub(super) struct AuditArgs {
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
    json: ListOutputArg,
}
/// `custody audit`.
pub(super) fn audit(a: AuditArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let AuditArgs {
        ledger: src,
        item,
        incident,
        all,
        as_of,
        fail_on,
        json,
    } = a;
    let scope = match (item, incident, all) {
        (Some(i), _, _) => crate::app::casefile::Scope::Item(
            crate::base::ids::ItemId::parse(&i).map_err(input("--item"))?,
        ),
        (None, Some(i), _) => crate::app::casefile::Scope::Incident(i),
        (None, None, true) => crate::app::casefile::Scope::All,
        (None, None, false) => {
            return Err(Failure::usage(msg("err.cli.audit_scope")));
        }
    };
    let as_of = as_of_arg(as_of, clock.as_ref())?;
    let fail_on = fail_on
        .map(|s| {
            crate::domain::audit::Severity::parse(&s)
                .ok_or_else(|| Failure::usage(msg("err.cli.bad_severity").quoted("severity", &s)))
        })
        .transpose()?;
    let report = match &src.place.server {
        Some(_) => source(&src, clock)?.reads().audit(&scope, as_of)?,
        // Locally, with a progress bar: `--all` verifies the whole log first.
        None => local_audit(src.place.ledger()?, &scope, as_of)?,
    };
    if json.csv {
        // The findings are the list; the deadlines have their own command.
        let value = serde_json::to_value(&report).expect("the report serializes");
        out_raw!("{}", crate::edge::csv::csv(&value["findings"]));
    } else if json.json {
        print_json(&serde_json::to_value(&report).expect("the report serializes"));
    } else {
        crate::edge::render::audit(&report);
    }
    if let Some(level) = fail_on {
        let worst = crate::app::reads::worst(&report);
        if worst.is_some_and(|w| w >= level) {
            let count = report
                .findings
                .iter()
                .filter(|f| f.severity >= level)
                .count();
            return Err(Failure::refused(
                msg("err.cli.audit_failed")
                    .arg("count", count)
                    .arg("severity", level.as_str()),
            ));
        }
    }
    Ok(())
}

#[derive(Args, Debug)]
pub(super) struct OfficersArgs {
    #[command(flatten)]
    ledger: SourceArg,
    #[command(flatten)]
    json: ListOutputArg,
}
/// `custody officers`.
pub(super) fn officers(a: OfficersArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let OfficersArgs { ledger: src, json } = a;
    let source = source(&src, clock)?;
    let list = source.reads().officers()?;
    if json.csv {
        out_raw!(
            "{}",
            crate::edge::csv::csv(&serde_json::to_value(&list).unwrap_or_default())
        );
        return Ok(());
    }
    show(json.json, &list, || crate::edge::render::officers(&list))
}

/// `custody audit` on a local ledger, behind a progress bar (`--all` verifies the whole log first).
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
    .map_err(Failure::from)?;
    bar.finish_and_clear();
    Ok(report)
}
