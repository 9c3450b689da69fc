"""test_http.py — the HTTP layer itself, against the real server: errors in
each route's style, body limits, uploads refused before they are read,
the token, CORS, static files that never leave their folder, graceful stop
and the request log. The routes' own behaviour is tested in their files.
"""

import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time

import lsapi


def raw_request(method, target, headers=None, body=b""):
    h = {"Host": "x", "Connection": "close"}
    h.update(headers or {})
    head = "%s %s HTTP/1.1\r\n" % (method, target)
    head += "".join("%s: %s\r\n" % kv for kv in h.items())
    return head.encode() + b"\r\n" + body


def status_of(raw):
    try:
        return int(raw.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


def tmp_files(srv):
    d = os.path.join(srv.data_dir, "tmp")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def wait_no_tmp(test, srv, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline and tmp_files(srv):
        time.sleep(0.05)
    test.assertEqual(tmp_files(srv), [], "temporary upload files left behind")


class Errors(lsapi.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = lsapi.Server().start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    def test_unknown_api_path_is_404_in_api_style(self):
        for path in ("/api/nope", "/api/runs/abc", "/api/runs/0", "/api/runs/01",
                     "/api/runs/-1", "/api/runs/99999999999999999999", "/api/runs/1/nope",
                     "/api/runs/"):
            self.assertApiError(self.srv.get(path), 404, "NOT_FOUND")

    def test_wrong_method_is_405_with_allow(self):
        r = self.srv.request("PUT", "/api/runs")
        self.assertApiError(r, 405, "METHOD")
        allow = [m.strip() for m in r.header("allow", "").split(",")]
        self.assertIn("GET", allow)
        self.assertIn("POST", allow)
        self.assertNotIn("PUT", allow)
        r = self.srv.delete("/upload")  # an old route: its style
        self.assertCompatError(r, 405)
        self.assertIn("POST", r.header("allow", ""))
        r = self.srv.request("BREW", "/api/runs")
        self.assertStatus(r, 405)

    def test_bad_json_is_400_with_line_and_column(self):
        r = self.srv.post_json("/api/runs", "{")
        j = self.assertApiError(r, 400, "INPUT")
        self.assertRegex(j["error"]["message"], r"line \d+, column \d+")
        r = self.srv.post_json("/api/runs", '{\n  "dataset_id": 1,\n  "x": tru\n}')
        j = self.assertApiError(r, 400)
        self.assertIn("line 3", j["error"]["message"])
        r = self.srv.post_json("/train", "{")  # old route: {"detail": ...}
        self.assertCompatError(r, 400)
        self.assertIn("line 1", r.json()["detail"])

    def test_duplicate_keys_refused(self):
        r = self.srv.post_json("/api/runs", '{"dataset_id": 1, "dataset_id": 2}')
        self.assertApiError(r, 400)

    def test_nesting_deeper_than_64_refused(self):
        deep = "[" * 65 + "]" * 65
        j = self.assertApiError(self.srv.post_json("/api/runs", deep), 400)
        self.assertIn("nested", j["error"]["message"])
        ok = '{"dataset_id": ' + "[" * 63 + "]" * 63 + "}"  # depth 64: parsed, then judged
        r = self.srv.post_json("/api/runs", ok)
        self.assertNotIn("nested", r.text)
        text = json.dumps({"a": "[" * 100})  # brackets inside a string are not nesting
        self.assertNotIn("nested", self.srv.post_json("/api/runs", text).text)

    def test_json_needs_json_content_type(self):
        r = self.srv.request("POST", "/api/runs", body='{"dataset_id": 1}',
                             headers={"Content-Type": "text/plain"})
        self.assertApiError(r, 415, "MEDIA")

    def test_json_over_10mb_refused_before_reading(self):
        req = raw_request("POST", "/api/runs", {"Content-Type": "application/json",
                                                "Content-Length": str(11 << 20)})
        out = self.srv.raw(req, timeout=10)  # headers only: the answer comes anyway
        self.assertEqual(status_of(out), 413, out[:300])

    def test_chunked_json_over_10mb_refused(self):
        chunk = b"[" + b"1," * (1 << 19)
        body = b""
        for _ in range(12):
            body += b"%x\r\n" % len(chunk) + chunk + b"\r\n"
        body += b"0\r\n\r\n"
        req = raw_request("POST", "/api/runs", {"Content-Type": "application/json",
                                                "Transfer-Encoding": "chunked"}, body)
        self.assertEqual(status_of(self.srv.raw(req, timeout=60)), 413)

    def test_body_on_a_route_without_one_refused(self):
        r = self.srv.request("GET", "/api/runs", body=b"x=1",
                             headers={"Content-Type": "text/plain"})
        self.assertApiError(r, 400)

    def test_bad_paths_and_queries(self):
        self.assertStatus(self.srv.get("/api/runs/%zz"), 400)
        self.assertStatus(self.srv.get("/api/runs%00"), 400)
        self.assertApiError(self.srv.get("/api/runs?q=%zz"), 400)
        self.assertApiError(self.srv.get("/api/runs?q=a%00b"), 400)
        self.assertApiError(self.srv.get("/api/runs?q=%ff%fe"), 400)  # not UTF-8
        many = "&".join("p%d=1" % i for i in range(33))
        self.assertApiError(self.srv.get("/api/runs?" + many), 413, "LIMIT")
        self.assertApiError(self.srv.get("/api/runs?q=" + "x" * 1025), 413)
        self.assertStatus(self.srv.get("/api/" + "a" * 5000), 414)

    def test_security_headers(self):
        r = self.srv.get("/api/health")
        self.assertStatus(r, 200)
        self.assertEqual(r.header("x-content-type-options"), "nosniff")
        self.assertEqual(r.header("cache-control"), "no-store")
        self.assertEqual(r.header("content-type"), "application/json")
        self.assertIsNone(r.header("access-control-allow-origin"))  # CORS is off by default
        j = r.json()
        self.assertEqual(j["status"], "ok")
        self.assertIn("version", j)
        self.assertIn("uptime_s", j)

    def test_head_and_keep_alive(self):
        r = self.srv.request("HEAD", "/api/health")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"")
        conn = self.srv.connection()
        try:
            first = self.srv.request("GET", "/api/health", conn=conn)
            sock = conn.sock
            second = self.srv.request("GET", "/api/nope", conn=conn)  # an error keeps it too
            self.assertIs(conn.sock, sock, "the connection was not kept alive")
            third = self.srv.request("PUT", "/api/runs", conn=conn)
            self.assertIs(conn.sock, sock)
        finally:
            conn.close()
        self.assertEqual([first.status, second.status, third.status], [200, 404, 405])

    def test_root_without_web_app_answers_status(self):
        with lsapi.Server(args=["--web-dir", "/nonexistent/web"]) as srv:
            r = srv.get("/")
            self.assertStatus(r, 200)
            self.assertEqual(r.json()["status"], "ok")
            self.assertIsInstance(r.json()["message"], str)
            self.assertCompatError(srv.get("/no/such/page"), 404)


class Uploads(lsapi.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = lsapi.Server(args=["--upload-max", "64K"]).start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    def test_upload_without_content_length_is_411(self):
        body, ctype = lsapi.multipart(None, [("file", "a.csv", b"a,b\n1,2\n", "text/csv")])
        chunked = b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n"
        req = raw_request("POST", "/api/datasets", {"Content-Type": ctype,
                                                    "Transfer-Encoding": "chunked"}, chunked)
        out = self.srv.raw(req)
        self.assertEqual(status_of(out), 411, out[:300])
        self.assertIn(b'"LENGTH"', out)
        req = raw_request("POST", "/upload", {"Content-Type": ctype,
                                              "Transfer-Encoding": "chunked"}, chunked)
        out = self.srv.raw(req)
        self.assertEqual(status_of(out), 411)
        self.assertIn(b'"detail"', out)
        wait_no_tmp(self, self.srv)

    def test_upload_over_the_limit_is_413_before_reading(self):
        body, ctype = lsapi.multipart(None, [("file", "a.csv", b"x" * (70 << 10), "text/csv")])
        r = self.srv.request("POST", "/api/datasets", body=body, headers={"Content-Type": ctype})
        self.assertApiError(r, 413, "LIMIT")
        # a Content-Length claiming 300 MB: answered without sending a byte of it
        req = raw_request("POST", "/api/datasets", {"Content-Type": ctype,
                                                    "Content-Length": str(300 << 20)})
        self.assertEqual(status_of(self.srv.raw(req, timeout=10)), 413)
        wait_no_tmp(self, self.srv)

    def test_upload_must_be_multipart(self):
        r = self.srv.request("POST", "/api/datasets", body=b"a,b\n1,2\n",
                             headers={"Content-Type": "text/csv"})
        self.assertApiError(r, 415, "MEDIA")
        r = self.srv.request("POST", "/upload", body=b"a,b\n1,2\n",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertCompatError(r, 415)

    def test_upload_without_file_field_is_400(self):
        body, ctype = lsapi.multipart({"other": "x"}, [("notfile", "a.csv", b"a\n1\n", "text/csv")])
        r = self.srv.request("POST", "/api/datasets", body=body, headers={"Content-Type": ctype})
        j = self.assertApiError(r, 400)
        self.assertIn("file", j["error"]["message"])
        wait_no_tmp(self, self.srv)

    def test_malformed_multipart_leaves_nothing(self):
        body, ctype = lsapi.multipart(None, [("file", "a.csv", b"a,b\n1,2\n" * 50, "text/csv")])
        cut = body[: len(body) // 2]  # the closing boundary never comes
        r = self.srv.request("POST", "/api/datasets", body=cut, headers={"Content-Type": ctype})
        self.assertApiError(r, 400)
        wait_no_tmp(self, self.srv)

    def test_two_files_refused(self):
        body, ctype = lsapi.multipart(None, [("file", "a.csv", b"a\n1\n", "text/csv"),
                                             ("file", "b.csv", b"b\n2\n", "text/csv")])
        r = self.srv.request("POST", "/api/datasets", body=body, headers={"Content-Type": ctype})
        self.assertApiError(r, 400)
        wait_no_tmp(self, self.srv)

    def test_accepted_upload_leaves_no_temp_file(self):
        # whatever the handler answers, the temp file is moved or removed
        r = self.srv.upload("/api/datasets", "../../etc/passwd", b"a,b\n1,2\n3,4\n")
        self.assertNotEqual(r.status, 500, r)
        if r.status in (200, 201):  # the name is shown as its base name only
            self.assertEqual(r.json()["filename"], "passwd")
            # hashed while it streamed in: the SHA-256 of exactly the bytes sent
            self.assertEqual(r.json()["fingerprint"],
                             hashlib.sha256(b"a,b\n1,2\n3,4\n").hexdigest())
        name = b"..\\dir\\x\x01y\xff.csv"  # backslashes, a control byte, invalid UTF-8
        r = self.srv.upload("/api/datasets", name, b"a,b\n1,2\n3,5\n")
        self.assertNotEqual(r.status, 500, r)
        if r.status in (200, 201):
            self.assertEqual(r.json()["filename"], "x_y_.csv")
        wait_no_tmp(self, self.srv)

    def test_client_gone_mid_upload_removes_the_temp_file(self):
        body, ctype = lsapi.multipart(None, [("file", "a.csv", b"a,b\n1,2\n" * 4000, "text/csv")])
        req = raw_request("POST", "/api/datasets", {"Content-Type": ctype,
                                                    "Content-Length": str(len(body))})
        s = socket.create_connection(("127.0.0.1", self.srv.port))
        s.sendall(req + body[:20000])
        deadline = time.time() + 20
        while time.time() < deadline and not tmp_files(self.srv):
            time.sleep(0.02)
        self.assertTrue(tmp_files(self.srv), "the upload did not start streaming to disk")
        s.close()
        wait_no_tmp(self, self.srv)
        time.sleep(0.2)
        self.assertIn("client gone)", self.srv.log())


class Access(lsapi.TestCase):
    def test_refuses_other_address_without_token(self):
        with tempfile.TemporaryDirectory() as d:
            env = dict(os.environ)
            env.pop("LEADSCORE_API_TOKEN", None)
            p = subprocess.run([lsapi.binary(), "serve", "--host", "0.0.0.0", "--port", "0",
                                "--data-dir", os.path.join(d, "data")],
                               env=env, capture_output=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"LEADSCORE_API_TOKEN", p.stderr)
        self.assertNotIn(b"serving on", p.stdout)

    def test_token_required_on_other_address(self):
        tok = "s3cret-token-value"
        with lsapi.Server(host="0.0.0.0", env={"LEADSCORE_API_TOKEN": tok}) as srv:
            self.assertStatus(srv.get("/api/health", auth=False), 200)  # open
            self.assertNotIn("data_dir", srv.get("/api/health", auth=False).json())
            r = srv.get("/api/runs", auth=False)
            self.assertApiError(r, 401, "AUTH")
            self.assertIn("Bearer", r.header("www-authenticate", ""))
            for bad in ("Bearer wrong", "Bearer " + tok + "x", "Bearer " + tok[:-1], tok,
                        "Basic " + tok, "Bearer"):
                r = srv.get("/api/runs", headers={"Authorization": bad}, auth=False)
                self.assertStatus(r, 401, bad)
            self.assertStatus(srv.get("/api/nope", auth=False), 401)  # no route map for strangers
            self.assertCompatError(srv.get("/prediction-history", auth=False), 401)
            self.assertCompatError(srv.delete("/upload", auth=False), 401)  # not even a 405
            self.assertStatus(srv.post_json("/api/runs", {}, auth=False), 401)
            r = srv.get("/api/runs")  # with the token: past the check
            self.assertNotEqual(r.status, 401, r)
            self.assertNotEqual(srv.get("/", auth=False).status, 401)  # static files are open
            time.sleep(0.2)
            self.assertNotIn(tok, srv.log())

    def test_port_in_use_is_a_clear_error(self):
        with lsapi.Server() as srv, tempfile.TemporaryDirectory() as d:
            p = subprocess.run([lsapi.binary(), "serve", "--port", str(srv.port), "--data-dir",
                                os.path.join(d, "data")], capture_output=True, timeout=60)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn(b"cannot listen", p.stderr)


class Cors(lsapi.TestCase):
    def test_preflight_and_origins(self):
        ok, bad = "http://app.example:5173", "http://evil.example"
        with lsapi.Server(args=["--cors-origin", ok, "--cors-origin", "https://crm.example"]) as srv:
            for path in ("/api/runs", "/upload", "/predict", "/api/runs/3/leads"):
                r = srv.request("OPTIONS", path, headers={
                    "Origin": ok, "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "content-type, authorization"})
                self.assertStatus(r, 204, path)
                self.assertEqual(r.header("access-control-allow-origin"), ok)
                self.assertIn("Origin", r.header("vary", ""))
                methods = r.header("access-control-allow-methods", "")
                hdrs = r.header("access-control-allow-headers", "").lower()
                self.assertIn("GET" if path.endswith("leads") else "POST", methods)
                self.assertIn("authorization", hdrs)
                self.assertIn("content-type", hdrs)
                self.assertTrue(r.header("access-control-max-age"))
            r = srv.request("OPTIONS", "/api/runs", headers={"Origin": bad})
            self.assertStatus(r, 204)
            self.assertIsNone(r.header("access-control-allow-origin"))
            self.assertIsNone(r.header("access-control-allow-methods"))
            r = srv.get("/api/health", headers={"Origin": ok})
            self.assertEqual(r.header("access-control-allow-origin"), ok)
            r = srv.get("/api/nope", headers={"Origin": ok})  # errors carry it too
            self.assertEqual(r.header("access-control-allow-origin"), ok)
            r = srv.get("/api/health", headers={"Origin": bad})
            self.assertIsNone(r.header("access-control-allow-origin"))
            self.assertStatus(srv.request("OPTIONS", "/api/nope", headers={"Origin": ok}), 404)

    def test_foreign_origin_cannot_change_anything(self):
        # CORS hides answers but a browser still sends a simple POST: a page
        # from another origin must not be able to upload, train or delete
        ok = "http://app.example:5173"
        csv = b"a,b,Converted\n1,x,1\n2,y,0\n"
        with lsapi.Server(args=["--cors-origin", ok]) as srv:
            evil = {"Origin": "http://evil.example"}
            for path in ("/upload", "/api/datasets"):
                r = srv.upload(path, "x.csv", csv, headers=evil)
                self.assertStatus(r, 403, path)
            self.assertEqual(os.listdir(os.path.join(srv.data_dir, "uploads")), [])
            self.assertStatus(srv.request("DELETE", "/api/runs/1", headers=evil), 403)
            self.assertStatus(srv.get("/api/health", headers=evil), 200)  # reading is fine
            # an allowed origin, our own origin, and no origin at all may
            self.assertIn(srv.upload("/api/datasets", "x.csv", csv, headers={"Origin": ok}).status,
                          (200, 201))
            own = {"Origin": "http://127.0.0.1:%d" % srv.port}
            self.assertIn(srv.upload("/api/datasets", "y.csv", csv + b"3,z,1\n",
                                     headers=own).status, (200, 201))
            self.assertIn(srv.upload("/api/datasets", "z.csv", csv + b"4,w,0\n").status,
                          (200, 201))

    def test_off_by_default(self):
        with lsapi.Server() as srv:
            r = srv.request("OPTIONS", "/api/runs", headers={"Origin": "http://app.example"})
            self.assertIsNone(r.header("access-control-allow-origin"))


class Static(lsapi.TestCase):
    SECRET = b"TOP-SECRET-BESIDE-THE-WEB-DIR"

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="lsweb-")
        root = self.tmp.name
        self.web = os.path.join(root, "web")
        os.makedirs(os.path.join(self.web, "assets"))
        with open(os.path.join(self.web, "index.html"), "wb") as f:
            f.write(b"<!doctype html><title>LeadScore</title>INDEX")
        with open(os.path.join(self.web, "assets", "app-1a2b.js"), "wb") as f:
            f.write(b"console.log('app')")
        with open(os.path.join(root, "secret.txt"), "wb") as f:
            f.write(self.SECRET)
        with open(os.path.join(root, "web-secret.txt"), "wb") as f:  # shares the prefix "web"
            f.write(self.SECRET)
        os.symlink(os.path.join(root, "secret.txt"), os.path.join(self.web, "link.txt"))
        os.symlink(root, os.path.join(self.web, "up"))

    def tearDown(self):
        self.tmp.cleanup()

    def test_files_types_and_spa_fallback(self):
        with lsapi.Server(args=["--web-dir", self.web]) as srv:
            r = srv.get("/")
            self.assertStatus(r, 200)
            self.assertIn(b"INDEX", r.body)
            self.assertTrue(r.header("content-type").startswith("text/html"))
            r = srv.get("/assets/app-1a2b.js")
            self.assertStatus(r, 200)
            self.assertEqual(r.body, b"console.log('app')")
            self.assertTrue(r.header("content-type").startswith("text/javascript"))
            self.assertEqual(r.header("x-content-type-options"), "nosniff")
            r = srv.get("/history/3")  # a page of the app
            self.assertStatus(r, 200)
            self.assertIn(b"INDEX", r.body)
            self.assertStatus(srv.request("HEAD", "/assets/app-1a2b.js"), 200)
            self.assertStatus(srv.request("POST", "/assets/app-1a2b.js", body=b""), 405)
            self.assertApiError(srv.get("/api/not-a-file"), 404)  # never the SPA under /api/

    def test_traversal_never_leaves_the_web_dir(self):
        attempts = [
            "/../secret.txt", "/../../secret.txt", "/assets/../../secret.txt",
            "/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/%2e%2e%2fsecret.txt",
            "/assets/..%2f..%2fsecret.txt", "/..%5csecret.txt", "/assets%5c..%5c..%5csecret.txt",
            "/%2e%2e%5csecret.txt", "/..\\secret.txt", "//secret.txt",
            "/" + os.path.join(self.tmp.name, "secret.txt"), "/%2f" + self.tmp.name.lstrip("/") +
            "/secret.txt", "/link.txt", "/up/secret.txt", "/up/web-secret.txt",
            "/../web-secret.txt", "/index.html%00.txt", "/%00", "/secret.txt%00",
            "/./../secret.txt", "/.%2e/secret.txt", "/%252e%252e/secret.txt",
            "/" + os.path.relpath(os.path.join(self.tmp.name, "secret.txt"), self.web),
        ]
        with lsapi.Server(args=["--web-dir", self.web]) as srv:
            for target in attempts:
                out = srv.raw(raw_request("GET", target))
                self.assertNotIn(self.SECRET, out, target)
                self.assertNotIn(b"root:", out, target)
                self.assertIn(status_of(out), (200, 400, 404), (target, out[:200]))
                if status_of(out) == 200:  # only ever the app's own page
                    self.assertIn(b"INDEX", out, target)
            for target in ("/etc/passwd", "/%2fetc%2fpasswd", "//etc/passwd", "/proc/self/environ"):
                out = srv.raw(raw_request("GET", target))
                self.assertNotIn(b"root:", out, target)
                self.assertNotIn(b"PATH=", out, target)


class Lifecycle(lsapi.TestCase):
    def test_request_log_line_per_request(self):
        with lsapi.Server() as srv:
            srv.get("/api/health")
            srv.get("/api/runs?q=QUERYSECRET&limit=5")
            srv.request("PUT", "/api/runs")
            srv.get("/api/nope")
            time.sleep(0.3)
            log = srv.log()
        lines = [l for l in log.splitlines() if re.match(r"^[A-Z]+ /", l)]
        self.assertTrue(any(re.match(r"^GET /api/health 200 [0-9.]+ms$", l) for l in lines), log)
        self.assertTrue(any(re.match(r"^PUT /api/runs 405 [0-9.]+ms$", l) for l in lines), log)
        self.assertTrue(any(re.match(r"^GET /api/nope 404 [0-9.]+ms$", l) for l in lines), log)
        self.assertTrue(any(l.startswith("GET /api/runs ") for l in lines), log)
        self.assertNotIn("QUERYSECRET", log)
        health = [l for l in lines if l.startswith("GET /api/health ")]
        self.assertGreaterEqual(len(health), 1)
        self.assertEqual(len([l for l in lines if l.startswith("PUT ")]), 1)

    def test_sigterm_lets_an_inflight_request_finish(self):
        body, ctype = lsapi.multipart(None, [("file", "slow.csv", b"a,b\n1,2\n" * 2000,
                                              "text/csv")])
        with lsapi.Server() as srv:
            req = raw_request("POST", "/api/datasets", {"Content-Type": ctype,
                                                        "Content-Length": str(len(body))})
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=60)
            s.sendall(req + body[:5000])
            deadline = time.time() + 20
            while time.time() < deadline and not tmp_files(srv):
                time.sleep(0.02)
            srv.proc.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            self.assertIsNone(srv.proc.poll(), "the server quit with a request in flight")
            s.sendall(body[5000:])
            out = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                out += b
            s.close()
            self.assertIn(status_of(out), (200, 201, 400, 415, 422, 501), out[:300])
            self.assertEqual(srv.proc.wait(60), 0)
            self.assertIn("stopping", srv.log())
            # no new connection once stopping
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()

    def test_demo_seeds_an_empty_store_once(self):
        with tempfile.TemporaryDirectory(prefix="lsdemo-") as tmp:
            data = os.path.join(tmp, "data")
            for _ in range(2):  # the second start finds a run and adds none
                with lsapi.Server(args=["--demo"], data_dir=data) as srv:
                    j = srv.get("/api/runs").json()
                    self.assertEqual(j["total"], 1, j)
                    self.assertEqual(j["runs"][0]["status"], "done")
                    self.assertGreater(j["runs"][0]["total"], 0)


class Jobs(lsapi.TestCase):
    """Requests that wait for a job: the connection is suspended and resumed."""

    def test_many_waiting_requests_and_clients_that_leave(self):
        with tempfile.TemporaryDirectory(prefix="lsjobs-") as tmp:
            path = lsapi.demo_csv(os.path.join(tmp, "d.csv"), rows=300)
            with lsapi.Server(args=["--workers", "2", "--queue", "64"]) as srv:
                r = srv.upload_file("/api/datasets", path)
                self.assertIn(r.status, (200, 201), r)
                ds = r.json()["dataset_id"]
                # clients that go away while their job runs: the job ends, the
                # request is released (the sanitizer build checks nothing leaks)
                for seed in range(1, 6):
                    body = json.dumps({"dataset_id": ds, "trees": 20, "seed": seed}).encode()
                    s = socket.create_connection(("127.0.0.1", srv.port))
                    s.sendall(raw_request("POST", "/api/models", {
                        "Content-Type": "application/json", "Content-Length": str(len(body))},
                        body))
                    s.close()
                # many at once: jobs that end before, during and after the suspension
                statuses = []
                lock = threading.Lock()

                def one(seed):
                    r = srv.post_json("/api/models", {"dataset_id": ds, "trees": 2, "seed": seed})
                    with lock:
                        statuses.append((r.status, r.json().get("model_id")))

                threads = [threading.Thread(target=one, args=(100 + i,)) for i in range(24)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(600)
                self.assertEqual(len(statuses), 24)
                for st, mid in statuses:
                    self.assertIn(st, (200, 201))
                    self.assertIsInstance(mid, int)
                self.assertEqual(len({mid for _, mid in statuses}), 24)  # one model per seed
                self.assertStatus(srv.get("/api/health"), 200)
                time.sleep(0.5)
                log = srv.log()
                # one log line per request: the 24, and the 5 that left (answered into
                # a closed socket, or released unanswered)
                answered = len(re.findall(r"^POST /api/models 20[01] ", log, re.M))
                gone = len(re.findall(r"^POST /api/models - .*client gone", log, re.M))
                self.assertGreaterEqual(answered, 24, log)
                self.assertEqual(answered + gone, 29, log)

    def test_sigterm_waits_for_a_running_job(self):
        with tempfile.TemporaryDirectory(prefix="lsjobs-") as tmp:
            path = lsapi.demo_csv(os.path.join(tmp, "d.csv"), rows=5000)
            with lsapi.Server(args=["--workers", "1"]) as srv:
                ds = srv.upload_file("/api/datasets", path).json()["dataset_id"]
                out = {}

                def run():
                    out["r"] = srv.post_json("/api/runs", {"dataset_id": ds, "trees": 300})

                t = threading.Thread(target=run)
                t.start()
                deadline = time.time() + 120
                running = False
                while time.time() < deadline and t.is_alive() and not running:
                    runs = srv.get("/api/runs").json().get("runs", [])
                    running = any(x.get("status") in ("queued", "running") for x in runs)
                    time.sleep(0.02)
                srv.proc.send_signal(signal.SIGTERM)
                t.join(600)
                r = out.get("r")
                self.assertIsNotNone(r, "no answer")
                self.assertEqual(r.status, 201, r)
                self.assertEqual(r.json()["status"], "done")
                self.assertEqual(srv.proc.wait(600), 0)
            # the run was stored whole: a restart on the same folder shows it done


if __name__ == "__main__":
    lsapi.main()
