//! `mpirun -n N sim run <scenario> --mpi` (cargo feature `mpi`): every MPI
//! rank is one worker of the run, on one machine or across a cluster.
//!
//! Each rank runs its share of the nodes on a thread of its own, as a
//! worker of `sim run --workers N` does, while the main thread, which
//! started MPI, makes the window exchanges for it (a relay: MPI is called
//! from the thread that initialized it). At the end every rank sends its
//! report, the places of its traced events, its trace (with `--trace`),
//! its CPU time and its peak RSS to rank 0, which merges them as the parent
//! of `--workers N` does and writes the files. The same seed on `N` ranks
//! gives the same bytes as `sim run --workers N` on one machine.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, bail};
use libp2p_sim::engine::mpi::MpiExchange;
use libp2p_sim::engine::workers::relay;
use libp2p_sim::machine::{self, Stopwatch};
use libp2p_sim::metrics::RunReport;
use libp2p_sim::scenario::Scenario;
use libp2p_sim::sim::{self, RunOptions, WorkerLink, WorkerSpec};
use mpi::Count;
use mpi::datatype::PartitionMut;
pub use mpi::environment::Universe;
use mpi::traits::*;

use super::args::RunArgs;
use super::workers;

/// What rank 0 hands back: the merged report, and the CPU time and the
/// largest peak RSS of the other ranks.
pub struct Ranks {
    pub report: RunReport,
    pub others_cpu: Duration,
    pub others_peak_rss: u64,
}

/// Starts MPI on this thread, which makes every MPI call of the run.
pub fn start() -> anyhow::Result<Universe> {
    let (universe, _) = mpi::initialize_with_threading(mpi::Threading::Funneled)
        .context("starting MPI (run sim under mpirun)")?;
    Ok(universe)
}

/// This process's rank.
pub fn rank(universe: &Universe) -> u32 {
    u32::try_from(universe.world().rank()).expect("ranks are not negative")
}

/// This rank's part of the run. Returns `Ok(Some(..))` on rank 0,
/// `Ok(None)` on the others. A rank whose run fails aborts every rank
/// (`MPI_Abort`) after printing why: the others would wait for it forever.
pub fn run(
    universe: &Universe,
    args: &RunArgs,
    scenario: &Scenario,
    seed: u64,
    out: &Path,
    mut options: RunOptions,
    watch: &Stopwatch,
) -> anyhow::Result<Option<Ranks>> {
    let world = universe.world();
    let worker = MpiExchange::worker(universe);
    let (index, count) = (worker.workers.index, worker.workers.count);
    if index == 0 {
        println!("workers    {count} MPI ranks (docs/parallel.md)");
    }
    let dir = out.join(".workers");
    let wdir = workers::worker_dir(&dir, index);
    let _ = std::fs::remove_dir_all(&wdir);
    if let Some((trace_dir, _)) = options.trace.as_mut() {
        *trace_dir = wdir.clone();
    }
    if index != 0 {
        options.progress = None;
    }
    let (ends, server) = relay();
    let done = ends.done_signal();
    options.worker = Some(WorkerSpec {
        index,
        count,
        link: WorkerLink::Exchange(Box::new(ends)),
    });
    let scenario = scenario.clone();
    // This thread only waits for the run's own (`sim::run_with`), while
    // the main thread makes the exchanges.
    let run = std::thread::Builder::new()
        .name("mpi-run".into())
        .spawn(move || {
            let result = sim::run_with(&scenario, seed, options);
            done.done();
            result
        })
        .context("starting the run's thread")?;
    let libp2p_sim::engine::workers::Link::Barrier(mut exchange) = worker.link else {
        unreachable!("MPI ranks meet at a barrier");
    };
    server.serve(&mut *exchange);
    let report = match run.join() {
        Ok(Ok(report)) => report,
        Ok(Err(e)) => {
            eprintln!("error: rank {index}: the simulation (seed {seed}) failed: {e}");
            world.abort(1)
        }
        Err(_) => {
            eprintln!("error: rank {index}: the simulation's thread panicked");
            world.abort(1)
        }
    };
    // Rank 0's own trace is already where the merge reads it.
    let blob = pack(&report, watch, index != 0)?;
    let root = world.process_at_rank(0);
    let size = Count::try_from(blob.len()).context("a rank's report exceeds 2 GiB")?;
    if index != 0 {
        root.gather_into(&size);
        root.gather_varcount_into(&blob[..]);
        return Ok(None);
    }
    let mut sizes = vec![0 as Count; count as usize];
    root.gather_into_root(&size, &mut sizes[..]);
    let displs: Vec<Count> = sizes
        .iter()
        .scan(0, |at, s| {
            let here = *at;
            *at += s;
            Some(here)
        })
        .collect();
    let mut all = vec![0u8; sizes.iter().map(|s| *s as usize).sum()];
    {
        let mut parts = PartitionMut::new(&mut all[..], &sizes[..], &displs[..]);
        root.gather_varcount_into_root(&blob[..], &mut parts);
    }
    let (mut others_cpu, mut others_peak_rss) = (Duration::ZERO, 0);
    for (i, (at, size)) in displs.iter().zip(&sizes).enumerate() {
        let part = &all[*at as usize..(*at + *size) as usize];
        let unpacked = unpack(part).with_context(|| format!("reading rank {i}'s report"))?;
        workers::put_report_files(
            &dir,
            i as u32,
            unpacked.json,
            unpacked.places,
            unpacked.trace,
        )?;
        if i != 0 {
            others_cpu += unpacked.cpu;
            others_peak_rss = others_peak_rss.max(unpacked.peak_rss);
        }
    }
    let report = workers::collect(args, &dir, count, out)?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Some(Ranks {
        report,
        others_cpu,
        others_peak_rss,
    }))
}

