//! The HTTP edge (`custody serve`): axum on tokio, TLS through rustls. Routes writes to the ledger
//! (authorized by the envelope's own signatures), reads to `reads` after `access` has
//! authenticated the signed request and scoped it, and serves the public tlog-tiles read path.
//! Maps every failure to an HTTP status here and nowhere else (`ApiError`). Holds no business
//! rules, and never blocks a tokio worker on the disk: appends (parsing, signature checks, the
//! wait for the sequencer's group commit) and every sled read run on the blocking pool, so no
//! request holds a lock around a flush. Only a read request's one signature check (~40 µs) runs
//! on the worker.

use crate::app::bundle::Cut;
use crate::app::casefile::Scope;
use crate::app::drafts::Drafts;
use crate::app::enrollment_requests::EnrollmentRequests;
use crate::app::export::{self, TileRef};
use crate::app::ledger::Ledger;
use crate::app::log::{LogReads, Writes};
use crate::app::names::Names;
use crate::app::queries::{self, Pending};
use crate::app::reads::{Holder, ReadError, Reads};
use crate::app::subjects;
use crate::base::class::{Class, Classify};
use crate::base::ids::{ItemId, OfficerId};
use crate::base::metrics::Page;
use crate::base::time::{Clock, SystemClock, Timestamp};
use crate::base::words::{Explain, Message, msg};
use crate::domain::access::{self, AuthError, Reader, Unverified};
use crate::domain::custody::{ItemState, Status};
use crate::edge::labels;
use crate::edge::nonces::{self, Nonces};
use crate::format::httpsig::{self, Presented, RequestParts};
use axum::Router;
use axum::extract::{FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A request body may not exceed the largest envelope the ledger accepts.
pub const REQUEST_BODY_BYTES_MAX: usize = crate::base::limits::ENVELOPE_BYTES_MAX;
/// Requests in service at once: enough for every terminal of a large facility; beyond it the
/// server answers 503 at once instead of queueing without bound.
pub const CONCURRENT_REQUESTS_MAX: usize = 512;
/// A request (body upload included) must finish within 30 s: a slow or stalled client cannot
/// hold a slot for longer.
pub const REQUEST_TIMEOUT_MS: u64 = 30_000;
/// On SIGINT/SIGTERM, in-flight requests get this long to finish before connections are closed.
pub const SHUTDOWN_GRACE_MS: u64 = 30_000;
/// Open connections at once. Each costs a file descriptor and a few KiB; beyond the bound a new
/// connection is closed as soon as it is accepted, so thousands of idle sockets cannot exhaust
/// the process (its descriptor limit here is 20,000).
pub const CONNECTIONS_MAX: usize = 4096;
/// A client must send a request's whole header within 10 s, and a connection may sit silent (new,
/// or kept alive after a response) for at most as long: neither a client trickling bytes nor one
/// sending none can hold a connection.
pub const HEADER_READ_TIMEOUT_MS: u64 = 10_000;

/// Where and how to listen, and the bounds on each request.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    pub tls: Option<TlsFiles>,
    /// Requests in service at once; more are answered 503 (default `CONCURRENT_REQUESTS_MAX`).
    pub concurrency_max: usize,
    /// Time for a whole request, upload included; beyond it 408 (default `REQUEST_TIMEOUT_MS`).
    pub request_timeout_ms: u64,
    /// Open connections at once; more are closed on accept (default `CONNECTIONS_MAX`).
    pub connections_max: usize,
    /// Time to receive a request's header; beyond it the connection is closed (default
    /// `HEADER_READ_TIMEOUT_MS`).
    pub header_timeout_ms: u64,
    /// The names (`host[:port]`, lower-case) clients address the server by; a signed read
    /// signed for any other `@authority` is refused. Empty: the defaults of `PublicNames::new`.
    pub public_names: Vec<String>,
}

impl ServeConfig {
    /// Loopback or not, with the default bounds.
    pub fn new(listen: SocketAddr, tls: Option<TlsFiles>) -> Self {
        Self {
            listen,
            tls,
            concurrency_max: CONCURRENT_REQUESTS_MAX,
            request_timeout_ms: REQUEST_TIMEOUT_MS,
            connections_max: CONNECTIONS_MAX,
            header_timeout_ms: HEADER_READ_TIMEOUT_MS,
            public_names: Vec::new(),
        }
    }
}

/// The names a signed read may be addressed to: its `@authority` (the `Host` it was sent with)
/// must be one of them, so that a request signed for another server is not answered here.
/// Compared case-insensitively, with the default port of the scheme this server speaks (443
/// with TLS, 80 without) dropped from both sides: `custody.example` and `custody.example:443`
/// are one name to a TLS server. Any other port must be given.
#[derive(Debug, Clone)]
struct PublicNames {
    names: Vec<String>,
    tls: bool,
}

impl PublicNames {
    /// The configured names; when none are given, the bound address as `IP:PORT` and
    /// `localhost:PORT` (an address bound to every interface, `0.0.0.0` or `::`, is replaced by
    /// its loopback address: no client sends `Host: 0.0.0.0`).
    fn new(config: &ServeConfig, bound: SocketAddr) -> Self {
        let tls = config.tls.is_some();
        let names = if config.public_names.is_empty() {
            default_public_names(bound)
        } else {
            config.public_names.clone()
        };
        Self {
            names: names.iter().map(|n| normal_authority(n, tls)).collect(),
            tls,
        }
    }

    fn admits(&self, authority: &str) -> bool {
        let authority = normal_authority(authority, self.tls);
        self.names.contains(&authority)
    }
}

/// The default public names of a server bound to `bound` (see `PublicNames::new`).
pub fn default_public_names(bound: SocketAddr) -> Vec<String> {
    let port = bound.port();
    let mut names = match bound.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => vec![format!("127.0.0.1:{port}")],
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => {
            vec![format!("[::1]:{port}"), format!("127.0.0.1:{port}")]
        }
        _ => vec![bound.to_string()],
    };
    names.push(format!("localhost:{port}"));
    names
}

/// `authority` lower-cased, without the default port of the server's scheme.
fn normal_authority(authority: &str, tls: bool) -> String {
    let lower = authority.trim().to_ascii_lowercase();
    let default_port = if tls { ":443" } else { ":80" };
    match lower.strip_suffix(default_port) {
        Some(host) => host.to_owned(),
        None => lower,
    }
}

/// Parses a `--public-name`: `HOST[:PORT]` as a client writes it in its URL (a DNS name, an IPv4
/// address, or an IPv6 address in brackets), lower-cased.
pub fn parse_public_name(text: &str) -> Result<String, PublicNameError> {
    let name = text.trim().to_ascii_lowercase();
    let (host, port) = match name.rsplit_once(':') {
        Some((h, p)) if !h.starts_with('[') || h.ends_with(']') => (h, Some(p)),
        _ => (name.as_str(), None),
    };
    let host_ok = if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        inner.parse::<std::net::Ipv6Addr>().is_ok()
    } else {
        !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    };
    if !host_ok || port.is_some_and(|p| p.parse::<u16>().is_err()) {
        return Err(PublicNameError {
            given: crate::base::class::echo(text),
        });
    }
    Ok(name)
}

/// A `--public-name` that is not `HOST[:PORT]`: the text given (its start, when long).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicNameError {
    given: String,
}

crate::english_display!(PublicNameError);

impl Explain for PublicNameError {
    fn explain(&self) -> Message {
        msg("err.http.public_name").quoted("given", &self.given)
    }
}

/// A certificate chain and its private key, both PEM.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Why the server could not start or stopped.
#[derive(Debug)]
pub enum ServeError {
    NotLoopback(SocketAddr),
    /// The certificate or key would not load: the file and rustls's words, or why they do not fit.
    Tls(Message),
    Bind {
        addr: SocketAddr,
        reason: String,
    },
    /// The runtime failed (tokio's or hyper's own words), or a thread of the server panicked.
    Runtime(Message),
}

crate::english_display!(ServeError);

impl Explain for ServeError {
    fn explain(&self) -> Message {
        match self {
            Self::NotLoopback(addr) => msg("err.http.not_loopback").arg("addr", addr),
            Self::Tls(reason) => msg("err.http.tls").part("reason", reason.clone()),
            Self::Bind { addr, reason } => {
                msg("err.http.bind").arg("addr", addr).arg("reason", reason)
            }
            Self::Runtime(reason) => reason.clone(),
        }
    }
}

/// Counts of the HTTP edge, for `/metrics`.
#[derive(Debug, Default)]
struct HttpStats {
    responses: Mutex<BTreeMap<u16, u64>>,
    rejections: Mutex<BTreeMap<&'static str, u64>>,
}

struct App {
    ledger: Arc<Ledger>,
    /// Statements being co-signed, beside the log (`app::drafts`).
    drafts: Drafts,
    /// New officers' requests to be enrolled, beside the log (`app::enrollment_requests`).
    enrollments: EnrollmentRequests,
    clock: Arc<dyn Clock>,
    public_names: PublicNames,
    nonces: Nonces,
    stats: HttpStats,
    concurrency_max: usize,
    request_timeout_ms: u64,
    /// Blob uploads in service (`BLOB_UPLOADS_MAX`): each holds its body in memory.
    uploads: tokio::sync::Semaphore,
}

type Shared = Arc<App>;

/// An error as every client sees it: `{"error": {"code", "title", "message", "messages": {"id",
/// "en"}, "field"?}}`, `message` being the English of `messages`. The class decides the status
/// and the code (`edge::status::of`, `Class::code`); the message names the field and the rule.
#[derive(Debug)]
pub struct ApiError {
    class: Class,
    message: Message,
    field: Option<String>,
}

/// The error code of a response, for the request log and the rejection counters.
#[derive(Debug, Clone, Copy)]
struct ErrorCode(&'static str);

impl ApiError {
    fn new(class: Class, message: impl Into<Message>) -> Self {
        Self {
            class,
            message: message.into(),
            field: None,
        }
    }

    fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    fn not_found(message: impl Into<Message>) -> Self {
        Self::new(Class::NotFound, message)
    }

    fn forbidden(message: impl Into<Message>) -> Self {
        Self::new(Class::Forbidden, message)
    }

    fn bad_request(field: &str, message: impl Into<Message>) -> Self {
        Self::new(Class::Usage, message).field(field)
    }

    fn status(&self) -> StatusCode {
        StatusCode::from_u16(crate::edge::status::of(self.class))
            .expect("every status in edge::status is a valid HTTP status")
    }
}

/// Every classified error answers with its class, its message and its field.
impl<E: Classify> From<E> for ApiError {
    fn from(e: E) -> Self {
        Self {
            class: e.class(),
            field: e.field().filter(|f| !f.is_empty()),
            message: e.explain(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let code = self.class.code();
        let english = self.message.english();
        let mut error = json!({
            "code": code,
            "title": crate::edge::web::class_title(self.class),
            "message": english,
            "messages": {"id": self.message.indonesian(), "en": english},
        });
        if let Some(f) = self.field {
            error["field"] = json!(f);
        }
        let mut response = (status, axum::Json(json!({ "error": error }))).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_S));
        }
        if status == StatusCode::UNAUTHORIZED {
            // RFC 9421 §5.1: tell the client what to sign.
            response.headers_mut().insert(
                "accept-signature",
                HeaderValue::from_static(
                    "custody=(\"@method\" \"@authority\" \"@path\" \"@query\");alg=\"ed25519\"",
                ),
            );
        }
        response.extensions_mut().insert(ErrorCode(code));
        response
    }
}

