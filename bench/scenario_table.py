#!/usr/bin/env python3
"""Formats bench/scenario.sh's RESULT lines as the Markdown tables of
docs/performance.md (storm, busy hour), one row per run, then the
notes. Usage: scenario_table.py RAW"""
import sys


def parse(path):
    rows, notes = [], []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("RESULT "):
                kv = dict(p.split("=", 1) for p in line.split()[1:]
                          if "=" in p)
                rows.append(kv)
            elif line.startswith("NOTE "):
                notes.append(line[5:])
    return rows, notes


def main():
    rows, notes = parse(sys.argv[1])
    storm = [r for r in rows if r.get("label", "").endswith("/storm")]
    busy = [r for r in rows if r.get("label", "").endswith("/busy")]
    print("### Reconnect storm\n")
    print("| system | phones | registered | failed | time until all "
          "registered | server CPU per registration | memory per "
          "registered phone | phones' own CPU | load (start/end) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in storm:
        print("| %s | %s | %s | %s | %.2f s | %.0f µs | %.1f KB (%s) | "
              "%s s | %s / %s |" % (
                  r["label"].rsplit("/", 1)[0], r["phones"],
                  r["registered"], r["failed"], float(r["t_all_s"]),
                  float(r["cpu_per_reg_us"]),
                  float(r["mem_per_phone_kb"]), r["mem_kind"],
                  r.get("client_cpu_s", "?"), r.get("load_start", "?"), r.get("load_end", "?")))
    if busy:
        # "at arrival": the kernel's receive stamp at the receiving phone
        # (the edge's and the backend's time, not the driver's); "at
        # read": when the driver got to it. Older raw files have only the
        # latter.
        print("\n### Busy hour\n")
        print("| system | seconds | phones | calls | relayed messages | "
              "lost | at arrival p50 / p99 / p999 | at read p50 / p99 / "
              "p999 | REGISTER refresh p50 / p99 (at arrival) | "
              "keep-alive pongs | server CPU | load (start/end) |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
              "---: | ---: | ---: | --- |")
        for r in busy:
            arr = ("%.2f / %.2f / %.2f ms" % (
                float(r["arr_p50_ms"]), float(r["arr_p99_ms"]),
                float(r["arr_p999_ms"])) if "arr_p50_ms" in r else "—")
            reg = (r["reg_arr_p50_ms"], r["reg_arr_p99_ms"]) \
                if "reg_arr_p50_ms" in r else (r["reg_p50_ms"],
                                               r["reg_p99_ms"])
            print("| %s | %s | %s | %s | %s | %s | %s | %.2f / %.2f / "
                  "%.2f ms | %.2f / %.2f ms | %s/%s | %.1f %% | %s / %s |"
                  % (r["label"].rsplit("/", 1)[0], r["seconds"],
                     r["phones"], r["calls"], r["msgs"], r["lost"], arr,
                     float(r["p50_ms"]), float(r["p99_ms"]),
                     float(r["p999_ms"]), float(reg[0]), float(reg[1]),
                     r["ka_pongs"], r["ka_sent"],
                     float(r["cpu_pct"]), r.get("load_start", "?"),
                     r.get("load_end", "?")))
    if notes:
        print("\nNotes:\n")
        for n in notes:
            print("- " + n)


if __name__ == "__main__":
    main()
