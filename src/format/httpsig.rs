//! HTTP Message Signatures (RFC 9421), the part custody uses to sign read requests: Ed25519
//! (`alg="ed25519"`), the derived components `@method`, `@authority`, `@path`, `@query` and plain
//! header fields, and the parameters `created`, `expires`, `keyid`, `alg`, `nonce`. This module
//! alone decides which bytes of a request are signed (the signature base, RFC 9421 §2.5). It is
//! pure: it never reads a clock (callers pass `now`) and never decides whether a key may read.

use crate::base::limits::{NONCE_CHARS_MAX, NONCE_CHARS_MIN};
use crate::base::words::{Explain, Message, msg};
use crate::keys::signing::{PublicKey, SecretKey, Signature};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

/// The dictionary label of custody's signature in `Signature-Input` and `Signature`.
pub const LABEL: &str = "custody";

/// What every custody read signature must cover: the method, the server it was meant for, and
/// the whole request target, so that a captured signature cannot be replayed on another route,
/// another query or another server.
pub const READ_COMPONENTS: [&str; 4] = ["@method", "@authority", "@path", "@query"];

/// A signed read is accepted for 300 s after its `created` time: long enough for a slow link and
/// modest clock drift, short enough that a captured request is soon worthless.
pub const READ_SIGNATURE_AGE_S_MAX: i64 = 300;

/// A `created` time up to 60 s in the future is tolerated (a device clock slightly ahead).
pub const CLOCK_SKEW_S_MAX: i64 = 60;

/// Header values longer than 4 KiB are refused before parsing: a custody signature header is
/// about 150 bytes.
pub const SIGNATURE_HEADER_BYTES_MAX: usize = 4096;

/// Covered components at most: the custody set is four; the bound stops a hostile list.
const COMPONENTS_MAX: usize = 32;

/// The one message of every signed read that was not verified as an enrolled officer's current
/// key, whatever the reason (no such key id, a signature that does not verify, a rotated-out key,
/// another server's name, a nonce already seen): the answer must not tell a prober which key ids
/// exist, so it cannot say which check failed.
pub const NOT_VERIFIED: &str = "err.auth.not_verified";

/// Why a signed request was refused before (or while) its signature was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpSigError {
    Missing(&'static str),
    /// `why` says what is wrong with the header's value.
    Malformed {
        header: &'static str,
        why: Message,
    },
    NoLabel {
        header: &'static str,
    },
    Uncovered(&'static str),
    AbsentComponent(String),
    ParamMissing(&'static str),
    Algorithm(String),
    Stale {
        created: i64,
        age: i64,
    },
    Future {
        created: i64,
        ahead: i64,
    },
    Expired(i64),
    BadSignature(String),
}

crate::english_display!(HttpSigError);

impl Explain for HttpSigError {
    fn explain(&self) -> Message {
        match self {
            Self::Missing(header) => msg("err.httpsig.missing").arg("header", header),
            Self::Malformed { header, why } => msg("err.httpsig.malformed")
                .arg("header", header)
                .part("why", why.clone()),
            Self::NoLabel { header } => msg("err.httpsig.no_label")
                .arg("header", header)
                .quoted("label", LABEL),
            Self::Uncovered(component) => msg("err.httpsig.uncovered")
                .arg("component", component)
                .quoted("components", READ_COMPONENTS),
            Self::AbsentComponent(component) => {
                msg("err.httpsig.absent_component").arg("component", component)
            }
            Self::ParamMissing(param) => msg("err.httpsig.param_missing").arg("param", param),
            Self::Algorithm(alg) => msg("err.httpsig.algorithm").quoted("alg", alg),
            Self::Stale { created, age } => msg("err.httpsig.stale")
                .arg("created", created)
                .arg("age", age)
                .arg("max", READ_SIGNATURE_AGE_S_MAX),
            Self::Future { created, ahead } => msg("err.httpsig.future")
                .arg("created", created)
                .arg("ahead", ahead),
            Self::Expired(at) => msg("err.httpsig.expired").arg("at", at),
            Self::BadSignature(key) => msg("err.httpsig.bad_signature").arg("key", key),
        }
    }
}

/// The parts of a request that a signature can cover.
#[derive(Debug, Clone)]
pub struct RequestParts<'a> {
    pub method: &'a str,
    /// `host[:port]` as the client addressed the server.
    pub authority: &'a str,
    pub path: &'a str,
    /// The query without its `?`, if the target has one.
    pub query: Option<&'a str>,
    /// Header fields, names in any case.
    pub headers: Vec<(&'a str, &'a str)>,
}

impl RequestParts<'_> {
    /// The value of one covered component (RFC 9421 §2.1, §2.2).
    fn component(&self, name: &str) -> Result<String, HttpSigError> {
        Ok(match name {
            "@method" => self.method.to_owned(),
            "@authority" => self.authority.to_ascii_lowercase(),
            "@path" => {
                if self.path.is_empty() {
                    "/".to_owned()
                } else {
                    self.path.to_owned()
                }
            }
            "@query" => format!("?{}", self.query.unwrap_or("")),
            n if n.starts_with('@') => return Err(HttpSigError::AbsentComponent(n.to_owned())),
            header => {
                let values: Vec<&str> = self
                    .headers
                    .iter()
                    .filter(|(k, _)| k.eq_ignore_ascii_case(header))
                    .map(|(_, v)| v.trim())
                    .collect();
                if values.is_empty() {
                    return Err(HttpSigError::AbsentComponent(header.to_owned()));
                }
                values.join(", ")
            }
        })
    }
}

