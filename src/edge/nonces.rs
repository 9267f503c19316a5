//! The server's memory of the nonces of signed reads (docs/FORMAT.md §13b.2): which (key id,
//! nonce) pairs were accepted within the signature validity window, so that the same signed
//! request is not answered twice. It owns that memory and its bounds (`NONCE_CACHE_ENTRIES_MAX`
//! in all, `NONCES_PER_KEY_MAX` for one key). It must never vouch for what it cannot know: it
//! never evicts a nonce before its signature has expired (when full it refuses, the caller answers
//! 503), and it refuses a nonced request signed before the server started, whose nonce an earlier
//! run may have seen. It neither verifies signatures nor reads a clock: the caller passes `now`
//! and records only requests whose signature verified with a current officer key.

use crate::base::limits::{NONCE_CACHE_ENTRIES_MAX, NONCES_PER_KEY_MAX};
use sha2::Digest as _;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

/// Why a nonce was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// This key sent this nonce before, and its signature has not yet expired.
    Replayed,
    /// The request was signed before the server started: an earlier run may have seen the nonce.
    BeforeStart,
    /// The cache holds as many nonces as it may; try again once some expire.
    Full,
    /// This key has as many nonces in the cache as one key may; try again once some expire.
    KeyFull,
}

/// A (key id, nonce) pair as remembered: the first 16 bytes of SHA-256 over both, length-prefixed,
/// so an entry's size does not depend on what the client sent.
type Digest = [u8; 16];

/// The nonces accepted within the validity window, bounded in all and per key.
pub struct Nonces {
    started_s: i64,
    window_s: i64,
    entries_max: usize,
    per_key_max: usize,
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    /// Each remembered pair, with its key id (shared with `per_key`).
    by_digest: HashMap<Digest, Arc<str>>,
    /// The same pairs by the second after which their signature can no longer be accepted.
    by_expiry: BTreeSet<(i64, Digest)>,
    /// How many pairs each key id has.
    per_key: HashMap<Arc<str>, usize>,
}

impl Nonces {
    /// A cache for a server started at `started_s` (Unix seconds) that accepts a signature for
    /// `window_s` seconds after its `created`, with the default bounds.
    pub fn new(started_s: i64, window_s: i64) -> Self {
        Self::with_bounds(
            started_s,
            window_s,
            NONCE_CACHE_ENTRIES_MAX,
            NONCES_PER_KEY_MAX,
        )
    }

    /// As `new`, with the bounds given (tests use small ones).
    pub fn with_bounds(
        started_s: i64,
        window_s: i64,
        entries_max: usize,
        per_key_max: usize,
    ) -> Self {
        Self {
            started_s,
            window_s,
            entries_max,
            per_key_max,
            seen: Mutex::new(Seen::default()),
        }
    }

    /// Accepts `nonce` of key `keyid` on a request signed at `created` and remembers it until
    /// `created + window_s` has passed, or refuses it. `now` is the server's clock (Unix seconds).
    pub fn check(&self, keyid: &str, nonce: &str, created: i64, now: i64) -> Result<(), Refusal> {
        if created < self.started_s {
            return Err(Refusal::BeforeStart);
        }
        let digest = digest(keyid, nonce);
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.expire(now);
        if seen.by_digest.contains_key(&digest) {
            return Err(Refusal::Replayed);
        }
        if seen.by_digest.len() >= self.entries_max {
            return Err(Refusal::Full);
        }
        let count = seen.per_key.get(keyid).copied().unwrap_or(0);
        if count >= self.per_key_max {
            return Err(Refusal::KeyFull);
        }
        let key: Arc<str> = seen
            .per_key
            .get_key_value(keyid)
            .map_or_else(|| Arc::from(keyid), |(k, _)| Arc::clone(k));
        seen.per_key.insert(Arc::clone(&key), count + 1);
        seen.by_digest.insert(digest, key);
        seen.by_expiry
            .insert((created.saturating_add(self.window_s), digest));
        Ok(())
    }

    /// How many nonces are remembered now (for `/metrics` and tests).
    pub fn remembered(&self) -> usize {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .by_digest
            .len()
    }
}

