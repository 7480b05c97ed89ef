"""Languages (issue 11): the catalogues of what the checker says (checker/locales/), the katas' own
words in Japanese (reference/ja/, checker/texts.py), the catalogued mistakes' names
(tests/mutants/ja/), `katas --lang`, `katas language`, and grading a kata file whose words are
Japanese exactly as its English twin."""

import json
import os
import re
import subprocess
import sys

import pytest

from checker import catalog, cli, grading, i18n, notebooks, progress, render, report, selfcheck, shortcuts, texts, workspace
from checker.blanks import TODO_RE, apply_answers, generate_kata, solved_kata, unfilled_blanks, unfilled_line
from checker.catalog import ROOT, find_kata
from checker.i18n import t_in

K00 = find_kata("00")


def japanese(text: str) -> bool:
    return any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in text)


def flat(out: str) -> str:
    return " ".join(out.split())


# --- the catalogues -----------------------------------------------------------------------------


def test_every_catalogue_has_the_keys_and_placeholders_of_the_english_one():
    english = i18n.catalogue("en")
    assert "ja" in i18n.languages() and i18n.languages()[0] == "en"
    for lang in i18n.languages()[1:]:
        other = i18n.catalogue(lang)
        assert sorted(set(english) - set(other)) == [], f"{lang} lacks these keys"
        assert sorted(set(other) - set(english)) == [], f"{lang} has keys English does not"
        for key, text in english.items():
            assert i18n.placeholders(other[key]) == i18n.placeholders(text), (lang, key)
            other[key].format(**{name: "x" for name in i18n.placeholders(text)})  # well formed


def test_a_key_a_catalogue_lacks_is_said_in_english(monkeypatch):
    monkeypatch.delitem(i18n.catalogue("ja"), "render.ours")
    assert t_in("ja", "render.ours") == "ours"
    assert t_in("ja", "render.yours", name="k") == "あなた: k"


