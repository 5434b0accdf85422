//! A GraphQL client's whole journey through the router, as a real client writes
//! its operations (variables, fragments, aliases): register, log in, manage
//! tasks, then one operation spanning users, tasks and stats with the token
//! forwarded to each. Finally stats goes away mid-test and the spanning
//! operation answers what the others still can, with the error at the stats path.
//!
//! Over five processes, and in one process: there stats is remote (mixed mode) to
//! go away, or, all in the one process, the answers up to then are compared
//! byte for byte with those of five processes.

mod support;

use std::sync::Arc;

use serde_json::{Value, json};
use support::transcript::{Transcript, assert_same};
use support::{GraphqlReply, Mode, Service, Stack, Store, post_graphql};

const TASK_FIELDS: &str = "
fragment TaskFields on Task {
  id title description status priority isCompleted dueDate createdAt updatedAt
}";

const COUNTS: &str = "
fragment Counts on TaskCounts { total todo inProgress done completed low medium high }";

/// The dashboard a client shows after login: profile (users), task pages and
/// counts (tasks), statistics (stats) — and one task by id with its owner
/// (tasks, then users again) — in one operation.
const DASHBOARD: &str = "
query Dashboard($taskId: ID!, $filter: TaskFilter, $skip: Int, $limit: Int) {
  me {
    id username email fullName isActive
    page: tasks(filter: $filter, skip: $skip, limit: $limit) {
      totalCount skip limit items { ...TaskFields }
    }
    highPriority: tasks(filter: {priority: HIGH}) { totalCount items { title } }
    everything: tasks { totalCount items { title } }
    taskCounts { ...Counts }
    stats {
      totalTasks completedTasks completedPercentage
      breakdown { ...Counts }
    }
  }
  pinned: task(id: $taskId) { title owner { username email } }
}";

/// A client of the router holding (or not) one user's token.
struct Client {
    http: reqwest::Client,
    router_url: String,
    token: Option<String>,
    /// Every exchange of the journey, whichever client made it.
    transcript: Arc<Transcript>,
}

impl Client {
    async fn run(&self, query: &str, variables: Value) -> GraphqlReply {
        let sent = format!("{query} {variables}");
        let reply = post_graphql(
            &self.http,
            &self.router_url,
            self.token.as_deref(),
            query,
            variables,
        )
        .await;
        self.transcript.record(&sent, reply.status, "", &reply.text);
        reply
    }

    /// Runs an operation that uses the task fragment.
    async fn run_with_task_fields(&self, operation: &str, variables: Value) -> GraphqlReply {
        self.run(&format!("{operation}\n{TASK_FIELDS}"), variables)
            .await
    }

    async fn create_task(&self, input: Value) -> Value {
        let reply = self
            .run_with_task_fields(
                "mutation Create($input: CreateTaskInput!) { createTask(input: $input) { ...TaskFields } }",
                json!({"input": input}),
            )
            .await;
        reply.data()["createTask"].clone()
    }
}

