//! The launcher as a supervisor (issue 10): a killed child comes back on its
//! address while the others keep running and serving; the launcher's death takes
//! every child with it; a service that cannot start shows in the launcher's health.

mod chaos_kit;

use std::time::Duration;

use chaos_kit::{
    Launcher, SERVICES, Store, assert_unchanged, is_alive, poll_until, register, signal,
    whole_system_answers,
};
use nix::sys::signal::Signal;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_child_is_restarted_on_its_address_and_nothing_else_restarts() {
    let launcher = Launcher::start(Store::Sqlite, &[]).await;
    let rest = launcher.url_of("rest-compat").await;
    let user = register(&launcher.http, &rest, "survivor").await;
    let urls_before: Vec<String> = futures_urls(&launcher).await;
    let mut pids = launcher.pids().await;
    for service in SERVICES {
        let old = launcher.pid_of(service).await;
        signal(old, Signal::SIGKILL);
        let new = launcher
            .restarted(service, old, Duration::from_secs(5))
            .await;
        assert_ne!(new, old);
        // REST and GraphQL answer 2xx again within 5 s of the kill (the deadline of the polls).
        poll_until(
            Duration::from_secs(5),
            &format!("REST and GraphQL 2xx after killing {service}"),
            || async { whole_system_answers(&launcher, &user).await.then_some(()) },
        )
        .await;
        assert!(!is_alive(old), "the killed {service} is gone");
        let now = launcher.pids().await;
        assert_unchanged(&pids, &now, Some(service));
        pids = now;
    }
    assert_eq!(
        futures_urls(&launcher).await,
        urls_before,
        "every service kept its address"
    );
    let (_, status) = launcher.status().await;
    for service in SERVICES {
        assert_eq!(status["services"][service]["restarts"], 1, "{status}");
        assert!(
            status["services"][service]["last_exit"]
                .as_str()
                .is_some_and(|cause| cause.contains("SIGKILL")),
            "the cause of {service}'s exit is kept: {status}"
        );
    }
    launcher.stop().await;
    for (name, pid) in pids {
        assert!(!is_alive(pid), "{name} outlived the launcher's stop");
    }
}

async fn futures_urls(launcher: &Launcher) -> Vec<String> {
    let mut urls = Vec::new();
    for service in SERVICES {
        urls.push(launcher.url_of(service).await);
    }
    urls
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_child_survives_the_launcher_killed_with_sigkill() {
    let mut launcher = Launcher::start(Store::Sqlite, &[]).await;
    let pids = launcher.pids().await;
    let rest = launcher.url_of("rest-compat").await;
    launcher.kill_launcher().await;
    poll_until(
        Duration::from_secs(5),
        "every child gone after the launcher's SIGKILL",
        || async { pids.iter().all(|(_, pid)| !is_alive(*pid)).then_some(()) },
    )
    .await;
    assert!(
        reqwest::get(format!("{rest}/health")).await.is_err(),
        "rest-compat's port is free"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_that_cannot_start_is_a_crash_loop_in_the_launchers_health() {
    let launcher = Launcher::start(Store::Sqlite, &[]).await;
    let rest = launcher.url_of("rest-compat").await;
    let tasks_url = launcher.url_of("tasks").await;
    let user = register(&launcher.http, &rest, "looper").await;
    let pids = launcher.pids().await;
    // The tasks store cannot be opened: every start of tasks fails.
    launcher.break_database("tasks").await;
    let status = poll_until(
        Duration::from_secs(20),
        "tasks reported as crash-looping",
        || async {
            let (code, body) = launcher.status().await;
            (code == 503 && body["services"]["tasks"]["state"] == "crash-loop").then_some(body)
        },
    )
    .await;
    assert!(
        status["services"]["tasks"]["last_exit"]
            .as_str()
            .is_some_and(|cause| cause.contains("exit") || cause.contains("killed")),
        "the cause is reported: {status}"
    );
    // The others keep serving what does not need tasks.
    assert!(
        chaos_kit::answers_2xx(
            &launcher.http,
            &format!("{rest}/api/v1/auth/me"),
            Some(&user.token)
        )
        .await,
        "REST /auth/me answers while tasks crash-loops"
    );
    assert_eq!(
        chaos_kit::status_of(
            &launcher.http,
            &format!("{rest}/api/v1/tasks/"),
            &user.token
        )
        .await,
        Some(503)
    );
    launcher.restore_database("tasks").await;
    launcher.all_running(Duration::from_secs(10)).await;
    assert_eq!(
        launcher.url_of("tasks").await,
        tasks_url,
        "tasks is back on its address"
    );
    poll_until(
        Duration::from_secs(10),
        "REST and GraphQL answer once tasks is back",
        || async { whole_system_answers(&launcher, &user).await.then_some(()) },
    )
    .await;
    assert_unchanged(&pids, &launcher.pids().await, Some("tasks"));
    launcher.stop().await;
}
