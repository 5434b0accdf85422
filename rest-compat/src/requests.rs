//! The REST request models (UserCreate, login, TaskCreate, TaskUpdate, the
//! list query), validated as the original's pydantic models were, and turned
//! into the GraphQL variables of the operation that serves them.

use common::rules::{CharRange, FULL_NAME, PAGE_LIMIT, PAGE_SKIP, PASSWORD, TITLE, USERNAME};
use serde_json::{Map, Value, json};

use crate::body::Body;
use crate::error::{Error, Issue, loc};
use crate::validation::{self, ObjectReader, TASK_PRIORITY, TASK_STATUS, graphql_enum};

/// Runs `read` over a body object and returns what it built, or every issue found.
fn read_object<T>(
    body: &Value,
    read: impl FnOnce(&mut ObjectReader) -> T,
) -> Result<T, Vec<Issue>> {
    let mut reader = ObjectReader::new(body).map_err(|issue| vec![issue])?;
    let built = read(&mut reader);
    reader.finish().map(|()| built)
}

/// Inserts `value` under `name` when it was given.
fn put(object: &mut Map<String, Value>, name: &str, value: Option<Value>) {
    if let Some(value) = value {
        object.insert(name.to_owned(), value);
    }
}

/// UserCreate → `RegisterInput`.
pub fn register_input(body: &Value) -> Result<Value, Error> {
    read_object(body, |reader| {
        let mut input = Map::new();
        put(
            &mut input,
            "email",
            reader.required("email", validation::email).map(Value::from),
        );
        put(
            &mut input,
            "username",
            reader.required("username", within(USERNAME)),
        );
        put(
            &mut input,
            "fullName",
            reader
                .nullable("full_name", within(FULL_NAME))
                .map(|name| json!(name)),
        );
        put(
            &mut input,
            "password",
            reader.required("password", within(PASSWORD)),
        );
        Value::Object(input)
    })
    .map_err(Error::Validation)
}

/// The credentials of a login, from JSON or from the OAuth2 password form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginInput {
    pub username: String,
    pub password: String,
}

pub fn login_input(body: &Body) -> Result<LoginInput, Error> {
    let (fields, is_form) = match body {
        Body::Form(text) => (Body::form_fields(text)?, true),
        other => (other.as_json(), false),
    };
    read_object(&fields, |reader| {
        // Form fields are separate parameters to FastAPI: a missing one quotes no input.
        let required_string = |reader: &mut ObjectReader, name: &str| {
            if is_form && matches!(reader.field(name), validation::Field::Absent) {
                reader.issues.push(Issue::new(
                    "missing",
                    loc("body", name),
                    "Field required",
                    Value::Null,
                ));
                return None;
            }
            reader.required(name, |v, n| validation::string(v, n, 0, None))
        };
        let username = required_string(reader, "username");
        let password = required_string(reader, "password");
        if is_form {
            reader.optional("grant_type", grant_type);
        }
        username
            .zip(password)
            .map(|(username, password)| LoginInput { username, password })
    })
    .map_err(Error::Validation)?
    .ok_or_else(|| Error::internal("login fields vanished after validation"))
}

/// OAuth2's `grant_type`, which may only be `password`.
fn grant_type(value: &Value, name: &str) -> Result<(), Issue> {
    if value.as_str() == Some("password") {
        Ok(())
    } else {
        Err(Issue::new(
            "string_pattern_mismatch",
            loc("body", name),
            "String should match pattern '^password$'",
            value.clone(),
        )
        .with_ctx(json!({"pattern": "^password$"})))
    }
}

/// The check of a text field whose length the contract bounds.
fn within(range: CharRange) -> impl FnOnce(&Value, &str) -> Result<Value, Issue> {
    move |value, name| validation::bounded(value, name, range).map(Value::from)
}

fn description(value: &Value, name: &str) -> Result<Value, Issue> {
    validation::string(value, name, 0, None).map(Value::from)
}