/// The only error of a reply: its code, message and path.
#[track_caller]
fn single_error(reply: &GraphqlReply) -> (&str, &str, &Value) {
    let errors = reply.json["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("expected an error: {}", reply.text));
    assert_eq!(errors.len(), 1, "expected one error: {}", reply.text);
    let error = &errors[0];
    (
        error["extensions"]["code"].as_str().unwrap_or_default(),
        error["message"].as_str().unwrap_or_default(),
        &error["path"],
    )
}

/// Everything up to the spanning query; returns the client (logged in) and the
/// ids of the three tasks left: (report, milk, trip).
async fn journey(stack: &Stack) -> (Client, [String; 3]) {
    let mut client = Client {
        http: reqwest::Client::new(),
        router_url: stack.router_url.clone(),
        token: None,
        transcript: Arc::default(),
    };

    // Register, and not twice.
    let register = "mutation Register($input: RegisterInput!) {
        register(input: $input) { id email username fullName isActive isSuperuser createdAt updatedAt }
    }";
    let input = json!({"email": "ada@example.com", "username": "ada", "password": "ada-secret", "fullName": "Ada L."});
    let reply = client.run(register, json!({"input": input})).await;
    let user = reply.data()["register"].clone();
    let user_id = user["id"].as_str().expect("an id").to_owned();
    assert_eq!(
        (
            &user["email"],
            &user["username"],
            &user["fullName"],
            &user["isActive"],
            &user["isSuperuser"]
        ),
        (
            &json!("ada@example.com"),
            &json!("ada"),
            &json!("Ada L."),
            &json!(true),
            &json!(false)
        )
    );
    assert!(
        !reply.text.contains("$2b$"),
        "no password hash: {}",
        reply.text
    );
    let again = client.run(register, json!({"input": input})).await;
    assert_eq!(
        single_error(&again).0,
        "CONFLICT",
        "second registration: {}",
        again.text
    );

    // Log in (a wrong password first).
    let login = "mutation Login($username: String!, $password: String!) {
        login(username: $username, password: $password) { accessToken tokenType user { id username } }
    }";
    let wrong = client
        .run(login, json!({"username": "ada", "password": "not-it"}))
        .await;
    assert_eq!(
        single_error(&wrong).0,
        "UNAUTHENTICATED",
        "wrong password: {}",
        wrong.text
    );
    assert_eq!(
        wrong.json["data"],
        Value::Null,
        "login is non-null, so data is null"
    );
    let reply = client
        .run(login, json!({"username": "ada", "password": "ada-secret"}))
        .await;
    let payload = &reply.data()["login"];
    assert_eq!(payload["tokenType"], "bearer");
    assert_eq!(payload["user"], json!({"id": user_id, "username": "ada"}));
    let token = payload["accessToken"].as_str().expect("a token").to_owned();

    // Without a token there is no `me`, and no error either.
    let anonymous = client.run("{ me { id username } }", json!({})).await;
    assert_eq!(anonymous.data()["me"], Value::Null);

    client.token = Some(token);
    let me = client
        .run(
            "query Me { me { id username email fullName isActive isSuperuser createdAt } }",
            json!({}),
        )
        .await;
    let me = &me.data()["me"];
    assert_eq!(
        (&me["id"], &me["username"], &me["createdAt"]),
        (&json!(user_id), &json!("ada"), &user["createdAt"])
    );

    // Create tasks the way a form would: defaults left to the server.
    let report = client
        .create_task(json!({
            "title": "Write report",
            "description": "Quarterly numbers",
            "priority": "HIGH",
            "dueDate": "2030-01-15T10:30:00+01:00",
        }))
        .await;
    assert_eq!(
        (
            &report["title"],
            &report["description"],
            &report["status"],
            &report["priority"],
            &report["isCompleted"],
            &report["dueDate"]
        ),
        (
            &json!("Write report"),
            &json!("Quarterly numbers"),
            &json!("TODO"),
            &json!("HIGH"),
            &json!(false),
            &json!("2030-01-15T09:30:00.000000Z")
        ),
        "the due date comes back in UTC"
    );
    let milk = client
        .create_task(json!({"title": "Buy milk", "priority": "LOW", "status": "IN_PROGRESS", "dueDate": "2030-02-01T08:00:00Z"}))
        .await;
    assert_eq!(
        (
            &milk["status"],
            &milk["priority"],
            &milk["description"],
            &milk["isCompleted"]
        ),
        (
            &json!("IN_PROGRESS"),
            &json!("LOW"),
            &Value::Null,
            &json!(false)
        )
    );
    let trip = client.create_task(json!({"title": "Plan trip"})).await;
    assert_eq!(
        (
            &trip["status"],
            &trip["priority"],
            &trip["dueDate"],
            &trip["isCompleted"]
        ),
        (
            &json!("TODO"),
            &json!("MEDIUM"),
            &Value::Null,
            &json!(false)
        )
    );
    let scratch = client
        .create_task(json!({"title": "Scratch", "status": "DONE"}))
        .await;
    assert_eq!(scratch["isCompleted"], true, "created done means completed");
    let id = |task: &Value| task["id"].as_str().expect("an id").to_owned();
    let (report_id, milk_id, trip_id, scratch_id) =
        (id(&report), id(&milk), id(&trip), id(&scratch));

    // Read one back, with its owner resolved by the users subgraph.
    let reply = client
        .run_with_task_fields(
            "query One($id: ID!) { task(id: $id) { ...TaskFields owner { id username } } }",
            json!({"id": report_id}),
        )
        .await;
    let mut expected = report.clone();
    expected["owner"] = json!({"id": user_id, "username": "ada"});
    assert_eq!(reply.data()["task"], expected);

    // A partial update changes only what it names.
    let update = "mutation Update($id: ID!, $input: UpdateTaskInput!) { updateTask(id: $id, input: $input) { ...TaskFields } }";
    let reply = client
        .run_with_task_fields(
            update,
            json!({"id": milk_id, "input": {"title": "Buy oat milk"}}),
        )
        .await;
    let updated = &reply.data()["updateTask"];
    let mut expected = milk.clone();
    expected["title"] = json!("Buy oat milk");
    expected["updatedAt"] = updated["updatedAt"].clone();
    assert_eq!(updated, &expected);
    assert_ne!(
        updated["updatedAt"], milk["updatedAt"],
        "updatedAt moves on every change"
    );
    // `null` clears the due date; an explicit null title is refused.
    let reply = client
        .run_with_task_fields(
            update,
            json!({"id": milk_id, "input": {"dueDate": null, "description": "2 litres"}}),
        )
        .await;
    let updated = &reply.data()["updateTask"];
    assert_eq!(
        (
            &updated["title"],
            &updated["dueDate"],
            &updated["description"],
            &updated["priority"]
        ),
        (
            &json!("Buy oat milk"),
            &Value::Null,
            &json!("2 litres"),
            &json!("LOW")
        )
    );
    let refused = client
        .run_with_task_fields(update, json!({"id": milk_id, "input": {"title": null}}))
        .await;
    let (code, _, _) = single_error(&refused);
    assert_eq!(code, "BAD_USER_INPUT", "null title: {}", refused.text);
    assert_eq!(
        refused.json["errors"][0]["extensions"]["field"], "title",
        "{}",
        refused.text
    );

    // Complete, un-complete, complete another.
    let complete =
        "mutation Complete($id: ID!) { completeTask(id: $id) { id status isCompleted } }";
    let uncomplete =
        "mutation Reopen($id: ID!) { uncompleteTask(id: $id) { id status isCompleted } }";
    let reply = client.run(complete, json!({"id": report_id})).await;
    assert_eq!(
        reply.data()["completeTask"],
        json!({"id": report_id, "status": "DONE", "isCompleted": true})
    );
    let reply = client.run(uncomplete, json!({"id": report_id})).await;
    assert_eq!(
        reply.data()["uncompleteTask"],
        json!({"id": report_id, "status": "TODO", "isCompleted": false})
    );
    let reply = client.run(complete, json!({"id": trip_id})).await;
    assert_eq!(
        reply.data()["completeTask"],
        json!({"id": trip_id, "status": "DONE", "isCompleted": true})
    );
    // Un-completing an in-progress task keeps its status.
    let reply = client.run(uncomplete, json!({"id": milk_id})).await;
    assert_eq!(
        reply.data()["uncompleteTask"],
        json!({"id": milk_id, "status": "IN_PROGRESS", "isCompleted": false})
    );

    // Delete one: gone for reads, NOT_FOUND for a second delete.
    let delete = "mutation Delete($id: ID!) { deleteTask(id: $id) }";
    let reply = client.run(delete, json!({"id": scratch_id})).await;
    assert_eq!(reply.data()["deleteTask"], true);
    let reply = client
        .run(
            "query($id: ID!) { task(id: $id) { id } }",
            json!({"id": scratch_id}),
        )
        .await;
    assert_eq!(reply.data()["task"], Value::Null);
    let reply = client.run(delete, json!({"id": scratch_id})).await;
    let (code, message, path) = single_error(&reply);
    assert_eq!(
        (code, message, path),
        ("NOT_FOUND", "Task not found", &json!(["deleteTask"])),
        "{}",
        reply.text
    );

    (client, [report_id, milk_id, trip_id])
}

