//! The REST contract (shared/contracts/rest-api-v1.md) end to end: every
//! endpoint and every error case, through the REST layer, the router and the
//! three subgraphs on fresh databases — as five real processes, and composed in
//! one process, where every answer must be byte for byte the same.

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::transcript::{Transcript, assert_same};
use support::{Mode, Service, Stack, Store};

/// A response, read whole.
struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    text: String,
    json: Value,
}

impl Reply {
    fn detail(&self) -> &Value {
        &self.json["detail"]
    }

    #[track_caller]
    fn expect(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "unexpected answer: {}", self.text);
        &self.json
    }

    /// An error answer: its status and `{"detail": detail}` exactly.
    #[track_caller]
    fn expect_detail(&self, status: u16, detail: &str) {
        assert_eq!(
            (self.status, &self.json),
            (status, &json!({"detail": detail})),
            "answer: {}",
            self.text
        );
        if status == 401 {
            assert_eq!(
                self.headers.get("www-authenticate").map(|v| v.as_bytes()),
                Some(&b"Bearer"[..])
            );
        }
    }

    /// A 422 whose first issue has this type and location.
    #[track_caller]
    fn expect_invalid(&self, kind: &str, loc: Value) {
        assert_eq!(self.status, 422, "answer: {}", self.text);
        let first = &self.json["detail"][0];
        assert_eq!(
            (&first["type"], &first["loc"]),
            (&json!(kind), &loc),
            "answer: {}",
            self.text
        );
        assert!(first["msg"].is_string(), "answer: {}", self.text);
    }
}

/// A REST client of the stack, keeping a transcript of its exchanges.
struct Rest {
    base: String,
    client: reqwest::Client,
    transcript: Transcript,
}

impl Rest {
    fn new(stack: &Stack) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client");
        Rest {
            base: format!("{}/api/v1", stack.rest_url),
            client,
            transcript: Transcript::default(),
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let request = request.build().expect("a valid request");
        let sent = format!(
            "{} {} {}",
            request.method(),
            request.url().path(),
            request
                .body()
                .and_then(reqwest::Body::as_bytes)
                .map(String::from_utf8_lossy)
                .unwrap_or_default()
        );
        let response = self
            .client
            .execute(request)
            .await
            .expect("the REST layer answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        self.transcript.record(&sent, status, content_type, &text);
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::Null)
        };
        Reply {
            status,
            headers,
            text,
            json,
        }
    }

    fn request(&self, method: Method, path: &str, token: Option<&str>) -> reqwest::RequestBuilder {
        let request = self.client.request(method, format!("{}{path}", self.base));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let request = self.request(method, path, token);
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        self.send(request).await
    }

    async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    async fn register(&self, username: &str) -> Value {
        let body = json!({"email": format!("{username}@example.com"), "username": username, "password": "secret-123"});
        self.call(Method::POST, "/auth/register", None, Some(body))
            .await
            .expect(201)
            .clone()
    }

    async fn login(&self, username: &str) -> String {
        let body = json!({"username": username, "password": "secret-123"});
        let reply = self
            .call(Method::POST, "/auth/login", None, Some(body))
            .await;
        reply.expect(200)["access_token"]
            .as_str()
            .expect("a token")
            .to_owned()
    }

    /// A new user and a token of theirs.
    async fn user(&self, username: &str) -> (Value, String) {
        let user = self.register(username).await;
        (user, self.login(username).await)
    }

    async fn create(&self, token: &str, body: Value) -> Value {
        self.call(Method::POST, "/tasks/", Some(token), Some(body))
            .await
            .expect(201)
            .clone()
    }
}

const TASK_KEYS: [&str; 10] = [
    "title",
    "description",
    "status",
    "priority",
    "due_date",
    "id",
    "is_completed",
    "owner_id",
    "created_at",
    "updated_at",
];
const USER_KEYS: [&str; 8] = [
    "email",
    "username",
    "full_name",
    "id",
    "is_active",
    "is_superuser",
    "created_at",
    "updated_at",
];

#[track_caller]
fn assert_keys(object: &Value, keys: &[&str]) {
    let mut found: Vec<&str> = object
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = keys.to_vec();
    found.sort_unstable();
    expected.sort_unstable();
    assert_eq!(found, expected, "{object}");
}

