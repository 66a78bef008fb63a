//! Error types shared by every stage, and the mapping from an error to an exit code.
//!
//! Library code returns [`Error`]; `main` prints the chain once and exits with
//! [`Error::exit_code`]: 0 ok, 1 the run failed (data, SQL, I/O), 2 usage or
//! invalid configuration, 130 interrupted by Ctrl-C.

use std::fmt;
use std::path::{Path, PathBuf};

/// Exit code for a run that failed on data, SQL or I/O.
pub const EXIT_RUN_FAILED: i32 = 1;
/// Exit code for a usage error or an invalid configuration.
pub const EXIT_USAGE: i32 = 2;
/// Exit code for a run stopped by Ctrl-C (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: i32 = 130;

/// One problem found in a configuration file, with its location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file the problem is in.
    pub file: PathBuf,
    /// 1-based line; 0 when the location is unknown.
    pub line: usize,
    /// 1-based column; 0 when the location is unknown.
    pub column: usize,
    /// A stable code, e.g. `E101`.
    pub code: &'static str,
    /// What is wrong, naming the item in backticks, and the fix when it is obvious.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        if self.line > 0 {
            write!(
                f,
                "{file}:{}:{}: error[{}]: {}",
                self.line, self.column, self.code, self.message
            )
        } else {
            write!(f, "{file}: error[{}]: {}", self.code, self.message)
        }
    }
}

/// Every problem found in one configuration, reported together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The problems, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.diagnostics.len();
        for d in &self.diagnostics {
            writeln!(f, "{d}")?;
        }
        write!(
            f,
            "{n} configuration error{}",
            if n == 1 { "" } else { "s" }
        )
    }
}

impl std::error::Error for ConfigError {}

/// The error type of the library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The pipeline configuration (or a file it names) is invalid.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// The command line was valid for clap but cannot be used (e.g. a bad `--as-of`).
    #[error("{0}")]
    Usage(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// DuckDB reported an error while running a stage.
    #[error("{context}: {source}")]
    Db {
        /// What salespipe was doing, e.g. `building model \`fct_order_lines\``.
        context: String,
        /// The underlying error.
        source: duckdb::Error,
    },
    /// A template could not be rendered.
    #[error("{context}: {message}")]
    Template {
        /// The template or model involved.
        context: String,
        /// Tera's message chain.
        message: String,
    },
    /// A stage stopped the run for a data reason (e.g. too many rejects).
    #[error("{0}")]
    Run(String),
    /// A file's columns do not match its source: a declared column is missing, or the
    /// file has undeclared columns and the source says `extra_columns: error`.
    #[error("{message}")]
    Columns {
        /// The source.
        source_name: String,
        /// Declared columns (as named in the file) missing from the file.
        missing: Vec<String>,
        /// Columns of the file that no declared column reads.
        extra: Vec<String>,
        /// What is wrong, naming the file and the columns.
        message: String,
    },
    /// Ctrl-C stopped the run (see [`crate::interrupt`]).
    #[error("interrupted (Ctrl-C): the run was rolled back")]
    Interrupted,
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_) | Error::Usage(_) => EXIT_USAGE,
            Error::Interrupted => EXIT_INTERRUPTED,
            _ => EXIT_RUN_FAILED,
        }
    }

    /// Wraps an I/O error with the path involved.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    /// Wraps a DuckDB error with what salespipe was doing.
    pub fn db(context: impl Into<String>, source: duckdb::Error) -> Self {
        Error::Db {
            context: context.into(),
            source,
        }
    }

    /// Wraps a Tera error, flattening its cause chain into one message.
    pub fn template(context: impl Into<String>, err: &tera::Error) -> Self {
        let mut message = err.to_string();
        let mut cause = std::error::Error::source(err);
        while let Some(c) = cause {
            message.push_str(": ");
            message.push_str(&c.to_string());
            cause = c.source();
        }
        Error::Template {
            context: context.into(),
            message,
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Adds a context string to DuckDB results.
pub trait DbContext<T> {
    /// Maps a DuckDB error into [`Error::Db`] with the given context.
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> DbContext<T> for std::result::Result<T, duckdb::Error> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::db(context(), e))
    }
}
