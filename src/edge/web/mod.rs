//! The officers' workbench (`custody serve` at `/`): the page, its small plain JavaScript modules,
//! its style sheet, its service worker and its word catalogues, all embedded in the binary so
//! nothing is fetched from anywhere but the server's own origin. Also the two descriptions the
//! page builds its forms from — the statement schemas exactly as the parser uses them, and who
//! must sign each type (`TYPE_RULES`) — and a QR code maker for enrollment codes and draft links.
//! It holds no business rule and never signs: keys live in the officer's browser, and everything
//! the page records goes through the same `/v1/` routes as the command line.

use crate::base::words::{self, Lang, Message, msg};
use crate::domain::rules::type_rule;
use crate::format::statement::{COMMON_SCHEMA, StatementType};
use axum::Router;
use axum::extract::{Path, Query};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::sync::OnceLock;

/// The page's only sources are its own origin: no CDN, no inline script, no framing. `blob:` and
/// `data:` images are the photos the officer just took and the QR codes the page shows.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; worker-src 'self'; manifest-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// A QR code holds at most this many bytes of text here: an enrollment code or a draft link is
/// under 200; the bound stops the route from being used to render anything large.
pub const QR_TEXT_BYTES_MAX: usize = 512;

/// One embedded file: its name under `/app/`, its media type and its bytes.
struct Asset {
    name: &'static str,
    media_type: &'static str,
    body: &'static str,
}

macro_rules! assets {
    ($($name:literal => $media:literal,)*) => {
        /// Every file of the workbench, embedded at build time.
        const ASSETS: &[Asset] = &[$(Asset {
            name: $name,
            media_type: $media,
            body: include_str!(concat!("assets/", $name)),
        }),*];
    };
}

assets! {
    "index.html" => "text/html; charset=utf-8",
    "app.css" => "text/css; charset=utf-8",
    "app.js" => "text/javascript; charset=utf-8",
    "keys.js" => "text/javascript; charset=utf-8",
    "api.js" => "text/javascript; charset=utf-8",
    "forms.js" => "text/javascript; charset=utf-8",
    "i18n.js" => "text/javascript; charset=utf-8",
    "scan.js" => "text/javascript; charset=utf-8",
    "sw.js" => "text/javascript; charset=utf-8",
    "icon.svg" => "image/svg+xml",
    "manifest.webmanifest" => "application/manifest+json",
    // ZXing 0.23.0 (npm @zxing/library, Apache-2.0), the barcode reader for browsers without
    // BarcodeDetector; unchanged from the package's umd/index.min.js, its licence beside it.
    "zxing-0.23.0.min.js" => "text/javascript; charset=utf-8",
    "zxing-LICENSE.txt" => "text/plain; charset=utf-8",
}

/// The embedded text of the asset `name` (`id.json`, `app.js`, …), for tests, the service
/// worker's list and the report's words.
#[cfg_attr(not(test), allow(dead_code))]
pub fn asset(name: &str) -> Option<&'static str> {
    CATALOGUES
        .iter()
        .chain(ASSETS)
        .find(|a| a.name == name)
        .map(|a| a.body)
}

/// The catalogues of words (`base::words`), served to the page beside its own files: one
/// catalogue per language for the page, the paper, the terminal and every error.
const CATALOGUES: &[Asset] = &[
    Asset {
        name: "id.json",
        media_type: "application/json",
        body: crate::base::words::INDONESIAN_JSON,
    },
    Asset {
        name: "en.json",
        media_type: "application/json",
        body: crate::base::words::ENGLISH_JSON,
    },
];

/// The word the catalogue gives `key` (`enum.witness`) in Indonesian or English, so that the
/// printed report says what the page says (docs/GLOSSARY.md); `None` when it has none.
pub fn word(english: bool, key: &str) -> Option<String> {
    catalogue(english).get(key).cloned()
}

