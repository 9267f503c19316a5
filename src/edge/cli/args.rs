//! The argument groups several commands share: where a command reads or writes (a local ledger
//! or a server) and `--json`, and opening a query's source from them (`source`). Must never
//! decide what a command does with its source.

use super::common::{Failure, open, read_key, remote};
use crate::app::ledger::Ledger;
use crate::app::log::LogReads;
use crate::app::reads::Reads;
use crate::base::time::Clock;
use crate::base::words::msg;
use crate::edge::client::Remote;
use clap::Args;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Args, Debug, Clone)]
pub(super) struct LedgerArg {
    /// Ledger directory (also from CUSTODY_LEDGER)
    #[arg(long, env = "CUSTODY_LEDGER", value_name = "DIR")]
    pub(super) ledger: PathBuf,
}

/// A local ledger, or a server: where queries read and statements go.
#[derive(Args, Debug, Clone)]
pub(super) struct PlaceArg {
    /// Ledger directory (also from CUSTODY_LEDGER)
    #[arg(
        long,
        env = "CUSTODY_LEDGER",
        value_name = "DIR",
        required_unless_present = "server"
    )]
    pub(super) ledger: Option<PathBuf>,
    /// A custody server instead, e.g. http://127.0.0.1:8080 (also from CUSTODY_SERVER; it wins over CUSTODY_LEDGER)
    #[arg(long, env = "CUSTODY_SERVER", value_name = "URL")]
    pub(super) server: Option<String>,
    /// A CA certificate (PEM) to trust for the server's TLS certificate
    #[arg(long, env = "CUSTODY_CA_CERT", value_name = "FILE")]
    pub(super) ca_cert: Option<PathBuf>,
}

impl PlaceArg {
    pub(super) fn ledger(&self) -> Result<&Path, Failure> {
        self.ledger
            .as_deref()
            .ok_or_else(|| Failure::usage(msg("err.cli.no_place")))
    }
}

/// Where a query reads from: a local ledger, or a server with a signed request.
#[derive(Args, Debug, Clone)]
pub(super) struct SourceArg {
    #[command(flatten)]
    pub(super) place: PlaceArg,
    /// Your officer key, which signs read requests to --server (also from CUSTODY_KEY)
    #[arg(long = "key", env = "CUSTODY_KEY", value_name = "FILE")]
    pub(super) read_key: Option<PathBuf>,
}

/// Where a signed statement goes: a local ledger, or a server (with an outbox for when it is
/// unreachable).
#[derive(Args, Debug, Clone)]
pub(super) struct TargetArg {
    #[command(flatten)]
    pub(super) place: PlaceArg,
    /// Keep the signed envelope in this folder when the server cannot be reached; send it later with `custody sync`
    #[arg(long, value_name = "DIR", requires = "server")]
    pub(super) outbox: Option<PathBuf>,
    /// The ledger's verifier key: check the receipt's checkpoint signature too (a string or a file)
    #[arg(long, env = "CUSTODY_VKEY", value_name = "VKEY")]
    pub(super) vkey: Option<String>,
}

#[derive(Args, Debug, Clone, Copy)]
pub(super) struct JsonArg {
    /// Print machine-readable JSON instead of text
    #[arg(long)]
    pub(super) json: bool,
}

/// How a list query prints: text, JSON, or CSV for a spreadsheet.
#[derive(Args, Debug, Clone, Copy)]
pub(super) struct ListOutputArg {
    /// Print machine-readable JSON instead of text
    #[arg(long)]
    pub(super) json: bool,
    /// Print the list as CSV (RFC 4180: a header, then one row per entry) for a spreadsheet
    #[arg(long, conflicts_with = "json")]
    pub(super) csv: bool,
}

/// Where queries read from, opened.
pub(super) enum Source {
    Local(Ledger),
    Remote(Box<Remote>),
}

impl Source {
    pub(super) fn reads(&self) -> &dyn Reads {
        match self {
            Self::Local(l) => l,
            Self::Remote(r) => r.as_ref(),
        }
    }

    pub(super) fn log(&self) -> &dyn LogReads {
        match self {
            Self::Local(l) => l,
            Self::Remote(r) => r.as_ref(),
        }
    }
}

/// Where the log's public reads (the checkpoint, proofs) come from: the ledger, or a server
/// asked without a signature.
pub(super) fn public_source(place: &PlaceArg, clock: &Arc<dyn Clock>) -> Result<Source, Failure> {
    match &place.server {
        Some(url) => Ok(Source::Remote(Box::new(remote(
            url,
            None,
            place.ca_cert.as_deref(),
            clock,
        )?))),
        None => Ok(Source::Local(open(place.ledger()?)?)),
    }
}

/// A server when `--server` is given (it wins over CUSTODY_LEDGER), else the local ledger.
pub(super) fn source(src: &SourceArg, clock: &Arc<dyn Clock>) -> Result<Source, Failure> {
    match &src.place.server {
        Some(url) => {
            let key = src
                .read_key
                .as_deref()
                .ok_or_else(|| Failure::usage(msg("err.cli.server_read_needs_key")))?;
            let key = Some(read_key(key)?);
            let remote = remote(url, key, src.place.ca_cert.as_deref(), clock)?;
            Ok(Source::Remote(Box::new(remote)))
        }
        None => Ok(Source::Local(open(src.place.ledger()?)?)),
    }
}
