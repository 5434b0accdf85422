//! The token check at the edge (`--require-valid-token`) knows no issuer's claims:
//! the router in front of a supergraph whose tokens carry a string `sub`
//! (`"auth0|abc"`) accepts a valid token and forwards it untouched, refuses a bad
//! signature, an expired token or a stranger's with 401 UNAUTHENTICATED before
//! planning, and lets requests without a token through. Both key kinds are
//! covered: a shared HMAC secret, and an issuer's public keys as a JSON Web Key
//! Set (ES256, with issuer and audience checked). The key pair in
//! `fixtures/tokens/` was made for this test only: `openssl genpkey -algorithm EC
//! -pkeyopt ec_paramgen_curve:P-256`, the private key as PKCS#8 DER (what the
//! tests sign with), the public key as `jwks.json` (kid `test-es256`).

mod http_support;

use http_support::{TestRouter, first_error_code, spawn_router};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

const RECEIVED: &str = "{ received { authorization } }";
const SECRET: &str = "edge-test-secret";
const ES256_PRIVATE: &[u8] = include_bytes!("fixtures/tokens/es256-private.pk8.der");

fn jwks_path() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/tokens/jwks.json"
    )
    .to_owned()
}

fn in_an_hour() -> u64 {
    jsonwebtoken::get_current_timestamp() + 3600
}

fn hs256(secret: &str, claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()).expect("HMAC key"),
    )
    .expect("signed")
}

fn es256(kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ec_der(ES256_PRIVATE)).expect("signed")
}

async fn post(router: &TestRouter, query: &str, authorization: Option<&str>) -> reqwest::Response {
    let mut request = router
        .client
        .post(router.graphql_url())
        .header("content-type", "application/json")
        .body(json!({ "query": query }).to_string());
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    request.send().await.expect("router answers")
}

/// The token reaches the subgraph exactly as the client sent it.
async fn assert_accepted(router: &TestRouter, authorization: &str) {
    let response = post(router, RECEIVED, Some(authorization)).await;
    assert_eq!(response.status(), 200, "{authorization}");
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(
        body["data"]["received"]["authorization"], authorization,
        "{body}"
    );
}

async fn assert_refused(router: &TestRouter, authorization: &str) {
    let response = post(router, RECEIVED, Some(authorization)).await;
    assert_eq!(response.status(), 401, "{authorization}");
    assert_eq!(
        response
            .headers()
            .get("www-authenticate")
            .and_then(|value| value.to_str().ok()),
        Some("Bearer")
    );
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(first_error_code(&body), "UNAUTHENTICATED", "{body}");
    assert!(body.get("data").is_none(), "{body}");
}

#[tokio::test]
async fn a_shared_secret_accepts_any_subject_and_refuses_bad_tokens() {
    let router = spawn_router(&["--require-valid-token", "--secret-key", SECRET]).await;

    for sub in [json!("auth0|abc"), json!("7"), json!("user@example.com")] {
        let token = hs256(SECRET, &json!({ "sub": sub, "exp": in_an_hour() }));
        assert_accepted(&router, &format!("Bearer {token}")).await;
    }

    let foreign = hs256(
        "someone-elses-secret",
        &json!({ "sub": "auth0|abc", "exp": in_an_hour() }),
    );
    let expired = hs256(SECRET, &json!({ "sub": "auth0|abc", "exp": 1_000_000_000 }));
    let mut tampered = hs256(SECRET, &json!({ "sub": "auth0|abc", "exp": in_an_hour() }));
    tampered.push('x');
    for bad in [foreign, expired, tampered, "not-a-jwt".to_owned()] {
        assert_refused(&router, &format!("Bearer {bad}")).await;
    }

    // Refused before anything else: even a document that does not parse gets the 401.
    let response = post(&router, "{", Some("Bearer not-a-jwt")).await;
    assert_eq!(response.status(), 401);

    let anonymous = post(&router, RECEIVED, None).await;
    assert_eq!(anonymous.status(), 200, "no token is not a bad token");
    let other_scheme = post(&router, RECEIVED, Some("Basic dXNlcjpwYXNz")).await;
    assert_eq!(other_scheme.status(), 200, "nor is another scheme");
}

