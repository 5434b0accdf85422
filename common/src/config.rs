//! Configuration shared by all services, layered as flags over environment over
//! defaults (clap), and the one command line of every service's binary ([`Cli`]).
//! Secrets are never defaulted in code: without `SECRET_KEY` a random key is
//! generated once and kept in the data directory (the access tokens' own
//! settings are `tokens::JwtArgs`).

use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use rand::Rng;

use crate::server::Service;

/// The command line of a service's binary, the same for all five: `<service>
/// [OPTIONS]` serves with the settings its flags give, and a service with
/// commands of its own (the subgraphs' `print-schema`) also takes `<service>
/// <COMMAND>`. It is named after the service ([`Service::NAME`]); the first
/// line of its `--help` is the doc comment of its settings (`about_of`).
///
/// It has no field with a default of its own: clap keeps a rendered
/// `default_value_t` in a `static` that every instance of a generic command
/// line shares (see [`crate::server::ServiceName::default_port`]).
#[derive(Debug, Clone, Parser)]
#[command(name = S::NAME.as_str(), about = about_of::<S::Config>(), long_about = None, version)]
pub struct Cli<S: Service, C: Subcommand = NoCommand>
where
    S::Config: Args,
{
    #[command(subcommand)]
    pub command: Option<C>,

    #[command(flatten)]
    pub config: S::Config,
}

/// The commands of a service that has none besides serving.
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum NoCommand {}

/// The first line of a service's `--help`: the first paragraph of the doc
/// comment of its settings, which clap makes the `about` of the command they
/// are flattened into. Taken explicitly, as the doc comment of the generic
/// [`Cli`] (the same for every service) would otherwise cover it.
fn about_of<C: Args>() -> clap::builder::StyledStr {
    let settings = C::augment_args(clap::Command::new(""));
    settings.get_about().cloned().unwrap_or_default()
}

/// Where a service listens: the same two flags for all five, with the port's
/// environment variable and default taken from the service ([`Service::NAME`]:
/// its `port_variable` and `default_port`).
#[derive(Debug, Clone, Args)]
pub struct ListenArgs<S: Service> {
    /// Address to listen on (`0.0.0.0` to accept connections from other hosts).
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: String,

    /// TCP port to listen on (0 picks a free one; the address is announced on stdout).
    #[arg(long, env = S::NAME.port_variable(), default_value = S::NAME.default_port())]
    pub port: u16,

    #[arg(skip)]
    service: PhantomData<fn() -> S>,
}

impl<S: Service> ListenArgs<S> {
    /// Listening on `host:port` (port 0 picks a free one).
    pub fn new(host: &str, port: u16) -> Self {
        Self {
            host: host.to_owned(),
            port,
            service: PhantomData,
        }
    }
}

/// The parser of a flag that must be at least 1: a count, a cap or a duration
/// that 0 would break (clap refuses 0 with the range in its message).
pub fn at_least_one<T: TryFrom<u64>>() -> clap::builder::RangedU64ValueParser<T> {
    clap::builder::RangedU64ValueParser::new().range(1..)
}

/// Where the embedded SQLite stores and the generated secret live.
#[derive(Debug, Clone, Args)]
pub struct DataDirArgs {
    /// Directory for the embedded SQLite databases and generated secrets (created on first start).
    #[arg(long, env = "TASKTRACKER_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct LogArgs {
    /// Log line format. Verbosity is set with RUST_LOG (default `info`).
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,
}

/// Reads `<data_dir>/secret_key`, creating it with 64 random hex characters on first use.
pub fn secret_from_data_dir(data_dir: &Path) -> anyhow::Result<String> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating data directory {}", data_dir.display()))?;
    let path = data_dir.join("secret_key");
    match std::fs::read_to_string(&path) {
        Ok(existing) if !existing.trim().is_empty() => return Ok(existing.trim().to_owned()),
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(err).with_context(|| format!("reading {}", path.display())),
    }
    let bytes: [u8; 32] = rand::rng().random();
    let key: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_private(&path, &key).with_context(|| format!("writing {}", path.display()))?;
    // When two services start at once, only one creates the file; both use its content.
    let key = std::fs::read_to_string(&path)?.trim().to_owned();
    anyhow::ensure!(
        !key.is_empty(),
        "{} is empty: delete it to have a new key generated, or set SECRET_KEY",
        path.display()
    );
    Ok(key)
}

