//! The small subgraphs of the federation suite, written with async-graphql:
//! accounts (users, a mutation, `@inaccessible`), products (an entity interface, a union),
//! inventory (`@requires`) and reviews (`@provides`, `@override`,
//! `@interfaceObject`, fields that fail). Their SDLs are in `tests/fixtures/`
//! (regenerate with `cargo test -p router --test federation -- --ignored write_subgraph_sdls`)
//! and composed into `tests/fixtures/supergraph.graphql`.

use std::sync::OnceLock;

use async_graphql::{
    EmptyMutation, EmptySubscription, Error, ErrorExtensions, ID, Interface, Object, Schema,
    SimpleObject, Union,
};

/// How many generated readers (with three reviews each) and books the subgraphs
/// serve beside the fixed data: none for the tests; the benchmark sets enough
/// that one query answers with tens of KB, like the public gateway benchmark's.
pub const GENERATED_DATA_VARIABLE: &str = "FEDERATION_FIXTURE_GENERATED";

fn generated() -> usize {
    static GENERATED: OnceLock<usize> = OnceLock::new();
    *GENERATED.get_or_init(|| {
        std::env::var(GENERATED_DATA_VARIABLE)
            .ok()
            .and_then(|value| value.parse().ok())
            .unwrap_or(0)
    })
}

/// Generated reader `k`'s name: the one accounts holds and reviews provides.
fn reader_name(k: usize) -> String {
    format!("Reader {k}")
}

pub mod accounts {
    use super::*;

    #[derive(SimpleObject, Clone)]
    pub struct User {
        pub id: ID,
        pub name: String,
        pub username: String,
        #[graphql(inaccessible)]
        pub secret: String,
        /// Moved to reviews with `@override`: this value must never reach clients.
        pub nickname: String,
    }

    pub fn users() -> Vec<User> {
        let fixed = [
            ("1", "Ada Lovelace", "ada"),
            ("2", "Alan Turing", "alan"),
            ("3", "Grace Hopper", "grace"),
        ]
        .map(|(id, name, username)| (id.to_owned(), name.to_owned(), username.to_owned()));
        let readers =
            (1..=generated()).map(|k| (format!("g{k}"), reader_name(k), format!("reader{k}")));
        fixed
            .into_iter()
            .chain(readers)
            .map(|(id, name, username)| User {
                secret: format!("secret-{id}"),
                nickname: format!("accounts-nickname-{id}"),
                id: ID::from(id),
                name,
                username,
            })
            .collect()
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn me(&self) -> Option<User> {
            users().into_iter().next()
        }

        async fn user(&self, id: ID) -> Option<User> {
            users().into_iter().find(|user| user.id == id)
        }

        async fn users(&self) -> Vec<User> {
            users()
        }

        #[graphql(entity)]
        async fn find_user_by_id(&self, id: ID) -> Option<User> {
            users().into_iter().find(|user| user.id == id)
        }
    }

    pub struct Mutation;

    #[Object]
    impl Mutation {
        /// Answers with the renamed user (nothing is stored: the tests count requests).
        async fn rename_user(&self, id: ID, name: String) -> Option<User> {
            let user = users().into_iter().find(|user| user.id == id)?;
            Some(User { name, ..user })
        }
    }

    pub type AccountsSchema = Schema<Query, Mutation, EmptySubscription>;

    pub fn schema() -> AccountsSchema {
        Schema::build(Query, Mutation, EmptySubscription)
            .enable_federation()
            .finish()
    }
}

pub mod products {
    use super::*;

    #[derive(SimpleObject, Clone)]
    pub struct Book {
        pub upc: String,
        pub name: String,
        pub price: i32,
        pub weight: i32,
        pub pages: i32,
    }

    #[derive(SimpleObject, Clone)]
    pub struct Furniture {
        pub upc: String,
        pub name: String,
        pub price: i32,
        pub weight: i32,
        pub material: String,
    }

