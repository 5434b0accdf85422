//! REST fidelity (issue 14): the original system's answers, written down as a
//! table (`rest_fidelity_cases.json`: request → status, body, headers), replayed
//! against the whole stack (five processes) on PostgreSQL and on SQLite, and in
//! one process (on SQLite). Ids,
//! timestamps and tokens are normalised; everything else — field order
//! included — must be identical.

mod support;

use reqwest::Method;
use serde_json::{Map, Value, json};
use support::{Mode, Stack, Store};

const CASES: &str = include_str!("rest_fidelity_cases.json");
const PASSWORD: &str = "fid-secret-1";

/// `id`, `owner_id`, timestamps and tokens stand for "any value of that kind".
fn normalise(value: &Value) -> Value {
    match value {
        Value::Object(object) => Value::Object(
            object
                .iter()
                .map(|(key, value)| {
                    let replaced = match key.as_str() {
                        "id" | "owner_id" if value.is_number() => json!("<id>"),
                        "created_at" | "updated_at" if value.is_string() => json!("<timestamp>"),
                        "access_token" if value.is_string() => json!("<token>"),
                        _ => normalise(value),
                    };
                    (key.clone(), replaced)
                })
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(normalise).collect()),
        other => other.clone(),
    }
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&hex[at..at + 2], 16).expect("hex in the table"))
        .collect()
}

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    fn request(&self, case: &Value, method: &str, path: &str) -> reqwest::RequestBuilder {
        let method = Method::from_bytes(method.as_bytes()).expect("a method");
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        match case["auth"].as_str() {
            Some("token") => request = request.bearer_auth(&self.token),
            Some("double_space") => {
                request = request.header("authorization", format!("Bearer  {}", self.token))
            }
            _ => {}
        }
        if let Some(headers) = case["headers"].as_object() {
            for (name, value) in headers {
                request = request.header(name, value.as_str().expect("header text"));
            }
        }
        if let Some(text) = case["body_text"].as_str() {
            request = request
                .header("content-type", "application/json")
                .body(text.to_owned());
        } else if let Some(hex) = case["body_hex"].as_str() {
            request = request
                .header("content-type", "application/json")
                .body(hex_bytes(hex));
        } else if case.get("body").is_some() {
            request = request.json(&case["body"]);
        }
        request
    }

    async fn json(&self, request: reqwest::RequestBuilder) -> Value {
        let response = request.send().await.expect("the REST layer answers");
        response.json().await.expect("a JSON answer")
    }

    async fn fresh_task(&self) -> (String, Value) {
        let created = self
            .json(
                self.http
                    .post(format!("{}/api/v1/tasks/", self.base))
                    .bearer_auth(&self.token)
                    .json(&json!({"title": "t"})),
            )
            .await;
        let id = created["id"].to_string();
        (id, created)
    }

    async fn read_task(&self, id: &str) -> Value {
        self.json(
            self.http
                .get(format!("{}/api/v1/tasks/{id}", self.base))
                .bearer_auth(&self.token),
        )
        .await
    }
}

/// Runs one case; the differences it finds.
async fn run_case(client: &Client, case: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let mut path = case["path"].as_str().expect("a path").to_owned();
    let mut before = None;
    if case["fresh_task"].as_bool() == Some(true) {
        let (id, _) = client.fresh_task().await;
        path = path.replace("{task}", &id);
        if let Some(steps) = case["prepare"].as_array() {
            for step in steps {
                let step_path = step["path"].as_str().expect("path").replace("{task}", &id);
                let response = client
                    .request(
                        &json!({"auth": "token"}),
                        step["method"].as_str().expect("method"),
                        &step_path,
                    )
                    .send()
                    .await
                    .expect("a prepared step answers");
                assert!(response.status().is_success(), "prepare step of {case}");
            }
        }
        before = Some(client.read_task(&id).await);
    }
    let method = case["method"].as_str().expect("a method");
    let response = client
        .request(case, method, &path)
        .send()
        .await
        .expect("the REST layer answers");
    let expect = &case["expect"];
    let status = response.status().as_u16();
    if Some(u64::from(status)) != expect["status"].as_u64() {
        problems.push(format!("status {status}, expected {}", expect["status"]));
    }
    if let Some(headers) = expect["headers"].as_object() {
        for (name, value) in headers {
            let got = response.headers().get(name).and_then(|v| v.to_str().ok());
            if got != value.as_str() {
                problems.push(format!("header {name}: {got:?}, expected {value}"));
            }
        }
    }
    let text = response.text().await.expect("a body");
    if let Some(expected_text) = expect["text"].as_str()
        && text != expected_text
    {
        problems.push(format!("body {text:?}, expected {expected_text:?}"));
    }
    if let Some(expected) = expect.get("body") {
        match serde_json::from_str::<Value>(&text) {
            // Serialised with key order kept, so field order is compared too.
            Ok(actual) => {
                let (actual, expected) = (
                    serde_json::to_string(&normalise(&actual)).expect("json"),
                    serde_json::to_string(expected).expect("json"),
                );
                if actual != expected {
                    problems.push(format!("body\n   got {actual}\n  want {expected}"));
                }
            }
            Err(_) => problems.push(format!("not JSON: {text:?}")),
        }
    }
    if let Some(before) = before {
        let after: Value = serde_json::from_str(&text).unwrap_or_default();
        let kept = after["updated_at"] == before["updated_at"];
        if expect["keeps_updated_at"].as_bool() == Some(true) && !kept {
            problems.push(format!(
                "updated_at moved: {} → {}",
                before["updated_at"], after["updated_at"]
            ));
        }
        if expect["moves_updated_at"].as_bool() == Some(true) && kept {
            problems.push("updated_at did not move on a real change".to_owned());
        }
    }
    problems
}

async fn fidelity_holds(store: Store, mode: Mode) {
    let stack = Stack::start_in(mode, store).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    let base = stack.rest_url.clone();
    let registered = http
        .post(format!("{base}/api/v1/auth/register"))
        .json(&json!({"email": "fid@example.com", "username": "fid", "password": PASSWORD}))
        .send()
        .await
        .expect("register");
    assert_eq!(registered.status().as_u16(), 201);
    let login: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "fid", "password": PASSWORD}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("token");
    let token = login["access_token"].as_str().expect("a token").to_owned();
    let client = Client { http, base, token };

    let table: Value = serde_json::from_str(CASES).expect("the table is JSON");
    let cases = table["cases"].as_array().expect("cases");
    assert!(cases.len() >= 40, "the table lost cases");
    let mut failures = Vec::new();
    for case in cases {
        let problems = run_case(&client, case).await;
        if !problems.is_empty() {
            failures.push(format!(
                "[{}] {}: {}",
                case["group"].as_str().unwrap_or_default(),
                case["name"].as_str().unwrap_or_default(),
                problems.join("; ")
            ));
        }
    }
    stack.shutdown().await;
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from the original ({store:?}, {mode:?}):\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn rest_fidelity_on_postgres() {
    fidelity_holds(Store::Postgres, Mode::Processes).await;
}

#[tokio::test]
async fn rest_fidelity_on_sqlite() {
    fidelity_holds(Store::Sqlite, Mode::Processes).await;
}

#[tokio::test]
async fn rest_fidelity_on_sqlite_in_one_process() {
    fidelity_holds(Store::Sqlite, Mode::OneProcess).await;
}
