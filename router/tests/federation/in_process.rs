//! The transport seam: the same engine over an in-process transport that calls the
//! async-graphql schemas directly, with responses replayed from memory after the
//! first call — which also makes it a measure of the router's own cost per request.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use futures::FutureExt;
use futures::future::BoxFuture;
use router::engine::{
    Engine, EngineOptions, FetchFailure, GraphQLRequest, SubgraphRequest, SubgraphResponse,
    SubgraphTransport, TransportError,
};
use serde_json::json;

use crate::harness::{SUPERGRAPH, context, spawn_stack, to_json};
use crate::subgraphs;

type Run = Arc<
    dyn Fn(async_graphql::Request) -> BoxFuture<'static, async_graphql::Response> + Send + Sync,
>;

fn runner<E: async_graphql::Executor>(executor: E) -> Run {
    Arc::new(move |request| {
        let executor = executor.clone();
        async move { executor.execute(request).await }.boxed()
    })
}

/// Response bodies by subgraph and request body.
type Answers = HashMap<(Arc<str>, Bytes), Bytes>;

/// Subgraphs called in process; a response is computed once per distinct request body.
struct Replaying {
    subgraphs: HashMap<&'static str, Run>,
    answers: Arc<Mutex<Answers>>,
    executions: AtomicUsize,
}

impl Replaying {
    fn new() -> Arc<Replaying> {
        let subgraphs = HashMap::from([
            ("accounts", runner(subgraphs::accounts::schema())),
            ("products", runner(subgraphs::products::schema())),
            ("inventory", runner(subgraphs::inventory::schema())),
            ("reviews", runner(subgraphs::reviews::schema())),
        ]);
        Arc::new(Replaying {
            subgraphs,
            answers: Arc::new(Mutex::new(HashMap::new())),
            executions: AtomicUsize::new(0),
        })
    }
}

impl SubgraphTransport for Replaying {
    fn fetch(
        &self,
        request: SubgraphRequest,
    ) -> BoxFuture<'static, Result<SubgraphResponse, TransportError>> {
        let key = (request.subgraph.clone(), request.body.clone());
        if let Some(body) = self.answers.lock().expect("answers lock").get(&key) {
            return futures::future::ready(Ok(SubgraphResponse {
                status: 200,
                body: body.clone(),
            }))
            .boxed();
        }
        self.executions.fetch_add(1, Ordering::SeqCst);
        let Some(run) = self.subgraphs.get(&*request.subgraph).cloned() else {
            return futures::future::ready(Err(TransportError::new(
                FetchFailure::Unavailable,
                "no such subgraph",
            )))
            .boxed();
        };
        let parsed: Result<async_graphql::Request, _> = serde_json::from_slice(&request.body);
        let answers = self.answers.clone();
        async move {
            let parsed = parsed.map_err(|error| {
                TransportError::new(FetchFailure::InvalidResponse, error.to_string())
            })?;
            let response = run(parsed).await;
            let body = Bytes::from(serde_json::to_vec(&response).map_err(|error| {
                TransportError::new(FetchFailure::InvalidResponse, error.to_string())
            })?);
            answers
                .lock()
                .expect("answers lock")
                .insert(key, body.clone());
            Ok(SubgraphResponse { status: 200, body })
        }
        .boxed()
    }
}

fn must_be_send<F: std::future::Future + Send>(future: F) -> F {
    future
}

const JOIN: &str = "{ users { id name reviews { body product { upc name } } } }";

#[tokio::test]
async fn an_in_process_transport_runs_the_same_plans() {
    let transport = Replaying::new();
    let engine = Engine::with_transport(SUPERGRAPH, EngineOptions::default(), transport.clone())
        .expect("the supergraph loads");
    let request = || GraphQLRequest {
        query: JOIN.to_owned(),
        ..Default::default()
    };
    // The HTTP layer runs executions on a multi-threaded runtime: the future must be Send.
    let in_process = must_be_send(engine.execute(request(), context())).await;
    let over_http = spawn_stack().await.query(JOIN).await;
    assert_eq!(to_json(&in_process), to_json(&over_http));
    assert_eq!(
        to_json(&in_process)["data"]["users"][2]["reviews"][0],
        json!({"body": "Too long", "product": {"upc": "b1", "name": "Dune"}})
    );
    assert_eq!(
        transport.executions.load(Ordering::SeqCst),
        3,
        "accounts, reviews, products"
    );
}

/// `cargo test -p router --release --test federation -- --ignored router_cost --nocapture`
#[tokio::test]
#[ignore]
async fn router_cost_per_request() {
    let transport = Replaying::new();
    let engine = Engine::with_transport(SUPERGRAPH, EngineOptions::default(), transport.clone())
        .expect("the supergraph loads");
    let request = || GraphQLRequest {
        query: JOIN.to_owned(),
        ..Default::default()
    };
    for _ in 0..100 {
        engine.execute(request(), context()).await;
    }
    let rounds = 20_000;
    let started = Instant::now();
    for _ in 0..rounds {
        let response = engine.execute(request(), context()).await;
        assert!(response.errors.is_empty());
    }
    let per_request = started.elapsed() / rounds;
    println!(
        "router cost: {per_request:?} per request (3-subgraph entity join, replayed subgraphs)"
    );
}
