"""Structured text for functions that split, match or search it.

A parser's first branch passes only on input made of its own vocabulary.
This module gathers that vocabulary and builds documents from it: the
string constants the module imports from its package (``from .common import
PARAM_KEYWORDS``), strings matching the module's regular expressions
(Hypothesis's ``from_regex``, in readable ASCII), the module's own
docstrings (a docstring parser's best examples), and multi-line documents
of its heading-like constants. The search then edits these by character,
word and line (:mod:`.mutate`).
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

MAX_DOCUMENT = 1_500
_RE_FUNCTIONS = frozenset(
    [
        "compile",
        "match",
        "fullmatch",
        "search",
        "findall",
        "finditer",
        "sub",
        "subn",
        "split",
    ]
)


def _strings_in(node: ast.AST) -> list[str]:
    """String constants inside an expression (a set, list, dict, frozenset(...))."""
    return [
        n.value
        for n in ast.walk(node)
        if isinstance(n, ast.Constant)
        and isinstance(n.value, str)
        and len(n.value) <= 60
    ]


def imported_strings(tree: ast.Module, path: Path | None, module: str) -> list[str]:
    """String constants of names the module imports from its own package."""
    if path is None:
        return []
    package = module.rsplit(".", 1)[0] if "." in module else ""
    found: list[str] = []
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom) or (
            node.module is None and not node.level
        ):
            continue
        sibling = _sibling_file(path, package, node)
        if sibling is None:
            continue
        wanted = {alias.name for alias in node.names}
        for value in _constants_of(sibling, frozenset(wanted)):
            if value not in found:
                found.append(value)
    return found[:120]


def _sibling_file(path: Path, package: str, node: ast.ImportFrom) -> Path | None:
    """The file of ``from .x import ...`` (or ``from pkg.x import ...``)."""
    if node.level:
        base = path.parent
        for _ in range(node.level - 1):
            base = base.parent
    elif package and node.module and node.module.startswith(package.split(".")[0]):
        base = path.parents[len(package.split("."))]
    else:
        return None
    parts = (node.module or "").split(".") if node.module else []
    if not node.level:
        parts = parts[: len(parts)]
    target = base.joinpath(*parts) if parts else base
    for candidate in (target.with_suffix(".py"), target / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@functools.lru_cache(maxsize=32)
def _constants_of(path: Path, names: frozenset[str]) -> tuple[str, ...]:
    try:
        tree = ast.parse(path.read_text("utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return ()
    found: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id in names for t in targets):
            found.extend(_strings_in(value))
    return tuple(found)


def docstring_documents(tree: ast.Module) -> list[str]:
    """The module's multi-line docstrings, cleaned as ``inspect.cleandoc`` does."""
    docs: list[str] = []
    for node in ast.walk(tree):
        if isinstance(
            node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
        ):
            doc = ast.get_docstring(node)
            if doc and "\n" in doc.strip() and len(doc) <= MAX_DOCUMENT:
                docs.append(doc)
    docs.sort(key=len)
    return docs[:12]


def regex_patterns(tree: ast.Module) -> list[str]:
    """Patterns given as constants to ``re`` functions in the module."""
    patterns: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else ""
        owner = ast.unparse(func.value) if isinstance(func, ast.Attribute) else ""
        first = node.args[0]
        if (
            name in _RE_FUNCTIONS
            and owner in ("re", "regex")
            and isinstance(first, ast.Constant)
            and isinstance(first.value, str)
            and first.value not in patterns
        ):
            patterns.append(first.value)
    return patterns[:12]


def regex_examples(patterns: list[str], per_pattern: int = 6) -> list[str]:
    """Strings that match each pattern somewhere, from printable ASCII."""
    found: list[str] = []
    for pattern in patterns:
        for value in _examples(pattern, per_pattern):
            if value not in found and len(value) <= 200:
                found.append(value)
    return found


@functools.lru_cache(maxsize=256)
def _examples(pattern: str, count: int) -> tuple[str, ...]:
    try:
        from hypothesis import HealthCheck, Phase, given, settings
        from hypothesis import strategies as st
    except ImportError:
        return ()
    out: list[str] = []
    alphabet = st.characters(min_codepoint=32, max_codepoint=126) | st.just("\n")

    @settings(
        max_examples=count,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(st.from_regex(pattern, fullmatch=False, alphabet=alphabet))
    def collect(value: str) -> None:
        out.append(value)

    try:
        collect()
    except Exception:  # an unsupported construct: no examples for this one
        return tuple(out)
    return tuple(out)


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
    if not titles:
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


def keyword_lines(words: list[str]) -> list[str]:
    """Lines a line-based format might have, made of the module's keywords."""
    keys = [w for w in words if w.isidentifier() and 2 <= len(w) <= 20][:12]
    if not keys:
        return []
    # a heading on a line of its own, with items under it
    headed = [f"{k}\nx: 1\ny: two" for k in keys[:6]]
    headed += [f"Summary.\n\n{k}\n    x: 1\n    y: two\n" for k in keys[:6]]
    forms = (":{k}: text", ":{k} x: text", "{k}: text", "{k} = 1", "@{k}", "# {k}")
    lines = [form.format(k=k) for k in keys for form in forms]
    docs = [
        "Summary.\n\n" + "\n".join(lines[i : i + 4]) for i in range(0, len(lines), 4)
    ]
    return [*headed, *docs][:24]
