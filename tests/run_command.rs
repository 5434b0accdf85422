//! The README's run command: `tasktracker` with no arguments brings up all five
//! services (in one process, the default mode) on the embedded SQLite default
//! and the default ports, says where they are, answers REST on :8000 and
//! GraphQL on :4000, and stops cleanly on Ctrl-C.

use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

#[tokio::test]
async fn run_command_starts_everything_on_sqlite_and_stops_on_ctrl_c() {
    let data_dir = test_support::fresh_data_dir("run");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tasktracker"))
        .env("TASKTRACKER_DATA_DIR", &data_dir)
        .env_remove("DATABASE_URL")
        .env_remove("USERS_DATABASE_URL")
        .env_remove("TASKS_DATABASE_URL")
        .env_remove("SECRET_KEY")
        .env_remove("TASKTRACKER_MODE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("tasktracker starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut banner = Vec::new();
    let started = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(line) = lines.next_line().await.expect("read stdout") {
            let done = line.starts_with("Press Ctrl-C");
            banner.push(line);
            if done {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(
        started,
        Ok(true),
        "the system did not come up; it printed:\n{}",
        banner.join("\n")
    );
    let banner = banner.join("\n");
    for expected in [
        "GraphiQL",
        ":4000/",
        "REST API",
        ":8000/api/v1",
        ":8000/docs",
    ] {
        assert!(
            banner.contains(expected),
            "banner lacks {expected:?}:\n{banner}"
        );
    }
    // Keep draining so the children never block on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

    let client = reqwest::Client::new();
    let register = client
        .post("http://127.0.0.1:8000/api/v1/auth/register")
        .json(
            &json!({"email": "runner@example.com", "username": "runner", "password": "secret-123"}),
        )
        .send()
        .await
        .expect("REST on :8000 answers");
    assert_eq!(register.status(), 201);

    let login: Value = client
        .post("http://127.0.0.1:4000/graphql")
        .json(&json!({"query": "mutation { login(username: \"runner\", password: \"secret-123\") { accessToken user { username } } }"}))
        .send()
        .await
        .expect("GraphQL on :4000 answers")
        .json()
        .await
        .expect("json");
    assert_eq!(
        login["data"]["login"]["user"]["username"], "runner",
        "{login}"
    );

    // The embedded default keeps its data in the data directory.
    assert!(data_dir.join("users.db").exists());
    assert!(data_dir.join("tasks.db").exists());

    let pid = i32::try_from(child.id().expect("pid")).expect("pid fits");
    kill(Pid::from_raw(pid), Signal::SIGINT).expect("signal");
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("stops after Ctrl-C")
        .expect("exit status");
    assert!(status.success(), "exit status {status:?}");
    assert!(
        reqwest::get("http://127.0.0.1:8000/health").await.is_err(),
        "rest-compat still answers after the stop"
    );
}
