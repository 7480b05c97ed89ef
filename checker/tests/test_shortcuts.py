"""The anti-shortcut check (checker/shortcuts.py): what a blank may not use, however it is written,
and the verdict it gets when grading sees it."""

import json
from pathlib import Path

import pytest

from checker import cli, grading, render, shortcuts
from checker.blanks import apply_answers, generate_kata, solved_kata
from checker.catalog import all_katas, find_kata
from checker.grading import PASS, SHORTCUT
from checker.shortcuts import violations
from checker.tests.test_cli import solve

SDPA = "torch.nn.functional.scaled_dot_product_attention"
K03 = find_kata("03")


def learners_file(kata, answers=None, top="", bottom="") -> str:
    """The kata solved our way, with some blanks answered otherwise ({blank ID: code}), lines
    added after the shipped imports (`top`) and at the end (`bottom`)."""
    text = apply_answers(kata.reference_source, answers or {})
    if top:
        text = text.replace("\nimport torch\n", f"\nimport torch\n{top}\n", 1)
    return text + (f"\n{bottom}\n" if bottom else "")


def refused(found: dict) -> set:
    return set(found)


# --- the reference --------------------------------------------------------------------------


@pytest.mark.parametrize("kata", all_katas(), ids=lambda k: k.number)
def test_the_reference_takes_no_shortcut_as_written_solved_or_shipped(kata):
    assert violations(kata, kata.reference_source) == {}
    assert violations(kata, solved_kata(kata.reference_source)) == {}
    assert violations(kata, generate_kata(kata.reference_source)) == {}


def test_the_table_names_katas_that_exist_and_qualified_names():
    numbers = {k.number for k in all_katas()}
    assert set(shortcuts.SHORTCUTS) <= numbers
    for entries in shortcuts.SHORTCUTS.values():
        for name, why in entries.items():
            assert "." in name and name.split(".")[0] in ("torch", "torchvision"), name
            assert why and "\n" not in why


@pytest.mark.parametrize("kata", [k for k in all_katas() if k.number in shortcuts.SHORTCUTS], ids=lambda k: k.number)
def test_every_entry_of_the_table_is_refused_in_every_blank_of_its_kata(kata):
    for entry in shortcuts.SHORTCUTS[kata.number]:
        for blank in kata.blanks:
            found = violations(kata, learners_file(kata, {blank.id: f"probe = {entry}"}, top="import torchvision"))
            assert refused(found) == {blank.id}, (entry, found)
            assert found[blank.id] == [f"blank {blank.id} uses {entry}, {shortcuts.SHORTCUTS[kata.number][entry]}; "
                                       "write it yourself"]  # fmt: skip


# --- however the forbidden name is reached -----------------------------------------------------

ATTENTION_BY_ANOTHER_NAME = {
    "full name": ("", f"out = {SDPA}(q, k, v, attn_mask=mask)"),
    "import as F": ("", f"import torch.nn.functional as F\nout = F.scaled_dot_product_attention(q, k, v)"),
    "from torch.nn import functional as F": (
        "", "from torch.nn import functional as F\nout = F.scaled_dot_product_attention(q, k, v)"),
    "from-import as": ("", "from torch.nn.functional import scaled_dot_product_attention as sdpa\nout = sdpa(q, k, v)"),
    "getattr with a string": ("", "out = getattr(torch.nn.functional, 'scaled_dot_product_attention')(q, k, v)"),
    "__dict__ with a string": ("", "out = torch.nn.functional.__dict__['scaled_dot_product_attention'](q, k, v)"),
    "a reference, not a call": ("", "attend = torch.nn.functional.scaled_dot_product_attention\nout = attend(q, k, v)"),
    "another path to it": ("", "out = torch._C._nn.scaled_dot_product_attention(q, k, v)"),
    "an alias imported at the top": (
        "import torch.nn.functional as Fn", "out = Fn.scaled_dot_product_attention(q, k, v)"),
}  # fmt: skip


