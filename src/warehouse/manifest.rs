//! The manifest of loaded files: path, size and content hash (xxh3-128) per source, so
//! a re-run with unchanged files changes no data table and an incremental source only
//! reads its new or changed files. Written inside the data transaction.
//!
//! Each source also has an entry [`CONFIG_ENTRY`] holding a hash of its declaration
//! (columns, rules, load mode, ...): when the declaration changes, the source is read
//! again in full, as the data already loaded was cleaned under the old rules.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use duckdb::params;

use super::{Warehouse, META_SCHEMA};
use crate::error::{DbContext, Error, Result};

/// A file's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// The file.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// xxh3-128 of the content, hex.
    pub hash: String,
}

/// The manifest entry (in place of a file path) holding the hash of a source's
/// declaration.
pub const CONFIG_ENTRY: &str = "<declaration>";

/// The manifest entry for a source's declaration: a hash of its parsed configuration.
pub fn config_fingerprint(source: &crate::config::SourceConfig) -> Fingerprint {
    let text = format!("{source:?}");
    Fingerprint {
        path: PathBuf::from(CONFIG_ENTRY),
        size: 0,
        hash: format!("{:032x}", xxhash_rust::xxh3::xxh3_128(text.as_bytes())),
    }
}

/// Hashes a file, streaming.
pub fn fingerprint(path: &Path) -> Result<Fingerprint> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok(Fingerprint {
        path: path.to_path_buf(),
        size,
        hash: format!("{:032x}", hasher.digest128()),
    })
}

/// [`Warehouse::arrivals`] indexed for lookups by path and by content, so ordering or
/// recording thousands of files is not a scan of the manifest per file.
pub struct ArrivalIndex<'a> {
    by_path: &'a BTreeMap<String, (String, i64)>,
    /// Content hash -> the earliest run it arrived in.
    by_hash: BTreeMap<&'a str, i64>,
}

impl<'a> ArrivalIndex<'a> {
    /// Indexes `arrivals` (path -> (hash, run)).
    pub fn new(arrivals: &'a BTreeMap<String, (String, i64)>) -> Self {
        let mut by_hash: BTreeMap<&str, i64> = BTreeMap::new();
        for (hash, run) in arrivals.values() {
            let e = by_hash.entry(hash.as_str()).or_insert(*run);
            *e = (*e).min(*run);
        }
        ArrivalIndex {
            by_path: arrivals,
            by_hash,
        }
    }

    /// The run `f`'s content arrived in: at its path, or else under another path with
    /// the same content (a renamed file, a moved project; the earliest such); `None` for
    /// a new or changed file.
    pub fn of(&self, f: &Fingerprint) -> Option<i64> {
        match self.by_path.get(f.path.to_string_lossy().as_ref()) {
            Some((hash, run)) if *hash == f.hash => Some(*run),
            _ => self.by_hash.get(f.hash.as_str()).copied(),
        }
    }
}

