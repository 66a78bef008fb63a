"""Forecast benchmark: salespipe's forecasting core against statsforecast (AutoETS and
SeasonalNaive) on the same series with the same protocol, measured in one run here.

Usage (from the repository root; statsforecast in a venv for the benchmark only):
    cargo build --release --example forecast_csv
    python3 -m venv /tmp/venv-sf && /tmp/venv-sf/bin/pip install statsforecast pandas
    /tmp/venv-sf/bin/python bench/forecast/bench.py accuracy [--csv SAMPLE.csv] [--variant ets_theta]
    /tmp/venv-sf/bin/python bench/forecast/bench.py speed --series 2000 --rounds 3

accuracy: for each dataset the last `--horizon` points (12) of every series are held
out; salespipe (automatic choice by rolling-origin backtest on the training part) and
statsforecast's AutoETS and SeasonalNaive forecast them from the rest. MASE per series
is scaled by the in-sample seasonal-naive MAE of the training part (lag 1 when not
longer than one season); the tables give every series (small datasets) and the
geometric mean per dataset. Datasets, copied under `data/` (see data/README.md):
AirPassengers (shipped in statsforecast), ShampooSales and Airline (CSV files of the
sktime wheel), and `--csv`, a long CSV `unique_id,ds,y` (every category x region monthly
net revenue series of the sample, written by `sample_series.py`).

speed: `--series` synthetic monthly series of 36 to 60 points (seeded generator below);
each tool does fit + backtest (3 origins, step 1, horizon 12) + forecast. Rounds are
interleaved (salespipe, statsforecast, salespipe, ...) because the machine is shared;
each statsforecast round runs in a fresh Python process so that its first-call JIT
warm-up (a tiny dataset first) is paid, and timed separately, every round. salespipe
runs on 2 rayon threads, statsforecast with n_jobs=2. Medians are reported with the
load average seen during the rounds.

Targets (issue 6): geometric-mean MASE <= AutoETS's and below SeasonalNaive's on each
dataset; >= 10x faster than statsforecast with its warm-up, >= 3x without it."""
import argparse, json, os, pathlib, re, resource, statistics, subprocess, sys, tempfile, time

import numpy as np
import pandas as pd

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
DATA = HERE / "data"
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
EXAMPLE = TARGET / "release" / "examples" / "forecast_csv"
SEED = 20240601


def one_series(path, name):
    """A two-column CSV (period, value) as a one-series long frame."""
    raw = pd.read_csv(path)
    y = pd.to_numeric(raw.iloc[:, -1], errors="raise").to_numpy(dtype=float)
    start = pd.Period(str(raw.iloc[0, 0])[:7], freq="M").to_timestamp()
    return pd.DataFrame(
        {"unique_id": name, "ds": pd.date_range(start, periods=len(y), freq="MS"), "y": y}
    )


def datasets(own_csv):
    out = {
        "AirPassengers": one_series(DATA / "AirPassengers.csv", "AirPassengers"),
        "ShampooSales": one_series(DATA / "ShampooSales.csv", "ShampooSales"),
        "Airline": one_series(DATA / "Airline.csv", "Airline"),
    }
    if own_csv:
        df = pd.read_csv(own_csv, parse_dates=["ds"])
        out[pathlib.Path(own_csv).stem] = df[["unique_id", "ds", "y"]]
    return out


def run_salespipe(train, h, m, threads, extra=()):
    """Forecasts of the example binary as a frame (unique_id, step, point, model) and the
    seconds it reports (fit, backtest and forecast; reading and writing excluded)."""
    if not EXAMPLE.exists():
        sys.exit(f"{EXAMPLE} not found: run `cargo build --release --example forecast_csv`")
    with tempfile.TemporaryDirectory() as tmp:
        inp, outp = pathlib.Path(tmp, "in.csv"), pathlib.Path(tmp, "out.csv")
        train.sort_values(["unique_id", "ds"]).to_csv(inp, index=False)
        cmd = [str(EXAMPLE), str(inp), str(outp), "--horizon", str(h), "--season", str(m),
               "--threads", str(threads), "--non-negative", *extra]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"salespipe failed:\n{r.stderr}")
        seconds = float(re.search(r"seconds=([0-9.]+)", r.stdout).group(1))
        return pd.read_csv(outp, dtype={"unique_id": str}), seconds


