//! Parquet outputs for BI tools, published atomically per table, with a manifest.
//!
//! Layout under the Parquet folder:
//! ```text
//! <parquet_dir>/_manifest.json     tables, row counts, columns, files, run id, as-of
//! <parquet_dir>/<table>            -> symlink to .versions/<table>/run-<id>
//! <parquet_dir>/.versions/<table>/run-<id>/data.parquet
//! <parquet_dir>/.versions/<table>/run-<id>/year=2026/month=9/data_0.parquet  (partitioned)
//! ```
//! A run writes each table into a new version folder while its data transaction is
//! open; after the commit, [`publish`] points the stable path at the new folder by
//! renaming a fresh symlink over the old one (rename is atomic), so a reader sees the
//! whole old or the whole new table, then replaces `_manifest.json` the same way (a
//! temporary file renamed over it). The previous version is kept for readers that are
//! still open; older ones are removed.
//!
//! Files are sized for BI tools: an unpartitioned table is one file; a partitioned one
//! is one file per partition, sorted inside it, with the partition columns inside the
//! files too, so tools that do not read hive paths still see them. Row groups hold up to
//! 122,880 rows (DuckDB's default), never one per row.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::Warehouse;
use crate::error::{DbContext, Error, Result};
use crate::sql;

/// The manifest's file name in the Parquet folder.
pub const MANIFEST: &str = "_manifest.json";

/// Rows per Parquet row group.
const ROW_GROUP_SIZE: u64 = 122_880;

/// What to export.
#[derive(Debug, Clone, Copy)]
pub struct ExportSpec<'a> {
    /// Table name (also the name of the stable path).
    pub table: &'a str,
    /// The quoted relation to read, e.g. `"main"."fct_order_lines"`.
    pub relation: &'a str,
    /// Hive partition columns (`year`, `month`), or none.
    pub partition_by: &'a [String],
    /// Sort columns; every column when empty.
    pub order_by: &'a [String],
    /// What the table holds (the model's description).
    pub description: Option<&'a str>,
}

/// A table written to its new version folder, not yet published.
#[derive(Debug, Clone)]
pub struct StagedExport {
    /// Table name (also the name of the stable path).
    pub table: String,
    /// The version folder holding the files.
    pub version_dir: PathBuf,
    /// The table's manifest entry.
    pub entry: ManifestTable,
}

/// `_manifest.json`: every published table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// Format of this file; 1.
    pub format_version: u32,
    /// The pipeline that published.
    pub pipeline: String,
    /// The run that published last.
    pub run_id: i64,
    /// Its as-of date.
    pub as_of: Option<NaiveDate>,
    /// Tables by name.
    pub tables: Vec<ManifestTable>,
}

/// One published table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ManifestTable {
    /// Table name.
    pub name: String,
    /// Its folder, relative to the Parquet folder.
    pub path: String,
    /// The run that wrote this version.
    pub run_id: i64,
    /// That run's as-of date.
    pub as_of: Option<NaiveDate>,
    /// Rows in all its files.
    pub rows: i64,
    /// What it holds.
    #[serde(default)]
    pub description: Option<String>,
    /// Columns with their DuckDB types, in order.
    pub columns: Vec<ManifestColumn>,
    /// Hive partitioning, if any.
    pub partitioning: Option<Partitioning>,
    /// Sort order of the rows within each file (empty: every column).
    pub order_by: Vec<String>,
    /// Its files.
    pub files: Vec<ManifestFile>,
}

/// A column of a published table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ManifestColumn {
    /// Name.
    pub name: String,
    /// DuckDB type, e.g. `DECIMAL(18,2)`.
    #[serde(rename = "type")]
    pub ty: String,
}

/// How a table is partitioned.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Partitioning {
    /// `hive` (`year=2026/month=9/`).
    pub style: String,
    /// The partition columns, outermost first.
    pub columns: Vec<String>,
    /// Whether the partition columns are also stored inside the files.
    pub columns_in_files: bool,
}

