//! Isolation end to end: a user never sees or changes another user's data by any
//! path — the router, the REST layer, or each subgraph's own `/graphql` (including
//! `_entities`, which the router alone is meant to call) — and tokens that are
//! missing, forged, unsigned, or belong to an inactive or deleted account get
//! nothing. Password hashes never appear in any answer. Each test runs over five
//! processes and in one process (its subgraphs' endpoints exposed).

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::{
    GraphqlReply, Mode, Stack, Store, another_genuine_token, post_graphql, register_and_login,
    token_signed_with_another_key, unsigned_token,
};

const TASK_FIELDS: &str =
    "id title description status priority isCompleted dueDate createdAt updatedAt";

const ENTITIES: &str =
    "query($representations: [_Any!]!) { _entities(representations: $representations) {
    __typename
    ... on User { id }
} }";

/// Everything the tests send, so that the bodies can be searched at the end.
struct Probe<'s> {
    stack: &'s Stack,
    http: reqwest::Client,
    bodies: std::cell::RefCell<Vec<String>>,
}

/// A REST answer.
struct RestReply {
    status: u16,
    text: String,
    json: Value,
}

impl<'s> Probe<'s> {
    fn new(stack: &'s Stack) -> Self {
        Probe {
            stack,
            http: reqwest::Client::new(),
            bodies: std::cell::RefCell::new(Vec::new()),
        }
    }

