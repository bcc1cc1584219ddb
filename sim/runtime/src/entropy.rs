//! The `getrandom` hooks: every random byte libp2p asks for inside a
//! simulation comes from the simulation's seeded stream.
//!
//! Two symbols are defined here and linked into every binary that depends on
//! this crate:
//!
//! * `__getrandom_v03_custom`, called by getrandom 0.3 and 0.4 when built
//!   with `--cfg getrandom_backend="custom"` (set in `.cargo/config.toml`).
//!   rand 0.10's thread RNG, `rand::random`, `PeerId::random` and Noise's
//!   key generation all end here.
//! * libc's `getrandom(buf, len, flags)`, which std calls for the keys of
//!   `HashMap`'s `RandomState`. Defining it in the executable shadows
//!   glibc's for the whole process (the technique madsim uses). Outside a
//!   simulation it issues the real system call.
//!
//! getrandom 0.2 is not served: on Linux it makes the `getrandom` system
//! call itself, past both hooks. It is harmless here because it reaches the
//! dependency tree only through `ring`, which `snow` uses under libp2p-noise
//! for Noise's cipher and hash, and those draw no randomness; libp2p-noise
//! gives snow its own random-number generator (rand's `StdRng`, seeded
//! through getrandom 0.3/0.4, so through the hook above). A crate that
//! draws from getrandom 0.2 inside a simulation would read OS entropy.

use std::ffi::{c_uint, c_void};

use crate::clock::with_current;

/// Fills `buf` from the simulation's entropy stream, or from the kernel when
/// no simulation runs on this thread.
pub fn fill(buf: &mut [u8]) -> Result<(), i32> {
    if with_current(|c| c.fill_entropy(buf)).is_some() {
        return Ok(());
    }
    os_fill(buf)
}

fn os_fill(buf: &mut [u8]) -> Result<(), i32> {
    let mut filled = 0;
    while filled < buf.len() {
        let rest = &mut buf[filled..];
        // SAFETY: the pointer and length describe `rest`, which we own.
        let n = unsafe {
            libc::syscall(
                libc::SYS_getrandom,
                rest.as_mut_ptr().cast::<c_void>(),
                rest.len(),
                0 as c_uint,
            )
        };
        if n < 0 {
            let errno = std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO);
            if errno == libc::EINTR {
                continue;
            }
            return Err(errno);
        }
        filled += n as usize;
    }
    Ok(())
}

/// The custom backend of getrandom 0.3 and 0.4.
///
/// # Safety
/// `dest` must be valid for writes of `len` bytes (getrandom guarantees it).
#[unsafe(no_mangle)]
pub unsafe extern "Rust" fn __getrandom_v03_custom(
    dest: *mut u8,
    len: usize,
) -> Result<(), getrandom::Error> {
    // SAFETY: guaranteed by the caller.
    let buf = unsafe { std::slice::from_raw_parts_mut(dest, len) };
    fill(buf).map_err(|_| getrandom::Error::UNEXPECTED)
}

/// Shadows glibc's `getrandom(3)` for the whole process.
///
/// # Safety
/// `buf` must be valid for writes of `len` bytes, as for glibc's function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn getrandom(buf: *mut c_void, len: usize, flags: c_uint) -> isize {
    let sim = with_current(|c| {
        // SAFETY: guaranteed by the caller.
        let buf = unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), len) };
        c.fill_entropy(buf)
    });
    if sim.is_some() {
        return len as isize;
    }
    // SAFETY: forwarded unchanged to the kernel.
    unsafe { libc::syscall(libc::SYS_getrandom, buf, len, flags) as isize }
}

/// Returns the address of the libc hook. Calling it from the library keeps
/// the symbol in every binary even under aggressive dead-code elimination.
pub fn hook_address() -> usize {
    getrandom as *const () as usize
}
