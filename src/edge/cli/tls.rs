//! `custody tls init`: makes a facility's local CA and the server certificate for `custody serve`
//! (`app::tls`), then says in the terminal's language how to start the server with them and how
//! to install the CA on Android and iOS phones. It must never decide what a certificate says (that
//! is `keys::tls`'s) nor write a file itself.

use super::args::JsonArg;
use super::common::{Outcome, show};
use crate::app::tls::{self, Written};
use crate::base::time::Clock;
use crate::edge::render::said;
use crate::keys::tls::Request;
use clap::{Args, Subcommand};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Subcommand, Debug)]
pub(super) enum TlsCommand {
    /// Make a local CA for the facility and a server certificate it signs, for `custody serve` over HTTPS that phones trust
    Init(InitArgs),
}

#[derive(Args, Debug)]
pub(super) struct InitArgs {
    /// A folder for ca.pem, ca-key.pem, server.pem and server-key.pem (created if missing; existing files are never overwritten)
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// A DNS name phones use to reach the server (repeatable); the CA may vouch for nothing else
    #[arg(long = "name", value_name = "NAME")]
    names: Vec<String>,
    /// An IP address phones use to reach the server (repeatable); the CA may vouch for nothing else
    #[arg(long = "ip", value_name = "IP")]
    ips: Vec<IpAddr>,
    /// Who the CA belongs to, shown on the phone as "custody local CA <FACILITY>" (default: the first --name or --ip)
    #[arg(long, value_name = "FACILITY")]
    facility: Option<String>,
    #[command(flatten)]
    json: JsonArg,
}

/// `custody tls …`.
pub(super) fn run(c: TlsCommand, clock: &Arc<dyn Clock>) -> Outcome {
    match c {
        TlsCommand::Init(a) => init(a, clock),
    }
}

fn init(a: InitArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let facility = a.facility.clone().unwrap_or_else(|| {
        a.names
            .first()
            .cloned()
            .or_else(|| a.ips.first().map(ToString::to_string))
            .unwrap_or_default()
    });
    let request = Request {
        facility,
        names: a.names,
        ips: a.ips,
    };
    let written = tls::init(&a.out, &request, clock.now())?;
    show(a.json.json, &written, || print_init(&written))
}

/// What was written, then how to serve with it and how to install the CA on phones.
fn print_init(w: &Written) {
    out!("{}", said("cli.tls.ca", &[("file", &w.ca_cert.display())]));
    out!("  SHA-256 {}", w.ca_sha256);
    out!(
        "{}",
        said("cli.tls.ca_key", &[("file", &w.ca_key.display())])
    );
    let cert = said("cli.tls.server_cert", &[("file", &w.server_cert.display())]);
    out!("{cert}");
    out!("  SHA-256 {}", w.server_sha256);
    let key = said("cli.tls.server_key", &[("file", &w.server_key.display())]);
    out!("{key}");
    out!();
    out!("{}", said("cli.tls.start", &[]));
    out!(
        "  custody serve --ledger LEDGER --listen 0.0.0.0:8443 --tls-cert {} --tls-key {}",
        w.server_cert.display(),
        w.server_key.display()
    );
    out!();
    out!("{}", said("cli.tls.android", &[]));
    out!("{}", said("cli.tls.ios", &[]));
    out!("{}", said("cli.tls.check", &[]));
}
