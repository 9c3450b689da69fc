#!/usr/bin/env python3
"""test_chat_questions.py — questions a sales manager asks about Leads.csv,
answered by the built-in narrator, checked against facts computed here.

Issue 11's question set: each question carries the facts its answer must
contain, and every fact is computed in this file, independently of the chat
module:

  * conversion rates, counts, best and worst values: from the CSV itself,
    read with Python's csv module, with the engine's ingest rules
    (docs/ingest.md): a cell that is, trimmed and without case, one of the
    missing tokens ("", NA, N/A, #N/A, null, None, nan, -, Select) is
    missing and belongs to no value; spellings that differ only in case or
    surrounding spaces are one category (Google + google), shown in its most
    frequent spelling;
  * tiers and ranks: the tier and rank columns of `leadscore score`;
  * why a lead is in its tier: `leadscore explain --row N --json` (its score,
    tier and the two reasons with the most points either way);
  * which columns matter most: the importance in `leadscore score --explain
    --report` (every lead explained);
  * how good the model is: the out-of-bag AUC of `leadscore train --json`;
  * what drifted: a copy of Leads.csv whose Total Time Spent on Website is
    shifted (x3 + 600), written to a temporary folder; the report of
    `leadscore score` on it must flag that column, and so must the answer.

The questions go, one per line, to `leadscore chat MODEL Leads.csv --json`
with LEADSCORE_LLM=builtin (no network: the providers' variables are
removed), which prints one JSON object per line {question, intent, provider,
answer, facts}. Matching is tolerant but meaningful:

  * a rate: a percentage in the answer within 0.1 of the rate in percent
    rounded to one decimal (38.5% for 0.38530; "38.5 %" too);
  * a count: the exact integer, with or without thousands separators;
  * a name (a column, a category value, a lead id, a tier): exact text;
  * the better of two values: a comparative word (better, higher, more...)
    whose subject is the better value, or a word like worse, lower or less
    whose subject is the other one (the subject: the nearest name before the
    word, or the first name of its sentence);
  * the best (or worst) value of a column: the best among the values with at
    least k leads, for some k from 10 to 100 (a value of two leads at 100 %
    is not what a sales manager asks for), named with its rate;
  * AUC: a number within 0.005 of it (or a percentage within 0.5).

Failures are printed as one table: question, expected intent, the intent
and provider the CLI gave, each fact missing, and the answer. The intent is
shown, never checked: the facts are what an answer must carry.

`test_chat_questions.py --list` prints the questions and their facts; `-v`
prints every answer.
Exit codes: 0 every question answered, 1 a failure, 77 Leads.csv absent.
Environment: LEADSCORE_BIN (default build/leadscore), LS_SHARED_DATA,
LS_SOURCE_DIR.
"""