/// One Parquet file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ManifestFile {
    /// Path relative to the table's folder.
    pub path: String,
    /// Rows.
    pub rows: i64,
    /// Size in bytes.
    pub bytes: u64,
}

/// The run that publishes.
#[derive(Debug, Clone, Copy)]
pub struct PublishInfo<'a> {
    /// Pipeline name.
    pub pipeline: &'a str,
    /// Run id.
    pub run_id: i64,
    /// As-of date.
    pub as_of: Option<NaiveDate>,
}

const VERSIONS: &str = ".versions";

/// What DuckDB's partitioned `COPY` percent-encodes in a hive path segment: everything
/// but ASCII letters, digits and `-_.~`.
const HIVE_ESCAPED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The folder name DuckDB's partitioned `COPY` gives `column = value` (`None`: NULL).
fn hive_segment(column: &str, value: Option<&str>) -> String {
    let value = value.map_or_else(
        || "__HIVE_DEFAULT_PARTITION__".to_string(),
        |v| percent_encoding::utf8_percent_encode(v, HIVE_ESCAPED).to_string(),
    );
    format!(
        "{}={value}",
        percent_encoding::utf8_percent_encode(column, HIVE_ESCAPED)
    )
}

/// Temp table holding a partitioned export's rows in file order.
const SORTED: &str = "_export_sorted";

/// Writes `relation` partitioned by `partition_by` under `version_dir`, one file
/// `data_0.parquet` per partition, sorted by `order` inside it: the rows are sorted once
/// (partition columns first) into a temp table, whose row ids then give each partition
/// as one contiguous range, written by a single-file `COPY` (which keeps its input's
/// order, on every thread). DuckDB's own partitioned `COPY` loses the order of a sorted
/// query on several threads (duckdb/duckdb#14349); its `ORDER_BY` option, or the sorted
/// query on one thread, keep it but were slower (10M rows: 8.2 and 11.6 s against 7.0 s).
fn write_partitioned(
    wh: &Warehouse,
    relation: &str,
    table: &str,
    version_dir: &Path,
    partition_by: &[String],
    order: &str,
) -> Result<()> {
    let cols: Vec<String> = partition_by.iter().map(|c| sql::ident(c)).collect();
    wh.exec(&format!(
        "CREATE OR REPLACE TEMP TABLE {SORTED} AS
         SELECT * FROM {relation} ORDER BY {}, {order}",
        cols.join(", ")
    ))
    .map_err(in_export(table))?;
    let written = write_ranges(wh, version_dir, partition_by, &cols);
    let dropped = wh.exec(&format!("DROP TABLE IF EXISTS {SORTED}"));
    written.map_err(in_export(table))?;
    dropped
}

/// Names the export of `table` in a DuckDB error.
fn in_export(table: &str) -> impl Fn(Error) -> Error + '_ {
    move |e| match e {
        Error::Db { source, .. } => Error::db(format!("exporting `{table}` to Parquet"), source),
        Error::Run(message) => Error::Run(format!("exporting `{table}` to Parquet: {message}")),
        other => other,
    }
}