def test_the_language_is_the_flag_then_the_environment_then_the_setting_then_the_locale(sandbox, monkeypatch):
    for name in ("KATAS_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    assert i18n.resolve() == ("en", "")
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    assert i18n.resolve() == ("ja", "")
    monkeypatch.setenv("LC_ALL", "fr_FR.UTF-8")  # a locale without a catalogue: English, nothing said
    assert i18n.resolve() == ("en", "")
    progress.save_setting("lang", "ja")
    assert i18n.resolve() == ("ja", "")
    monkeypatch.setenv("KATAS_LANG", "en")
    assert i18n.resolve() == ("en", "")
    assert i18n.resolve("JA") == ("ja", "") and i18n.resolve("ja-JP") == ("ja", "")
    lang, note = i18n.resolve("xx")
    assert lang == "en" and "'xx'" in note and "--lang" in note and "en, ja" in note


# --- the learner's session in Japanese ------------------------------------------------------------


@pytest.mark.timeout(120)
def test_katas_lang_ja_shows_the_dashboard_a_failing_katas_messages_and_a_hint_in_japanese(sandbox, capsys):
    path = K00.kata_path
    wrong = path.read_text(encoding="utf-8").replace(  # 00.1 with a wrong shape; the rest not filled in
        'raise NotImplementedError("blank 00.1 is not filled in yet")', "return image.unsqueeze(1)")
    path.write_text(wrong, encoding="utf-8")
    assert cli.main(["--lang", "ja"]) == cli.OK
    out = capsys.readouterr().out
    assert "あなたの進捗" in out and "タイトル" in out and "はじめに: 形状とブロードキャスト" in out
    assert "不合格" in out and "未着手" in out and "次は kata 00" in out
    assert cli.main(["check", "00", "--lang", "ja"]) == cli.NOT_PASSING  # --lang after the command, too
    report = flat(capsys.readouterr().out)
    assert "3 個中 0 個の空欄が合格" in report and "不合格" in report
    assert "✘ 00.1 先頭にサイズ 1 のバッチ次元を加えた画像を返します。" in report
    # tests/support.py's words, from the grading run: in Japanese too
    assert "出力 の形状が (3, 1, 4, 5) です（期待される形状は (1, 3, 4, 5)）" in report
    assert "呼び出し: add_batch_dim((3, 4, 5) float32) シード: 0" in report
    assert "（まだ埋められていません）" in report
    assert "k00_start.py の空欄 00.1 を直して `nox -s kata-00` を実行してください。行き詰まったら `nox -s hint -- 00.1`" in report
    assert cli.main(["--lang", "ja", "hint", "00.1"]) == cli.OK
    hint = flat(capsys.readouterr().out)
    assert "空欄 00.1（約 1 行）: 先頭にサイズ 1 のバッチ次元を加えた画像を返します。" in hint
    assert "ヒント 1/3: モデルはバッチを受け取ります。" in hint and "ヒント 2/3" not in hint
    assert "もう一度 `nox -s hint -- 00.1` を実行すると" in hint
    cli.main(["check", "00"])  # KATAS_LANG=en (conftest): English again, the same verdicts
    english = flat(capsys.readouterr().out)
    assert "0 of 3 blanks pass failing" in english and "output has shape (3, 1, 4, 5), expected (1, 3, 4, 5)" in english


def test_an_unknown_language_falls_back_to_english_with_one_note(sandbox, capsys):
    assert cli.main(["--lang", "xx", "hint", "00.1"]) == cli.OK
    out = capsys.readouterr().out
    assert out.count("note: there are no messages in 'xx'") == 1
    assert "Blank 00.1 (about 1 line): return the image" in out and "hint 1 of 3" in out


def test_a_hint_with_no_translation_is_given_in_english_with_one_note(sandbox, capsys, monkeypatch):
    monkeypatch.setattr(texts, "translation_path", lambda reference, lang: reference.parent / lang / "none.toml")
    cli.main(["--lang", "ja", "hint", "00.2"])
    out = flat(capsys.readouterr().out)
    assert out.count("英語で表示します") == 1
    assert "空欄 00.2（about 3 lines）: reshape mean and std" in out
    assert "ヒント 1/3: Broadcasting lines shapes up from the right" in out


def test_the_nox_sessions_are_described_in_the_language(tmp_path):
    env = dict(os.environ, KATAS_LANG="ja")
    listed = subprocess.run([sys.executable, "-m", "nox", "-l"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)  # fmt: skip
    assert "kata 00 を採点します: はじめに: 形状とブロードキャスト" in listed.stdout, listed.stderr
    assert "空欄の次のヒント: nox -s hint -- 03.2" in listed.stdout


# --- a kata in Japanese: the same code, graded the same way -----------------------------------------


def code_lines(text: str) -> list[str]:
    """The lines of a kata file after its docstring, TODO lines left out: its code."""
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines[1:], start=1) if line.startswith('"""')) + 1
    return [line for line in lines[start:] if not TODO_RE.match(line)]


def test_the_japanese_kata_has_japanese_words_and_the_english_code():
    english, ja = K00.generated("en"), K00.generated("ja")
    assert ja.startswith('"""Kata 00: はじめに: 形状とブロードキャスト\n\n') and japanese(ja.split('"""')[1])
    assert code_lines(ja) == code_lines(english)
    todo = [line for line in ja.split("\n") if TODO_RE.match(line)]
    assert todo[0] == "    # TODO 00.1 (約 1 行): 先頭にサイズ 1 のバッチ次元を加えた画像を返します。"
    assert unfilled_blanks(ja) == unfilled_blanks(english) == ["00.1", "00.2", "00.3"]
    compile(ja, "k00_start.py", "exec")
    solved = solved_kata(K00.reference_source, K00.texts("ja"))
    assert code_lines(solved) == code_lines(solved_kata(K00.reference_source))
    assert K00.texts("ja").missing(K00.blanks) == []


