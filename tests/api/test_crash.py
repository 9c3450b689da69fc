#!/usr/bin/env python3
"""test_crash.py — SIGKILL in the middle of work loses nothing already stored.

The server is killed (SIGKILL: no cleanup of any kind runs) while a run is
training, and again while a run's leads are being written to the store. After
each restart on the same data folder: every run finished before the kill is
intact (same summary, same leads, same export), the interrupted run is
visible only as failed ("interrupted"), no model row points to a missing or
half-written file, no file is left under tmp/, and the server works on (a new
run of the same file succeeds).
"""
import os
import time
import unittest

import lsapi


def wait_stage(srv, run_id, stages, timeout=300):
    """Poll GET /api/runs/{id} until its stage is one of stages; returns the run."""
    t0 = time.time()
    last = None
    while time.time() - t0 < timeout:
        r = srv.get("/api/runs/%d" % run_id)
        if r.status == 200:
            last = r.json()
            if last.get("stage") in stages or last.get("status") in ("done", "failed"):
                return last
        time.sleep(0.005)
    raise AssertionError("run %d never reached %s: %r" % (run_id, stages, last))


class CrashTest(lsapi.TestCase):
    def check_store(self, srv, before):
        """Every run in before ({run_id: (summary, leads page, export)}) is unchanged."""
        for run_id, (summary, page, export) in before.items():
            r = srv.get("/api/runs/%d" % run_id)
            self.assertEqual(r.status, 200, r.text)
            got = r.json()
            self.assertEqual(got["status"], "done")
            self.assertEqual(got["summary"], summary)
            r = srv.get("/api/runs/%d/leads?limit=500&sort=rank&order=asc" % run_id)
            self.assertEqual(r.json(), page)
            r = srv.get("/api/runs/%d/export.csv" % run_id)
            self.assertEqual(r.status, 200)
            self.assertEqual(r.body, export)
        # no leftovers, no model row without its file
        tmp = os.path.join(srv.data_dir, "tmp")
        self.assertEqual(os.listdir(tmp) if os.path.isdir(tmp) else [], [])
        r = srv.get("/api/models?limit=500")
        self.assertEqual(r.status, 200, r.text)
        for m in r.json()["models"]:
            self.assertEqual(srv.get("/api/models/%d" % m["model_id"]).status, 200)
        models = os.path.join(srv.data_dir, "models")
        on_disk = sorted(os.listdir(models)) if os.path.isdir(models) else []
        self.assertEqual(len(on_disk), len(r.json()["models"]), on_disk)

    def snapshot(self, srv, run_id):
        # the top leads' insights are written by a worker after the run: wait
        # for them, so that the page compared after the crash is the whole one
        deadline = time.time() + 60
        while srv.get("/api/runs/%d/insights" % run_id).json().get("status") != "done":
            self.assertLess(time.time(), deadline, "insights of run %d never written" % run_id)
            time.sleep(0.05)
        r = srv.get("/api/runs/%d" % run_id)
        self.assertEqual(r.status, 200, r.text)
        page = srv.get("/api/runs/%d/leads?limit=500&sort=rank&order=asc" % run_id).json()
        export = srv.get("/api/runs/%d/export.csv" % run_id).body
        return r.json()["summary"], page, export

    def kill_at(self, stages, rows, seed):
        """Run a first file to completion, start a second big one, kill at stages."""
        with lsapi.Server(check_exit=False) as srv:
            small = lsapi.demo_csv(os.path.join(self.tmp, "small.csv"), rows=600, seed=seed)
            r = srv.upload_file("/api/datasets", small)
            self.assertIn(r.status, (200, 201), r.text)
            r = srv.post_json("/api/runs", {"dataset_id": r.json()["dataset_id"]})
            self.assertIn(r.status, (200, 201), r.text)
            done_id = r.json()["run_id"]
            before = {done_id: self.snapshot(srv, done_id)}

            big = lsapi.demo_csv(os.path.join(self.tmp, "big-%d.csv" % seed), rows=rows,
                                 seed=seed + 1)
            r = srv.upload_file("/api/datasets", big)
            self.assertIn(r.status, (200, 201), r.text)
            ds = r.json()["dataset_id"]
            r = srv.post_json("/api/runs", {"dataset_id": ds, "wait": False})
            self.assertIn(r.status, (200, 202), r.text)
            run_id = r.json()["run_id"]
            state = wait_stage(srv, run_id, stages)
            srv.kill()
            self.assertNotIn(state.get("status"), ("done",),
                             "the run finished before the kill; make the file bigger")
            data_dir = srv.data_dir
            # restart on the same folder (the first server's folder lives until its block ends)
            with lsapi.Server(data_dir=data_dir) as again:
                self.check_store(again, before)
                r = again.get("/api/runs/%d" % run_id)
                self.assertEqual(r.status, 200, r.text)
                self.assertEqual(r.json()["status"], "failed", r.text)
                self.assertIn("interrupted", r.json().get("error") or "")
                r = again.get("/api/runs/%d/leads" % run_id)
                self.assertNotEqual(r.status, 200, "an interrupted run shows leads")
                # the service works on: the same file scores now
                r = again.post_json("/api/runs", {"dataset_id": ds})
                self.assertIn(r.status, (200, 201), r.text)
                self.assertEqual(r.json()["summary"]["total"], rows)

    def setUp(self):
        import tempfile
        self._td = tempfile.TemporaryDirectory(prefix="lscrash-")
        self.tmp = self._td.name

    def tearDown(self):
        self._td.cleanup()

    def test_kill_during_training(self):
        self.kill_at(("training",), rows=60000, seed=11)

    def test_kill_during_store_write(self):
        self.kill_at(("storing",), rows=150000, seed=21)


if __name__ == "__main__":
    lsapi.main()