def mase(train, test, pred, m):
    lag = m if len(train) > m else 1
    scale = np.mean(np.abs(train[lag:] - train[:-lag]))
    return np.mean(np.abs(test - pred)) / scale if scale > 0 else np.nan


def gmean(x):
    """Geometric mean of the finite positive values (a perfect 0 has no logarithm)."""
    x = np.asarray([v for v in x if np.isfinite(v) and v > 0])
    return float(np.exp(np.mean(np.log(x)))) if len(x) else float("nan")


def accuracy(args):
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS, SeasonalNaive

    h, m = args.horizon, args.season
    summary = []
    for name, df in datasets(args.csv).items():
        df = df.assign(unique_id=df.unique_id.astype(str)).sort_values(["unique_id", "ds"])
        test = df.groupby("unique_id").tail(h)
        train = df.drop(test.index)
        sf = StatsForecast(models=[AutoETS(season_length=m), SeasonalNaive(season_length=m)],
                           freq="MS", n_jobs=1)
        fc = sf.forecast(df=train, h=h)
        if "unique_id" not in fc.columns:
            fc = fc.reset_index()
        fc["unique_id"] = fc.unique_id.astype(str)
        sp, _ = run_salespipe(train, h, m, threads=1, extra=args.sp_arg)
        variants = {f"salespipe [{c}]": run_salespipe(train, h, m, 1, [*args.sp_arg, "--candidates", c])[0]
                    for c in args.variant}
        rows = []
        for uid, g in train.groupby("unique_id"):
            y_tr = g["y"].to_numpy()
            y_te = test[test.unique_id == uid]["y"].to_numpy()
            f = fc[fc.unique_id == uid]
            p = sp[sp.unique_id == uid].sort_values("step")
            rows.append({
                "series": uid, "train": len(y_tr),
                "salespipe": mase(y_tr, y_te, p["point"].to_numpy(), m),
                "AutoETS": mase(y_tr, y_te, f["AutoETS"].to_numpy(), m),
                "SeasonalNaive": mase(y_tr, y_te, f["SeasonalNaive"].to_numpy(), m),
                "salespipe model": p["model"].iloc[0],
                **{k: mase(y_tr, y_te, v[v.unique_id == uid].sort_values("step")["point"].to_numpy(), m)
                   for k, v in variants.items()},
            })
        per = pd.DataFrame(rows)
        print(f"\n### {name}: MASE per series, last {h} points held out\n")
        print(per.to_markdown(index=False, floatfmt=".3f"))
        summary.append({"dataset": name, "series": len(per),
                        **{k: gmean(per[k]) for k in ["salespipe", "AutoETS", "SeasonalNaive", *variants]},
                        "salespipe wins vs AutoETS": int((per.salespipe < per.AutoETS).sum()),
                        "ties": int((per.salespipe == per.AutoETS).sum())})
    table = pd.DataFrame(summary)
    table["target met"] = (table.salespipe <= table.AutoETS) & (table.salespipe < table.SeasonalNaive)
    print(f"\n### Geometric-mean MASE, last {h} points held out\n")
    print(table.to_markdown(index=False, floatfmt=".3f"))


def synthetic(n_series, seed=SEED):
    """Seeded monthly series of 36 to 60 points: a level, a linear trend of up to 1 % of
    the level per month, a sinusoidal season of up to 30 % and 5 % Gaussian noise,
    clipped at zero."""
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


def statsforecast_once(args):
    """One statsforecast round in this (fresh) process: warm-up on 4 series, then the
    whole set; prints a JSON line with both timings."""
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS, SeasonalNaive

    h, m = args.horizon, args.season

    def run(data):
        sf = StatsForecast(models=[AutoETS(season_length=m), SeasonalNaive(season_length=m)],
                           freq="MS", n_jobs=2)
        sf.cross_validation(df=data, h=h, n_windows=3, step_size=1)
        sf.forecast(df=data, h=h)

    df = pd.read_csv(args.csv, parse_dates=["ds"])
    small = synthetic(4, seed=1)
    t0 = time.perf_counter()
    run(small)
    warmup = time.perf_counter() - t0
    t0 = time.perf_counter()
    run(df)
    print(json.dumps({"warmup": warmup, "seconds": time.perf_counter() - t0}))


