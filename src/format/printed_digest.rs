//! The printed digest: the part of a bundle's SHA-256 that a report prints for a person to type
//! back (`custody bundle verify --printed-digest`), so that a page on paper and a bundle file can
//! be matched without a QR reader. Owns its alphabet, grouping, check character and parsing (docs/FORMAT.md
//! §13c). Pure: no I/O. Never stands in for the full digest where a machine reads it (the QR code
//! and the JSON carry all 32 bytes).
//!
//! The first 120 bits of the SHA-256 in Crockford's base 32 (no I, L, O or U, so nothing reads
//! as another letter or a digit), in six groups of four, then a check character computed with
//! the Luhn mod 32 algorithm over the same alphabet, which catches every single mistyped
//! character and every swap of two neighbours but `0`↔`Z` (Luhn's one blind pair):
//! `7K2M-9QXA-4B0C-HNPR-ST1V-WXYZ-F`. 120 bits leave a forger 2¹²⁰ tries to make another bundle
//! that a person would take for this one.

use crate::base::class::{Class, Classify};
use crate::base::words::{Explain, Message, msg};
use std::fmt;

/// Crockford's base-32 alphabet: the value of a character is its position.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters printed for the digest itself (5 bits each: 120 bits of the SHA-256).
const DIGEST_CHARS: usize = 24;
/// Characters per printed group: four are read and typed without losing one's place.
const GROUP_CHARS: usize = 4;

/// A bundle's printed digest. Made only from a SHA-256 (`of`) or from text whose check
/// character holds (`parse`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintedDigest {
    /// The 24 digest characters and the check character, upper case, no separators.
    chars: String,
}

/// Why typed text is not a printed digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrintedDigestError {
    Character(char),
    Length { found: usize, want: usize },
    Check,
}

crate::english_display!(PrintedDigestError);

impl Explain for PrintedDigestError {
    fn explain(&self) -> Message {
        match self {
            Self::Character(c) => msg("err.printed_digest.character").quoted("char", c),
            Self::Length { found, want } => msg("err.printed_digest.length")
                .arg("found", found)
                .arg("want", want),
            Self::Check => msg("err.printed_digest.check"),
        }
    }
}

impl Classify for PrintedDigestError {
    fn class(&self) -> Class {
        Class::Invalid
    }
}

/// The value of a Crockford character as typed: case ignored, O read as 0, I and L as 1.
fn value(c: char) -> Option<u32> {
    let c = match c.to_ascii_uppercase() {
        'O' => '0',
        'I' | 'L' => '1',
        c => c,
    };
    ALPHABET
        .iter()
        .position(|&a| char::from(a) == c)
        .and_then(|p| u32::try_from(p).ok())
}

/// The Luhn mod 32 sum of `values`, the rightmost doubled when `double_last`.
fn luhn_sum(values: &[u32], double_last: bool) -> u32 {
    let mut double = double_last;
    let mut sum = 0;
    for &v in values.iter().rev() {
        let v = if double { v * 2 } else { v };
        sum += v / 32 + v % 32;
        double = !double;
    }
    sum % 32
}

impl PrintedDigest {
    /// The printed digest of a bundle whose SHA-256 is `sha256`.
    pub fn of(sha256: &[u8; 32]) -> Self {
        let mut values = Vec::with_capacity(DIGEST_CHARS);
        let mut bits = 0u64;
        let mut have = 0u32;
        for &byte in sha256 {
            bits = (bits << 8) | u64::from(byte);
            have += 8;
            while have >= 5 && values.len() < DIGEST_CHARS {
                have -= 5;
                values.push(u32::try_from((bits >> have) & 31).expect("5 bits"));
            }
            if values.len() == DIGEST_CHARS {
                break;
            }
        }
        let check = (32 - luhn_sum(&values, true)) % 32;
        values.push(check);
        let chars = values
            .iter()
            .map(|&v| char::from(ALPHABET[v as usize]))
            .collect();
        Self { chars }
    }

