//! One-process mode: the five services composed in this process, as one
//! monolith, from the same crates that otherwise run as five processes.
//!
//! Each service is assembled exactly as it is alone (its configuration parsed
//! from the same flags and environment, its stores opened and migrated); then,
//! instead of HTTP between them, the router calls each subgraph's app through
//! its in-process transport, tasks asks users through users' app, and the REST
//! layer calls the router's app — each call still runs the callee's own
//! handler, so its limits, authentication, metrics and errors are unchanged and
//! every answer is byte for byte the one the five processes give. What saves the
//! time is what is gone: sockets, HTTP encoding, and the processes' scheduling.
//!
//! The process serves the router (GraphQL and GraphiQL) and the REST API; the
//! subgraphs' own HTTP endpoints are served too with `--expose-subgraphs`.
//! Any subgraph given with `--remote-subgraph NAME=URL` is not started here but
//! reached over HTTP at URL (mixed mode). There are no children to supervise: a
//! handler that panics fails its own request (the HTTP server's connection task
//! or the in-process call catches it) and the process keeps serving.
//!
//! Stopping: Ctrl-C/SIGTERM stops the router and the REST layer first and lets
//! their requests in flight finish (they may still be calling the subgraphs),
//! then the subgraphs, which close their stores last.

use anyhow::{Context, bail};
use clap::Parser;
use common::in_process::LocalService;
use common::server::{Assembled, Drain, Server, Service};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::launcher::{Launch, ServiceName};

/// The settings of one-process mode beyond those every mode shares ([`Launch`]).
#[derive(Debug, Clone, Default)]
pub struct Composition {
    /// Serve the subgraphs' HTTP endpoints too (on their ports).
    pub expose_subgraphs: bool,
    /// Subgraphs not started here but reached over HTTP at their URL (their `/graphql`).
    pub remote: Vec<router::config::SubgraphUrl>,
}

/// The subgraphs this binary can run in process, by their supergraph names.
const SUBGRAPHS: [ServiceName; 3] = [ServiceName::Users, ServiceName::Tasks, ServiceName::Stats];

impl Composition {
    /// The remote URL of `subgraph`, if it is remote.
    fn remote_url(&self, subgraph: ServiceName) -> Option<&str> {
        self.remote
            .iter()
            .find(|remote| remote.name == subgraph.as_str())
            .map(|remote| remote.url.as_str())
    }

    fn check(&self) -> anyhow::Result<()> {
        for remote in &self.remote {
            if !SUBGRAPHS.iter().any(|name| name.as_str() == remote.name) {
                bail!(
                    "--remote-subgraph names {:?}; the subgraphs are users, tasks and stats",
                    remote.name
                );
            }
        }
        Ok(())
    }
}

/// A subgraph of the composition: assembled here, or remote.
enum Part<S: Service> {
    Here(Assembled<S>),
    Remote,
}

impl<S: Service> Part<S> {
    /// Its app for in-process calls, when it is here.
    fn local(&self) -> Option<LocalService> {
        match self {
            Part::Here(assembled) => Some(LocalService::new(
                S::NAME.as_str(),
                assembled.app.clone(),
                &assembled.limits,
            )),
            Part::Remote => None,
        }
    }
}

/// The five services assembled and wired to each other, nothing bound yet.
struct Composed {
    users: Part<users::Users>,
    tasks: Part<tasks::Tasks>,
    stats: Part<stats::Stats>,
    router: Assembled<router::Router>,
    rest: Assembled<rest_compat::RestCompat>,
}

/// A service's own command line: its flags over its environment over its defaults, as alone.
fn parse<C: Parser>(name: ServiceName, args: Vec<String>) -> anyhow::Result<C> {
    C::try_parse_from(std::iter::once(name.as_str().to_owned()).chain(args))
        .with_context(|| format!("configuring {}", name.as_str()))
}

/// The flags a service gets in this launch: data directory, database, port.
fn flags(launch: &Launch, name: ServiceName, database_url: Option<&String>) -> Vec<String> {
    let mut args = vec![
        "--data-dir".to_owned(),
        launch.data_dir.display().to_string(),
    ];
    if let Some(url) = database_url {
        args.extend(["--database-url".to_owned(), url.clone()]);
    }
    if let Some(port) = launch.ports.get(name) {
        args.extend(["--port".to_owned(), port.to_string()]);
    }
    args
}

