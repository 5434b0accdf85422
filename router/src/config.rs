//! Command line and environment of the router (flags over env over defaults).

use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::{Args, ValueEnum};
use common::config::{ListenArgs, LogArgs};

use crate::engine::{ResilienceOptions, ResilienceSettings};
use http::HeaderName;

/// `router [OPTIONS]`: a general Apollo Federation v2 router, serving one composed
/// supergraph over GraphQL-over-HTTP, with GraphiQL at `/`, `/health`, `/ready`
/// and Prometheus `/metrics`.
pub type Cli = common::config::Cli<crate::Router>;

// What the service needs to run; its doc comment opens `router --help` (common::config::Cli).
/// A general Apollo Federation v2 router.
#[derive(Debug, Clone, Args)]
pub struct Config {
    #[command(flatten)]
    pub listen: ListenArgs<crate::Router>,

    /// The composed supergraph SDL to serve. The file is watched: a valid new version
    /// replaces the running one without dropping requests; a broken one is logged and ignored.
    #[arg(long, env = "SUPERGRAPH_PATH", default_value = "supergraph.graphql")]
    pub supergraph: PathBuf,

    /// How often the supergraph file is checked for changes, in milliseconds (0 turns hot reload off).
    #[arg(long, env = "ROUTER_SUPERGRAPH_POLL_MS", default_value_t = 1000)]
    pub supergraph_poll_ms: u64,

    /// `NAME=URL`: send subgraph NAME's requests to URL instead of the supergraph's routing URL.
    /// Repeatable; the environment variable takes a comma-separated list.
    #[arg(long = "subgraph-url", value_name = "NAME=URL")]
    #[arg(env = "SUBGRAPH_URLS", value_delimiter = ',')]
    pub subgraph_urls: Vec<SubgraphUrl>,

    /// Subgraphs answered by their app in this process (set by whoever composes the
    /// process, e.g. `tasktracker --mode one-process`; not a flag).
    #[arg(skip)]
    pub in_process_subgraphs: crate::engine::InProcessSubgraphs,

    /// Time allowed for one subgraph request, in milliseconds.
    #[arg(long, env = "ROUTER_SUBGRAPH_TIMEOUT_MS", default_value_t = 30_000)]
    pub subgraph_timeout_ms: u64,

    /// Share one subgraph fetch between identical requests in flight at the same time.
    #[arg(long, env = "ROUTER_DEDUP", value_enum, default_value_t = Switch::On)]
    pub dedup: Switch,

    /// Share one execution, and its serialised response, between identical queries in
    /// flight at the same time: same document, operation, variables and every header that
    /// reaches a subgraph. Never mutations.
    #[arg(long, env = "ROUTER_INBOUND_DEDUP", value_enum, default_value_t = Switch::On)]
    pub inbound_dedup: Switch,

    /// How many query plans are kept in the plan cache.
    #[arg(long, env = "ROUTER_PLAN_CACHE_SIZE", default_value_t = 1024)]
    pub plan_cache_size: usize,

    #[command(flatten)]
    pub limits: RequestLimits,

    /// Timeouts and caps of the HTTP server itself (shared by every service).
    #[command(flatten)]
    pub http: common::server::ServerLimits,

    #[command(flatten)]
    pub resilience: ResilienceArgs,

    #[command(flatten)]
    pub responses: ResponseLimits,

    #[command(flatten)]
    pub demand_control: DemandControlArgs,

    // The settings below are boxed: they are read once at start, and the command line
    // struct stays small enough to sit beside the other services' in one enum.
    #[command(flatten)]
    pub csrf: Box<crate::csrf::CsrfArgs>,

    #[command(flatten)]
    pub apq: Box<crate::apq::ApqArgs>,

    #[command(flatten)]
    pub trusted_documents: Box<crate::trusted_documents::TrustedDocumentsArgs>,

    #[command(flatten)]
    pub batching: Box<crate::batching::BatchingArgs>,

