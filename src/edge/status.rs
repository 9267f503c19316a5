//! The one place a failure's class becomes an HTTP status (`of`), for the server's answers, and
//! the way back (`class_of`) for a client reading an answer whose `code` custody does not know
//! (a proxy's 502, an older server). Must never look at an error's message or pick a class itself.

use crate::base::class::Class;

/// The HTTP status every answer of this class carries (docs/FORMAT.md §13b).
pub const fn of(class: Class) -> u16 {
    match class {
        Class::Usage | Class::Malformed => 400,
        Class::Unauthenticated => 401,
        Class::Forbidden => 403,
        Class::NotFound => 404,
        Class::MethodNotAllowed => 405,
        Class::Timeout => 408,
        Class::Conflict => 409,
        Class::TooLarge => 413,
        Class::UnsupportedMedia => 415,
        Class::Invalid | Class::Refused => 422,
        Class::Queued => 202,
        Class::Corrupt | Class::Internal => 500,
        Class::Unavailable => 503,
    }
}

/// The class of an answer: by its `code` when custody knows it, else the first class (in
/// `Class::ALL` order) whose status it is; a gateway's 5xx is "try again", anything else internal.
pub fn class_of(status: u16, code: &str) -> Class {
    Class::from_code(code)
        .or_else(|| Class::ALL.into_iter().find(|c| of(*c) == status))
        .unwrap_or(if (500..600).contains(&status) {
            Class::Unavailable
        } else {
            Class::Internal
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_status_reads_back_as_a_class_with_that_status() {
        for class in Class::ALL {
            assert_eq!(class_of(of(class), class.code()), class);
            assert_eq!(of(class_of(of(class), "")), of(class));
        }
        assert_eq!(class_of(502, "bad_gateway"), Class::Unavailable);
        assert_eq!(class_of(418, ""), Class::Internal);
    }

    #[test]
    fn the_openapi_document_lists_every_code_and_no_other() {
        let doc: serde_json::Value =
            serde_json::from_str(crate::edge::server::OPENAPI_JSON).expect("the document parses");
        let codes = &doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]
            ["enum"];
        let listed: Vec<&str> = codes
            .as_array()
            .expect("code is an enum")
            .iter()
            .map(|c| c.as_str().expect("a code is a string"))
            .collect();
        let ours: Vec<&str> = Class::ALL.iter().map(|c| c.code()).collect();
        assert_eq!(listed, ours);
    }
}