def test_generating_in_english_is_as_before():
    for kata in catalog.all_katas():
        assert generate_kata(kata.reference_source, kata.texts("en")) == generate_kata(kata.reference_source)


@pytest.mark.timeout(120)
def test_a_japanese_kata_file_grades_as_its_english_twin(sandbox):
    answers = {"00.1": "return image[None]", "00.2": "return (images - mean) / std", "00.3": unfilled_line("00.3")}
    english = apply_answers(K00.reference_source, answers)  # 00.2 wrong, 00.3 not filled in
    ja, _ = workspace.relabel(K00, english, "ja")
    assert japanese(ja) and code_lines(ja) == code_lines(english)
    verdicts = []
    for text in (english, ja):
        K00.kata_path.write_text(text, encoding="utf-8")
        assert not grading.is_pristine(K00)
        (result,) = grading.grade([K00])
        verdicts.append([(b.id, b.verdict, b.diagnosis) for b in result.blanks])
    assert verdicts[0] == verdicts[1]
    assert [v for _, v, _ in verdicts[0]] == ["pass", "fail", "todo"]
    K00.kata_path.write_text(K00.generated("ja"), encoding="utf-8")
    assert grading.is_pristine(K00)


def test_the_shortcut_check_lines_a_japanese_file_up_as_the_english_one():
    for answers, top in (({"00.3": "return torch.cdist(a, b) ** 2"}, ""), ({}, "from torch import cdist")):
        english = apply_answers(K00.reference_source, answers)
        if top:
            english = english.replace("\nimport torch\n", f"\nimport torch\n{top}\n", 1)
        ja, _ = workspace.relabel(K00, english, "ja")
        assert ja != english
        found, found_ja = shortcuts.violations(K00, english), shortcuts.violations(K00, ja)
        assert found and set(found_ja) == set(found)
        for blank, messages in found_ja.items():  # the same words, the line numbers of each file
            assert [re.sub(r"line \d+", "line N", m) for m in messages] == [re.sub(r"line \d+", "line N", m)
                                                                             for m in found[blank]]  # fmt: skip
            for m in messages:
                line = re.search(r"line (\d+)", m)
                assert not line or "cdist" in ja.split("\n")[int(line[1]) - 1]


def test_solution_compares_a_japanese_file_with_the_japanese_kata(sandbox):
    K00.kata_path.write_text(solved_kata(K00.reference_source, K00.texts("ja")), encoding="utf-8")
    assert workspace.language_of(K00, K00.kata_path.read_text(encoding="utf-8")) == "ja"
    assert workspace.solution_hunks(K00) == []


# --- katas language ---------------------------------------------------------------------------------


def test_katas_language_rewrites_the_words_in_place_keeps_the_code_and_goes_back(sandbox, capsys):
    path = K00.kata_path
    mine = path.read_text(encoding="utf-8").replace(
        'raise NotImplementedError("blank 00.1 is not filled in yet")', "return image[None]  # mine")
    path.write_text(mine, encoding="utf-8")
    assert cli.main(["language", "ja"]) == cli.OK
    out = flat(capsys.readouterr().out)
    assert "katas/k00_start.py の説明と TODO 行を書き換えました" in out and "日本語になります" in out
    ja = path.read_text(encoding="utf-8")
    assert japanese(ja) and code_lines(ja) == code_lines(mine) and "return image[None]  # mine" in ja
    (saved,) = progress.backups(path)
    assert saved.read_text(encoding="utf-8") == mine
    assert progress.settings()["lang"] == "ja"
    capsys.readouterr()
    assert cli.main(["language", "ja"]) == cli.OK  # already Japanese: nothing rewritten, nothing backed up
    assert "書き換えました" not in capsys.readouterr().out and len(progress.backups(path)) == 1
    assert cli.main(["language", "en"]) == cli.OK
    assert path.read_text(encoding="utf-8") == mine  # back, byte for byte
    assert cli.main(["language", "xx"]) == cli.BAD_REQUEST