    #[command(flatten)]
    pub graphiql: Box<crate::graphiql::GraphiqlArgs>,

    /// Time allowed for a whole request (planning, every fetch, merging), in milliseconds;
    /// past it the request is dropped and answered 504 GATEWAY_TIMEOUT.
    #[arg(long, env = "ROUTER_REQUEST_TIMEOUT_MS", default_value_t = 60_000)]
    pub request_timeout_ms: u64,

    /// A request header passed on to every subgraph (repeatable; the environment variable
    /// takes a comma-separated list). `Authorization` is always passed on.
    #[arg(long = "forward-header", value_name = "NAME")]
    #[arg(env = "ROUTER_FORWARD_HEADERS", value_delimiter = ',')]
    pub forward_headers: Vec<ForwardedHeader>,

    /// Bearer tokens checked at the edge (see `auth`).
    #[command(flatten)]
    pub tokens: Box<crate::auth::TokenArgs>,

    #[command(flatten)]
    pub log: LogArgs,
}

/// How its logs are written (read before it starts).
impl AsRef<LogArgs> for Config {
    fn as_ref(&self) -> &LogArgs {
        &self.log
    }
}

/// A mebibyte, the unit of the byte limits below.
const MIB: usize = 1024 * 1024;

/// What a request may cost the router to read, checked before planning. Each
/// default is a named constant, used by the command line and by `Default`.
#[derive(Debug, Clone, Copy, Args)]
pub struct RequestLimits {
    /// Largest accepted request body, in bytes (larger ones get 413).
    #[arg(long, env = "ROUTER_MAX_BODY_BYTES", default_value_t = RequestLimits::DEFAULT.max_body_bytes)]
    pub max_body_bytes: usize,

    /// Deepest selection nesting allowed (fragments expanded).
    #[arg(long, env = "ROUTER_MAX_DEPTH", default_value_t = RequestLimits::DEFAULT.max_depth)]
    pub max_depth: usize,

    /// Most aliased fields allowed in one document.
    #[arg(long, env = "ROUTER_MAX_ALIASES", default_value_t = RequestLimits::DEFAULT.max_aliases)]
    pub max_aliases: usize,

    /// Most fields allowed at the root of an operation (fragments expanded).
    #[arg(long, env = "ROUTER_MAX_ROOT_FIELDS", default_value_t = RequestLimits::DEFAULT.max_root_fields)]
    pub max_root_fields: usize,

    /// Most lexical tokens allowed in one document (checked before parsing).
    #[arg(long, env = "ROUTER_MAX_TOKENS", default_value_t = RequestLimits::DEFAULT.max_tokens)]
    pub max_tokens: usize,

    /// Deepest nesting of brackets `{ [ (` in a document (checked before parsing), and of
    /// selection sets through fragment spreads. Every parser and walker of the router recurses
    /// per level, so this bounds their stack use.
    #[arg(long, env = "ROUTER_MAX_NESTING", default_value_t = RequestLimits::DEFAULT.max_nesting)]
    pub max_nesting: usize,

    /// Deepest nesting of objects and arrays in a JSON request body or GET parameter
    /// (checked before parsing the JSON).
    #[arg(long, env = "ROUTER_MAX_JSON_NESTING", default_value_t = RequestLimits::DEFAULT.max_json_nesting)]
    pub max_json_nesting: usize,

    /// Most fields one operation may select, fragments expanded (counted without expanding them).
    #[arg(long, env = "ROUTER_MAX_FIELDS", default_value_t = RequestLimits::DEFAULT.max_fields)]
    pub max_fields: usize,

    /// Most directives written in one document (checked before parsing).
    #[arg(long, env = "ROUTER_MAX_DIRECTIVES", default_value_t = RequestLimits::DEFAULT.max_directives)]
    pub max_directives: usize,
}