fn dashboard_variables(report_id: &str) -> Value {
    json!({"taskId": report_id, "filter": {"status": "TODO"}, "skip": 0, "limit": 1})
}

/// The journey and the dashboard; then, where stats can stop alone, the dashboard
/// without it. Returns the exchanges up to the stop.
async fn journey_then_dashboard(store: Store, mode: Mode) -> Vec<String> {
    let mut stack = Stack::start_in(mode, store).await;
    let (client, [report_id, milk_id, trip_id]) = journey(&stack).await;

    let reply = client
        .run(
            &format!("{DASHBOARD}\n{TASK_FIELDS}\n{COUNTS}"),
            dashboard_variables(&report_id),
        )
        .await;
    let data = reply.data();
    let me = &data["me"];
    assert_eq!(
        (
            &me["username"],
            &me["email"],
            &me["fullName"],
            &me["isActive"]
        ),
        (
            &json!("ada"),
            &json!("ada@example.com"),
            &json!("Ada L."),
            &json!(true)
        )
    );
    // TODO tasks: only the report (the trip is done); one per page.
    assert_eq!(
        (
            &me["page"]["totalCount"],
            &me["page"]["skip"],
            &me["page"]["limit"]
        ),
        (&json!(1), &json!(0), &json!(1))
    );
    let page = me["page"]["items"].as_array().expect("items");
    assert_eq!(page.len(), 1);
    assert_eq!(
        (
            &page[0]["id"],
            &page[0]["title"],
            &page[0]["status"],
            &page[0]["dueDate"]
        ),
        (
            &json!(report_id),
            &json!("Write report"),
            &json!("TODO"),
            &json!("2030-01-15T09:30:00.000000Z")
        )
    );
    assert_eq!(
        me["highPriority"],
        json!({"totalCount": 1, "items": [{"title": "Write report"}]})
    );
    // Newest first.
    assert_eq!(
        me["everything"],
        json!({"totalCount": 3, "items": [{"title": "Plan trip"}, {"title": "Buy oat milk"}, {"title": "Write report"}]})
    );
    let counts = json!({"total": 3, "todo": 1, "inProgress": 1, "done": 1, "completed": 1, "low": 1, "medium": 1, "high": 1});
    assert_eq!(me["taskCounts"], counts);
    assert_eq!(
        me["stats"],
        json!({"totalTasks": 3, "completedTasks": 1, "completedPercentage": 33.33, "breakdown": counts})
    );
    assert_eq!(
        data["pinned"],
        json!({"title": "Write report", "owner": {"username": "ada", "email": "ada@example.com"}})
    );

    // A second page of the same filter past the end: empty, the total unchanged.
    let mut variables = dashboard_variables(&report_id);
    variables["skip"] = json!(1);
    let reply = client
        .run(&format!("{DASHBOARD}\n{TASK_FIELDS}\n{COUNTS}"), variables)
        .await;
    assert_eq!(
        reply.data()["me"]["page"],
        json!({"totalCount": 1, "skip": 1, "limit": 1, "items": []})
    );

    // Without a token the same operation has no `me` and no task.
    let anonymous = Client {
        http: reqwest::Client::new(),
        router_url: stack.router_url.clone(),
        token: None,
        transcript: client.transcript.clone(),
    };
    let reply = anonymous
        .run(
            &format!("{DASHBOARD}\n{TASK_FIELDS}\n{COUNTS}"),
            dashboard_variables(&report_id),
        )
        .await;
    assert_eq!(
        reply.json["data"]["me"],
        Value::Null,
        "anonymous: {}",
        reply.text
    );
    assert!(
        !reply.text.contains("Write report"),
        "anonymous sees no task: {}",
        reply.text
    );

    let before_stop = client.transcript.entries();
    if mode == Mode::OneProcess {
        // Stats is inside the one process: it cannot go away alone.
        stack.shutdown().await;
        return before_stop;
    }

    // Stats goes away. The schema says `User.stats: UserStats!` (non-null) and
    // `Query.me: User` (nullable), so by the spec's null propagation the stats
    // error nulls `me` — its users and tasks fields go with it — while the
    // sibling root field `pinned` (tasks + users) still comes back whole. The one
    // error points at the stats field.
    stack.stop(Service::Stats).await;
    let reply = client
        .run(
            &format!("{DASHBOARD}\n{TASK_FIELDS}\n{COUNTS}"),
            dashboard_variables(&report_id),
        )
        .await;
    assert_eq!(
        reply.status, 200,
        "a partial result is still a 200: {}",
        reply.text
    );
    let (code, _, path) = single_error(&reply);
    assert_eq!(
        (code, path),
        ("SUBGRAPH_UNAVAILABLE", &json!(["me", "stats"])),
        "{}",
        reply.text
    );
    assert_eq!(
        reply.json["errors"][0]["extensions"]["serviceName"], "stats",
        "{}",
        reply.text
    );
    assert_eq!(
        reply.json["data"],
        json!({"me": null, "pinned": {"title": "Write report", "owner": {"username": "ada", "email": "ada@example.com"}}}),
        "{}",
        reply.text
    );

    // Without the stats field the users and tasks data is all there.
    let reply = client
        .run(
            &format!(
                "query($id: ID!) {{ me {{ username taskCounts {{ ...Counts }} tasks {{ totalCount }} }} task(id: $id) {{ title }} }}\n{COUNTS}"
            ),
            json!({"id": milk_id}),
        )
        .await;
    assert_eq!(
        reply.data(),
        &json!({"me": {"username": "ada", "taskCounts": counts, "tasks": {"totalCount": 3}}, "task": {"title": "Buy oat milk"}})
    );
    // And a mutation that does not touch stats still works.
    let reply = client
        .run(
            "mutation($id: ID!) { uncompleteTask(id: $id) { status isCompleted } }",
            json!({"id": trip_id}),
        )
        .await;
    assert_eq!(
        reply.data()["uncompleteTask"],
        json!({"status": "TODO", "isCompleted": false})
    );

    stack.shutdown().await;
    before_stop
}

#[tokio::test]
async fn graphql_journey_on_postgres() {
    journey_then_dashboard(Store::Postgres, Mode::Processes).await;
}

#[tokio::test]
async fn graphql_journey_on_postgres_in_one_process_with_stats_remote() {
    journey_then_dashboard(Store::Postgres, Mode::OneProcessStatsRemote).await;
}

/// On SQLite the journey runs in both modes, and every exchange is compared.
#[tokio::test]
async fn graphql_journey_on_sqlite_alike_in_both_modes() {
    let processes = journey_then_dashboard(Store::Sqlite, Mode::Processes).await;
    let one_process = journey_then_dashboard(Store::Sqlite, Mode::OneProcess).await;
    assert_same(&processes, &one_process);
}