/// `2025-11-15T18:20:31.123456Z`: UTC, `Z`, microseconds.
#[track_caller]
fn assert_timestamp(value: &Value) {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("timestamp expected, got {value}"));
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 27
        && bytes[10] == b'T'
        && bytes[19] == b'.'
        && bytes[26] == b'Z'
        && text[20..26].bytes().all(|b| b.is_ascii_digit());
    assert!(shape_ok, "not a microsecond UTC timestamp: {text}");
}

/// The claims of a JWT, decoded without verifying (the test only reads them).
fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("three parts");
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits: u32 = 0;
    let mut count = 0;
    let mut bytes = Vec::new();
    for c in payload.bytes().filter(|c| *c != b'=') {
        let value = alphabet.iter().position(|a| *a == c).expect("base64url") as u32;
        bits = (bits << 6) | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            bytes.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    serde_json::from_slice(&bytes).expect("JSON claims")
}

/// Every part of the contract, in order, on one stack; returns the exchanges.
async fn contract_holds(store: Store, mode: Mode) -> Vec<String> {
    let stack = Stack::start_in(mode, store).await;
    let rest = Rest::new(&stack);
    authentication(&rest).await;
    inactive_and_vanished_users(&rest, &stack).await;
    creating_and_reading_tasks(&rest).await;
    listing_tasks(&rest).await;
    updating_tasks(&rest).await;
    completing_and_deleting_tasks(&rest).await;
    statistics(&rest).await;
    bad_input_writes_nothing(&rest).await;
    routing(&rest, &stack).await;
    stack.shutdown().await;
    rest.transcript.entries()
}

#[tokio::test]
async fn rest_contract_holds_on_postgres() {
    contract_holds(Store::Postgres, Mode::Processes).await;
}

#[tokio::test]
async fn rest_contract_holds_on_postgres_in_one_process() {
    contract_holds(Store::Postgres, Mode::OneProcess).await;
}

/// On SQLite the suite runs in both modes, and every exchange is compared.
#[tokio::test]
async fn rest_contract_holds_on_sqlite_alike_in_both_modes() {
    let processes = contract_holds(Store::Sqlite, Mode::Processes).await;
    let one_process = contract_holds(Store::Sqlite, Mode::OneProcess).await;
    assert_same(&processes, &one_process);
}

async fn authentication(rest: &Rest) {
    // Register: 201 with the user, never a password.
    let body = json!({"email": "ann@example.com", "username": "ann", "password": "secret-123"});
    let reply = rest
        .call(Method::POST, "/auth/register", None, Some(body.clone()))
        .await;
    let ann = reply.expect(201).clone();
    assert_keys(&ann, &USER_KEYS);
    assert_eq!(
        (&ann["email"], &ann["username"], &ann["full_name"]),
        (&json!("ann@example.com"), &json!("ann"), &Value::Null)
    );
    assert_eq!(
        (&ann["is_active"], &ann["is_superuser"]),
        (&json!(true), &json!(false))
    );
    assert!(ann["id"].is_i64());
    assert_timestamp(&ann["created_at"]);
    assert_timestamp(&ann["updated_at"]);
    assert!(!reply.text.contains("password"), "{}", reply.text);

    // An empty full name is kept as given; trailing slash answers directly.
    let body = json!({"email": "bea@example.com", "username": "bea", "password": "secret-123", "full_name": ""});
    let bea = rest
        .call(Method::POST, "/auth/register/", None, Some(body))
        .await
        .expect(201)
        .clone();
    assert_eq!(bea["full_name"], "");

    // Taken username or e-mail.
    rest.call(
        Method::POST,
        "/auth/register",
        None,
        Some(body_of("ann", "other@example.com")),
    )
    .await
    .expect_detail(400, "Username or email already registered");
    rest.call(
        Method::POST,
        "/auth/register",
        None,
        Some(body_of("ann2", "ann@example.com")),
    )
    .await
    .expect_detail(400, "Username or email already registered");

    // Field rules.
    rest.call(
        Method::POST,
        "/auth/register",
        None,
        Some(json!({"email": "x@example.com", "username": "ab", "password": "secret-123"})),
    )
    .await
    .expect_invalid("string_too_short", json!(["body", "username"]));
    rest.call(
        Method::POST,
        "/auth/register",
        None,
        Some(json!({"email": "x@example.com", "username": "abc", "password": "12345"})),
    )
    .await
    .expect_invalid("string_too_short", json!(["body", "password"]));
    rest.call(
        Method::POST,
        "/auth/register",
        None,
        Some(json!({"email": "nope", "username": "abc", "password": "secret-123"})),
    )
    .await
    .expect_invalid("value_error", json!(["body", "email"]));
    rest.call(
        Method::POST,
        "/auth/register",
        None,
        Some(json!({"username": "abc", "password": "secret-123"})),
    )
    .await
    .expect_invalid("missing", json!(["body", "email"]));

    // Login with JSON and with the OAuth2 form.
    let reply = rest
        .call(
            Method::POST,
            "/auth/login",
            None,
            Some(json!({"username": "ann", "password": "secret-123"})),
        )
        .await;
    let token = reply.expect(200);
    assert_keys(token, &["access_token", "token_type"]);
    assert_eq!(token["token_type"], "bearer");
    let claims = jwt_claims(token["access_token"].as_str().expect("token"));
    assert_eq!(claims["sub"], json!(ann["id"].to_string()));
    let lifetime = claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat");
    assert_eq!(lifetime, 30 * 60, "default lifetime is 30 minutes");
    let form = rest
        .request(Method::POST, "/auth/login/", None)
        .form(&[("username", "ann"), ("password", "secret-123")]);
    let ann_token = rest.send(form).await.expect(200)["access_token"]
        .as_str()
        .expect("token")
        .to_owned();

    // Wrong password, unknown user.
    for (username, password) in [("ann", "wrong-pass"), ("nobody", "secret-123")] {
        rest.call(
            Method::POST,
            "/auth/login",
            None,
            Some(json!({"username": username, "password": password})),
        )
        .await
        .expect_detail(401, "Incorrect username or password");
    }
    rest.call(
        Method::POST,
        "/auth/login",
        None,
        Some(json!({"username": "ann"})),
    )
    .await
    .expect_invalid("missing", json!(["body", "password"]));

    // Me.
    let me = rest.get("/auth/me", &ann_token).await;
    assert_eq!(me.expect(200), &ann);
    rest.call(Method::GET, "/auth/me", None, None)
        .await
        .expect_detail(401, "Not authenticated");
    rest.get("/auth/me", "not-a-token")
        .await
        .expect_detail(401, "Could not validate credentials");
    let forged = format!("{}x", &ann_token[..ann_token.len() - 1]);
    rest.get("/auth/me/", &forged)
        .await
        .expect_detail(401, "Could not validate credentials");
}

