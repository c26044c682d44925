"""Replayed tests of one source file, proved together in one sandbox run.

The tests earlier runs kept for the targets of one file are merged into one
module, as the writer merges them into the generated file, and validated
once; each test's verdict then goes back to the candidate it came from. The
validator judges the tests in order against what those before them reached,
so this is the same verdict as proving the candidates one after another,
for the cost of one proving instead of one per candidate. When the merged
module accepts nothing (an import one of them needs is gone, say), each is
proved alone, so one broken test module cannot sink the others.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from pytest_ruvqe.generate.accept.static import only_units, parse_candidate
from pytest_ruvqe.generate.types import Candidate, Reason, Target, Validation, Verdict
from pytest_ruvqe.generate.writer import merge_modules

_SAME = "the same test was replayed for an earlier target"


def prove_together(
    candidates: Sequence[Candidate],
    validate: Callable[[Candidate], Validation],
    target: Target,
) -> list[Validation]:
    """One validation per candidate, from one run of all of them merged
    (judged against what ``target`` covers: the file's coverage)."""
    if len(candidates) < 2:
        return [validate(c) for c in candidates]
    try:
        code, names = merge_modules(target.module, [c.code for c in candidates])
    except SyntaxError:
        return [validate(c) for c in candidates]
    joint = validate(dataclasses.replace(candidates[0], target=target, code=code))
    if not joint.accepted:
        return [validate(c) for c in candidates]
    verdicts = {v.name: v for v in joint.verdicts}
    return [
        _share(candidate, mapping, verdicts, joint)
        for candidate, mapping in zip(candidates, names, strict=True)
    ]


def _share(
    candidate: Candidate,
    names: dict[str, str],
    verdicts: dict[str, Verdict],
    joint: Validation,
) -> Validation:
    """The joint run's verdicts on one candidate's own tests, under its names."""
    parsed = parse_candidate(candidate.code)
    own: list[Verdict] = []
    for unit in parsed.units:
        verdict = verdicts.get(names.get(unit.name, ""))
        if verdict is None:
            own.append(Verdict(unit.name, Reason.NO_GAIN, detail=_SAME))
        else:
            own.append(dataclasses.replace(verdict, name=unit.name))
    kept = [
        u for u, v in zip(parsed.units, own, strict=True) if v.reason is Reason.ACCEPTED
    ]
    code = only_units(parsed.code, kept, parsed.units) if kept else None
    return Validation(candidate, tuple(own), code, "", dict(joint.timings))
