//! Drop-in replacement for the `web-time` crate, patched in with
//! `[patch.crates-io]`.
//!
//! [`Instant`] reads the simulation's virtual clock when a simulation runs on
//! the calling thread, and the real monotonic clock otherwise. So does
//! [`SystemTime`], as a fixed date plus the virtual time
//! ([`SIMULATION_EPOCH`]): libp2p-gossipsub draws the first sequence number
//! of a signing publisher from it, and libp2p-core the sequence number of a
//! peer record. Everything else is std's.

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};

pub use std::time::{Duration, SystemTimeError, TryFromFloatSecsError};

/// Every `Instant` is this far after the clock's zero, so that code which
/// subtracts a few seconds from "now" at the start of a run (kad does) does
/// not underflow.
const EPOCH_OFFSET: Duration = Duration::from_secs(1_000_000);

/// A measurement of a monotonically nondecreasing clock, like
/// `std::time::Instant`; virtual inside a simulation.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(Duration);

impl Instant {
    /// The current instant.
    pub fn now() -> Instant {
        Instant(EPOCH_OFFSET + sim_runtime::now())
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later.
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }

    /// Time from `earlier` to `self`, `None` if `earlier` is later.
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.0.checked_sub(earlier.0)
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later.
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.0.saturating_sub(earlier.0)
    }

    /// Time elapsed since this instant.
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(*self)
    }

    /// `self + duration`, `None` on overflow.
    pub fn checked_add(&self, duration: Duration) -> Option<Instant> {
        self.0.checked_add(duration).map(Instant)
    }

    /// `self - duration`, `None` if that is before the clock's zero.
    pub fn checked_sub(&self, duration: Duration) -> Option<Instant> {
        self.0.checked_sub(duration).map(Instant)
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, rhs: Duration) -> Instant {
        self.checked_add(rhs)
            .expect("overflow when adding duration to instant")
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        *self = *self + rhs;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    fn sub(self, rhs: Duration) -> Instant {
        self.checked_sub(rhs)
            .expect("overflow when subtracting duration from instant")
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, rhs: Duration) {
        *self = *self - rhs;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, rhs: Instant) -> Duration {
        self.duration_since(rhs)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Instant({:?})", self.0.saturating_sub(EPOCH_OFFSET))
    }
}

/// What [`SystemTime::now`] reads inside a simulation at virtual time zero:
/// 2026-01-01T00:00:00Z, as seconds since the Unix epoch.
pub const SIMULATION_EPOCH: Duration = Duration::from_secs(1_767_225_600);

/// The Unix epoch, as a [`SystemTime`].
pub const UNIX_EPOCH: SystemTime = SystemTime(std::time::UNIX_EPOCH);

/// A wall-clock time, like `std::time::SystemTime`; inside a simulation,
/// [`SIMULATION_EPOCH`] plus the virtual time.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct SystemTime(std::time::SystemTime);

impl SystemTime {
    /// The Unix epoch.
    pub const UNIX_EPOCH: SystemTime = UNIX_EPOCH;

    /// The current time: virtual inside a simulation, the system's otherwise.
    pub fn now() -> SystemTime {
        if sim_runtime::is_simulated() {
            SystemTime(std::time::UNIX_EPOCH + SIMULATION_EPOCH + sim_runtime::now())
        } else {
            // Outside a simulation this crate is the real clock.
            #[allow(clippy::disallowed_methods)]
            SystemTime(std::time::SystemTime::now())
        }
    }

    /// Time from `earlier` to `self`, or an error if `earlier` is later.
    pub fn duration_since(&self, earlier: SystemTime) -> Result<Duration, SystemTimeError> {
        self.0.duration_since(earlier.0)
    }

    /// Time elapsed since `self`, or an error if `self` is later than now.
    pub fn elapsed(&self) -> Result<Duration, SystemTimeError> {
        SystemTime::now().duration_since(*self)
    }

    /// `self + duration`, `None` on overflow.
    pub fn checked_add(&self, duration: Duration) -> Option<SystemTime> {
        self.0.checked_add(duration).map(SystemTime)
    }

    /// `self - duration`, `None` on overflow.
    pub fn checked_sub(&self, duration: Duration) -> Option<SystemTime> {
        self.0.checked_sub(duration).map(SystemTime)
    }
}

impl From<std::time::SystemTime> for SystemTime {
    fn from(t: std::time::SystemTime) -> SystemTime {
        SystemTime(t)
    }
}

impl From<SystemTime> for std::time::SystemTime {
    fn from(t: SystemTime) -> std::time::SystemTime {
        t.0
    }
}

impl Add<Duration> for SystemTime {
    type Output = SystemTime;
    fn add(self, rhs: Duration) -> SystemTime {
        SystemTime(self.0 + rhs)
    }
}

impl AddAssign<Duration> for SystemTime {
    fn add_assign(&mut self, rhs: Duration) {
        self.0 += rhs;
    }
}

impl Sub<Duration> for SystemTime {
    type Output = SystemTime;
    fn sub(self, rhs: Duration) -> SystemTime {
        SystemTime(self.0 - rhs)
    }
}

impl SubAssign<Duration> for SystemTime {
    fn sub_assign(&mut self, rhs: Duration) {
        self.0 -= rhs;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_matches_std_semantics() {
        let a = Instant::now();
        let b = a + Duration::from_millis(5);
        assert_eq!(b - a, Duration::from_millis(5));
        assert_eq!(a.checked_duration_since(b), None);
        assert_eq!(a.saturating_duration_since(b), Duration::ZERO);
        assert!(a.checked_sub(Duration::from_secs(1)).is_some());
        let mut c = b;
        c -= Duration::from_millis(5);
        assert_eq!(c, a);
    }

    #[test]
    fn system_time_follows_the_virtual_clock_inside_a_simulation() {
        let clock = sim_runtime::Clock::new([1; 32]);
        let guard = clock.install();
        let start = SystemTime::now();
        assert_eq!(start.duration_since(UNIX_EPOCH).unwrap(), SIMULATION_EPOCH);
        clock.advance_to(Duration::from_secs(90));
        assert_eq!(
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap(),
            SIMULATION_EPOCH + Duration::from_secs(90)
        );
        assert_eq!(start.elapsed().unwrap(), Duration::from_secs(90));
        drop(guard);
        // Outside a simulation: the system's clock, well after 2026.
        assert!(SystemTime::now().duration_since(UNIX_EPOCH).unwrap() > SIMULATION_EPOCH);
    }
}
