"""The search's memory for one target: per line and branch reached, the
smallest call that reached it, and a few spares that behaved otherwise (the
mutants of the target tell calls of different results apart)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from pytest_ruvqe.generate.search.probe import CallOutcome
from pytest_ruvqe.generate.search.spec import CallSpec
from pytest_ruvqe.generate.types import Target
from pytest_ruvqe.measure.types import Arc

Element = int | Arc
_SPARES = 3  # spare calls kept per element


@dataclass
class Entry:
    """A call kept because it is the smallest to reach some elements."""

    spec: CallSpec
    outcome: CallOutcome


@dataclass
class Archive:
    """Smallest covering call per line and per branch arc of the file.

    Only calls that can become tests are kept in :attr:`best`; the others
    (a ``TypeError`` of a wrong argument that still ran some lines) are
    remembered in :attr:`frontier` as starting points for mutation.
    """

    target: Target
    branch_points: frozenset[int]
    cost: Callable[[CallSpec], int] = lambda spec: spec.size
    best: dict[Element, Entry] = field(default_factory=dict)
    frontier: dict[Element, Entry] = field(default_factory=dict)
    # the next smallest usable calls per element: what replaces a kept call
    # that a fresh process shows to be flaky, or that validation rejects
    spare: dict[Element, list[Entry]] = field(default_factory=dict)

    def elements(self, outcome: CallOutcome) -> set[Element]:
        """What a call reached that counts: lines, and arcs from branch points."""
        found: set[Element] = set(outcome.lines)
        found.update(a for a in outcome.arcs if a[0] in self.branch_points)
        return found

    def add(self, spec: CallSpec, outcome: CallOutcome, usable: bool = True) -> int:
        """Keep ``spec`` where it is the smallest so far; how many elements are
        new (to the usable calls when ``usable``, to any call otherwise)."""
        new = 0
        entry = Entry(spec, outcome)
        kept = self.best if usable else self.frontier
        for element in self.elements(outcome):
            held = kept.get(element)
            if held is None and (usable or element not in self.best):
                new += 1
            if held is None or self.cost(spec) < self.cost(held.spec):
                kept[element] = entry
                if usable and held is not None:
                    self._spare(element, held)
            elif usable:
                self._spare(element, entry)
        return new

    def _spare(self, element: Element, entry: Entry) -> None:
        """Keep ``entry`` among the element's spares: the smallest call of
        each behaviour seen (what it returned or raised), the smallest few."""
        spares = self.spare.setdefault(element, [])
        if any(s.spec == entry.spec for s in spares):
            return
        same = next((s for s in spares if _behaviour(s) == _behaviour(entry)), None)
        if same is not None:
            if self.cost(entry.spec) >= self.cost(same.spec):
                return
            spares.remove(same)
        spares.append(entry)
        spares.sort(key=lambda e: self.cost(e.spec))
        del spares[_SPARES:]

    def pool(self) -> list[Entry]:
        """Every kept and spare call once, smallest first."""
        found: dict[str, Entry] = {}
        spares = (e for kept in self.spare.values() for e in kept)
        for entry in [*self.best.values(), *spares]:
            found.setdefault(entry.outcome.call.id, entry)
        return sorted(found.values(), key=lambda e: self.cost(e.spec))

    def alternatives(self, elements: set[Element], taken: set[str]) -> list[Entry]:
        """Kept and spare calls that reach ``elements``, smallest first, none
        of the ``taken`` call ids."""
        found: dict[str, Entry] = {}
        for element in elements:
            for entry in [self.best.get(element), *self.spare.get(element, [])]:
                if entry is not None and entry.outcome.call.id not in taken:
                    found.setdefault(entry.outcome.call.id, entry)
        return sorted(found.values(), key=lambda e: self.cost(e.spec))

    @property
    def entries(self) -> list[Entry]:
        """Each kept call once, in the order first kept."""
        seen: dict[int, Entry] = {}
        for entry in self.best.values():
            seen.setdefault(id(entry), entry)
        return list(seen.values())

    def missing(self) -> set[Element]:
        """What the target still misses that no kept call reaches."""
        wanted: set[Element] = set(self.target.missing_lines)
        wanted.update(
            a for a in self.target.missing_branches if a[0] in self.branch_points
        )
        return wanted - set(self.best)

    def pick(self, rng: random.Random) -> CallSpec | None:
        """A kept call to mutate; rarely reached elements weigh more."""
        entries = self.entries
        ids = {id(e) for e in entries}
        entries += [e for e in self.frontier.values() if id(e) not in ids][:50]
        if not entries:
            return None
        counts: dict[int, int] = {}
        for entry in [*self.best.values(), *self.frontier.values()]:
            counts[id(entry)] = counts.get(id(entry), 0) + 1
        weights = [1.0 / counts[id(e)] ** 0.5 for e in entries]
        return rng.choices(entries, weights)[0].spec


def _behaviour(entry: Entry) -> tuple[str, str | None, str | None]:
    """What a call did, as far as telling calls apart goes."""
    outcome = entry.outcome
    return outcome.kind, outcome.type, outcome.repr