type ApiResult = Result<Response, ApiError>;

fn json_response(status: StatusCode, value: &impl serde::Serialize) -> Response {
    (status, axum::Json(value)).into_response()
}

/// Runs blocking ledger work (sled reads, signature checks, waiting for a group commit) on the
/// blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        ApiError::new(
            Class::Internal,
            msg("err.http.worker_failed").arg("error", e),
        )
    })?
}

// ---- authentication of reads ----

/// A read request signed by an enrolled, unrevoked officer (RFC 9421), for one of the server's
/// public names, with a nonce (when it carries one) not seen before.
struct Signed(Reader);

impl FromRequestParts<Shared> for Signed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Shared) -> Result<Self, ApiError> {
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let authority = header("host")
            .map(str::to_owned)
            .or_else(|| parts.uri.authority().map(|a| a.to_string()))
            .unwrap_or_default();
        let headers: Vec<(&str, &str)> = parts
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)))
            .collect();
        let request = RequestParts {
            method: parts.method.as_str(),
            authority: &authority,
            path: parts.uri.path(),
            query: parts.uri.query(),
            headers,
        };
        let presented =
            Presented::from_request(&request, header("signature-input"), header("signature"))
                .map_err(AuthError::from)?;
        if !app.public_names.admits(&authority) {
            return Err(not_verified(Unverified::Authority, &presented));
        }
        let now = app.clock.now().unix_ms().div_euclid(1000);
        let reader =
            access::authenticate(&app.ledger.state(), &presented, now).map_err(|e| match e {
                AuthError::NotVerified(why) => not_verified(why, &presented),
                other => ApiError::from(other),
            })?;
        if let Some(nonce) = &presented.input.nonce {
            let created = presented.input.created.unwrap_or(i64::MIN);
            app.nonces
                .check(&presented.keyid, nonce, created, now)
                .map_err(|refusal| nonce_refusal(refusal, &presented))?;
        }
        if let Some(slot) = parts.extensions.get::<ReaderSlot>() {
            *lock(&slot.0) = Some(reader.officer().clone());
        }
        Ok(Signed(reader))
    }
}

/// The one answer to a signed read that was not verified (`httpsig::NOT_VERIFIED`), whatever
/// `why`; the reason goes to the server's log only.
fn not_verified(why: Unverified, presented: &Presented) -> ApiError {
    tracing::info!(
        target: "custody::http",
        reason = ?why,
        keyid = %crate::base::class::echo(&presented.keyid),
        "signed read not verified"
    );
    ApiError::from(AuthError::NotVerified(why))
}

/// A nonce the cache would not take: a replay, or one it cannot vouch for, is not verified; a
/// full cache (or a key at its share) is "try again later", never an unchecked answer.
fn nonce_refusal(refusal: nonces::Refusal, presented: &Presented) -> ApiError {
    use crate::base::limits::{NONCE_CACHE_ENTRIES_MAX, NONCES_PER_KEY_MAX};
    match refusal {
        nonces::Refusal::Replayed => not_verified(Unverified::Replayed, presented),
        nonces::Refusal::BeforeStart => not_verified(Unverified::BeforeStart, presented),
        nonces::Refusal::Full => ApiError::new(
            Class::Unavailable,
            msg("err.http.nonces_full").arg("max", NONCE_CACHE_ENTRIES_MAX),
        ),
        nonces::Refusal::KeyFull => ApiError::new(
            Class::Unavailable,
            msg("err.http.key_nonces_full")
                .arg("max", NONCES_PER_KEY_MAX)
                .arg("seconds", httpsig::READ_SIGNATURE_AGE_S_MAX),
        ),
    }
}

/// Where the authenticated officer of a request is noted for the request log.
#[derive(Debug, Clone, Default)]
struct ReaderSlot(Arc<Mutex<Option<OfficerId>>>);

fn parse_item(id: &str) -> Result<ItemId, ApiError> {
    ItemId::parse(id).map_err(|e| {
        ApiError::bad_request("id", msg("err.http.item_id").part("error", e.explain()))
    })
}

/// Reads one item; to a reader outside its scope it does not exist (the same answer, byte for
/// byte, as for an item not on record).
fn scoped_item(ledger: &Ledger, reader: &Reader, id: &ItemId) -> Result<ItemState, ApiError> {
    let item = ledger.item(id)?;
    if !reader.may_read_item(&item, &ledger.state()) {
        return Err(ReadError::no_item(id).into());
    }
    Ok(item)
}

fn event_facility(event: &Value) -> &str {
    event.get("facility").and_then(Value::as_str).unwrap_or("")
}

// ---- handlers: writes ----

/// True when the body is declared `application/json` (parameters such as `charset` allowed).
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// The JSON body of a POST, at most `REQUEST_BODY_BYTES_MAX` bytes: `what`, a catalogue key
/// (`err.http.what.*`), names it in the refusals.
async fn json_body(request: Request, what: &'static str) -> Result<axum::body::Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            Class::TooLarge,
            msg("err.http.body_too_large")
                .arg("max", REQUEST_BODY_BYTES_MAX)
                .part("what", msg(what)),
        )
    };
    if !is_json(request.headers()) {
        return Err(ApiError::new(
            Class::UnsupportedMedia,
            msg("err.http.not_json").part("what", msg(what)),
        )
        .field("content-type"));
    }
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > REQUEST_BODY_BYTES_MAX as u64) {
        return Err(too_large());
    }
    let body = axum::body::to_bytes(request.into_body(), REQUEST_BODY_BYTES_MAX)
        .await
        .map_err(|e| {
            if e.into_inner().is::<http_body_util::LengthLimitError>() {
                too_large()
            } else {
                ApiError::new(Class::Malformed, msg("err.http.body_incomplete"))
            }
        })?;
    Ok(body)
}

async fn post_statement(State(app): State<Shared>, request: Request) -> ApiResult {
    let body = json_body(request, "err.http.what.statement").await?;
    let ledger = Arc::clone(&app.ledger);
    let view = blocking(move || Ok(Writes::submit(&*ledger, &body)?)).await?;
    let status = if view.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(json_response(status, &view))
}

/// The subject register for officers (`app::subjects`, docs/PRIVACY.md): the body is a request
/// signed by the officer's key, so personal data and identifiers never travel in a URL. Recording
/// answers the person's subject id and a commitment for the statement (201 new, 200 known);
/// a lookup answers the subject id.
async fn post_subject(State(app): State<Shared>, request: Request) -> ApiResult {
    let body = json_body(request, "err.http.what.subject_request").await?;
    let ledger = Arc::clone(&app.ledger);
    let (status, view) = blocking(move || {
        let now = ledger.now();
        let (asker, ask) = subjects::open_request(&ledger.state(), &body, now)?;
        let register = ledger.subjects()?;
        Ok(match ask {
            subjects::Ask::Record(fields) => {
                let recorded = register.record(fields, &asker, now)?;
                let status = if recorded.new {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                };
                (status, subjects::recorded_view(&recorded))
            }
            subjects::Ask::Enroll {
                subject,
                salt,
                fields,
            } => {
                let same_as = register.enroll_offline(subject, salt, fields, &asker, now)?;
                (
                    StatusCode::CREATED,
                    serde_json::json!({"subject": subject, "same_as": same_as}),
                )
            }
            subjects::Ask::Lookup(identifier) => match register.lookup(&identifier, &asker, now)? {
                Some(subject) => (StatusCode::OK, serde_json::json!({"subject": subject})),
                None => {
                    return Err(ApiError::not_found(msg("err.http.no_subject")));
                }
            },
        })
    })
    .await?;
    Ok(json_response(status, &view))
}

/// A person's data (`GET /v1/subjects/{id}`), for a signed reader whose role may read it; the
/// read is in the register's access log before it is answered.
async fn get_subject(
    State(app): State<Shared>,
    Signed(reader): Signed,
    Path(id): Path<String>,
) -> ApiResult {
    let id: crate::format::subject::SubjectId = id
        .parse()
        .map_err(|e: crate::format::subject::SubjectError| ApiError::from(e))?;
    let ledger = Arc::clone(&app.ledger);
    let view = blocking(move || {
        let roles = ledger
            .state()
            .officer(reader.officer())
            .map(|o| o.record.roles.clone())
            .unwrap_or_default();
        let asker = subjects::Asker::authenticated(reader.officer().clone(), roles);
        let shown = ledger.subjects()?.show(&id, &asker, ledger.now())?;
        Ok(serde_json::json!({"subject": shown.subject, "fields": shown.fields, "salts": shown.salts.len()}))
    })
    .await?;
    Ok(json_response(StatusCode::OK, &view))
}

// ---- handlers: drafts and enrollment requests (beside the log, never in it) ----

/// `POST /v1/drafts`: an envelope with at least one signature by a named signer; 201 with the
/// draft view when new, 200 when its signatures were merged into the draft of the same id.
async fn post_draft(State(app): State<Shared>, request: Request) -> ApiResult {
    let body = json_body(request, "err.http.what.draft").await?;
    let shared = Arc::clone(&app);
    let (new, view) = blocking(move || Ok(shared.drafts.post(&shared.ledger, &body)?)).await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json_response(status, &view))
}

async fn get_drafts(State(app): State<Shared>, Signed(reader): Signed) -> ApiResult {
    let shared = Arc::clone(&app);
    let list = blocking(move || Ok(shared.drafts.list(&shared.ledger, reader.officer())?)).await?;
    Ok(json_response(StatusCode::OK, &list))
}

async fn get_draft(
    State(app): State<Shared>,
    Signed(reader): Signed,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let shared = Arc::clone(&app);
    let view =
        blocking(move || Ok(shared.drafts.get(&shared.ledger, &id, reader.officer())?)).await?;
    Ok(json_response(StatusCode::OK, &view))
}

async fn delete_draft(
    State(app): State<Shared>,
    Signed(reader): Signed,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let shared = Arc::clone(&app);
    let id = blocking(move || Ok(shared.drafts.discard(&id, reader.officer())?)).await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"id": id, "discarded": true}),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignatureBody {
    keyid: String,
    sig: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeclineBody {
    reason: String,
}

/// A small JSON body of a draft route, refused with the field and the shape it must have.
fn small_body<T: serde::de::DeserializeOwned>(body: &[u8], shape: &str) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            Class::Malformed,
            msg("err.http.body_shape")
                .arg("shape", shape)
                .part("problem", crate::format::statement::json_fault(&e)),
        )
        .field("body")
    })
}

/// `POST /v1/drafts/{id}/signatures`: `{keyid, sig}`, a named signer's signature over PAE of the
/// draft's payload.
async fn post_draft_signature(
    State(app): State<Shared>,
    ApiPath(id): ApiPath<String>,
    request: Request,
) -> ApiResult {
    let body = json_body(request, "err.http.what.signature").await?;
    let sig: SignatureBody = small_body(&body, "{\"keyid\": …, \"sig\": base64}")?;
    let shared = Arc::clone(&app);
    let view = blocking(move || {
        Ok(shared
            .drafts
            .sign(&shared.ledger, &id, &sig.keyid, &sig.sig)?)
    })
    .await?;
    Ok(json_response(StatusCode::OK, &view))
}

