//! Every query, mutation and error path of the tasks subgraph, on both stores.

mod support;

use serde_json::{Value, json};
use support::{Store, TASK_FIELDS, assert_error, error_message, spawn_app};
use test_support::on_both_stores;

const USER: i64 = 7;

fn mutation(name: &str, arguments: &str) -> String {
    format!("mutation {{ {name}{arguments} {{ {TASK_FIELDS} }} }}")
}

on_both_stores!(
    create_fills_defaults,
    create_done_task_is_completed_and_due_date_is_utc,
    task_query_finds_own_task_or_null,
    titles_must_be_1_to_255_characters,
    unknown_enum_values_are_refused,
    update_changes_only_given_fields,
    update_status_sets_completed_flag,
    unsent_variables_leave_input_fields_out,
    explicit_nulls_are_refused_for_required_fields,
    complete_and_uncomplete,
    delete_removes_the_task,
    mutations_on_missing_tasks_are_not_found,
    malformed_ids_are_bad_input,
    pages_are_newest_first_and_filters_combine,
    page_bounds_are_enforced,
    counts_cover_all_tasks,
    unauthenticated_requests_are_refused,
    nul_characters_are_bad_input,
    errors_do_not_echo_huge_input,
);

/// PostgreSQL's text cannot hold NUL: refused as input on every path, in the
/// document or in variables, never an INTERNAL_SERVER_ERROR from the store.
async fn nul_characters_are_bad_input(store: Store) {
    let app = spawn_app(store).await;
    let token = app.token(USER);
    let response = app
        .graphql(
            Some(&token),
            "mutation { createTask(input: { title: \"a\\u0000b\" }) { id } }",
            Value::Null,
        )
        .await;
    assert_error(&response, "BAD_USER_INPUT", Some("title"));
    let create = "mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }";
    for (input, field) in [
        (json!({"title": "a\u{0}b"}), "title"),
        (
            json!({"title": "ok", "description": "d\u{0}"}),
            "description",
        ),
    ] {
        let response = app
            .graphql(Some(&token), create, json!({ "input": input }))
            .await;
        assert_error(&response, "BAD_USER_INPUT", Some(field));
    }
    let created = app.create_task(&token, json!({"title": "ok"})).await;
    let update = "mutation($id: ID!, $input: UpdateTaskInput!) { updateTask(id: $id, input: $input) { id } }";
    for (input, field) in [
        (json!({"title": "a\u{0}b"}), "title"),
        (json!({"description": "d\u{0}"}), "description"),
    ] {
        let response = app
            .graphql(
                Some(&token),
                update,
                json!({"id": created["id"], "input": input}),
            )
            .await;
        assert_error(&response, "BAD_USER_INPUT", Some(field));
    }
}

/// A 1 MB argument quoted in an error message comes back cut short.
async fn errors_do_not_echo_huge_input(store: Store) {
    let app = spawn_app(store).await;
    let token = app.token(USER);
    let huge = "x".repeat(1024 * 1024);
    let response = app
        .graphql(
            Some(&token),
            "query($id: ID!) { task(id: $id) { id } }",
            json!({ "id": huge }),
        )
        .await;
    assert_error(&response, "BAD_USER_INPUT", Some("id"));
    let size = response.to_string().len();
    assert!(size < 4 * 1024, "the error is {size} bytes");
}

async fn create_fills_defaults(store: Store) {
    let app = spawn_app(store).await;
    let token = app.token(USER);
    let task = app
        .create_task(&token, json!({ "title": "Write tests" }))
        .await;
    assert_eq!(task["title"], "Write tests");
    assert_eq!(task["description"], Value::Null);
    assert_eq!(task["status"], "TODO");
    assert_eq!(task["priority"], "MEDIUM");
    assert_eq!(task["isCompleted"], false);
    assert_eq!(task["dueDate"], Value::Null);
    assert_eq!(task["owner"]["id"], USER.to_string());
    assert_eq!(task["createdAt"], task["updatedAt"]);
    let created_at = task["createdAt"].as_str().expect("a timestamp");
    // RFC 3339 in UTC with microseconds, e.g. 2025-11-15T18:20:31.123456Z.
    assert_eq!(created_at.len(), 27, "{created_at}");
    assert!(created_at.ends_with('Z'), "{created_at}");
    assert!(task["id"].as_str().expect("an id").parse::<i64>().is_ok());
}