@pytest.mark.parametrize("top, body", ATTENTION_BY_ANOTHER_NAME.values(), ids=ATTENTION_BY_ANOTHER_NAME)
def test_the_built_in_attention_is_refused_in_its_blank_under_any_name(top, body):
    found = violations(K03, learners_file(K03, {"03.6": "weights = softmax(scores, dim=-1)\n" + body}, top=top))
    assert refused(found) == {"03.6"}  # the other blanks are ours: they pass
    assert any(m.startswith("blank 03.6 ") and "scaled_dot_product_attention" in m and "write it yourself" in m
               for m in found["03.6"]), found  # fmt: skip


def test_the_message_names_the_blank_and_the_full_name():
    code = "import torch.nn.functional as F\nout = F.scaled_dot_product_attention(q, k, v)"
    found = violations(K03, learners_file(K03, {"03.6": code}))
    assert f"blank 03.6 calls {SDPA}, the attention this kata has you write; write it yourself" in found["03.6"]


@pytest.mark.parametrize("code", ["return x.softmax(dim)", "return torch.softmax(x, dim)",
                                  "return torch.nn.functional.softmax(x, dim=dim)", "return x.log_softmax(dim).exp()",
                                  "return torch.nn.Softmax(dim)(x)"])  # fmt: skip
def test_the_built_in_softmax_is_refused_as_a_function_a_module_or_a_method(code):
    found = violations(K03, learners_file(K03, {"03.2": code}))
    assert refused(found) == {"03.2"}, found
    assert "softmax" in found["03.2"][0].lower()


def test_a_name_one_kata_refuses_is_fine_in_another():
    kata = find_kata("07")  # the captioner may use a softmax: kata 03 taught it
    code = "next_token = logits[:, -1].softmax(dim=-1).argmax(dim=-1)\nnext_token[ended] = pad_id"
    assert violations(kata, learners_file(kata, {"07.6": code})) == {}


@pytest.mark.parametrize("code", [
    "x_hat = torch.nn.functional.layer_norm(x, x.shape[-1:], eps=self.eps)",
    "x_hat = nn.LayerNorm(x.shape[-1], elementwise_affine=False)(x)",
    "x_hat = torch.nn.modules.normalization.LayerNorm(x.shape[-1], elementwise_affine=False)(x)",
    "x_hat = torch.nn.functional.instance_norm(x, eps=self.eps)",
])  # fmt: skip
def test_layer_norm_is_refused_in_kata_05_by_any_path(code):
    kata = find_kata("05")
    assert refused(violations(kata, learners_file(kata, {"05.1": code}))) == {"05.1"}


def test_multi_head_attention_is_refused_in_kata_04():
    kata = find_kata("04")
    code = "attn = nn.MultiheadAttention(x.shape[-1], 2, batch_first=True)\nreturn attn(x, x, x)[0]"
    assert refused(violations(kata, learners_file(kata, {"04.5": code}))) == {"04.5"}


def test_the_kl_divergence_of_torch_distributions_is_refused_in_kata_19():
    kata = find_kata("19")
    code = "from torch.distributions import Normal, kl\nq = Normal(mean, (0.5 * logvar).exp())\n"
    code += "return kl.kl_divergence(q, Normal(0, 1)).flatten(1).sum(1)"
    found = violations(kata, learners_file(kata, {"19.2": code}))
    assert refused(found) == {"19.2"}
    assert any("torch.distributions" in m for m in found["19.2"])


def test_a_forbidden_name_in_the_shipped_code_around_the_blanks_is_fine(monkeypatch):
    kata = find_kata("12")  # its shipped ResBlock makes nn.GroupNorm layers; say GroupNorm were refused here
    monkeypatch.setitem(shortcuts.SHORTCUTS, "12", {"torch.nn.GroupNorm": "the norm this kata has you write"})
    assert violations(kata, solved_kata(kata.reference_source)) == {}
    code = "h = self.conv1(F.silu(nn.GroupNorm(self.norm1.num_groups, x.shape[1])(x)))"
    found = violations(kata, learners_file(kata, {"12.1": code}))
    assert refused(found) == {"12.1"} and "torch.nn.GroupNorm" in found["12.1"][0]


