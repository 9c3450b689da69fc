#!/usr/bin/env python3
"""bench/api.py — upload -> scored over HTTP: LeadScore beside the Python peer.

    python3 bench/api.py BUILD_DIR [--file CSV] [--runs 3] [--rows-1m] [--no-peer] [--wrk]

For each of --runs cold runs: start `leadscore serve` on a free loopback port
with an empty data directory, then time, on the client, POST /api/datasets
(the file) + POST /api/runs (train, score, explain every lead, drift, store)
until the scored answer arrives. Then the same two calls again (the cache
answers) and GET /api/runs/{id}/leads. The server's peak RSS (VmHWM) is read
from /proc after the flow. The peer (bench/api_sklearn.py: pandas +
scikit-learn, 100 trees) runs the same upload -> scored flow cold, and the
ratio is printed. --rows-1m also times a generated 1,000,000-lead file.
--wrk runs wrk against POST /api/score with one lead (bench/score.lua).
Timings are printed, never asserted.
"""
import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
PEER_PY = "/usr/bin/python3"  # Debian's, where install-deps.sh --peers puts scikit-learn
LEADS = os.path.join(HERE, "..", "..", "shared", "data", "Leads.csv")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def request(port, method, path, body=None, headers=None, timeout=3600):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def multipart(path, field="file"):
    b = uuid.uuid4().hex
    with open(path, "rb") as f:
        content = f.read()
    head = (f"--{b}\r\nContent-Disposition: form-data; name=\"{field}\"; "
            f"filename=\"{os.path.basename(path)}\"\r\nContent-Type: text/csv\r\n\r\n").encode()
    body = head + content + f"\r\n--{b}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={b}",
                  "Content-Length": str(len(body))}


