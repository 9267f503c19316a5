//! The contraband categories (*kategori barang terlarang*) a `contraband_found` may name: a
//! versioned vocabulary, each value with its Indonesian and English label, and the one check that
//! ties a narcotic class named in the category to `narcotic_class`. The schema's enum
//! (`schemas/contraband_found.json`) is this table's values, checked by a test. Values are only
//! ever added: an old ledger's categories must stay valid forever, so this table must never drop
//! or rename one.

use crate::base::words::{Message, msg};

/// The version of the vocabulary below. 1: narcotic, phone, weapon, cash, alcohol, other. 2: the
/// narcotics by class, psychotropics and precursors, SIM cards, chargers and other electronics,
/// sharp objects (every version-1 value kept, with its meaning).
pub const CATEGORIES_VERSION: u32 = 2;

/// One category: its JSON value, its Indonesian and English labels, the version it came in, and
/// the narcotic class it implies, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Category {
    pub value: &'static str,
    pub indonesian: &'static str,
    pub english: &'static str,
    pub since: u32,
    pub narcotic_class: Option<&'static str>,
}

const fn cat(
    value: &'static str,
    indonesian: &'static str,
    english: &'static str,
    since: u32,
    narcotic_class: Option<&'static str>,
) -> Category {
    Category {
        value,
        indonesian,
        english,
        since,
        narcotic_class,
    }
}

/// Every category, in the order they are listed to officers.
pub const CATEGORIES: &[Category] = &[
    cat(
        "narcotic",
        "narkotika (golongan belum diketahui)",
        "narcotic, class not yet known (class in narcotic_class)",
        1,
        None,
    ),
    cat(
        "narcotic_i",
        "narkotika golongan I (sabu, ganja, heroin, ekstasi)",
        "narcotic, class I (methamphetamine, cannabis, heroin, MDMA)",
        2,
        Some("I"),
    ),
    cat(
        "narcotic_ii",
        "narkotika golongan II (morfin, petidin)",
        "narcotic, class II (morphine, pethidine)",
        2,
        Some("II"),
    ),
    cat(
        "narcotic_iii",
        "narkotika golongan III (kodein)",
        "narcotic, class III (codeine)",
        2,
        Some("III"),
    ),
    cat(
        "psychotropic",
        "psikotropika (obat penenang, pil koplo)",
        "psychotropic (sedatives, downers)",
        2,
        None,
    ),
    cat(
        "precursor",
        "prekursor narkotika",
        "narcotic precursor",
        2,
        None,
    ),
    cat("phone", "telepon genggam", "mobile phone", 1, None),
    cat("sim_card", "kartu SIM", "SIM card", 2, None),
    cat(
        "charger",
        "pengisi daya, kabel data",
        "charger or data cable",
        2,
        None,
    ),
    cat(
        "electronic",
        "barang elektronik lain (power bank, earphone, modem)",
        "other electronics (power bank, earphones, modem)",
        2,
        None,
    ),
    cat("cash", "uang tunai", "cash", 1, None),
    cat(
        "weapon",
        "senjata (senjata api, senjata tajam)",
        "weapon (firearm, bladed weapon)",
        1,
        None,
    ),
    cat(
        "sharp_object",
        "benda tajam (pisau, silet, gunting)",
        "sharp object (knife, razor blade, scissors)",
        2,
        None,
    ),
    cat("alcohol", "minuman beralkohol", "alcoholic drink", 1, None),
    cat("other", "lainnya", "other", 1, None),
];

/// The category with this JSON value.
pub fn find(value: &str) -> Option<&'static Category> {
    CATEGORIES.iter().find(|c| c.value == value)
}

/// A category that names a narcotic class must agree with `narcotic_class` when both are given:
/// the rule when they disagree.
pub fn check_class(category: &str, narcotic_class: Option<&str>) -> Result<(), Message> {
    let implied = find(category).and_then(|c| c.narcotic_class);
    match (implied, narcotic_class) {
        (Some(i), Some(given)) if i != given => Err(msg("err.category.class_mismatch")
            .arg("category", category)
            .arg("class", i)
            .arg("given", given)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_enum_is_this_table() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../schemas/contraband_found.json"))
                .expect("valid JSON");
        let enumerated: Vec<&str> = schema["properties"]["category"]["enum"]
            .as_array()
            .expect("category is an enum")
            .iter()
            .map(|v| v.as_str().expect("a string"))
            .collect();
        let table: Vec<&str> = CATEGORIES.iter().map(|c| c.value).collect();
        assert_eq!(enumerated, table);
    }

    #[test]
    fn every_version_one_value_is_kept_and_versions_are_known() {
        for v in ["narcotic", "phone", "weapon", "cash", "alcohol", "other"] {
            assert_eq!(find(v).map(|c| c.since), Some(1), "{v}");
        }
        assert!(CATEGORIES.iter().all(|c| c.since <= CATEGORIES_VERSION));
    }

    #[test]
    fn a_class_in_the_category_must_agree() {
        assert!(check_class("narcotic_i", Some("I")).is_ok());
        assert!(check_class("narcotic_i", None).is_ok());
        assert!(check_class("narcotic", Some("II")).is_ok());
        assert!(check_class("narcotic_ii", Some("I")).is_err());
    }
}
