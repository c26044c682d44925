"""The privacy scanner measured on a generated corpus (tests/llm/privacy_corpus.py).

Recall: for every sensitive kind, 50 seeded samples in varied code and text
contexts; a sample counts as found when one finding of its kind covers the
whole value, and its redaction must not contain the value. The target is 1.0
for every kind: card numbers, IBANs and SSNs carry checks the corpus computes
independently, token formats are fixed strings of fixed alphabets, and the
phone formats generated are exactly the ones the scanner commits to (see the
corpus's docstring for the ones it does not). Any miss is a regression.

False positives: for every benign kind, 50 samples must give no finding at
all. The one exception is random digit runs: a random 13-19 digit number that
starts with a card issuer's prefix passes the Luhn check one time in ten, so
about 1 in 40 random 16-digit runs is a valid card number and is reported as
one (`python bench/privacy.py --seeds 2000` measures about 0.3% over the
corpus's 4-20 digit runs). The limit, 1 in 50, allows that and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from privacy_corpus import (
    BENIGN,
    CHECKSUMMED,
    POSITIVE,
    Sample,
    benign,
    detected,
    iban,
    luhn_complete,
    positive,
)

from pytest_ruvqe.llm.privacy import PrivacyFinding, PrivacyScanner, redact

pytest.importorskip("stdnum")
pytest.importorskip("phonenumbers")

SEEDS = range(50)
RECALL_TARGET = dict.fromkeys(POSITIVE, 1.0)
FALSE_POSITIVE_LIMIT = dict.fromkeys(BENIGN, 0.0) | {"random digit run": 0.02}


@pytest.fixture(scope="module")
def scanner() -> PrivacyScanner:
    return PrivacyScanner()


def _scanned(
    scanner: PrivacyScanner, make: Callable[[str, int], Sample], kind: str
) -> list[tuple[Sample, tuple[PrivacyFinding, ...]]]:
    return [(s, scanner.scan(s.text)) for s in (make(kind, seed) for seed in SEEDS)]


@pytest.mark.parametrize("kind", sorted(POSITIVE))
def test_recall_per_kind(scanner: PrivacyScanner, kind: str) -> None:
    missed = [
        sample
        for sample, findings in _scanned(scanner, positive, kind)
        if not detected(sample, findings)
        or sample.value in redact(sample.text, findings)[0]
    ]
    recall = 1 - len(missed) / len(SEEDS)
    assert recall >= RECALL_TARGET[kind], missed[:3]


@pytest.mark.parametrize("kind", sorted(BENIGN))
def test_benign_corpus_has_no_findings(scanner: PrivacyScanner, kind: str) -> None:
    flagged = [pair for pair in _scanned(scanner, benign, kind) if pair[1]]
    rate = len(flagged) / len(SEEDS)
    assert rate <= FALSE_POSITIVE_LIMIT[kind], flagged[:3]


def test_the_corpus_is_reproducible() -> None:
    for kind in (*CHECKSUMMED, "Phone number", "OpenAI Token"):
        assert positive(kind, 7) == positive(kind, 7)
        assert positive(kind, 7) != positive(kind, 8)
    assert benign("UUID", 3) == benign("UUID", 3)


def test_the_corpus_check_digits_agree_with_stdnum() -> None:
    import random

    from stdnum import iban as stdnum_iban
    from stdnum import luhn

    rng = random.Random(0)
    assert luhn_complete("7992739871") == "79927398713"  # the textbook example
    assert all(luhn.is_valid(luhn_complete(str(n))) for n in range(10**5, 10**5 + 50))
    assert all(stdnum_iban.is_valid(iban(rng), check_country=False) for _ in range(50))
