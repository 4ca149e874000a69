"""The English catalog: complete, current with the sources, placeholders intact, compiled, and every area of
the UI renders it, pgettext contexts included."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.pofile import read_po
from babel.support import Translations
from babel.util import pathmatch
from lxml import html as lxml_html

from contest.accounts.models import User
from contest.judging.prizes import TierSpec, set_prize_tiers
from contest.judging.publishing import publish
from contest.rounds.models import Attempt, Round
from contest.rounds.services import save_answer, start_attempt, submit_attempt
from infra.extensions import db
from tests.conftest import create_account, login
from tests.contest.roundkit import key_of, make_round

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "contest" / "translations"
PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
VIETNAMESE = re.compile(r"[À-ỹĐđ]")
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\{[a-z_]+\}")


def _catalog():
    with PO.open("rb") as f:
        return read_po(f)


def _strings(value):
    return list(value) if isinstance(value, (tuple, list)) else [value]


def test_english_catalog_is_complete_and_keeps_placeholders():
    catalog = _catalog()
    messages = [m for m in catalog if m.id]
    assert len(messages) > 500
    untranslated = [m.id for m in messages if not all(_strings(m.string))]
    fuzzy = [m.id for m in messages if m.fuzzy]
    assert untranslated == [] and fuzzy == []
    for m in messages:
        ids, strings = _strings(m.id), _strings(m.string)
        for msgstr in strings:
            assert sorted(PLACEHOLDER.findall(msgstr)) == sorted(PLACEHOLDER.findall(ids[0])), m.id
        # English text, not a copy of the Vietnamese
        assert not all(VIETNAMESE.search(s) and s == ids[0] for s in strings), m.id


def _extraction_setup():
    """What `make i18n` extracts with: babel.cfg's mapping and the Makefile's `-k` keywords (on top of
    babel's defaults, which pybabel keeps)."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile[makefile.index("\ni18n:") :].split("\n\n")[0]
    keywords = {**DEFAULT_KEYWORDS, **parse_keywords(re.findall(r"-k\s+(\S+)", recipe))}
    assert {"_l", "lazy_pgettext", "pgettext"} <= set(keywords)
    return method_map, options_map, keywords


def _key(message):
    """A catalog key: (context, msgid), the msgid of a plural being its singular."""
    return message.context, message.id if isinstance(message.id, str) else message.id[0]


def test_catalog_is_current_with_the_sources():
    """A fresh extraction gives exactly the .po's entries: fails when someone marks (or drops) a string
    and forgets `make i18n`."""
    method_map, options_map, keywords = _extraction_setup()
    found = {
        (context, message if isinstance(message, str) else message[0])
        for _filename, _lineno, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords
        )
    }
    in_catalog = {_key(m) for m in _catalog() if m.id}
    assert found and found - in_catalog == set(), "marked in the code, missing from the .po: run `make i18n`"
    assert in_catalog - found == set(), "in the .po, no longer in the code: run `make i18n`"


def test_babel_cfg_covers_every_package_with_marked_strings():
    method_map, _options_map, keywords = _extraction_setup()
    packages = [p.name for p in ROOT.iterdir() if (p / "__init__.py").exists() and p.name != "tests"]
    uncovered = set()
    for package in packages:
        for filename, *_rest in extract_from_dir(str(ROOT / package), [("**.py", "python")], keywords=keywords):
            path = f"{package}/{filename}"
            if not any(pathmatch(pattern, path) for pattern, _method in method_map):
                uncovered.add(path)
    assert uncovered == set(), "add these packages to babel.cfg"


def test_compiled_catalog_matches_the_po_file():
    translations = Translations.load(str(TRANSLATIONS), ["en"])
    catalog = _catalog()
    for m in catalog:
        if m.id and isinstance(m.id, str):
            compiled = translations.pgettext(m.context, m.id) if m.context else translations.gettext(m.id)
            assert compiled == m.string, f"run `make i18n`: stale .mo for {_key(m)!r}"


# ------------------------------------------------------------------------------------------- pages in English

HEADINGS = "//h1|//h2|//h3|//button|//th|//label|//legend|//nav//a|//dt|//title"


def _english(client, path, must_contain, data=()):
    """The page renders in English: the expected phrases are there, and its headings, buttons, table
    headers, labels and menu links carry no Vietnamese once the page's data (titles, names) is removed."""
    response = client.get(path)
    assert response.status_code == 200, path
    text = response.get_data(as_text=True)
    assert 'lang="en"' in text
    for phrase in must_contain:
        assert phrase in text, (path, phrase)
    tree = lxml_html.fromstring(text)
    leftovers = []
    for node in tree.xpath(HEADINGS):
        if node.get("lang") == "vi":  # the "Tiếng Việt" switch names its language in that language
            continue
        words = " ".join(node.text_content().split())
        for value in data:
            words = words.replace(value, "")
        if VIETNAMESE.search(words):
            leftovers.append(words)
    assert leftovers == [], path
    return text