/// `POST /v1/drafts/{id}/decline`: signed by the declining signer; `{reason}`.
async fn post_draft_decline(
    State(app): State<Shared>,
    Signed(reader): Signed,
    ApiPath(id): ApiPath<String>,
    request: Request,
) -> ApiResult {
    let body = json_body(request, "err.http.what.decline").await?;
    let decline: DeclineBody = small_body(&body, "{\"reason\": …}")?;
    let shared = Arc::clone(&app);
    let view = blocking(move || {
        let at = shared.ledger.now();
        Ok(shared
            .drafts
            .decline(&shared.ledger, &id, reader.officer(), &decline.reason, at)?)
    })
    .await?;
    Ok(json_response(StatusCode::OK, &view))
}

/// `POST /v1/drafts/{id}/submit`: records the complete draft as `POST /v1/statements` would
/// (the same `Writes::submit`), answers its receipt and removes the draft.
async fn post_draft_submit(State(app): State<Shared>, ApiPath(id): ApiPath<String>) -> ApiResult {
    let shared = Arc::clone(&app);
    let view = blocking(move || Ok(shared.drafts.submit(&shared.ledger, &id)?)).await?;
    let status = if view.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(json_response(status, &view))
}

/// `POST /v1/enrollment-requests`: unauthenticated (the officer has no enrolled key yet); the
/// proof of possession stands for the signature. Answers the request's code.
async fn post_enrollment_request(State(app): State<Shared>, request: Request) -> ApiResult {
    let body = json_body(request, "err.http.what.enrollment_request").await?;
    let shared = Arc::clone(&app);
    let code = blocking(move || {
        let now = shared.ledger.now();
        Ok(shared
            .enrollments
            .post(&shared.ledger.state(), &body, now)?)
    })
    .await?;
    Ok(json_response(StatusCode::CREATED, &json!({"code": code})))
}

async fn get_enrollment_requests(State(app): State<Shared>, Signed(reader): Signed) -> ApiResult {
    let shared = Arc::clone(&app);
    let list = blocking(move || {
        Ok(shared
            .enrollments
            .list(&shared.ledger.state(), reader.officer())?)
    })
    .await?;
    Ok(json_response(StatusCode::OK, &list))
}

async fn get_enrollment_request(
    State(app): State<Shared>,
    Signed(reader): Signed,
    ApiPath(code): ApiPath<String>,
) -> ApiResult {
    let shared = Arc::clone(&app);
    let view = blocking(move || {
        Ok(shared
            .enrollments
            .get(&shared.ledger.state(), reader.officer(), &code)?)
    })
    .await?;
    Ok(json_response(StatusCode::OK, &view))
}

async fn delete_enrollment_request(
    State(app): State<Shared>,
    Signed(reader): Signed,
    ApiPath(code): ApiPath<String>,
) -> ApiResult {
    let shared = Arc::clone(&app);
    let code = blocking(move || {
        Ok(shared
            .enrollments
            .reject(&shared.ledger.state(), reader.officer(), &code)?)
    })
    .await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"code": code, "rejected": true}),
    ))
}

// ---- handlers: the public log ----

#[derive(Debug, Deserialize)]
struct CheckpointQuery {
    size: Option<u64>,
}

async fn get_checkpoint(
    State(app): State<Shared>,
    ApiQuery(q): ApiQuery<CheckpointQuery>,
) -> ApiResult {
    let ledger = Arc::clone(&app.ledger);
    let note = blocking(move || Ok(ledger.checkpoint_note(q.size)?)).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        note,
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
struct InclusionQuery {
    seq: Option<u64>,
    size: Option<u64>,
}

async fn get_inclusion(
    State(app): State<Shared>,
    ApiQuery(q): ApiQuery<InclusionQuery>,
) -> ApiResult {
    let seq = q
        .seq
        .ok_or_else(|| ApiError::bad_request("seq", msg("err.http.give_seq")))?;
    let ledger = Arc::clone(&app.ledger);
    let view = blocking(move || Ok(LogReads::inclusion(&*ledger, seq, q.size)?)).await?;
    Ok(json_response(StatusCode::OK, &view))
}

#[derive(Debug, Deserialize)]
struct ConsistencyQuery {
    old: Option<u64>,
    new: Option<u64>,
}

async fn get_consistency(
    State(app): State<Shared>,
    ApiQuery(q): ApiQuery<ConsistencyQuery>,
) -> ApiResult {
    let old = q
        .old
        .ok_or_else(|| ApiError::bad_request("old", msg("err.http.give_old")))?;
    let ledger = Arc::clone(&app.ledger);
    let view = blocking(move || Ok(LogReads::consistency(&*ledger, old, q.new)?)).await?;
    Ok(json_response(StatusCode::OK, &view))
}

/// Hash tiles are public (hashes reveal nothing); entry bundles hold the statements, so only a
/// reader of every facility (auditor, prosecutor: a mirror's operator) may fetch them.
async fn get_tile(
    State(app): State<Shared>,
    ApiPath(rest): ApiPath<String>,
    request: Request,
) -> ApiResult {
    let tile: TileRef = export::parse_tile_path(&rest)
        .ok_or_else(|| ApiError::not_found(msg("err.http.not_a_tile").arg("tile", &rest)))?;
    if tile.level.is_none() {
        let (mut parts, _) = request.into_parts();
        let Signed(reader) = Signed::from_request_parts(&mut parts, &app).await?;
        if !reader.reads_all() {
            return Err(ApiError::forbidden(refusal(
                &app.ledger,
                &reader,
                msg("err.http.what.entry_bundle"),
            )));
        }
    }
    let ledger = Arc::clone(&app.ledger);
    let bytes = blocking(move || {
        let size = ledger.checkpoint().size;
        export::tile_bytes(ledger.store(), size, tile).map_err(ApiError::from)
    })
    .await?
    .ok_or_else(|| ApiError::not_found(msg("err.http.tile_beyond").arg("tile", &rest)))?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response())
}

async fn get_entry(
    State(app): State<Shared>,
    Signed(reader): Signed,
    ApiPath(seq): ApiPath<u64>,
) -> ApiResult {
    if !reader.reads_all() {
        return Err(ApiError::forbidden(refusal(
            &app.ledger,
            &reader,
            msg("err.http.what.raw_entry"),
        )));
    }
    let ledger = Arc::clone(&app.ledger);
    let bytes = blocking(move || Ok(LogReads::entry(&*ledger, seq)?)).await?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response())
}

// ---- handlers: custody reads (signed, scoped) ----

#[derive(Debug, Deserialize)]
struct ItemsQuery {
    status: Option<String>,
    facility: Option<String>,
}

async fn get_items(
    State(app): State<Shared>,
    Signed(reader): Signed,
    ApiQuery(q): ApiQuery<ItemsQuery>,
) -> ApiResult {
    let status = q
        .status
        .map(|s| {
            Status::parse(&s).ok_or_else(|| {
                ApiError::bad_request("status", msg("err.http.status").quoted("status", &s))
            })
        })
        .transpose()?;
    let ledger = Arc::clone(&app.ledger);
    let list = blocking(move || Ok(ledger.items(status, q.facility.as_deref())?)).await?;
    let identity = app.ledger.state();
    let visible: Vec<ItemState> = list
        .into_iter()
        .filter(|i| reader.may_read_item(i, &identity))
        .collect();
    named_response(&app, &reader, &visible)
}

#[derive(Debug, Deserialize)]
struct DeadlinesQuery {
    facility: Option<String>,
    as_of: Option<String>,
}

/// The statutory clocks running for the items the reader may read that are not yet closed (held
/// or in transit), soonest due first (docs/FORMAT.md §13b.2).
async fn get_deadlines(
    State(app): State<Shared>,
    Signed(reader): Signed,
    ApiQuery(q): ApiQuery<DeadlinesQuery>,
) -> ApiResult {
    let as_of = AuditQuery { as_of: q.as_of }.as_of(app.clock.as_ref())?;
    let ledger = Arc::clone(&app.ledger);
    let identity = app.ledger.state();
    let list = blocking(move || {
        let items = ledger.items(None, q.facility.as_deref())?;
        let open: Vec<ItemId> = items
            .into_iter()
            .filter(|i| matches!(i.status, Status::Held | Status::InTransit))
            .filter(|i| reader.may_read_item(i, &identity))
            .map(|i| i.id)
            .collect();
        Ok(crate::app::reads::deadlines(&*ledger, &open, as_of)?)
    })
    .await?;
    Ok(json_response(StatusCode::OK, &list))
}

/// The names of the officers `reader` may see on the roster (`/v1/officers`, so the same the
/// CLI reads through `--server`).
fn roster_names(app: &Shared, reader: &Reader) -> Result<Names, ApiError> {
    let mut list = app.ledger.officers()?;
    list.retain(|o| reader.may_read_officer(&o.facility, &o.unit));
    Ok(crate::app::reads::roster_names(&list))
}

/// `200` with an item view's JSON and, beside each officer id, the officer's name as `reader`
/// may see it (`holder_name`, `from_officer_name`, `to_officer_name`; docs/FORMAT.md §13b.2).
fn named_response(
    app: &Shared,
    reader: &Reader,
    value: &impl serde::Serialize,
) -> Result<Response, ApiError> {
    let names = roster_names(app, reader)?;
    Ok(json_response(StatusCode::OK, &names.json(value)))
}

/// Reads something of one item, on the blocking pool, after checking the reader may see it.
async fn item_read<T: Send + 'static>(
    app: &Shared,
    reader: Reader,
    id: &str,
    read: impl FnOnce(&Ledger, ItemState) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let id = parse_item(id)?;
    let ledger = Arc::clone(&app.ledger);
    blocking(move || {
        let item = scoped_item(&ledger, &reader, &id)?;
        read(&ledger, item)
    })
    .await
}

async fn get_item(
    State(app): State<Shared>,
    Signed(reader): Signed,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let names = roster_names(&app, &reader)?;
    let item = item_read(&app, reader, &id, |_, item| Ok(item)).await?;
    Ok(json_response(StatusCode::OK, &names.json(&item)))
}

async fn get_history(
    State(app): State<Shared>,
    Signed(reader): Signed,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let names = roster_names(&app, &reader)?;
    let history = item_read(&app, reader, &id, |l, item| {
        Ok(crate::edge::uraian::with_uraian(l, &l.history(&item.id)?))
    })
    .await?;
    Ok(json_response(StatusCode::OK, &names.json(&history)))
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    as_of: Option<String>,
}

impl AuditQuery {
    /// `?as_of=` (RFC 3339 UTC), or now.
    fn as_of(&self, clock: &dyn Clock) -> Result<Timestamp, ApiError> {
        match &self.as_of {
            Some(t) => Timestamp::parse(t)
                .map_err(|e| ApiError::bad_request("as_of", e.explain().after("as_of"))),
            None => Ok(clock.now()),
        }
    }
}