fn status(value: &Value, name: &str) -> Result<Value, Issue> {
    TASK_STATUS
        .parse_body(value, name)
        .map(|status| json!(graphql_enum(status)))
}

fn priority(value: &Value, name: &str) -> Result<Value, Issue> {
    TASK_PRIORITY
        .parse_body(value, name)
        .map(|priority| json!(graphql_enum(priority)))
}

fn due_date(value: &Value, name: &str) -> Result<Value, Issue> {
    validation::datetime(value, name).map(Value::from)
}

fn is_completed(value: &Value, name: &str) -> Result<Value, Issue> {
    validation::boolean(value, name).map(Value::from)
}

/// Which of the two task bodies is read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TaskBody {
    /// TaskCreate: `title` required, `is_completed` not read.
    Create,
    /// TaskUpdate: every field optional, `is_completed` settable.
    Update,
}

/// TaskCreate → `CreateTaskInput`. Unknown fields are ignored; omitted ones take GraphQL's defaults.
pub fn create_task_input(body: &Value) -> Result<Value, Vec<Issue>> {
    task_input(body, TaskBody::Create)
}

/// TaskUpdate → `UpdateTaskInput`: only the fields present, `null` kept where it clears.
pub fn update_task_input(body: &Value) -> Result<Value, Vec<Issue>> {
    task_input(body, TaskBody::Update)
}

/// Reads the task fields in the original model's order, so issues come in its order too.
fn task_input(body: &Value, kind: TaskBody) -> Result<Value, Vec<Issue>> {
    read_object(body, |reader| {
        let mut input = Map::new();
        let title = match kind {
            TaskBody::Create => reader.required("title", within(TITLE)),
            TaskBody::Update => reader.optional("title", within(TITLE)),
        };
        put(&mut input, "title", title);
        put(
            &mut input,
            "description",
            reader
                .nullable("description", description)
                .map(|d| json!(d)),
        );
        put(&mut input, "status", reader.optional("status", status));
        put(
            &mut input,
            "priority",
            reader.optional("priority", priority),
        );
        put(
            &mut input,
            "dueDate",
            reader.nullable("due_date", due_date).map(|d| json!(d)),
        );
        if kind == TaskBody::Update {
            put(
                &mut input,
                "isCompleted",
                reader.optional("is_completed", is_completed),
            );
        }
        Value::Object(input)
    })
}

/// The query of `GET /tasks/`.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub skip: i64,
    pub limit: i64,
    /// `TaskFilter`, or null when no filter was asked for.
    pub filter: Value,
}

/// Reads `skip`, `limit`, `status` and `priority` from a raw query string.
pub fn list_query(raw: Option<&str>) -> Result<ListQuery, Error> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw.unwrap_or_default()).unwrap_or_default();
    // Starlette keeps the last value of a repeated parameter.
    let last = |name: &str| {
        pairs
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let mut issues = Vec::new();
    let mut keep = |result: Result<Value, Issue>| result.map_err(|issue| issues.push(issue)).ok();
    let skip = last("skip")
        .map(|raw| keep(validation::query_int(raw, "skip", PAGE_SKIP).map(Value::from)));
    let limit = last("limit")
        .map(|raw| keep(validation::query_int(raw, "limit", PAGE_LIMIT).map(Value::from)));
    let status = last("status").map(|raw| {
        keep(
            TASK_STATUS
                .parse_query(raw, "status")
                .map(|s| json!(graphql_enum(s))),
        )
    });
    let priority = last("priority").map(|raw| {
        keep(
            TASK_PRIORITY
                .parse_query(raw, "priority")
                .map(|p| json!(graphql_enum(p))),
        )
    });
    if !issues.is_empty() {
        return Err(Error::Validation(issues));
    }
    let mut filter = Map::new();
    put(&mut filter, "status", status.flatten());
    put(&mut filter, "priority", priority.flatten());
    Ok(ListQuery {
        skip: skip
            .flatten()
            .and_then(|v| v.as_i64())
            .unwrap_or(PAGE_SKIP.default),
        limit: limit
            .flatten()
            .and_then(|v| v.as_i64())
            .unwrap_or(PAGE_LIMIT.default),
        filter: if filter.is_empty() {
            Value::Null
        } else {
            Value::Object(filter)
        },
    })
}

