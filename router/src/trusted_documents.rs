//! Trusted documents (safelisting): the operations a team's own apps send,
//! listed in a manifest in Apollo's persisted-query manifest format
//! (`{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id","name","type","body"}]}`,
//! what `generate-persisted-query-manifest` writes), loaded at start. Clients may
//! then send an operation by its id alone, and the router can lock its API to the
//! listed operations: `log` runs unlisted ones and logs them (to learn what a
//! deployment sends before locking it), `reject` refuses them with a coded error.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, ValueEnum};
use serde::Deserialize;

/// What the router does with an operation that is not in the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// No manifest: every operation runs, no id is known.
    Off,
    /// Listed operations may be sent by id; unlisted ones run and are logged.
    Log,
    /// Listed operations may be sent by id; unlisted ones are refused.
    Reject,
}

/// Command line of trusted documents.
#[derive(Debug, Clone, Args)]
pub struct TrustedDocumentsArgs {
    /// `log` or `reject` operations that are not in the manifest (`off`: no manifest).
    #[arg(id = "trusted_documents", long = "trusted-documents", env = "ROUTER_TRUSTED_DOCUMENTS", value_enum, default_value_t = Mode::Off)]
    pub mode: Mode,

    /// The manifest of trusted operations, in Apollo's persisted-query manifest JSON format
    /// (needed by `log` and `reject`).
    #[arg(id = "trusted_documents_manifest", value_name = "PATH")]
    #[arg(long = "trusted-documents-manifest")]
    #[arg(env = "ROUTER_TRUSTED_DOCUMENTS_MANIFEST")]
    pub manifest: Option<PathBuf>,
}

/// The manifest's format name and version this router reads.
const FORMAT: &str = "apollo-persisted-query-manifest";
const VERSION: u64 = 1;

#[derive(Deserialize)]
struct Manifest {
    format: String,
    version: u64,
    operations: Vec<ManifestOperation>,
}

#[derive(Deserialize)]
struct ManifestOperation {
    id: String,
    body: String,
    // `name` and `type` are part of the format but not needed to serve.
}

/// The loaded manifest.
#[derive(Debug, Clone)]
pub struct TrustedDocuments {
    pub mode: Mode,
    /// Id → body; each body is also reachable by its SHA-256, the id
    /// automatic persisted queries use, so APQ clients reach listed operations.
    by_id: HashMap<Arc<str>, Arc<str>>,
    bodies: HashSet<Arc<str>>,
}

impl TrustedDocuments {
    /// Reads the manifest `args` name; a router asked to use one that cannot be read refuses to start.
    pub fn load(args: &TrustedDocumentsArgs) -> anyhow::Result<Self> {
        match (args.mode, &args.manifest) {
            (Mode::Off, None) => Ok(Self::off()),
            (Mode::Off, Some(path)) => anyhow::bail!(
                "--trusted-documents-manifest {} is set but --trusted-documents is off: choose log or reject",
                path.display()
            ),
            (mode, None) => {
                anyhow::bail!("--trusted-documents {mode:?} needs --trusted-documents-manifest")
            }
            (mode, Some(path)) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading the manifest {}", path.display()))?;
                Self::parse(mode, &text).with_context(|| format!("the manifest {}", path.display()))
            }
        }
    }

    pub fn off() -> Self {
        Self {
            mode: Mode::Off,
            by_id: HashMap::new(),
            bodies: HashSet::new(),
        }
    }

    fn parse(mode: Mode, text: &str) -> anyhow::Result<Self> {
        let manifest: Manifest =
            serde_json::from_str(text).context("not a persisted-query manifest")?;
        anyhow::ensure!(
            manifest.format == FORMAT && manifest.version == VERSION,
            "format {:?} version {} is not {FORMAT:?} version {VERSION}",
            manifest.format,
            manifest.version
        );
        let mut documents = Self {
            mode,
            by_id: HashMap::new(),
            bodies: HashSet::new(),
        };
        for operation in manifest.operations {
            let body: Arc<str> = operation.body.into();
            let hash = crate::apq::sha256_hex(&body);
            if let Some(previous) = documents.by_id.get(operation.id.as_str())
                && *previous != body
            {
                anyhow::bail!("the id {:?} names two different bodies", operation.id);
            }
            documents.by_id.insert(operation.id.into(), body.clone());
            documents.by_id.entry(hash.into()).or_insert(body.clone());
            documents.bodies.insert(body);
        }
        Ok(documents)
    }

    /// The body of a listed operation, by id (or by its SHA-256).
    pub fn body(&self, id: &str) -> Option<Arc<str>> {
        self.by_id.get(id).cloned()
    }

    pub fn is_listed(&self, body: &str) -> bool {
        self.bodies.contains(body)
    }

    /// How many operations the manifest lists.
    pub fn len(&self) -> usize {
        self.bodies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bodies.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"{
      "format": "apollo-persisted-query-manifest",
      "version": 1,
      "operations": [
        { "id": "hello-id", "name": "Hello", "type": "query", "body": "query Hello { hello }" }
      ]
    }"#;

    #[test]
    fn operations_are_found_by_id_by_hash_and_by_body() {
        let documents = TrustedDocuments::parse(Mode::Reject, MANIFEST).expect("parses");
        assert_eq!(
            documents.body("hello-id").as_deref(),
            Some("query Hello { hello }")
        );
        let hash = crate::apq::sha256_hex("query Hello { hello }");
        assert_eq!(
            documents.body(&hash).as_deref(),
            Some("query Hello { hello }")
        );
        assert!(documents.is_listed("query Hello { hello }"));
        assert!(!documents.is_listed("query Hello { hello hello }"));
        assert!(documents.body("other").is_none());
        assert_eq!(documents.len(), 1);
    }

    #[test]
    fn other_formats_and_conflicting_ids_are_refused() {
        for bad in [
            r#"{"format":"something-else","version":1,"operations":[]}"#,
            r#"{"format":"apollo-persisted-query-manifest","version":2,"operations":[]}"#,
            r#"{"format":"apollo-persisted-query-manifest","version":1,"operations":[
                {"id":"a","name":"A","type":"query","body":"{ a }"},
                {"id":"a","name":"B","type":"query","body":"{ b }"}]}"#,
            "[]",
        ] {
            assert!(TrustedDocuments::parse(Mode::Log, bad).is_err(), "{bad}");
        }
    }
}
