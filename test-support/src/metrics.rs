//! Reading one series of a service's Prometheus `/metrics`, for the tests that
//! observe what a service counted (requests shared, abandoned, refused).

/// The value of `series` (its full name with labels, e.g.
/// `router_graphql_operations_shared_total`) at `base_url/metrics`, or `None`
/// when the service does not export it.
pub async fn read(client: &reqwest::Client, base_url: &str, series: &str) -> Option<f64> {
    let text = client
        .get(format!("{base_url}/metrics"))
        .send()
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}
