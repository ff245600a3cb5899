"""Every shipped recipe passes `alignc check`, alone and all together, and dumps a checked AST."""
from conftest import RECIPES


def test_recipe_library_is_not_empty():
    names = {p.stem for p in RECIPES}
    assert {"pdpo_length", "dsp_customized_rm", "em_dpo_types", "dpa_directions", "dpo", "reward_model", "sft"} <= names


def test_all_recipes_check_together(alignc):
    r = alignc("check", *RECIPES)
    assert r.returncode == 0, r.stderr
    assert f"{len(RECIPES)} files checked: {len(RECIPES)} ok, 0 with errors" in r.stdout
    assert r.stderr == ""


def test_every_recipe_dumps_an_ast_with_its_stages(alignc):
    for path in RECIPES:
        r = alignc("--emit=ast", path)
        assert r.returncode == 0, r.stderr
        text = path.read_text()
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("stage "):
                name = line.split()[1]
                assert f"stage {name} <" in r.stdout, f"{path.name}: stage {name} missing from the AST dump"
