"""What a generated test may contain, checked on its syntax tree before it runs.

A test that passed the sandbox is written into the user's suite and runs on
the next plain ``pytest`` with no guard at all. So a generated test may not
*observe* where it runs (the working directory, environment variables, the
clock, the host, the pid, its own file name), may not reach files, processes
or the network itself, and may not build module or attribute names at run
time (that is how the first two are usually smuggled). Then what it does in
the sandbox is what it does on the host, and the sandbox's verdict holds.

The rules are data: the tables below say which modules and which of their
attributes a test may use, which builtins, dunders, attributes and fixtures
are refused and why. :func:`check` walks a module once and reports every
place that breaks one, as a :class:`Finding` with its rule and line. Nothing
here runs the code it checks; the allowed standard modules are imported (by
their fixed names) to see which of their attributes are modules.

What this cannot see: code under test that reads the environment itself and
returns it (the test may then branch on it), and the interpreter's own limits
(memory, recursion) told apart by a test. Those stay with the sandbox.
"""

from __future__ import annotations

import ast
import importlib
import re
import string
import types
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal

Rule = Literal[
    "import",
    "module",
    "builtin",
    "dynamic",
    "internals",
    "environment",
    "files",
    "fixture",
    "plugin",
    "annotation",
    "doctest",
    "encoding",
    "sandbox",
]

# what each rule stops, as docs/generation.md shows it
RULES: Mapping[Rule, str] = {
    "import": "imports outside the module under test, its package, pytest and the "
    "allowed standard modules; private modules, relative and star imports",
    "module": "an allowed module's unlisted, refused or private attribute; a module "
    "reached through another (uuid.os, the module under test's own imports); "
    "a module used as a value",
    "builtin": "builtins that open files, run strings as code, read the terminal "
    "or start the debugger",
    "dynamic": "attribute names built at run time: getattr and friends with a "
    "computed or refused name, .format templates that reach attributes, "
    "classes built by type(name, bases, dict)",
    "internals": "dunders outside the allowed table; frames, code objects, tracebacks",
    "environment": "the environment: variables, working directory, pid, host, clock",
    "files": "file-system methods (read_text, write_text, unlink, ...)",
    "fixture": "fixtures that reach the environment or the file system; restricted "
    "fixtures used beyond their allowed methods",
    "plugin": "pytest hooks and pytest_plugins in a test module; marks other than "
    "parametrize",
    "annotation": "string annotations (typing evaluates them)",
    "doctest": "doctests in strings ('>>>'): --doctest-modules would run them "
    "unchecked",
    "encoding": "a source encoding other than UTF-8 (the file would not read as "
    "checked)",
    "sandbox": "strings naming the sandbox (a test that looks for it behaves "
    "differently outside)",
}


@dataclass(frozen=True)
class Finding:
    """One place of a candidate module that breaks a rule."""

    rule: Rule
    message: str  # e.g. "imports os (not in the allowlist)"
    line: int

    def __str__(self) -> str:
        return f"{self.message} at line {self.line}"


@dataclass(frozen=True)
class ModulePolicy:
    """What a test may use of one allowed module."""

    why: str
    only: frozenset[str] | None = None  # the attributes a test may use; None: all
    refused: Mapping[str, str] = field(default_factory=dict)  # attribute -> why
    children: Mapping[str, str] = field(default_factory=dict)  # attr -> policy name


@dataclass(frozen=True)
class FixturePolicy:
    """A pytest fixture a test may not request, or only use through ``uses``."""

    why: str
    uses: frozenset[str] = frozenset()  # empty: refused outright


def _words(text: str) -> frozenset[str]:
    """The names of a table row, written as one string of words."""
    return frozenset(text.split())


_PURE = "pure computation"
_BY_NAME = "attribute access by a string"
_EVAL = "evaluates strings as code"
_LOCALE = "changes the process locale"

