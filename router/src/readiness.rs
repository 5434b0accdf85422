//! The router's `/ready`: ready once a supergraph is loaded (the router refuses
//! to start without one, so it always is while it serves), with the reachability
//! of every subgraph in the body, so that an operator sees at a glance which part
//! is missing. An unreachable subgraph does not make the router unready: it still
//! serves every operation that does not need that subgraph (partial results).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use serde_json::{Map, Value, json};

use crate::reload::SharedEngine;

/// How long one subgraph probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// `/health` and `/ready` of the router.
pub fn routes(engine: SharedEngine) -> Router {
    let client = common::http_client::builder()
        .timeout(PROBE_TIMEOUT)
        .build()
        .unwrap_or_default();
    let report: common::server::ReadyReport = Arc::new(move || {
        let subgraphs = engine.current().subgraphs();
        let client = client.clone();
        Box::pin(async move {
            let probes = subgraphs.into_iter().map(|(name, url)| {
                let client = client.clone();
                async move {
                    // Its app is in this process: nothing between the router and it to fail.
                    let reachable = url == crate::engine::IN_PROCESS || probe(&client, &url).await;
                    (name, json!({"url": url, "reachable": reachable}))
                }
            });
            let subgraphs: Map<String, Value> = futures::future::join_all(probes)
                .await
                .into_iter()
                .collect();
            let mut details = Map::new();
            details.insert("supergraph".into(), json!("loaded"));
            details.insert("subgraphs".into(), Value::Object(subgraphs));
            (true, details)
        })
    });
    common::server::health_routes_with_report(crate::SERVICE, report)
}

/// Whether the subgraph answers a trivial GraphQL query.
async fn probe(client: &reqwest::Client, url: &str) -> bool {
    client
        .post(url)
        .json(&json!({"query": "{ __typename }"}))
        .send()
        .await
        .is_ok_and(|response| response.status().is_success())
}
