"""What every kata test uses: load the implementation under test, and compare tensors with a
message a learner can act on (shape first, then dtype, NaNs, then values: max error, where,
tolerance, the call and the seed). No tensor walls.

- `Guarded`: the kata as a test sees it; a tensor passed to its functions must come out unchanged.
- `assert_gradients`: backward through the learner's output and the oracle's; the gradients must match.
- `CHECKS`: what this test's checks were given, in order: the grader's diagnosis runs the blank's
  catalogued mistakes (tests/mutants/) through the same test and compares what they give.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import inspect
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import torch

from checker.catalog import shown
from checker.i18n import said, t  # noqa: F401  the messages in the learner's language (grading passes it as KATAS_LANG); said: a test's own words

ROOT = Path(__file__).resolve().parents[1]


class KataLoadError(Exception):
    """The kata file could not be loaded: missing, a syntax error, or an error while importing."""


_cache: dict[tuple[str, str], ModuleType] = {}


def load_kata(module: str) -> ModuleType:
    """The implementation under test of `module` (the learner's, the reference, or a mutant:
    pytest's --impl option chooses). Earlier katas it imports come from reference/."""
    impl = Path(os.environ.get("KATAS_IMPL_DIR", ROOT / "katas"))
    path = impl / f"{module}.py"
    if not path.exists():
        raise KataLoadError(t("support.missing", path=shown(path), number=module[1:3]))
    source = path.read_text(encoding="utf-8")
    key = (str(path), hashlib.sha256(source.encode()).hexdigest())
    if key in _cache:
        return _cache[key]
    try:
        code = compile(source, str(path), "exec")
    except SyntaxError as e:
        raise KataLoadError(t("support.syntax_error", path=shown(path), line=e.lineno, msg=e.msg,
                              text=(e.text or "").rstrip())) from None  # fmt: skip
    name = f"{impl.name}.{module}"
    kata = ModuleType(name)
    kata.__file__ = str(path)
    sys.modules[name] = kata  # dataclasses look their module up here
    try:
        exec(code, kata.__dict__)
    except Exception as e:
        del sys.modules[name]
        frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == str(path)]
        where = t("support.at_line", line=frames[-1].lineno) if frames else ""
        raise KataLoadError(t("support.import_error", path=shown(path), where=where, type=type(e).__name__,
                              error=e)) from None  # fmt: skip
    _cache[key] = kata
    return kata


def with_reference(monkeypatch, kata: ModuleType, *names: str) -> None:
    """Replace `names` in the kata under test by their reference versions, so a test of one
    blank does not depend on the learner's other blanks."""
    reference = importlib.import_module(kata.__name__.split(".")[-1])
    for name in names:
        monkeypatch.setattr(kata, name, getattr(reference, name))


# --- inputs come out unchanged ----------------------------------------------------------------


class Guarded:
    """A kata module as the tests see it. Its functions, and the methods of its nn.Modules, check
    after each call that every tensor passed in (also inside a list or tuple) is unchanged: an
    in-place `x -= ...` on an argument gives a message of its own, before any value is compared.
    Setting an attribute sets it on the module (monkeypatch works as on the module itself)."""

    def __init__(self, module: ModuleType) -> None:
        object.__setattr__(self, "_module", module)
        object.__setattr__(self, "_classes", {})

    def __getattr__(self, name: str):
        value = getattr(self._module, name)
        if getattr(value, "__module__", None) != self._module.__name__:
            return value  # imported from elsewhere (torch, a reference kata): not the learner's
        if inspect.isfunction(value):
            return _guarded(value, value.__name__)
        if isinstance(value, type) and issubclass(value, torch.nn.Module):
            if value not in self._classes:
                methods = {k: _guarded(f, f"{value.__name__}.{k}") for k, f in vars(value).items()
                           if inspect.isfunction(f) and (k == "forward" or not k.startswith("_"))}  # fmt: skip
                self._classes[value] = type(value.__name__, (value,), {**methods, "__qualname__": value.__qualname__,
                                                                       "__module__": value.__module__})  # fmt: skip
            return self._classes[value]
        return value

    def __setattr__(self, name: str, value) -> None:
        setattr(self._module, name, getattr(value, "_unguarded", value))

    def __delattr__(self, name: str) -> None:
        delattr(self._module, name)


