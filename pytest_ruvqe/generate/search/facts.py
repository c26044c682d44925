"""Facts of a whole module for characterization: constants, examples, instances.

Docstring ``>>>`` lines and calls in existing tests give real argument values
per function and per parameter name; heading-like constants give structured
documents for text parsers; functions typed to return a class give producer
calls for parameters of that type.
"""

from __future__ import annotations

import ast
import re

from pytest_ruvqe.generate.search.inputs import (
    ModuleFacts,
    add_unique,
    body_constants,
    calls_in_text,
    function_params,
)
from pytest_ruvqe.generate.search.plan import receivers
from pytest_ruvqe.generate.source import module_alias


def module_facts(
    tree: ast.Module, module: str, test_texts: tuple[str, ...] = ()
) -> ModuleFacts:
    """Constants, examples and instance expressions of a whole module."""
    facts = ModuleFacts(alias=module_alias(module))
    facts.classes = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
    strings, numbers = body_constants(tree)
    facts.strings = [s for s in strings if len(s) <= 40][:80]
    facts.numbers = numbers[:40]
    docs = [
        ast.get_docstring(n) or ""
        for n in ast.walk(tree)
        if isinstance(
            n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)
        )
    ]
    text = "\n".join(docs)
    functions = [
        n
        for n in ast.walk(tree)
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    for name in {f.name for f in functions} | {c.name for c in classes}:
        examples = calls_in_text(text, name)
        for source in test_texts:
            examples += calls_in_text(source, name)
        if examples:
            facts.examples[name] = examples[:40]
    for func in functions:
        args = [
            a.arg
            for a in [*func.args.posonlyargs, *func.args.args]
            if a.arg not in ("self", "cls")
        ]
        for example in facts.examples.get(func.name, []):
            for param, value in zip(args, example.args, strict=False):
                add_unique(facts.by_param.setdefault(param, []), [value], 40)
            for key, value in example.kwargs:
                add_unique(facts.by_param.setdefault(key, []), [value], 40)
    facts.documents = structured_texts(facts.strings)
    for cls in classes:
        facts.instances[cls.name] = receivers(cls, facts, facts.strings)[:6]
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.returns is not None:
            add_producers(facts, node)
    return facts


def _titles(strings: list[str]) -> list[str]:
    """String constants that look like headings or keys (``'Args'``, ``'Returns'``)."""
    out = []
    for text in strings:
        value = text[1:-1]
        if (
            2 < len(value) <= 20
            and value[:1].isupper()
            and value.replace(" ", "").isalpha()
        ):
            out.append(value)
    return out


def structured_texts(strings: list[str]) -> list[str]:
    """Multi-line texts built from heading-like constants, for text-format parsers.

    A module full of headings parses some structured text; a few documents
    that use its headings with indented ``key (type): value`` items reach far
    more of such a parser than single words do.
    """
    titles = _titles(strings)
    if len(titles) < 3:
        return []
    docs = []
    items = "    x (int): The x. Defaults to 1.\n    y: The y\n        continued.\n"
    for i in range(0, len(titles), 3):
        group = titles[i : i + 3]
        body = "".join(f"\n{t}:\n{items}" for t in group)
        docs.append(repr(f"Short summary.\n\nLonger text.\n{body}"))
        docs.append(repr(f"{group[0]}:\n    only: item"))
    docs.append(repr(f"Summary.\n\n{titles[0]}:\n    bad item without colon\n"))
    docs.append(repr(f"Summary.\n\n{titles[-1]}:\n    int: value\n"))
    return docs[:16]


def add_producers(facts: ModuleFacts, func: ast.FunctionDef) -> None:
    """Calls of ``func`` as values for parameters typed like its result."""
    assert func.returns is not None
    tokens = set(re.findall(r"[A-Za-z_]+", ast.unparse(func.returns)))
    tokens -= {"Optional", "Union", "None", "T", "List", "Dict", "str", "int", "bool"}
    if func.name.startswith("_") or not tokens:
        return
    params = function_params(func, facts, skip_first=False, extra_strings=facts.strings)
    required = [p for p in params if p.default is None and p.kind == "positional"]
    if len(required) > 1:
        return
    values = [""]
    if required:
        pool = required[0].values
        values = pool[:3] + [v for v in pool if v in facts.documents][:5]
    calls = [f"{facts.alias}.{func.name}({v})" for v in values]
    for token in tokens:
        add_unique(facts.instances.setdefault(token, []), calls, 8)
