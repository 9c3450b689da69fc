"""test_routes.py — every /api/ route of src/http/api.c: happy paths and errors.

One server on a generated lead file serves most tests (data sets, models,
runs, leads, export, real-time scoring, 400/404/405); a second one with one
worker and no queue shows the pool's 503 and a running run's 409. Every
answer is checked against openapi.json on the way (oaschema.Server).
"""

import csv
import io
import json
import os
import tempfile
import threading
import time

import lsapi
import oaschema

ROWS = 600


def demo_bytes(tmp, rows=ROWS, seed=42, name="leads.csv"):
    with open(lsapi.demo_csv(os.path.join(tmp, name), rows=rows, seed=seed), "rb") as f:
        return f.read()


class Api(lsapi.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="routes-")
        cls.csv = demo_bytes(cls.tmp.name)
        cls.srv = oaschema.Server().start()
        r = cls.srv.upload("/api/datasets", "leads.csv", cls.csv)
        assert r.status == 201, r
        cls.ds = r.json()

    @classmethod
    def tearDownClass(cls):
        rc = cls.srv.stop()
        cls.srv.cleanup()
        cls.tmp.cleanup()
        assert rc == 0, "server exited %r" % rc

    # ---- helpers ----------------------------------------------------------

    def post(self, path, obj):
        return self.srv.post_json(path, obj)

    def assertNames(self, r, status, word):
        """An /api/ error of status whose message names word (a field, a parameter)."""
        j = self.assertApiError(r, status)
        self.assertIn(word, j["error"]["message"], r.text)

    def run_of(self, **opts):
        opts.setdefault("dataset_id", self.ds["dataset_id"])
        r = self.post("/api/runs", opts)
        self.assertIn(r.status, (200, 201), r)
        return r.json()

    # ---- data sets --------------------------------------------------------

    def test_dataset_upload_and_get(self):
        d = self.ds
        self.assertEqual(d["filename"], "leads.csv")
        self.assertEqual(d["rows"], ROWS)
        self.assertEqual(len(d["fingerprint"]), 64)
        names = [c["name"] for c in d["columns"]]
        self.assertIn("Converted", names)
        self.assertEqual(d["target"]["name"], "Converted")
        self.assertLessEqual(len(d["preview"]), 5)
        self.assertGreater(len(d["preview"]), 0)
        # the same bytes again: the same data set, 200
        r = self.srv.upload("/api/datasets", "again.csv", self.csv)
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["dataset_id"], d["dataset_id"])
        self.assertTrue(r.json().get("existed"), r.text)
        r = self.srv.get("/api/datasets/%d" % d["dataset_id"])
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["dataset_id"], d["dataset_id"])
        self.assertEqual(r.json()["fingerprint"], d["fingerprint"])

    def test_dataset_errors(self):
        self.assertApiError(self.srv.get("/api/datasets/999999"), 404, "NOT_FOUND")
        png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
        self.assertApiError(self.srv.upload("/api/datasets", "x.png", png, content_type="image/png"),
                            415)
        r = self.srv.upload("/api/datasets", "empty.csv", b"")
        self.assertIn(r.status, (400, 422), r)
        self.assertApiError(r, r.status)
        r = self.srv.upload("/api/datasets", "bad.csv", b"a,b\n1,\"unterminated\n")
        self.assertIn(r.status, (400, 422), r)
        self.assertApiError(r, r.status)
        self.assertApiError(self.srv.request("DELETE", "/api/datasets/1"), 405)
        self.assertApiError(self.srv.get("/api/datasets"), 405)

    # ---- models -----------------------------------------------------------

    def test_model_train_cache_list_get_delete(self):
        body = {"dataset_id": self.ds["dataset_id"], "trees": 40, "seed": 11}
        r = self.post("/api/models", body)
        self.assertStatus(r, 201)
        m = r.json()
        self.assertGreater(m["model_id"], 0)
        self.assertEqual(m["dataset_id"], self.ds["dataset_id"])
        self.assertIsInstance(m["metrics"]["auc"], float)
        self.assertGreater(m["metrics"]["auc"], 0.5)
        self.assertFalse(m.get("cached"))
        # the same data and options: the stored model
        r = self.post("/api/models", body)
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["model_id"], m["model_id"])
        self.assertTrue(r.json()["cached"])
        # other options: another model
        r = self.post("/api/models", dict(body, seed=12, exclude=["Industry"]))
        self.assertStatus(r, 201)
        other = r.json()
        self.assertNotEqual(other["model_id"], m["model_id"])
        r = self.srv.get("/api/models?limit=500")
        self.assertStatus(r, 200)
        ids = [x["model_id"] for x in r.json()["models"]]
        self.assertIn(m["model_id"], ids)
        self.assertEqual(ids, sorted(ids, reverse=True), "newest first")
        r = self.srv.get("/api/models?limit=1&offset=0")
        self.assertEqual(len(r.json()["models"]), 1)
        self.assertEqual(r.json()["limit"], 1)
        r = self.srv.get("/api/models/%d" % m["model_id"])
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["model_id"], m["model_id"])
        self.assertStatus(self.srv.delete("/api/models/%d" % other["model_id"]), 204)
        self.assertApiError(self.srv.get("/api/models/%d" % other["model_id"]), 404, "NOT_FOUND")
        self.assertApiError(self.srv.delete("/api/models/%d" % other["model_id"]), 404)

    def test_model_bad_requests(self):
        ds = self.ds["dataset_id"]
        self.assertApiError(self.post("/api/models", "{not json"), 400)
        self.assertApiError(self.post("/api/models", "[1,2]"), 400)
        self.assertApiError(self.srv.request("POST", "/api/models"), 400)
        self.assertNames(self.post("/api/models", {}), 400, "dataset_id")
        self.assertNames(self.post("/api/models", {"dataset_id": "1"}), 400, "dataset_id")
        self.assertNames(self.post("/api/models", {"dataset_id": -3}), 400, "dataset_id")
        self.assertNames(self.post("/api/models", {"dataset_id": ds, "tres": 5}), 400, "tres")
        for trees in (0, 2001, "100", 1.5, True):
            self.assertNames(self.post("/api/models", {"dataset_id": ds, "trees": trees}), 400,
                             "trees")
        self.assertNames(self.post("/api/models", {"dataset_id": ds, "seed": -1}), 400, "seed")
        self.assertNames(self.post("/api/models", {"dataset_id": ds, "exclude": "Industry"}), 400,
                         "exclude")
        self.assertNames(self.post("/api/models", {"dataset_id": ds, "exclude": [1]}), 400,
                         "exclude")
        self.assertNames(self.post("/api/models", {"dataset_id": ds, "exclude": ["x"] * 257}),
                         400, "exclude")
        self.assertNames(self.post("/api/models", {"dataset_id": ds, "include_leaky": "yes"}),
                         400, "include_leaky")
        self.assertNames(self.post("/api/models", {"dataset_id": ds, "target": ""}), 400,
                         "target")
        self.assertApiError(self.post("/api/models", {"dataset_id": 999999}), 404, "NOT_FOUND")
        r = self.post("/api/models", {"dataset_id": ds, "target": "No Such Column"})
        self.assertIn(r.status, (400, 404, 422), r)
        self.assertApiError(r, r.status)
        self.assertApiError(self.srv.get("/api/models/999999"), 404, "NOT_FOUND")
        self.assertNames(self.srv.get("/api/models?limit=0"), 400, "limit")
        self.assertNames(self.srv.get("/api/models?limit=501"), 400, "limit")
        self.assertNames(self.srv.get("/api/models?offset=-1"), 400, "offset")
        self.assertNames(self.srv.get("/api/models?offset=abc"), 400, "offset")
        self.assertApiError(self.srv.request("PUT", "/api/models"), 405)
        self.assertApiError(self.srv.request("PATCH", "/api/models/1"), 405)

    # ---- runs -------------------------------------------------------------

    def test_run_create_cached_get_list(self):
        run = self.run_of(trees=50, seed=3)
        self.assertEqual(run["dataset_id"], self.ds["dataset_id"])
        self.assertGreater(run["model_id"], 0)
        s = run["summary"]
        self.assertEqual(s["total"], ROWS)
        self.assertEqual(sum(s["tiers"].values()), ROWS)
        self.assertLessEqual(len(run["top_leads"]), 10)
        self.assertGreater(len(run["top_leads"]), 0)
        scores = [l["score"] for l in run["top_leads"]]
        self.assertEqual(scores, sorted(scores, reverse=True))
        self.assertIn("for", run["top_leads"][0]["reasons"])
        self.assertIn("drift", run)
        # the same file and options: the stored run at once
        r = self.post("/api/runs", {"dataset_id": self.ds["dataset_id"], "trees": 50, "seed": 3})
        self.assertStatus(r, 200)
        self.assertTrue(r.json()["cached"])
        self.assertEqual(r.json()["run_id"], run["run_id"])
        # scoring with a given model
        r = self.post("/api/runs", {"dataset_id": self.ds["dataset_id"],
                                    "model_id": run["model_id"]})
        self.assertIn(r.status, (200, 201), r)
        self.assertEqual(r.json()["model_id"], run["model_id"])
        r = self.srv.get("/api/runs/%d" % run["run_id"])
        self.assertStatus(r, 200)
        g = r.json()
        self.assertEqual(g["status"], "done")
        self.assertEqual(g["run_id"], run["run_id"])
        self.assertTrue(g["created"].endswith("Z"), g["created"])
        r = self.srv.get("/api/runs?limit=500")
        self.assertStatus(r, 200)
        ids = [x["run_id"] for x in r.json()["runs"]]
        self.assertIn(run["run_id"], ids)
        self.assertEqual(ids, sorted(ids, reverse=True), "newest first")
        self.assertGreaterEqual(r.json()["total"], len(ids))
        self.assertEqual(len(self.srv.get("/api/runs?limit=1").json()["runs"]), 1)

    def test_run_no_wait_then_delete(self):
        r = self.post("/api/runs", {"dataset_id": self.ds["dataset_id"], "trees": 25, "seed": 99,
                                    "wait": False})
        self.assertStatus(r, 202)
        j = r.json()
        self.assertIn(j["status"], ("queued", "running"))
        done = self.srv.wait_job(j["run_id"])
        self.assertEqual(done["status"], "done", done)
        self.assertEqual(done["summary"]["total"], ROWS)
        self.assertStatus(self.srv.delete("/api/runs/%d" % j["run_id"]), 204)
        self.assertApiError(self.srv.get("/api/runs/%d" % j["run_id"]), 404, "NOT_FOUND")
        self.assertApiError(self.srv.get("/api/runs/%d/leads" % j["run_id"]), 404)
        self.assertApiError(self.srv.delete("/api/runs/%d" % j["run_id"]), 404)

    def test_run_bad_requests(self):
        ds = self.ds["dataset_id"]
        self.assertApiError(self.post("/api/runs", "{\"dataset_id\": "), 400)
        self.assertNames(self.post("/api/runs", {}), 400, "dataset_id")
        self.assertNames(self.post("/api/runs", {"dataset_id": ds, "wait": "no"}), 400, "wait")
        self.assertNames(self.post("/api/runs", {"dataset_id": ds, "bogus": 1}), 400, "bogus")
        self.assertNames(self.post("/api/runs", {"dataset_id": ds, "model_id": 0}), 400,
                         "model_id")
        self.assertNames(self.post("/api/runs", {"dataset_id": ds, "model_id": 1, "trees": 9}),
                         400, "model_id")
        self.assertNames(self.post("/api/runs", {"dataset_id": ds, "trees": 5000}), 400, "trees")
        self.assertApiError(self.post("/api/runs", {"dataset_id": 999999}), 404, "NOT_FOUND")
        self.assertApiError(self.post("/api/runs", {"dataset_id": ds, "model_id": 999999}), 404,
                            "NOT_FOUND")
        for path in ("/api/runs/999999", "/api/runs/999999/leads", "/api/runs/999999/leads/1",
                     "/api/runs/999999/export.csv"):
            self.assertApiError(self.srv.get(path), 404)
        self.assertApiError(self.srv.delete("/api/runs/999999"), 404)
        self.assertNames(self.srv.get("/api/runs?limit=x"), 400, "limit")
        self.assertApiError(self.srv.request("PUT", "/api/runs/1"), 405)
        self.assertApiError(self.srv.request("POST", "/api/runs/1/leads"), 405)
        # an id is a positive integer: anything else is no route
        self.assertApiError(self.srv.get("/api/runs/abc"), 404)
        self.assertApiError(self.srv.get("/api/runs/0"), 404)
        self.assertApiError(self.srv.get("/api/nothing-here"), 404)

    def run_scores(self, run):
        """Every lead's score as stored (full precision; the export rounds)."""
        out = {}
        for off in range(0, ROWS, 500):
            r = self.srv.get("/api/runs/%d/leads?sort=row&order=asc&limit=500&offset=%d"
                             % (run["run_id"], off))
            self.assertStatus(r, 200)
            out.update({l["id"]: l["score"] for l in r.json()["leads"]})
        self.assertEqual(len(out), ROWS)
        return out

    def test_run_score_histogram(self):
        run = self.run_of(trees=30, seed=5)
        want = [0] * 20
        for v in self.run_scores(run).values():
            want[min(int(v // 5), 19)] += 1
        for answer in (run, self.run_of(trees=30, seed=5),  # fresh, then cached
                       self.srv.get("/api/runs/%d" % run["run_id"]).json()):
            h = answer["summary"]["score_histogram"]
            self.assertEqual([(b["from"], b["to"]) for b in h],
                             [(5 * k, 5 * k + 5) for k in range(20)])
            self.assertEqual([b["leads"] for b in h], want)
            self.assertEqual(sum(b["leads"] for b in h), ROWS)
            # the tiers' default thresholds (70, 30) fall on bin edges
            tiers = answer["summary"]["tiers"]
            self.assertEqual(sum(want[14:]), tiers["High"])
            self.assertEqual(sum(want[6:14]), tiers["Medium"])

    def test_positive_class(self):
        ds = self.ds["dataset_id"]
        self.assertEqual(self.ds["target"]["positive"], "1")
        a = self.run_of(trees=30, seed=21)
        b = self.run_of(trees=30, seed=21, positive="0")
        self.assertFalse(b["cached"])
        self.assertEqual((a["positive"], b["positive"]), ("1", "0"))
        self.assertNotEqual(a["model_id"], b["model_id"])
        # the other class: the leads that scored high now score low
        sa, sb = self.run_scores(a), self.run_scores(b)
        ids = sorted(sa)
        xa, xb = [sa[i] for i in ids], [sb[i] for i in ids]
        ma, mb = sum(xa) / len(xa), sum(xb) / len(xb)
        cov = sum((p - ma) * (q - mb) for p, q in zip(xa, xb))
        var = (sum((p - ma) ** 2 for p in xa) * sum((q - mb) ** 2 for q in xb)) ** 0.5
        self.assertLess(cov / var, -0.5)
        top = max(ids, key=lambda i: sa[i])
        self.assertLess(sb[top], sorted(xb)[len(xb) // 2], "the best lead is below the median")
        # naming the detected class is the detected run; the model route agrees
        c = self.run_of(trees=30, seed=21, positive="1")
        self.assertEqual((c["cached"], c["run_id"]), (True, a["run_id"]))
        r = self.post("/api/models", {"dataset_id": ds, "trees": 30, "seed": 21,
                                      "positive": "0"})
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["model_id"], b["model_id"])
        self.assertEqual(r.json()["options"]["positive"], "0")

    def test_positive_bad_requests(self):
        ds = self.ds["dataset_id"]
        for path in ("/api/runs", "/api/models"):
            r = self.post(path, {"dataset_id": ds, "positive": "Maybe"})
            j = self.assertApiError(r, 400)
            for word in ("'Maybe'", "Converted", "'1'", "'0'"):
                self.assertIn(word, j["error"]["message"])
            for bad in ("", 1, ["1"], "x" * 256):
                self.assertNames(self.post(path, {"dataset_id": ds, "positive": bad}), 400,
                                 "positive")
        # refused at once, not as a failed run, when the run would not wait
        r = self.post("/api/runs", {"dataset_id": ds, "positive": "Maybe", "wait": False})
        self.assertApiError(r, 400)
        self.assertNames(self.post("/api/runs", {"dataset_id": ds, "model_id": 1, "positive": "0"}),
                         400, "model_id")

    # ---- leads ------------------------------------------------------------

    def test_leads_paging_sorting_filtering(self):
        run = self.run_of()
        base = "/api/runs/%d/leads" % run["run_id"]
        r = self.srv.get(base)
        self.assertStatus(r, 200)
        page = r.json()
        self.assertEqual(page["total"], ROWS)
        self.assertEqual(page["limit"], 50)
        self.assertEqual(len(page["leads"]), 50)
        scores = [l["score"] for l in page["leads"]]
        self.assertEqual(scores, sorted(scores, reverse=True), "score, best first by default")
        # paging: the second page continues the first
        p2 = self.srv.get(base + "?offset=50&limit=50").json()["leads"]
        self.assertLessEqual(p2[0]["score"], page["leads"][-1]["score"])
        self.assertEqual(len({l["row"] for l in page["leads"]} & {l["row"] for l in p2}), 0)
        self.assertEqual(self.srv.get(base + "?offset=100000").json()["leads"], [])
        self.assertEqual(len(self.srv.get(base + "?limit=500").json()["leads"], ), 500)
        # sorting
        ranks = [l["rank"] for l in self.srv.get(base + "?sort=rank&order=asc").json()["leads"]]
        self.assertEqual(ranks, sorted(ranks))
        self.assertEqual(ranks[0], 1)
        rows = [l["row"] for l in self.srv.get(base + "?sort=row&order=desc").json()["leads"]]
        self.assertEqual(rows, sorted(rows, reverse=True))
        self.assertEqual(rows[0], ROWS)
        low = self.srv.get(base + "?sort=score&order=asc&limit=5").json()["leads"]
        self.assertEqual([l["score"] for l in low], sorted(l["score"] for l in low))
        self.assertLessEqual(low[0]["score"], scores[-1])
        # filtering by tier, case-insensitively
        for tier in ("High", "medium", "LOW"):
            j = self.srv.get(base + "?tier=" + tier + "&limit=500").json()
            self.assertEqual(j["total"], run["summary"]["tiers"][tier.capitalize()])
            self.assertTrue(all(l["tier"] == tier.capitalize() for l in j["leads"]))
        # text filter: a lead's own id finds it
        lead_id = page["leads"][0]["id"]
        j = self.srv.get(base + "?q=" + lead_id).json()
        self.assertGreaterEqual(j["total"], 1)
        self.assertIn(lead_id, [l["id"] for l in j["leads"]])
        self.assertEqual(self.srv.get(base + "?q=no-such-lead-anywhere").json()["total"], 0)

    def test_leads_bad_parameters(self):
        run = self.run_of()
        base = "/api/runs/%d/leads" % run["run_id"]
        for query, word in (("tier=Hot", "tier"), ("order=up", "order"), ("limit=0", "limit"),
                            ("limit=501", "limit"), ("limit=5x", "limit"), ("offset=-5", "offset"),
                            ("sort=no_such_column", "sort"), ("q=" + "x" * 201, "q")):
            self.assertNames(self.srv.get(base + "?" + query), 400, word)

    def test_lead_detail(self):
        run = self.run_of()
        top = run["top_leads"][0]
        r = self.srv.get("/api/runs/%d/leads/%d" % (run["run_id"], top["row"]))
        self.assertStatus(r, 200)
        lead = r.json()
        self.assertEqual(lead["row"], top["row"])
        self.assertAlmostEqual(lead["score"], top["score"], places=6)
        self.assertEqual(lead["fields"]["Lead ID"], top["id"])
        self.assertIn("Converted", lead["fields"])
        self.assertGreater(len(lead["contributions"]), 0)
        pts = [abs(c["points"]) for c in lead["contributions"]]
        self.assertEqual(pts, sorted(pts, reverse=True), "largest |points| first")
        self.assertIsInstance(lead["explanation"], str)
        self.assertIsInstance(lead["next_action"], str)
        self.assertApiError(self.srv.get("/api/runs/%d/leads/%d" % (run["run_id"], ROWS + 1)), 404)

    def test_export_csv(self):
        run = self.run_of()
        r = self.srv.get("/api/runs/%d/export.csv" % run["run_id"])
        self.assertStatus(r, 200)
        self.assertTrue(r.header("content-type").startswith("text/csv"), r.headers)
        disp = r.header("content-disposition")
        self.assertEqual(disp, 'attachment; filename="leads-scored-%d.csv"' % run["run_id"])
        rows = list(csv.reader(io.StringIO(r.text)))
        self.assertEqual(len(rows), ROWS + 1)
        head = rows[0]
        for col in ("Lead ID", "Converted", "score", "tier", "rank"):
            self.assertIn(col, head)
        self.assertEqual({x[head.index("tier")] for x in rows[1:]} <= {"High", "Medium", "Low"},
                         True)

    def test_export_csv_filtered(self):
        # the dashboard's Export keeps the table's tier and search filters
        run = self.run_of()
        rid = run["run_id"]
        page = self.srv.get("/api/runs/%d/leads?tier=High&limit=1" % rid)
        self.assertStatus(page, 200)
        high = page.json()["total"]
        r = self.srv.get("/api/runs/%d/export.csv?tier=high" % rid)
        self.assertStatus(r, 200)
        rows = list(csv.reader(io.StringIO(r.text)))
        head = rows[0]
        self.assertEqual(len(rows) - 1, high)
        self.assertEqual({x[head.index("tier")] for x in rows[1:]} <= {"High"}, True)
        ranks = [int(x[head.index("rank")]) for x in rows[1:]]
        self.assertEqual(ranks, sorted(ranks), "best first")
        # a search: the same leads as the leads page answers
        lead_id = self.srv.get("/api/runs/%d/leads?limit=1" % rid).json()["leads"][0]["id"]
        want = self.srv.get("/api/runs/%d/leads?q=%s&limit=500" % (rid, lead_id)).json()["total"]
        r = self.srv.get("/api/runs/%d/export.csv?q=%s" % (rid, lead_id))
        self.assertStatus(r, 200)
        got = list(csv.reader(io.StringIO(r.text)))
        self.assertEqual(len(got) - 1, want)
        self.assertGreaterEqual(want, 1)
        r = self.srv.get("/api/runs/%d/export.csv?q=no-such-lead-anywhere" % rid)
        self.assertStatus(r, 200)
        self.assertEqual(len(list(csv.reader(io.StringIO(r.text)))), 1, "the header only")
        self.assertNames(self.srv.get("/api/runs/%d/export.csv?tier=Top" % rid), 400, "tier")

    def test_kept_leaky_columns_are_named(self):
        # a column that gives the outcome away, kept with include_leaky: the
        # model, the run and the runs list name it; left out, none do
        rows = list(csv.reader(io.StringIO(self.csv.decode())))
        y = rows[0].index("Converted")
        rows[0].append("Status Tags")
        for r in rows[1:]:
            r.append("Closed by sales" if r[y] == "1" else "Ringing")
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rows)
        r = self.srv.upload("/api/datasets", "leaky.csv", buf.getvalue().encode())
        self.assertStatus(r, 201)
        ds = r.json()
        self.assertIn("Status Tags", [c["column"] for c in ds["leakage"] if c["level"] == "exclude"])
        kept = self.run_of(dataset_id=ds["dataset_id"], include_leaky=True, trees=10)
        self.assertEqual(kept["kept_leaky"], ["Status Tags"])
        m = self.srv.get("/api/models/%d" % kept["model_id"]).json()
        self.assertEqual([k["column"] for k in m["kept_leaky"]], ["Status Tags"])
        self.assertTrue(m["kept_leaky"][0]["reason"])
        self.assertEqual(self.srv.get("/api/runs/%d" % kept["run_id"]).json()["kept_leaky"],
                         ["Status Tags"])
        left = self.run_of(dataset_id=ds["dataset_id"], trees=10)
        self.assertEqual(left["kept_leaky"], [])
        items = {x["run_id"]: x for x in self.srv.get("/api/runs?limit=500").json()["runs"]}
        self.assertEqual(items[kept["run_id"]]["kept_leaky"], ["Status Tags"])
        self.assertEqual(items[left["run_id"]]["kept_leaky"], [])
        self.assertEqual(items[left["run_id"]]["target"], "Converted")
        self.assertEqual(items[left["run_id"]]["positive"], "1")

    def test_export_neutralises_formulas_and_file_name(self):
        # a file whose cells are spreadsheet formulas and whose name breaks headers
        text = self.csv.decode()
        lines = text.splitlines()
        cells = lines[1].split(",")
        cells[2] = "=HYPERLINK(\"http://x\")"
        lines[1] = ",".join(cells)
        data = ("\n".join(lines) + "\n").encode()
        r = self.srv.upload("/api/datasets", 'we"ird;name.csv', data)
        self.assertStatus(r, 201)
        run = self.run_of(dataset_id=r.json()["dataset_id"])
        r = self.srv.get("/api/runs/%d/export.csv" % run["run_id"])
        self.assertStatus(r, 200)
        disp = r.header("content-disposition")
        self.assertRegex(disp, r'^attachment; filename="[A-Za-z0-9._-]+\.csv"$')
        self.assertNotIn(";name", disp)
        rows = list(csv.reader(io.StringIO(r.text)))
        lead = [x for x in rows if x[0] == cells[0]][0]
        self.assertEqual(lead[2], "'=HYPERLINK(\"http://x\")")

    # ---- real-time scoring -------------------------------------------------

    def test_score(self):
        run = self.run_of()
        rows = list(csv.DictReader(io.StringIO(self.csv.decode())))
        leads = [{k: v for k, v in row.items() if k != "Converted"} for row in rows[:3]]
        r = self.post("/api/score", {"model_id": run["model_id"], "leads": leads})
        self.assertStatus(r, 200)
        j = r.json()
        self.assertEqual(j["model_id"], run["model_id"])
        self.assertEqual(len(j["leads"]), 3)
        for l in j["leads"]:
            self.assertGreaterEqual(l["score"], 0)
            self.assertLessEqual(l["score"], 100)
            self.assertIn(l["tier"], ("High", "Medium", "Low"))
        self.assertNames(self.post("/api/score", {"model_id": run["model_id"], "leads": []}), 400,
                         "leads")
        self.assertNames(self.post("/api/score", {"model_id": run["model_id"],
                                                  "leads": [leads[0]] * 1001}), 400, "leads")
        self.assertNames(self.post("/api/score", {"model_id": run["model_id"], "leads": {}}), 400,
                         "leads")
        self.assertNames(self.post("/api/score", {"leads": leads}), 400, "model_id")
        self.assertNames(self.post("/api/score", {"model_id": run["model_id"], "leads": leads,
                                                  "x": 1}), 400, "x")
        r = self.post("/api/score", {"model_id": run["model_id"], "leads": [1, 2]})
        self.assertApiError(r, 400)
        self.assertApiError(self.post("/api/score", {"model_id": 999999, "leads": leads}), 404)
        self.assertApiError(self.srv.get("/api/score"), 405)
        self.assertApiError(self.post("/api/score", "nope"), 400)

    def test_openapi_served(self):
        r = self.srv.get("/api/openapi.json")
        self.assertStatus(r, 200)
        with open(oaschema.DOC_PATH, "rb") as f:
            self.assertEqual(json.loads(r.body), json.loads(f.read()))


class Busy(lsapi.TestCase):
    """One worker, no queue: a job while another runs is a 503 with Retry-After
    (on /api/ and on the old routes), and a run not yet done cannot be deleted
    (409) nor paged (409)."""

    def wait_idle(self, srv, want_running):
        """Poll /api/health until jobs_running is want_running (bounded, not timed)."""
        for _ in range(6000):
            h = srv.get("/api/health").json()
            if h["jobs_running"] == want_running:
                return
            time.sleep(0.05)
        self.fail("jobs_running never became %d" % want_running)

    def test_pool_full(self):
        with tempfile.TemporaryDirectory(prefix="routes-busy-") as tmp:
            # training on this takes seconds: long enough to ask while it runs
            big = demo_bytes(tmp, rows=20000, seed=5, name="big.csv")
            small = demo_bytes(tmp, rows=1000, seed=6, name="small.csv")
            with oaschema.Server(args=["--workers", "1", "--queue", "0"]) as srv:
                ds_big = srv.upload("/api/datasets", "big.csv", big).json()["dataset_id"]
                ds = srv.upload("/api/datasets", "small.csv", small).json()["dataset_id"]
                self.assertStatus(srv.upload("/upload", "small.csv", small), 200)
                first = {}
                t = threading.Thread(target=lambda: first.setdefault(
                    "r", srv.post_json("/api/models", {"dataset_id": ds_big, "trees": 300})))
                t.start()
                try:
                    self.wait_idle(srv, 1)
                    r = srv.post_json("/api/runs", {"dataset_id": ds, "trees": 10})
                    self.assertApiError(r, 503, "BUSY")
                    self.assertGreaterEqual(int(r.header("retry-after")), 1)
                    self.assertApiError(srv.post_json("/api/models", {"dataset_id": ds}), 503,
                                        "BUSY")
                    r = srv.post_json("/train", {"filename": "small.csv",
                                                 "target_col": "Converted"})
                    self.assertCompatError(r, 503)
                    self.assertGreaterEqual(int(r.header("retry-after")), 1)
                    self.assertCompatError(srv.post_json("/predict", {"filename": "small.csv"}),
                                           503)
                finally:
                    t.join()
                self.assertStatus(first["r"], 201)
                self.wait_idle(srv, 0)
                # a run not done yet: no delete, no leads
                r = srv.post_json("/api/runs", {"dataset_id": ds, "trees": 100, "wait": False})
                self.assertStatus(r, 202)
                run_id = r.json()["run_id"]
                self.assertApiError(srv.delete("/api/runs/%d" % run_id), 409, "CONFLICT")
                self.assertApiError(srv.get("/api/runs/%d/leads" % run_id), 409)
                self.assertCompatError(srv.get("/prediction-history/%d" % run_id), 409)
                self.assertEqual(srv.wait_job(run_id)["status"], "done")
                self.wait_idle(srv, 0)
                self.assertStatus(srv.delete("/api/runs/%d" % run_id), 204)


if __name__ == "__main__":
    lsapi.main()