/// A rank's report for rank 0: JSON, places, trace (`events.csv` of its
/// directory, if it wrote one and `with_trace`), CPU time in nanoseconds
/// and peak RSS in bytes, each length-prefixed (u64, little-endian).
fn pack(report: &RunReport, watch: &Stopwatch, with_trace: bool) -> anyhow::Result<Vec<u8>> {
    let (json, places) = workers::report_files(report)?;
    let trace = match report.trace_file.as_ref().filter(|_| with_trace) {
        Some(path) => {
            Some(std::fs::read(path).with_context(|| format!("reading {}", path.display()))?)
        }
        None => None,
    };
    let mut blob = Vec::new();
    let mut field = |bytes: &[u8]| {
        blob.extend((bytes.len() as u64).to_le_bytes());
        blob.extend(bytes);
    };
    field(json.as_bytes());
    field(&places);
    field(trace.as_deref().unwrap_or_default());
    field(&[u8::from(trace.is_some())]);
    field(&(watch.cpu().as_nanos() as u64).to_le_bytes());
    field(&machine::self_usage().peak_rss.to_le_bytes());
    Ok(blob)
}

struct Unpacked<'a> {
    json: &'a str,
    places: &'a [u8],
    trace: Option<&'a [u8]>,
    cpu: Duration,
    peak_rss: u64,
}

/// The next length-prefixed field of `blob`.
fn field<'a>(blob: &mut &'a [u8]) -> anyhow::Result<&'a [u8]> {
    if blob.len() < 8 {
        bail!("cut short");
    }
    let (len, rest) = blob.split_at(8);
    let len = u64::from_le_bytes(len.try_into().expect("8 bytes")) as usize;
    if rest.len() < len {
        bail!("cut short");
    }
    let (value, rest) = rest.split_at(len);
    *blob = rest;
    Ok(value)
}

fn unpack(mut blob: &[u8]) -> anyhow::Result<Unpacked<'_>> {
    let json = std::str::from_utf8(field(&mut blob)?).context("the report is not UTF-8")?;
    let places = field(&mut blob)?;
    let trace = field(&mut blob)?;
    let traced = field(&mut blob)? == [1];
    let word = |b: &[u8]| -> anyhow::Result<u64> {
        Ok(u64::from_le_bytes(b.try_into().context("not 8 bytes")?))
    };
    let cpu = Duration::from_nanos(word(field(&mut blob)?)?);
    let peak_rss = word(field(&mut blob)?)?;
    Ok(Unpacked {
        json,
        places,
        trace: traced.then_some(trace),
        cpu,
        peak_rss,
    })
}
