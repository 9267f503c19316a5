//! The officer's client, an edge beside the CLI: submits envelopes signed on this device to a
//! `custody serve` server, signs read requests (RFC 9421) with the officer's key, implements
//! `Reads` over HTTP, and keeps an outbox of signed envelopes for when the server cannot be
//! reached. Keys never leave the device: only envelopes and request signatures are sent. Holds no
//! business rules (the server decides), and never reports a statement as recorded without the
//! server's receipt.

use crate::app::bundle::Cut;
use crate::app::casefile::{AuditReport, Scope};
use crate::app::ledger::InclusionProofView;
use crate::app::ledger::ReceiptView;
use crate::app::log::{ConsistencyView, LogReads, Writes};
use crate::app::queries::{Incident, Pending};
use crate::app::reads::{History, Holder, OfficerView, PersonEvents, ReadError, Reads};
use crate::base::class::{Class, Classify, Reported};
use crate::base::ids::ItemId;
use crate::base::time::{Clock, Timestamp};
use crate::base::words::{Explain, Message, msg};
use crate::domain::custody::{ItemState, Status};
use crate::edge::server::routes::{self, segment};
use crate::format::httpsig::{self, RequestParts};
use crate::keys::signing::SecretKey;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// A whole request to the server (connect, send, answer) may take 60 s: a statement waits for a
/// group commit of milliseconds, but a bundle or an audit of a long history takes longer.
pub const REQUEST_TIMEOUT_S: u64 = 60;
/// Answers larger than 256 MiB are refused: the largest (an item's bundle) is far smaller.
pub const RESPONSE_BYTES_MAX: u64 = 256 * 1024 * 1024;

/// Why a request to the server failed. `reason` fields hold the library's or the system's own
/// words; every sentence of custody's is a catalogue message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientError {
    Unreachable {
        url: String,
        reason: String,
    },
    /// The TLS handshake failed: the server did not prove it is the one named (an unknown CA, a
    /// wrong name). Waiting will not fix it, so nothing is queued.
    Untrusted {
        url: String,
        reason: String,
    },
    /// The server refused: its message in both languages as it said them (`Message::said`), or
    /// the same words in both from a server that sent only English.
    Refused {
        status: u16,
        code: String,
        message: Message,
        field: Option<String>,
    },
    /// What in the answer is not as expected.
    Protocol(Message),
    /// The server's URL or the CA certificate given is not usable.
    Setup(Message),
    Outbox {
        path: String,
        reason: Message,
    },
    /// The operating system gave no random bytes for a request's nonce (`KeyError`'s message).
    Randomness(Message),
}

crate::english_display!(ClientError);

impl Explain for ClientError {
    fn explain(&self) -> Message {
        match self {
            Self::Unreachable { url, reason } => msg("err.client.unreachable")
                .arg("url", url)
                .arg("reason", reason),
            Self::Untrusted { url, reason } => msg("err.client.untrusted")
                .arg("url", url)
                .arg("reason", reason),
            Self::Refused {
                status,
                message,
                field,
                ..
            } => match field {
                Some(field) => msg("err.client.refused_field")
                    .part("message", message.clone())
                    .arg("status", status)
                    .arg("field", field),
                None => msg("err.client.refused")
                    .part("message", message.clone())
                    .arg("status", status),
            },
            Self::Protocol(what) => msg("err.client.protocol").part("reason", what.clone()),
            Self::Setup(why) => why.clone(),
            Self::Outbox { path, reason } => msg("err.client.outbox")
                .arg("path", path)
                .part("reason", reason.clone()),
            Self::Randomness(reason) => msg("err.client.randomness").part("reason", reason.clone()),
        }
    }
}

impl ClientError {
    /// True when the server was not reached at all (the statement may go to the outbox).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Unreachable { .. })
    }
}

impl Classify for ClientError {
    fn class(&self) -> Class {
        match self {
            Self::Unreachable { .. } => Class::Unavailable,
            Self::Untrusted { .. } => Class::Unauthenticated,
            Self::Refused { status, code, .. } => crate::edge::status::class_of(*status, code),
            Self::Protocol(_) | Self::Outbox { .. } => Class::Corrupt,
            Self::Setup(_) => Class::Usage,
            Self::Randomness(_) => Class::Internal,
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            Self::Refused { field, .. } => field.clone(),
            Self::Setup(_) => Some("--server".into()),
            _ => None,
        }
    }
}

