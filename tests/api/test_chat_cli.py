#!/usr/bin/env python3
"""test_chat_cli.py — `leadscore chat` answers through the language-model
chain, on generated leads (no Leads.csv needed).

A fake OpenAI-compatible server (fake_llm.py, 127.0.0.1) stands in for
llama-server. Checked:
  * no provider configured: the built-in narrator answers (provider
    "builtin"), --json prints one object a line {question, intent,
    provider, answer, facts}, blank lines are skipped, a line longer than
    2,000 bytes is refused with an error object and the next line answered;
  * LEADSCORE_LLAMA_URL set: the fake model's reply is the answer (provider
    "llama"); what it was sent: our instructions as the system message,
    the cards in <facts>…</facts> and the question in
    <question>…</question>, the earlier exchange before it;
  * the fake answers HTTP 500: the narrator answers instead;
  * text mode: the answer on stdout, "(provider)" on stderr.
Exit codes: 0 pass, 1 failure. Environment: LEADSCORE_BIN, LS_SOURCE_DIR.
"""

import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fake_llm  # noqa: E402

SOURCE_DIR = os.environ.get("LS_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))


def binary():
    return os.environ.get("LEADSCORE_BIN") or os.path.join(SOURCE_DIR, "build", "leadscore")


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("GEMINI_") or k.startswith("LEADSCORE_LLAMA")
                   or k.startswith("LEADSCORE_GEMINI") or k == "LEADSCORE_LLM")}
    env.update(extra)
    return env


def run(args, stdin="", env=None):
    return subprocess.run([binary()] + args, input=stdin, capture_output=True, text=True,
                          env=env or clean_env(), timeout=600)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def main():
    failures = []
    with tempfile.TemporaryDirectory(prefix="ls-chat-cli-") as tmp:
        data = os.path.join(tmp, "demo.csv")
        model = os.path.join(tmp, "demo.lsm")
        p = run(["demo-data", "--rows", "1500", "--seed", "11", "-o", data])
        check(p.returncode == 0, "demo-data: " + p.stderr)
        p = run(["train", data, "-o", model, "--trees", "30"])
        check(p.returncode == 0, "train: " + p.stderr)

        def case(name, fn):
            try:
                fn()
                print("ok   " + name)
            except AssertionError as e:
                print("FAIL " + name + ": " + str(e))
                failures.append(name)

        def builtin():
            qs = "How many leads are High?\n\n   \n" + "x" * 2500 + "\nWhich lead source converts best?\n"
            p = run(["chat", model, data, "--json"], qs)
            check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
            lines = [json.loads(x) for x in p.stdout.splitlines() if x.strip()]
            check(len(lines) == 3, "3 lines (2 answers, 1 error), got %d" % len(lines))
            a, err, b = lines
            check(a["provider"] == "builtin", a)
            check(a["intent"] == "count" and "High tier" in a["answer"], a)
            check(set(a) == {"question", "intent", "provider", "answer", "facts"}, a.keys())
            check(isinstance(a["facts"], list) and a["facts"][0]["id"] == "tier:High", a["facts"])
            check(err.get("error", {}).get("message", "").startswith("the question is longer"), err)
            check(b["intent"] == "top" and "converts best" in b["answer"], b)

        def through_model():
            with fake_llm.FakeLLM() as f:
                f.set_default("openai", {"text": "Fake model: 42 leads.", "piece": 3})
                env = clean_env(LEADSCORE_LLAMA_URL=f.url)
                qs = "How many leads are High?\nand Low?\n"
                p = run(["chat", model, data, "--json"], qs, env)
                check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
                lines = [json.loads(x) for x in p.stdout.splitlines() if x.strip()]
                check(len(lines) == 2, lines)
                for o in lines:
                    check(o["provider"] == "llama", o)
                    check(o["answer"] == "Fake model: 42 leads.", o)
                check(lines[1]["intent"] == "count", lines[1])
                reqs = f.requests("openai")
                check(len(reqs) == 2, "2 requests, got %d" % len(reqs))
                msgs = reqs[1]["body"]["messages"]
                check(msgs[0]["role"] == "system", msgs[0])
                check("never instructions" in msgs[0]["content"], msgs[0])
                check("tier" not in msgs[0]["content"] and "\"numbers\"" not in msgs[0]["content"],
                      "no data in the instructions")
                # the earlier exchange, then the quoted question
                check([m["role"] for m in msgs] == ["system", "user", "assistant", "user"],
                      [m["role"] for m in msgs])
                check(msgs[1]["content"] == "How many leads are High?", msgs[1])
                check(msgs[2]["content"] == "Fake model: 42 leads.", msgs[2])
                last = msgs[3]["content"]
                check(last.startswith("<facts>\n") and "\n</facts>\n<question>\n" in last, last[:200])
                check("\"and Low?\"" in last, last[-300:])
                check("Low tier" in last, "the Low tier's card in the facts")

        def model_fails():
            with fake_llm.FakeLLM() as f:
                f.set_default("openai", {"status": 500, "error": "boom"})
                env = clean_env(LEADSCORE_LLAMA_URL=f.url)
                p = run(["chat", model, data, "--json"], "How good is the model?\n", env)
                check(p.returncode == 0, p.stderr)
                o = json.loads(p.stdout.splitlines()[0])
                check(o["provider"] == "builtin", o)
                check("AUC" in o["answer"], o)

        def text_mode():
            p = run(["chat", model, data], "What drifted?\n")
            check(p.returncode == 0, p.stderr)
            check("no column drifted" in p.stdout, p.stdout)
            check("(builtin)" in p.stderr and "(builtin)" not in p.stdout, p.stderr)

        def bad_config():
            p = run(["chat", model, data], "hi\n", clean_env(LEADSCORE_LLM="nonesuch"))
            check(p.returncode == 2, "exit %d" % p.returncode)
            check("LEADSCORE_LLM" in p.stderr, p.stderr)

        case("builtin narrator, --json, blank and long lines", builtin)
        case("through the chain: the model's answer and what it was sent", through_model)
        case("the model fails: the narrator answers", model_fails)
        case("text mode", text_mode)
        case("a bad LEADSCORE_LLM", bad_config)
    if failures:
        print("%d failed" % len(failures))
        return 1
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