    // The derive's `field(..)` lists repeat `ty = ...`, which clippy mistakes for duplicated attributes.
    #[allow(clippy::duplicated_attributes)]
    #[derive(Interface, Clone)]
    #[graphql(
        field(name = "upc", ty = "&String"),
        field(name = "name", ty = "&String"),
        field(name = "price", ty = "&i32")
    )]
    pub enum Product {
        Book(Book),
        Furniture(Furniture),
    }

    #[derive(Union, Clone)]
    pub enum SearchResult {
        Book(Book),
        Furniture(Furniture),
    }

    pub fn catalogue() -> Vec<Product> {
        let books = (1..=generated()).map(|k| {
            Product::Book(Book {
                upc: format!("g{k}"),
                name: format!("Volume {k}"),
                price: 5 + (k as i32 * 13) % 90,
                weight: 1 + k as i32 % 6,
                pages: 100 + k as i32,
            })
        });
        let fixed = vec![
            Product::Book(Book {
                upc: "b1".into(),
                name: "Dune".into(),
                price: 20,
                weight: 2,
                pages: 412,
            }),
            Product::Furniture(Furniture {
                upc: "f1".into(),
                name: "Chair".into(),
                price: 80,
                weight: 7,
                material: "oak".into(),
            }),
            Product::Book(Book {
                upc: "b2".into(),
                name: "Emma".into(),
                price: 60,
                weight: 1,
                pages: 300,
            }),
        ];
        fixed.into_iter().chain(books).collect()
    }

    fn upc_of(product: &Product) -> &str {
        match product {
            Product::Book(book) => &book.upc,
            Product::Furniture(furniture) => &furniture.upc,
        }
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn top_products(&self, #[graphql(default = 5)] first: i32) -> Vec<Product> {
            catalogue()
                .into_iter()
                .take(usize::try_from(first).unwrap_or(0))
                .collect()
        }

        async fn product(&self, upc: String) -> Option<Product> {
            catalogue()
                .into_iter()
                .find(|product| upc_of(product) == upc)
        }

        async fn search(&self, term: String) -> Vec<SearchResult> {
            catalogue()
                .into_iter()
                .filter(|product| match product {
                    Product::Book(book) => book.name.contains(&term),
                    Product::Furniture(furniture) => furniture.name.contains(&term),
                })
                .map(|product| match product {
                    Product::Book(book) => SearchResult::Book(book),
                    Product::Furniture(furniture) => SearchResult::Furniture(furniture),
                })
                .collect()
        }

        #[graphql(entity)]
        async fn find_product_by_upc(&self, upc: String) -> Option<Product> {
            catalogue()
                .into_iter()
                .find(|product| upc_of(product) == upc)
        }

        #[graphql(entity)]
        async fn find_book_by_upc(&self, upc: String) -> Option<Book> {
            catalogue().into_iter().find_map(|product| match product {
                Product::Book(book) if book.upc == upc => Some(book),
                _ => None,
            })
        }

        #[graphql(entity)]
        async fn find_furniture_by_upc(&self, upc: String) -> Option<Furniture> {
            catalogue().into_iter().find_map(|product| match product {
                Product::Furniture(furniture) if furniture.upc == upc => Some(furniture),
                _ => None,
            })
        }
    }

    pub type ProductsSchema = Schema<Query, EmptyMutation, EmptySubscription>;

    pub fn schema() -> ProductsSchema {
        Schema::build(Query, EmptyMutation, EmptySubscription)
            .enable_federation()
            .finish()
    }
}

pub mod inventory {
    use super::*;

    pub struct Book {
        upc: String,
        price: Option<i32>,
        weight: Option<i32>,
    }

    #[Object]
    impl Book {
        async fn upc(&self) -> &str {
            &self.upc
        }

        #[graphql(external)]
        async fn price(&self) -> i32 {
            self.price.unwrap_or_default()
        }

        #[graphql(external)]
        async fn weight(&self) -> i32 {
            self.weight.unwrap_or_default()
        }

        async fn in_stock(&self) -> bool {
            self.upc != "b2"
        }

        /// Free shipping above 50, otherwise 3 per weight unit: needs both external fields.
        #[graphql(requires = "price weight")]
        async fn shipping_estimate(&self) -> async_graphql::Result<i32> {
            match (self.price, self.weight) {
                (Some(price), _) if price > 50 => Ok(0),
                (Some(_), Some(weight)) => Ok(weight * 3),
                _ => Err(Error::new("price and weight are required")),
            }
        }
    }

    pub struct Query;

    #[Object]
    impl Query {
        #[graphql(entity)]
        async fn find_book_by_upc(
            &self,
            #[graphql(key)] upc: String,
            price: Option<i32>,
            weight: Option<i32>,
        ) -> Book {
            Book { upc, price, weight }
        }
    }

    pub type InventorySchema = Schema<Query, EmptyMutation, EmptySubscription>;

    pub fn schema() -> InventorySchema {
        Schema::build(Query, EmptyMutation, EmptySubscription)
            .enable_federation()
            .finish()
    }
}

pub mod reviews {
    use super::*;

    #[derive(Clone)]
    pub struct Review {
        id: String,
        body: String,
        author_id: String,
        upc: String,
    }

