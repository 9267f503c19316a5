//! Writing statements: `custody record`, `sign`, `submit` and `sync`, to a local ledger or a
//! server (with the device's outbox when the server cannot be reached), and how a receipt is
//! printed. It must never report a statement recorded without a receipt, nor queued before the
//! outbox holds it durably.

use super::args::{JsonArg, TargetArg};
use super::common::{
    Failure, Outcome, input, open, print_json, read_input, read_key, read_vkey, remote,
};
use crate::app::compose;
use crate::app::ledger::Ledger;
use crate::app::log::Writes;
use crate::app::reads::Reads;
use crate::base::class::Class;
use crate::base::class::Classify as _;
use crate::base::time::Clock;
use crate::base::words::{Explain as _, Message, msg};
use crate::edge::client::{Outbox, Remote};
use crate::edge::render::said;
use crate::format::envelope::Envelope;
use crate::keys::signing::SecretKey;
use clap::Args;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Args, Debug)]
pub(super) struct RecordArgs {
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
}
/// `custody record`.
pub(super) fn record(a: RecordArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let RecordArgs {
        ledger: target,
        keys,
        statement,
        fill_after,
        json,
    } = a;
    let raw = read_input(&statement)?;
    let bytes = compose::fill_defaults(&raw, clock.as_ref()).map_err(input("statement"))?;
    let how = Delivery {
        fill_after,
        print_only: false,
        json: json.json,
    };
    record_bytes(&target, &keys, bytes, how, clock)
}

/// What `record_bytes` does besides signing: fill `after`, or only print the statement.
#[derive(Debug, Clone, Copy)]
pub(super) struct Delivery {
    pub(super) fill_after: bool,
    pub(super) print_only: bool,
    pub(super) json: bool,
}

/// The one path from statement bytes to a receipt, for `custody record` and `custody new`:
/// open where it goes, fill `after` when asked (from the ledger or the server, or this device's
/// outbox when the server cannot be reached), sign with every key file, and deliver (or keep it in
/// the outbox, exit 8). With `print_only`, prints the unsigned statement instead and signs nothing.
pub(super) fn record_bytes(
    target: &TargetArg,
    keys: &[PathBuf],
    mut bytes: Vec<u8>,
    how: Delivery,
    clock: &Arc<dyn Clock>,
) -> Outcome {
    let first_key = keys.first().map(|k| read_key(k)).transpose()?;
    let keys = keys
        .iter()
        .map(|k| read_key(k))
        .collect::<Result<Vec<_>, _>>()?;
    // The first signer's key also signs the reads that fill `after` from a server.
    let place = Place::open(target, first_key, clock)?;
    if how.fill_after {
        bytes = fill_after_from(&place, &bytes)?;
    }
    if how.print_only {
        crate::format::statement::Statement::parse(&bytes).map_err(input("statement"))?;
        // serde_json's own words: the statement parsed above, so this does not happen.
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|e| Failure::usage(Message::verbatim(e.to_string())))?;
        print_json(&value);
        return Ok(());
    }
    let refs: Vec<&SecretKey> = keys.iter().collect();
    let envelope = compose::sign_statement(bytes, &refs).map_err(input("statement"))?;
    deliver(
        &place,
        target,
        envelope.to_json_pretty().into_bytes(),
        how.json,
        clock.as_ref(),
    )
}

/// Where a statement goes, opened: the ledger here, or a server and the device's outbox.
pub(super) enum Place {
    Local(Ledger),
    Remote(Box<Remote>, Option<Outbox>),
}

impl Place {
    pub(super) fn open(
        target: &TargetArg,
        read_key: Option<SecretKey>,
        clock: &Arc<dyn Clock>,
    ) -> Result<Self, Failure> {
        let Some(url) = &target.place.server else {
            return Ok(Self::Local(open(target.place.ledger()?)?));
        };
        let remote = remote(url, read_key, target.place.ca_cert.as_deref(), clock)?;
        let outbox = target
            .outbox
            .as_deref()
            .map(Outbox::open)
            .transpose()
            .map_err(Failure::from)?;
        Ok(Self::Remote(Box::new(remote), outbox))
    }