def _tensor_arguments(signature, args, kwargs) -> list[tuple[str, torch.Tensor]]:
    try:
        bound = signature.bind(*args, **kwargs).arguments.items()
    except TypeError:  # a wrong call: let the function itself say so
        return []
    found = []
    for name, value in bound:
        if isinstance(value, torch.Tensor):
            found.append((name, value))
        elif isinstance(value, (list, tuple)):
            found += [(f"{name}[{i}]", v) for i, v in enumerate(value) if isinstance(v, torch.Tensor)]
    return found


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and bool(((a == b) | (a.isnan() & b.isnan())).all())


def _guarded(fn, name: str):
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def guarded(*args, **kwargs):
        __tracebackhide__ = True
        before = [(arg, tensor, tensor.detach().clone()) for arg, tensor in _tensor_arguments(signature, args, kwargs)]
        out = fn(*args, **kwargs)
        for arg, tensor, copy in before:
            if not _same(tensor.detach(), copy):
                how = t("support.in_place_how", arg=arg)
                if tensor.shape != copy.shape:
                    how = t("support.in_place_view", arg=arg, before=tuple(copy.shape), after=tuple(tensor.shape))
                fail(t("support.in_place", name=name, arg=arg, how=how))
        return out

    guarded._unguarded = fn
    return guarded


# --- what the checks of a test were given (the grader's diagnosis compares them) --------------


@dataclass
class Check:
    value: object  # a copy of the tensor a check was given, or the message of a bare fail()
    atol: float = 0.0
    rtol: float = 0.0
    failed: bool = False


CHECKS: list[Check] = []  # emptied before each test (conftest.py)


def _record(value, atol: float = 0.0, rtol: float = 0.0) -> None:
    CHECKS.append(Check(value.detach().clone() if isinstance(value, torch.Tensor) else value, atol, rtol))


def same_result(mine: list[Check], theirs: list[Check], message: str, their_message: str) -> bool:
    """Did two runs of one test fail the same way: at the same check, with the same value there?"""
    if len(mine) != len(theirs) or not mine or not mine[-1].failed:
        return message == their_message
    a, b = mine[-1], theirs[-1]
    if not b.failed:
        return False
    if isinstance(a.value, torch.Tensor) and isinstance(b.value, torch.Tensor):
        if a.value.shape != b.value.shape or a.value.dtype != b.value.dtype:
            return False
        if not a.value.is_floating_point():
            return bool((a.value == b.value).all())
        atol, rtol = max(a.atol, 1e-6), max(a.rtol, 1e-5)
        return bool(torch.isclose(a.value, b.value, rtol=rtol, atol=atol, equal_nan=True).all())
    return type(a.value) is type(b.value) and message == their_message


# --- describing calls and tensors -----------------------------------------------------------


def describe(value) -> str:
    """A short description of an argument: tensors by shape and dtype, never their values."""
    if isinstance(value, torch.Tensor):
        if value.dim() == 0:
            return f"tensor({value.item():.4g})" if value.is_floating_point() else f"tensor({value.item()})"
        if value.numel() <= 6 and value.dim() <= 1:
            items = value.tolist() if not value.is_floating_point() else [f"{v:.4g}" for v in value.tolist()]
            return f"tensor([{', '.join(map(str, items))}])"
        return f"{tuple(value.shape)} {str(value.dtype).removeprefix('torch.')}"
    if isinstance(value, (list, tuple)) and len(value) > 6:
        return f"{type(value).__name__} of {len(value)}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def call(fn: str, *args, **kwargs) -> str:
    """`fn(x=(2, 3) float32, dim=-1)`: the call a message names."""
    parts = [describe(a) for a in args] + [f"{k}={describe(v)}" for k, v in kwargs.items()]
    return f"{fn}({', '.join(parts)})"