import csv
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("LS_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
SKIP = 77
MISSING = {"", "na", "n/a", "#n/a", "null", "none", "nan", "-", "select"}
TIME = "Total Time Spent on Website"
TIMEOUT = 900


# ---- the data, read independently -------------------------------------------


def is_missing(v):
    return v.strip().lower() in MISSING


class Data:
    """Leads.csv as rows of dicts, with the engine's category rules."""

    def __init__(self, path):
        with open(path, newline="", encoding="utf-8") as f:
            self.rows = list(csv.DictReader(f))
        self.by_number = {r["Lead Number"]: i + 1 for i, r in enumerate(self.rows)}

    def converted(self, r):
        return r["Converted"].strip() == "1"

    def groups(self, col):
        """{shown value: (leads, converted)} of a categorical column: missing
        cells left out, spellings folded by case and surrounding spaces, each
        group shown in its most frequent spelling."""
        spell, n, pos = {}, {}, {}
        for r in self.rows:
            v = r[col]
            if is_missing(v):
                continue
            k = v.strip().lower()
            spell.setdefault(k, {})
            spell[k][v.strip()] = spell[k].get(v.strip(), 0) + 1
            n[k] = n.get(k, 0) + 1
            pos[k] = pos.get(k, 0) + self.converted(r)
        out = {}
        for k in n:
            shown = sorted(spell[k].items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
            out[shown] = (n[k], pos[k])
        return out

    def rate(self, col, value):
        n, p = self.groups(col)[value]
        return p / n

    def count(self, col, value):
        return self.groups(col)[value][0]

    def overall_rate(self):
        return sum(self.converted(r) for r in self.rows) / len(self.rows)

    def extreme(self, col, best):
        """{value: rate} of the values that are the best (or worst) among
        the values with at least k leads, for some k in 10..100."""
        g = self.groups(col)
        out = {}
        for k in range(10, 101):
            cand = [(p / n, v) for v, (n, p) in g.items() if n >= k]
            if not cand:
                continue
            top = max(r for r, _ in cand) if best else min(r for r, _ in cand)
            for r, v in cand:
                if r == top:
                    out[v] = r
        return out

    def numbers(self, col):
        out = []
        for r in self.rows:
            v = r[col]
            if is_missing(v):
                continue
            try:
                out.append((float(v), self.converted(r)))
            except ValueError:
                pass
        return out


# ---- matching ------------------------------------------------------------------

NUM = r"(?<![\d.,])(\d{1,3}(?:[,\u202f\u00a0]\d{3})+(?![\d])|\d+)(\.\d+)?(?![\d])"


def numbers_in(text):
    """Every number in text as a float (thousands separators allowed)."""
    out = []
    for m in re.finditer(NUM, text):
        out.append(float(re.sub(r"[,\u202f\u00a0]", "", m.group(1)) + (m.group(2) or "")))
    return out


def percents_in(text):
    out = []
    for m in re.finditer(NUM + r"\s?%", text):
        out.append(float(re.sub(r"[,\u202f\u00a0]", "", m.group(1)) + (m.group(2) or "")))
    return out


def pct(rate):
    return "%.1f%%" % (100.0 * rate)


def rate_in(text, rate):
    want = round(100.0 * rate, 1)
    return any(abs(x - want) <= 0.1 + 1e-9 for x in percents_in(text))


class Rate:
    def __init__(self, label, rate):
        self.label, self.rate = label, rate

    def check(self, a):
        return rate_in(a, self.rate), "rate of %s: %s" % (self.label, pct(self.rate))


class Count:
    def __init__(self, label, n):
        self.label, self.n = label, n

    def check(self, a):
        return any(x == self.n for x in numbers_in(a)), "%s: %d" % (self.label, self.n)


class Name:
    def __init__(self, name, what="name"):
        self.name, self.what = name, what

    def check(self, a):
        return self.name in a, "%s \"%s\"" % (self.what, self.name)


class Near:
    """A number within tol of value (a score: 84.9 read as "85%")."""

    def __init__(self, label, value, tol):
        self.label, self.value, self.tol = label, value, tol

    def check(self, a):
        ok = any(abs(x - self.value) <= self.tol + 1e-9 for x in numbers_in(a))
        return ok, "%s: %.1f (±%g)" % (self.label, self.value, self.tol)


class Auc:
    def __init__(self, auc):
        self.auc = auc

    def check(self, a):
        ok = any(abs(x - self.auc) <= 0.005 for x in numbers_in(a)) or any(
            abs(x - 100 * self.auc) <= 0.5 for x in percents_in(a))
        return ok, "out-of-bag AUC %.3f" % self.auc


UP = r"\b(better|higher|more|ahead|outperforms?|beats?|above|stronger|best)\b"
DOWN = r"\b(worse|lower|less|behind|below|weaker|underperforms?)\b"


class Winner:
    """The answer says which of two values is higher: a comparative word
    whose subject is the right value — the nearest name before the word, or
    the first name of its sentence ("Reference converts better than
    Google", "Working Professional converts at 91.6% against 37.1% for
    Student, far better", "Google is lower than Reference")."""

    def __init__(self, hi, lo):
        self.hi, self.lo = hi, lo

    def subjects(self, text, at):
        names = (self.hi, self.lo)
        before = text[:at]
        nearest = max((before.rfind(n), n) for n in names)
        start = max(before.rfind(". "), before.rfind("! "), before.rfind("? "))
        sentence = before[start + 1:]
        first = min(((sentence.find(n), n) for n in names if n in sentence), default=(-1, None))
        return {nearest[1] if nearest[0] >= 0 else None, first[1]}

    def check(self, a):
        ok = False
        for pattern, want in ((UP, self.hi), (DOWN, self.lo)):
            for m in re.finditer(pattern, a, re.IGNORECASE):
                if want in self.subjects(a, m.start()):
                    ok = True
        return ok, "says %s converts better than %s" % (self.hi, self.lo)


class Extreme:
    """One of the best (worst) values, named with its rate."""

    def __init__(self, column, cands, best):
        self.column, self.cands, self.best = column, cands, best

    def check(self, a):
        ok = any(v in a and rate_in(a, r) for v, r in self.cands.items())
        names = " or ".join("%s (%s)" % (v, pct(r)) for v, r in sorted(self.cands.items()))
        return ok, "%s %s: %s" % ("best" if self.best else "worst", self.column, names)


class AtLeast:
    """A threshold X at least the median — "over X", or a range "X to M"
    whose top M is the column's largest value — and the conversion rate of
    the leads above X."""

    def __init__(self, data, column):
        self.values = data.numbers(column)
        xs = sorted(x for x, _ in self.values)
        self.median, self.max = xs[len(xs) // 2], xs[-1]
        self.column = column

    def rate_above(self, t, strict):
        sel = [c for x, c in self.values if (x > t if strict else x >= t)]
        return sum(sel) / len(sel) if sel else None

    def thresholds(self, a):
        num = lambda m, k: float(re.sub(r"[,\u202f\u00a0]", "", m.group(k)) +  # noqa: E731
                                 (m.group(k + 1) or ""))
        for m in re.finditer(r"(?:over|more than|above|at least|longer than|>|≥)\s*" + NUM, a):
            yield num(m, 1)
        for m in re.finditer(NUM + r"\s*(?:to|–|-)\s*" + NUM, a):
            if num(m, 3) >= self.max:
                yield num(m, 1)

    def check(self, a):
        ok = False
        for t in self.thresholds(a):
            if t < self.median:
                continue
            for strict in (True, False):
                r = self.rate_above(t, strict)
                if r is not None and rate_in(a, r):
                    ok = True
        return ok, ("a threshold X on %s at least its median (%g): \"over X\" or \"X to "
                    "%g\", with the conversion rate of the leads above X" %
                    (self.column, self.median, self.max))


class Says:
    def __init__(self, pattern, what):
        self.pattern, self.what = pattern, what

    def check(self, a):
        return re.search(self.pattern, a, re.IGNORECASE) is not None, self.what


class Not:
    """The answer does not say what pattern matches."""

    def __init__(self, pattern, what):
        self.pattern, self.what = pattern, what

    def check(self, a):
        return re.search(self.pattern, a, re.IGNORECASE) is None, "never " + self.what


class AnyOf:
    """At least k of the checks hold."""

    def __init__(self, k, checks, what):
        self.k, self.checks, self.what = k, checks, what

    def check(self, a):
        return sum(c.check(a)[0] for c in self.checks) >= self.k, self.what


# ---- the CLI -------------------------------------------------------------------


def binary():
    return os.environ.get("LEADSCORE_BIN") or os.path.join(SOURCE_DIR, "build", "leadscore")


def child_env():
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("GEMINI_") or k.startswith("LEADSCORE_LLAMA") or \
                k.startswith("LEADSCORE_GEMINI") or k.startswith("OPENAI"):
            del env[k]
    env["LEADSCORE_LLM"] = "builtin"
    return env


def run(args, stdin=None):
    p = subprocess.run([binary()] + args, input=stdin, capture_output=True, text=True,
                       env=child_env(), timeout=TIMEOUT)
    if p.returncode != 0:
        raise RuntimeError("leadscore %s: exit %d\n%s" % (" ".join(args), p.returncode,
                                                          p.stderr[-2000:]))
    return p.stdout


def chat(model, data, questions):
    """The CLI's answers, one per question (None where missing), and an
    error text when the CLI failed."""
    try:
        out = run(["chat", model, data, "--json"], "\n".join(questions) + "\n")
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        return [None] * len(questions), str(e)
    answers = []
    for line in out.splitlines():
        if line.strip():
            try:
                answers.append(json.loads(line))
            except ValueError:
                answers.append({"answer": "", "intent": "?", "provider": "?",
                                "bad_line": line[:200]})
    err = None
    if len(answers) != len(questions):
        err = "%d questions, %d answers" % (len(questions), len(answers))
    answers += [None] * (len(questions) - len(answers))
    return answers[:len(questions)], err


# ---- the questions ---------------------------------------------------------------


def lead_facts(model, path, row):
    """The facts of the lead on data row row (1 = the first): its tier, score
    and the columns of its two reasons with the most points (either way)."""
    x = json.loads(run(["explain", model, path, "--row", str(row), "--json"]))
    rs = x["reasons"]["for"] + x["reasons"]["against"]
    rs.sort(key=lambda r: -abs(r["points"]))
    return [Name(x["tier"], "tier"), Near("score", x["score"], 0.5)] + \
        [Name(r["column"], "reason column") for r in rs[:2]]


def compare(data, col, a, b):
    ra, rb = data.rate(col, a), data.rate(col, b)
    hi, lo = (a, b) if ra > rb else (b, a)
    return [Rate(a, ra), Rate(b, rb), Name(a), Name(b), Winner(hi, lo)]


def build(data, path, model, tmp):
    train = json.loads(run(["train", path, "-o", model, "--json"]))
    scored = os.path.join(tmp, "scored.csv")
    report = os.path.join(tmp, "report.json")
    run(["score", model, path, "--explain", "-o", scored, "--report", report])
    with open(scored, newline="", encoding="utf-8") as f:
        srows = list(csv.DictReader(f))
    tiers = {}
    for r in srows:
        tiers[r["tier"]] = tiers.get(r["tier"], 0) + 1
    by_rank = sorted(srows, key=lambda r: int(r["rank"]))
    with open(report, encoding="utf-8") as f:
        rep = json.load(f)
    imp = [c["column"] for c in rep["explanations"]["importance"]]
    top3 = [Name(c, "column") for c in imp[:3]]

    ls, lo, occ, act, city = ("Lead Source", "Lead Origin", "What is your current occupation",
                              "Last Activity", "City")
    g = lambda c, v: Rate("%s = %s" % (c, v), data.rate(c, v))  # noqa: E731
    q = []  # (question, expected intent, checks)
    # conversion rate by a category
    q.append(("What's the conversion rate for Olark Chat leads?", "rate",
              [g(ls, "Olark Chat"), Name("Olark Chat")]))
    q.append(("How well do leads from the Lead Add Form convert?", "rate",
              [g(lo, "Lead Add Form"), Name("Lead Add Form")]))
    q.append(("What's the conversion rate of working professionals?", "rate",
              [g(occ, "Working Professional"), Name("Working Professional")]))
    q.append(("How often do leads whose last activity was SMS Sent convert?", "rate",
              [g(act, "SMS Sent"), Name("SMS Sent")]))
    q.append(("What share of leads from Mumbai convert?", "rate",
              [g(city, "Mumbai"), Name("Mumbai")]))
    q.append(("What's the conversion rate for people who asked not to be emailed?", "rate",
              [g("Do Not Email", "Yes")]))
    q.append(("What's the conversion rate for people who spent a lot of time on the site?",
              "rate", [AtLeast(data, TIME)]))
    q.append(("What is our overall conversion rate?", "general",
              [Rate("all leads", data.overall_rate()),
               Count("leads with a known outcome", len(data.rows))]))
    q.append(("How do leads specialising in Finance Management convert?", "rate",
              [g("Specialization", "Finance Management"), Name("Finance Management")]))
    q.append(("What's the conversion rate for unemployed leads?", "rate",
              [g(occ, "Unemployed"), Name("Unemployed")]))
    # counts
    q.append(("How many leads are High?", "count", [Count("High leads", tiers.get("High", 0))]))
    q.append(("How many leads are in the Low tier?", "count",
              [Count("Low leads", tiers.get("Low", 0))]))
    q.append(("How many Medium leads do we have?", "count",
              [Count("Medium leads", tiers.get("Medium", 0))]))
    q.append(("How many leads came from Google?", "count",
              [Count("Lead Source = Google", data.count(ls, "Google"))]))
    q.append(("How many leads are working professionals?", "count",
              [Count("working professionals", data.count(occ, "Working Professional"))]))
    q.append(("How many leads are there in total?", "count", [Count("leads", len(data.rows))]))
    q.append(("How many leads came through the Lead Add Form?", "count",
              [Count("Lead Origin = Lead Add Form", data.count(lo, "Lead Add Form"))]))
    # why a lead is in its tier
    q.append(("Why is lead 660737 high priority?", "why",
              lead_facts(model, path, data.by_number["660737"])))
    q.append(("Why is lead 660727 rated High?", "why",
              lead_facts(model, path, data.by_number["660727"])))
    q.append(("Why did lead 660728 get its score?", "why",
              lead_facts(model, path, data.by_number["660728"])))
    q.append(("Why is row 5 in its tier?", "why", lead_facts(model, path, 5)))
    # which columns matter most
    q.append(("Which columns matter most?", "importance",
              [top3[0], AnyOf(2, top3, "2 of the 3 most important columns: " +
                              ", ".join(imp[:3]))]))
    q.append(("What drives conversion the most?", "importance",
              [top3[0], AnyOf(2, top3, "2 of the 3 most important columns: " +
                              ", ".join(imp[:3]))]))
    # how good the model is
    q.append(("How good is the model?", "quality", [Auc(train["oob_auc"])]))
    q.append(("How accurate are these scores?", "quality", [Auc(train["oob_auc"])]))
    # no drift on the training file itself
    q.append(("Has anything drifted?", "drift",
              [Says(r"\b(no|not|none|nothing|stable|ok)\b", "says nothing drifted"),
               Not(r"\b(has|have) drifted\b|\bstatus:? (drift|warn)", "says something drifted")]))
    # comparisons between two values
    ref = [g(ls, "Reference"), g(ls, "Referral Sites"), g(ls, "Google"), Name("Reference"),
           Name("Google")]
    q.append(("Do referrals convert better than Google?", "compare", ref))
    q.append(("Do working professionals convert better than students?", "compare",
              compare(data, occ, "Working Professional", "Student")))
    q.append(("Which converts better, Olark Chat or Organic Search?", "compare",
              compare(data, ls, "Olark Chat", "Organic Search")))
    q.append(("Compare API and Landing Page Submission.", "compare",
              compare(data, lo, "API", "Landing Page Submission")))
    q.append(("Do leads from Thane & Outskirts convert better than leads from Mumbai?",
              "compare", compare(data, city, "Thane & Outskirts", "Mumbai")))
    # best and worst values of a column
    q.append(("Which lead source converts best?", "top",
              [Extreme(ls, data.extreme(ls, True), True)]))
    q.append(("Which lead origin converts worst?", "bottom",
              [Extreme(lo, data.extreme(lo, False), False)]))
    q.append(("What occupation converts best?", "top",
              [Extreme(occ, data.extreme(occ, True), True)]))
    q.append(("Which last activity has the lowest conversion rate?", "bottom",
              [Extreme(act, data.extreme(act, False), False)]))
    # the best and worst leads (rank 1 and the last rank of leadscore score)
    # (named by its id, Prospect ID, or by its Lead Number)
    for question, intent, r, what in (
            ("Who are the best leads?", "top", by_rank[0], "the rank-1 lead"),
            ("Which leads are least likely to convert?", "bottom", by_rank[-1],
             "the last-ranked lead")):
        ids = [Name(r["Prospect ID"]), Name(r["Lead Number"])]
        q.append((question, intent, [AnyOf(1, ids, "%s: %s or %s" % (
            what, r["Prospect ID"], r["Lead Number"]))]))
    # a follow-up: "and for Google?" after a question about Olark Chat
    q.append(("What's the conversion rate of Olark Chat?", "rate", [g(ls, "Olark Chat")]))
    q.append(("And for Google?", "rate", [g(ls, "Google"), Name("Google")]))
    return q


def drift_questions(path, model, tmp):
    """A copy of Leads.csv with Total Time Spent on Website shifted, the
    columns the score report flags, and the questions about it."""
    shifted = os.path.join(tmp, "Leads_shifted.csv")
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    j = rows[0].index(TIME)
    for r in rows[1:]:
        try:
            r[j] = str(int(float(r[j]) * 3 + 600))
        except ValueError:
            pass
    with open(shifted, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    report = os.path.join(tmp, "shifted_report.json")
    run(["score", model, shifted, "-o", os.path.join(tmp, "shifted.csv"), "--report", report])
    with open(report, encoding="utf-8") as f:
        drift = json.load(f)["drift"]
    flagged = [c for c, v in drift["columns"].items() if v["status"] != "ok"]
    if TIME not in flagged:
        raise RuntimeError("the score report does not flag the shifted column: %s" % flagged)
    checks = [Name(c, "drifted column") for c in flagged]
    return shifted, [("What drifted?", "drift", checks),
                     ("Has the data changed since the model was trained?", "drift", checks)]


def clip(s, n):
    s = " ".join(str(s).split())
    return s if len(s) <= n else s[:n - 1] + "…"


def main():
    d = os.environ.get("LS_SHARED_DATA") or os.path.join(SOURCE_DIR, "..", "shared", "data")
    path = os.path.join(d, "Leads.csv")
    if not os.path.exists(path):
        print("skipped: %s not found (LS_SHARED_DATA)" % path)
        return SKIP
    if not os.path.exists(binary()):
        print("no leadscore binary (LEADSCORE_BIN): %s" % binary())
        return 1
    data = Data(path)
    with tempfile.TemporaryDirectory(prefix="ls-questions-") as tmp:
        model = os.path.join(tmp, "model.lsm")
        qs = build(data, path, model, tmp)
        shifted, dq = drift_questions(path, model, tmp)
        if "--list" in sys.argv[1:]:
            for question, intent, checks in qs + dq:
                print("%-10s %s" % (intent, question))
                for c in checks:
                    print("%-10s   - %s" % ("", c.check("")[1]))
            return 0
        answers, err = chat(model, path, [x[0] for x in qs])
        d_answers, d_err = chat(model, shifted, [x[0] for x in dq])
    every = list(zip(qs, answers)) + list(zip(dq, d_answers))
    failures = []
    intents = {}
    for (question, intent, checks), got in every:
        intents[intent] = intents.get(intent, 0) + 1
        text = (got or {}).get("answer") or ""
        missing = []
        for c in checks:
            ok, what = c.check(text)
            if not ok:
                missing.append(what)
        if got is None:
            missing.insert(0, "no answer")
        elif got.get("provider") != "builtin":
            missing.insert(0, "provider \"builtin\" (got %r)" % got.get("provider"))
        if missing:
            failures.append((question, intent, got or {}, missing, text))
        if "-v" in sys.argv[1:]:
            print("%s %s\n     %s" % ("FAIL" if missing else "ok  ", question, text))
    total = len(every)
    print("%d questions (%s)" % (total, ", ".join("%s %d" % kv for kv in sorted(intents.items()))))
    for e in (err, d_err):
        if e:
            print("chat CLI: " + clip(e, 600))
    if failures:
        print("\n%d of %d questions not answered with their facts:\n" % (len(failures), total))
        print("%-4s %-62s %-10s %-16s %s" % ("#", "question", "intent", "got", "missing"))
        for i, (question, intent, got, missing, text) in enumerate(failures, 1):
            gi = "%s/%s" % (got.get("intent", "-"), got.get("provider", "-"))
            print("%-4d %-62s %-10s %-16s %s" % (i, clip(question, 62), intent, clip(gi, 16),
                                                 clip(missing[0], 120)))
            for m in missing[1:]:
                print("%-4s %-62s %-10s %-16s %s" % ("", "", "", "", clip(m, 120)))
            print("%-4s answer: %s" % ("", clip(text, 400) or "(none)"))
        return 1
    print("all %d questions answered with their facts" % total)
    return 0


if __name__ == "__main__":
    sys.exit(main())
