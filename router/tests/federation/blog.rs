//! The second fixture supergraph (`tests/fixtures/blog/`): two subgraphs built to
//! hit the executor where federation is subtle.
//! - posts owns `Post.comments(limit:)`; insights `@requires` `comments { authorId }`
//!   without arguments, so a client asking `comments(limit: 1)` makes the planner
//!   alias the requirement's copy (`_internal_qp_alias_N`).
//! - post `p3`'s comments fail in posts: the requirement is missing for that post only.
//! - `Book.id` is a nullable key and one book has none: it cannot be represented.
//! - `Post.status` may be `ARCHIVED`, a value `@inaccessible` in the API schema.
//! - insights also `@requires` `comments(limit: 1) { authorId }`: one external
//!   field, two requirements with different arguments.
//! - `everything` reaches posts and books through a union.

use async_graphql::{
    EmptyMutation, EmptySubscription, Enum, Error, ID, InputObject, Object, Schema, SimpleObject,
};

pub mod posts {
    use super::*;

    #[derive(Enum, Copy, Clone, Eq, PartialEq)]
    pub enum PostStatus {
        Draft,
        Published,
        #[graphql(inaccessible)]
        Archived,
    }

    #[derive(SimpleObject, Clone)]
    #[graphql(shareable)]
    pub struct Comment {
        pub id: ID,
        pub author_id: ID,
        pub body: String,
    }

    #[derive(Clone)]
    pub struct Post {
        pub id: &'static str,
        pub title: &'static str,
        pub status: PostStatus,
    }

    pub fn all_posts() -> Vec<Post> {
        vec![
            Post {
                id: "p1",
                title: "Hello",
                status: PostStatus::Published,
            },
            Post {
                id: "p2",
                title: "Old news",
                status: PostStatus::Archived,
            },
            Post {
                id: "p3",
                title: "Broken",
                status: PostStatus::Draft,
            },
        ]
    }

    fn comments_of(post: &str) -> Vec<Comment> {
        let authors: &[&str] = match post {
            "p1" => &["a1", "a2", "a1"],
            "p2" => &["a3"],
            _ => &[],
        };
        authors
            .iter()
            .enumerate()
            .map(|(index, author)| Comment {
                id: ID::from(format!("{post}-c{index}")),
                author_id: ID::from(*author),
                body: format!("comment {index} on {post}"),
            })
            .collect()
    }

    #[Object]
    impl Post {
        async fn id(&self) -> ID {
            ID::from(self.id)
        }

        async fn title(&self) -> &str {
            self.title
        }

        async fn status(&self) -> Option<PostStatus> {
            Some(self.status)
        }

        /// Fails for p3 (nullable: only that post's comments are null).
        async fn comments(
            &self,
            #[graphql(default = 10)] limit: i32,
        ) -> async_graphql::Result<Option<Vec<Comment>>> {
            if self.id == "p3" {
                return Err(Error::new("comments store unavailable"));
            }
            let limit = usize::try_from(limit).unwrap_or(0);
            Ok(Some(comments_of(self.id).into_iter().take(limit).collect()))
        }
    }

    /// A book's key is nullable: the second book has none.
    #[derive(SimpleObject, Clone)]
    pub struct Book {
        pub id: Option<ID>,
        pub title: String,
    }

    /// Posts and books together: entities reached through a union.
    #[derive(async_graphql::Union, Clone)]
    pub enum Found {
        Post(Post),
        Book(Book),
    }

    fn all_books() -> Vec<Book> {
        [
            (Some("k1"), "Dune"),
            (None, "Untitled"),
            (Some("k3"), "Emma"),
        ]
        .into_iter()
        .map(|(id, title)| Book {
            id: id.map(ID::from),
            title: title.to_owned(),
        })
        .collect()
    }

    pub struct Query;

    #[Object]
    impl Query {
        /// All posts, or those with `status`.
        async fn posts(&self, status: Option<PostStatus>) -> Vec<Post> {
            all_posts()
                .into_iter()
                .filter(|post| status.is_none_or(|status| post.status == status))
                .collect()
        }

