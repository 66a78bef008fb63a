//! Rules of ingestion beyond the readers' defaults: CSV comment lines. Fixture files are
//! written by the test itself.

use std::path::Path;

use crate::common::*;

fn write(dir: &Path, rel: &str, bytes: impl AsRef<[u8]>) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

const PIPELINE_HEAD: &str = "version: 1
name: rules
as_of: 2026-01-31
warehouse: { database: out/w.duckdb, parquet_dir: out/parquet, reports_dir: out/reports }
models: { path: models }
";

#[test]
fn csv_comment_lines_are_skipped_and_later_lines_keep_their_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("models")).unwrap();
    // 1 comment before the header; 4 a comment holding a quote; 5-6 one record whose
    // quoted name holds a line starting with `#` (data, not a comment); 7 a `#` inside a
    // field; 8 a comment; 9 a bad amount; 10 a last record.
    write(
        d,
        "data/items.csv",
        "# exported 2026-01-31\nid,name,amount\n1,a,10\n# a \"quoted comment\n2,\"b\n#not a comment\",x\n\
         3,c #5,30\n#end\n4,d,oops\n5,e,50\n",
    );
    write(
        d,
        "pipeline.yaml",
        format!(
            "{PIPELINE_HEAD}sources:
  - name: items
    path: data/items.csv
    format: csv
    csv: {{ comment: \"#\" }}
    key: [id]
    columns:
      - {{ name: id, type: integer }}
      - {{ name: name, type: string }}
      - {{ name: amount, type: integer }}
"
        ),
    );
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&d.join("out/w.duckdb"));
    assert_eq!(
        rows(
            &db,
            "SELECT id::VARCHAR, name, amount::VARCHAR FROM items ORDER BY id"
        ),
        vec![
            vec!["1", "a", "10"],
            vec!["3", "c #5", "30"],
            vec!["5", "e", "50"]
        ]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT line::VARCHAR, column_name, rule, value FROM salespipe.rejects ORDER BY line"
        ),
        vec![
            vec!["5", "amount", "type", "x"],
            vec!["9", "amount", "type", "oops"]
        ]
    );
    assert_eq!(
        scalar(&db, "SELECT rows_read::VARCHAR FROM salespipe.run_sources"),
        "5"
    );
}
