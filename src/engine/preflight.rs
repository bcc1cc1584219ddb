//! The check that a build can simulate: libp2p's clock, timers and entropy
//! must follow the simulation, or a run would silently use the wall clock
//! and the operating system's randomness.

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use sim_runtime::Clock;

use super::EngineError;

const PATCH_HELP: &str = "Add to the [patch.crates-io] table of your workspace's Cargo.toml: \
    web-time = { path = \"<libp2p-sim>/sim/web-time\" } and \
    futures-timer = { path = \"<libp2p-sim>/sim/futures-timer\" } \
    (see libp2p-sim's README, \"Using it in your own crate\").";

const GETRANDOM_HELP: &str = "Build with --cfg getrandom_backend=\"custom\": add \
    [build] rustflags = ['--cfg', 'getrandom_backend=\"custom\"'] to .cargo/config.toml \
    (and to RUSTFLAGS, if you set it, which replaces that line).";

/// Checks, once per process, that libp2p's sources of time and entropy
/// follow the simulation: `web_time::Instant` reads the virtual clock,
/// `futures_timer::Delay` fires on it, and getrandom draws from the
/// simulation's stream (the custom backend). [`Sim::new`](super::Sim::new)
/// calls it; an error names the missing piece and how to add it.
pub fn preflight() -> Result<(), EngineError> {
    static VERDICT: OnceLock<Result<(), (&'static str, &'static str)>> = OnceLock::new();
    let verdict = VERDICT.get_or_init(|| {
        // A thread of its own, so that the probe's clock and entropy touch
        // nothing of the caller's thread.
        std::thread::Builder::new()
            .name("libp2p-sim-preflight".into())
            .spawn(probe)
            .expect("a thread can be started")
            .join()
            .expect("the probe does not panic")
    });
    verdict.map_err(|(piece, fix)| EngineError::NotPatched { piece, fix })
}

/// A missing piece and how to add it.
type Missing = (&'static str, &'static str);

/// Where libp2p reads time, waits and draws entropy in this build.
struct Sources<'a> {
    /// `web_time::Instant::now()`, as a duration since some fixed point.
    now: &'a dyn Fn() -> Duration,
    /// A `futures_timer::Delay` of the given length.
    delay: &'a dyn Fn(Duration) -> Pin<Box<dyn Future<Output = ()>>>,
    /// getrandom's `fill`.
    fill: &'a dyn Fn(&mut [u8]) -> Result<(), ()>,
}

/// Time on `now`'s clock since the first call of the returned function
/// (which `probe_with` makes once its clock is installed).
fn elapsed_since_first<I: Copy>(
    now: impl Fn() -> I,
    since: impl Fn(I, I) -> Duration,
) -> impl Fn() -> Duration {
    let origin = std::cell::Cell::new(None);
    move || {
        let t = now();
        let o = origin.get().unwrap_or(t);
        origin.set(Some(o));
        since(t, o)
    }
}

fn probe() -> Result<(), Missing> {
    let virtual_now = elapsed_since_first(web_time::Instant::now, |t, o| t.duration_since(o));
    probe_with(&Sources {
        now: &virtual_now,
        delay: &|d| Box::pin(futures_timer::Delay::new(d)),
        fill: &|buf| getrandom::fill(buf).map_err(|_| ()),
    })
}

/// With a fresh clock installed on this thread: an hour of virtual time
/// must be an hour on `now`, fire a one-hour `delay`, and `fill` must draw
/// the clock's seeded stream.
fn probe_with(sources: &Sources<'_>) -> Result<(), Missing> {
    let key = [7u8; 32];
    let clock = Clock::new(key);
    let _guard = clock.install();
    let hour = Duration::from_secs(3600);

    let before = (sources.now)();
    let mut delay = (sources.delay)(hour);
    let mut cx = Context::from_waker(Waker::noop());
    let pending_before = delay.as_mut().poll(&mut cx).is_pending();
    clock.advance_to(hour);
    if (sources.now)().saturating_sub(before) != hour {
        return Err(("the web-time patch (libp2p's Instant::now)", PATCH_HELP));
    }
    let fired = matches!(delay.as_mut().poll(&mut cx), Poll::Ready(()));
    if !(pending_before && fired) {
        return Err(("the futures-timer patch (libp2p's timers)", PATCH_HELP));
    }

    let mut drawn = [0u8; 32];
    (sources.fill)(&mut drawn).map_err(|()| ("getrandom", GETRANDOM_HELP))?;
    let mut expected = [0u8; 32];
    ChaCha20Rng::from_seed(key).fill_bytes(&mut expected);
    if drawn != expected {
        return Err((
            "the custom getrandom backend (libp2p's randomness)",
            GETRANDOM_HELP,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_build_can_simulate() {
        preflight().expect("the workspace carries the patches and the cfg");
    }

    /// A build without one of the pieces, imitated: the real sources but
    /// for one that behaves as the unpatched crate would.
    fn without(piece: &str) -> Result<(), Missing> {
        let virtual_now = elapsed_since_first(web_time::Instant::now, |t, o| t.duration_since(o));
        #[allow(clippy::disallowed_methods)]
        let wall_now = elapsed_since_first(std::time::Instant::now, |t, o| t.duration_since(o));
        let sim_delay =
            |d| -> Pin<Box<dyn Future<Output = ()>>> { Box::pin(futures_timer::Delay::new(d)) };
        // A timer on the real clock has not fired after an hour of
        // virtual time.
        let real_delay =
            |_| -> Pin<Box<dyn Future<Output = ()>>> { Box::pin(std::future::pending()) };
        let sim_fill = |buf: &mut [u8]| getrandom::fill(buf).map_err(|_| ());
        // The operating system's bytes are not the seeded stream.
        let os_fill = |buf: &mut [u8]| {
            buf.fill(0xA5);
            Ok(())
        };
        probe_with(&Sources {
            now: if piece == "web-time" {
                &wall_now
            } else {
                &virtual_now
            },
            delay: if piece == "futures-timer" {
                &real_delay
            } else {
                &sim_delay
            },
            fill: if piece == "getrandom" {
                &os_fill
            } else {
                &sim_fill
            },
        })
    }

    #[test]
    fn each_missing_piece_is_named_with_its_fix() {
        assert_eq!(without("nothing"), Ok(()));
        let (piece, fix) = without("web-time").unwrap_err();
        assert!(
            piece.contains("web-time") && fix.contains("[patch.crates-io]"),
            "{piece}"
        );
        let (piece, fix) = without("futures-timer").unwrap_err();
        assert!(
            piece.contains("futures-timer") && fix.contains("futures-timer ="),
            "{piece}"
        );
        let (piece, fix) = without("getrandom").unwrap_err();
        assert!(
            piece.contains("getrandom") && fix.contains("getrandom_backend"),
            "{piece}"
        );
        let err = EngineError::NotPatched { piece, fix };
        assert!(
            err.to_string()
                .starts_with("libp2p-sim cannot simulate with this build")
        );
    }
}
