//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copies a folder recursively.
pub fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), &to).unwrap();
        }
    }
}

/// A temp folder holding `tests/fixtures/<name>` plus the repository's `sql/` and
/// `report_templates/`, so fixtures exercise the real models and templates.
pub fn fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("tests/fixtures").join(name), dir.path());
    copy_dir(&repo().join("sql"), &dir.path().join("sql"));
    copy_dir(
        &repo().join("report_templates"),
        &dir.path().join("report_templates"),
    );
    dir
}

/// A copy of the repository's sample project (pipelines, sample data, SQL, report
/// templates) in a new temporary folder.
pub fn sample_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for d in ["pipelines", "sample_data", "sql", "report_templates"] {
        copy_dir(&repo().join(d), &dir.path().join(d));
    }
    dir
}

/// Runs the binary with `args` in `cwd`.
pub fn salespipe(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_salespipe"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

/// Runs the binary and asserts success, returning stdout.
pub fn salespipe_ok(cwd: &Path, args: &[&str]) -> String {
    let out = salespipe(cwd, args);
    assert!(
        out.status.success(),
        "salespipe {args:?} failed with {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Opens a warehouse file read-only.
pub fn open_db(path: &Path) -> duckdb::Connection {
    let cfg = duckdb::Config::default()
        .access_mode(duckdb::AccessMode::ReadOnly)
        .unwrap();
    duckdb::Connection::open_with_flags(path, cfg).unwrap()
}

/// Runs a query returning rows of strings (NULL as "NULL"), via a VARCHAR cast of each
/// column.
pub fn rows(conn: &duckdb::Connection, sql: &str) -> Vec<Vec<String>> {
    let mut stmt = conn.prepare(sql).unwrap();
    let mut rows = stmt.query([]).unwrap();
    let n = rows.as_ref().unwrap().column_count();
    let mut out = Vec::new();
    while let Some(r) = rows.next().unwrap() {
        let mut v = Vec::new();
        for i in 0..n {
            let s: Option<String> = r.get(i).unwrap();
            v.push(s.unwrap_or_else(|| "NULL".into()));
        }
        out.push(v);
    }
    out
}

/// One value as a string.
pub fn scalar(conn: &duckdb::Connection, sql: &str) -> String {
    rows(conn, sql)
        .into_iter()
        .next()
        .unwrap()
        .into_iter()
        .next()
        .unwrap()
}
