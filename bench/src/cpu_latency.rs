//! A CPU latency request held for the length of a benchmark run.
//!
//! Linux's PM QoS interface: a process opens `/dev/cpu_dma_latency`, writes the
//! longest wake-up latency it accepts from an idle CPU (microseconds, a native-endian
//! 32-bit integer), and the request stands while the file stays open; the kernel drops
//! it when the file is closed, however the process ends. The cpuidle governor then
//! puts idle CPUs only in states that wake within that latency: at 0, the polling
//! state, where an idle CPU spins on its "need to reschedule" flag instead of halting.
//! It is what the `latency-performance` profile of `tuned` sets.
//!
//! Why `bench/run` holds one (docs/benchmarks.md, item 74): this machine is a virtual
//! machine whose kernel command line turns the guest's halt polling off
//! (`haltpoll.guest_halt_poll_ns=0`; KVM guests poll up to 200 µs by default), so an
//! idle vCPU halts at once, and waking a halted vCPU costs a trip through the
//! hypervisor. A server that hands each request between threads (scimd: a tokio worker,
//! its SQLite writer thread, the worker again) pays that trip several times a request;
//! one that runs everything on one thread (scim2-server under uvicorn) hardly at all.
//! The request is held for every target of a run alike, and the results record it.

use crate::BenchError;
use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Linux's PM QoS file for the CPU latency request.
pub const DEVICE: &str = "/dev/cpu_dma_latency";

/// The largest request the kernel takes (`PM_QOS_CPU_LATENCY_DEFAULT_VALUE`, 2,000 s:
/// no constraint).
pub const MAX_MICROSECONDS: u32 = 2_000_000_000;

/// A CPU latency request, standing until this is dropped (the file closed).
#[derive(Debug)]
pub struct LatencyRequest {
    /// The open file: closing it ends the request.
    _file: File,
    /// The file it was written to.
    pub device: PathBuf,
    /// The latency asked for.
    pub microseconds: u32,
}

/// Asks for at most `microseconds` of wake-up latency through `device` (normally
/// [`DEVICE`]). Fails when the file cannot be opened for writing (not Linux, not root)
/// or the kernel refuses the value.
pub fn hold(device: &Path, microseconds: u32) -> Result<LatencyRequest, BenchError> {
    let microseconds = microseconds.min(MAX_MICROSECONDS);
    // Below i32::MAX by the cap above.
    let value = i32::try_from(microseconds).unwrap_or(i32::MAX);
    let mut file = File::options()
        .write(true)
        .open(device)
        .map_err(|e| BenchError::io(format!("opening {} for writing", device.display()), e))?;
    // One write of the whole value: the kernel reads a request from exactly 4 bytes.
    file.write_all(&value.to_ne_bytes())
        .map_err(|e| BenchError::io(format!("writing the request to {}", device.display()), e))?;
    Ok(LatencyRequest {
        _file: file,
        device: device.to_owned(),
        microseconds,
    })
}

/// Why [`wait_while_process_lives`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitEnd {
    /// The process the request was held for has ended.
    ProcessEnded,
    /// The time limit passed first.
    TimeLimit,
}

/// Whether process `pid` has ended: gone from `/proc`, or a zombie nobody has reaped.
pub fn process_has_ended(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // proc(5): the state is the first field after the command name, which is in
        // parentheses and may itself hold spaces or parentheses, hence the last ')'.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
    }
}

/// Waits, checking every `step`, until process `pid` has ended or `limit` has passed:
/// a holder left behind by a harness that was killed ends by itself.
///
/// The harness names itself (`--while-pid $$`) rather than leaving the holder to watch
/// for its own re-parenting: a parent that exits before the holder first asks who its
/// parent is would never be seen to go.
pub fn wait_while_process_lives(pid: u32, limit: Duration, step: Duration) -> WaitEnd {
    let start = Instant::now();
    loop {
        if process_has_ended(pid) {
            return WaitEnd::ProcessEnded;
        }
        let elapsed = start.elapsed();
        if elapsed >= limit {
            return WaitEnd::TimeLimit;
        }
        std::thread::sleep(step.min(limit - elapsed));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The request is the value as 4 native-endian bytes, written once (a regular file
    /// stands in for the device).
    #[test]
    fn the_request_is_written_as_one_32_bit_integer() {
        let dir = tempfile::tempdir().unwrap();
        let device = dir.path().join("cpu_dma_latency");
        std::fs::write(&device, b"").unwrap();
        for (asked, expected) in [(0_u32, 0_i32), (55, 55), (u32::MAX, 2_000_000_000)] {
            let request = hold(&device, asked).unwrap();
            assert_eq!(request.microseconds, u32::try_from(expected).unwrap());
            let written = std::fs::read(&device).unwrap();
            assert_eq!(written, expected.to_ne_bytes(), "asked {asked}");
            drop(request);
            std::fs::write(&device, b"").unwrap();
        }
    }

    /// A file that cannot be opened is an error that names it, not a panic.
    #[test]
    fn a_missing_device_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let device = dir.path().join("absent").join("cpu_dma_latency");
        let err = hold(&device, 0).unwrap_err().to_string();
        assert!(err.contains("absent/cpu_dma_latency"), "{err}");
    }

    /// With the watched process alive, the wait ends at the limit (bounded), not before.
    #[test]
    fn the_wait_is_bounded_by_its_limit() {
        let start = Instant::now();
        let end = wait_while_process_lives(
            std::process::id(),
            Duration::from_millis(120),
            Duration::from_millis(20),
        );
        assert_eq!(end, WaitEnd::TimeLimit);
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(120), "{took:?}");
        assert!(took < Duration::from_secs(5), "{took:?}");
    }

    /// A process that has exited and been reaped has ended; this one has not.
    #[test]
    fn an_exited_process_has_ended_and_a_running_one_has_not() {
        assert!(!process_has_ended(std::process::id()));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(process_has_ended(pid));
    }

    /// A zombie (exited, not yet reaped) has ended too.
    #[test]
    fn a_zombie_has_ended() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let start = Instant::now();
        while !process_has_ended(pid) {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{pid} never ended"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        child.wait().unwrap();
    }
}