    fn writes(&self) -> &dyn Writes {
        match self {
            Self::Local(l) => l,
            Self::Remote(r, _) => r.as_ref(),
        }
    }

    pub(super) fn reads(&self) -> &dyn Reads {
        match self {
            Self::Local(l) => l,
            Self::Remote(r, _) => r.as_ref(),
        }
    }

    fn outbox(&self) -> Option<&Outbox> {
        match self {
            Self::Local(_) => None,
            Self::Remote(_, o) => o.as_ref(),
        }
    }
}

#[derive(Args, Debug)]
pub(super) struct SignArgs {
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// Statement or envelope JSON file, or - for standard input
    input: PathBuf,
}
/// `custody sign`.
pub(super) fn sign(a: SignArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let SignArgs { key, input: path } = a;
    let raw = read_input(&path)?;
    let key = read_key(&key)?;
    let is_envelope = serde_json::from_slice::<Value>(&raw)
        .ok()
        .and_then(|v| v.get("payloadType").cloned())
        .is_some();
    let mut envelope = if is_envelope {
        Envelope::parse_allowing_unsigned(&raw).map_err(input("envelope"))?
    } else {
        let bytes = compose::fill_defaults(&raw, clock.as_ref()).map_err(input("statement"))?;
        crate::format::statement::Statement::parse(&bytes).map_err(input("statement"))?;
        Envelope::unsigned(bytes).map_err(input("statement"))?
    };
    envelope.sign(&key).map_err(input("envelope"))?;
    out!("{}", envelope.to_json_pretty());
    Ok(())
}

#[derive(Args, Debug)]
pub(super) struct SubmitArgs {
    #[command(flatten)]
    ledger: TargetArg,
    /// Envelope JSON file, or - for standard input
    envelope: PathBuf,
    #[command(flatten)]
    json: JsonArg,
}
/// `custody submit`.
pub(super) fn submit(a: SubmitArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let SubmitArgs {
        ledger: target,
        envelope,
        json,
    } = a;
    let raw = read_input(&envelope)?;
    let place = Place::open(&target, None, clock)?;
    deliver(&place, &target, raw, json.json, clock.as_ref())
}

#[derive(Args, Debug)]
pub(super) struct SyncArgs {
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
}
/// `custody sync`.
pub(super) fn sync(a: SyncArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let SyncArgs {
        server,
        outbox,
        ca_cert,
        json,
    } = a;
    let remote = remote(&server, None, ca_cert.as_deref(), clock)?;
    if !outbox.is_dir() {
        return Err(Failure::usage(
            msg("err.cli.no_outbox").arg("outbox", outbox.display()),
        ));
    }
    let outbox = Outbox::open(&outbox).map_err(Failure::from)?;
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
        .map_err(Failure::from)?;
    let count = |o: &str| results.iter().filter(|r| r.outcome == o).count();
    let left = outbox.queued().map_err(Failure::from)?.len();
    if json.json {
        print_json(&json!({"results": results, "still_queued": left}));
    } else {
        let synced = said(
            "cli.sync.done",
            &[
                ("recorded", &count("recorded")),
                ("already", &count("already_recorded")),
                ("rejected", &count("rejected")),
                ("queued", &left),
            ],
        );
        out!("{synced}");
    }
    if count("unreachable") > 0 {
        Err(Failure::new(
            Class::Unavailable,
            msg("err.cli.sync_unreachable")
                .arg("server", remote.url())
                .arg("queued", left),
        ))
    } else if count("rejected") > 0 {
        Err(Failure::refused(
            msg("err.cli.sync_rejected").arg("count", count("rejected")),
        ))
    } else {
        Ok(())
    }
}

