"""Facts of a whole module for characterization: constants, examples, instances.

Docstring ``>>>`` lines and calls in existing tests give real argument values
per function and per parameter name; heading-like constants give structured
documents for text parsers; functions typed to return a class give producer
calls for parameters of that type.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from pytest_ruvqe.generate.search.examples import calls_in_text
from pytest_ruvqe.generate.search.inputs import ModuleFacts, add_unique, body_constants
from pytest_ruvqe.generate.search.params import function_params
from pytest_ruvqe.generate.search.plan import class_chain, receivers
from pytest_ruvqe.generate.search.texts import (
    docstring_documents,
    imported_strings,
    keyword_lines,
    regex_examples,
    regex_patterns,
    structured_texts,
)
from pytest_ruvqe.generate.source import module_alias


def module_facts(
    tree: ast.Module,
    module: str,
    test_texts: tuple[str, ...] = (),
    path: Path | None = None,
) -> ModuleFacts:
    """Constants, examples and instance expressions of a whole module; with
    its ``path``, the string constants it imports from its package too."""
    facts = ModuleFacts(alias=module_alias(module))
    facts.classes = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
    facts.functions = {
        n.name: n
        for n in tree.body
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
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
    imported = [repr(s) for s in imported_strings(tree, path, module)]
    add_unique(facts.strings, imported, 160)
    facts.documents = _documents(tree, facts.strings)
    for cls in classes:
        facts.instances[cls.name] = receivers(cls, facts, facts.strings)[:6]
    _add_subclass_instances(facts, classes)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.returns is not None:
            add_producers(facts, node)
    return facts


def _add_subclass_instances(facts: ModuleFacts, classes: list[ast.ClassDef]) -> None:
    """A parameter typed as a base class takes its subclasses too: after the
    base's first instance, one of each subclass the module defines (a base
    is often abstract, its subclasses are what callers pass)."""
    subclasses: dict[str, list[str]] = {}
    for cls in classes:
        first = facts.instances.get(cls.name, [])[:1]
        for parent in class_chain(cls, facts.classes)[1:]:
            add_unique(subclasses.setdefault(parent.name, []), first)
    for name, found in subclasses.items():
        own = facts.instances.get(name, [])
        mixed = own[:1]
        add_unique(mixed, [*found, *own[1:]], 16)
        facts.instances[name] = mixed


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


def _documents(tree: ast.Module, strings: list[str]) -> list[str]:
    """Multi-line texts for text parsers, as source expressions."""
    words = [w[1:-1] for w in strings if w[:1] in "'\"" and len(w) > 3]
    found = structured_texts(strings)
    add_unique(found, [repr(d) for d in docstring_documents(tree)], 40)
    add_unique(found, [repr(d) for d in keyword_lines(words)], 52)
    patterns = regex_patterns(tree)
    if patterns:
        add_unique(found, [repr(e) for e in regex_examples(patterns)], 90)
    return found
