"""What every kata test uses: load the implementation under test, and compare tensors with a
message a learner can act on (shape first, then dtype, NaNs, then values: max error, where,
tolerance, the call and the seed). No tensor walls.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import traceback
from pathlib import Path
from types import ModuleType

import torch

from checker.catalog import shown

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
        raise KataLoadError(f"{shown(path)} is missing (`katas reset {module[1:3]}` brings back a fresh copy)")
    source = path.read_text(encoding="utf-8")
    key = (str(path), hashlib.sha256(source.encode()).hexdigest())
    if key in _cache:
        return _cache[key]
    try:
        code = compile(source, str(path), "exec")
    except SyntaxError as e:
        raise KataLoadError(f"{shown(path)} line {e.lineno}: SyntaxError: {e.msg}\n    {(e.text or '').rstrip()}") from None
    name = f"{impl.name}.{module}"
    kata = ModuleType(name)
    kata.__file__ = str(path)
    sys.modules[name] = kata  # dataclasses look their module up here
    try:
        exec(code, kata.__dict__)
    except Exception as e:
        del sys.modules[name]
        frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == str(path)]
        where = f" line {frames[-1].lineno}" if frames else ""
        raise KataLoadError(f"{shown(path)}{where}: {type(e).__name__} while importing: {e}") from None
    _cache[key] = kata
    return kata


def with_reference(monkeypatch, kata: ModuleType, *names: str) -> None:
    """Replace `names` in the kata under test by their reference versions, so a test of one
    blank does not depend on the learner's other blanks."""
    reference = importlib.import_module(kata.__name__.split(".")[-1])
    for name in names:
        monkeypatch.setattr(kata, name, getattr(reference, name))


# --- describing calls and tensors -----------------------------------------------------------


def describe(value) -> str:
    """A short description of an argument: tensors by shape and dtype, never their values."""
    if isinstance(value, torch.Tensor):
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
    lines = [problem]
    if call:
        lines.append(f"call: {call}" + (f"    seed: {seed}" if seed is not None else ""))
    raise AssertionError("\n".join(lines))


def assert_tensor(actual, *, shape=None, dtype=None, call: str = "", seed=None, name: str = "output") -> None:
    """Check that `actual` is a tensor of the given shape and dtype."""
    __tracebackhide__ = True
    if not isinstance(actual, torch.Tensor):
        fail(f"{name} should be a torch.Tensor, but it is a {type(actual).__name__}", call, seed)
    if shape is not None and tuple(actual.shape) != tuple(shape):
        fail(f"{name} has shape {tuple(actual.shape)}, expected {tuple(shape)}", call, seed)
    if dtype is not None and actual.dtype != dtype:
        fail(f"{name} has dtype {actual.dtype}, expected {dtype}", call, seed)


def assert_close(
    actual,
    expected: torch.Tensor,
    *,
    call: str = "",
    seed: int | None = None,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    name: str = "output",
) -> None:
    """Compare with an oracle: shape, dtype, NaN/inf, then values within atol + rtol·|expected|."""
    __tracebackhide__ = True
    assert_tensor(actual, shape=expected.shape, dtype=expected.dtype, call=call, seed=seed, name=name)
    actual, expected = actual.detach(), expected.detach()
    if expected.dtype == torch.bool or not expected.is_floating_point():
        wrong = actual != expected
        if wrong.any():
            i = _index(int(wrong.flatten().nonzero()[0]), expected.shape)
            fail(
                f"{name} differs at index {i}: got {actual[i].item()}, expected {expected[i].item()} "
                f"({int(wrong.sum())} of {expected.numel()} values differ)",
                call,
                seed,
            )
        return
    bad = ~torch.isfinite(actual) & torch.isfinite(expected)
    if bad.any():
        i = _index(int(bad.flatten().nonzero()[0]), expected.shape)
        fail(
            f"{name} has {actual[i].item():g} at index {i} ({int(bad.sum())} of {expected.numel()} values are "
            f"NaN or inf) where {expected[i].item():.4g} was expected",
            call,
            seed,
        )
    error = (actual.double() - expected.double()).abs().nan_to_num(0.0)
    tolerance = atol + rtol * expected.double().abs()
    over = error - tolerance
    if (over > 0).any():
        i = _index(int(over.flatten().argmax()), expected.shape)
        fail(
            f"{name} values differ: max abs error {error.max().item():.3g} at index {i}: "
            f"got {actual[i].item():.6g}, expected {expected[i].item():.6g} "
            f"(tolerance {atol:g} + {rtol:g}·|expected|; {int((over > 0).sum())} of {expected.numel()} values off)",
            call,
            seed,
        )