/// The parameters of one signature, parsed from `Signature-Input`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureInput {
    pub components: Vec<String>,
    pub created: Option<i64>,
    pub expires: Option<i64>,
    pub keyid: Option<String>,
    pub alg: Option<String>,
    pub nonce: Option<String>,
    /// The member's value exactly as sent: the `@signature-params` line of the base.
    pub serialized: String,
}

/// Serializes the signature parameters (the value of a `Signature-Input` member); `nonce`, when
/// given, is appended as an sf-string.
pub fn serialize_params(
    components: &[&str],
    created: i64,
    keyid: &str,
    nonce: Option<&str>,
) -> String {
    let list: Vec<String> = components.iter().map(|c| format!("\"{c}\"")).collect();
    let nonce = nonce
        .map(|n| {
            format!(
                ";nonce=\"{}\"",
                n.replace('\\', "\\\\").replace('"', "\\\"")
            )
        })
        .unwrap_or_default();
    format!(
        "({});created={created};keyid=\"{keyid}\";alg=\"ed25519\"{nonce}",
        list.join(" ")
    )
}

/// The signature base (RFC 9421 §2.5): one line per covered component, then the parameters.
pub fn signature_base(
    request: &RequestParts<'_>,
    input: &SignatureInput,
) -> Result<String, HttpSigError> {
    let mut base = String::new();
    for name in &input.components {
        let value = request.component(name)?;
        base.push_str(&format!("\"{name}\": {value}\n"));
    }
    base.push_str(&format!("\"@signature-params\": {}", input.serialized));
    Ok(base)
}

/// Signs a request with the custody component set and no nonce; returns the `Signature-Input`
/// and `Signature` header values. Such a signature can be replayed until it expires.
pub fn sign(key: &SecretKey, request: &RequestParts<'_>, created: i64) -> (String, String) {
    sign_with_nonce(key, request, created, None)
}

/// Signs a request with the custody component set and, when given, a `nonce` parameter (the
/// caller draws it: random, used once); returns the `Signature-Input` and `Signature` values.
pub fn sign_with_nonce(
    key: &SecretKey,
    request: &RequestParts<'_>,
    created: i64,
    nonce: Option<&str>,
) -> (String, String) {
    let keyid = key.public().key_id();
    let serialized = serialize_params(&READ_COMPONENTS, created, &keyid, nonce);
    let input = SignatureInput {
        components: READ_COMPONENTS.iter().map(|c| (*c).to_owned()).collect(),
        created: Some(created),
        expires: None,
        keyid: Some(keyid),
        alg: Some("ed25519".into()),
        nonce: nonce.map(str::to_owned),
        serialized: serialized.clone(),
    };
    let base = signature_base(request, &input)
        .expect("derived components are always present in a request");
    let sig = key.sign(base.as_bytes());
    (
        format!("{LABEL}={serialized}"),
        format!("{LABEL}=:{}:", B64.encode(sig.to_bytes())),
    )
}