    /// One GraphQL operation against a base URL (the router or a subgraph).
    async fn graphql(
        &self,
        base_url: &str,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> GraphqlReply {
        let reply = post_graphql(&self.http, base_url, token, query, variables).await;
        self.bodies.borrow_mut().push(reply.text.clone());
        reply
    }

    async fn router(&self, token: Option<&str>, query: &str, variables: Value) -> GraphqlReply {
        self.graphql(&self.stack.router_url, token, query, variables)
            .await
    }

    /// One REST request under `/api/v1`.
    async fn rest(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> RestReply {
        let mut request = self
            .http
            .request(method, format!("{}/api/v1{path}", self.stack.rest_url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("rest answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        self.bodies.borrow_mut().push(text.clone());
        RestReply { status, text, json }
    }

    /// No answer so far carried a password hash or a password field.
    fn assert_no_password_hashes(&self) {
        for body in self.bodies.borrow().iter() {
            assert!(!body.contains("$2b$"), "a password hash leaked: {body}");
            assert!(
                !body.contains("hashed_password"),
                "a password field leaked: {body}"
            );
        }
    }

    /// A task as its owner sees it through the router.
    async fn task_as(&self, token: &str, id: &str) -> Value {
        let reply = self
            .router(
                Some(token),
                &format!("query($id: ID!) {{ task(id: $id) {{ {TASK_FIELDS} }} }}"),
                json!({"id": id}),
            )
            .await;
        reply.data()["task"].clone()
    }

    async fn create_task(&self, token: &str, input: Value) -> Value {
        let reply = self
            .router(
                Some(token),
                &format!(
                    "mutation($input: CreateTaskInput!) {{ createTask(input: $input) {{ {TASK_FIELDS} }} }}"
                ),
                json!({"input": input}),
            )
            .await;
        reply.data()["createTask"].clone()
    }
}

/// The codes of a reply's errors; at least one error is required.
#[track_caller]
fn codes(reply: &GraphqlReply) -> Vec<&str> {
    let codes = reply.error_codes();
    assert!(!codes.is_empty(), "expected errors: {}", reply.text);
    codes
}

/// The reply refused the request with `code` (every error carries it) and
/// returned no data for `field`.
#[track_caller]
fn refused(reply: &GraphqlReply, field: &str, code: &str) {
    assert!(
        codes(reply).iter().all(|c| *c == code),
        "expected only {code}: {}",
        reply.text
    );
    assert_eq!(
        reply.json["data"][field],
        Value::Null,
        "no data: {}",
        reply.text
    );
}

#[track_caller]
fn rest_refused(reply: &RestReply, status: u16, detail: &str) {
    assert_eq!(
        (reply.status, &reply.json),
        (status, &json!({"detail": detail})),
        "answer: {}",
        reply.text
    );
}

/// `_entities` resolved nothing: absent, null, or only nulls.
#[track_caller]
fn no_entities(reply: &GraphqlReply) {
    let entities = &reply.json["data"]["_entities"];
    let empty = match entities {
        Value::Null => true,
        Value::Array(items) => items.iter().all(Value::is_null),
        _ => false,
    };
    assert!(empty, "no entity may resolve: {}", reply.text);
}

#[track_caller]
fn never_mentions(reply_text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !reply_text.contains(secret),
            "{secret:?} leaked: {reply_text}"
        );
    }
}

/// The secrets of Alice's that no one else may ever see.
const ALICE_SECRETS: [&str; 4] = [
    "alice@example.com",
    "Alice's secret plan",
    "for alice only",
    "Alice's done thing",
];

/// Bob's attempts on Alice's task, each with the mutation field it names.
const MUTATIONS: [(&str, &str); 4] = [
    (
        "updateTask",
        "mutation($id: ID!) { updateTask(id: $id, input: {title: \"mine now\", status: DONE}) { id title } }",
    ),
    (
        "completeTask",
        "mutation($id: ID!) { completeTask(id: $id) { id title } }",
    ),
    (
        "uncompleteTask",
        "mutation($id: ID!) { uncompleteTask(id: $id) { id title } }",
    ),
    ("deleteTask", "mutation($id: ID!) { deleteTask(id: $id) }"),
];

/// Alice with two tasks (one done), Bob with one.
struct TwoUsers {
    alice_id: String,
    alice: String,
    bob: String,
    alices_task: Value,
    alices_done: Value,
    bobs_task: Value,
    task_id: String,
    done_id: String,
}

impl TwoUsers {
    async fn create(probe: &Probe<'_>) -> TwoUsers {
        let (alice_id, alice) = register_and_login(&probe.http, probe.stack, "alice").await;
        let (bob_id, bob) = register_and_login(&probe.http, probe.stack, "bob").await;
        assert_ne!(alice_id, bob_id);
        let alices_task = probe
            .create_task(
                &alice,
                json!({"title": ALICE_SECRETS[1], "description": ALICE_SECRETS[2], "priority": "HIGH", "dueDate": "2031-05-05T05:05:05Z"}),
            )
            .await;
        let alices_done = probe
            .create_task(&alice, json!({"title": ALICE_SECRETS[3], "status": "DONE"}))
            .await;
        let bobs_task = probe
            .create_task(&bob, json!({"title": "Bob's chore"}))
            .await;
        let id = |task: &Value| task["id"].as_str().expect("an id").to_owned();
        TwoUsers {
            task_id: id(&alices_task),
            done_id: id(&alices_done),
            alice_id,
            alice,
            bob,
            alices_task,
            alices_done,
            bobs_task,
        }
    }

    /// Alice's tasks are exactly as she left them.
    async fn assert_alices_tasks_unchanged(&self, probe: &Probe<'_>) {
        assert_eq!(
            probe.task_as(&self.alice, &self.task_id).await,
            self.alices_task
        );
        assert_eq!(
            probe.task_as(&self.alice, &self.done_id).await,
            self.alices_done
        );
    }
}

async fn another_users_tasks_are_out_of_reach_through_router_and_rest(mode: Mode) {
    let stack = Stack::start_in(mode, Store::Postgres).await;
    let probe = Probe::new(&stack);
    let people = TwoUsers::create(&probe).await;
    let TwoUsers {
        bob,
        bobs_task,
        task_id,
        done_id,
        ..
    } = &people;

    // Through the router, as Bob.
    let reply = probe
        .router(
            Some(bob),
            &format!("query($id: ID!) {{ task(id: $id) {{ {TASK_FIELDS} owner {{ email }} }} }}"),
            json!({"id": task_id}),
        )
        .await;
    assert_eq!(reply.data()["task"], Value::Null);
    for id in [task_id, done_id] {
        for (field, mutation) in MUTATIONS {
            let reply = probe.router(Some(bob), mutation, json!({"id": id})).await;
            refused(&reply, field, "NOT_FOUND");
            assert_eq!(
                reply.json["errors"][0]["message"], "Task not found",
                "{}",
                reply.text
            );
            never_mentions(&reply.text, &ALICE_SECRETS);
        }
    }
    // Bob's own view holds only his task, and his counts only count it.
    let reply = probe
        .router(
            Some(bob),
            "{ me { email tasks { totalCount items { id title } } taskCounts { total } stats { totalTasks completedTasks } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        reply.data()["me"],
        json!({
            "email": "bob@example.com",
            "tasks": {"totalCount": 1, "items": [{"id": bobs_task["id"], "title": "Bob's chore"}]},
            "taskCounts": {"total": 1},
            "stats": {"totalTasks": 1, "completedTasks": 0},
        })
    );

    // Through REST, as Bob.
    let rest_calls = [
        (Method::GET, format!("/tasks/{task_id}"), None),
        (
            Method::PUT,
            format!("/tasks/{task_id}"),
            Some(json!({"title": "mine now", "status": "done"})),
        ),
        (Method::PATCH, format!("/tasks/{task_id}/complete"), None),
        (Method::PATCH, format!("/tasks/{done_id}/incomplete"), None),
        (
            Method::PUT,
            format!("/tasks/{done_id}"),
            Some(json!({"is_completed": false})),
        ),
        (Method::DELETE, format!("/tasks/{task_id}"), None),
        (Method::DELETE, format!("/tasks/{done_id}"), None),
    ];
    for (method, path, body) in rest_calls {
        let reply = probe.rest(method, &path, Some(bob), body).await;
        rest_refused(&reply, 404, "Task not found");
    }
    let list = probe.rest(Method::GET, "/tasks/", Some(bob), None).await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.json["total"], 1, "{}", list.text);
    never_mentions(&list.text, &ALICE_SECRETS);

    people.assert_alices_tasks_unchanged(&probe).await;
    probe.assert_no_password_hashes();
    stack.shutdown().await;
}

async fn subgraphs_resolve_nothing_of_another_user(mode: Mode) {
    let stack = Stack::start_in(mode, Store::Postgres).await;
    let probe = Probe::new(&stack);
    let people = TwoUsers::create(&probe).await;
    let TwoUsers {
        alice_id,
        bob,
        task_id,
        done_id,
        ..
    } = &people;

    // Straight to each subgraph, bypassing the router, with Bob's token.
    let alice_user = json!([{"__typename": "User", "id": alice_id}]);
    let users = probe
        .graphql(
            &stack.users_url,
            Some(bob),
            "query($representations: [_Any!]!) { _entities(representations: $representations) {
                ... on User { id email username fullName isActive } } }",
            json!({"representations": alice_user}),
        )
        .await;
    assert_eq!(
        users.json["data"]["_entities"],
        json!([null]),
        "{}",
        users.text
    );
    never_mentions(&users.text, &ALICE_SECRETS);

