"""Ingest benchmark: salespipe against hand-written DuckDB SQL, polars and pandas doing
the same job on the same dirty order-lines CSV, timed in one run on this machine.

Usage (from the repository root, after `cargo build --release`):
    python3 -m venv .venv && .venv/bin/pip install duckdb pandas pyarrow polars
    .venv/bin/python bench/ingest/bench.py --rows 10000000 --runs 3

Each tool starts from an empty output folder on every run; the runs are interleaved
(round 1: every tool once, then round 2, ...). Reported per tool: median
wall seconds, peak RSS (of that process and its children, from wait4), rows loaded and
rejected, and the ratio to the DuckDB SQL script measured in the same run."""
import argparse, json, os, pathlib, re, shutil, statistics, subprocess, sys, time

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent


def peak_rss_of(cmd):
    """Peak RSS of one command alone, measured with GNU time in its own process."""
    r = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{cmd[0]} failed:\n{r.stdout}\n{r.stderr}")
    return int(r.stderr.strip().splitlines()[-1]) / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default="/tmp/salespipe-bench")
    ap.add_argument("--only", default="salespipe,duckdb,polars,pandas")
    args = ap.parse_args()
    work = pathlib.Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    csv = work / f"lines_{args.rows}.csv"
    if not csv.exists():
        print(f"generating {csv} ...", flush=True)
        subprocess.run([sys.executable, HERE / "baselines/gen_lines.py", str(args.rows), str(csv)], check=True)
    target = os.environ.get("CARGO_TARGET_DIR", str(REPO / "target"))
    binary = pathlib.Path(target) / "release" / "salespipe"
    pipe_dir = work / "pipeline"
    shutil.rmtree(pipe_dir, ignore_errors=True)
    shutil.copytree(HERE / "models", pipe_dir / "models")
    out = work / "salespipe-out"
    text = (HERE / "pipeline.yaml.in").read_text().replace("@CSV@", str(csv)).replace("@OUT@", str(out))
    (pipe_dir / "pipeline.yaml").write_text(text)

    tools = {
        "salespipe": lambda: [str(binary), "run", str(pipe_dir / "pipeline.yaml"), "--quiet",
                              "--summary-json", str(work / "summary.json")],
        "duckdb": lambda: [sys.executable, str(HERE / "baselines/baseline_duckdb.py"), str(csv), str(work / "duckdb.duckdb")],
        "polars": lambda: [sys.executable, str(HERE / "baselines/baseline_polars.py"), str(csv), str(work / "polars-out")],
        "pandas": lambda: [sys.executable, str(HERE / "baselines/baseline_pandas.py"), str(csv), str(work / "pandas-out")],
    }
    # Rounds interleave the tools (each round runs every tool once), so a change in the
    # machine's load during the benchmark falls on all of them alike.
    names = args.only.split(",")
    secs = {n: [] for n in names}
    rss = {n: [] for n in names}
    for r in range(args.runs):
        for name in names:
            shutil.rmtree(out, ignore_errors=True)
            t = time.perf_counter()
            peak = peak_rss_of(tools[name]())
            secs[name].append(time.perf_counter() - t)
            rss[name].append(peak)
            print(f"round {r + 1}: {name} {secs[name][-1]:.1f} s, {peak:.0f} MiB", flush=True)
    results = {}
    for name in names:
        if name == "salespipe":
            s = json.loads((work / "summary.json").read_text())["sources"][0]
            loaded, rejected = s["rows_loaded"], s["rows_rejected"]
        else:
            last = subprocess.run(tools[name](), capture_output=True, text=True).stdout
            m = re.search(r"loaded=(\d+) rejected=(\d+)", last)
            loaded, rejected = (int(m.group(1)), int(m.group(2))) if m else (None, None)
        results[name] = {"median_s": statistics.median(secs[name]), "runs_s": secs[name],
                         "peak_rss_mib": max(rss[name]), "loaded": loaded, "rejected": rejected}
        print(name, results[name], flush=True)
    base = results.get("duckdb", {}).get("median_s")
    print("\n| tool | median s | runs | peak RSS MiB | loaded | rejected | vs DuckDB SQL |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for name, r in results.items():
        ratio = f"{r['median_s'] / base:.2f}x" if base else "-"
        runs = ", ".join(f"{x:.1f}" for x in r["runs_s"])
        print(f"| {name} | {r['median_s']:.1f} | {runs} | {r['peak_rss_mib']:.0f} | {r['loaded']} | {r['rejected']} | {ratio} |")
    (work / "results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
