"""The ``[keys]`` table: unknown ids and clashes are config errors (exit 2, with the line), for
``triage`` and ``triage doctor`` alike; keys in different screens do not clash."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.cli import main
from tui.config import Config, load_config
from tui.ui.app import binding_ids, check_keymap, keymap_errors

CONFIG = """\
brand = "Acme"

[[sources]]
kind = "mastodon"
hashtags = ["acme"]
search = "acme"
token_env = "MASTO_TOKEN"

[keys]
{keys}
"""


def write(tmp_path: Path, keys: str, text: str = CONFIG) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text.format(keys=keys), encoding="utf-8")
    return path


def problems(tmp_path: Path, keys: str) -> list[str]:
    return [str(e) for e in keymap_errors(load_config(write(tmp_path, keys)))]


def test_every_id_the_readme_documents_is_a_binding_id() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    keys_section = readme.split("## Keys", 1)[1].split("\n## ", 1)[0]
    documented = {
        cell.strip().strip("`")
        for line in keys_section.splitlines()
        if line.startswith("| ") and not line.startswith("| key")
        for cell in line.rstrip(" |").rsplit("|", 1)[1].split(",")
        if cell.strip().startswith("`")
    }
    documented.discard("quick_tag_1` …")
    quick = {f"quick_tag_{n}" for n in range(1, 10)}
    assert documented | quick == binding_ids()  # every id is documented, and only real ones
    assert {"down", "top", "page_down", "reply_save", "reply_close", "quick_tag_9"} <= binding_ids()


def test_a_key_taken_from_another_action_names_both_ids_and_the_key(tmp_path: Path) -> None:
    (problem,) = problems(tmp_path, 'tag = "s"')
    assert problem == (
        f"{tmp_path / 'config.toml'}:10: keys.tag: key 's' is also the key of snapshot on the "
        "main screen; give tag another key, or remap snapshot too"
    )


def test_the_line_is_the_one_in_the_keys_table(tmp_path: Path) -> None:
    # "search =" also appears in the [[sources]] table above; the error points into [keys].
    (problem,) = problems(tmp_path, 'search = "j"')
    assert ":10: keys.search: key 'j' is also the key of down on the main screen" in problem


@pytest.mark.parametrize(
    ("keys", "clash"),
    [
        ('down = "k"', "'k' is also the key of up"),
        ('help = "?"\nsnapshot = "question_mark"', "keys.help: key 'question_mark'"),
        ('quick_tag_1 = "t"', "keys.quick_tag_1: key 't' is also the key of tag"),
        ('search = "ctrl+p"', "the command palette key (built in)"),
        ('reply_save = "ctrl+t"', "key 'ctrl+t' is also the key of reply_template on the reply"),
        ('reply_copy = "ctrl+p"', "the command palette key (built in) on the reply editor"),
        ('reply_save = "ctrl+w"', "key 'ctrl+w' is also the key of the reply text's delete"),
        ('reply_save = "s"', "key 's' is also the key of typing in the reply on the reply editor"),
        ('reply_close = "?"', "key 'question_mark' is also the key of typing in the reply"),
        ('snapshot = "S"\ntag = "S"', "keys.snapshot: key 'S' is also the key of tag"),
    ],
)
def test_clashes_within_one_screen(tmp_path: Path, keys: str, clash: str) -> None:
    found = problems(tmp_path, keys)
    assert len(found) == 1 and clash in found[0], found


@pytest.mark.parametrize(
    "keys",
    [
        'snapshot = "t"\ntag = "s"',  # a swap
        'reply_save = "ctrl+f"',  # ctrl+f pages the list on the main screen, a screen apart
        'reply_close = "ctrl+g"',
        'clear_search = "ctrl+s"',  # ctrl+s saves in the reply editor, not on the main screen
        'snapshot = "ctrl+w"',  # the reply text deletes a word on ctrl+w, in another screen
        'down = "j,ctrl+n"\nup = "k,ctrl+k"',
    ],
)
def test_no_clash_across_screens_or_after_a_swap(tmp_path: Path, keys: str) -> None:
    assert problems(tmp_path, keys) == []


def test_keys_of_the_same_action_do_not_clash(tmp_path: Path) -> None:
    assert problems(tmp_path, 'quit = "q,ctrl+q"') == []  # ctrl+q is Textual's quit too


def test_unknown_id_is_named_with_the_valid_ones(tmp_path: Path) -> None:
    (problem,) = problems(tmp_path, 'snapshoot = "S"')
    assert ":10: keys.snapshoot: unknown binding id; valid ids are " in problem
    assert "reply_save" in problem and "page_down" in problem


def test_empty_key_is_an_error_at_load(tmp_path: Path) -> None:
    from tui.config import ConfigError

    with pytest.raises(ConfigError, match=r":10: keys.snapshot: empty key in 's,,S'"):
        load_config(write(tmp_path, 'snapshot = "s,,S"'))


def test_without_a_config_file_the_defaults_pass() -> None:
    check_keymap(Config())


def test_triage_refuses_a_clash_with_exit_2_before_the_screen(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = write(tmp_path, 'tag = "s"')
    code = main(["--config", str(config), "--db", str(tmp_path / "m.db")])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1
    assert "config.toml:10: keys.tag: key 's' is also the key of snapshot" in err


def test_doctor_reports_key_problems_as_the_app_does(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = 'brand = "Acme"\n\n[keys]\n{keys}\n'
    config = write(tmp_path, 'tag = "s"\nsnapshoot = "x"', text)
    code = main(["doctor", "--config", str(config)])
    out, _ = capsys.readouterr()
    assert code == 2
    lines = out.splitlines()
    assert "warning" in lines[1] and "no [[sources]]" in lines[1]
    assert any(
        "config error" in line and "keys.snapshoot: unknown binding id" in line for line in lines
    )
    assert any(
        "config error" in line
        and "config.toml:4: keys.tag: key 's' is also the key of snapshot" in line
        for line in lines
    )


def test_doctor_accepts_a_config_without_sources(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('brand = "Acme"\n\n[keys]\nsnapshot = "S"\n', encoding="utf-8")
    code = main(["doctor", "--config", str(config)])
    out, err = capsys.readouterr()
    assert code == 0, (out, err)
    # (the database's own rows follow the sources' and the config's)
    (header, row) = [line for line in out.splitlines() if line.split()[1:2] != ["database"]]
    assert header.split() == ["SOURCE", "KIND", "STATUS", "DETAIL"]
    assert row.split()[2] == "warning" and "no [[sources]]" in row
