"""Fixtures the project's own tests share (checker/tests, milestones/tests): a learner's checkout
in a temporary folder, and an IPython shell with the notebooks' extension."""

import pytest

from checker import catalog, magics, progress, render
from checker.blanks import generate_kata


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """A learner's checkout: fresh katas in tmp/katas, progress, hints and backups in tmp/.katas,
    the Markdown record in tmp/PROGRESS.md."""
    katas_dir, state = tmp_path / "katas", tmp_path / ".katas"
    katas_dir.mkdir()
    for kata in catalog.all_katas():
        (katas_dir / kata.kata_path.name).write_text(generate_kata(kata.reference_source), encoding="utf-8")
    monkeypatch.setattr(catalog, "KATAS_DIR", katas_dir)
    monkeypatch.setattr(progress, "STATE_DIR", state)
    monkeypatch.setattr(progress, "PROGRESS_PATH", state / "progress.json")
    monkeypatch.setattr(progress, "BACKUP_DIR", state / "backups")
    monkeypatch.setattr(progress, "HINTS_PATH", state / "hints.json")
    monkeypatch.setattr(progress, "SETTINGS_PATH", state / "settings.json")
    monkeypatch.setattr(progress, "RECORD_PATH", tmp_path / "PROGRESS.md")
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("KATAS_LANG", "en")  # whatever the machine's locale
    return tmp_path


@pytest.fixture
def shell(tmp_path, monkeypatch):
    """An IPython shell with the extension loaded (no history file), and no cells kept yet."""
    pytest.importorskip("IPython")
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=config)
    magics.forget()
    for name in ("kata_command", "hint_command"):  # the extension sets them for notebooks: put them back after
        monkeypatch.setattr(render, name, getattr(render, name))
    magics.load_ipython_extension(shell)
    yield shell
    magics.forget()
    InteractiveShell.clear_instance()
