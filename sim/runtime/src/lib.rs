//! The determinism layer under libp2p.
//!
//! rust-libp2p reads time through `web_time::Instant::now()`, waits through
//! `futures_timer::Delay`, and draws randomness through `getrandom` (rand's
//! thread RNG, Noise keys) and libc's `getrandom` (std's `HashMap` keys). This
//! crate gives all of those one source per simulation:
//!
//! * [`Clock`]: a virtual clock and its timer queue. A simulation installs one
//!   on its thread with [`Clock::install`]; from then on [`now`] and
//!   [`Delay`] on that thread follow virtual time, which only moves when the
//!   scheduler calls [`Clock::advance_to`].
//! * outside a simulation (no clock installed on the thread) [`now`] reads
//!   the real monotonic clock and [`Delay`] is served by one lazily started
//!   real-time timer thread, so the patched crates still work in ordinary
//!   tokio programs and tests.
//! * [`entropy`]: the `getrandom` hooks. Inside a simulation they fill buffers
//!   from the clock's seeded ChaCha stream; outside they forward to the kernel.
//!
//! * [`dh`]: the X25519 stand-in, a key agreement without the curve's CPU
//!   cost that leaves every output of a run unchanged; on when the
//!   simulation asks for it, never outside one.
//!
//! The patched `web-time`, `futures-timer` and `x25519-dalek` crates under
//! `sim/` are thin façades over this crate.

#![warn(missing_docs)]

mod clock;
pub mod dh;
pub mod entropy;
mod entry;
mod queue;
mod realtime;
mod timer;

pub use clock::{Clock, ClockGuard, is_simulated, now, wake_at};
pub use timer::Delay;
