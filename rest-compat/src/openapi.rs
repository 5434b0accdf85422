//! The OpenAPI 3.1 description of exactly the API this layer serves, written
//! by hand in the shape FastAPI generated for the original. Its bounds
//! (`minLength`, `maxLength`, `minimum`, `maximum`, `default`) are built from
//! `common::rules`, the same constants request validation and the subgraphs use.

use common::rules::{
    CharRange, FULL_NAME, IntRange, PAGE_LIMIT, PAGE_SKIP, PASSWORD, TITLE, USERNAME,
};
use serde_json::{Value, json};

const SECURITY: &str = "OAuth2PasswordBearer";

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn json_content(schema: Value) -> Value {
    json!({"application/json": {"schema": schema}})
}

fn response(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": json_content(schema)})
}

fn error_response(description: &str) -> Value {
    response(description, schema_ref("HTTPError"))
}

fn validation_response() -> Value {
    response("Validation Error", schema_ref("HTTPValidationError"))
}

/// An operation; `secured` ones need the bearer token and may answer 401/403.
fn operation(
    operation_id: &str,
    summary: &str,
    tag: &str,
    secured: bool,
    parameters: Vec<Value>,
    request_body: Option<Value>,
    mut responses: serde_json::Map<String, Value>,
) -> Value {
    let mut op = json!({"tags": [tag], "summary": summary, "operationId": operation_id});
    if secured {
        op["security"] = json!([{SECURITY: []}]);
        responses.insert(
            "401".into(),
            error_response("Not authenticated or invalid credentials"),
        );
        responses.insert("403".into(), error_response("Inactive user"));
    }
    if !parameters.is_empty() {
        op["parameters"] = Value::Array(parameters);
    }
    if let Some(body) = request_body {
        op["requestBody"] = body;
    }
    if tag != "service" {
        responses.insert(
            "503".into(),
            error_response("A part of the system is unavailable"),
        );
    }
    op["responses"] = Value::Object(responses);
    op
}

fn responses(entries: &[(&str, Value)]) -> serde_json::Map<String, Value> {
    entries
        .iter()
        .map(|(status, value)| ((*status).to_owned(), value.clone()))
        .collect()
}

fn task_id_parameter() -> Value {
    json!({"name": "task_id", "in": "path", "required": true, "schema": {"type": "integer", "title": "Task Id"}})
}

fn json_body(schema: &str) -> Value {
    json!({"required": true, "content": json_content(schema_ref(schema))})
}

/// An operation on one task by id: read, delete, complete, incomplete, update.
fn task_operation(
    operation_id: &str,
    summary: &str,
    body: Option<Value>,
    success: (&str, Value),
) -> Value {
    let entries = [
        success,
        ("404", error_response("Task not found")),
        ("422", validation_response()),
    ];
    operation(
        operation_id,
        summary,
        "tasks",
        true,
        vec![task_id_parameter()],
        body,
        responses(&entries),
    )
}

/// A string property bounded by `range`, as pydantic wrote `constr`: no
/// `minLength` when any length up to the maximum will do.
fn bounded_string(range: CharRange, title: Option<&str>) -> Value {
    let mut schema = json!({"type": "string"});
    if range.min > 0 {
        schema["minLength"] = json!(range.min);
    }
    schema["maxLength"] = json!(range.max);
    if let Some(title) = title {
        schema["title"] = json!(title);
    }
    schema
}

/// An integer query parameter bounded by `range`, with its default.
fn bounded_query_int(name: &str, title: &str, range: IntRange) -> Value {
    let mut schema = json!({"type": "integer", "minimum": range.min});
    if let Some(max) = range.max {
        schema["maximum"] = json!(max);
    }
    schema["default"] = json!(range.default);
    schema["title"] = json!(title);
    json!({"name": name, "in": "query", "required": false, "schema": schema})
}

fn nullable(schema: Value) -> Value {
    json!({"anyOf": [schema, {"type": "null"}]})
}