async fn get_audit(
    State(app): State<Shared>,
    Signed(reader): Signed,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult {
    let as_of = q.as_of(app.clock.as_ref())?;
    let report = item_read(&app, reader, &id, move |l, item| {
        Ok(l.audit(&Scope::Item(item.id), as_of)?)
    })
    .await?;
    Ok(json_response(StatusCode::OK, &report))
}

#[derive(Debug, Deserialize)]
struct BundleQuery {
    /// The checkpoint's size (default: the latest).
    size: Option<u64>,
}

async fn get_bundle(
    State(app): State<Shared>,
    Signed(reader): Signed,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<BundleQuery>,
) -> ApiResult {
    let bytes = item_read(&app, reader, &id, move |l, item| {
        Ok(l.bundle(&Cut::Item(item.id), q.size)?)
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], bytes).into_response())
}

/// The case bundle: every item of the incident, for a reader who may read them all.
async fn get_incident_bundle(
    State(app): State<Shared>,
    Signed(reader): Signed,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<BundleQuery>,
) -> ApiResult {
    let ledger = Arc::clone(&app.ledger);
    let bytes = blocking(move || {
        whole_incident(&ledger, &reader, &id, "err.http.what.the_bundle")?;
        Ok(ledger.bundle(&Cut::Incident(id), q.size)?)
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], bytes).into_response())
}

/// Refuses a reader who may not read every item of incident `id`: one who sees none of them is
/// told it does not exist, one who sees some is refused without naming what they cannot see.
/// `what`, a catalogue key, names the answer refused (`err.http.what.the_audit`).
fn whole_incident(
    ledger: &Ledger,
    reader: &Reader,
    id: &str,
    what: &'static str,
) -> Result<(), ApiError> {
    let view = ledger.incident(id)?;
    let identity = ledger.state();
    if !view
        .items
        .iter()
        .any(|i| reader.may_read_item(i, &identity))
    {
        return Err(ReadError::no_incident(id).into());
    }
    if view
        .items
        .iter()
        .any(|i| !reader.may_read_item(i, &identity))
    {
        // The reader sees part of the incident, so it exists for them; what they cannot see
        // (which item, which facility) is not named.
        let what = msg("err.http.what.incident_in_part")
            .part("what", msg(what))
            .arg("incident", id);
        return Err(ApiError::forbidden(refusal(ledger, reader, what)));
    }
    Ok(())
}

/// Why `reader` may not have `what`, naming their scope as `Reader::refusal` does, in the
/// catalogue's words: the facility is the one the officer is enrolled at, which scoped the read.
fn refusal(ledger: &Ledger, reader: &Reader, what: Message) -> Message {
    if reader.reads_all() {
        return msg("err.http.unreadable").part("what", what);
    }
    let facility = ledger
        .state()
        .officer(reader.officer())
        .map(|o| o.facility.to_string())
        .unwrap_or_default();
    msg("err.http.out_of_scope")
        .arg("officer", reader.officer())
        .arg("facility", facility)
        .part("what", what)
}

async fn get_incident(
    State(app): State<Shared>,
    Signed(reader): Signed,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let ledger = Arc::clone(&app.ledger);
    let mut view = blocking(move || Ok(ledger.incident(&id)?)).await?;
    let all_events = view.events.len();
    view.events
        .retain(|e| reader.may_read_facility(event_facility(e)));
    let identity = app.ledger.state();
    view.items.retain(|i| reader.may_read_item(i, &identity));
    if view.events.is_empty() && view.items.is_empty() {
        return Err(ReadError::no_incident(&view.incident).into());
    }
    if view.events.len() < all_events {
        // Persons are named by events this reader cannot see.
        view.persons.clear();
    }
    let ledger = Arc::clone(&app.ledger);
    let view = blocking(move || Ok(crate::edge::uraian::with_uraian(&ledger, &view))).await?;
    named_response(&app, &reader, &view)
}

async fn get_incident_audit(
    State(app): State<Shared>,
    Signed(reader): Signed,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult {
    let as_of = q.as_of(app.clock.as_ref())?;
    let ledger = Arc::clone(&app.ledger);
    let report = blocking(move || {
        whole_incident(&ledger, &reader, &id, "err.http.what.the_audit")?;
        Ok(ledger.audit(&Scope::Incident(id), as_of)?)
    })
    .await?;
    Ok(json_response(StatusCode::OK, &report))
}

async fn get_person(
    State(app): State<Shared>,
    Signed(reader): Signed,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let ledger = Arc::clone(&app.ledger);
    let mut view = blocking(move || Ok(ledger.person(&id)?)).await?;
    view.events
        .retain(|e| reader.may_read_facility(event_facility(e)));
    if view.events.is_empty() {
        return Err(ReadError::no_person(&view.person).into());
    }
    let ledger = Arc::clone(&app.ledger);
    let view = blocking(move || Ok(crate::edge::uraian::with_uraian(&ledger, &view))).await?;
    named_response(&app, &reader, &view)
}

async fn get_holdings(
    State(app): State<Shared>,
    Signed(reader): Signed,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let officer = OfficerId::parse(&id).map_err(|e| {
        ApiError::bad_request("id", msg("err.http.officer_id").part("error", e.explain()))
    })?;
    holdings(app, reader, Holder::Officer(officer)).await
}

async fn get_unit_holdings(
    State(app): State<Shared>,
    Signed(reader): Signed,
    ApiPath(unit): ApiPath<String>,
) -> ApiResult {
    holdings(app, reader, Holder::Unit(unit)).await
}

async fn holdings(app: Shared, reader: Reader, who: Holder) -> ApiResult {
    let ledger = Arc::clone(&app.ledger);
    let list = blocking(move || Ok(ledger.holdings(&who)?)).await?;
    let identity = app.ledger.state();
    let visible: Vec<ItemState> = list
        .into_iter()
        .filter(|i| reader.may_read_item(i, &identity))
        .collect();
    named_response(&app, &reader, &visible)
}

async fn get_pending(State(app): State<Shared>, Signed(reader): Signed) -> ApiResult {
    let names = roster_names(&app, &reader)?;
    let ledger = Arc::clone(&app.ledger);
    // The pending entries carry their items' states: scoping them reads no item.
    let list = blocking(move || {
        let identity = ledger.state();
        Ok(queries::in_transit(ledger.store())?
            .into_iter()
            .filter(|i| reader.may_read_item(i, &identity))
            .filter_map(Pending::of)
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(json_response(StatusCode::OK, &names.json(&list)))
}

async fn get_facilities(State(app): State<Shared>, Signed(reader): Signed) -> ApiResult {
    let ledger = Arc::clone(&app.ledger);
    let mut map = blocking(move || Ok(ledger.facilities()?)).await?;
    map.retain(|f, _| reader.may_read_facility(f));
    Ok(json_response(StatusCode::OK, &map))
}

/// The roster, scoped like every other list: an officer sees the officers of their facility and
/// unit; administrators, auditors and prosecutors see all.
async fn get_officers(State(app): State<Shared>, Signed(reader): Signed) -> ApiResult {
    let mut list = app.ledger.officers()?;
    list.retain(|o| reader.may_read_officer(&o.facility, &o.unit));
    Ok(json_response(StatusCode::OK, &list))
}

// ---- handlers: labels and blobs ----

/// Headers of an answer built from statements' text (labels) or stored bytes (blobs): never
/// cached (the reader's scope decided it), never sniffed into another type, and run without
/// scripts or network if a browser opens it as a document.
fn untrusted_response(
    content_type: &str,
    policy: &'static str,
    body: impl IntoResponse,
) -> Result<Response, ApiError> {
    let content_type = HeaderValue::from_str(content_type)
        .map_err(|_| ApiError::new(Class::Internal, msg("err.http.content_type")))?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(policy),
            ),
        ],
        body,
    )
        .into_response())
}

/// A label or a sheet: inline styles only, nothing loaded, nothing run.
const LABEL_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'";

/// The zones of the registered facilities, for the dates on labels.
fn facility_zones(ledger: &Ledger) -> Result<crate::edge::render::Zones, ApiError> {
    Ok(crate::edge::render::Zones::of_facilities(
        &ledger.facilities()?,
    ))
}

/// An item's label: its id, description, facility and the date it was created.
fn item_label(item: &ItemState, zones: &crate::edge::render::Zones) -> labels::Label {
    labels::Label::Item {
        id: item.id.to_string(),
        description: item.description.clone(),
        facility: item.facility.clone(),
        date: labels::local_date(item.born_at, zones.at(&item.facility)),
    }
}

/// A seal's label: the seal, its item, and where and when `act` applied it.
fn seal_label(
    seal: &str,
    item: &ItemId,
    act: &crate::format::statement::Statement,
    zones: &crate::edge::render::Zones,
) -> labels::Label {
    let facility = act.facility.as_str();
    labels::Label::Seal {
        seal: seal.to_owned(),
        item: item.to_string(),
        facility: facility.to_owned(),
        date: labels::local_date(act.occurred_at, zones.at(facility)),
    }
}

/// `GET /v1/items/{id}/label.svg`: the item's label, to a reader who may read the item.
/// `GET /v1/items/{id}/attachments`: what the item's history names by digest, for a reader of
/// the item (who may then read each blob).
async fn get_item_attachments(
    State(app): State<Shared>,
    Signed(reader): Signed,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let list = item_read(&app, reader, &id, |l, item| Ok(l.attachments_of(&item.id)?)).await?;
    Ok(json_response(StatusCode::OK, &list))
}

async fn get_item_label(
    State(app): State<Shared>,
    Signed(reader): Signed,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let svg = item_read(&app, reader, &id, |l, item| {
        Ok(item_label(&item, &facility_zones(l)?).svg()?)
    })
    .await?;
    untrusted_response("image/svg+xml", LABEL_POLICY, svg)
}

/// `GET /v1/seals/{seal}/label.svg`: the label of a seal, found through the seal index; a seal
/// on an item the reader may not read answers as one never applied.
async fn get_seal_label(
    State(app): State<Shared>,
    Signed(reader): Signed,
    ApiPath(seal): ApiPath<String>,
) -> ApiResult {
    let ledger = Arc::clone(&app.ledger);
    let svg = blocking(move || {
        let shown = crate::base::class::echo(&seal);
        let no_seal =
            || ApiError::not_found(msg("err.http.no_seal").arg("seal", &shown)).field("seal");
        let (item, seq) = ledger.seal_use(&seal)?.ok_or_else(no_seal)?;
        let state = ledger.item(&item).map_err(|_| no_seal())?;
        if !reader.may_read_item(&state, &ledger.state()) {
            return Err(no_seal());
        }
        let act = ledger.statement_at(seq)?;
        Ok(seal_label(&seal, &item, &act, &facility_zones(&ledger)?).svg()?)
    })
    .await?;
    untrusted_response("image/svg+xml", LABEL_POLICY, svg)
}