MODULES: Mapping[str, ModulePolicy] = {
    **{
        name: ModulePolicy(_PURE)
        for name in _words(
            "math cmath decimal fractions numbers statistics heapq bisect array "
            "abc copy enum textwrap itertools functools collections "
            "collections.abc re json"
        )
    },
    "dataclasses": ModulePolicy(
        _PURE, refused={"make_dataclass": "builds a class from computed names"}
    ),
    "datetime": ModulePolicy(
        "dates and times as values; reading the clock (now, today) is refused"
    ),
    "calendar": ModulePolicy(
        _PURE,
        refused={
            **dict.fromkeys(
                _words("LocaleTextCalendar LocaleHTMLCalendar different_locale"),
                _LOCALE,
            ),
            "main": "the command line",
        },
    ),
    "operator": ModulePolicy(
        _PURE, refused=dict.fromkeys(_words("attrgetter methodcaller"), _BY_NAME)
    ),
    "string": ModulePolicy(_PURE, refused={"Formatter": _BY_NAME}),
    "typing": ModulePolicy(
        "type hints",
        refused=dict.fromkeys(
            _words("get_type_hints ForwardRef evaluate_forward_ref"), _EVAL
        ),
    ),
    "contextlib": ModulePolicy(
        "context managers", refused={"chdir": "changes the working directory"}
    ),
    "types": ModulePolicy(
        "value types only (no functions or code objects built by hand)",
        only=_words(
            "SimpleNamespace MappingProxyType GeneratorType CoroutineType "
            "AsyncGeneratorType MethodType BuiltinFunctionType NoneType "
            "EllipsisType NotImplementedType GenericAlias UnionType"
        ),
    ),
    "uuid": ModulePolicy(
        "UUID values (uuid1 and getnode read the host)",
        only=_words(
            "UUID SafeUUID uuid3 uuid4 uuid5 NAMESPACE_DNS NAMESPACE_URL "
            "NAMESPACE_OID NAMESPACE_X500"
        ),
    ),
    "io": ModulePolicy(
        "in-memory streams (file-handling code gets a StringIO, not a path)",
        only=_words("StringIO BytesIO"),
    ),
    "asyncio": ModulePolicy(
        "running a coroutine (the event loop reaches processes and sockets)",
        only=_words("run"),
    ),
    "unittest.mock": ModulePolicy(
        "test doubles (patch imports its target by name: refused)",
        only=_words(
            "Mock MagicMock NonCallableMock NonCallableMagicMock AsyncMock "
            "PropertyMock call sentinel ANY DEFAULT create_autospec seal"
        ),
    ),
    "pytest": ModulePolicy(
        "asserting, parametrizing, fixtures",
        only=_words(
            "raises approx warns deprecated_call fail skip xfail param mark "
            "fixture RaisesExc RaisesGroup"
        ),
        children={"mark": "pytest.mark"},
    ),
    "pytest.mark": ModulePolicy(
        "parametrize (skipif and xfail evaluate condition strings; usefixtures "
        "and filterwarnings look up fixtures and classes by name)",
        only=_words("parametrize"),
    ),
    "__future__": ModulePolicy("postponed annotations", only=_words("annotations")),
}

_FILES = "file access"
_CODE = "runs a string as code"
_INSTALLATION = "reads files of the installation"
REFUSED_BUILTINS: Mapping[str, str] = {
    "open": _FILES,
    **dict.fromkeys(_words("exec eval compile"), _CODE),
    "__import__": "imports by a computed name",
    "globals": "the module's namespace",
    "locals": "a frame's namespace",
    "vars": "an object's namespace",
    "breakpoint": "the debugger",
    "input": "reads the terminal",
    "help": "the interactive help (a pager)",
    **dict.fromkeys(_words("exit quit"), "ends the interpreter"),
    **dict.fromkeys(_words("copyright credits license"), _INSTALLATION),
}
# builtins that take an attribute name: allowed with a literal, allowed name only
NAME_BUILTINS = _words("getattr setattr delattr hasattr")

# dunders a test may read or call; all others are interpreter internals
ALLOWED_DUNDERS = frozenset(
    {
        *(
            f"__{n}__"
            for n in _words(
                "name qualname doc version all members wrapped args origin "
                "cause context suppress_context notes "
                "parameters slots match_args dataclass_fields test "
                "init post_init call repr str bytes format bool hash len "
                "iter next reversed contains getitem setitem delitem missing "
                "enter exit aenter aexit aiter anext await "
                "eq ne lt le gt ge int float complex index round trunc floor "
                "ceil abs neg pos invert copy deepcopy"
            )
        ),
        *(
            f"__{p}{op}__"
            for op in _words(
                "add sub mul matmul truediv floordiv mod divmod pow "
                "lshift rshift and xor or"
            )
            for p in ("", "r", "i")
        ),
    }
)
# dunders a test may assign (a class's __slots__, a helper's __test__ = False)
ASSIGNABLE_DUNDERS = _words("__test__ __slots__ __hash__ __match_args__ __all__")

