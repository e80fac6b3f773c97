//! Per-operation counts, errors and latency histograms.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use hdrhistogram::Histogram;

/// The operations of the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    Create,
    Get,
    State,
    List,
    Update,
    Abort,
    /// A holder's submission: `reader.start`, then `reader.submit` of a simulated document.
    Submit,
}

pub const OPS: [Op; 7] = [
    Op::Create,
    Op::Get,
    Op::State,
    Op::List,
    Op::Update,
    Op::Abort,
    Op::Submit,
];

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Get => "get",
            Op::State => "state",
            Op::List => "list",
            Op::Update => "update",
            Op::Abort => "abort",
            Op::Submit => "submit",
        }
    }

    pub fn from_name(name: &str) -> Option<Op> {
        OPS.into_iter().find(|op| op.name() == name)
    }
}

#[derive(Debug)]
pub struct OpStats {
    pub ok: u64,
    pub errors: u64,
    /// From the scheduled time to the end of the response, microseconds.
    pub latency: Histogram<u64>,
    /// From sending to the end of the response (what a closed-loop tool would report).
    pub service: Histogram<u64>,
}

impl OpStats {
    fn new() -> OpStats {
        OpStats {
            ok: 0,
            errors: 0,
            latency: histogram(),
            service: histogram(),
        }
    }
}

/// 1 µs to 10 min with 3 significant digits (values outside are clamped by [`micros`]).
#[allow(clippy::expect_used)]
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("constant, valid bounds")
}

/// Everything recorded during a run.
#[derive(Debug, Default)]
pub struct Stats {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    ops: BTreeMap<Op, OpStats>,
    /// Error kind ("create: HTTP 500 InternalError") to count.
    errors: BTreeMap<String, u64>,
    /// Latencies of the current progress window (all operations).
    window: Option<Histogram<u64>>,
    window_errors: u64,
    /// The requests an operation is made of (a submission's `reader.start` and
    /// `reader.submit`), each from its sending, successful ones only.
    steps: BTreeMap<&'static str, Histogram<u64>>,
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros())
        .unwrap_or(u64::MAX)
        .clamp(1, 600_000_000)
}

impl Stats {
    pub fn record(&self, op: Op, latency: Duration, service: Duration, error: Option<String>) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let s = inner.ops.entry(op).or_insert_with(OpStats::new);
        let _ = s.latency.record(micros(latency));
        let _ = s.service.record(micros(service));
        match error {
            None => s.ok += 1,
            Some(kind) => {
                s.errors += 1;
                *inner
                    .errors
                    .entry(format!("{}: {kind}", op.name()))
                    .or_default() += 1;
                inner.window_errors += 1;
            }
        }
        let _ = inner
            .window
            .get_or_insert_with(histogram)
            .record(micros(latency));
    }

    /// One successful request within an operation, from its sending to its response.
    pub fn step(&self, name: &'static str, took: Duration) {
        if let Ok(mut inner) = self.inner.lock() {
            let _ = inner
                .steps
                .entry(name)
                .or_insert_with(histogram)
                .record(micros(took));
        }
    }

    /// The requests within operations, by name.
    pub fn steps(&self) -> BTreeMap<&'static str, Histogram<u64>> {
        self.inner
            .lock()
            .map(|mut inner| std::mem::take(&mut inner.steps))
            .unwrap_or_default()
    }

    /// A request the generator could not send on time (too many in flight).
    pub fn skipped(&self, op: Op) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.ops.entry(op).or_insert_with(OpStats::new).errors += 1;
            *inner
                .errors
                .entry(format!(
                    "{}: not sent (too many requests in flight)",
                    op.name()
                ))
                .or_default() += 1;
            inner.window_errors += 1;
        }
    }

    /// `(completed, errors, p50, p99, max)` since the last call, latencies in µs.
    pub fn take_window(&self) -> (u64, u64, u64, u64, u64) {
        let Ok(mut inner) = self.inner.lock() else {
            return (0, 0, 0, 0, 0);
        };
        let errors = std::mem::take(&mut inner.window_errors);
        match inner.window.take() {
            Some(h) => (
                h.len(),
                errors,
                h.value_at_quantile(0.5),
                h.value_at_quantile(0.99),
                h.max(),
            ),
            None => (0, errors, 0, 0, 0),
        }
    }

    pub fn report(&self) -> (Vec<(Op, OpStats)>, BTreeMap<String, u64>) {
        let Ok(mut inner) = self.inner.lock() else {
            return (Vec::new(), BTreeMap::new());
        };
        let ops = std::mem::take(&mut inner.ops).into_iter().collect();
        (ops, std::mem::take(&mut inner.errors))
    }
}

/// Milliseconds with a precision that suits the value.
pub fn ms(micros: u64) -> String {
    let ms = micros as f64 / 1000.0;
    if ms < 10.0 {
        format!("{ms:.2}")
    } else if ms < 100.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_kept_by_name_and_taken_once() {
        let stats = Stats::default();
        for ms in [1, 2, 3, 40] {
            stats.step("reader.submit", Duration::from_millis(ms));
        }
        stats.step("reader.start", Duration::from_millis(5));
        let steps = stats.steps();
        assert_eq!(
            steps.keys().copied().collect::<Vec<_>>(),
            ["reader.start", "reader.submit"]
        );
        let submit = &steps["reader.submit"];
        assert_eq!(submit.len(), 4);
        assert!(
            submit.max() >= 39_900 && submit.max() <= 40_100,
            "{}",
            submit.max()
        );
        assert!(stats.steps().is_empty());
    }
}
