//! The users service as its own process against hostile clients: connection
//! floods, slow and broken requests, and the documents that once aborted it.

fn args() -> Vec<String> {
    let data_dir = test_support::fresh_data_dir("users-hostile");
    vec![
        "--port".to_owned(),
        "0".to_owned(),
        "--data-dir".to_owned(),
        data_dir.display().to_string(),
    ]
}

test_support::http_hardening_tests! {
    binary: env!("CARGO_BIN_EXE_users"),
    args: args(),
    post_path: "/graphql",
    probe: test_support::siege::get("/health"),
    graphql: hostile_documents_at_ten_times_the_breaking_size_are_refused_with_a_code,
}
