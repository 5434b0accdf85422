//! Test harness: serves the test subgraphs over real HTTP (axum on port 0), loads
//! the committed supergraph with their actual URLs, and runs requests through the
//! `Engine` directly.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use http::HeaderMap;
use router::engine::{
    Engine, EngineOptions, GraphQLRequest as RouterRequest, RequestContext, Response,
};
use serde_json::{Map, Value};

use crate::subgraphs;

pub const SUPERGRAPH: &str = include_str!("../fixtures/supergraph.graphql");

/// A running test subgraph and what it has seen.
pub struct TestSubgraph {
    pub url: String,
    requests: Arc<AtomicUsize>,
    headers: Arc<Mutex<Vec<HeaderMap>>>,
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl TestSubgraph {
    /// `{"query", "variables"}` of every request received, in order.
    pub fn received_bodies(&self) -> Vec<Value> {
        self.bodies.lock().expect("body log lock").clone()
    }

    /// How many GraphQL requests reached this subgraph.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// The headers of every request received, in order.
    pub fn received_headers(&self) -> Vec<HeaderMap> {
        self.headers.lock().expect("header log lock").clone()
    }
}

#[derive(Clone)]
struct SubgraphState<E> {
    executor: E,
    requests: Arc<AtomicUsize>,
    headers: Arc<Mutex<Vec<HeaderMap>>>,
    bodies: Arc<Mutex<Vec<Value>>>,
}

async fn handle<E: async_graphql::Executor>(
    State(state): State<SubgraphState<E>>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> GraphQLResponse {
    state.requests.fetch_add(1, Ordering::SeqCst);
    state.headers.lock().expect("header log lock").push(headers);
    let request = request.into_inner();
    let body = serde_json::json!({"query": request.query, "variables": request.variables});
    state.bodies.lock().expect("body log lock").push(body);
    state.executor.execute(request).await.into()
}

pub async fn spawn_subgraph<E: async_graphql::Executor>(executor: E) -> TestSubgraph {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a port for a test subgraph");
    let address = listener
        .local_addr()
        .expect("local address of the test subgraph");
    let requests = Arc::new(AtomicUsize::new(0));
    let headers = Arc::new(Mutex::new(Vec::new()));
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let state = SubgraphState {
        executor,
        requests: requests.clone(),
        headers: headers.clone(),
        bodies: bodies.clone(),
    };
    let app = Router::new()
        .route("/graphql", post(handle::<E>))
        .with_state(state);
    tokio::spawn(async move {
        axum::serve(listener, app)
            .await
            .expect("test subgraph server")
    });
    TestSubgraph {
        url: format!("http://{address}/graphql"),
        requests,
        headers,
        bodies,
    }
}

/// A URL where nothing listens (the port was bound, then released).
pub fn unreachable_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port to release");
    let address = listener.local_addr().expect("local address");
    drop(listener);
    format!("http://{address}/graphql")
}

/// A URL that accepts connections and never answers.
pub async fn silent_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a silent port");
    let address = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("http://{address}/graphql")
}

/// The four test subgraphs and an engine over the committed supergraph.
pub struct Stack {
    pub engine: Engine,
    pub accounts: TestSubgraph,
    pub products: TestSubgraph,
    pub inventory: TestSubgraph,
    pub reviews: TestSubgraph,
}

pub async fn spawn_stack() -> Stack {
    spawn_stack_with(|_| {}).await
}

/// Starts the subgraphs; `adjust` may change options (including URL overrides) before loading.
pub async fn spawn_stack_with(adjust: impl FnOnce(&mut EngineOptions)) -> Stack {
    let accounts = spawn_subgraph(subgraphs::accounts::schema()).await;
    let products = spawn_subgraph(subgraphs::products::schema()).await;
    let inventory = spawn_subgraph(subgraphs::inventory::schema()).await;
    let reviews = spawn_subgraph(subgraphs::reviews::schema()).await;
    let mut options = EngineOptions::default();
    for (name, subgraph) in [
        ("accounts", &accounts),
        ("products", &products),
        ("inventory", &inventory),
        ("reviews", &reviews),
    ] {
        options
            .subgraph_url_overrides
            .insert(name.to_owned(), subgraph.url.clone());
    }
    adjust(&mut options);
    let engine = Engine::new(SUPERGRAPH, options).expect("the committed supergraph loads");
    Stack {
        engine,
        accounts,
        products,
        inventory,
        reviews,
    }
}

impl Stack {
    pub async fn query(&self, query: &str) -> Response {
        self.request(query, None, None).await
    }

    pub async fn query_with(&self, query: &str, variables: Value) -> Response {
        let variables = match variables {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        self.request(query, Some(variables), None).await
    }

    pub async fn request(
        &self,
        query: &str,
        variables: Option<Map<String, Value>>,
        operation_name: Option<&str>,
    ) -> Response {
        let request = RouterRequest {
            query: query.to_owned(),
            operation_name: operation_name.map(str::to_owned),
            variables,
            extensions: None,
        };
        self.engine.execute(request, context()).await
    }
}

pub fn context() -> RequestContext {
    RequestContext {
        forwarded_headers: HeaderMap::new(),
        request_id: "test-request".to_owned(),
    }
}

/// The response as JSON, the way the HTTP layer would serialise it.
pub fn to_json(response: &Response) -> Value {
    let mut body = Map::new();
    if let Some(data) = response.data_json() {
        body.insert("data".to_owned(), data);
    }
    if !response.errors.is_empty() {
        body.insert(
            "errors".to_owned(),
            serde_json::to_value(&response.errors).expect("errors serialise"),
        );
    }
    Value::Object(body)
}

/// A server that answers every request with `status` and `body` (a broken subgraph).
pub async fn answering_url(status: u16, body: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a port for a broken subgraph");
    let address = listener.local_addr().expect("local address");
    let status = http::StatusCode::from_u16(status).expect("a valid status");
    let app = Router::new().route(
        "/graphql",
        post(move || async move { (status, [("content-type", "application/json")], body) }),
    );
    tokio::spawn(async move {
        axum::serve(listener, app)
            .await
            .expect("broken subgraph server")
    });
    format!("http://{address}/graphql")
}
