#!/usr/bin/env python3
"""Turns the RESULT and NOTE lines of bench/compare.sh into Markdown.

Usage: mktable.py RAWFILE > LATEST.md. Each cell is the median over the
repetitions of one label ("system/row"); errors are summed.
"""
import statistics
import sys

ROWS = [
    ("haproxy", "HAProxy (tcp mode, TCP echo)"),
    ("stunnel", "stunnel (TCP echo)"),
    ("kamailio", "Kamailio 5.6.3 stock, sl_send_reply"),
    ("kamailio-relay", "Kamailio 5.6.3 stock, forward_udp to echo"),
    ("kamailio-fix", "Kamailio 5.6.3 + kam_forkfix, sl_send_reply"),
    ("kamailio-fix-relay", "Kamailio 5.6.3 + kam_forkfix, forward_udp"),
    ("siptlsd", "siptlsd (2 workers; handler in the notes)"),
]


def load(path):
    res, notes = {}, []
    for line in open(path, encoding="utf-8", errors="replace"):
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "NOTE":
            notes.append(" ".join(parts[1:]))
        elif parts[0] == "RESULT":
            kv = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
            res.setdefault(kv.get("label", "-"), []).append(kv)
    return res, notes


def num(kv, key):
    try:
        v = float(kv.get(key, "nan"))
    except ValueError:
        return None
    return None if v != v or v < 0 else v


def med(runs, key):
    vals = [num(r, key) for r in runs]
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def spread(runs, key):
    vals = [v for v in (num(r, key) for r in runs) if v]
    if len(vals) < 2:
        return None
    return (max(vals) - min(vals)) / statistics.median(vals)


def fmt(v, nd=0):
    return "n/a" if v is None else f"{v:.{nd}f}"


def cpu_cell(res, label, hit=False):
    runs = res.get(label)
    if not runs:
        return "n/a"
    if all(r.get("last_error") == "server_dead" for r in runs):
        return "dead"
    if not any(num(r, "ops") for r in runs):
        errs = sum(int(num(r, "errors") or 0) for r in runs)
        return f"fail [{errs} err]"
    cell = fmt(med(runs, "server_cpu_us_per_op"))
    if hit:
        h = med(runs, "hit_ratio")
        cell += f" ({fmt(h * 100 if h is not None else None)}% hit)"
    errs = sum(int(num(r, "errors") or 0) for r in runs)
    if errs:
        cell += f" [{errs} err]"
    return cell


def idle_cell(res, label):
    runs = res.get(label)
    if not runs:
        return "-"
    r = runs[-1]
    if r.get("last_error") == "server_dead":
        return "dead"
    if not num(r, "up"):
        return f"fail (0/{r.get('conc', '?')} up)"
    return (f"{fmt(num(r, 'server_kb_per_conn'), 1)} "
            f"({r.get('up', '?')}/{r.get('conc', '?')} up)")


