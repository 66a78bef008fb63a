"""Writes every category x region monthly net revenue series of the sample company as a
long CSV `unique_id,ds,y` for `bench.py accuracy --csv`, from a warehouse built by
`salespipe run pipelines/daily.yaml` (run on a copy so the repository's out/ is left
alone; see BENCHMARKS.md). Reads `mart_monthly_sales` (net revenue of order lines,
cancelled orders excluded) with Python's duckdb; a month without sales in a cell is an
explicit 0 over the months of the whole mart.

    python bench/forecast/sample_series.py WAREHOUSE.duckdb OUT.csv
"""
import sys

import duckdb


def main(db, out):
    con = duckdb.connect(db, read_only=True)
    rows = con.execute(
        """
        WITH months AS (SELECT DISTINCT month FROM mart_monthly_sales),
             cells AS (SELECT DISTINCT category, region FROM mart_monthly_sales)
        SELECT c.category || ' / ' || c.region AS unique_id,
               m.month AS ds,
               coalesce(s.net_revenue, 0) AS y
        FROM cells c CROSS JOIN months m
        LEFT JOIN mart_monthly_sales s
          ON s.category = c.category AND s.region = c.region AND s.month = m.month
        ORDER BY unique_id, ds
        """
    ).fetchall()
    with open(out, "w", encoding="utf-8") as f:
        f.write("unique_id,ds,y\n")
        for uid, ds, y in rows:
            f.write(f'"{uid}",{ds},{y}\n')
    print(f"{len(rows)} rows, {len({r[0] for r in rows})} series -> {out}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