@pytest.mark.parametrize("top, bottom", [
    ("", f"def attend(q, k, v):\n    return {SDPA}(q, k, v)"),
    ("from torch.nn.functional import scaled_dot_product_attention as attend", ""),
    ("import torch.nn.functional as F\nattend = F.scaled_dot_product_attention", ""),
], ids=["a helper at the end", "an import at the top", "an alias at the top"])  # fmt: skip
def test_a_forbidden_name_in_lines_the_learner_added_outside_the_blanks_refuses_every_blank(top, bottom):
    code = "weights = softmax(scores, dim=-1)\nout = attend(q, k, v)"
    found = violations(K03, learners_file(K03, {"03.6": code}, top=top, bottom=bottom))
    assert refused(found) == {b.id for b in K03.blanks}
    assert all(any("outside the blanks" in m and SDPA in m for m in messages) for messages in found.values())


def test_a_blank_is_found_without_its_todo_line():
    code = "scores = q @ k.transpose(-2, -1) / math.sqrt(D)\nprobe = torch.softmax(scores, -1)"
    text = learners_file(K03, {"03.4": code})
    text = "\n".join(line for line in text.split("\n") if "# TODO 03.4" not in line)
    assert refused(violations(K03, text)) == {"03.4"}
    text = learners_file(K03, {"03.2": "return torch.softmax(x, dim)"})  # right after blank 03.1's lines:
    text = "\n".join(line for line in text.split("\n") if "# TODO 03.2" not in line)
    assert refused(violations(K03, text)) == {"03.1", "03.2"}  # nothing says where one ends; both are refused


def test_einops_and_the_earlier_katas_are_fine():
    kata = find_kata("04")
    code = "return einops.rearrange(x, 'b t (h d) -> b h t d', h=n_heads)"
    assert violations(kata, learners_file(kata, {"04.1": code}, top="import einops")) == {}
    kata = find_kata("05")  # kata 04's attention and kata 02's embeddings are what kata 05 builds on
    assert violations(kata, learners_file(kata, top="from k04_multihead import split_heads")) == {}


# --- the solutions, the checker, and ways around the imports -----------------------------------

EVERYWHERE = {
    "import reference": "import reference.k03_attention",
    "from reference import": "from reference import k03_attention",
    "the checker": "from checker import grading",
    "the tests": "import support",
    "its own module (read from reference/)": "from k03_attention import softmax as ours",
    "a later kata's module": "import k04_multihead",
    "a library": "from diffusers import DDPMScheduler",
}


@pytest.mark.parametrize("line", EVERYWHERE.values(), ids=EVERYWHERE)
def test_importing_the_projects_code_outside_the_blanks_refuses_every_blank(line):
    found = violations(K03, learners_file(K03, top=line))
    assert refused(found) == {b.id for b in K03.blanks}
    assert all(line.split()[1] in messages[0] and "outside the blanks" in messages[0] for messages in found.values())


IN_A_BLANK = {
    "from-import": "from reference.k03_attention import softmax as ours\nreturn ours(x, dim)",
    "katas package, later kata": "from katas.k04_multihead import scaled_dot_product_attention",
    "importlib": "import importlib\nreturn importlib.import_module('reference.k03_attention').softmax(x, dim)",
    "__import__": "return __import__('k03_attention').softmax(x, dim)",
    "importlib by a computed name": "import importlib\nreturn importlib.import_module('k0' + '3').softmax(x, dim)",
    "sys.modules": "import sys\nreturn sys.modules['k03_attention'].softmax(x, dim)",
    "a path": "import runpy\nreturn runpy.run_path('../reference/k03_attention.py')['softmax'](x, dim)",
    "exec": "exec(open('reference/k03_attention.py').read())\nreturn softmax(x, dim)",
    "getattr by a computed name": "return getattr(torch, 'soft' + 'max')(x, dim)",
}


@pytest.mark.parametrize("code", IN_A_BLANK.values(), ids=IN_A_BLANK)
def test_reaching_the_solutions_from_a_blank_refuses_that_blank(code):
    found = violations(K03, learners_file(K03, {"03.2": code}))
    assert refused(found) == {"03.2"}, found
    assert all(m.startswith("blank 03.2 ") for m in found["03.2"])


def test_a_file_that_does_not_parse_has_no_findings():  # grading reports the syntax error itself
    assert violations(K03, learners_file(K03, {"03.2": "return torch.softmax(x,"})) == {}


# --- grading ----------------------------------------------------------------------------------


def test_kata_state_never_passes_with_a_shortcut():
    blanks = [grading.BlankResult("03.1", "", PASS), grading.BlankResult("03.2", "", SHORTCUT)]
    assert grading.kata_state(blanks) == grading.FAILING