fn body_of(username: &str, email: &str) -> Value {
    json!({"email": email, "username": username, "password": "secret-123"})
}

async fn inactive_and_vanished_users(rest: &Rest, stack: &Stack) {
    // Fresh tokens, never used before the account changes, so no cached account status applies.
    let (_, inactive) = rest.user("ina").await;
    support::deactivate_user(stack, "ina").await;
    for (method, path, body) in authenticated_routes() {
        rest.call(method.clone(), path, Some(&inactive), body)
            .await
            .expect_detail(403, "Inactive user");
    }
    // As in FastAPI, the account is judged before the request's parameters.
    for (method, path, body) in invalid_requests() {
        rest.call(method.clone(), path, Some(&inactive), body.clone())
            .await
            .expect_detail(403, "Inactive user");
        rest.call(method.clone(), path, Some("not-a-token"), body)
            .await
            .expect_detail(401, "Could not validate credentials");
    }
    rest.call(
        Method::POST,
        "/auth/login",
        None,
        Some(json!({"username": "ina", "password": "secret-123"})),
    )
    .await
    .expect_detail(401, "Incorrect username or password");

    let (_, vanished) = rest.user("gone").await;
    support::delete_user(stack, "gone").await;
    for (method, path, body) in authenticated_routes() {
        rest.call(method.clone(), path, Some(&vanished), body)
            .await
            .expect_detail(401, "Could not validate credentials");
    }
    for (method, path, body) in invalid_requests() {
        rest.call(method.clone(), path, Some(&vanished), body)
            .await
            .expect_detail(401, "Could not validate credentials");
    }
    for (method, path, body) in authenticated_routes() {
        rest.call(method.clone(), path, None, body)
            .await
            .expect_detail(401, "Not authenticated");
    }
    // A good account gets the validation errors themselves.
    let (_, active) = rest.user("val").await;
    for (method, path, body) in invalid_requests() {
        let reply = rest.call(method.clone(), path, Some(&active), body).await;
        assert_eq!(reply.status, 422, "{method} {path}: {}", reply.text);
    }
}

