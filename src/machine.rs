//! What a run costs the machine: wall time, CPU time, peak memory.
//!
//! These are the only figures of a run that are *not* reproducible: they
//! measure the computer, not the simulated network. They are therefore kept
//! out of every deterministic output and written to their own file,
//! `performance.csv`, which the determinism checks ignore.
//!
//! Wall time comes from `std::time::Instant` (allowed in this module only,
//! see `clippy.toml`); CPU time and peak resident memory from `getrusage(2)`,
//! which counts every thread of the process (the simulation runs on one).

#![allow(clippy::disallowed_methods)]

use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::csvfile::{self, write_atomic};
use crate::metrics::RunReport;

/// The name of the machine-figures file in a run's output directory.
pub const PERFORMANCE_CSV: &str = "performance.csv";

/// Wall and CPU time since a start point.
#[derive(Debug, Clone, Copy)]
pub struct Stopwatch {
    wall: Instant,
    cpu: Duration,
}

impl Stopwatch {
    /// Starts measuring now.
    pub fn start() -> Stopwatch {
        Stopwatch {
            wall: Instant::now(),
            cpu: process_cpu(),
        }
    }

    /// Wall time since the start.
    pub fn wall(&self) -> Duration {
        self.wall.elapsed()
    }

    /// CPU time (user + system, all threads, and the child processes
    /// waited for: the workers of a run on several) since the start.
    pub fn cpu(&self) -> Duration {
        process_cpu().saturating_sub(self.cpu)
    }
}

/// Set by the first SIGINT or SIGTERM once [`stop_on_signals`] is installed.
static STOP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Makes SIGINT (Ctrl-C) and SIGTERM ask the run to stop instead of ending
/// the process, and returns the flag they set: the run checks it between
/// rounds of its event loop, stops there and saves what it measured (see
/// `RunOptions::stop`). A second signal ends the process as usual.
pub fn stop_on_signals() -> &'static std::sync::atomic::AtomicBool {
    extern "C" fn on_signal(signal: libc::c_int) {
        // Only an atomic store and `signal`: both async-signal-safe.
        STOP.store(true, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: restores the default action for the next signal.
        unsafe { libc::signal(signal, libc::SIG_DFL) };
    }
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: installs a handler that only does async-signal-safe work.
        unsafe { libc::signal(signal, on_signal as *const () as libc::sighandler_t) };
    }
    &STOP
}

/// This machine in a few words, for the head of a benchmark table: the
/// processor's model name, the cores this process may use, and the memory,
/// e.g. `2 cores (AMD EPYC 7B13), 24 GiB`. Parts that cannot be read are
/// left out.
pub fn describe() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let proc_field = |file: &str, key: &str| -> Option<String> {
        let text = std::fs::read_to_string(file).ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.trim_start().strip_prefix(':'))
            .map(|v| v.trim().to_string())
    };
    let mut out = format!("{cores} cores");
    if let Some(model) = proc_field("/proc/cpuinfo", "model name") {
        out.push_str(&format!(" ({model})"));
    }
    let kib = proc_field("/proc/meminfo", "MemTotal")
        .and_then(|v| v.trim_end_matches("kB").trim().parse::<u64>().ok());
    if let Some(kib) = kib {
        out.push_str(&format!(
            ", {} GiB",
            (kib as f64 / (1024.0 * 1024.0)).round()
        ));
    }
    out
}

/// Today's date in UTC, as `YYYY-MM-DD` (from the real clock: for the head
/// of a benchmark table, never for a run's outputs).
pub fn today_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (y, m, d) = civil_from_days(secs / 86_400);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The proleptic Gregorian date of day `days` after 1970-01-01 (Howard
/// Hinnant's `civil_from_days`, for days on or after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// CPU time and peak resident set size of a process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// User plus system CPU time.
    pub cpu: Duration,
    /// Peak resident set size, in bytes.
    pub peak_rss: u64,
}

/// CPU time of this process and of the children it waited for.
fn process_cpu() -> Duration {
    usage(libc::RUSAGE_SELF).cpu + usage(libc::RUSAGE_CHILDREN).cpu
}

/// This process's usage so far.
pub fn self_usage() -> Usage {
    usage(libc::RUSAGE_SELF)
}

fn usage(who: libc::c_int) -> Usage {
    // SAFETY: `getrusage` only writes the struct it is given; a zeroed
    // `rusage` is a valid value of that plain C struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(who, &mut ru) };
    if rc != 0 {
        return Usage::default();
    }
    Usage::from_rusage(&ru)
}

impl Usage {
    fn from_rusage(ru: &libc::rusage) -> Usage {
        let tv = |t: libc::timeval| {
            Duration::from_secs(t.tv_sec.max(0) as u64)
                + Duration::from_micros(t.tv_usec.max(0) as u64)
        };
        Usage {
            cpu: tv(ru.ru_utime) + tv(ru.ru_stime),
            // Linux reports kilobytes.
            peak_rss: (ru.ru_maxrss.max(0) as u64) * 1024,
        }
    }
}

