#!/usr/bin/env python3
"""align-data em-bandit: the same seed gives the same bytes and another seed others; users × pairs rows; each
row compares two different arms; the users' types follow the mixture; a type's users choose its arm whenever
it is compared (reward 10 against 0: P = σ(10) ≈ 0.99995); a bad mixture is named. Usage: em-bandit.py BUILD_DIR"""
import collections
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from align_data_check import GeneratorCheck  # noqa: E402

gen = GeneratorCheck(sys.argv[1], "em-bandit")
check, generate = gen.check, gen.generate


def read(out, name):
    with open(os.path.join(out, "em_bandit", name), "rb") as f:
        return f.read()


with tempfile.TemporaryDirectory() as tmp:
    a, b, c = (os.path.join(tmp, x) for x in "abc")
    generate(a, "--seed", "5")
    generate(b, "--seed", "5")
    generate(c, "--seed", "6")
    for name in ("pairs.jsonl", "sft.jsonl", "truth.json"):
        check(read(a, name) == read(b, name), f"{name} differs for the same seed")
    check(read(a, "pairs.jsonl") != read(c, "pairs.jsonl"), "another seed gave the same pairs")

    rows = [json.loads(line) for line in read(a, "pairs.jsonl").decode().splitlines()]
    check(len(rows) == 100 * 100, f"{len(rows)} rows, expected 10000")
    arms = {" arm A", " arm B", " arm C"}
    check(all(r["chosen"] != r["rejected"] and {r["chosen"], r["rejected"]} <= arms for r in rows),
          "a row does not compare two different arms")
    type_of = {r["annotator"]: r["true_type"] for r in rows}
    shares = collections.Counter(type_of.values())
    for k, share in enumerate((0.2, 0.0, 0.8)):
        check(abs(shares.get(k, 0) / 100 - share) <= 0.1, f"type {k}: {shares.get(k, 0)} of 100 users, mixture {share}")
    truth = json.loads(read(a, "truth.json"))
    check(truth["type_of_user"] == type_of, "truth.json's types differ from the rows'")
    wins = collections.Counter()
    shown = collections.Counter()
    for r in rows:
        arm = " arm " + "ABC"[r["true_type"]]
        if arm in (r["chosen"], r["rejected"]):
            shown[r["true_type"]] += 1
            wins[r["true_type"]] += r["chosen"] == arm
    for k in shown:
        check(wins[k] / shown[k] > 0.95, f"type {k} chose its arm {wins[k]} of {shown[k]} times")
    sft = [json.loads(line) for line in read(a, "sft.jsonl").decode().splitlines()]
    check(collections.Counter(r["response"] for r in sft) == {arm: 50 for arm in arms}, "sft.jsonl is not balanced")

    # Bad flags are usage errors (exit 2, as for length-task), named, and write nothing.
    for flags, word in ((["--mixture", "0.5,0.6"], "--mixture"), (["--mixture", "1"], "--mixture"),
                        (["--mixture", "0.5,0.5,"], "--mixture"), (["--mixture", "-0.5,1.5"], "--mixture"),
                        (["--users", "0"], "--users"), (["--pairs-per-user", "x"], "--pairs-per-user"),
                        (["--pairs-per-user", "-1"], "--pairs-per-user"), (["--rows", "5"], "--rows"),
                        (["--users", "100000", "--pairs-per-user", "1000"], "--pairs-per-user")):
        run = gen.run(os.path.join(tmp, "bad"), *flags)
        check(run.returncode == 2 and word in run.stderr, f"{flags}: exit {run.returncode}, stderr {run.stderr!r}")
    check(not os.path.exists(os.path.join(tmp, "bad")), "a refused run wrote files")

gen.finish()