    let tasks = probe
        .graphql(
            &stack.tasks_url,
            Some(bob),
            &format!(
                "query($representations: [_Any!]!) {{ _entities(representations: $representations) {{
                    ... on User {{ id tasks {{ totalCount items {{ {TASK_FIELDS} }} }} taskCounts {{ total high }} }}
                    ... on Task {{ {TASK_FIELDS} }} }} }}"
            ),
            json!({"representations": [
                {"__typename": "User", "id": alice_id},
                {"__typename": "Task", "id": task_id},
                {"__typename": "Task", "id": done_id},
            ]}),
        )
        .await;
    assert_eq!(
        tasks.json["data"]["_entities"],
        json!([null, null, null]),
        "{}",
        tasks.text
    );
    never_mentions(&tasks.text, &ALICE_SECRETS);

    // The tasks subgraph's own root fields, too.
    let direct = probe
        .graphql(
            &stack.tasks_url,
            Some(bob),
            &format!("query($id: ID!) {{ task(id: $id) {{ {TASK_FIELDS} }} }}"),
            json!({"id": task_id}),
        )
        .await;
    assert_eq!(direct.data()["task"], Value::Null);
    for (field, mutation) in MUTATIONS {
        let reply = probe
            .graphql(
                &stack.tasks_url,
                Some(bob),
                mutation,
                json!({"id": task_id}),
            )
            .await;
        refused(&reply, field, "NOT_FOUND");
        never_mentions(&reply.text, &ALICE_SECRETS);
    }

    let counts = json!({"total": 2, "todo": 1, "inProgress": 0, "done": 1, "completed": 1, "low": 0, "medium": 1, "high": 1});
    let stats = probe
        .graphql(
            &stack.stats_url,
            Some(bob),
            "query($representations: [_Any!]!) { _entities(representations: $representations) {
                ... on User { id stats { totalTasks completedTasks completedPercentage } } } }",
            json!({"representations": [{"__typename": "User", "id": alice_id, "taskCounts": counts}]}),
        )
        .await;
    assert_eq!(
        stats.json["data"]["_entities"],
        json!([null]),
        "{}",
        stats.text
    );

    people.assert_alices_tasks_unchanged(&probe).await;
    probe.assert_no_password_hashes();
    stack.shutdown().await;
}