impl RequestLimits {
    /// The defaults: they hold against the hostile shapes of issue 8 while every
    /// operation of the product (GraphiQL's introspection query included) passes.
    pub const DEFAULT: RequestLimits = RequestLimits {
        max_body_bytes: 2 * MIB,
        max_depth: 24,
        max_aliases: 30,
        max_root_fields: 30,
        max_tokens: 15_000,
        max_nesting: 40,
        max_json_nesting: 64,
        max_fields: 1_000,
        max_directives: 50,
    };
}

impl Default for RequestLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// How large an answer may grow.
#[derive(Debug, Clone, Copy, Args)]
pub struct ResponseLimits {
    /// Largest response body, in bytes: a larger one is replaced by a RESPONSE_TOO_LARGE error.
    #[arg(long, env = "ROUTER_MAX_RESPONSE_BYTES", default_value_t = ResponseLimits::DEFAULT.max_response_bytes)]
    pub max_response_bytes: usize,

    /// Most errors in one response; the rest are summed up in one last error.
    #[arg(long, env = "ROUTER_MAX_ERRORS", default_value_t = ResponseLimits::DEFAULT.max_errors)]
    pub max_errors: usize,

    /// Longest error message, in bytes: longer ones (which may echo the request) are cut.
    #[arg(long, env = "ROUTER_MAX_ERROR_MESSAGE_BYTES", default_value_t = ResponseLimits::DEFAULT.max_error_message_bytes)]
    pub max_error_message_bytes: usize,
}

impl ResponseLimits {
    pub const DEFAULT: ResponseLimits = ResponseLimits {
        max_response_bytes: 8 * MIB,
        max_errors: 100,
        max_error_message_bytes: 1024,
    };
}

impl Default for ResponseLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Demand control (see `demand_control`).
#[derive(Debug, Clone, Copy, Args)]
pub struct DemandControlArgs {
    /// `enforce` refuses operations whose estimated cost is over the maximum; `measure` only
    /// estimates and measures (exported on /metrics); `off` does neither.
    #[arg(long = "demand-control", env = "ROUTER_DEMAND_CONTROL", value_enum, default_value_t = DemandControlMode::Enforce)]
    pub mode: DemandControlMode,

    /// Highest estimated cost an operation may have.
    #[arg(long = "demand-control-max-cost")]
    #[arg(env = "ROUTER_DEMAND_CONTROL_MAX_COST", default_value_t = 5_000.0)]
    pub max_cost: f64,

    /// Size assumed for a list that no slicing argument, `@listSize(assumedSize:)` or sized parent sizes.
    #[arg(long = "demand-control-list-size")]
    #[arg(env = "ROUTER_DEMAND_CONTROL_LIST_SIZE", default_value_t = 50.0)]
    pub list_size: f64,
}

pub use crate::demand_control::Mode as DemandControlMode;

impl DemandControlArgs {
    pub fn settings(&self) -> crate::demand_control::Settings {
        crate::demand_control::Settings {
            mode: self.mode,
            max_cost: self.max_cost,
            list_size: self.list_size,
        }
    }
}

/// Circuit breaking and retries of subgraph fetches: defaults for every subgraph,
/// and overrides per subgraph.
#[derive(Debug, Clone, Args)]
pub struct ResilienceArgs {
    /// Failed exchanges in a row (no answer, timeout, HTTP 5xx) after which a subgraph's
    /// circuit opens and its fetches fail at once; 0 turns circuit breaking off.
    #[arg(long, env = "ROUTER_CIRCUIT_FAILURES", default_value_t = ResilienceSettings::DEFAULT.failure_threshold)]
    pub circuit_failures: u32,

    /// How long an open circuit fails fetches before one probe is let through, in milliseconds.
    #[arg(long, env = "ROUTER_CIRCUIT_COOL_DOWN_MS", default_value_t = ResilienceSettings::DEFAULT.cool_down.as_millis() as u64)]
    pub circuit_cool_down_ms: u64,

