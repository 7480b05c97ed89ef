"""The anti-shortcut check: a blank may not hand its work to a built-in that does it, to the
solutions (reference/), or to the project's own code (the checker, the tests).

It reads the learner's file (its syntax tree: nothing runs) and says, blank by blank, what it
found; grading gives such a blank the verdict "shortcut", which never passes.

- What each kata may not use is declared in one table, SHORTCUTS: kata number → {qualified
  name: why}, with LIBRARIES (for every kata) beside it. A name counts however it is reached:
  through the file's own imports (`import torch.nn.functional as F`, `from torch.nn import
  functional as F`, `from ... import x as y`), `getattr(F, "x")`, `F.__dict__["x"]`, or a string
  that names it; referring to it counts as much as calling it. An entry covers the name, what
  lies under it, and the same name elsewhere in its package (`torch.nn.LayerNorm` is also
  `torch.nn.modules.normalization.LayerNorm`); one under `torch.Tensor.` also covers the method
  of any object (`scores.softmax(-1)`).
- A kata never imports the project's own code (PROJECT), nor its own module or a later kata's
  (while grading, those are read from reference/); the katas before it are what it builds on.
  In the learner's lines, reaching code by other ways (importlib, exec, frames: INTROSPECTION)
  is refused too.
- Where the blanks are: the learner's file is lined up with the kata as shipped; the lines the
  learner wrote in place of a blank's TODO and raise lines are that blank's, the ones written
  elsewhere count for the whole kata (a finding there refuses every blank), and the shipped
  code around the blanks may use anything.

Nothing here imports torch.
"""

from __future__ import annotations

import ast
import difflib
import re

from checker.blanks import BLANK_RE, TODO_RE, BlankFormatError, docstring_span, generate_kata, normalize, solved_kata
from checker.catalog import MODULE_RE, Kata

