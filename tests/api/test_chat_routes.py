"""test_chat_routes.py — the chat and insight routes with the built-in narrator.

POST /api/runs/{id}/chat answers with server-sent events (meta, token...,
done) whose tokens join into the stored answer; the refusals before the
stream starts are JSON errors (400 empty or too long, 404, 409, 415);
GET /api/runs/{id}/chat gives the conversation back; GET
/api/runs/{id}/insights fills in the top 5 leads; /api/health lists the
providers; the old POST /chat answers 200 {"response"} to everything, in
words. No model is configured (LEADSCORE_LLM=builtin), so nothing needs the
network. Every answer is checked against openapi.json (oaschema.Server);
test_openapi.py runs this suite too. The fake-model cases are in
test_chat.py, which uses the SSE helpers below.
"""

import http.client
import json
import os
import tempfile
import time

import lsapi
import oaschema

NARRATOR_ENV = {"LEADSCORE_LLM": "builtin", "GEMINI_API_KEY": "", "LEADSCORE_LLAMA_URL": ""}


# ---- server-sent events -----------------------------------------------------


def parse_sse(body):
    """[(event, data)] of a whole text/event-stream body; every event must be
    one `event:` line and one `data:` line of JSON, then a blank line."""
    text = body.decode("utf-8")
    out = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        lines = block.split("\n")
        assert len(lines) == 2, "an event is two lines: %r" % block[:300]
        assert lines[0].startswith("event: "), lines[0]
        assert lines[1].startswith("data: "), lines[1]
        out.append((lines[0][7:], json.loads(lines[1][6:])))
    assert text.endswith("\n\n") or not text, "the stream ends after a whole event: %r" % text[-80:]
    return out


def answer_of(events):
    """The text the tokens spell, taking a meta with restart true as 'start over'."""
    text = ""
    for ev, data in events:
        if ev == "meta" and data.get("restart"):
            text = ""
        elif ev == "token":
            text += data["text"]
    return text


class SSE:
    """One POST whose answer is read event by event (http.client undoes the chunking)."""

    def __init__(self, srv, path, obj, timeout=60):
        self.conn = http.client.HTTPConnection(srv.connect_host, srv.port, timeout=timeout)
        h = {"Content-Type": "application/json"}
        if srv.token:
            h["Authorization"] = "Bearer " + srv.token
        self.conn.request("POST", path, body=json.dumps(obj).encode(), headers=h)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.headers = {k.lower(): v for k, v in self.resp.getheaders()}

    def next(self):
        """The next (event, data), or None at the end of the stream."""
        ev = data = None
        while True:
            line = self.resp.readline()
            if not line:
                return None
            line = line.decode("utf-8").rstrip("\n")
            if line == "":
                if ev is not None:
                    return ev, data
                continue
            if line.startswith("event: "):
                ev = line[7:]
            elif line.startswith("data: "):
                assert data is None, "one data line per event"
                data = json.loads(line[6:])

    def all(self):
        out = []
        while True:
            e = self.next()
            if e is None:
                return out
            out.append(e)

    def close(self):
        self.conn.close()


def check_stream(tc, r):
    """A chat answer's response: its headers, then its events (returned)."""
    tc.assertStatus(r, 200)
    tc.assertEqual(r.header("content-type").split(";")[0], "text/event-stream")
    tc.assertEqual(r.header("cache-control"), "no-cache")
    tc.assertEqual(r.header("x-accel-buffering"), "no")
    events = parse_sse(r.body)
    names = [e for e, _ in events]
    tc.assertEqual(names[0], "meta", names)
    tc.assertEqual(names[-1], "done", names)
    tc.assertNotIn("error", names)
    tc.assertGreater(names.count("token"), 1, "the answer comes in pieces")
    done = events[-1][1]
    tc.assertEqual(answer_of(events), done["text"])
    tc.assertIsInstance(done["message_id"], int)
    for k in ("provider", "took_ms", "first_ms"):
        tc.assertIn(k, done)
    meta = events[0][1]
    for k in ("provider", "restart", "intent", "facts"):
        tc.assertIn(k, meta)
    return events


# ---- data ---------------------------------------------------------------------


def scored_run(tc, srv, tmp, rows=400, seed=11, name="demo.csv", data=None):
    """Upload a generated file (or data) and score it: (dataset_id, run answer)."""
    if data is None:
        path = lsapi.demo_csv(os.path.join(tmp, name), rows=rows, seed=seed)
        with open(path, "rb") as f:
            data = f.read()
    r = srv.upload("/api/datasets", name, data)
    tc.assertIn(r.status, (200, 201), r)
    ds = r.json()["dataset_id"]
    r = srv.post_json("/api/runs", {"dataset_id": ds, "trees": 30, "seed": 3})
    tc.assertIn(r.status, (200, 201), r)
    return ds, r.json()


