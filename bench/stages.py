#!/usr/bin/env python3
"""Goal 7 by stage: one `duban serve` on a `duban bench-data` data set, put
through bench/run's loads one after another (a clerk's task read, their
filtered list and progress reports, 16 connections, 5 s each; then the
office's first read of last month's ranking, and the kept ranking to 64
gzip-accepting clients), printing requests per second and the server's
RSS and peak RSS (MiB) after each. For A/B runs of two builds on the same
data, by hand:

    bench/stages.py DUBAN DATABASE_URL PASSWORD PERIOD [NAME=VALUE ...]

e.g. `bench/stages.py /tmp/duban-A sqlite:///work/data/m1.db benchpass123
2026-11`; NAME=VALUE pairs go into the server's environment. Needs wrk.
The server, the requests and the loads are bench/run's own (loaded as a
module), so these stages measure what its figures measure.
"""
import importlib.machinery
import importlib.util
import json
import os
import sys
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
# bench/run is a script without `.py`: loaded by path.
loader = importlib.machinery.SourceFileLoader("bench_run", os.path.join(HERE, "run"))
spec = importlib.util.spec_from_loader("bench_run", loader)
bench = importlib.util.module_from_spec(spec)
loader.exec_module(bench)

duban, url, password, period = sys.argv[1:5]
bench.PASSWORD = password
extra = dict(a.split("=", 1) for a in sys.argv[5:])
server, d = bench.serve_duban(duban, types.SimpleNamespace(url=url), **extra)


def memory():
    return f"RSS {bench.rss_mib(server.pid):.0f} MiB, peak {bench.peak_rss_mib(server.pid):.0f} MiB"


def load(path, token, connections=16, post=None, gzip=False):
    headers = ["Accept-Encoding: gzip"] if gzip else []
    rps, _ = bench.wrk_once(d + path, 5, connections, token, post=post, headers=headers)
    return f"{rps:,.0f}"


try:
    print("started:", memory())
    clerk, task = bench.clerk_task(d)
    first = task["id"]
    _, raw = bench.http(d + "/api/v1/tasks?status=in_progress&sort=-due_date&per_page=1", token=clerk)
    last = json.loads(raw)["items"][0]["id"]
    print(f"task read: {load(f'/api/v1/tasks/{first}', clerk)} req/s;", memory())
    print(f"list: {load('/api/v1/tasks?status=in_progress&sort=due_date&per_page=20', clerk)} req/s;", memory())
    report = {"percent": 50, "body": "基准测试进展"}
    print(f"report: {load(f'/api/v1/tasks/{last}/reports', clerk, post=report)} req/s;", memory())
    _, raw = bench.http(d + "/api/v1/auth/login", {"username": "bench-office", "password": password})
    office = json.loads(raw)["access_token"]
    started = time.monotonic()
    bench.http(d + f"/api/v1/rankings?period={period}", token=office, timeout=600)
    print(f"ranking computed: {time.monotonic() - started:.2f} s;", memory())
    ranking = f"/api/v1/rankings?period={period}"
    print(f"kept ranking, 64 clients: {load(ranking, office, 64, gzip=True)} req/s;", memory())
finally:
    bench.stop(server)
