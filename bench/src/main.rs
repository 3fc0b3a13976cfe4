//! `scimd-bench`: run one scenario against one loopback SCIM server, serve the bare
//! endpoint, measure scimd's start-up, or turn results into a report. `bench/run`
//! drives it for the whole side-by-side comparison.

#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used)]

use clap::{Parser, Subcommand, ValueEnum};
use scimd_bench::client::ScimClient;
use scimd_bench::result::ScenarioResult;
use scimd_bench::scenarios::{big_group, entra_cycle, get_by_id, import, mixed, RunSettings};
use scimd_bench::tenants::Tenants;
use scimd_bench::{bare, cpu_latency, floor, report, startup, BenchError};
use std::io::Write as _;
use std::num::NonZeroUsize;

/// scimd's allocator (see `crates/scimd/src/main.rs`): the bare endpoint and the floor
/// are "the same stack" only with it, and the load generator, which shares the cores
/// with the server it loads, spent 7% of its CPU in glibc's malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// scimd's load generator (loopback targets only).
#[derive(Debug, Parser)]
#[command(name = "scimd-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run one scenario against one SCIM server and append its result (one JSON line).
    Run(RunArgs),
    /// Serve the bare endpoint (fixed JSON on every path) until SIGTERM or Ctrl-C.
    Bare {
        /// Address to listen on (loopback).
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: std::net::SocketAddr,
    },
    /// Serve the SQLite floor (GET /Users/{id}: a token read, a row read, a render;
    /// POST /Users stores) until SIGTERM or Ctrl-C.
    Floor {
        /// Address to listen on (loopback).
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: std::net::SocketAddr,
        /// The SQLite file (created if missing).
        #[arg(long)]
        database: PathBuf,
        /// The bearer token requests must present.
        #[arg(long, env = "SCIMD_BENCH_TOKEN")]
        token: String,
    },
    /// Measure `scimd serve` start to the first 200 on GET /Users/{id}.
    Startup {
        /// The scimd binary.
        #[arg(long)]
        scimd: PathBuf,
        /// Tenant id.
        #[arg(long)]
        tenant: String,
        /// A token of the tenant.
        #[arg(long, env = "SCIMD_BENCH_TOKEN")]
        token: String,
        /// Starts to take (the median is reported).
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// Users in the database (a label for the report).
        #[arg(long)]
        users: u64,
        /// Target label.
        #[arg(long, default_value = "scimd-sqlite")]
        target: String,
        /// Seconds one start may take.
        #[arg(long, default_value_t = 30)]
        timeout_secs: u64,
        /// Append the result here (JSON lines); stdout when absent.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The CPU latency request (microseconds) held while this runs, recorded.
        #[arg(long)]
        cpu_latency_us: Option<u32>,
        /// Arguments given to scimd before `serve`, e.g. `--data-dir DIR`.
        #[arg(last = true)]
        scimd_args: Vec<String>,
    },
    /// Hold a CPU latency request (Linux PM QoS) until a process ends (--while-pid, by
    /// default the one that started this one), or --max-secs pass: idle CPUs then poll
    /// instead of halting. Prints one line once the request stands. `bench/run` holds
    /// one for its whole run.
    HoldCpuLatency {
        /// The longest wake-up latency to accept from an idle CPU, in microseconds.
        #[arg(long, default_value_t = 0)]
        microseconds: u32,
        /// The PM QoS file.
        #[arg(long, default_value = cpu_latency::DEVICE)]
        device: PathBuf,
        /// Longest the request is held, in seconds.
        #[arg(long, default_value_t = 4 * 3600)]
        max_secs: u64,
        /// The process whose life bounds the request (default: this one's parent).
        #[arg(long)]
        while_pid: Option<u32>,
    },
    /// Turn JSON-lines results into results.json and results.md.
    Report {
        /// The JSON-lines file `run` and `startup` appended to.
        #[arg(long)]
        results: PathBuf,
        /// Where to write all results as one JSON array.
        #[arg(long)]
        json: PathBuf,
        /// Where to write the markdown report.
        #[arg(long)]
        md: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ScenarioName {
    EntraCycle,
    Mixed,
    BigGroup,
    Import,
    GetById,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The scenario.
    #[arg(long, value_enum)]
    scenario: ScenarioName,
    /// SCIM base URL, e.g. http://127.0.0.1:8080/scim/v2/bench (loopback only).
    #[arg(long)]
    base: String,
    /// Bearer token (omit for servers without authentication).
    #[arg(long, env = "SCIMD_BENCH_TOKEN")]
    token: Option<String>,
    /// Target label in the results, e.g. scimd-sqlite, scim2-server, bare.
    #[arg(long)]
    target: String,
    /// Round number.
    #[arg(long, default_value_t = 1)]
    round: u32,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// Threads of the load generator: 1 runs every connection on one thread (a
    /// current-thread runtime: no hand-offs between threads, the least CPU taken from
    /// the server on a shared machine, but no more than one core's worth of requests);
    /// N runs a multi-thread runtime with N workers. Unset: one worker per CPU.
    #[arg(long)]
    client_threads: Option<NonZeroUsize>,
    /// Wall-clock cap of the whole scenario, in seconds.
    #[arg(long, default_value_t = 300)]
    cap_secs: u64,
    /// The server's pid, to read its peak RSS after the run.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Append the result here (JSON lines); stdout when absent.
    #[arg(long)]
    out: Option<PathBuf>,
    /// The CPU latency request (microseconds) held on the machine while this runs
    /// (`hold-cpu-latency`), recorded with the result.
    #[arg(long)]
    cpu_latency_us: Option<u32>,
    /// Users (entra-cycle: provisioned; mixed, import, get-by-id: seeded).
    #[arg(long, default_value_t = 10_000)]
    users: usize,
    /// entra-cycle: groups.
    #[arg(long, default_value_t = 100)]
    groups: usize,
    /// entra-cycle: members per group.
    #[arg(long, default_value_t = 100)]
    members_per_group: usize,
    /// entra-cycle: member values per PATCH.
    #[arg(long, default_value_t = 50)]
    patch_batch: usize,
    /// mixed, get-by-id: seconds of load.
    #[arg(long, default_value_t = 20.0)]
    duration_secs: f64,
    /// mixed: most operations.
    #[arg(long, default_value_t = 10_000_000)]
    max_ops: u64,
    /// mixed: tenants to spread the users over, created through the admin API first
    /// (user i in tenant i mod N); above 1 it needs --admin-key.
    #[arg(long, default_value_t = 1)]
    tenants: usize,
    /// scimd's admin API key (`scimd admin-key create`), for --tenants.
    #[arg(long, env = "SCIMD_BENCH_ADMIN_KEY")]
    admin_key: Option<String>,
    /// big-group: group sizes.
    #[arg(long, value_delimiter = ',', default_values_t = [1000, 100_000])]
    sizes: Vec<usize>,
    /// big-group: add/read/remove rounds per size.
    #[arg(long, default_value_t = 200)]
    rounds: usize,
    /// big-group: member values per PATCH while filling.
    #[arg(long, default_value_t = 1000)]
    fill_batch: usize,
    /// import: page size.
    #[arg(long, default_value_t = 100)]
    page_size: usize,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Only `run` chooses: the servers (bare, floor) keep one worker per CPU, as scimd.
    let threads = match &cli.command {
        Command::Run(args) => client_threads(args.client_threads),
        _ => client_threads(None),
    };
    let runtime = match runtime(threads) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("scimd-bench: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(execute(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scimd-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The threads asked for, or one per CPU.
fn client_threads(asked: Option<NonZeroUsize>) -> NonZeroUsize {
    asked
        .or_else(|| std::thread::available_parallelism().ok())
        .unwrap_or(NonZeroUsize::MIN)
}

/// A current-thread runtime for one thread, else a multi-thread one with `threads`
/// workers.
fn runtime(threads: NonZeroUsize) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = if threads.get() == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(threads.get());
        builder
    };
    builder.enable_all().build()
}

async fn execute(command: Command) -> Result<(), BenchError> {
    match command {
        Command::Run(args) => {
            let mut result = run(&args).await?;
            result.cpu_latency_us = args.cpu_latency_us;
            eprintln!(
                "{} {} round {}: {:.1} s, verified: {}{}",
                result.target,
                result.scenario,
                result.round,
                result.elapsed_s,
                result.verification.passed,
                if result.capped {
                    format!(", capped at {:.0}%", result.completed_fraction * 100.0)
                } else {
                    String::new()
                }
            );
            for failure in &result.verification.failures {
                eprintln!("  check failed: {failure}");
            }
            emit(&result, args.out.as_ref())
        }
        Command::Bare { listen } => serve_on_loopback(listen, "bare endpoint", bare::app()).await,
        Command::Floor {
            listen,
            database,
            token,
        } => {
            let app = floor::app(&database, &token).map_err(|e| {
                BenchError::Measurement(format!("opening {}: {e}", database.display()))
            })?;
            serve_on_loopback(listen, "SQLite floor", app).await
        }
        Command::Startup {
            scimd,
            tenant,
            token,
            rounds,
            users,
            target,
            timeout_secs,
            out,
            cpu_latency_us,
            scimd_args,
        } => {
            let mut result = startup::measure(&startup::StartupParams {
                scimd,
                args: scimd_args,
                tenant,
                token,
                rounds,
                timeout: Duration::from_secs(timeout_secs),
                users,
                target,
            })
            .await?;
            result.cpu_latency_us = cpu_latency_us;
            eprintln!(
                "{} startup with {users} users: {:.1} ms (median), verified: {}",
                result.target,
                result
                    .metrics
                    .get("start_to_first_request_ms")
                    .copied()
                    .unwrap_or(0.0),
                result.verification.passed
            );
            emit(&result, out.as_ref())
        }
        Command::HoldCpuLatency {
            microseconds,
            device,
            max_secs,
            while_pid,
        } => {
            // Read before anything else: the later, the likelier the parent is gone.
            let watched = while_pid.unwrap_or_else(std::os::unix::process::parent_id);
            let request = cpu_latency::hold(&device, microseconds)?;
            let mut stdout = std::io::stdout();
            // bench/run waits for this line before its first round.
            let _ = writeln!(
                stdout,
                "holding a CPU latency request of {} µs on {}",
                request.microseconds,
                request.device.display()
            );
            let _ = stdout.flush();
            let limit = Duration::from_secs(max_secs);
            let end = tokio::task::spawn_blocking(move || {
                cpu_latency::wait_while_process_lives(watched, limit, Duration::from_millis(200))
            })
            .await
            .map_err(|e| BenchError::Measurement(format!("the wait ended abnormally: {e}")))?;
            drop(request);
            eprintln!("scimd-bench: CPU latency request released ({end:?})");
            Ok(())
        }
        Command::Report { results, json, md } => {
            let text = std::fs::read_to_string(&results)
                .map_err(|e| BenchError::io(format!("reading {}", results.display()), e))?;
            let mut all = Vec::new();
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let r: ScenarioResult = serde_json::from_str(line)
                    .map_err(|e| BenchError::json(format!("a line of {}", results.display()), e))?;
                all.push(r);
            }
            let pretty = serde_json::to_string_pretty(&all)
                .map_err(|e| BenchError::json("serialising results", e))?;
            std::fs::write(&json, pretty)
                .map_err(|e| BenchError::io(format!("writing {}", json.display()), e))?;
            std::fs::write(&md, report::markdown(&all))
                .map_err(|e| BenchError::io(format!("writing {}", md.display()), e))?;
            Ok(())
        }
    }
}