        async fn everything(&self) -> Vec<Found> {
            all_posts()
                .into_iter()
                .map(Found::Post)
                .chain(all_books().into_iter().map(Found::Book))
                .collect()
        }

        async fn books(&self) -> Vec<Book> {
            all_books()
        }

        #[graphql(entity)]
        async fn find_post_by_id(&self, id: ID) -> Option<Post> {
            all_posts().into_iter().find(|post| post.id == id.as_str())
        }

        #[graphql(entity)]
        async fn find_book_by_id(&self, id: ID) -> Option<Book> {
            Some(Book {
                id: Some(id),
                title: String::new(),
            })
        }
    }

    pub type PostsSchema = Schema<Query, EmptyMutation, EmptySubscription>;

    pub fn schema() -> PostsSchema {
        Schema::build(Query, EmptyMutation, EmptySubscription)
            .enable_federation()
            .finish()
    }
}

pub mod insights {
    use super::*;

    /// What insights receives of a comment in a `Post` representation.
    #[derive(InputObject, Clone)]
    pub struct CommentAuthor {
        pub author_id: ID,
    }

    #[derive(SimpleObject, Clone)]
    pub struct Comment {
        #[graphql(external)]
        pub author_id: ID,
    }

    pub struct Post {
        id: ID,
        comments: Option<Vec<CommentAuthor>>,
    }

    #[Object]
    impl Post {
        async fn id(&self) -> &ID {
            &self.id
        }

        #[graphql(external)]
        async fn comments(&self, #[graphql(default = 10)] _limit: i32) -> Option<Vec<Comment>> {
            None
        }

        /// Distinct comment authors: needs every comment's author (no limit).
        #[graphql(requires = "comments { authorId }")]
        async fn commenter_count(&self) -> async_graphql::Result<Option<i32>> {
            let Some(comments) = &self.comments else {
                return Err(Error::new("the Post representation must carry comments"));
            };
            let mut authors: Vec<&str> = comments.iter().map(|c| c.author_id.as_str()).collect();
            authors.sort_unstable();
            authors.dedup();
            Ok(Some(i32::try_from(authors.len()).unwrap_or(i32::MAX)))
        }

        /// The first comment's author: the same external field, with an argument.
        #[graphql(requires = "comments(limit: 1) { authorId }")]
        async fn first_commenter(&self) -> async_graphql::Result<Option<ID>> {
            let Some(comments) = &self.comments else {
                return Err(Error::new("the Post representation must carry comments"));
            };
            if comments.len() > 1 {
                return Err(Error::new("expected the comments of `comments(limit: 1)`"));
            }
            Ok(comments.first().map(|comment| comment.author_id.clone()))
        }
    }

    pub struct Book {
        id: ID,
    }

    #[Object]
    impl Book {
        async fn id(&self) -> Option<&ID> {
            Some(&self.id)
        }

        async fn rating(&self) -> Option<i32> {
            Some(i32::try_from(self.id.len()).unwrap_or(0))
        }
    }

    pub struct Query;

    #[Object]
    impl Query {
        /// Posts by id only: everything else comes from posts.
        async fn feed(&self) -> Vec<Post> {
            ["p1", "p2", "p3"]
                .into_iter()
                .map(|id| Post {
                    id: ID::from(id),
                    comments: None,
                })
                .collect()
        }

        #[graphql(entity)]
        async fn find_post_by_id(
            &self,
            #[graphql(key)] id: ID,
            comments: Option<Vec<CommentAuthor>>,
        ) -> Post {
            Post { id, comments }
        }

        #[graphql(entity)]
        async fn find_book_by_id(&self, id: ID) -> Book {
            Book { id }
        }
    }

    pub type InsightsSchema = Schema<Query, EmptyMutation, EmptySubscription>;

    pub fn schema() -> InsightsSchema {
        Schema::build(Query, EmptyMutation, EmptySubscription)
            .enable_federation()
            .finish()
    }
}
