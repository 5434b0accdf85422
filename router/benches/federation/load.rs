//! The load generator: a fixed number of keep-alive connections, each sending
//! the same request back to back, for a warm-up and then a measured period.
//! Every response is checked against the one expected.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

/// How hard and how long to drive a target.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub connections: usize,
    pub warm_up: Duration,
    pub measure: Duration,
}

/// What one measured period gave.
pub struct Measured {
    pub requests: usize,
    /// Responses that were not the expected one (HTTP error, GraphQL error, other data).
    pub wrong: usize,
    pub first_wrong: Option<String>,
    pub elapsed: Duration,
    /// Sorted.
    pub latencies: Vec<Duration>,
}

impl Measured {
    pub fn throughput(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    pub fn percentile(&self, fraction: f64) -> Duration {
        percentile(&self.latencies, fraction)
    }
}

/// The latency at `fraction` (0 to 1) of `sorted` latencies.
pub fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() - 1) as f64 * fraction).round() as usize;
    sorted[index]
}

/// A client with enough idle connections kept open for `connections` workers.
pub fn client(connections: usize) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(10))
        .build()?)
}

/// POSTs `body` once; returns the response body of a 200.
pub async fn send_once(client: &reqwest::Client, url: &str, body: &Bytes) -> anyhow::Result<Bytes> {
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(body.clone())
        .send()
        .await?;
    let status = response.status();
    let bytes = response.bytes().await?;
    anyhow::ensure!(
        status == 200,
        "HTTP {status}: {}",
        String::from_utf8_lossy(&bytes)
    );
    Ok(bytes)
}

/// Drives `url` with `body` from `connections` workers for `period`,
/// expecting exactly `expected` back each time.
pub async fn drive(
    client: &reqwest::Client,
    url: &str,
    body: &Bytes,
    expected: &Bytes,
    connections: usize,
    period: Duration,
) -> Measured {
    let started = Instant::now();
    let deadline = started + period;
    let url: Arc<str> = url.into();
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let (client, url, body, expected) =
                (client.clone(), url.clone(), body.clone(), expected.clone());
            tokio::spawn(async move { worker(client, &url, body, expected, deadline).await })
        })
        .collect();
    let mut measured = Measured {
        requests: 0,
        wrong: 0,
        first_wrong: None,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
    };
    for worker in workers {
        let Ok(part) = worker.await else {
            continue;
        };
        measured.requests += part.requests;
        measured.wrong += part.wrong;
        measured.first_wrong = measured.first_wrong.or(part.first_wrong);
        measured.latencies.extend(part.latencies);
    }
    measured.elapsed = started.elapsed();
    measured.latencies.sort_unstable();
    measured
}

async fn worker(
    client: reqwest::Client,
    url: &str,
    body: Bytes,
    expected: Bytes,
    deadline: Instant,
) -> Measured {
    let mut measured = Measured {
        requests: 0,
        wrong: 0,
        first_wrong: None,
        elapsed: Duration::ZERO,
        latencies: Vec::with_capacity(16 * 1024),
    };
    while Instant::now() < deadline {
        let sent = Instant::now();
        let outcome = send_once(&client, url, &body).await;
        measured.latencies.push(sent.elapsed());
        measured.requests += 1;
        let problem = match outcome {
            Ok(bytes) if bytes == expected => None,
            Ok(bytes) => Some(format!(
                "unexpected response: {}",
                String::from_utf8_lossy(&bytes)
            )),
            Err(error) => Some(error.to_string()),
        };
        if let Some(problem) = problem {
            measured.wrong += 1;
            measured.first_wrong.get_or_insert(problem);
        }
    }
    measured
}