# attribute names refused on every object: (rule, why)
REFUSED_ATTRIBUTES: Mapping[str, tuple[Rule, str]] = {
    **dict.fromkeys(
        _words(
            "environ environb getenv getenvb putenv unsetenv getcwd getcwdb "
            "chdir getpid getppid getuid geteuid getlogin gethostname uname "
            "expanduser expandvars home cwd absolute now today utcnow localtime "
            "getnode uuid1"
        ),
        ("environment", "reads the environment"),
    ),
    **dict.fromkeys(
        _words(
            "read_text read_bytes write_text write_bytes iterdir rglob unlink "
            "rmdir mkdir touch symlink_to hardlink_to readlink chmod lchmod "
            "chown rmtree listdir scandir"
        ),
        ("files", _FILES),
    ),
    **dict.fromkeys(
        _words(
            "f_back f_locals f_globals f_builtins f_code f_trace gi_frame "
            "gi_code cr_frame cr_code ag_frame ag_code tb_frame tb_next "
            "co_code co_consts co_names co_filename mro _getframe "
            "_current_frames"
        ),
        ("internals", "frames and code objects"),
    ),
    **dict.fromkeys(
        _words("traceback tb getrepr"),
        ("internals", "a traceback names where the test runs"),
    ),
}

_TEMP = (
    "a path that differs between the sandbox and your machine, and the whole "
    "file system through it; use io.StringIO"
)
_JUNIT = "writes the junit report"
FIXTURES: Mapping[str, FixturePolicy] = {
    **dict.fromkeys(
        _words("tmp_path tmp_path_factory tmpdir tmpdir_factory"),
        FixturePolicy(_TEMP),
    ),
    "pytestconfig": FixturePolicy("the run's configuration and plugin manager"),
    "cache": FixturePolicy("files in .pytest_cache"),
    "doctest_namespace": FixturePolicy("code for doctests"),
    **dict.fromkeys(
        _words("record_property record_xml_attribute record_testsuite_property"),
        FixturePolicy(_JUNIT),
    ),
    **dict.fromkeys(_words("testdir pytester"), FixturePolicy("runs pytest itself")),
    "mocker": FixturePolicy("patches targets named by strings"),
    "monkeypatch": FixturePolicy(
        "setenv, chdir and syspath_prepend change the environment, string "
        "targets import by name",
        uses=_words("setattr delattr setitem delitem"),
    ),
    "request": FixturePolicy(
        "getfixturevalue, config and node reach everything", uses=_words("param")
    ),
    "caplog": FixturePolicy(
        "records carry the clock and the pid",
        uses=_words("text messages record_tuples clear set_level at_level"),
    ),
}

# names that make pytest import or call something by name from a test module
PLUGIN_NAMES: Mapping[str, str] = {"pytest_plugins": "loads plugins by name"}
# strings a test only writes to tell the sandbox from your machine
SANDBOX_WORDS: tuple[str, ...] = (
    "ruvqe-sandbox",
    "ruvqe_candidate",
    ".basetemp",
    "pytest_current_test",
    "pythonhashseed",
)

_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
_FORMAT_ATTR = re.compile(r"\.([^.\[\]]+)")
_PATCHING = frozenset({"setattr", "delattr"})

# where a module name leads: an allowed standard module (or pytest), the module
# under test's own package, or a package whose only allowed parts are below it
Kind = Literal["std", "own", "prefix"]
Place = tuple[Kind, str]


def check(
    code: str, module: str, file: Path | None = None, roots: Iterable[Path] = ()
) -> tuple[Finding, ...]:
    """Every place of ``code`` that breaks a rule, in source order.

    ``module`` is the dotted name of the module under test, ``file`` its
    source; the modules of its package are found beside it or under
    ``roots``. Code that does not parse has no findings (it never runs).
    """
    found = list(_encoding(code))
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return tuple(found)
    found += _Check(tree, _Package(module, file, tuple(roots))).run()
    unique = {(f.line, f.rule, f.message): f for f in found}
    return tuple(unique[k] for k in sorted(unique))


def _encoding(code: str) -> Iterator[Finding]:
    for number, line in enumerate(code.splitlines()[:2], 1):
        match = _CODING.match(line.encode("utf-8", "replace"))
        if match and match.group(1).decode().lower().replace("_", "-") not in (
            "utf-8",
            "utf8",
        ):
            yield Finding(
                "encoding",
                f"declares source encoding {match.group(1).decode()} (only UTF-8)",
                number,
            )


