//! salespipe: a single-binary batch ETL and reporting pipeline for sales management.
//!
//! The data flows one way through the modules, one per stage:
//! [`config`] (pipeline YAML) -> [`extract`] (raw rows with file and line) ->
//! [`clean`] (typing, rules, rejects, dedupe) -> [`warehouse`] (load, run log, Parquet)
//! -> [`models`] (SQL model graph) -> [`report`] (Tera). [`run`] drives a whole run;
//! [`sample`] writes the sample company's extracts.

pub mod app;
pub mod clean;
pub mod cli;
pub mod config;
pub mod error;
pub mod extract;
pub mod forecast;
pub mod interrupt;
pub mod models;
pub mod progress;
pub mod report;
pub mod run;
pub mod sample;
pub mod sql;
pub mod util;
pub mod warehouse;

pub use error::{Error, Result};
