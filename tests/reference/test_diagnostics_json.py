"""`alignc check --diagnostics=json`: one JSON object per diagnostic, with positions that point at the text
the message is about, the same diagnostics as the text format, and exit status 1."""
import json
import re

BAD = """recipe bad {
  tokenizer tok = bytes();
  model lm = llama(preset: "huge", tokenizer: tok);
  data prefs = pairwise("p.jsonl");
  stage align {
    policy pi = lm;
    reference ref = frozen(lmm);
    train pi on prefs;
    objective dpo(betta: 0.1);
  }
}
"""


def diagnostics(alignc, tmp_path, text):
    path = tmp_path / "bad.align"
    path.write_text(text)
    r = alignc("check", "--diagnostics=json", path)
    return r, [json.loads(line) for line in r.stdout.splitlines()]


def test_json_objects_have_the_documented_fields(alignc, tmp_path):
    r, diags = diagnostics(alignc, tmp_path, BAD)
    assert r.returncode == 1
    assert len(diags) == 3
    for d in diags:
        assert set(d) == {"file", "line", "column", "end_line", "end_column", "severity", "message", "notes", "hints"}
        assert d["severity"] == "error"
        assert d["file"].endswith("bad.align")


def test_positions_point_at_the_named_text(alignc, tmp_path):
    _, diags = diagnostics(alignc, tmp_path, BAD)
    lines = BAD.splitlines()
    for d in diags:
        quoted = re.findall(r"'([^']+)'", d["message"])
        span = lines[d["line"] - 1][d["column"] - 1:d["end_column"] - 1]
        assert any(q in span or span in q for q in quoted), (d["message"], span)


def test_hints_and_order(alignc, tmp_path):
    _, diags = diagnostics(alignc, tmp_path, BAD)
    assert [d["line"] for d in diags] == sorted(d["line"] for d in diags)
    by_line = {d["line"]: d for d in diags}
    assert "did you mean 'lm'?" in by_line[7]["hints"]
    assert "did you mean 'beta'?" in by_line[9]["hints"]
    assert "tiny" in by_line[3]["message"]


def test_text_and_json_report_the_same_diagnostics(alignc, tmp_path):
    path = tmp_path / "bad.align"
    path.write_text(BAD)
    text = alignc("check", path).stderr
    _, diags = diagnostics(alignc, tmp_path, BAD)
    for d in diags:
        assert f"bad.align:{d['line']}:{d['column']}: error: {d['message']}" in text


def test_syntax_errors_are_json_too(alignc, tmp_path):
    r, diags = diagnostics(alignc, tmp_path, "recipe r {\n  model m = llama(\n}\n")
    assert r.returncode == 1
    assert diags and all(d["line"] >= 1 and d["column"] >= 1 for d in diags)
