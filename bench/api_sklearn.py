#!/usr/bin/env python3
"""The upload -> scored flow of the system LeadScore replaces, as a peer for bench/api.py.

A small HTTP server (standard library http.server, one thread, like the old
FastAPI app under uvicorn with one worker) with the same two calls LeadScore's
bench makes: POST /upload (multipart, field "file", saved to disk) and POST
/predict {"filename"} — pandas reads the CSV, categories become one-hot
columns, blanks become 0, a scikit-learn RandomForestClassifier (100 trees,
every core) learns from the rows whose outcome is known and predicts every
row, and the answer holds every lead with its columns, score and tier, best
first. No explanations, no drift, no leakage scan: the peer does less work
than LeadScore, which makes the comparison conservative.

    python3 bench/api_sklearn.py PORT DATA_DIR
"""
import cgi
import io
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier

DATA = sys.argv[2] if len(sys.argv) > 2 else "sk-data"


def predict(path):
    df = pd.read_csv(path)
    target = "Converted" if "Converted" in df.columns else df.columns[-1]
    y = df[target]
    X = df.drop(columns=[target])
    X = pd.get_dummies(X, dummy_na=False).fillna(0)
    known = y.notna()
    rf = RandomForestClassifier(n_estimators=100, n_jobs=-1, random_state=42, min_samples_leaf=1)
    rf.fit(X[known], y[known].astype(int))
    p = rf.predict_proba(X)[:, 1]
    tier = np.where(p >= 0.7, "High", np.where(p >= 0.3, "Medium", "Low"))
    out = df.copy()
    out["score"] = p
    out["priority"] = tier
    out = out.sort_values("score", ascending=False)
    return {"results": json.loads(out.to_json(orient="records")),
            "distribution": {t: int((tier == t).sum()) for t in ("High", "Medium", "Low")}}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def answer(self, obj, status=200):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(n)
        if self.path == "/upload":
            form = cgi.FieldStorage(fp=io.BytesIO(body), headers=self.headers,
                                    environ={"REQUEST_METHOD": "POST"})
            item = form["file"]
            name = os.path.basename(item.filename)
            with open(os.path.join(DATA, name), "wb") as f:
                f.write(item.file.read())
            self.answer({"filename": name})
        elif self.path == "/predict":
            req = json.loads(body)
            self.answer(predict(os.path.join(DATA, os.path.basename(req["filename"]))))
        else:
            self.answer({"detail": "not found"}, 404)


if __name__ == "__main__":
    os.makedirs(DATA, exist_ok=True)
    srv = HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    print("ready", flush=True)
    srv.serve_forever()
