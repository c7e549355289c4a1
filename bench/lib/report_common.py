"""What report.py and its issue sections (report_scrub.py, report_post.py) compute alike:
percentiles, one figure over another, and delays pooled over a scenario's runs."""


def pct(sorted_values, p):
    """Nearest-rank percentile of a sorted list."""
    return sorted_values[max(0, -(-len(sorted_values) * p // 100) - 1)]


def ratio_row(a, b, group, scenario, conns):
    """a's req/s over b's, and in cpu_ratio the capacity ratio (how many requests one CPU
    second buys, a over b); n/a unless both measured ok."""
    row = dict(kind="ratio", group=group, scenario=scenario, conns=conns)
    if a and b and a["status"] == "ok" and b["status"] == "ok" and b.get("rps_median"):
        row.update(ratio=round(a["rps_median"] / b["rps_median"], 3), status="ok")
        if a.get("cpu_us_per_req") and b.get("cpu_us_per_req"):
            row["cpu_ratio"] = round(b["cpu_us_per_req"] / a["cpu_us_per_req"], 3)
    else:
        row["status"] = "n/a"
    return row


def pooled_delays(row, runs, reason, unit, count_key):
    """Marks row FAILING when the runs could not be measured (reason, none, or an error in
    one: "N of M <unit>"), else puts count_key, p50_ms, p99_ms and max_ms of the delays
    pooled over the runs in it (ms, from µs); status ok unless failed."""
    errors = [r["error"] for r in runs if r.get("error")]
    if reason:
        row["status"] = f"FAILING: {reason}"
    elif not runs:
        row["status"] = "FAILING: not measured"
    elif errors:
        row["status"] = f"FAILING: {errors[0]} ({len(errors)} of {len(runs)} {unit})"
    delays = sorted(d for r in runs for d in r.get("delays_us", []))
    if delays:
        row.update({count_key: len(delays)}, p50_ms=round(pct(delays, 50) / 1000, 3),
                   p99_ms=round(pct(delays, 99) / 1000, 3), max_ms=round(delays[-1] / 1000, 3))
    row.setdefault("status", "ok")
    return row