impl Seen {
    /// Forgets every pair whose signature can no longer be accepted at `now`.
    fn expire(&mut self, now: i64) {
        while let Some(&(expiry, digest)) = self.by_expiry.first() {
            if expiry >= now {
                break;
            }
            self.by_expiry.pop_first();
            if let Some(key) = self.by_digest.remove(&digest) {
                match self.per_key.get_mut(&key) {
                    Some(n) if *n > 1 => *n -= 1,
                    _ => {
                        self.per_key.remove(&key);
                    }
                }
            }
        }
    }
}

fn digest(keyid: &str, nonce: &str) -> Digest {
    let mut hash = sha2::Sha256::new();
    hash.update((keyid.len() as u64).to_be_bytes());
    hash.update(keyid.as_bytes());
    hash.update(nonce.as_bytes());
    let full = hash.finalize();
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: i64 = 1_800_000_000;
    const WINDOW: i64 = 300;

    #[test]
    fn a_nonce_is_accepted_once_per_key_within_the_window() {
        let cache = Nonces::new(START, WINDOW);
        assert_eq!(
            cache.check("k1", "n-0123456789abcdef", START, START),
            Ok(())
        );
        assert_eq!(
            cache.check("k1", "n-0123456789abcdef", START, START + 10),
            Err(Refusal::Replayed)
        );
        // Another key may use the same nonce: the pair is what is remembered.
        assert_eq!(
            cache.check("k2", "n-0123456789abcdef", START, START),
            Ok(())
        );
        assert_eq!(cache.remembered(), 2);
    }

    #[test]
    fn a_request_signed_before_the_server_started_is_refused() {
        let cache = Nonces::new(START, WINDOW);
        assert_eq!(
            cache.check("k1", "n-0123456789abcdef", START - 1, START + 5),
            Err(Refusal::BeforeStart)
        );
        assert_eq!(cache.remembered(), 0);
    }

    #[test]
    fn a_full_cache_refuses_until_entries_expire() {
        let cache = Nonces::with_bounds(START, WINDOW, 4, 4);
        for (i, key) in ["a", "b", "c", "d"].iter().enumerate() {
            let created = START + i64::try_from(i).expect("small");
            assert_eq!(
                cache.check(key, "nonce-0000000001", created, created),
                Ok(())
            );
        }
        let at = START + 10;
        assert_eq!(
            cache.check("e", "nonce-0000000001", at, at),
            Err(Refusal::Full)
        );
        // The first expires once its window has passed; only then is there room.
        assert_eq!(
            cache.check("e", "nonce-0000000001", at, START + WINDOW),
            Err(Refusal::Full)
        );
        assert_eq!(
            cache.check("e", "nonce-0000000001", at, START + WINDOW + 1),
            Ok(())
        );
        assert_eq!(cache.remembered(), 4);
    }

    #[test]
    fn one_key_fills_its_own_share_only() {
        let cache = Nonces::with_bounds(START, WINDOW, 8, 3);
        for i in 0..3 {
            assert_eq!(
                cache.check("greedy", &format!("nonce-{i:012}"), START, START),
                Ok(())
            );
        }
        assert_eq!(
            cache.check("greedy", "nonce-000000000099", START, START),
            Err(Refusal::KeyFull)
        );
        assert_eq!(
            cache.check("other", "nonce-000000000099", START, START),
            Ok(())
        );
        // Once the greedy key's nonces expire it may send again, and its count starts over.
        let later = START + WINDOW + 1;
        for i in 0..3 {
            let nonce = format!("later-{i:012}");
            assert_eq!(cache.check("greedy", &nonce, later, later), Ok(()));
        }
        assert_eq!(cache.remembered(), 3);
    }

    #[test]
    fn an_expired_nonce_is_forgotten_and_its_signature_is_stale_by_then() {
        let cache = Nonces::new(START, WINDOW);
        assert_eq!(cache.check("k", "n-0123456789abcdef", START, START), Ok(()));
        // Still remembered at the last second the signature is valid.
        assert_eq!(
            cache.check("k", "n-0123456789abcdef", START, START + WINDOW),
            Err(Refusal::Replayed)
        );
        // Forgotten after it: the signature check refuses such a request as stale anyway.
        assert_eq!(
            cache.check(
                "other",
                "n-fedcba9876543210",
                START + WINDOW,
                START + WINDOW + 1
            ),
            Ok(())
        );
        assert_eq!(cache.remembered(), 1);
    }
}
