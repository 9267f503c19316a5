//! Recording at the terminal without writing JSON: `custody template` (a complete example
//! statement of any type, or the list of types) and `custody new TYPE` (a statement built from
//! one flag per field, read from `schemas/<type>.json`; missing fields asked for at a terminal,
//! all named at once otherwise; local times converted to UTC), recorded through the same path as
//! `custody record`. It must never sign or record a statement it has not fully composed, and
//! never write anything when a field is missing.

use super::args::{JsonArg, TargetArg};
use super::common::{Failure, Outcome, print_json};
use super::record::{Delivery, record_bytes};
use crate::app::compose;
use crate::app::templates;
use crate::base::time::{Clock, parse_local};
use crate::base::words::{Explain as _, Lang, Message, msg};
use crate::edge::render::said;
use crate::format::fields::{self, Field, Shape};
use crate::format::statement::StatementType;
use clap::{Args, FromArgMatches as _};
use serde_json::{Map, Value, json};
use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Args, Debug)]
pub(super) struct TemplateArgs {
    /// The statement type; without it, every type with its Indonesian and English name
    #[arg(value_name = "TYPE")]
    kind: Option<String>,
    #[command(flatten)]
    json: JsonArg,
}

/// `custody template`.
pub(super) fn template(a: TemplateArgs) -> Outcome {
    let Some(kind) = a.kind else {
        let list: Vec<Value> = StatementType::ALL
            .iter()
            .map(|t| json!({"type": t.as_str(), "indonesian": t.indonesian(), "english": templates::english(*t)}))
            .collect();
        use crate::format::categories::{CATEGORIES, CATEGORIES_VERSION};
        let categories: Vec<Value> = CATEGORIES
            .iter()
            .map(|c| json!({"category": c.value, "indonesian": c.indonesian, "english": c.english}))
            .collect();
        if a.json.json {
            print_json(
                &json!({"types": list, "categories_version": CATEGORIES_VERSION, "categories": categories}),
            );
        } else {
            for t in StatementType::ALL {
                out!(
                    "{:<20} {:<36} {}",
                    t.as_str(),
                    t.indonesian(),
                    templates::english(*t)
                );
            }
            out!(
                "{}",
                said(
                    "cli.template.categories",
                    &[("version", &CATEGORIES_VERSION)]
                )
            );
            for c in CATEGORIES {
                out!("  {:<14} {} / {}", c.value, c.indonesian, c.english);
            }
        }
        return Ok(());
    };
    out!("{}", in_order(&templates::template(kind_of(&kind)?)));
    Ok(())
}

/// A statement's JSON with the common fields first, in the order docs/EVENTS.md lists them, then
/// the body: what an officer reads top to bottom.
fn in_order(statement: &Value) -> String {
    let Value::Object(map) = statement else {
        return statement.to_string();
    };
    let first = ["type", "id", "occurred_at", "facility", "signers", "after"];
    let keys = first
        .iter()
        .filter(|k| map.contains_key(**k))
        .map(|k| (*k).to_owned())
        .chain(map.keys().filter(|k| !first.contains(&k.as_str())).cloned());
    let lines: Vec<String> = keys
        .map(|k| {
            let v = serde_json::to_string_pretty(&map[&k]).expect("a JSON value always serializes");
            format!("  {}: {}", Value::String(k), v.replace('\n', "\n  "))
        })
        .collect();
    format!("{{\n{}\n}}", lines.join(",\n"))
}

fn kind_of(text: &str) -> Result<StatementType, Failure> {
    StatementType::parse(text).ok_or_else(|| {
        let known: Vec<&str> = StatementType::ALL.iter().map(|t| t.as_str()).collect();
        Failure::usage(
            msg("err.cli.not_a_type")
                .quoted("kind", crate::base::class::echo(text))
                .arg("types", known.join(", ")),
        )
    })
}

/// `custody new`: the type, then everything else, parsed against the type's own flags.
#[derive(Args, Debug)]
pub(super) struct NewArgs {
    /// The statement type (`custody template` lists them); `custody new TYPE --help` lists its fields
    #[arg(value_name = "TYPE", allow_hyphen_values = true)]
    kind: Option<String>,
    /// The statement's fields and the options below, as flags
    #[arg(
        value_name = "FLAGS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    rest: Vec<String>,
}

