#!/usr/bin/env python3
"""Turns the raw results of bench/gateway/run.sh into the printed table and a JSON file.

usage: report.py RESULTS_DIR OUT_JSON
"""

import json
import os
import sys

TARGETS = ("direct", "switchyard", "litellm")


def read_meta(d):
    meta = {}
    with open(os.path.join(d, "meta.txt")) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            meta[k] = v
    return meta


def read_wrk(path):
    if not os.path.exists(path):
        return None
    out = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[0] == "RESULT":
                v = float(parts[2])
                out[parts[1]] = int(v) if v.is_integer() and parts[1] not in ("rps", "duration_s", "mean_us") else v
    if "rps" not in out:
        return {"error": open(path).read()[-500:]}
    if out.get("server_cpu_ticks") is not None and out.get("clk_tck") and out.get("requests"):
        out["server_cpu_us_per_req"] = round(out["server_cpu_ticks"] / out["clk_tck"] * 1e6 / out["requests"], 1)
    out["errors"] = sum(out.get(k, 0) for k in ("err_connect", "err_read", "err_write", "err_status", "err_timeout"))
    return out


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def fmt(v, spec="{:,.0f}", none="-"):
    return none if v is None else spec.format(v)


def main():
    d, out_path = sys.argv[1], sys.argv[2]
    meta = read_meta(d)
    # wrk-<target>-c<conc>-r<round>.txt; per point, the round with the median RPS is
    # reported (its latencies with it), and every round's RPS is kept.
    runs = {}
    for n in os.listdir(d):
        if n.startswith("wrk-") and n.endswith(".txt"):
            t, c, r = n[4:-4].rsplit("-", 2)
            runs.setdefault((int(c[1:]), t), {})[int(r[1:])] = read_wrk(os.path.join(d, n))
    concs = sorted({c for c, _ in runs})
    load = {c: {} for c in concs}
    for (c, t), by_round in runs.items():
        ok = sorted((r for r in by_round.values() if r and "rps" in r), key=lambda r: r["rps"])
        if not ok:
            load[c][t] = next(iter(by_round.values()))
            continue
        med = dict(ok[(len(ok) - 1) // 2])
        med["rounds_rps"] = [by_round[k]["rps"] for k in sorted(by_round) if by_round[k] and "rps" in by_round[k]]
        load[c][t] = med

    def per_round(c, a, b, f):
        """Median over rounds of f(result a, result b), both from the same round (the
        machine's speed drifts between rounds; pairs taken close in time cancel most of it)."""
        ra, rb = runs.get((c, a), {}), runs.get((c, b), {})
        vals = sorted(f(ra[k], rb[k]) for k in ra if k in rb and ra[k] and rb[k] and "rps" in ra[k] and "rps" in rb[k])
        if not vals:
            return None
        m = len(vals)
        return vals[m // 2] if m % 2 else (vals[m // 2 - 1] + vals[m // 2]) / 2

    # ttfb-<target>-r<round>.json: the round with the median first-event p50 is shown.
    ttfb_runs = {}
    for n in os.listdir(d):
        if n.startswith("ttfb-") and n.endswith(".json"):
            t, r = n[5:-5].rsplit("-", 1)
            j = read_json(os.path.join(d, n))
            if j:
                ttfb_runs.setdefault(t, {})[int(r[1:])] = j
    ttfb = {}
    for t in TARGETS:
        rs = sorted(ttfb_runs.get(t, {}).values(), key=lambda j: j["first"]["p50_us"])
        ttfb[t] = rs[(len(rs) - 1) // 2] if rs else None

    def ttfb_per_round(t, k):
        a, b = ttfb_runs.get(t, {}), ttfb_runs.get("direct", {})
        vals = sorted(a[r]["first"][k] - b[r]["first"][k] for r in a if r in b)
        if not vals:
            return None
        m = len(vals)
        return round(vals[m // 2] if m % 2 else (vals[m // 2 - 1] + vals[m // 2]) / 2, 1)

    def get(c, t, k):
        r = load.get(c, {}).get(t)
        return None if not r or k not in r else r[k]

    def added(c, t, k):
        a, b = get(c, t, k), get(c, "direct", k)
        return None if a is None or b is None else a - b

    def ttfb_get(t, k, which="first"):
        r = ttfb.get(t)
        return None if not r else r[which][k]

    def ttfb_added(t, k):
        a, b = ttfb_get(t, k), ttfb_get("direct", k)
        return None if a is None or b is None else round(a - b, 1)

    # ----- soak
    soak = None
    rss_samples = []
    if os.path.exists(os.path.join(d, "soak-rss.txt")):
        with open(os.path.join(d, "soak-rss.txt")) as f:
            for line in f:
                p = line.split()
                if len(p) == 2 and p[1].isdigit() and int(p[1]) > 0:
                    rss_samples.append((float(p[0]), int(p[1])))
        w = read_wrk(os.path.join(d, "soak-wrk.txt")) or {}
        if rss_samples:
            t0 = rss_samples[0][0]
            vals = [kb for _, kb in rss_samples]
            # "flat": after the first tenth of the run (connection pools, allocator
            # arenas and buffers reach their working size), RSS must not keep growing.
            settle = vals[max(1, len(vals) // 10) - 1] if len(vals) > 1 else vals[0]
            soak = {
                "requests": w.get("requests"),
                "requests_target": int(meta.get("soak_requests_target", 0) or 0),
                "duration_s": w.get("duration_s"),
                "rps": w.get("rps"),
                "errors": w.get("errors"),
                "rss_start_kb": vals[0],
                "rss_settled_kb": settle,
                "rss_end_kb": vals[-1],
                "rss_max_kb": max(vals),
                "growth_after_settle_kb": vals[-1] - settle,
                "samples": [[round(t - t0, 1), kb] for t, kb in rss_samples],
            }

    sy_hwm = int(meta.get("switchyard_vmhwm_after_soak_kb") or meta.get("switchyard_vmhwm_kb") or 0) or None
    ll_hwm = int(meta.get("litellm_vmhwm_kb") or 0) or None

    # ----- targets
    def check(name, value, unit, target_txt, ok):
        return {"metric": name, "value": value, "unit": unit, "target": target_txt,
                "pass": None if value is None else bool(ok(value))}

    sy_dir = per_round(64, "switchyard", "direct", lambda a, b: 100.0 * a["rps"] / b["rps"])
    sy_ll = per_round(64, "switchyard", "litellm", lambda a, b: a["rps"] / b["rps"])
    add_p50 = per_round(1, "switchyard", "direct", lambda a, b: a["p50_us"] - b["p50_us"])
    add_p99 = per_round(1, "switchyard", "direct", lambda a, b: a["p99_us"] - b["p99_us"])
    flat_ok = None
    if soak:
        growth = soak["growth_after_settle_kb"]
        flat_ok = growth <= max(2048, 0.05 * soak["rss_settled_kb"])
    targets = [
        check("added latency p50, c=1", add_p50, "µs", "≤ 100 µs", lambda v: v <= 100),
        check("added latency p99, c=1", add_p99, "µs", "≤ 1000 µs", lambda v: v <= 1000),
        check("Switchyard RPS / direct RPS, c=64", None if sy_dir is None else round(sy_dir, 1), "%", "≥ 40 %",
              lambda v: v >= 40),
        check("Switchyard RPS / LiteLLM RPS, c=64", None if sy_ll is None else round(sy_ll, 1), "×", "≥ 100 ×",
              lambda v: v >= 100),
        check("streaming TTFB overhead p99, c=1", ttfb_per_round("switchyard", "p99_us"), "µs", "≤ 1000 µs",
              lambda v: v <= 1000),
        check("Switchyard peak RSS (VmHWM)", None if sy_hwm is None else round(sy_hwm / 1024, 1), "MiB", "≤ 50 MiB",
              lambda v: v <= 50),
    ]
    if soak:
        targets.append(check(
            f"RSS growth over soak after settling ({soak['requests'] or 0:,} req)",
            round(soak["growth_after_settle_kb"] / 1024, 2), "MiB", "flat (≤ max(2 MiB, 5 %))",
            lambda v: flat_ok))

    # ----- print
    L = []
    pin = meta.get("pin")
    pin_txt = (f"servers pinned to CPU {meta.get('server_cpus')}, load generator to CPU {meta.get('client_cpus')}"
               if pin == "split" else "no CPU pinning")
    L.append(f"Switchyard gateway benchmark ({meta.get('mode')} mode) {meta.get('date')}")
    L.append(f"machine: {meta.get('nproc')} CPUs ({meta.get('cpu_model')}), kernel {meta.get('kernel')}, "
             f"load avg at start {meta.get('loadavg_start')}, CPU steal during the run {meta.get('steal_pct')} %")
    if int(meta.get("busy_pct_start") or 0) > 10:
        L.append(f"WARNING: other processes kept the CPUs {meta.get('busy_pct_start')} % busy just before the "
                 f"load started; these figures are skewed")
    L.append(f"method: wrk {meta.get('wrk')} ({meta.get('wrk_threads')} thread(s) at c>1), keep-alive POST, "
             f"{meta.get('duration_s')} s per point after {meta.get('warmup_s')} s warm-up, "
             f"median of {meta.get('repeat')} round(s); {pin_txt}")
    L.append(f"upstream: nginx {meta.get('nginx')} (1 worker, canned reply); switchyard {meta.get('switchyard')} "
             f"RUST_LOG=warn; LiteLLM {meta.get('litellm_version')} proxy, {meta.get('litellm_workers')} worker, "
             f"logging minimized: {meta.get('litellm_status')}")
    if meta.get("litellm_status") != "ok":
        L.append(f"  LiteLLM not measured: {meta.get('litellm_reason')}")
    L.append("")
    L.append("Non-streaming POST /v1/chat/completions (latency in µs; 'added' = gateway minus direct; CPU µs/req = CPU")
    L.append("time of that server's own process(es) per request: nginx for direct, the gateway alone otherwise)")
    hdr = (f"{'c':>3}  {'target':<11}{'RPS':>10}{'p50':>11}{'p99':>11}{'p99.9':>11}{'added p50':>12}{'added p99':>12}"
           f"{'errors':>8}{'CPU µs/req':>12}  RPS of each round")
    L.append(hdr)
    L.append("-" * len(hdr))
    for c in concs:
        for t in TARGETS:
            r = load[c].get(t)
            if r is None:
                if t == "litellm":
                    L.append(f"{c:>3}  {t:<11}{'not measured':>12}")
                continue
            if "error" in r:
                L.append(f"{c:>3}  {t:<11}{'wrk failed':>12}")
                continue
            add50 = added(c, t, "p50_us") if t != "direct" else None
            add99 = added(c, t, "p99_us") if t != "direct" else None
            L.append(f"{c:>3}  {t:<11}{fmt(r['rps']):>10}{fmt(r['p50_us']):>11}{fmt(r['p99_us']):>11}"
                     f"{fmt(r['p999_us']):>11}{fmt(add50, '{:+,.0f}'):>12}{fmt(add99, '{:+,.0f}'):>12}{r['errors']:>8}"
                     f"{fmt(r.get('server_cpu_us_per_req'), '{:,.1f}'):>12}  "
                     + " ".join(fmt(x) for x in r.get("rounds_rps", [])))
    L.append("")
    n = ttfb.get("direct", {}) or {}
    L.append(f"Streaming, c=1, {n.get('n', meta.get('ttfb_n'))} requests per target and round on one keep-alive "
             f"connection: time to the first SSE event (µs), median round")
    hdr = f"     {'target':<11}{'p50':>9}{'p99':>9}{'max':>9}{'overhead p50':>14}{'overhead p99':>14}{'headers p50':>13}{'full p50':>10}"
    # headers p50: until the response headers; full p50: until the end of the stream
    L.append(hdr)
    L.append("     " + "-" * (len(hdr) - 5))
    for t in TARGETS:
        r = ttfb.get(t)
        if not r:
            if t == "litellm" or meta.get("litellm_status") == "ok":
                L.append(f"     {t:<11}{'not measured':>12}")
            continue
        o50 = ttfb_added(t, "p50_us") if t != "direct" else None
        o99 = ttfb_added(t, "p99_us") if t != "direct" else None
        L.append(f"     {t:<11}{fmt(r['first']['p50_us']):>9}{fmt(r['first']['p99_us']):>9}{fmt(r['first']['max_us']):>9}"
                 f"{fmt(o50, '{:+,.0f}'):>14}{fmt(o99, '{:+,.0f}'):>14}{fmt(r['headers']['p50_us']):>13}"
                 f"{fmt(r['total']['p50_us']):>10}")
    L.append("")
    L.append("Memory")
    L.append(f"  switchyard VmHWM after the timed runs {fmt(int(meta.get('switchyard_vmhwm_kb') or 0) / 1024, '{:.1f}')} MiB"
             + (f", after the soak {fmt(sy_hwm / 1024, '{:.1f}')} MiB" if soak and sy_hwm else "")
             + f" ({meta.get('switchyard_threads')} threads)")
    if ll_hwm:
        L.append(f"  litellm    VmHWM after the timed runs {ll_hwm / 1024:.1f} MiB "
                 f"({meta.get('litellm_processes')} process(es))")
    if soak:
        L.append(f"  soak: {fmt(soak['requests'])} requests through switchyard at c=64 in "
                 f"{fmt(soak['duration_s'], '{:.1f}')} s ({fmt(soak['rps'])} RPS, {soak['errors']} errors); VmRSS "
                 f"start {soak['rss_start_kb'] / 1024:.1f}, settled {soak['rss_settled_kb'] / 1024:.1f}, "
                 f"end {soak['rss_end_kb'] / 1024:.1f}, max {soak['rss_max_kb'] / 1024:.1f} MiB "
                 f"({len(soak['samples'])} samples)")
    L.append("")
    L.append("Targets (added latency and ratios: median over rounds of the value within each round)")
    hdr = f"  {'metric':<52}{'measured':>14}  {'target':<26}result"
    L.append(hdr)
    L.append("  " + "-" * (len(hdr) - 2))
    for tg in targets:
        v = tg["value"]
        vs = "-" if v is None else (f"{v:+,.0f} {tg['unit']}" if tg["unit"] == "µs" else f"{v:,} {tg['unit']}")
        res = "n/a" if tg["pass"] is None else ("PASS" if tg["pass"] else "FAIL")
        L.append(f"  {tg['metric']:<52}{vs:>14}  {tg['target']:<26}{res}")
    print("\n".join(L))

    doc = {
        "meta": meta,
        "load": {f"c{c}": {t: r for t, r in load[c].items() if r is not None} for c in concs},
        "added_latency_us": {
            f"c{c}": {t: {"p50": added(c, t, "p50_us"), "p99": added(c, t, "p99_us")}
                      for t in ("switchyard", "litellm") if get(c, t, "rps") is not None}
            for c in concs
        },
        "ttfb_stream_c1": {t: r for t, r in ttfb.items() if r},
        "ttfb_stream_c1_rounds": {t: [rs[k] for k in sorted(rs)] for t, rs in ttfb_runs.items()},
        "ttfb_overhead_us_median_of_rounds": {
            t: {"p50": ttfb_per_round(t, "p50_us"), "p99": ttfb_per_round(t, "p99_us")}
            for t in ("switchyard", "litellm") if t in ttfb_runs
        },
        "memory": {
            "switchyard_vmhwm_kb": int(meta.get("switchyard_vmhwm_kb") or 0) or None,
            "switchyard_vmhwm_after_soak_kb": int(meta.get("switchyard_vmhwm_after_soak_kb") or 0) or None,
            "litellm_vmhwm_kb": ll_hwm,
        },
        "soak": soak,
        "targets": targets,
        "target_method": "ratios and added latency: median over rounds of the per-round values "
                         "(each round measures direct and the gateways back to back)",
        "table": L,
    }
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(out_path, "w") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(f"\nJSON: {os.path.relpath(out_path)}")


if __name__ == "__main__":
    main()
