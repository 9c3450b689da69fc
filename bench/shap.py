#!/usr/bin/python3
"""bench/shap.py [BUILD_DIR] [--runs R] — the explanation benchmark.

Explains every lead of ../shared/data/Leads.csv:
  * LeadScore: the default model (as `leadscore train` makes it), exact
    path-dependent TreeSHAP over all rows with build/bench_shap, on 1 and on 2
    threads (best of R runs), and the classic algorithm on 200 rows for scale;
  * XGBoost: its own TreeSHAP (`predict(pred_contribs=True)`, nthread=2) on
    its random forest of the same data (the forest benchmark's settings:
    100 parallel trees, subsample 0.632, sqrt(p) columns per node, no depth
    limit; its first 500 leads only — the classic algorithm on trees grown
    to purity takes minutes for all of them), and on a forest with
    min_child_weight 10 (about our leaf size), all leads.
Per-row time and time per row per leaf (the trees' total leaves: the work of
path-dependent TreeSHAP grows with them), and the ratios. One JSON object
per line, then a table.
"""
import json, math, os, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
LEADS = os.path.join(HERE, "..", "..", "shared", "data", "Leads.csv")


def ours(build, runs):
    out = subprocess.check_output([os.path.join(build, "bench_shap"), LEADS, "--runs", str(runs),
                                   "--threads", "2", "--classic-rows", "200"])
    return json.loads(out)


def meta(build):
    info = json.loads(subprocess.check_output(
        [os.path.join(build, "leadscore"), "inspect", LEADS, "--json"]))
    target = info["target"]["name"]
    feats = [{"name": c["name"], "type": c["type"]} for c in info["columns"]
             if c["type"] in ("numeric", "boolean", "datetime", "categorical")
             and c["name"] != target]
    return {"target": target, "positive": info["target"]["positive"], "features": feats}


def xgboost(m, runs, min_child_weight, rows):
    import numpy as np
    import xgboost as xgb
    df = peer.load(LEADS, m)
    X, y, _, _ = peer.prepare(df, df, m)  # the test half is the same rows, unused
    p = X.shape[1]
    params = {"objective": "binary:logistic", "num_parallel_tree": 100, "subsample": 0.632,
              "colsample_bynode": math.sqrt(p) / p, "learning_rate": 1.0, "max_depth": 0,
              "grow_policy": "lossguide", "tree_method": "hist", "nthread": 2,
              "min_child_weight": min_child_weight, "reg_lambda": 0, "seed": 0}
    booster = xgb.train(params, xgb.DMatrix(X, label=y), num_boost_round=1)
    trees = booster.trees_to_dataframe()
    leaves = int((trees["Feature"] == "Leaf").sum())
    X = X[:rows]  # the classic algorithm on unlimited-depth trees is slow: time a sample
    d = xgb.DMatrix(X)
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        c = booster.predict(d, pred_contribs=True)
        best = min(best, time.perf_counter() - t)
    margin = booster.predict(d, output_margin=True)
    err = float(np.max(np.abs(c.sum(axis=1) - margin)))
    n = X.shape[0]
    return {"tool": "xgboost", "min_child_weight": min_child_weight, "rows": n,
            "features": p, "leaves": leaves, "seconds": best, "threads": 2,
            "us_per_row": best / n * 1e6, "ns_per_row_leaf": best / (n * leaves) * 1e9,
            "max_abs_error": err}


def main():
    args = sys.argv[1:]
    build = args[0] if args and not args[0].startswith("--") else "build-release"
    runs = int(args[args.index("--runs") + 1]) if "--runs" in args else 3
    if not os.path.exists(LEADS):
        sys.exit("bench/shap.py: needs ../shared/data/Leads.csv")
    o = ours(build, runs)
    o["tool"] = "leadscore"
    print(json.dumps(o))
    m = meta(build)
    peers = [xgboost(m, runs, 0, 500), xgboost(m, runs, 10, 10**9)]
    for x in peers:
        print(json.dumps(x))
    our_row_leaf_2t = o["linear_s"] / (o["rows"] * o["leaves"]) * 1e9
    print()
    print("| explainer | rows explained | leaves | wall (2 threads) | per row | per row·leaf | ratio per row·leaf |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print("| LeadScore linear TreeSHAP | %d | %d | %.2f s | %.0f µs | %.2f ns | 1 |" % (
        o["rows"], o["leaves"], o["linear_s"], o["linear_s"] / o["rows"] * 1e6, our_row_leaf_2t))
    print("| LeadScore classic TreeSHAP (1 thread, 200 rows) | 200 | %d | — | %.0f µs | %.2f ns | %.1f× slower |" % (
        o["leaves"], o["classic_us_per_row"], o["classic_ns_per_row_leaf"],
        o["classic_ns_per_row_leaf"] / (o["linear_ns_per_row_leaf_1t"])))
    for x in peers:
        print("| XGBoost pred_contribs, min_child_weight %g | %d | %d | %.2f s | %.0f µs | %.2f ns | %.1f× slower |" % (
            x["min_child_weight"], x["rows"], x["leaves"], x["seconds"], x["us_per_row"],
            x["ns_per_row_leaf"], x["ns_per_row_leaf"] / our_row_leaf_2t))


if __name__ == "__main__":
    main()
