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


def module_of(path):
    """`src/tasks/service.rs` -> ("tasks", "service"); mod.rs names its folder."""
    rel = os.path.relpath(path, ROOT)[:-3].split(os.sep)
    if rel[-1] == "mod":
        rel = rel[:-1]
    if rel == ["lib"] or rel == ["main"]:
        return ()
    return tuple(rel)


def expand_use(tree):
    """Expands a use tree `a::{b, c::{d, e}}` into its paths."""
    tree = tree.strip()
    depth, i = 0, 0
    for i, ch in enumerate(tree):
        if ch == "{":
            break
    else:
        return [tree]
    prefix, inner = tree[:i], tree[i + 1 : tree.rindex("}")]
    parts, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    parts.append(cur)
    out = []
    for part in parts:
        if part.strip():
            out += [prefix + p for p in expand_use(part)]
    return out


USE_STMT_RE = re.compile(r"\buse\s+((?:crate|super|self)::[^;]*);", re.S)
PATH_RE = re.compile(r"\b((?:crate|super)(?:::\w+)+)")


def module_edges(modules, path, code):
    """The modules `path` refers to, resolved to the longest existing module."""
    me = module_of(path)
    targets = set()
    paths = []
    for m in USE_STMT_RE.finditer(code):
        paths += expand_use(re.sub(r"\s+", "", m.group(1)))
    paths += [m.group(1) for m in PATH_RE.finditer(USE_STMT_RE.sub("", code))]
    for p in paths:
        segs = [x for x in p.split(" as ")[0].split("::") if x]
        base = list(me)
        if os.path.basename(path) != "mod.rs" and base:
            parent = base[:-1]
        else:
            parent = base[:-1] if base else []
        if segs[0] == "crate":
            cur, rest = [], segs[1:]
        elif segs[0] == "super":
            cur = list(me[:-1]) if os.path.basename(path) == "mod.rs" else list(me[:-1])
            rest = segs[1:]
            while rest and rest[0] == "super":
                cur, rest = cur[:-1], rest[1:]
        else:  # self::
            cur, rest = list(me), segs[1:]
        best = tuple(cur)
        for seg in rest:
            cur = cur + [seg]
            if tuple(cur) in modules:
                best = tuple(cur)
            else:
                break
        if best != me and best in modules and best != ():
            targets.add(best)
    return targets


def cycles_of(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            visit(v)
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
    files = sorted(rust_files())
    modules = {module_of(p) for p in files}
    # A module is also every folder prefix of one (src/tasks/ is `tasks`).
    modules |= {m[:i] for m in list(modules) for i in range(1, len(m))}
    file_graph = {}
    for path in files:
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
        file_graph[module_of(path)] = module_edges(modules, path, code)
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
    print(f"top-level modules in two-module cycles: {len(cycles)}")
    for a, b in cycles:
        print(f"  {a} <-> {b}")
    # Edges to a folder module (`tasks`) mean its mod.rs.
    module_cycles = cycles_of(file_graph)
    print(f"module import cycles (file level): {len(module_cycles)}")
    for comp in module_cycles:
        print("  " + " -> ".join("::".join(m) for m in comp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
