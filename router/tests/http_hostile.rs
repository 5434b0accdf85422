//! Issue 8, router side: every hostile shape that crashed, stalled or bloated
//! the router is sent at ten times the size that broke it, to the router
//! binary running as its own process. Each is refused with a 4xx and a coded
//! error, the process stays up, refusals are shown not to expand the document
//! (the work counted on /metrics), and demand control refuses amplification
//! before the subgraph is called.

mod hostile_support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use hostile_support::{
    AMPLIFICATION, LEGITIMATE, RouterProcess, Tracker, first_error_code, fragment_doubling, nest,
    spawn_router, spawn_tracker,
};
use serde_json::{Value, json};

const VISITED: &str = "router_limit_selections_visited_total";

async fn router_with(args: &[&str]) -> (RouterProcess, Tracker) {
    let tracker = Tracker::default();
    let url = spawn_tracker(tracker.clone()).await;
    (spawn_router(&url, args).await, tracker)
}

/// The router still answers an ordinary query.
async fn assert_alive(router: &mut RouterProcess) {
    assert!(router.is_running(), "the router process died");
    let (status, body) = router.post("{ me { id username } }", Value::Null).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["me"]["username"], "ada", "{body}");
}

#[tokio::test]
async fn deep_documents_and_values_are_refused_before_any_parser_sees_them() {
    let (mut router, tracker) = router_with(&[]).await;
    // 1,562 levels aborted the release router; ten times that.
    const LEVELS: usize = 16_000;
    let nested_filter = nest("{and: ", "{status: \"x\"}", "}", LEVELS);
    // Written as text: serde_json's own depth limit would refuse to build it.
    let deep_json_filter = nest("{\"and\":", "{\"status\":\"x\"}", "}", LEVELS);
    let shapes: Vec<(&str, String)> = vec![
        (
            "nested lists in an argument",
            format!("{{ task(id: {}) {{ id }} }}", nest("[", "1", "]", LEVELS)),
        ),
        (
            "nested input objects",
            format!("{{ me {{ tasks(filter: {nested_filter}) {{ total }} }} }}"),
        ),
        (
            "a nested variable default",
            format!(
                "query($f: TaskFilter = {nested_filter}) {{ me {{ tasks(filter: $f) {{ total }} }} }}"
            ),
        ),
        (
            "a nested directive argument",
            format!(
                "{{ me @include(if: {}) {{ id }} }}",
                nest("[", "true", "]", LEVELS)
            ),
        ),
        (
            "nested selection sets",
            nest("{ me ", "{ id }", "}", LEVELS).replacen("{ me ", "{ ", 1),
        ),
    ];
    for (shape, query) in &shapes {
        let (status, body) = router.post(query, Value::Null).await;
        assert_eq!(status, 400, "{shape}: {body}");
        assert_eq!(
            first_error_code(&body),
            "NESTING_TOO_DEEP",
            "{shape}: {body}"
        );
        assert_eq!(
            body["errors"][0]["extensions"]["limit"], "max-nesting",
            "{shape}"
        );
        assert!(body.get("data").is_none(), "{shape}: {body}");
    }

    // Deep JSON variables: refused before serde_json builds them.
    let body = format!(
        r#"{{"query":"query($f: TaskFilter) {{ me {{ tasks(filter: $f) {{ total }} }} }}","variables":{{"f":{deep_json_filter}}}}}"#
    );
    let (status, answer) = router.post_raw(body).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(first_error_code(&answer), "NESTING_TOO_DEEP", "{answer}");
    assert_eq!(
        answer["errors"][0]["extensions"]["limit"],
        "max-json-nesting"
    );

    // The same shapes as GET links (the document and the variables), as deep
    // as a URI can be (the http crate caps them at 64 KiB).
    const GET_LEVELS: usize = 5_000;
    let get_query = format!(
        "{{ task(id: {}) {{ id }} }}",
        nest("[", "1", "]", GET_LEVELS)
    );
    let get_filter = nest("{\"and\":", "{}", "}", 1_600);
    let url =
        reqwest::Url::parse_with_params(&router.graphql_url(), &[("query", get_query.as_str())])
            .expect("a URL");
    let response = router
        .client
        .get(url)
        .header("accept", "application/graphql-response+json")
        .send()
        .await
        .expect("the router answers");
    assert_eq!(response.status(), 400);
    let answer: Value = response.json().await.expect("JSON");
    assert_eq!(first_error_code(&answer), "NESTING_TOO_DEEP", "{answer}");
    let url = reqwest::Url::parse_with_params(
        &router.graphql_url(),
        &[
            (
                "query",
                "query($f: TaskFilter) { me { tasks(filter: $f) { total } } }",
            ),
            ("variables", &format!("{{\"f\":{get_filter}}}")),
        ],
    )
    .expect("a URL");
    let response = router
        .client
        .get(url)
        .header("accept", "application/graphql-response+json")
        .send()
        .await
        .expect("the router answers");
    assert_eq!(response.status(), 400);
    let answer: Value = response.json().await.expect("JSON");
    assert_eq!(first_error_code(&answer), "NESTING_TOO_DEEP", "{answer}");

    assert_eq!(
        tracker.requests.load(Ordering::SeqCst),
        0,
        "no refused request reached the subgraph"
    );
    assert_alive(&mut router).await;
}

