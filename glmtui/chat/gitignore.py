"""The common subset of ``.gitignore`` rules, for attaching a folder as git would see it.

Why our own and not ``pathspec``: attaching a folder needs one question answered ("would git
leave this path out?"), and the rules people write are a small, stable subset; ``pathspec``
would be a new runtime dependency for about sixty lines. Supported: comments and blank lines,
``\\#``/``\\!`` escapes, trailing spaces, ``!`` negation (last match wins), a trailing ``/``
(folders only), a ``/`` at the start or in the middle (anchored to the ``.gitignore``'s
folder; otherwise the pattern matches a name at any depth), ``*``, ``?``, ``[…]`` classes and
``**`` (``**/x``, ``x/**``, ``a/**/b``). Not supported: ``.git/info/exclude`` and the global
excludes file (a folder's own ``.gitignore`` files and its repository's are what people mean).

As in git, a folder that is left out is not entered, so nothing inside it can be put back.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Rule:
    """One pattern line of a ``.gitignore``."""

    regex: re.Pattern[str]
    """Matches a path relative to the ``.gitignore``'s folder (``/``-separated)."""
    negated: bool
    """``!pattern``: the path is put back."""
    folders_only: bool
    """``pattern/``: applies to folders only."""


def _class(pattern: str, start: int) -> tuple[str, int] | None:
    """The ``[…]`` class at ``start`` as a regex class and the index after it; None when it
    is not closed (then ``[`` is a plain character)."""
    end = start + 1
    if end < len(pattern) and pattern[end] in "!^":
        end += 1
    if end < len(pattern) and pattern[end] == "]":
        end += 1
    end = pattern.find("]", end)
    if end < 0:
        return None
    body = pattern[start + 1 : end]
    if body[:1] in ("!", "^"):
        body = "^" + body[1:]
    for char in "\\[&~|":  # literal in a gitignore class; special (or warned of) in Python's
        body = body.replace(char, "\\" + char)
    return "[" + body + "]", end + 1


def _translate(pattern: str) -> str:
    """A regex for ``pattern`` (without its ``!`` and trailing ``/``)."""
    anchored = "/" in pattern
    pattern = pattern.lstrip("/")
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i) and (i == 0 or pattern[i - 1] == "/"):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == len(pattern):
            out.append("/.*")
            i += 3
        elif pattern[i] == "*":
            out.append("[^/]*")
            while i < len(pattern) and pattern[i] == "*":
                i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and (found := _class(pattern, i)) is not None:
            out.append(found[0])
            i = found[1]
        elif pattern[i] == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return ("" if anchored else "(?:.*/)?") + "".join(out)


def parse(text: str) -> list[Rule]:
    """The rules of a ``.gitignore`` file's text (lines that are not valid are left out)."""
    rules: list[Rule] = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        stripped = line.rstrip(" ")
        if stripped.endswith("\\") and len(stripped) < len(line):
            stripped += " "  # "foo\ " keeps its escaped space
        negated = stripped.startswith("!")
        if negated or stripped.startswith(("\\!", "\\#")):
            stripped = stripped[1:]
        folders_only = stripped.endswith("/")
        stripped = stripped.rstrip("/")
        if not stripped:
            continue
        try:
            regex = re.compile(_translate(stripped), re.DOTALL)
        except re.error:
            continue
        rules.append(Rule(regex, negated, folders_only))
    return rules


@dataclass(slots=True)
class Ignores:
    """The ``.gitignore`` rules in force at one folder: each file's rules with its folder,
    outermost first (a deeper file's rules win, as in git)."""

    layers: list[tuple[Path, list[Rule]]] = field(default_factory=list)

    @classmethod
    def above(cls, folder: Path) -> Ignores:
        """The rules of the ``.gitignore`` files above ``folder`` in its git repository, from
        the repository's root down to ``folder``'s parent (none outside a repository).
        ``folder``'s own file is added by :meth:`entering` it."""
        chain = [folder, *folder.parents]
        root = next((place for place in chain if (place / ".git").exists()), None)
        ignores = cls()
        if root is not None:
            for place in reversed(chain[1 : chain.index(root) + 1]):
                ignores = ignores.entering(place)
        return ignores

    def entering(self, folder: Path) -> Ignores:
        """These rules plus those of ``folder``'s own ``.gitignore``, if it has one."""
        try:
            text = (folder / ".gitignore").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return self
        rules = parse(text)
        return Ignores([*self.layers, (folder, rules)]) if rules else self

    def ignored(self, path: Path, *, folder: bool) -> bool:
        """Whether git would leave ``path`` (a file, or a folder with ``folder``) out."""
        verdict = False
        for base, rules in self.layers:
            relative = os.path.relpath(path, base).replace(os.sep, "/")
            if relative.startswith("../"):
                continue
            for rule in rules:
                if rule.folders_only and not folder:
                    continue
                if rule.regex.fullmatch(relative):
                    verdict = not rule.negated
        return verdict
