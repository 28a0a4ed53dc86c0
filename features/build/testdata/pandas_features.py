"""The pandas peer of caserisk's feature builder (used by BenchmarkFeatures240k).

Reads the same CSV files and computes the default spec's resident
aggregations for one as-of date, with the same point-in-time rules: rows
known on the as-of date (max of event and recorded date), exact duplicates
dropped, the population of residents alive and living in the borough,
households by UPRN on the as-of date. Prints the seconds taken on its last
line.
"""
import json
import os
import sys
import time

import numpy as np
import pandas as pd


def main():
    job = json.load(open(sys.argv[1]))
    t0 = time.perf_counter()
    d = job["dir"]
    asof = pd.Timestamp(job["as_of"])

    res = pd.read_csv(os.path.join(d, "residents.csv"), dtype=str,
                      usecols=["resident_id", "first_seen_date", "date_of_death", "death_recorded_date"])
    res = res.drop_duplicates("resident_id")
    first = pd.to_datetime(res.first_seen_date)
    death = pd.to_datetime(res.date_of_death)
    rec = pd.to_datetime(res.death_recorded_date)
    known_death = death.where(rec.isna() | (death >= rec), rec)
    alive = res.resident_id[(first <= asof) & ~(known_death <= asof)]

    rs = pd.read_csv(os.path.join(d, "residences.csv"), dtype={"resident_id": str, "uprn": "Int64"},
                     parse_dates=["start_date", "end_date"]).drop_duplicates()
    rs = rs[(rs.start_date <= asof) & (rs.end_date.isna() | (rs.end_date >= asof))]
    rs = rs.sort_values("start_date", kind="stable").drop_duplicates("resident_id", keep="last")
    pop = rs[rs.resident_id.isin(alive)][["resident_id", "uprn"]].reset_index(drop=True)
    hh = pop.rename(columns={"uprn": "hh_uprn"})

    files = {}
    for f in job["features"]:
        name = f["file"]
        if name in files:
            continue
        ev = pd.read_csv(os.path.join(d, name), dtype=str).drop_duplicates()
        date = pd.to_datetime(ev[f["date"]], errors="coerce")
        known = date
        rcol = job["recorded"].get(name)
        if rcol:
            r = pd.to_datetime(ev[rcol], errors="coerce")
            known = date.where(r.isna() | (date >= r), r)
        keep = (date <= asof) & (known <= asof)
        ev = ev[keep].copy()
        ev["_date"] = date[keep]
        for key, m in job["legacy"].items():
            fn, col = key.split(":")
            if fn == name:
                ev[col] = ev[col].replace(m)
        if "uprn" in ev:
            ev["uprn"] = pd.to_numeric(ev["uprn"]).astype("Int64")
        files[name] = ev.merge(hh, on="resident_id", how="left")

    out = pop.copy()
    for f in job["features"]:
        m = files[f["file"]]
        if f["window"]:
            m = m[m._date > asof - pd.Timedelta(days=f["window"])]
        for col, codes in f["where"].items():
            m = m[m[col].isin(codes)]
        if f["scope"] == "person":
            key, target = "resident_id", out.resident_id
        elif f["scope"] == "household":
            key, target = "hh_uprn", out.uprn
        else:
            key, target = "uprn", out.uprn
        g = m.groupby(key)
        agg, col, fill = f["agg"], f["column"], np.nan
        if agg == "count":
            s, fill = g.size(), 0
        elif agg == "any":
            s, fill = (g.size() > 0).astype(float), 0
        elif agg in ("sum", "mean", "min", "max"):
            v = pd.to_numeric(m[col])
            s = getattr(v.groupby(m[key]), agg)()
            fill = 0 if agg == "sum" else np.nan
        elif agg == "last":
            mm = m.sort_values("_date", kind="stable")
            s = pd.to_numeric(mm[col]).groupby(mm[key]).last()
        elif agg == "distinct":
            s, fill = g[col].nunique(), 0
        elif agg == "days_since_last":
            s = (asof - g._date.max()).dt.days
        elif agg == "days_since_first":
            s = (asof - g._date.min()).dt.days
        elif agg == "share":
            hit = np.ones(len(m), dtype=bool)
            for c2, codes in f["share_of"].items():
                hit &= m[c2].isin(codes).to_numpy()
            s = pd.Series(hit, index=m.index).groupby(m[key]).mean()
        else:
            raise SystemExit("unknown aggregation " + agg)
        out[f["name"]] = target.map(s).fillna(fill)
    out.to_csv(job["out"], index=False)
    print(f"{len(out)} rows, {len(job['features'])} features")
    print(f"{time.perf_counter() - t0:.3f}")


if __name__ == "__main__":
    main()
