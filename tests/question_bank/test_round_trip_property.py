"""Property: any question the platform accepts survives GIFT, CSV and XLSX exactly, whatever its characters."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from question_bank import formats
from question_bank.formats import ParsedOption, ParsedQuestion

# Vietnamese letters plus every character GIFT, CSV or a spreadsheet treats specially.
ALPHABET = "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạếềểễệốồổỗộớờởỡợứừửữựíìỉĩịýỳỷỹỵ ĐƯỜNG0123456789~=#{}:\\%\"',;>/\n-|$[]+@"
# Starts that a spreadsheet reads as a formula, and apostrophes before them (the CSV export's escape).
FORMULA_STARTS = ["=", "+", "-", "@", "'=", "''+", "'-", "'", "'a", '=HYPERLINK("http://x")', "@SUM(1)"]


def text(min_size=1):
    plain = st.text(alphabet=ALPHABET, min_size=min_size, max_size=40)
    formula = st.tuples(st.sampled_from(FORMULA_STARTS), st.text(alphabet=ALPHABET, max_size=20)).map("".join)
    return st.one_of(plain, formula).map(str.strip).filter(lambda s: len(s) >= min_size)


name = (
    st.text(alphabet="aăâbcdđeêghiklmnoôơ ĐƯỜNG0123456789,>/:=+-@'", min_size=1, max_size=20)
    .map(str.strip)
    .filter(bool)
)


@st.composite
def questions(draw):
    n = draw(st.integers(2, 6))
    texts = draw(st.lists(text(), min_size=n, max_size=n, unique=True))
    multi = draw(st.booleans())
    if multi:
        flags = draw(st.lists(st.booleans(), min_size=n, max_size=n).filter(any))
    else:
        right = draw(st.integers(0, n - 1))
        flags = [i == right for i in range(n)]
    return ParsedQuestion(
        line=0,
        stem=draw(text()),
        options=[ParsedOption(t, f) for t, f in zip(texts, flags)],
        category=tuple(draw(st.lists(name, min_size=1, max_size=3))),
        multi_select=multi,
        title=draw(st.none() | text()),
        explanation=draw(st.none() | text()),
        legal_document=draw(st.none() | name),
        legal_article=draw(st.none() | name),
        difficulty=draw(st.sampled_from(["easy", "medium", "hard"])),
        tags=tuple(draw(st.lists(name, max_size=3, unique=True))),
    )


@pytest.fixture(scope="module")
def babel_ctx():
    from infra.config import TestingConfig
    from server.app import create_app

    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI="sqlite://", REDIS_URL="redis://127.0.0.1:1/0")
    with app.app_context():
        yield


@pytest.mark.parametrize("fmt", ["gift", "csv", "xlsx"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(questions(), min_size=1, max_size=4))
def test_round_trip_exact_for_any_accepted_question(babel_ctx, fmt, batch):
    batch = [q for q in batch if formats.validate_question(q) == []]
    if not batch:
        return
    result = formats.read(fmt, formats.write(fmt, batch))
    assert result.errors == [] and result.unsupported == []
    assert [q.key() for q in result.questions] == [q.key() for q in batch]