def children_cpu():
    """CPU seconds (user + system) of the finished child processes so far."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def speed(args):
    h, m = args.horizon, args.season
    df = synthetic(args.series)
    sp_s, sf_s, warm_s, loads, sp_cpu, sf_cpu = [], [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        data = pathlib.Path(tmp, "synthetic.csv")
        df.to_csv(data, index=False)
        for r in range(args.rounds):
            loads.append(os.getloadavg()[0])
            c0 = children_cpu()
            _, s = run_salespipe(df, h, m, threads=2)
            sp_cpu.append(children_cpu() - c0)
            sp_s.append(s)
            print(f"round {r + 1}: salespipe {s:.2f} s", file=sys.stderr)
            loads.append(os.getloadavg()[0])
            c0 = children_cpu()
            out = subprocess.run([sys.executable, __file__, "sf-once", "--csv", str(data),
                                  "--horizon", str(h), "--season", str(m)],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                sys.exit(f"statsforecast failed:\n{out.stderr}")
            sf_cpu.append(children_cpu() - c0)
            res = json.loads(out.stdout.strip().splitlines()[-1])
            sf_s.append(res["seconds"])
            warm_s.append(res["warmup"])
            print(f"round {r + 1}: statsforecast {res['seconds']:.2f} s + warm-up "
                  f"{res['warmup']:.2f} s", file=sys.stderr)
    sp, sf, warm = (statistics.median(v) for v in (sp_s, sf_s, warm_s))
    print(f"\n{args.series} series, {args.rounds} interleaved rounds, medians; "
          f"1-minute load average during the rounds {min(loads):.1f} to {max(loads):.1f} "
          f"on {os.cpu_count()} CPUs\n")
    print("| tool | fit + backtest + forecast s | warm-up s | rounds s | CPU s per round (process tree, reading and start-up included) |")
    print("|---|---:|---:|---|---|")
    print(f"| salespipe (2 threads) | {sp:.2f} | - | {', '.join(f'{v:.2f}' for v in sp_s)} | "
          f"{', '.join(f'{v:.1f}' for v in sp_cpu)} |")
    print(f"| statsforecast (n_jobs=2) | {sf:.2f} | {warm:.2f} | "
          f"{', '.join(f'{a:.2f} + {b:.2f}' for a, b in zip(sf_s, warm_s))} | "
          f"{', '.join(f'{v:.1f}' for v in sf_cpu)} |")
    print(f"\nRatio with warm-up: {(sf + warm) / sp:.1f}x (target >= 10x); "
          f"without: {sf / sp:.1f}x (target >= 3x)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["accuracy", "speed", "sf-once", "synthetic"])
    ap.add_argument("--horizon", type=int, default=12)
    ap.add_argument("--season", type=int, default=12)
    ap.add_argument("--csv", help="long CSV unique_id,ds,y of more series to score")
    ap.add_argument("--series", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", help="synthetic: where to write the series")
    ap.add_argument("--variant", action="append", default=[],
                    help="accuracy: also score salespipe restricted to these candidates "
                         "(e.g. ets_theta or ets,theta), reported beside the default choice")
    ap.add_argument("--sp-arg", action="append", default=[],
                    help="accuracy: one more argument for examples/forecast_csv (repeat for each, "
                         "e.g. --sp-arg=--origins --sp-arg=6)")
    args = ap.parse_args()
    if args.what == "accuracy":
        accuracy(args)
    elif args.what == "speed":
        speed(args)
    elif args.what == "sf-once":
        statsforecast_once(args)
    else:
        synthetic(args.series).to_csv(args.out or sys.stdout, index=False)


if __name__ == "__main__":
    main()
