"""Shared fixtures: where the build and the sources are (CTest sets ALIGN_BUILD_DIR / ALIGN_SOURCE_DIR)."""
import os
import pathlib
import subprocess

import pytest

SOURCE_DIR = pathlib.Path(os.environ.get("ALIGN_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
BUILD_DIR = pathlib.Path(os.environ.get("ALIGN_BUILD_DIR", SOURCE_DIR / "build"))
ALIGNC = BUILD_DIR / "bin" / "alignc"
RECIPES = sorted((SOURCE_DIR / "recipes").glob("*.align"))


def run_alignc(*args, input_path=None, timeout=60):
    """Runs alignc; returns the CompletedProcess (never raises on a non-zero exit)."""
    cmd = [str(ALIGNC), *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "NO_COLOR": "1"})


@pytest.fixture(scope="session")
def alignc():
    assert ALIGNC.exists(), f"{ALIGNC} is not built"
    return run_alignc
