//! The check that a build can simulate: libp2p's clock, timers and entropy
//! must follow the simulation, or a run would silently use the wall clock
//! and the operating system's randomness.

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

fn probe() -> Result<(), (&'static str, &'static str)> {
    let key = [7u8; 32];
    let clock = Clock::new(key);
    let _guard = clock.install();
    let hour = Duration::from_secs(3600);

    let before = web_time::Instant::now();
    let mut delay = futures_timer::Delay::new(hour);
    let mut cx = Context::from_waker(Waker::noop());
    let pending_before = std::pin::Pin::new(&mut delay).poll(&mut cx).is_pending();
    clock.advance_to(hour);
    if web_time::Instant::now().duration_since(before) != hour {
        return Err(("the web-time patch (libp2p's Instant::now)", PATCH_HELP));
    }
    let fired = matches!(
        std::pin::Pin::new(&mut delay).poll(&mut cx),
        Poll::Ready(())
    );
    if !(pending_before && fired) {
        return Err(("the futures-timer patch (libp2p's timers)", PATCH_HELP));
    }

    let mut drawn = [0u8; 32];
    getrandom::fill(&mut drawn).map_err(|_| ("getrandom", GETRANDOM_HELP))?;
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
    #[test]
    fn this_build_can_simulate() {
        super::preflight().expect("the workspace carries the patches and the cfg");
    }
}
