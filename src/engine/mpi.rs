//! The MPI backend of [`Exchange`] (cargo feature `mpi`): each MPI rank is
//! one worker, `mpirun -n N` starts them (on one machine or a cluster),
//! and a window's end is two collectives over `MPI_COMM_WORLD`: an
//! all-to-all of the messages (their sizes first, then the bytes) and an
//! all-reduce of the next event time (minimum). What each rank injects is
//! the same, in the same canonical order, as with the local backend, so
//! the same seed on the same number of workers gives the same bytes on
//! either.

use std::io;
use std::time::Duration;

use mpi::Count;
use mpi::collective::SystemOperation;
use mpi::datatype::{Partition, PartitionMut};
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

use super::workers::{Exchange, Link, Worker};
use crate::net::{Wire, Workers, read_frame, write_frame};

/// A worker's exchange over MPI.
pub struct MpiExchange {
    world: SimpleCommunicator,
}

impl MpiExchange {
    /// This rank as a worker of `MPI_COMM_WORLD` (rank `i` is worker `i`).
    /// `universe` must outlive the simulation: dropping it ends MPI.
    pub fn worker(universe: &mpi::environment::Universe) -> Worker {
        let world = universe.world();
        let workers = Workers {
            index: u32::try_from(world.rank()).expect("ranks are not negative"),
            count: u32::try_from(world.size()).expect("sizes are not negative"),
        };
        Worker {
            workers,
            link: Link::Barrier(Box::new(MpiExchange { world })),
        }
    }
}

impl Exchange for MpiExchange {
    fn exchange(
        &mut self,
        out: Vec<Wire>,
        next: Option<Duration>,
    ) -> io::Result<(Vec<Wire>, Option<Duration>)> {
        let size = self.world.size() as usize;
        // One frame per destination; the next time travels in the reduce.
        let mut per_dest: Vec<Vec<Wire>> = (0..size).map(|_| Vec::new()).collect();
        let mut earliest = next;
        for wire in out {
            earliest = Some(earliest.map_or(wire.at, |e| e.min(wire.at)));
            per_dest[wire.dest as usize].push(wire);
        }
        let mut send = Vec::new();
        let mut send_counts: Vec<Count> = Vec::with_capacity(size);
        for wires in &per_dest {
            let before = send.len();
            write_frame(&mut send, wires, None)?;
            send_counts.push(Count::try_from(send.len() - before).map_err(too_big)?);
        }
        let mut recv_counts: Vec<Count> = vec![0; size];
        self.world
            .all_to_all_into(&send_counts[..], &mut recv_counts[..]);
        let displs = |counts: &[Count]| -> Vec<Count> {
            counts
                .iter()
                .scan(0, |acc, c| {
                    let at = *acc;
                    *acc += c;
                    Some(at)
                })
                .collect()
        };
        let (send_displs, recv_displs) = (displs(&send_counts), displs(&recv_counts));
        let total: usize = recv_counts.iter().map(|c| *c as usize).sum();
        let mut recv = vec![0u8; total];
        {
            let sent = Partition::new(&send[..], &send_counts[..], &send_displs[..]);
            let mut received = PartitionMut::new(&mut recv[..], &recv_counts[..], &recv_displs[..]);
            self.world.all_to_all_varcount_into(&sent, &mut received);
        }
        let mine = earliest.map_or(u64::MAX, |d| {
            u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
        });
        let mut global = u64::MAX;
        self.world
            .all_reduce_into(&mine, &mut global, SystemOperation::min());
        let mut inbound = Vec::new();
        let mut reader = &recv[..];
        while let Some((wires, _)) = read_frame(&mut reader)? {
            inbound.extend(wires);
        }
        inbound.sort_by_key(Wire::order);
        let global = (global != u64::MAX).then(|| Duration::from_nanos(global));
        Ok((inbound, global))
    }
}

fn too_big(_: std::num::TryFromIntError) -> io::Error {
    io::Error::other("a window's messages to one worker exceed 2 GiB")
}
