"""Run planned calls through the guarded sandbox probe (no network, no stray writes).

The sandbox evaluates expressions after a shared setup, so each planned call
(statements, then an expression) becomes one expression: ``obj = X()`` turns
into ``(obj := X())`` inside a tuple whose last item is the call. Each call is
evaluated twice in a row so time- or random-dependent results are seen as
unstable and not asserted on.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import replace

from pytest_ruvqe.generate.sandbox import ProbeCall, run_probe
from pytest_ruvqe.generate.search.probe import (
    CallOutcome,
    PlannedCall,
    ProbeError,
    ProbePlan,
)
from pytest_ruvqe.generate.source import defined_names
from pytest_ruvqe.generate.types import Project


def as_expression(call: PlannedCall) -> tuple[str, tuple[str, ...]]:
    """One expression for the call, and the import statements it needs first."""
    imports = tuple(s for s in call.setup if s.startswith(("import ", "from ")))
    parts = [_as_expr(s) for s in call.setup if s not in imports]
    expr = _as_expr(call.expr) if call.is_statement else call.expr
    if not parts:
        return expr, imports
    return f"({', '.join(parts)}, {expr})[-1]", imports


def setup_expression(call: PlannedCall) -> str | None:
    """The setup statements alone as one expression, if there are any."""
    steps = [s for s in call.setup if not s.startswith(("import ", "from "))]
    if not steps:
        return None
    return as_expression(PlannedCall(call.id, tuple(steps[:-1]), _as_expr(steps[-1])))[
        0
    ]


_OPERATOR = "__import__('operator')"


def _as_expr(statement: str) -> str:
    """A statement of a planned call as an expression with the same effect."""
    node = ast.parse(statement).body[0]
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        (target,) = node.targets
        value = ast.unparse(node.value)
        if isinstance(target, ast.Name):
            return f"({target.id} := {value})"
        if isinstance(target, ast.Subscript):
            item = f"{ast.unparse(target.value)}, {ast.unparse(target.slice)}"
            return f"{_OPERATOR}.setitem({item}, {value})"
        if isinstance(target, ast.Attribute):
            return f"setattr({ast.unparse(target.value)}, {target.attr!r}, {value})"
    if isinstance(node, ast.Delete):
        gone = node.targets[0]
        if isinstance(gone, ast.Subscript):
            item = f"{ast.unparse(gone.value)}, {ast.unparse(gone.slice)}"
            return f"{_OPERATOR}.delitem({item})"
        if isinstance(gone, ast.Attribute):
            return f"delattr({ast.unparse(gone.value)}, {gone.attr!r})"
    if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
        name, value = node.target.id, ast.unparse(node.value)
        op = _AUGMENTED.get(type(node.op))
        if op is not None:
            return f"({name} := {_OPERATOR}.{op}({name}, {value}))"
    return statement


_AUGMENTED: dict[type[ast.operator], str] = {
    ast.Add: "iadd",
    ast.Sub: "isub",
    ast.Mult: "imul",
    ast.BitOr: "ior",
    ast.BitAnd: "iand",
}


def _type_name(
    qualified: str, module: str, alias: str, defined: frozenset[str]
) -> str | None:
    """Expression for a type given as ``module.QualName``, from a test's view."""
    owner, _, name = qualified.rpartition(".")
    if owner == "builtins" and hasattr(builtins, name):
        return name
    if owner == module or name in defined:
        return f"{alias}.{name}"
    return None


def _expressions(call: PlannedCall, expr: str, repeat: bool) -> list[str]:
    """What the probe evaluates for one call, in the order it is read back."""
    exprs = [expr, expr] if repeat else [expr]
    if repeat:
        # tells an exception of the setup from one of the call itself
        exprs.append(setup_expression(call) or "None")
    if call.observe:
        after = PlannedCall(call.id, (*call.setup, call.expr), call.observe)
        state = as_expression(after)[0]
        # twice too: a receiver's state that differs run to run is not asserted
        exprs += [state, state] if repeat else [state]
    return exprs


def _observed(call: ProbeCall) -> tuple[object, ...]:
    """What a test would assert of a call: equal twice in a row means stable.

    An object whose repr does not give it back is judged by its type, not by
    a repr that holds its address; its attributes that differ are dropped.
    """
    shown = call.repr if call.faithful else ""
    return call.status, call.value_type, call.exc_type, shown