/// Writes each partition of the sorted temp table (see [`write_partitioned`]) to its
/// hive folder under `version_dir`.
fn write_ranges(
    wh: &Warehouse,
    version_dir: &Path,
    partition_by: &[String],
    cols: &[String],
) -> Result<()> {
    let values: Vec<String> = cols
        .iter()
        .map(|c| format!("CAST({c} AS VARCHAR)"))
        .collect();
    let what = || "listing the partitions of a Parquet export".to_string();
    let t = std::time::Instant::now();
    let mut stmt = wh
        .conn
        .prepare(&format!(
            "SELECT {}, _first, _last, _rows FROM (
                 SELECT {}, min(rowid) AS _first, max(rowid) AS _last, count(*) AS _rows
                 FROM {SORTED} GROUP BY ALL)
             ORDER BY _first",
            values.join(", "),
            cols.join(", ")
        ))
        .ctx(what)?;
    let n = cols.len();
    let parts: Vec<(Vec<Option<String>>, i64, i64, i64)> = stmt
        .query_map([], |r| {
            let mut vals = Vec::with_capacity(n);
            for i in 0..n {
                vals.push(r.get::<_, Option<String>>(i)?);
            }
            Ok((vals, r.get(n)?, r.get(n + 1)?, r.get(n + 2)?))
        })
        .ctx(what)?
        .collect::<std::result::Result<_, _>>()
        .ctx(what)?;
    tracing::debug!(
        "{:.3} s: partitions of the export",
        t.elapsed().as_secs_f64()
    );
    // Each range must hold its partition's rows and no other: a partition whose rows
    // are not contiguous in the temp table (its insert did not keep the sorted order)
    // would otherwise pull other partitions' rows into its file.
    if let Some((vals, first, last, rows)) = parts
        .iter()
        .find(|(_, first, last, rows)| last - first + 1 != *rows)
    {
        let folder: Vec<String> = partition_by
            .iter()
            .zip(vals)
            .map(|(c, v)| hive_segment(c, v.as_deref()))
            .collect();
        return Err(Error::Run(format!(
            "{}: the partition `{}` holds {rows} rows but spans row ids {first} to {last}; \
             the sorted copy did not keep its order",
            what(),
            folder.join("/")
        )));
    }
    for (vals, first, last, _) in parts {
        let mut dir = version_dir.to_path_buf();
        for (col, val) in partition_by.iter().zip(&vals) {
            dir.push(hive_segment(col, val.as_deref()));
        }
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let file = dir.join("data_0.parquet");
        if file.exists() {
            // Two partitions, one folder: a text value spelling DuckDB's NULL folder, or
            // values differing only in case on a file system that ignores it. The second
            // file would replace the first.
            return Err(Error::Run(format!(
                "{}: two partitions map to the folder `{}` (a value `__HIVE_DEFAULT_PARTITION__` \
                 beside NULL, or values differing only in case where the file system ignores it)",
                what(),
                dir.strip_prefix(version_dir).unwrap_or(&dir).display()
            )));
        }
        wh.exec(&format!(
            "COPY (SELECT * FROM {SORTED} WHERE rowid BETWEEN {first} AND {last})
             TO {} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, ROW_GROUP_SIZE {ROW_GROUP_SIZE})",
            sql::literal(&file.to_string_lossy())
        ))?;
    }
    Ok(())
}

/// Writes `spec.relation` to a new version folder of `spec.table`, sorted by
/// `order_by` (every column when empty) so the files are deterministic. A single file
/// is written from a sorted query (DuckDB keeps a query's order in one file); a
/// partitioned one is one sorted file per partition (see [`write_partitioned`]):
/// splitting a partition by size would assign rows to files differently from run to run.
pub fn stage(
    wh: &Warehouse,
    parquet_dir: &Path,
    spec: &ExportSpec<'_>,
    run_id: i64,
) -> Result<StagedExport> {
    let table = spec.table;
    let version_dir = parquet_dir
        .join(VERSIONS)
        .join(table)
        .join(format!("run-{run_id}"));
    if version_dir.exists() {
        std::fs::remove_dir_all(&version_dir).map_err(|e| Error::io(&version_dir, e))?;
    }
    std::fs::create_dir_all(&version_dir).map_err(|e| Error::io(&version_dir, e))?;
    let staged = write_version(wh, spec, run_id, &version_dir);
    if staged.is_err() {
        // Not staged, so no discard will find it: nothing of a failed export stays.
        let _ = std::fs::remove_dir_all(&version_dir);
    }
    staged
}