def test_katas_language_keeps_an_explanation_the_learner_wrote(sandbox, capsys):
    path = K00.kata_path
    mine = path.read_text(encoding="utf-8").replace("A warm-up that is also", "My notes. A warm-up that is also")
    path.write_text(mine, encoding="utf-8")
    cli.main(["language", "ja"])
    assert "My notes." in path.read_text(encoding="utf-8")
    assert "説明があなたの手で書き換えられているので" in flat(capsys.readouterr().out)
    assert "# TODO 00.1 (約 1 行)" in path.read_text(encoding="utf-8")


def test_the_saved_language_is_the_one_of_reset_and_hints(sandbox, capsys, monkeypatch):
    monkeypatch.delenv("KATAS_LANG")
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    cli.main(["config", "lang", "ja"])
    assert progress.settings()["lang"] == "ja"
    assert "lang: ja" in capsys.readouterr().out
    cli.main(["reset", "00"])
    assert K00.kata_path.read_text(encoding="utf-8") == K00.generated("ja")
    assert "最初の状態" in capsys.readouterr().out
    cli.main(["hint", "00.3"])
    assert "ヒント 1/3" in capsys.readouterr().out
    assert cli.main(["config", "lang", "xx"]) == cli.BAD_REQUEST


# --- the catalogued mistakes' names -------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_a_known_mistake_is_named_in_japanese_in_a_japanese_report_and_in_english_in_an_english_one(
    tmp_path, monkeypatch
):
    kata = find_kata("03")
    right = "scores = q @ k.transpose(-2, -1) / math.sqrt(D)"
    source = solved_kata(kata.reference_source)
    assert source.count(right) == 1
    (tmp_path / kata.kata_path.name).write_text(source.replace(right, "scores = q @ k.transpose(-2, -1)"), "utf-8")
    monkeypatch.setenv("KATAS_LANG", "ja")
    (result,) = grading.grade([kata], impl=str(tmp_path), only_blanks=["03.4"])
    blank = next(b for b in result.blanks if b.id == "03.4")
    assert blank.verdict == grading.FAIL and blank.diagnosis == ["forgets the √D"]  # the key, in any language
    with i18n.using("ja"):
        said = render.blank_detail(blank).plain
        data = report.results_json([result])
    assert "よくある間違い「√D で割り忘れ」とまったく同じ結果です" in said and "forgets the √D" not in said
    (test,) = [t for t in data["tests"] if t["name"].startswith("kata 03 blank 03.4")]
    assert "よくある間違い「√D で割り忘れ」とまったく同じ結果です" in test["message"]
    with i18n.using("en"):  # English as before
        assert 'looks like a known mistake: "forgets the √D" gives exactly this' in render.blank_detail(blank).plain
        (test,) = [t for t in report.results_json([result])["tests"] if t["name"].startswith("kata 03 blank 03.4")]
        assert 'looks like a known mistake: "forgets the √D" gives exactly this' in test["message"]


def test_a_mistake_without_a_japanese_name_is_named_in_english(tmp_path, monkeypatch):
    blank = grading.BlankResult("03.4", "…", grading.FAIL, error={"type": "AssertionError", "message": "x"},
                                diagnosis=["divides by D, not √D", "not in the catalogue"])  # fmt: skip
    with i18n.using("ja"):
        assert "よくある間違い「√D ではなく D で割っている」 または 「not in the catalogue」とまったく同じ結果です" in (
            render.blank_detail(blank).plain
        )
        monkeypatch.setattr(texts, "mistakes_path", lambda mutants, lang: tmp_path / "nowhere.toml")
        assert "よくある間違い「divides by D, not √D」 または 「not in the catalogue」とまったく" in render.blank_detail(blank).plain
    assert texts.mistake_name("03.4", "divides by D, not √D", "ja") == "divides by D, not √D"
    assert texts.mistake_name("99.1", "a kata that is not there", "ja") == "a kata that is not there"


