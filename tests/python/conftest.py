"""Shared fixtures for the Python tests (run by ctest as the `python` test, or by hand:
PYTHONPATH=build/python python3 -m pytest tests/python). The shared data folder is
$ATTNLAB_SHARED_DIR or ../shared from the repository root; a missing file fails, never skips."""
import os
import pathlib

import pytest

import attnlab

ROOT = pathlib.Path(__file__).resolve().parents[2]


def shared_file(rel):
    base = pathlib.Path(os.environ.get("ATTNLAB_SHARED_DIR", ROOT.parent / "shared"))
    p = base / rel
    if not p.exists():
        pytest.fail(f"missing shared file {p} (set ATTNLAB_SHARED_DIR to the folder holding models/, corpora/)")
    return p


def cli_path():
    p = pathlib.Path(os.environ.get("ATTNLAB_BIN", ROOT / "build" / "experiments" / "attnlab"))
    if not p.exists():
        pytest.fail(f"missing the attnlab CLI at {p} (build it, or set ATTNLAB_BIN)")
    return p


@pytest.fixture(scope="session")
def stories_gguf():
    return str(shared_file("models/stories260K/stories260K.gguf"))


@pytest.fixture(scope="session")
def stories_bin():
    return str(shared_file("models/stories260K/stories260K.bin"))


@pytest.fixture(scope="session")
def stories_tok():
    return str(shared_file("models/stories260K/tok512.bin"))


@pytest.fixture(scope="session")
def stories(stories_gguf):
    # The GGUF records the converter's context 2048; the model was trained at 512.
    return attnlab.load(stories_gguf, context=512)


@pytest.fixture(scope="session")
def cli():
    return str(cli_path())