async fn create_done_task_is_completed_and_due_date_is_utc(store: Store) {
    let app = spawn_app(store).await;
    let token = app.token(USER);
    let task = app
        .create_task(
            &token,
            json!({ "title": "Done already", "description": "", "status": "DONE", "priority": "HIGH",
                    "dueDate": "2030-01-02T03:04:05.123456+02:00" }),
        )
        .await;
    assert_eq!(task["status"], "DONE");
    assert_eq!(task["priority"], "HIGH");
    assert_eq!(task["isCompleted"], true);
    assert_eq!(
        task["description"], "",
        "an empty description is kept as given"
    );
    assert_eq!(task["dueDate"], "2030-01-02T01:04:05.123456Z");
    // And it reads back the same from the store.
    assert_eq!(app.task(&token, &task["id"]).await, task);
}

async fn task_query_finds_own_task_or_null(store: Store) {
    let app = spawn_app(store).await;
    let token = app.token(USER);
    let task = app
        .create_task(&token, json!({ "title": "Find me", "description": "here" }))
        .await;
    assert_eq!(app.task(&token, &task["id"]).await, task);
    assert_eq!(app.task(&token, &json!("999999")).await, Value::Null);
    // Beyond any serial id: simply not found.
    assert_eq!(
        app.task(&token, &json!("99999999999999")).await,
        Value::Null
    );
}

async fn titles_must_be_1_to_255_characters(store: Store) {
    let app = spawn_app(store).await;
    let token = app.token(USER);
    let create = "mutation($input: CreateTaskInput!) { createTask(input: $input) { id title } }";
    for title in [String::new(), "x".repeat(256), "é".repeat(256)] {
        let response = app
            .graphql(Some(&token), create, json!({ "input": { "title": title } }))
            .await;
        assert_error(&response, "BAD_USER_INPUT", Some("title"));
    }
    let longest = "é".repeat(255);
    let task = app.create_task(&token, json!({ "title": longest })).await;
    assert_eq!(task["title"], longest);

    let update = "mutation($id: ID!, $input: UpdateTaskInput!) { updateTask(id: $id, input: $input) { title } }";
    for title in [String::new(), "y".repeat(256)] {
        let response = app
            .graphql(
                Some(&token),
                update,
                json!({ "id": task["id"], "input": { "title": title } }),
            )
            .await;
        assert_error(&response, "BAD_USER_INPUT", Some("title"));
    }
    assert_eq!(
        app.task(&token, &task["id"]).await["title"],
        longest,
        "refused updates change nothing"
    );
    // Nothing was created by the refused requests.
    assert_eq!(app.counts(&token, USER).await["total"], 1);
}

async fn unknown_enum_values_are_refused(store: Store) {
    let app = spawn_app(store).await;
    let token = app.token(USER);
    let literal = app
        .graphql(
            Some(&token),
            "mutation { createTask(input: { title: \"x\", status: FINISHED }) { id } }",
            json!({}),
        )
        .await;
    assert_error(&literal, "GRAPHQL_VALIDATION_FAILED", None);
    let variable = app
        .graphql(
            Some(&token),
            "mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }",
            json!({ "input": { "title": "x", "priority": "URGENT" } }),
        )
        .await;
    assert_error(&variable, "GRAPHQL_VALIDATION_FAILED", None);
    assert!(error_message(&variable).contains("URGENT"), "{variable}");
    let filter = app.graphql(Some(&token), &format!(
        "query {{ _entities(representations: [{{ __typename: \"User\", id: \"{USER}\" }}]) {{ ... on User {{ tasks(filter: {{ status: todo }}) {{ totalCount }} }} }} }}"
    ), json!({})).await;
    assert_error(&filter, "GRAPHQL_VALIDATION_FAILED", None);
    assert_eq!(
        app.counts(&token, USER).await["total"],
        0,
        "nothing was created"
    );
}

