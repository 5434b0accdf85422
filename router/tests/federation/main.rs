//! The router's federation suite: real subgraphs (async-graphql on axum, port 0)
//! behind the engine loaded from the committed, composed supergraph.

mod blog;
mod blog_cases;
mod cancellation;
mod catalog;
mod catalog_cases;
mod failures;
mod harness;
mod in_process;
mod queries;
mod schema;
mod subgraphs;

/// Writes the subgraph SDLs the supergraph fixture is composed from; run after
/// changing a test subgraph, then compose (see tests/fixtures/README.md).
#[test]
#[ignore]
fn write_subgraph_sdls() {
    use async_graphql::SDLExportOptions;
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let options = || SDLExportOptions::new().federation().compose_directive();
    let sdls = [
        (
            "accounts",
            subgraphs::accounts::schema().sdl_with_options(options()),
        ),
        (
            "products",
            subgraphs::products::schema().sdl_with_options(options()),
        ),
        (
            "inventory",
            subgraphs::inventory::schema().sdl_with_options(options()),
        ),
        (
            "reviews",
            subgraphs::reviews::schema().sdl_with_options(options()),
        ),
    ];
    for (name, sdl) in sdls {
        std::fs::write(fixtures.join(format!("{name}.graphql")), sdl)
            .expect("write a subgraph SDL");
    }
    let blog = [
        ("posts", blog::posts::schema().sdl_with_options(options())),
        (
            "insights",
            blog::insights::schema().sdl_with_options(options()),
        ),
    ];
    for (name, sdl) in blog {
        std::fs::write(fixtures.join(format!("blog/{name}.graphql")), sdl)
            .expect("write a subgraph SDL");
    }
    let catalog = [
        (
            "media",
            catalog::media::schema().sdl_with_options(options()),
        ),
        (
            "extras",
            catalog::extras::schema().sdl_with_options(options()),
        ),
    ];
    for (name, sdl) in catalog {
        std::fs::write(fixtures.join(format!("catalog/{name}.graphql")), sdl)
            .expect("write a subgraph SDL");
    }
}
