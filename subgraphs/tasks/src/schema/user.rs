//! The `User` entity as far as tasks extends it: a user's task pages and counts.
//! Only the viewer's own `User` is ever built (entities of other users are null).

use async_graphql::{Context, ID, Object, SimpleObject};

use crate::error::Error;
use crate::loaders::{Loaders, PageKey};
use crate::model::TaskCounts;
use crate::schema::inputs::{TaskFilter, valid_page};
use crate::schema::task::Task;
use crate::session::Session;

pub struct User {
    pub id: i32,
}

#[derive(SimpleObject)]
pub struct TaskPage {
    pub items: Vec<Task>,
    pub total_count: i64,
    pub skip: i64,
    pub limit: i64,
}

impl User {
    /// The owner whose rows this user may see: the viewer, and only if this is the viewer.
    async fn owner_id(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        let viewer = ctx.data::<Session>()?.user_id().await?;
        if viewer != self.id {
            return Err(subgraph_kit::errors::internal(format_args!(
                "user {viewer} reached the tasks of user {}",
                self.id
            )));
        }
        Ok(viewer)
    }
}

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID::from(self.id.to_string())
    }

    /// The user's tasks matching `filter`, newest first.
    #[graphql(directive = subgraph_kit::cost::list_size::apply(
        None,
        Some(vec!["limit".to_owned()]),
        Some(vec!["items".to_owned()]),
        None,
    ))]
    async fn tasks(
        &self,
        ctx: &Context<'_>,
        filter: Option<TaskFilter>,
        #[graphql(default_with = "Some(common::rules::PAGE_SKIP.default)")] skip: Option<i64>,
        #[graphql(default_with = "Some(common::rules::PAGE_LIMIT.default)")] limit: Option<i64>,
    ) -> async_graphql::Result<TaskPage> {
        let owner_id = self.owner_id(ctx).await?;
        let (skip, limit) = valid_page(skip, limit)?;
        let key = PageKey {
            owner_id,
            criteria: filter.into(),
            skip,
            limit,
        };
        let page = ctx
            .data::<Loaders>()?
            .load(key)
            .await
            .map_err(Error::into_graphql)?
            .unwrap_or_default();
        Ok(TaskPage {
            items: page.items.into_iter().map(Task).collect(),
            total_count: page.total,
            skip,
            limit,
        })
    }

    /// Counts over all of the user's tasks.
    async fn task_counts(&self, ctx: &Context<'_>) -> async_graphql::Result<TaskCounts> {
        let owner_id = self.owner_id(ctx).await?;
        Ok(ctx
            .data::<Loaders>()?
            .load(owner_id)
            .await
            .map_err(Error::into_graphql)?
            .unwrap_or_default())
    }
}