async fn update_changes_only_given_fields(store: Store) {
    let app = spawn_app(store).await;
    let token = app.token(USER);
    let original = app
        .create_task(
            &token,
            json!({ "title": "Original", "description": "keep", "priority": "LOW", "dueDate": "2030-05-06T07:08:09Z" }),
        )
        .await;
    let update = format!(
        "mutation($id: ID!, $input: UpdateTaskInput!) {{ updateTask(id: $id, input: $input) {{ {TASK_FIELDS} }} }}"
    );

    let renamed = app
        .data(
            &token,
            &update,
            json!({ "id": original["id"], "input": { "title": "Renamed" } }),
        )
        .await["updateTask"]
        .clone();
    assert_eq!(renamed["title"], "Renamed");
    for unchanged in [
        "id",
        "description",
        "status",
        "priority",
        "isCompleted",
        "dueDate",
        "owner",
        "createdAt",
    ] {
        assert_eq!(
            renamed[unchanged], original[unchanged],
            "{unchanged} must not change"
        );
    }
    assert!(
        renamed["updatedAt"].as_str() > original["updatedAt"].as_str(),
        "updatedAt moves forward: {renamed}"
    );

    let cleared = app
        .data(
            &token,
            &update,
            json!({ "id": original["id"], "input": { "description": null, "dueDate": null } }),
        )
        .await["updateTask"]
        .clone();
    assert_eq!(cleared["description"], Value::Null);
    assert_eq!(cleared["dueDate"], Value::Null);
    assert_eq!(cleared["title"], "Renamed");
    assert!(cleared["updatedAt"].as_str() > renamed["updatedAt"].as_str());

    let reset = app
        .data(
            &token,
            &update,
            json!({ "id": original["id"], "input": { "description": "new", "dueDate": "2031-01-01T00:00:00Z", "priority": "HIGH" } }),
        )
        .await["updateTask"]
        .clone();
    assert_eq!(reset["description"], "new");
    assert_eq!(reset["dueDate"], "2031-01-01T00:00:00.000000Z");
    assert_eq!(reset["priority"], "HIGH");

    // An empty input changes nothing but the modification time.
    let touched = app
        .data(
            &token,
            &update,
            json!({ "id": original["id"], "input": {} }),
        )
        .await["updateTask"]
        .clone();
    assert_eq!(touched["title"], "Renamed");
    assert_eq!(touched["description"], "new");
    assert_eq!(
        app.task(&token, &original["id"]).await,
        touched,
        "the store holds what was returned"
    );
}

/// A variable the request declares but does not send (Apollo Client leaves out
/// undefined ones) is no value at all, as the GraphQL spec says: an input field
/// given as one is left out, so the update leaves that field as it was; only a
/// `null` actually sent clears it or is refused.
async fn unsent_variables_leave_input_fields_out(store: Store) {
    let app = spawn_app(store).await;
    let token = app.token(USER);
    let original = app
        .create_task(
            &token,
            json!({ "title": "Kept", "description": "keep", "status": "IN_PROGRESS" }),
        )
        .await;
    let id = &original["id"];
    let description = format!(
        "mutation($id: ID!, $d: String) {{ updateTask(id: $id, input: {{ description: $d }}) {{ {TASK_FIELDS} }} }}"
    );
    let kept = app.data(&token, &description, json!({ "id": id })).await["updateTask"].clone();
    assert_eq!(kept["description"], "keep", "{kept}");
    assert_eq!(kept["status"], "IN_PROGRESS", "{kept}");

    // The same through a fragment, and with the variable also unsent in a nested
    // object's field.
    let through_fragment = "mutation($id: ID!, $d: String, $t: String) { ...Change } \
        fragment Change on Mutation { updateTask(id: $id, input: { description: $d, title: $t }) { title description } }";
    assert_eq!(
        app.data(&token, through_fragment, json!({ "id": id }))
            .await["updateTask"],
        json!({ "title": "Kept", "description": "keep" })
    );

    let status = "mutation($id: ID!, $s: TaskStatus) { updateTask(id: $id, input: { status: $s }) { status description } }";
    assert_eq!(
        app.data(&token, status, json!({ "id": id })).await["updateTask"],
        json!({ "status": "IN_PROGRESS", "description": "keep" })
    );
    let null_status = app
        .graphql(Some(&token), status, json!({ "id": id, "s": null }))
        .await;
    assert_error(&null_status, "BAD_USER_INPUT", Some("status"));

    let cleared = app
        .data(&token, &description, json!({ "id": id, "d": null }))
        .await["updateTask"]
        .clone();
    assert_eq!(cleared["description"], Value::Null, "{cleared}");
    assert_eq!(
        app.task(&token, id).await,
        cleared,
        "the store holds what was returned"
    );

    // A non-null variable must still be sent.
    let unsent_id = app
        .graphql(Some(&token), &description, json!({ "d": "x" }))
        .await;
    assert!(unsent_id.get("errors").is_some(), "{unsent_id}");
    assert!(unsent_id["data"].is_null(), "{unsent_id}");
}

