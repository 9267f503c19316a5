//! Edges: the command line, the HTTP server and client, rendering for people, the printable
//! report, item and seal labels, the reliability harness and the fuzz entry points. They parse,
//! call and render; they hold no business rule. This file also holds the one language choice of
//! a command (`--lang`, `CUSTODY_LANG`) that the terminal's words follow.

pub mod cli;
pub mod client;
pub mod csv;
#[doc(hidden)]
pub mod fuzz_harness;
pub mod labels;
pub mod nonces;
pub mod render;
pub mod report;
pub mod report_pdf;
pub mod server;
pub mod status;
pub mod torture;
pub mod uraian;
pub mod web;

use crate::base::words::Lang;
use std::sync::OnceLock;

/// The language `--lang` chose for this process, if it chose one.
static CHOSEN_LANG: OnceLock<Option<Lang>> = OnceLock::new();

/// Records the command line's `--lang` (once, at start).
pub fn choose_lang(lang: Option<Lang>) {
    let _ = CHOSEN_LANG.set(lang);
}

/// The language `--lang` chose, if any: a report's PDF follows it and nothing else.
pub fn chosen_lang() -> Option<Lang> {
    CHOSEN_LANG.get().copied().flatten()
}

/// The language of the terminal's words: `--lang`, else `CUSTODY_LANG` (`id` or `en`), else
/// English, the terminal's words since its first release.
pub fn terminal_lang() -> Lang {
    chosen_lang()
        .or_else(|| lang_from_env().ok().flatten())
        .unwrap_or(Lang::English)
}

/// `CUSTODY_LANG` as it names a language: `None` when unset, the text itself when it names
/// neither `id` nor `en` (the command line refuses to start on it).
pub fn lang_from_env() -> Result<Option<Lang>, String> {
    match std::env::var(LANG_ENV) {
        Err(_) => Ok(None),
        Ok(tag) => Lang::parse(tag.trim()).map(Some).ok_or(tag),
    }
}

/// The environment variable that sets the terminal's language when `--lang` does not.
pub const LANG_ENV: &str = "CUSTODY_LANG";
