//! GraphiQL is served by the router itself, with every file it needs, and
//! references nothing outside the router.

mod http_support;

use http_support::{content_type, spawn_router};

const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

#[tokio::test]
async fn the_page_and_its_assets_come_from_the_router() {
    let router = spawn_router(&[]).await;
    let page = router
        .client
        .get(format!("{}/", router.base_url))
        .send()
        .await
        .expect("answers");
    assert_eq!(page.status(), 200);
    assert!(
        content_type(&page).starts_with("text/html"),
        "{}",
        content_type(&page)
    );
    let html = page.text().await.expect("text");
    assert!(
        !html.contains("//"),
        "the page must not load anything from elsewhere:\n{html}"
    );

    let assets: Vec<&str> = html
        .split(['"', '\''])
        .filter(|part| part.starts_with("/graphiql/"))
        .collect();
    assert_eq!(assets.len(), 7, "{assets:?}");
    for asset in assets {
        let response = router
            .client
            .get(format!("{}{asset}", router.base_url))
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status(), 200, "{asset}");
        let expected = if asset.ends_with(".css") {
            "text/css"
        } else {
            "text/javascript"
        };
        assert!(
            content_type(&response).starts_with(expected),
            "{asset}: {}",
            content_type(&response)
        );
        assert!(response.bytes().await.expect("body").len() > 100, "{asset}");
    }
    let missing = router
        .client
        .get(format!("{}/graphiql/nope.js", router.base_url))
        .send()
        .await
        .expect("answers");
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn browsers_get_graphiql_from_graphql_and_other_clients_get_graphql() {
    let router = spawn_router(&[]).await;
    let page = router
        .client
        .get(router.graphql_url())
        .header("accept", BROWSER_ACCEPT)
        .send()
        .await
        .expect("answers");
    assert!(content_type(&page).starts_with("text/html"));

    let linked = router
        .client
        .get(format!("{}/", router.base_url))
        .header("accept", BROWSER_ACCEPT)
        .query(&[("query", "{ hello }")])
        .send()
        .await
        .expect("answers");
    assert!(
        content_type(&linked).starts_with("text/html"),
        "a browser opening a link gets the editor"
    );

    let api = router
        .client
        .get(format!("{}/", router.base_url))
        .header("accept", "application/json")
        .query(&[("query", "{ hello }")])
        .send()
        .await
        .expect("answers");
    assert!(content_type(&api).starts_with("application/json"));
    let body: serde_json::Value = api.json().await.expect("JSON");
    assert_eq!(body["data"]["hello"], "hello from echo");

    let no_query = router
        .client
        .get(router.graphql_url())
        .send()
        .await
        .expect("answers");
    assert_eq!(
        no_query.status(),
        400,
        "a GET of /graphql without a query and without HTML is a bad GraphQL request"
    );
}
