//! The whole system with the tasks database unreachable: stats computes
//! `User.stats` from the `taskCounts` tasks owns (`@requires`), so the router must
//! not call stats for a user whose counts failed (stats would answer
//! BAD_USER_INPUT, which REST maps to 422). GraphQL gives the rest of the data,
//! `stats` null with an error naming tasks; REST answers 503. The router's own
//! per-subgraph fetch counter (`/metrics`) shows stats was never asked.

mod chaos_kit;

use chaos_kit::{Launcher, Store, register};
use serde_json::{Value, json};

/// How many fetches the router has sent to `subgraph` so far.
async fn fetches_to(http: &reqwest::Client, router: &str, subgraph: &str) -> u64 {
    let series = format!("router_subgraph_fetch_duration_seconds_count{{subgraph=\"{subgraph}\"}}");
    test_support::metrics::read(http, router, &series)
        .await
        .unwrap_or(0.0) as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_is_not_called_when_the_counts_it_needs_failed() {
    let launcher = Launcher::start(Store::Postgres, &[]).await;
    let http = launcher.http.clone();
    let rest = launcher.url_of("rest-compat").await;
    let router = launcher.url_of("router").await;
    let user = register(&http, &rest, "dependent").await;
    let query =
        json!({"query": "{ me { username taskCounts { total } stats { completedPercentage } } }"});
    let healthy: Value = http
        .post(format!("{router}/graphql"))
        .bearer_auth(&user.token)
        .json(&query)
        .send()
        .await
        .expect("the router answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(healthy["data"]["me"]["taskCounts"]["total"], 0, "{healthy}");
    let stats_fetches = fetches_to(&http, &router, "stats").await;
    assert!(stats_fetches >= 1, "the counter counts stats fetches");

    launcher.break_database("tasks").await;
    let reply: Value = http
        .post(format!("{router}/graphql"))
        .bearer_auth(&user.token)
        .json(&query)
        .send()
        .await
        .expect("the router answers")
        .json()
        .await
        .expect("JSON");
    // taskCounts and stats are non-null: `me` (nullable) becomes null.
    assert_eq!(reply["data"], json!({"me": null}), "{reply}");
    let errors = reply["errors"].as_array().expect("errors");
    let at = |path: Value| {
        errors
            .iter()
            .find(|error| error["path"] == path)
            .unwrap_or_else(|| panic!("an error at {path}: {reply}"))
    };
    let counts = at(json!(["me", "taskCounts"]));
    assert_eq!(counts["extensions"]["serviceName"], "tasks", "{reply}");
    let stats = at(json!(["me", "stats"]));
    assert_eq!(stats["extensions"]["code"], "SUBGRAPH_ERROR", "{reply}");
    assert_eq!(stats["extensions"]["serviceName"], "tasks", "{reply}");
    assert!(
        errors
            .iter()
            .all(|error| error["extensions"]["code"] != "BAD_USER_INPUT"),
        "{reply}"
    );
    assert_eq!(
        fetches_to(&http, &router, "stats").await,
        stats_fetches,
        "stats was not asked"
    );

    let response = http
        .get(format!("{rest}/api/v1/stats/"))
        .bearer_auth(&user.token)
        .send()
        .await
        .expect("REST answers");
    assert_eq!(response.status(), 503);
    assert_eq!(
        fetches_to(&http, &router, "stats").await,
        stats_fetches,
        "nor through REST"
    );
    launcher.restore_database("tasks").await;
    launcher.stop().await;
}
