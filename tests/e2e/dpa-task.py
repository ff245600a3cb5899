#!/usr/bin/env python3
"""align-data dpa-task and dpa-judge (DPA's helpfulness/verbosity task): the same seed gives the same bytes and
another seed another world and other prompts; the row counts; distinct prompts whose facts are the world's;
responses within the byte budget that state only asked facts and span both objectives; ratings on 0..4 near the
true values, about 10% without helpfulness and 10% without verbosity, never both; the judge's scores against
this file's own reading of the rule (runtime/tools/align-data/DpaObjectives.h) and against hand-computed
means, Spearman's rho and dominance; bad generations are named by file:line and field. Usage: dpa-task.py
BUILD_DIR"""
import json
import math
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from align_data_check import GeneratorCheck  # noqa: E402

gen = GeneratorCheck(sys.argv[1], "dpa-task")
check, generate = gen.check, gen.generate
W = 6  # words per verbosity point, DpaObjectives.h
ATTRIBUTES = ["color", "size", "food", "home"]


def read_bytes(out, name):
    with open(os.path.join(out, "dpa", name), "rb") as f:
        return f.read()


def read_rows(out, name):
    return [json.loads(line) for line in read_bytes(out, name).decode().splitlines()]


def true_objectives(text, facts):
    """The rule of DpaObjectives.h, written again: (helpfulness_true, verbosity_true, words)."""
    words = [w.lower() for w in re.findall(r"[A-Za-z0-9]+", text)]
    stated = sum(f.lower() in words for f in facts)
    return 4 * stated / len(facts), min(len(words) / W, 4), len(words)


def judge(*flags):
    return subprocess.run([gen.tool, "dpa-judge"] + list(flags), capture_output=True, text=True)


def write_jsonl(path, rows):
    with open(path, "w") as f:
        for row in rows:
            f.write((row if isinstance(row, str) else json.dumps(row)) + "\n")


def close(a, b):
    return a is not None and b is not None and abs(a - b) < 1e-9


