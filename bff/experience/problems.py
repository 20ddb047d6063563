"""Why experience data is refused: each problem names the file and a JSON Pointer into it.

Paths are JSON Pointers (RFC 6901), as for mini-program manifests:
`/sections/2/options/maxTiles` is `maxTiles` in the options of the third section,
and the empty pointer `""` is the document as a whole. A missing key is reported
at the path it should have had, an unknown key at its own path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One reason experience data is refused.

    `file` is the path relative to the experience directory (`profiles/elder.json`);
    it is empty for a check run on a single document or profile value.
    """

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        where = " ".join(part for part in (self.file, self.path or "(document)") if part)
        return f"{where}: {self.message}"


class ExperienceError(ValueError):
    """Experience data is refused; `problems` lists every reason, sorted by file and path."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(sorted(set(problems), key=problem_order))
        super().__init__(str(self))

    def __str__(self) -> str:
        count = len(self.problems)
        lines = "".join(f"\n  {problem}" for problem in self.problems)
        return f"experience data refused ({count} problem{'s' if count != 1 else ''}):{lines}"


def pointer(*parts: str | int) -> str:
    """A JSON Pointer to the value reached by `parts`, escaping `~` and `/` in keys."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def problem_order(problem: Problem) -> tuple[str, tuple[tuple[int, int, str], ...], str]:
    """Sort by file, then by path with array indices in numeric order, then by message."""
    parts = problem.path.split("/")[1:]
    key = tuple((0, int(p), "") if p.isascii() and p.isdigit() else (1, 0, p) for p in parts)
    return problem.file, key, problem.message
