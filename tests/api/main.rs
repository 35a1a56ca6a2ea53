//! nlpd's integration tests: one binary, one module per area.

mod accuracy;
mod cli;
mod common;
mod conllu;
mod connections;
mod data;
mod errors;
mod healthcheck;
mod http_zones;
mod metrics;
mod openapi;
mod parse;
mod render;
mod sentences;
mod shutdown;
mod transformer;
mod vocab;
mod zones;