/// `GET /v1/entries/{seq}/labels`: the A4 sheet of every label the act at `seq` creates. An act
/// that creates none, and one whose items the reader may not read, get one 404.
async fn get_entry_labels(
    State(app): State<Shared>,
    Signed(reader): Signed,
    ApiPath(seq): ApiPath<u64>,
) -> ApiResult {
    let ledger = Arc::clone(&app.ledger);
    let html = blocking(move || {
        let none = || ApiError::not_found(msg("err.http.no_label").arg("seq", seq));
        let act = ledger.statement_at(seq)?;
        let made = labels::made_by(&act);
        if made.is_empty() {
            return Err(none());
        }
        let zones = facility_zones(&ledger)?;
        let identity = ledger.state();
        let readable = |id: &ItemId| -> Result<ItemState, ApiError> {
            let item = ledger.item(id).map_err(|_| none())?;
            if reader.may_read_item(&item, &identity) {
                Ok(item)
            } else {
                Err(none())
            }
        };
        let mut sheet = Vec::with_capacity(made.len());
        for m in &made {
            sheet.push(match m {
                labels::Made::Item(id) => item_label(&readable(id)?, &zones),
                labels::Made::Seal { seal, item } => {
                    readable(item)?;
                    seal_label(seal, item, &act, &zones)
                }
            });
        }
        let title = format!("Entri {seq} · {}", act.kind.indonesian());
        Ok(labels::sheet_html(&title, &sheet)?)
    })
    .await?;
    untrusted_response("text/html; charset=utf-8", LABEL_POLICY, html)
}

/// `PUT /v1/blobs/{digest}`: stores a photo, scan or lab report, signed by an enrolled officer
/// (RFC 9421 over the method and the path, so over the digest the body must hash to). 201 when
/// stored now, 200 when it was there; the body is `{digest, bytes, media_type, new}`.
async fn put_blob(
    State(app): State<Shared>,
    Signed(reader): Signed,
    ApiPath(digest): ApiPath<String>,
    request: Request,
) -> ApiResult {
    use crate::base::limits::{BLOB_UPLOADS_MAX, PHOTO_BYTES_MAX};
    use crate::storage::blobs::{BlobError, Digest};
    let digest = Digest::parse(&digest)?;
    let _permit = app.uploads.try_acquire().map_err(|_| {
        ApiError::new(
            Class::Unavailable,
            msg("err.http.uploads_full").arg("max", BLOB_UPLOADS_MAX),
        )
    })?;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(bytes) = declared.filter(|n| *n > PHOTO_BYTES_MAX as u64) {
        return Err(BlobError::TooLarge { bytes }.into());
    }
    let body = axum::body::to_bytes(request.into_body(), PHOTO_BYTES_MAX)
        .await
        .map_err(|e| {
            if e.into_inner().is::<http_body_util::LengthLimitError>() {
                ApiError::from(BlobError::TooLarge {
                    bytes: PHOTO_BYTES_MAX as u64 + 1,
                })
            } else {
                ApiError::new(Class::Malformed, msg("err.http.body_incomplete"))
            }
        })?;
    let ledger = Arc::clone(&app.ledger);
    let (stored, bytes, media) = blocking(move || {
        let stored = ledger.blobs().put_as(&digest, &body)?;
        let media = crate::storage::blobs::MediaType::sniff(&body).map(|m| m.as_str());
        Ok((stored, body.len(), media))
    })
    .await?;
    tracing::info!(target: "custody::http", officer = %reader.officer(), digest = %stored.digest, new = stored.new, "blob stored");
    let status = if stored.new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json_response(
        status,
        &json!({"digest": stored.digest.to_string(), "bytes": bytes, "media_type": media, "new": stored.new}),
    ))
}

/// `GET /v1/blobs/{digest}`: a blob, to a reader who may read an item whose history names it
/// (the views' blob index: one range scan, then one scope check per item). A blob no readable
/// statement names, and one named but never stored, answer 404 alike (not 403: whether it exists
/// is not told); one whose bytes no longer match its digest is 500 `corrupt`, never its bytes.
async fn get_blob(
    State(app): State<Shared>,
    Signed(reader): Signed,
    ApiPath(digest): ApiPath<String>,
) -> ApiResult {
    use crate::storage::blobs::Digest;
    let digest = Digest::parse(&digest)?;
    let ledger = Arc::clone(&app.ledger);
    let blob = blocking(move || {
        let none = || ApiError::not_found(msg("err.http.no_blob").arg("digest", digest));
        let identity = ledger.state();
        let named = ledger.items_naming(&digest)?.iter().any(|id| {
            ledger
                .item(id)
                .is_ok_and(|item| reader.may_read_item(&item, &identity))
        });
        if !named {
            return Err(none());
        }
        ledger.blobs().get(&digest)?.ok_or_else(none)
    })
    .await?;
    let media = blob
        .media
        .map_or("application/octet-stream", |m| m.as_str());
    untrusted_response(media, "sandbox", blob.bytes)
}

// ---- operations ----

async fn get_healthz(State(app): State<Shared>) -> ApiResult {
    let cp = app.ledger.checkpoint();
    if let Some(reason) = app.ledger.stopped_reason() {
        return Err(ApiError::new(Class::Unavailable, reason));
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({"status": "ok", "origin": app.ledger.origin().as_str(), "size": cp.size}),
    ))
}

/// `/metrics`: the ledger's metrics, then the HTTP layer's, as Prometheus text.
async fn get_metrics(State(app): State<Shared>) -> Response {
    let mut page = Page::default();
    ledger_metrics(&mut page, &app.ledger);
    http_metrics(&mut page, &app.stats);
    page.gauge(
        "custody_http_read_nonces",
        "Nonces of signed reads the server remembers (each until its signature expires).",
        app.nonces.remembered() as u64,
    );
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        page.finish(),
    )
        .into_response()
}

/// The ledger's metrics on the page: its counters, commit histograms and log size, in that order.
fn ledger_metrics(page: &mut Page, ledger: &Ledger) {
    let s = ledger.stats();
    page.counter(
        "custody_appends_total",
        "Statements made durable and acknowledged.",
        s.appended.get(),
    );
    page.counter(
        "custody_duplicate_submissions_total",
        "Retries answered with the original seq.",
        s.duplicates.get(),
    );
    page.counter(
        "custody_sequencer_refusals_total",
        "Statements refused inside the sequencer.",
        s.refused.get(),
    );
    page.counter(
        "custody_projection_rebuilds_total",
        "Times opening rebuilt the views from the log because they disagreed with it.",
        s.projection_rebuilds.get(),
    );
    page.counter(
        "custody_publish_failures_total",
        "Publications of the tiles and checkpoint in public/ that failed (retried at the next interval).",
        s.publish_failures.get(),
    );
    page.counter(
        "custody_journal_drop_failures_total",
        "Drops of journal segments covered by public/ that failed (the journal keeps the leaves; retried).",
        s.journal_drop_failures.get(),
    );
    page.counter(
        "custody_quarantined_files_total",
        "Files opening moved to quarantine/ (sled snapshots never committed, names sled would misread).",
        s.quarantined_files.get(),
    );
    page.histogram(
        "custody_batch_statements",
        "New statements per group commit.",
        &s.batch_statements,
    );
    page.histogram(
        "custody_commit_seconds",
        "Seconds from batch write to checkpoint on disk (flush included).",
        &s.commit_seconds,
    );
    page.histogram(
        "custody_flush_seconds",
        "Seconds of the journal append (one write and its fdatasync) within a commit.",
        &s.flush_seconds,
    );
    page.gauge(
        "custody_log_size",
        "Entries covered by the latest checkpoint.",
        ledger.checkpoint().size,
    );
}

/// The HTTP layer's metrics on the page: rejections by error code, then responses by status.
fn http_metrics(page: &mut Page, stats: &HttpStats) {
    let rejections: Vec<(String, u64)> = lock(&stats.rejections)
        .iter()
        .map(|(k, v)| ((*k).to_owned(), *v))
        .collect();
    let refs: Vec<(&str, u64)> = rejections.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    page.labelled(
        "custody_http_rejections_total",
        "Requests answered with an error, by error code.",
        "reason",
        &refs,
    );
    let responses: Vec<(String, u64)> = lock(&stats.responses)
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect();
    let refs: Vec<(&str, u64)> = responses.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    page.labelled(
        "custody_http_responses_total",
        "HTTP responses by status.",
        "status",
        &refs,
    );
}

/// The OpenAPI document, kept as a file beside the schemas and checked against the routes by a
/// test.
pub const OPENAPI_JSON: &str = include_str!("../../schemas/openapi.json");

async fn get_openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON).into_response()
}

/// `Query`, refused with the API's JSON error (axum's own refusal is plain text; found by the
/// `http_request` fuzz target).
struct ApiQuery<T>(T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| Self(q))
            .map_err(|e| query_refusal(&e.body_text()))
    }
}

/// A query string that does not parse, said without serde's words (which name Rust types): the
/// parameter when serde names it, and what every numeric parameter takes.
fn query_refusal(text: &str) -> ApiError {
    let detail = text
        .split_once("query string: ")
        .map_or("", |(_, rest)| rest);
    let field = detail
        .split_once(':')
        .map(|(f, _)| f.trim())
        .filter(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
    match field {
        Some(f) => ApiError::bad_request(f, msg("err.http.query_parameter").arg("parameter", f)),
        None => ApiError::bad_request(
            "query",
            msg("err.http.query").arg("openapi", routes::OPENAPI),
        ),
    }
}

/// `Path`, refused with the API's JSON error.
struct ApiPath<T>(T);

impl<T: serde::de::DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(p)| Self(p))
            .map_err(|_| {
                ApiError::bad_request("path", msg("err.http.path").arg("openapi", routes::OPENAPI))
            })
    }
}

async fn fallback() -> ApiError {
    ApiError::not_found(msg("err.http.no_route").arg("openapi", routes::OPENAPI))
}