/// One invalid request (path, query or body) to each endpoint that validates.
fn invalid_requests() -> Vec<(Method, &'static str, Option<Value>)> {
    vec![
        (Method::GET, "/tasks/?limit=0", None),
        (Method::POST, "/tasks/", Some(json!({"title": ""}))),
        (Method::GET, "/tasks/abc", None),
        (Method::PUT, "/tasks/1", Some(json!({"title": null}))),
        (Method::PUT, "/tasks/x", Some(json!({"title": "t"}))),
        (Method::DELETE, "/tasks/abc", None),
        (Method::PATCH, "/tasks/abc/complete", None),
        (Method::PATCH, "/tasks/abc/incomplete", None),
    ]
}

/// One valid request to every authenticated endpoint.
fn authenticated_routes() -> Vec<(Method, &'static str, Option<Value>)> {
    vec![
        (Method::GET, "/auth/me", None),
        (Method::GET, "/tasks/", None),
        (Method::POST, "/tasks/", Some(json!({"title": "t"}))),
        (Method::GET, "/tasks/stats", None),
        (Method::GET, "/tasks/1", None),
        (Method::PUT, "/tasks/1", Some(json!({"title": "t"}))),
        (Method::DELETE, "/tasks/1", None),
        (Method::PATCH, "/tasks/1/complete", None),
        (Method::PATCH, "/tasks/1/incomplete", None),
        (Method::GET, "/stats/", None),
    ]
}

async fn creating_and_reading_tasks(rest: &Rest) {
    let (carl, token) = rest.user("carl").await;
    let (_, other) = rest.user("cora").await;

    let task = rest.create(&token, json!({"title": "minimal"})).await;
    assert_keys(&task, &TASK_KEYS);
    assert_eq!(
        (
            &task["title"],
            &task["description"],
            &task["status"],
            &task["priority"],
            &task["due_date"],
            &task["is_completed"]
        ),
        (
            &json!("minimal"),
            &Value::Null,
            &json!("todo"),
            &json!("medium"),
            &Value::Null,
            &json!(false)
        )
    );
    assert_eq!(task["owner_id"], carl["id"]);
    assert_timestamp(&task["created_at"]);
    assert_timestamp(&task["updated_at"]);

    // Enums in any case, stored lower-case; offsets converted to UTC; unknown fields ignored.
    let body = json!({"title": "full", "description": "", "status": "IN_PROGRESS", "priority": "High",
        "due_date": "2030-01-02T03:04:05+02:00", "is_completed": true, "owner_id": 999, "color": "red"});
    let full = rest.create(&token, body).await;
    assert_eq!(
        (
            &full["description"],
            &full["status"],
            &full["priority"],
            &full["due_date"],
            &full["is_completed"],
            &full["owner_id"]
        ),
        (
            &json!(""),
            &json!("in_progress"),
            &json!("high"),
            &json!("2030-01-02T01:04:05.000000Z"),
            &json!(false),
            &carl["id"]
        )
    );
    let done = rest
        .create(&token, json!({"title": "done already", "status": "done"}))
        .await;
    assert_eq!(done["is_completed"], true);

    // Text is kept byte for byte.
    let text = "Robert'); DROP TABLE tasks;-- <script>alert(\"x\")</script> żółw 🐢\ttab\nline \\ %s {{ }}";
    let odd = rest
        .create(&token, json!({"title": text, "description": text}))
        .await;
    assert_eq!(
        (&odd["title"], &odd["description"]),
        (&json!(text), &json!(text))
    );
    let title_255 = "é".repeat(255);
    assert_eq!(
        rest.create(&token, json!({"title": title_255})).await["title"],
        json!(title_255)
    );

    // Read: own task, with and without slash; another user's and missing ones look the same.
    let path = format!("/tasks/{}", odd["id"]);
    assert_eq!(rest.get(&path, &token).await.expect(200), &odd);
    assert_eq!(
        rest.get(&format!("{path}/"), &token).await.expect(200),
        &odd
    );
    rest.get(&path, &other)
        .await
        .expect_detail(404, "Task not found");
    rest.get("/tasks/999999999", &token)
        .await
        .expect_detail(404, "Task not found");
    rest.get("/tasks/99999999999999999999", &token)
        .await
        .expect_detail(404, "Task not found");
    rest.get("/tasks/-1", &token)
        .await
        .expect_detail(404, "Task not found");
    rest.get("/tasks/abc", &token)
        .await
        .expect_invalid("int_parsing", json!(["path", "task_id"]));

    // Creation refusals.
    let cases = [
        (json!({}), "missing", "title"),
        (json!({"title": ""}), "string_too_short", "title"),
        (
            json!({"title": "x".repeat(256)}),
            "string_too_long",
            "title",
        ),
        (json!({"title": 5}), "string_type", "title"),
        (json!({"title": "t", "status": "blocked"}), "enum", "status"),
        (
            json!({"title": "t", "priority": "urgent"}),
            "enum",
            "priority",
        ),
        (
            json!({"title": "t", "due_date": "someday"}),
            "datetime_parsing",
            "due_date",
        ),
    ];
    for (body, kind, field) in cases {
        rest.call(Method::POST, "/tasks/", Some(&token), Some(body))
            .await
            .expect_invalid(kind, json!(["body", field]));
    }
    let raw = rest
        .request(Method::POST, "/tasks/", Some(&token))
        .header("content-type", "application/json")
        .body("{\"title\": \"x\",}");
    rest.send(raw)
        .await
        .expect_invalid("json_invalid", json!(["body", 14]));
}