    /// Typed text as a printed digest: hyphens and spaces ignored, case ignored, O read as 0 and
    /// I or L as 1; refused when a character is not in the alphabet, the length is wrong or the
    /// check character does not hold.
    pub fn parse(text: &str) -> Result<Self, PrintedDigestError> {
        let mut values = Vec::with_capacity(DIGEST_CHARS + 1);
        for c in text.chars().filter(|c| !matches!(c, '-' | ' ' | '\t')) {
            values.push(value(c).ok_or(PrintedDigestError::Character(c))?);
        }
        if values.len() != DIGEST_CHARS + 1 {
            return Err(PrintedDigestError::Length {
                found: values.len(),
                want: DIGEST_CHARS + 1,
            });
        }
        if luhn_sum(&values, false) != 0 {
            return Err(PrintedDigestError::Check);
        }
        Ok(Self {
            chars: values
                .iter()
                .map(|&v| char::from(ALPHABET[v as usize]))
                .collect(),
        })
    }
}

impl fmt::Display for PrintedDigest {
    /// Six groups of four and the check character, joined by hyphens.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (digest, check) = self.chars.split_at(DIGEST_CHARS);
        for (n, group) in digest.as_bytes().chunks(GROUP_CHARS).enumerate() {
            if n > 0 {
                f.write_str("-")?;
            }
            f.write_str(std::str::from_utf8(group).map_err(|_| fmt::Error)?)?;
        }
        write!(f, "-{check}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_all_zero_digest_prints_as_zeros_and_reads_back() {
        let printed = PrintedDigest::of(&[0; 32]);
        assert_eq!(printed.to_string(), "0000-0000-0000-0000-0000-0000-0");
        assert_eq!(
            PrintedDigest::parse("0000 0000 0000 0000 0000 0000 0"),
            Ok(printed)
        );
    }

    #[test]
    fn the_first_120_bits_are_read_five_at_a_time() {
        // 0xF8 = 11111 000: the first character is 31 (Z), the next starts with 000.
        let mut sha = [0u8; 32];
        sha[0] = 0xF8;
        let printed = PrintedDigest::of(&sha).to_string();
        assert!(printed.starts_with("Z000-"), "{printed}");
        // Bits past the 120th do not show.
        let mut later = [0u8; 32];
        later[15] = 0xFF;
        assert_eq!(PrintedDigest::of(&later), PrintedDigest::of(&[0; 32]));
    }

    #[test]
    fn what_is_not_a_printed_digest_is_refused_with_the_rule() {
        let good = PrintedDigest::of(&[7; 32]).to_string();
        assert!(matches!(
            PrintedDigest::parse(
                &good
                    .replace('-', "")
                    .replacen(char::is_alphanumeric, "U", 1)
            ),
            Err(PrintedDigestError::Character('U'))
        ));
        assert_eq!(
            PrintedDigest::parse(&good[..good.len() - 2]),
            Err(PrintedDigestError::Length {
                found: 24,
                want: 25
            })
        );
    }

    fn chars_of(p: &PrintedDigest) -> Vec<char> {
        p.to_string().chars().filter(|c| *c != '-').collect()
    }

    proptest! {
        #[test]
        fn every_digest_reads_back_whatever_the_case_and_separators(sha in any::<[u8; 32]>()) {
            let printed = PrintedDigest::of(&sha);
            let text = printed.to_string();
            prop_assert_eq!(PrintedDigest::parse(&text), Ok(printed.clone()));
            prop_assert_eq!(PrintedDigest::parse(&text.to_lowercase().replace('-', " ")), Ok(printed));
        }

        #[test]
        fn one_mistyped_character_is_always_caught(sha in any::<[u8; 32]>(), at in 0usize..25, by in 1u32..32) {
            let mut chars = chars_of(&PrintedDigest::of(&sha));
            let v = value(chars[at]).expect("alphabet");
            chars[at] = char::from(ALPHABET[((v + by) % 32) as usize]);
            let typed: String = chars.into_iter().collect();
            prop_assert_eq!(PrintedDigest::parse(&typed), Err(PrintedDigestError::Check));
        }

        #[test]
        fn two_swapped_neighbours_are_caught(sha in any::<[u8; 32]>(), at in 0usize..24) {
            let mut chars = chars_of(&PrintedDigest::of(&sha));
            prop_assume!(chars[at] != chars[at + 1]);
            // Luhn's one blind pair: 0 doubled is 0, Z (31) doubled is 62 → 1 + 30 = 31.
            let mut pair = [chars[at], chars[at + 1]];
            pair.sort_unstable();
            prop_assume!(pair != ['0', 'Z']);
            chars.swap(at, at + 1);
            let typed: String = chars.into_iter().collect();
            prop_assert_eq!(PrintedDigest::parse(&typed), Err(PrintedDigestError::Check));
        }
    }
}
