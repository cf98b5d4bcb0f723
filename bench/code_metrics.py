#!/usr/bin/env python3
"""Figures about the shape of duban's code, for reviews of the typed core:
lines per module, the longest functions, string comparisons of closed sets,
raw i64 id fields, and import cycles between the top-level modules of src/.

    python3 bench/code_metrics.py [--top N]

Rough by design (regular expressions, brace counting), but the same rough
measure before and after a change; `tests/api/architecture.rs` enforces the
module graph itself.
"""
import argparse
import os
import re
import sys
from collections import defaultdict

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")

# Names of closed sets stored as text: statuses, roles, kinds, levels, steps.
CLOSED = [
    "draft", "assigned", "in_progress", "submitted", "completed", "cancelled",
    "pending", "approved", "rejected", "sending", "sent", "dead",
    "proposed", "confirmed", "dismissed", "verified", "returned", "published",
    "admin", "office", "leader", "unit", "viewer",
    "township", "park", "department", "other",
    "high", "normal", "low", "key_task", "indicator", "rectification",
    "email", "webhook", "per_task", "digest", "fs", "db", "smtp", "file",
    "reminder", "chase", "supervision_order", "public_criticism",
    "admonitory_talk", "accountability", "ladder", "bulletin",
    "monthly", "quarterly", "yearly", "binding", "reference", "holiday", "workday",
    "met", "not_met", "wecom", "dingtalk", "generic", "active", "closed",
]
CLOSED_RE = re.compile(
    r'(==|!=)\s*"(%s)"|"(%s)"\s*(==|!=)|\.(eq|ne)\("(%s)"\)|\.eq_any\(\[?"(%s)"'
    % tuple("|".join(CLOSED) for _ in range(4))
)
RAW_ID_RE = re.compile(r"^\s*(pub\s+)?(\w+_id|id)\s*:\s*(Option<)?i64\b")
USE_RE = re.compile(r"crate::(\w+)")
FN_RE = re.compile(r"^\s*(pub(\([^)]*\))?\s+)?(async\s+)?fn\s+(\w+)")


def rust_files():
    for dirpath, _, files in os.walk(ROOT):
        for f in files:
            if f.endswith(".rs"):
                yield os.path.join(dirpath, f)


def top_module(path):
    rel = os.path.relpath(path, ROOT)
    first = rel.split(os.sep)[0]
    return first[:-3] if first.endswith(".rs") else first


def strip_tests(text):
    """Drops `#[cfg(test)] mod tests { … }` blocks: figures are about the code."""
    i = text.find("#[cfg(test)]")
    return text if i < 0 else text[:i]


def functions(lines):
    out = []
    i = 0
    while i < len(lines):
        m = FN_RE.match(lines[i])
        if m and "{" in "".join(lines[i:i + 12]):
            depth, started, j = 0, False, i
            while j < len(lines):
                depth += lines[j].count("{") - lines[j].count("}")
                started = started or "{" in lines[j]
                if started and depth <= 0:
                    break
                j += 1
            out.append((j - i + 1, m.group(4), i + 1))
            i = j + 1
        else:
            i += 1
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--top", type=int, default=10)
    args = ap.parse_args()
    lines_per = defaultdict(int)
    longest = []
    closed = 0
    raw_ids = 0
    graph = defaultdict(set)
    for path in sorted(rust_files()):
        text = strip_tests(open(path, encoding="utf-8").read())
        lines = text.splitlines()
        rel = os.path.relpath(path, ROOT)
        lines_per[rel] = len(lines)
        for n, name, at in functions(lines):
            longest.append((n, f"{rel}:{at} {name}"))
        closed += len(CLOSED_RE.findall(text))
        raw_ids += sum(1 for l in lines if RAW_ID_RE.match(l))
        me = top_module(path)
        code = "\n".join(l.split("//")[0] for l in lines)
        for m in USE_RE.finditer(code):
            if m.group(1) != me:
                graph[me].add(m.group(1))
    print(f"files: {len(lines_per)}, lines (without tests): {sum(lines_per.values())}")
    print(f"largest files:")
    for rel, n in sorted(lines_per.items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"  {n:5} {rel}")
    print(f"longest functions:")
    for n, where in sorted(longest, reverse=True)[: args.top]:
        print(f"  {n:5} {where}")
    print(f"string comparisons of closed sets: {closed}")
    print(f"raw i64 id fields: {raw_ids}")
    cycles = sorted(
        tuple(sorted((a, b)))
        for a in graph for b in graph[a] if a in graph.get(b, ()) and a < b
    )
    print(f"two-module import cycles: {len(cycles)}")
    for a, b in cycles:
        print(f"  {a} <-> {b}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
