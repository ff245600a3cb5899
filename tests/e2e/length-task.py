#!/usr/bin/env python3
"""align-data length-task: the same seed gives the same bytes; 70% of seen and of unseen users prefer the long
response; chosen is the longer response exactly for "long" users; nothing exceeds the recipes' byte budget
(max_length 96, max_prompt_length 48); bad flags are named. Usage: length-task.py BUILD_DIR"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from align_data_check import GeneratorCheck  # noqa: E402

gen = GeneratorCheck(sys.argv[1], "length-task")
check, generate = gen.check, gen.generate


def read_bytes(out, name):
    with open(os.path.join(out, "length", name), "rb") as f:
        return f.read()


def read_rows(out, name):
    return [json.loads(line) for line in read_bytes(out, name).decode().splitlines()]


with tempfile.TemporaryDirectory() as work:
    a, b, c = (os.path.join(work, x) for x in "abc")
    summary = generate(a, "--seed", "7")
    generate(b, "--seed", "7")
    generate(c, "--seed", "8")
    for name in ("sft.jsonl", "prefs.jsonl"):
        check(read_bytes(a, name) == read_bytes(b, name), f"{name}: the same seed gave different bytes")
        check(read_bytes(a, name) != read_bytes(c, name), f"{name}: seeds 7 and 8 gave the same bytes")
    check(summary.count("\n") == 1 and "mean response bytes" in summary, f"summary line: {summary!r}")

    for flags, seen_users, unseen_users, pairs, sft_rows in [
        ((), 10, 4, 120, 3000),
        (("--users", "5", "--unseen-users", "3", "--pairs-per-user", "9", "--sft-rows", "50"), 5, 3, 9, 50),
        (("--users", "1", "--unseen-users", "0", "--pairs-per-user", "1", "--sft-rows", "1"), 1, 0, 1, 1),
    ]:
        out = os.path.join(work, "x" + "_".join(flags))
        generate(out, *flags)
        sft = read_rows(out, "sft.jsonl")
        prefs = read_rows(out, "prefs.jsonl")
        tag = " ".join(flags) or "defaults"
        check(len(sft) == sft_rows, f"{tag}: {len(sft)} SFT rows, expected {sft_rows}")
        check(len(prefs) == (seen_users + unseen_users) * pairs, f"{tag}: {len(prefs)} preference rows")
        check(all(set(r) == {"prompt", "response"} for r in sft), f"{tag}: SFT columns")
        sentences = {r["response"].count(".") for r in sft}
        check(sentences <= {1, 2, 3} and (sft_rows < 100 or sentences == {1, 2, 3}), f"{tag}: SFT lengths {sentences}")
        users = {}
        per_user = {}
        for r in prefs:
            check(list(r) == ["prompt", "chosen", "rejected", "user_id", "group", "seen"], f"{tag}: columns {list(r)}")
            check(isinstance(r["seen"], bool), f"{tag}: seen is not a boolean")
            check(r["group"] in ("long", "short"), f"{tag}: group {r['group']}")
            check(users.setdefault(r["user_id"], (r["group"], r["seen"])) == (r["group"], r["seen"]),
                  f"{tag}: user {r['user_id']} changes group or seen")
            per_user[r["user_id"]] = per_user.get(r["user_id"], 0) + 1
            longer = len(r["chosen"].encode()) > len(r["rejected"].encode())
            check(longer == (r["group"] == "long"), f"{tag}: chosen longer = {longer} for a {r['group']} user: {r}")
            check(r["prompt"].endswith("\n") and len(r["prompt"].encode()) <= 48, f"{tag}: prompt {r['prompt']!r}")
            for response in (r["chosen"], r["rejected"]):
                check(len((r["prompt"] + response).encode()) <= 96, f"{tag}: over 96 bytes: {r}")
        for r in sft:
            check(len((r["prompt"] + r["response"]).encode()) <= 96, f"{tag}: SFT row over 96 bytes: {r}")
        expected_ids = {f"u{i}" for i in range(1, seen_users + unseen_users + 1)}
        check(set(users) == expected_ids, f"{tag}: user ids {sorted(users)}")
        check(all(n == pairs for n in per_user.values()), f"{tag}: pairs per user {per_user}")
        for seen, total in ((True, seen_users), (False, unseen_users)):
            ids = [u for u, (g, s) in users.items() if s == seen]
            check(len(ids) == total, f"{tag}: {len(ids)} users with seen={seen}, expected {total}")
            long_count = sum(users[u][0] == "long" for u in ids)
            check(long_count == (7 * total + 5) // 10, f"{tag}: {long_count} of {total} seen={seen} users prefer long")
        # Rows are shuffled, not grouped by user.
        if len(prefs) > 20:
            check(len({r["user_id"] for r in prefs[:20]}) > 1, f"{tag}: rows are not shuffled")

    # Defaults: the groups are not simply the first users, and long responses are clearly longer.
    prefs = read_rows(a, "prefs.jsonl")
    groups = {r["user_id"]: r["group"] for r in prefs if r["seen"]}
    check([groups[f"u{i}"] for i in range(1, 11)] != ["long"] * 7 + ["short"] * 3, "long users are u1..u7")
    short = [len(min(r["chosen"], r["rejected"], key=len)) for r in prefs]
    long = [len(max(r["chosen"], r["rejected"], key=len)) for r in prefs]
    check(sum(long) / len(long) >= 2 * sum(short) / len(short), "long responses are not twice the short on average")

    for flags, named in ((["--users", "x"], "--users"), (["--bogus", "1"], "--bogus"), (["--users", "0"], "--users"),
                         (["--pairs-per-user"], "--pairs-per-user"), ([], "--out")):
        run = gen.run(os.path.join(work, "bad") if named != "--out" else None, *flags)
        check(run.returncode == 2 and named in run.stderr, f"{flags}: exit {run.returncode}, stderr {run.stderr!r}")

gen.finish()