/// No token, a token signed with another key, and an unsigned (`alg: none`)
/// token, the last two claiming to be `user_id`.
fn bad_tokens(user_id: &str) -> [(&'static str, Option<String>); 3] {
    [
        ("no token", None),
        ("another key", Some(token_signed_with_another_key(user_id))),
        ("alg none", Some(unsigned_token(user_id))),
    ]
}

async fn missing_and_forged_tokens_get_nothing(mode: Mode) {
    let stack = Stack::start_in(mode, Store::Postgres).await;
    let probe = Probe::new(&stack);
    let people = TwoUsers::create(&probe).await;
    let TwoUsers {
        alice_id, task_id, ..
    } = &people;
    let counts = json!({"total": 2, "todo": 1, "inProgress": 0, "done": 1, "completed": 1, "low": 0, "medium": 1, "high": 1});

    // Without a token, with one signed by another key, and with an unsigned one:
    // errors and nothing resolved, on every subgraph and through the router.
    let forged = bad_tokens(alice_id);
    let representations = [
        (
            &stack.users_url,
            json!([{"__typename": "User", "id": alice_id}]),
        ),
        (
            &stack.tasks_url,
            json!([{"__typename": "User", "id": alice_id}, {"__typename": "Task", "id": task_id}]),
        ),
        (
            &stack.stats_url,
            json!([{"__typename": "User", "id": alice_id, "taskCounts": counts}]),
        ),
    ];
    for (what, token) in &forged {
        for (url, representations) in &representations {
            let reply = probe
                .graphql(
                    url,
                    token.as_deref(),
                    ENTITIES,
                    json!({"representations": representations}),
                )
                .await;
            // Tasks and stats need a viewer and refuse; the users subgraph's
            // answers are checked more closely in the next test.
            let codes = reply.error_codes();
            assert!(
                codes.iter().all(|code| *code == "UNAUTHENTICATED"),
                "{what} at {url}: {}",
                reply.text
            );
            if *url != &stack.users_url {
                assert!(
                    !codes.is_empty(),
                    "{what} at {url}: expected errors: {}",
                    reply.text
                );
            }
            no_entities(&reply);
            never_mentions(&reply.text, &ALICE_SECRETS);
        }
        let reply = probe
            .graphql(
                &stack.tasks_url,
                token.as_deref(),
                &format!("query($id: ID!) {{ task(id: $id) {{ {TASK_FIELDS} }} }}"),
                json!({"id": task_id}),
            )
            .await;
        refused(&reply, "task", "UNAUTHENTICATED");
        never_mentions(&reply.text, &ALICE_SECRETS);

        // Through the router: a presented bad token is UNAUTHENTICATED, no token is no `me`.
        let reply = probe
            .router(
                token.as_deref(),
                "query($id: ID!) { me { email } task(id: $id) { title } }",
                json!({"id": task_id}),
            )
            .await;
        never_mentions(&reply.text, &ALICE_SECRETS);
        assert_eq!(
            reply.json["data"]["me"],
            Value::Null,
            "{what}: {}",
            reply.text
        );
        assert_eq!(
            reply.json["data"]["task"],
            Value::Null,
            "{what}: {}",
            reply.text
        );
        if token.is_some() {
            assert!(
                codes(&reply).iter().all(|code| *code == "UNAUTHENTICATED"),
                "{what}: {}",
                reply.text
            );
        }
        let reply = probe
            .router(
                token.as_deref(),
                "mutation($id: ID!) { completeTask(id: $id) { id } }",
                json!({"id": task_id}),
            )
            .await;
        refused(&reply, "completeTask", "UNAUTHENTICATED");
        let reply = probe
            .rest(
                Method::GET,
                &format!("/tasks/{task_id}"),
                token.as_deref(),
                None,
            )
            .await;
        let detail = match token {
            None => "Not authenticated",
            Some(_) => "Could not validate credentials",
        };
        rest_refused(&reply, 401, detail);
    }

    people.assert_alices_tasks_unchanged(&probe).await;
    probe.assert_no_password_hashes();
    stack.shutdown().await;
}

/// The users subgraph's `_entities` treats tokens as its `me` does (design.md,
/// auth model): no token is nobody, who owns no user (null, no error); a
/// presented token that does not verify is UNAUTHENTICATED, as on tasks and stats.
async fn users_subgraph_entities_refuse_bad_tokens(mode: Mode) {
    let stack = Stack::start_in(mode, Store::Postgres).await;
    let probe = Probe::new(&stack);
    let (alice_id, _) = register_and_login(&probe.http, &stack, "alice").await;
    for (what, token) in bad_tokens(&alice_id) {
        let reply = probe
            .graphql(
                &stack.users_url,
                token.as_deref(),
                "query($representations: [_Any!]!) { _entities(representations: $representations) {
                    ... on User { id email } } }",
                json!({"representations": [{"__typename": "User", "id": alice_id}]}),
            )
            .await;
        no_entities(&reply);
        never_mentions(&reply.text, &["alice@example.com"]);
        let expected: &[&str] = if token.is_some() {
            &["UNAUTHENTICATED"]
        } else {
            &[]
        };
        assert_eq!(reply.error_codes(), expected, "{what}: {}", reply.text);
    }
    stack.shutdown().await;
}

