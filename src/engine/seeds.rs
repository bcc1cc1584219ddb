//! Tests over seeds, the way madsim does them.
//!
//! ```no_run
//! # fn my_scenario(_seed: u64) {}
//! #[test]
//! fn gossip_reaches_everyone() {
//!     libp2p_sim::engine::seeds::check(|seed| my_scenario(seed));
//! }
//! ```
//!
//! * A test runs one seed, 1, by default. `LIBP2P_SIM_SEED=<n>` gives the
//!   first seed and `LIBP2P_SIM_SEEDS=<count>` how many to run from it.
//! * Every seed runs in a **process of its own**: the test binary runs
//!   itself again with `<test name> --exact`, and the child runs the seed.
//!   libp2p's process-wide connection and listener counters then start
//!   fresh for every run, so a seed reproduces even while `cargo test`
//!   runs other tests on other threads of the parent.
//! * A failing seed makes the test fail with the child's output, the
//!   trace hash of the failed run, and one line that reruns exactly it:
//!   `LIBP2P_SIM_SEED=<n> cargo test <test name> -- --exact`.
//! * `LIBP2P_SIM_CHECK_DETERMINISM=1` runs every seed twice, each run
//!   writing its event trace, and fails at the first event where the two
//!   differ.
//!
//! These variables choose which seeds run and how; the seed alone decides
//! what a run does.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::trace::{TraceDiff, compare_traces};

/// First seed to run (default 1).
pub const SEED_VAR: &str = "LIBP2P_SIM_SEED";
/// How many seeds to run from the first (default 1).
pub const SEEDS_VAR: &str = "LIBP2P_SIM_SEEDS";
/// `1`: run every seed twice and compare the event traces.
pub const CHECK_VAR: &str = "LIBP2P_SIM_CHECK_DETERMINISM";
/// Set by the parent in a child: the seed the child runs.
const CHILD_VAR: &str = "LIBP2P_SIM_CHILD_SEED";
/// Set by the parent in a child: where the child writes its trace.
const TRACE_VAR: &str = "LIBP2P_SIM_CHILD_TRACE";
/// Set by the parent in a worker child: `<index>/<count>`.
const WORKER_VAR: &str = "LIBP2P_SIM_CHILD_WORKER";
/// Set by the parent in a worker child: the hub's socket.
const HUB_VAR: &str = "LIBP2P_SIM_CHILD_HUB";
/// The line a child prints at its end, followed by the hash and the count.
const HASH_LINE: &str = "libp2p-sim trace hash ";

thread_local! {
    static CHILD: RefCell<ChildState> = RefCell::new(ChildState::default());
}

/// What the runner and the [`Sim`](super::Sim) of a child share.
#[derive(Default)]
struct ChildState {
    trace_dir: Option<PathBuf>,
    finished: Option<(String, u64)>,
    /// Worker index, worker count and the hub's socket.
    worker: Option<(u32, u32, PathBuf)>,
}

/// The directory a [`Sim`](super::Sim) created on this thread writes its
/// trace to, when a determinism check asked for it.
pub(super) fn trace_dir() -> Option<PathBuf> {
    CHILD.with(|c| c.borrow().trace_dir.clone())
}

/// The worker a [`Sim`](super::Sim) created on this thread is, when
/// [`check_on_workers`] started this process: index, count, hub socket.
pub(super) fn worker() -> Option<(u32, u32, PathBuf)> {
    CHILD.with(|c| c.borrow().worker.clone())
}

/// A [`Sim`](super::Sim) on this thread ended with this trace hash.
pub(super) fn record_finish(hash: String, events: u64) {
    CHILD.with(|c| c.borrow_mut().finished = Some((hash, events)));
}

/// One seed's run, as the parent saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedRun {
    /// The seed.
    pub seed: u64,
    /// Whether the child's test passed.
    pub passed: bool,
    /// The trace hash of the last simulation the child ran, if any.
    pub trace_hash: Option<String>,
    /// What the child printed (stdout, then stderr).
    pub output: String,
}

/// The seeds the environment asks for: `LIBP2P_SIM_SEEDS` seeds from
/// `LIBP2P_SIM_SEED` (defaults 1 and 1).
///
/// # Panics
/// If a variable is set but is not a number, or `LIBP2P_SIM_SEEDS` is 0.
pub fn seeds_from_env() -> Vec<u64> {
    let var = |name: &str, default: u64| match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse::<u64>()
            .unwrap_or_else(|_| panic!("{name}={text:?} is not a whole number")),
        Err(_) => default,
    };
    let (first, count) = (var(SEED_VAR, 1), var(SEEDS_VAR, 1));
    assert!(count > 0, "{SEEDS_VAR}=0 would run no seed at all");
    (0..count).map(|i| first.wrapping_add(i)).collect()
}