async fn listing_tasks(rest: &Rest) {
    let (_, token) = rest.user("dan").await;
    let (_, other) = rest.user("dora").await;
    rest.create(&other, json!({"title": "not dan's"})).await;
    let specs = [
        ("todo", "low"),
        ("todo", "high"),
        ("in_progress", "high"),
        ("done", "high"),
        ("done", "low"),
    ];
    let mut ids = Vec::new();
    for (index, (status, priority)) in specs.iter().enumerate() {
        let task = rest
            .create(
                &token,
                json!({"title": format!("task {index}"), "status": status, "priority": priority}),
            )
            .await;
        ids.push(task["id"].clone());
    }
    let newest_first: Vec<Value> = ids.iter().rev().cloned().collect();

    let list = rest.get("/tasks/", &token).await;
    let list = list.expect(200);
    assert_keys(list, &["tasks", "total", "skip", "limit"]);
    assert_eq!(
        (&list["total"], &list["skip"], &list["limit"]),
        (&json!(5), &json!(0), &json!(100))
    );
    let listed: Vec<Value> = list["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .map(|task| task["id"].clone())
        .collect();
    assert_eq!(listed, newest_first, "newest first, own tasks only");
    list["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .for_each(|task| assert_keys(task, &TASK_KEYS));

    // Without the trailing slash too; paging echoes skip and limit and keeps the full total.
    let page = rest.get("/tasks?skip=1&limit=2", &token).await;
    let page = page.expect(200);
    assert_eq!(
        (&page["total"], &page["skip"], &page["limit"]),
        (&json!(5), &json!(1), &json!(2))
    );
    let listed: Vec<Value> = page["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .map(|task| task["id"].clone())
        .collect();
    assert_eq!(listed, newest_first[1..3]);
    let beyond = rest.get("/tasks/?skip=50", &token).await;
    assert_eq!(
        (&beyond.expect(200)["tasks"], &beyond.json["total"]),
        (&json!([]), &json!(5))
    );

    // Filters combine, in any case, and the total counts what matches.
    let filtered = rest.get("/tasks/?status=done&priority=high", &token).await;
    let filtered = filtered.expect(200);
    assert_eq!(filtered["total"], 1);
    assert_eq!(filtered["tasks"][0]["id"], ids[3]);
    let high = rest.get("/tasks/?priority=high", &token).await;
    assert_eq!(high.expect(200)["total"], 3);
    let todo = rest.get("/tasks/?status=todo", &token).await;
    assert_eq!(todo.expect(200)["total"], 2);

    // Query bounds.
    for (query, kind, name) in [
        ("skip=-1", "greater_than_equal", "skip"),
        ("limit=0", "greater_than_equal", "limit"),
        ("limit=1001", "less_than_equal", "limit"),
        ("limit=ten", "int_parsing", "limit"),
        ("status=later", "enum", "status"),
        ("priority=urgent", "enum", "priority"),
    ] {
        rest.get(&format!("/tasks/?{query}"), &token)
            .await
            .expect_invalid(kind, json!(["query", name]));
    }
    assert_eq!(
        rest.get("/tasks/?limit=1000", &token).await.expect(200)["limit"],
        1000
    );
}

async fn updating_tasks(rest: &Rest) {
    let (_, token) = rest.user("eve").await;
    let (_, other) = rest.user("ezra").await;
    let task = rest
        .create(&token, json!({"title": "before", "description": "words", "priority": "low", "due_date": "2031-05-06T07:08:09Z"}))
        .await;
    let path = format!("/tasks/{}", task["id"]);
    let put = |body: Value| rest.call(Method::PUT, &path, Some(&token), Some(body));

    // Only the fields present change; updated_at moves.
    let renamed = put(json!({"title": "after"})).await.expect(200).clone();
    assert_eq!(
        (
            &renamed["title"],
            &renamed["description"],
            &renamed["priority"]
        ),
        (&json!("after"), &json!("words"), &json!("low"))
    );
    assert_eq!(
        (&renamed["due_date"], &renamed["created_at"]),
        (&task["due_date"], &task["created_at"])
    );
    assert!(
        renamed["updated_at"].as_str() > task["updated_at"].as_str(),
        "updated_at moves: {renamed}"
    );

    // A status decides is_completed, overriding an is_completed beside it.
    let done = put(json!({"status": "Done"})).await.expect(200).clone();
    assert_eq!(
        (&done["status"], &done["is_completed"]),
        (&json!("done"), &json!(true))
    );
    let reopened = put(json!({"status": "todo", "is_completed": true}))
        .await
        .expect(200)
        .clone();
    assert_eq!(
        (&reopened["status"], &reopened["is_completed"]),
        (&json!("todo"), &json!(false))
    );
    // is_completed alone changes only the flag.
    let flagged = put(json!({"is_completed": true})).await.expect(200).clone();
    assert_eq!(
        (&flagged["status"], &flagged["is_completed"]),
        (&json!("todo"), &json!(true))
    );

    // null clears description and due_date; it is refused for the rest.
    let cleared = put(json!({"description": null, "due_date": null}))
        .await
        .expect(200)
        .clone();
    assert_eq!(
        (
            &cleared["description"],
            &cleared["due_date"],
            &cleared["title"]
        ),
        (&Value::Null, &Value::Null, &json!("after"))
    );
    for (field, kind) in [
        ("title", "string_type"),
        // pydantic 2.5 checks a `str` enum's type first: null is `string_type`.
        ("status", "string_type"),
        ("priority", "string_type"),
        ("is_completed", "bool_type"),
    ] {
        put(json!({field: null}))
            .await
            .expect_invalid(kind, json!(["body", field]));
    }
    put(json!({"title": ""}))
        .await
        .expect_invalid("string_too_short", json!(["body", "title"]));
    // Nothing of the refused updates was written.
    assert_eq!(rest.get(&path, &token).await.expect(200), &cleared);

    // An empty update and unknown fields change nothing but are fine.
    let same = put(json!({"colour": "blue"})).await.expect(200).clone();
    assert_eq!(
        (&same["title"], &same["status"]),
        (&json!("after"), &json!("todo"))
    );

    // Another user's task and a missing one: 404; a non-integer id: 422.
    rest.call(
        Method::PUT,
        &path,
        Some(&other),
        Some(json!({"title": "mine now"})),
    )
    .await
    .expect_detail(404, "Task not found");
    rest.call(
        Method::PUT,
        "/tasks/999999999/",
        Some(&token),
        Some(json!({"title": "x"})),
    )
    .await
    .expect_detail(404, "Task not found");
    rest.call(
        Method::PUT,
        "/tasks/x1",
        Some(&token),
        Some(json!({"title": "x"})),
    )
    .await
    .expect_invalid("int_parsing", json!(["path", "task_id"]));
    assert_eq!(rest.get(&path, &token).await.expect(200)["title"], "after");
}

async fn completing_and_deleting_tasks(rest: &Rest) {
    let (_, token) = rest.user("fay").await;
    let (_, other) = rest.user("finn").await;
    let task = rest
        .create(&token, json!({"title": "chore", "status": "in_progress"}))
        .await;
    let path = format!("/tasks/{}", task["id"]);

    let completed = rest
        .call(
            Method::PATCH,
            &format!("{path}/complete"),
            Some(&token),
            None,
        )
        .await
        .expect(200)
        .clone();
    assert_eq!(
        (&completed["status"], &completed["is_completed"]),
        (&json!("done"), &json!(true))
    );
    let undone = rest
        .call(
            Method::PATCH,
            &format!("{path}/incomplete/"),
            Some(&token),
            None,
        )
        .await
        .expect(200)
        .clone();
    assert_eq!(
        (&undone["status"], &undone["is_completed"]),
        (&json!("todo"), &json!(false))
    );

    // /incomplete leaves a status other than done alone.
    rest.call(
        Method::PUT,
        &path,
        Some(&token),
        Some(json!({"status": "in_progress"})),
    )
    .await
    .expect(200);
    rest.call(
        Method::PUT,
        &path,
        Some(&token),
        Some(json!({"is_completed": true})),
    )
    .await
    .expect(200);
    let undone = rest
        .call(
            Method::PATCH,
            &format!("{path}/incomplete"),
            Some(&token),
            None,
        )
        .await
        .expect(200)
        .clone();
    assert_eq!(
        (&undone["status"], &undone["is_completed"]),
        (&json!("in_progress"), &json!(false))
    );

    for action in ["complete", "incomplete"] {
        rest.call(
            Method::PATCH,
            &format!("{path}/{action}"),
            Some(&other),
            None,
        )
        .await
        .expect_detail(404, "Task not found");
        rest.call(
            Method::PATCH,
            &format!("/tasks/999999999/{action}"),
            Some(&token),
            None,
        )
        .await
        .expect_detail(404, "Task not found");
    }

    // Delete: another user's is 404 and stays; the owner's is 204 with no body, then gone.
    rest.call(Method::DELETE, &path, Some(&other), None)
        .await
        .expect_detail(404, "Task not found");
    rest.get(&path, &token).await.expect(200);
    let deleted = rest.call(Method::DELETE, &path, Some(&token), None).await;
    assert_eq!((deleted.status, deleted.text.as_str()), (204, ""));
    rest.get(&path, &token)
        .await
        .expect_detail(404, "Task not found");
    rest.call(Method::DELETE, &format!("{path}/"), Some(&token), None)
        .await
        .expect_detail(404, "Task not found");
    rest.call(Method::DELETE, "/tasks/abc", Some(&token), None)
        .await
        .expect_invalid("int_parsing", json!(["path", "task_id"]));
}

async fn statistics(rest: &Rest) {
    let (_, token) = rest.user("gus").await;
    let empty = rest.get("/stats/", &token).await;
    assert_eq!(
        empty.expect(200),
        &json!({"total_tasks": 0, "completed_tasks": 0, "completed_percentage": 0.0})
    );
    assert!(
        empty.text.contains("\"completed_percentage\":0.0"),
        "a JSON float: {}",
        empty.text
    );
    let counts = rest.get("/tasks/stats", &token).await;
    assert_eq!(
        counts.expect(200),
        &json!({"total": 0, "todo": 0, "in_progress": 0, "done": 0, "completed": 0,
                "high_priority": 0, "medium_priority": 0, "low_priority": 0})
    );

    // 1 of 3 → 33.33.
    rest.create(
        &token,
        json!({"title": "a", "status": "done", "priority": "high"}),
    )
    .await;
    rest.create(
        &token,
        json!({"title": "b", "status": "in_progress", "priority": "high"}),
    )
    .await;
    let flagged = rest
        .create(&token, json!({"title": "c", "priority": "low"}))
        .await;
    let stats = rest.get("/stats", &token).await;
    assert_eq!(
        stats.expect(200),
        &json!({"total_tasks": 3, "completed_tasks": 1, "completed_percentage": 33.33})
    );
    // `completed` counts is_completed, whatever the status.
    rest.call(
        Method::PUT,
        &format!("/tasks/{}", flagged["id"]),
        Some(&token),
        Some(json!({"is_completed": true})),
    )
    .await
    .expect(200);
    let counts = rest.get("/tasks/stats/", &token).await;
    assert_eq!(
        counts.expect(200),
        &json!({"total": 3, "todo": 1, "in_progress": 1, "done": 1, "completed": 2,
                "high_priority": 2, "medium_priority": 0, "low_priority": 1})
    );

    // 3 of 10 → 30.0, written as a float.
    let (_, token) = rest.user("gwen").await;
    for index in 0..10 {
        let status = if index < 3 { "done" } else { "todo" };
        rest.create(
            &token,
            json!({"title": format!("t{index}"), "status": status}),
        )
        .await;
    }
    let stats = rest.get("/stats/", &token).await;
    assert_eq!(
        stats.expect(200),
        &json!({"total_tasks": 10, "completed_tasks": 3, "completed_percentage": 30.0})
    );
    assert!(
        stats.text.contains("\"completed_percentage\":30.0"),
        "a JSON float: {}",
        stats.text
    );
}

async fn bad_input_writes_nothing(rest: &Rest) {
    let (_, token) = rest.user("hal").await;
    let bodies = [
        "{\"title\": \"x\"",
        "[\"title\"]",
        "\"title\"",
        "null",
        "{\"title\": null}",
        "{\"title\": \"\\u0000\"}",
        "{\"title\": \"t\", \"status\": \"done; DROP TABLE tasks\"}",
    ];
    for body in bodies {
        let request = rest
            .request(Method::POST, "/tasks/", Some(&token))
            .header("content-type", "application/json")
            .body(body);
        let reply = rest.send(request).await;
        assert_eq!(reply.status, 422, "{body} → {}", reply.text);
    }
    let text = rest
        .request(Method::POST, "/tasks/", Some(&token))
        .header("content-type", "text/plain")
        .body("{\"title\": \"t\"}");
    rest.send(text)
        .await
        .expect_invalid("model_attributes_type", json!(["body"]));
    let huge = json!({"title": "t", "description": "x".repeat(3 * 1024 * 1024)});
    let reply = rest
        .call(Method::POST, "/tasks/", Some(&token), Some(huge))
        .await;
    assert_eq!(reply.status, 413, "{}", reply.text);
    assert!(reply.detail().is_string());
    let list = rest.get("/tasks/", &token).await;
    assert_eq!(list.expect(200)["total"], 0, "nothing was written");
}

async fn routing(rest: &Rest, stack: &Stack) {
    let (_, token) = rest.user("ida").await;
    rest.get("/nothing-here", &token)
        .await
        .expect_detail(404, "Not Found");
    rest.call(Method::DELETE, "/tasks/", Some(&token), None)
        .await
        .expect_detail(405, "Method Not Allowed");
    rest.call(Method::GET, "/auth/login", None, None)
        .await
        .expect_detail(405, "Method Not Allowed");
    // Both spellings answer directly, never with a redirect.
    for path in [
        "/tasks",
        "/tasks/",
        "/stats",
        "/stats/",
        "/tasks/stats",
        "/tasks/stats/",
        "/auth/me",
        "/auth/me/",
    ] {
        assert_eq!(rest.get(path, &token).await.status, 200, "{path}");
    }
    let health = rest
        .send(rest.client.get(format!("{}/health", stack.rest_url)))
        .await;
    assert_eq!(
        health.expect(200),
        &json!({"status": "healthy", "service": "rest-compat"})
    );
    let root = rest
        .send(rest.client.get(format!("{}/", stack.rest_url)))
        .await;
    assert_eq!(root.expect(200)["status"], "running");
    let openapi = rest
        .send(rest.client.get(format!("{}/openapi.json", stack.rest_url)))
        .await;
    assert!(openapi.expect(200)["paths"]["/api/v1/tasks/{task_id}"]["put"].is_object());
}

#[tokio::test]
async fn unavailable_parts_are_503_never_made_up_numbers() {
    let mut stack = Stack::start(Store::Postgres).await;
    let rest = Rest::new(&stack);
    let (_, token) = rest.user("joan").await;
    let task = rest
        .create(&token, json!({"title": "kept", "status": "done"}))
        .await;
    assert_eq!(
        rest.get("/stats/", &token).await.expect(200)["completed_tasks"],
        1
    );

    stack.stop(Service::Stats).await;
    rest.get("/stats/", &token)
        .await
        .expect_detail(503, "Service unavailable: stats");
    // What does not need the stats subgraph still works.
    assert_eq!(
        rest.get("/tasks/stats", &token).await.expect(200)["completed"],
        1
    );
    assert_eq!(
        rest.get(&format!("/tasks/{}", task["id"]), &token)
            .await
            .expect(200)["title"],
        "kept"
    );

    stack.stop(Service::Tasks).await;
    rest.get("/tasks/", &token)
        .await
        .expect_detail(503, "Service unavailable: tasks");
    rest.call(
        Method::POST,
        "/tasks/",
        Some(&token),
        Some(json!({"title": "lost"})),
    )
    .await
    .expect_detail(503, "Service unavailable: tasks");
    rest.get("/tasks/stats", &token)
        .await
        .expect_detail(503, "Service unavailable: tasks");
    assert_eq!(
        rest.get("/auth/me", &token).await.expect(200)["username"],
        "joan"
    );

    stack.stop(Service::Users).await;
    rest.get("/auth/me", &token)
        .await
        .expect_detail(503, "Service unavailable: users");
    rest.call(
        Method::POST,
        "/auth/login",
        None,
        Some(json!({"username": "joan", "password": "secret-123"})),
    )
    .await
    .expect_detail(503, "Service unavailable: users");

    stack.stop(Service::Router).await;
    rest.get("/tasks/", &token)
        .await
        .expect_detail(503, "Service unavailable: router");
    rest.call(
        Method::POST,
        "/auth/register",
        None,
        Some(body_of("kim", "kim@example.com")),
    )
    .await
    .expect_detail(503, "Service unavailable: router");
    stack.shutdown().await;
}
