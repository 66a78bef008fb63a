//! The pipeline configuration: typed serde structs for `pipelines/*.yaml`, loading, and
//! the second pass that resolves paths and collects every semantic error.
//!
//! Parsing is two-stage, as in ripgrep and vector: [`yaml`] turns the text into
//! [`PipelineFile`] (a syntax or type error stops there, with line and column), then
//! [`validate`] checks references, files and names, collecting all problems with the
//! location of the offending key, and produces a [`Pipeline`] with resolved paths.

pub mod types;
pub mod validate;
pub mod yaml;

pub use types::*;
pub use validate::{load, locate_warehouse, Pipeline, ResolvedForecast, ResolvedSource};