/// A server's refusal is a read error of the class the server gave.
impl From<ClientError> for ReadError {
    fn from(e: ClientError) -> Self {
        Self::Reported(crate::base::class::Reported::of(&e))
    }
}

/// A custody server, as one officer's device sees it.
pub struct Remote {
    base: String,
    authority: String,
    agent: ureq::Agent,
    key: Option<SecretKey>,
    clock: Arc<dyn Clock>,
}

impl Remote {
    /// `url` is the server's base, e.g. `http://127.0.0.1:8080` or `https://custody.example`.
    /// `key` signs read requests; `ca_cert` (PEM) is trusted in addition to the public roots,
    /// for a server with a certificate of the agency's own CA.
    pub fn new(
        url: &str,
        key: Option<SecretKey>,
        ca_cert: Option<&Path>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ClientError> {
        let base = url.trim_end_matches('/').to_owned();
        let setup = |key| ClientError::Setup(msg(key).quoted("url", url));
        let (scheme, rest) = base
            .split_once("://")
            .ok_or_else(|| setup("err.client.not_a_url"))?;
        if scheme != "http" && scheme != "https" {
            return Err(setup("err.client.scheme"));
        }
        if rest.contains('/') || rest.is_empty() {
            return Err(setup("err.client.url_path"));
        }
        let default_port = if scheme == "https" { ":443" } else { ":80" };
        let authority = rest
            .strip_suffix(default_port)
            .unwrap_or(rest)
            .to_ascii_lowercase();
        let mut tls = ureq::tls::TlsConfig::builder();
        if let Some(path) = ca_cert {
            // The flag, the path and the system's or the PEM parser's words: none of them ours.
            let unreadable = |e: &dyn std::fmt::Display| {
                ClientError::Setup(Message::verbatim(format!(
                    "--ca-cert {}: {e}",
                    path.display()
                )))
            };
            let pem = std::fs::read(path).map_err(|e| unreadable(&e))?;
            let certs = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(Ok(c)),
                    Ok(_) => None,
                    Err(e) => Some(Err(e)),
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| unreadable(&e))?;
            if certs.is_empty() {
                return Err(ClientError::Setup(
                    msg("err.client.no_certificate").arg("path", path.display()),
                ));
            }
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(REQUEST_TIMEOUT_S)))
            .tls_config(tls.build())
            .build()
            .into();
        Ok(Self {
            base,
            authority,
            agent,
            key,
            clock,
        })
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    fn unreachable(&self, e: &ureq::Error) -> ClientError {
        let (url, reason) = (self.base.clone(), e.to_string());
        let tls_io = match e {
            ureq::Error::Io(io) => io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some()),
            _ => false,
        };
        match e {
            ureq::Error::Rustls(_) | ureq::Error::Tls(_) => ClientError::Untrusted { url, reason },
            _ if tls_io => ClientError::Untrusted { url, reason },
            _ => ClientError::Unreachable { url, reason },
        }
    }

    fn finish(
        &self,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<(u16, Vec<u8>), ClientError> {
        let mut response = result.map_err(|e| self.unreachable(&e))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(RESPONSE_BYTES_MAX)
            .read_to_vec()
            .map_err(|e| self.unreachable(&e))?;
        if status >= 400 {
            let error: Option<Value> = serde_json::from_slice(&body).ok();
            let e = error.as_ref().and_then(|v| v.get("error"));
            let text = |k: &str| {
                e.and_then(|e| e.get(k))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            // Both languages as the server said them; an older server (or a proxy) says one.
            let said = |lang: &str| {
                e.and_then(|e| e.get("messages"))
                    .and_then(|m| m.get(lang))
                    .and_then(Value::as_str)
            };
            let message = match (said("id"), said("en")) {
                (Some(id), Some(en)) => Message::said(id, en),
                _ => Message::verbatim(
                    text("message")
                        .unwrap_or_else(|| String::from_utf8_lossy(&body).trim().to_owned()),
                ),
            };
            return Err(ClientError::Refused {
                status,
                code: text("code").unwrap_or_else(|| "http".into()),
                message,
                field: text("field"),
            });
        }
        Ok((status, body))
    }

    /// Submits a signed envelope; answers the status (201 new, 200 already recorded) and receipt.
    pub fn submit(&self, envelope: &[u8]) -> Result<(u16, ReceiptView), ClientError> {
        let url = format!("{}{}", self.base, routes::STATEMENTS);
        let result = self
            .agent
            .post(&url)
            .header("content-type", "application/json")
            .send(envelope);
        let (status, body) = self.finish(result)?;
        let receipt: ReceiptView = serde_json::from_slice(&body)
            .map_err(|e| ClientError::Protocol(msg("err.client.receipt").arg("error", e)))?;
        Ok((status, receipt))
    }

    /// Sends a signed request to the server's subject register as `officer` (signed with `key`):
    /// recording a person (`POST /v1/subjects`: `subject`, `commitment`, `person`, `new`) or
    /// finding one (`POST /v1/subjects/lookup`: `subject`).
    pub fn ask_register(
        &self,
        ask: &crate::app::subjects::Ask,
        officer: &crate::base::ids::OfficerId,
        key: &crate::keys::signing::SecretKey,
    ) -> Result<serde_json::Value, ClientError> {
        use crate::app::subjects::Ask;
        use crate::edge::server::routes;
        let body = crate::app::subjects::signed_request(ask, officer, key, self.clock.now());
        let route = match ask {
            Ask::Record(_) | Ask::Enroll { .. } => routes::SUBJECTS,
            Ask::Lookup(_) => routes::SUBJECT_LOOKUP,
        };
        self.post_register(route, &body)
    }

    /// POSTs a signed register request (`app::subjects::signed_request`) to `route`.
    fn post_register(&self, route: &str, body: &[u8]) -> Result<serde_json::Value, ClientError> {
        let result = self
            .agent
            .post(&format!("{}{route}", self.base))
            .header("content-type", "application/json")
            .send(body);
        let (_, answer) = self.finish(result)?;
        serde_json::from_slice(&answer).map_err(|e| register_answer(&e))
    }

    /// A person's data from the server's register (`GET /v1/subjects/{id}`, a signed read).
    pub fn show_subject(
        &self,
        id: &crate::format::subject::SubjectId,
    ) -> Result<serde_json::Value, ClientError> {
        let body = self.get_signed(&crate::edge::server::routes::subject(&id.to_string()))?;
        serde_json::from_slice(&body).map_err(|e| register_answer(&e))
    }

    /// GETs a public path (checkpoint, proofs, tiles).
    pub fn get_public(&self, path_and_query: &str) -> Result<Vec<u8>, ClientError> {
        let url = format!("{}{path_and_query}", self.base);
        let result = self.agent.get(&url).call();
        Ok(self.finish(result)?.1)
    }

    /// GETs a path with a request signed by the officer's key.
    pub fn get_signed(&self, path_and_query: &str) -> Result<Vec<u8>, ClientError> {
        let key = self
            .key
            .as_ref()
            .ok_or_else(|| ClientError::Setup(msg("err.client.needs_key")))?;
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path_and_query, None),
        };
        let parts = RequestParts {
            method: "GET",
            authority: &self.authority,
            path,
            query,
            headers: vec![],
        };
        let created = self.clock.now().unix_ms().div_euclid(1000);
        let nonce = new_nonce()?;
        let (input, signature) = httpsig::sign_with_nonce(key, &parts, created, Some(&nonce));
        let url = format!("{}{path_and_query}", self.base);
        let result = self
            .agent
            .get(&url)
            .header("signature-input", &input)
            .header("signature", &signature)
            .call();
        Ok(self.finish(result)?.1)
    }

    fn get_json<T: DeserializeOwned>(&self, path_and_query: &str) -> Result<T, ReadError> {
        parse_answer(path_and_query, &self.get_signed(path_and_query)?)
    }
}

