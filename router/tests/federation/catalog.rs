//! The third fixture supergraph (`tests/fixtures/catalog/`): the neighbours of
//! issue 9's classes, where interfaces and `@interfaceObject` meet `@requires`,
//! `@provides` and types with two keys.
//! - media owns the entity interface `Media @key(fields: "id")` (Movie, Song) and
//!   `Movie`, which has two keys, `id` and `sku`; movie `m2` has no `sku`.
//! - extras sees `Media` as an `@interfaceObject`: `lengthLabel` `@requires` the
//!   interface's `@external` `length`, and `featured` reaches media entities by the
//!   interface object alone (the router asks media for their concrete types).
//! - extras knows `Movie` by `sku` only (a partial key): a movie without one
//!   cannot be sent there. Its `priceLabel` `@requires` `title`, which `Deal.movie`
//!   `@provides`.

use async_graphql::{
    EmptyMutation, EmptySubscription, Error, ID, Interface, Object, Schema, SimpleObject,
};

pub mod media {
    use super::*;

    #[derive(SimpleObject, Clone)]
    pub struct Movie {
        pub id: ID,
        /// Absent for some movies: they cannot be reached by this key.
        pub sku: Option<String>,
        pub title: String,
        pub length: i32,
    }

    #[derive(SimpleObject, Clone)]
    pub struct Song {
        pub id: ID,
        pub title: String,
        pub length: i32,
    }

    #[derive(Interface, Clone)]
    #[graphql(
        field(name = "id", ty = "&ID"),
        field(name = "title", ty = "&String"),
        field(name = "length", ty = "&i32")
    )]
    pub enum Media {
        Movie(Movie),
        Song(Song),
    }

    pub fn all_media() -> Vec<Media> {
        vec![
            Media::Movie(Movie {
                id: ID::from("m1"),
                sku: Some("S-1".to_owned()),
                title: "Alien".to_owned(),
                length: 117,
            }),
            Media::Movie(Movie {
                id: ID::from("m2"),
                sku: None,
                title: "Brazil".to_owned(),
                length: 132,
            }),
            Media::Song(Song {
                id: ID::from("s1"),
                title: "Hey Jude".to_owned(),
                length: 7,
            }),
        ]
    }

    fn movies() -> impl Iterator<Item = Movie> {
        all_media().into_iter().filter_map(|media| match media {
            Media::Movie(movie) => Some(movie),
            Media::Song(_) => None,
        })
    }

    fn id_of(media: &Media) -> &ID {
        match media {
            Media::Movie(movie) => &movie.id,
            Media::Song(song) => &song.id,
        }
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn library(&self) -> Vec<Media> {
            all_media()
        }

        #[graphql(entity)]
        async fn find_media_by_id(&self, id: ID) -> Option<Media> {
            all_media().into_iter().find(|media| *id_of(media) == id)
        }

        #[graphql(entity)]
        async fn find_movie_by_id(&self, id: ID) -> Option<Movie> {
            movies().find(|movie| movie.id == id)
        }

        #[graphql(entity)]
        async fn find_movie_by_sku(&self, sku: String) -> Option<Movie> {
            movies().find(|movie| movie.sku.as_deref() == Some(sku.as_str()))
        }

        #[graphql(entity)]
        async fn find_song_by_id(&self, id: ID) -> Option<Song> {
            all_media().into_iter().find_map(|media| match media {
                Media::Song(song) if song.id == id => Some(song),
                _ => None,
            })
        }
    }

    pub type MediaSchema = Schema<Query, EmptyMutation, EmptySubscription>;

    pub fn schema() -> MediaSchema {
        Schema::build(Query, EmptyMutation, EmptySubscription)
            .enable_federation()
            .finish()
    }
}

pub mod extras {
    use super::*;

    /// `Media` as extras sees it: an interface object, keyed by `id`.
    pub struct Media {
        id: ID,
        length: Option<i32>,
    }

    #[Object(interface_object)]
    impl Media {
        async fn id(&self) -> &ID {
            &self.id
        }

        /// Known here only from a representation: asked for otherwise, it is an error.
        #[graphql(external)]
        async fn length(&self) -> async_graphql::Result<i32> {
            self.length
                .ok_or_else(|| Error::new("length is external: media owns it"))
        }

        /// Needs the interface's `length`, owned by media.
        #[graphql(requires = "length")]
        async fn length_label(&self) -> async_graphql::Result<Option<String>> {
            let Some(length) = self.length else {
                return Err(Error::new("the Media representation must carry length"));
            };
            Ok(Some(format!("{length} min")))
        }

        /// Only extras knows it, for every kind of media.
        async fn rating(&self) -> i32 {
            i32::try_from(self.id.len()).unwrap_or(0)
        }
    }

    /// A movie as extras knows it: by `sku` only.
    pub struct Movie {
        sku: String,
        title: Option<String>,
    }

    #[Object]
    impl Movie {
        async fn sku(&self) -> &str {
            &self.sku
        }

        /// Known here only when provided or in a representation.
        #[graphql(external)]
        async fn title(&self) -> async_graphql::Result<String> {
            self.title
                .clone()
                .ok_or_else(|| Error::new("title is external: media owns it"))
        }

        /// Needs the movie's `title` (provided by `Deal.movie`, else fetched).
        #[graphql(requires = "title")]
        async fn price_label(&self) -> async_graphql::Result<Option<String>> {
            let Some(title) = &self.title else {
                return Err(Error::new("the Movie representation must carry title"));
            };
            Ok(Some(format!("{title}: 9.99")))
        }

        async fn in_stock(&self) -> Option<bool> {
            Some(self.sku.ends_with('1'))
        }
    }

    #[derive(SimpleObject)]
    pub struct Deal {
        pub id: ID,
        #[graphql(provides = "title")]
        pub movie: Movie,
    }

    pub struct Query;

    #[Object]
    impl Query {
        /// Media entities reached by the interface object alone.
        async fn featured(&self) -> Vec<Media> {
            ["m2", "s1"]
                .into_iter()
                .map(|id| Media {
                    id: ID::from(id),
                    length: None,
                })
                .collect()
        }

        /// Deals carry their movie's title (`@provides`).
        async fn deals(&self) -> Vec<Deal> {
            vec![Deal {
                id: ID::from("d1"),
                movie: Movie {
                    sku: "S-1".to_owned(),
                    title: Some("Alien".to_owned()),
                },
            }]
        }

        #[graphql(entity)]
        async fn find_media_by_id(&self, #[graphql(key)] id: ID, length: Option<i32>) -> Media {
            Media { id, length }
        }

        #[graphql(entity)]
        async fn find_movie_by_sku(
            &self,
            #[graphql(key)] sku: String,
            title: Option<String>,
        ) -> Movie {
            Movie { sku, title }
        }
    }

    pub type ExtrasSchema = Schema<Query, EmptyMutation, EmptySubscription>;

    pub fn schema() -> ExtrasSchema {
        Schema::build(Query, EmptyMutation, EmptySubscription)
            .enable_federation()
            .finish()
    }
}