    /// Send a failed query fetch once more within the subgraph timeout (mutations never are).
    #[arg(long, env = "ROUTER_RETRY_QUERIES", value_enum, default_value_t = Switch::On)]
    pub retry_queries: Switch,

    /// `NAME:failures=N:cool_down_ms=M:retry=on|off` (any subset of the three): settings of one
    /// subgraph, over the defaults above. Repeatable; the environment variable takes a comma-separated list.
    #[arg(long = "subgraph-resilience", value_name = "NAME:KEY=VALUE:…")]
    #[arg(env = "ROUTER_SUBGRAPH_RESILIENCE", value_delimiter = ',')]
    pub per_subgraph: Vec<SubgraphResilience>,
}

impl ResilienceArgs {
    pub fn options(&self) -> ResilienceOptions {
        let default = ResilienceSettings {
            failure_threshold: self.circuit_failures,
            cool_down: Duration::from_millis(self.circuit_cool_down_ms),
            retry_queries: self.retry_queries == Switch::On,
        };
        let per_subgraph = self
            .per_subgraph
            .iter()
            .map(|entry| (entry.name.clone(), entry.apply(default)))
            .collect();
        ResilienceOptions {
            default,
            per_subgraph,
        }
    }
}

/// One `--subgraph-resilience` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubgraphResilience {
    pub name: String,
    pub failures: Option<u32>,
    pub cool_down_ms: Option<u64>,
    pub retry: Option<bool>,
}

impl SubgraphResilience {
    fn apply(&self, mut settings: ResilienceSettings) -> ResilienceSettings {
        if let Some(failures) = self.failures {
            settings.failure_threshold = failures;
        }
        if let Some(cool_down_ms) = self.cool_down_ms {
            settings.cool_down = Duration::from_millis(cool_down_ms);
        }
        if let Some(retry) = self.retry {
            settings.retry_queries = retry;
        }
        settings
    }
}

impl FromStr for SubgraphResilience {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut parts = text.trim().split(':');
        let name = parts.next().unwrap_or_default().trim();
        if name.is_empty() {
            return Err(format!("expected NAME:KEY=VALUE…, got {text:?}"));
        }
        let mut entry = SubgraphResilience {
            name: name.to_owned(),
            failures: None,
            cool_down_ms: None,
            retry: None,
        };
        for part in parts {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| format!("expected KEY=VALUE in {text:?}, got {part:?}"))?;
            let bad = |_| format!("{key} of subgraph {name:?}: {value:?} is not a valid value");
            match key.trim() {
                "failures" => entry.failures = Some(value.trim().parse().map_err(bad)?),
                "cool_down_ms" => entry.cool_down_ms = Some(value.trim().parse().map_err(bad)?),
                "retry" => {
                    entry.retry = Some(match value.trim() {
                        "on" => true,
                        "off" => false,
                        _ => {
                            return Err(format!(
                                "retry of subgraph {name:?} is on or off, got {value:?}"
                            ));
                        }
                    })
                }
                other => {
                    return Err(format!(
                        "unknown setting {other:?} for subgraph {name:?} (failures, cool_down_ms, retry)"
                    ));
                }
            }
        }
        Ok(entry)
    }
}

/// An on/off setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    On,
    Off,
}

/// `NAME=URL` from `--subgraph-url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubgraphUrl {
    pub name: String,
    pub url: String,
}

impl FromStr for SubgraphUrl {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (name, url) = text
            .split_once('=')
            .ok_or_else(|| format!("expected NAME=URL, got {text:?}"))?;
        let (name, url) = (name.trim(), url.trim());
        if name.is_empty() || url.is_empty() {
            return Err(format!("expected NAME=URL with both parts, got {text:?}"));
        }
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!(
                "the URL of subgraph {name:?} must start with http:// or https://, got {url:?}"
            ));
        }
        Ok(Self {
            name: name.to_owned(),
            url: url.to_owned(),
        })
    }
}

/// A header name from `--forward-header`. Headers that describe this hop
/// rather than the caller (Host, Content-Length, …) are refused: forwarding them would break the subgraph request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardedHeader(pub HeaderName);

