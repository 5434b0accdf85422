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

/// How many reloads ended with `outcome`, from `/metrics`.
async fn reloads(router: &TestRouter, outcome: &str) -> u64 {
    let series = format!("router_supergraph_reloads_total{{outcome=\"{outcome}\"}}");
    test_support::metrics::read(&router.client, &router.base_url, &series)
        .await
        .unwrap_or(0.0) as u64
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
    assert!(reloads(&router, "success").await >= 1);

    let failures_before = reloads(&router, "failure").await;
    std::fs::write(&router.supergraph, "this is not a supergraph").expect("write garbage");
    eventually("the broken file was tried", || async {
        reloads(&router, "failure").await > failures_before
    })
    .await;
    assert_eq!(
        goodbye(&router).await,
        json!({ "data": { "goodbye": "goodbye from echo" } })
    );
}

#[tokio::test]
async fn a_request_in_flight_during_a_reload_completes() {
    let router = spawn_router(&["--supergraph-poll-ms", "20"]).await;
    let in_flight = tokio::spawn({
        let client = router.client.clone();
        let url = router.graphql_url();
        async move {
            client
                .post(url)
                .header("content-type", "application/json")
                .body(json!({ "query": "{ gated }" }).to_string())
                .send()
                .await
                .expect("the router answers")
                .json::<Value>()
                .await
                .expect("JSON body")
        }
    });
    // The request has reached the subgraph and waits there.
    let entered = router
        .subgraph
        .gate
        .entered
        .acquire()
        .await
        .expect("the gate is open");
    entered.forget();

    std::fs::write(&router.supergraph, SUPERGRAPH_V2).expect("write V2");
    eventually("V2 is loaded", || async {
        reloads(&router, "success").await >= 1
    })
    .await;
    assert_eq!(
        goodbye(&router).await["data"]["goodbye"],
        "goodbye from echo"
    );

    router.subgraph.gate.open.add_permits(1);
    let body = in_flight.await.expect("the request task finishes");
    assert_eq!(body, json!({ "data": { "gated": "let through" } }));
}

#[tokio::test]
async fn a_router_without_a_loadable_supergraph_refuses_to_start() {
    use clap::Parser;
    let dir = test_support::fresh_data_dir("router-startup");
    std::fs::create_dir_all(&dir).expect("create the test directory");
    let broken = dir.join("broken.graphql");
    std::fs::write(&broken, "type Query { but no federation }").expect("write");
    for path in [dir.join("missing.graphql"), broken] {
        let path_arg = path.display().to_string();
        let cli = router::Cli::try_parse_from(["router", "--port", "0", "--supergraph", &path_arg])
            .expect("valid arguments");
        let error = match router::Application::build(cli.config).await {
            Ok(_) => panic!("{path_arg} should not load"),
            Err(error) => format!("{error:#}"),
        };
        assert!(
            error.contains(&path_arg),
            "the error names the file: {error}"
        );
    }
}
