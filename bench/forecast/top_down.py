"""Rep forecasts and forecast against target on the sample, with and without
`reconcile: top_down`, judged against the actuals that arrived later.

For each setting the daily pipeline is copied to WORK/<setting>, its `forecast_rep`
declaration given that `reconcile`, and run at every quarter end from 2024-03-31 to
2026-06-30 with `--as-of` (the sample's extracts run to 2026-09-30; the KPI models are
not cut at the as-of date, so `kpi_sales_monthly` holds the actuals of later months).
Each run's `forecast_rep` and company rows of `forecast_vs_target` are compared with
those actuals, for the months up to September 2026:

- rep MAE: mean over (as-of, rep, month) of |point - actual|;
- company MAE: mean over (as-of, month) of |sum of the reps' points - actual|;
- Q4 error: the company's October-December, summed, minus the actual, per as-of date
  before a Q4 (2024-09-30 and 2025-09-30);
- coverage of the months and quarters of reps, regions (a rep's region from the target
  row of the month) and the company at 80 % and 95 %: |projected - actual| within
  1.2816 or 1.96 x `sigma` of `forecast_vs_target` (future periods, complete since).

    python bench/forecast/top_down.py --bin target/release/salespipe --work /tmp/topdown
"""
import argparse
import pathlib
import shutil
import subprocess

import duckdb

AS_OF = [
    "2024-03-31", "2024-06-30", "2024-09-30", "2024-12-31", "2025-03-31",
    "2025-06-30", "2025-09-30", "2025-12-31", "2026-03-31", "2026-06-30",
]
LAST_ACTUAL = "2026-09-01"
# The column of the actuals that a `forecast_vs_target` level's entity is.
LEVEL_COLUMN = {"rep": "rep_id", "region": "region", "company": "rep_id"}
REPO = pathlib.Path(__file__).resolve().parents[2]


def project(work, setting):
    dest = work / setting
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for d in ["pipelines", "sql", "sample_data", "report_templates"]:
        shutil.copytree(REPO / d, dest / d)
    yaml = dest / "pipelines/daily.yaml"
    text = yaml.read_text()
    block = text.index("  - name: forecast_rep\n")
    before, after = text[:block], text[block:]
    if "    reconcile: top_down\n" in after:
        after = after.replace("    reconcile: top_down\n", f"    reconcile: {setting}\n", 1)
    else:
        after = after.replace(
            "    non_negative: true\n", f"    non_negative: true\n    reconcile: {setting}\n", 1
        )
    yaml.write_text(before + after)
    return dest


def measure(binary, dest):
    rep_err, comp_err, q4 = [], [], {}
    cover = {(l, p): [] for l in LEVEL_COLUMN for p in ["month", "quarter"]}
    for as_of in AS_OF:
        subprocess.run(
            [binary, "run", "pipelines/daily.yaml", "--as-of", as_of, "--quiet"],
            cwd=dest, check=True, capture_output=True,
        )
        con = duckdb.connect(str(dest / "out/warehouse.duckdb"), read_only=True)
        rep_err += [r[0] for r in con.execute(
            """
            WITH a AS (SELECT rep_id, month, sum(net_revenue)::DOUBLE AS y
                       FROM kpi_sales_monthly GROUP BY ALL)
            SELECT abs(f.point - coalesce(a.y, 0)) FROM forecast_rep f
            LEFT JOIN a ON a.rep_id IS NOT DISTINCT FROM f.rep_id AND a.month = f.period
            WHERE f.period <= ?
            """, [LAST_ACTUAL]).fetchall()]
        monthly = con.execute(
            """
            WITH a AS (SELECT month, sum(net_revenue)::DOUBLE AS y FROM kpi_sales_monthly
                       GROUP BY ALL)
            SELECT f.period, sum(f.point), any_value(a.y) FROM forecast_rep f
            JOIN a ON a.month = f.period WHERE f.period <= ? GROUP BY f.period ORDER BY 1
            """, [LAST_ACTUAL]).fetchall()
        comp_err += [abs(p - y) for _, p, y in monthly]
        if as_of.endswith("09-30"):
            q4[as_of] = sum(p - y for d, p, y in monthly if d.month >= 10)
        for (level, period_type) in cover:
            cover[(level, period_type)] += con.execute(
                f"""
                WITH a AS (
                    SELECT m.month, m.rep_id, t.region, sum(m.net_revenue)::DOUBLE AS y
                    FROM kpi_sales_monthly m
                    LEFT JOIN fct_targets_monthly t ON t.rep_id = m.rep_id AND t.month = m.month
                    GROUP BY ALL
                )
                SELECT abs(v.projected::DOUBLE - coalesce(sum(a.y), 0)) / nullif(v.sigma, 0)
                FROM forecast_vs_target v LEFT JOIN a
                  ON a.month BETWEEN v.period_start AND v.period_end
                  AND (v.level = 'company' OR v.entity = a.{LEVEL_COLUMN[level]})
                WHERE v.level = ? AND v.period_type = ? AND v.status = 'future'
                  AND v.period_end < CAST(? AS DATE) + INTERVAL 1 MONTH
                GROUP BY v.entity, v.period_start, v.projected, v.sigma
                """, [level, period_type, LAST_ACTUAL]).fetchall()
        con.close()
    mean = lambda x: sum(x) / len(x)
    out = {
        "rep MAE": round(mean(rep_err)),
        "company MAE": round(mean(comp_err)),
        **{f"Q4 error as of {k}": round(v) for k, v in q4.items()},
    }
    for (level, period_type), zs in cover.items():
        zs = [z[0] for z in zs if z[0] is not None]
        what = f"{level} {period_type}s ({len(zs)})"
        out[f"{what} within the 80 % band"] = f"{mean([z <= 1.2816 for z in zs]):.0%}"
        out[f"{what} within the 95 % band"] = f"{mean([z <= 1.96 for z in zs]):.0%}"
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="the salespipe binary")
    ap.add_argument("--work", default="/tmp/topdown", help="scratch folder")
    args = ap.parse_args()
    work = pathlib.Path(args.work)
    results = {s: measure(str(pathlib.Path(args.bin).resolve()), project(work, s))
               for s in ["none", "top_down"]}
    print("| measure | none | top_down |\n|---|---:|---:|")
    for k in results["none"]:
        print(f"| {k} | {results['none'][k]} | {results['top_down'][k]} |")


if __name__ == "__main__":
    main()