/// A known route with another method (found by the `http_request` fuzz target: axum's own 405
/// has an empty body, not the error every client parses).
async fn method_not_allowed(request: Request) -> ApiError {
    ApiError::new(
        Class::MethodNotAllowed,
        msg("err.http.method")
            .arg("method", request.method())
            .arg("path", request.uri().path())
            .arg("statements", routes::STATEMENTS)
            .arg("blob", routes::BLOB)
            .arg("openapi", routes::OPENAPI),
    )
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One log line per request, and the counters by status and error code.
async fn log_requests(State(app): State<Shared>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let slot = ReaderSlot::default();
    request.extensions_mut().insert(slot.clone());
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    // HTTP/1.1 only: TLS offers no other protocol (ALPN), and the connection limits (the header
    // timeout above all) are written for HTTP/1.1, so cleartext HTTP/2 is refused too.
    let response = if request.version() == axum::http::Version::HTTP_11
        || request.version() == axum::http::Version::HTTP_10
    {
        next.run(request).await
    } else {
        ApiError::new(Class::Usage, msg("err.http.http11_only")).into_response()
    };
    let status = response.status().as_u16();
    *lock(&app.stats.responses).entry(status).or_default() += 1;
    let code = response.extensions().get::<ErrorCode>().map(|c| c.0);
    if let Some(code) = code {
        *lock(&app.stats.rejections).entry(code).or_default() += 1;
    }
    let officer = lock(&slot.0).as_ref().map(ToString::to_string);
    tracing::info!(
        target: "custody::http",
        method = %method,
        path = %path,
        status,
        ms = format!("{:.3}", started.elapsed().as_secs_f64() * 1000.0),
        error = code.unwrap_or("-"),
        officer = officer.as_deref().unwrap_or("-"),
        "request"
    );
    response
}

/// Every path the server answers, spelled once: the router, `ROUTES` (which the OpenAPI test
/// compares with `schemas/openapi.json`) and the client's request paths all come from here.
/// Patterns use axum's syntax (`{id}` one segment, `{*path}` the rest of the path); the
/// functions fill a pattern's one parameter, percent-encoded as one path segment.
pub mod routes {
    pub const STATEMENTS: &str = "/v1/statements";
    pub const SUBJECTS: &str = "/v1/subjects";
    pub const SUBJECT_LOOKUP: &str = "/v1/subjects/lookup";
    pub const SUBJECT: &str = "/v1/subjects/{id}";
    pub const CHECKPOINT: &str = "/v1/checkpoint";
    pub const ENTRY: &str = "/v1/entries/{seq}";
    /// The A4 sheet of every label the act at a seq creates (HTML).
    pub const ENTRY_LABELS: &str = "/v1/entries/{seq}/labels";
    /// An item's label (SVG, 50 × 30 mm).
    pub const ITEM_LABEL: &str = "/v1/items/{id}/label.svg";
    /// A seal's label (SVG, 50 × 30 mm).
    pub const SEAL_LABEL: &str = "/v1/seals/{seal}/label.svg";
    /// A blob (photo, scan, lab report) by its `sha256:` digest: PUT stores, GET reads.
    pub const BLOB: &str = "/v1/blobs/{digest}";
    pub const INCLUSION: &str = "/v1/proofs/inclusion";
    pub const CONSISTENCY: &str = "/v1/proofs/consistency";
    pub const ITEMS: &str = "/v1/items";
    pub const ITEM: &str = "/v1/items/{id}";
    pub const ITEM_HISTORY: &str = "/v1/items/{id}/history";
    pub const ITEM_AUDIT: &str = "/v1/items/{id}/audit";
    pub const ITEM_BUNDLE: &str = "/v1/items/{id}/bundle";
    /// The photos, media and lab reports an item's history names (`[{seq, digest}]`).
    pub const ITEM_ATTACHMENTS: &str = "/v1/items/{id}/attachments";
    pub const INCIDENT: &str = "/v1/incidents/{id}";
    pub const INCIDENT_AUDIT: &str = "/v1/incidents/{id}/audit";
    pub const INCIDENT_BUNDLE: &str = "/v1/incidents/{id}/bundle";
    pub const PERSON: &str = "/v1/persons/{id}";
    pub const OFFICERS: &str = "/v1/officers";
    pub const OFFICER_HOLDINGS: &str = "/v1/officers/{id}/holdings";
    pub const UNIT_HOLDINGS: &str = "/v1/units/{unit}/holdings";
    pub const PENDING: &str = "/v1/pending";
    pub const DEADLINES: &str = "/v1/deadlines";
    pub const FACILITIES: &str = "/v1/facilities";
    pub const OPENAPI: &str = "/v1/openapi.json";
    pub const DRAFTS: &str = "/v1/drafts";
    pub const DRAFT: &str = "/v1/drafts/{id}";
    pub const DRAFT_SIGNATURES: &str = "/v1/drafts/{id}/signatures";
    pub const DRAFT_DECLINE: &str = "/v1/drafts/{id}/decline";
    pub const DRAFT_SUBMIT: &str = "/v1/drafts/{id}/submit";
    pub const ENROLLMENT_REQUESTS: &str = "/v1/enrollment-requests";
    pub const ENROLLMENT_REQUEST: &str = "/v1/enrollment-requests/{code}";
    /// The tlog-tiles read path (public, unversioned).
    pub const TILES_CHECKPOINT: &str = "/checkpoint";
    pub const TILE: &str = "/tile/{*path}";
    pub const HEALTHZ: &str = "/healthz";
    pub const METRICS: &str = "/metrics";

    /// Percent-encodes one path segment (unit names hold spaces): every byte but ASCII
    /// letters, digits and `-._~:` becomes `%XX`. Also used for query values.
    pub fn segment(s: &str) -> String {
        let mut out = String::new();
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || b"-._~:".contains(&b) {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }

    /// `pattern` with its (first) `{…}` parameter replaced by `value`, percent-encoded.
    fn fill(pattern: &str, value: &str) -> String {
        let parts = pattern
            .split_once('{')
            .and_then(|(head, rest)| Some((head, rest.split_once('}')?.1)));
        match parts {
            Some((head, tail)) => format!("{head}{}{tail}", segment(value)),
            None => pattern.to_owned(),
        }
    }

    pub fn item(id: &str) -> String {
        fill(ITEM, id)
    }
    pub fn entry(seq: u64) -> String {
        fill(ENTRY, &seq.to_string())
    }
    /// `?seq=N[&size=N]`.
    pub fn inclusion(seq: u64, size: Option<u64>) -> String {
        let size = size.map(|s| format!("&size={s}")).unwrap_or_default();
        format!("{INCLUSION}?seq={seq}{size}")
    }
    /// `[?size=N]`: the latest checkpoint, or the one of the first N leaves.
    pub fn checkpoint(size: Option<u64>) -> String {
        size.map_or_else(
            || CHECKPOINT.to_owned(),
            |s| format!("{CHECKPOINT}?size={s}"),
        )
    }
    /// `?old=N[&new=N]`.
    pub fn consistency(old: u64, new: Option<u64>) -> String {
        let new = new.map(|n| format!("&new={n}")).unwrap_or_default();
        format!("{CONSISTENCY}?old={old}{new}")
    }
    pub fn item_history(id: &str) -> String {
        fill(ITEM_HISTORY, id)
    }
    pub fn item_audit(id: &str) -> String {
        fill(ITEM_AUDIT, id)
    }
    /// `[?size=N]`: against the latest checkpoint, or that of the first N leaves.
    pub fn item_bundle(id: &str, size: Option<u64>) -> String {
        let path = fill(ITEM_BUNDLE, id);
        size.map_or_else(|| path.clone(), |s| format!("{path}?size={s}"))
    }
    pub fn incident(id: &str) -> String {
        fill(INCIDENT, id)
    }
    pub fn incident_audit(id: &str) -> String {
        fill(INCIDENT_AUDIT, id)
    }
    /// `[?size=N]`: the case bundle against the latest checkpoint, or that of the first N leaves.
    pub fn incident_bundle(id: &str, size: Option<u64>) -> String {
        let path = fill(INCIDENT_BUNDLE, id);
        size.map_or_else(|| path.clone(), |s| format!("{path}?size={s}"))
    }
    pub fn person(id: &str) -> String {
        fill(PERSON, id)
    }
    pub fn subject(id: &str) -> String {
        fill(SUBJECT, id)
    }
    pub fn officer_holdings(id: &str) -> String {
        fill(OFFICER_HOLDINGS, id)
    }
    pub fn unit_holdings(unit: &str) -> String {
        fill(UNIT_HOLDINGS, unit)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn filled_paths_encode_the_parameter_as_one_segment() {
            assert_eq!(item("EV-1"), "/v1/items/EV-1");
            assert_eq!(item_history("a/b"), "/v1/items/a%2Fb/history");
            assert_eq!(item_audit("x?y"), "/v1/items/x%3Fy/audit");
            assert_eq!(item_bundle("é", None), "/v1/items/%C3%A9/bundle");
            assert_eq!(item_bundle("a", Some(9)), "/v1/items/a/bundle?size=9");
            assert_eq!(incident("I:1"), "/v1/incidents/I:1");
            assert_eq!(incident_audit("I 1"), "/v1/incidents/I%201/audit");
            assert_eq!(person("p~1"), "/v1/persons/p~1");
            assert_eq!(officer_holdings("o.1"), "/v1/officers/o.1/holdings");
            assert_eq!(unit_holdings("Unit A"), "/v1/units/Unit%20A/holdings");
            assert_eq!(fill(ITEMS, "ignored"), ITEMS);
        }
    }
}

/// The route table, once: `(method, pattern, handler)`. It expands to `ROUTES` and to the
/// router's routes, so the two cannot drift apart.
macro_rules! route_table {
    ($($method:ident $pattern:expr => $handler:ident,)*) => {
        /// Every route served, as `(method, pattern)` in axum's syntax (also used by the
        /// OpenAPI test, which reads `{*path}` as OpenAPI's `{path}`).
        pub const ROUTES: &[(&str, &str)] = &[$((stringify!($method), $pattern)),*];

        /// `api` with every route of the table.
        fn with_routes(api: Router<Shared>) -> Router<Shared> {
            api$(.route($pattern, $method($handler)))*
        }
    };
}

route_table! {
    post routes::STATEMENTS => post_statement,
    post routes::SUBJECTS => post_subject,
    post routes::SUBJECT_LOOKUP => post_subject,
    get routes::SUBJECT => get_subject,
    get routes::CHECKPOINT => get_checkpoint,
    get routes::ENTRY => get_entry,
    get routes::ENTRY_LABELS => get_entry_labels,
    get routes::INCLUSION => get_inclusion,
    get routes::CONSISTENCY => get_consistency,
    get routes::ITEMS => get_items,
    get routes::ITEM => get_item,
    get routes::ITEM_HISTORY => get_history,
    get routes::ITEM_AUDIT => get_audit,
    get routes::ITEM_BUNDLE => get_bundle,
    get routes::ITEM_ATTACHMENTS => get_item_attachments,
    get routes::ITEM_LABEL => get_item_label,
    get routes::SEAL_LABEL => get_seal_label,
    put routes::BLOB => put_blob,
    get routes::BLOB => get_blob,
    get routes::INCIDENT => get_incident,
    get routes::INCIDENT_AUDIT => get_incident_audit,
    get routes::INCIDENT_BUNDLE => get_incident_bundle,
    get routes::PERSON => get_person,
    get routes::OFFICERS => get_officers,
    get routes::OFFICER_HOLDINGS => get_holdings,
    get routes::UNIT_HOLDINGS => get_unit_holdings,
    get routes::PENDING => get_pending,
    get routes::DEADLINES => get_deadlines,
    get routes::FACILITIES => get_facilities,
    get routes::OPENAPI => get_openapi,
    post routes::DRAFTS => post_draft,
    get routes::DRAFTS => get_drafts,
    get routes::DRAFT => get_draft,
    delete routes::DRAFT => delete_draft,
    post routes::DRAFT_SIGNATURES => post_draft_signature,
    post routes::DRAFT_DECLINE => post_draft_decline,
    post routes::DRAFT_SUBMIT => post_draft_submit,
    post routes::ENROLLMENT_REQUESTS => post_enrollment_request,
    get routes::ENROLLMENT_REQUESTS => get_enrollment_requests,
    get routes::ENROLLMENT_REQUEST => get_enrollment_request,
    delete routes::ENROLLMENT_REQUEST => delete_enrollment_request,
    get routes::TILES_CHECKPOINT => get_checkpoint,
    get routes::TILE => get_tile,
    get routes::HEALTHZ => get_healthz,
    get routes::METRICS => get_metrics,
}

/// The whole application over `ledger` as a tower service, without a socket: the router `serve`
/// runs, for in-process callers (the fuzz harness feeds it requests).
/// `bound` is the address the server listens on (its default public names).
pub fn app(ledger: Arc<Ledger>, config: &ServeConfig, bound: SocketAddr) -> Router {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let started_s = clock.now().unix_ms().div_euclid(1000);
    let public_names = PublicNames::new(config, bound);
    tracing::info!(target: "custody::http", names = ?public_names.names, "signed reads are answered when signed for one of these names (--public-name)");
    router(Arc::new(App {
        drafts: Drafts::new(ledger.dir()),
        enrollments: EnrollmentRequests::new(ledger.dir()),
        ledger,
        clock,
        public_names,
        nonces: Nonces::new(started_s, httpsig::READ_SIGNATURE_AGE_S_MAX),
        stats: HttpStats::default(),
        concurrency_max: config.concurrency_max.max(1),
        request_timeout_ms: config.request_timeout_ms.max(1),
        uploads: tokio::sync::Semaphore::new(crate::base::limits::BLOB_UPLOADS_MAX),
    }))
}

/// The list routes a spreadsheet can take: answered as CSV (`edge::csv`, the same rows as their
/// JSON) when the request accepts `text/csv`, for investigators' exports from the workbench.
const CSV_ROUTES: [&str; 7] = [
    routes::ITEMS,
    routes::ITEM_HISTORY,
    routes::OFFICERS,
    routes::OFFICER_HOLDINGS,
    routes::UNIT_HOLDINGS,
    routes::PENDING,
    routes::DEADLINES,
];
/// The most JSON a list answer turned into CSV is read into memory: far above any list the
/// server gives (a facility's items), and a bound all the same.
const CSV_SOURCE_BYTES_MAX: usize = 64 * 1024 * 1024;

/// Whether `path` is one of `CSV_ROUTES` (a `{…}` segment matches any one segment).
fn csv_route(path: &str) -> bool {
    CSV_ROUTES.iter().any(|pattern| {
        let (want, have): (Vec<&str>, Vec<&str>) =
            (pattern.split('/').collect(), path.split('/').collect());
        want.len() == have.len()
            && want
                .iter()
                .zip(&have)
                .all(|(w, h)| w.starts_with('{') || w == h)
    })
}

/// Answers a list route as CSV when the request asks for `text/csv` and the route answered its
/// JSON; anything else (a refusal, another route) passes unchanged.
async fn csv_when_asked(request: Request, next: Next) -> Response {
    let wants_csv = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/csv"));
    if !wants_csv || !csv_route(request.uri().path()) {
        return next.run(request).await;
    }
    let response = next.run(request).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, CSV_SOURCE_BYTES_MAX).await {
        Ok(bytes) => bytes,
        Err(e) => {
            return ApiError::new(Class::Internal, msg("err.http.csv_source").arg("error", e))
                .into_response();
        }
    };
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(value) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"custody.csv\"",
                ),
            ],
            crate::edge::csv::csv(&value),
        )
            .into_response(),
        Err(_) => Response::from_parts(parts, axum::body::Body::from(bytes)),
    }
}