/// The machine figures of one run, as printed by `sim run` and written to
/// `performance.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct Performance {
    /// Wall time of the simulation (loading and output excluded).
    pub wall: Duration,
    /// CPU time of the process during the simulation.
    pub cpu: Duration,
    /// Virtual time the run reached.
    pub virtual_time: Duration,
    /// Scheduled events (task polls, timer firings, scenario events).
    pub events: u64,
    /// Peak resident set size of the process, in bytes.
    pub peak_rss: u64,
    /// Nodes of the scenario (the denominator of `rss_per_node`).
    pub nodes: usize,
    /// On several workers: the windows, and the longest wall time a worker
    /// spent at their ends. `None` on one worker.
    pub windows: Option<(u64, Duration)>,
}

impl Performance {
    /// The figures of `report`, measured by `watch` since the run started.
    pub fn measure(report: &RunReport, watch: &Stopwatch, nodes: usize) -> Performance {
        Performance {
            wall: watch.wall(),
            cpu: watch.cpu(),
            virtual_time: report.virtual_time,
            events: report.scheduler.events(),
            // The largest process: this one, or a worker it waited for.
            peak_rss: self_usage()
                .peak_rss
                .max(usage(libc::RUSAGE_CHILDREN).peak_rss),
            windows: report
                .windows
                .iter()
                .map(|(_, w)| (w.windows, w.waiting))
                .reduce(|a, b| (a.0.max(b.0), a.1.max(b.1))),
            nodes,
        }
    }

    /// Virtual time per wall time ("times faster than real time").
    pub fn speed(&self) -> f64 {
        self.virtual_time.as_secs_f64() / self.wall.as_secs_f64().max(1e-9)
    }

    /// Scheduled events per wall-clock second.
    pub fn events_per_sec(&self) -> f64 {
        self.events as f64 / self.wall.as_secs_f64().max(1e-9)
    }

    /// Peak RSS divided by the number of nodes, in bytes.
    pub fn rss_per_node(&self) -> u64 {
        self.peak_rss / self.nodes.max(1) as u64
    }

    /// `performance.csv`: `metric,value` rows, units in the metric names.
    pub fn to_csv(&self) -> String {
        let mut rows = vec![
            ("wall_s", format!("{:.3}", self.wall.as_secs_f64())),
            ("cpu_s", format!("{:.3}", self.cpu.as_secs_f64())),
            (
                "virtual_s",
                format!("{:.3}", self.virtual_time.as_secs_f64()),
            ),
            ("speed", format!("{:.2}", self.speed())),
            ("events", self.events.to_string()),
            ("events_per_s", format!("{:.0}", self.events_per_sec())),
            ("peak_rss_mb", format!("{:.1}", mb(self.peak_rss))),
            ("nodes", self.nodes.to_string()),
            (
                "rss_per_node_kb",
                format!("{:.1}", self.rss_per_node() as f64 / 1024.0),
            ),
        ];
        if let Some((windows, waiting)) = self.windows {
            rows.push(("windows", windows.to_string()));
            rows.push(("window_wait_s", format!("{:.3}", waiting.as_secs_f64())));
        }
        csvfile::metric_values(rows)
    }

    /// Writes `performance.csv` into `dir` (which must exist).
    pub fn write(&self, dir: &Path) -> io::Result<std::path::PathBuf> {
        let path = dir.join(PERFORMANCE_CSV);
        write_atomic(&path, &self.to_csv())?;
        Ok(path)
    }

    /// Reads back a `performance.csv` written by [`Performance::write`].
    pub fn parse(csv: &str) -> Option<Performance> {
        let values = csvfile::read_metric_values(csv).ok()?;
        let get = |key: &str| values.get(key).cloned();
        let secs = |v: Option<String>| -> Option<Duration> {
            Duration::try_from_secs_f64(v?.parse().ok()?).ok()
        };
        Some(Performance {
            wall: secs(get("wall_s"))?,
            cpu: secs(get("cpu_s"))?,
            virtual_time: secs(get("virtual_s"))?,
            events: get("events")?.parse().ok()?,
            peak_rss: (get("peak_rss_mb")?.parse::<f64>().ok()? * 1024.0 * 1024.0) as u64,
            nodes: get("nodes")?.parse().ok()?,
            windows: get("windows")
                .and_then(|w| w.parse().ok())
                .zip(secs(get("window_wait_s"))),
        })
    }
}

/// How a measured child process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this code.
    Code(i32),
    /// A signal ended it (9 after an out-of-memory kill, for example).
    Signal(i32),
    /// It ran past the time limit and was killed.
    Timeout,
}

