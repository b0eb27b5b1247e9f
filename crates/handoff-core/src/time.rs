//! Time without a clock: timestamps are passed in, and a hybrid logical clock (HLC) orders
//! edits across devices whose wall clocks disagree.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Milliseconds since the Unix epoch, UTC. Always supplied by the caller.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    /// A timestamp from milliseconds since the Unix epoch.
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// The UTC calendar date and time: `[year, month, day, hour, minute, second]`
    /// (days-to-civil, proleptic Gregorian; no time zone data needed).
    pub fn utc_fields(self) -> [i64; 6] {
        let secs = self.0.div_euclid(1000);
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        [y, m, d, rem / 3600, rem % 3600 / 60, rem % 60]
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

/// A hybrid logical clock reading: wall-clock milliseconds plus a counter for events within
/// the same millisecond (or while the wall clock stands still or runs backward).
///
/// Ordering is `(wall_ms, counter)`; ties between devices are broken by the caller with the
/// client id, as the conflict rules say: last writer wins by `(hlc, client_id)`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
pub struct Hlc {
    /// Wall-clock part, milliseconds since the Unix epoch.
    pub wall_ms: u64,
    /// Logical part, orders events that share `wall_ms`.
    pub counter: u32,
}

impl fmt::Debug for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.wall_ms, self.counter)
    }
}

impl Hlc {
    /// The smallest reading, before every real event.
    pub const ZERO: Hlc = Hlc { wall_ms: 0, counter: 0 };

    /// The next reading after `self`, even when the counter is exhausted.
    fn successor(self) -> Hlc {
        match self.counter.checked_add(1) {
            Some(counter) => Hlc { wall_ms: self.wall_ms, counter },
            None => Hlc { wall_ms: self.wall_ms.saturating_add(1), counter: 0 },
        }
    }
}

/// What [`HlcClock::observe`] did with a remote reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Observed {
    /// The clock's new reading, greater than every reading it gave before.
    pub now: Hlc,
    /// The remote reading as it was taken into account: clamped when it ran too far ahead.
    pub remote: Hlc,
    /// True when the remote reading was more than the allowed drift ahead and was clamped.
    pub clamped: bool,
}

/// A hybrid logical clock. It never goes backward, whatever the wall clock does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HlcClock {
    last: Hlc,
}

impl HlcClock {
    /// A clock that has already given out `last` (for example, restored from the store).
    pub fn resume(last: Hlc) -> Self {
        Self { last }
    }

    /// The last reading given out.
    pub fn last(&self) -> Hlc {
        self.last
    }

    /// A reading for a local event at wall-clock time `now`.
    pub fn tick(&mut self, now: Timestamp) -> Hlc {
        let wall = now.as_millis().max(0) as u64;
        self.last = if wall > self.last.wall_ms { Hlc { wall_ms: wall, counter: 0 } } else { self.last.successor() };
        self.last
    }

    /// Takes a remote reading into account, so later local readings order after it.
    ///
    /// A remote reading more than `max_drift_ms` ahead of `now` is clamped to `now +
    /// max_drift_ms`: one device with a clock set to next year must not pin everyone's
    /// last-writer-wins decisions to its edits.
    pub fn observe(&mut self, remote: Hlc, now: Timestamp, max_drift_ms: u64) -> Observed {
        let wall = now.as_millis().max(0) as u64;
        let ceiling = wall.saturating_add(max_drift_ms);
        let (remote, clamped) =
            if remote.wall_ms > ceiling { (Hlc { wall_ms: ceiling, counter: 0 }, true) } else { (remote, false) };
        let top = self.last.max(remote);
        self.last = if wall > top.wall_ms { Hlc { wall_ms: wall, counter: 0 } } else { top.successor() };
        Observed { now: self.last, remote, clamped }
    }
}

/// The drift the server tolerates before clamping a client's HLC: five minutes.
pub const MAX_CLOCK_DRIFT_MS: u64 = 5 * 60 * 1000;

/// How far an author's clock may disagree with the server's before the server's time is shown.
pub const SHOWN_TIME_TOLERANCE_MS: i64 = 10 * 60 * 1000;

