//! The users subgraph: accounts, login and access tokens.