def write_blank(kata, blank_id: str, code: str) -> None:
    """Replace one solved blank's body in the sandbox kata by `code`."""
    blank = next(b for b in kata.blanks if b.id == blank_id)
    ours = "\n".join(blank.indent + line if line else "" for line in blank.solution.rstrip().split("\n"))
    mine = "\n".join(blank.indent + line for line in code.split("\n"))
    text = kata.kata_path.read_text(encoding="utf-8")
    assert ours in text
    kata.kata_path.write_text(text.replace(ours, mine), encoding="utf-8")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("code, names", [
    (f"weights = softmax(scores, dim=-1)  # (..., Tq, Tk)\nout = {SDPA}(q, k, v, attn_mask=mask)", SDPA),
    ("from reference.k03_attention import softmax as ours\nweights = ours(scores, dim=-1)\nout = weights @ v",
     "reference.k03_attention"),
], ids=["built-in attention", "the reference's softmax"])  # fmt: skip
def test_check_refuses_the_blank_that_takes_a_shortcut_and_passes_the_others(sandbox, capsys, monkeypatch, code, names):
    solve(K03, *[b.id for b in K03.blanks])
    write_blank(K03, "03.6", code)
    with monkeypatch.context() as m:  # without the check, the numbers are right: every test passes
        m.setattr(shortcuts, "violations", lambda kata, source: {})
        (honest,) = grading.grade([K03])
    assert {b.id: b.verdict for b in honest.blanks} == {b.id: PASS for b in K03.blanks}

    assert cli.main(["check", "03"]) == cli.NOT_PASSING
    out = " ".join(capsys.readouterr().out.split())
    assert f"blank 03.6 calls {names}" in out or f"blank 03.6 imports {names}" in out
    assert "5 of 6 blanks pass" in out and "failing" in out and "Next: fix blank 03.6" in out
    saved = json.loads((sandbox / ".katas" / "progress.json").read_text())["katas"]["03"]
    assert saved["state"] == "failing"
    assert saved["blanks"] == {**{b.id: PASS for b in K03.blanks}, "03.6": SHORTCUT}
    assert cli.main(["check", "03.6"]) == cli.NOT_PASSING  # graded alone, it is refused all the same


def test_the_grading_hash_covers_the_shortcut_table(monkeypatch, tmp_path):
    before = grading.grading_hash(K03, "reference")
    copy = tmp_path / "shortcuts.py"
    copy.write_text(Path(shortcuts.__file__).read_text() + "\n# another entry\n")
    monkeypatch.setattr(shortcuts, "__file__", str(copy))
    assert grading.grading_hash(K03, "reference") != before


def test_a_shortcut_outside_the_blanks_is_said_once_above_them(tmp_path):
    line = "line 32, outside the blanks, imports reference.k03_attention, the solutions, which a kata may not use"
    found = violations(K03, learners_file(K03, top="import reference.k03_attention"))
    assert all(messages == [found["03.1"][0]] and line in messages[0] for messages in found.values())
    blanks = [grading.BlankResult(b.id, b.statement, SHORTCUT, shortcuts=found[b.id]) for b in K03.blanks]
    result = grading.KataResult(K03, grading.kata_state(blanks), blanks, path=tmp_path / "k03_attention.py")
    console = render.console()
    console.width = 200
    with console.capture() as captured:
        console.print(render.kata_report(result))
    out = captured.get()
    assert out.count(line) == 1 and out.count("(refused: see above)") == len(K03.blanks)
    assert "Next: take what is refused above out of" in out


def test_the_self_check_names_the_kata_and_blank_where_the_reference_takes_a_shortcut(monkeypatch):
    from checker import selfcheck

    monkeypatch.setitem(shortcuts.SHORTCUTS, "03", {"torch.tril": "the causal mask this kata has you write"})
    console = render.console()
    with console.capture() as captured:
        findings = selfcheck.Findings(console)
        selfcheck.check_no_shortcuts([K03], findings)
    out = " ".join(captured.get().split())
    assert findings.problems == 1
    assert "kata 03, the reference's blank 03.3 takes a shortcut: blank 03.3 calls torch.tril" in out
