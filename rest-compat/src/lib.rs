//! The original /api/v1 REST API, served by sending GraphQL operations to the router.
