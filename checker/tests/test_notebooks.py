"""The kata notebooks: generated from the katas, their cells give the kata file back, and the
%%kata / %katas magics grade what a notebook holds, in a sandbox (katas/ and .katas/ in tmp)."""

import json

import pytest

from checker import cells, cli, magics, notebooks, progress
from checker.blanks import apply_answers, generate_kata, solved_kata, unfilled_line
from checker.catalog import all_katas, find_kata

jupytext = pytest.importorskip("jupytext", reason="the notebooks extra: pip install -e '.[notebooks]'")


def code_cells(notebook_text: str, kata) -> list[str]:
    """The sources of a notebook's cells of the kata, without their %%kata line, in order."""
    found = []
    for cell in json.loads(notebook_text)["cells"]:
        source = "".join(cell["source"])
        first, _, code = source.partition("\n")
        if cell["cell_type"] == "code" and first.startswith(f"%%kata {kata.number} "):
            found.append(code)
    return found


def run_notebook_cells(shell, kata, kata_text: str) -> None:
    """Run the code cells of the kata's notebook made from `kata_text` (shipped, solved, ...)."""
    for cell in json.loads(notebooks.notebook_text(kata, kata_text))["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and source.startswith("%%kata"):
            assert shell.run_cell(source).success, source


def test_generating_again_gives_the_committed_notebooks():
    katas = all_katas()
    assert notebooks.stale_notebooks(katas) == []  # else: `katas sync`
    assert notebooks.stale_notebook_files(katas) == []
    kata = find_kata("03")
    assert notebooks.notebook_text(kata) == notebooks.notebook_text(kata)
    nb = json.loads(notebooks.notebook_text(kata))
    assert all(c.get("outputs", []) == [] and c.get("execution_count") is None for c in nb["cells"])
    assert [c["id"] for c in nb["cells"]][:3] == ["k03-explanation", "k03-how-to", "k03-setup"]


def test_the_readme_opens_every_katas_notebook_in_colab():
    readme = notebooks.README_PATH.read_text(encoding="utf-8")
    assert notebooks.readme_with_table(readme) == readme  # else: `katas sync`
    for kata in all_katas():
        assert f"]({notebooks.colab_url(kata)})" in readme


@pytest.mark.parametrize("kata", all_katas(), ids=lambda k: k.number)
def test_a_notebooks_code_cells_give_its_kata_file_back(kata):
    for text in (generate_kata(kata.reference_source), solved_kata(kata.reference_source)):
        layout = cells.split(text)
        from_notebook = code_cells(notebooks.notebook_text(kata, text), kata)
        assert len(from_notebook) == len(layout.cells) >= 2
        assert layout.assemble(from_notebook) == text


def test_kata_00s_notebook_explains_sets_up_holds_the_code_and_checks():
    kata = find_kata("00")
    nb = json.loads(notebooks.notebook_text(kata))
    kinds = [(c["cell_type"], c["id"].removeprefix("k00-")) for c in nb["cells"]]
    assert kinds == [
        ("markdown", "explanation"), ("markdown", "how-to"), ("code", "setup"), ("code", "code-1"),
        ("markdown", "about-2"), ("code", "code-2"), ("markdown", "about-3"), ("code", "code-3"),
        ("markdown", "about-4"), ("code", "code-4"), ("markdown", "check-title"), ("code", "check"),
        ("markdown", "hint-title"), ("code", "hint"),
    ]  # fmt: skip
    sources = {c["id"].removeprefix("k00-"): "".join(c["source"]) for c in nb["cells"]}
    assert sources["explanation"].startswith("# Kata 00: Start here: shapes and broadcasting\n")
    assert '"git", "clone"' in sources["setup"] and '"pip", "install"' in sources["setup"]
    assert sources["setup"].endswith("\n%load_ext checker.magics")
    assert "- **Blank 00.2** (about 3 lines): reshape mean and std" in sources["about-3"]
    assert sources["check"] == "%katas check 00" and sources["hint"] == "%katas hint 00.1"
    assert notebooks.colab_url(kata) == ("https://colab.research.google.com/github/text2image-katas/"
                                         "text2image-katas/blob/main/notebooks/k00_start.ipynb")  # fmt: skip


def test_docstring_markdown_keeps_tokens_visible_and_indented_blocks_as_code():
    md = notebooks.docstring_markdown("Kata 01: Tokens.\n\nPads with <pad>, see `<bos>`:\n    <pad> (ID 0)\nThe end.")
    assert md == "# Kata 01: Tokens\n\nPads with &lt;pad>, see `<bos>`:\n\n    <pad> (ID 0)\n\nThe end."


def test_a_solved_notebook_checks_as_passing_and_shows_on_the_dashboard(sandbox, shell, capsys):
    kata = find_kata("00")
    run_notebook_cells(shell, kata, solved_kata(kata.reference_source))
    assert shell.run_cell("add_batch_dim(torch.zeros(3, 2, 2)).shape").result == (1, 3, 2, 2)  # the notebook's own
    capsys.readouterr()
    shell.run_cell("%katas check 00")
    report = capsys.readouterr().out
    assert "3 of 3 blanks pass" in report and "passing" in report
    assert kata.kata_path.read_text(encoding="utf-8") == solved_kata(kata.reference_source)
    assert progress.load()["katas"]["00"]["state"] == "passing"
    shell.run_cell("%katas")  # the dashboard
    assert f"1/{len(all_katas())} katas passing" in capsys.readouterr().out


def test_a_blank_left_in_the_notebook_gets_the_files_message(sandbox, shell, capsys):
    kata = find_kata("00")
    one_left = apply_answers(kata.reference_source, {"00.2": unfilled_line("00.2")})
    run_notebook_cells(shell, kata, one_left)
    capsys.readouterr()
    shell.run_cell("%katas check 00")
    from_notebook = capsys.readouterr().out
    assert "00.2  reshape mean and std" in from_notebook and "(not filled in yet)" in from_notebook
    assert "2 of 3 blanks pass" in from_notebook and "Stuck? `%katas hint 00.2`" in from_notebook
    cli.main(["check", "00"])  # the file the notebook wrote, graded from a terminal: the same report
    assert capsys.readouterr().out == from_notebook


def test_the_check_names_the_cells_not_run_and_grades_nothing(sandbox, shell, capsys):
    kata = find_kata("00")
    text = notebooks.notebook_text(kata)
    ran = [c for c in json.loads(text)["cells"] if "".join(c["source"]).startswith("%%kata 00 ")]
    shell.run_cell("".join(ran[0]["source"]))
    shell.run_cell("".join(ran[2]["source"]))
    capsys.readouterr()
    shell.run_cell("%katas check 00")
    out = " ".join(capsys.readouterr().out.split())
    assert "Code cells 2, 4 of 4 of kata 00 have not run since this notebook started" in out
    assert "00" not in progress.load()["katas"]
    assert kata.kata_path.read_text(encoding="utf-8") == generate_kata(kata.reference_source)


def test_running_a_cell_again_replaces_it_and_a_failing_cell_still_counts(sandbox, shell, capsys):
    kata = find_kata("00")
    shell.run_cell("%%kata 00 2/4\nx = 1")
    shell.run_cell("%%kata 00 2/4\ny = 2")
    assert magics.kept["00"] == {2: "y = 2\n"} and shell.user_ns["y"] == 2
    result = shell.run_cell("%%kata 00 3/4\n1 / 0")
    assert not result.success and magics.kept["00"][3] == "1 / 0\n"
    assert "ZeroDivisionError" in capsys.readouterr().out
    shell.run_cell("%%kata 00 9/4\nz = 3")
    assert "expected `%%kata NN i/n`" in capsys.readouterr().out and shell.user_ns["z"] == 3
    assert kata.number in magics.kept and 9 not in magics.kept["00"]


def test_the_check_backs_up_work_in_the_kata_file_it_did_not_write(sandbox, shell, capsys):
    kata = find_kata("00")
    from_terminal = solved_kata(kata.reference_source)
    kata.kata_path.write_text(from_terminal, encoding="utf-8")  # solved in an editor
    run_notebook_cells(shell, kata, generate_kata(kata.reference_source))  # a fresh notebook
    shell.run_cell("%katas check 00")
    assert "held other work of yours" in capsys.readouterr().out
    (saved,) = progress.backups(kata.kata_path)
    assert saved.read_text(encoding="utf-8") == from_terminal
    run_notebook_cells(shell, kata, solved_kata(kata.reference_source))
    shell.run_cell("%katas check 00")  # the file holds what this notebook wrote: nothing to keep
    assert "held other work" not in capsys.readouterr().out
    assert len(progress.backups(kata.kata_path)) == 1


def test_sync_backs_up_a_notebook_someone_worked_in(sandbox, monkeypatch):
    monkeypatch.setattr(notebooks, "NOTEBOOKS_DIR", sandbox / "notebooks")
    kata = find_kata("00")
    assert notebooks.write_notebooks([kata]) == [(kata, None)]
    path = notebooks.notebook_path(kata)
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["cells"][3]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "ran"}]
    path.write_text(json.dumps(nb), encoding="utf-8")  # run, not edited: nothing of value to keep
    assert notebooks.write_notebooks([kata]) == [(kata, None)]
    nb["cells"][5]["source"] = "%%kata 00 2/4\ndef add_batch_dim(image):\n    return image[None]"
    path.write_text(json.dumps(nb), encoding="utf-8")
    ((_, saved),) = notebooks.write_notebooks([kata])
    assert saved is not None and "return image[None]" in saved.read_text(encoding="utf-8")
    assert path.read_text(encoding="utf-8") == notebooks.notebook_text(kata)
    assert notebooks.write_notebooks([kata]) == []  # up to date: not written again


@pytest.mark.timeout(180)
def test_kata_00s_notebook_runs_top_to_bottom_in_a_kernel():
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    run = notebooks.execute_solved(find_kata("00"))
    assert run.problem == ""