with tempfile.TemporaryDirectory() as work:
    a, b, c = (os.path.join(work, x) for x in "abc")
    summary = generate(a, "--seed", "7")
    generate(b, "--seed", "7")
    generate(c, "--seed", "8")
    names = ("prompts.jsonl", "sft.jsonl", "ratings.jsonl", "world.json")
    for name in names:
        check(os.path.isfile(os.path.join(a, "dpa", name)), f"{name} is missing")
        check(read_bytes(a, name) == read_bytes(b, name), f"{name}: the same seed gave different bytes")
        check(read_bytes(a, name) != read_bytes(c, name), f"{name}: seeds 7 and 8 gave the same bytes")
    check(summary.count("\n") == 1 and summary.startswith("dpa-task:"), f"summary line: {summary!r}")

    prompts, sft, ratings = (read_rows(a, n) for n in names[:3])
    world = json.loads(read_bytes(a, "world.json"))
    check((len(prompts), len(sft), len(ratings)) == (400, 3000, 3000),
          f"rows {len(prompts)}, {len(sft)}, {len(ratings)}; expected 400, 3000, 3000")
    other = read_rows(c, "prompts.jsonl")
    shared = {p["prompt"] for p in prompts} & {p["prompt"] for p in other}
    check(len(shared) < 100, f"seeds 7 and 8 share {len(shared)} of 400 prompts")
    other_world = json.loads(read_bytes(c, "world.json"))
    check(world["entities"] != other_world["entities"], "seeds 7 and 8 made the same world")

    # The world: 24 entities, 4 attributes, values from the lists, no value in two lists.
    check(world["attributes"] == ATTRIBUTES, f"attributes {world['attributes']}")
    check(world["words_per_verbosity_point"] == W, f"W {world['words_per_verbosity_point']}")
    entities = {e["name"]: e for e in world["entities"]}
    check(len(entities) == 24, f"{len(entities)} entities")
    values = [v for attr in ATTRIBUTES for v in world["values"][attr]]
    check(len(values) == len(set(values)), "a value is in two attributes' lists")
    check(all(e[attr] in world["values"][attr] for e in entities.values() for attr in ATTRIBUTES), "a bad value")

    # Prompts: distinct, ask 1-3 distinct attributes of one entity, and carry the world's facts.
    check(len({p["prompt"] for p in prompts}) == len(prompts), "prompts repeat")
    check({len(p["asks"]) for p in prompts} == {1, 2, 3}, "prompts do not ask 1, 2 and 3 attributes")
    for p in prompts:
        check(list(p) == ["prompt", "entity", "asks", "facts"], f"prompt columns {list(p)}")
        e = entities.get(p["entity"])
        check(e is not None and f" {p['entity']}" in p["prompt"], f"entity of {p}")
        check(len(set(p["asks"])) == len(p["asks"]) and set(p["asks"]) <= set(ATTRIBUTES), f"asks of {p}")
        check(all(attr in p["prompt"] for attr in p["asks"]) and p["prompt"].endswith("\n"), f"text of {p}")
        check(e is not None and p["facts"] == [e[attr] for attr in p["asks"]], f"facts of {p}")

    # Responses: within the byte budget, stating only asked facts, spanning both objectives independently.
    def facts_of(prompt):
        name = re.search(r" of the (\w+)[.?]\n$", prompt).group(1)
        asked = [attr for attr in ATTRIBUTES if attr in prompt]
        return entities[name], [entities[name][attr] for attr in asked]

    kinds = set()
    for r in sft + ratings:
        check(len((r["prompt"] + r["response"]).encode()) < 200, f"over 200 bytes: {r}")
        entity, facts = facts_of(r["prompt"])
        words = {w.lower() for w in re.findall(r"[A-Za-z0-9]+", r["response"])}
        check(not (words & set(values)) - set(facts), f"states a fact not asked: {r}")
        h, v, n = true_objectives(r["response"], facts)
        check(3 <= n <= 29, f"{n} words: {r}")
        kinds.add((h == 4, h == 0, v >= 2, v < 1))
    for kind, what in (((True, False, False, True), "concise-complete"),
                       ((False, True, True, False), "verbose-unhelpful"),
                       ((True, False, True, False), "verbose-complete"),
                       ((False, True, False, True), "concise-unhelpful")):
        check(kind in kinds, f"no {what} response")
    check(all(list(r) == ["prompt", "response"] for r in sft), "SFT columns")

    # Ratings: 0..4 integers near the true values; 10% without each, never both.
    no_h = sum(r["helpfulness"] is None for r in ratings)
    no_v = sum("verbosity" not in r for r in ratings)
    check(all("helpfulness" in r for r in ratings), "a row without the helpfulness key")
    check(all(r["helpfulness"] is not None or "verbosity" in r for r in ratings), "a row without both ratings")
    check(0.07 < no_h / 3000 < 0.13 and 0.07 < no_v / 3000 < 0.13, f"missing: {no_h} helpfulness, {no_v} verbosity")
    errors = {"helpfulness": [], "verbosity": []}
    seen = {"helpfulness": set(), "verbosity": set()}
    for r in ratings:
        h, v, _ = true_objectives(r["response"], facts_of(r["prompt"])[1])
        for name, truth in (("helpfulness", h), ("verbosity", v)):
            rating = r.get(name)
            if rating is None:
                continue
            check(isinstance(rating, int) and 0 <= rating <= 4, f"{name} {rating!r}")
            errors[name].append(abs(rating - truth))
            seen[name].add(rating)
    for name in errors:
        check(seen[name] == {0, 1, 2, 3, 4}, f"{name} ratings {sorted(seen[name])}")
        mean = sum(errors[name]) / len(errors[name])
        check(mean < 0.6, f"{name}: mean |rating - true| {mean:.2f}")

    # The judge on the task's own responses agrees with this file's reading of the rule, row by row.
    known = {p["prompt"]: p["facts"] for p in prompts}
    gens = [{"prompt": r["prompt"], "text": r["response"], "iteration": 0, "angle_deg": 0, "row": i}
            for i, r in enumerate(sft) if r["prompt"] in known]
    check(len(gens) > 100, f"only {len(gens)} SFT rows ask a prompt of prompts.jsonl")
    write_jsonl(os.path.join(work, "sft-gen.jsonl"), gens)
    run = judge("--data", a, "--input", os.path.join(work, "sft-gen.jsonl"), "--out", os.path.join(work, "s0.json"),
                "--rows", os.path.join(work, "r0.jsonl"))
    check(run.returncode == 0, f"judge on SFT rows: {run.returncode} {run.stderr}")
    if run.returncode == 0:
        with open(os.path.join(work, "r0.jsonl")) as f:
            scored = [json.loads(line) for line in f]
        check(len(scored) == len(gens), f"{len(scored)} scored rows of {len(gens)}")
        for g, s in zip(gens, scored):
            h, v, n = true_objectives(g["text"], known[g["prompt"]])
            check(s["row"] == g["row"] and close(s["helpfulness_true"], h) and close(s["verbosity_true"], v)
                  and s["words"] == n, f"judge {s} vs {h}, {v}, {n}")

    # Hand-computed: one prompt asking 1, 2 and 3 facts, generations whose scores are known.
    p1, p2, p3 = (next(p for p in prompts if len(p["asks"]) == k) for k in (1, 2, 3))
    fa, (b1, b2), (c1, c2, c3) = p1["facts"][0], p2["facts"], p3["facts"]
    hand = [
        # iteration 0: v = 0.5, 1, 1.25 rising with the angle
        {"prompt": p2["prompt"], "text": f"It is {b1}.", "iteration": 0, "angle_deg": -45},  # h 2, 3 words
        {"prompt": p1["prompt"], "text": f"It is {fa.upper()}! It is shy.", "iteration": 0, "angle_deg": 0},  # h 4
        {"prompt": p3["prompt"], "text": f"{c3}, {c1} and {c2}: one two three four five",  # h 4, 9 words
         "iteration": 0, "angle_deg": 45, "extra": [1]},
        {"prompt": p3["prompt"], "text": f"{c1}ish and more words here now", "iteration": 0, "angle_deg": 45},  # 0, 6
        # iteration 1: v = 1/3, 1/3, 4 (a tie)
        {"prompt": p2["prompt"], "text": f"{b1} {b2}", "iteration": 1, "angle_deg": -45},  # h 4, 2 words
        {"prompt": p1["prompt"], "text": "no idea", "iteration": 1, "angle_deg": 0},  # h 0, 2 words
        {"prompt": p3["prompt"], "text": "word " * 29 + c1, "iteration": 1, "angle_deg": 45},  # h 4/3, 30 words
        # no iteration, no angle
        {"prompt": p1["prompt"], "text": fa},
    ]
    gen_path = os.path.join(work, "hand.jsonl")
    write_jsonl(gen_path, hand[:4] + [""] + hand[4:])  # a blank line is skipped
    out, rows_path = os.path.join(work, "summary.json"), os.path.join(work, "rows.jsonl")
    run = judge("--data", a, "--input", gen_path, "--out", out, "--rows", rows_path)
    check(run.returncode == 0 and "dpa-judge:" in run.stderr, f"judge: {run.returncode} {run.stderr}")
    if run.returncode == 0:
        with open(out) as f:
            s = json.load(f)
        with open(rows_path) as f:
            scored = [json.loads(line) for line in f]
        check(len(scored) == 8 and scored[2]["extra"] == [1], f"rows: {scored}")
        expected_rows = [(2, 0.5, 3), (4, 1, 6), (4, 1.5, 9), (0, 1, 6), (4, 1 / 3, 2), (0, 1 / 3, 2), (4 / 3, 4, 30),
                         (4, 1 / 6, 1)]
        for row, (h, v, n) in zip(scored, expected_rows):
            check(close(row["helpfulness_true"], h) and close(row["verbosity_true"], v) and row["words"] == n,
                  f"row {row}: expected {h}, {v}, {n}")
        expected_points = [(None, None, 4, 1 / 6, 1, 1), (0, -45, 2, 0.5, 3, 1), (0, 0, 4, 1, 6, 1),
                           (0, 45, 2, 1.25, 7.5, 2), (1, -45, 4, 1 / 3, 2, 1), (1, 0, 0, 1 / 3, 2, 1),
                           (1, 45, 4 / 3, 4, 30, 1)]
        got = [(p["iteration"], p["angle_deg"], p["helpfulness"], p["verbosity"], p["words"], p["n"])
               for p in s["points"]]
        check(len(got) == len(expected_points) and all(
            g[:2] == e[:2] and all(close(x, y) for x, y in zip(g[2:], e[2:])) for g, e in zip(got, expected_points)),
            f"points {got}")
        r = math.sqrt(0.5)
        expected_by = {None: (None, None),
                       0: (1.0, (r * (2 - 0.5) + 4 + r * (2 + 1.25)) / 3),
                       1: (1.5 / math.sqrt(3), (r * (4 - 1 / 3) + 0 + r * (4 / 3 + 4)) / 3)}
        by = {b["iteration"]: (b["spearman_verbosity_angle"], b["scalarized_mean"]) for b in s["by_iteration"]}
        check(set(by) == set(expected_by), f"by_iteration {s['by_iteration']}")
        for it, (rho, mean) in expected_by.items():
            g = by.get(it, ("missing", "missing"))
            ok = g == (None, None) if rho is None else close(g[0], rho) and close(g[1], mean)
            check(ok, f"iteration {it}: {g}, expected {(rho, mean)}")
        # -45: better and dominates; 0: worse; 45: better, not dominating (less helpful).
        check(s["dominance"] == {"first": 0, "last": 1, "angles": 3, "last_better": 2, "last_dominates": 1},
              f"dominance {s['dominance']}")

    # One iteration: no dominance; a lone angle: no Spearman.
    write_jsonl(gen_path, [hand[0]])
    run = judge("--data", a, "--input", gen_path, "--out", out)
    if run.returncode == 0:
        with open(out) as f:
            s = json.load(f)
        check(s["dominance"] is None and s["by_iteration"][0]["spearman_verbosity_angle"] is None, f"summary {s}")
    check(run.returncode == 0, f"judge: {run.returncode} {run.stderr}")

    # Bad generations: an error naming FILE:LINE and the field, exit 1.
    good = json.dumps(hand[0])
    for lines, where, named in (
            ([good, json.dumps({"prompt": "Tell me about nothing.\n", "text": "x"})], ":2:", "prompt"),
            ([good, good, '{"prompt": "x", "text": '], ":3:", "malformed"),
            ([json.dumps({"prompt": p1["prompt"]})], ":1:", "'text'"),
            ([json.dumps({"prompt": p1["prompt"], "text": 3})], ":1:", "'text'"),
            ([json.dumps(dict(hand[0], iteration="1"))], ":1:", "'iteration'"),
            ([json.dumps(dict(hand[0], iteration=1.5))], ":1:", "'iteration'"),
            ([json.dumps(dict(hand[0], angle_deg="45"))], ":1:", "'angle_deg'"),
            (["[1, 2]"], ":1:", "object")):
        write_jsonl(gen_path, lines)
        run = judge("--data", a, "--input", gen_path, "--out", out)
        check(run.returncode == 1 and f"{gen_path}{where}" in run.stderr and named in run.stderr,
              f"{lines}: exit {run.returncode}, stderr {run.stderr!r}")
    run = judge("--data", a, "--input", os.path.join(work, "none.jsonl"), "--out", out)
    check(run.returncode == 1 and "none.jsonl" in run.stderr, f"missing input: {run.returncode} {run.stderr!r}")
    for flags, named in ((["--input", gen_path, "--out", out], "--data"), (["--data", a, "--out", out], "--input"),
                         (["--data", a, "--input", gen_path], "--out"), (["--bogus", "1"], "--bogus")):
        run = judge(*flags)
        check(run.returncode == 2 and named in run.stderr, f"judge {flags}: exit {run.returncode} {run.stderr!r}")

    # Counts and refused flags of the generator.
    small = os.path.join(work, "small")
    generate(small, "--prompts", "5", "--sft-rows", "7", "--rated-rows", "9", "--seed", "3")
    check([len(read_rows(small, n)) for n in names[:3]] == [5, 7, 9], "--prompts 5 --sft-rows 7 --rated-rows 9")
    for flags, named in ((["--prompts", "x"], "--prompts"), (["--bogus", "1"], "--bogus"),
                         (["--sft-rows", "0"], "--sft-rows"), (["--prompts", "2881"], "--prompts"),
                         (["--rated-rows"], "--rated-rows"), ([], "--out")):
        run = gen.run(os.path.join(work, "bad") if named != "--out" else None, *flags)
        check(run.returncode == 2 and named in run.stderr, f"{flags}: exit {run.returncode}, stderr {run.stderr!r}")
    generate(os.path.join(work, "all"), "--prompts", "2880", "--sft-rows", "1", "--rated-rows", "1")

gen.finish()