/// A child process's exit and what it cost, from `wait4(2)`.
#[derive(Debug, Clone, Copy)]
pub struct ChildRun {
    /// How it ended.
    pub exit: Exit,
    /// Wall time from spawn to exit.
    pub wall: Duration,
    /// Its CPU time (user + system, all threads) and peak RSS.
    pub usage: Usage,
}

/// How long a child past its time limit has, after SIGTERM, to save its
/// results before it is killed.
pub const STOP_GRACE: Duration = Duration::from_secs(30);

/// Runs `cmd` to its end or until `limit`, whichever comes first (then sends
/// it SIGTERM, and SIGKILL [`STOP_GRACE`] later), and measures it on its own:
/// wall time, and from `wait4` the CPU time and peak RSS of that child alone.
pub fn run_child(cmd: &mut std::process::Command, limit: Duration) -> io::Result<ChildRun> {
    let start = Instant::now();
    let child = cmd.spawn()?;
    let pid = child.id() as libc::pid_t;
    let mut killed = false;
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: as for `getrusage`; `status` and `ru` are plain out-values.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        let rc = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut ru) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        if rc == pid {
            let wall = start.elapsed();
            let exit = if killed {
                Exit::Timeout
            } else if libc::WIFEXITED(status) {
                Exit::Code(libc::WEXITSTATUS(status))
            } else {
                Exit::Signal(libc::WTERMSIG(status))
            };
            let usage = Usage::from_rusage(&ru);
            // The child is reaped; `Child`'s own handle must not wait again.
            drop(child);
            return Ok(ChildRun { exit, wall, usage });
        }
        let elapsed = start.elapsed();
        if !killed && elapsed >= limit {
            // Ask first: a `sim run` stops and saves what it measured.
            // SAFETY: `pid` is our child, not reaped yet, so not reused.
            unsafe { libc::kill(pid, libc::SIGTERM) };
            killed = true;
        }
        if killed && elapsed >= limit + STOP_GRACE {
            // SAFETY: as above.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Bytes in mebibytes.
pub fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_grows_with_work_and_rss_is_reported() {
        let watch = Stopwatch::start();
        let mut x = 0u64;
        let mut v = vec![0u8; 32 << 20];
        for (i, b) in v.iter_mut().enumerate() {
            *b = i as u8;
        }
        while watch.cpu() < Duration::from_millis(20) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box((x, &v));
        assert!(watch.wall() >= Duration::from_millis(5));
        // 32 MiB were touched, so the high-water mark is at least that.
        assert!(self_usage().peak_rss >= 32 << 20);
    }

    #[test]
    fn children_are_measured_and_time_limited() {
        let mut ok = std::process::Command::new("sh");
        ok.args([
            "-c",
            "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; exit 3",
        ]);
        let run = run_child(&mut ok, Duration::from_secs(60)).expect("sh runs");
        assert_eq!(run.exit, Exit::Code(3));
        assert!(run.usage.cpu > Duration::ZERO, "{run:?}");
        assert!(run.usage.peak_rss > 0, "{run:?}");
        let mut slow = std::process::Command::new("sleep");
        slow.arg("30");
        let run = run_child(&mut slow, Duration::from_millis(200)).expect("sleep runs");
        assert_eq!(run.exit, Exit::Timeout);
        assert!(run.wall < Duration::from_secs(10), "{run:?}");
    }

    #[test]
    fn dates_from_days_since_the_epoch() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(59), (1970, 3, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_789), (2026, 12, 2));
        assert_eq!(civil_from_days(20_819), (2027, 1, 1));
    }

    #[test]
    fn the_machine_is_described_by_cores_and_memory() {
        let d = describe();
        assert!(d.contains(" cores"), "{d}");
        assert!(d.ends_with(" GiB"), "{d}");
    }

    #[test]
    fn csv_round_trips() {
        let p = Performance {
            wall: Duration::from_millis(2500),
            cpu: Duration::from_millis(2400),
            virtual_time: Duration::from_secs(600),
            events: 1_000_000,
            peak_rss: 300 << 20,
            nodes: 200,
            windows: None,
        };
        let csv = p.to_csv();
        assert!(csv.contains("speed,240.00\n"), "{csv}");
        assert!(csv.contains("events_per_s,400000\n"), "{csv}");
        assert!(csv.contains("rss_per_node_kb,1536.0\n"), "{csv}");
        assert!(!csv.contains("window"), "one worker: no window rows");
        assert_eq!(Performance::parse(&csv), Some(p.clone()));
        // On several workers, the windows and the longest wait at their ends.
        let on_two = Performance {
            windows: Some((3115, Duration::from_millis(4800))),
            ..p
        };
        let csv = on_two.to_csv();
        assert!(csv.contains("windows,3115\nwindow_wait_s,4.800\n"), "{csv}");
        assert_eq!(Performance::parse(&csv), Some(on_two));
    }
}
