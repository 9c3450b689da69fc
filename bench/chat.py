#!/usr/bin/env python3
"""bench/chat.py — how soon the chat and the insights answer over HTTP, with the narrator.

    python3 bench/chat.py BUILD_DIR [--file CSV] [--questions 20]

Starts `leadscore serve` on a free loopback port with an empty data folder
and no language model (LEADSCORE_LLM=builtin: the built-in narrator), uploads
the file (default ../shared/data/Leads.csv) and scores it with POST
/api/runs. Then:

* insights: from the moment the run's answer arrives, GET
  /api/runs/{id}/insights is polled (every 2 ms) until it shows the top 5
  stored; the time is printed (the issue asks for ≤ 1 s);
* chat: --questions times (default 20), a question is POSTed to
  /api/runs/{id}/chat and the time from sending the request to the first
  `token` event read on the client, and to the end of the stream, is
  measured; medians and maxima are printed (the issue asks for ≤ 50 ms to
  the first token). The questions rotate through a few kinds (rates, why a
  lead, importance, counts, model quality).

Timings are printed, never asserted.
"""
import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
LEADS = os.path.join(HERE, "..", "..", "shared", "data", "Leads.csv")
QUESTIONS = [
    "Why are referrals converting better?",
    "Which columns matter most?",
    "How many leads are High?",
    "How good is the model?",
    "What is the conversion rate by Lead Source?",
    "Why is the top lead high priority?",
    "Compare Google and Direct Traffic",
    "Does time on site matter?",
]


# the HTTP helpers of the service benchmark, shared
from api import free_port, multipart, request  # noqa: E402

def wait_health(port, proc, limit=60):
    t0 = time.time()
    while time.time() - t0 < limit:
        if proc.poll() is not None:
            raise RuntimeError("server exited")
        try:
            if request(port, "GET", "/api/health", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("server did not start")


def chat_once(port, run_id, question):
    """(ms to the first token event, ms to the end of the stream, provider)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    body = json.dumps({"message": question}).encode()
    t0 = time.perf_counter()
    c.request("POST", f"/api/runs/{run_id}/chat", body=body,
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    if r.status != 200:
        raise RuntimeError(f"chat answered {r.status}: {r.read()[:300]!r}")
    first = None
    provider = None
    event = None
    while True:
        line = r.readline()
        if not line:
            break
        line = line.decode().rstrip("\n")
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: ") and event == "token" and first is None:
            first = (time.perf_counter() - t0) * 1e3
        elif line.startswith("data: ") and event == "done":
            provider = json.loads(line[6:])["provider"]
    total = (time.perf_counter() - t0) * 1e3
    c.close()
    return first, total, provider


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--file", default=LEADS)
    ap.add_argument("--questions", type=int, default=20)
    a = ap.parse_args()
    binary = os.path.join(a.build, "leadscore")
    if not os.path.exists(a.file):
        sys.exit(f"no {a.file}: pass --file")
    tmp = tempfile.mkdtemp(prefix="lsbench-chat-")
    port = free_port()
    env = dict(os.environ, LEADSCORE_LLM="builtin")
    env.pop("GEMINI_API_KEY", None)
    env.pop("LEADSCORE_LLAMA_URL", None)
    proc = subprocess.Popen([binary, "serve", "--port", str(port), "--data-dir",
                             os.path.join(tmp, "data")], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_health(port, proc)
        body, h = multipart(a.file)
        st, data = request(port, "POST", "/api/datasets", body, h)
        ds = json.loads(data)["dataset_id"]
        t0 = time.perf_counter()
        st, data = request(port, "POST", "/api/runs", json.dumps({"dataset_id": ds}).encode(),
                           {"Content-Type": "application/json"})
        t_run = time.perf_counter()
        if st not in (200, 201):
            raise RuntimeError(f"run answered {st}: {data[:300]!r}")
        run_id = json.loads(data)["run_id"]
        while True:
            st, data = request(port, "GET", f"/api/runs/{run_id}/insights")
            j = json.loads(data)
            if j["status"] == "done" and len(j["insights"]) >= 5:
                break
            time.sleep(0.002)
        t_ins = time.perf_counter()
        print(f"file {os.path.basename(a.file)}: run {1e3 * (t_run - t0):.0f} ms (upload excluded)")
        print(f"insights: top 5 stored {1e3 * (t_ins - t_run):.1f} ms after the run's answer "
              f"(providers: {sorted({i['provider'] for i in j['insights']})})")
        firsts, totals, providers = [], [], set()
        for i in range(a.questions):
            f, t, p = chat_once(port, run_id, QUESTIONS[i % len(QUESTIONS)])
            firsts.append(f)
            totals.append(t)
            providers.add(p)
        print(f"chat ({a.questions} questions, providers {sorted(providers)}): first token "
              f"median {statistics.median(firsts):.1f} ms, max {max(firsts):.1f} ms; whole answer "
              f"median {statistics.median(totals):.1f} ms, max {max(totals):.1f} ms")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