async fn update_status_sets_completed_flag(store: Store) {
    let app = spawn_app(store).await;
    let token = app.token(USER);
    let task = app
        .create_task(&token, json!({ "title": "Flags", "status": "IN_PROGRESS" }))
        .await;
    let update = "mutation($id: ID!, $input: UpdateTaskInput!) { updateTask(id: $id, input: $input) { status isCompleted } }";
    let step = async |input: Value| {
        app.data(&token, update, json!({ "id": task["id"], "input": input }))
            .await["updateTask"]
            .clone()
    };

    assert_eq!(
        step(json!({ "status": "DONE" })).await,
        json!({ "status": "DONE", "isCompleted": true })
    );
    // The status decides the flag even against an explicit isCompleted.
    assert_eq!(
        step(json!({ "status": "TODO", "isCompleted": true })).await,
        json!({ "status": "TODO", "isCompleted": false })
    );
    assert_eq!(
        step(json!({ "status": "DONE", "isCompleted": false })).await,
        json!({ "status": "DONE", "isCompleted": true })
    );
    // isCompleted alone changes only the flag.
    assert_eq!(
        step(json!({ "isCompleted": false })).await,
        json!({ "status": "DONE", "isCompleted": false })
    );
    assert_eq!(
        step(json!({ "status": "IN_PROGRESS" })).await,
        json!({ "status": "IN_PROGRESS", "isCompleted": false })
    );
    assert_eq!(
        step(json!({ "isCompleted": true })).await,
        json!({ "status": "IN_PROGRESS", "isCompleted": true })
    );
}

async fn explicit_nulls_are_refused_for_required_fields(store: Store) {
    let app = spawn_app(store).await;
    let token = app.token(USER);
    let task = app
        .create_task(
            &token,
            json!({ "title": "Stable", "status": "IN_PROGRESS" }),
        )
        .await;
    let update = "mutation($id: ID!, $input: UpdateTaskInput!) { updateTask(id: $id, input: $input) { id } }";
    for field in ["title", "status", "priority", "isCompleted"] {
        let response = app
            .graphql(
                Some(&token),
                update,
                json!({ "id": task["id"], "input": { field: null } }),
            )
            .await;
        assert_error(&response, "BAD_USER_INPUT", Some(field));
    }
    // The same in a literal document rather than variables.
    let literal = app
        .graphql(
            Some(&token),
            &format!(
                "mutation {{ updateTask(id: {}, input: {{ title: null }}) {{ id }} }}",
                task["id"]
            ),
            json!({}),
        )
        .await;
    assert_error(&literal, "BAD_USER_INPUT", Some("title"));
    assert_eq!(app.task(&token, &task["id"]).await, task, "nothing changed");

    let create = "mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }";
    for field in ["status", "priority"] {
        let response = app
            .graphql(
                Some(&token),
                create,
                json!({ "input": { "title": "x", field: null } }),
            )
            .await;
        assert_error(&response, "BAD_USER_INPUT", Some(field));
    }
}