fn components() -> Value {
    let datetime = json!({"type": "string", "format": "date-time"});
    // Properties that several resources share, written once.
    let id = json!({"type": "integer", "title": "Id"});
    let is_completed = json!({"type": "boolean", "title": "Is Completed"});
    json!({
        "schemas": {
            "TaskStatus": {"type": "string", "enum": ["todo", "in_progress", "done"], "title": "TaskStatus",
                "description": "Accepted in any letter case; always written lower-case."},
            "TaskPriority": {"type": "string", "enum": ["low", "medium", "high"], "title": "TaskPriority",
                "description": "Accepted in any letter case; always written lower-case."},
            "UserCreate": {
                "type": "object", "title": "UserCreate", "required": ["email", "username", "password"],
                "properties": {
                    "email": {"type": "string", "format": "email", "title": "Email"},
                    "username": bounded_string(USERNAME, Some("Username")),
                    "full_name": nullable(bounded_string(FULL_NAME, None)),
                    "password": bounded_string(PASSWORD, Some("Password"))
                }
            },
            "UserLogin": {
                "type": "object", "title": "UserLogin", "required": ["username", "password"],
                "properties": {
                    "username": {"type": "string", "title": "Username"},
                    "password": {"type": "string", "title": "Password"}
                }
            },
            "Body_login": {
                "type": "object", "title": "Body_login", "required": ["username", "password"],
                "properties": {
                    "grant_type": nullable(json!({"type": "string", "pattern": "^password$"})),
                    "username": {"type": "string", "title": "Username"},
                    "password": {"type": "string", "format": "password", "title": "Password"}
                }
            },
            "Token": {
                "type": "object", "title": "Token", "required": ["access_token", "token_type"],
                "properties": {
                    "access_token": {"type": "string", "title": "Access Token"},
                    "token_type": {"type": "string", "title": "Token Type", "example": "bearer"}
                }
            },
            "User": {
                "type": "object", "title": "User",
                "required": ["email", "username", "full_name", "id", "is_active", "is_superuser", "created_at", "updated_at"],
                "properties": {
                    "email": {"type": "string", "format": "email", "title": "Email"},
                    "username": {"type": "string", "title": "Username"},
                    "full_name": nullable(json!({"type": "string"})),
                    "id": id,
                    "is_active": {"type": "boolean", "title": "Is Active"},
                    "is_superuser": {"type": "boolean", "title": "Is Superuser"},
                    "created_at": datetime,
                    "updated_at": datetime
                }
            },
            "TaskCreate": {
                "type": "object", "title": "TaskCreate", "required": ["title"],
                "description": "Unknown fields are ignored. `is_completed` is set to `status == \"done\"`.",
                "properties": {
                    "title": bounded_string(TITLE, Some("Title")),
                    "description": nullable(json!({"type": "string"})),
                    "status": {"$ref": "#/components/schemas/TaskStatus", "default": "todo"},
                    "priority": {"$ref": "#/components/schemas/TaskPriority", "default": "medium"},
                    "due_date": nullable(datetime.clone())
                }
            },
            "TaskUpdate": {
                "type": "object", "title": "TaskUpdate",
                "description": "Only the fields present change. `null` clears `description` and `due_date`; it is refused for the others. A `status` sets `is_completed` to `status == \"done\"`.",
                "properties": {
                    "title": bounded_string(TITLE, Some("Title")),
                    "description": nullable(json!({"type": "string"})),
                    "status": schema_ref("TaskStatus"),
                    "priority": schema_ref("TaskPriority"),
                    "due_date": nullable(datetime.clone()),
                    "is_completed": is_completed
                }
            },
            "Task": {
                "type": "object", "title": "Task",
                "required": ["title", "description", "status", "priority", "due_date", "id", "is_completed", "owner_id", "created_at", "updated_at"],
                "properties": {
                    "title": {"type": "string", "title": "Title"},
                    "description": nullable(json!({"type": "string"})),
                    "status": schema_ref("TaskStatus"),
                    "priority": schema_ref("TaskPriority"),
                    "due_date": nullable(datetime.clone()),
                    "id": id,
                    "is_completed": is_completed,
                    "owner_id": {"type": "integer", "title": "Owner Id"},
                    "created_at": datetime,
                    "updated_at": datetime
                }
            },
            "TaskList": {
                "type": "object", "title": "TaskList", "required": ["tasks", "total", "skip", "limit"],
                "properties": {
                    "tasks": {"type": "array", "items": schema_ref("Task"), "title": "Tasks"},
                    "total": {"type": "integer", "title": "Total", "description": "Tasks matching the filters."},
                    "skip": {"type": "integer", "title": "Skip"},
                    "limit": {"type": "integer", "title": "Limit"}
                }
            },
            "TaskStats": {
                "type": "object", "title": "TaskStats",
                "required": ["total", "todo", "in_progress", "done", "completed", "high_priority", "medium_priority", "low_priority"],
                "properties": {
                    "total": {"type": "integer"}, "todo": {"type": "integer"}, "in_progress": {"type": "integer"},
                    "done": {"type": "integer"}, "completed": {"type": "integer"}, "high_priority": {"type": "integer"},
                    "medium_priority": {"type": "integer"}, "low_priority": {"type": "integer"}
                }
            },
            "UserStats": {
                "type": "object", "title": "UserStats", "required": ["total_tasks", "completed_tasks", "completed_percentage"],
                "properties": {
                    "total_tasks": {"type": "integer", "title": "Total Tasks"},
                    "completed_tasks": {"type": "integer", "title": "Completed Tasks"},
                    "completed_percentage": {"type": "number", "title": "Completed Percentage",
                        "description": "round(completed / total * 100, 2); 0.0 with no tasks."}
                }
            },
            "HTTPError": {
                "type": "object", "title": "HTTPError", "required": ["detail"],
                "properties": {"detail": {"type": "string", "title": "Detail"}}
            },
            "ValidationError": {
                "type": "object", "title": "ValidationError", "required": ["loc", "msg", "type"],
                "properties": {
                    "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}, "title": "Location"},
                    "msg": {"type": "string", "title": "Message"},
                    "type": {"type": "string", "title": "Error Type"},
                    "input": {"title": "Input"},
                    "ctx": {"type": "object", "title": "Context"}
                }
            },
            "HTTPValidationError": {
                "type": "object", "title": "HTTPValidationError",
                "properties": {"detail": {"type": "array", "items": schema_ref("ValidationError"), "title": "Detail"}}
            },
            "Health": {
                "type": "object", "title": "Health", "required": ["status", "service"],
                "properties": {"status": {"type": "string"}, "service": {"type": "string"}}
            },
            "Root": {
                "type": "object", "title": "Root", "required": ["name", "version", "status"],
                "properties": {"name": {"type": "string"}, "version": {"type": "string"}, "status": {"type": "string"}}
            }
        },
        "securitySchemes": {
            SECURITY: {"type": "oauth2", "flows": {"password": {"scopes": {}, "tokenUrl": "/api/v1/auth/login"}}}
        }
    })
}