/// A term of the terminal from the catalogues (`cli.*`): "english (indonesian)" when the terminal
/// speaks English (`edge::terminal_lang`), the Indonesian alone when it speaks Indonesian; the key
/// itself for a word the catalogues lack (a test fails first).
pub fn both(key: &'static str) -> String {
    match crate::edge::terminal_lang() {
        Lang::English => format!("{} ({})", text(true, key), text(false, key)),
        Lang::Indonesian => text(false, key).to_owned(),
    }
}

/// The catalogue's word or sentence `key` in one language; the key itself when the catalogue
/// lacks it (which `tests/workbench_words.rs` fails on first), so nothing prints empty.
pub fn text(english: bool, key: &'static str) -> &'static str {
    words::text(lang(english), key)
}

/// [`both`] with the English term capitalised, to open a heading or a line.
pub fn both_cap(key: &'static str) -> String {
    let text = both(key);
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// What an error's class means, Indonesian then English (`ditolak aturan / refused by a rule`),
/// from the catalogues (`class.<code>`): the `title` of every error the server answers.
pub fn class_title(class: crate::base::class::Class) -> String {
    format!(
        "{} / {}",
        class_word(class, Lang::Indonesian),
        class_word(class, Lang::English)
    )
}

/// What an error's class means in one language (`class.<code>`), the first words of each line
/// of an error the command line prints.
pub fn class_word(class: crate::base::class::Class, lang: Lang) -> &'static str {
    let key = format!("class.{}", class.code());
    words::catalogue(lang)
        .get(&key)
        .map_or(class.code(), String::as_str)
}

/// The whole catalogue of one language (`en.json` when `english`, else `id.json`).
pub fn catalogue(english: bool) -> &'static std::collections::BTreeMap<String, String> {
    words::catalogue(lang(english))
}

const fn lang(english: bool) -> Lang {
    if english {
        Lang::English
    } else {
        Lang::Indonesian
    }
}

#[cfg_attr(not(test), allow(dead_code))]
/// The names of every embedded asset.
pub fn asset_names() -> Vec<&'static str> {
    CATALOGUES.iter().chain(ASSETS).map(|a| a.name).collect()
}

/// The workbench's routes, merged beside the API by the server.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(index))
        .route("/sw.js", get(service_worker))
        .route("/app/schemas.json", get(schemas))
        .route("/app/types.json", get(types))
        .route("/app/qr.svg", get(qr))
        .route("/app/{name}", get(app_file))
}

fn page(
    status: StatusCode,
    media_type: &'static str,
    body: impl Into<axum::body::Body>,
) -> Response {
    let mut response = (status, body.into()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // The service worker keeps its own copy for offline use; the browser's cache must not hold an
    // old page after the server is upgraded.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

async fn index() -> Response {
    app_file(Path("index.html".to_owned())).await
}

async fn service_worker() -> Response {
    let mut response = app_file(Path("sw.js".to_owned())).await;
    // The worker lives under `/` so that it may control the page at `/`.
    response
        .headers_mut()
        .insert("service-worker-allowed", HeaderValue::from_static("/"));
    response
}

async fn app_file(Path(name): Path<String>) -> Response {
    match CATALOGUES.iter().chain(ASSETS).find(|a| a.name == name) {
        Some(a) => page(StatusCode::OK, a.media_type, a.body),
        None => refusal(
            StatusCode::NOT_FOUND,
            &msg("err.web.not_found").arg("name", name.escape_debug()),
        ),
    }
}

/// A plain-text refusal of a page route: the message in Indonesian, then in English, a line each
/// (a browser that asks for an image or a file has no language to choose by).
fn refusal(status: StatusCode, message: &Message) -> Response {
    page(
        status,
        "text/plain; charset=utf-8",
        format!("{}\n{}\n", message.indonesian(), message.english()),
    )
}

/// `{"common": …, "types": {type: schema}}`: the schemas the statement parser validates with, so
/// a form built from them cannot ask for anything the ledger would refuse for its shape. Joined
/// from the embedded texts rather than re-serialised, so each schema keeps its order of fields
/// (the order the form shows them in).
pub fn schemas_text() -> &'static str {
    static SCHEMAS: OnceLock<String> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let types: Vec<String> = StatementType::ALL
            .iter()
            .map(|t| format!("{:?}:{}", t.as_str(), t.schema_text()))
            .collect();
        format!(
            "{{\"common\":{COMMON_SCHEMA},\"types\":{{{}}}}}",
            types.join(",")
        )
    })
}

