"""Scores builds of `examples/forecast_csv` on the development series (not the
benchmark's held-out months), beside statsforecast's AutoETS, with the protocol of
`bench.py accuracy` (last 12 points held out, MASE scaled by the in-sample lag-12
seasonal-naive MAE, geometric mean over a dataset's series). Used to choose changes to
the forecasting core before the held-out sample is scored.

Development sets (written by `dev_series.py` into DEV_DIR, except the last three):
dev_employment (148 series), dev_classic (15), synthetic (150 series of `bench.py`'s
generator, seed 777), APdev (AirPassengers without its last year) and, when `--sample`
is given, sample_dev (the sample's series without their last 12 months: nothing of
the held-out year).

    python bench/forecast/dev_eval.py DEV_DIR [--sample SAMPLE.csv] \
        --bin before=/path/forecast_csv --bin now=/path/forecast_csv[:--candidates:ets]

Each `--bin` is NAME=PATH, optionally followed by `:`-separated extra arguments for
the binary. AutoETS forecasts are cached in DEV_DIR/cache (statsforecast is
deterministic). Prints one row per build and the AutoETS row, and with `--per-series`
the per-series MASE of every dataset.
"""
import argparse, hashlib, pathlib, subprocess, sys, tempfile

import numpy as np
import pandas as pd

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import bench  # noqa: E402

H, M = 12, 12


def dev_sets(dev_dir, sample):
    out = {
        "employment": pd.read_csv(dev_dir / "dev_employment.csv", parse_dates=["ds"]),
        "classic": pd.read_csv(dev_dir / "dev_classic.csv", parse_dates=["ds"]),
    }
    if sample:
        df = pd.read_csv(sample, parse_dates=["ds"]).sort_values(["unique_id", "ds"])
        out["sample_dev"] = df.drop(df.groupby("unique_id").tail(H).index)
    ap = bench.one_series(bench.DATA / "AirPassengers.csv", "APdev")
    out["APdev"] = ap.iloc[:-H]
    out["synthetic"] = bench.synthetic(150, seed=777)
    return {k: v.assign(unique_id=v.unique_id.astype(str)).sort_values(["unique_id", "ds"])
            for k, v in out.items()}


def autoets(name, train, cache):
    # Keyed by the training data too: another --sample file must not reuse the
    # forecasts of the last one.
    digest = hashlib.sha256(train.to_csv(index=False).encode()).hexdigest()[:16]
    path = cache / f"{name}.{digest}.autoets.csv"
    if path.exists():
        return pd.read_csv(path, dtype={"unique_id": str})
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    fc = StatsForecast(models=[AutoETS(season_length=M)], freq="MS", n_jobs=1).forecast(
        df=train, h=H)
    if "unique_id" not in fc.columns:
        fc = fc.reset_index()
    fc["unique_id"] = fc.unique_id.astype(str)
    fc["step"] = fc.groupby("unique_id").cumcount() + 1
    fc = fc.rename(columns={"AutoETS": "point"})[["unique_id", "step", "point"]]
    cache.mkdir(exist_ok=True)
    fc.to_csv(path, index=False)
    return fc


def salespipe(binary, extra, train):
    with tempfile.TemporaryDirectory() as tmp:
        inp, outp = pathlib.Path(tmp, "in.csv"), pathlib.Path(tmp, "out.csv")
        train.to_csv(inp, index=False)
        cmd = [binary, str(inp), str(outp), "--horizon", str(H), "--season", str(M),
               "--threads", "2", "--non-negative", *extra]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"{binary} failed:\n{r.stderr}")
        return pd.read_csv(outp, dtype={"unique_id": str})


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dev_dir", type=pathlib.Path)
    ap.add_argument("--sample", help="the sample's series (its last 12 months are dropped)")
    ap.add_argument("--bin", action="append", default=[], help="NAME=PATH[:ARG:ARG...]")
    ap.add_argument("--per-series", action="store_true")
    ap.add_argument("--only", action="append", default=[], help="only these datasets")
    args = ap.parse_args()
    builds = []
    for b in args.bin:
        name, spec = b.split("=", 1)
        path, *extra = spec.split(":")
        builds.append((name, path, extra))
    rows = {name: {} for name, _, _ in builds}
    rows["AutoETS"] = {}
    wins = {name: {} for name, _, _ in builds}
    for dname, df in dev_sets(args.dev_dir, args.sample).items():
        if args.only and dname not in args.only:
            continue
        test = df.groupby("unique_id").tail(H)
        train = df.drop(test.index)
        fcs = {"AutoETS": autoets(dname, train, args.dev_dir / "cache")}
        for name, path, extra in builds:
            fcs[name] = salespipe(path, extra, train)
        per = []
        for uid, g in train.groupby("unique_id"):
            y_tr = g["y"].to_numpy()
            y_te = test[test.unique_id == uid]["y"].to_numpy()
            row = {"series": uid}
            for k, fc in fcs.items():
                p = fc[fc.unique_id == uid].sort_values("step")["point"].to_numpy()
                row[k] = bench.mase(y_tr, y_te, p, M)
            for name, _, _ in builds:
                fc = fcs[name]
                if "model" in fc:
                    row[f"{name} model"] = fc[fc.unique_id == uid]["model"].iloc[0]
            per.append(row)
        per = pd.DataFrame(per)
        if args.per_series:
            print(f"\n### {dname}\n")
            print(per.to_markdown(index=False, floatfmt=".3f"))
        for k in fcs:
            rows[k][dname] = bench.gmean(per[k])
        for name, _, _ in builds:
            wins[name][dname] = int((per[name] < per["AutoETS"]).sum())
    table = pd.DataFrame(rows).T
    print("\n### Geometric-mean MASE, development series\n")
    print(table.to_markdown(floatfmt=".3f"))
    print("\nseries where the build beats AutoETS:", pd.DataFrame(wins).T.to_dict("index"))


if __name__ == "__main__":
    main()