def _index(flat: int, shape: torch.Size) -> tuple[int, ...]:
    index = []
    for size in reversed(shape):
        index.append(flat % size)
        flat //= size
    return tuple(reversed(index))


def fail(problem: str, call: str = "", seed: int | None = None) -> None:
    """Raise the failure a learner reads: what is wrong, then the call and seed."""
    __tracebackhide__ = True
    _record(problem)
    _raise(problem, call, seed)


def _raise(problem: str, call: str = "", seed: int | None = None) -> None:
    __tracebackhide__ = True
    if CHECKS:
        CHECKS[-1].failed = True
    lines = [problem]
    if call:
        lines.append(t("support.call", call=call) + (f"    {t('support.seed', seed=seed)}" if seed is not None else ""))
    raise AssertionError("\n".join(lines))


def assert_tensor(actual, *, shape=None, dtype=None, call: str = "", seed=None, name: str = "") -> None:
    """Check that `actual` is a tensor of the given shape and dtype (`name`: what it is; "output" if not said)."""
    __tracebackhide__ = True
    _record(actual)
    _check_tensor(actual, shape, dtype, call, seed, name or t("support.output"))


def _check_tensor(actual, shape, dtype, call: str, seed, name: str) -> None:
    __tracebackhide__ = True
    if not isinstance(actual, torch.Tensor):
        _raise(t("support.not_a_tensor", name=name, type=type(actual).__name__), call, seed)
    if shape is not None and tuple(actual.shape) != tuple(shape):
        _raise(t("support.shape", name=name, got=tuple(actual.shape), expected=tuple(shape)), call, seed)
    if dtype is not None and actual.dtype != dtype:
        _raise(t("support.dtype", name=name, got=actual.dtype, expected=dtype), call, seed)


def assert_close(
    actual,
    expected: torch.Tensor,
    *,
    call: str = "",
    seed: int | None = None,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    name: str = "",
) -> None:
    """Compare with an oracle: shape, dtype, NaN/inf, then values within atol + rtol·|expected|
    (`name`: what `actual` is; "output" if not said)."""
    __tracebackhide__ = True
    name = name or t("support.output")
    _record(actual, atol, rtol)
    _check_tensor(actual, expected.shape, expected.dtype, call, seed, name)
    actual, expected = actual.detach(), expected.detach()
    if expected.dtype == torch.bool or not expected.is_floating_point():
        wrong = actual != expected
        if wrong.any():
            i = _index(int(wrong.flatten().nonzero()[0]), expected.shape)
            _raise(
                t("support.differs_at", name=name, index=i, got=actual[i].item(), expected=expected[i].item(),
                  wrong=int(wrong.sum()), total=expected.numel()),
                call,
                seed,
            )  # fmt: skip
        return
    bad = ~torch.isfinite(actual) & torch.isfinite(expected)
    if bad.any():
        i = _index(int(bad.flatten().nonzero()[0]), expected.shape)
        _raise(
            t("support.not_finite", name=name, got=f"{actual[i].item():g}", index=i, bad=int(bad.sum()),
              total=expected.numel(), expected=f"{expected[i].item():.4g}"),
            call,
            seed,
        )  # fmt: skip
    error = (actual.double() - expected.double()).abs().nan_to_num(0.0)
    tolerance = atol + rtol * expected.double().abs()
    over = error - tolerance
    if (over > 0).any():
        i = _index(int(over.flatten().argmax()), expected.shape)
        _raise(
            t("support.values_differ", name=name, error=f"{error.max().item():.3g}", index=i,
              got=f"{actual[i].item():.6g}", expected=f"{expected[i].item():.6g}", atol=f"{atol:g}", rtol=f"{rtol:g}",
              off=int((over > 0).sum()), total=expected.numel()),
            call,
            seed,
        )  # fmt: skip


# --- gradients --------------------------------------------------------------------------------

UPSTREAM_SEED = 1234


