"""test_compat.py — the old system's routes (src/http/compat.c) as its web client uses them.

The client's exact flow — upload, train with target_col "Converted", predict,
history, history/{id} — checking every field ../shared/SEED.md lists, on
Leads.csv (skipped when absent) and on a generated file whose outcome column
is not called Converted; the file name used as a path on /train and
/predict; and the errors, {"detail": "..."} each. Every answer is checked
against openapi.json on the way (oaschema.Server).
"""

import csv
import datetime
import io
import os
import tempfile

import lsapi
import oaschema

TIERS = ("High", "Medium", "Low")
EXTRA = ("priority", "score", "prediction_score", "explanation", "next_action", "lead_id", "Source")


def read_csv(data):
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def renamed_demo(tmp, rows, new_target):
    """A generated lead file whose outcome column is called new_target."""
    path = lsapi.demo_csv(os.path.join(tmp, "demo.csv"), rows=rows, seed=7)
    with open(path, "rb") as f:
        head, _, rest = f.read().partition(b"\n")
    cols = head.decode().split(",")
    assert cols[-1] == "Converted", cols
    cols[-1] = new_target
    return (",".join(cols) + "\n").encode() + rest


class Flow(lsapi.TestCase):
    """The client's flow on one file; checks every field SEED.md lists."""

    def flow(self, srv, filename, data, target_name, lead_id_col=None, source_col=None):
        head, rows = read_csv(data)
        # 1. upload: the client reads nothing but success; the fields are there anyway
        r = srv.upload("/upload", filename, data)
        self.assertStatus(r, 200)
        up = r.json()
        self.assertEqual(up["filename"], filename)
        self.assertEqual(up["columns"], head)
        self.assertLessEqual(len(up["preview"]), 5)
        # 2. train, always with target_col "Converted"
        r = srv.post_json("/train", {"filename": filename, "target_col": "Converted"})
        self.assertStatus(r, 200)
        tr = r.json()
        self.assertEqual(tr["status"], "trained")
        acc = tr["metrics"]["accuracy"]
        self.assertIsInstance(acc, float)
        self.assertGreater(acc, 0.5)
        self.assertLessEqual(acc, 1.0)
        analysis = tr["metrics"]["analysis"]
        self.assertIsInstance(analysis, str)
        self.assertIn("ut-of-bag", analysis)
        self.assertIn(target_name, analysis)
        self.assertIn("%.1f%%" % (100 * acc), analysis)
        # 3. predict
        r = srv.post_json("/predict", {"filename": filename, "explain": False})
        self.assertStatus(r, 200)
        pr = r.json()
        run_id = pr["run_id"]
        self.assertIsInstance(run_id, int)
        self.assertEqual(pr["filename"], filename)
        res = pr["results"]
        self.assertEqual(len(res), len(rows), "every lead")
        scores = [l["score"] for l in res]
        self.assertEqual(scores, sorted(scores, reverse=True), "best first")
        for l in res:
            for k in EXTRA:
                self.assertIn(k, l)
            self.assertIn(l["priority"], TIERS)
            self.assertGreaterEqual(l["score"], 0.0)
            self.assertLessEqual(l["score"], 1.0)
            self.assertGreaterEqual(l["prediction_score"], 0.0)
            self.assertLessEqual(l["prediction_score"], 1.0)
            self.assertTrue(l["explanation"].strip(), l)
            self.assertTrue(l["next_action"].strip(), l)
            for c in head:  # every CSV column under its own name
                self.assertIn(c, l)
            self.assertIn(l["actual_converted"], (0, 1, None))
            if l["actual_converted"] is None:  # a lead still open
                self.assertIsNone(l["prediction_accuracy"])
            else:
                self.assertIn(l["prediction_accuracy"],
                              ("correct", "false_positive", "missed", "medium"))
        if lead_id_col:
            idx = head.index(lead_id_col)
            ids = {row[idx] for row in rows}
            for l in res:
                self.assertIn(str(l["lead_id"]), ids)
        if source_col:  # the client's "Source" column is the file's own source
            for l in res:
                if l[source_col]:
                    self.assertEqual(l["Source"], l[source_col])
        dist = pr["distribution"]
        self.assertEqual(set(dist), set(TIERS))
        for t in TIERS:
            self.assertEqual(dist[t], sum(1 for l in res if l["priority"] == t))
        self.assertTrue(pr["drift_alert"] is False or isinstance(pr["drift_alert"], str))
        self.assertFalse(pr["drift_alert"], "scored on its own training data: no drift")
        self.assertEqual(pr["missing_feature_count"], 0)
        self.assertIs(pr["has_actual_data"], True)
        am = pr["accuracy_metrics"]
        self.assertGreater(am["labelled_leads"], 0)
        self.assertGreater(am["accuracy"], 0.5)
        correct = sum(1 for l in res if l["prediction_accuracy"] == "correct")
        self.assertGreater(correct, 0)
        # the same file again: the same run, at once
        r = srv.post_json("/predict", {"filename": filename})
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["run_id"], run_id)
        # 4. history, newest first
        r = srv.get("/prediction-history")
        self.assertStatus(r, 200)
        hist = r.json()["history"]
        self.assertEqual(hist[0]["run_id"], run_id)
        ids = [h["run_id"] for h in hist]
        self.assertEqual(ids, sorted(ids, reverse=True))
        h = hist[0]
        self.assertEqual(h["filename"], filename)
        ts = datetime.datetime.strptime(h["timestamp"].replace("Z", "+0000"),
                                        "%Y-%m-%dT%H:%M:%S.%f%z" if "." in h["timestamp"]
                                        else "%Y-%m-%dT%H:%M:%S%z")
        age = datetime.datetime.now(datetime.timezone.utc) - ts
        self.assertLess(abs(age.total_seconds()), 3600, h["timestamp"])
        self.assertEqual(h["total_leads"], len(res))
        self.assertEqual(h["high_priority_count"], dist["High"])
        self.assertEqual(h["medium_priority_count"], dist["Medium"])
        self.assertEqual(h["low_priority_count"], dist["Low"])
        self.assertIs(h["has_actual_data"], True)
        for k in ("accuracy", "f1_score", "pr_auc", "precision_at_k", "recall_at_k"):
            self.assertIn(k, h)
            self.assertTrue(h[k] is None or 0 <= h[k] <= 1, (k, h[k]))
        self.assertIsNotNone(h["precision_at_k"])
        # 5. one run of the history
        r = srv.get("/prediction-history/%d" % run_id)
        self.assertStatus(r, 200)
        one = r.json()
        self.assertEqual(one["run_id"], run_id)
        self.assertEqual(one["filename"], filename)
        self.assertEqual(one["timestamp"], h["timestamp"])
        self.assertEqual(len(one["results"]), len(res))
        self.assertEqual([l["lead_id"] for l in one["results"]], [l["lead_id"] for l in res])
        self.assertIs(one["has_actual_data"], True)
        self.assertEqual(one["accuracy_metrics"], pr["accuracy_metrics"])
        return pr

    def test_leads_csv(self):
        path = lsapi.leads_csv()
        with open(path, "rb") as f:
            data = f.read()
        with oaschema.Server() as srv:
            pr = self.flow(srv, "Leads.csv", data, "Converted", lead_id_col=None,
                           source_col="Lead Source")
            # the leaky columns never drive the scores
            self.assertIn("Tags", pr["results"][0])

    def test_generated_target_not_called_converted(self):
        with tempfile.TemporaryDirectory(prefix="compat-") as tmp:
            data = renamed_demo(tmp, 800, "Signed Up")
            with oaschema.Server() as srv:
                self.flow(srv, "crm export.csv", data, "Signed Up", lead_id_col="Lead ID",
                          source_col="Lead Source")


