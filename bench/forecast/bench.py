"""Forecast benchmark: salespipe's forecasting core against statsforecast (AutoETS and
SeasonalNaive) on the same series with the same protocol, measured in one run here.

Usage (from the repository root):
    cargo build --release --example forecast_csv
    python3 -m venv .venv-fc && .venv-fc/bin/pip install statsforecast sktime pandas numpy
    .venv-fc/bin/python bench/forecast/bench.py accuracy [--csv OWN.csv]
    .venv-fc/bin/python bench/forecast/bench.py speed --series 2000

accuracy: for each dataset the last `--horizon` points (12) of every series are held
out; salespipe (automatic choice by rolling-origin backtest) and statsforecast's
AutoETS and SeasonalNaive forecast them from the rest. MASE per series is scaled by
the in-sample seasonal-naive MAE of the training part (lag 1 when not longer than one
season); the table gives the geometric mean per dataset. Datasets: AirPassengers
(shipped in statsforecast), ShampooSales and Airline (CSV inside the sktime wheel,
under sktime/datasets/data/), and `--csv`, a long CSV `unique_id,ds,y` (e.g. every
category x region monthly series of the sample, exported from the warehouse).

speed: `--series` synthetic monthly series of 36 to 60 points (seeded); each tool
does fit + backtest (3 origins, step 1, horizon 12) + forecast. statsforecast runs
with n_jobs=2 and its first-call JIT warm-up is timed separately on a tiny dataset;
salespipe runs on 2 rayon threads.

Targets (issue 6): geometric-mean MASE <= AutoETS's and below SeasonalNaive's on each
dataset; >= 10x faster than statsforecast with its warm-up, >= 3x without it."""
import argparse, os, pathlib, re, subprocess, sys, tempfile, time

import numpy as np
import pandas as pd

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
EXAMPLE = TARGET / "release" / "examples" / "forecast_csv"


def sktime_csv(pattern):
    """A dataset CSV shipped inside the sktime wheel, as a one-series long frame."""
    import sktime

    data = pathlib.Path(sktime.__file__).parent / "datasets" / "data"
    hits = sorted(p for p in data.rglob("*.csv") if re.search(pattern, p.name, re.I))
    if not hits:
        sys.exit(f"no CSV matching {pattern!r} under {data}")
    raw = pd.read_csv(hits[0])
    y = pd.to_numeric(raw.iloc[:, -1], errors="raise").to_numpy(dtype=float)
    name = hits[0].stem
    return pd.DataFrame(
        {"unique_id": name, "ds": pd.date_range("2000-01-01", periods=len(y), freq="MS"), "y": y}
    )


def datasets(own_csv):
    from statsforecast.utils import AirPassengersDF

    out = {
        "AirPassengers": AirPassengersDF.assign(unique_id="AirPassengers"),
        "ShampooSales": sktime_csv(r"shampoo"),
        "Airline": sktime_csv(r"^airline"),
    }
    if own_csv:
        df = pd.read_csv(own_csv, parse_dates=["ds"])
        out[pathlib.Path(own_csv).stem] = df[["unique_id", "ds", "y"]]
    return out


def run_salespipe(train, h, m, threads=2):
    """Forecasts of the example binary as a frame (unique_id, step, point) and seconds."""
    if not EXAMPLE.exists():
        sys.exit(f"{EXAMPLE} not found: run `cargo build --release --example forecast_csv`")
    with tempfile.TemporaryDirectory() as tmp:
        inp, outp = pathlib.Path(tmp, "in.csv"), pathlib.Path(tmp, "out.csv")
        train.sort_values(["unique_id", "ds"]).to_csv(inp, index=False)
        cmd = [str(EXAMPLE), str(inp), str(outp), "--horizon", str(h), "--season", str(m),
               "--threads", str(threads), "--non-negative"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"salespipe failed:\n{r.stderr}")
        seconds = float(re.search(r"seconds=([0-9.]+)", r.stdout).group(1))
        return pd.read_csv(outp), seconds


def mase(train, test, pred, m):
    lag = m if len(train) > m else 1
    scale = np.mean(np.abs(train[lag:] - train[:-lag]))
    return np.mean(np.abs(test - pred)) / scale if scale > 0 else np.nan