def _dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def _private(dotted: str) -> bool:
    return any(p.startswith("_") and not _dunder(p) for p in dotted.split("."))


def attribute_refusal(name: str, store: bool = False) -> tuple[Rule, str] | None:
    """The rule and message that refuse ``.name`` on any object, if one does."""
    if _dunder(name):
        allowed = ASSIGNABLE_DUNDERS if store else ALLOWED_DUNDERS
        if name in allowed:
            return None
        what = "assigns" if store else "touches"
        return "internals", f"{what} {name} (interpreter internals)"
    refused = REFUSED_ATTRIBUTES.get(name)
    if refused is not None:
        return refused[0], f"uses .{name} ({refused[1]})"
    return None


@cache
def _std_attribute(module: str, name: str) -> str | None:
    """The module an allowed standard module's attribute is, if it is one."""
    try:
        value = getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None
    return value.__name__ if isinstance(value, types.ModuleType) else None


@dataclass(frozen=True)
class _Source:
    """Module-level bindings of one source file of the package under test."""

    imported: Mapping[str, tuple[str, str | None]]  # name -> (module, attribute)
    starred: tuple[str, ...]  # modules imported with *
    defined: frozenset[str]


@lru_cache(maxsize=256)
def _read_source(path: str, mtime: float, module: str) -> _Source | None:
    try:
        tree = ast.parse(Path(path).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return None
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    imported: dict[str, tuple[str, str | None]] = {}
    starred: list[str] = []
    defined: set[str] = set()
    for node in _top_statements(tree.body):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    imported[a.asname] = (a.name, None)
                else:
                    top = a.name.split(".")[0]
                    imported[top] = (top, None)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module or "", node.level, package)
            for a in node.names:
                if a.name == "*":
                    starred.append(base)
                else:
                    imported[a.asname or a.name] = (base, a.name)
        else:
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    defined.add(sub.id)
                elif isinstance(
                    sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
                ):
                    defined.add(sub.name)
    return _Source(imported, tuple(starred), frozenset(defined))