def wait_insights(srv, run_id, n=5, timeout=60):
    deadline = time.time() + timeout
    while True:
        r = srv.get("/api/runs/%d/insights" % run_id)
        assert r.status == 200, r
        j = r.json()
        if j["status"] == "done" and len(j["insights"]) >= n:
            return j
        if time.time() > deadline:
            raise AssertionError("insights not stored in %ss: %r" % (timeout, j))
        time.sleep(0.05)


# ---- the tests ------------------------------------------------------------------


class Chat(lsapi.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="lschat-")

    def tearDown(self):
        self.tmp.cleanup()

    def test_streamed_answer_and_history(self):
        with oaschema.Server(env=NARRATOR_ENV) as srv:
            _, run = scored_run(self, srv, self.tmp.name)
            rid = run["run_id"]
            q1 = "Which lead sources convert best?"
            r = srv.post_json("/api/runs/%d/chat" % rid, {"message": q1})
            events = check_stream(self, r)
            self.assertEqual(events[0][1]["provider"], "builtin")
            self.assertIsInstance(events[0][1]["facts"], list)
            self.assertGreater(len(events[0][1]["facts"]), 0, "the answer names its facts")
            done = events[-1][1]
            self.assertEqual(done["provider"], "builtin")
            self.assertGreater(len(done["text"]), 20)
            q2 = "How good is the model?"
            done2 = check_stream(self, srv.post_json("/api/runs/%d/chat" % rid,
                                                     {"message": q2}))[-1][1]
            r = srv.get("/api/runs/%d/chat" % rid)
            self.assertStatus(r, 200)
            msgs = r.json()["messages"]
            self.assertEqual([m["role"] for m in msgs], ["user", "assistant"] * 2)
            self.assertEqual([m["text"] for m in msgs], [q1, done["text"], q2, done2["text"]])
            self.assertEqual(msgs[1]["provider"], "builtin")
            self.assertEqual(msgs[1]["message_id"], done["message_id"])
            self.assertEqual(r.json()["run_id"], rid)

    def test_stream_events_arrive_one_by_one(self):
        """Read as a client does: meta first, then tokens, done last, the stream then ends."""
        with lsapi.Server(env=NARRATOR_ENV) as srv:
            _, run = scored_run(self, srv, self.tmp.name)
            s = SSE(srv, "/api/runs/%d/chat" % run["run_id"], {"message": "How many leads are High?"})
            try:
                self.assertEqual(s.status, 200)
                first = s.next()
                self.assertEqual(first[0], "meta")
                rest = s.all()
                self.assertEqual(rest[-1][0], "done")
                self.assertEqual(answer_of([first] + rest), rest[-1][1]["text"])
            finally:
                s.close()
            # the connection stays usable (keep-alive after a chunked stream)
            c = srv.connection()
            try:
                for _ in range(2):
                    r = srv.request("POST", "/api/runs/%d/chat" % run["run_id"],
                                    body=json.dumps({"message": "top leads?"}),
                                    headers={"Content-Type": "application/json"}, conn=c)
                    self.assertEqual(parse_sse(r.body)[-1][0], "done")
            finally:
                c.close()

    def test_refusals_before_the_stream(self):
        with oaschema.Server(env=NARRATOR_ENV) as srv:
            ds, run = scored_run(self, srv, self.tmp.name)
            path = "/api/runs/%d/chat" % run["run_id"]
            for body in ({"message": ""}, {}, {"message": 5}, {"message": "hi", "x": 1},
                         {"message": "x" * 2001}, [1]):
                self.assertApiError(srv.post_json(path, body), 400, "INPUT")
            self.assertApiError(srv.post_json(path, "{bad json"), 400)
            r = srv.request("POST", path, body="message=hi",
                            headers={"Content-Type": "text/plain"})
            self.assertApiError(r, 415)
            self.assertApiError(srv.post_json("/api/runs/999999/chat", {"message": "hi"}), 404,
                                "NOT_FOUND")
            self.assertApiError(srv.get("/api/runs/999999/chat"), 404)
            self.assertApiError(srv.get("/api/runs/999999/insights"), 404)
            # a run that is not done: one whose file has a single class fails
            one = b"a,b,Converted\n" + b"".join(b"%d,x%d,0\n" % (i, i % 3) for i in range(60))
            r = srv.upload("/api/datasets", "one.csv", one)
            self.assertIn(r.status, (200, 201), r)
            r = srv.post_json("/api/runs", {"dataset_id": r.json()["dataset_id"], "trees": 5})
            self.assertGreaterEqual(r.status, 400, r)
            runs = srv.get("/api/runs").json()["runs"]
            failed = [x["run_id"] for x in runs if x["status"] != "done"]
            self.assertTrue(failed, runs)
            self.assertApiError(srv.post_json("/api/runs/%d/chat" % failed[0], {"message": "hi"}),
                                409, "CONFLICT")
            self.assertApiError(srv.get("/api/runs/%d/insights" % failed[0]), 409, "CONFLICT")
            # nothing was stored by a refusal
            self.assertEqual(srv.get(path).json()["messages"], [])

    def test_insights_and_lead_detail(self):
        with oaschema.Server(env=NARRATOR_ENV) as srv:
            _, run = scored_run(self, srv, self.tmp.name)
            rid = run["run_id"]
            j = wait_insights(srv, rid)
            ins = j["insights"]
            self.assertEqual(len(ins), 5)
            top = srv.get("/api/runs/%d/leads?limit=5" % rid).json()["leads"]
            self.assertEqual([i["row"] for i in ins], [l["row"] for l in top], "best first")
            for i in ins:
                self.assertEqual(i["provider"], "builtin")
                self.assertLessEqual(len(i["why"].split()), 25, i)
                self.assertLessEqual(len(i["next_action"].split()), 12, i)
                self.assertGreater(len(i["why"]), 0)
            lead = srv.get("/api/runs/%d/leads/%d" % (rid, ins[0]["row"])).json()
            self.assertEqual(lead["insight"]["why"], ins[0]["why"])
            self.assertEqual(lead["insight"]["next_action"], ins[0]["next_action"])
            low = srv.get("/api/runs/%d/leads?sort=score&order=asc&limit=1" % rid).json()
            self.assertIsNone(low["leads"][0].get("insight"))

    def test_health_lists_the_narrator(self):
        with oaschema.Server(env=NARRATOR_ENV) as srv:
            h = srv.get("/api/health").json()
            self.assertEqual([p["name"] for p in h["llm"]], ["builtin"])
            self.assertEqual(h["llm_order"], "builtin")