async fn complete_and_uncomplete(store: Store) {
    let app = spawn_app(store).await;
    let token = app.token(USER);
    let task = app
        .create_task(&token, json!({ "title": "Cycle", "status": "IN_PROGRESS" }))
        .await;
    let id = task["id"].as_str().expect("id");

    let completed = app
        .data(
            &token,
            &mutation("completeTask", &format!("(id: \"{id}\")")),
            json!({}),
        )
        .await["completeTask"]
        .clone();
    assert_eq!(completed["status"], "DONE");
    assert_eq!(completed["isCompleted"], true);
    assert!(completed["updatedAt"].as_str() > task["updatedAt"].as_str());

    let reopened = app
        .data(
            &token,
            &mutation("uncompleteTask", &format!("(id: \"{id}\")")),
            json!({}),
        )
        .await["uncompleteTask"]
        .clone();
    assert_eq!(reopened["status"], "TODO", "done goes back to todo");
    assert_eq!(reopened["isCompleted"], false);
    assert!(reopened["updatedAt"].as_str() > completed["updatedAt"].as_str());

    // A completed task that is not DONE keeps its status when un-completed.
    let update =
        "mutation($id: ID!) { updateTask(id: $id, input: { status: IN_PROGRESS }) { id } }";
    app.data(&token, update, json!({ "id": id })).await;
    app.data(
        &token,
        "mutation($id: ID!) { updateTask(id: $id, input: { isCompleted: true }) { id } }",
        json!({ "id": id }),
    )
    .await;
    let kept = app
        .data(
            &token,
            &mutation("uncompleteTask", &format!("(id: \"{id}\")")),
            json!({}),
        )
        .await["uncompleteTask"]
        .clone();
    assert_eq!(kept["status"], "IN_PROGRESS");
    assert_eq!(kept["isCompleted"], false);

    // Completing twice is fine and stays done.
    app.data(
        &token,
        &mutation("completeTask", &format!("(id: \"{id}\")")),
        json!({}),
    )
    .await;
    let again = app
        .data(
            &token,
            &mutation("completeTask", &format!("(id: \"{id}\")")),
            json!({}),
        )
        .await["completeTask"]
        .clone();
    assert_eq!(
        (again["status"].clone(), again["isCompleted"].clone()),
        (json!("DONE"), json!(true))
    );
    assert_eq!(app.task(&token, &task["id"]).await, again);
}

async fn delete_removes_the_task(store: Store) {
    let app = spawn_app(store).await;
    let token = app.token(USER);
    let doomed = app.create_task(&token, json!({ "title": "Doomed" })).await;
    let kept = app.create_task(&token, json!({ "title": "Kept" })).await;
    let delete = "mutation($id: ID!) { deleteTask(id: $id) }";
    assert_eq!(
        app.data(&token, delete, json!({ "id": doomed["id"] }))
            .await["deleteTask"],
        true
    );
    assert_eq!(app.task(&token, &doomed["id"]).await, Value::Null);
    assert_eq!(app.task(&token, &kept["id"]).await, kept);
    let again = app
        .graphql(Some(&token), delete, json!({ "id": doomed["id"] }))
        .await;
    assert_error(&again, "NOT_FOUND", None);
    assert_eq!(error_message(&again), "Task not found");
}

async fn mutations_on_missing_tasks_are_not_found(store: Store) {
    let app = spawn_app(store).await;
    let token = app.token(USER);
    for id in ["424242", "99999999999999", "-1"] {
        for operation in [
            format!("mutation {{ updateTask(id: \"{id}\", input: {{ title: \"x\" }}) {{ id }} }}"),
            format!("mutation {{ deleteTask(id: \"{id}\") }}"),
            format!("mutation {{ completeTask(id: \"{id}\") {{ id }} }}"),
            format!("mutation {{ uncompleteTask(id: \"{id}\") {{ id }} }}"),
        ] {
            let response = app.graphql(Some(&token), &operation, json!({})).await;
            assert_error(&response, "NOT_FOUND", None);
            assert_eq!(error_message(&response), "Task not found", "{operation}");
        }
    }
}

async fn malformed_ids_are_bad_input(store: Store) {
    let app = spawn_app(store).await;
    let token = app.token(USER);
    for id in ["abc", "", "1.5", "12abc"] {
        for operation in [
            "query($id: ID!) { task(id: $id) { id } }",
            "mutation($id: ID!) { updateTask(id: $id, input: { title: \"x\" }) { id } }",
            "mutation($id: ID!) { deleteTask(id: $id) }",
            "mutation($id: ID!) { completeTask(id: $id) { id } }",
            "mutation($id: ID!) { uncompleteTask(id: $id) { id } }",
        ] {
            let response = app
                .graphql(Some(&token), operation, json!({ "id": id }))
                .await;
            assert_error(&response, "BAD_USER_INPUT", Some("id"));
        }
    }
}