/// An answer of the subject register that does not parse (serde's words).
fn register_answer(e: &serde_json::Error) -> ClientError {
    ClientError::Protocol(msg("err.client.register_answer").arg("error", e))
}

/// Random bytes in each signed read's nonce: 16, as docs/FORMAT.md §13b.2 asks at least, so that
/// two requests never share one.
pub const NONCE_BYTES: usize = 16;

/// A fresh nonce for one signed read: `NONCE_BYTES` from the operating system, base64url without
/// padding (22 characters). The server answers a request only once per nonce.
fn new_nonce() -> Result<String, ClientError> {
    use base64::Engine as _;
    let mut bytes = [0u8; NONCE_BYTES];
    crate::keys::signing::fill_random(&mut bytes)
        .map_err(|e| ClientError::Randomness(e.explain()))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// A server's JSON answer as `T`; one that does not parse is an answer that does not hold.
fn parse_answer<T: DeserializeOwned>(path: &str, body: &[u8]) -> Result<T, ReadError> {
    serde_json::from_slice(body).map_err(|e| {
        ReadError::Reported(Reported::of(&ClientError::Protocol(
            msg("err.client.answer").arg("path", path).arg("error", e),
        )))
    })
}

impl LogReads for Remote {
    fn checkpoint_note(&self, size: Option<u64>) -> Result<String, ReadError> {
        let body = self.get_public(&routes::checkpoint(size))?;
        String::from_utf8(body).map_err(|_| {
            ReadError::Reported(Reported::of(&ClientError::Protocol(msg(
                "err.client.checkpoint_utf8",
            ))))
        })
    }

    fn inclusion(&self, seq: u64, size: Option<u64>) -> Result<InclusionProofView, ReadError> {
        let path = routes::inclusion(seq, size);
        parse_answer(&path, &self.get_public(&path)?)
    }

    fn consistency(&self, old: u64, new: Option<u64>) -> Result<ConsistencyView, ReadError> {
        let path = routes::consistency(old, new);
        parse_answer(&path, &self.get_public(&path)?)
    }

    fn entry(&self, seq: u64) -> Result<Vec<u8>, ReadError> {
        Ok(self.get_signed(&routes::entry(seq))?)
    }
}

impl Writes for Remote {
    fn submit(&self, envelope: &[u8]) -> Result<ReceiptView, Reported> {
        Remote::submit(self, envelope)
            .map(|(_, receipt)| receipt)
            .map_err(|e| Reported::of(&e))
    }
}

impl Reads for Remote {
    fn items(
        &self,
        status: Option<Status>,
        facility: Option<&str>,
    ) -> Result<Vec<ItemState>, ReadError> {
        let mut query = Vec::new();
        if let Some(s) = status {
            query.push(format!("status={}", s.as_str()));
        }
        if let Some(f) = facility {
            query.push(format!("facility={}", segment(f)));
        }
        let q = if query.is_empty() {
            String::new()
        } else {
            format!("?{}", query.join("&"))
        };
        self.get_json(&format!("{}{q}", routes::ITEMS))
    }

    fn item(&self, id: &ItemId) -> Result<ItemState, ReadError> {
        self.get_json(&routes::item(id.as_str()))
    }

    fn history(&self, id: &ItemId) -> Result<History, ReadError> {
        self.get_json(&routes::item_history(id.as_str()))
    }

    fn holdings(&self, who: &Holder) -> Result<Vec<ItemState>, ReadError> {
        match who {
            Holder::Officer(o) => self.get_json(&routes::officer_holdings(o.as_str())),
            Holder::Unit(u) => self.get_json(&routes::unit_holdings(u)),
        }
    }

    fn pending(&self) -> Result<Vec<Pending>, ReadError> {
        self.get_json(routes::PENDING)
    }

    fn incident(&self, id: &str) -> Result<Incident, ReadError> {
        self.get_json(&routes::incident(id))
    }

    fn person(&self, id: &str) -> Result<PersonEvents, ReadError> {
        self.get_json(&routes::person(id))
    }

    fn facilities(&self) -> Result<BTreeMap<String, Value>, ReadError> {
        self.get_json(routes::FACILITIES)
    }

    fn officers(&self) -> Result<Vec<OfficerView>, ReadError> {
        self.get_json(routes::OFFICERS)
    }

    fn audit(&self, scope: &Scope, as_of: Timestamp) -> Result<AuditReport, ReadError> {
        let path = match scope {
            Scope::Item(id) => routes::item_audit(id.as_str()),
            Scope::Incident(id) => routes::incident_audit(id),
            Scope::All => {
                return Err(ReadError::BadRequest {
                    field: "--all".into(),
                    message: msg("err.client.audit_all"),
                });
            }
        };
        self.get_json(&format!("{path}?as_of={}", segment(&as_of.to_canonical())))
    }

    fn bundle(&self, cut: &Cut, size: Option<u64>) -> Result<Vec<u8>, ReadError> {
        let path = match cut {
            Cut::Item(id) => routes::item_bundle(id.as_str(), size),
            Cut::Incident(id) => routes::incident_bundle(id, size),
        };
        Ok(self.get_signed(&path)?)
    }
}

// ---- the outbox ----

/// Signed envelopes waiting for a server, one file each, submitted in the order they were put.
/// A file is complete and fsync'd before `put` returns, so a queued statement survives a crash
/// of the device; after submission it moves to `sent/` (with the receipt) or `rejected/` (with
/// the reason), so nothing is ever silently dropped.
pub struct Outbox {
    dir: PathBuf,
}

/// What happened to one queued envelope during a sync.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SyncResult {
    pub file: String,
    pub outcome: String,
    pub seq: Option<u64>,
    /// What the server said or the device found, in the terminal's language
    /// (`edge::terminal_lang`).
    pub message: Option<String>,
}