/// Combines the path's task id check with the body's, path first as FastAPI reports them.
pub fn with_task_id<T>(
    task_id: Result<i64, Issue>,
    rest: Result<T, Vec<Issue>>,
) -> Result<(i64, T), Error> {
    match (task_id, rest) {
        (Ok(id), Ok(rest)) => Ok((id, rest)),
        (id, rest) => {
            let mut issues: Vec<Issue> = id.err().into_iter().collect();
            issues.extend(rest.err().unwrap_or_default());
            Err(Error::Validation(issues))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issues(result: Result<Value, Vec<Issue>>) -> Value {
        json!(result.expect_err("must be refused"))
    }

    #[test]
    fn create_maps_fields_and_enums() {
        let input = create_task_input(&json!({"title": "t", "description": "", "status": "In_Progress", "priority": "HIGH", "extra": 1}))
            .expect("valid");
        assert_eq!(
            input,
            json!({"title": "t", "description": "", "status": "IN_PROGRESS", "priority": "HIGH"})
        );
    }

    #[test]
    fn create_reports_every_field_in_order() {
        let body = json!({"description": 5, "status": "bogus"});
        let reported = issues(create_task_input(&body));
        assert_eq!(
            reported[0],
            json!({"type": "missing", "loc": ["body", "title"], "msg": "Field required", "input": body, "url": "https://errors.pydantic.dev/2.5/v/missing"})
        );
        assert_eq!(reported[1]["type"], "string_type");
        assert_eq!(reported[2]["type"], "enum");
        assert_eq!(reported.as_array().map(Vec::len), Some(3));
    }

    #[test]
    fn update_keeps_nulls_that_clear_and_refuses_the_others() {
        assert_eq!(
            update_task_input(&json!({"description": null, "due_date": null})).expect("clears"),
            json!({"description": null, "dueDate": null})
        );
        let reported = issues(update_task_input(
            &json!({"title": null, "status": null, "priority": null, "is_completed": null}),
        ));
        let kinds: Vec<&str> = reported
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|i| i["type"].as_str())
            .collect();
        assert_eq!(
            kinds,
            ["string_type", "string_type", "string_type", "bool_type"]
        );
        assert_eq!(
            update_task_input(&json!({})).expect("empty update"),
            json!({})
        );
    }

    #[test]
    fn list_query_bounds_and_filters() {
        assert_eq!(
            list_query(None).expect("defaults"),
            ListQuery {
                skip: PAGE_SKIP.default,
                limit: PAGE_LIMIT.default,
                filter: Value::Null
            }
        );
        let query = list_query(Some("skip=5&limit=10&status=done&priority=low")).expect("valid");
        assert_eq!(query.filter, json!({"status": "DONE", "priority": "LOW"}));
        let Err(Error::Validation(reported)) = list_query(Some("status=DONE")) else {
            panic!("query enums are exact, as in the original");
        };
        assert_eq!(reported[0].kind, "enum");
        let Err(Error::Validation(reported)) = list_query(Some("skip=-1&limit=0")) else {
            panic!("out of range must be refused");
        };
        assert_eq!(reported[0].loc, loc("query", "skip"));
        assert_eq!(reported[1].loc, loc("query", "limit"));
    }

    #[test]
    fn login_from_json_or_form() {
        let expected = LoginInput {
            username: "ann".to_owned(),
            password: "secret".to_owned(),
        };
        assert_eq!(
            login_input(&Body::Json(
                json!({"username": "ann", "password": "secret"})
            ))
            .expect("json"),
            expected
        );
        assert_eq!(
            login_input(&Body::Form(
                "username=ann&password=secret&grant_type=password".to_owned()
            ))
            .expect("form"),
            expected
        );
        assert!(login_input(&Body::Form("username=ann".to_owned())).is_err());
    }
}
