//! Counters and histograms kept in atomics, and their rendering as Prometheus text (exposition
//! format 0.0.4). Owns no policy about what is measured; must never block, allocate per
//! observation or take a lock, because the sequencer observes inside its commit loop.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// A monotonically increasing count.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A histogram with fixed upper bounds (the last bucket, `+Inf`, is implicit). The sum is kept in
/// micro-units so that it stays an integer atomic; `render` divides it back.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    buckets: Vec<AtomicU64>,
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            buckets: (0..bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum_micros: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, value: f64) {
        if let Some(i) = self.bounds.iter().position(|b| value <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        // Saturating float-to-int: a negative or absurd observation cannot wrap the sum.
        let micros = (value * 1e6).round().max(0.0) as u64;
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}

/// Builds a Prometheus text page.
#[derive(Debug, Default)]
pub struct Page(String);

impl Page {
    pub fn counter(&mut self, name: &str, help: &str, value: u64) {
        let _ = writeln!(
            self.0,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
        );
    }

    pub fn gauge(&mut self, name: &str, help: &str, value: u64) {
        let _ = writeln!(
            self.0,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
        );
    }

    /// A counter family with one label, e.g. rejections by reason.
    pub fn labelled(&mut self, name: &str, help: &str, label: &str, values: &[(&str, u64)]) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} counter");
        for (l, v) in values {
            let _ = writeln!(self.0, "{name}{{{label}=\"{l}\"}} {v}");
        }
    }

    pub fn histogram(&mut self, name: &str, help: &str, h: &Histogram) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, bucket) in h.bounds.iter().zip(&h.buckets) {
            cumulative += bucket.load(Ordering::Relaxed);
            let _ = writeln!(self.0, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let count = h.count();
        let sum = h.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(
            self.0,
            "{name}_bucket{{le=\"+Inf\"}} {count}\n{name}_sum {sum}\n{name}_count {count}"
        );
    }

    pub fn finish(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_inf_counts_everything() {
        static BOUNDS: [f64; 3] = [1.0, 2.0, 4.0];
        let h = Histogram::new(&BOUNDS);
        for v in [0.5, 1.0, 1.5, 3.0, 100.0] {
            h.observe(v);
        }
        let mut page = Page::default();
        page.histogram("x", "test", &h);
        let text = page.finish();
        assert!(text.contains("x_bucket{le=\"1\"} 2\n"), "{text}");
        assert!(text.contains("x_bucket{le=\"2\"} 3\n"), "{text}");
        assert!(text.contains("x_bucket{le=\"4\"} 4\n"), "{text}");
        assert!(text.contains("x_bucket{le=\"+Inf\"} 5\n"), "{text}");
        assert!(text.contains("x_sum 106\n"), "{text}");
        assert!(text.contains("x_count 5\n"), "{text}");
    }
}