class Errors(lsapi.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="compat-err-")
        cls.data = renamed_demo(cls.tmp.name, 400, "Converted")
        cls.srv = oaschema.Server().start()
        r = cls.srv.upload("/upload", "leads.csv", cls.data)
        assert r.status == 200, r

    @classmethod
    def tearDownClass(cls):
        rc = cls.srv.stop()
        cls.srv.cleanup()
        cls.tmp.cleanup()
        assert rc == 0, "server exited %r" % rc

    def test_file_name_is_never_a_path(self):
        # a real file outside the data folder that a path would reach
        outside = os.path.join(self.tmp.name, "outside.csv")
        with open(outside, "wb") as f:
            f.write(self.data)
        rel = os.path.relpath(outside, self.srv.data_dir)
        for name in (rel, outside, "../leads.csv", "./leads.csv", "..%2f..%2fleads.csv",
                     "uploads/1.csv", "/etc/passwd", "leads.csv/", "leads.csv\u0000.txt"):
            for route in ("/train", "/predict"):
                r = self.srv.post_json(route, {"filename": name, "target_col": "Converted"})
                # a NUL is refused by the JSON reader itself (400)
                self.assertIn(r.status, (400, 404) if "\0" in name else (404,), (route, name, r))
                self.assertCompatError(r, r.status)
        # the upload's own name is a base name: nothing lands outside the data folder
        r = self.srv.upload("/upload", "../../escape.csv", self.data)
        self.assertStatus(r, 200)
        self.assertNotIn("/", r.json()["filename"])
        self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "escape.csv")))
        self.assertFalse(os.path.exists(os.path.join(os.path.dirname(self.srv.data_dir),
                                                     "escape.csv")))

    def test_bad_bodies(self):
        s = self.srv
        self.assertCompatError(s.post_json("/train", {"filename": "leads.csv"}), 422)
        j = self.assertCompatError(s.post_json("/train", {"target_col": "Converted"}), 422)
        self.assertIn("filename", j["detail"])
        self.assertCompatError(s.post_json("/train", {"filename": 5, "target_col": "x"}), 422)
        self.assertCompatError(s.post_json("/train", {}), 422)
        self.assertCompatError(s.post_json("/train", "[]"), 422)
        self.assertCompatError(s.post_json("/train", "{bad json"), 400)
        self.assertCompatError(s.post_json("/predict", {}), 422)
        self.assertCompatError(s.post_json("/predict", {"filename": "leads.csv",
                                                        "explain": "yes"}), 422)
        j = self.assertCompatError(s.post_json("/predict", {"filename": "never-uploaded.csv"}),
                                   404)
        self.assertIn("never-uploaded.csv", j["detail"])
        self.assertCompatError(s.post_json("/train", {"filename": "never-uploaded.csv",
                                                      "target_col": "Converted"}), 404)
        self.assertCompatError(s.get("/prediction-history/999999"), 404)
        self.assertCompatError(s.get("/train"), 405)
        self.assertCompatError(s.get("/predict"), 405)
        self.assertCompatError(s.request("DELETE", "/prediction-history/1"), 405)
        self.assertCompatError(s.post_json("/prediction-history", {}), 405)
        png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
        self.assertCompatError(s.upload("/upload", "x.png", png, content_type="image/png"), 415)

    def test_predict_uses_the_model_train_reported(self):
        # /train, then a model with other options through /api/models, then
        # /train again (cached): /predict answers with /train's run and model
        r = self.srv.post_json("/train", {"filename": "leads.csv", "target_col": "Converted"})
        self.assertStatus(r, 200)
        trained = r.json()["metrics"]
        ds = self.srv.get("/api/runs/%d" % trained["run_id"]).json()["dataset_id"]
        r = self.srv.post_json("/api/models", {"dataset_id": ds, "trees": 30})
        self.assertIn(r.status, (200, 201), r.text)
        self.assertNotEqual(r.json()["model_id"], trained["model_id"])
        r = self.srv.post_json("/train", {"filename": "leads.csv", "target_col": "Converted"})
        self.assertEqual(r.json()["metrics"]["model_id"], trained["model_id"])
        r = self.srv.post_json("/predict", {"filename": "leads.csv"})
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["run_id"], trained["run_id"])
        # the same bytes uploaded under a new name are found by that name
        r = self.srv.upload("/upload", "renamed copy.csv", self.data)
        self.assertStatus(r, 200)
        r = self.srv.post_json("/predict", {"filename": "renamed copy.csv"})
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["run_id"], trained["run_id"])

    def test_extra_fields_ignored(self):
        # unknown fields are ignored, as FastAPI did
        r = self.srv.post_json("/train", {"filename": "leads.csv", "target_col": "Converted",
                                          "extra": [1, 2]})
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["status"], "trained")
        r = self.srv.post_json("/predict", {"filename": "leads.csv", "explain": True, "x": None})
        self.assertStatus(r, 200)


if __name__ == "__main__":
    lsapi.main()
