//! `scimd-bench hold-cpu-latency` as `bench/run` uses it: the request is written, a
//! line says so, and the holder ends by itself once the process it watches is gone: the
//! one named by `--while-pid`, or else the one that started it (a regular file stands
//! in for `/dev/cpu_dma_latency`).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BENCH: &str = env!("CARGO_BIN_EXE_scimd-bench");

use scimd_bench::cpu_latency::process_has_ended as ended;

/// Waits (at most 10 s) for the holder to end.
fn assert_ends_soon(holder: u32, what: &str) {
    // It checks every 200 ms; well before its own 60 s limit it is gone.
    let start = Instant::now();
    while !ended(holder) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the holder {holder} outlived {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_holder_writes_its_request_and_ends_with_its_parent() {
    let dir = tempfile::tempdir().unwrap();
    let device = dir.path().join("cpu_dma_latency");
    std::fs::write(&device, b"").unwrap();
    // A shell starts the holder in the background, prints its pid, waits for its line,
    // then exits: the holder is left without the process that started it.
    let script = format!(
        "'{BENCH}' hold-cpu-latency --microseconds 7 --device '{}' --max-secs 60 > '{}' & \
         echo $!; for i in $(seq 100); do [ -s '{}' ] && break; sleep 0.05; done",
        device.display(),
        dir.path().join("line").display(),
        dir.path().join("line").display(),
    );
    let mut shell = Command::new("sh")
        .args(["-c", &script])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pid_line = String::new();
    BufReader::new(shell.stdout.take().unwrap())
        .read_line(&mut pid_line)
        .unwrap();
    let holder: u32 = pid_line.trim().parse().unwrap();
    assert!(shell.wait().unwrap().success());

    let line = std::fs::read_to_string(dir.path().join("line")).unwrap();
    assert!(
        line.starts_with("holding a CPU latency request of 7 µs on "),
        "{line}"
    );
    assert_eq!(std::fs::read(&device).unwrap(), 7_i32.to_ne_bytes());

    assert_ends_soon(holder, "its parent");
}

/// `bench/run` names itself with `--while-pid`: the holder stays while that process
/// lives, even with its own parent gone, and ends once it is gone.
#[test]
fn the_holder_ends_with_the_process_it_was_told_to_watch() {
    let dir = tempfile::tempdir().unwrap();
    let device = dir.path().join("cpu_dma_latency");
    std::fs::write(&device, b"").unwrap();
    let mut watched = Command::new("sleep").arg("60").spawn().unwrap();
    let mut holder = Command::new(BENCH)
        .args(["hold-cpu-latency", "--max-secs", "60", "--while-pid"])
        .arg(watched.id().to_string())
        .arg("--device")
        .arg(&device)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(holder.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        line.starts_with("holding a CPU latency request of 0 µs on "),
        "{line}"
    );
    // Still holding a while later: the watched process lives.
    std::thread::sleep(Duration::from_millis(600));
    assert!(holder.try_wait().unwrap().is_none(), "ended too early");
    assert_eq!(std::fs::read(&device).unwrap(), 0_i32.to_ne_bytes());

    watched.kill().unwrap();
    watched.wait().unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = holder.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the holder outlived the process it watched"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
}

#[test]
fn a_device_that_cannot_be_opened_fails_the_command_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let device = dir.path().join("missing").join("cpu_dma_latency");
    let output = Command::new(BENCH)
        .args(["hold-cpu-latency", "--max-secs", "5", "--device"])
        .arg(&device)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("missing/cpu_dma_latency"), "{stderr}");
    assert!(output.stdout.is_empty(), "nothing held, nothing said held");
}
