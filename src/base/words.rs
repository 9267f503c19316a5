//! The one catalogue of words per language (`words/id.json`, `words/en.json`): every sentence and
//! term the workbench, the printed report and the command line show, and every error's message.
//! A message is a key and named values (`Message`), filled into the catalogue's sentence for a
//! language in one pass, so word order may differ between languages and a value holding `{…}`
//! is never filled again. Every error type says what it means through `Explain`; its `Display`
//! is the English sentence (for logs and `Debug`-minded callers), and the edges show both.
//!
//! Pure: the catalogues are embedded at build time and parsed once; no I/O. This file must never
//! hold a sentence itself: a word missing from a catalogue prints its key, and
//! `tests/workbench_words.rs` fails on it first.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

/// The Indonesian catalogue, the default.
pub const INDONESIAN_JSON: &str = include_str!("words/id.json");
/// The English catalogue.
pub const ENGLISH_JSON: &str = include_str!("words/en.json");

/// A language custody speaks: Indonesian, the officers' and the court's, by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    Indonesian,
    English,
}

impl Lang {
    /// Both languages, Indonesian first, as an error is shown.
    pub const BOTH: [Self; 2] = [Self::Indonesian, Self::English];

    /// The language's tag as the catalogues and `--lang` name it: `id` or `en`.
    pub const fn tag(self) -> &'static str {
        match self {
            Self::Indonesian => "id",
            Self::English => "en",
        }
    }

    /// `id` or `en`.
    pub fn parse(tag: &str) -> Option<Self> {
        match tag {
            "id" => Some(Self::Indonesian),
            "en" => Some(Self::English),
            _ => None,
        }
    }
}

type Words = BTreeMap<String, String>;

/// The whole catalogue of one language, parsed once.
pub fn catalogue(lang: Lang) -> &'static Words {
    static INDONESIAN: OnceLock<Words> = OnceLock::new();
    static ENGLISH: OnceLock<Words> = OnceLock::new();
    let (cell, text) = match lang {
        Lang::Indonesian => (&INDONESIAN, INDONESIAN_JSON),
        Lang::English => (&ENGLISH, ENGLISH_JSON),
    };
    cell.get_or_init(|| serde_json::from_str(text).unwrap_or_default())
}

/// The catalogue's word or sentence `key` in `lang`; the key itself when the catalogue lacks it,
/// so nothing prints empty.
pub fn text(lang: Lang, key: &str) -> &str {
    catalogue(lang).get(key).map_or(key, String::as_str)
}

/// `template` with each `{name}` replaced by its value from `args`, in one pass over the
/// template; a `{` that names no argument is kept as written.
pub fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            args.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v, close))
        });
        match value {
            Some((v, close)) => {
                out.push_str(v);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The catalogue's sentence `key` in `lang`, filled with `args`.
pub fn says(lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
    fill(text(lang, key), args)
}

/// A signer or officer role in `lang`, in the workbench's words (`enum.<role>`,
/// docs/GLOSSARY.md); an unknown one as written.
pub fn role_name(role: &str, lang: Lang) -> String {
    catalogue(lang)
        .get(&format!("enum.{role}"))
        .cloned()
        .unwrap_or_else(|| role.to_owned())
}

/// A mass in grams as `lang` writes it: the Indonesian decimal comma and thousands dot,
/// `10,790 g` and `1.250,000 g` (in English `10.790 g` and `1,250.000 g`); "—" when unknown.
pub fn grams(m: Option<u64>, lang: Lang) -> String {
    let Some(m) = m else {
        return "—".to_owned();
    };
    let (thousands, decimal) = match lang {
        Lang::English => (',', '.'),
        Lang::Indonesian => ('.', ','),
    };
    let whole = (m / 1000).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(thousands);
        }
        grouped.push(c);
    }
    format!("{grouped}{decimal}{:03} g", m % 1000)
}

/// One value of a message: text the same in every language (an id, a number, a path, a
/// library's own words), or another message said in the same language as the one around it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Text(String),
    Message(Box<Message>),
}

/// Something to tell a person, before it is put into a language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message(Inner);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Inner {
    /// The catalogue's sentence `key` with named values.
    Key {
        key: &'static str,
        args: Vec<(&'static str, Value)>,
    },
    /// Words already said in each language, as a server or an embedded ledger reported them.
    Said { indonesian: String, english: String },
}

/// Starts the message whose sentence is the catalogue's `key`: `msg("err.rule.unknown_item")`.
pub fn msg(key: &'static str) -> Message {
    Message(Inner::Key {
        key,
        args: Vec::new(),
    })
}

impl Message {
    /// Words that are the same in both languages: a library's or the system's own message.
    pub fn verbatim(text: impl Into<String>) -> Self {
        let text = text.into();
        Self(Inner::Said {
            indonesian: text.clone(),
            english: text,
        })
    }

    /// Words already said in each language.
    pub fn said(indonesian: impl Into<String>, english: impl Into<String>) -> Self {
        Self(Inner::Said {
            indonesian: indonesian.into(),
            english: english.into(),
        })
    }

    /// The value of `{name}`: anything shown the same in every language.
    #[must_use]
    pub fn arg(self, name: &'static str, value: impl fmt::Display) -> Self {
        self.with(name, Value::Text(value.to_string()))
    }

    /// The value of `{name}` in quotes, as Rust's `{:?}` writes a string: `"BB-1"`.
    #[must_use]
    pub fn quoted(self, name: &'static str, value: impl fmt::Debug) -> Self {
        self.with(name, Value::Text(format!("{value:?}")))
    }

    /// The value of `{name}`: another message, said in the same language (an inner error).
    #[must_use]
    pub fn part(self, name: &'static str, inner: Self) -> Self {
        self.with(name, Value::Message(Box::new(inner)))
    }