async fn password_hashes_never_appear(mode: Mode) {
    let stack = Stack::start_in(mode, Store::Postgres).await;
    let probe = Probe::new(&stack);
    const USER_FIELDS: &str = "id email username fullName isActive isSuperuser createdAt updatedAt";

    // Every answer that carries a user, through both front doors.
    let reply = probe
        .router(
            None,
            &format!("mutation($input: RegisterInput!) {{ register(input: $input) {{ {USER_FIELDS} }} }}"),
            json!({"input": {"email": "erin@example.com", "username": "erin", "password": "erin-secret"}}),
        )
        .await;
    assert_eq!(reply.data()["register"]["username"], "erin");
    let reply = probe
        .router(
            None,
            &format!("mutation {{ login(username: \"erin\", password: \"erin-secret\") {{ accessToken user {{ {USER_FIELDS} }} }} }}"),
            json!({}),
        )
        .await;
    let token = reply.data()["login"]["accessToken"]
        .as_str()
        .expect("a token")
        .to_owned();
    let reply = probe
        .router(
            Some(&token),
            &format!("{{ me {{ {USER_FIELDS} }} }}"),
            json!({}),
        )
        .await;
    assert_eq!(reply.data()["me"]["email"], "erin@example.com");
    let task = probe.create_task(&token, json!({"title": "t"})).await;
    let reply = probe
        .router(
            Some(&token),
            &format!("query($id: ID!) {{ task(id: $id) {{ owner {{ {USER_FIELDS} }} }} }}"),
            json!({"id": task["id"]}),
        )
        .await;
    assert_eq!(reply.data()["task"]["owner"]["username"], "erin");

    let reply = probe
        .rest(
            Method::POST,
            "/auth/register",
            None,
            Some(json!({"email": "fay@example.com", "username": "fay", "password": "fay-secret"})),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let reply = probe
        .rest(
            Method::POST,
            "/auth/login",
            None,
            Some(json!({"username": "fay", "password": "fay-secret"})),
        )
        .await;
    let fay = reply.json["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let reply = probe.rest(Method::GET, "/auth/me", Some(&fay), None).await;
    assert_eq!(reply.json["username"], "fay", "{}", reply.text);

    probe.assert_no_password_hashes();
    assert!(
        probe.bodies.borrow().len() >= 7,
        "every answer was searched"
    );
    stack.shutdown().await;
}

/// The variables of an operation that may or may not take the task id.
fn variables_for(operation: &str, task_id: &str) -> Value {
    if operation.contains("$id") {
        json!({"id": task_id})
    } else {
        json!({})
    }
}

async fn inactive_and_deleted_accounts_get_nothing(mode: Mode) {
    let stack = Stack::start_in(mode, Store::Postgres).await;
    let probe = Probe::new(&stack);

    // Carol has a task, then her account is deactivated. Her login token has been
    // seen (and its account status cached) by tasks, so she comes back with a
    // second, genuine token the services have never seen.
    let (carol_id, carol_login) = register_and_login(&probe.http, &stack, "carol").await;
    let carols_task = probe
        .create_task(&carol_login, json!({"title": "Carol's task"}))
        .await;
    let task_id = carols_task["id"].as_str().expect("an id").to_owned();
    support::deactivate_user(&stack, "carol").await;
    let carol = another_genuine_token(&stack, &carol_id);
    assert_ne!(carol, carol_login);

    let operations = [
        ("me", "{ me { id email } }"),
        (
            "me",
            "{ me { tasks { items { title } } taskCounts { total } stats { totalTasks } } }",
        ),
        ("task", "query($id: ID!) { task(id: $id) { title } }"),
        (
            "createTask",
            "mutation { createTask(input: {title: \"new\"}) { id } }",
        ),
        (
            "updateTask",
            "mutation($id: ID!) { updateTask(id: $id, input: {title: \"changed\"}) { id } }",
        ),
        (
            "completeTask",
            "mutation($id: ID!) { completeTask(id: $id) { id } }",
        ),
        (
            "uncompleteTask",
            "mutation($id: ID!) { uncompleteTask(id: $id) { id } }",
        ),
        ("deleteTask", "mutation($id: ID!) { deleteTask(id: $id) }"),
    ];
    for (field, operation) in operations {
        let reply = probe
            .router(Some(&carol), operation, variables_for(operation, &task_id))
            .await;
        refused(&reply, field, "FORBIDDEN");
        assert_eq!(
            reply.json["errors"][0]["message"], "Inactive user",
            "{}",
            reply.text
        );
        never_mentions(&reply.text, &["Carol's task", "carol@example.com"]);
    }
    let login = probe
        .router(
            None,
            "mutation { login(username: \"carol\", password: \"carol-secret\") { accessToken } }",
            json!({}),
        )
        .await;
    refused(&login, "login", "UNAUTHENTICATED");
    for (method, path) in [
        (Method::GET, "/auth/me".to_owned()),
        (Method::GET, "/tasks/".to_owned()),
        (Method::GET, format!("/tasks/{task_id}")),
        (Method::PATCH, format!("/tasks/{task_id}/complete")),
        (Method::DELETE, format!("/tasks/{task_id}")),
        (Method::GET, "/stats/".to_owned()),
    ] {
        let reply = probe.rest(method, &path, Some(&carol), None).await;
        rest_refused(&reply, 403, "Inactive user");
    }

    // Dave is deleted; his tokens stop working.
    let (dave_id, dave_login) = register_and_login(&probe.http, &stack, "dave").await;
    let daves_task = probe
        .create_task(&dave_login, json!({"title": "Dave's task"}))
        .await;
    let task_id = daves_task["id"].as_str().expect("an id").to_owned();
    support::delete_user(&stack, "dave").await;
    let dave = another_genuine_token(&stack, &dave_id);
    for (field, operation) in operations {
        let reply = probe
            .router(Some(&dave), operation, variables_for(operation, &task_id))
            .await;
        refused(&reply, field, "UNAUTHENTICATED");
        never_mentions(&reply.text, &["Dave's task"]);
    }
    for (method, path) in [
        (Method::GET, "/auth/me".to_owned()),
        (Method::GET, format!("/tasks/{task_id}")),
        (Method::GET, "/stats/".to_owned()),
    ] {
        let reply = probe.rest(method, &path, Some(&dave), None).await;
        rest_refused(&reply, 401, "Could not validate credentials");
    }

    probe.assert_no_password_hashes();
    stack.shutdown().await;
}

crate::in_both_modes!(
    another_users_tasks_are_out_of_reach_through_router_and_rest,
    subgraphs_resolve_nothing_of_another_user,
    missing_and_forged_tokens_get_nothing,
    users_subgraph_entities_refuse_bad_tokens,
    password_hashes_never_appear,
    inactive_and_deleted_accounts_get_nothing,
);