async fn pages_are_newest_first_and_filters_combine(store: Store) {
    let app = spawn_app(store).await;
    let token = app.token(USER);
    let specs = [
        ("a", "TODO", "LOW"),
        ("b", "TODO", "HIGH"),
        ("c", "IN_PROGRESS", "HIGH"),
        ("d", "DONE", "HIGH"),
        ("e", "TODO", "HIGH"),
        ("f", "IN_PROGRESS", "MEDIUM"),
    ];
    for (title, status, priority) in specs {
        app.create_task(
            &token,
            json!({ "title": title, "status": status, "priority": priority }),
        )
        .await;
    }
    let titles = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|item| item["title"].as_str().expect("title").to_owned())
            .collect()
    };

    let all = app.page(&token, USER, "").await;
    assert_eq!(titles(&all), ["f", "e", "d", "c", "b", "a"], "newest first");
    assert_eq!(
        (
            all["totalCount"].clone(),
            all["skip"].clone(),
            all["limit"].clone()
        ),
        (json!(6), json!(0), json!(100))
    );

    let middle = app.page(&token, USER, "(skip: 2, limit: 3)").await;
    assert_eq!(titles(&middle), ["d", "c", "b"]);
    assert_eq!(
        (
            middle["totalCount"].clone(),
            middle["skip"].clone(),
            middle["limit"].clone()
        ),
        (json!(6), json!(2), json!(3))
    );

    let beyond = app.page(&token, USER, "(skip: 10)").await;
    assert_eq!(titles(&beyond), Vec::<String>::new());
    assert_eq!(beyond["totalCount"], 6);

    let todo = app.page(&token, USER, "(filter: { status: TODO })").await;
    assert_eq!(titles(&todo), ["e", "b", "a"]);
    assert_eq!(todo["totalCount"], 3);

    let high = app.page(&token, USER, "(filter: { priority: HIGH })").await;
    assert_eq!(titles(&high), ["e", "d", "c", "b"]);
    assert_eq!(high["totalCount"], 4);

    let both = app
        .page(
            &token,
            USER,
            "(filter: { status: TODO, priority: HIGH }, limit: 1)",
        )
        .await;
    assert_eq!(titles(&both), ["e"]);
    assert_eq!(
        both["totalCount"], 2,
        "the total counts every match, not the page"
    );

    let none = app
        .page(&token, USER, "(filter: { status: DONE, priority: LOW })")
        .await;
    assert_eq!(
        (titles(&none).len(), none["totalCount"].clone()),
        (0, json!(0))
    );

    let explicit_nulls = app
        .page(&token, USER, "(filter: { status: null, priority: null })")
        .await;
    assert_eq!(explicit_nulls["totalCount"], 6);
}

async fn page_bounds_are_enforced(store: Store) {
    let app = spawn_app(store).await;
    let token = app.token(USER);
    app.create_task(&token, json!({ "title": "only" })).await;
    let query = "query($r: [_Any!]!, $skip: Int, $limit: Int) { _entities(representations: $r) { ... on User { tasks(skip: $skip, limit: $limit) { totalCount skip limit } } } }";
    let user = json!([{ "__typename": "User", "id": USER.to_string() }]);
    let ask = async |skip: Value, limit: Value| {
        app.graphql(
            Some(&token),
            query,
            json!({ "r": user, "skip": skip, "limit": limit }),
        )
        .await
    };
    for (skip, limit, field) in [
        (json!(-1), json!(10), "skip"),
        (json!(null), json!(10), "skip"),
        (json!(0), json!(0), "limit"),
        (json!(0), json!(-5), "limit"),
        (json!(0), json!(1001), "limit"),
        (json!(0), json!(1_099_511_627_776_i64), "limit"),
        (json!(0), json!(null), "limit"),
    ] {
        assert_error(
            &ask(skip.clone(), limit.clone()).await,
            "BAD_USER_INPUT",
            Some(field),
        );
    }
    // A variable declared but not sent (Apollo Client leaves out undefined ones) is no
    // value at all: the argument's default applies, as the GraphQL spec says.
    let unsent = app.graphql(Some(&token), query, json!({ "r": user })).await;
    assert!(unsent.get("errors").is_none(), "{unsent}");
    assert_eq!(
        unsent["data"]["_entities"][0]["tasks"],
        json!({ "totalCount": 1, "skip": 0, "limit": 100 })
    );
    let largest = ask(json!(5_000_000_000_i64), json!(1000)).await;
    assert!(largest.get("errors").is_none(), "{largest}");
    assert_eq!(
        largest["data"]["_entities"][0]["tasks"],
        json!({ "totalCount": 1, "skip": 5_000_000_000_i64, "limit": 1000 })
    );
    let smallest = ask(json!(0), json!(1)).await;
    assert_eq!(
        smallest["data"]["_entities"][0]["tasks"],
        json!({ "totalCount": 1, "skip": 0, "limit": 1 })
    );
}

