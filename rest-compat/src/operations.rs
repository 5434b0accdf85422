//! Every GraphQL operation this layer sends to the router, in one place so
//! that they can be listed ([`ALL`]) and checked against the composed API
//! schema (`tests/operations.rs` validates each against `supergraph.graphql`):
//! a renamed field or argument, or a changed variable type, fails a test
//! rather than a client's request.

use crate::models::{task_fields, user_fields};

/// An operation whose one root field answers a REST `Task`: `head` is the operation up to
/// that field, whose selection this closes (a macro so that the text stays a `const`).
macro_rules! answering_task {
    ($head:literal) => {
        concat!($head, " { ", task_fields!(), " } }")
    };
}

/// `/ready`: whether the router answers at all.
pub const READY: &str = "query Ready { __typename }";
/// FastAPI checked the token before validating: whether it stands for an active account.
pub const ACCOUNT_CHECK: &str = "query AccountCheck { me { id } }";

pub const REGISTER: &str = concat!(
    "mutation Register($input: RegisterInput!) { register(input: $input) { ",
    user_fields!(),
    " } }"
);
pub const LOGIN: &str = "mutation Login($username: String!, $password: String!) { \
                         login(username: $username, password: $password) { accessToken tokenType } }";
pub const ME: &str = concat!("query Me { me { ", user_fields!(), " } }");

pub const LIST_TASKS: &str = concat!(
    "query ListTasks($filter: TaskFilter, $skip: Int!, $limit: Int!) { me { ",
    "tasks(filter: $filter, skip: $skip, limit: $limit) { items { ",
    task_fields!(),
    " } totalCount } } }"
);
pub const READ_TASK: &str = answering_task!("query Task($id: ID!) { task(id: $id)");
pub const CREATE_TASK: &str =
    answering_task!("mutation CreateTask($input: CreateTaskInput!) { createTask(input: $input)");
pub const UPDATE_TASK: &str = answering_task!(
    "mutation UpdateTask($id: ID!, $input: UpdateTaskInput!) { updateTask(id: $id, input: $input)"
);
pub const DELETE_TASK: &str = "mutation DeleteTask($id: ID!) { deleteTask(id: $id) }";
pub const COMPLETE_TASK: &str =
    answering_task!("mutation CompleteTask($id: ID!) { completeTask(id: $id)");
pub const UNCOMPLETE_TASK: &str =
    answering_task!("mutation UncompleteTask($id: ID!) { uncompleteTask(id: $id)");

pub const TASK_COUNTS: &str = "query TaskCounts { me { taskCounts { total todo inProgress done completed low medium high } } }";
pub const USER_STATS: &str =
    "query UserStats { me { stats { totalTasks completedTasks completedPercentage } } }";

/// Every operation above, by name.
pub const ALL: &[(&str, &str)] = &[
    ("READY", READY),
    ("ACCOUNT_CHECK", ACCOUNT_CHECK),
    ("REGISTER", REGISTER),
    ("LOGIN", LOGIN),
    ("ME", ME),
    ("LIST_TASKS", LIST_TASKS),
    ("READ_TASK", READ_TASK),
    ("CREATE_TASK", CREATE_TASK),
    ("UPDATE_TASK", UPDATE_TASK),
    ("DELETE_TASK", DELETE_TASK),
    ("COMPLETE_TASK", COMPLETE_TASK),
    ("UNCOMPLETE_TASK", UNCOMPLETE_TASK),
    ("TASK_COUNTS", TASK_COUNTS),
    ("USER_STATS", USER_STATS),
];