/// A signature read from a request, checked for shape and covered components but not yet
/// verified against a key.
#[derive(Debug, Clone)]
pub struct Presented {
    pub input: SignatureInput,
    pub keyid: String,
    signature: Signature,
    base: String,
}

impl Presented {
    /// Reads custody's signature from the two headers and builds its base from the request.
    pub fn from_request(
        request: &RequestParts<'_>,
        signature_input: Option<&str>,
        signature: Option<&str>,
    ) -> Result<Self, HttpSigError> {
        let si = signature_input.ok_or(HttpSigError::Missing("Signature-Input"))?;
        let sg = signature.ok_or(HttpSigError::Missing("Signature"))?;
        let input = parse_signature_input(si)?;
        for required in READ_COMPONENTS {
            if !input.components.iter().any(|c| c == required) {
                return Err(HttpSigError::Uncovered(required));
            }
        }
        if let Some(alg) = &input.alg
            && alg != "ed25519"
        {
            return Err(HttpSigError::Algorithm(alg.clone()));
        }
        let keyid = input
            .keyid
            .clone()
            .ok_or(HttpSigError::ParamMissing("keyid"))?;
        if input.created.is_none() {
            return Err(HttpSigError::ParamMissing("created"));
        }
        if let Some(nonce) = &input.nonce
            && !(NONCE_CHARS_MIN..=NONCE_CHARS_MAX).contains(&nonce.chars().count())
        {
            return Err(HttpSigError::Malformed {
                header: "Signature-Input",
                why: msg("err.httpsig.why.nonce_length")
                    .arg("min", NONCE_CHARS_MIN)
                    .arg("max", NONCE_CHARS_MAX),
            });
        }
        let signature = parse_signature(sg)?;
        let base = signature_base(request, &input)?;
        Ok(Self {
            input,
            keyid,
            signature,
            base,
        })
    }

    /// Checks `created` and `expires` against the verifier's clock (Unix seconds).
    pub fn check_time(&self, now: i64) -> Result<(), HttpSigError> {
        let created = self
            .input
            .created
            .ok_or(HttpSigError::ParamMissing("created"))?;
        if created > now + CLOCK_SKEW_S_MAX {
            return Err(HttpSigError::Future {
                created,
                ahead: created - now,
            });
        }
        if now - created > READ_SIGNATURE_AGE_S_MAX {
            return Err(HttpSigError::Stale {
                created,
                age: now - created,
            });
        }
        if let Some(expires) = self.input.expires
            && expires <= now
        {
            return Err(HttpSigError::Expired(expires));
        }
        Ok(())
    }

    /// Verifies the signature with one candidate key (strict Ed25519).
    pub fn verify(&self, key: &PublicKey) -> Result<(), HttpSigError> {
        key.verify_strict(self.base.as_bytes(), &self.signature)
            .map_err(|_| HttpSigError::BadSignature(self.keyid.clone()))
    }
}

/// Splits a structured-field dictionary into its members at top-level commas.
fn members(header: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut quoted, mut escaped, mut start) = (0i32, false, false, 0usize);
    for (i, c) in header.char_indices() {
        if quoted {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => quoted = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(header[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(header[start..].trim());
    out
}

fn member<'h>(header: &'h str, name: &'static str) -> Result<&'h str, HttpSigError> {
    if header.len() > SIGNATURE_HEADER_BYTES_MAX {
        return Err(HttpSigError::Malformed {
            header: name,
            why: msg("err.httpsig.why.too_long").arg("max", SIGNATURE_HEADER_BYTES_MAX),
        });
    }
    members(header)
        .into_iter()
        .find_map(|m| {
            m.strip_prefix(LABEL)
                .and_then(|rest| rest.strip_prefix('='))
        })
        .ok_or(HttpSigError::NoLabel { header: name })
}

/// Reads an sf-string starting at a `"`; returns it and the rest.
fn sf_string(s: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = s.strip_prefix('"')?.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, e @ ('"' | '\\'))) => out.push(e),
                _ => return None,
            },
            '"' => return Some((out, &s[i + 2..])),
            c if (' '..='~').contains(&c) => out.push(c),
            _ => return None,
        }
    }
    None
}

