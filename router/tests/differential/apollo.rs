//! The node side of the comparisons: the pinned tools in `tools/federation`
//! (Apollo Gateway, the `graphql-http` audit) and the supergraph they are given.
//! Shared by the differential test, the GraphQL-over-HTTP audit and the benchmark.

#![allow(dead_code)] // the differential test, the audit and the benchmark each use a different part

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

/// The committed test supergraph; its routing URLs are `http://<name>.invalid/graphql`.
pub const FIXTURE_SUPERGRAPH: &str = include_str!("../fixtures/supergraph.graphql");

/// `tools/federation`, after checking its npm packages are installed.
pub fn federation_tools() -> PathBuf {
    test_support::tools::require_federation_tools(&["@apollo/gateway", "graphql-http"])
}

/// The fixture supergraph with each subgraph's placeholder URL replaced by
/// where it really listens, so the router and Apollo Gateway read the same file.
pub fn supergraph_with_urls(subgraph_urls: &[(&str, String)]) -> String {
    fixture_with_urls(FIXTURE_SUPERGRAPH, subgraph_urls)
}

/// A committed fixture supergraph (placeholder URLs `http://<name>.invalid/graphql`)
/// with each subgraph's real URL.
pub fn fixture_with_urls(fixture: &str, subgraph_urls: &[(&str, String)]) -> String {
    subgraph_urls
        .iter()
        .fold(fixture.to_owned(), |sdl, (name, url)| {
            let placeholder = format!("\"http://{name}.invalid/graphql\"");
            assert!(
                sdl.contains(&placeholder),
                "the fixture supergraph has no subgraph {name}"
            );
            sdl.replace(&placeholder, &format!("\"{url}\""))
        })
}

/// Writes `sdl` into a fresh directory and returns the file's path.
pub fn write_supergraph(prefix: &str, sdl: &str) -> PathBuf {
    let dir = test_support::fresh_data_dir(prefix);
    std::fs::create_dir_all(&dir).expect("create a directory for the supergraph");
    let path = dir.join("supergraph.graphql");
    std::fs::write(&path, sdl).expect("write the supergraph");
    path
}

/// A running Apollo Gateway; killed when dropped (and it exits by itself when
/// this process dies, since its stdin closes).
pub struct ApolloGateway {
    /// Where GraphQL is served, e.g. `http://127.0.0.1:4321/graphql`.
    pub graphql_url: String,
    pub process: Child,
    _stdin: ChildStdin,
}

impl ApolloGateway {
    pub fn pid(&self) -> u32 {
        self.process.id().expect("the gateway is running")
    }
}

/// Starts `tools/federation/apollo-gateway.mjs` on `supergraph`, port 0, and
/// waits for its announce line. Its stderr goes to `gateway.log` next to the supergraph.
pub async fn spawn_apollo_gateway(supergraph: &Path) -> ApolloGateway {
    let tools = federation_tools();
    let log_path = supergraph.with_file_name("gateway.log");
    let log = std::fs::File::create(&log_path).expect("create the gateway log");
    let mut process = Command::new("node")
        .current_dir(&tools)
        .arg("apollo-gateway.mjs")
        .arg("--supergraph")
        .arg(supergraph)
        .args(["--port", "0", "--exit-with-stdin"])
        .env("NODE_ENV", "production")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()
        .expect("start node (is Node.js installed? `scripts/setup` installs it)");
    let stdin = process.stdin.take().expect("the gateway's stdin");
    let stdout = process.stdout.take().expect("the gateway's stdout");
    let mut lines = BufReader::new(stdout).lines();
    let announced = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(base) = line.strip_prefix("apollo-gateway listening on ") {
                return Some(base.trim().to_owned());
            }
        }
        None
    })
    .await;
    let Ok(Some(base_url)) = announced else {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        panic!("Apollo Gateway did not start:\n{log}");
    };
    // Nothing else is printed on stdout, but keep the pipe drained anyway.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    ApolloGateway {
        graphql_url: format!("{base_url}/graphql"),
        process,
        _stdin: stdin,
    }
}
