"""The README documents every setting and the two set-up commands."""

from pathlib import Path

from core.settings import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_every_setting_is_in_the_configuration_table() -> None:
    missing = [
        f"OO_{name.upper()}" for name in Settings.model_fields if f"OO_{name.upper()}" not in README
    ]
    assert missing == []


def test_the_two_commands_are_there() -> None:
    assert "make run" in README and "make test" in README
