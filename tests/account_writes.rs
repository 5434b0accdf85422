//! Account changes take effect at once for writes (issue 10): the tasks subgraph
//! remembers account checks per token for a few seconds, but a mutation always
//! asks the users subgraph again, so the next write of a deactivated or deleted
//! account is refused — no waiting for the cache to expire.

mod support;

use serde_json::json;
use support::{Stack, Store, deactivate_user, delete_user, post_graphql, register_and_login};

const CREATE: &str = "mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }";

#[tokio::test]
async fn a_deactivated_or_deleted_accounts_next_task_mutation_is_refused() {
    let stack = Stack::start(Store::Sqlite).await;
    let client = reqwest::Client::new();
    for (username, change, code) in [
        ("soon-inactive", "deactivate", "FORBIDDEN"),
        ("soon-deleted", "delete", "UNAUTHENTICATED"),
    ] {
        let (_, token) = register_and_login(&client, &stack, username).await;
        // A write: the account's standing is now in the tasks subgraph's cache.
        let created = post_graphql(
            &client,
            &stack.router_url,
            Some(&token),
            CREATE,
            json!({"input": {"title": "one"}}),
        )
        .await;
        created.data();
        match change {
            "deactivate" => deactivate_user(&stack, username).await,
            _ => delete_user(&stack, username).await,
        }
        let refused = post_graphql(
            &client,
            &stack.router_url,
            Some(&token),
            CREATE,
            json!({"input": {"title": "two"}}),
        )
        .await;
        assert_eq!(refused.error_codes(), vec![code], "{}", refused.text);
        assert_eq!(
            refused.json["data"],
            serde_json::Value::Null,
            "{}",
            refused.text
        );
    }
    stack.shutdown().await;
}
