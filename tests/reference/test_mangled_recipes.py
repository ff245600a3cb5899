"""Robustness of `alignc check` on broken recipes: every shipped recipe, mangled in the ways a user breaks
files (a token deleted, a name misspelled, a value out of range, the file cut short), must give
`file:line:col: error:` diagnostics that point inside the file, and exit with status 1, never a signal."""
import random
import re

import pytest

from conftest import RECIPES

TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?(?:%|deg|min|ms|s|h)?|[{}()\[\];:,.=+\-*/]')
LOCATED = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+):(?P<col>\d+): error: ", re.M)


def tokens(text):
    """Token spans outside comments."""
    spans = []
    for lineno, line in enumerate(text.splitlines(keepends=True)):
        code = line.split("#")[0] if '"' not in line else line
        offset = sum(len(l) for l in text.splitlines(keepends=True)[:lineno])
        for m in TOKEN.finditer(code):
            spans.append((offset + m.start(), offset + m.end(), m.group()))
    return spans


def check_fails_cleanly(alignc, tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    r = alignc("check", path)
    assert r.returncode == 1, f"exit {r.returncode} for mangled {name}:\n{r.stderr}"
    located = LOCATED.findall(r.stderr)
    assert located, f"no file:line:col error for {name}:\n{r.stderr}"
    nlines = text.count("\n") + 1
    for _, line, col in located:
        assert 1 <= int(line) <= nlines and int(col) >= 1
    return r.stderr


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.stem)
def test_deleted_tokens(alignc, tmp_path, recipe):
    text = recipe.read_text()
    spans = [s for s in tokens(text) if s[2] in "{}();=" or s[2] in ("stage", "recipe", "train", "on")]
    rng = random.Random(recipe.stem)
    for start, end, tok in rng.sample(spans, min(12, len(spans))):
        check_fails_cleanly(alignc, tmp_path, recipe.name, text[:start] + text[end:])


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.stem)
def test_misspelled_names(alignc, tmp_path, recipe):
    text = recipe.read_text()
    decl = re.compile(r"^\s*(?:model|data|users|preference|reward|tokenizer|template)\s+(\w+)\s*=", re.M)
    decls = list(decl.finditer(text))
    assert decls
    for match in decls:
        # Misspell every use of the name after its declaration (swap the first two letters, or append one).
        name, first = match.group(1), match.end()
        wrong = name[1] + name[0] + name[2:] if len(name) > 1 and name[0] != name[1] else name + "x"
        mangled = text[:first] + re.sub(rf"\b{name}\b", wrong, text[first:])
        if mangled == text:
            continue
        err = check_fails_cleanly(alignc, tmp_path, recipe.name, mangled)
        assert f"'{wrong}'" in err


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.stem)
def test_values_out_of_range(alignc, tmp_path, recipe):
    text = recipe.read_text()
    cases = [(r"\bbatch: \d+", "batch: 0"), (r"\blr: [0-9.e-]+", "lr: -1e-5"), (r"\bbeta: [0-9.]+", "beta: 0"),
             (r"(pdpo\([^)]*alpha: )[0-9.]+", r"\g<1>1.5"), (r"\bepochs: \d+", "epochs: 0"), (r"= \d+%", "= 100%"),
             (r"\bk: \d+", "k: 0"), (r"\btokens: \d+", "tokens: 0"), (r"\biterations: \d+", "iterations: 0")]
    hit = 0
    for pattern, replacement in cases:
        if re.search(pattern, text):
            hit += 1
            err = check_fails_cleanly(alignc, tmp_path, recipe.name, re.sub(pattern, replacement, text, count=1))
            assert "must be" in err or "expects" in err or "splits of" in err, err
    assert hit >= 2


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.stem)
def test_cut_in_half(alignc, tmp_path, recipe):
    text = recipe.read_text()
    for fraction in (0.25, 0.5, 0.75, 0.99):
        err = check_fails_cleanly(alignc, tmp_path, recipe.name, text[: int(len(text) * fraction)])
        assert "end of file" in err or "error:" in err