async fn schemas() -> Response {
    page(StatusCode::OK, "application/json", schemas_text())
}

/// Per statement type: its Indonesian and English names and who must sign it (role, how many,
/// which officer roles may fill it), from `TYPE_RULES`, the table the ledger enforces.
pub fn types_json() -> Value {
    let types: Map<String, Value> = StatementType::ALL
        .iter()
        .map(|&t| {
            let signers: Vec<Value> = type_rule(t)
                .signers
                .iter()
                .map(|s| {
                    json!({
                        "role": s.role.as_str(),
                        "min": s.min,
                        "max": s.max,
                        "officer_roles": s.officer_roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let entry = json!({
                "indonesian": t.indonesian(),
                "english": crate::app::templates::english(t),
                "signers": signers,
            });
            (t.as_str().to_owned(), entry)
        })
        .collect();
    Value::Object(types)
}

async fn types() -> Response {
    page(StatusCode::OK, "application/json", types_json().to_string())
}

#[derive(Debug, Deserialize)]
struct QrQuery {
    t: String,
}

async fn qr(Query(q): Query<QrQuery>) -> Response {
    if q.t.is_empty() || q.t.len() > QR_TEXT_BYTES_MAX {
        return refusal(
            StatusCode::BAD_REQUEST,
            &msg("err.web.qr_size")
                .arg("max", QR_TEXT_BYTES_MAX)
                .arg("given", q.t.len()),
        );
    }
    match qrcode::QrCode::with_error_correction_level(q.t.as_bytes(), qrcode::EcLevel::M) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(200, 200)
                .quiet_zone(true)
                .build();
            page(StatusCode::OK, "image/svg+xml", svg)
        }
        Err(e) => refusal(StatusCode::BAD_REQUEST, &msg("err.web.qr").arg("error", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every error class has its title in both catalogues, Indonesian first: no error opens
    /// with a bare code.
    #[test]
    fn every_error_class_is_titled_in_both_languages() {
        for class in crate::base::class::Class::ALL {
            let key = format!("class.{}", class.code());
            for english in [false, true] {
                assert!(
                    catalogue(english).get(&key).is_some_and(|w| !w.is_empty()),
                    "{key} in {}",
                    if english { "en.json" } else { "id.json" }
                );
            }
        }
        assert_eq!(
            class_title(crate::base::class::Class::Refused),
            "ditolak aturan / refused by a rule"
        );
    }

    #[test]
    fn every_statement_schema_is_served_and_parses() {
        let s: Value = serde_json::from_str(schemas_text()).expect("the joined schemas are JSON");
        assert!(s["common"]["$defs"].is_object());
        for t in StatementType::ALL {
            assert!(
                s["types"][t.as_str()]["properties"].is_object(),
                "{} has no schema in /app/schemas.json",
                t.as_str()
            );
        }
    }

    /// The service worker keeps every file the page needs, so the workbench opens offline.
    #[test]
    fn the_service_worker_keeps_every_asset() {
        let sw = asset("sw.js").expect("sw.js is embedded");
        for name in asset_names() {
            if name == "index.html" || name == "sw.js" {
                continue;
            }
            assert!(
                sw.contains(&format!("\"/app/{name}\"")),
                "sw.js does not keep /app/{name}"
            );
        }
        assert!(sw.contains("\"/app/schemas.json\"") && sw.contains("\"/app/types.json\""));
    }

    #[test]
    fn every_type_names_its_signers() {
        let t = types_json();
        assert_eq!(
            t["weighed"]["signers"][0]["role"], "weigher",
            "the acting role comes first"
        );
        for kind in StatementType::ALL {
            assert!(
                t[kind.as_str()]["signers"]
                    .as_array()
                    .is_some_and(|s| !s.is_empty())
            );
        }
    }
}
