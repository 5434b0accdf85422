//! The schema pipeline itself (tools/federation/*.mjs, used by scripts/schema-check),
//! run on the fixtures in schema/fixtures: a base pair of subgraphs, a breaking
//! variant (a removed field), a compatible one (additions) and one that does not compose.
//!
//! Needs Node.js and the pinned npm tools of `tools/federation` (`scripts/setup`
//! installs them): without them every test here fails, naming what is missing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(relative: &str) -> String {
    repo_root()
        .join("schema/fixtures")
        .join(relative)
        .to_string_lossy()
        .into_owned()
}

/// The npm packages compose.mjs and diff.mjs import; a test without them fails.
fn require_tools() {
    test_support::tools::require_federation_tools(&[
        "@theguild/federation-composition",
        "@graphql-inspector/core",
        "graphql",
        "yaml",
    ]);
}

fn node(script: &str, args: &[&str]) -> Output {
    Command::new("node")
        .arg(repo_root().join("tools/federation").join(script))
        .args(args)
        .output()
        .expect("run node (is it installed?)")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Composes the accounts subgraph of `variant` with the base notes subgraph.
fn compose_accounts(variant: &str) -> String {
    let output = node(
        "compose.mjs",
        &[
            &format!(
                "accounts=http://127.0.0.1:9001/graphql={}",
                fixture(&format!("{variant}/accounts.graphql"))
            ),
            &format!(
                "notes=http://127.0.0.1:9002/graphql={}",
                fixture("base/notes.graphql")
            ),
        ],
    );
    assert!(
        output.status.success(),
        "{variant} composes: {}",
        text(&output.stderr)
    );
    text(&output.stdout)
}

/// Writes a composed supergraph where diff.mjs can read it.
fn supergraph_file(dir: &Path, name: &str, sdl: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, sdl).expect("write the supergraph");
    path.to_string_lossy().into_owned()
}

fn scratch_dir() -> PathBuf {
    let dir = test_support::fresh_data_dir("schema-pipeline");
    std::fs::create_dir_all(&dir).expect("create a scratch directory");
    dir
}

#[test]
fn the_config_file_and_the_command_line_compose_the_same_supergraph() {
    require_tools();
    let from_config = node(
        "compose.mjs",
        &["--config", &fixture("base/supergraph.yaml")],
    );
    assert!(
        from_config.status.success(),
        "{}",
        text(&from_config.stderr)
    );
    let supergraph = text(&from_config.stdout);
    assert_eq!(supergraph, compose_accounts("base"));
    assert!(
        supergraph
            .contains(r#"@join__graph(name: "accounts", url: "http://127.0.0.1:9001/graphql")"#)
    );
    assert!(
        supergraph.contains(r#"requires: "name""#),
        "the @requires survives composition"
    );
}

#[test]
fn a_removed_field_is_a_breaking_change_named_in_the_failure() {
    require_tools();
    let dir = scratch_dir();
    let base = supergraph_file(&dir, "base.graphql", &compose_accounts("base"));
    let breaking = supergraph_file(&dir, "breaking.graphql", &compose_accounts("breaking"));

    let output = node("diff.mjs", &[&base, &breaking]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "breaking → exit 1: {}",
        text(&output.stdout)
    );
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("Field 'email' was removed from object type 'Account'"),
        "{stderr}"
    );
    assert!(stderr.contains("FIELD_REMOVED Account.email"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_acknowledged_breaking_change_passes() {
    require_tools();
    let dir = scratch_dir();
    let base = supergraph_file(&dir, "base.graphql", &compose_accounts("base"));
    let breaking = supergraph_file(&dir, "breaking.graphql", &compose_accounts("breaking"));
    let ack = dir.join("breaking-changes.txt");

    std::fs::write(
        &ack,
        "# test\nFIELD_REMOVED Account.email: accounts keep e-mail private now\n",
    )
    .expect("write ack");
    let output = node(
        "diff.mjs",
        &[&base, &breaking, "--ack", &ack.to_string_lossy()],
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    assert!(text(&output.stdout).contains("acknowledged: accounts keep e-mail private now"));

    // An acknowledgement of some other change does not cover this one.
    std::fs::write(&ack, "FIELD_REMOVED Account.name: not this one\n").expect("write ack");
    let output = node(
        "diff.mjs",
        &[&base, &breaking, "--ack", &ack.to_string_lossy()],
    );
    assert_eq!(output.status.code(), Some(1));

    // An acknowledgement without a reason is refused.
    std::fs::write(&ack, "FIELD_REMOVED Account.email\n").expect("write ack");
    let output = node(
        "diff.mjs",
        &[&base, &breaking, "--ack", &ack.to_string_lossy()],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("<reason>"),
        "{}",
        text(&output.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_compatible_addition_passes() {
    require_tools();
    let dir = scratch_dir();
    let base = supergraph_file(&dir, "base.graphql", &compose_accounts("base"));
    let compatible = supergraph_file(&dir, "compatible.graphql", &compose_accounts("compatible"));

    let output = node("diff.mjs", &[&base, &compatible]);
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        text(&output.stderr)
    );
    assert!(stdout.contains("FIELD_ADDED Account.createdAt"), "{stdout}");
    assert!(
        !stdout
            .lines()
            .any(|line| line.trim_start().starts_with("BREAKING")),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn subgraphs_that_do_not_compose_fail_with_the_errors() {
    require_tools();
    let output = node(
        "compose.mjs",
        &[
            &format!(
                "accounts=http://127.0.0.1:9001/graphql={}",
                fixture("base/accounts.graphql")
            ),
            &format!(
                "notes=http://127.0.0.1:9002/graphql={}",
                fixture("not-composing/notes.graphql")
            ),
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty(), "no supergraph is printed");
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("FIELD_TYPE_MISMATCH") && stderr.contains("Account.name"),
        "{stderr}"
    );
}