/// Runs `test` for the seeds the environment asks for (see the module
/// docs), each in a child process; call it from a `#[test]` function and
/// nowhere else (the child runs the test whose name the thread bears).
///
/// # Panics
/// If a seed fails (with the line that reruns it), or if the two runs of
/// a seed differ under `LIBP2P_SIM_CHECK_DETERMINISM=1`.
pub fn check(test: impl FnOnce(u64) + Send + 'static) {
    let name = test_name("seeds::check");
    if let Some(seed) = child_seed() {
        return run_child_side(seed, test);
    }
    let determinism = std::env::var(CHECK_VAR).is_ok_and(|v| v == "1");
    for seed in seeds_from_env() {
        if determinism {
            check_determinism(&name, seed);
        } else {
            let run = run_seed(&name, seed, None);
            if !run.passed {
                panic!("{}", failure(&name, &run));
            }
        }
    }
}

/// The name of the running `#[test]`, which its thread bears; `caller`
/// names the function that needs it, for the panic when there is none.
fn test_name(caller: &str) -> String {
    match std::thread::current().name().filter(|n| *n != "main") {
        Some(name) => name.to_string(),
        None => panic!("{caller} runs inside a #[test], whose thread bears the test's name"),
    }
}

fn child_seed() -> Option<u64> {
    let text = std::env::var(CHILD_VAR).ok()?;
    Some(text.parse().expect("the parent sets a number"))
}

/// In the child: runs `test(seed)` on a fresh thread (so that the
/// simulation's clock is the first source of randomness there), prints the
/// trace hash, and fails the same way the test did.
fn run_child_side(seed: u64, test: impl FnOnce(u64) + Send + 'static) {
    let trace_dir = std::env::var_os(TRACE_VAR).map(PathBuf::from);
    let worker = std::env::var(WORKER_VAR).ok().map(|w| {
        let (i, n) = w.split_once('/').expect("the parent sets <index>/<count>");
        let hub = std::env::var_os(HUB_VAR).expect("the parent sets the hub");
        let parse = |x: &str| x.parse::<u32>().expect("the parent sets numbers");
        (parse(i), parse(n), PathBuf::from(hub))
    });
    let outcome = std::thread::Builder::new()
        .name(format!("libp2p-sim-seed-{seed}"))
        .stack_size(64 << 20)
        .spawn(move || {
            CHILD.with(|c| {
                let mut c = c.borrow_mut();
                c.trace_dir = trace_dir;
                c.worker = worker;
            });
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| test(seed)));
            let finished = CHILD.with(|c| c.borrow_mut().finished.take());
            (result, finished)
        })
        .expect("a thread can be started")
        .join()
        .expect("the test's panic is caught");
    if let (_, Some((hash, events))) = &outcome {
        // On a line of its own: libtest has printed the test's name.
        println!("\n{HASH_LINE}{hash} over {events} events");
    }
    if let (Err(panic), _) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// The command that runs test `name` for `seed` in a child process of
