//! A statement type's fields as its schema describes them (`schemas/<type>.json` with the shared
//! `$defs` of `schemas/common.json`), for composing a statement without writing JSON: which body
//! fields there are, which are required, what each holds (text, integer, yes/no, one of a list,
//! a list, an object, a person), and how one typed value (`--count 14`, `--signer finder=NIP`,
//! `--warrant number=…`) becomes JSON. Pure; it must never decide whether a statement is valid —
//! the statement parser still checks the whole statement against the same schema.

use crate::base::words::{Message, msg};
use crate::format::statement::{COMMON_SCHEMA, StatementType};
use serde_json::{Map, Value, json};
use std::sync::OnceLock;

/// What a field holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A string (its pattern or length is the schema's to check).
    Text,
    Integer,
    /// `true` / `false` (also `ya` / `tidak`, `yes` / `no`).
    Bool,
    /// One of these values.
    Enum(Vec<String>),
    /// A list: each value given is one element; `min` elements at least.
    List(Box<Shape>, u64),
    /// An object with these fields, given as `name=value` (repeated, or comma-separated).
    Object(Vec<Field>),
    /// One of several object forms (a person; a search's subject): a short form `kind:…` or JSON.
    Choice,
    /// Anything else: JSON.
    Json,
}

/// One field of a statement type, from its schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub description: String,
    pub required: bool,
    pub shape: Shape,
}

impl Field {
    /// The field as a command-line flag: `gross_mass_mg` → `gross-mass-mg`.
    pub fn flag(&self) -> String {
        self.name.replace('_', "-")
    }

