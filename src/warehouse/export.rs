//! Parquet outputs for BI tools, published atomically per table.
//!
//! Layout under the Parquet folder:
//! ```text
//! <parquet_dir>/<table>            -> symlink to .versions/<table>/run-<id>
//! <parquet_dir>/.versions/<table>/run-<id>/data.parquet
//! ```
//! A run writes each table into a new version folder while its data transaction is
//! open; after the commit, [`publish`] points the stable path at the new folder by
//! renaming a fresh symlink over the old one (rename is atomic), so a reader sees the
//! whole old or the whole new table. The previous version is kept for readers that
//! are still open; older ones are removed.

use std::path::{Path, PathBuf};

use super::Warehouse;
use crate::error::{Error, Result};
use crate::sql;

/// A table written to its new version folder, not yet published.
#[derive(Debug, Clone)]
pub struct StagedExport {
    /// Table name (also the name of the stable path).
    pub table: String,
    /// The version folder holding `data.parquet`.
    pub version_dir: PathBuf,
}

const VERSIONS: &str = ".versions";

/// Writes `relation` (an already quoted table or view name) to a new version folder of
/// `table`, sorted by `order_by` (every column when empty) so the files are
/// deterministic: DuckDB's parallel writers do not keep row order otherwise.
pub fn stage(
    wh: &Warehouse,
    parquet_dir: &Path,
    table: &str,
    relation: &str,
    run_id: i64,
    partition_by: &[String],
    order_by: &[String],
) -> Result<StagedExport> {
    let version_dir = parquet_dir
        .join(VERSIONS)
        .join(table)
        .join(format!("run-{run_id}"));
    if version_dir.exists() {
        std::fs::remove_dir_all(&version_dir).map_err(|e| Error::io(&version_dir, e))?;
    }
    std::fs::create_dir_all(&version_dir).map_err(|e| Error::io(&version_dir, e))?;
    let order = if order_by.is_empty() {
        "ALL".to_string()
    } else {
        order_by
            .iter()
            .map(|c| sql::ident(c))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let copy = if partition_by.is_empty() {
        let file = version_dir.join("data.parquet");
        format!(
            "COPY (SELECT * FROM {relation} ORDER BY {order}) TO {} (FORMAT parquet, COMPRESSION zstd)",
            sql::literal(&file.to_string_lossy())
        )
    } else {
        let cols: Vec<String> = partition_by.iter().map(|c| sql::ident(c)).collect();
        format!(
            "COPY (SELECT * FROM {relation} ORDER BY {order}) TO {} (FORMAT parquet, COMPRESSION zstd,
             PARTITION_BY ({}), OVERWRITE_OR_IGNORE, FILENAME_PATTERN 'data_{{i}}')",
            sql::literal(&version_dir.to_string_lossy()),
            cols.join(", ")
        )
    };
    wh.exec(&copy).map_err(|e| match e {
        Error::Db { source, .. } => Error::db(format!("exporting `{table}` to Parquet"), source),
        other => other,
    })?;
    Ok(StagedExport {
        table: table.to_string(),
        version_dir,
    })
}

/// Removes staged version folders of a run that did not commit.
pub fn discard(staged: &[StagedExport]) {
    for s in staged {
        let _ = std::fs::remove_dir_all(&s.version_dir);
    }
}

/// Points each table's stable path at its staged version and prunes old versions.
/// Returns the stable paths.
pub fn publish(parquet_dir: &Path, staged: &[StagedExport]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for s in staged {
        let link = parquet_dir.join(&s.table);
        let rel = Path::new(VERSIONS).join(&s.table).join(
            s.version_dir
                .file_name()
                .ok_or_else(|| Error::Run("bad version folder".into()))?,
        );
        if link.exists() && !link.is_symlink() {
            return Err(Error::Run(format!(
                "`{}` is a real folder, not a salespipe-managed link; move it away",
                link.display()
            )));
        }
        let tmp = parquet_dir.join(format!(".{}.link-tmp", s.table));
        let _ = std::fs::remove_file(&tmp);
        symlink_dir(&rel, &tmp).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, &link).map_err(|e| Error::io(&link, e))?;
        prune(&parquet_dir.join(VERSIONS).join(&s.table), &s.version_dir);
        out.push(link);
    }
    Ok(out)
}

#[cfg(unix)]
fn symlink_dir(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(windows)]
fn symlink_dir(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::windows::fs::symlink_dir(target, link)
}

/// Keeps the current version and the one before it.
fn prune(versions: &Path, current: &Path) {
    let Ok(entries) = std::fs::read_dir(versions) else {
        return;
    };
    let mut dirs: Vec<(i64, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let id: i64 = name.strip_prefix("run-")?.parse().ok()?;
            Some((id, e.path()))
        })
        .collect();
    dirs.sort();
    let keep_from = dirs
        .iter()
        .position(|(_, p)| p == current)
        .unwrap_or(dirs.len());
    for (i, (_, p)) in dirs.iter().enumerate() {
        if i + 1 < keep_from {
            let _ = std::fs::remove_dir_all(p);
        }
    }
}
