use std::collections::BTreeSet;

use serde_json::Value;

use crate::helpers::spawn_app;

/// Every endpoint of the REST contract (rest-api-v1.md), as OpenAPI paths.
const CONTRACT: [(&str, &str); 13] = [
    ("post", "/api/v1/auth/register"),
    ("post", "/api/v1/auth/login"),
    ("get", "/api/v1/auth/me"),
    ("post", "/api/v1/tasks/"),
    ("get", "/api/v1/tasks/"),
    ("get", "/api/v1/tasks/stats"),
    ("get", "/api/v1/tasks/{task_id}"),
    ("put", "/api/v1/tasks/{task_id}"),
    ("delete", "/api/v1/tasks/{task_id}"),
    ("patch", "/api/v1/tasks/{task_id}/complete"),
    ("patch", "/api/v1/tasks/{task_id}/incomplete"),
    ("get", "/api/v1/stats/"),
    ("get", "/health"),
];

fn collect_refs(value: &Value, refs: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                refs.insert(target.clone());
            }
            map.values().for_each(|inner| collect_refs(inner, refs));
        }
        Value::Array(items) => items.iter().for_each(|inner| collect_refs(inner, refs)),
        _ => {}
    }
}

#[tokio::test]
async fn openapi_document_is_valid_and_lists_the_whole_contract() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("application/json")
    );
    let doc: Value = response.json().await.expect("JSON document");

    assert!(doc["openapi"].as_str().expect("version").starts_with("3."));
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let mut operation_ids = BTreeSet::new();
    for (method, path) in CONTRACT {
        let operation = &doc["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} missing");
        let responses = operation["responses"].as_object().expect("responses");
        assert!(
            responses.keys().any(|status| status.starts_with('2')),
            "{method} {path} has no success"
        );
        for status in responses.keys() {
            assert!(
                status.len() == 3 && status.parse::<u16>().is_ok(),
                "{method} {path}: {status}"
            );
        }
        assert!(
            operation_ids.insert(
                operation["operationId"]
                    .as_str()
                    .expect("operationId")
                    .to_owned()
            )
        );
    }
    // Nothing beyond the contract is documented.
    let documented: usize = doc["paths"]
        .as_object()
        .expect("paths")
        .values()
        .map(|item| item.as_object().map_or(0, |ops| ops.len()))
        .sum();
    assert_eq!(documented, CONTRACT.len() + 1, "only the contract plus `/`");

    // Every reference resolves.
    let mut refs = BTreeSet::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for target in refs {
        let pointer = target.strip_prefix('#').expect("local reference");
        assert!(doc.pointer(pointer).is_some(), "dangling {target}");
    }

    // Task ids are integer path parameters; authenticated operations use the password flow.
    let task_param = &doc["paths"]["/api/v1/tasks/{task_id}"]["get"]["parameters"][0];
    assert_eq!(task_param["in"], "path");
    assert_eq!(task_param["schema"]["type"], "integer");
    let scheme = &doc["components"]["securitySchemes"]["OAuth2PasswordBearer"];
    assert_eq!(scheme["type"], "oauth2");
    assert_eq!(
        scheme["flows"]["password"]["tokenUrl"],
        "/api/v1/auth/login"
    );
    assert!(doc["paths"]["/api/v1/tasks/"]["get"]["security"].is_array());
    assert!(
        doc["paths"]["/api/v1/auth/register"]["post"]
            .get("security")
            .is_none()
    );
    let login = &doc["paths"]["/api/v1/auth/login"]["post"]["requestBody"]["content"];
    assert!(
        login["application/json"].is_object()
            && login["application/x-www-form-urlencoded"].is_object()
    );
}

#[tokio::test]
async fn swagger_ui_is_served_without_a_cdn() {
    let app = spawn_app().await;
    let page = app
        .client
        .get(app.url("/docs"))
        .send()
        .await
        .expect("request");
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("/openapi.json"));
    assert!(
        !html.contains("https://") && !html.contains("http://"),
        "no external assets"
    );
    for (asset, content_type) in [
        ("/docs/swagger-ui-bundle.js", "text/javascript"),
        ("/docs/swagger-ui.css", "text/css"),
    ] {
        assert!(html.contains(asset), "{asset} referenced");
        let response = app
            .client
            .get(app.url(asset))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status().as_u16(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .expect("ascii")
                .starts_with(content_type)
        );
        assert!(
            response.bytes().await.expect("bytes").len() > 10_000,
            "{asset} is the real bundle"
        );
    }
}

/// The served document passes a real OpenAPI 3 validator (npm `@apidevtools/swagger-parser`,
/// pinned in tools/federation and installed by scripts/setup).
#[tokio::test]
async fn openapi_document_passes_the_openapi_validator() {
    let tools = test_support::tools::require_federation_tools(&["@apidevtools/swagger-parser"]);
    let app = spawn_app().await;
    let document = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    let file = std::env::temp_dir().join(format!("openapi-{}.json", std::process::id()));
    std::fs::write(&file, &document).expect("write the document");
    let output = tokio::process::Command::new("node")
        .arg(tools.join("validate-openapi.mjs"))
        .arg(&file)
        .output()
        .await
        .expect("node runs");
    let _ = std::fs::remove_file(&file);
    assert!(
        output.status.success(),
        "the OpenAPI document is invalid: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("valid: OpenAPI 3."));
}
