#!/usr/bin/python3
"""bench/forest.py BUILD_DIR [--data leads,noleak,gen100k,gen1m] [--peers sklearn,xgboost,ranger]

Our forest against scikit-learn, XGBoost (random-forest mode) and ranger on
the same 80/20 train/test split of each data set, with the same settings
(100 trees, sqrt(p) features per split, no depth limit, min leaf 1, 2
threads). Prints per data set and tool: fit seconds, predict seconds (test
and all rows), test AUC and log-loss, peak RSS, model bytes, single-lead
latency, and our ratio to each peer. Peers missing from the machine are
skipped (install them with scripts/install-deps.sh --peers).
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
            rows = {"gen100k": 100000, "gen1m": 1000000}[name]
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
    want = ["leads", "noleak", "gen100k", "gen1m"]
    peers = ["sklearn", "xgboost", "ranger"]
    args = sys.argv[1:]
    for i, a in enumerate(args):
        if a == "--data":
            want = args[i + 1].split(",")
        if a == "--peers":
            peers = [p for p in args[i + 1].split(",") if p]
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
        results[(name, "leadscore")] = res
        print(f"{name:8} leadscore {json.dumps(res)}", flush=True)
        for tool in peers:
            try:
                if tool == "ranger":
                    pre = os.path.join(dd, "ranger")
                    run([PY, os.path.join(HERE, "peer.py"), "prepare",
                         os.path.join(dd, "train.csv"), os.path.join(dd, "test.csv"), metap, pre])
                    res, rss = run_rss(["/usr/bin/Rscript", os.path.join(HERE, "ranger.R"), pre])
                else:
                    res, rss = run_rss([PY, os.path.join(HERE, "peer.py"), tool,
                                        os.path.join(dd, "train.csv"),
                                        os.path.join(dd, "test.csv"), metap])
            except (RuntimeError, FileNotFoundError) as e:
                print(f"{name:8} {tool}: skipped ({str(e)[:200]})", flush=True)
                continue
            res["peak_rss_mb"] = rss
            results[(name, tool)] = res
            print(f"{name:8} {tool} {json.dumps(res)}", flush=True)
    print()
    print("| data | tool | fit s | predict test s | predict all s | test AUC | log-loss | peak RSS MB | model bytes | 1 lead µs |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for (name, tool), r in results.items():
        print(f"| {name} | {tool} | {r['fit_s']:.3f} | {r['predict_test_s']:.3f} | {r['predict_all_s']:.3f} | "
              f"{r['test_auc']:.4f} | {r['test_logloss']:.4f} | {r['peak_rss_mb']:.0f} | {r['model_bytes']:,} | "
              f"{r['single_lead_us']:.1f} |")
    print()
    print("| data | peer | fit: peer / ours | predict all: peer / ours | AUC: ours - peer | RSS: ours / peer |")
    print("| --- | --- | --- | --- | --- | --- |")
    names = sorted({n for n, _ in results}, key=lambda n: want.index(n))
    for name in names:
        ours = results.get((name, "leadscore"))
        for tool in peers:
            r = results.get((name, tool))
            if not ours or not r:
                continue
            print(f"| {name} | {tool} | {r['fit_s'] / ours['fit_s']:.1f}x | "
                  f"{r['predict_all_s'] / ours['predict_all_s']:.1f}x | "
                  f"{ours['test_auc'] - r['test_auc']:+.4f} | {ours['peak_rss_mb'] / r['peak_rss_mb']:.2f} |")


main()
