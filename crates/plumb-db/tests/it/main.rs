//! plumb-db against a real PostgreSQL: one throwaway cluster per test binary (plumb-test's
//! `Postgres`), seeded with about 200k rows and planted problems, each of which must be reported
//! with its evidence, and nothing else.

mod cluster;
mod errors;
mod explain;
mod load;
mod report;