/// `message` in the terminal's language, as a sync line shows it.
fn terminal(message: &Message) -> String {
    message.render(crate::edge::terminal_lang())
}

/// Cached item heads this device last saw (from receipts and reads), for `--fill-after` offline.
const HEADS_FILE: &str = "heads.json";
/// Persons recorded offline, waiting to be registered on the server (one signed request each,
/// named by the subject id the device minted); synced before the statements that name them.
const SUBJECTS_DIR: &str = "subjects";

impl Outbox {
    pub fn open(dir: &Path) -> Result<Self, ClientError> {
        for d in [dir.to_path_buf(), dir.join("sent"), dir.join("rejected")] {
            std::fs::create_dir_all(&d).map_err(|e| ClientError::Outbox {
                path: d.display().to_string(),
                reason: Message::verbatim(e.to_string()),
            })?;
        }
        // Persons recorded offline wait here with their personal data: the device's owner alone
        // may read it.
        let subjects = dir.join(SUBJECTS_DIR);
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&subjects)
            .and_then(|()| {
                std::fs::set_permissions(&subjects, std::fs::Permissions::from_mode(0o700))
            })
            .map_err(|e| ClientError::Outbox {
                path: subjects.display().to_string(),
                reason: Message::verbatim(e.to_string()),
            })?;
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    /// A file of the outbox that could not be read or written: the system's words.
    fn err(&self, path: &Path, e: impl std::fmt::Display) -> ClientError {
        self.fault(path, Message::verbatim(e.to_string()))
    }