class SandboxExecutor:
    """Runs characterization calls with :func:`sandbox.run_probe`."""

    def __init__(self, project: Project) -> None:
        self.project = project

    def execute(self, plan: ProbePlan) -> list[CallOutcome]:
        """Outcomes of the calls in call order, coverage of the source file each."""
        module, alias, calls = plan.module, plan.alias, plan.calls
        defined = defined_names(plan.source_file)
        imports = {f"import {module} as {alias}"}
        exprs: list[str] = []
        spans = []
        groups: list[int] = []
        for number, call in enumerate(calls):
            expr, needed = as_expression(call)
            imports |= set(needed)
            start = len(exprs)
            exprs += _expressions(call, expr, plan.repeat)
            groups += [number] * (len(exprs) - start)
            spans.append((start, len(exprs)))
        setup = "\n".join(sorted(imports))
        result = run_probe(
            self.project,
            f"{setup}\n{plan.prelude}" if plan.prelude else setup,
            exprs,
            plan.source_file,
            timeout=plan.timeout,
            call_timeout=plan.call_timeout,
            groups=groups,
        )
        if result.setup_error or (result.status != "ok" and not result.calls):
            why = result.setup_error or result.killed_reason or result.status
            raise ProbeError(f"probe of {module} failed: {why[-800:]}")
        out = []
        first = 2 if plan.repeat else 1  # evaluations of the call itself
        for call, (start, end) in zip(calls, spans, strict=True):
            got = result.calls[start:end]
            if len(got) < end - start:
                break
            if plan.repeat and got[2].status != "returned":
                out.append(CallOutcome(call, "setup_error", stable=False))
                continue
            outcome = self._outcome(call, got[:first], module, alias, defined)
            after = got[first + (1 if plan.repeat else 0) :]
            if call.observe and after and after[0].status == "returned":
                same = [
                    a
                    for a in after[0].fields
                    if len(after) == 1 or a in after[1].fields
                ]
                length = after[0].length
                if len(after) > 1 and after[1].length != length:
                    length = None
                outcome = replace(outcome, state=tuple(same), state_length=length)
            out.append(outcome)
        return out

    def _outcome(
        self,
        call: PlannedCall,
        pair: tuple[ProbeCall, ...],
        module: str,
        alias: str,
        defined: frozenset[str],
    ) -> CallOutcome:
        first = pair[0]
        stable = len(pair) == 1 or _observed(first) == _observed(pair[1])
        lines = frozenset().union(*(p.covered.lines for p in pair))
        arcs = frozenset().union(*(p.covered.arcs for p in pair))
        # a call that hung or ended its process tells nothing we could assert
        if any(p.violations for p in pair) or first.status in ("timeout", "crashed"):
            return CallOutcome(call, "timeout", stable=False, lines=lines, arcs=arcs)
        if first.status == "raised":
            kind = _type_name(first.exc_type, module, alias, defined) or "Exception"
            return CallOutcome(
                call,
                "raise",
                type=kind,
                stable=stable,
                lines=lines,
                arcs=arcs,
                message=first.exc_message,
            )
        type_name = _type_name(first.value_type, module, alias, defined)
        # a value that differs run to run (a clock, a random draw) is asserted
        # by its type alone
        same_type = len(pair) == 1 or first.value_type == pair[1].value_type
        if first.faithful and not stable and same_type and type_name is not None:
            return CallOutcome(
                call, "object", type=type_name, stable=True, lines=lines, arcs=arcs
            )
        if first.faithful:
            return CallOutcome(
                call,
                "value",
                repr=first.repr,
                type=type_name,
                needs=first.needs,
                stable=stable,
                lines=lines,
                arcs=arcs,
            )
        return CallOutcome(
            call,
            "object",
            type=_type_name(first.value_type, module, alias, defined),
            is_none=first.repr == "None",
            stable=stable,
            lines=lines,
            arcs=arcs,
            fields=tuple(f for f in first.fields if f in pair[-1].fields),
            length=first.length if first.length == pair[-1].length else None,
        )
