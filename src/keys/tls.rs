//! TLS certificates for `custody serve` (`custody tls init`): what a facility's local CA and its
//! server certificate say — ECDSA P-256 keys, the CA's name constraints, the server's names and
//! addresses, the validity periods — generated in memory and returned as PEM with their SHA-256
//! fingerprints. The one module naming `rcgen`. It must never write a file (that is `app::tls`'s)
//! nor decide where the files go.

use crate::base::class::{Class, Classify};
use crate::base::time::Timestamp;
use crate::base::words::{Explain, Message, msg};
use crate::keys::signing::{KeyError, random_bytes};
use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    NameConstraints, PKCS_ECDSA_P256_SHA256, SanType, SerialNumber,
};
use sha2::{Digest as _, Sha256};
use std::net::IpAddr;

/// The local CA is valid for 10 years: it is installed by hand on every phone of the facility,
/// and each renewal means visiting every phone again; its name constraints keep a stolen CA key
/// from vouching for any other site.
pub const CA_VALIDITY_YEARS: i16 = 10;

/// The server certificate is valid for 824 days, under the 825 days Apple platforms accept for a
/// TLS server certificate (iOS 13 and macOS 10.15 refuse longer ones, even from a trusted CA);
/// one day of margin because the period starts at midnight UTC of the day it is issued.
pub const SERVER_VALIDITY_DAYS: i32 = 824;

/// The most days a server certificate may be valid on Apple platforms (`SERVER_VALIDITY_DAYS`).
pub const APPLE_SERVER_VALIDITY_DAYS_MAX: i32 = 825;
const _: () = assert!(SERVER_VALIDITY_DAYS < APPLE_SERVER_VALIDITY_DAYS_MAX);

/// Bytes of a certificate's random serial number: 16 is what the CA/Browser Forum asks for
/// (at least 64 random bits), and stays under RFC 5280's 20-octet limit.
const SERIAL_BYTES: usize = 16;

/// A DNS name (`--name`) is at most 253 characters, the longest a DNS name can be (RFC 1035).
pub const DNS_NAME_CHARS_MAX: usize = 253;

/// A label of a DNS name (between dots) is at most 63 characters (RFC 1035 §2.3.4).
pub const DNS_LABEL_CHARS_MAX: usize = 63;

/// What `tls init` is asked for: the names and addresses phones will use to reach the server.
#[derive(Debug, Clone)]
pub struct Request {
    /// Who the CA belongs to, in its common name ("custody local CA <facility>").
    pub facility: String,
    pub names: Vec<String>,
    pub ips: Vec<IpAddr>,
}

/// One certificate with its key, as PEM, and the certificate's SHA-256 fingerprint.
#[derive(Debug, Clone)]
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
    /// SHA-256 of the certificate's DER, as `AB:CD:…` (what phones and openssl show).
    pub fingerprint: String,
}

/// The CA and the server certificate it signed.
#[derive(Debug, Clone)]
pub struct Pair {
    pub ca: Issued,
    pub server: Issued,
}

/// Why the certificates could not be made.
#[derive(Debug)]
pub enum TlsError {
    NoNames,
    BadName(String),
    /// The date library's message.
    Clock(String),
    Generate(rcgen::Error),
    Key(KeyError),
}

crate::english_display!(TlsError);

impl Explain for TlsError {
    fn explain(&self) -> Message {
        match self {
            Self::NoNames => msg("err.tls.no_names"),
            Self::BadName(name) => msg("err.tls.bad_name").quoted("name", name),
            Self::Clock(why) => msg("err.tls.clock").arg("why", why),
            Self::Generate(e) => msg("err.tls.generate").arg("why", e),
            Self::Key(e) => e.explain(),
        }
    }
}

impl From<rcgen::Error> for TlsError {
    fn from(e: rcgen::Error) -> Self {
        Self::Generate(e)
    }
}

impl From<KeyError> for TlsError {
    fn from(e: KeyError) -> Self {
        Self::Key(e)
    }
}

impl Classify for TlsError {
    fn class(&self) -> Class {
        match self {
            Self::NoNames | Self::BadName(_) => Class::Usage,
            Self::Generate(_) | Self::Clock(_) => Class::Internal,
            Self::Key(e) => e.class(),
        }
    }
}

/// A DNS name as a certificate may carry it: labels of letters, digits and '-', dot-separated.
fn check_name(name: &str) -> Result<(), TlsError> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= DNS_LABEL_CHARS_MAX
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if name.len() <= DNS_NAME_CHARS_MAX && name.split('.').all(label_ok) {
        Ok(())
    } else {
        Err(TlsError::BadName(name.to_owned()))
    }
}

