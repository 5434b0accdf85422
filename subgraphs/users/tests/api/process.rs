//! The `users` binary as the launcher runs it: it announces its address on
//! stdout, serves, and exits cleanly on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::helpers::{Store, test_config};
use test_support::on_both_stores;

on_both_stores!(announces_serves_and_stops_on_sigterm);

async fn announces_serves_and_stops_on_sigterm(kind: Store) {
    let test = test_config(kind).await;
    let config = &test.config;
    let mut command = Command::new(env!("CARGO_BIN_EXE_users"));
    command
        .args(["--port", "0", "--bcrypt-cost", "4", "--data-dir"])
        .arg(&config.subgraph.data_dir.data_dir)
        .env_remove("DATABASE_URL")
        .env_remove("SECRET_KEY")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped());
    if let Some(url) = &config.store.database_url {
        command.env("DATABASE_URL", url);
    }
    let mut child = command.spawn().expect("start users");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the announcement");
    let address = line
        .trim()
        .strip_prefix("tasktracker: users listening on ")
        .unwrap_or_else(|| panic!("unexpected announcement {line:?}"))
        .to_owned();

    let health: serde_json::Value = reqwest::get(format!("{address}/health"))
        .await
        .expect("GET /health")
        .json()
        .await
        .expect("JSON");
    assert_eq!(health["status"], "healthy");
    // The secret was generated into the data directory, not taken from anywhere else.
    let secret = config.subgraph.data_dir.data_dir.join("secret_key");
    assert!(secret.exists());

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("send SIGTERM");
    assert!(killed.success());
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("join")
        .expect("wait for users");
    assert!(status.success(), "a clean exit on SIGTERM, got {status}");
}