def _top_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Module-level statements, looking into if/try/with blocks."""
    for node in body:
        if isinstance(node, (ast.If, ast.With, ast.Try)):
            yield from _top_statements(node.body)
            yield from _top_statements(getattr(node, "orelse", []))
            yield from _top_statements(getattr(node, "finalbody", []))
            for handler in getattr(node, "handlers", []):
                yield from _top_statements(handler.body)
        else:
            yield node


def _absolute(name: str, level: int, package: str) -> str:
    if level == 0:
        return name
    parts = package.split(".") if package else []
    base = parts[: len(parts) - (level - 1)] if level > 1 else parts
    return ".".join([*base, name] if name else base)


class _Package:
    """The module under test, its package, and where their sources lie."""

    def __init__(self, module: str, file: Path | None, roots: tuple[Path, ...]):
        self.module = module
        self.top = module.split(".")[0]
        found = list(roots)
        if file is not None:
            depth = len(module.split(".")) - (0 if file.name == "__init__.py" else 1)
            if depth < len(file.parents):
                found.insert(0, file.parents[depth])
        self.roots = tuple(dict.fromkeys(found))
        self.file = file

    def kind(self, dotted: str) -> Kind | None:
        """How an import of ``dotted`` is allowed, or None."""
        if dotted == self.top or dotted.startswith(self.top + "."):
            return "own"
        if dotted in MODULES:
            return "std"
        if any(m.startswith(dotted + ".") for m in MODULES):
            return "prefix"
        return None

    def path(self, dotted: str) -> Path | None:
        if dotted == self.module and self.file is not None:
            return self.file
        parts = dotted.split(".")
        for root in self.roots:
            for candidate in (
                root.joinpath(*parts).with_suffix(".py"),
                root.joinpath(*parts, "__init__.py"),
            ):
                if candidate.is_file():
                    return candidate
        return None

    def is_module(self, dotted: str) -> bool:
        """Whether ``dotted`` names a module a test may import."""
        kind = self.kind(dotted)
        if kind == "own":
            return dotted == self.top or self.path(dotted) is not None
        return kind is not None

    def source(self, dotted: str) -> _Source | None:
        path = self.path(dotted)
        if path is None:
            return None
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return None
        return _read_source(str(path), mtime, dotted)

    def attribute(
        self, place: Place, name: str, depth: int = 0
    ) -> tuple[Place | None, tuple[Rule, str] | None]:
        """What ``module.name`` is (a module, or None for a value) and any refusal."""
        kind, dotted = place
        if _dunder(name):
            return None, None  # the rules on dunders apply to every object
        sub = f"{dotted}.{name}"
        if kind == "prefix":
            sub_kind = self.kind(sub)
            if sub_kind is None:
                return None, ("module", f"uses {sub} (not in the allowlist)")
            return (sub_kind, sub), None
        if kind == "std":
            return self._std(dotted, name)
        if self.is_module(sub):
            return ("own", sub), None
        src = self.source(dotted)
        if src is None:
            return None, None
        if name in src.imported:
            origin, item = src.imported[name]
            origin_kind = self.kind(origin)
            if item is not None and origin_kind is not None and depth < 8:
                if origin_kind == "own" or self.is_module(f"{origin}.{item}"):
                    return self.attribute((origin_kind, origin), item, depth + 1)
                return self._std(origin, item) if origin_kind == "std" else (None, None)
            if origin_kind is None or origin_kind == "prefix":
                return None, (
                    "module",
                    f"reaches {origin} through {sub} (not in the allowlist)",
                )
            return (origin_kind, origin), None
        if name not in src.defined:
            for origin in src.starred:
                if self.kind(origin) not in ("std", "own"):
                    return None, (
                        "module",
                        f"may reach {origin} through {sub} (a star import)",
                    )
        return None, None

    def _std(
        self, dotted: str, name: str
    ) -> tuple[Place | None, tuple[Rule, str] | None]:
        policy = MODULES[dotted]
        if name in policy.children:
            return ("std", policy.children[name]), None
        sub = f"{dotted}.{name}"
        if name.startswith("_"):
            return None, ("module", f"uses {sub} (a private attribute)")
        if policy.only is not None and name not in policy.only:
            allowed = ", ".join(sorted(policy.only))
            return None, ("module", f"uses {sub} (of {dotted} only {allowed})")
        if name in policy.refused:
            return None, ("module", f"uses {sub} ({policy.refused[name]})")
        if sub in MODULES:
            return ("std", sub), None
        real = _std_attribute(dotted, name) if dotted != "pytest.mark" else None
        if real is not None:
            if real in MODULES:
                return ("std", real), None
            return None, (
                "module",
                f"reaches {real} through {sub} (not in the allowlist)",
            )
        return None, None


class _Check:
    """One walk over a candidate module, collecting findings."""

    def __init__(self, tree: ast.Module, package: _Package) -> None:
        self.tree = tree
        self.package = package
        self.found: list[Finding] = []
        self.parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
        self.modules: dict[str, Place] = {}  # names bound to modules
        self.patch_targets: set[ast.AST] = set()  # monkeypatch.setattr(<module>, ...)
        self.relaxed: set[ast.AST] = set()  # plain type references in annotations

    def add(self, rule: Rule, message: str, node: ast.AST) -> None:
        self.found.append(Finding(rule, message, getattr(node, "lineno", 1)))

    def run(self) -> list[Finding]:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                self.import_(node)
            elif isinstance(node, ast.ImportFrom):
                self.import_from(node)
        self.annotations()
        self.definitions()
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Name):
                self.name(node)
            elif isinstance(node, ast.Attribute):
                self.attribute(node)
            elif isinstance(node, ast.Call):
                self.call(node)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                self.text(node)
            elif isinstance(node, ast.MatchClass):
                for attr in node.kwd_attrs:
                    refusal = attribute_refusal(attr)
                    if refusal is not None:
                        self.add(*refusal, node)
            elif isinstance(node, ast.keyword) and node.arg and _dunder(node.arg):
                self.add("internals", f"passes keyword {node.arg}", node.value)
        return self.found

    # imports ---------------------------------------------------------------

    def refuse_import(self, dotted: str, node: ast.AST) -> None:
        why = "a private module" if _private(dotted) else "not in the allowlist"
        self.add("import", f"imports {dotted} ({why})", node)

    def import_(self, node: ast.Import) -> None:
        for a in node.names:
            kind = self.package.kind(a.name)
            if kind not in ("std", "own") or (kind == "std" and _private(a.name)):
                self.refuse_import(a.name, node)
                continue
            bound = a.asname or a.name.split(".")[0]
            dotted = a.name if a.asname else bound
            kind = self.package.kind(dotted)
            if kind is not None:
                self.modules[bound] = (kind, dotted)

    def import_from(self, node: ast.ImportFrom) -> None:
        if node.level:
            self.add("import", "relative import (import the module by its name)", node)
            return
        base = node.module or ""
        kind = self.package.kind(base)
        for a in node.names:
            sub = f"{base}.{a.name}"
            if a.name == "*":
                self.add("import", f"star import from {base}", node)
            elif kind != "own" and (_private(base) or _private(a.name)):
                self.refuse_import(sub if _private(a.name) else base, node)
            elif self.package.is_module(sub) and base != "__future__":
                sub_kind = self.package.kind(sub)
                assert sub_kind is not None
                self.modules[a.asname or a.name] = (sub_kind, sub)
            elif kind is None or kind == "prefix":
                self.refuse_import(base if kind is None else sub, node)
            else:
                place, refusal = self.package.attribute((kind, base), a.name)
                if refusal is not None:
                    self.add(refusal[0], refusal[1], node)
                elif place is not None:
                    self.modules[a.asname or a.name] = place

    # definitions: fixtures, hooks, annotations -----------------------------

    def annotations(self) -> None:
        for node in ast.walk(self.tree):
            notes: list[ast.expr | None] = []
            if isinstance(node, ast.arg):
                notes.append(node.annotation)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                notes.append(node.returns)
            elif isinstance(node, ast.AnnAssign):
                notes.append(node.annotation)
            for note in notes:
                if note is not None:
                    self.annotation(note)

    def annotation(self, note: ast.expr) -> None:
        plain = True
        for sub in ast.walk(note):
            if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                if not self.in_literal(sub, note):
                    self.add("annotation", f"string annotation {sub.value!r}", sub)
            elif not isinstance(
                sub,
                (
                    ast.Name,
                    ast.Attribute,
                    ast.Subscript,
                    ast.Tuple,
                    ast.List,
                    ast.Constant,
                    ast.BinOp,
                    ast.BitOr,
                    ast.Load,
                ),
            ):
                plain = False
        if plain:
            self.relaxed.update(ast.walk(note))

    def in_literal(self, node: ast.AST, top: ast.AST) -> bool:
        while node is not top:
            node = self.parents[node]
            if isinstance(node, ast.Subscript):
                value = node.value
                name = value.attr if isinstance(value, ast.Attribute) else ""
                name = value.id if isinstance(value, ast.Name) else name
                if name in ("Literal", "Annotated"):
                    return True
        return False

    def definitions(self) -> None:
        for node in self.tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if node.name.startswith("pytest_"):
                    self.add("plugin", f"defines {node.name} (a pytest hook)", node)
                self.fixtures(node, node.decorator_list, skip_first=False)
            elif isinstance(node, ast.ClassDef):
                for method in node.body:
                    if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        self.fixtures(
                            method,
                            [*node.decorator_list, *method.decorator_list],
                            skip_first=not _is_static(method),
                        )

    def fixtures(
        self,
        func: ast.FunctionDef | ast.AsyncFunctionDef,
        decorators: list[ast.expr],
        skip_first: bool,
    ) -> None:
        args = [*func.args.posonlyargs, *func.args.args][1 if skip_first else 0 :]
        given = set().union(*(_parametrized(d) for d in decorators))
        for arg in [*args, *func.args.kwonlyargs]:
            policy = FIXTURES.get(arg.arg)
            if policy is None or arg.arg in given:
                continue
            if not policy.uses:
                self.add("fixture", f"requests fixture {arg.arg} ({policy.why})", arg)
                continue
            for sub in ast.walk(func):
                if (
                    isinstance(sub, ast.Name)
                    and sub.id == arg.arg
                    and isinstance(sub.ctx, ast.Load)
                ):
                    self.fixture_use(sub, policy)

    def fixture_use(self, node: ast.Name, policy: FixturePolicy) -> None:
        parent = self.parents.get(node)
        name = node.id
        shown = ", ".join(sorted(policy.uses))
        if not isinstance(parent, ast.Attribute) or parent.attr not in policy.uses:
            used = (
                f"{name}.{parent.attr}" if isinstance(parent, ast.Attribute) else name
            )
            self.add(
                "fixture",
                f"uses {used} (only {name}.{{{shown}}}: {policy.why})",
                node,
            )
            return
        if name != "monkeypatch":
            return
        call = self.parents.get(parent)
        if not isinstance(call, ast.Call) or call.func is not parent or not call.args:
            self.add(
                "fixture", f"uses monkeypatch.{parent.attr} without calling it", node
            )
            return
        target = call.args[0]
        if parent.attr in _PATCHING:
            self.patch(parent.attr, call, target)
        elif self.module_of(target) is not None:
            self.add("fixture", f"monkeypatch.{parent.attr} on a module", node)

    def patch(self, method: str, call: ast.Call, target: ast.expr) -> None:
        wanted = 3 if method == "setattr" else 2
        if isinstance(target, ast.Constant) or len(call.args) < wanted:
            self.add(
                "fixture",
                f"monkeypatch.{method} with a string target (imports it by name)",
                call,
            )
            return
        name = call.args[1]
        if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
            self.add("dynamic", f"monkeypatch.{method} with a computed name", call)
        else:
            refusal = attribute_refusal(name.value, store=True)
            if refusal is not None:
                self.add(*refusal, call)
        place = self.module_of(target)
        if place is not None:
            if place[0] == "own":
                self.patch_targets.add(target)
            else:
                self.add(
                    "fixture",
                    f"monkeypatch.{method} on {place[1]} (only the package under "
                    "test may be patched)",
                    call,
                )

    # names, attributes, calls, strings -------------------------------------

    def name(self, node: ast.Name) -> None:
        name, ctx = node.id, node.ctx
        if isinstance(ctx, ast.Store) and name in PLUGIN_NAMES:
            self.add("plugin", f"sets {name} ({PLUGIN_NAMES[name]})", node)
        if isinstance(ctx, ast.Load) and name in REFUSED_BUILTINS:
            self.add("builtin", f"uses {name} ({REFUSED_BUILTINS[name]})", node)
            return
        if _dunder(name):
            if not isinstance(ctx, ast.Store) or name not in ASSIGNABLE_DUNDERS:
                verb = "assigns" if isinstance(ctx, ast.Store) else "uses"
                self.add("internals", f"{verb} {name} (interpreter internals)", node)
            elif name == "__test__" and not self.bool_assigned(node):
                self.add("doctest", "sets __test__ to more than True or False", node)
            return
        if not isinstance(ctx, ast.Load):
            return
        if name in NAME_BUILTINS:
            self.by_name(node)
        elif name in self.modules:
            self.module_chain(node, self.modules[name])

    def bool_assigned(self, node: ast.Name) -> bool:
        parent = self.parents.get(node)
        return isinstance(parent, ast.Assign) and (
            isinstance(parent.value, ast.Constant)
            and isinstance(parent.value.value, bool)
        )

    def by_name(self, node: ast.Name) -> None:
        call = self.parents.get(node)
        if not isinstance(call, ast.Call) or call.func is not node:
            self.add("dynamic", f"uses {node.id} as a value", node)
            return
        if len(call.args) < 2 or call.keywords:
            self.add("dynamic", f"{node.id} without a literal attribute name", node)
            return
        attr = call.args[1]
        if not (isinstance(attr, ast.Constant) and isinstance(attr.value, str)):
            self.add("dynamic", f"{node.id} with a computed attribute name", node)
            return
        refusal = attribute_refusal(attr.value, node.id in ("setattr", "delattr"))
        if refusal is None and attr.value in ("format", "format_map"):
            refusal = "dynamic", f"{node.id}(..., {attr.value!r})"
        if refusal is not None:
            self.add(refusal[0], f"{node.id}: {refusal[1]}", node)
        if self.module_of(call.args[0]) is not None:
            self.add("module", f"{node.id} on a module (use the attribute)", node)

    def module_of(self, expr: ast.expr) -> Place | None:
        """The module an expression names (``calc``, ``pkg.calc``), if any."""
        if isinstance(expr, ast.Name):
            return self.modules.get(expr.id)
        if isinstance(expr, ast.Attribute):
            place = self.module_of(expr.value)
            if place is not None:
                return self.package.attribute(place, expr.attr)[0]
        return None

    def module_chain(self, node: ast.Name, place: Place) -> None:
        """``module.a.b``: each step allowed; a module is never used as a value."""
        relaxed = node in self.relaxed
        current: ast.expr = node
        while True:
            parent = self.parents.get(current)
            if not (isinstance(parent, ast.Attribute) and parent.value is current):
                break
            step, refusal = self.package.attribute(place, parent.attr)
            if refusal is not None and not (relaxed and refusal[0] == "module"):
                self.add(refusal[0], refusal[1], parent)
                return
            if step is None:
                return
            place, current = step, parent
        if current in self.patch_targets or relaxed:
            return
        self.add(
            "module",
            f"uses module {place[1]} as a value (only its attributes may be used)",
            current,
        )

    def attribute(self, node: ast.Attribute) -> None:
        store = isinstance(node.ctx, (ast.Store, ast.Del))
        refusal = attribute_refusal(node.attr, store)
        if refusal is not None:
            self.add(*refusal, node)
        elif node.attr in ("format", "format_map"):
            call = self.parents.get(node)
            if isinstance(call, ast.Call) and call.func is node:
                return  # judged with its arguments (call)
            template = _template(node, None)
            if template is None:
                self.add("dynamic", f"uses .{node.attr} of a computed template", node)
            else:
                self.template(template, node)

    def call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("format", "format_map"):
            self.format_call(node, func)
        elif isinstance(func, ast.Name) and func.id == "type" and len(node.args) == 3:
            self.add("dynamic", "builds a class with type(name, bases, dict)", node)
        elif isinstance(func, ast.Name) and func.id == "property":
            doc = [k.value for k in node.keywords if k.arg == "doc"] + node.args[3:]
            if any(not isinstance(d, ast.Constant) for d in doc):
                self.add("doctest", "property with a computed docstring", node)
        if _is_mark(func, "parametrize"):
            for keyword in node.keywords:
                if keyword.arg == "indirect":
                    self.add(
                        "fixture",
                        "parametrize(indirect=...) (requests fixtures by name)",
                        node,
                    )

    def format_call(self, node: ast.Call, func: ast.Attribute) -> None:
        template = _template(func, node)
        if template is None:
            values = [*node.args, *(k.value for k in node.keywords)]
            if any(not _literal(v) for v in values):
                self.add(
                    "dynamic",
                    f"calls .{func.attr} of a computed template with arguments "
                    "(attribute access by a string)",
                    node,
                )
            return
        self.template(template, node)

    def template(self, template: str, node: ast.AST) -> None:
        for attr in _format_attributes(template):
            refusal = attribute_refusal(attr)
            if refusal is not None:
                self.add("dynamic", f"format template: {refusal[1]}", node)

    def text(self, node: ast.Constant) -> None:
        value = str(node.value)
        lowered = value.lower()
        for word in SANDBOX_WORDS:
            if word in lowered:
                self.add("sandbox", f"mentions the sandbox ({word!r})", node)
                break
        if ">>>" in value:
            self.add(
                "doctest",
                "holds a doctest ('>>>'; --doctest-modules would run it)",
                node,
            )


def _is_static(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(
        isinstance(d, ast.Name) and d.id == "staticmethod" for d in func.decorator_list
    )


def _is_mark(func: ast.expr, mark: str) -> bool:
    """``pytest.mark.<mark>`` or ``mark.<mark>``."""
    return (
        isinstance(func, ast.Attribute)
        and func.attr == mark
        and (
            (isinstance(func.value, ast.Attribute) and func.value.attr == "mark")
            or (isinstance(func.value, ast.Name) and func.value.id == "mark")
        )
    )


def _parametrized(decorator: ast.expr) -> set[str]:
    """Argument names a ``parametrize`` decorator gives (they are not fixtures)."""
    if not (
        isinstance(decorator, ast.Call) and _is_mark(decorator.func, "parametrize")
    ):
        return set()
    if not decorator.args:
        return set()
    names = decorator.args[0]
    if isinstance(names, ast.Constant) and isinstance(names.value, str):
        return {n.strip() for n in names.value.split(",") if n.strip()}
    if isinstance(names, (ast.List, ast.Tuple)):
        return {
            e.value
            for e in names.elts
            if isinstance(e, ast.Constant) and isinstance(e.value, str)
        }
    return set()


def _literal(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(_literal(e) for e in node.elts)
    return False


def _template(func: ast.Attribute, call: ast.Call | None) -> str | None:
    """The literal template of ``'...'.format()`` or ``str.format('...')``, if any."""
    value = func.value
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return value.value
    if (
        call is not None
        and isinstance(value, ast.Name)
        and value.id == "str"
        and call.args
        and isinstance(call.args[0], ast.Constant)
        and isinstance(call.args[0].value, str)
    ):
        return call.args[0].value
    return None


def _format_attributes(template: str) -> list[str]:
    """Attribute names the replacement fields of a format template read."""
    found: list[str] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        return found
    for _, field_name, spec, _ in parsed:
        if field_name:
            found += _FORMAT_ATTR.findall(field_name)
        if spec and "{" in spec:
            found += _format_attributes(spec)
    return found
