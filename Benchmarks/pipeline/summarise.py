#!/usr/bin/env python3
"""Medians of an ab_cluster.sh run: samples/s, CPU us/sample in all and per role, for A and B.

  python3 Benchmarks/pipeline/summarise.py OUT_DIR
"""
import glob, json, os, statistics, sys

def main():
    out = sys.argv[1]
    sides = {}
    for path in sorted(glob.glob(os.path.join(out, "*-*.json"))):
        side = os.path.basename(path).split("-")[0]
        for row in json.load(open(path))["results"]:
            if "error" in row:
                print(f"{path}: FAILED {row['error']}"); continue
            sides.setdefault(side, []).append(row)
    roles = sorted({k for rows in sides.values() for r in rows for k in r.get("cpu_us_per_sample_by_role", {})})
    print("| side | runs | samples/s (runs) | **median samples/s** | CPU us/sample (median) | "
          + " | ".join(f"{r} us/sample" for r in roles) + " |")
    print("| --- | ---: | --- | ---: | ---: | " + " | ".join("---:" for _ in roles) + " |")
    for side, rows in sorted(sides.items()):
        rates = [r["samples_per_s"] for r in rows]
        cpu = statistics.median(r["cpu_us_per_sample"] for r in rows)
        per = [statistics.median(r["cpu_us_per_sample_by_role"].get(k, 0) for r in rows) for k in roles]
        print(f"| {side} | {len(rows)} | {', '.join(f'{x:,}' for x in rates)} | **{statistics.median(rates):,.0f}** | {cpu:.2f} | "
              + " | ".join(f"{v:.2f}" for v in per) + " |")

if __name__ == "__main__":
    main()