    fn fault(&self, path: &Path, reason: Message) -> ClientError {
        ClientError::Outbox {
            path: path.display().to_string(),
            reason,
        }
    }

    /// Writes a file durably: a temporary file, fsync, rename, fsync of the directory.
    fn write_durable(&self, path: &Path, bytes: &[u8]) -> Result<(), ClientError> {
        let tmp = path.with_extension("tmp");
        let mut f = std::fs::File::create(&tmp).map_err(|e| self.err(&tmp, e))?;
        f.write_all(bytes)
            .and_then(|()| f.sync_all())
            .map_err(|e| self.err(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| self.err(path, e))?;
        if let Some(parent) = path.parent() {
            std::fs::File::open(parent)
                .and_then(|d| d.sync_all())
                .map_err(|e| self.err(parent, e))?;
        }
        Ok(())
    }

    /// Queues a signed envelope; the name orders files by the time they were queued.
    pub fn put(
        &self,
        envelope: &[u8],
        statement_id: &str,
        now: Timestamp,
    ) -> Result<PathBuf, ClientError> {
        // Time first, then the count already queued: the names sort in the order of `put`.
        let queued = self.queued()?.len();
        let name = format!(
            "{:013}-{queued:06}-{statement_id}.json",
            now.unix_ms().max(0)
        );
        let path = self.dir.join(name);
        self.write_durable(&path, envelope)?;
        Ok(path)
    }

    /// Keeps the signed request that registers a person recorded offline (`mint_offline`), until
    /// `sync` sends it.
    pub fn put_subject(
        &self,
        subject: &crate::format::subject::SubjectId,
        request: &[u8],
    ) -> Result<PathBuf, ClientError> {
        let path = self.dir.join(SUBJECTS_DIR).join(format!("{subject}.json"));
        self.write_durable(&path, request)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| self.err(&path, e))?;
        Ok(path)
    }