@pytest.fixture
def english(client):
    client.post("/ngon-ngu/en", data={"next": "/"})
    return client


def test_organiser_pages_are_english(app, english):
    _, phone = create_account(app, role="organiser")
    login(english, phone)
    with app.app_context():
        rnd = make_round()
        contest_id, data = rnd.contest_id, [rnd.contest.title, rnd.title]
    _english(english, "/quan-tri/ngan-hang/", ["Question bank", "Search and filter questions", "Apply"])
    _english(english, "/quan-tri/ngan-hang/nhap", ["Import questions from a file"])
    _english(english, "/quan-tri/ngan-hang/cau-hoi/moi", ["Write a question", "Save the question"])
    _english(
        english,
        "/quan-tri/ngan-hang/chu-de",
        ["Question categories", "Add category"],
        ["Pháp luật về phổ biến, giáo dục pháp luật"],
    )
    _english(english, "/quan-tri/ngan-hang/xuat", ["Export the question bank"])
    with app.app_context():
        from question_bank.models import Question

        question = db.session.query(Question).first()
        qid, qdata = question.id, [question.stem, *(o.text for o in question.options)]
    _english(english, f"/quan-tri/ngan-hang/cau-hoi/{qid}", ["As contestants see it"], qdata)
    _english(english, "/quan-tri/cuoc-thi/", ["Create a new contest", "Rounds"], data)
    _english(english, f"/quan-tri/cuoc-thi/{contest_id}", ["Save the contest", "Add round"], data)
    _english(
        english, f"/quan-tri/cuoc-thi/{contest_id}/tuan-thi/moi", ["Question paper blueprint", "Save the round"], data
    )
    # validators speak English too
    response = english.post(f"/quan-tri/cuoc-thi/{contest_id}/tuan-thi/moi", data={"number": "x", "title": ""})
    body = response.get_data(as_text=True)
    assert "The round number must be a whole number." in body and "Please enter the round title." in body


def test_contestant_pages_are_english(app, english):
    user_id, phone = create_account(app)
    login(english, phone)
    with app.app_context():
        rnd = make_round(prediction=False)
        upcoming = make_round(opens_in=timedelta(days=2), slug="sap-mo")
        data = [rnd.contest.title, rnd.title, rnd.contest.description, rnd.contest.rules_text]
        slug, upcoming_slug, round_id = rnd.contest.slug, upcoming.contest.slug, rnd.id
        upcoming_title = upcoming.contest.title
    _english(english, "/cuoc-thi", ["Contests"], data + [upcoming_title])
    _english(english, f"/cuoc-thi/{slug}", ["Start the attempt", "Time limit"], data)
    _english(english, f"/vong-thi/{round_id}/bang-xep-hang", ["Live leaderboard"], data)
    countdown = _english(english, f"/cuoc-thi/{upcoming_slug}", ["The round opens in"], data)
    assert 'data-days="{n} d"' in countdown
    with app.app_context():
        attempt_id = start_attempt(db.session.get(User, user_id), db.session.get(Round, round_id)).id
    page = _english(
        english,
        f"/luot-thi/{attempt_id}",
        ["Previous question", "Next question", "Submit", "Question {n} saved.", "Connection lost"],
        data,
    )
    assert "Đã lưu câu" not in page  # the attempt.js strings come from the catalog
    with app.app_context():
        q1 = db.session.get(Attempt, attempt_id).questions[0].question_id
        save_answer(attempt_id, user_id, q1, key_of(q1), 1)
        submit_attempt(attempt_id, user_id)
    result = _english(
        english,
        f"/luot-thi/{attempt_id}/ket-qua",
        ["Attempt result", "The answers will be published after the round closes."],
        data,
    )
    assert "Correct answers" in result and "Provisional rank" in result and ">1/10<" in result


