//! The GraphQL-over-HTTP conformance audit of npm `graphql-http` (pinned in
//! `tools/federation`), run against a live router: every MUST, SHOULD and MAY passes.

mod http_support;

use std::path::PathBuf;

use http_support::spawn_router;
use serde_json::Value;

const AUDIT: &str = r#"
import { auditServer } from "graphql-http";
const results = await auditServer({ url: process.argv[1] });
console.log(JSON.stringify(results.map(({ id, name, status, reason }) => ({ id, name, status, reason }))));
"#;

#[tokio::test]
async fn the_graphql_http_audit_passes_completely() {
    let tools = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tools/federation");
    assert!(
        tools.join("node_modules/graphql-http").is_dir(),
        "graphql-http is not installed: run `npm ci` in {}",
        tools.display()
    );
    let router = spawn_router(&[]).await;
    let output = tokio::process::Command::new("node")
        .current_dir(&tools)
        .args([
            "--input-type=module",
            "--eval",
            AUDIT,
            &router.graphql_url(),
        ])
        .output()
        .await
        .expect("node runs");
    assert!(
        output.status.success(),
        "the audit script failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results: Vec<Value> =
        serde_json::from_slice(&output.stdout).expect("the audit prints JSON");
    assert!(
        results.len() > 40,
        "the audit ran only {} checks",
        results.len()
    );
    let failures: Vec<String> = results
        .iter()
        .filter(|result| result["status"] != "ok")
        .map(|result| {
            format!(
                "{} {} [{}]: {}",
                result["id"], result["name"], result["status"], result["reason"]
            )
        })
        .collect();
    assert!(
        failures.is_empty(),
        "audit failures:\n{}",
        failures.join("\n")
    );
}
