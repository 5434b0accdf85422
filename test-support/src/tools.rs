//! Tests that need a tool from outside Rust (Chromium, Node.js and the pinned
//! npm packages of `tools/federation`) check for it first and FAIL, naming the
//! tool and `scripts/setup` (which installs them all), rather than pass having
//! checked nothing.

use std::path::{Path, PathBuf};

/// `tools/federation` at the repository root: the pinned npm tools.
pub fn federation_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/federation")
}

/// Panics unless `program` is an executable on `PATH` (or an existing path).
#[track_caller]
pub fn require_program(program: &str) -> PathBuf {
    let found = if program.contains('/') {
        Some(PathBuf::from(program)).filter(|path| path.is_file())
    } else {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(program))
                .find(|path| path.is_file())
        })
    };
    found.unwrap_or_else(|| {
        panic!("{program} is not installed: this test needs it; `scripts/setup` installs it")
    })
}

/// Checks that `node` runs and that every npm package in `packages` is
/// installed in `tools/federation/node_modules`; returns `tools/federation`.
#[track_caller]
pub fn require_federation_tools(packages: &[&str]) -> PathBuf {
    require_program("node");
    let tools = federation_dir();
    for package in packages {
        assert!(
            tools
                .join("node_modules")
                .join(package)
                .join("package.json")
                .is_file(),
            "npm {package} is not installed in {}: this test needs it; `scripts/setup` installs it (npm ci there)",
            tools.display()
        );
    }
    tools
}