    /// Registers the persons recorded offline, oldest first: each request sent is removed (the
    /// person's data leaves the device); one the server cannot take now stays, and stops the sync
    /// (the statements naming them wait too).
    fn sync_subjects(
        &self,
        remote: &Remote,
        results: &mut Vec<SyncResult>,
        report: &mut dyn FnMut(&SyncResult),
    ) -> Result<bool, ClientError> {
        let dir = self.dir.join(SUBJECTS_DIR);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| self.err(&dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        for path in files {
            let file = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let bytes = std::fs::read(&path).map_err(|e| self.err(&path, e))?;
            let (outcome, message, done) = match remote.post_register(routes::SUBJECTS, &bytes) {
                Ok(answer) => {
                    let same: Vec<&str> = answer["same_as"]
                        .as_array()
                        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
                        .unwrap_or_default();
                    let message = (!same.is_empty()).then(|| {
                        terminal(&msg("cli.sync.same_person").arg("ids", same.join(", ")))
                    });
                    ("subject_registered", message, true)
                }
                Err(e) if e.class().try_again_later() => {
                    ("queued", Some(terminal(&e.explain())), false)
                }
                Err(e) => ("rejected", Some(terminal(&e.explain())), true),
            };
            let r = SyncResult {
                file,
                outcome: outcome.into(),
                seq: None,
                message,
            };
            report(&r);
            results.push(r);
            if !done {
                return Ok(false);
            }
            if outcome == "rejected" {
                // Kept, with the reason, for the officer to correct: never dropped silently.
                let dest = self
                    .dir
                    .join("rejected")
                    .join(path.file_name().unwrap_or_default());
                std::fs::rename(&path, &dest).map_err(|e| self.err(&dest, e))?;
            } else {
                std::fs::remove_file(&path).map_err(|e| self.err(&path, e))?;
            }
        }
        Ok(true)
    }

    /// Queued envelopes, oldest first.
    pub fn queued(&self) -> Result<Vec<PathBuf>, ClientError> {
        let mut out: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map_err(|e| self.err(&self.dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && p.extension().is_some_and(|x| x == "json")
                    && p.file_name().is_some_and(|n| n != HEADS_FILE)
            })
            .collect();
        out.sort();
        Ok(out)
    }

    fn settle(&self, path: &Path, to: &str, note: &Value) -> Result<(), ClientError> {
        let name = path
            .file_name()
            .ok_or_else(|| self.fault(path, msg("err.client.no_file_name")))?;
        let dest = self.dir.join(to).join(name);
        std::fs::rename(path, &dest).map_err(|e| self.err(&dest, e))?;
        let note_path = dest.with_extension("result.json");
        let bytes = serde_json::to_vec_pretty(note).expect("a JSON value serializes");
        self.write_durable(&note_path, &bytes)
    }

    /// Submits every queued envelope in order. Stops at the first one the server cannot be
    /// reached for (it stays queued, with everything after it); a refused one moves to
    /// `rejected/` with the server's reason and the sync goes on.
    pub fn sync(
        &self,
        remote: &Remote,
        report: &mut dyn FnMut(&SyncResult),
    ) -> Result<Vec<SyncResult>, ClientError> {
        let mut results = Vec::new();
        if !self.sync_subjects(remote, &mut results, report)? {
            return Ok(results);
        }
        for path in self.queued()? {
            let file = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let bytes = std::fs::read(&path).map_err(|e| self.err(&path, e))?;
            let result = match remote.submit(&bytes) {
                Ok((status, receipt)) => {
                    self.remember(&bytes, &receipt)?;
                    self.settle(
                        &path,
                        "sent",
                        &serde_json::to_value(&receipt).expect("a receipt serializes"),
                    )?;
                    SyncResult {
                        file,
                        outcome: if status == 201 {
                            "recorded"
                        } else {
                            "already_recorded"
                        }
                        .into(),
                        seq: Some(receipt.seq),
                        message: None,
                    }
                }
                // A refusal settles the envelope in rejected/; "not now" (unreachable, opening,
                // overloaded, timed out) keeps it queued for the next sync.
                Err(e @ ClientError::Refused { .. }) if !e.class().try_again_later() => {
                    let why = e.explain();
                    self.settle(
                        &path,
                        "rejected",
                        &serde_json::json!({
                            "error": why.english(),
                            "messages": {"id": why.indonesian(), "en": why.english()},
                        }),
                    )?;
                    SyncResult {
                        file,
                        outcome: "rejected".into(),
                        seq: None,
                        message: Some(terminal(&why)),
                    }
                }
                Err(e) => {
                    let r = SyncResult {
                        file,
                        outcome: "unreachable".into(),
                        seq: None,
                        message: Some(terminal(&e.explain())),
                    };
                    report(&r);
                    results.push(r);
                    break;
                }
            };
            report(&result);
            results.push(result);
        }
        Ok(results)
    }

    /// The item heads this device last saw.
    pub fn heads(&self) -> BTreeMap<String, String> {
        std::fs::read(self.dir.join(HEADS_FILE))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// After a receipt, the statement's items have the receipt's leaf as their head.
    pub fn remember(&self, envelope: &[u8], receipt: &ReceiptView) -> Result<(), ClientError> {
        let Ok(env) = crate::format::envelope::Envelope::parse(envelope) else {
            return Ok(());
        };
        let Ok(statement) = crate::format::statement::Statement::parse(env.payload()) else {
            return Ok(());
        };
        let mut heads = self.heads();
        for (id, _) in statement.body.items() {
            heads.insert(id.as_str().to_owned(), receipt.leaf_hash.clone());
        }
        let bytes = serde_json::to_vec_pretty(&heads).expect("a map of strings serializes");
        self.write_durable(&self.dir.join(HEADS_FILE), &bytes)
    }
}

/// The demo's acts go through the server like any officer's statements.
impl crate::app::demo::DemoTarget for Remote {
    fn append(
        &self,
        envelope: crate::format::envelope::Envelope,
    ) -> Result<u64, crate::app::compose::BuildError> {
        let bytes = envelope.to_json_pretty().into_bytes();
        self.submit(&bytes)
            .map(|(_, receipt)| receipt.seq)
            .map_err(|e| crate::app::compose::BuildError::Target {
                class: e.class(),
                message: e.explain(),
            })
    }

    fn head(&self, item: &ItemId) -> Result<String, crate::app::compose::BuildError> {
        self.item(item)
            .map(|s| s.head)
            .map_err(|e| crate::app::compose::BuildError::Target {
                class: e.class(),
                message: e.explain(),
            })
    }

    fn subject(
        &self,
        fields: crate::format::subject::PersonalFields,
        officer: &crate::base::ids::OfficerId,
        key: &crate::keys::signing::SecretKey,
    ) -> Result<serde_json::Value, crate::app::compose::BuildError> {
        let ask = crate::app::subjects::Ask::Record(fields);
        let answer = self.ask_register(&ask, officer, key).map_err(|e| {
            crate::app::compose::BuildError::Target {
                class: e.class(),
                message: e.explain(),
            }
        })?;
        Ok(answer["person"].clone())
    }
}