/// The options of `custody new` besides the statement's own fields.
#[derive(Args, Debug)]
struct NewOptions {
    #[command(flatten)]
    target: TargetArg,
    /// Private key file of a signer; repeat for every signer
    #[arg(long = "key", value_name = "FILE")]
    keys: Vec<PathBuf>,
    /// A signer: ROLE=NIP, e.g. --signer finder=198803222010121003; repeat for every signer
    #[arg(long = "signer", value_name = "ROLE=NIP")]
    signers: Vec<String>,
    /// Where the act happened, e.g. LPN-JAKARTA (also from CUSTODY_FACILITY)
    #[arg(long, env = "CUSTODY_FACILITY", value_name = "CODE")]
    facility: Option<String>,
    /// When it happened, in local time with its zone: "2025-08-04 09:15 WIB" (WITA, WIT, +07:00, or RFC 3339); default now
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// Any field as JSON, NAME=JSON, e.g. --field 'fields={"/net_mass_mg":11200}'
    #[arg(long = "field", value_name = "NAME=JSON")]
    field_json: Vec<String>,
    /// Print the unsigned statement (with id, occurred_at and after filled) instead of recording it
    #[arg(long)]
    print: bool,
    #[command(flatten)]
    json: JsonArg,
}

/// The flag id of a body field, kept apart from the options' ids.
fn id_of(f: &Field) -> String {
    format!("body.{}", f.name)
}

fn command_for(kind: Option<StatementType>, body: &[Field]) -> clap::Command {
    use clap::Args as _;
    let name = kind.map_or("custody new TYPE".to_owned(), |k| {
        format!("custody new {k}")
    });
    let about = "Build a statement from flags, fill id, occurred_at and after, sign and record it (buat pernyataan tanpa menulis JSON)";
    let mut cmd =
        NewOptions::augment_args(clap::Command::new(name).no_binary_name(true).about(about));
    for f in body {
        let mut arg = clap::Arg::new(id_of(f))
            .long(f.flag())
            .value_name(f.name.to_uppercase())
            .action(clap::ArgAction::Append)
            .help(format!(
                "{}{} [{}]",
                if f.required { "" } else { "(optional) " },
                f.description,
                f.how().render(crate::edge::terminal_lang())
            ));
        if f.flag() != f.name {
            arg = arg.alias(f.name.clone());
        }
        cmd = cmd.arg(arg);
    }
    cmd
}

/// `custody new`.
pub(super) fn new(a: NewArgs, clock: &Arc<dyn Clock>) -> Outcome {
    let kind = match a.kind.as_deref() {
        None | Some("--help" | "-h") => {
            let _ = command_for(None, &[]).print_long_help();
            out!("{}", said("cli.new.types", &[]));
            return Ok(());
        }
        Some(k) => kind_of(k)?,
    };
    let body_fields = fields::body_fields(kind);
    let matches = match command_for(Some(kind), &body_fields).try_get_matches_from(&a.rest) {
        Ok(m) => m,
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => {
            let _ = e.print();
            return Ok(());
        }
        Err(e) => {
            // clap's own words, as it says them.
            let text = e.render().to_string();
            return Err(Failure::usage(Message::verbatim(
                text.trim_start_matches("error: ").trim_end(),
            )));
        }
    };
    let opts = NewOptions::from_arg_matches(&matches)
        .map_err(|e| Failure::usage(Message::verbatim(e.to_string())))?;
    let mut body = Map::new();
    for f in &body_fields {
        for text in matches.get_many::<String>(&id_of(f)).into_iter().flatten() {
            fields::merge(
                &mut body,
                f,
                fields::value_of(f, text).map_err(Failure::usage)?,
            );
        }
    }
    for pair in &opts.field_json {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| Failure::usage(msg("err.cli.field_pair").quoted("pair", pair)))?;
        let value = serde_json::from_str(value).map_err(|e| {
            Failure::usage(msg("err.cli.field_json").arg("name", name).arg("error", e))
        })?;
        body.insert(name.to_owned(), value);
    }
    let mut common = Common::from(&opts)?;
    if opts.keys.is_empty() && !opts.print {
        common.missing_keys = true;
    }
    complete(kind, &body_fields, &mut body, &mut common)?;
    fields::fill_empty_lists(&body_fields, &mut body);
    let bytes = compose_bytes(kind, &opts, common, body, clock)?;
    let how = Delivery {
        fill_after: true,
        print_only: opts.print,
        json: opts.json.json,
    };
    record_bytes(&opts.target, &opts.keys, bytes, how, clock)
}

/// The common fields given as options.
struct Common {
    facility: Option<String>,
    signers: Vec<Value>,
    /// No `--key` was given (and the statement is to be recorded, not printed).
    missing_keys: bool,
}

impl Common {
    fn from(opts: &NewOptions) -> Result<Self, Failure> {
        let signers = opts
            .signers
            .iter()
            .map(|s| signer(s).map_err(Failure::usage))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            facility: opts.facility.clone(),
            signers,
            missing_keys: false,
        })
    }
}