#[tokio::test]
async fn documents_at_the_nesting_limit_are_parsed_validated_and_planned_safely() {
    // The recursion left (both parsers, validation, planning) runs at its deepest
    // here: in a debug build, on default-sized stacks.
    let (mut router, _) = router_with(&[]).await;
    let at_limit = format!("{{ task(id: {}) {{ id }} }}", nest("[", "1", "]", 38));
    let (status, body) = router.post(&at_limit, Value::Null).await;
    assert_eq!(status, 400, "{body}");
    // Not a nesting refusal: the document reached validation (an ID is not a list).
    assert_eq!(
        first_error_code(&body),
        "GRAPHQL_VALIDATION_FAILED",
        "{body}"
    );
    let filter = nest("{and: ", "{status: \"x\"}", "}", 36);
    let (status, body) = router
        .post(
            &format!("{{ me {{ tasks(filter: {filter}) {{ total }} }} }}"),
            Value::Null,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["me"]["tasks"]["total"], 3, "{body}");
    assert_alive(&mut router).await;
}

#[tokio::test]
async fn fragment_doubling_is_refused_without_expanding_it_and_memory_comes_back() {
    let (mut router, tracker) = router_with(&[]).await;
    // Warm up every path the refusals take (the first requests start threads,
    // fill pools and per-thread allocator caches) with a smaller document of
    // the same shape, so that what is compared is what the refusals keep.
    assert_alive(&mut router).await;
    let warm_up = [fragment_doubling(12), fragment_doubling(150)];
    for _ in 0..3 {
        // Several at once, so that every worker thread has served one.
        let requests = (0..8).map(|i| router.post(&warm_up[i % 2], Value::Null));
        for (status, _) in futures::future::join_all(requests).await {
            assert_eq!(status, 400);
        }
    }
    router.metric(VISITED).await;
    let rss_before = router.rss_kib();
    // F20 (856 bytes) cost 2.3 GB; F200 is ten times the document, and its
    // chain of spreads is deeper than --max-nesting.
    for (levels, code) in [(20, "TOO_MANY_FIELDS"), (200, "NESTING_TOO_DEEP")] {
        let query = fragment_doubling(levels);
        let visited_before = router.metric(VISITED).await;
        let (status, body) = router.post(&query, Value::Null).await;
        assert_eq!(status, 400, "F{levels}: {body}");
        assert_eq!(first_error_code(&body), code, "{body}");
        let visited = router.metric(VISITED).await - visited_before;
        // Each selection of the text is looked at twice (spreads, then measures):
        // 2 per fragment, 2 for the operation; expanding F20 would be millions.
        let selections = (2 * (levels + 1) + 2) as f64;
        assert!(
            visited > 0.0 && visited <= 2.0 * selections,
            "F{levels}: {visited} selections visited"
        );
    }
    let rss_after = router.rss_kib();
    assert!(
        rss_after * 10 <= rss_before * 12,
        "RSS grew from {rss_before} KiB to {rss_after} KiB"
    );
    // And again, many times: nothing is kept.
    for _ in 0..50 {
        let (status, _) = router.post(&fragment_doubling(20), Value::Null).await;
        assert_eq!(status, 400);
    }
    assert_eq!(tracker.requests.load(Ordering::SeqCst), 1);
    let rss_after = router.rss_kib();
    assert!(
        rss_after * 10 <= rss_before * 12,
        "RSS grew from {rss_before} KiB to {rss_after} KiB"
    );
    assert_alive(&mut router).await;
}

