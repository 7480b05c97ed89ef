"""A warm grader for `watch`: one process imports torch, pytest and hypothesis once, and each
grading runs in a fresh child forked from it, so a re-grade pays for no interpreter start and
no torch import, and no state leaks from one run into the next.

    grader = WarmGrader.start(env)  # None where fork is unsafe or missing (macOS, Windows)
    output, code = grader.run(pytest_args, env, output_path, timeout)
    grader.close()

grading.warm_grading() is the way in.

The protocol: one JSON line per request on the worker's stdin ({"args", "env", "output"}), one
JSON line per answer on its stdout ({"code"}). A child writes pytest's output to the file named
in the request, never to the protocol's pipe.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from checker.catalog import ROOT

POLL_S = 0.002


class WarmGrader:
    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process

    @classmethod
    def start(cls, env: dict[str, str]) -> WarmGrader | None:
        """A worker process, or None where a forked child is not safe (fork is Linux's here)."""
        if sys.platform != "linux":
            return None
        command = [sys.executable, "-m", "checker.worker"]
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        return cls(process)

    def run(self, args: list[str], env: dict[str, str], output_path: str, timeout: float) -> tuple[str, int | None]:
        """pytest `args` in a fresh child: (its output, its exit code, or None if it ran past `timeout`)."""
        request = {"args": args, "env": env, "output": output_path, "timeout": timeout}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError("the warm grader stopped")
        code = json.loads(answer)["code"]
        with open(output_path, encoding="utf-8", errors="replace") as f:
            return f.read(), code

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.process.stdin.close()
                self.process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()


def _child(request: dict) -> None:
    """In the forked child: pytest's output to the file, then run it; never returns."""
    code = 4
    try:
        fd = os.open(request["output"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.environ.clear()
        os.environ.update(request["env"])
        import pytest

        code = int(pytest.main(request["args"]))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _wait(pid: int, timeout: float) -> int | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(POLL_S)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return None


def serve() -> None:
    import hypothesis  # noqa: F401  (imported once here: each child starts with them loaded)
    import pytest  # noqa: F401
    import pytest_timeout  # noqa: F401
    import torch  # noqa: F401

    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request)
        code = _wait(pid, request["timeout"])
        sys.stdout.write(json.dumps({"code": code}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve()