impl Warehouse {
    /// Creates the manifest table if needed. `arrived` is the run in which a file's
    /// content first loaded at its path (NULL in warehouses from before it was kept:
    /// taken as `run_id`); it orders the files of a rebuild (see [`Warehouse::arrivals`]).
    pub fn ensure_manifest(&self) -> Result<()> {
        self.exec(&format!(
            "CREATE TABLE IF NOT EXISTS {META_SCHEMA}.manifest (source VARCHAR, file VARCHAR,
                 size BIGINT, hash VARCHAR, run_id BIGINT, arrived BIGINT);
             ALTER TABLE {META_SCHEMA}.manifest ADD COLUMN IF NOT EXISTS arrived BIGINT;"
        ))
    }

    /// The files last loaded for `source`: path -> hash.
    pub fn manifest(&self, source: &str) -> Result<BTreeMap<String, String>> {
        Ok(self
            .arrivals(source)?
            .into_iter()
            .map(|(path, (hash, _))| (path, hash))
            .collect())
    }

    /// The files last loaded for `source`: path -> (hash, the run its content arrived
    /// in). A rebuild reads a source's files in the order they arrived (then by path),
    /// so that "the newer file" of the dedupe is the same as over the incremental runs,
    /// where the rows of each run's files beat the table's.
    pub fn arrivals(&self, source: &str) -> Result<BTreeMap<String, (String, i64)>> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT file, hash, coalesce(arrived, run_id) FROM {META_SCHEMA}.manifest
                 WHERE source = ?
                 QUALIFY row_number() OVER (PARTITION BY file ORDER BY run_id DESC) = 1"
            ))
            .ctx(|| "reading the manifest".into())?;
        let rows = stmt
            .query_map([source], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    (r.get::<_, String>(1)?, r.get::<_, i64>(2)?),
                ))
            })
            .ctx(|| "reading the manifest".into())?;
        rows.collect::<std::result::Result<_, _>>()
            .ctx(|| "reading the manifest".into())
    }

    /// Renames manifest entries of `source` from an old path to a new one (files found
    /// under a moved folder), so that later runs know them by where they are now.
    pub fn relocate_manifest(&self, source: &str, moves: &[(String, PathBuf)]) -> Result<()> {
        for (old, new) in moves {
            self.conn
                .execute(
                    &format!(
                        "UPDATE {META_SCHEMA}.manifest SET file = ? WHERE source = ? AND file = ?"
                    ),
                    params![new.to_string_lossy(), source, old],
                )
                .ctx(|| "updating the manifest".into())?;
        }
        Ok(())
    }

    /// Records the files loaded for `source` by `run_id`; `replace` forgets the earlier
    /// entries (a snapshot or a full refresh). A file read again with the content it had
    /// keeps the run it arrived in.
    pub fn record_manifest(
        &self,
        source: &str,
        files: &[Fingerprint],
        run_id: i64,
        replace: bool,
    ) -> Result<()> {
        let before = self.arrivals(source)?;
        let index = ArrivalIndex::new(&before);
        if replace {
            self.conn
                .execute(
                    &format!("DELETE FROM {META_SCHEMA}.manifest WHERE source = ?"),
                    [source],
                )
                .ctx(|| "updating the manifest".into())?;
        }
        for f in files {
            let path = f.path.to_string_lossy();
            let arrived = index.of(f).unwrap_or(run_id);
            self.conn
                .execute(
                    &format!(
                        "INSERT INTO {META_SCHEMA}.manifest (source, file, size, hash, run_id, arrived)
                         VALUES (?, ?, ?, ?, ?, ?)"
                    ),
                    params![source, path, f.size as i64, f.hash, run_id, arrived],
                )
                .ctx(|| "updating the manifest".into())?;
        }
        Ok(())
    }

    /// The column names of `main.<table>`, in order.
    pub fn table_columns(&self, table: &str) -> Result<Vec<String>> {
        self.strings(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'main'
             AND table_name = ? ORDER BY column_index",
            &[table],
            "reading the catalog",
        )
    }

    /// True when `main.<table>` exists.
    pub fn table_exists(&self, table: &str) -> Result<bool> {
        self.table_exists_in("main", table)
    }

    /// Whether `schema` holds a table (or view) named `table`.
    pub fn table_exists_in(&self, schema: &str, table: &str) -> Result<bool> {
        let n: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = ?
                 AND table_name = ?",
                [schema, table],
                |r| r.get(0),
            )
            .ctx(|| "reading the catalog".into())?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(path: &str, hash: &str) -> Fingerprint {
        Fingerprint {
            path: PathBuf::from(path),
            size: 1,
            hash: hash.to_string(),
        }
    }

    /// A file is known at its path with the same content, else by its content anywhere
    /// (the earliest run holding it), else it is new.
    #[test]
    fn arrivals_are_found_by_path_then_by_content() {
        let arrivals: BTreeMap<String, (String, i64)> = [
            ("a.csv".to_string(), ("h1".to_string(), 3)),
            ("b.csv".to_string(), ("h2".to_string(), 5)),
            ("old/c.csv".to_string(), ("h2".to_string(), 2)),
        ]
        .into();
        let index = ArrivalIndex::new(&arrivals);
        assert_eq!(index.of(&fp("a.csv", "h1")), Some(3));
        // b.csv at its path: its own run, not the earlier copy's.
        assert_eq!(index.of(&fp("b.csv", "h2")), Some(5));
        // Moved: c.csv's content under a new path keeps the earliest run of that content.
        assert_eq!(index.of(&fp("new/c.csv", "h2")), Some(2));
        // a.csv changed: its new content is nowhere, so it is new.
        assert_eq!(index.of(&fp("a.csv", "h9")), None);
    }
}
