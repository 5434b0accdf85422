//! Keeps the all-in-one system running as a process supervisor would: a child
//! that exits unexpectedly is restarted on the SAME address (the others were
//! wired to it), after an exponential backoff, while the others keep serving.
//! Each exit is logged with its cause (exit code or signal, the child's last
//! stderr lines). A child that keeps failing is a crash loop: it is logged as
//! such and retried at the longest backoff for as long as the launcher runs,
//! and the launcher's own `/health` answers 503 naming it — the launcher does
//! not give up on its own, since a crash loop is often an outage elsewhere (a
//! database that is down) that ends by itself; whoever watches the launcher's
//! health decides. Ctrl-C/SIGTERM stops everything, last started first.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::Json;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::Level;

use crate::launcher::{
    RunningService, ServiceCommand, ServiceName, System, describe_exit,
    spawn_and_wait_until_listening, stop_child,
};

/// `tracing::event!` at a level chosen at run time: tracing fixes an event's
/// level where the event is written, so the one event is written at each level
/// and the match picks which one fires.
macro_rules! event_at {
    ($level:expr, $($event:tt)+) => {
        match $level {
            Level::ERROR => tracing::error!($($event)+),
            Level::WARN => tracing::warn!($($event)+),
            Level::INFO => tracing::info!($($event)+),
            Level::DEBUG => tracing::debug!($($event)+),
            _ => tracing::trace!($($event)+),
        }
    };
}

/// How restarts are paced and where the launcher reports its health.
#[derive(Debug, Clone)]
pub struct Supervision {
    /// Wait before the first restart after an exit; doubled for each further failure in a row.
    pub initial_backoff: Duration,
    /// The longest wait between two restarts.
    pub max_backoff: Duration,
    /// A child that ran this long before exiting was healthy: its backoff starts over.
    pub stable_after: Duration,
    /// This many failures in a row (exits or failed starts) make a crash loop.
    pub crash_loop_after: u32,
    /// Address of the launcher's `/health` (port 0 picks a free one; it is announced on stdout).
    pub host: String,
    pub port: u16,
}

/// What the launcher knows of one service, as its `/health` shows it.
#[derive(Debug, Clone)]
struct ServiceStatus {
    name: ServiceName,
    url: String,
    pid: Option<u32>,
    state: State,
    restarts: u32,
    failures_in_a_row: u32,
    last_exit: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Running,
    Restarting,
    CrashLoop,
}

impl State {
    fn as_str(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Restarting => "restarting",
            State::CrashLoop => "crash-loop",
        }
    }
}

type Statuses = Arc<Mutex<Vec<ServiceStatus>>>;

fn update(statuses: &Statuses, name: ServiceName, change: impl FnOnce(&mut ServiceStatus)) {
    let mut statuses = statuses
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(status) = statuses.iter_mut().find(|status| status.name == name) {
        change(status);
    }
}

/// One supervised service: how to stop it and the task watching it.
struct Watch {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

/// The running, supervised system.
pub struct Supervisor {
    watches: Vec<Watch>,
    url: String,
    server: JoinHandle<()>,
}

impl Supervisor {
    /// Takes over the started services and serves the launcher's `/health`.
    pub async fn start(system: System, supervision: Supervision) -> anyhow::Result<Supervisor> {
        let System { services, commands } = system;
        let statuses: Statuses = Arc::new(Mutex::new(
            services
                .iter()
                .map(|service| ServiceStatus {
                    name: service.name,
                    url: service.url.clone(),
                    pid: service.pid(),
                    state: State::Running,
                    restarts: 0,
                    failures_in_a_row: 0,
                    last_exit: None,
                })
                .collect(),
        ));
        let listener = tokio::net::TcpListener::bind((supervision.host.as_str(), supervision.port))
            .await
            .with_context(|| {
                format!(
                    "binding the launcher's status address {}:{}",
                    supervision.host, supervision.port
                )
            })?;
        let addr = listener.local_addr()?;
        let app = axum::Router::new().route(
            "/health",
            get({
                let statuses = statuses.clone();
                move || {
                    let statuses = statuses.clone();
                    async move { health(&statuses) }
                }
            }),
        );
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "the launcher's status endpoint stopped");
            }
        });
        common::server::announce("launcher", addr);

        let watches = services
            .into_iter()
            .zip(commands)
            .map(|(service, command)| {
                let (stop, stopped) = oneshot::channel();
                let task = tokio::spawn(watch(
                    service,
                    command,
                    supervision.clone(),
                    statuses.clone(),
                    stopped,
                ));
                Watch { stop, task }
            })
            .collect();
        Ok(Supervisor {
            watches,
            url: format!("http://{addr}"),
            server,
        })
    }

    /// Where the launcher's `/health` is served.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stops every service, last started first, each waited for before the next.
    pub async fn shutdown(mut self) {
        while let Some(watch) = self.watches.pop() {
            let _ = watch.stop.send(());
            let _ = watch.task.await;
        }
        self.server.abort();
    }
}

