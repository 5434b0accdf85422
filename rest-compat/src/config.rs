//! Command line and environment settings of the REST compatibility layer.

use std::time::Duration;

use clap::{Args, Parser};
use common::config::{ListenArgs, LogArgs};

use crate::RestCompat;

/// The origins allowed when `BACKEND_CORS_ORIGINS` is not set (the original's defaults).
pub const DEFAULT_CORS_ORIGINS: [&str; 2] = ["http://localhost:3000", "http://localhost:8000"];

/// `rest-compat [OPTIONS]`: serves the original `/api/v1` REST API by translating
/// each request into one GraphQL operation sent to the federation router.
pub type Cli = common::config::Cli<RestCompat>;

// What the service needs to run; its doc comment opens `rest-compat --help` (common::config::Cli).
/// The original /api/v1 REST API, served by sending GraphQL operations to the router.
#[derive(Debug, Clone, Args)]
pub struct Config {
    #[command(flatten)]
    pub listen: ListenArgs<RestCompat>,

    /// GraphQL endpoint of the federation router every request is sent to.
    #[arg(
        long,
        env = "ROUTER_URL",
        default_value = "http://127.0.0.1:4000/graphql"
    )]
    pub router_url: String,

    /// Seconds to wait for the router before answering 503.
    #[arg(long, env = "ROUTER_TIMEOUT_SECONDS", default_value_t = 30)]
    pub router_timeout_seconds: u64,

    /// Origins allowed by CORS: a JSON list (`["http://a", "http://b"]`) or a
    /// comma-separated list. Default: http://localhost:3000 and http://localhost:8000.
    #[arg(long, env = "BACKEND_CORS_ORIGINS")]
    pub cors_origins: Option<String>,

    /// Largest request body accepted, in bytes; larger ones are answered 413.
    #[arg(long, env = "REST_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Timeouts and caps of the HTTP server (shared by every service).
    #[command(flatten)]
    pub http: common::server::ServerLimits,

    #[command(flatten)]
    pub log: LogArgs,

    /// The router's app when it runs in this process (`tasktracker --mode one-process`):
    /// requests go to it directly instead of to `router_url` over HTTP. Not a flag.
    #[arg(skip)]
    pub router_in_process: Option<common::in_process::LocalService>,
}

/// How its logs are written (read before it starts).
impl AsRef<LogArgs> for Config {
    fn as_ref(&self) -> &LogArgs {
        &self.log
    }
}

impl Config {
    /// Settings for a test: port 0 on loopback, talking to `router_url`.
    pub fn for_tests(router_url: &str) -> Self {
        Cli::parse_from(["rest-compat", "--port", "0", "--router-url", router_url]).config
    }

    pub fn router_timeout(&self) -> Duration {
        Duration::from_secs(self.router_timeout_seconds.max(1))
    }

    /// The allowed CORS origins, from `--cors-origins` or the defaults.
    pub fn cors_origin_list(&self) -> anyhow::Result<Vec<String>> {
        match self.cors_origins.as_deref().map(str::trim) {
            None | Some("") => Ok(DEFAULT_CORS_ORIGINS
                .iter()
                .map(|origin| (*origin).to_owned())
                .collect()),
            Some(text) => parse_origin_list(text),
        }
    }
}

/// Parses `BACKEND_CORS_ORIGINS` as the original did: a JSON list, or comma-separated.
pub fn parse_origin_list(text: &str) -> anyhow::Result<Vec<String>> {
    let origins: Vec<String> = if text.starts_with('[') {
        serde_json::from_str(text).map_err(|err| {
            anyhow::anyhow!("BACKEND_CORS_ORIGINS is not a JSON list of strings: {err}")
        })?
    } else {
        text.split(',').map(str::to_owned).collect()
    };
    Ok(origins
        .into_iter()
        .map(|origin| origin.trim().trim_end_matches('/').to_owned())
        .filter(|origin| !origin.is_empty())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_from_json_or_commas() {
        assert_eq!(
            parse_origin_list(r#"["http://a.example", "http://b.example/"]"#).expect("json list"),
            vec!["http://a.example", "http://b.example"]
        );
        assert_eq!(
            parse_origin_list("http://a.example, http://b.example").expect("comma list"),
            vec!["http://a.example", "http://b.example"]
        );
        assert!(parse_origin_list("[not json").is_err());
    }

    #[test]
    fn defaults_apply_without_setting() {
        let cli = Cli::parse_from(["rest-compat"]).config;
        assert_eq!(cli.listen.port, 8000);
        assert_eq!(cli.router_url, "http://127.0.0.1:4000/graphql");
        if std::env::var_os("BACKEND_CORS_ORIGINS").is_none() {
            assert_eq!(
                cli.cors_origin_list().expect("defaults"),
                vec!["http://localhost:3000", "http://localhost:8000"]
            );
        }
    }
}
