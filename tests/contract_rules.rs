//! Each input limit of the public contract is defined once, in
//! `common::rules`, and every layer follows it. For each rule this test reads
//! the constant and checks, on the whole system running as real processes:
//! 1. the OpenAPI document REST serves publishes the bound (`minLength`,
//!    `maxLength`, `minimum`, `maximum`, `default`);
//! 2. REST accepts a value at the bound and refuses one just past it with
//!    pydantic's 422 (`string_too_long`, `less_than_equal`, … with the bound in `ctx`);
//! 3. the GraphQL API (router → subgraph) accepts the value at the bound and
//!    refuses the one past it with BAD_USER_INPUT naming the field.
//!
//! The subgraphs, REST's validation and its OpenAPI document all derive their
//! bounds from the constants, and every probe here is derived from them too:
//! editing a constant (say `USERNAME.max` from 100 to 120) moves all three
//! layers at once and this test still passes, while a layer that kept a copy
//! of the old number would fail it. (A longer `TITLE.max` also needs a
//! migration widening the column; the tasks subgraph has a test for that.)

mod support;

use common::rules::{
    CharRange, FULL_NAME, IntRange, PAGE_LIMIT, PAGE_SKIP, PASSWORD, TITLE, USERNAME,
};
use serde_json::{Value, json};
use support::{Stack, Store, post_graphql, register_and_login};

const REGISTER: &str = "mutation($input: RegisterInput!) { register(input: $input) { id } }";
const CREATE_TASK: &str = "mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }";
const PAGE: &str =
    "query($skip: Int, $limit: Int) { me { tasks(skip: $skip, limit: $limit) { skip limit } } }";
const DEFAULT_PAGE: &str = "{ me { tasks { skip limit } } }";

/// The system under test, a client, and a signed-in user for the task rules.
struct Probe {
    stack: Stack,
    client: reqwest::Client,
    token: String,
    openapi: Value,
}

/// Whether a probe is at a bound (must be accepted) or just past it (refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Accepted,
    /// Refused with this pydantic error type and `ctx`.
    Refused(&'static str, &'static str),
}

/// GraphQL variables for a page with `name` set to `value`, the other at its default.
fn page_variables(name: &str, value: i64) -> Value {
    let mut variables = json!({"skip": PAGE_SKIP.default, "limit": PAGE_LIMIT.default});
    variables[name] = json!(value);
    variables
}

/// The lengths to probe for a rule: each bound and the length just past it.
fn length_probes(range: CharRange) -> Vec<(usize, Expect)> {
    let mut probes = vec![
        (range.max, Expect::Accepted),
        (
            range.max + 1,
            Expect::Refused("string_too_long", "max_length"),
        ),
    ];
    if range.min > 0 {
        probes.push((range.min, Expect::Accepted));
        probes.push((
            range.min - 1,
            Expect::Refused("string_too_short", "min_length"),
        ));
    }
    probes
}

/// Checks one REST answer against what the probe expects at `loc`.
#[track_caller]
fn check_rest(
    what: &str,
    answer: &(u16, Value),
    success: u16,
    expect: Expect,
    loc: [&str; 2],
    bound: Value,
) {
    let (status, body) = answer;
    match expect {
        Expect::Accepted => assert_eq!(*status, success, "REST {what}: {body}"),
        Expect::Refused(kind, ctx) => {
            assert_eq!(*status, 422, "REST {what}: {body}");
            let issue = &body["detail"][0];
            assert_eq!(issue["type"], kind, "REST {what}: {body}");
            assert_eq!(issue["loc"], json!(loc), "REST {what}: {body}");
            assert_eq!(issue["ctx"], json!({ctx: bound}), "REST {what}: {body}");
        }
    }
}

