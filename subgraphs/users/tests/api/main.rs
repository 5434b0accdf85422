//! Integration tests of the users service over real HTTP, each on a fresh
//! PostgreSQL database and on a fresh SQLite data directory.

mod helpers;

mod entities;
mod http;
mod login;
mod me;
mod migration;
mod process;
mod register;
mod schema;
