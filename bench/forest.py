#!/usr/bin/python3
"""bench/forest.py BUILD_DIR [--data leads,noleak,gen45k,gen100k,gen1m]
                          [--peers sklearn,xgboost,ranger] [--configs default,leaf]

Our forest against scikit-learn, XGBoost (random-forest mode) and ranger on
the same 80/20 train/test split of each data set. Everyone grows 100 trees
with sqrt(p) features per split on 2 threads. What each side really sets:

* LeadScore: `leadscore train`'s defaults through app_train (bench/forest.c):
  min leaf L = max(10, train rows / 5000) in bootstrap-weighted rows, no
  depth limit, native categorical splits, learned missing direction.
* Each peer in two settings (--configs):
  default  its own defaults —
           scikit-learn RandomForestClassifier: min_samples_leaf=1, no depth
             limit, bootstrap;
           XGBoost, one round of num_parallel_tree=100 with subsample=0.632,
             colsample_bynode=sqrt(p)/p, learning_rate=1, tree_method=hist and
             its tree defaults max_depth=6, min_child_weight=1, reg_lambda=1;
           ranger probability=TRUE with its default min.node.size (10).
  leaf     no depth limit and our leaf L —
           scikit-learn min_weight_fraction_leaf = L / n (its trees weigh rows
             by bootstrap counts summing to n: exactly our bound);
           XGBoost grow_policy=lossguide, max_depth=0, reg_lambda=0,
             min_child_weight = 0.25 * 0.632 * L (hessian units: every row's
             hessian is p(1-p) = 0.25 at base_score 0.5 in the single round, and
             a tree sees 0.632 n distinct rows where ours sees n draws);
           ranger min.node.size = 2 L (ranger 0.14 bounds the node it splits,
             not the leaf; we too stop below 2 L).
  Peers get one-hot categories, numbers with missing as -999, dates as days
  (bench/peer.py).

Data: Leads.csv (../shared/data, skipped when absent), Leads.csv without the
ids and leaky columns, and `leadscore demo-data --seed 1 --unknown 0` at 45,000
rows (three many-valued numeric columns: time on site, signup date, days since
contact), 100,000 and 1,000,000 rows.

Prints per data set, tool and setting: fit seconds (the library call, timed
inside each process), predict seconds (test and all rows), test AUC and
log-loss, peak RSS, model bytes, single-lead latency, and our ratio to each
peer. Peers missing from the machine are skipped (install them with
scripts/install-deps.sh --peers).
"""
import csv, json, os, random, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "..", "shared", "data", "Leads.csv")
PY = "/usr/bin/python3"


def run(cmd):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate()
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {err.decode()[-400:]}")
    return json.loads(out.decode().strip().splitlines()[-1])