/// this test binary.
fn child_command(name: &str, seed: u64) -> Command {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let mut cmd = Command::new(exe);
    cmd.args([
        name,
        "--exact",
        "--include-ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD_VAR, seed.to_string());
    cmd
}

/// Runs test `name` for `seed` in a child process of this test binary,
/// writing its trace into `trace_dir` if given.
pub fn run_seed(name: &str, seed: u64, trace_dir: Option<&Path>) -> SeedRun {
    let mut cmd = child_command(name, seed);
    if let Some(dir) = trace_dir {
        cmd.env(TRACE_VAR, dir);
    }
    let out = cmd.output().expect("the test binary runs itself");
    seed_run(name, seed, &out)
}

/// What a child's output says of its seed.
fn seed_run(name: &str, seed: u64, out: &std::process::Output) -> SeedRun {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let ran_one = stdout.contains("1 passed") || stdout.contains("1 failed");
    assert!(
        ran_one,
        "the child ran no test named {name:?} (seeds::check must be called from that #[test]):\n{stdout}"
    );
    let trace_hash = stdout
        .lines()
        .find_map(|l| l.split_once(HASH_LINE).map(|(_, rest)| rest))
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_string);
    SeedRun {
        seed,
        passed: out.status.success(),
        trace_hash,
        output: format!("{stdout}{}", String::from_utf8_lossy(&out.stderr)),
    }
}

/// The line that reruns exactly `seed` of test `name`.
pub fn rerun_line(name: &str, seed: u64) -> String {
    format!("{SEED_VAR}={seed} cargo test {name} -- --exact")
}

fn failure(name: &str, run: &SeedRun) -> String {
    let hash = run
        .trace_hash
        .as_deref()
        .map(|h| format!(" (trace hash {h})"))
        .unwrap_or_default();
    format!(
        "seed {} failed{hash}:\n{}\nrerun exactly this seed with:\n    {}\n",
        run.seed,
        run.output.trim_end(),
        rerun_line(name, run.seed)
    )
}

/// Runs test `name` for `seed` twice, in two children, each writing its
/// trace, and panics at the first event where the traces differ (or with
/// the rerun line if the test failed).
pub fn check_determinism(name: &str, seed: u64) {
    let root = std::env::temp_dir().join(format!(
        "libp2p-sim-determinism-{}-{seed}-{}",
        name.replace("::", "-"),
        std::process::id()
    ));
    let dirs = [root.join("run-a"), root.join("run-b")];
    let runs: Vec<SeedRun> = dirs.iter().map(|d| run_seed(name, seed, Some(d))).collect();
    // A run that wrote no trace compares as an empty one.
    let read = |dir: &Path| std::fs::read(dir.join("events.csv")).unwrap_or_default();
    let (a, b) = (read(&dirs[0]), read(&dirs[1]));
    let diff = compare_traces(a.as_slice(), b.as_slice())
        .unwrap_or_else(|e| panic!("the traces in {} are not CSV: {e}", root.display()));
    if let TraceDiff::Differ { seq, a: ea, b: eb } = diff {
        panic!(
            "seed {seed} is NOT deterministic: the runs diverge at event {seq}\n  run a: {ea}\n  run b: {eb}\ntraces in {}\nrerun with:\n    {CHECK_VAR}=1 {}\n",
            root.display(),
            rerun_line(name, seed)
        );
    }
    for run in &runs {
        if !run.passed {
            panic!("{}", failure(name, run));
        }
    }
    let _ = std::fs::remove_dir_all(&root);
}

/// [`check`] for a simulation split over `count` worker processes (see
/// [`workers`](super::workers)): for every seed, `count` children run the
/// test at once, each the worker of its index (every [`Sim`](super::Sim)
/// it creates joins the others), and a hub in this process routes their
/// messages. The seed fails if any worker fails.
///
/// # Panics
/// If a worker fails (with its output and the line that reruns the seed).
pub fn check_on_workers(count: u32, test: impl FnOnce(u64) + Send + 'static) {
    let name = test_name("seeds::check_on_workers");
    if let Some(seed) = child_seed() {
        return run_child_side(seed, test);
    }
    for seed in seeds_from_env() {
        for run in run_seed_on_workers(&name, seed, count) {
            if !run.passed {
                panic!("{}", failure(&name, &run));
            }
        }
    }
}

/// Runs test `name` for `seed` on `count` workers, each a child process of
/// this test binary, and returns each worker's run (in worker order).
pub fn run_seed_on_workers(name: &str, seed: u64, count: u32) -> Vec<SeedRun> {
    let dir = std::env::temp_dir().join(format!(
        "libp2p-sim-workers-{}-{seed}-{}",
        name.replace("::", "-"),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the temporary directory is writable");
    let file = |i: u32, what: &str| std::fs::File::create(dir.join(format!("worker-{i}.{what}")));
    let (statuses, hub) =
        super::workers::run_local(&dir, count, Default::default(), |i, socket| {
            child_command(name, seed)
                .env(WORKER_VAR, format!("{i}/{count}"))
                .env(HUB_VAR, socket)
                .stdout(file(i, "out")?)
                .stderr(file(i, "err")?)
                .spawn()
        })
        .expect("the test binary runs itself as workers");
    let runs = statuses
        .into_iter()
        .enumerate()
        .map(|(i, status)| {
            let read = |what: &str| std::fs::read(dir.join(format!("worker-{i}.{what}")));
            let out = std::process::Output {
                status,
                stdout: read("out").unwrap_or_default(),
                stderr: read("err").unwrap_or_default(),
            };
            let mut run = seed_run(name, seed, &out);
            if let Err(e) = &hub {
                run.passed = false;
                run.output.push_str(&format!("\nthe hub failed: {e}"));
            }
            run.output = format!("worker {i} of {count}:\n{}", run.output);
            run
        })
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    runs
}