/// Parses custody's member of `Signature-Input`: an inner list of strings with parameters.
pub fn parse_signature_input(header: &str) -> Result<SignatureInput, HttpSigError> {
    const H: &str = "Signature-Input";
    let why = |why: Message| HttpSigError::Malformed { header: H, why };
    let bad = |key: &'static str| why(msg(key));
    let value = member(header, H)?;
    let mut rest = value
        .strip_prefix('(')
        .ok_or_else(|| bad("err.httpsig.why.list_start"))?;
    let mut components = Vec::new();
    loop {
        rest = rest.trim_start_matches(' ');
        if let Some(r) = rest.strip_prefix(')') {
            rest = r;
            break;
        }
        let (name, r) = sf_string(rest).ok_or_else(|| bad("err.httpsig.why.component_string"))?;
        if components.len() == COMPONENTS_MAX {
            return Err(bad("err.httpsig.why.too_many_components"));
        }
        components.push(name);
        rest = r;
    }
    let mut input = SignatureInput {
        components,
        created: None,
        expires: None,
        keyid: None,
        alg: None,
        nonce: None,
        serialized: value.to_owned(),
    };
    while let Some(r) = rest.strip_prefix(';') {
        let eq = r
            .find('=')
            .ok_or_else(|| bad("err.httpsig.why.param_no_value"))?;
        let (name, after) = (&r[..eq], &r[eq + 1..]);
        let (text, integer, next) = if after.starts_with('"') {
            let (s, n) =
                sf_string(after).ok_or_else(|| bad("err.httpsig.why.param_string_malformed"))?;
            (Some(s), None, n)
        } else {
            let end = after.find(';').unwrap_or(after.len());
            let n: i64 = after[..end]
                .parse()
                .map_err(|_| bad("err.httpsig.why.param_kind"))?;
            (None, Some(n), &after[end..])
        };
        let wrong = |key: &'static str| why(msg(key).arg("name", name));
        let slot_int = |v: Option<i64>| v.ok_or_else(|| wrong("err.httpsig.why.param_integer"));
        let slot_str = |v: Option<String>| v.ok_or_else(|| wrong("err.httpsig.why.param_string"));
        match name {
            "created" => input.created = Some(slot_int(integer)?),
            "expires" => input.expires = Some(slot_int(integer)?),
            "keyid" => input.keyid = Some(slot_str(text)?),
            "alg" => input.alg = Some(slot_str(text)?),
            "nonce" => input.nonce = Some(slot_str(text)?),
            "tag" => {}
            other => {
                return Err(why(
                    msg("err.httpsig.why.param_unknown").quoted("name", other)
                ));
            }
        }
        rest = next;
    }
    if !rest.is_empty() {
        return Err(bad("err.httpsig.why.trailing"));
    }
    Ok(input)
}

