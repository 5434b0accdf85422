//! GraphiQL, served by the router itself so that it works without internet
//! access: the page, its script and the vendored GraphiQL, React, ReactDOM and
//! explorer plugin builds (see `assets/graphiql/README.md`) are compiled into the binary.
//!
//! GraphiQL should teach the API it serves: it opens with a configurable example
//! document (`--graphiql-document`; the launcher passes TaskTracker's), and in
//! development mode (`--dev`) it asks for and shows the query plan of each operation.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clap::Args;
use serde_json::json;

/// The request header that asks for `extensions.queryPlan` (Apollo Router's name), honoured only with `--dev`.
pub const QUERY_PLAN_HEADER: &str = "apollo-query-plan-experimental";

/// Command line of GraphiQL and development mode.
#[derive(Debug, Clone, Args)]
pub struct GraphiqlArgs {
    /// A GraphQL document GraphiQL opens with (instead of its generic welcome text), read at start.
    #[arg(id = "graphiql_document", value_name = "PATH")]
    #[arg(long = "graphiql-document", env = "ROUTER_GRAPHIQL_DOCUMENT")]
    pub document: Option<PathBuf>,

    /// Development mode: a request with the `Apollo-Query-Plan-Experimental` header gets its query
    /// plan in `extensions.queryPlan`, and GraphiQL shows it. Never use in production: plans
    /// reveal the subgraphs behind the API.
    #[arg(id = "dev", long = "dev", env = "ROUTER_DEV")]
    pub dev: bool,
}

/// What GraphiQL's page script reads from `/graphiql/settings.json`.
#[derive(Debug, Clone)]
pub struct Settings {
    json: Arc<str>,
    pub dev: bool,
}

impl Settings {
    pub fn load(args: &GraphiqlArgs) -> anyhow::Result<Self> {
        let document = args
            .document
            .as_ref()
            .map(|path| {
                std::fs::read_to_string(path)
                    .with_context(|| format!("reading the GraphiQL document {}", path.display()))
            })
            .transpose()?;
        Ok(Self {
            json: json!({
                "defaultDocument": document,
                "queryPlanHeader": args.dev.then_some(QUERY_PLAN_HEADER),
            })
            .to_string()
            .into(),
            dev: args.dev,
        })
    }
}

/// `/graphiql/settings.json`.
pub async fn settings(State(settings): State<Arc<Settings>>) -> Response {
    let mut response = settings.json.to_string().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

const PAGE: &str = include_str!("../assets/graphiql/index.html");

/// Name, content type and bytes of every file under `/graphiql/`.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "init.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/init.js"),
    ),
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/graphiql/graphiql.min.css"),
    ),
    (
        "graphiql-plugin-explorer.umd.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/graphiql-plugin-explorer.umd.js"),
    ),
    (
        "graphiql-plugin-explorer.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/graphiql/graphiql-plugin-explorer.css"),
    ),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/react-dom.production.min.js"),
    ),
];

/// The GraphiQL page.
pub fn page() -> Response {
    let mut response = PAGE.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

pub async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(asset, _, _)| *asset == name) {
        Some((_, content_type, bytes)) => {
            let mut response = bytes.into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            // The files change only with the binary.
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            );
            response
        }
        None => (StatusCode::NOT_FOUND, "no such GraphiQL asset").into_response(),
    }
}