    fn all_reviews() -> &'static [Review] {
        static REVIEWS: OnceLock<Vec<Review>> = OnceLock::new();
        REVIEWS.get_or_init(|| {
            let fixed = [
                ("r1", "A classic", "1", "b1"),
                ("r2", "Sturdy", "2", "f1"),
                ("r3", "Witty", "1", "b2"),
                ("r4", "Too long", "3", "b1"),
            ]
            .map(|(id, body, author_id, upc)| Review {
                id: id.to_owned(),
                body: body.to_owned(),
                author_id: author_id.to_owned(),
                upc: upc.to_owned(),
            });
            // Generated reader k reviews volumes k, k + 1 and k + 2 (wrapping round).
            let count = generated();
            let generated = (1..=count).flat_map(|k| {
                (0..3).map(move |j| {
                    let volume = (k - 1 + j) % count + 1;
                    Review {
                        id: format!("g{k}-{j}"),
                        body: format!("{} on volume {volume}", reader_name(k)),
                        author_id: format!("g{k}"),
                        upc: format!("g{volume}"),
                    }
                })
            });
            fixed.into_iter().chain(generated).collect()
        })
    }

    /// The names reviews knows of (what `@provides(fields: "name")` promises).
    fn author_name(id: &str) -> String {
        match id {
            "1" => "Ada Lovelace".to_owned(),
            "2" => "Alan Turing".to_owned(),
            generated => match generated.strip_prefix('g').and_then(|k| k.parse().ok()) {
                Some(k) => reader_name(k),
                None => "Grace Hopper".to_owned(),
            },
        }
    }

    #[Object]
    impl Review {
        async fn id(&self) -> ID {
            ID::from(self.id.as_str())
        }

        async fn body(&self) -> &str {
            &self.body
        }

        #[graphql(provides = "name")]
        async fn author(&self) -> User {
            User {
                id: ID::from(self.author_id.as_str()),
                name: Some(author_name(&self.author_id)),
            }
        }

        async fn product(&self) -> ProductRef {
            ProductRef {
                upc: self.upc.clone(),
            }
        }
    }

    pub struct User {
        id: ID,
        name: Option<String>,
    }

    #[Object]
    impl User {
        async fn id(&self) -> &ID {
            &self.id
        }

        #[graphql(external)]
        async fn name(&self) -> &str {
            self.name.as_deref().unwrap_or_default()
        }

        async fn reviews(&self) -> Vec<Review> {
            all_reviews()
                .iter()
                .filter(|review| *review.author_id == *self.id)
                .cloned()
                .collect()
        }

        #[graphql(override_from = "accounts")]
        async fn nickname(&self) -> String {
            format!("reviews-nickname-{}", self.id.as_str())
        }

        /// Fails for user 2 (a nullable field: only it becomes null).
        async fn flaky_score(&self) -> async_graphql::Result<Option<i32>> {
            if self.id.as_str() == "2" {
                return Err(Error::new("score service exploded")
                    .extend_with(|_, e| e.set("code", "SCORE_BROKEN")));
            }
            Ok(Some(self.id.as_str().len() as i32 * 10))
        }

        /// Fails for user 2 (non-null: the failure nulls the nearest nullable parent).
        async fn strict_score(&self) -> async_graphql::Result<i32> {
            if self.id.as_str() == "2" {
                return Err(Error::new("strict score unavailable"));
            }
            Ok(42)
        }
    }

    /// Products as reviews sees them: one `@interfaceObject` for every kind of product.
    pub struct ProductRef {
        upc: String,
    }

    #[Object(name = "Product", interface_object)]
    impl ProductRef {
        async fn upc(&self) -> &str {
            &self.upc
        }

        async fn reviews(&self) -> Vec<Review> {
            all_reviews()
                .iter()
                .filter(|review| review.upc == self.upc)
                .cloned()
                .collect()
        }
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn latest_reviews(&self) -> Vec<Review> {
            all_reviews().to_vec()
        }

        #[graphql(entity)]
        async fn find_user_by_id(&self, id: ID) -> User {
            User { id, name: None }
        }

        #[graphql(entity)]
        async fn find_product_by_upc(&self, upc: String) -> ProductRef {
            ProductRef { upc }
        }
    }

    pub type ReviewsSchema = Schema<Query, EmptyMutation, EmptySubscription>;

    pub fn schema() -> ReviewsSchema {
        Schema::build(Query, EmptyMutation, EmptySubscription)
            .enable_federation()
            .finish()
    }
}