async fn compose(launch: &Launch, composition: &Composition) -> anyhow::Result<Composed> {
    composition.check()?;
    let prepared = crate::launcher::prepare_data_dir(launch)?;

    let users = match composition.remote_url(ServiceName::Users) {
        Some(_) => Part::Remote,
        None => {
            let cli: users::Cli = parse(
                ServiceName::Users,
                flags(
                    launch,
                    ServiceName::Users,
                    launch.users_database_url.as_ref(),
                ),
            )?;
            Part::Here(users::Users::assemble(cli.config).await?)
        }
    };

    let tasks = match composition.remote_url(ServiceName::Tasks) {
        Some(_) => Part::Remote,
        None => {
            let mut args = flags(
                launch,
                ServiceName::Tasks,
                launch.tasks_database_url.as_ref(),
            );
            if let Some(url) = composition.remote_url(ServiceName::Users) {
                args.extend(["--users-url".to_owned(), url.to_owned()]);
            }
            let mut cli: tasks::Cli = parse(ServiceName::Tasks, args)?;
            cli.config.users_in_process = users.local();
            Part::Here(tasks::Tasks::assemble(cli.config).await?)
        }
    };

    let stats = match composition.remote_url(ServiceName::Stats) {
        Some(_) => Part::Remote,
        None => {
            let cli: stats::Cli =
                parse(ServiceName::Stats, flags(launch, ServiceName::Stats, None))?;
            Part::Here(stats::Stats::assemble(cli.config).await?)
        }
    };

    let mut args = vec![
        "--supergraph".to_owned(),
        prepared.supergraph.display().to_string(),
        "--graphiql-document".to_owned(),
        prepared.graphiql_example.display().to_string(),
    ];
    if let Some(port) = launch.ports.get(ServiceName::Router) {
        args.extend(["--port".to_owned(), port.to_string()]);
    }
    for remote in &composition.remote {
        args.extend([
            "--subgraph-url".to_owned(),
            format!("{}={}", remote.name, remote.url),
        ]);
    }
    let mut router_cli: router::Cli = parse(ServiceName::Router, args)?;
    let in_process = &mut router_cli.config.in_process_subgraphs;
    for (name, local) in [
        (ServiceName::Users, users.local()),
        (ServiceName::Tasks, tasks.local()),
        (ServiceName::Stats, stats.local()),
    ] {
        if let Some(local) = local {
            in_process.insert(name.as_str(), local);
        }
    }
    let router = router::Router::assemble(router_cli.config).await?;

    let mut args = Vec::new();
    if let Some(port) = launch.ports.get(ServiceName::RestCompat) {
        args.extend(["--port".to_owned(), port.to_string()]);
    }
    let mut rest_cli: rest_compat::Cli = parse(ServiceName::RestCompat, args)?;
    rest_cli.config.router_in_process = Some(LocalService::new(
        router::SERVICE,
        router.app.clone(),
        &router.limits,
    ));
    let rest = rest_compat::RestCompat::assemble(rest_cli.config).await?;

    Ok(Composed {
        users,
        tasks,
        stats,
        router,
        rest,
    })
}

/// Resolves once `stop` says so (or its sender is gone).
async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// A subgraph once the edge is bound: serving its own HTTP endpoint, or only
/// holding what it must drain.
enum Running<S: Service> {
    Serving(JoinHandle<anyhow::Result<()>>),
    Holding(S::Resources),
    Remote,
}

impl<S: Service> Running<S> {
    async fn start(
        part: Part<S>,
        expose: bool,
        stop: &watch::Receiver<bool>,
    ) -> anyhow::Result<Self> {
        Ok(match part {
            Part::Remote => Running::Remote,
            Part::Here(assembled) if expose => {
                let server = Server::<S>::bind(assembled)
                    .await
                    .with_context(|| format!("binding {}", S::NAME.as_str()))?;
                Running::Serving(tokio::spawn(server.run_until(stopped(stop.clone()))))
            }
            Part::Here(mut assembled) => {
                S::on_serve(&mut assembled.resources);
                Running::Holding(assembled.resources)
            }
        })
    }

    async fn stop(self) -> anyhow::Result<()> {
        match self {
            Running::Serving(task) => task.await.context("a subgraph's server")?,
            Running::Holding(resources) => {
                resources.drain().await;
                Ok(())
            }
            Running::Remote => Ok(()),
        }
    }
}

/// The composed system, serving.
pub struct OneProcess {
    pub router_url: String,
    pub rest_url: String,
    edge_stop: watch::Sender<bool>,
    subgraphs_stop: watch::Sender<bool>,
    router: JoinHandle<anyhow::Result<()>>,
    rest: JoinHandle<anyhow::Result<()>>,
    users: Running<users::Users>,
    tasks: Running<tasks::Tasks>,
    stats: Running<stats::Stats>,
}

impl OneProcess {
    /// Assembles every service, binds the router and the REST layer (and the
    /// subgraphs when exposed), and starts serving.
    pub async fn start(launch: &Launch, composition: &Composition) -> anyhow::Result<OneProcess> {
        let composed = compose(launch, composition).await?;
        let (edge_stop, edge_stopped) = watch::channel(false);
        let (subgraphs_stop, subgraphs_stopped) = watch::channel(false);
        let expose = composition.expose_subgraphs;
        let users = Running::start(composed.users, expose, &subgraphs_stopped).await?;
        let tasks = Running::start(composed.tasks, expose, &subgraphs_stopped).await?;
        let stats = Running::start(composed.stats, expose, &subgraphs_stopped).await?;
        let router = Server::<router::Router>::bind(composed.router).await?;
        let rest = Server::<rest_compat::RestCompat>::bind(composed.rest).await?;
        let router_url = format!("http://{}", router.addr());
        let rest_url = format!("http://{}", rest.addr());
        Ok(OneProcess {
            router_url,
            rest_url,
            router: tokio::spawn(router.run_until(stopped(edge_stopped.clone()))),
            rest: tokio::spawn(rest.run_until(stopped(edge_stopped))),
            edge_stop,
            subgraphs_stop,
            users,
            tasks,
            stats,
        })
    }

    /// Stops the edge (router, REST) and lets its requests finish, then the subgraphs.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.edge_stop.send(true);
        let router = self.router.await.context("the router's server");
        let rest = self.rest.await.context("the REST layer's server");
        let _ = self.subgraphs_stop.send(true);
        let subgraphs = [
            self.users.stop().await,
            self.tasks.stop().await,
            self.stats.stop().await,
        ];
        router??;
        rest??;
        subgraphs.into_iter().collect()
    }
}

/// The default mode: start everything in this process, say where it is, serve
/// until Ctrl-C or SIGTERM, then stop in order.
pub async fn run_until_stopped(launch: Launch, composition: Composition) -> anyhow::Result<()> {
    let system = OneProcess::start(&launch, &composition).await?;
    crate::launcher::print_banner(
        &launch.data_dir,
        "one process",
        &system.router_url,
        &system.rest_url,
        None,
    );
    common::server::shutdown_signal().await;
    println!("Stopping…");
    system.shutdown().await
}