def test_every_mistake_of_katas_00_to_10_has_its_japanese_name():
    """(11 to 21 are the self-check's too: `katas selfcheck` names any that lacks one.)"""
    katas = [k for k in catalog.all_katas() if k.number <= "10"]
    lines = []
    f = selfcheck.Findings(type("Out", (), {"print": lambda self, *parts: lines.append("".join(map(str, parts)))})())
    assert sum(selfcheck.check_mistake_names(kata, "ja", f) for kata in katas) > 300
    assert f.problems == 0, "\n".join(lines)


def test_the_self_check_names_each_missing_and_stale_mistake_name(tmp_path, monkeypatch):
    kata = find_kata("03")
    source = kata.mistakes_path("ja").read_text(encoding="utf-8")
    gone = '"forgets the √D" = "√D で割り忘れ"\n'
    spans = '"max over the last dim whatever `dim` is" = "`dim` に関係なく'
    assert gone in source and spans in source
    broken = source.replace(gone, "").replace(spans, spans.replace("`dim` に", "dim に"))
    broken += '\n[mistakes."03.9"]\n"a mistake nobody makes" = "誰もしない間違い"\n'
    (tmp_path / "ja").mkdir()
    (tmp_path / "ja" / "k03_attention.toml").write_text(broken, encoding="utf-8")
    monkeypatch.setattr(texts, "mistakes_path", lambda mutants, lang: tmp_path / lang / f"{mutants.stem}.toml")
    lines = []
    f = selfcheck.Findings(type("Out", (), {"print": lambda self, *parts: lines.append("".join(map(str, parts)))})())
    selfcheck.check_translations([kata], f)
    said = "\n".join(lines)
    assert "kata 03 (" in said and "no ja name of 03.4's mistake 'forgets the √D'" in said
    assert "the ja name of 03.1's mistake 'max over the last dim whatever `dim` is' has other code spans" in said
    assert "a ja name of 03.9's mistake 'a mistake nobody makes', which tests/mutants/k03_attention.py does not" in said
    assert f.problems == 3 and "every catalogued mistake" not in said
    monkeypatch.setattr(texts, "mistakes_path", lambda mutants, lang: tmp_path / "nowhere.toml")
    lines.clear()
    selfcheck.check_translations([kata], f)
    missing = "is missing: no ja names of the 43 catalogued mistakes of 03.1, 03.2, 03.3, 03.4, 03.5, 03.6"
    assert sum(missing in line for line in lines) == 1  # one finding for the whole file


# --- the self-check and the notebooks -----------------------------------------------------------------


def test_the_self_check_names_each_missing_japanese_text(tmp_path, monkeypatch):
    source = K00.translation_path("ja").read_text(encoding="utf-8")
    last_hint = '"mean = mean.view(1, -1, 1, 1); std = std.view(1, -1, 1, 1); return (images - mean) / std",\n'
    broken = source.replace(last_hint, "")
    broken = broken.replace('statement = "a と b を', 'statement_missing = "a と b を').replace("`raise`", "raise")
    (tmp_path / "ja").mkdir()
    (tmp_path / "ja" / "k00_start.toml").write_text(broken, encoding="utf-8")
    monkeypatch.setattr(texts, "translation_path", lambda reference, lang: tmp_path / lang / f"{reference.stem}.toml")
    kata = catalog.Kata("00", "k00_start")
    lines = []
    f = selfcheck.Findings(type("Out", (), {"print": lambda self, *parts: lines.append("".join(map(str, parts)))})())
    selfcheck.check_translations([kata], f)
    said = "\n".join(lines)
    assert "no ja 00.2 hints (2 of 3)" in said
    assert "no ja 00.3 statement" in said
    assert "explanation's code spans differ from the English: English only ['`raise`']" in said
    assert f.problems == 3
    monkeypatch.setattr(texts, "translation_path", lambda reference, lang: tmp_path / "nowhere.toml")
    lines.clear()
    selfcheck.check_translations([catalog.Kata("00", "k00_start")], f)
    assert "is missing: no ja title, explanation, or statement and hints of 00.1, 00.2, 00.3" in "\n".join(lines)


