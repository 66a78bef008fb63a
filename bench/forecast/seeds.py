"""The sample benchmark on fresh samples: the sample company regenerated with other
seeds (`salespipe sample --seed S`, the same generator as the bundled sample, which is
seed 42), run through the daily pipeline, and its category x region monthly series
scored like `bench.py accuracy --csv` (last 12 months held out, MASE scaled by the
training part's lag-12 seasonal-naive MAE). Nothing in salespipe was chosen on these
series: they say whether the bundled sample's 30 series (one held-out year) are a fair
judge of the sample target, with 30 new series per seed.

    python bench/forecast/seeds.py WORK_DIR --seeds 1-10 [--salespipe BIN]

Prints, per seed and pooled, the geometric-mean MASE of salespipe, AutoETS and
SeasonalNaive, the series salespipe wins, and the paired ratio salespipe / AutoETS with
a 95 % interval (normal approximation over the log ratios of the series); then the
ratio with the samples as the units (a t-interval over the seeds' log ratios).
"""
import argparse, pathlib, shutil, subprocess, sys

import numpy as np
import pandas as pd

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import bench  # noqa: E402
import sample_series  # noqa: E402

H = M = 12


def seeds(spec):
    out = []
    for part in spec.split(","):
        a, _, b = part.partition("-")
        out.extend(range(int(a), int(b or a) + 1))
    return out


def series_for(seed, work, binary):
    """The sample regenerated with `seed` and run through the daily pipeline; its series."""
    proj = work / f"seed{seed}"
    csv = work / f"seed{seed}.csv"
    if csv.exists():
        return pd.read_csv(csv, parse_dates=["ds"])
    shutil.rmtree(proj, ignore_errors=True)
    proj.mkdir(parents=True)
    for d in ["pipelines", "sql", "report_templates"]:
        shutil.copytree(bench.REPO / d, proj / d)
    subprocess.run([binary, "sample", "--out", str(proj / "sample_data"), "--seed", str(seed)],
                   check=True, capture_output=True)
    subprocess.run([binary, "run", "pipelines/daily.yaml", "--quiet"], cwd=proj, check=True)
    sample_series.main(str(proj / "out" / "warehouse.duckdb"), str(csv))
    return pd.read_csv(csv, parse_dates=["ds"])


def score(df):
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS, SeasonalNaive

    df = df.assign(unique_id=df.unique_id.astype(str)).sort_values(["unique_id", "ds"])
    test = df.groupby("unique_id").tail(H)
    train = df.drop(test.index)
    fc = StatsForecast(models=[AutoETS(season_length=M), SeasonalNaive(season_length=M)],
                       freq="MS", n_jobs=1).forecast(df=train, h=H)
    if "unique_id" not in fc.columns:
        fc = fc.reset_index()
    fc["unique_id"] = fc.unique_id.astype(str)
    sp, _ = bench.run_salespipe(train, H, M, threads=2)
    rows = []
    for uid, g in train.groupby("unique_id"):
        y_tr = g["y"].to_numpy()
        y_te = test[test.unique_id == uid]["y"].to_numpy()
        f = fc[fc.unique_id == uid]
        p = sp[sp.unique_id == uid].sort_values("step")["point"].to_numpy()
        rows.append({"series": uid,
                     "salespipe": bench.mase(y_tr, y_te, p, M),
                     "AutoETS": bench.mase(y_tr, y_te, f["AutoETS"].to_numpy(), M),
                     "SeasonalNaive": bench.mase(y_tr, y_te, f["SeasonalNaive"].to_numpy(), M)})
    return pd.DataFrame(rows)


def summary(name, per):
    ok = per[(per.salespipe > 0) & (per.AutoETS > 0)]
    d = np.log(ok.salespipe) - np.log(ok.AutoETS)
    se = d.std(ddof=1) / np.sqrt(len(d))
    return {"seed": name, "series": len(per),
            "salespipe": bench.gmean(per.salespipe), "AutoETS": bench.gmean(per.AutoETS),
            "SeasonalNaive": bench.gmean(per.SeasonalNaive),
            "wins vs AutoETS": int((per.salespipe < per.AutoETS).sum()),
            "ratio": float(np.exp(d.mean())),
            "95 % interval": f"{np.exp(d.mean() - 1.96 * se):.3f} to {np.exp(d.mean() + 1.96 * se):.3f}"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("work", type=pathlib.Path)
    ap.add_argument("--seeds", default="1-10")
    ap.add_argument("--salespipe", default=str(bench.TARGET / "release" / "salespipe"))
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    rows, pooled = [], []
    for seed in seeds(args.seeds):
        per = score(series_for(seed, args.work, args.salespipe))
        rows.append(summary(str(seed), per))
        pooled.append(per.assign(series=f"{seed}: " + per.series))
        print(rows[-1], flush=True)
    rows.append(summary("pooled", pd.concat(pooled)))
    print("\n### Fresh samples: geometric-mean MASE, last 12 months held out\n")
    print(pd.DataFrame(rows).to_markdown(index=False, floatfmt=".3f"))
    # The series of one sample share their company: the samples as independent units.
    logs = np.log([r["ratio"] for r in rows[:-1]])
    if len(logs) > 1:
        from scipy import stats

        half = stats.t.ppf(0.975, len(logs) - 1) * logs.std(ddof=1) / np.sqrt(len(logs))
        print(f"\nsamples as units ({len(logs)}): ratio {np.exp(logs.mean()):.3f}, 95 % "
              f"t-interval {np.exp(logs.mean() - half):.3f} to {np.exp(logs.mean() + half):.3f}")


if __name__ == "__main__":
    main()