def gmean(x):
    x = np.asarray([v for v in x if np.isfinite(v) and v > 0])
    return float(np.exp(np.mean(np.log(x)))) if len(x) else float("nan")


def accuracy(args):
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS, SeasonalNaive

    h, m = args.horizon, args.season
    rows = []
    for name, df in datasets(args.csv).items():
        df = df.sort_values(["unique_id", "ds"])
        test = df.groupby("unique_id").tail(h)
        train = df.drop(test.index)
        sf = StatsForecast(models=[AutoETS(season_length=m), SeasonalNaive(season_length=m)],
                           freq="MS", n_jobs=1)
        fc = sf.forecast(df=train, h=h).reset_index()
        sp, _ = run_salespipe(train, h, m, threads=1)
        scores = {"salespipe": [], "AutoETS": [], "SeasonalNaive": []}
        for uid, g in train.groupby("unique_id"):
            y_tr = g["y"].to_numpy()
            y_te = test[test.unique_id == uid]["y"].to_numpy()
            scores["AutoETS"].append(mase(y_tr, y_te, fc[fc.unique_id == uid]["AutoETS"].to_numpy(), m))
            scores["SeasonalNaive"].append(
                mase(y_tr, y_te, fc[fc.unique_id == uid]["SeasonalNaive"].to_numpy(), m))
            p = sp[sp.unique_id.astype(str) == str(uid)].sort_values("step")["point"].to_numpy()
            scores["salespipe"].append(mase(y_tr, y_te, p, m))
        rows.append({"dataset": name, "series": train.unique_id.nunique(),
                     **{k: gmean(v) for k, v in scores.items()}})
    table = pd.DataFrame(rows)
    print("Geometric-mean MASE, last", h, "points held out:")
    print(table.to_markdown(index=False, floatfmt=".3f"))


def synthetic(n_series, seed=20240601):
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n_series):
        n = int(rng.integers(36, 61))
        t = np.arange(n)
        level = rng.uniform(50, 500)
        season = 1 + rng.uniform(0, 0.3) * np.sin(2 * np.pi * (t + rng.integers(12)) / 12)
        y = (level + rng.normal(0, level * 0.01) * t) * season
        y = np.maximum(y + rng.normal(0, level * 0.05, n), 0)
        frames.append(pd.DataFrame({"unique_id": f"s{i:05d}",
                                    "ds": pd.date_range("2015-01-01", periods=n, freq="MS"), "y": y}))
    return pd.concat(frames, ignore_index=True)


def speed(args):
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS, SeasonalNaive

    h, m = args.horizon, args.season
    df = synthetic(args.series)

    def statsforecast_run(data):
        sf = StatsForecast(models=[AutoETS(season_length=m), SeasonalNaive(season_length=m)],
                           freq="MS", n_jobs=2)
        sf.cross_validation(df=data, h=h, n_windows=3, step_size=1)
        sf.forecast(df=data, h=h)

    t0 = time.perf_counter()
    statsforecast_run(synthetic(4, seed=1))
    warmup = time.perf_counter() - t0
    t0 = time.perf_counter()
    statsforecast_run(df)
    sf_seconds = time.perf_counter() - t0
    _, sp_seconds = run_salespipe(df, h, m, threads=2)
    print(f"| series | salespipe s | statsforecast s | warm-up s | ratio with warm-up | ratio without |")
    print(f"|---:|---:|---:|---:|---:|---:|")
    print(f"| {args.series} | {sp_seconds:.1f} | {sf_seconds:.1f} | {warmup:.1f} | "
          f"{(sf_seconds + warmup) / sp_seconds:.1f}x | {sf_seconds / sp_seconds:.1f}x |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["accuracy", "speed"])
    ap.add_argument("--horizon", type=int, default=12)
    ap.add_argument("--season", type=int, default=12)
    ap.add_argument("--csv", help="long CSV unique_id,ds,y of more series to score")
    ap.add_argument("--series", type=int, default=2000)
    args = ap.parse_args()
    accuracy(args) if args.what == "accuracy" else speed(args)


if __name__ == "__main__":
    main()