    /// How a value is written, for prompts, help and errors, from the catalogue (`field_how.*`).
    pub fn how(&self) -> Message {
        match &self.shape {
            Shape::Text => msg("field_how.text"),
            Shape::Integer => msg("field_how.integer"),
            Shape::Bool => msg("field_how.bool"),
            Shape::Enum(v) => msg("field_how.enum").arg("values", v.join(", ")),
            Shape::List(inner, _) => msg("field_how.list").part(
                "inner",
                Field {
                    shape: (**inner).clone(),
                    ..self.clone()
                }
                .how(),
            ),
            Shape::Object(fields) => msg("field_how.object").arg(
                "names",
                fields
                    .iter()
                    .map(|f| {
                        if f.required {
                            f.name.clone()
                        } else {
                            format!("{}?", f.name)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            Shape::Choice => msg("field_how.choice"),
            Shape::Json => msg("field_how.json"),
        }
    }

    /// Whether the schema allows the field to be an empty list (then it may be left out).
    pub fn may_be_empty_list(&self) -> bool {
        matches!(self.shape, Shape::List(_, 0))
    }
}

fn common() -> &'static Value {
    static COMMON: OnceLock<Value> = OnceLock::new();
    COMMON.get_or_init(|| serde_json::from_str(COMMON_SCHEMA).expect("schemas/common.json is JSON"))
}

/// The schema a `$ref` names in `schemas/common.json`, or the schema itself.
fn resolve(s: &Value) -> &Value {
    match s.get("$ref").and_then(Value::as_str) {
        Some(r) if r.contains("#/$defs/") => {
            let def = r.rsplit('/').next().unwrap_or_default();
            common().get("$defs").and_then(|d| d.get(def)).unwrap_or(s)
        }
        _ => s,
    }
}

fn shape_of(s: &Value) -> Shape {
    let s = resolve(s);
    if let Some(values) = s.get("enum").and_then(Value::as_array) {
        return Shape::Enum(
            values
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .collect(),
        );
    }
    if s.get("oneOf").is_some() {
        return Shape::Choice;
    }
    match s.get("type").and_then(Value::as_str) {
        Some("string") => Shape::Text,
        Some("integer") => Shape::Integer,
        Some("boolean") => Shape::Bool,
        Some("array") => {
            let min = s.get("minItems").and_then(Value::as_u64).unwrap_or(0);
            Shape::List(Box::new(s.get("items").map_or(Shape::Json, shape_of)), min)
        }
        Some("object") if s.get("properties").is_some() => Shape::Object(fields_of(s)),
        _ => Shape::Json,
    }
}

fn fields_of(s: &Value) -> Vec<Field> {
    let required: Vec<&str> = s
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = s.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    props
        .iter()
        .filter(|(name, _)| name.as_str() != "type")
        .map(|(name, p)| Field {
            name: name.clone(),
            description: p
                .get("description")
                .or_else(|| resolve(p).get("description"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            required: required.contains(&name.as_str()),
            shape: shape_of(p),
        })
        .collect()
}

/// The body fields of `kind` (every field but the common ones), in schema order.
pub fn body_fields(kind: StatementType) -> Vec<Field> {
    let schema: Value = serde_json::from_str(kind.schema_text()).expect("every schema is JSON");
    fields_of(&schema)
}

/// The common field `facility`, as its schema describes it.
pub fn facility_field() -> Field {
    Field {
        name: "facility".into(),
        description: "Facility code (kode satuan kerja) where the act happened, e.g. LPN-JAKARTA."
            .into(),
        required: true,
        shape: Shape::Text,
    }
}

/// Turns one typed value into JSON for `field`; for a list, one element. The error says what the
/// value must be.
pub fn value_of(field: &Field, text: &str) -> Result<Value, Message> {
    let shape = match &field.shape {
        Shape::List(inner, _) => inner.as_ref(),
        s => s,
    };
    element(shape, text).map_err(|rule| {
        msg("err.fields.value")
            .arg("flag", field.flag())
            .quoted("text", text)
            .part("rule", rule)
    })
}

fn element(shape: &Shape, text: &str) -> Result<Value, Message> {
    let t = text.trim();
    let not_json = |e: serde_json::Error| msg("err.fields.not_json").arg("error", e);
    if matches!(shape, Shape::Object(_) | Shape::Choice | Shape::Json) && t.starts_with(['{', '['])
    {
        return serde_json::from_str(t).map_err(not_json);
    }
    match shape {
        Shape::Text | Shape::Enum(_) => Ok(json!(text)),
        Shape::Integer => t
            .parse::<u64>()
            .map(|n| json!(n))
            .map_err(|_| msg("err.fields.integer")),
        Shape::Bool => match t.to_ascii_lowercase().as_str() {
            "true" | "ya" | "yes" | "y" => Ok(json!(true)),
            "false" | "tidak" | "no" | "n" => Ok(json!(false)),
            _ => Err(msg("err.fields.bool")),
        },
        Shape::Object(fields) => object(fields, t),
        Shape::Choice => choice(t),
        Shape::Json => serde_json::from_str(t).map_err(not_json),
        Shape::List(..) => Err(msg("err.fields.nested_list")),
    }
}

/// `name=value,name=value` for an object's fields (a value may hold no comma; use JSON for one).
fn object(fields: &[Field], text: &str) -> Result<Value, Message> {
    let mut map = Map::new();
    for pair in text.split(',') {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| msg("err.fields.pair").arg("fields", names(fields)))?;
        let name = name.trim();
        let f = fields
            .iter()
            .find(|f| f.name == name || f.flag() == name)
            .ok_or_else(|| {
                msg("err.fields.unknown_field")
                    .quoted("name", name)
                    .arg("fields", names(fields))
            })?;
        map.insert(f.name.clone(), value_of(f, value)?);
    }
    Ok(Value::Object(map))
}

fn names(fields: &[Field]) -> String {
    fields
        .iter()
        .map(|f| f.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The short forms of a person or a search's subject.
fn choice(text: &str) -> Result<Value, Message> {
    let (kind, rest) = text
        .split_once(':')
        .ok_or_else(|| msg("err.fields.choice_form"))?;
    match kind {
        "officer" => Ok(json!({"kind": "officer", "officer": rest})),
        "area" => Ok(json!({"kind": "area", "area": rest})),
        "parcel" => Ok(json!({"kind": "parcel", "description": rest})),
        "inmate" | "visitor" | "foreign_national" | "unidentified" if rest.starts_with("subj-") => {
            let (subject, commitment) = rest
                .split_once(':')
                .ok_or_else(|| msg("err.fields.subject_form"))?;
            Ok(
                json!({"kind": "subject", "category": kind, "subject": subject, "commitment": commitment}),
            )
        }
        "unidentified" => Ok(json!({"kind": "unidentified", "description": rest})),
        other => Err(msg("err.fields.unknown_kind").quoted("kind", other)),
    }
}

/// Merges one more value of `field` into the body: a list gains an element, an object gains
/// fields, anything else is replaced.
pub fn merge(body: &mut Map<String, Value>, field: &Field, value: Value) {
    match (&field.shape, value) {
        (Shape::List(..), Value::Array(all)) => {
            body.insert(field.name.clone(), Value::Array(all));
        }
        (Shape::List(..), one) => {
            let list = body.entry(field.name.clone()).or_insert_with(|| json!([]));
            if let Value::Array(a) = list {
                a.push(one);
            }
        }
        (Shape::Object(_), Value::Object(more)) => {
            let obj = body.entry(field.name.clone()).or_insert_with(|| json!({}));
            if let Value::Object(o) = obj {
                o.extend(more);
            }
        }
        (_, v) => {
            body.insert(field.name.clone(), v);
        }
    }
}

/// Puts an empty list in every required field the schema allows to be empty and that was not
/// given (`persons`, `photos`): leaving it out is saying there is none.
pub fn fill_empty_lists(fields: &[Field], body: &mut Map<String, Value>) {
    for f in fields
        .iter()
        .filter(|f| f.required && f.may_be_empty_list())
    {
        body.entry(f.name.clone()).or_insert_with(|| json!([]));
    }
}

/// What is missing from a composed body: each required field (and each required field of an
/// object given in part) as a JSON pointer with the field. A list that may be empty is not
/// missing (it is left empty).
pub fn missing<'a>(fields: &'a [Field], body: &Map<String, Value>) -> Vec<(String, &'a Field)> {
    let mut out = Vec::new();
    for f in fields {
        match (body.get(&f.name), &f.shape) {
            (None, _) if f.required && !f.may_be_empty_list() => {
                out.push((format!("/{}", f.name), f))
            }
            (Some(Value::Object(given)), Shape::Object(sub)) => {
                for (pointer, g) in missing(sub, given) {
                    out.push((format!("/{}{pointer}", f.name), g));
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_gives_each_kind_of_field() {
        let fields = body_fields(StatementType::ContrabandFound);
        let get = |n: &str| fields.iter().find(|f| f.name == n).expect(n).clone();
        assert_eq!(get("count").shape, Shape::Integer);
        assert!(
            matches!(get("category").shape, Shape::Enum(ref v) if v.contains(&"phone".to_owned()))
        );
        assert!(matches!(get("description").shape, Shape::Object(_)));
        assert!(matches!(get("persons").shape, Shape::List(ref s, 0) if **s == Shape::Choice));
        assert!(get("item").required && !get("gross_mass_mg").required);
        let seizure = body_fields(StatementType::SeizureRecorded);
        assert!(
            seizure
                .iter()
                .any(|f| f.name == "warrant" && matches!(f.shape, Shape::Object(_)))
        );
    }

    #[test]
    fn values_become_json() {
        let fields = body_fields(StatementType::ContrabandFound);
        let get = |n: &str| fields.iter().find(|f| f.name == n).expect(n).clone();
        assert_eq!(value_of(&get("count"), "14"), Ok(json!(14)));
        assert!(value_of(&get("count"), "empat").is_err());
        assert_eq!(
            value_of(&get("description"), "name=sabu,form=crystal"),
            Ok(json!({"name": "sabu", "form": "crystal"}))
        );
        assert_eq!(
            value_of(&get("persons"), "visitor:subj-ab:cd"),
            Ok(
                json!({"kind": "subject", "category": "visitor", "subject": "subj-ab", "commitment": "cd"})
            )
        );
        let mut body = Map::new();
        merge(&mut body, &get("photos"), json!("sha256:aa"));
        merge(&mut body, &get("photos"), json!("sha256:bb"));
        assert_eq!(body["photos"], json!(["sha256:aa", "sha256:bb"]));
        let gone: Vec<String> = missing(&fields, &body)
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert!(gone.contains(&"/item".to_owned()) && !gone.contains(&"/persons".to_owned()));
    }
}