/// The whole document.
pub fn document() -> Value {
    let list_parameters = json!([
        bounded_query_int("skip", "Skip", PAGE_SKIP),
        bounded_query_int("limit", "Limit", PAGE_LIMIT),
        {"name": "status", "in": "query", "required": false, "schema": nullable(schema_ref("TaskStatus"))},
        {"name": "priority", "in": "query", "required": false, "schema": nullable(schema_ref("TaskPriority"))}
    ]);
    let list_parameters = list_parameters.as_array().cloned().unwrap_or_default();
    let login_body = json!({"required": true, "content": {
        "application/json": {"schema": schema_ref("UserLogin")},
        "application/x-www-form-urlencoded": {"schema": schema_ref("Body_login")}
    }});
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "TaskTracker API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The TaskTracker REST API v1, served over the GraphQL federation."
        },
        "paths": {
            "/api/v1/auth/register": {"post": operation("register", "Register a user", "auth", false, vec![], Some(json_body("UserCreate")),
                responses(&[("201", response("The new user", schema_ref("User"))),
                            ("400", error_response("Username or email already registered")),
                            ("422", validation_response())]))},
            "/api/v1/auth/login": {"post": operation("login", "Log in for an access token", "auth", false, vec![], Some(login_body),
                responses(&[("200", response("An access token", schema_ref("Token"))),
                            ("401", error_response("Incorrect username or password")),
                            ("422", validation_response())]))},
            "/api/v1/auth/me": {"get": operation("read_me", "The current user", "auth", true, vec![], None,
                responses(&[("200", response("The current user", schema_ref("User")))]))},
            "/api/v1/tasks/": {
                "get": operation("list_tasks", "List my tasks, newest first", "tasks", true, list_parameters, None,
                    responses(&[("200", response("A page of tasks", schema_ref("TaskList"))), ("422", validation_response())])),
                "post": operation("create_task", "Create a task", "tasks", true, vec![], Some(json_body("TaskCreate")),
                    responses(&[("201", response("The new task", schema_ref("Task"))), ("422", validation_response())]))
            },
            "/api/v1/tasks/stats": {"get": operation("task_stats", "Counts of my tasks", "tasks", true, vec![], None,
                responses(&[("200", response("Counts over all my tasks", schema_ref("TaskStats")))]))},
            "/api/v1/tasks/{task_id}": {
                "get": task_operation("read_task", "Read a task", None, ("200", response("The task", schema_ref("Task")))),
                "put": task_operation("update_task", "Update a task", Some(json_body("TaskUpdate")), ("200", response("The updated task", schema_ref("Task")))),
                "delete": task_operation("delete_task", "Delete a task", None, ("204", json!({"description": "Deleted; empty body"})))
            },
            "/api/v1/tasks/{task_id}/complete": {"patch": task_operation("complete_task", "Mark a task done", None,
                ("200", response("The task", schema_ref("Task"))))},
            "/api/v1/tasks/{task_id}/incomplete": {"patch": task_operation("incomplete_task", "Mark a task not done", None,
                ("200", response("The task", schema_ref("Task"))))},
            "/api/v1/stats/": {"get": operation("user_stats", "My completion statistics", "stats", true, vec![], None,
                responses(&[("200", response("Totals and the completed percentage", schema_ref("UserStats")))]))},
            "/health": {"get": operation("health", "Liveness", "service", false, vec![], None,
                responses(&[("200", response("Serving", schema_ref("Health")))]))},
            "/": {"get": operation("root", "Service information", "service", false, vec![], None,
                responses(&[("200", response("Name, version and status", schema_ref("Root")))]))}
        },
        "components": components()
    })
}
