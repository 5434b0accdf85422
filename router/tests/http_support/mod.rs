//! Shared by the router's HTTP tests: a small "echo" subgraph that reports the
//! headers it received, and a router in front of it, both on real ports.
//! The supergraphs next to this file were composed from the subgraph SDLs beside them:
//! `node tools/federation/compose.mjs echo=http://echo.invalid/graphql=echo_v1.subgraph.graphql`;
//! the placeholder routing URL is replaced with `--subgraph-url`.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::path::PathBuf;
use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, Object, Schema, SimpleObject};
use axum::extract::State;
use axum::http::HeaderMap;
use clap::Parser;
use serde_json::{Value, json};

pub const SUPERGRAPH_V1: &str = include_str!("echo_v1.supergraph.graphql");
/// V1 plus `Query.goodbye`.
pub const SUPERGRAPH_V2: &str = include_str!("echo_v2.supergraph.graphql");

struct ReceivedHeaders(HeaderMap);

/// Holds `gated` requests until the test lets them through.
#[derive(Clone)]
pub struct Gate {
    /// One permit per request `gated` has received.
    pub entered: Arc<tokio::sync::Semaphore>,
    /// One permit per request allowed to answer.
    pub open: Arc<tokio::sync::Semaphore>,
}

impl Gate {
    fn new() -> Self {
        Self {
            entered: Arc::new(tokio::sync::Semaphore::new(0)),
            open: Arc::new(tokio::sync::Semaphore::new(0)),
        }
    }
}

#[derive(SimpleObject)]
struct Received {
    authorization: Option<String>,
    tenant: Option<String>,
    cookie: Option<String>,
    request_id: Option<String>,
}

struct Query;

#[Object]
impl Query {
    async fn hello(&self) -> &'static str {
        "hello from echo"
    }

    async fn goodbye(&self) -> &'static str {
        "goodbye from echo"
    }

    async fn gated(&self, ctx: &Context<'_>) -> &'static str {
        let gate = ctx.data_unchecked::<Gate>();
        gate.entered.add_permits(1);
        match gate.open.acquire().await {
            Ok(permit) => permit.forget(),
            Err(_) => return "the gate was closed for good",
        }
        "let through"
    }

    async fn repeat(&self, text: String) -> String {
        text
    }

    async fn received(&self, ctx: &Context<'_>) -> Received {
        let headers = &ctx.data_unchecked::<ReceivedHeaders>().0;
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        Received {
            authorization: header("authorization"),
            tenant: header("x-tenant"),
            cookie: header("cookie"),
            request_id: header("x-request-id"),
        }
    }
}

struct Mutation;

#[Object]
impl Mutation {
    async fn shout(&self, text: String) -> String {
        text.to_uppercase()
    }
}

type EchoSchema = Schema<Query, Mutation, EmptySubscription>;

async fn echo_graphql(
    State(schema): State<EchoSchema>,
    headers: HeaderMap,
    request: async_graphql_axum::GraphQLRequest,
) -> async_graphql_axum::GraphQLResponse {
    schema
        .execute(request.into_inner().data(ReceivedHeaders(headers)))
        .await
        .into()
}

/// A running echo subgraph.
pub struct EchoSubgraph {
    pub url: String,
    pub gate: Gate,
}

pub async fn spawn_echo_subgraph() -> EchoSubgraph {
    let gate = Gate::new();
    let schema = Schema::build(Query, Mutation, EmptySubscription)
        .data(gate.clone())
        .finish();
    let app = axum::Router::new()
        .route("/graphql", axum::routing::post(echo_graphql))
        .with_state(schema);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the echo subgraph");
    let addr = listener.local_addr().expect("echo subgraph address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    EchoSubgraph {
        url: format!("http://{addr}/graphql"),
        gate,
    }
}

/// A router serving the echo supergraph.
pub struct TestRouter {
    pub base_url: String,
    pub client: reqwest::Client,
    /// The supergraph file the router watches.
    pub supergraph: PathBuf,
    pub subgraph: EchoSubgraph,
}

impl TestRouter {
    pub fn graphql_url(&self) -> String {
        format!("{}/graphql", self.base_url)
    }

    /// POSTs `body` as JSON to `/graphql` with `Accept: application/json`.
    pub async fn post(&self, body: &Value) -> reqwest::Response {
        self.post_with(body, "application/json").await
    }

    pub async fn post_with(&self, body: &Value, accept: &str) -> reqwest::Response {
        self.client
            .post(self.graphql_url())
            .header("content-type", "application/json")
            .header("accept", accept)
            .body(body.to_string())
            .send()
            .await
            .expect("router answers")
    }

    /// POSTs `body` and returns the JSON body, asserting a 200.
    pub async fn query_with(&self, body: &Value) -> Value {
        let response = self.post(body).await;
        assert_eq!(response.status(), 200, "status of {body}");
        response.json().await.expect("a JSON body")
    }

    /// POSTs `{ query }` and returns the JSON body, asserting a 200.
    pub async fn query(&self, query: &str) -> Value {
        let response = self.post(&json!({ "query": query })).await;
        assert_eq!(response.status(), 200, "status of {query}");
        response.json().await.expect("a JSON body")
    }
}

/// A router in front of a fresh echo subgraph, serving the V1 supergraph, with `extra_args`.
pub async fn spawn_router(extra_args: &[&str]) -> TestRouter {
    let subgraph = spawn_echo_subgraph().await;
    let dir = test_support::fresh_data_dir("router-http");
    std::fs::create_dir_all(&dir).expect("create the test directory");
    let supergraph = dir.join("supergraph.graphql");
    std::fs::write(&supergraph, SUPERGRAPH_V1).expect("write the supergraph");
    let subgraph_url = format!("echo={}", subgraph.url);
    let supergraph_arg = supergraph.display().to_string();
    let mut args = vec![
        "router",
        "--port",
        "0",
        "--supergraph",
        &supergraph_arg,
        "--subgraph-url",
        &subgraph_url,
    ];
    args.extend_from_slice(extra_args);
    let cli = router::Cli::try_parse_from(args).expect("valid router arguments");
    let app = router::Application::build(cli.config)
        .await
        .expect("the router starts");
    let base_url = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestRouter {
        base_url,
        client: preflighted_client(),
        supergraph,
        subgraph,
    }
}

/// A client whose every request carries `apollo-require-preflight`, as a
/// non-browser client does to pass CSRF prevention (see `http_csrf.rs`).
pub fn preflighted_client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "apollo-require-preflight",
        reqwest::header::HeaderValue::from_static("true"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("an HTTP client")
}

/// The `extensions.code` of the first error of a GraphQL response body.
pub fn first_error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<no code>")
}

/// The content type of a response.
pub fn content_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