/// Creates `path` readable by its owner only; an existing file (another service
/// got there first) is left as it is.
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => file.write_all(contents.as_bytes()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::ServiceName;

    macro_rules! test_service {
        ($name:ident, $who:expr) => {
            #[derive(Debug, Clone)]
            struct $name;
            impl Service for $name {
                const NAME: ServiceName = $who;
                type Config = Settings<Self>;
                type Resources = ();
                async fn assemble(
                    _: Settings<Self>,
                ) -> anyhow::Result<crate::server::Assembled<Self>> {
                    anyhow::bail!("not served")
                }
            }
        };
    }
    /// What a test service needs to run.
    #[derive(Debug, Clone, Args)]
    struct Settings<S: Service> {
        #[command(flatten)]
        listen: ListenArgs<S>,
        #[command(flatten)]
        log: LogArgs,
    }

    impl<S: Service> AsRef<LogArgs> for Settings<S> {
        fn as_ref(&self) -> &LogArgs {
            &self.log
        }
    }

    test_service!(First, ServiceName::Users);
    test_service!(Second, ServiceName::Tasks);

    #[derive(Debug, clap::Parser)]
    struct Both {
        #[command(flatten)]
        first: ListenArgs<First>,
        #[command(subcommand)]
        second: Option<Sub>,
    }

    #[derive(Debug, clap::Subcommand)]
    enum Sub {
        Second {
            #[command(flatten)]
            listen: ListenArgs<Second>,
        },
    }

    /// The default an argument of `command` shows (read from the command, not from a
    /// parse, which the machine's `USERS_PORT`/`TASKS_PORT`/`HOST` would change).
    fn default_of(command: &clap::Command, argument: &str) -> Option<String> {
        let argument = command
            .get_arguments()
            .find(|arg| arg.get_id() == argument)?;
        let value = argument.get_default_values().first()?;
        Some(value.to_string_lossy().into_owned())
    }

    /// The launcher holds every service's arguments in one binary: each keeps its own default.
    #[test]
    fn each_service_keeps_its_own_default_port() {
        use clap::CommandFactory;
        let both = Both::command();
        assert_eq!(default_of(&both, "port").as_deref(), Some("8001"));
        let second = both.find_subcommand("second").expect("the subcommand");
        assert_eq!(default_of(second, "port").as_deref(), Some("8002"));
        assert_eq!(default_of(second, "host").as_deref(), Some("127.0.0.1"));
    }

    /// One generic command line, and each service's binary is still its own.
    #[test]
    fn each_command_line_is_its_services_own() {
        use clap::{CommandFactory, Parser};
        let first = Cli::<First>::parse_from(["users"]);
        assert_eq!(
            (
                default_of(&Cli::<First>::command(), "port").as_deref(),
                default_of(&Cli::<Second>::command(), "port").as_deref()
            ),
            (Some("8001"), Some("8002"))
        );
        assert!(first.command.is_none());
        let second = Cli::<Second>::command();
        assert_eq!(second.get_name(), "tasks");
        // Described by its settings, not by the generic command line's own doc comment.
        assert_eq!(
            second.get_about().map(ToString::to_string).as_deref(),
            Some("What a test service needs to run")
        );
        Cli::<First>::command().debug_assert();
    }

    #[test]
    fn the_generated_secret_is_kept_and_reused() {
        let dir = test_support::fresh_data_dir("secret");
        let first = secret_from_data_dir(&dir).expect("generated");
        assert_eq!(first.len(), 64);
        assert_eq!(secret_from_data_dir(&dir).expect("read back"), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("secret_key"))
                .expect("file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_empty_secret_file_is_refused_not_used() {
        let dir = test_support::fresh_data_dir("empty-secret");
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("secret_key"), "\n").expect("write");
        let err = secret_from_data_dir(&dir).expect_err("an empty key is no key");
        assert!(err.to_string().contains("is empty"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