# What would do a kata's work for the learner. Each entry: the qualified name, then why it is
# refused, as one phrase that follows the name ("…calls torch.cdist, the pairwise distances…").
SHORTCUTS: dict[str, dict[str, str]] = {
    "00": {
        "torch.cdist": "the pairwise distances this kata has you broadcast",
        "torch.nn.functional.batch_norm": "a standardisation this kata has you broadcast",
        "torchvision.transforms.functional.normalize": "the standardisation this kata has you broadcast",
        "torchvision.transforms.Normalize": "the standardisation this kata has you broadcast",
    },
    "01": {
        "torch.nn.utils.rnn.pad_sequence": "the padding this kata has you write",
    },
    "02": {
        "torch.nn.functional.embedding": "the lookup this kata has you write",
        "torch.nn.Embedding": "the lookup this kata has you write",
    },
    "03": {
        "torch.nn.functional.scaled_dot_product_attention": "the attention this kata has you write",
        "torch.nn.functional.multi_head_attention_forward": "attention, which this kata has you write",
        "torch.nn.MultiheadAttention": "attention, which this kata has you write",
        "torch.Tensor.softmax": "the softmax this kata has you write",
        "torch.Tensor.log_softmax": "a softmax, which this kata has you write",
        "torch.nn.Softmax": "the softmax this kata has you write",
        "torch.nn.LogSoftmax": "a softmax, which this kata has you write",
    },
    "04": {
        "torch.nn.MultiheadAttention": "the multi-head attention this kata has you write",
        "torch.nn.functional.multi_head_attention_forward": "the multi-head attention this kata has you write",
        "torch.nn.functional.scaled_dot_product_attention": "attention, which this kata takes from kata 03",
    },
    "05": {
        "torch.nn.LayerNorm": "the LayerNorm this kata has you write",
        "torch.nn.functional.layer_norm": "the LayerNorm this kata has you write",
        "torch.nn.functional.group_norm": "a LayerNorm in disguise, which this kata has you write",
        "torch.nn.GroupNorm": "a LayerNorm in disguise, which this kata has you write",
        "torch.nn.functional.instance_norm": "a LayerNorm in disguise, which this kata has you write",
        "torch.nn.InstanceNorm1d": "a LayerNorm in disguise, which this kata has you write",
        "torch.nn.functional.batch_norm": "a LayerNorm in disguise, which this kata has you write",
        "torch.nn.BatchNorm1d": "a LayerNorm in disguise, which this kata has you write",
        "torch.nn.TransformerEncoderLayer": "the Transformer block this kata has you write",
        "torch.nn.TransformerEncoder": "the Transformer this kata has you write",
        "torch.nn.Transformer": "the Transformer this kata has you write",
    },
    "06": {
        "torch.nn.functional.unfold": "the patchify this kata has you write",
        "torch.nn.Unfold": "the patchify this kata has you write",
        "torch.nn.functional.pixel_unshuffle": "the patchify this kata has you write",
        "torch.nn.PixelUnshuffle": "the patchify this kata has you write",
        "torch.nn.functional.fold": "the unpatchify this kata has you write",
        "torch.nn.Fold": "the unpatchify this kata has you write",
        "torch.nn.functional.pixel_shuffle": "the unpatchify this kata has you write",
        "torch.nn.PixelShuffle": "the unpatchify this kata has you write",
        "torch.nn.TransformerEncoderLayer": "the encoder this kata builds from kata 05's blocks",
        "torch.nn.TransformerEncoder": "the encoder this kata builds from kata 05's blocks",
        "torch.nn.Transformer": "the encoder this kata builds from kata 05's blocks",
    },
    "07": {
        "torch.nn.TransformerDecoderLayer": "the decoder block this kata has you write",
        "torch.nn.TransformerDecoder": "the decoder this kata has you write",
        "torch.nn.Transformer": "the decoder (and its causal mask) this kata has you write",
    },
    "08": {
        "torch.nn.functional.normalize": "the L2 normalisation this kata has you write",
        "torch.nn.functional.cosine_similarity": "the normalised dot products this kata has you write",
        "torch.nn.CosineSimilarity": "the normalised dot products this kata has you write",
    },
    "14": {
        "torch.optim.swa_utils": "the weight averaging (EMA) this kata has you write",
    },
    "19": {
        "torch.distributions": "the Gaussian sampling and KL divergence this kata has you write",
    },
    "21": {
        "torchvision.utils.make_grid": "the tiling this kata has you write",
    },
}

# Libraries that would do any kata's work (pretrained models, tokenizers, diffusion pipelines).
# einops is fine: it only names reshapes the learner still has to work out.
LIBRARIES = ("diffusers", "transformers", "timm", "open_clip", "clip", "tokenizers", "sentencepiece", "tiktoken",
             "torchtext", "huggingface_hub", "k_diffusion", "x_transformers", "denoising_diffusion_pytorch",
             "torchvision.models", "torch.hub")  # fmt: skip

# The project's own code, by top-level module: what it is, as a message names it.
PROJECT = {"reference": "the solutions", "checker": "the checker", "tests": "the tests", "support": "the tests",
           "conftest": "the tests", "milestones": "the project's own code", "benchmarks": "the project's own code",
           "shapes": "the project's own code", "noxfile": "the project's own code"}  # fmt: skip

# Ways to reach code this check cannot follow: refused in the learner's lines (importing them is not).
INTROSPECTION = ("importlib", "runpy", "imp", "pkgutil", "zipimport", "sys.modules", "sys.path", "sys.meta_path",
                 "sys._getframe", "inspect", "gc", "builtins.exec", "builtins.eval", "builtins.compile",
                 "builtins.__import__")  # fmt: skip
BUILTINS = ("exec", "eval", "compile", "__import__", "getattr", "vars")  # builtins.NAME, unless the file imports NAME

# Kinds of finding; those of ALWAYS are refused in an import anywhere, even among the shipped lines.
PROJECT_CODE, LATER_KATA, LIBRARY, BUILT_IN, INTROSPECTIVE = "project", "kata", "library", "built-in", "introspection"
ALWAYS = (PROJECT_CODE, LATER_KATA, LIBRARY)