const HOP_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "content-type",
    "content-encoding",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "proxy-connection",
    "accept",
    "accept-encoding",
];

impl FromStr for ForwardedHeader {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let name = HeaderName::from_str(text.trim())
            .map_err(|_| format!("{text:?} is not a header name"))?;
        if HOP_HEADERS.contains(&name.as_str()) {
            return Err(format!(
                "{name} describes the connection, not the caller, and cannot be forwarded"
            ));
        }
        Ok(Self(name))
    }
}

impl Config {
    pub fn subgraph_timeout(&self) -> Duration {
        Duration::from_millis(self.subgraph_timeout_ms)
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    pub fn subgraph_url_overrides(&self) -> HashMap<String, String> {
        self.subgraph_urls
            .iter()
            .map(|s| (s.name.clone(), s.url.clone()))
            .collect()
    }

    /// `None` when hot reload is off.
    pub fn supergraph_poll_interval(&self) -> Option<Duration> {
        (self.supergraph_poll_ms > 0).then(|| Duration::from_millis(self.supergraph_poll_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn subgraph_urls_and_forwarded_headers_parse() {
        let cli = Cli::try_parse_from([
            "router",
            "--subgraph-url",
            "users=http://127.0.0.1:8001/graphql",
            "--subgraph-url=tasks=http://127.0.0.1:8002/graphql",
            "--forward-header",
            "X-Tenant",
            "--dedup",
            "off",
            "--inbound-dedup=off",
        ])
        .expect("parses");
        let overrides = cli.config.subgraph_url_overrides();
        assert_eq!(
            overrides.get("users").map(String::as_str),
            Some("http://127.0.0.1:8001/graphql")
        );
        assert_eq!(
            overrides.get("tasks").map(String::as_str),
            Some("http://127.0.0.1:8002/graphql")
        );
        assert_eq!(
            cli.config.forward_headers,
            vec![ForwardedHeader(HeaderName::from_static("x-tenant"))]
        );
        assert_eq!(cli.config.dedup, Switch::Off);
        assert_eq!(cli.config.inbound_dedup, Switch::Off);
    }

    #[test]
    fn resilience_defaults_and_per_subgraph_overrides() {
        let cli = Cli::try_parse_from([
            "router",
            "--circuit-failures",
            "3",
            "--subgraph-resilience",
            "tasks:failures=0:retry=off",
            "--subgraph-resilience=stats:cool_down_ms=50",
        ])
        .expect("parses");
        let options = cli.config.resilience.options();
        assert_eq!(options.default.failure_threshold, 3);
        assert_eq!(
            options.default.cool_down,
            ResilienceSettings::DEFAULT.cool_down
        );
        let tasks = options.per_subgraph["tasks"];
        assert_eq!((tasks.failure_threshold, tasks.retry_queries), (0, false));
        let stats = options.per_subgraph["stats"];
        assert_eq!(stats.cool_down, Duration::from_millis(50));
        assert_eq!(stats.failure_threshold, 3);
        for bad in [
            "tasks:failures",
            "tasks:speed=1",
            "tasks:retry=maybe",
            ":failures=1",
        ] {
            let error =
                Cli::try_parse_from(["router", "--subgraph-resilience", bad]).expect_err(bad);
            assert!(error.to_string().contains("subgraph-resilience"), "{error}");
        }
    }

    #[test]
    fn bad_values_are_refused_with_a_reason() {
        for bad in ["users", "=http://x", "users=ftp://x"] {
            let error = Cli::try_parse_from(["router", "--subgraph-url", bad]).expect_err(bad);
            assert!(error.to_string().contains("subgraph-url"), "{error}");
        }
        let error = Cli::try_parse_from(["router", "--forward-header", "Content-Length"])
            .expect_err("hop header");
        assert!(error.to_string().contains("cannot be forwarded"), "{error}");
    }
}