async fn run(args: &RunArgs) -> Result<ScenarioResult, BenchError> {
    let connections = args.connections.max(1);
    let client = ScimClient::new(
        &args.base,
        args.token.as_deref(),
        connections,
        Duration::from_secs(args.cap_secs.clamp(5, 120)),
    )?;
    // Read from the runtime this runs on, so the record cannot disagree with it.
    let client_threads = tokio::runtime::Handle::current().metrics().num_workers();
    let settings = RunSettings {
        target: args.target.clone(),
        round: args.round,
        connections,
        cap: Duration::from_secs(args.cap_secs),
        server_pid: args.server_pid,
        run_tag: run_tag(),
        client_threads: u32::try_from(client_threads).unwrap_or(u32::MAX),
    };
    let outcome = match args.scenario {
        ScenarioName::EntraCycle => {
            let p = entra_cycle::EntraCycleParams {
                users: args.users,
                groups: args.groups,
                members_per_group: args.members_per_group,
                patch_batch: args.patch_batch,
            };
            entra_cycle::run(&client, &settings, &p).await?
        }
        ScenarioName::Mixed => {
            let deadline = Instant::now() + settings.cap;
            let tenants = match args.tenants {
                0 | 1 => Tenants::single(&client),
                count => {
                    let admin_key = args.admin_key.as_deref().ok_or_else(|| {
                        BenchError::Measurement(
                            "--tenants above 1 needs --admin-key (SCIMD_BENCH_ADMIN_KEY)".into(),
                        )
                    })?;
                    Tenants::create(&client, admin_key, count, &settings.run_tag, deadline).await?
                }
            };
            let p = mixed::MixedParams {
                users: args.users,
                duration_s: args.duration_secs,
                max_ops: args.max_ops,
                tenants: tenants.len(),
            };
            mixed::run(&tenants, &settings, &p, deadline).await?
        }
        ScenarioName::BigGroup => {
            let p = big_group::BigGroupParams {
                sizes: args.sizes.clone(),
                rounds: args.rounds,
                fill_batch: args.fill_batch,
            };
            big_group::run(&client, &settings, &p).await?
        }
        ScenarioName::Import => {
            let p = import::ImportParams {
                users: args.users,
                page_size: args.page_size,
            };
            import::run(&client, &settings, &p).await?
        }
        ScenarioName::GetById => {
            let p = get_by_id::GetByIdParams {
                users: args.users,
                duration_s: args.duration_secs,
            };
            get_by_id::run(&client, &settings, &p).await?
        }
    };
    Ok(outcome.into_result(&settings))
}

