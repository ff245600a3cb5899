"""A recipe's path and text reach the emitted C++ in comments (the header, the rebuild hint, every statement's
location) as well as in string literals. A file name with a newline, a trailing backslash (a line splice) or
other control characters must not end a comment early and put the rest of itself into the code: the trainer
must still compile, and the path must round-trip through its string literals (RecipeInfo, StageSpec.location)."""
import shutil
import subprocess

import pytest

from conftest import SOURCE_DIR

CXX = shutil.which("c++")


@pytest.mark.parametrize("name", ["odd\nint broken = ;\n.align", "splice\\", "tab\tand\x01control\\ \nx;.align",
                                  "quote\"c*/??/x.align"])
def test_hostile_recipe_path_stays_in_comments(alignc, tmp_path, name):
    if CXX is None:
        pytest.skip("no C++ compiler")
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)  # "*/" and "??/" are directory names here
    path.write_text((SOURCE_DIR / "recipes" / "sft.align").read_text())
    r = alignc("--emit=cpp", path)
    assert r.returncode == 0, r.stderr
    cpp = tmp_path / "trainer.cpp"
    cpp.write_text(r.stdout)
    for line in r.stdout.splitlines():
        # No line of code starts with a fragment of the path.
        assert not line.startswith("int broken") and not line.lstrip().startswith("x;"), line
    c = subprocess.run([CXX, "-std=c++17", "-fsyntax-only", "-Wall", "-Werror",
                        f"-I{SOURCE_DIR / 'runtime' / 'include'}", f"-I{SOURCE_DIR / 'registry' / 'include'}", str(cpp)],
                       capture_output=True, text=True, timeout=300)
    assert c.returncode == 0, c.stderr[-3000:]
    # The path itself survives in the string literals, escaped.
    assert '"' + str(path).replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace('"', '\\"')[:20] \
        in r.stdout or str(tmp_path) in r.stdout