/// Generates the facility's CA and a server certificate it signs, both valid from midnight UTC of
/// `now`'s day.
pub fn generate(request: &Request, now: Timestamp) -> Result<Pair, TlsError> {
    if request.names.is_empty() && request.ips.is_empty() {
        return Err(TlsError::NoNames);
    }
    for name in &request.names {
        check_name(name)?;
    }
    let today = jiff::Timestamp::from_millisecond(now.unix_ms())
        .map_err(|e| TlsError::Clock(e.to_string()))?
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let ca_params = ca_params(request, today)?;
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let ca = issued(ca_cert.der(), &ca_key);
    let issuer = Issuer::new(ca_params, ca_key);
    // ECDSA P-256, not Ed25519 like the officers' keys: no browser accepts an Ed25519 server
    // certificate (Chrome, Safari and Firefox offer only ECDSA and RSA for TLS server auth).
    let server_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let server_cert = server_params(request, today)?.signed_by(&server_key, &issuer)?;
    let server = issued(server_cert.der(), &server_key);
    Ok(Pair { ca, server })
}

/// The CA: CA:TRUE with path length 0 (it signs server certificates only, never another CA),
/// keyCertSign and cRLSign, and name constraints that permit only the requested names.
fn ca_params(request: &Request, today: jiff::civil::Date) -> Result<CertificateParams, TlsError> {
    let mut params = CertificateParams::default();
    params.distinguished_name = distinguished(&format!("custody local CA {}", request.facility));
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.name_constraints = Some(constraints(request));
    params.serial_number = Some(serial()?);
    let until = today.checked_add(jiff::Span::new().years(CA_VALIDITY_YEARS));
    validity(
        &mut params,
        today,
        until.map_err(|e| TlsError::Clock(e.to_string()))?,
    );
    Ok(params)
}

/// Name constraints: the requested DNS names (each with its subdomains) and single addresses.
/// When no name (or no address) is asked for, all of that kind are excluded: RFC 5280 leaves a
/// kind with no permitted subtree unconstrained, which would let the CA vouch for any site.
fn constraints(request: &Request) -> NameConstraints {
    let mut permitted: Vec<GeneralSubtree> = request
        .names
        .iter()
        .map(|n| GeneralSubtree::DnsName(n.clone()))
        .collect();
    permitted.extend(request.ips.iter().map(|ip| {
        let prefix = if ip.is_ipv4() { 32 } else { 128 };
        GeneralSubtree::IpAddress(CidrSubnet::from_addr_prefix(*ip, prefix))
    }));
    let mut excluded = Vec::new();
    if request.names.is_empty() {
        // The empty DNS name matches every name.
        excluded.push(GeneralSubtree::DnsName(String::new()));
    }
    if request.ips.is_empty() {
        excluded.push(GeneralSubtree::IpAddress(CidrSubnet::from_v4_prefix(
            [0; 4], 0,
        )));
        excluded.push(GeneralSubtree::IpAddress(CidrSubnet::from_v6_prefix(
            [0; 16], 0,
        )));
    }
    NameConstraints {
        permitted_subtrees: permitted,
        excluded_subtrees: excluded,
    }
}

/// The server certificate: every requested name and address as a SAN, serverAuth only.
fn server_params(
    request: &Request,
    today: jiff::civil::Date,
) -> Result<CertificateParams, TlsError> {
    let mut params = CertificateParams::default();
    // Not a host name (it has a space), so that no verifier matches it against the constraints.
    params.distinguished_name = distinguished(&format!("custody server {}", request.facility));
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    for name in &request.names {
        let ia5 = name
            .as_str()
            .try_into()
            .map_err(|_| TlsError::BadName(name.clone()))?;
        params.subject_alt_names.push(SanType::DnsName(ia5));
    }
    params
        .subject_alt_names
        .extend(request.ips.iter().map(|ip| SanType::IpAddress(*ip)));
    params.serial_number = Some(serial()?);
    let until = today.checked_add(jiff::Span::new().days(SERVER_VALIDITY_DAYS));
    validity(
        &mut params,
        today,
        until.map_err(|e| TlsError::Clock(e.to_string()))?,
    );
    Ok(params)
}

fn distinguished(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn
}

/// Sets `params`' validity: from midnight UTC of `from` to midnight UTC of `until`.
fn validity(params: &mut CertificateParams, from: jiff::civil::Date, until: jiff::civil::Date) {
    let midnight = |d: jiff::civil::Date| {
        rcgen::date_time_ymd(
            i32::from(d.year()),
            u8::try_from(d.month()).unwrap_or(1),
            u8::try_from(d.day()).unwrap_or(1),
        )
    };
    params.not_before = midnight(from);
    params.not_after = midnight(until);
}

/// A random positive serial number.
fn serial() -> Result<SerialNumber, TlsError> {
    let mut bytes = random_bytes::<SERIAL_BYTES>()?;
    bytes[0] = (bytes[0] & 0x7f) | 0x01;
    Ok(SerialNumber::from_slice(&bytes))
}

fn issued(der: &[u8], key: &KeyPair) -> Issued {
    Issued {
        cert_pem: pem("CERTIFICATE", der),
        key_pem: pem("PRIVATE KEY", key.serialized_der()),
        fingerprint: fingerprint(der),
    }
}

/// `AB:CD:…`: SHA-256 of `der` in upper-case hex pairs.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// RFC 7468 PEM: base64 in lines of 64 characters between the label's lines.
fn pem(label: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