def run_rss(cmd):
    """Run cmd, return (its last JSON line, its peak RSS in MB)."""
    pid = os.fork()
    if pid == 0:
        fd = os.open(run_rss.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(fd, 1)
        err = os.open(run_rss.out + ".err", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(err, 2)
        os.execv(cmd[0], cmd)
    _, status, ru = os.wait4(pid, 0)
    if status != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: " + open(run_rss.out + ".err").read()[-600:])
    line = open(run_rss.out).read().strip().splitlines()[-1].replace(": NA", ": NaN")
    res = json.loads(line)
    return res, ru.ru_maxrss / 1024.0


def split(src, dst_dir, seed=0, test_share=0.2):
    rows = list(csv.reader(open(src, newline="", encoding="utf-8-sig")))
    head, body = rows[0], rows[1:]
    rnd = random.Random(seed)
    idx = list(range(len(body)))
    rnd.shuffle(idx)
    cut = int(len(idx) * (1 - test_share))
    for name, part in (("train.csv", idx[:cut]), ("test.csv", idx[cut:])):
        with open(os.path.join(dst_dir, name), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(head)
            for i in sorted(part):
                w.writerow(body[i])


def datasets(build, want):
    d = os.path.join(build, "bench-data")
    os.makedirs(d, exist_ok=True)
    out = []
    for name in want:
        dd = os.path.join(d, name)
        os.makedirs(dd, exist_ok=True)
        exclude = []
        if name in ("leads", "noleak"):
            if not os.path.exists(SHARED):
                print(f"skip {name}: {SHARED} not found")
                continue
            src = SHARED
            if name == "noleak":
                exclude = ["Prospect ID", "Lead Number", "Tags", "Lead Quality"]
        else:
            rows = {"gen45k": 45000, "gen100k": 100000, "gen1m": 1000000}[name]
            src = os.path.join(dd, "all.csv")
            if not os.path.exists(src):
                subprocess.check_call([os.path.join(build, "leadscore"), "demo-data", "--rows",
                                       str(rows), "--seed", "1", "--unknown", "0", "-o", src])
        if not os.path.exists(os.path.join(dd, "test.csv")):
            split(src, dd)
        out.append((name, dd, "Converted", exclude))
    return out


def meta_for(build, dd, target, exclude):
    info = json.loads(subprocess.check_output(
        [os.path.join(build, "leadscore"), "inspect", os.path.join(dd, "train.csv"),
         "--target", target, "--json", "--max-bytes", "1G"]))
    feats = [{"name": c["name"], "type": c["type"]} for c in info["columns"]
             if c["type"] in ("numeric", "boolean", "datetime", "categorical")
             and c["name"] != target and c["name"] not in exclude]
    meta = {"target": target, "positive": info["target"]["positive"], "features": feats}
    path = os.path.join(dd, "meta.json")
    json.dump(meta, open(path, "w"))
    return path


def main():
    build = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("--") else "build-release"
    want = ["leads", "noleak", "gen45k", "gen100k", "gen1m"]
    peers = ["sklearn", "xgboost", "ranger"]
    configs = ["default", "leaf"]
    args = sys.argv[1:]
    for i, a in enumerate(args):
        if a == "--data":
            want = args[i + 1].split(",")
        if a == "--peers":
            peers = [p for p in args[i + 1].split(",") if p]
        if a == "--configs":
            configs = [c for c in args[i + 1].split(",") if c]
    build = os.path.abspath(build)
    results = {}
    for name, dd, target, exclude in datasets(build, want):
        run_rss.out = os.path.join(dd, "out.json")
        metap = meta_for(build, dd, target, exclude)
        cmd = [os.path.join(build, "bench_forest"), os.path.join(dd, "train.csv"),
               os.path.join(dd, "test.csv"), target, "--threads", "2"]
        if exclude:
            cmd += ["--exclude", ",".join(exclude)]
        res, rss = run_rss(cmd)
        res["peak_rss_mb"] = rss
        leaf = res["min_leaf"]
        results[(name, "leadscore", f"leaf {leaf}")] = res
        print(f"{name:8} leadscore leaf {leaf} {json.dumps(res)}", flush=True)
        for tool in peers:
            for conf in configs:
                arg = str(leaf) if conf == "leaf" else "0"
                label = f"leaf {leaf}" if conf == "leaf" else "own defaults"
                try:
                    if tool == "ranger":
                        pre = os.path.join(dd, "ranger")
                        if not os.path.exists(pre + ".yte"):
                            run([PY, os.path.join(HERE, "peer.py"), "prepare",
                                 os.path.join(dd, "train.csv"), os.path.join(dd, "test.csv"),
                                 metap, pre])
                        res, rss = run_rss(["/usr/bin/Rscript", os.path.join(HERE, "ranger.R"),
                                            pre, arg])
                    else:
                        res, rss = run_rss([PY, os.path.join(HERE, "peer.py"), tool,
                                            os.path.join(dd, "train.csv"),
                                            os.path.join(dd, "test.csv"), metap, arg])
                except (RuntimeError, FileNotFoundError) as e:
                    print(f"{name:8} {tool} {label}: skipped ({str(e)[:200]})", flush=True)
                    continue
                res["peak_rss_mb"] = rss
                results[(name, tool, label)] = res
                print(f"{name:8} {tool} {label} {json.dumps(res)}", flush=True)
    print()
    print("| data | tool | setting | fit s | predict test s | predict all s | test AUC | log-loss | peak RSS MB | model bytes | 1 lead µs |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for (name, tool, label), r in results.items():
        print(f"| {name} | {tool} | {label} | {r['fit_s']:.3f} | {r['predict_test_s']:.3f} | "
              f"{r['predict_all_s']:.3f} | {r['test_auc']:.4f} | {r['test_logloss']:.4f} | "
              f"{r['peak_rss_mb']:.0f} | {r['model_bytes']:,} | {r['single_lead_us']:.1f} |")
    print()
    print("| data | peer | setting | fit: peer / ours | predict all: peer / ours | AUC: ours - peer | RSS: ours / peer |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: |")
    for (name, tool, label), r in results.items():
        ours = next((v for (n, t, _), v in results.items() if n == name and t == "leadscore"), None)
        if tool == "leadscore" or not ours:
            continue
        print(f"| {name} | {tool} | {label} | {r['fit_s'] / ours['fit_s']:.1f}x | "
              f"{r['predict_all_s'] / ours['predict_all_s']:.1f}x | "
              f"{ours['test_auc'] - r['test_auc']:+.4f} | {ours['peak_rss_mb'] / r['peak_rss_mb']:.2f} |")


main()