#[tokio::test]
async fn a_key_set_verifies_an_issuers_tokens_with_issuer_and_audience() {
    let jwks = jwks_path();
    let router = spawn_router(&[
        "--require-valid-token",
        "--token-jwks",
        &jwks,
        "--token-issuer",
        "https://issuer.example/",
        "--token-audience",
        "tasks-api",
    ])
    .await;
    let claims = |iss: &str, aud: &str, exp: u64| json!({ "sub": "auth0|abc", "iss": iss, "aud": aud, "exp": exp, "scope": "read" });
    let good = claims("https://issuer.example/", "tasks-api", in_an_hour());
    // Named by its kid, or not named (the set has one key).
    for kid in [Some("test-es256"), None] {
        let valid = es256(kid, &good);
        assert_accepted(&router, &format!("Bearer {valid}")).await;
    }

    for bad in [
        es256(
            Some("test-es256"),
            &claims("https://issuer.example/", "tasks-api", 1_000_000_000),
        ),
        es256(
            Some("test-es256"),
            &claims("https://evil.example/", "tasks-api", in_an_hour()),
        ),
        es256(
            Some("test-es256"),
            &claims("https://issuer.example/", "another-api", in_an_hour()),
        ),
        // The right claims under an HMAC signature (the algorithm-confusion attack).
        hs256(
            SECRET,
            &claims("https://issuer.example/", "tasks-api", in_an_hour()),
        ),
    ] {
        assert_refused(&router, &format!("Bearer {bad}")).await;
    }
}

#[tokio::test]
async fn without_edge_validation_tokens_are_left_to_the_subgraphs() {
    let router = spawn_router(&[]).await;
    let response = post(&router, RECEIVED, Some("Bearer not-a-jwt")).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(
        body["data"]["received"]["authorization"],
        "Bearer not-a-jwt"
    );
}

#[test]
fn settings_that_could_verify_no_token_stop_the_router_at_start() {
    use clap::Parser;
    let verifier = |args: &[&str]| {
        let mut all = vec!["router", "--require-valid-token"];
        all.extend_from_slice(args);
        let cli = router::Cli::try_parse_from(all).expect("arguments parse");
        cli.config.tokens.verifier().map(|_| ())
    };
    let error = verifier(&["--algorithm", "RS256", "--secret-key", SECRET]).expect_err("no key");
    assert!(error.to_string().contains("--token-jwks"), "{error}");
    assert!(verifier(&["--algorithm", "none", "--secret-key", SECRET]).is_err());

    let dir = test_support::fresh_data_dir("router-jwks");
    std::fs::create_dir_all(&dir).expect("test directory");
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        path.display().to_string()
    };
    let x = "AQeVEFq0Ad5L66uKvNIQvlC5HZ2f6oHnHrVhhOumKhE";
    let y = "V-0Q7r5FsmpLZhUP-ZoCFfST-MsVGMIlz5H6lcS0uSU";
    let no_alg = write(
        "no-alg.json",
        &json!({ "keys": [{ "kty": "EC", "crv": "P-256", "x": x, "y": y }] }).to_string(),
    );
    // An EC key without `alg` under the default HS256: it could verify nothing.
    let error = verifier(&["--token-jwks", &no_alg]).expect_err("family mismatch");
    assert!(error.to_string().contains("cannot verify"), "{error}");
    // With ALGORITHM naming its family, it is used.
    assert!(verifier(&["--token-jwks", &no_alg, "--algorithm", "ES256"]).is_ok());
    let broken: [String; 3] = [
        write("empty.json", r#"{"keys": []}"#),
        write("not-jwks.json", r#"{"kid": "x"}"#),
        dir.join("missing.json").display().to_string(),
    ];
    for broken in broken {
        assert!(verifier(&["--token-jwks", &broken]).is_err(), "{broken}");
    }
    std::fs::remove_dir_all(&dir).expect("remove the test directory");
}
