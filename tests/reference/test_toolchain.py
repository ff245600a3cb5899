"""The Python side of the toolchain is the pinned one: the CUDA-enabled torch 2.11 wheel (which also provides
LibTorch to CMake) and the reference implementations the parity tests compare against."""
import pathlib

import pytest


def pinned():
    req = pathlib.Path(__file__).resolve().parents[2] / "requirements.txt"
    out = {}
    for line in req.read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            out[name.strip()] = version.strip()
    return out


@pytest.mark.parametrize("name", ["torch", "transformers", "trl", "tokenizers", "safetensors", "numpy"])
def test_installed_versions_match_the_pins(name):
    import importlib.metadata as md
    assert md.version(name).split("+")[0] == pinned()[name]


def test_torch_is_the_cuda_enabled_wheel_with_libtorch():
    import torch
    assert torch.version.cuda is not None, "the CPU-only wheel was installed; the project pins the CUDA build"
    prefix = pathlib.Path(torch.utils.cmake_prefix_path)
    assert (prefix / "Torch" / "TorchConfig.cmake").exists()
    assert (prefix.parent.parent / "include" / "torch" / "script.h").exists() or \
           (pathlib.Path(torch.__file__).parent / "include" / "torch" / "script.h").exists()
