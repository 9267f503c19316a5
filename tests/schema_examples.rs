//! Every statement type's schema against its examples in `tests/examples/<type>.json`: each valid
//! example parses, and each invalid one is refused with an error naming the expected field.

use custody::{Statement, StatementType};
use serde_json::Value;

fn examples(kind: StatementType) -> Value {
    let path = format!(
        "{}/tests/examples/{}.json",
        env!("CARGO_MANIFEST_DIR"),
        kind.as_str()
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn every_type_has_valid_and_invalid_examples_that_behave() {
    let mut checked = 0;
    for &kind in StatementType::ALL {
        let ex = examples(kind);
        let valid = ex["valid"]
            .as_array()
            .unwrap_or_else(|| panic!("{kind}: no valid examples"));
        let invalid = ex["invalid"]
            .as_array()
            .unwrap_or_else(|| panic!("{kind}: no invalid examples"));
        assert!(
            valid.len() >= 2 && invalid.len() >= 3,
            "{kind}: too few examples"
        );
        for (i, v) in valid.iter().enumerate() {
            let bytes = serde_json::to_vec(v).expect("serializes");
            let parsed = Statement::parse(&bytes)
                .unwrap_or_else(|e| panic!("{kind} valid[{i}] refused: {e}"));
            assert_eq!(parsed.kind, kind);
            checked += 1;
        }
        for (i, case) in invalid.iter().enumerate() {
            let bytes = serde_json::to_vec(&case["statement"]).expect("serializes");
            let field = case["field"].as_str().expect("field");
            // The validator names a missing or unknown top-level property at the document: "/".
            let expected = if field.is_empty() { "/" } else { field };
            let err = Statement::parse(&bytes)
                .err()
                .unwrap_or_else(|| panic!("{kind} invalid[{i}] accepted ({})", case["why"]));
            assert_eq!(
                err.field_path(),
                Some(expected),
                "{kind} invalid[{i}] ({}): {err}",
                case["why"]
            );
            checked += 1;
        }
    }
    assert!(checked >= 24 * 5, "only {checked} examples checked");
}

#[test]
fn every_schema_describes_every_field() {
    fn walk(v: &Value, path: &str, missing: &mut Vec<String>) {
        if let Some(props) = v.get("properties").and_then(Value::as_object) {
            for (name, p) in props {
                let here = format!("{path}/{name}");
                let has_ref = p.get("$ref").is_some();
                if p.get("description").is_none()
                    && !(name == "type" && p.get("const").is_some())
                    && !has_ref
                {
                    missing.push(here.clone());
                }
                walk(p, &here, missing);
            }
        }
        for key in ["items", "then", "else"] {
            if let Some(sub) = v.get(key) {
                walk(sub, path, missing);
            }
        }
        for key in ["oneOf", "anyOf", "allOf"] {
            if let Some(arr) = v.get(key).and_then(Value::as_array) {
                for sub in arr {
                    walk(sub, path, missing);
                }
            }
        }
    }
    let mut missing = Vec::new();
    for &kind in StatementType::ALL {
        let path = format!(
            "{}/schemas/{}.json",
            env!("CARGO_MANIFEST_DIR"),
            kind.as_str()
        );
        let schema: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("schema file"))
                .expect("JSON");
        assert_eq!(
            schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{path}"
        );
        assert!(
            schema["title"].as_str().is_some_and(|t| t.contains('(')),
            "{path}: title needs the Indonesian term"
        );
        walk(&schema, kind.as_str(), &mut missing);
    }
    assert!(
        missing.is_empty(),
        "fields without a description: {missing:?}"
    );
}
