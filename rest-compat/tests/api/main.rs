//! Black-box tests of the REST layer that need no backend: routing, request
//! validation, CORS, the body limit, the OpenAPI document, and 503 when the
//! router cannot be reached. (The whole-stack contract lives in the root `tests/`.)

mod cors;
mod docs;
mod helpers;
mod routing;
mod unavailable;
mod validation;
