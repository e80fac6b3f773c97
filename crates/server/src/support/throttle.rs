//! Counting an event that may happen thousands of times a second (a shed request, a refused
//! connection) while logging it at most once a second.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Default)]
pub struct Throttle {
    count: AtomicU64,
    /// The second (since the epoch) of the last report.
    reported: AtomicU64,
}

impl Throttle {
    /// Counts one event; the count so far if nothing was reported in this second yet.
    pub fn count(&self) -> Option<u64> {
        let count = self.count.fetch_add(1, Ordering::Relaxed).saturating_add(1);
        let second = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        (self.reported.swap(second, Ordering::Relaxed) != second).then_some(count)
    }
}

#[cfg(test)]
mod tests {
    use super::Throttle;

    #[test]
    fn reports_the_first_event_of_a_second_with_the_total() {
        let throttle = Throttle::default();
        let reported: Vec<Option<u64>> = (0..1000).map(|_| throttle.count()).collect();
        // A second may turn during the loop: at most one more report.
        let reports: Vec<u64> = reported.iter().flatten().copied().collect();
        assert_eq!(reports.first(), Some(&1));
        assert!(reports.len() <= 2, "{reports:?}");
        assert_eq!(
            throttle.count.load(std::sync::atomic::Ordering::Relaxed),
            1000
        );
    }
}
