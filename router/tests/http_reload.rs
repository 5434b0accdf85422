//! Hot reload: a changed supergraph file replaces the schema without a
//! restart; a broken one is refused and the running schema stays.

mod http_support;

use http_support::{SUPERGRAPH_V2, TestRouter, spawn_router};
use serde_json::{Value, json};

/// Polls `condition` until it holds, a bounded number of times.
async fn eventually<Fut: std::future::Future<Output = bool>>(
    what: &str,
    mut condition: impl FnMut() -> Fut,
) {
    for _ in 0..400 {
        if condition().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("gave up waiting until {what}");
}

async fn goodbye(router: &TestRouter) -> Value {
    router.query("{ goodbye }").await
}

async fn reload_counter(router: &TestRouter, outcome: &str) -> bool {
    let text = router
        .client
        .get(format!("{}/metrics", router.base_url))
        .send()
        .await
        .expect("answers")
        .text()
        .await
        .expect("text");
    text.contains(&format!(
        "router_supergraph_reloads_total{{outcome=\"{outcome}\"}} 1"
    ))
}

#[tokio::test]
async fn a_new_supergraph_file_is_picked_up_and_a_broken_one_ignored() {
    let router = spawn_router(&["--supergraph-poll-ms", "20"]).await;
    let before = goodbye(&router).await;
    assert!(before.get("data").is_none(), "V1 has no goodbye: {before}");

    std::fs::write(&router.supergraph, SUPERGRAPH_V2).expect("write V2");
    eventually("the V2 schema answers goodbye", || async {
        goodbye(&router).await == json!({ "data": { "goodbye": "goodbye from echo" } })
    })
    .await;
    assert!(reload_counter(&router, "success").await);

    std::fs::write(&router.supergraph, "this is not a supergraph").expect("write garbage");
    eventually("the broken file was tried", || {
        reload_counter(&router, "failure")
    })
    .await;
    assert_eq!(
        goodbye(&router).await,
        json!({ "data": { "goodbye": "goodbye from echo" } })
    );
}