/// Parses custody's member of `Signature`: a byte sequence `:base64:` of 64 bytes.
pub fn parse_signature(header: &str) -> Result<Signature, HttpSigError> {
    const H: &str = "Signature";
    let bad = |key: &'static str| HttpSigError::Malformed {
        header: H,
        why: msg(key),
    };
    let value = member(header, H)?;
    let inner = value
        .strip_prefix(':')
        .and_then(|v| v.strip_suffix(':'))
        .ok_or_else(|| bad("err.httpsig.why.signature_form"))?;
    let bytes = B64
        .decode(inner)
        .map_err(|_| bad("err.httpsig.why.signature_base64"))?;
    Signature::from_slice(&bytes).map_err(|_| bad("err.httpsig.why.signature_length"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(path: &'a str, query: Option<&'a str>) -> RequestParts<'a> {
        RequestParts {
            method: "GET",
            authority: "127.0.0.1:8080",
            path,
            query,
            headers: vec![],
        }
    }

    #[test]
    fn a_signed_request_verifies_and_any_change_to_its_target_breaks_it() {
        let key = SecretKey::from_seed(&[7; 32]);
        let req = get("/v1/items/BB-LPN-2025-0418/history", None);
        let (si, sg) = sign(&key, &req, 1_800_000_000);
        let p = Presented::from_request(&req, Some(&si), Some(&sg)).expect("parses");
        p.verify(&key.public()).expect("verifies");
        p.check_time(1_800_000_100).expect("fresh");
        for other in [
            get("/v1/items/BB-LPN-2025-0419/history", None),
            get("/v1/items/BB-LPN-2025-0418/history", Some("x=1")),
            RequestParts {
                method: "POST",
                ..req.clone()
            },
            RequestParts {
                authority: "evil.example",
                ..req.clone()
            },
        ] {
            let p = Presented::from_request(&other, Some(&si), Some(&sg)).expect("parses");
            assert!(matches!(
                p.verify(&key.public()),
                Err(HttpSigError::BadSignature(_))
            ));
        }
    }

    #[test]
    fn a_nonce_is_signed_and_parsed_and_must_have_a_sane_length() {
        let key = SecretKey::from_seed(&[7; 32]);
        let req = get("/v1/pending", None);
        let (si, sg) = sign_with_nonce(&key, &req, 1000, Some("q1w2e3r4t5y6u7i8o9p0aa"));
        assert!(si.ends_with(";nonce=\"q1w2e3r4t5y6u7i8o9p0aa\""), "{si}");
        let p = Presented::from_request(&req, Some(&si), Some(&sg)).expect("parses");
        assert_eq!(p.input.nonce.as_deref(), Some("q1w2e3r4t5y6u7i8o9p0aa"));
        p.verify(&key.public())
            .expect("the nonce is covered and verifies");
        // The nonce is part of the signed parameters: another nonce breaks the signature.
        let swapped = si.replace("q1w2e3r4t5y6u7i8o9p0aa", "q1w2e3r4t5y6u7i8o9p0bb");
        let p = Presented::from_request(&req, Some(&swapped), Some(&sg)).expect("parses");
        assert!(p.verify(&key.public()).is_err());
        for bad in ["short", &"x".repeat(NONCE_CHARS_MAX + 1)] {
            let (si, sg) = sign_with_nonce(&key, &req, 1000, Some(bad));
            assert!(matches!(
                Presented::from_request(&req, Some(&si), Some(&sg)),
                Err(HttpSigError::Malformed { .. })
            ));
        }
    }

    #[test]
    fn freshness_is_judged_against_the_given_clock() {
        let key = SecretKey::from_seed(&[7; 32]);
        let req = get("/v1/pending", None);
        let (si, sg) = sign(&key, &req, 1000);
        let p = Presented::from_request(&req, Some(&si), Some(&sg)).expect("parses");
        assert!(p.check_time(1000 + READ_SIGNATURE_AGE_S_MAX).is_ok());
        assert!(matches!(
            p.check_time(1001 + READ_SIGNATURE_AGE_S_MAX),
            Err(HttpSigError::Stale { .. })
        ));
        assert!(matches!(
            p.check_time(1000 - CLOCK_SKEW_S_MAX - 1),
            Err(HttpSigError::Future { .. })
        ));
    }

    #[test]
    fn a_signature_that_leaves_out_the_query_is_refused() {
        let input = "custody=(\"@method\" \"@authority\" \"@path\");created=1;keyid=\"k\"";
        let sig = format!("custody=:{}:", B64.encode([0u8; 64]));
        let err = Presented::from_request(&get("/v1/pending", None), Some(input), Some(&sig))
            .expect_err("refused");
        assert_eq!(err, HttpSigError::Uncovered("@query"));
    }

    #[test]
    fn malformed_headers_are_named() {
        for bad in [
            "custody=\"@method\"",
            "custody=(\"@method\";created=1",
            "custody=(\"@method\");created=x",
            "custody=(\"@method\");colour=\"red\"",
            "custody=(\"@method\");created=1 trailing",
        ] {
            assert!(
                matches!(
                    parse_signature_input(bad),
                    Err(HttpSigError::Malformed {
                        header: "Signature-Input",
                        ..
                    })
                ),
                "{bad}"
            );
        }
        assert_eq!(
            parse_signature_input("other=(\"@method\");created=1"),
            Err(HttpSigError::NoLabel {
                header: "Signature-Input"
            })
        );
        assert!(parse_signature("custody=:AAAA:").is_err());
    }
}
