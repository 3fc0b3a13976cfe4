//! Peak resident memory of a process, from Linux's `/proc/<pid>/status`.

/// `VmHWM` (peak resident set size) of `pid`, in KiB; `None` when the process is gone
/// or this is not Linux.
pub fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_vm_hwm(&status)
}

/// The `VmHWM:` line of a status file, in KiB.
pub fn parse_vm_hwm(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_vm_hwm() {
        assert_eq!(
            parse_vm_hwm("Name:\tx\nVmPeak:\t 10 kB\nVmHWM:\t   5120 kB\nVmRSS:\t 100 kB\n"),
            Some(5120)
        );
        assert_eq!(parse_vm_hwm("Name:\tx\n"), None);
    }

    #[test]
    fn own_process_has_a_peak() {
        assert!(peak_rss_kb(std::process::id()).is_some_and(|kb| kb > 0));
    }
}
