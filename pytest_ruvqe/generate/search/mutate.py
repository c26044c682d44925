"""New calls from kept ones: change one argument, perturb a value, grow or
shrink a call sequence, splice two sequences, swap the receiver or change
one of its constructor arguments, follow the result up or not.

Values are source expressions. Literals are perturbed as values (numbers
moved by a step or to a boundary, strings edited by characters, words and
lines, containers grown and shrunk), anything else is replaced by another
value from the parameter's pool.
"""

from __future__ import annotations

import ast
import random
from collections.abc import Callable, Sequence
from dataclasses import replace

from pytest_ruvqe.generate.search.examples import call_example
from pytest_ruvqe.generate.search.inputs import Param
from pytest_ruvqe.generate.search.plan import Vocabulary, example_args
from pytest_ruvqe.generate.search.spec import (
    MAX_REPR,
    CallSpec,
    is_literal,
    render_args,
)

MAX_TEXT = 2_000  # a mutated string stays readable in a test


def _literal(text: str) -> object:
    return ast.literal_eval(text)


def perturb(text: str, rng: random.Random, words: Sequence[str]) -> str:
    """A nearby value of a literal: the same kind, a small change."""
    if not is_literal(text):
        return text
    value = _literal(text)
    changed: object
    if isinstance(value, bool) or value is None:
        changed = rng.choice([True, False, None, 0, ""])
    elif isinstance(value, int):
        changed = rng.choice(
            [value + 1, value - 1, -value, value * 2, 0, value + 100, 2**31]
        )
    elif isinstance(value, float):
        changed = rng.choice([value + 1.0, value / 2, -value, 0.0, value * 10])
    elif isinstance(value, str):
        changed = _text(value, rng, words)
    elif isinstance(value, (list, tuple)):
        changed = _sequence(list(value), rng, words)
        changed = tuple(changed) if isinstance(value, tuple) else changed
    elif isinstance(value, dict):
        changed = _mapping(dict(value), rng, words)
    else:
        return text
    out = repr(changed)
    return out if len(out) <= MAX_REPR else text


def _word(words: Sequence[str], rng: random.Random) -> str:
    if not words:
        return rng.choice(["a", " ", "0", "\n", "x_y", "A"])
    value = _literal(rng.choice(words)) if words else ""
    return value if isinstance(value, str) else str(value)


