//! The storage tests, one binary: each test runs against SQLite and PostgreSQL alike and gets a
//! fresh database (a new SQLite file or a new PostgreSQL schema).

mod storage;
mod text;
