//! Circuit breaking and retries of subgraph fetches, over real HTTP: the router
//! (its engine with the HTTP transport) in front of a small subgraph server that
//! fails on command and counts the requests it receives.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use router::engine::{
    Engine, EngineOptions, GraphQLRequest, RequestContext, ResilienceOptions, ResilienceSettings,
};
use serde_json::{Value, json};

const SUPERGRAPH: &str = include_str!("../../supergraph.graphql");

/// A users subgraph that fails (HTTP 503, no GraphQL body) while `failing` is set,
/// then fails only the first `fail_next` requests, and counts every request.
#[derive(Clone, Default)]
struct Flaky {
    failing: Arc<AtomicBool>,
    fail_next: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
}

impl Flaky {
    async fn serve(&self) -> String {
        let flaky = self.clone();
        let app = Router::new().route(
            "/graphql",
            post(move |body: axum::Json<Value>| {
                let flaky = flaky.clone();
                async move {
                    flaky.requests.fetch_add(1, Ordering::SeqCst);
                    let fail_once = flaky
                        .fail_next
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok();
                    if flaky.failing.load(Ordering::SeqCst) || fail_once {
                        return (StatusCode::SERVICE_UNAVAILABLE, "down".to_owned());
                    }
                    let query = body["query"].as_str().unwrap_or_default();
                    let answer = if query.contains("login") {
                        json!({"data": {"login": null}, "errors": [{"message": "Incorrect username or password", "extensions": {"code": "UNAUTHENTICATED"}}]})
                    } else {
                        json!({"data": {"me": null}})
                    };
                    (StatusCode::OK, answer.to_string())
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/graphql")
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

async fn engine(users_url: &str, settings: ResilienceSettings) -> Engine {
    let options = EngineOptions {
        subgraph_timeout: Duration::from_secs(5),
        subgraph_url_overrides: [("users".to_owned(), users_url.to_owned())]
            .into_iter()
            .collect(),
        resilience: ResilienceOptions {
            default: ResilienceSettings::DEFAULT,
            per_subgraph: [("users".to_owned(), settings)].into_iter().collect(),
        },
        ..EngineOptions::default()
    };
    Engine::new(SUPERGRAPH, options).expect("the supergraph loads")
}

async fn run(engine: &Engine, query: &str) -> (Value, Vec<String>) {
    let response = engine
        .execute(
            GraphQLRequest {
                query: query.to_owned(),
                ..GraphQLRequest::default()
            },
            RequestContext::default(),
        )
        .await;
    let codes = response
        .errors
        .iter()
        .filter_map(|error| {
            error
                .extensions
                .as_ref()?
                .get("code")?
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    (response.data_json().unwrap_or(Value::Null), codes)
}

const ME: &str = "{ me { id } }";
const LOGIN: &str = "mutation { login(username: \"a\", password: \"b\") { accessToken } }";

#[tokio::test]
async fn a_failed_query_is_retried_once_a_mutation_never() {
    let flaky = Flaky::default();
    let url = flaky.serve().await;
    let engine = engine(
        &url,
        ResilienceSettings {
            failure_threshold: 10,
            cool_down: Duration::from_secs(60),
            retry_queries: true,
        },
    )
    .await;
    // One failure, then success: the query is answered, on the second request.
    flaky.fail_next.store(1, Ordering::SeqCst);
    let (data, codes) = run(&engine, ME).await;
    assert_eq!(data, json!({"me": null}), "{codes:?}");
    assert!(codes.is_empty(), "{codes:?}");
    assert_eq!(flaky.requests(), 2);
    // The same for a mutation: it fails, sent exactly once.
    flaky.fail_next.store(1, Ordering::SeqCst);
    let (_, codes) = run(&engine, LOGIN).await;
    assert_eq!(flaky.requests(), 3, "a mutation is never sent twice");
    assert!(
        codes.iter().all(|code| code.starts_with("SUBGRAPH_")) && !codes.is_empty(),
        "{codes:?}"
    );
}

#[tokio::test]
async fn the_circuit_opens_fails_fast_then_probes_and_closes() {
    let flaky = Flaky::default();
    let url = flaky.serve().await;
    let engine = engine(
        &url,
        ResilienceSettings {
            failure_threshold: 3,
            cool_down: Duration::from_millis(200),
            retry_queries: true,
        },
    )
    .await;
    flaky.failing.store(true, Ordering::SeqCst);
    // Two queries: 1 + 1 retry, then 1 (the third failure opens the circuit, no retry then).
    for _ in 0..2 {
        let (_, codes) = run(&engine, ME).await;
        assert!(!codes.is_empty());
    }
    assert_eq!(flaky.requests(), 3);
    // Open: fetches fail at once, with a code REST maps to 503, and nothing is sent.
    for _ in 0..20 {
        let (data, codes) = run(&engine, ME).await;
        assert_eq!(data["me"], Value::Null);
        assert_eq!(codes, vec!["SUBGRAPH_CIRCUIT_OPEN"]);
    }
    assert_eq!(flaky.requests(), 3, "an open circuit sends nothing");
    // The subgraph recovers; after the cool-down one probe goes through and closes the circuit.
    flaky.failing.store(false, Ordering::SeqCst);
    let started = Instant::now();
    let mut pace = tokio::time::interval(Duration::from_millis(20));
    loop {
        pace.tick().await;
        let (_, codes) = run(&engine, ME).await;
        if codes.is_empty() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the circuit never closed"
        );
    }
    assert_eq!(
        flaky.requests(),
        4,
        "exactly one probe reached the subgraph"
    );
    let (_, codes) = run(&engine, ME).await;
    assert!(codes.is_empty());
    assert_eq!(flaky.requests(), 5);
}
