//! GraphiQL in a real browser: headless Chromium, cut off from every host but
//! 127.0.0.1, loads GraphiQL from a router in front of the echo subgraph, runs
//! a query and shows its result. Driven over the Chrome DevTools protocol.

mod http_support;

use std::process::Stdio;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use http_support::spawn_router;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_tungstenite::tungstenite::Message;

const CHROMIUM: &str = "/usr/bin/chromium";

#[tokio::test]
async fn graphiql_runs_a_query_offline() {
    assert_chromium();
    let router = spawn_router(&[]).await;
    let browser = Browser::launch().await;
    let mut page = browser.page().await;

    let url = format!("{}/?query={}", router.base_url, "%7B%20hello%20%7D");
    page.call("Page.navigate", json!({ "url": url })).await;
    page.wait_for(
        "GraphiQL renders its editor",
        "document.querySelector('.graphiql-execute-button') !== null",
    )
    .await;
    let editor = page
        .evaluate("document.querySelector('.graphiql-query-editor')?.innerText ?? ''")
        .await;
    assert!(
        editor.as_str().unwrap_or_default().contains("hello"),
        "the query from the link is in the editor: {editor}"
    );

    page.evaluate("document.querySelector('.graphiql-execute-button').click()")
        .await;
    page.wait_for(
        "the result shows the subgraph's answer",
        "(document.querySelector('.graphiql-response')?.innerText ?? '').includes('hello from echo')",
    )
    .await;
}

/// The test fails, rather than passing unseen, without a browser.
fn assert_chromium() {
    test_support::tools::require_program(CHROMIUM);
}

/// GraphiQL opens with the configured example document, has the explorer
/// plugin, and in development mode shows the query plan of the operation it ran.
#[tokio::test]
async fn graphiql_opens_the_example_explores_and_shows_query_plans() {
    assert_chromium();
    let dir = test_support::fresh_data_dir("graphiql-document");
    std::fs::create_dir_all(&dir).expect("create the test directory");
    let document = dir.join("example.graphql");
    std::fs::write(
        &document,
        "# Send Authorization: Bearer <token> in Headers\nquery Hello {\n  hello\n}\n",
    )
    .expect("write the document");
    let document_arg = document.display().to_string();
    let router = spawn_router(&["--dev", "--graphiql-document", &document_arg]).await;
    let browser = Browser::launch().await;
    let mut page = browser.page().await;

    page.call(
        "Page.navigate",
        json!({ "url": format!("{}/", router.base_url) }),
    )
    .await;
    page.wait_for(
        "GraphiQL opens with the example document",
        "(document.querySelector('.graphiql-query-editor')?.innerText ?? '').includes('query Hello')",
    )
    .await;
    let editor = page
        .evaluate("document.querySelector('.graphiql-query-editor').innerText")
        .await;
    assert!(
        editor
            .as_str()
            .unwrap_or_default()
            .contains("Authorization: Bearer"),
        "the headers hint is in the document: {editor}"
    );

    page.evaluate("document.querySelector('[aria-label=\"Show GraphiQL Explorer\"]').click()")
        .await;
    page.wait_for(
        "the explorer lists the schema's fields",
        "(document.querySelector('.graphiql-plugin')?.innerText ?? '').includes('hello')",
    )
    .await;

    page.evaluate("document.querySelector('.graphiql-execute-button').click()")
        .await;
    page.wait_for(
        "the result shows the subgraph's answer",
        "(document.querySelector('.graphiql-response')?.innerText ?? '').includes('hello from echo')",
    )
    .await;
    page.evaluate("document.querySelector('[aria-label=\"Show Query plan\"]').click()")
        .await;
    page.wait_for(
        "the query plan pane shows the plan of the operation",
        "(document.querySelector('.tasktracker-query-plan')?.innerText ?? '').includes('Fetch(service: \"echo\")')",
    )
    .await;
}

