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
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

duban, url, password, period = sys.argv[1:5]
port = 18099
d = f"http://127.0.0.1:{port}"
env = dict(os.environ, DUBAN_DATABASE_URL=url, DUBAN_LISTEN=f"127.0.0.1:{port}",
           DUBAN_DATA_DIR=tempfile.mkdtemp(prefix="duban-stages-"))
env.pop("RUST_LOG", None)
env.update(dict(a.split("=", 1) for a in sys.argv[5:]))
server = subprocess.Popen([duban, "serve", "--no-scheduler"], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def http(path, body=None, token=None):
    req = urllib.request.Request(d + path, data=json.dumps(body).encode() if body else None)
    if body:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=600) as res:
        return res.read()


def login(username):
    return json.loads(http("/api/v1/auth/login", {"username": username, "password": password}))["access_token"]


def memory():
    found = {}
    with open(f"/proc/{server.pid}/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                found[line[:5]] = int(line.split()[1]) // 1024
    return f"RSS {found['VmRSS']} MiB, peak {found['VmHWM']} MiB"


def wrk(path, token, connections=16, post=None, gzip=False):
    cmd = ["wrk", "-t", "2", "-c", str(connections), "-d", "5s", "-H", "Authorization: Bearer " + token]
    if gzip:
        cmd += ["-H", "Accept-Encoding: gzip"]
    if post:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        script.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                     "wrk.body = [[" + json.dumps(post) + "]]\n")
        script.close()
        cmd += ["-s", script.name]
    out = subprocess.run(cmd + [d + path], check=True, stdout=subprocess.PIPE, text=True).stdout
    return next(line.split()[-1] for line in out.splitlines() if "Requests/sec" in line)


try:
    for _ in range(300):
        try:
            http("/readyz")
            break
        except OSError:
            time.sleep(0.1)
    print("started:", memory())
    clerk = login("clerk-b00001")
    first = json.loads(http("/api/v1/tasks?status=in_progress&sort=due_date&per_page=1", token=clerk))["items"][0]["id"]
    last = json.loads(http("/api/v1/tasks?status=in_progress&sort=-due_date&per_page=1", token=clerk))["items"][0]["id"]
    print(f"task read: {wrk(f'/api/v1/tasks/{first}', clerk)} req/s;", memory())
    print(f"list: {wrk('/api/v1/tasks?status=in_progress&sort=due_date&per_page=20', clerk)} req/s;", memory())
    print(f"report: {wrk(f'/api/v1/tasks/{last}/reports', clerk, post={'percent': 50, 'body': '基准测试进展'})} req/s;",
          memory())
    office = login("bench-office")
    started = time.monotonic()
    http(f"/api/v1/rankings?period={period}", token=office)
    print(f"ranking computed: {time.monotonic() - started:.2f} s;", memory())
    print(f"kept ranking, 64 clients: {wrk(f'/api/v1/rankings?period={period}', office, 64, gzip=True)} req/s;",
          memory())
finally:
    server.terminate()
    server.wait()