def assert_gradients(
    actual: torch.Tensor,
    expected: torch.Tensor,
    inputs: dict[str, tuple[torch.Tensor, torch.Tensor]],
    *,
    call: str = "",
    seed: int | None = None,
    atol: float = 1e-5,
    rtol: float = 1e-4,
) -> None:
    """Backward through the learner's output and the oracle's with the same random upstream
    gradient, and compare the gradients each input gets.

    actual, expected: the learner's output and the oracle's, of the same shape.
    inputs: {name: (the leaf `actual` was computed from, the leaf `expected` was computed from)},
    leaves with requires_grad=True (parameters of a module count too).
    """
    __tracebackhide__ = True
    assert_tensor(actual, shape=expected.shape, call=call, seed=seed)
    upstream = torch.randn(expected.shape, generator=torch.Generator().manual_seed(UPSTREAM_SEED))
    upstream = upstream.to(expected.dtype)
    names = list(inputs)
    if not actual.requires_grad:
        fail(t("support.no_gradient"), call, seed)
    try:
        # (output · upstream).sum() rather than grad_outputs=upstream: the same gradients, without
        # torch importing sympy (half a second) on the first call
        mine = torch.autograd.grad((actual * upstream).sum(), [inputs[n][0] for n in names], allow_unused=True)
    except RuntimeError as e:
        if "inplace operation" in str(e):
            fail(t("support.backward_in_place"), call, seed)
        fail(t("support.backward_failed", type=type(e).__name__, error=str(e).splitlines()[0]), call, seed)
    theirs = torch.autograd.grad((expected * upstream).sum(), [inputs[n][1] for n in names], allow_unused=True)
    for name, g_mine, g_theirs in zip(names, mine, theirs):
        if g_mine is None and g_theirs is not None:
            fail(t("support.no_gradient_reaches", name=name), call, seed)
        if g_theirs is None:
            continue
        assert_close(g_mine, g_theirs, call=call, seed=seed, atol=atol, rtol=rtol,
                     name=t("support.gradient_of", name=name))  # fmt: skip


def randomise_group_norms(module: torch.nn.Module) -> None:
    """GroupNorms start as weight 1, bias 0: all alike, so a test cannot tell which one a learner
    used, or whether one was skipped. Random affine parameters make each one count."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, torch.nn.GroupNorm):
                m.weight.copy_(1 + 0.5 * torch.randn_like(m.weight))
                m.bias.copy_(0.5 * torch.randn_like(m.bias))


def randomise_layer_norms(module: torch.nn.Module) -> None:
    """The LayerNorms of a kata module (kata 05's, named ln1, ln2, ...) start as weight 1, bias 0:
    all alike. Random weights and biases tell them apart."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.split(".")[-2].startswith("ln"):
                p.copy_(torch.randn_like(p))


def layer_norm(ln: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """What a LayerNorm module with its own weights computes, by torch's functional: an oracle."""
    return torch.nn.functional.layer_norm(x, ln.weight.shape, ln.weight, ln.bias, ln.eps)


# --- diffusion schedules by hand (katas 15 and 18) ----------------------------------------------


def schedule_by_hand(schedule) -> dict[str, torch.Tensor]:
    """β, α, ᾱ, ᾱ_{t−1} (1 at t = 0) and β̃, each (T,) float64, by a plain loop over the betas."""
    betas = schedule.betas.tolist()
    alpha_bar, product = [], 1.0
    for beta in betas:
        product *= 1 - beta
        alpha_bar.append(product)
    beta, alpha_bar = torch.tensor(betas, dtype=torch.float64), torch.tensor(alpha_bar, dtype=torch.float64)
    alpha_bar_prev = torch.cat([torch.ones(1, dtype=torch.float64), alpha_bar[:-1]])
    variance = beta * (1 - alpha_bar_prev) / (1 - alpha_bar)
    return {"beta": beta, "alpha": 1 - beta, "alpha_bar": alpha_bar, "alpha_bar_prev": alpha_bar_prev,
            "variance": variance}  # fmt: skip