def main_table(res, out):
    out.append("| System | HS 1.3 ECDSA | HS 1.2 ECDSA | HS 1.3 RSA | "
               "HS+OPTIONS 1.3 | Resume 1.3 | Resume 1.2 | "
               "Transaction (persistent) | Idle KB/conn |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    for key, name in ROWS:
        if not any(k.startswith(key + "/") for k in res):
            out.append(f"| {name} | not available | | | | | | | |")
            continue
        cells = [cpu_cell(res, f"{key}/{r}") if f"{key}/{r}" in res
                 else "-" for r in
                 ("hs13ec", "hs12ec", "hs13rsa", "full13ec")]
        cells += [cpu_cell(res, f"{key}/{r}", True) if f"{key}/{r}" in res
                  else "-" for r in ("res13ec", "res12ec")]
        cells.append(cpu_cell(res, f"{key}/pers13ec"))
        cells.append(idle_cell(res, f"{key}/idle13ec"))
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    fl = {}
    for r in res.get("floor", []):
        fl.setdefault((r["tls"], r["key"]), []).append(
            float(r["server_cpu_us_per_hs"]))
    cells = []
    for k in (("1.3", "ecdsa-p256"), ("1.2", "ecdsa-p256"),
              ("1.3", "rsa2048")):
        v = fl.get(k)
        cells.append(f"{min(v):.0f}-{max(v):.0f}" if v else "n/a")
    out.append("| OpenSSL floor (hs_floor, tickets 0-2, cache off/on) | "
               + " | ".join(cells) + " | | | | | |")


def rate_table(res, out):
    out.append("| System | HS 1.3 ECDSA /s | p50 ms | HS+OPTIONS /s | "
               "Transactions /s | p50 ms | p99 ms |")
    out.append("|---|---|---|---|---|---|---|")
    for key, name in ROWS:
        if not any(k.startswith(key + "/") for k in res):
            continue
        hs = res.get(f"{key}/hs13ec", [])
        fu = res.get(f"{key}/full13ec", [])
        pe = res.get(f"{key}/pers13ec", [])
        out.append(f"| {name} | {fmt(med(hs, 'rate'))} | "
                   f"{fmt(med(hs, 'p50_ms'), 2)} | {fmt(med(fu, 'rate'))} | "
                   f"{fmt(med(pe, 'rate'))} | {fmt(med(pe, 'p50_ms'), 2)} | "
                   f"{fmt(med(pe, 'p99_ms'), 2)} |")


def floor_table(res, out):
    out.append("| TLS | key | tickets | server cache | server CPU us/handshake |")
    out.append("|---|---|---|---|---|")
    for r in res.get("floor", []):
        out.append(f"| {r['tls']} | {r['key']} | {r['tickets']} | "
                   f"{r['cache']} | {r['server_cpu_us_per_hs']} |")
    for lbl, name in (("speed/ecdsap256_sign", "ECDSA P-256 sign"),
                      ("speed/x25519_derive", "X25519 derive"),
                      ("speed/rsa2048_sign", "RSA-2048 sign")):
        for r in res.get(lbl, []):
            out.append(f"| openssl speed | {name} | | | {r['us']} |")


def tenants_table(res, out):
    """bench/tenants: one run, its own medians (docs/performance.md)."""
    n = next((r.get("n") for r in res.get("tenants/load", [])), None)
    if n is None:
        return
    out += ["", f"{n} tenants (bench/tenants: [server:any] ECDSA "
            "profiles, each its own server_name and certificate; medians "
            "of the repetitions):", ""]
    out.append("| figure | wall s | CPU s |")
    out.append("|---|---|---|")
    for lbl, name in (("load", "load (conf + profile set)"),
                      ("reload", "reload (old set alive)"),
                      ("check", "siptlsd --check")):
        for r in res.get(f"tenants/{lbl}", []):
            out.append(f"| {name} | {r['wall_s']} | {r['cpu_s']} |")
    for r in res.get("tenants/mem", []):
        out.append(f"| heap per profile | {r['kb_per_profile']} KB | |")
    out += ["", "| handshake TLS 1.3 | server CPU us |", "|---|---|"]
    for r in res.get("tenants/hs", []):
        what = (f"{r['profiles']} tenants, SNI, random tenant"
                if r["profiles"] != "1" else
                "1 tenant, SNI" if r["sni"] == "1" else "1 profile, no SNI")
        ratio = f" (x{r['ratio']})" if "ratio" in r else ""
        out.append(f"| {what} | {r['server_cpu_us_per_hs']}{ratio} |")


def main():
    res, notes = load(sys.argv[1])
    spreads = [s for lbl, runs in res.items() if "/" in lbl
               for s in [spread(runs, "server_cpu_us_per_op")] if s is not None]
    out = ["# siptls benchmark: the field on this machine", "",
           "Server CPU per operation in microseconds (median of the "
           "repetitions; lower is better), from /proc utime+stime of the "
           "server's whole process tree. Resume cells give the hit ratio "
           "from SSL_session_reused(). Idle: server memory growth (Pss) "
           "per idle TLS connection. [N err] = failed operations summed "
           "over the repetitions.", ""]
    main_table(res, out)
    out += ["", "Throughput and latency (depend on the CPU share the "
            "shared machine gave; indicative only):", ""]
    rate_table(res, out)
    out += ["", "The OpenSSL floor (one thread, memory BIOs, server side "
            "only):", ""]
    floor_table(res, out)
    tenants_table(res, out)
    out += ["", "Notes:", ""]
    if spreads:
        out.append(f"- noise: spread (max-min)/median of server CPU per op "
                   f"across repetitions: median {statistics.median(spreads):.0%},"
                   f" worst {max(spreads):.0%}")
    out += [f"- {n}" for n in notes]
    print("\n".join(out))


if __name__ == "__main__":
    main()
