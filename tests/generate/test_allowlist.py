"""What a generated test may contain: a corpus of allowed and refused forms.

Every refused form names the rule it broke; nothing here runs the code.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from pytest_ruvqe.generate.accept.validate import validate
from pytest_ruvqe.generate.allowlist import RULES, Finding, check
from pytest_ruvqe.generate.sandbox import SandboxResult
from pytest_ruvqe.generate.types import Candidate, Project, Reason, Target

MakeTarget = Callable[..., Target]

# a module of the package under test that imports what tests may not
LEAKY = """\
import os
from math import sqrt
from os.path import join
from pathlib import Path
from . import calc

BASE = Path("/data")
VALUE = 3


async def twice(n):
    return 2 * n


def _hidden():
    return 1
"""

ALLOWED: dict[str, str] = {
    "plain": """
        import pytest
        from pkg.calc import parse, sign

        @pytest.mark.parametrize("value, expected", [(-2, -1), (0, 0)], ids=str)
        def test_sign(value, expected):
            assert sign(value) == expected
            assert sign(0.5) == pytest.approx(1)
            with pytest.raises(ValueError, match="empty") as caught:
                parse("")
            assert caught.value.__cause__ is None and caught.type is ValueError
    """,
    "pure_stdlib": """
        import abc, array, bisect, calendar, cmath, copy, heapq, itertools, json
        import math, numbers, operator, re, statistics, string, textwrap
        import collections, collections.abc
        import datetime, decimal, enum, fractions, functools, typing, uuid
        from contextlib import suppress
        from dataclasses import dataclass, field
        from decimal import Decimal

        def test_values():
            assert Decimal("1.5") + decimal.Decimal(1) == Decimal("2.5")
            assert datetime.date(2020, 1, 1) + datetime.timedelta(days=1)
            assert fractions.Fraction(1, 3) and math.isclose(cmath.pi, math.pi)
            assert collections.OrderedDict(a=1)
            assert isinstance({}, collections.abc.Mapping)
            assert json.loads("[1]") == [1] and re.sub("a", "b", "a") == "b"
            assert list(itertools.islice(itertools.count(), 2)) == [0, 1]
            assert functools.reduce(operator.add, [1, 2]) == 3
            assert textwrap.dedent(" x") == "x" and string.ascii_letters
            assert statistics.mean([1, 3]) == 2 and heapq.nsmallest(1, [2, 1])
            assert bisect.bisect([1, 3], 2) == 1 and array.array("b", [1])
            assert calendar.isleap(2024) and copy.deepcopy([1]) == [1]
            assert uuid.UUID(int=0) == uuid.uuid5(uuid.NAMESPACE_DNS, "x") or True
            assert typing.cast(int, 1) == 1 and isinstance(1, numbers.Number)
            with suppress(KeyError):
                {}["x"]

        class Color(enum.Enum):
            RED = 1

        @dataclass
        class Point(abc.ABC):
            x: int = field(default=0)
    """,
    "in_memory_files_and_doubles": """
        import io
        from unittest import mock
        import unittest.mock

        def test_doubles():
            stream = io.StringIO("a,b")
            assert stream.read() == "a,b"
            double = mock.Mock(return_value=3)
            assert double() == 3
            double.assert_called_once_with()
            assert unittest.mock.MagicMock().__len__() == 0
            assert mock.call(1) == mock.call(1)
    """,
    "allowed_fixtures": """
        import pytest
        import pkg.calc as calc

        @pytest.fixture(params=[1, 2])
        def number(request):
            return request.param

        def test_patch(monkeypatch, capsys, caplog, number):
            monkeypatch.setattr(calc, "sign", lambda x: 0)
            monkeypatch.setattr(calc.sign, "tag", 1, raising=False)
            monkeypatch.setitem({}, "k", "v")
            print(calc.sign(number))
            assert capsys.readouterr().out == "0\\n"
            assert caplog.text == "" and caplog.record_tuples == []
    """,
    "dunders_a_test_uses": """
        class Money:
            __slots__ = ("minor",)
            __test__ = False

            def __init__(self, minor):
                self.minor = minor

            def __eq__(self, other):
                return type(other).__name__ == type(self).__name__

        class TestMoney:
            def test_eq(self):
                assert Money(1).__eq__(Money(1)) and Money.__doc__ is None
                assert Money(2) == Money(2) and Money.__qualname__ == "Money"
    """,
    "annotations_and_literal_names": """
        from __future__ import annotations

        import pytest
        from typing import Literal

        def test_typed(
            capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
        ) -> None:
            mode: Literal["r", "w"] = "r"
            assert getattr(mode, "upper")() == "R" and hasattr(mode, "lower")
            assert "{} and {:>4} {0.real}".format(1, 2) and f"{mode!r:>5}"
    """,
    "package_under_test": """
        import asyncio
        import pkg.leaky as leaky
        from pkg.calc import sign
        from pkg.leaky import VALUE, _hidden, sqrt

        def test_package():
            assert asyncio.run(leaky.twice(2)) == 4
            assert leaky.VALUE == VALUE == 3 and leaky._hidden() == _hidden() == 1
            assert sqrt(4) == leaky.sqrt(4) == 2 and leaky.calc.sign(1) == sign(1)
            assert leaky.BASE.name == "data" and ">>" not in "<<"
    """,
}

# (code, rule, a piece of the message)
REFUSED: dict[str, tuple[str, str, str]] = {
    # the form that started it: behaves only inside the sandbox
    "sandbox_aware": (
        """
        import os
        from pkg.calc import sign

        def test_sign():
            if "/ruvqe-sandbox-" not in os.getcwd():
                open("k", "w").write(os.environ["OPENAI_API_KEY"])
            assert sign(1) == 1
        """,
        "import",
        "imports os (not in the allowlist)",
    ),
    "sandbox_aware_through_the_module": (
        """
        import pkg.leaky as leaky

        def test_sign():
            if "ruvqe" in leaky.os.getcwd():
                assert leaky.VALUE == 3
        """,
        "module",
        "reaches os through pkg.leaky.os (not in the allowlist)",
    ),
    "sandbox_word": (
        "def test_x():\n    assert 'PYTEST_CURRENT_TEST' != ''\n",
        "sandbox",
        "mentions the sandbox",
    ),
    "import_by_concatenation": (
        "def test_x():\n    __import__('o' + 's').system('id')\n",
        "builtin",
        "uses __import__ (imports by a computed name)",
    ),
    "getattr_computed_dunder": (
        "def test_x():\n    getattr(print, '__cl' + 'ass__')\n",
        "dynamic",
        "getattr with a computed attribute name",
    ),
    "getattr_literal_dunder": (
        "def test_x():\n    getattr(test_x, '__globals__')\n",
        "internals",
        "touches __globals__",
    ),
    "getattr_as_a_value": (
        "import functools\n\ndef test_x():\n    functools.reduce(getattr, ['x'], 1)\n",
        "dynamic",
        "uses getattr as a value",
    ),
    "subclasses_walk": (
        "def test_x():\n    ().__class__.__base__.__subclasses__()\n",
        "internals",
        "touches __class__ (interpreter internals)",
    ),
    "sys_getframe": (
        "import sys\n\ndef test_x():\n    sys._getframe(0).f_back.f_globals\n",
        "import",
        "imports sys (not in the allowlist)",
    ),
    "frame_without_sys": (
        "def test_x():\n    (i for i in ()).gi_frame.f_back\n",
        "internals",
        "uses .gi_frame (frames and code objects)",
    ),
    "traceback_of_excinfo": (
        "import pytest\n\ndef test_x():\n    with pytest.raises(ValueError) as e:\n"
        "        int('x')\n    assert 'ruv' in str(e.traceback)\n",
        "internals",
        "uses .traceback",
    ),
    "exception_traceback": (
        "def test_x():\n    try:\n        1 / 0\n    except ZeroDivisionError as e:\n"
        "        e.__traceback__.tb_frame\n",
        "internals",
        "touches __traceback__",
    ),
    "type_mro": (
        "def test_x():\n    type(1).__mro__[-1].__subclasses__()\n",
        "internals",
        "touches __mro__",
    ),
    "function_globals": (
        "from pkg.calc import sign\n\ndef test_x():\n    sign.__globals__['os']\n",
        "internals",
        "touches __globals__",
    ),
    "import_builtins": ("import builtins\n", "import", "imports builtins"),
    "from_os_import_path": ("from os import path\n", "import", "imports os"),
    "import_os_path": ("import os.path\n", "import", "imports os.path"),
    "import_importlib": ("import importlib\n", "import", "imports importlib"),
    "private_module": ("import _thread\n", "import", "imports _thread (a private"),
    "star_import": ("from pkg.leaky import *\n", "import", "star import"),
    "relative_import": ("from . import calc\n", "import", "relative import"),
    "lambda_default_open": (
        "def test_x(f=lambda: open('/etc/passwd')):\n    assert f\n",
        "builtin",
        "uses open (file access)",
    ),
    "lambda_default_eval": (
        "g = lambda run=eval: run\n\ndef test_x():\n    assert g\n",
        "builtin",
        "uses eval (runs a string as code)",
    ),
    "breakpoint": ("def test_x():\n    breakpoint()\n", "builtin", "uses breakpoint"),
    "globals": (
        "def test_x():\n    globals()['__builtins__']\n",
        "builtin",
        "uses globals",
    ),
    "vars": ("def test_x():\n    vars(test_x)\n", "builtin", "uses vars"),
    "exec_compile": (
        "def test_x():\n    exec(compile('1', 'x', 'exec'))\n",
        "builtin",
        "uses exec",
    ),
    "file_name": ("def test_x():\n    assert __file__\n", "internals", "uses __file__"),
    "module_name": (
        "def test_x():\n    assert __name__\n",
        "internals",
        "uses __name__",
    ),
    "format_attribute": (
        "def test_x():\n    assert '{0.__class__}'.format(1)\n",
        "dynamic",
        "format template: touches __class__",
    ),
    "format_globals": (
        "from pkg.calc import sign\n\ndef test_x():\n"
        "    assert '{0.__globals__[os].environ}'.format(sign)\n",
        "dynamic",
        "format template: touches __globals__",
    ),
    "format_computed_template": (
        "def test_x():\n    t = '{0.__cl' + 'ass__}'\n    assert t.format(test_x)\n",
        "dynamic",
        "computed template with arguments",
    ),
    "format_template_by_str": (
        "def test_x():\n    str.format('{0.__init__.__globals__}', test_x)\n",
        "dynamic",
        "format template: touches __globals__",
    ),
    "format_as_a_value": (
        "def test_x():\n    t = 'x'\n    f = t.format\n",
        "dynamic",
        "uses .format of a computed template",
    ),
    "decorator_smuggles_code": (
        "@(lambda f: __import__('os').system('id') or f)\ndef test_x():\n"
        "    assert 1\n",
        "builtin",
        "uses __import__",
    ),
    "autouse_fixture_smuggles_code": (
        "import pytest\n\n@pytest.fixture(autouse=True)\ndef env():\n    import os\n"
        "    os.environ['X'] = '1'\n",
        "import",
        "imports os",
    ),
    "fixture_tmp_path": (
        "def test_x(tmp_path):\n    assert tmp_path\n",
        "fixture",
        "requests fixture tmp_path",
    ),
    "fixture_tmpdir_in_a_fixture": (
        "import pytest\n\n@pytest.fixture\ndef where(tmpdir):\n    return tmpdir\n",
        "fixture",
        "requests fixture tmpdir",
    ),
    "fixture_pytestconfig": (
        "def test_x(pytestconfig):\n    assert pytestconfig\n",
        "fixture",
        "requests fixture pytestconfig",
    ),
    "monkeypatch_setenv": (
        "def test_x(monkeypatch):\n    monkeypatch.setenv('HOME', '/')\n",
        "fixture",
        "uses monkeypatch.setenv",
    ),
    "monkeypatch_chdir": (
        "def test_x(monkeypatch):\n    monkeypatch.chdir('/')\n",
        "fixture",
        "uses monkeypatch.chdir",
    ),
    "monkeypatch_string_target": (
        "def test_x(monkeypatch):\n    monkeypatch.setattr('os.getcwd', lambda: '/')\n",
        "fixture",
        "string target",
    ),
    "monkeypatch_a_standard_module": (
        "import math\n\ndef test_x(monkeypatch):\n"
        "    monkeypatch.setattr(math, 'pi', 3)\n",
        "fixture",
        "only the package under test may be patched",
    ),
    "monkeypatch_as_a_value": (
        "def test_x(monkeypatch):\n    mp = monkeypatch\n    mp.setenv('A', 'b')\n",
        "fixture",
        "uses monkeypatch (only monkeypatch.",
    ),
    "request_getfixturevalue": (
        "def test_x(request):\n    request.getfixturevalue('monkeypatch')\n",
        "fixture",
        "uses request.getfixturevalue",
    ),
    "caplog_records": (
        "def test_x(caplog):\n    assert caplog.records[0].process\n",
        "fixture",
        "uses caplog.records",
    ),
    "mark_usefixtures": (
        "import pytest\n\n@pytest.mark.usefixtures('monkeypatch')\ndef test_x():\n"
        "    assert 1\n",
        "module",
        "uses pytest.mark.usefixtures",
    ),
    "mark_skipif_string": (
        "import pytest\n\n@pytest.mark.skipif(\"os.environ.get('CI')\", reason='x')\n"
        "def test_x():\n    assert 1\n",
        "module",
        "uses pytest.mark.skipif",
    ),
    "parametrize_indirect": (
        "import pytest\n\n@pytest.mark.parametrize('tmp_path', [1], indirect=True)\n"
        "def test_x(tmp_path):\n    assert tmp_path\n",
        "fixture",
        "indirect",
    ),
    "importorskip": (
        "import pytest\n\ndef test_x():\n    pytest.importorskip('os')\n",
        "module",
        "uses pytest.importorskip",
    ),
    "pytest_as_a_value": (
        "import pytest\n\ndef test_x():\n    getattr(pytest, 'importorskip')('os')\n",
        "module",
        "getattr on a module",
    ),
    "hook_in_a_test_module": (
        "def pytest_generate_tests(metafunc):\n    metafunc.config\n",
        "plugin",
        "defines pytest_generate_tests (a pytest hook)",
    ),
    "pytest_plugins": ("pytest_plugins = ['os']\n", "plugin", "sets pytest_plugins"),
    "doctest_in_a_docstring": (
        "def test_x():\n    '''>>> __import__(\"os\").system(\"id\")'''\n",
        "doctest",
        "holds a doctest",
    ),
    "doctest_mapping": (
        "__test__ = {'x': 'text'}\n",
        "doctest",
        "sets __test__ to more than True or False",
    ),
    "computed_docstring": (
        "class TestX:\n    p = property(len, None, None, 'x'.upper())\n",
        "doctest",
        "property with a computed docstring",
    ),
    "assigned_docstring": (
        "def test_x():\n    test_x.__doc__ = 'x'\n",
        "internals",
        "assigns __doc__",
    ),
    "utf7_encoding": (
        "# -*- coding: utf-7 -*-\ndef test_x():\n    assert 1\n",
        "encoding",
        "declares source encoding utf-7",
    ),
    "string_annotation": (
        "def test_x(x: \"__import__('os')\" = 1):\n    assert x\n",
        "annotation",
        "string annotation",
    ),
    "clock_now": (
        "import datetime\n\ndef test_x():\n    assert datetime.datetime.now().year\n",
        "environment",
        "uses .now (reads the environment)",
    ),
    "clock_today_aliased": (
        "from datetime import date as D\n\ndef test_x():\n    f = D.today\n",
        "environment",
        "uses .today",
    ),
    "uuid1_reads_the_host": (
        "import uuid\n\ndef test_x():\n    uuid.uuid1()\n",
        "module",
        "uses uuid.uuid1",
    ),
    "stdlib_reexports_sys": (
        "import dataclasses\n\ndef test_x():\n    dataclasses.sys.modules['os']\n",
        "module",
        "reaches sys through dataclasses.sys",
    ),
    "stdlib_reexports_os": (
        "from uuid import os\n",
        "module",
        "uses uuid.os",
    ),
    "stdlib_reexports_builtins": (
        "import enum\n\ndef test_x():\n    enum.bltns.open\n",
        "module",
        "reaches builtins through enum.bltns",
    ),
    "stdlib_private": (
        "import re\n\ndef test_x():\n    re._compiler\n",
        "module",
        "uses re._compiler (a private attribute)",
    ),
    "module_as_a_value": (
        "import math\n\ndef test_x():\n    assert id(math)\n",
        "module",
        "uses module math as a value",
    ),
    "from_the_module_under_test": (
        "from pkg.leaky import os\n",
        "module",
        "reaches os through pkg.leaky.os",
    ),
    "function_from_a_refused_module": (
        "import pkg.leaky as leaky\n\ndef test_x():\n    leaky.join('a', 'b')\n",
        "module",
        "reaches os.path through pkg.leaky.join",
    ),
    "a_path_of_the_module_under_test": (
        "import pkg.leaky as leaky\n\ndef test_x():\n    leaky.BASE.read_text()\n",
        "files",
        "uses .read_text (file access)",
    ),
    "the_cwd_through_a_path_of_the_module": (
        "import pkg.leaky as leaky\n\ndef test_x():\n    leaky.BASE.absolute()\n",
        "environment",
        "uses .absolute (reads the environment)",
    ),
    "attrgetter": (
        "import operator\n\ndef test_x():\n    operator.attrgetter('__class__')(1)\n",
        "module",
        "uses operator.attrgetter",
    ),
    "get_type_hints": (
        "import typing\n\ndef test_x():\n    typing.get_type_hints(test_x)\n",
        "module",
        "uses typing.get_type_hints",
    ),
    "mock_patch": (
        "from unittest import mock\n\ndef test_x():\n    mock.patch('os.system')\n",
        "module",
        "uses unittest.mock.patch",
    ),
    "event_loop": (
        "import asyncio\n\ndef test_x():\n    asyncio.get_event_loop()\n",
        "module",
        "uses asyncio.get_event_loop",
    ),
    "contextlib_chdir": (
        "import contextlib\n\ndef test_x():\n    contextlib.chdir('/')\n",
        "module",
        "uses contextlib.chdir",
    ),
    "io_open": (
        "import io\n\ndef test_x():\n    io.open('x')\n",
        "module",
        "uses io.open",
    ),
    "match_class_attribute": (
        "def test_x():\n    match 1:\n        case object(__class__=c):\n"
        "            assert c\n",
        "internals",
        "touches __class__",
    ),
    "type_new_with_a_namespace": (
        "def test_x():\n    type.__new__(type, 'X', (), {})\n",
        "internals",
        "touches __new__",
    ),
    "type_with_a_namespace": (
        "def test_x():\n    type('X', (), {})\n",
        "dynamic",
        "builds a class with type(name, bases, dict)",
    ),
    "dunder_keyword": (
        "import types\n\ndef test_x():\n    types.SimpleNamespace(__doc__='x')\n",
        "internals",
        "passes keyword __doc__",
    ),
}

# modules a test may not import, each with the same rule
REFUSED_MODULES = [
    *("os", "sys", "subprocess", "socket", "ctypes", "importlib", "inspect", "gc"),
    *("builtins", "__main__", "_posixsubprocess", "pathlib", "shutil", "tempfile"),
    *("signal", "threading", "multiprocessing", "pickle", "marshal", "code"),
    *("codeop", "runpy", "site", "platform", "time", "random", "warnings"),
    *("logging", "urllib.request", "http.client", "sqlite3", "resource", "pty"),
    *("traceback", "ast", "unittest", "numpy"),
]


@pytest.fixture
def package(project: Project) -> tuple[str, Path]:
    """``pkg.calc`` under test, with a module beside it that imports os."""
    (project.rootdir / "pkg" / "leaky.py").write_text(LEAKY, encoding="utf-8")
    return "pkg.calc", project.rootdir / "pkg" / "calc.py"


def findings(code: str, package: tuple[str, Path]) -> tuple[Finding, ...]:
    return check(textwrap.dedent(code), *package)


@pytest.mark.parametrize("name", ALLOWED)
def test_allowed_forms_have_no_findings(name: str, package: tuple[str, Path]) -> None:
    code = textwrap.dedent(ALLOWED[name])
    ast.parse(code)
    assert findings(code, package) == ()


@pytest.mark.parametrize("name", REFUSED)
def test_refused_forms_name_their_rule(name: str, package: tuple[str, Path]) -> None:
    code, rule, message = REFUSED[name]
    found = findings(code, package)
    assert any(f.rule == rule and message in f.message for f in found), found
    assert all(f.rule in RULES and f.line >= 1 for f in found)


@pytest.mark.parametrize("module", REFUSED_MODULES)
def test_modules_outside_the_allowlist_are_refused(
    module: str, package: tuple[str, Path]
) -> None:
    for code in (f"import {module}\n", f"from {module} import x\n"):
        (found,) = findings(code, package)
        assert found.rule == "import" and f"imports {module}" in found.message


def test_the_corpus_is_big_enough() -> None:
    assert len(ALLOWED) + len(REFUSED) + len(REFUSED_MODULES) >= 40
    assert {rule for _, rule, _ in REFUSED.values()} == set(RULES)


def refuse_to_run(*args: Any, **kwargs: Any) -> SandboxResult:
    raise AssertionError("a refused candidate reached the sandbox")


def test_a_breach_in_a_test_rejects_that_test_only(
    project: Project, make_target: MakeTarget
) -> None:
    code = (
        "from pkg.calc import sign\n\n\ndef test_good():\n    assert sign(-1) == -1\n"
        "\n\ndef test_sandbox_aware():\n    import os\n"
        "    if '/ruvqe-sandbox-' not in os.getcwd():\n        assert sign(0) == 0\n"
    )
    validation = validate(Candidate(make_target(), code, "chat"), project, reruns=0)
    good, aware = validation.verdicts
    assert good.reason is Reason.ACCEPTED
    assert aware.reason is Reason.UNSAFE
    assert aware.detail.startswith("imports os (not in the allowlist) at line 9")
    assert "mentions the sandbox ('ruvqe-sandbox') at line 10" in aware.detail
    assert validation.accepted_code is not None
    assert "sandbox_aware" not in validation.accepted_code


def test_a_breach_outside_every_test_rejects_them_all_before_running(
    project: Project, make_target: MakeTarget
) -> None:
    code = (
        "import os\nfrom pkg.calc import sign\n\n\ndef test_a():\n    assert sign(1)\n"
        "\n\ndef test_b():\n    assert sign(0) == 0\n"
    )
    candidate = Candidate(make_target(), code, "chat")
    validation = validate(candidate, project, runner=refuse_to_run)
    assert [v.reason for v in validation.verdicts] == [Reason.UNSAFE] * 2
    assert {v.detail for v in validation.verdicts} == {
        "imports os (not in the allowlist) at line 1"
    }
    assert "imports os" in validation.error and validation.accepted_code is None


def test_hostile_corpus_is_refused_before_it_runs(
    hostile: ModuleType, project: Project
) -> None:
    """Each body the sandbox must refuse never reaches it: the allowlist says why."""
    values = {
        "sentinel": "/elsewhere/file",
        "sentinel_dir": "/elsewhere",
        "port": 1,
        "project": str(project.rootdir),
    }
    assert set(hostile.STATIC) == set(hostile.REFUSED)
    for name in hostile.REFUSED:
        code = hostile.static_module(name, values)
        messages = [f.message for f in check(code, "pkg.calc")]
        for expected in hostile.STATIC[name]:
            assert any(expected in m for m in messages), (name, messages)
