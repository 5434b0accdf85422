//! The router's HTTP server as its own process against hostile clients:
//! connection floods, slow clients and broken bodies. (Hostile GraphQL
//! documents are the request path's tests.)

fn args() -> Vec<String> {
    let supergraph = concat!(env!("CARGO_MANIFEST_DIR"), "/../supergraph.graphql");
    [
        "--port",
        "0",
        "--supergraph",
        supergraph,
        "--supergraph-poll-ms",
        "0",
    ]
    .map(str::to_owned)
    .to_vec()
}

test_support::http_hardening_tests! {
    binary: env!("CARGO_BIN_EXE_router"),
    args: args(),
    post_path: "/graphql",
    probe: test_support::siege::get("/health"),
}
