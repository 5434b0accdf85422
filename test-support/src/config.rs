//! The parts of a service configuration every test kit sets the same way, so
//! that each service's `Config` literal (one per service, in its test kit)
//! spells only what is its own: the fixed test signing key with the contract's
//! algorithm and lifetime, pretty logs, loopback, a data directory.

use std::path::Path;

use common::config::{DataDirArgs, ListenArgs, LogArgs, LogFormat};
use common::server::Service;
use tokens::JwtArgs;
use tokens::JwtKeys;

/// Tests serve on loopback only, on port 0 (a free port the service reports).
pub const HOST: &str = "127.0.0.1";

/// Listening on loopback, port 0.
pub fn listen<S: Service>() -> ListenArgs<S> {
    ListenArgs::new(HOST, 0)
}

const ALGORITHM: &str = "HS256";
const TOKEN_MINUTES: i64 = 30;

/// Token settings with a fixed `secret` (no environment variable leaks in).
pub fn jwt(secret: &str) -> JwtArgs {
    JwtArgs {
        secret_key: Some(secret.to_owned()),
        algorithm: ALGORITHM.to_owned(),
        access_token_expire_minutes: TOKEN_MINUTES,
    }
}

/// Keys that sign and check tokens exactly as a service configured with
/// [`jwt`]`(secret)` does.
pub fn keys(secret: &str) -> JwtKeys {
    JwtKeys::new(secret, ALGORITHM, TOKEN_MINUTES).expect("test signing keys")
}

/// Human-readable logs.
pub fn log() -> LogArgs {
    LogArgs {
        log_format: LogFormat::Pretty,
    }
}

/// The data directory setting for `dir`.
pub fn data_dir(dir: &Path) -> DataDirArgs {
    DataDirArgs {
        data_dir: dir.to_owned(),
    }
}
