//! The command line's help from the catalogue: each command's and each argument's help text is in
//! both catalogues under `help.<command path>` and `help.<command path>:<argument>`
//! (`help.bundle.export:incident`), and the command tree takes them, in the terminal's language
//! (`--lang` or `CUSTODY_LANG`, read before the arguments are parsed), before clap parses — so
//! `--help` reads in Indonesian or English. The doc comments beside each argument stay the
//! English a reader of the code sees; a test holds the English catalogue to them word for word.
//! It decides nothing and must never change which arguments exist.

use crate::base::words::{Lang, catalogue};
use clap::Command;

/// The language `--lang` or `CUSTODY_LANG` asks for, read from the raw arguments: the help must
/// be chosen before clap parses them.
pub(super) fn early_lang(args: &[std::ffi::OsString]) -> Lang {
    let mut said = None;
    for (i, arg) in args.iter().enumerate() {
        let arg = arg.to_string_lossy();
        if let Some(tag) = arg.strip_prefix("--lang=") {
            said = Lang::parse(tag);
        } else if arg == "--lang" {
            said = args
                .get(i + 1)
                .and_then(|t| Lang::parse(&t.to_string_lossy()));
        }
    }
    said.unwrap_or_else(crate::edge::terminal_lang)
}

/// The catalogue key of a command's help (`path` is its names below `custody`, joined by dots;
/// empty for `custody` itself) or of one of its arguments.
pub(super) fn key(path: &str, arg: Option<&str>) -> String {
    let base = if path.is_empty() {
        "help.custody".to_owned()
    } else {
        format!("help.{path}")
    };
    match arg {
        Some(id) => format!("{base}:{id}"),
        None => base,
    }
}

/// `cmd` with every help text below `path` as the catalogue of `lang` says it.
pub(super) fn in_language(cmd: Command, lang: Lang, path: &str) -> Command {
    let words = catalogue(lang);
    let mut cmd = match words.get(&key(path, None)) {
        Some(about) => cmd.about(about.clone()).long_about(None::<&str>),
        None => cmd,
    };
    let ids: Vec<String> = cmd
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .collect();
    for id in ids {
        if let Some(help) = words.get(&key(path, Some(&id))) {
            let help = help.clone();
            cmd = cmd.mut_arg(id, |a| a.help(help).long_help(None::<&str>));
        }
    }
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    for name in names {
        let below = if path.is_empty() {
            name.clone()
        } else {
            format!("{path}.{name}")
        };
        cmd = cmd.mut_subcommand(name, |s| in_language(s, lang, &below));
    }
    cmd
}

#[cfg(test)]
/// Every help text of the command tree below `path`, with its key: what the Indonesian catalogue
/// must say (`help` and `--version` are clap's own and left to it).
pub(super) fn texts(cmd: &Command, path: &str, out: &mut Vec<(String, String)>) {
    if let Some(about) = cmd.get_about() {
        out.push((key(path, None), about.to_string()));
    }
    for a in cmd.get_arguments() {
        let id = a.get_id().as_str();
        if let (Some(help), false) = (a.get_help(), id == "help" || id == "version") {
            out.push((key(path, Some(id)), help.to_string()));
        }
    }
    for s in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let below = if path.is_empty() {
            s.get_name().to_owned()
        } else {
            format!("{path}.{}", s.get_name())
        };
        texts(s, &below, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    /// Every command and argument has its help in both catalogues — the English word for word
    /// the doc comment beside it — and no catalogue has help for what does not exist.
    #[test]
    fn every_help_text_is_in_both_catalogues_and_none_is_stale() {
        let mut all = Vec::new();
        texts(&super::super::Cli::command(), "", &mut all);
        let (words, english) = (catalogue(Lang::Indonesian), catalogue(Lang::English));
        let missing: Vec<String> = all
            .iter()
            .filter(|(k, doc)| !words.contains_key(k) || english.get(k) != Some(doc))
            .map(|(k, doc)| format!("{k:?}: {doc:?}"))
            .collect();
        assert!(
            missing.is_empty(),
            "{} help texts are not in both catalogues as written:\n{}",
            missing.len(),
            missing.join("\n")
        );
        let known: std::collections::BTreeSet<&String> = all.iter().map(|(k, _)| k).collect();
        let stale: Vec<&String> = words
            .keys()
            .filter(|k| k.starts_with("help.") && !known.contains(k))
            .collect();
        assert!(stale.is_empty(), "help for nothing: {stale:?}");
    }

    /// The Indonesian help is Indonesian: `custody --lang id key new --help` reads as the
    /// catalogue says, where the English reads as the doc comment.
    #[test]
    fn the_help_is_said_in_the_language_asked() {
        let cmd = in_language(super::super::Cli::command(), Lang::Indonesian, "");
        let new = cmd
            .find_subcommand("key")
            .and_then(|k| k.find_subcommand("new"))
            .expect("custody key new");
        let said = new.get_about().expect("an about").to_string();
        assert_eq!(said, catalogue(Lang::Indonesian)["help.key.new"]);
        assert_ne!(said, catalogue(Lang::English)["help.key.new"]);
    }

    #[test]
    fn the_language_is_read_before_parsing() {
        let args = |v: &[&str]| v.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        assert_eq!(
            early_lang(&args(&["custody", "--lang", "id", "items"])),
            Lang::Indonesian
        );
        assert_eq!(
            early_lang(&args(&["custody", "items", "--lang=id"])),
            Lang::Indonesian
        );
        assert_eq!(
            early_lang(&args(&["custody", "--lang", "en"])),
            Lang::English
        );
    }
}