#[tokio::test]
async fn repeated_fields_are_refused_by_count_before_validation() {
    let (mut router, tracker) = router_with(&[]).await;
    let shapes = [
        // 3.9 s of CPU at ×10,000 (30 KB).
        format!("{{ me {{ {} }} }}", "id ".repeat(10_000)),
        // 8.3 s at ×2,000.
        format!(
            "{{ me {{ {} }} }}",
            "tasks { items { title } } ".repeat(2_000)
        ),
        format!("{{ me {{ {} }} }}", "... on User { id } ".repeat(2_000)),
    ];
    for query in &shapes {
        let visited_before = router.metric(VISITED).await;
        let (status, body) = router.post(query, Value::Null).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(first_error_code(&body), "TOO_MANY_FIELDS", "{body}");
        let visited = router.metric(VISITED).await - visited_before;
        assert!(visited <= 20_000.0, "{visited} selections visited");
    }
    // Ten times larger still: refused by the pre-scan, before parsing.
    let (status, body) = router
        .post(
            &format!("{{ me {{ {} }} }}", "id ".repeat(100_000)),
            Value::Null,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(first_error_code(&body), "TOO_MANY_FIELDS", "{body}");
    assert_eq!(tracker.requests.load(Ordering::SeqCst), 0);
    // Under the limit, repetition still works (and is merged, as GraphQL says).
    let (status, body) = router
        .post(
            &format!("{{ me {{ {} }} }}", "id ".repeat(500)),
            Value::Null,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["me"]["id"], "u1");
    assert_alive(&mut router).await;
}

#[tokio::test]
async fn demand_control_refuses_amplification_before_any_subgraph_call() {
    let (mut router, tracker) = router_with(&[]).await;
    let (status, body) = router.post(AMPLIFICATION, Value::Null).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        first_error_code(&body),
        "COST_ESTIMATED_TOO_EXPENSIVE",
        "{body}"
    );
    assert!(
        body["errors"][0]["extensions"]["estimatedCost"]
            .as_f64()
            .is_some_and(|cost| cost > 1_000_000.0),
        "{body}"
    );
    assert_eq!(
        tracker.requests.load(Ordering::SeqCst),
        0,
        "no subgraph was called"
    );
    assert_eq!(
        router.metric("router_demand_control_refusals_total").await,
        1.0
    );

    let (status, body) = router.post(LEGITIMATE, Value::Null).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["me"]["tasks"]["total"], 3, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    // Estimated (refused one included) and actual costs are exported.
    assert_eq!(
        router
            .metric("router_demand_control_estimated_cost_count")
            .await,
        2.0
    );
    assert_eq!(
        router
            .metric("router_demand_control_actual_cost_count")
            .await,
        1.0
    );
    // me 1 + tasks 1 + 3 items + stats 1, measured on the response.
    assert_eq!(
        router.metric("router_demand_control_actual_cost_sum").await,
        6.0
    );

    // A limit argument sizes the page: a small page of the amplification passes.
    let (status, body) = router
        .post(
            "{ me { tasks(limit: 2) { items { owner { tasks(limit: 2) { items { id } } } } } } }",
            Value::Null,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_alive(&mut router).await;
}

#[tokio::test]
async fn measure_mode_estimates_and_measures_but_refuses_nothing() {
    let (mut router, tracker) = router_with(&["--demand-control", "measure"]).await;
    let (status, body) = router.post(AMPLIFICATION, Value::Null).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(tracker.requests.load(Ordering::SeqCst), 1);
    assert_eq!(
        router.metric("router_demand_control_refusals_total").await,
        0.0
    );
    assert_eq!(
        router
            .metric("router_demand_control_estimated_cost_count")
            .await,
        1.0
    );
    // 3 tasks per page at each of three levels: the actual cost is small and exact.
    // me 1 + tasks 1 + 3 × (task 1 + owner 1 + tasks 1 + 3 × (1 + 1 + 1 + 3 × 1)).
    assert_eq!(
        router.metric("router_demand_control_actual_cost_sum").await,
        2.0 + 3.0 * (3.0 + 3.0 * 6.0)
    );
    assert_alive(&mut router).await;
}

#[tokio::test]
async fn echoed_input_and_error_counts_are_bounded() {
    let (mut router, _) = router_with(&[]).await;
    // A 1 MB string where an Int belongs: the message echoing it is cut.
    let huge = "x".repeat(1 << 20);
    let (status, text) = router
        .post_for_text(&format!(
            "{{ me {{ tasks(limit: \"{huge}\") {{ total }} }} }}"
        ))
        .await;
    assert_eq!(status, 400, "{}", &text[..text.len().min(500)]);
    assert!(text.len() < 8 * 1024, "{} bytes of errors", text.len());
    let body: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(
        first_error_code(&body),
        "GRAPHQL_VALIDATION_FAILED",
        "{body}"
    );

    // 5,000 unknown directives (25 KB) drew 657 KB of errors: refused unread.
    let directives: String = (0..5_000).map(|i| format!("@d{i} ")).collect();
    let (status, text) = router
        .post_for_text(&format!("{{ me {directives} {{ id }} }}"))
        .await;
    assert_eq!(status, 400);
    assert!(text.len() < 1024, "{} bytes of errors", text.len());
    let body: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(first_error_code(&body), "TOO_MANY_DIRECTIVES", "{body}");
    // Hundreds of validation errors are cut at --max-errors.
    let unknown: String = (0..300).map(|i| format!("f{i} ")).collect();
    let (status, text) = router
        .post_for_text(&format!("{{ me {{ {unknown} }} }}"))
        .await;
    assert_eq!(status, 400);
    let body: Value = serde_json::from_str(&text).expect("JSON");
    let errors = body["errors"].as_array().expect("errors");
    assert_eq!(
        errors.len(),
        101,
        "100 errors and one saying what was left out"
    );
    assert_eq!(errors[100]["extensions"]["code"], "TOO_MANY_ERRORS");
    assert!(
        errors[100]["message"]
            .as_str()
            .is_some_and(|message| message.starts_with("200 more errors")),
        "{}",
        errors[100]
    );
    assert_alive(&mut router).await;
}

#[tokio::test]
async fn responses_over_the_size_cap_are_replaced_by_a_coded_error() {
    let (mut router, _) = router_with(&["--max-response-bytes", "100000"]).await;
    let (status, body) = router
        .post("{ blob(size: 10, length: 1000) }", Value::Null)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["blob"][0].as_str().map(str::len), Some(1000));
    let (status, text) = router
        .post_for_text("{ blob(size: 200, length: 1000) }")
        .await;
    assert!(text.len() < 1000, "{} bytes", text.len());
    let body: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(status, 200, "{body}");
    assert_eq!(first_error_code(&body), "RESPONSE_TOO_LARGE", "{body}");
    assert_eq!(body["data"], Value::Null);
    assert_alive(&mut router).await;
}