def test_the_japanese_notebooks_speak_japanese_and_hold_the_same_code():
    pytest.importorskip("jupytext")
    assert notebooks.stale_notebooks([K00], "ja") == []  # else: `katas sync`
    assert notebooks.notebook_path(K00, "ja") == ROOT / "notebooks" / "ja" / "k00_start.ipynb"
    assert notebooks.colab_url(K00, "ja").endswith("/blob/main/notebooks/ja/k00_start.ipynb")
    en, ja = (json.loads(notebooks.notebook_text(K00, lang=lang))["cells"] for lang in ("en", "ja"))
    assert [c["id"] for c in en] == [c["id"] for c in ja]
    for a, b in zip(en, ja):
        source = "".join(b["source"])
        if b["cell_type"] == "markdown":
            assert japanese(source), source
        elif b["id"] != "k00-setup":
            code = [line for line in source.split("\n") if not TODO_RE.match(line)]
            assert code == [line for line in "".join(a["source"]).split("\n") if not TODO_RE.match(line)]
    setup = "".join(next(c for c in ja if c["id"] == "k00-setup")["source"])
    assert 'os.environ["KATAS_LANG"] = "ja"' in setup
    readme = notebooks.readme_path("ja").read_text(encoding="utf-8")
    assert notebooks.readme_with_table(readme, "ja") == readme
    assert f"]({notebooks.colab_url(K00, 'ja')})" in readme


def test_the_readmes_start_alike_and_link_each_other():
    english = (ROOT / "README.md").read_text(encoding="utf-8").split("\n")
    ja = (ROOT / "README.ja.md").read_text(encoding="utf-8").split("\n")
    commands = [line for line in english[:6] if line.startswith("    python -m")]
    assert len(commands) == 2 and [line for line in ja[:6] if line.startswith("    python -m")] == commands
    assert any("README.ja.md" in line for line in english[:8])


@pytest.mark.timeout(120)
def test_a_japanese_notebook_checks_its_cells_into_a_japanese_kata_file(sandbox, shell, capsys, monkeypatch):
    pytest.importorskip("jupytext")
    monkeypatch.setenv("KATAS_LANG", "ja")  # as the Japanese notebook's setup cell sets it
    solved = solved_kata(K00.reference_source, K00.texts("ja"))
    for cell in json.loads(notebooks.notebook_text(K00, solved, lang="ja"))["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and source.startswith("%%kata"):
            assert shell.run_cell(source).success, source
    capsys.readouterr()
    shell.run_cell("%katas check 00")
    out = flat(capsys.readouterr().out)
    assert "3 個中 3 個の空欄が合格 合格" in out and "kata 00 に合格しました" in out
    assert K00.kata_path.read_text(encoding="utf-8") == solved


def test_the_self_check_finds_a_kata_test_message_said_only_in_english(tmp_path):
    from checker.selfcheck import kata_test_messages

    tests = tmp_path / "test_k99_fake.py"
    tests.write_text(
        'fail(f"the output is {x}", call=where)\n'  # line 1: English only
        'fail(said(f"the output is {x}", ja=f"出力は {x} です"), call=where)\n'
        'pytest.fail("no tokens")\n'  # line 3: English only
        'assert_close(out, expected, name="out")\n'  # an identifier: nothing to translate
        'assert_close(out, expected, name="ᾱ(t)")\n'
        'assert_close(out, expected, name="μ̃ (√ᾱ_t x0 + √α_t x_t)")\n'  # a formula: nothing to translate
        'assert_close(out, expected, name=f"the mask of row {i}")\n'  # line 7: words
        'assert_close(out, expected, name=said("the mask", ja="マスク"))\n',
        encoding="utf-8",
    )
    translated, missing = kata_test_messages(tests, "ja")
    assert translated == 2
    assert [line for line, _ in missing] == [1, 3, 7]
