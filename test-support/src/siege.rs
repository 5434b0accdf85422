//! A kit for tests that attack a service the way a hostile client would: the
//! service runs as its own process (its crash is seen as a dead process, not
//! a dead test binary; its file descriptors are its own), and raw TCP clients
//! hold idle connections, half-send requests, break bodies, or send the
//! documents that once aborted the subgraphs. Nothing here sleeps: a test waits
//! for the server's own behaviour (an answer, or the server closing a socket).

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// The longest any single step of an attack test may take before the test
/// fails: a bound against hangs, not a timing assertion.
pub const STEP_BOUND: Duration = Duration::from_secs(60);

/// A service binary running as a child process; killed when dropped.
pub struct ServiceProcess {
    child: Child,
    pub addr: SocketAddr,
}

impl ServiceProcess {
    /// Starts `binary` with `args` and waits for its `… listening on http://ADDR`
    /// line. `soft_open_files` starts it with that soft RLIMIT_NOFILE (the usual
    /// 1,024 of a default deployment), so the test shows the service raises it.
    pub async fn spawn(
        binary: &Path,
        args: &[String],
        envs: &[(&str, String)],
        soft_open_files: Option<u64>,
    ) -> anyhow::Result<Self> {
        let mut command = Command::new(binary);
        command
            .args(args)
            .env("RUST_LOG", "warn")
            .env_remove("DATABASE_URL")
            .env_remove("SECRET_KEY")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        for (name, value) in envs {
            command.env(name, value);
        }
        if let Some(soft) = soft_open_files {
            // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
            unsafe {
                command.pre_exec(move || {
                    use nix::sys::resource::{Resource, getrlimit, setrlimit};
                    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
                    setrlimit(Resource::RLIMIT_NOFILE, soft.min(hard), hard)?;
                    Ok(())
                });
            }
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().context("the child's stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let addr = tokio::time::timeout(STEP_BOUND, async {
            while let Some(line) = lines.next_line().await? {
                if let Some((_, url)) = line.split_once(" listening on http://") {
                    return Ok::<_, anyhow::Error>(url.trim().parse::<SocketAddr>()?);
                }
            }
            bail!("{} exited without announcing its address", binary.display())
        })
        .await
        .context("the service did not announce its address in time")??;
        // Keep reading stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self { child, addr })
    }