#[tokio::test]
async fn the_request_deadline_answers_504() {
    let (mut router, tracker) = router_with(&["--request-timeout-ms", "300"]).await;
    let (status, body) = router.post("{ slow }", Value::Null).await;
    assert_eq!(status, 504, "{body}");
    assert_eq!(first_error_code(&body), "GATEWAY_TIMEOUT", "{body}");
    assert!(
        tracker.slow_entered.available_permits() >= 1,
        "the deadline passed while the subgraph was being fetched"
    );
    assert_alive(&mut router).await;
}

#[tokio::test]
async fn a_client_that_goes_away_has_its_request_dropped() {
    use tokio::io::AsyncWriteExt;
    let (mut router, tracker) = router_with(&[]).await;
    let abandoned = "router_graphql_requests_abandoned_total";
    assert_eq!(router.metric(abandoned).await, 0.0);
    let address = router.base_url.trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect to the router");
    let body = json!({ "query": "{ slow }" }).to_string();
    let request = format!(
        "POST /graphql HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    socket
        .write_all(request.as_bytes())
        .await
        .expect("send the request");
    let entered = tokio::time::timeout(Duration::from_secs(30), tracker.slow_entered.acquire())
        .await
        .expect("the request reaches the subgraph");
    entered.expect("semaphore open").forget();
    drop(socket);
    // The server notices the closed connection and drops the request's future;
    // polled on /metrics (each poll a real request) until it is counted.
    let counted = tokio::time::timeout(Duration::from_secs(30), async {
        while router.metric(abandoned).await < 1.0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(counted.is_ok(), "the abandoned request was never dropped");
    assert_alive(&mut router).await;
}