/// 200 when every service runs, else 503; the body names each service's state.
fn health(statuses: &Statuses) -> axum::response::Response {
    let statuses = statuses
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
    let healthy = statuses.iter().all(|status| status.state == State::Running);
    let services: serde_json::Map<String, Value> = statuses
        .iter()
        .map(|status| {
            (
                status.name.as_str().to_owned(),
                json!({
                    "state": status.state.as_str(),
                    "url": status.url,
                    "pid": status.pid,
                    "restarts": status.restarts,
                    "failures_in_a_row": status.failures_in_a_row,
                    "last_exit": status.last_exit,
                }),
            )
        })
        .collect();
    let body = json!({
        "status": if healthy { "healthy" } else { "degraded" },
        "service": "launcher",
        "services": services,
    });
    let code = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body)).into_response()
}

/// The wait before the `failures`-th restart in a row: initial × 2^(failures−1), capped.
pub fn backoff(supervision: &Supervision, failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(20);
    supervision
        .initial_backoff
        .saturating_mul(1 << doublings)
        .min(supervision.max_backoff)
}

/// Watches one service until told to stop: restarts it whenever it exits.
async fn watch(
    mut service: RunningService,
    command: ServiceCommand,
    supervision: Supervision,
    statuses: Statuses,
    mut stop: oneshot::Receiver<()>,
) {
    let name = service.name;
    // The announced port, pinned: the others reach this service there.
    let port = service.port();
    let url = service.url.clone();
    let mut failures: u32 = 0;
    let mut started = Instant::now();
    loop {
        let exit = tokio::select! {
            _ = &mut stop => None,
            exit = service.child.wait() => Some(exit),
        };
        let Some(exit) = exit else {
            stop_child(service).await;
            return;
        };
        if started.elapsed() >= supervision.stable_after {
            failures = 0;
        }
        let mut cause = format!(
            "{}; last log lines:\n{}",
            describe_exit(&exit),
            service.stderr.lines().join("\n")
        );
        // Restart until one start succeeds, or the launcher stops.
        loop {
            failures += 1;
            let delay = backoff(&supervision, failures);
            // A crash loop is an error in the log and a state of its own in `/health`.
            let service_name = name.as_str();
            let (state, level, message) = if failures >= supervision.crash_loop_after {
                let message = format!("crash loop: {service_name} keeps failing: {cause}");
                (State::CrashLoop, Level::ERROR, message)
            } else {
                let message = format!("{service_name} exited unexpectedly; restarting it: {cause}");
                (State::Restarting, Level::WARN, message)
            };
            event_at!(
                level,
                service = service_name,
                failures,
                retry_in_ms = delay.as_millis() as u64,
                "{message}"
            );
            let first_line = cause.lines().next().unwrap_or_default().to_owned();
            update(&statuses, name, |status| {
                status.pid = None;
                status.state = state;
                status.failures_in_a_row = failures;
                status.last_exit = Some(first_line);
            });
            tokio::select! {
                _ = &mut stop => return,
                () = tokio::time::sleep(delay) => {}
            }
            let started_again = tokio::select! {
                _ = &mut stop => return,
                started = spawn_and_wait_until_listening(name, command.command(port)) => started,
            };
            match started_again {
                Ok(restarted) => {
                    if restarted.url != url {
                        tracing::error!(
                            service = name.as_str(),
                            expected = %url,
                            announced = %restarted.url,
                            "restarted on another address; the others cannot reach it"
                        );
                    }
                    tracing::info!(service = name.as_str(), url = %restarted.url, "restarted");
                    update(&statuses, name, |status| {
                        status.pid = restarted.pid();
                        status.state = State::Running;
                        status.restarts += 1;
                    });
                    service = restarted;
                    started = Instant::now();
                    break;
                }
                Err(error) => cause = format!("{error:#}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let supervision = Supervision {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
            stable_after: Duration::from_secs(30),
            crash_loop_after: 5,
            host: "127.0.0.1".to_owned(),
            port: 0,
        };
        let waits: Vec<u128> = (1..=6)
            .map(|failures| backoff(&supervision, failures).as_millis())
            .collect();
        assert_eq!(waits, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(backoff(&supervision, u32::MAX), Duration::from_millis(1000));
    }
}
