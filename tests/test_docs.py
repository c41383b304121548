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