DOTTED_RE = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
OUTSIDE = ""  # the region of a learner's line outside every blank


def shortcuts_of(kata: Kata) -> dict[str, str]:
    """The qualified names kata `kata` refuses in its blanks, with why."""
    return SHORTCUTS.get(kata.number, {})


def violations(kata: Kata, source: str) -> dict[str, list[str]]:
    """{blank ID: messages} for the blanks of `kata` that take a shortcut in the learner's file
    `source` (a finding outside the blanks is in every blank's list). {} when there is none, or
    when the file does not parse (grading says so on its own)."""
    source = normalize(source)
    if any(BLANK_RE.match(line) for line in source.split("\n")):  # the reference itself, blank markers and all
        try:
            source = solved_kata(source)
        except BlankFormatError:
            pass
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return {}
    finder = _Finder(kata, tree, _regions(generate_kata(kata.reference_source), source))
    finder.visit(tree)
    found: dict[str, list[str]] = {}
    for blank in kata.blanks:
        messages = finder.by_blank.get(blank.id, []) + finder.outside
        if messages:
            found[blank.id] = list(dict.fromkeys(messages))
    return found


def _regions(shipped: str, mine: str) -> dict[int, set[str]]:
    """For each line (1-based) the learner wrote, not shipped: the blanks it belongs to, or {OUTSIDE}.

    The learner's file is lined up with the shipped kata line by line (indentation aside, and in
    any language: see _alignment_keys); what stands in place of a blank's TODO and raise lines, or
    right after them, is that blank's. Where the learner deleted the TODO line between two blanks,
    nothing says where one ends: their lines count for both."""
    old = shipped.split("\n")
    spans = {}  # blank ID -> 0-based lines of its TODO and raise lines in the shipped kata
    for i, line in enumerate(old):
        m = TODO_RE.match(line)
        if m:
            spans[m["id"]] = (i, i + 1)
    matcher = difflib.SequenceMatcher(None, _alignment_keys(shipped), _alignment_keys(mine), autojunk=False)
    regions = {}
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or j1 == j2:
            continue
        if i1 < i2:  # in place of shipped lines i1..i2-1
            touched = {b for b, (first, last) in spans.items() if first < i2 and i1 <= last}
        else:  # inserted before shipped line i1
            touched = {b for b, (first, last) in spans.items() if first < i1 <= last + 1}
        for j in range(j1, j2):
            regions[j + 1] = touched or {OUTSIDE}
    return regions


def _alignment_keys(text: str) -> list[str]:
    """Each line of a kata file as the alignment compares it: stripped, a TODO line by its blank's ID
    alone, every line of the module docstring alike. So a kata whose words are in another language
    (checker/texts.py) lines up with the English one as shipped exactly as its English twin does."""
    keys = []
    for line in text.split("\n"):
        m = TODO_RE.match(line)
        keys.append(f"# TODO {m['id']}" if m else line.strip())
    span = docstring_span(text)
    for i in range(*span) if span else ():
        keys[i] = '"""'
    return keys