fn signer(text: &str) -> Result<Value, Message> {
    let (role, officer) = text
        .split_once(['=', ':'])
        .ok_or_else(|| msg("err.cli.signer_form").quoted("signer", text))?;
    Ok(json!({"role": role.trim(), "officer": officer.trim()}))
}

/// Who must sign `kind`, from the rules table: `finder 1, witness 1–4`.
fn signer_roles(kind: StatementType) -> String {
    crate::domain::rules::type_rule(kind)
        .signers
        .iter()
        .map(|s| {
            let n = if s.min == s.max {
                s.min.to_string()
            } else {
                format!("{}–{}", s.min, s.max)
            };
            format!("{} {n}", s.role.as_str())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every missing field, asked for at a terminal, or all named at once (exit 2) otherwise.
fn complete(
    kind: StatementType,
    body_fields: &[Field],
    body: &mut Map<String, Value>,
    common: &mut Common,
) -> Outcome {
    let facility = fields::facility_field();
    let roles = signer_roles(kind);
    let mut missing: Vec<(String, Message)> = Vec::new();
    if common.facility.is_none() {
        missing.push(("/facility".into(), field_rule(&facility)));
    }
    if common.signers.is_empty() {
        missing.push((
            "/signers".into(),
            msg("err.cli.signers_rule").arg("roles", &roles),
        ));
    }
    if common.missing_keys {
        missing.push(("--key".into(), msg("err.cli.missing_keys")));
    }
    let gaps = fields::missing(body_fields, body);
    missing.extend(gaps.iter().map(|(p, f)| (p.clone(), field_rule(f))));
    if missing.is_empty() {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() || common.missing_keys {
        return Err(Failure::usage(
            msg("err.cli.fields_missing")
                .arg("count", missing.len())
                .part("lines", missing_lines(missing)),
        ));
    }
    let mut ask = Asker::new();
    say(&said(
        "cli.new.fill_in",
        &[("kind", &kind), ("indonesian", &kind.indonesian())],
    ));
    if common.facility.is_none() {
        common.facility = Some(
            ask.text("/facility", &facility)?
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    if common.signers.is_empty() {
        common.signers = ask.signers(&roles)?;
    }
    for (pointer, f) in gaps {
        let value = ask.field(&pointer, f)?;
        set(body, &pointer, value);
    }
    Ok(())
}

/// What a field holds and how it is written, as the schema says it: `… [teks / text]`.
fn field_rule(f: &Field) -> Message {
    msg("err.cli.field_rule")
        .arg("description", &f.description)
        .part("how", f.how())
}

/// The missing fields, one a line: `  /pointer: what it holds`.
fn missing_lines(missing: Vec<(String, Message)>) -> Message {
    missing
        .into_iter()
        .map(|(pointer, rule)| {
            msg("err.cli.missing_line")
                .arg("pointer", pointer)
                .part("rule", rule)
        })
        .reduce(|above, line| {
            msg("err.cli.next_line")
                .part("above", above)
                .part("line", line)
        })
        .unwrap_or_else(|| Message::verbatim(""))
}

/// Puts `value` at a JSON pointer of one or two steps (`/item`, `/description/form`).
fn set(body: &mut Map<String, Value>, pointer: &str, value: Value) {
    let steps: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    match steps.as_slice() {
        [one] => {
            body.insert((*one).to_owned(), value);
        }
        [outer, inner] => {
            if let Value::Object(o) = body.entry((*outer).to_owned()).or_insert_with(|| json!({})) {
                o.insert((*inner).to_owned(), value);
            }
        }
        _ => {}
    }
}

fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Why an answer was not taken, before it is asked again: in Indonesian, then in English, as
/// every error is told (one line when both say the same).
fn say_error(e: &Message) {
    let [id, en] = Lang::BOTH.map(|lang| e.render(lang));
    say(&format!("  {id}"));
    if en != id {
        say(&format!("  {en}"));
    }
}

/// Asks for values on the terminal: the question on stderr, the answer from stdin.
struct Asker {
    lines: std::io::Lines<std::io::StdinLock<'static>>,
}

impl Asker {
    fn new() -> Self {
        Self {
            lines: std::io::stdin().lock().lines(),
        }
    }

    fn line(&mut self, prompt: &str) -> Result<String, Failure> {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{prompt}> ");
        let _ = err.flush();
        match self.lines.next() {
            Some(Ok(l)) => Ok(l.trim().to_owned()),
            _ => Err(Failure::usage(msg("err.cli.input_ended"))),
        }
    }

    /// The field's pointer, its name in the workbench's words (Indonesian / English, one
    /// catalogue), what the schema says of it, and how to answer — a choice with each value's
    /// Indonesian word beside it.
    fn intro(pointer: &str, f: &Field) {
        let label = field_words(&f.name).map_or_else(String::new, |w| format!("{w} — "));
        say(&format!("\n{pointer}: {label}{}", f.description));
        match &f.shape {
            Shape::Enum(values) => {
                let values: Vec<String> = values
                    .iter()
                    .map(
                        |v| match crate::edge::web::word(false, &format!("enum.{v}")) {
                            Some(w) => format!("{v} ({w})"),
                            None => v.clone(),
                        },
                    )
                    .collect();
                say(&said("cli.new.one_of", &[("values", &values.join(", "))]));
            }
            _ => say(&format!(
                "  {}",
                f.how().render(crate::edge::terminal_lang())
            )),
        }
    }

    /// One value, asked again until it converts.
    fn text(&mut self, pointer: &str, f: &Field) -> Result<Value, Failure> {
        Self::intro(pointer, f);
        loop {
            let l = self.line("")?;
            if l.is_empty() {
                say(&said("cli.new.required", &[]));
                continue;
            }
            match fields::value_of(f, &l) {
                Ok(v) => return Ok(v),
                Err(e) => say_error(&e),
            }
        }
    }

    fn field(&mut self, pointer: &str, f: &Field) -> Result<Value, Failure> {
        match &f.shape {
            Shape::Object(sub) => {
                let mut obj = Map::new();
                for s in sub.iter().filter(|s| s.required) {
                    let v = self.field(&format!("{pointer}/{}", s.name), s)?;
                    obj.insert(s.name.clone(), v);
                }
                Ok(Value::Object(obj))
            }
            Shape::List(_, min) => {
                Self::intro(pointer, f);
                say(&said("cli.new.one_per_line", &[]));
                let mut list = Vec::new();
                loop {
                    let l = self.line("")?;
                    if l.is_empty() && list.len() as u64 >= *min {
                        return Ok(Value::Array(list));
                    }
                    match fields::value_of(f, &l) {
                        Ok(v) if !l.is_empty() => list.push(v),
                        Ok(_) => say(&said("cli.new.at_least", &[("min", min)])),
                        Err(e) => say_error(&e),
                    }
                }
            }
            _ => self.text(pointer, f),
        }
    }

    /// The signers, one `ROLE=NIP` a line; `roles` says who must sign (`finder 1, witness 1–4`).
    fn signers(&mut self, roles: &str) -> Result<Vec<Value>, Failure> {
        say(&said("cli.new.signers", &[("roles", &roles)]));
        say(&said("cli.new.one_signer_per_line", &[]));
        let mut list = Vec::new();
        loop {
            let l = self.line("")?;
            if l.is_empty() && !list.is_empty() {
                return Ok(list);
            }
            match signer(&l) {
                Ok(v) => list.push(v),
                Err(e) => say_error(&e),
            }
        }
    }
}

/// A field's name as the workbench labels it: "Satuan kerja / Facility" at an English terminal,
/// "Satuan kerja" at an Indonesian one; `None` for a field the catalogue does not name.
fn field_words(name: &str) -> Option<String> {
    let key = format!("field.{name}");
    let id = crate::edge::web::word(false, &key)?;
    match crate::edge::terminal_lang() {
        Lang::Indonesian => Some(id),
        Lang::English => Some(format!("{id} / {}", crate::edge::web::word(true, &key)?)),
    }
}

/// The statement's bytes: type, a new id, `occurred_at` (from `--at`, converted to UTC, or now),
/// facility, signers and body; `after` is left for the delivery path to fill from the ledger.
fn compose_bytes(
    kind: StatementType,
    opts: &NewOptions,
    common: Common,
    body: Map<String, Value>,
    clock: &Arc<dyn Clock>,
) -> Result<Vec<u8>, Failure> {
    let occurred_at = match &opts.at {
        Some(text) => parse_local(text).map_err(|e| {
            Failure::usage(
                msg("err.cli.option")
                    .arg("option", "--at")
                    .part("error", e.explain()),
            )
        })?,
        None => clock.now(),
    };
    let id = compose::new_statement_id(clock.as_ref()).map_err(Failure::from)?;
    let mut map = Map::new();
    map.insert("type".into(), json!(kind.as_str()));
    map.insert("id".into(), json!(id.to_string()));
    map.insert("occurred_at".into(), json!(occurred_at.to_seconds_text()));
    map.insert("facility".into(), json!(common.facility));
    map.insert("signers".into(), Value::Array(common.signers));
    map.extend(body);
    Ok(serde_json::to_vec(&Value::Object(map)).expect("a JSON object always serializes"))
}