async fn counts_cover_all_tasks(store: Store) {
    let app = spawn_app(store).await;
    let token = app.token(USER);
    assert_eq!(
        app.counts(&token, USER).await,
        json!({ "total": 0, "todo": 0, "inProgress": 0, "done": 0, "completed": 0, "low": 0, "medium": 0, "high": 0 })
    );
    for (status, priority) in [
        ("TODO", "LOW"),
        ("TODO", "HIGH"),
        ("IN_PROGRESS", "HIGH"),
        ("DONE", "MEDIUM"),
        ("DONE", "HIGH"),
    ] {
        app.create_task(
            &token,
            json!({ "title": "t", "status": status, "priority": priority }),
        )
        .await;
    }
    // Completed without being DONE counts as completed but not as done.
    let in_progress = app
        .page(&token, USER, "(filter: { status: IN_PROGRESS })")
        .await["items"][0]["id"]
        .clone();
    app.data(
        &token,
        "mutation($id: ID!) { updateTask(id: $id, input: { isCompleted: true }) { id } }",
        json!({ "id": in_progress }),
    )
    .await;
    // Another user's tasks never count.
    app.create_task(
        &app.token(USER + 1),
        json!({ "title": "other", "status": "DONE" }),
    )
    .await;
    assert_eq!(
        app.counts(&token, USER).await,
        json!({ "total": 5, "todo": 2, "inProgress": 1, "done": 2, "completed": 3, "low": 1, "medium": 1, "high": 3 })
    );
}

async fn unauthenticated_requests_are_refused(store: Store) {
    let app = spawn_app(store).await;
    let token = app.token(USER);
    let task = app.create_task(&token, json!({ "title": "private" })).await;
    let forged = support::forged_token(USER);
    let operations = [
        format!("query {{ task(id: {}) {{ id }} }}", task["id"]),
        "mutation { createTask(input: { title: \"x\" }) { id } }".to_owned(),
        format!(
            "mutation {{ updateTask(id: {}, input: {{ title: \"x\" }}) {{ id }} }}",
            task["id"]
        ),
        format!("mutation {{ deleteTask(id: {}) }}", task["id"]),
        format!("mutation {{ completeTask(id: {}) {{ id }} }}", task["id"]),
        format!("mutation {{ uncompleteTask(id: {}) {{ id }} }}", task["id"]),
        format!(
            "query {{ _entities(representations: [{{ __typename: \"Task\", id: {} }}]) {{ ... on Task {{ id }} }} }}",
            task["id"]
        ),
        format!(
            "query {{ _entities(representations: [{{ __typename: \"User\", id: \"{USER}\" }}]) {{ ... on User {{ taskCounts {{ total }} }} }} }}"
        ),
    ];
    for operation in &operations {
        let anonymous = app.graphql(None, operation, json!({})).await;
        assert_error(&anonymous, "UNAUTHENTICATED", None);
        let forged_response = app.graphql(Some(&forged), operation, json!({})).await;
        assert_error(&forged_response, "UNAUTHENTICATED", None);
        assert_eq!(
            error_message(&forged_response),
            "Could not validate credentials"
        );
        let garbage = app.graphql(Some("not-a-jwt"), operation, json!({})).await;
        assert_error(&garbage, "UNAUTHENTICATED", None);
    }
    assert_eq!(app.task(&token, &task["id"]).await, task, "nothing changed");
    assert_eq!(
        app.counts(&token, USER).await["total"],
        1,
        "nothing was created"
    );
}
