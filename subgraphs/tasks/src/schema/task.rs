//! The `Task` entity.

use async_graphql::{ID, Object};
use subgraph_kit::scalars::DateTime;

use crate::model::{TaskPriority, TaskRow, TaskStatus};
use crate::schema::user::User;

pub struct Task(pub TaskRow);

#[Object]
impl Task {
    async fn id(&self) -> ID {
        ID::from(self.0.id.to_string())
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    async fn status(&self) -> TaskStatus {
        self.0.status
    }

    async fn priority(&self) -> TaskPriority {
        self.0.priority
    }

    async fn is_completed(&self) -> bool {
        self.0.is_completed
    }

    async fn due_date(&self) -> Option<DateTime> {
        self.0.due_date.map(DateTime)
    }

    /// The owner, as a reference the users subgraph resolves.
    async fn owner(&self) -> User {
        User {
            id: self.0.owner_id,
        }
    }

    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }

    async fn updated_at(&self) -> DateTime {
        DateTime(self.0.updated_at)
    }
}