/// The application: every route, the request log, and the bounds on size, time and concurrency.
fn router(app: Shared) -> Router {
    use tower::ServiceBuilder;
    let api = with_routes(Router::new())
        .layer(middleware::from_fn(csv_when_asked))
        .merge(crate::edge::web::router())
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(Arc::clone(&app));
    api.layer(
        ServiceBuilder::new()
            .layer(middleware::from_fn_with_state(
                Arc::clone(&app),
                log_requests,
            ))
            .layer(axum::error_handling::HandleErrorLayer::new({
                let (limit, timeout) = (app.concurrency_max, app.request_timeout_ms);
                move |e| overload(e, limit, timeout)
            }))
            .load_shed()
            // One semaphore for the whole server: `Router::layer` clones the stack per route.
            .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
                app.concurrency_max,
            ))
            .timeout(Duration::from_millis(app.request_timeout_ms)),
    )
}

async fn overload(e: tower::BoxError, limit: usize, timeout_ms: u64) -> ApiError {
    if e.is::<tower::timeout::error::Elapsed>() {
        ApiError::new(
            Class::Timeout,
            msg("err.http.timeout").arg("ms", timeout_ms),
        )
    } else if e.is::<tower::load_shed::error::Overloaded>() {
        ApiError::new(
            Class::Unavailable,
            msg("err.http.overloaded").arg("limit", limit),
        )
    } else {
        ApiError::new(Class::Internal, Message::verbatim(e.to_string()))
    }
}

fn tls_config(files: &TlsFiles) -> Result<rustls::ServerConfig, ServeError> {
    use rustls_pki_types::pem::PemObject as _;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|it| it.collect::<Result<_, _>>())
        .map_err(|e| ServeError::Tls(file_error(&files.cert, &e)))?;
    if certs.is_empty() {
        return Err(ServeError::Tls(
            msg("err.http.tls_no_certificate").arg("path", files.cert.display()),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| ServeError::Tls(file_error(&files.key, &e)))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServeError::Tls(Message::verbatim(e.to_string())))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| ServeError::Tls(msg("err.http.tls_mismatch").arg("error", e)))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// A PEM file that would not load: its path and the library's words, the same in both languages.
fn file_error(path: &std::path::Path, e: &impl std::fmt::Display) -> Message {
    Message::verbatim(format!("{}: {e}", path.display()))
}

/// Closes a connection whose request header does not arrive within `timeout`.
fn bound_headers(
    builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    timeout: Duration,
) {
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(timeout);
}

/// Bounds open connections: each holds a permit for as long as its socket lives, and a
/// connection accepted with no permit left is closed at once. Also closes silent connections
/// (hyper's header timeout starts only with a request's first byte).
#[derive(Clone)]
struct ConnectionLimit {
    permits: Arc<tokio::sync::Semaphore>,
    idle: Duration,
}

impl<S: Send + 'static> axum_server::accept::Accept<tokio::net::TcpStream, S> for ConnectionLimit {
    type Stream = Permitted;
    type Service = S;
    type Future = std::future::Ready<std::io::Result<(Permitted, S)>>;

    fn accept(&self, stream: tokio::net::TcpStream, service: S) -> Self::Future {
        std::future::ready(match Arc::clone(&self.permits).try_acquire_owned() {
            Ok(permit) => Ok((
                Permitted {
                    stream,
                    _permit: permit,
                    idle: self.idle,
                    silent_until: Some(Box::pin(tokio::time::sleep(self.idle))),
                },
                service,
            )),
            // Dropping the stream closes it; the client sees the connection reset.
            Err(_) => Err(std::io::Error::other("too many open connections")),
        })
    }
}

/// A connection's socket with its permit, and the deadline by which a silent client must speak:
/// armed on accept and after every write (a response), cleared by every read that brings bytes.
/// While a request is in service nothing is armed, so a slow answer never cuts its own client.
struct Permitted {
    stream: tokio::net::TcpStream,
    _permit: tokio::sync::OwnedSemaphorePermit,
    idle: Duration,
    silent_until: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl Permitted {
    /// After bytes went out (an answer), the client has `idle` to speak again.
    fn wrote(&mut self, written: &std::task::Poll<std::io::Result<usize>>) {
        if matches!(written, std::task::Poll::Ready(Ok(n)) if *n > 0) {
            let at = tokio::time::Instant::now() + self.idle;
            match self.silent_until.as_mut() {
                Some(deadline) => deadline.as_mut().reset(at),
                None => self.silent_until = Some(Box::pin(tokio::time::sleep_until(at))),
            }
        }
    }
}

impl tokio::io::AsyncRead for Permitted {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::future::Future as _;
        use std::task::Poll;
        let before = buf.filled().len();
        match std::pin::Pin::new(&mut self.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    self.silent_until = None;
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => {
                let expired = self
                    .silent_until
                    .as_mut()
                    .is_some_and(|deadline| deadline.as_mut().poll(cx).is_ready());
                if expired {
                    Poll::Ready(Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the client stayed silent too long",
                    )))
                } else {
                    Poll::Pending
                }
            }
            other => other,
        }
    }
}

impl tokio::io::AsyncWrite for Permitted {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let written = std::pin::Pin::new(&mut self.stream).poll_write(cx, buf);
        self.wrote(&written);
        written
    }
    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let written = std::pin::Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.wrote(&written);
        written
    }
    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Serves until `shutdown` resolves, then stops accepting, lets in-flight requests finish (up to
/// `SHUTDOWN_GRACE_MS`) and returns. `ready` gets the bound address (port 0 picks one).
pub async fn serve(
    ledger: Arc<Ledger>,
    config: ServeConfig,
    ready: impl FnOnce(SocketAddr, bool),
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), ServeError> {
    let opened = Arc::new(std::sync::OnceLock::new());
    serve_opening(
        move || Ok::<_, std::convert::Infallible>(ledger),
        &opened,
        config,
        ready,
        shutdown,
    )
    .await
    .map_err(|e| match e {
        Served::Serve(e) => e,
        Served::Open(never) => match never {},
    })
}

/// Why a server that opens its own ledger stopped early.
#[derive(Debug)]
pub enum Served<E> {
    /// The ledger did not open.
    Open(E),
    Serve(ServeError),
}

impl<E> From<ServeError> for Served<E> {
    fn from(e: ServeError) -> Self {
        Self::Serve(e)
    }
}

/// Seconds a client is told to wait (`Retry-After`) on a 503: opening, overloaded, stopped.
const RETRY_AFTER_S: u64 = 1;

/// Binds first, then opens the ledger with `open` on a blocking thread, answering every request
/// with 503 and `Retry-After` meanwhile (opening may rebuild the views from the log, which takes
/// minutes on a large ledger). `ready` is called once the ledger is open and the API answers;
/// `opened` receives the ledger so that the caller can close it.
pub async fn serve_opening<E: Send + 'static>(
    open: impl FnOnce() -> Result<Arc<Ledger>, E> + Send + 'static,
    opened: &Arc<std::sync::OnceLock<Arc<Ledger>>>,
    config: ServeConfig,
    ready: impl FnOnce(SocketAddr, bool),
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), Served<E>> {
    if config.tls.is_none() && !config.listen.ip().is_loopback() {
        return Err(ServeError::NotLoopback(config.listen).into());
    }
    let slot: Arc<std::sync::OnceLock<Router>> = Arc::new(std::sync::OnceLock::new());
    let handle = axum_server::Handle::new();
    let (addr, server) = start_listening(&config, opening_router(Arc::clone(&slot)), &handle)?;
    tracing::info!(target: "custody::http", %addr, "bound; opening the ledger (every request is answered 503 until it is open)");
    let ledger = match tokio::task::spawn_blocking(open).await {
        Ok(Ok(ledger)) => ledger,
        failed => {
            handle.shutdown();
            let _ = server.await;
            return match failed {
                Ok(Err(e)) => Err(Served::Open(e)),
                _ => Err(ServeError::Runtime(msg("err.http.open_panicked")).into()),
            };
        }
    };
    let _ = opened.set(Arc::clone(&ledger));
    let _ = slot.set(app(ledger, &config, addr));
    ready(addr, config.tls.is_some());
    shutdown.await;
    tracing::info!(target: "custody::http", "shutting down: no new connections; finishing requests in flight");
    handle.graceful_shutdown(Some(Duration::from_millis(SHUTDOWN_GRACE_MS)));
    server
        .await
        .map_err(|e| runtime_error(&e))?
        .map_err(|e| runtime_error(&e).into())
}