def _text(value: str, rng: random.Random, words: Sequence[str]) -> str:
    """Character, word and line edits; lines and sections of documents moved."""
    lines = value.split("\n")
    edits: list[Callable[[], str]] = [
        lambda: value + _word(words, rng),
        lambda: _word(words, rng) + value,
        lambda: _insert(value, _word(words, rng), rng),
        lambda: _delete(value, rng),
        lambda: value.upper() if value.islower() else value.lower(),
        lambda: value.strip() if value != value.strip() else f" {value} ",
        lambda: value * 2,
        lambda: value[: len(value) // 2],
    ]
    if len(lines) > 1:
        edits += [
            lambda: "\n".join(_lines(list(lines), rng)),  # delete/duplicate/swap
            lambda: "\n".join(_insert_line(lines, _word(words, rng), rng)),
        ]
    out = rng.choice(edits)()
    return out[:MAX_TEXT]


def _insert(value: str, piece: str, rng: random.Random) -> str:
    at = rng.randint(0, len(value))
    return value[:at] + piece + value[at:]


def _delete(value: str, rng: random.Random) -> str:
    if not value:
        return value
    at = rng.randrange(len(value))
    size = rng.randint(1, max(1, len(value) // 4))
    return value[:at] + value[at + size :]


def _insert_line(lines: list[str], line: str, rng: random.Random) -> list[str]:
    at = rng.randint(0, len(lines))
    indent = (
        lines[at - 1][: len(lines[at - 1]) - len(lines[at - 1].lstrip())] if at else ""
    )
    return [*lines[:at], indent + line, *lines[at:]]


def _lines(lines: list[str], rng: random.Random) -> list[str]:
    """Delete, duplicate or swap one line of a document (or one element)."""
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    edit = rng.randrange(3)
    if edit == 0:
        return [*lines[:i], *lines[i + 1 :]]
    if edit == 1:
        return [*lines[: i + 1], lines[i], *lines[i + 1 :]]
    lines[i], lines[j] = lines[j], lines[i]
    return lines


def _sequence(
    items: list[object], rng: random.Random, words: Sequence[str]
) -> list[object]:
    """Delete, duplicate, swap or change one element."""
    if not items:
        return [rng.choice([0, 1, "a", None])]
    if rng.random() < 0.75:
        order = _lines([str(i) for i in range(len(items))], rng)
        return [items[int(i)] for i in order]
    i = rng.randrange(len(items))
    text = repr(items[i])
    if is_literal(text):
        items[i] = _literal(perturb(text, rng, words))
    return items


def _mapping(
    items: dict[object, object], rng: random.Random, words: Sequence[str]
) -> dict[object, object]:
    if items and rng.random() < 0.5:
        key = rng.choice(list(items))
        del items[key]
        return items
    items[_word(words, rng)] = rng.choice([0, 1, "a", None, True])
    return items


def mutate(
    spec: CallSpec,
    vocab: Vocabulary,
    rng: random.Random,
    other: CallSpec | None = None,
) -> CallSpec:
    """One small change of ``spec``; with ``other``, maybe a splice of both."""
    moves: list[Callable[[], CallSpec]] = []
    if spec.args:
        moves += [
            lambda: _replace_arg(spec, vocab, rng),
            lambda: _perturb_arg(spec, vocab, rng),
        ] * 2
    if vocab.receivers:
        moves.append(lambda: replace(spec, receiver=rng.choice(vocab.receivers)))
    if vocab.build_params and spec.receiver.startswith(vocab.builder + "("):
        moves += [lambda: _vary_receiver(spec, vocab, rng)] * 2
    if vocab.steps:
        moves.append(lambda: _add_step(spec, vocab, rng))
    if spec.steps:
        moves.append(lambda: _drop_step(spec, rng))
        moves.append(lambda: _perturb_step(spec, vocab, rng))
    if vocab.followers:
        moves.append(lambda: replace(spec, then=rng.choice(["", *vocab.followers])))
    if other is not None:
        moves.append(lambda: _splice(spec, other, rng))
    if not moves:
        return vocab.fresh(rng)
    return rng.choice(moves)()


def _vary_receiver(spec: CallSpec, vocab: Vocabulary, rng: random.Random) -> CallSpec:
    """The receiver built with one constructor argument changed, the others
    kept: constructor arguments are searched in combination."""
    params = vocab.build_params
    chosen = receiver_args(spec.receiver, params)
    if chosen is None:
        return spec
    i = rng.randrange(len(params))
    others = [v for v in params[i].values if v != chosen[i]]
    if others:
        chosen[i] = rng.choice(others)
    return replace(spec, receiver=f"{vocab.builder}({render_args(params, chosen)})")


def receiver_args(receiver: str, params: tuple[Param, ...]) -> list[str] | None:
    """The value of each constructor parameter in ``receiver`` (a call of the
    class), defaults where it gives none; None when it cannot be read."""
    try:
        call = ast.parse(receiver, mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(call, ast.Call) or any(
        isinstance(a, ast.Starred) for a in call.args
    ):
        return None
    return example_args(call_example(call), params)


def _replace_arg(spec: CallSpec, vocab: Vocabulary, rng: random.Random) -> CallSpec:
    i = rng.randrange(len(spec.args))
    pool = vocab.params[i].values if i < len(vocab.params) else []
    if not pool:
        return spec
    args = list(spec.args)
    args[i] = rng.choice(pool)
    return replace(spec, args=tuple(args))


def _perturb_arg(spec: CallSpec, vocab: Vocabulary, rng: random.Random) -> CallSpec:
    i = rng.randrange(len(spec.args))
    args = list(spec.args)
    args[i] = perturb(args[i], rng, vocab.strings)
    return replace(spec, args=tuple(args))


def _add_step(spec: CallSpec, vocab: Vocabulary, rng: random.Random) -> CallSpec:
    from pytest_ruvqe.generate.search.plan import MAX_STEPS

    steps = list(spec.steps)
    if len(steps) >= MAX_STEPS:
        steps.pop(rng.randrange(len(steps)))
    steps.insert(rng.randint(0, len(steps)), vocab.step(rng.choice(vocab.steps), rng))
    return replace(spec, steps=tuple(steps))


def _drop_step(spec: CallSpec, rng: random.Random) -> CallSpec:
    steps = list(spec.steps)
    steps.pop(rng.randrange(len(steps)))
    return replace(spec, steps=tuple(steps))


def _perturb_step(spec: CallSpec, vocab: Vocabulary, rng: random.Random) -> CallSpec:
    steps = list(spec.steps)
    i = rng.randrange(len(steps))
    step = steps[i]
    if not step.args:
        return spec
    args = list(step.args)
    j = rng.randrange(len(args))
    args[j] = perturb(args[j], rng, vocab.strings)
    steps[i] = replace(step, args=tuple(args))
    return replace(spec, steps=tuple(steps))


def _splice(spec: CallSpec, other: CallSpec, rng: random.Random) -> CallSpec:
    """The receiver and steps of one, the arguments of the other, mixed."""
    cut = rng.randint(0, len(spec.steps))
    steps = spec.steps[:cut] + other.steps[rng.randint(0, len(other.steps)) :]
    args = (
        tuple(
            a if rng.random() < 0.5 else b
            for a, b in zip(spec.args, other.args, strict=False)
        )
        or spec.args
    )
    receiver = rng.choice([spec.receiver, other.receiver])
    return CallSpec(receiver, steps[:3], args, rng.choice([spec.then, other.then]))
