#!/usr/bin/env python3
"""align-data em-types: the same seed gives the same bytes; exactly half of the annotators of each type; binary
feedback ranks two of the three responses and ternary all three, every order a permutation of the shown
responses; over the population every binary comparison is near a coin flip (the types' preferences cancel),
while each type's rankings lean its way; --feedback is required and checked. Usage: em-types.py BUILD_DIR"""
import collections
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from align_data_check import GeneratorCheck  # noqa: E402

gen = GeneratorCheck(sys.argv[1], "em-types")
check, generate = gen.check, gen.generate


def rows(out):
    with open(os.path.join(out, "opinions", "rankings.jsonl")) as f:
        return [json.loads(line) for line in f]


def sentences(text):
    return text.count(".")


with tempfile.TemporaryDirectory() as tmp:
    t1, t2, b = (os.path.join(tmp, x) for x in ("t1", "t2", "b"))
    generate(t1, "--feedback", "ternary", "--users", "200")
    generate(t2, "--feedback", "ternary", "--users", "200")
    generate(b, "--feedback", "binary", "--users", "200")
    with open(os.path.join(t1, "opinions", "rankings.jsonl"), "rb") as f1, \
            open(os.path.join(t2, "opinions", "rankings.jsonl"), "rb") as f2:
        check(f1.read() == f2.read(), "the same seed gave different rankings")
    # Held-out prompts: subjects that no ranking or SFT row mentions.
    with open(os.path.join(t1, "opinions", "heldout.jsonl")) as f:
        heldout = [json.loads(line)["prompt"] for line in f]
    trained = {r["prompt"] for r in rows(t1)}
    with open(os.path.join(t1, "opinions", "sft.jsonl")) as f:
        trained |= {json.loads(line)["prompt"] for line in f}
    check(len(heldout) == 8 and not set(heldout) & trained, f"held-out prompts overlap training: {heldout}")
    subjects = {p.split("about ")[1].split(".")[0] for p in trained}
    check(not any(s in p for s in subjects for p in heldout), "a held-out prompt names a trained subject")
    for out, width in ((t1, 3), (b, 2)):
        data = rows(out)
        check(len(data) == 200 * 8, f"{len(data)} rows, expected 1600")
        check(all(len(r["responses"]) == width and sorted(r["order"]) == list(range(width)) for r in data),
              f"a row does not rank {width} responses")
        types = collections.Counter({r["annotator"]: r["true_type"] for r in data}.values())
        check(types == {"brief": 100, "thorough": 100}, f"types {types}")
        # Is the shorter of the first two ranked responses preferred? Per type, and over everyone.
        shorter = collections.Counter()
        for r in data:
            best, second = (r["responses"][i] for i in r["order"][:2])
            shorter[r["true_type"]] += sentences(best) < sentences(second)
        per = {t: shorter[t] / 800 for t in ("brief", "thorough")}
        check(per["brief"] > 0.65 and per["thorough"] < 0.35, f"{width}: the types do not lean their ways: {per}")
        check(abs((shorter["brief"] + shorter["thorough"]) / 1600 - 0.5) < 0.05, f"{width}: marginals not balanced")
    run = gen.run(os.path.join(tmp, "bad"))
    check(run.returncode == 2 and "--feedback" in run.stderr, f"missing --feedback: {run.returncode} {run.stderr!r}")
    run = gen.run(os.path.join(tmp, "bad"), "--feedback", "quaternary")
    check(run.returncode == 2 and "--feedback quaternary" in run.stderr, f"bad --feedback: {run.stderr!r}")

gen.finish()