/// The body of [`stage`]: writes the files into `version_dir` and describes them.
fn write_version(
    wh: &Warehouse,
    spec: &ExportSpec<'_>,
    run_id: i64,
    version_dir: &Path,
) -> Result<StagedExport> {
    let table = spec.table;
    let relation = spec.relation;
    let version_dir = version_dir.to_path_buf();
    let described = wh.describe(relation).map_err(in_export(table))?;
    let names: Vec<&str> = described.iter().map(|(n, _)| n.as_str()).collect();
    let order_by: Vec<&str> = if spec.order_by.is_empty() {
        names.clone()
    } else {
        spec.order_by.iter().map(String::as_str).collect()
    };
    let order = order_by
        .iter()
        .map(|c| sql::ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    let glob = if spec.partition_by.is_empty() {
        let file = version_dir.join("data.parquet");
        wh.exec(&format!(
            "COPY (SELECT * FROM {relation} ORDER BY {order}) TO {} (FORMAT parquet,
             COMPRESSION zstd, COMPRESSION_LEVEL 1, ROW_GROUP_SIZE {ROW_GROUP_SIZE})",
            sql::literal(&file.to_string_lossy())
        ))
        .map_err(in_export(table))?;
        file
    } else {
        // The partitions are row-id ranges of a sorted copy: a column of that name would
        // hide DuckDB's row ids.
        if let Some(c) = names.iter().find(|n| n.eq_ignore_ascii_case("rowid")) {
            return Err(Error::Run(format!(
                "exporting `{table}` to Parquet: its column `{c}` has the name DuckDB gives \
                 row ids, which a partitioned export needs; rename the column"
            )));
        }
        write_partitioned(wh, relation, table, &version_dir, spec.partition_by, &order)?;
        version_dir.join("**").join("*.parquet")
    };
    let columns: Vec<ManifestColumn> = described
        .into_iter()
        .map(|(name, ty)| ManifestColumn { name, ty })
        .collect();
    let files = list_files(wh, &version_dir, &glob)
        .map_err(|e| Error::Run(format!("describing the Parquet export of `{table}`: {e}")))?;
    Ok(StagedExport {
        table: table.to_string(),
        version_dir,
        entry: ManifestTable {
            name: table.to_string(),
            path: table.to_string(),
            run_id,
            as_of: None,
            rows: files.iter().map(|f| f.rows).sum(),
            description: spec.description.map(str::to_string),
            columns,
            partitioning: (!spec.partition_by.is_empty()).then(|| Partitioning {
                style: "hive".into(),
                columns: spec.partition_by.to_vec(),
                columns_in_files: true,
            }),
            order_by: spec.order_by.to_vec(),
            files,
        },
    })
}