/// Answers from the application once it is in `slot`; until then, 503 with `Retry-After`.
fn opening_router(slot: Arc<std::sync::OnceLock<Router>>) -> Router {
    Router::new().fallback(move |request: Request| {
        let app = slot.get().cloned();
        async move {
            use tower::ServiceExt as _;
            match app {
                Some(router) => match router.oneshot(request).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                },
                None => ApiError::new(Class::Unavailable, msg("err.http.opening")).into_response(),
            }
        }
    })
}

/// Binds the listener and starts serving `router` on it (TLS when configured), with the
/// connection and header bounds. Returns the bound address and the server task.
fn start_listening(
    config: &ServeConfig,
    router: Router,
    handle: &axum_server::Handle,
) -> Result<(SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>), ServeError> {
    let service = router.into_make_service();
    let bind_error = |e: std::io::Error| ServeError::Bind {
        addr: config.listen,
        reason: e.to_string(),
    };
    let listener = std::net::TcpListener::bind(config.listen).map_err(bind_error)?;
    listener.set_nonblocking(true).map_err(bind_error)?;
    let addr = listener.local_addr().map_err(bind_error)?;
    let tls = config.tls.as_ref().map(tls_config).transpose()?;
    let server_handle = handle.clone();
    let header_timeout = Duration::from_millis(config.header_timeout_ms.max(1));
    let limit = ConnectionLimit {
        permits: Arc::new(tokio::sync::Semaphore::new(config.connections_max.max(1))),
        idle: header_timeout,
    };
    let server = async move {
        match tls {
            Some(tls) => {
                let rustls = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(tls));
                let mut server = axum_server::from_tcp_rustls(listener, rustls)
                    .map(|tls| tls.acceptor(limit))
                    .handle(server_handle);
                bound_headers(server.http_builder(), header_timeout);
                server.serve(service).await
            }
            None => {
                let mut server = axum_server::from_tcp(listener)
                    .acceptor(limit)
                    .handle(server_handle);
                bound_headers(server.http_builder(), header_timeout);
                server.serve(service).await
            }
        }
    };
    Ok((addr, tokio::spawn(server)))
}

/// The server's multi-threaded runtime (one worker per core; blocking work goes to its pool).
fn runtime() -> Result<tokio::runtime::Runtime, ServeError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("custody-http")
        .build()
        .map_err(|e| runtime_error(&e))
}

/// The runtime's own words (tokio's, hyper's, the OS's), the same in both languages.
fn runtime_error(e: &impl std::fmt::Display) -> ServeError {
    ServeError::Runtime(Message::verbatim(e.to_string()))
}

/// Waits for SIGINT or SIGTERM.
pub async fn signals() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// `custody serve`: listens at once, opens the ledger with `open` (answering 503 until it is
/// open), serves until a signal, then closes the ledger after the sequencer has answered every
/// statement it took (nothing is acknowledged before it is durable).
pub fn run<E: Send + 'static>(
    open: impl FnOnce() -> Result<Ledger, E> + Send + 'static,
    config: ServeConfig,
    ready: impl FnOnce(SocketAddr, bool),
) -> Result<(), Served<E>> {
    let runtime = runtime()?;
    let opened = Arc::new(std::sync::OnceLock::new());
    let open = move || open().map(Arc::new);
    let result = runtime.block_on(serve_opening(open, &opened, config, ready, signals()));
    // Blocking tasks still waiting for a commit finish before the runtime goes.
    runtime.shutdown_timeout(Duration::from_millis(SHUTDOWN_GRACE_MS));
    if let Some(ledger) = opened.get() {
        ledger.close();
        tracing::info!(target: "custody::http", "stopped; the ledger is closed");
    }
    result
}

/// A server on a background thread, for benchmarks and embedding; `stop` shuts it down as a
/// signal would.
pub struct Running {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), ServeError>>>,
}

impl Running {
    pub fn stop(mut self) -> Result<(), ServeError> {
        self.finish()
    }

    fn finish(&mut self) -> Result<(), ServeError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take() {
            Some(t) => t
                .join()
                .map_err(|_| ServeError::Runtime(msg("err.http.thread_panicked")))?,
            None => Ok(()),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

/// Starts the server on its own runtime in a background thread and waits until it listens.
pub fn spawn(ledger: Arc<Ledger>, config: ServeConfig) -> Result<Running, ServeError> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        runtime()?.block_on(serve(
            ledger,
            config,
            move |addr, _| {
                let _ = ready_tx.send(addr);
            },
            async {
                let _ = stop_rx.await;
            },
        ))
    });
    match ready_rx.recv() {
        Ok(addr) => Ok(Running {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        }),
        Err(_) => Err(thread
            .join()
            .map_err(|_| ServeError::Runtime(msg("err.http.thread_panicked")))?
            .err()
            .unwrap_or_else(|| ServeError::Runtime(msg("err.http.stopped_before_listening")))),
    }
}

impl Classify for ServeError {
    fn class(&self) -> Class {
        match self {
            Self::NotLoopback(_) | Self::Tls(_) => Class::Usage,
            Self::Bind { .. } => Class::Unavailable,
            Self::Runtime(_) => Class::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read as _, Write as _};

    /// How long the test waits for the server to listen, and then to open its ledger.
    const DEADLINE_MS: u64 = 20_000;

    /// A response as the client saw it: status, headers (names lower-cased) and body.
    struct Answer {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    }

    impl Answer {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        }
    }

    /// One plain HTTP/1.1 GET on its own connection (closed by the server after the answer).
    fn get(addr: SocketAddr, path: &str) -> std::io::Result<Answer> {
        let mut stream = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )?;
        let mut raw = String::new();
        stream.read_to_string(&mut raw)?;
        let bad = |what: &str| std::io::Error::other(format!("{what}: {raw:?}"));
        let (head, body) = raw
            .split_once("\r\n\r\n")
            .ok_or_else(|| bad("no header end"))?;
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("no status line"))?;
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        Ok(Answer {
            status,
            headers,
            body: body.to_owned(),
        })
    }

    /// Asks `path` until `done` accepts an answer (connection errors are retried: the server may
    /// not listen yet), and returns that answer; panics at the deadline with the last one.
    fn poll(addr: SocketAddr, path: &str, done: impl Fn(&Answer) -> bool) -> Answer {
        let deadline = Instant::now() + Duration::from_millis(DEADLINE_MS);
        loop {
            let last = match get(addr, path) {
                Ok(answer) if done(&answer) => return answer,
                Ok(answer) => format!("{} {}", answer.status, answer.body),
                Err(e) => e.to_string(),
            };
            assert!(Instant::now() < deadline, "{path} at the deadline: {last}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// A loopback port free a moment ago (`serve_opening` reports the bound address only once the
    /// ledger is open, and this test must reach the server before that).
    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port()
    }

    #[test]
    fn public_names_match_case_insensitively_without_the_default_port() {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 8080));
        let names = PublicNames::new(&ServeConfig::new(loopback, None), loopback);
        for ok in ["127.0.0.1:8080", "LOCALHOST:8080"] {
            assert!(names.admits(ok), "{ok}");
        }
        for refused in [
            "127.0.0.1",
            "localhost:8081",
            "evil.example",
            "0.0.0.0:8080",
            "",
        ] {
            assert!(!names.admits(refused), "{refused}");
        }
        let tls = TlsFiles {
            cert: PathBuf::new(),
            key: PathBuf::new(),
        };
        let config = ServeConfig {
            public_names: vec!["custody.example".into(), "custody.example:8443".into()],
            ..ServeConfig::new(SocketAddr::from(([0, 0, 0, 0], 8443)), Some(tls))
        };
        let names = PublicNames::new(&config, config.listen);
        for ok in [
            "custody.example",
            "Custody.Example:443",
            "custody.example:8443",
        ] {
            assert!(names.admits(ok), "{ok}");
        }
        for refused in ["custody.example:80", "127.0.0.1:8443", "localhost:8443"] {
            assert!(!names.admits(refused), "{refused}");
        }
        assert_eq!(
            default_public_names(SocketAddr::from(([0, 0, 0, 0], 9000))),
            ["127.0.0.1:9000", "localhost:9000"]
        );
    }

    #[test]
    fn a_public_name_is_host_and_optional_port() {
        for (given, want) in [
            ("Custody.Example:8443", "custody.example:8443"),
            ("custody.example", "custody.example"),
            ("10.0.0.5:8080", "10.0.0.5:8080"),
            ("[::1]:8080", "[::1]:8080"),
            ("[::1]", "[::1]"),
        ] {
            assert_eq!(parse_public_name(given).as_deref(), Ok(want));
        }
        for bad in [
            "",
            "https://custody.example",
            "host:99999",
            "::1",
            "a b",
            "host:",
            "[zz]",
        ] {
            assert!(parse_public_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn answers_503_with_retry_after_while_the_ledger_opens_then_serves_it() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("ledger");
        crate::app::demo::found_only(&dir).expect("a ledger is founded");
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let (release, released) = std::sync::mpsc::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let opened = Arc::new(std::sync::OnceLock::new());
        let server_opened = Arc::clone(&opened);
        let open = move || {
            released.recv().map_err(|e| e.to_string())?;
            Ledger::open(&dir).map(Arc::new).map_err(|e| e.to_string())
        };
        let server = std::thread::spawn(move || {
            runtime()?.block_on(serve_opening(
                open,
                &server_opened,
                ServeConfig::new(addr, None),
                move |addr, tls| {
                    let _ = ready_tx.send((addr, tls));
                },
                async {
                    let _ = stopped.await;
                },
            ))
        });

        // The open is held: every request is answered 503, unavailable (the ledger is opening),
        // with Retry-After.
        for path in ["/healthz", "/checkpoint"] {
            let answer = poll(addr, path, |_| true);
            assert_eq!(answer.status, 503, "{path}: {}", answer.body);
            assert_eq!(answer.header("retry-after"), Some("1"), "{path}");
            assert!(
                answer.body.contains(r#""code":"unavailable""#)
                    && answer.body.contains("the ledger is opening"),
                "{}",
                answer.body
            );
        }
        assert!(
            ready_rx.try_recv().is_err(),
            "ready before the ledger opened"
        );
        assert!(
            opened.get().is_none(),
            "a ledger was handed over before it opened"
        );

        release.send(()).expect("the open is waiting");
        let answer = poll(addr, "/healthz", |a| a.status != 503);
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert!(answer.body.contains(r#""status":"ok""#), "{}", answer.body);
        assert_eq!(answer.header("retry-after"), None);
        let (ready_addr, tls) = ready_rx
            .recv_timeout(Duration::from_millis(DEADLINE_MS))
            .expect("ready is called once the ledger is open");
        assert_eq!((ready_addr, tls), (addr, false));

        stop.send(()).expect("the server is running");
        let served = server.join().expect("the server thread does not panic");
        assert!(served.is_ok(), "{served:?}");
        opened
            .get()
            .expect("the opened ledger is handed over")
            .close();
    }
}
