#!/usr/bin/env python3
"""Compare hopcheck's round trips per handler with the hand-counted labels in labels/.

Usage: measure.py HOPCHECK CORPORA [SERVICE ...]

CORPORA holds one checkout per service, named after its label file (labels/lemmy.md -> CORPORA/lemmy), at the
commit the label names. Every label file ends with a summary table `| route | handler | file:line | N |` (N may be
followed by words); each row
is matched with the route hopcheck reports for the handler at that file and line. All runs use the labels'
convention: a cache-aside lookup counts its miss. `--build` also tells hopcheck which `#[cfg]` build is deployed
where a label names one (vaultwarden on PostgreSQL).

Prints one line per handler that is not exact, then a table per service: exact, over / under, within 1.5x, and
the largest ratio.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
LABELS = os.path.join(HERE, "labels")
BUILD = {
    "vaultwarden": '[build]\ncfg = ["postgresql"]\nfeatures = ["postgresql"]\n',
    # The label counts Mozilla's deploy: storage on Spanner, the tokenserver on MySQL.
    "syncstorage": '[implementations]\n"Db" = "SpannerDb"\n',
    # The open-source build the label counts: `oss_core` (parquet, mcp, triggers, ...), no private,
    # enterprise or cloud code.
    "windmill": '[build]\nfeatures = ["oss_core"]\n',
    # The label counts a deployment on MySQL, the networked one of its two implementations.
    "torrust-index": '[implementations]\n"Database" = "Mysql"\n',
    # The open-source build the label counts: none of the `enterprise` and `cloud` features.
    "openobserve": '[build]\nfeatures = []\n',
    # The label counts the sea-orm build (`--features sql-adaptor`), whose adaptor is `SqlAdaptor`.
    "crabfit": '[build]\nfeatures = ["sql-adaptor"]\n',
    # The label counts the deploy without authorization (`AUTH_Z_PROVIDER=DISABLED`): the `NoAuth` authorizer.
    "superposition": '[implementations]\n"Authorizer" = "NoAuth"\n',
    # The label counts the default build's storage, Bigtable (`production` = bigtable + reliable_report).
    "autopush": '[implementations]\n"DbClient" = "BigTableClientImpl"\n',
}


def labels(service):
    rows = []
    for line in open(os.path.join(LABELS, service + ".md"), encoding="utf-8"):
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        count = re.match(r"(\d+)\b", cells[3]) if len(cells) == 4 else None
        if not count:
            continue
        m = re.search(r"([\w./-]+\.rs):(\d+)", cells[2])
        if m:
            rows.append((cells[0], cells[1], m.group(1), int(m.group(2)), int(count.group(1))))
    return rows


def run(binary, corpus, service, build):
    cfg = '[assume]\ncache = "miss"\n' + (BUILD.get(service, "") if build else "")
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
        f.write(cfg)
    out = subprocess.run(
        [binary, "check", corpus, "--format", "json", "-q", "--check-unrouted", "--config", f.name],
        capture_output=True, text=True)
    os.unlink(f.name)
    return json.loads(out.stdout)["routes"]


def price(routes, route, handler, file, line):
    """The price of the handler the label names: by file and name, else the route nearest its line, else
    (a service that routes by hand, whose routes are the arms of a `match`) the route of that path."""
    name = handler.split("::")[-1].split(" ")[0]
    in_file = [r for r in routes if r["file"].endswith(file)]
    named = [r for r in in_file if r["handler"] == name]
    if named:
        nearest = min(abs(r["line"] - line) for r in named)
        near = [r for r in named if abs(r["line"] - line) == nearest]
    else:
        # The route at that very line (handlers that are closures, a dozen lines apart), else the nearest.
        near = [r for r in in_file if r["line"] == line] or [
            r for r in in_file if abs(r["line"] - line) <= 12
        ]
    if not near:
        path = route.split(" ")[1] if " " in route else None
        near = [r for r in routes if path and r["path"] == path]
    if not near:
        return None
    method = route.split(" ")[0]
    same = [r for r in near if r["method"] == method] or near
    return max(r["round_trips"] for r in same)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    build = "--build" in sys.argv
    binary, corpora, services = args[0], args[1], args[2:]
    if not services:
        services = sorted(f[:-3] for f in os.listdir(LABELS) if f.endswith(".md") and f != "README.md")
    total = [0, 0, 0, 0, 0]
    table = []
    for service in services:
        if not os.path.isdir(os.path.join(corpora, service)):
            print(f"{service}: no checkout in {corpora}, left out")
            continue
        routes = run(binary, os.path.join(corpora, service), service, build)
        exact = over = under = within = 0
        worst = 1.0
        rows = labels(service)
        for route, handler, file, line, truth in rows:
            got = price(routes, route, handler, file, line)
            if got is None:
                print(f"{service}: {route} ({file}:{line}) not found, label {truth}")
                under += 1
                worst = max(worst, float("inf"))
                continue
            ratio = max(got, truth, 1) / max(min(got, truth), 1) if got != truth else 1.0
            if got == truth:
                exact += 1
            else:
                over += got > truth
                under += got < truth
                print(f"{service}: {route} ({file}:{line}) label {truth}, hopcheck {got}")
            within += ratio <= 1.5
            worst = max(worst, ratio)
        table.append((service, len(rows), exact, over, under, within, worst))
        for i, v in enumerate((len(rows), exact, over, under, within)):
            total[i] += v
    print("\n| service | handlers | exact | over / under | within 1.5x | largest ratio |")
    print("|---|---:|---:|---|---:|---:|")
    for s, n, e, o, u, w, r in table:
        print(f"| {s} | {n} | {e} | {o}/{u} | {w} | {r:.2f} |")
    n, e, o, u, w = total
    print(f"| **total** | {n} | {e} ({100 * e / max(n, 1):.0f}%) | {o}/{u} | {w} | |")


if __name__ == "__main__":
    main()