class CompatChat(lsapi.TestCase):
    """The old client's POST /chat: 200 {"response": "..."} for everything."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="lschat-")

    def tearDown(self):
        self.tmp.cleanup()

    def words(self, r):
        self.assertStatus(r, 200)
        self.assertEqual(r.header("content-type"), "application/json")
        j = r.json()
        self.assertEqual(list(j), ["response"])
        self.assertIsInstance(j["response"], str)
        self.assertGreater(len(j["response"]), 10)
        return j["response"]

    def test_old_client_flow(self):
        with oaschema.Server(env=NARRATOR_ENV) as srv:
            # before any run, as the client sends it
            t = self.words(srv.post_json("/chat", {"message": "hello", "context": "undefined",
                                                   "filename": ""}))
            self.assertIn("no file has been scored yet", t.lower())
            t = self.words(srv.post_json("/chat", {"message": "hello", "filename": None}))
            self.assertIn("no file has been scored yet", t.lower())
            # bodies it should never send: still words, still 200
            for body in ("{bad", "", "[]", "null", json.dumps({"context": "undefined"}),
                         json.dumps({"message": ""}), json.dumps({"message": "   "}),
                         json.dumps({"message": 7}), json.dumps({"message": "x" * 5000})):
                self.words(srv.post_json("/chat", body))
            self.words(srv.request("POST", "/chat", body="message=hi",
                                   headers={"Content-Type": "text/plain"}))
            self.words(srv.request("POST", "/chat"))
            # the client's flow: upload, train, predict, then chat about the file
            path = lsapi.demo_csv(os.path.join(self.tmp.name, "leads-a.csv"), rows=300, seed=5)
            self.assertStatus(srv.upload_file("/upload", path), 200)
            self.assertStatus(srv.post_json("/train", {"filename": "leads-a.csv",
                                                       "target_col": "Converted"}), 200)
            self.assertStatus(srv.post_json("/predict", {"filename": "leads-a.csv"}), 200)
            for fn in ("leads-a.csv", "", None, "never-uploaded.csv"):
                t = self.words(srv.post_json("/chat", {"message": "How good is the model?",
                                                       "context": "undefined", "filename": fn}))
                self.assertNotIn("no file has been scored yet", t.lower())
            # the answer is stored in the run's conversation
            rid = srv.get("/api/runs").json()["runs"][0]["run_id"]
            msgs = srv.get("/api/runs/%d/chat" % rid).json()["messages"]
            self.assertEqual(msgs[-1]["role"], "assistant")
            self.assertEqual(msgs[-1]["text"], t)

    def test_over_ten_megabytes_is_still_words(self):
        with lsapi.Server(env=NARRATOR_ENV) as srv:
            big = b'{"message": "' + b"x" * (11 << 20) + b'"}'
            out = srv.raw(b"POST /chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          b"Content-Length: %d\r\n\r\n" % len(big) + big[:65536], timeout=10)
            head, _, body = out.partition(b"\r\n\r\n")
            self.assertTrue(head.startswith(b"HTTP/1.1 200"), head)
            self.assertIn("10 MB", json.loads(body.decode())["response"])


if __name__ == "__main__":
    lsapi.main()
