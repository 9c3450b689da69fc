"""lsapi.py — the API tests' harness: the real `leadscore serve` on a loopback port.

Every API test (tests/api/test_*.py, one ctest test `api.NAME` each) starts the
real server binary ($LEADSCORE_BIN) with `--port 0` on a fresh data folder,
reads the port it printed, waits for GET /api/health, talks to it with
http.client (or a raw socket for requests http.client will not send), and
stops it with SIGTERM, checking that it exits 0. Python standard library only.

    import lsapi
    class T(lsapi.TestCase):
        def test_x(self):
            with lsapi.Server() as srv:
                r = srv.get("/api/health")
                self.assertEqual(r.status, 200, r.text)
    if __name__ == "__main__":
        lsapi.main()

Exit codes (lsapi.main): 0 passed, 1 a failure, 77 every test skipped (the
Leads.csv tests without LS_SHARED_DATA: use lsapi.leads_csv(), which skips).
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import http.client
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("LS_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
START_TIMEOUT = float(os.environ.get("LS_API_START_TIMEOUT", "120"))


def binary():
    """The leadscore binary under test: $LEADSCORE_BIN, else build/leadscore."""
    b = os.environ.get("LEADSCORE_BIN") or os.path.join(SOURCE_DIR, "build", "leadscore")
    if not os.path.exists(b):
        raise unittest.SkipTest("no leadscore binary (set LEADSCORE_BIN): %s" % b)
    return b


def shared_data(name):
    """Path of a file under LS_SHARED_DATA (../shared/data), or skip the test."""
    d = os.environ.get("LS_SHARED_DATA") or os.path.join(SOURCE_DIR, "..", "shared", "data")
    p = os.path.join(d, name)
    if not os.path.exists(p):
        raise unittest.SkipTest("%s not found (LS_SHARED_DATA)" % p)
    return p


def leads_csv():
    """../shared/data/Leads.csv, or skip (the test counts as skipped, exit 77 if all do)."""
    return shared_data("Leads.csv")


def demo_csv(path, rows=500, seed=42, unknown=None):
    """Write a generated lead file (leadscore demo-data) to path; returns path."""
    cmd = [binary(), "demo-data", "--rows", str(rows), "--seed", str(seed), "-o", path]
    if unknown is not None:
        cmd += ["--unknown", str(unknown)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return path


class Response:
    """One HTTP answer: status, headers (lower-case names), body bytes."""

    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def __repr__(self):
        return "<%d %s %r>" % (self.status, self.reason, self.body[:300])


def multipart(fields, files, boundary=None):
    """A multipart/form-data body: fields {name: value}, files [(field, filename,
    bytes, content_type)]. Returns (body, content_type header)."""
    boundary = boundary or "----lsapi" + uuid.uuid4().hex
    out = []
    for name, value in (fields or {}).items():
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n" %
                    (boundary, name)).encode())
        out.append(value.encode() if isinstance(value, str) else value)
        out.append(b"\r\n")
    for field, filename, data, ctype in files or []:
        fn = filename.encode() if isinstance(filename, str) else filename
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"" %
                    (boundary, field)).encode() + fn + b"\"\r\n")
        out.append(("Content-Type: %s\r\n\r\n" % (ctype or "application/octet-stream")).encode())
        out.append(data)
        out.append(b"\r\n")
    out.append(("--%s--\r\n" % boundary).encode())
    return b"".join(out), "multipart/form-data; boundary=%s" % boundary


class Server:
    """`leadscore serve --port 0 --data-dir DIR` as a context manager.

    args: extra command-line arguments; env: extra environment (e.g.
    {"LEADSCORE_API_TOKEN": "t"}); host: --host (requests go to 127.0.0.1
    when it is 0.0.0.0); data_dir: reuse a folder (restarts), else a fresh
    temporary one removed at the end; token: sent as Authorization: Bearer
    on every request unless auth=False is passed (defaults to the env's
    LEADSCORE_API_TOKEN).
    """

    def __init__(self, args=(), env=None, host=None, data_dir=None, token=None, check_exit=True):
        self.args = list(args)
        self.extra_env = dict(env or {})
        self.host = host
        self.token = token if token is not None else self.extra_env.get("LEADSCORE_API_TOKEN")
        self.check_exit = check_exit
        self._tmp = None
        self.data_dir = data_dir
        self.proc = None
        self.port = None
        self.stdout_lines = []
        self.banner = None
        self._stderr = None

    # ---- lifecycle -------------------------------------------------------

    def command(self):
        cmd = [binary(), "serve", "--port", "0", "--data-dir", self.data_dir]
        if self.host:
            cmd += ["--host", self.host]
        return cmd + self.args

    def start(self):
        if self.data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="lsapi-")
            self.data_dir = os.path.join(self._tmp.name, "data")
        env = dict(os.environ)
        env.pop("LEADSCORE_API_TOKEN", None)
        env.update(self.extra_env)
        self._stderr = tempfile.TemporaryFile(prefix="lsapi-err-")
        self.proc = subprocess.Popen(self.command(), stdout=subprocess.PIPE, stderr=self._stderr,
                                     stdin=subprocess.DEVNULL, env=env)
        self._read_banner()
        self._wait_health()
        return self

    def _read_banner(self):
        """Read stdout until "serving on http://HOST:PORT"; keep draining it after."""
        found = threading.Event()

        def reader():
            for raw in self.proc.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                self.stdout_lines.append(line)
                if not found.is_set() and "serving on http://" in line:
                    hostport = line.split("http://", 1)[1].split()[0].rstrip("/")
                    self.port = int(hostport.rsplit(":", 1)[1])
                    self.banner = line
                    found.set()
            found.set()

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        if not found.wait(START_TIMEOUT) or self.port is None:
            rc = self.proc.poll()
            self.kill()
            raise AssertionError("server did not start (exit %r): stdout %r stderr %r" %
                                 (rc, self.stdout_lines, self.log()))

    def _wait_health(self):
        deadline = time.time() + START_TIMEOUT
        last = None
        while time.time() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                r = self.request("GET", "/api/health", auth=False, timeout=5)
                if r.status == 200:
                    return
                last = r
            except OSError as e:
                last = e
            time.sleep(0.05)
        rc = self.proc.poll()
        self.kill()
        raise AssertionError("server not healthy (exit %r, last %r): %s" % (rc, last, self.log()))

    def stop(self, sig=signal.SIGTERM, timeout=120):
        """Send sig and wait; returns the exit code (checked to be 0 when check_exit)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("server did not stop within %ss: %s" % (timeout, self.log()))
        return rc

    def kill(self):
        """SIGKILL (crash tests); returns the exit code."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        return self.proc.wait() if self.proc else None

    def cleanup(self):
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(self, et, ev, tb):
        try:
            rc = self.stop()
            if et is None and self.check_exit and rc != 0:
                raise AssertionError("server exited %r: %s" % (rc, self.log()))
        finally:
            if self.proc and self.proc.stdout:
                self.proc.stdout.close()
            if self._stderr:
                self._stderr.close()
                self._stderr = None
            self.cleanup()
        return False

    def log(self):
        """Everything the server wrote to stderr so far (its request log)."""
        if not self._stderr:
            return ""
        pos = self._stderr.tell()
        self._stderr.seek(0)
        data = self._stderr.read()
        self._stderr.seek(pos)
        return data.decode("utf-8", "replace")

    # ---- requests --------------------------------------------------------

    @property
    def connect_host(self):
        return "127.0.0.1" if self.host in (None, "0.0.0.0", "127.0.0.1") else self.host

    @property
    def base(self):
        return "http://%s:%d" % (self.connect_host, self.port)

    def connection(self, timeout=300):
        """A fresh http.client connection (keep-alive: reuse it yourself)."""
        return http.client.HTTPConnection(self.connect_host, self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, auth=True, timeout=300, conn=None):
        """Send one request; returns a Response. body: bytes, str, or None."""
        h = dict(headers or {})
        if auth and self.token and not any(k.lower() == "authorization" for k in h):
            h["Authorization"] = "Bearer " + self.token
        if isinstance(body, str):
            body = body.encode("utf-8")
        own = conn is None
        c = conn or self.connection(timeout)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            return Response(r.status, r.reason, {k.lower(): v for k, v in r.getheaders()}, data)
        finally:
            if own:
                c.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def post_json(self, path, obj, **kw):
        h = dict(kw.pop("headers", None) or {})
        h.setdefault("Content-Type", "application/json")
        body = obj if isinstance(obj, (bytes, str)) else json.dumps(obj)
        return self.request("POST", path, body=body, headers=h, **kw)

    def upload(self, path, filename, data, field="file", content_type="text/csv", fields=None,
               **kw):
        """POST a multipart upload of data (bytes) under filename in field."""
        body, ctype = multipart(fields, [(field, filename, data, content_type)])
        h = dict(kw.pop("headers", None) or {})
        h.setdefault("Content-Type", ctype)
        return self.request("POST", path, body=body, headers=h, **kw)

    def upload_file(self, path, file_path, filename=None, **kw):
        with open(file_path, "rb") as f:
            data = f.read()
        return self.upload(path, filename or os.path.basename(file_path), data, **kw)

    def raw(self, data, timeout=30, read_all=True):
        """Send raw bytes on a fresh socket; returns everything answered (until
        the server closes, or the first response when read_all is False)."""
        s = socket.create_connection((self.connect_host, self.port), timeout=timeout)
        try:
            s.sendall(data)
            chunks = []
            while True:
                try:
                    b = s.recv(65536)
                except socket.timeout:
                    break
                if not b:
                    break
                chunks.append(b)
                if not read_all and b"\r\n\r\n" in b"".join(chunks):
                    head, _, rest = b"".join(chunks).partition(b"\r\n\r\n")
                    n = 0
                    for line in head.split(b"\r\n"):
                        if line.lower().startswith(b"content-length:"):
                            n = int(line.split(b":", 1)[1])
                    if len(rest) >= n:
                        break
            return b"".join(chunks)
        finally:
            s.close()

    def raw_status(self, data, **kw):
        """The status code of a raw request's first response (0 when none)."""
        out = self.raw(data, **kw)
        try:
            return int(out.split(b" ", 2)[1])
        except (IndexError, ValueError):
            return 0

    def wait_job(self, run_id, timeout=600):
        """Poll GET /api/runs/{id} until its status is done or failed; returns the JSON."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            r = self.get("/api/runs/%d" % run_id)
            if r.status == 200:
                j = r.json()
                if j.get("status") in ("done", "failed"):
                    return j
            time.sleep(0.1)
        raise AssertionError("run %d did not end in %ss" % (run_id, timeout))


class TestCase(unittest.TestCase):
    """unittest.TestCase with a few API assertions."""

    maxDiff = 4000

    def assertStatus(self, r, status, msg=None):
        self.assertEqual(r.status, status, msg or repr(r))

    def assertApiError(self, r, status, code=None):
        """An /api/ error: status, {"error": {"code", "message"}}."""
        self.assertStatus(r, status)
        j = r.json()
        self.assertIn("error", j, r.text)
        self.assertIsInstance(j["error"].get("message"), str, r.text)
        if code is not None:
            self.assertEqual(j["error"].get("code"), code, r.text)
        return j

    def assertCompatError(self, r, status):
        """An old-route error: status, {"detail": "..."}."""
        self.assertStatus(r, status)
        j = r.json()
        self.assertIsInstance(j.get("detail"), str, r.text)
        return j


def main():
    """Run the calling module's tests: exit 0 passed, 1 failed, 77 all skipped."""
    prog = unittest.main(module="__main__", exit=False, verbosity=2)
    res = prog.result
    if not res.wasSuccessful():
        sys.exit(1)
    if res.testsRun and len(res.skipped) == res.testsRun:
        sys.exit(77)
    sys.exit(0)
