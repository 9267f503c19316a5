//! Lists as CSV (RFC 4180) for investigators' spreadsheets: `--csv` on the list queries. Owns the
//! flattening of a JSON answer into rows and columns and the quoting. Pure: it writes a string,
//! reads nothing, and never decides what a list holds (the same JSON `--json` prints, with the
//! officers' names beside their ids, is its only input).
//!
//! A spreadsheet runs a cell that begins with `=`, `+`, `-` or `@` as a formula, so a text cell
//! that begins so (free text an officer typed, say) is written with a leading `'`: shown as
//! text, never run. Numbers are written as numbers.

use serde_json::Value;
use std::collections::BTreeSet;

/// Joins the items of a list of plain values inside one cell.
const LIST_SEPARATOR: &str = "; ";

/// The rows of `value`: a JSON array of objects is a list of rows; an object whose one field is
/// such an array (a history's `events`, an audit's `findings`) is that array; anything else is
/// one row.
fn rows(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        Value::Object(fields) => {
            let lists: Vec<&Vec<Value>> = fields
                .values()
                .filter_map(Value::as_array)
                .filter(|a| a.iter().all(Value::is_object))
                .collect();
            match lists.as_slice() {
                [one] if !one.is_empty() => one.iter().collect(),
                _ => vec![value],
            }
        }
        _ => vec![value],
    }
}

/// One cell: a string as it is, a number or boolean as JSON writes it, a list of plain values
/// joined, anything nested as compact JSON; null as empty.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => guarded(s),
        Value::Array(items) if items.iter().all(|v| !v.is_object() && !v.is_array()) => guarded(
            &items
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join(LIST_SEPARATOR),
        ),
        Value::Array(_) | Value::Object(_) => guarded(&value.to_string()),
        Value::Bool(_) | Value::Number(_) => value.to_string(),
    }
}

/// Text a spreadsheet would run as a formula, made inert with a leading `'`.
fn guarded(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// A field quoted when it holds a comma, a quote or a line break (quotes doubled).
fn quoted(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

/// `value` as CSV: a header of every field any row has (in order), then one line per row, lines
/// ended by CRLF as RFC 4180 says. An empty list is the header alone (no header when there is
/// nothing to name a column after).
pub fn csv(value: &Value) -> String {
    let rows = rows(value);
    let mut columns: Vec<String> = Vec::new();
    let mut seen = BTreeSet::new();
    for row in &rows {
        let names: Vec<String> = match row {
            Value::Object(fields) => fields.keys().cloned().collect(),
            _ => vec!["value".to_owned()],
        };
        for name in names {
            if seen.insert(name.clone()) {
                columns.push(name);
            }
        }
    }
    let mut out = String::new();
    if columns.is_empty() {
        return out;
    }
    let line = |fields: Vec<String>| {
        fields
            .iter()
            .map(|f| quoted(f))
            .collect::<Vec<_>>()
            .join(",")
            + "\r\n"
    };
    out.push_str(&line(columns.clone()));
    for row in rows {
        out.push_str(&line(
            columns
                .iter()
                .map(|c| match row {
                    Value::Object(fields) => fields.get(c).map_or_else(String::new, cell),
                    other => cell(other),
                })
                .collect(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_list_of_objects_is_a_header_and_one_line_each() {
        let list = json!([
            {"id": "BB-1", "count": 3, "seals": ["S-1", "S-2"], "holder": null},
            {"id": "BB-2", "count": 1, "seals": [], "extra": "x"}
        ]);
        assert_eq!(
            csv(&list),
            "count,holder,id,seals,extra\r\n3,,BB-1,S-1; S-2,\r\n1,,BB-2,,x\r\n"
        );
    }

    #[test]
    fn quotes_commas_and_line_breaks_are_quoted_and_formulas_made_inert() {
        let list = json!([{"text": "a, \"b\"\nc"}, {"text": "=HYPERLINK(\"x\")"}, {"text": -5}]);
        assert_eq!(
            csv(&list),
            "text\r\n\"a, \"\"b\"\"\nc\"\r\n\"'=HYPERLINK(\"\"x\"\")\"\r\n-5\r\n"
        );
    }

    #[test]
    fn an_object_holding_one_list_is_that_list() {
        let history = json!({"item": {"id": "BB-1"}, "events": [{"seq": 4}, {"seq": 9}]});
        assert_eq!(csv(&history), "seq\r\n4\r\n9\r\n");
        assert_eq!(csv(&json!([])), "");
    }
}
