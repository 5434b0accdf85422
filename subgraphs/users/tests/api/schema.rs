//! The federation SDL: what `users print-schema` prints is exactly what the
//! running service answers to `_service { sdl }`.

use crate::helpers::{Store, spawn_app};
use test_support::on_both_stores;

on_both_stores!(print_schema_matches_the_service_sdl);

async fn print_schema_matches_the_service_sdl(kind: Store) {
    let app = spawn_app(kind).await;
    let body = app
        .graphql("{ _service { sdl } }", serde_json::json!({}), None)
        .await;
    let served = body["data"]["_service"]["sdl"]
        .as_str()
        .expect("an SDL")
        .to_owned();

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_users"))
        .arg("print-schema")
        .output()
        .expect("run users print-schema");
    assert!(output.status.success());
    let printed = String::from_utf8(output.stdout).expect("UTF-8");
    assert_eq!(printed, served);

    assert!(
        served.contains(r#"type User @key(fields: "id")"#),
        "{served}"
    );
    assert!(
        served.contains("federation/v2"),
        "a federation v2 schema: {served}"
    );
    for field in [
        "me: User",
        "register(input: RegisterInput!): User!",
        "login(username: String!, password: String!): AuthPayload!",
    ] {
        assert!(served.contains(field), "{field} missing from {served}");
    }
    assert!(!served.to_lowercase().contains("password:") || !served.contains("hashedPassword"));
}