class _Finder(ast.NodeVisitor):
    """Walks a learner's file and collects what it finds: per blank, and outside the blanks."""

    def __init__(self, kata: Kata, tree: ast.Module, regions: dict[int, set[str]]) -> None:
        self.kata, self.regions = kata, regions
        self.by_blank: dict[str, list[str]] = {}
        self.outside: list[str] = []
        self.names: dict[str, str] = {}  # local name -> qualified name, from the file's imports
        self.star: list[str] = []  # modules imported with *
        self.defined = set()  # names the module defines itself (a * import does not hide them)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    top = alias.name.split(".")[0]
                    self.names[alias.asname or top] = alias.name if alias.asname else top
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    if alias.name == "*":
                        self.star.append(node.module)
                    else:
                        self.names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.defined.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                self.defined |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}

    # --- what a name stands for, and whether it is refused -------------------------------------

    def why(self, name: str) -> tuple[str, str] | None:
        """Why the qualified `name` is refused (the end of a message) and the kind of finding; None if it is fine."""
        parts = name.split(".")
        root = parts[1] if parts[0] == "katas" and len(parts) > 1 else parts[0]
        if root in PROJECT:
            return f", {PROJECT[root]}, which a kata may not use", PROJECT_CODE
        if MODULE_RE.match(root) and root[1:3] >= self.kata.number:
            return ", which grading reads from reference/: a kata imports only the katas before it", LATER_KATA
        if any(_covers(library, parts) for library in LIBRARIES):
            return _yourself("a library that would do this kata's work"), LIBRARY
        for entry, why in shortcuts_of(self.kata).items():
            if _covers(entry, parts):
                return _yourself(why), BUILT_IN
        if any(_covers(entry, parts, by_key=False) for entry in INTROSPECTION):
            return ", which reaches code this check cannot follow", INTROSPECTIVE
        return None

    def qualified(self, node: ast.AST) -> str | None:
        """The qualified name an expression stands for, where the file's imports say it."""
        if isinstance(node, ast.Name):
            if node.id in self.names:
                return self.names[node.id]
            if node.id in BUILTINS:
                return f"builtins.{node.id}"
            if node.id not in self.defined:  # perhaps from a * import
                return next((f"{m}.{node.id}" for m in self.star if self.why(f"{m}.{node.id}")), None)
            return None
        if isinstance(node, ast.Attribute):
            base = self.qualified(node.value)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call):
            func, args = self.qualified(node.func), node.args
            attr = _string(args[1]) if len(args) > 1 else None
            if func == "builtins.getattr" and attr is not None and DOTTED_RE.fullmatch(attr):
                base = self.qualified(args[0])  # getattr(F, "x")
                return f"{base}.{attr}" if base else None
            if func in ("importlib.import_module", "builtins.__import__") and args and _string(args[0]):
                return _string(args[0])  # import_module("m"), __import__("m"): the module it loads
            return None
        if isinstance(node, ast.Subscript) and _string(node.slice):  # F.__dict__["x"], vars(F)["x"]
            inner = node.value
            if isinstance(inner, ast.Attribute) and inner.attr == "__dict__":
                base = self.qualified(inner.value)
            elif isinstance(inner, ast.Call) and self.qualified(inner.func) == "builtins.vars" and inner.args:
                base = self.qualified(inner.args[0])
            else:
                return None
            return f"{base}.{_string(node.slice)}" if base else None
        return None

    # --- where it is, and the message ----------------------------------------------------------

    def mine(self, node: ast.AST) -> bool:
        """Whether the learner wrote some line of `node` (else it is shipped code: anything goes)."""
        return any(line in self.regions for line in range(node.lineno, (node.end_lineno or node.lineno) + 1))

    def report(self, node: ast.AST, verb: str, what: str, why: str, always: bool = False) -> None:
        last = getattr(node, "end_lineno", None) or node.lineno
        regions = set().union(*(self.regions.get(line, set()) for line in range(node.lineno, last + 1)))
        blanks = sorted(regions - {OUTSIDE})
        for blank in blanks:
            self.by_blank.setdefault(blank, []).append(f"blank {blank} {verb} {what}{why}")
        if not blanks and (OUTSIDE in regions or always):
            where = f"line {node.lineno}, outside the blanks,"
            self.outside.append(f"{where} {verb} {what}{why} (this refuses every blank)")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._import(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module and not node.level:
            for alias in node.names:
                self._import(node, node.module if alias.name == "*" else f"{node.module}.{alias.name}")

    def _import(self, node: ast.AST, name: str) -> None:
        found = self.why(name)
        if found and found[1] != INTROSPECTIVE:  # importing importlib is harmless; using it is not
            self.report(node, "imports", name, found[0], always=found[1] in ALWAYS)

    def visit_Expr(self, node: ast.Expr) -> None:
        if _string(node.value) is None:  # a bare string is a docstring: nothing runs
            self.visit(node.value)

    def visit_Call(self, node: ast.Call) -> None:
        if not self.mine(node):
            self.generic_visit(node)  # shipped code: only its imports matter
            return
        if self._refer(node, called=False):  # getattr(F, "x"), import_module("m"): as a whole
            return
        args = node.args
        if self.qualified(node.func) == "builtins.getattr" and len(args) > 1 and _string(args[1]) is None:
            base = self.qualified(args[0])
            if base:  # getattr(F, name), the name made at run time
                self.report(node, "calls", f"getattr({base}, ...)", ", which this check cannot follow; write the name")
        if not (self._refer(node.func, called=True) or self._method(node.func, called=True)):
            self.generic_visit(node.func) if isinstance(node.func, (ast.Name, ast.Attribute)) else self.visit(node.func)
        for child in [*args, *node.keywords]:
            self.visit(child)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self._refer(node, called=False)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if not (self._refer(node, called=False) or self._method(node, called=False)):
            self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if not self._refer(node, called=False):
            self.generic_visit(node)

    def _refer(self, node: ast.AST, called: bool) -> bool:
        """Report the expression if it stands for something refused. True if it was looked at as
        a whole (then its parts are not): a refused name, or a lookup by a string."""
        name = self.qualified(node) if self.mine(node) else None
        if name is None:
            return False
        found = self.why(name)
        if found:
            self.report(node, "calls" if called else "uses", name.removeprefix("builtins."), found[0])
            return True
        if isinstance(node, ast.Call):  # getattr(F, "relu", default), import_module("math"): fine
            for child in node.args[2:]:
                self.visit(child)
            return True
        return isinstance(node, ast.Subscript)

    def _method(self, node: ast.AST, called: bool) -> bool:
        """A Tensor method the kata refuses, on any object the imports do not name (x.softmax(-1))."""
        if not isinstance(node, ast.Attribute) or not self.mine(node) or self.qualified(node.value) is not None:
            return False
        for entry, why in shortcuts_of(self.kata).items():
            if entry.startswith("torch.Tensor.") and node.attr == entry.rsplit(".", 1)[1]:
                self.report(node, "calls" if called else "uses", f".{node.attr} ({entry})", _yourself(why))
                self.visit(node.value)
                return True
        return False

    def visit_Constant(self, node: ast.Constant) -> None:
        """A string that names a refused module or name (for importlib, getattr, sys.modules, a path)."""
        text = _string(node)
        if text is None or not self.mine(node):
            return
        words = [text.strip()] if DOTTED_RE.fullmatch(text.strip()) else []
        if re.search(r"[\\/]", text):
            words += [w.removesuffix(".py") for w in re.split(r"[\\/]", text) if w]
        for word in words:
            found = self.why(word)
            if not (found and found[1] in (PROJECT_CODE, LATER_KATA, BUILT_IN)):  # or a refused name's last part
                keys = {entry.rsplit(".", 1)[1]: why for entry, why in shortcuts_of(self.kata).items()}
                found = next(((_yourself(keys[w]), BUILT_IN) for w in word.split(".") if w in keys), None)
            if found:
                self.report(node, "names", repr(text if len(text) <= 60 else text[:57] + "..."), found[0])
                return


def _covers(entry: str, parts: list[str], by_key: bool = True) -> bool:
    """Whether the refused `entry` covers the qualified name `parts`: the name itself, something
    under it, or (by_key) the same last name elsewhere in the same package."""
    entry_parts = entry.split(".")
    if parts[: len(entry_parts)] == entry_parts:
        return True
    return by_key and len(entry_parts) > 1 and parts[0] == entry_parts[0] and entry_parts[-1] in parts[1:]


def _yourself(why: str) -> str:
    return f", {why}; write it yourself"


def _string(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None