/// The Parquet files under `version_dir` (matching `glob`) with their rows and sizes.
fn list_files(wh: &Warehouse, version_dir: &Path, glob: &Path) -> Result<Vec<ManifestFile>> {
    let mut out = Vec::new();
    let any = std::fs::read_dir(version_dir)
        .map(|mut d| d.next().is_some())
        .unwrap_or(false);
    if !any {
        // A partitioned export of an empty table writes no file.
        return Ok(out);
    }
    let what = || format!("reading the metadata of {}", glob.display());
    let mut stmt = wh
        .conn
        .prepare(&format!(
            "SELECT file_name, num_rows FROM parquet_file_metadata({}) ORDER BY file_name",
            sql::literal(&glob.to_string_lossy())
        ))
        .ctx(what)?;
    let rows: Vec<(String, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .ctx(what)?
        .collect::<std::result::Result<_, _>>()
        .ctx(what)?;
    for (file, rows) in rows {
        let path = PathBuf::from(&file);
        let bytes = std::fs::metadata(&path)
            .map_err(|e| Error::io(&path, e))?
            .len();
        let rel = path
            .strip_prefix(version_dir)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or(file);
        out.push(ManifestFile {
            path: rel,
            rows,
            bytes,
        });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Removes staged version folders of a run that did not commit.
pub fn discard(staged: &[StagedExport]) {
    for s in staged {
        let _ = std::fs::remove_dir_all(&s.version_dir);
    }
}

/// The first half of publishing, done before the data transaction commits: what can
/// fail for want of permission or space (each link to the new version made under a
/// temporary name, the new `_manifest.json` written beside the old) is done here, so a
/// failure rolls the run back with nothing published. [`Prepared::finish`], after the
/// commit, only renames.
pub struct Prepared {
    /// (temporary link, stable link, the table's versions folder, the new version).
    links: Vec<(PathBuf, PathBuf, PathBuf, PathBuf)>,
    /// The new manifest under its temporary name, and where it goes.
    manifest: (PathBuf, PathBuf),
}

/// Prepares publishing `staged` (see [`Prepared`]).
pub fn prepare(
    parquet_dir: &Path,
    staged: &[StagedExport],
    info: &PublishInfo<'_>,
) -> Result<Prepared> {
    let mut prepared = Prepared {
        links: Vec::new(),
        manifest: (
            parquet_dir.join(format!(".{MANIFEST}.tmp")),
            parquet_dir.join(MANIFEST),
        ),
    };
    let made = (|| {
        std::fs::create_dir_all(parquet_dir).map_err(|e| Error::io(parquet_dir, e))?;
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
            prepared.links.push((
                tmp,
                link,
                parquet_dir.join(VERSIONS).join(&s.table),
                s.version_dir.clone(),
            ));
        }
        let text = serde_json::to_string_pretty(&new_manifest(parquet_dir, staged, info))
            .map_err(|e| Error::Run(format!("writing {}: {e}", prepared.manifest.1.display())))?;
        let tmp = &prepared.manifest.0;
        std::fs::write(tmp, text + "\n").map_err(|e| Error::io(tmp, e))
    })();
    match made {
        Ok(()) => Ok(prepared),
        Err(e) => {
            prepared.discard();
            Err(e)
        }
    }
}

/// Publishes `staged` at once (both halves of [`Prepared`]): for the run-log tables,
/// exported after the run.
pub fn publish(
    parquet_dir: &Path,
    staged: &[StagedExport],
    info: &PublishInfo<'_>,
) -> Result<Vec<PathBuf>> {
    prepare(parquet_dir, staged, info)?.finish()
}

impl Prepared {
    /// After the commit: points each stable path at its new version, prunes old
    /// versions and puts the new `_manifest.json` in place. Returns the stable paths.
    /// A rename that fails does not stop the others (the run is committed): its
    /// temporary file is removed and the first error returned after all were tried.
    pub fn finish(self) -> Result<Vec<PathBuf>> {
        let mut out = Vec::new();
        let mut first: Option<Error> = None;
        let mut put = |tmp: &Path, path: &Path| match std::fs::rename(tmp, path) {
            Ok(()) => true,
            Err(e) => {
                let _ = std::fs::remove_file(tmp);
                first.get_or_insert(Error::io(path, e));
                false
            }
        };
        for (tmp, link, versions, current) in &self.links {
            if put(tmp, link) {
                prune(versions, current);
                out.push(link.clone());
            }
        }
        let (tmp, path) = &self.manifest;
        put(tmp, path);
        match first {
            None => Ok(out),
            Some(e) => Err(e),
        }
    }

    /// Removes what [`prepare`] made (a run that failed before its commit).
    pub fn discard(&self) {
        for (tmp, ..) in &self.links {
            let _ = std::fs::remove_file(tmp);
        }
        let _ = std::fs::remove_file(&self.manifest.0);
    }
}

/// Takes every table of `_manifest.json` not in `keep` out of the Parquet folder: its
/// link, its versions and its manifest entry (a model deleted or a forecast dropped from
/// the pipeline must not go on being read as current). Returns their names. The Parquet
/// folder is one pipeline's, as its manifest is.
pub fn unpublish_others(
    parquet_dir: &Path,
    keep: &std::collections::BTreeSet<String>,
) -> Result<Vec<String>> {
    let Some(mut manifest) = read_manifest(parquet_dir) else {
        return Ok(Vec::new());
    };
    let (kept, gone): (Vec<ManifestTable>, Vec<ManifestTable>) = manifest
        .tables
        .into_iter()
        .partition(|t| keep.contains(&t.name));
    if gone.is_empty() {
        return Ok(Vec::new());
    }
    manifest.tables = kept;
    replace_manifest(parquet_dir, &manifest)?;
    let mut names = Vec::new();
    for t in gone {
        // Only what salespipe made: the link, and the versions behind it.
        let link = parquet_dir.join(&t.name);
        if link.is_symlink() {
            std::fs::remove_file(&link).map_err(|e| Error::io(&link, e))?;
        }
        let versions = parquet_dir.join(VERSIONS).join(&t.name);
        if versions.is_dir() {
            std::fs::remove_dir_all(&versions).map_err(|e| Error::io(&versions, e))?;
        }
        names.push(t.name);
    }
    Ok(names)
}

/// Reads `_manifest.json`, if there is a readable one.
pub fn read_manifest(parquet_dir: &Path) -> Option<Manifest> {
    let text = std::fs::read_to_string(parquet_dir.join(MANIFEST)).ok()?;
    serde_json::from_str(&text).ok()
}

/// `_manifest.json` once `staged` is published: the entries of the other tables whose
/// folder is still there, and the staged ones for this run.
fn new_manifest(parquet_dir: &Path, staged: &[StagedExport], info: &PublishInfo<'_>) -> Manifest {
    let mut tables: Vec<ManifestTable> = read_manifest(parquet_dir)
        .map(|m| m.tables)
        .unwrap_or_default();
    tables.retain(|t| {
        !staged.iter().any(|s| s.table == t.name) && parquet_dir.join(&t.path).is_dir()
    });
    for s in staged {
        let mut entry = s.entry.clone();
        entry.run_id = info.run_id;
        entry.as_of = info.as_of;
        tables.push(entry);
    }
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    Manifest {
        format_version: 1,
        pipeline: info.pipeline.to_string(),
        run_id: info.run_id,
        as_of: info.as_of,
        tables,
    }
}

/// Writes `manifest` to a temporary file renamed over `_manifest.json`, so a reader sees
/// the whole old or the whole new one.
fn replace_manifest(parquet_dir: &Path, manifest: &Manifest) -> Result<()> {
    let path = parquet_dir.join(MANIFEST);
    let tmp = parquet_dir.join(format!(".{MANIFEST}.tmp"));
    let text = serde_json::to_string_pretty(manifest)
        .map_err(|e| Error::Run(format!("writing {}: {e}", path.display())))?;
    std::fs::write(&tmp, text + "\n").map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut out: Vec<(String, Vec<u8>)> =
            glob::glob(&format!("{}/**/*.parquet", dir.display()))
                .unwrap()
                .map(|p| {
                    let p = p.unwrap();
                    let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                    (rel, std::fs::read(&p).unwrap())
                })
                .collect();
        out.sort();
        out
    }

    /// A partitioned export from a warehouse on four threads writes the same bytes every
    /// time, each partition one file sorted by `order_by`, and drops its temp table; a
    /// partitioned COPY of a sorted query on four threads wrote the rows of a partition
    /// in a different order per run.
    #[test]
    fn partitioned_export_is_sorted_and_byte_identical_across_runs() {
        let wh = Warehouse::in_memory().unwrap();
        wh.exec(
            "SET threads = 4;
             CREATE TABLE t AS SELECT md5(CAST(i AS VARCHAR)) AS term, i % 3 AS p, i
             FROM range(600000) r(i);",
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let part = vec!["p".to_string()];
        let order = vec!["term".to_string()];
        let spec = ExportSpec {
            table: "t",
            relation: "\"main\".\"t\"",
            partition_by: &part,
            order_by: &order,
            description: None,
        };
        let a = stage(&wh, dir.path(), &spec, 1).unwrap();
        let b = stage(&wh, dir.path(), &spec, 2).unwrap();
        let (fa, fb) = (files(&a.version_dir), files(&b.version_dir));
        let names: Vec<&str> = fa.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "p=0/data_0.parquet",
                "p=1/data_0.parquet",
                "p=2/data_0.parquet"
            ]
        );
        assert!(fa == fb, "the two exports differ");
        let unsorted: i64 = wh
            .conn
            .query_row(
                &format!(
                    "SELECT count(*) FILTER (WHERE term < prev), count(*) FROM (
                       SELECT term, lag(term) OVER (PARTITION BY filename
                                                    ORDER BY file_row_number) AS prev
                       FROM read_parquet({}, filename = true,
                                         file_row_number = true))",
                    sql::literal(&format!("{}/**/*.parquet", a.version_dir.display()))
                ),
                [],
                |r| {
                    assert_eq!(r.get::<_, i64>(1)?, 600_000);
                    r.get(0)
                },
            )
            .unwrap();
        assert_eq!(unsorted, 0);
        let misplaced: i64 = wh.scalar(&format!(
            "SELECT count(*) FROM read_parquet({}, filename = true, hive_partitioning = false)
             WHERE filename NOT LIKE '%/p=' || p || '/data_0.parquet'",
            sql::literal(&format!("{}/**/*.parquet", a.version_dir.display()))
        ));
        assert_eq!(misplaced, 0, "every row is in its own partition's file");
        let temp: i64 =
            wh.scalar("SELECT count(*) FROM duckdb_tables() WHERE table_name = '_export_sorted'");
        assert_eq!(temp, 0, "the sorted temp table is dropped");
    }

    /// A partition whose rows are not one contiguous range of the sorted temp table is
    /// an error naming it, not a file holding other partitions' rows.
    #[test]
    fn a_partition_split_across_row_ids_is_an_error() {
        let wh = Warehouse::in_memory().unwrap();
        wh.exec(&format!(
            "CREATE TEMP TABLE {SORTED} AS SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (1, 'c')) v(p, x)"
        ))
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let err = write_ranges(&wh, dir.path(), &["p".to_string()], &["\"p\"".to_string()])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("partition `p=1` holds 2 rows but spans row ids 0 to 2"),
            "{err}"
        );
        assert!(files(dir.path()).is_empty(), "nothing is written");
    }

    /// The export of table `t`, partitioned by `partition_by`, sorted by every column.
    fn table_t(partition_by: &[String]) -> ExportSpec<'_> {
        ExportSpec {
            table: "t",
            relation: "\"main\".\"t\"",
            partition_by,
            order_by: &[],
            description: None,
        }
    }

    /// Exports table `t` created by `create`, partitioned by `column`, expecting an
    /// error: the folder written to and the message.
    fn failed_export(wh: &Warehouse, create: &str, column: &str) -> (tempfile::TempDir, String) {
        wh.exec(create).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let part = vec![column.to_string()];
        let spec = table_t(&part);
        let err = stage(wh, dir.path(), &spec, 1).unwrap_err().to_string();
        assert!(
            !dir.path().join(".versions/t/run-1").exists(),
            "the failed export's folder is removed"
        );
        (dir, err)
    }

    /// Two partitions that would share a folder (a text value spelling DuckDB's NULL
    /// folder beside a NULL) are an error, not one file replacing the other.
    #[test]
    fn two_partitions_in_one_folder_are_an_error() {
        let wh = Warehouse::in_memory().unwrap();
        let (_dir, err) = failed_export(
            &wh,
            "CREATE TABLE t AS SELECT * FROM (VALUES
               (1, NULL), (2, '__HIVE_DEFAULT_PARTITION__'), (3, 'x')) v(i, s)",
            "s",
        );
        assert!(
            err.starts_with("exporting `t` to Parquet: ")
                && err.contains("two partitions map to the folder `s=__HIVE_DEFAULT_PARTITION__`"),
            "{err}"
        );
    }

    /// A model column named `rowid` would hide the row ids the partitions are cut by:
    /// refused by name, not exported with rows in the wrong partitions.
    #[test]
    fn a_column_named_rowid_is_refused_in_a_partitioned_export() {
        let wh = Warehouse::in_memory().unwrap();
        let (dir, err) = failed_export(
            &wh,
            "CREATE TABLE t AS SELECT i % 2 AS p, row_number() OVER (PARTITION BY i % 2) AS RowId
             FROM range(10) r(i)",
            "p",
        );
        assert_eq!(
            err,
            "exporting `t` to Parquet: its column `RowId` has the name DuckDB gives row ids, \
             which a partitioned export needs; rename the column"
        );
        assert!(files(dir.path()).is_empty(), "nothing is written");
        // Unpartitioned, the column is only data.
        let spec = table_t(&[]);
        stage(&wh, dir.path(), &spec, 2).unwrap();
    }

    /// Partition folders are named as DuckDB's own partitioned COPY names them (values
    /// percent-encoded, NULL as `__HIVE_DEFAULT_PARTITION__`), so readers that parse hive
    /// paths read back the same values; with no `order_by` the rows are sorted by every
    /// column.
    #[test]
    fn partition_folders_are_named_as_duckdb_names_them() {
        let wh = Warehouse::in_memory().unwrap();
        wh.exec(
            "CREATE TABLE t AS SELECT * FROM (VALUES
               (3, 'North China', DATE '2024-01-01', TIMESTAMP '2024-01-01 10:00:00', -2.5::DECIMAL(5,2)),
               (1, 'North China', DATE '2024-01-01', TIMESTAMP '2024-01-01 10:00:00', -2.5::DECIMAL(5,2)),
               (2, 'a/b=c?&%~._-', DATE '2024-02-01', NULL, 1.0),
               (4, '华北 🦆', NULL, NULL, NULL),
               (5, NULL, NULL, NULL, NULL)) v(i, s, d, ts, x)",
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let part: Vec<String> = ["s", "d", "ts", "x"].map(String::from).to_vec();
        let spec = table_t(&part);
        let ours = stage(&wh, dir.path(), &spec, 1).unwrap();
        let theirs = dir.path().join("duckdb");
        wh.exec(&format!(
            "COPY t TO {} (FORMAT parquet, PARTITION_BY (s, d, ts, x), WRITE_PARTITION_COLUMNS true)",
            sql::literal(&theirs.to_string_lossy())
        ))
        .unwrap();
        let names = |d: &Path| -> Vec<String> {
            files(d)
                .into_iter()
                .map(|(n, _)| n.rsplit_once('/').unwrap().0.to_string())
                .collect()
        };
        assert_eq!(names(&ours.version_dir), names(&theirs));
        assert_eq!(names(&ours.version_dir).len(), 4);
        let read = |glob: String| -> Vec<(i32, Option<String>)> {
            let mut stmt = wh
                .conn
                .prepare(&format!(
                    "SELECT i, s FROM read_parquet({}, hive_partitioning = false,
                                                  file_row_number = true, filename = true)
                     ORDER BY filename, file_row_number",
                    sql::literal(&glob)
                ))
                .unwrap();
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(|r| r.unwrap())
                .collect()
        };
        let rows = read(format!("{}/**/*.parquet", ours.version_dir.display()));
        assert_eq!(rows.len(), 5);
        let north = rows
            .iter()
            .filter(|(_, s)| s.as_deref() == Some("North China"))
            .map(|(i, _)| *i)
            .collect::<Vec<_>>();
        assert_eq!(north, [1, 3], "sorted by every column inside the partition");
    }
}
