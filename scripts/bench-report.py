#!/usr/bin/env python3
"""Writes the results of scripts/bench into BENCHMARKS.md.

Usage: bench-report.py RESULTS.tsv COMMAND DURATION BENCHMARKS.md

Only the part between the two markers is replaced, so the analysis written
around it stays.
"""

import datetime
import os
import platform
import re
import sys

START = "<!-- results: written by scripts/bench -->"
END = "<!-- end of results -->"


def read_results(path):
    """Returns {(backend, scenario): row} in file order."""
    rows = {}
    with open(path, encoding="utf-8") as results:
        for line in results:
            backend, scenario, rps, p50, p99, errors, peak, note = line.rstrip("\n").split("\t")
            rows[(backend, scenario)] = {
                "rps": rps, "p50": p50, "p99": p99, "errors": errors, "peak": peak, "note": note,
            }
    return rows


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = ""
    try:
        with open("/proc/meminfo", encoding="utf-8") as info:
            kib = int(info.readline().split()[1])
            memory = f", {kib / 1024 / 1024:.0f} GiB memory"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({cpu}){memory}, {platform.system()} {platform.release()}"


def number(value):
    try:
        return float(value)
    except ValueError:
        return None


def targets(rows, backend):
    """Checks the targets against one backend's rows; returns table lines."""
    def get(scenario, field):
        row = rows.get((backend, scenario))
        return number(row[field]) if row else None

    healthz = get("healthz", "rps")
    big = next((s for (b, s) in rows if b == backend and s.startswith("tokeninfo (") and "1 token" not in s), None)
    argon2 = None
    signin_row = rows.get((backend, "signin"))
    if signin_row:
        match = re.search(r"([\d.]+) per second", signin_row["note"])
        argon2 = float(match.group(1)) if match else None
    peaks = [number(row["peak"]) for (b, _), row in rows.items() if b == backend and number(row["peak"])]

    checks = [
        (f"`{big}` rps at least half of `healthz`",
         get(big, "rps") if big else None, healthz / 2 if healthz else None, ">="),
        (f"`{big}` p99 at most 5 ms", get(big, "p99") if big else None, 5, "<="),
        ("`code` at least 3,000 per second", get("code", "rps"), 3000, ">="),
        ("`refresh` at least 3,000 per second", get("refresh", "rps"), 3000, ">="),
        ("`signin` at least 90% of raw Argon2id", get("signin", "rps"), argon2 * 0.9 if argon2 else None, ">="),
        ("`mixed` tokeninfo p99 at most 10 ms", get("mixed: tokeninfo during sign-ins", "p99"), 10, "<="),
        ("idle memory at most 20 MB", get("startup", "peak"), 20, "<="),
        ("peak memory at most 100 MB", max(peaks) if peaks else None, 100, "<="),
        ("`startup` at most 100 ms", startup_ms(rows, backend), 100, "<="),
    ]
    lines = []
    for label, value, limit, sense in checks:
        if value is None or limit is None:
            verdict = "not measured"
        elif (value >= limit) if sense == ">=" else (value <= limit):
            verdict = "met"
        else:
            verdict = "**missed**"
        shown = "–" if value is None else f"{value:g}"
        bound = "–" if limit is None else f"{limit:g}"
        lines.append(f"| {label} | {shown} | {sense} {bound} | {verdict} |")
    return lines


def startup_ms(rows, backend):
    row = rows.get((backend, "startup"))
    match = re.match(r"(\d+) ms", row["note"]) if row else None
    return float(match.group(1)) if match else None


def render(rows, command, duration):
    backends = list(dict.fromkeys(b for b, _ in rows))
    scenarios = list(dict.fromkeys(s for _, s in rows))
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        START,
        "",
        f"Measured {now} on {machine()}, load generator on the same machine,",
        f"with `{command.strip()}` ({duration} s per scenario).",
        "",
    ]
    header = "| scenario |"
    rule = "| --- |"
    for backend in backends:
        header += f" {backend} req/s | p50 ms | p99 ms | peak MB |"
        rule += " ---: | ---: | ---: | ---: |"
    out += [header + " notes |", rule + " --- |"]
    for scenario in scenarios:
        line = f"| {scenario} |"
        notes = []
        for backend in backends:
            row = rows.get((backend, scenario))
            if row is None:
                line += " | | | |"
                continue
            line += f" {row['rps']} | {row['p50']} | {row['p99']} | {row['peak']} |"
            if row["errors"] not in ("0", "-", ""):
                notes.append(f"{backend}: {row['errors']} failed requests")
            if row["note"]:
                notes.append(f"{backend}: {row['note']}")
        out.append(line + " " + "; ".join(notes) + " |")
    for backend in backends:
        out += ["", f"Targets on {backend}:", "", "| target | measured | goal | verdict |",
                "| --- | ---: | ---: | --- |"]
        out += targets(rows, backend)
    out += ["", END]
    return "\n".join(out)


def main():
    results, command, duration, target = sys.argv[1:5]
    block = render(read_results(results), command, duration)
    text = open(target, encoding="utf-8").read() if os.path.exists(target) else f"# Benchmarks\n\n{START}\n{END}\n"
    if START in text and END in text:
        before = text.split(START, 1)[0]
        after = text.split(END, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    with open(target, "w", encoding="utf-8") as out:
        out.write(text)


if __name__ == "__main__":
    main()