    /// Whether the process is still running (a crash or an abort ends it).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

/// The hard open-file limit of this (test) process, after raising the soft limit to it.
pub fn raise_own_open_file_limit() -> u64 {
    common::http_server::raise_open_file_limit()
}

/// Opens `count` connections to `addr` and keeps them: every other one sends
/// the first half of a request head and stops (half-open), the rest send nothing.
/// At most 256 connects are in flight at once, as a sliding window: one slow
/// connect (a retransmitted SYN) holds one slot, not a whole batch.
pub async fn hold_connections(addr: SocketAddr, count: usize) -> anyhow::Result<Vec<TcpStream>> {
    use futures::{StreamExt, TryStreamExt};
    futures::stream::iter(0..count)
        .map(|index| async move {
            let mut stream = TcpStream::connect(addr).await?;
            if index % 2 == 1 {
                stream
                    .write_all(b"POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: appl")
                    .await?;
            }
            Ok::<_, std::io::Error>(stream)
        })
        .buffer_unordered(256)
        .try_collect()
        .await
        .context("opening the held connections")
}

/// Resolves once the server has closed `stream` (read gives EOF or a reset).
pub async fn closed_by_server(stream: &mut TcpStream) -> anyhow::Result<()> {
    let mut buffer = [0u8; 1024];
    tokio::time::timeout(STEP_BOUND, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .context("the server did not close the connection")
}

/// A raw HTTP exchange's answer.
#[derive(Debug)]
pub struct RawResponse {
    /// The status, or 0 when the server closed the connection without answering.
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl RawResponse {
    /// The body as JSON (`Value::Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// `errors[0].extensions.code` of a GraphQL-shaped body.
    pub fn error_code(&self) -> Option<String> {
        self.json()
            .pointer("/errors/0/extensions/code")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }
}

/// Sends `request` (raw bytes) on a fresh connection, then half-closes it when
/// `half_close` is set, and reads the whole answer (the server closes after it:
/// send `Connection: close` or a broken body).
pub async fn raw_exchange(
    addr: SocketAddr,
    request: &[u8],
    half_close: bool,
) -> anyhow::Result<RawResponse> {
    tokio::time::timeout(STEP_BOUND, async {
        let mut stream = TcpStream::connect(addr).await?;
        stream.write_all(request).await?;
        if half_close {
            stream.shutdown().await?;
        }
        let mut raw = Vec::new();
        // A reset after the answer (unread bytes of ours) still leaves the answer read.
        let _ = stream.read_to_end(&mut raw).await;
        parse_response(&raw)
    })
    .await
    .context("no answer in time")?
}

/// An answer of no bytes at all (the server closed the connection without
/// answering, as it does with a request that never completed) is status 0.
fn parse_response(raw: &[u8]) -> anyhow::Result<RawResponse> {
    if raw.is_empty() {
        return Ok(RawResponse {
            status: 0,
            head: String::new(),
            body: String::new(),
        });
    }
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .with_context(|| format!("not an HTTP response: {text:?}"))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .with_context(|| format!("no status in {head:?}"))?;
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Ok(RawResponse {
        status,
        head: head.to_owned(),
        body,
    })
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// A `Connection: close` request with a JSON body.
pub fn post_json(path: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A `Connection: close` GET request.
pub fn get(path_and_query: &str) -> Vec<u8> {
    format!(
        "GET {path_and_query} HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    )
    .into_bytes()
}

/// A body shorter than its `Content-Length` (the client then half-closes).
pub fn truncated_body(path: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"query\":"
    )
    .into_bytes()
}

/// A chunked body whose chunk size is not hexadecimal.
pub fn bad_chunk(path: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nZZ\r\n{{}}\r\n0\r\n\r\n"
    )
    .into_bytes()
}

/// One hostile request for a GraphQL endpoint.
#[derive(Debug, Clone)]
pub struct Shape {
    pub name: &'static str,
    /// Raw HTTP request bytes.
    pub request: Vec<u8>,
}

/// The documents and bodies that aborted or stalled a subgraph, at `scale`
/// times the size that broke it (1,562 levels, fragment doubling to F20,
/// 10,000 repeated fields, 5,000 directives), for `/graphql`.
pub fn hostile_shapes(scale: usize) -> Vec<Shape> {
    let levels = 1_600 * scale;
    let open = "[".repeat(levels);
    let close = "]".repeat(levels);
    let object_open = "{a:".repeat(levels);
    let object_close = "}".repeat(levels);
    let post = |query: String, variables: Value| {
        post_json(
            "/graphql",
            &json!({"query": query, "variables": variables}).to_string(),
        )
    };
    let mut fragments =
        String::from("query { __typename ...F0 }\nfragment F0 on Query { __typename }\n");
    let fragment_levels = 20 * scale;
    for level in 1..=fragment_levels {
        fragments.push_str(&format!(
            "fragment F{level} on Query {{ ...F{prev} ...F{prev} }}\n",
            prev = level - 1
        ));
    }
    fragments = fragments.replacen("...F0 }", &format!("...F{fragment_levels} }}"), 1);
    let deep_json =
        format!("{{\"query\":\"{{ __typename }}\",\"variables\":{{\"v\":{open}1{close}}}}}");
    // A URI holds at most 64 KiB: links nest at most 10,000 levels (6× what broke).
    let link_levels = levels.min(10_000);
    let link_open = "[".repeat(link_levels);
    let link_close = "]".repeat(link_levels);
    let link_query = format!("{{ __typename(a: {link_open}1{link_close}) }}");
    vec![
        Shape {
            name: "deep list argument",
            request: post(format!("{{ __typename(a: {open}1{close}) }}"), Value::Null),
        },
        Shape {
            name: "deep input object",
            request: post(
                format!("{{ __typename(a: {object_open}1{object_close}) }}"),
                Value::Null,
            ),
        },
        Shape {
            name: "deep variable default",
            request: post(
                format!("query($v: [Int] = {open}1{close}) {{ __typename }}"),
                Value::Null,
            ),
        },
        Shape {
            name: "deep directive argument",
            request: post(
                format!("{{ __typename @skip(if: {open}true{close}) }}"),
                Value::Null,
            ),
        },
        Shape {
            name: "deep GET link",
            request: get(&format!("/graphql?query={}", percent_encode(&link_query))),
        },
        Shape {
            name: "deep JSON variables",
            request: post_json("/graphql", &deep_json),
        },
        Shape {
            name: "deep GET variables",
            request: get(&format!(
                "/graphql?query=%7B__typename%7D&variables={}",
                percent_encode(&format!("{{\"v\":{link_open}1{link_close}}}"))
            )),
        },
        Shape {
            name: "deep selection",
            request: post(
                format!("{}{}", "{ a ".repeat(levels), "}".repeat(levels)),
                Value::Null,
            ),
        },
        Shape {
            name: "fragment doubling",
            request: post(fragments, Value::Null),
        },
        Shape {
            name: "repeated fields",
            request: post(
                format!("{{ {} }}", "__typename ".repeat(10_000 * scale)),
                Value::Null,
            ),
        },
        Shape {
            name: "many directives",
            request: post(
                format!("{{ __typename {} }}", "@a ".repeat(5_000 * scale)),
                Value::Null,
            ),
        },
    ]
}

/// Percent-encodes everything but unreserved characters.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The connections a flood test holds against a service.
pub const FLOOD_CONNECTIONS: usize = 20_000;

/// What a connection-flood test saw.
#[derive(Debug)]
pub struct FloodReport {
    /// Connections held open against the service, by this process and a helper.
    pub held: usize,
    /// Of those, held by a helper process (this process's open-file limit is too low for all).
    pub held_by_helper: usize,
    /// Status of the normal request made while they were held.
    pub status: u16,
}

/// How many of the flood's connections this process can hold itself: as many
/// as its hard open-file limit leaves room for (a thousand kept for the test).
fn own_share() -> usize {
    let hard = raise_own_open_file_limit();
    let room = usize::try_from(hard.saturating_sub(1_000)).unwrap_or(usize::MAX);
    room.min(FLOOD_CONNECTIONS)
}

/// A process that holds `count` idle and half-open connections to `addr` (the
/// same mix as [`hold_connections`]) until its standard input closes. Where
/// the hard open-file limit cannot be raised (even for root in some
/// sandboxes), it brings the flood to its full size. Needs `python3`.
async fn spawn_connection_holder(addr: SocketAddr, count: usize) -> anyhow::Result<Child> {
    const HOLDER: &str = r#"
import socket, sys
host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
held = []
for index in range(count):
    held.append(socket.create_connection((host, port)))
    if index % 2 == 1:
        held[-1].sendall(b"POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: appl")
print("held", len(held), flush=True)
sys.stdin.read()
"#;
    let mut child = Command::new("python3")
        .args([
            "-c",
            HOLDER,
            &addr.ip().to_string(),
            &addr.port().to_string(),
            &count.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context(
            "starting python3 to hold the rest of the connection flood (is python3 installed?)",
        )?;
    let stdout = child.stdout.take().context("the holder's stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(STEP_BOUND, lines.next_line())
        .await
        .context("the connection holder did not report in time")??;
    anyhow::ensure!(
        line.as_deref() == Some(format!("held {count}").as_str()),
        "the connection holder said {line:?}, not that it holds {count}"
    );
    Ok(child)
}

/// Starts the service (with the soft open-file limit of a default deployment,
/// 1,024), holds [`FLOOD_CONNECTIONS`] idle and half-open connections against
/// it, then sends `probe` on a new connection. The service must answer it and stay up.
pub async fn connection_flood(
    binary: &Path,
    args: &[String],
    probe: &[u8],
) -> anyhow::Result<FloodReport> {
    let own = own_share();
    let held_by_helper = FLOOD_CONNECTIONS - own;
    let mut service = ServiceProcess::spawn(binary, args, &[], Some(1_024)).await?;
    let connections = hold_connections(service.addr, own).await?;
    let helper = match held_by_helper {
        0 => None,
        count => Some(spawn_connection_holder(service.addr, count).await?),
    };
    let response = raw_exchange(service.addr, probe, false).await?;
    anyhow::ensure!(service.is_running(), "the service died under the flood");
    drop(helper);
    drop(connections);
    Ok(FloodReport {
        held: own + held_by_helper,
        held_by_helper,
        status: response.status,
    })
}

/// Server flags that make every timeout short, for tests that wait for them.
pub fn short_timeouts() -> Vec<String> {
    [
        "--http-header-read-timeout-ms",
        "200",
        "--http-idle-timeout-ms",
        "200",
        "--http-body-read-timeout-ms",
        "200",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// With [`short_timeouts`]: a silent connection, one that sent half a request
/// head and one whose body stalled are all closed by the server (the stalled
/// body answered 400 first), and the service still answers `probe`.
pub async fn slow_clients_are_cut_off(
    binary: &Path,
    args: &[String],
    post_path: &str,
    probe: &[u8],
) -> anyhow::Result<()> {
    let mut all_args = args.to_vec();
    all_args.extend(short_timeouts());
    let mut service = ServiceProcess::spawn(binary, &all_args, &[], None).await?;
    let addr = service.addr;

    let mut silent = TcpStream::connect(addr).await?;
    let mut half_head = TcpStream::connect(addr).await?;
    half_head
        .write_all(format!("POST {post_path} HTTP/1.1\r\nHost: localhost\r\n").as_bytes())
        .await?;
    let mut stalled_body = TcpStream::connect(addr).await?;
    stalled_body
        .write_all(
            format!("POST {post_path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"query\":")
                .as_bytes(),
        )
        .await?;

    closed_by_server(&mut silent)
        .await
        .context("silent connection")?;
    closed_by_server(&mut half_head)
        .await
        .context("half-sent head")?;
    let mut answer = Vec::new();
    tokio::time::timeout(STEP_BOUND, stalled_body.read_to_end(&mut answer))
        .await
        .context("stalled body: no answer")??;
    let answer = parse_response(&answer).context("stalled body")?;
    anyhow::ensure!(
        answer.status == 400,
        "a stalled body is a 400, got {answer:?}"
    );

    let response = raw_exchange(addr, probe, false).await?;
    anyhow::ensure!(response.status == 200, "the probe after them: {response:?}");
    anyhow::ensure!(service.is_running(), "the service died");
    Ok(())
}

/// A body shorter than its `Content-Length` then a half-close, and a chunked
/// body with chunk size `ZZ`, are both 400 (not 500).
pub async fn broken_bodies_are_400(
    binary: &Path,
    args: &[String],
    post_path: &str,
) -> anyhow::Result<()> {
    let mut service = ServiceProcess::spawn(binary, args, &[], None).await?;
    let truncated = raw_exchange(service.addr, &truncated_body(post_path), true).await?;
    anyhow::ensure!(truncated.status == 400, "truncated body: {truncated:?}");
    let chunked = raw_exchange(service.addr, &bad_chunk(post_path), false).await?;
    anyhow::ensure!(chunked.status == 400, "bad chunk: {chunked:?}");
    anyhow::ensure!(service.is_running(), "the service died");
    Ok(())
}

/// Sends every [`hostile_shapes`] at `scale` to a GraphQL service: each is
/// answered 4xx with an `extensions.code`, and the process stays up.
pub async fn hostile_shapes_are_refused(
    binary: &Path,
    args: &[String],
    scale: usize,
) -> anyhow::Result<()> {
    let mut service = ServiceProcess::spawn(binary, args, &[], None).await?;
    for shape in hostile_shapes(scale) {
        let response = raw_exchange(service.addr, &shape.request, false)
            .await
            .with_context(|| shape.name)?;
        anyhow::ensure!(service.is_running(), "{} killed the service", shape.name);
        anyhow::ensure!(
            (400..500).contains(&response.status) && response.error_code().is_some(),
            "{}: expected a coded 4xx, got {} {}",
            shape.name,
            response.status,
            response.body.chars().take(300).collect::<String>()
        );
    }
    Ok(())
}

/// The HTTP hardening tests of one service binary, generated the same way in
/// every crate: `binary` is its `env!("CARGO_BIN_EXE_…")`, `args` an expression
/// giving its arguments (port 0 and a fresh data directory), `post_path` a path
/// that reads a request body, `probe` a normal request that must answer 200.
/// `graphql` adds the hostile-document suite for a subgraph's `/graphql`.
#[macro_export]
macro_rules! http_hardening_tests {
    (binary: $binary:expr, args: $args:expr, post_path: $post_path:expr, probe: $probe:expr $(, graphql: $graphql:ident)? $(,)?) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_normal_request_succeeds_while_20000_idle_and_half_open_connections_are_held() {
            let report = $crate::siege::connection_flood(
                std::path::Path::new($binary),
                &$args,
                &$probe,
            )
            .await
            .expect("the flood test runs");
            assert_eq!(report.status, 200, "{report:?}");
            assert_eq!(report.held, $crate::siege::FLOOD_CONNECTIONS, "{report:?}");
            eprintln!("held {} connections ({} by a helper process)", report.held, report.held_by_helper);
        }

        #[tokio::test]
        async fn silent_half_sent_and_stalled_clients_are_cut_off() {
            $crate::siege::slow_clients_are_cut_off(
                std::path::Path::new($binary),
                &$args,
                $post_path,
                &$probe,
            )
            .await
            .expect("slow clients are cut off");
        }

        #[tokio::test]
        async fn truncated_and_badly_chunked_bodies_are_400() {
            $crate::siege::broken_bodies_are_400(std::path::Path::new($binary), &$args, $post_path)
                .await
                .expect("broken bodies are 400");
        }

        $(
            #[tokio::test]
            async fn $graphql() {
                $crate::siege::hostile_shapes_are_refused(std::path::Path::new($binary), &$args, 10)
                    .await
                    .expect("every hostile shape is refused with a code");
            }
        )?
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_are_reassembled() {
        let raw = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let response = parse_response(raw).expect("parses");
        assert_eq!(response.status, 200);
        assert_eq!(response.body, "abcde");
    }

    #[test]
    fn every_shape_is_refused_by_the_scan() {
        let limits = common::document_scan::GraphqlLimits::default();
        for shape in hostile_shapes(1) {
            let text = String::from_utf8_lossy(&shape.request);
            let body = text
                .split_once("\r\n\r\n")
                .map(|(_, body)| body)
                .unwrap_or_default();
            let refused_json =
                common::document_scan::scan_json(body.as_bytes(), limits.max_nesting).is_err();
            let query = serde_json::from_str::<Value>(body)
                .ok()
                .and_then(|value| value["query"].as_str().map(str::to_owned));
            let refused_document = query.is_some_and(|query| {
                common::document_scan::check_document(&query, &limits).is_err()
            });
            let is_get = text.starts_with("GET ");
            assert!(
                refused_json || refused_document || is_get || shape.name == "many directives",
                "{} passes the scan",
                shape.name
            );
        }
    }
}
