"""README documents every setting and every command a user can run."""

from pathlib import Path

import pytest

from geonews.settings import SETTINGS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.env)
def test_every_setting_is_documented(setting):
    assert f"`{setting.env}`" in README


@pytest.mark.parametrize(
    "command",
    [
        "make run",
        "make test",
        "python -m geonews analyze",
        "python -m geonews ingest",
        "python -m geonews stats",
        "python -m geonews serve",
        "python -m geonews eval",
        "python -m geonews eval-ner",
    ],
)
def test_every_command_is_documented(command):
    assert command in README


RELIABILITY = Path(__file__).resolve().parent.parent / "docs" / "reliability.md"


def test_reliability_table_names_tests_that_exist():
    """Every test docs/reliability.md cites is a test in that file; README links it."""
    import re

    assert "(docs/reliability.md)" in README
    text = RELIABILITY.read_text(encoding="utf-8")
    cited = []
    for cell in re.findall(r"`(test_\w+\.py)((?:::\w+)?)`((?:, `::\w+`)*)", text):
        file, first, more = cell
        names = [first, *re.findall(r"::\w+", more)]
        cited += [(file, n[2:]) for n in names if n]
    assert len(cited) > 50
    for file, name in cited:
        source = (RELIABILITY.parent.parent / "tests" / file).read_text(encoding="utf-8")
        assert f"def {name}(" in source, f"{file}::{name}"