/// GraphiQL renders a deferred query as it streams: the primary part while the
/// deferred fetch is held at the subgraph, then the deferred fragment merged in.
#[tokio::test]
async fn graphiql_renders_a_deferred_query_as_it_streams() {
    assert_chromium();
    let router = spawn_router(&[]).await;
    let browser = Browser::launch().await;
    let mut page = browser.page().await;
    let query = "%7B%20hello%20...%20%40defer%20%7B%20gated%20%7D%20%7D";
    page.call(
        "Page.navigate",
        json!({ "url": format!("{}/?query={query}", router.base_url) }),
    )
    .await;
    page.wait_for(
        "GraphiQL renders its editor",
        "(document.querySelector('.graphiql-query-editor')?.innerText ?? '').includes('@defer')",
    )
    .await;
    page.evaluate("document.querySelector('.graphiql-execute-button').click()")
        .await;
    page.wait_for(
        "the primary part is shown",
        "(document.querySelector('.graphiql-response')?.innerText ?? '').includes('hello from echo')",
    )
    .await;
    let shown = page
        .evaluate("document.querySelector('.graphiql-response').innerText")
        .await;
    assert!(
        !shown.as_str().unwrap_or_default().contains("let through"),
        "the deferred fetch is still held: {shown}"
    );
    router.subgraph.gate.open.add_permits(1);
    page.wait_for(
        "the deferred fragment is merged in",
        "(document.querySelector('.graphiql-response')?.innerText ?? '').includes('let through')",
    )
    .await;
}

/// A headless Chromium with a fresh profile, killed when dropped.
struct Browser {
    _process: tokio::process::Child,
    devtools: String,
    profile: std::path::PathBuf,
}

impl Browser {
    async fn launch() -> Self {
        let profile = test_support::fresh_data_dir("chromium-profile");
        std::fs::create_dir_all(&profile).expect("create the profile directory");
        let mut process = tokio::process::Command::new(CHROMIUM)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                // Only the router is reachable: anything GraphiQL tried to load from a CDN would fail.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "--remote-debugging-port=0",
                &format!("--user-data-dir={}", profile.display()),
                "about:blank",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromium");
        let stderr = process.stderr.take().expect("piped stderr");
        let mut lines = BufReader::new(stderr).lines();
        let devtools = tokio::time::timeout(Duration::from_secs(60), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    return url.trim().to_owned();
                }
            }
            panic!("chromium exited without opening the DevTools port");
        })
        .await
        .expect("chromium announces its DevTools port within a minute");
        // Keep draining chromium's log so that it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self {
            _process: process,
            devtools,
            profile,
        }
    }

    /// The DevTools connection of the browser's first tab.
    async fn page(&self) -> Page {
        let authority = self
            .devtools
            .trim_start_matches("ws://")
            .split('/')
            .next()
            .expect("the DevTools URL has a host")
            .to_owned();
        let targets: Vec<Value> = reqwest::get(format!("http://{authority}/json/list"))
            .await
            .expect("DevTools lists targets")
            .json()
            .await
            .expect("JSON targets");
        let ws_url = targets
            .iter()
            .find(|target| target["type"] == "page")
            .and_then(|target| target["webSocketDebuggerUrl"].as_str())
            .expect("a page target")
            .to_owned();
        let (socket, _) = tokio_tungstenite::connect_async(ws_url)
            .await
            .expect("connect to the page");
        Page { socket, next_id: 0 }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

struct Page {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    next_id: u64,
}

impl Page {
    /// Sends one DevTools command and returns its result, skipping events.
    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let command = json!({ "id": id, "method": method, "params": params }).to_string();
        self.socket
            .send(Message::text(command))
            .await
            .expect("send a DevTools command");
        while let Some(message) = self.socket.next().await {
            let Message::Text(text) = message.expect("DevTools message") else {
                continue;
            };
            let reply: Value = serde_json::from_str(text.as_str()).expect("DevTools speaks JSON");
            if reply["id"] == id {
                assert!(reply.get("error").is_none(), "{method} failed: {reply}");
                return reply["result"].clone();
            }
        }
        panic!("the DevTools connection closed during {method}");
    }

    async fn evaluate(&mut self, expression: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({ "expression": expression, "returnByValue": true }),
            )
            .await;
        assert!(
            result.get("exceptionDetails").is_none(),
            "{expression} threw: {result}"
        );
        result["result"]["value"].clone()
    }

    /// Polls `condition` in the page (a bounded number of times) until it is true.
    async fn wait_for(&mut self, what: &str, condition: &str) {
        for _ in 0..600 {
            if self.evaluate(condition).await == Value::Bool(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let body = self.evaluate("document.body.innerText").await;
        panic!("gave up waiting until {what}; the page shows:\n{body}");
    }
}