/// The time to show for something an author made at `created_at` (their clock, which may be
/// anything) and the server received at `received_at`: the author's, unless the server's
/// disagrees by more than [`SHOWN_TIME_TOLERANCE_MS`] (a backdated delivery, a wrong clock).
/// True when the server's was chosen.
pub fn shown_time(created_at: Timestamp, received_at: Option<Timestamp>) -> (Timestamp, bool) {
    match received_at {
        Some(r) if created_at.as_millis().abs_diff(r.as_millis()) > SHOWN_TIME_TOLERANCE_MS as u64 => (r, true),
        _ => (created_at, false),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_servers_time_is_shown_when_the_authors_clock_is_far_off() {
        use super::{SHOWN_TIME_TOLERANCE_MS as TOL, Timestamp as T, shown_time};
        let at = |ms: i64| T::from_millis(ms);
        let server = 1_767_225_600_000;
        assert_eq!(shown_time(at(server - TOL), Some(at(server))), (at(server - TOL), false), "within the tolerance");
        assert_eq!(shown_time(at(server - TOL - 1), Some(at(server))), (at(server), true), "backdated");
        assert_eq!(shown_time(at(i64::MAX), Some(at(server))), (at(server), true), "far in the future");
        assert_eq!(shown_time(at(i64::MIN), Some(at(server))), (at(server), true));
        assert_eq!(shown_time(at(5), None), (at(5), false), "not received yet");
    }

    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Step {
        Tick(i64),
        Observe { remote_wall: u64, remote_counter: u32, now: i64 },
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (-1_000i64..4_000_000_000_000).prop_map(Step::Tick),
            (0u64..8_000_000_000_000, any::<u32>(), -1_000i64..4_000_000_000_000)
                .prop_map(|(remote_wall, remote_counter, now)| Step::Observe { remote_wall, remote_counter, now }),
        ]
    }

    proptest! {
        /// Whatever the wall clock does (skew, backward jumps, far-future peers), readings
        /// strictly increase, and after observing a remote reading the clock is past it
        /// (or past its clamped value).
        #[test]
        fn readings_strictly_increase_under_skew_and_backward_jumps(steps in prop::collection::vec(step(), 1..200)) {
            let mut clock = HlcClock::default();
            let mut prev = clock.last();
            for s in steps {
                let now = match s {
                    Step::Tick(now) => clock.tick(Timestamp::from_millis(now)),
                    Step::Observe { remote_wall, remote_counter, now } => {
                        let remote = Hlc { wall_ms: remote_wall, counter: remote_counter };
                        let o = clock.observe(remote, Timestamp::from_millis(now), MAX_CLOCK_DRIFT_MS);
                        prop_assert!(o.now > o.remote);
                        prop_assert!(o.remote.wall_ms <= (now.max(0) as u64) + MAX_CLOCK_DRIFT_MS);
                        prop_assert_eq!(o.clamped, o.remote != remote);
                        o.now
                    }
                };
                prop_assert!(now > prev, "{:?} !> {:?}", now, prev);
                prev = now;
            }
        }

        /// A reading never lags the wall clock it was given.
        #[test]
        fn tick_is_never_behind_the_wall_clock(walls in prop::collection::vec(0i64..4_000_000_000_000, 1..50)) {
            let mut clock = HlcClock::default();
            for w in walls {
                prop_assert!(clock.tick(Timestamp::from_millis(w)).wall_ms >= w as u64);
            }
        }
    }

    #[test]
    fn counter_overflow_moves_the_wall_part() {
        let mut clock = HlcClock::resume(Hlc { wall_ms: 10, counter: u32::MAX });
        assert_eq!(clock.tick(Timestamp::from_millis(5)), Hlc { wall_ms: 11, counter: 0 });
    }

    #[test]
    fn far_future_remote_is_clamped() {
        let mut clock = HlcClock::default();
        let o = clock.observe(Hlc { wall_ms: u64::MAX, counter: 7 }, Timestamp::from_millis(1_000), 100);
        assert!(o.clamped);
        assert_eq!(o.remote, Hlc { wall_ms: 1_100, counter: 0 });
        assert_eq!(o.now, Hlc { wall_ms: 1_100, counter: 1 });
    }
}
