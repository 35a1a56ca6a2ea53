//! nlpd's integration tests: one binary, one module per area.

mod accuracy;
mod cli;
mod conllu;
mod data;
mod zones;
