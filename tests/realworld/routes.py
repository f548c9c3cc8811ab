#!/usr/bin/env python3
"""Compare the routes hopcheck finds with those the router code declares, counted by hand in routes/.

Usage: routes.py HOPCHECK CORPORA [SERVICE ...]

Each file routes/NAME.md names the folder under CORPORA it was counted on (`- folder: ...`) and lists the routes
mounted, one table row each with the method and the path as served (`| GET | /users/<id> | ... |`). Sections whose
heading says external, not counted, not mounted, library, static or fallback are not counted. Paths are compared
with their parameters written alike (`<id>`, `{id}`, `:id` and `*rest` all become `{}`) and without a trailing
slash or a query string; one (method, path) served by two binaries of a workspace counts once.

Prints, per service: routes declared, found, matched, the ones missed and the ones found that were not declared,
and hopcheck's coverage (handlers found, routed, checked).
"""
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROUTES = os.path.join(HERE, "routes")
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY", "GRPC"}
SKIPPED = ("external", "not counted", "not mounted", "library", "static", "fallback")


def declared(name):
    folder, rows, skip = None, set(), False
    for line in open(os.path.join(ROUTES, name + ".md"), encoding="utf-8"):
        m = re.match(r"- folder: (\S+)", line)
        if m:
            folder = m.group(1)
        if line.startswith("#"):
            skip = any(k in line.lower() for k in SKIPPED)
            continue
        if skip or not line.startswith("|"):
            continue
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        for i, c in enumerate(cells[:-1]):
            if c in METHODS and cells[i + 1].startswith("/"):
                rows.add((c, cells[i + 1].split(" ")[0].strip("`")))
                break
    return folder or name, rows


def norm(path):
    path = re.sub(r"\?.*", "", path)
    path = re.sub(r"\{[^}]*\}|:[A-Za-z_]+|<[^>]*>|\*[A-Za-z_]*", "{}", path)
    return path.rstrip("/") or "/"


def main():
    binary, corpora, *wanted = sys.argv[1:]
    names = wanted or sorted(f[:-3] for f in os.listdir(ROUTES) if f.endswith(".md"))
    print("| service | declared | found | matched | handlers found / routed | routes checked |")
    print("|---|---:|---:|---:|---|---:|")
    for name in names:
        folder, rows = declared(name)
        out = subprocess.run(
            [binary, "check", os.path.join(corpora, folder), "--format", "json", "-q", "--check-unrouted"],
            capture_output=True, text=True)
        report = json.loads(out.stdout)
        found = {(r["method"], norm(r["path"])) for r in report["routes"] if r["method"] and r["path"]}
        want = {(m, norm(p)) for m, p in rows}
        c = report["coverage"]
        checked = sum(1 for r in report["routes"] if r["checked"])
        print(f"| {name} | {len(want)} | {len(found)} | {len(want & found)} | "
              f"{c['handlers']} / {c['routed']} | {checked} |")
        for m, p in sorted(want - found):
            print(f"  missed: {m} {p}", file=sys.stderr)
        for m, p in sorted(found - want):
            print(f"  not declared: {m} {p}", file=sys.stderr)


if __name__ == "__main__":
    main()