impl Probe {
    async fn start() -> Probe {
        let stack = Stack::start(Store::Sqlite).await;
        let client = reqwest::Client::new();
        let (_, token) = register_and_login(&client, &stack, "rules_owner").await;
        let openapi = client
            .get(format!("{}/openapi.json", stack.rest_url))
            .send()
            .await
            .expect("REST answers")
            .json()
            .await
            .expect("the OpenAPI document");
        Probe {
            stack,
            client,
            token,
            openapi,
        }
    }

    /// A REST call: status and JSON body.
    async fn rest(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, format!("{}/api/v1{path}", self.stack.rest_url))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("REST answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Sends one GraphQL operation through the router and checks it is
    /// answered, or refused with BAD_USER_INPUT naming `field`.
    async fn check_graphql(
        &self,
        what: &str,
        query: &str,
        variables: Value,
        accepted: bool,
        field: &str,
    ) -> Value {
        let reply = post_graphql(
            &self.client,
            &self.stack.router_url,
            Some(&self.token),
            query,
            variables,
        )
        .await;
        if accepted {
            reply.data().clone()
        } else {
            assert_eq!(
                reply.error_codes(),
                ["BAD_USER_INPUT"],
                "GraphQL {what}: {}",
                reply.text
            );
            assert_eq!(
                reply.json["errors"][0]["extensions"]["field"], field,
                "GraphQL {what}: {}",
                reply.text
            );
            Value::Null
        }
    }

    /// A registration rule (`field` in REST, `graphql_field` in GraphQL), each
    /// probe with otherwise valid input that no other probe shares.
    async fn registration_rule(&self, field: &str, graphql_field: &str, range: CharRange) {
        for (length, expect) in length_probes(range) {
            for layer in ["rest", "graphql"] {
                let unique = format!("{layer}_{field}_{length}");
                let mut input = json!({
                    "email": format!("{unique}@example.com"),
                    "username": unique,
                    "password": "a-good-password",
                });
                // A letter that differs per layer keeps usernames of one length apart.
                let letter = if layer == "rest" { "r" } else { "g" };
                input[field] = json!(letter.repeat(length));
                let what = format!("{field} of {length} characters ({expect:?})");
                if layer == "rest" {
                    let answer = self
                        .rest(reqwest::Method::POST, "/auth/register", Some(input))
                        .await;
                    let bound = match expect {
                        Expect::Refused("string_too_short", _) => json!(range.min),
                        _ => json!(range.max),
                    };
                    check_rest(&what, &answer, 201, expect, ["body", field], bound);
                } else {
                    let mut graphql_input = input.clone();
                    if field != graphql_field {
                        let value = graphql_input[field].take();
                        graphql_input
                            .as_object_mut()
                            .expect("an object")
                            .remove(field);
                        graphql_input[graphql_field] = value;
                    }
                    self.check_graphql(
                        &what,
                        REGISTER,
                        json!({"input": graphql_input}),
                        expect == Expect::Accepted,
                        graphql_field,
                    )
                    .await;
                }
            }
        }
    }

    async fn title_rule(&self) {
        for (length, expect) in length_probes(TITLE) {
            let title = "t".repeat(length);
            let what = format!("title of {length} characters ({expect:?})");
            let answer = self
                .rest(
                    reqwest::Method::POST,
                    "/tasks/",
                    Some(json!({"title": title})),
                )
                .await;
            let bound = match expect {
                Expect::Refused("string_too_short", _) => json!(TITLE.min),
                _ => json!(TITLE.max),
            };
            check_rest(&what, &answer, 201, expect, ["body", "title"], bound);
            self.check_graphql(
                &what,
                CREATE_TASK,
                json!({"input": {"title": title}}),
                expect == Expect::Accepted,
                "title",
            )
            .await;
        }
    }

    /// A page rule: REST's query parameter and GraphQL's argument of the same name.
    async fn page_rule(&self, name: &str, range: IntRange) {
        let mut probes = vec![
            (range.min, Expect::Accepted),
            (range.min - 1, Expect::Refused("greater_than_equal", "ge")),
        ];
        if let Some(max) = range.max {
            probes.push((max, Expect::Accepted));
            probes.push((max + 1, Expect::Refused("less_than_equal", "le")));
        }
        for (value, expect) in probes {
            let what = format!("{name}={value} ({expect:?})");
            let answer = self
                .rest(
                    reqwest::Method::GET,
                    &format!("/tasks/?{name}={value}"),
                    None,
                )
                .await;
            let bound = match expect {
                Expect::Refused("greater_than_equal", _) => json!(range.min),
                _ => json!(range.max),
            };
            check_rest(&what, &answer, 200, expect, ["query", name], bound);
            if expect == Expect::Accepted {
                assert_eq!(answer.1[name], value, "REST {what}");
            }
            let data = self
                .check_graphql(
                    &what,
                    PAGE,
                    page_variables(name, value),
                    expect == Expect::Accepted,
                    name,
                )
                .await;
            if expect == Expect::Accepted {
                assert_eq!(data["me"]["tasks"][name], value, "GraphQL {what}");
            }
        }
        // Left out, the default applies in both APIs.
        let (status, page) = self.rest(reqwest::Method::GET, "/tasks/", None).await;
        assert_eq!(
            (status, &page[name]),
            (200, &json!(range.default)),
            "REST default {name}"
        );
        let data = self
            .check_graphql("the default page", DEFAULT_PAGE, json!({}), true, name)
            .await;
        assert_eq!(
            data["me"]["tasks"][name], range.default,
            "GraphQL default {name}"
        );
    }

    /// The OpenAPI document publishes every bound.
    fn openapi_rules(&self) {
        let schemas = &self.openapi["components"]["schemas"];
        let string = |schema: &Value, range: CharRange, what: &str| {
            assert_eq!(schema["maxLength"], range.max, "OpenAPI {what}: {schema}");
            let min_length = if range.min > 0 {
                json!(range.min)
            } else {
                Value::Null
            };
            assert_eq!(schema["minLength"], min_length, "OpenAPI {what}: {schema}");
        };
        let user = &schemas["UserCreate"]["properties"];
        string(&user["username"], USERNAME, "username");
        string(&user["password"], PASSWORD, "password");
        string(&user["full_name"]["anyOf"][0], FULL_NAME, "full_name");
        string(
            &schemas["TaskCreate"]["properties"]["title"],
            TITLE,
            "TaskCreate.title",
        );
        string(
            &schemas["TaskUpdate"]["properties"]["title"],
            TITLE,
            "TaskUpdate.title",
        );
        let parameters = self.openapi["paths"]["/api/v1/tasks/"]["get"]["parameters"]
            .as_array()
            .expect("the list parameters");
        for (name, range) in [("skip", PAGE_SKIP), ("limit", PAGE_LIMIT)] {
            let schema = &parameters
                .iter()
                .find(|parameter| parameter["name"] == name)
                .unwrap_or_else(|| panic!("OpenAPI has no {name} parameter"))["schema"];
            assert_eq!(schema["minimum"], range.min, "OpenAPI {name}: {schema}");
            assert_eq!(
                schema["maximum"],
                json!(range.max),
                "OpenAPI {name}: {schema}"
            );
            assert_eq!(schema["default"], range.default, "OpenAPI {name}: {schema}");
        }
    }
}

#[tokio::test]
async fn every_layer_follows_the_one_definition_of_each_rule() {
    let probe = Probe::start().await;
    probe.openapi_rules();
    probe
        .registration_rule("username", "username", USERNAME)
        .await;
    probe
        .registration_rule("password", "password", PASSWORD)
        .await;
    probe
        .registration_rule("full_name", "fullName", FULL_NAME)
        .await;
    probe.title_rule().await;
    probe.page_rule("skip", PAGE_SKIP).await;
    probe.page_rule("limit", PAGE_LIMIT).await;
    probe.stack.shutdown().await;
}
