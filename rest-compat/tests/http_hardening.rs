//! The REST layer's HTTP server as its own process against hostile clients:
//! connection floods (which once exhausted its file descriptors), slow
//! clients and broken bodies.

fn args() -> Vec<String> {
    // No router is needed: the probe and the broken bodies never reach it.
    ["--port", "0", "--router-url", "http://127.0.0.1:9/graphql"]
        .map(str::to_owned)
        .to_vec()
}

test_support::http_hardening_tests! {
    binary: env!("CARGO_BIN_EXE_rest-compat"),
    args: args(),
    post_path: "/api/v1/auth/register",
    probe: test_support::siege::get("/health"),
}
