"""One test file showing each smell and one that does not (kind -> pair)."""

from __future__ import annotations

CASES = {
    "no_assertion": (
        "def test_x():\n    total = sum([1, 2])\n",
        "def test_x():\n    total = sum([1, 2])\n    assert total == 3\n",
    ),
    "empty_test": (
        'def test_x():\n    """Later."""\n    pass\n',
        "def test_x():\n    assert sum([]) == 0\n",
    ),
    "tautological_assert": (
        "def test_x():\n    x = f()\n    assert x == x\n",
        "def test_x():\n    x = f()\n    assert x == g()\n",
    ),
    "redundant_assert": (
        "def test_x():\n    f()\n    assert 2 + 2 == 4\n",
        "def test_x():\n    assert f() + 2 == 4\n",
    ),
    "swallowed_exception": (
        "def test_x():\n    try:\n        f()\n    except ValueError:\n        pass\n"
        "    assert g()\n",
        "import pytest\ndef test_x():\n    with pytest.raises(ValueError):\n"
        "        f()\n",
    ),
    "sleep": (
        "import time\ndef test_x():\n    time.sleep(0.01)\n    assert f()\n",
        "import time\ndef test_x():\n    assert time.monotonic() > 0\n",
    ),
    "duplicate_assert": (
        "def test_x():\n    assert f()\n    g()\n    assert f()\n",
        "def test_x():\n    assert f()\n    assert g()\n",
    ),
    "conditional_logic": (
        "def test_x():\n    if f():\n        assert g()\n",
        "def test_x():\n    assert f()\n    assert g()\n",
    ),
    "assertion_roulette": (
        "def test_x():\n    assert a()\n    assert b()\n    assert c()\n"
        "    assert d()\n",
        "def test_x():\n    assert a(), 'a'\n    assert b(), 'b'\n    assert c()\n"
        "    assert d()\n",
    ),
    "magic_number": (
        "def test_x():\n    assert f(3) == 4711\n",
        "EXPECTED = 4711\ndef test_x():\n    assert f(1) == EXPECTED\n",
    ),
    "duplicate_test": (
        "def test_a():\n    assert f() == g()\n\n"
        "def test_b():\n    assert f() == g()\n",
        "def test_a():\n    assert f() == g()\n\n"
        "def test_b():\n    assert f() != h()\n",
    ),
}
