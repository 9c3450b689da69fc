#!/usr/bin/python3
"""bench/peer.py TOOL TRAIN.csv TEST.csv META.json [LEAF] — one peer's side of bench/forest.py.

TOOL is sklearn or xgboost (ranger runs in bench/ranger.R on files this
script prepares with TOOL=prepare). META (written by forest.py from
`leadscore inspect --json`) names the target, its positive class, the
feature columns and their types, so the peers see the same columns we do.
Peers get one-hot categories (pandas get_dummies, missing as its own level),
numbers with missing values as -999, dates as days. Prints one JSON object.

Without LEAF (or LEAF 0) the peer runs with its own defaults; with LEAF (our
smallest leaf, in bootstrap-weighted rows) it grows unlimited-depth trees
whose leaves are bounded like ours — see bench/forest.py for the mapping.
"""
import json, math, resource, sys, time

import numpy as np
import pandas as pd

MISSING = ["", "NA", "N/A", "#N/A", "null", "None", "nan", "-", "Select"]


def load(path, meta):
    cols = [c["name"] for c in meta["features"]] + [meta["target"]]
    df = pd.read_csv(path, dtype=str, keep_default_na=False, usecols=cols)
    for c in df.columns:
        s = df[c].str.strip()
        df[c] = s.where(~s.str.lower().isin([m.lower() for m in MISSING]), None)
    return df


def prepare(tr, te, meta):
    both = pd.concat([tr, te], keys=["tr", "te"])
    out = {}
    cats = []
    for c in meta["features"]:
        name, kind = c["name"], c["type"]
        col = both[name]
        if kind == "numeric":
            out[name] = pd.to_numeric(col, errors="coerce").fillna(-999.0)
        elif kind == "boolean":
            low = col.str.lower()
            out[name] = low.map(lambda v: 1.0 if v in ("yes", "y", "true", "t", "1", "1.0")
                                else (0.0 if v is not None else -1.0)).astype(float)
        elif kind == "datetime":
            d = pd.to_datetime(col, errors="coerce")
            out[name] = ((d - pd.Timestamp("1970-01-01")).dt.days).fillna(-999.0)
        else:
            cats.append(name)
            out[name] = col.str.lower().fillna("(missing)")
    X = pd.DataFrame(out)
    if cats:
        X = pd.get_dummies(X, columns=cats, dtype=np.uint8)
    pos = meta["positive"].lower()
    y = both[meta["target"]].str.lower().map(lambda v: None if v is None else (1 if v == pos else 0))
    keep = y.notna()
    X, y = X[keep], y[keep].astype(int)
    return (X.loc["tr"].to_numpy(np.float32), y.loc["tr"].to_numpy(),
            X.loc["te"].to_numpy(np.float32), y.loc["te"].to_numpy())


def metrics(p, y):
    from sklearn.metrics import roc_auc_score, log_loss
    return roc_auc_score(y, p), log_loss(y, np.clip(p, 1e-15, 1 - 1e-15))


def main():
    tool, trp, tep, metap = sys.argv[1:5]
    leaf = float(sys.argv[5]) if len(sys.argv) > 5 and tool != "prepare" else 0.0
    meta = json.load(open(metap))
    tr, te = load(trp, meta), load(tep, meta)
    Xtr, ytr, Xte, yte = prepare(tr, te, meta)
    p = Xtr.shape[1]
    if tool == "prepare":
        out = sys.argv[5]
        np.savetxt(out + ".xtr", Xtr, delimiter=",", fmt="%.6g")
        np.savetxt(out + ".ytr", ytr, fmt="%d")
        np.savetxt(out + ".xte", Xte, delimiter=",", fmt="%.6g")
        np.savetxt(out + ".yte", yte, fmt="%d")
        print(json.dumps({"features": p}))
        return
    Xall = np.vstack([Xtr, Xte])
    if tool == "sklearn":
        from sklearn.ensemble import RandomForestClassifier
        # Own defaults: max_features="sqrt", min_samples_leaf=1, no depth limit.
        # Our leaf: each tree fits with sample_weight = bootstrap counts, which
        # sum to n, so min_weight_fraction_leaf = LEAF / n bounds a leaf's
        # bootstrap weight by LEAF exactly as ours is bounded.
        kw = {"min_weight_fraction_leaf": leaf / len(ytr)} if leaf > 0 else {}
        m = RandomForestClassifier(n_estimators=100, max_features="sqrt", min_samples_leaf=1,
                                   n_jobs=2, random_state=0, **kw)
        t = time.perf_counter(); m.fit(Xtr, ytr); fit = time.perf_counter() - t
        t = time.perf_counter(); pr = m.predict_proba(Xte)[:, 1]; pt = time.perf_counter() - t
        t = time.perf_counter(); m.predict_proba(Xall); pa = time.perf_counter() - t
        one = Xte[:1]
        lat = []
        for _ in range(50):
            t = time.perf_counter(); m.predict_proba(one); lat.append(time.perf_counter() - t)
        import pickle
        size = len(pickle.dumps(m))
    elif tool == "xgboost":
        import xgboost as xgb
        dtr = xgb.DMatrix(Xtr, label=ytr)
        # Random-forest mode (one round of 100 parallel trees, rows subsampled,
        # sqrt(p) columns per node, learning rate 1). Own defaults: XGBoost's
        # tree defaults (max_depth 6, min_child_weight 1, reg_lambda 1).
        params = {"objective": "binary:logistic", "num_parallel_tree": 100, "subsample": 0.632,
                  "colsample_bynode": math.sqrt(p) / p, "learning_rate": 1.0,
                  "tree_method": "hist", "nthread": 2, "seed": 0}
        if leaf > 0:
            # Our leaf: no depth limit (lossguide, max_depth 0), no L2 term, and
            # min_child_weight in hessian units. In the single round every row
            # has p = base_score = 0.5, so its hessian p(1 - p) is exactly 0.25;
            # a tree sees 0.632 n distinct rows where ours sees n bootstrap draws,
            # so LEAF of our weight is the same share as 0.632 LEAF of its rows:
            # min_child_weight = 0.25 * 0.632 * LEAF.
            params.update({"max_depth": 0, "grow_policy": "lossguide", "reg_lambda": 0,
                           "min_child_weight": 0.25 * 0.632 * leaf})
        t = time.perf_counter(); m = xgb.train(params, dtr, num_boost_round=1); fit = time.perf_counter() - t
        t = time.perf_counter(); pr = m.predict(xgb.DMatrix(Xte)); pt = time.perf_counter() - t
        t = time.perf_counter(); m.predict(xgb.DMatrix(Xall)); pa = time.perf_counter() - t
        one = xgb.DMatrix(Xte[:1])
        lat = []
        for _ in range(200):
            t = time.perf_counter(); m.inplace_predict(Xte[:1]); lat.append(time.perf_counter() - t)
        size = len(m.save_raw())
    else:
        sys.exit("unknown tool " + tool)
    auc, ll = metrics(pr, yte)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"fit_s": fit, "predict_test_s": pt, "predict_all_s": pa, "test_auc": auc,
                      "test_logloss": ll, "peak_rss_mb": rss, "model_bytes": size,
                      "single_lead_us": sorted(lat)[len(lat) // 2] * 1e6, "features": p}))


if __name__ == "__main__":
    main()