def test_judge_and_public_results_pages_are_english(app, english):
    from contest.judging.settler import settle_due_rounds
    from tests.contest.judging_data import add_attempt, make_person
    from tests.contest.judging_data import make_round as make_closed_round

    judge_id, phone = create_account(app, role="judge", full_name="Trần Thẩm Phán")
    login(english, phone)
    with app.app_context():
        rnd = make_closed_round(questions=2)
        rnd.contest.published = True  # public results are served only for a visible contest
        people = [make_person(full_name="Nguyễn Thị Ánh"), make_person(full_name="Lê Văn Bình")]
        add_attempt(rnd, people[0], 2, time_ms=20_000, prediction=1)
        add_attempt(rnd, people[1], 1, time_ms=120_000, prediction=1)
        db.session.commit()
        set_prize_tiers(rnd, [TierSpec("Giải Nhất", 1)], db.session.get(User, judge_id))
        settle_due_rounds()  # what `contest worker` does once the round has settled
        rid, first = rnd.id, people[0].id
        data = [rnd.contest.title, rnd.title, "Nguyễn Thị Ánh", "Lê Văn Bình", "Trần Thẩm Phán", "Giải Nhất"]
    _english(english, "/giam-khao/", ["Judges — rounds"], data)
    page = _english(
        english,
        f"/giam-khao/vong/{rid}",
        ["Provisional ranking", "Time taken too short", "Correct answers (more ranks higher)", "Publish the results"],
        data,
    )
    assert "Số câu trả lời đúng" not in page
    # “tuyệt đối” is the keyword typed in the prize-structure box, quoted as is in English
    _english(
        english,
        f"/giam-khao/vong/{rid}/cai-dat",
        ["Save the prize structure", "Save the ranking rule"],
        data + ["“tuyệt đối”"],
    )
    _english(
        english,
        f"/giam-khao/vong/{rid}/bai/{first}",
        ["Disqualify the entry", "Reason (required, recorded in the audit log)"],
        data,
    )
    _english(english, f"/giam-khao/vong/{rid}/nhat-ky", ["Audit log"], data)
    stats = _english(
        english,
        f"/giam-khao/vong/{rid}/thong-ke",
        ["Statistics", "Distribution of correct answers", "Total attempts"],
        data,
    )
    assert ">2 correct<" in stats  # the bar of people with 2 correct answers (msgctxt "number of correct answers")
    response = english.post(f"/giam-khao/vong/{rid}/bai/{first}/loai", data={"reason": ""})
    assert response.status_code == 422 and "Please state the reason." in response.get_data(as_text=True)
    with app.app_context():
        publish(db.session.get(Round, rid), db.session.get(User, judge_id))
    _english(english, f"/giam-khao/vong/{rid}/in", ["PRIZE WINNERS", "HEAD OF THE JUDGING PANEL"], data)
    english.post("/dang-xuat")  # the public page, as anyone sees it (the language stays chosen)
    _english(english, f"/ket-qua/vong/{rid}", ["Results", "Published at", "SHA-256 checksum:", "Correct answers"], data)


def _texts(page, xpath):
    return [" ".join(node.text_content().split()) for node in lxml_html.fromstring(page).xpath(xpath)]


def test_pgettext_contexts_render_the_english_of_their_place(app, english):
    """One Vietnamese word, several English ones: the msgctxt picks the English where the word is used."""
    # "Đối tượng" of a contestant is an occupation (not the question bank's "Category")
    register = _english(english, "/dang-ky", ["— Choose your occupation —"])
    assert "Occupation" in _texts(register, "//label")
    _, phone = create_account(app, role="organiser")
    login(english, phone)
    english.post("/quan-tri/don-vi/", data={"name": "Sở Tư pháp", "parent_id": "0"})  # an audited action
    with app.app_context():
        rnd = make_round()
        contest_id, data = rnd.contest_id, [rnd.contest.title, rnd.title, "Sở Tư pháp"]
    # the menu lists "Units" and "Contests"; a table column holds one "Contest"
    contests = _english(english, "/quan-tri/cuoc-thi/", [], data)
    assert {"Units", "Contests"} <= set(_texts(contests, "//nav[@class='main-nav']//a"))
    assert "Contest" in _texts(contests, "//th")
    # "Thời gian" of a round is its time limit; on a leaderboard it is the time taken
    contest = _english(english, f"/quan-tri/cuoc-thi/{contest_id}", [], data)
    assert "Time limit" in _texts(contest, "//th")
    assert "Time" in _texts(english.get(f"/vong-thi/{rnd.id}/bang-xep-hang").get_data(as_text=True), "//th")
    # the bank's menu links to "Categories"; a question has one "Category"
    bank = _english(english, "/quan-tri/ngan-hang/", [], data)
    assert "Categories" in _texts(bank, "//nav[@class='bank-nav']//a")
    with app.app_context():
        from question_bank.models import Question

        question = db.session.query(Question).first()
        qid, qdata = question.id, [question.stem, *(o.text for o in question.options)]
    assert "Category" in _texts(_english(english, f"/quan-tri/ngan-hang/cau-hoi/{qid}", [], qdata), "//dt")
    # the units page lists the participating units; a person's "Đơn vị dự thi" is their unit
    units = _english(english, "/quan-tri/don-vi/", [], data)
    assert _texts(units, "//h1") == ["Participating units"]
    # the audit log: the "Đối tượng" column is the object acted on, labelled in the singular
    audit = _english(english, "/quan-tri/nhat-ky", [], data)
    assert "Object" in _texts(audit, "//th")
    assert {"Contest", "Round", "Unit", "Question", "Question category", "Question bank import"} <= set(
        _texts(audit, "//select[@name='doi-tuong']/option")
    )
    assert any(cell.startswith("Unit «Sở Tư pháp» (#") for cell in _texts(audit, "//td"))