/// Fills `after` with each item's head where the statement goes; when a server cannot be reached,
/// from the heads this device last saw (its outbox remembers the leaf of every receipt), and says
/// so.
fn fill_after_from(place: &Place, bytes: &[u8]) -> Result<Vec<u8>, Failure> {
    let outbox = place.outbox();
    // `fill_after` takes a plain `Fn`; the cells record what the lookups ran into.
    let unreachable: std::cell::RefCell<Option<Message>> = std::cell::RefCell::new(None);
    let cached = outbox.map(Outbox::heads).unwrap_or_default();
    let from_cache: std::cell::RefCell<Vec<String>> = std::cell::RefCell::new(Vec::new());
    let head = |id: &crate::base::ids::ItemId| match place.reads().item(id) {
        Ok(item) => Some(item.head),
        Err(e) if e.class().try_again_later() => {
            *unreachable.borrow_mut() = Some(e.explain());
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
                Failure::new(
                    Class::Unavailable,
                    msg("err.cli.after_unseen")
                        .part("reason", reason)
                        .part("error", e.explain()),
                )
            })?;
            let items = from_cache.borrow().join(", ");
            eprintln!(
                "{}",
                said("cli.record.after_from_cache", &[("items", &items)])
            );
            Ok(b)
        }
        (_, Some(reason)) => Err(Failure::new(
            Class::Unavailable,
            msg("err.cli.after_unreachable").part("reason", reason),
        )),
        (Err(e), None) => Err(Failure::usage(
            msg("err.cli.statement").part("error", e.explain()),
        )),
    }
}

/// Submits a signed envelope where it goes and prints the receipt, once checked; when a server
/// cannot take it now and an outbox is given, keeps the envelope there durably and says so.
pub(super) fn deliver(
    place: &Place,
    target: &TargetArg,
    envelope: Vec<u8>,
    json: bool,
    clock: &dyn Clock,
) -> Outcome {
    let vkey = target.vkey.as_deref().map(read_vkey).transpose()?;
    let outbox = place.outbox();
    match place.writes().submit(&envelope) {
        Ok(receipt) => {
            receipt
                .check(vkey.as_ref())
                .map_err(|e| Failure::refused(msg("err.cli.receipt").arg("error", e)))?;
            if let Some(o) = outbox {
                o.remember(&envelope, &receipt).map_err(Failure::from)?;
            }
            print_receipt_view(&receipt, json, vkey.is_some());
            Ok(())
        }
        Err(e) if e.class.try_again_later() && outbox.is_some() => {
            let o = outbox.expect("checked above");
            let env = Envelope::parse(&envelope).map_err(input("envelope"))?;
            let id = crate::format::statement::Statement::parse(env.payload())
                .map_err(input("statement"))?
                .id
                .to_string();
            let path = o.put(&envelope, &id, clock.now()).map_err(Failure::from)?;
            if json {
                print_json(
                    &json!({"queued": path.display().to_string(), "statement_id": id, "reason": e.to_string()}),
                );
            } else {
                let why = e.message.render(crate::edge::terminal_lang());
                out!("{}", said("cli.deliver.unreachable", &[("reason", &why)]));
                let queued = said(
                    "cli.deliver.queued",
                    &[
                        ("id", &id),
                        ("path", &path.display()),
                        ("server", &target.place.server.as_deref().unwrap_or("URL")),
                    ],
                );
                out!("{queued}");
            }
            // Not an error of the officer's, but not a success either: a script must not take a
            // queued statement for a recorded one (exit 8).
            Err(Failure::new(
                Class::Queued,
                msg("err.cli.queued").arg("id", id),
            ))
        }
        Err(e) => Err(Failure::from(e)),
    }
}

fn print_receipt_view(
    receipt: &crate::app::ledger::ReceiptView,
    json: bool,
    signature_checked: bool,
) {
    if json {
        print_json(&serde_json::to_value(receipt).expect("a receipt serializes"));
    } else if receipt.duplicate {
        out!(
            "{}",
            said("cli.receipt.duplicate", &[("seq", &receipt.seq)])
        );
    } else {
        let recorded = said(
            "cli.receipt.recorded",
            &[
                ("seq", &receipt.seq),
                ("leaf", &receipt.leaf_hash),
                ("size", &receipt.inclusion_proof.tree_size),
            ],
        );
        out!("{recorded}");
        if signature_checked {
            out!("{}", said("cli.receipt.checked", &[]));
        }
    }
}