/// A short random tag so names of separate runs never collide.
fn run_tag() -> String {
    format!("b{:08x}", rand::random::<u32>())
}

fn emit(result: &ScenarioResult, out: Option<&PathBuf>) -> Result<(), BenchError> {
    let line = serde_json::to_string(result).map_err(|e| BenchError::json("serialising", e))?;
    match out {
        Some(path) => {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| BenchError::io(format!("opening {}", path.display()), e))?;
            writeln!(file, "{line}")
                .map_err(|e| BenchError::io(format!("writing {}", path.display()), e))
        }
        None => {
            println!("{line}");
            Ok(())
        }
    }
}

/// Serves `app` (the bare endpoint, the floor) on `listen`, which must be a loopback
/// address like every target's, until SIGTERM or Ctrl-C; says where it listens.
async fn serve_on_loopback(
    listen: std::net::SocketAddr,
    name: &str,
    app: axum::Router,
) -> Result<(), BenchError> {
    if !listen.ip().is_loopback() {
        return Err(BenchError::Measurement(format!(
            "refusing to listen on {listen}: loopback addresses only (127.0.0.1, ::1)"
        )));
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| BenchError::io(format!("binding {listen}"), e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| BenchError::io("reading the bound address", e))?;
    println!("{name} listening on http://{addr}");
    let _ = std::io::stdout().flush();
    axum::serve(listener, app)
        .with_graceful_shutdown(stop_signal())
        .await
        .map_err(|e| BenchError::io("serving", e))
}

async fn stop_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::runtime::RuntimeFlavor;

    #[test]
    fn one_client_thread_is_a_current_thread_runtime() {
        let flavor = |n: usize| {
            let rt = runtime(client_threads(NonZeroUsize::new(n))).ok()?;
            Some((rt.handle().runtime_flavor(), rt.metrics().num_workers()))
        };
        assert_eq!(flavor(1), Some((RuntimeFlavor::CurrentThread, 1)));
        assert_eq!(flavor(3), Some((RuntimeFlavor::MultiThread, 3)));
        assert_eq!(client_threads(NonZeroUsize::new(4)).get(), 4, "as asked");
        assert!(client_threads(None).get() >= 1, "one per CPU");
    }
}
