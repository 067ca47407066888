"""The check every error test makes (STYLE.md item 4: test the messages like features).

``check_error(excinfo, cls, tags, mentions=())``:
- the exception is an instance of ``cls`` (and of ``pk.KernelError``);
- ``str(exc)`` names this test file with the line of one of the source lines marked ``# E:<tag>`` (as
  ``file:line:col``), shows that source line and a caret;
- ``str(exc)`` mentions each word of ``mentions`` (case-insensitive; a tuple means any one of its words);
- neither the message nor the traceback's frames name a file inside the installed kernelkit package."""

from __future__ import annotations

import os
import re
import traceback

import pytest

import kernelkit

PKG_DIRS = [os.path.realpath(p) for p in kernelkit.__path__]
INTERNAL_FRAGMENTS = (
    "kernelkit/frontend",
    "kernelkit/backends",
    "kernelkit/compile",
    "kernelkit/ir",
    "kernelkit/lang",
    "kernelkit/runtime",
    "kernelkit/api",
    "kernelkit/errors.py",
    "kernelkit/config.py",
    "kernelkit/__init__.py",
    "kernelkit/_native",
)


def marked_lines(path, tag: str) -> list[tuple[int, str]]:
    """(line number, source text before the marker) of every line of ``path`` marked ``# E:<tag>``."""
    found = []
    with open(path, encoding="utf-8") as f:
        for number, text in enumerate(f, start=1):
            m = re.search(r"#\s*E:([\w-]+)", text)
            if m and m.group(1) == tag:
                found.append((number, text[: m.start()].strip()))
    assert found, f"no line marked '# E:{tag}' in {path}"
    return found


def _is_internal(filename: str) -> bool:
    real = os.path.realpath(filename)
    return any(real == d or real.startswith(d + os.sep) for d in PKG_DIRS)


@pytest.fixture
def check_error(request):
    test_file = str(request.node.path)
    base = os.path.basename(test_file)

    def check(excinfo, cls, tags, mentions=()):
        exc = excinfo.value
        assert isinstance(exc, kernelkit.KernelError), f"{type(exc).__name__} is not a pk.KernelError: {exc}"
        assert isinstance(exc, cls), f"expected {cls}, got {type(exc).__name__}: {exc}"
        msg = str(exc)
        tags = [tags] if isinstance(tags, str) else list(tags)
        candidates = [entry for tag in tags for entry in marked_lines(test_file, tag)]
        hits = [(n, src) for n, src in candidates if re.search(rf"{re.escape(base)}\"?:{n}:\d+", msg)]
        assert hits, (
            f"the message does not locate the error at {base}:<line>:<col> for any of lines "
            f"{[n for n, _ in candidates]}:\n{msg}"
        )
        number, src = hits[0]
        assert src in msg, f"the message does not show the source line {src!r}:\n{msg}"
        assert "^" in msg, f"no caret in the message:\n{msg}"
        low = msg.lower()
        for word in mentions:
            alternatives = (word,) if isinstance(word, str) else tuple(word)
            assert any(a.lower() in low for a in alternatives), f"the message does not mention {word!r}:\n{msg}"
        for frag in INTERNAL_FRAGMENTS:
            assert frag not in msg, f"internal file name {frag!r} in the message:\n{msg}"
        for d in PKG_DIRS:
            assert d not in msg, f"the package directory {d} appears in the message:\n{msg}"
        internal = [
            f"{fr.filename}:{fr.lineno}" for fr in traceback.extract_tb(excinfo.tb) if _is_internal(fr.filename)
        ]
        assert not internal, f"internal kernelkit frames in the traceback: {internal}"
        return msg

    return check