    fn with(self, name: &'static str, value: Value) -> Self {
        match self.0 {
            Inner::Key { key, mut args } => {
                args.push((name, value));
                Self(Inner::Key { key, args })
            }
            said @ Inner::Said { .. } => Self(said),
        }
    }

    /// This message with every `from` in its values replaced by `to`: a path it names that the
    /// reader knows by another name (the doctor's scratch copy of a ledger, told as the ledger).
    #[must_use]
    pub fn replacing(&self, from: &str, to: &str) -> Self {
        match &self.0 {
            Inner::Said {
                indonesian,
                english,
            } => Self::said(indonesian.replace(from, to), english.replace(from, to)),
            Inner::Key { key, args } => Self(Inner::Key {
                key,
                args: args
                    .iter()
                    .map(|(name, value)| {
                        let value = match value {
                            Value::Text(t) => Value::Text(t.replace(from, to)),
                            Value::Message(m) => Value::Message(Box::new(m.replacing(from, to))),
                        };
                        (*name, value)
                    })
                    .collect(),
            }),
        }
    }

    /// The catalogue key of this message, when it has one.
    pub fn key(&self) -> Option<&'static str> {
        match &self.0 {
            Inner::Key { key, .. } => Some(key),
            Inner::Said { .. } => None,
        }
    }

    /// The message in `lang`.
    pub fn render(&self, lang: Lang) -> String {
        match &self.0 {
            Inner::Said {
                indonesian,
                english,
            } => match lang {
                Lang::Indonesian => indonesian.clone(),
                Lang::English => english.clone(),
            },
            Inner::Key { key, args } => {
                let values: Vec<(&str, String)> = args
                    .iter()
                    .map(|(name, value)| {
                        let text = match value {
                            Value::Text(t) => t.clone(),
                            Value::Message(m) => m.render(lang),
                        };
                        (*name, text)
                    })
                    .collect();
                let pairs: Vec<(&str, &str)> =
                    values.iter().map(|(n, v)| (*n, v.as_str())).collect();
                fill(text(lang, key), &pairs)
            }
        }
    }

    /// The message in Indonesian.
    pub fn indonesian(&self) -> String {
        self.render(Lang::Indonesian)
    }

    /// The message in English.
    pub fn english(&self) -> String {
        self.render(Lang::English)
    }

    /// This message with `prefix: ` before it in both languages (what was being read or done).
    #[must_use]
    pub fn after(self, prefix: &str) -> Self {
        Self::said(
            format!("{prefix}: {}", self.indonesian()),
            format!("{prefix}: {}", self.english()),
        )
    }
}

/// What an error means, as a message both edges can put into either language.
pub trait Explain {
    fn explain(&self) -> Message;
}

impl Explain for Message {
    fn explain(&self) -> Message {
        self.clone()
    }
}

/// The English sentence of `e`: every error type's `Display` (`english_display!`).
pub fn english<E: Explain + ?Sized>(e: &E, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str(&e.explain().english())
}

/// Makes an error type that explains itself (`Explain`) an error: its `Display` is its English
/// sentence from the catalogue, and it is a `std::error::Error`.
#[macro_export]
macro_rules! english_display {
    ($($t:ty),* $(,)?) => {$(
        impl ::std::fmt::Display for $t {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                $crate::base::words::english(self, f)
            }
        }
        impl ::std::error::Error for $t {}
    )*};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_each_name_once_and_keeps_unknown_braces() {
        let out = fill("{a} and {b} {c}", &[("a", "{b}"), ("b", "x")]);
        assert_eq!(out, "{b} and x {c}");
        assert_eq!(fill("no braces", &[]), "no braces");
        assert_eq!(fill("open { only", &[("only", "z")]), "open { only");
    }

    #[test]
    fn a_message_is_said_in_each_language_with_its_parts_in_the_same_language() {
        let title = msg("class.conflict");
        assert_eq!(title.english(), catalogue(Lang::English)["class.conflict"]);
        assert_eq!(
            title.indonesian(),
            catalogue(Lang::Indonesian)["class.conflict"]
        );
        assert_ne!(title.english(), title.indonesian());
        let said = Message::said("satu", "one");
        assert_eq!(said.render(Lang::Indonesian), "satu");
        assert_eq!(said.clone().arg("ignored", 1), said);
        assert_eq!(said.clone().after("--x").english(), "--x: one");
        assert_eq!(msg("no.such.key").english(), "no.such.key");
    }

    #[test]
    fn replacing_renames_a_path_in_every_value_and_part_but_not_the_sentence() {
        let inner = msg("err.in_field")
            .arg("message", "/tmp/copy/x")
            .arg("field", "f");
        let m = msg("err.in_field")
            .part("message", inner)
            .arg("field", "/tmp/copy");
        let renamed = m.replacing("/tmp/copy", "/srv/ledger");
        for lang in Lang::BOTH {
            let said = renamed.render(lang);
            assert!(!said.contains("/tmp/copy"), "{said}");
            assert_eq!(said.matches("/srv/ledger").count(), 2, "{said}");
        }
        let said = Message::said("di /tmp/copy", "at /tmp/copy").replacing("/tmp/copy", "/srv");
        assert_eq!(said.english(), "at /srv");
        assert_eq!(said.indonesian(), "di /srv");
    }

    #[test]
    fn both_catalogues_parse_and_have_the_same_keys() {
        let id: Vec<_> = catalogue(Lang::Indonesian).keys().collect();
        let en: Vec<_> = catalogue(Lang::English).keys().collect();
        assert!(id.len() > 100);
        assert_eq!(id, en);
    }
}
