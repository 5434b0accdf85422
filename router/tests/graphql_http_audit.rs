//! The GraphQL-over-HTTP conformance audit of npm `graphql-http`
//! (`tools/federation/audit.mjs`) against our router in front of the fixture
//! subgraphs: every MUST passes; SHOULD and MAY failures are listed in the output.
//!
//! Needs Node.js and `tools/federation/node_modules` (`scripts/setup`).

#[allow(dead_code)] // the federation suite's harness: only `spawn_subgraph` is used here
#[path = "federation/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "federation/subgraphs.rs"]
mod subgraphs;

/// The parts of the differential test this audit shares.
mod differential {
    pub mod apollo;
    pub mod stack;
}

use crate::differential::apollo::{federation_tools, supergraph_with_urls, write_supergraph};
use crate::differential::stack::{spawn_fixture_subgraphs, spawn_router, urls};

/// One audit check as `audit.mjs` prints it.
#[derive(serde::Deserialize)]
struct Check {
    id: String,
    name: String,
    status: String,
    reason: Option<String>,
}

impl Check {
    fn describe(&self) -> String {
        format!(
            "[{}] {} {}: {}",
            self.status,
            self.id,
            self.name,
            self.reason.as_deref().unwrap_or("-")
        )
    }
}

#[tokio::test]
async fn every_must_of_graphql_over_http_passes() {
    let tools = federation_tools();
    let subgraphs = spawn_fixture_subgraphs().await;
    let supergraph = write_supergraph("router-audit", &supergraph_with_urls(&urls(&subgraphs)));
    let router_url = spawn_router(&supergraph).await;

    let output = tokio::process::Command::new("node")
        .current_dir(&tools)
        // The audit's GET requests are what a browser could send cross-site: like any
        // non-browser client, it marks its requests as preflighted to pass CSRF prevention.
        .args([
            "audit.mjs",
            &router_url,
            "--header",
            "apollo-require-preflight=true",
        ])
        .output()
        .await
        .expect("node runs (`scripts/setup` installs it)");
    assert!(
        output.status.success(),
        "audit.mjs failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let checks: Vec<Check> = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "audit.mjs prints a JSON array of checks ({error}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    assert!(
        checks
            .iter()
            .filter(|check| check.name.starts_with("MUST"))
            .count()
            > 10,
        "the audit ran too few MUST checks: {}",
        checks.len()
    );

    let failed = |level: &str| -> Vec<String> {
        checks
            .iter()
            .filter(|check| check.name.starts_with(level) && check.status != "ok")
            .map(Check::describe)
            .collect()
    };
    let (should, may) = (failed("SHOULD"), failed("MAY"));
    println!(
        "graphql-http audit: {} checks; SHOULD failures: {}; MAY failures: {}",
        checks.len(),
        should.len(),
        may.len()
    );
    for failure in should.iter().chain(&may) {
        println!("  {failure}");
    }
    let must = failed("MUST");
    assert!(
        must.is_empty(),
        "MUST checks of the GraphQL-over-HTTP spec fail:\n{}",
        must.join("\n")
    );
}
