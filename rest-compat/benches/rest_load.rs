//! Load benchmark of the REST layer over a running stack (not a test).
//!
//! Start the system (`cargo run --release` at the repository root), then:
//!
//! ```text
//! cargo bench -p rest-compat --bench rest_load -- --url http://127.0.0.1:8000 --requests 3000 --connections 50
//! ```
//!
//! For a fresh user with 50 tasks it drives `GET /api/v1/tasks/`, `POST /api/v1/tasks/`
//! and `GET /api/v1/stats/` with 50 concurrent keep-alive connections, and prints
//! throughput, p50/p99 latency and the CPU time the whole stack spent per request
//! (utime + stime from `/proc/<pid>/stat` of the stack's processes, before and after;
//! the processes are the one listening on the URL's port plus, under the launcher,
//! the launcher and its other children — or given with `--pids 1,2,3`).
//! Every loop is bounded by a request count and a time limit. The load itself is
//! `test_support::rest_load`, shared with the top-level `modes` bench.

use test_support::rest_load::{self, Scenario, Users, stat_fields};

/// Executable names of the stack's processes, for finding them in /proc.
const STACK_NAMES: [&str; 6] = [
    "tasktracker",
    "rest-compat",
    "router",
    "users",
    "tasks",
    "stats",
];

struct Settings {
    url: String,
    requests: usize,
    connections: usize,
    pids: Vec<u32>,
}

fn settings() -> Settings {
    let mut settings = Settings {
        url: std::env::var("REST_URL").unwrap_or_else(|_| "http://127.0.0.1:8000".to_owned()),
        requests: 3000,
        connections: 50,
        pids: Vec::new(),
    };
    let args: Vec<String> = std::env::args().collect();
    for pair in args.windows(2) {
        match pair[0].as_str() {
            "--url" => settings.url = pair[1].trim_end_matches('/').to_owned(),
            "--requests" => settings.requests = pair[1].parse().unwrap_or(settings.requests),
            "--connections" => {
                settings.connections = pair[1].parse().unwrap_or(settings.connections)
            }
            "--pids" => {
                settings.pids = pair[1]
                    .split(',')
                    .filter_map(|pid| pid.trim().parse().ok())
                    .collect()
            }
            _ => {}
        }
    }
    if settings.pids.is_empty() {
        settings.pids = stack_pids(&settings.url);
    }
    settings
}

/// The stack behind `url`: the process listening on its port and, when that
/// process was started by the `tasktracker` launcher, the launcher and all of
/// its children (the other services). Falls back to every process named like
/// one of the stack's executables.
fn stack_pids(url: &str) -> Vec<u32> {
    let port = url
        .rsplit(':')
        .next()
        .and_then(|port| port.trim_end_matches('/').parse::<u16>().ok())
        .unwrap_or(80);
    let Some(server) = listening_pid(port) else {
        return all_pids()
            .into_iter()
            .filter(|pid| STACK_NAMES.contains(&program_name(*pid).as_str()))
            .collect();
    };
    let parent = stat_fields(server).and_then(|fields| fields.get(1)?.parse::<u32>().ok());
    match parent.filter(|parent| program_name(*parent) == "tasktracker") {
        Some(launcher) => {
            let mut pids: Vec<u32> = all_pids()
                .into_iter()
                .filter(|pid| {
                    stat_fields(*pid).and_then(|fields| fields.get(1)?.parse::<u32>().ok())
                        == Some(launcher)
                })
                .collect();
            pids.push(launcher);
            pids
        }
        None => vec![server],
    }
}

fn all_pids() -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .collect()
}

/// The base name of a process's executable, from its command line.
fn program_name(pid: u32) -> String {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let program = cmdline.split(|b| *b == 0).next().unwrap_or_default();
    String::from_utf8_lossy(program)
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The process holding the socket that listens on `port` (IPv4 or IPv6).
fn listening_pid(port: u16) -> Option<u32> {
    let wanted = format!(":{port:04X}");
    let inode = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .find_map(|table| {
            let text = std::fs::read_to_string(table).ok()?;
            text.lines().skip(1).find_map(|line| {
                let columns: Vec<&str> = line.split_whitespace().collect();
                let listening = columns.get(3) == Some(&"0A");
                (listening && columns.get(1)?.ends_with(&wanted))
                    .then(|| columns.get(9).map(|inode| (*inode).to_owned()))?
            })
        })?;
    let target = format!("socket:[{inode}]");
    all_pids().into_iter().find(|pid| {
        std::fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|fds| {
            fds.filter_map(Result::ok).any(|fd| {
                std::fs::read_link(fd.path()).is_ok_and(|link| link.to_string_lossy() == target)
            })
        })
    })
}

#[tokio::main]
async fn main() {
    let settings = settings();
    let api = format!("{}/api/v1", settings.url);
    let client = rest_load::client(settings.connections);
    let users = Users::create(&client, &api).await;
    println!(
        "{} requests per scenario, {} connections, CPU of {} stack processes {:?}",
        settings.requests,
        settings.connections,
        settings.pids.len(),
        settings.pids
    );
    for scenario in Scenario::ALL {
        let measured = rest_load::run(
            scenario,
            &client,
            &api,
            users.token(scenario),
            settings.requests,
            settings.connections,
            &settings.pids,
        )
        .await;
        println!("{}", measured.line(scenario.name()));
    }
}
