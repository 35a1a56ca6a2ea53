//! The integration tests: one binary, one module per area.

mod common;
mod errors;
mod metrics;
mod openapi;
mod parse;
mod shutdown;
mod zones;