def wait_port(port, proc, limit=60):
    t0 = time.time()
    while time.time() - t0 < limit:
        if proc.poll() is not None:
            raise RuntimeError("server exited")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def vmhwm(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def start_leadscore(build, data_dir, extra=()):
    port = free_port()
    p = subprocess.Popen([os.path.join(build, "leadscore"), "serve", "--port", str(port),
                          "--data-dir", data_dir, *extra],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, p)
    return p, port


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(30)
    except subprocess.TimeoutExpired:
        p.kill()


def leadscore_flow(port, path):
    body, hdr = multipart(path)
    t0 = time.perf_counter()
    st, data = request(port, "POST", "/api/datasets", body, hdr)
    if st not in (200, 201):
        raise RuntimeError(f"upload {st}: {data[:300]}")
    ds = json.loads(data)["dataset_id"]
    st, data = request(port, "POST", "/api/runs", json.dumps({"dataset_id": ds}),
                       {"Content-Type": "application/json"})
    t1 = time.perf_counter()
    if st not in (200, 201):
        raise RuntimeError(f"run {st}: {data[:300]}")
    run = json.loads(data)
    return t1 - t0, run


def bench_leadscore(build, path, runs):
    cold, cached, rss, page = [], [], [], []
    run = None
    for _ in range(runs):
        d = tempfile.mkdtemp(prefix="lsbench-")
        p, port = start_leadscore(build, d)
        try:
            t, run = leadscore_flow(port, path)
            cold.append(t)
            for _ in range(3):
                t, again = leadscore_flow(port, path)
                assert again.get("cached") is True, "second flow was not cached"
                cached.append(t)
            t0 = time.perf_counter()
            request(port, "GET", f"/api/runs/{run['run_id']}/leads?limit=50")
            page.append(time.perf_counter() - t0)
            rss.append(vmhwm(p.pid))
        finally:
            stop(p)
            shutil.rmtree(d, ignore_errors=True)
    return cold, cached, rss, page, run


def bench_peer(path, runs):
    times, rss = [], []
    for _ in range(runs):
        d = tempfile.mkdtemp(prefix="skbench-")
        port = free_port()
        p = subprocess.Popen([PEER_PY, os.path.join(HERE, "api_sklearn.py"), str(port), d],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        p.stdout.readline()
        try:
            body, hdr = multipart(path)
            t0 = time.perf_counter()
            st, _ = request(port, "POST", "/upload", body, hdr)
            st2, _ = request(port, "POST", "/predict",
                             json.dumps({"filename": os.path.basename(path)}),
                             {"Content-Type": "application/json"})
            times.append(time.perf_counter() - t0)
            if st != 200 or st2 != 200:
                raise RuntimeError(f"peer answered {st} {st2}")
            rss.append(vmhwm(p.pid))
        finally:
            p.kill()
            p.wait()
            shutil.rmtree(d, ignore_errors=True)
    return times, rss


def med(x):
    return statistics.median(x) if x else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--file", default=LEADS)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--rows-1m", action="store_true")
    ap.add_argument("--wrk", action="store_true")
    ap.add_argument("--wrk-only", action="store_true", help="only the wrk run")
    ap.add_argument("--serve-threads", type=int, default=0, help="serve --threads for wrk")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    if not os.path.exists(a.file):
        print(f"skipped: {a.file} not found")
        return
    if a.wrk_only:
        bench_wrk(build, a.file, a.serve_threads)
        return
    cold, cached, rss, page, run = bench_leadscore(build, a.file, a.runs)
    print(f"leadscore upload -> scored ({os.path.basename(a.file)}, {run['summary']['total']} leads, "
          f"cold, median of {a.runs}): {med(cold) * 1000:.0f} ms  "
          f"[{', '.join(f'{t * 1000:.0f}' for t in cold)}]")
    print(f"leadscore repeated (cached): {med(cached) * 1000:.1f} ms median of {len(cached)}")
    print(f"leadscore first page of leads: {med(page) * 1000:.1f} ms")
    print(f"leadscore server peak RSS: {max(rss):.0f} MB")
    if not a.no_peer:
        try:
            pt, prss = bench_peer(a.file, a.runs)
            print(f"python peer (pandas + scikit-learn, 100 trees) upload -> scored: "
                  f"{med(pt) * 1000:.0f} ms  [{', '.join(f'{t * 1000:.0f}' for t in pt)}], "
                  f"peak RSS {max(prss):.0f} MB")
            print(f"ratio peer / leadscore: {med(pt) / med(cold):.1f}x")
        except Exception as e:  # the peer's packages are optional (install-deps.sh --peers)
            print(f"python peer skipped: {e}")
    if a.rows_1m:
        d = tempfile.mkdtemp(prefix="ls1m-")
        f = os.path.join(d, "leads-1m.csv")
        subprocess.run([os.path.join(build, "leadscore"), "demo-data", "--rows", "1000000",
                        "--seed", "1", "-o", f], check=True, stdout=subprocess.DEVNULL)
        p, port = start_leadscore(build, os.path.join(d, "store"))
        try:
            t, run = leadscore_flow(port, f)
            print(f"leadscore 1,000,000 leads upload -> scored: {t:.1f} s, peak RSS "
                  f"{vmhwm(p.pid):.0f} MB, explained: {run.get('explained')}")
            t0 = time.perf_counter()
            st, _ = request(port, "GET", f"/api/runs/{run['run_id']}/leads?limit=50&sort=score")
            print(f"  first page (explained on demand): {(time.perf_counter() - t0) * 1000:.0f} ms "
                  f"(HTTP {st})")
        finally:
            stop(p)
            shutil.rmtree(d, ignore_errors=True)
    if a.wrk:
        bench_wrk(build, a.file, a.serve_threads)


def bench_wrk(build, path, threads=0):
    if not shutil.which("wrk"):
        print("wrk skipped: not installed (scripts/install-deps.sh --peers)")
        return
    d = tempfile.mkdtemp(prefix="lswrk-")
    p, port = start_leadscore(build, d, ["--threads", str(threads)] if threads else [])
    try:
        _, run = leadscore_flow(port, path)
        st, data = request(port, "GET", f"/api/runs/{run['run_id']}/leads/1")
        lead = json.loads(data)["fields"]
        body = json.dumps({"model_id": run["model_id"], "leads": [lead]})
        script = os.path.join(d, "score.lua")
        with open(script, "w") as f:
            f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n')
            f.write("wrk.body = " + json.dumps(body) + "\n")
        for conns in (16, 64):
            out = subprocess.run(["wrk", "-t2", f"-c{conns}", "-d10s", "--latency", "-s", script,
                                  f"http://127.0.0.1:{port}/api/score"],
                                 capture_output=True, text=True).stdout
            print(f"wrk POST /api/score, one lead, -t2 -c{conns} -d10s (serve --threads "
                  f"{threads or 'default'}):")
            print(out)
    finally:
        stop(p)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
