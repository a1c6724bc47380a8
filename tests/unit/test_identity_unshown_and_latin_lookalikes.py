"""Red team: identity keys read text as a person sees it. A character that shows nothing was kept
when it was not of Unicode's format category (Cf): the combining grapheme joiner (U+034F), the
variation selectors (U+FE00-FE0F), the Hangul fillers (U+115F, U+1160, U+3164, U+FFA0), Khmer's
inherent vowels (U+17B4, U+17B5), tags (U+E0000-E0FFF), every default-ignorable code point, so a
removed, re-apply-blocked partner came back under its own address, device, payout account or name
with one inside, and was paid. A letter of Latin script that only imitates an ASCII one (`ɡ`,
U+0261, in `ɡmail.com`; a dotless `ı`; a small capital `ᴏ`) was kept too: Unicode's confusables
(UTS #39) map it, the lookup skipped every Latin letter. What shows nothing is one definition
(`invisible.NOT_SHOWN`), the API's `inputs.INVISIBLE` its pattern."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.cases import service as cases_service
from functions.shared import invisible
from functions.shared.clock import FixedClock
from functions.shared.domain import identity
from functions.shared.domain.identity import (
    email_keys,
    name_key,
    normalize_device,
    normalize_email,
    normalize_name,
    payout_key,
)
from functions.shared.inputs import INVISIBLE, compile_pattern
from functions.shared.messaging import InMemoryPublisher
from functions.shared.runtime import Dependencies
from tests.integration.scoring_support import purchase
from tests.unit.test_detection import PROGRAM, make_engine, reasons, score, signup

# one of each kind the testers used, and those beyond the basic plane
UNSHOWN = {
    "combining grapheme joiner": "\u034f",
    "variation selector-1": "\ufe00",
    "variation selector-16": "\ufe0f",
    "Hangul choseong filler": "\u115f",
    "Hangul jungseong filler": "\u1160",
    "Hangul filler": "\u3164",
    "halfwidth Hangul filler": "\uffa0",
    "Khmer vowel inherent aq": "\u17b4",
    "Khmer vowel inherent aa": "\u17b5",
    "braille pattern blank": "\u2800",
    "zero-width space": "\u200b",
    "variation selector-17": "\U000e0100",
    "tag latin small letter a": "\U000e0061",
    "shorthand format letter overlap": "\U0001bca0",
}
ALL_UNSHOWN = [chr(c) for a, b in invisible.NOT_SHOWN for c in range(a, b + 1)]


def test_what_shows_nothing_is_unicodes_default_ignorable_code_points_with_controls_and_the_braille_blank():
    regex = pytest.importorskip("regex")  # carries Unicode's properties, which unicodedata does not
    ignorable = regex.compile(r"\p{Default_Ignorable_Code_Point}")
    listed = set(ALL_UNSHOWN)
    unicodes = {chr(c) for c in range(0x110000) if ignorable.match(chr(c))}
    controls = {chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))}
    unassigned_specials = {chr(c) for c in range(0xFFF0, 0xFFF9)}  # left out: `invisible.NOT_SHOWN`
    assert listed == (unicodes - unassigned_specials) | controls | {"\u2800"}


def test_the_apis_pattern_is_the_same_definition_in_the_basic_plane():
    pattern = compile_pattern(f"[{INVISIBLE}]")
    basic = [c for c in ALL_UNSHOWN if ord(c) <= 0xFFFF]
    assert all(pattern.fullmatch(c) for c in basic)
    assert not any(pattern.fullmatch(c) for c in "aé ж1@.")


@pytest.mark.parametrize("character", UNSHOWN.values(), ids=UNSHOWN.keys())
def test_an_address_with_a_character_that_shows_nothing_is_the_address(character):
    plain = "eve.fraudster@gmail.com"
    for at in (2, 5, len("eve.fraudster@gm")):
        written = plain[:at] + character + plain[at:]
        assert email_keys(written).normalized == "evefraudster@gmail.com", written
        assert email_keys(written).skeleton == email_keys(plain).skeleton


@pytest.mark.parametrize("character", UNSHOWN.values(), ids=UNSHOWN.keys())
def test_a_device_a_payout_account_and_a_name_with_it_are_themselves(character):
    assert normalize_device(f"fp-{character}a81c33d09e") == normalize_device("fp-a81c33d09e")
    assert payout_key(f"GB29{character}NWBK60161331926819") == "GB29NWBK60161331926819"
    assert payout_key(f"00350{character}42736") == "35042736"
    assert normalize_name(f"Mal{character}lory Quint") == "mallory quint"
    assert name_key(f"Quint Mal{character}lory") == name_key("Mallory Quint")


@pytest.mark.parametrize(
    "lookalike,letter",
    [
        ("\u0261", "g"),  # LATIN SMALL LETTER SCRIPT G
        ("\u0131", "i"),  # LATIN SMALL LETTER DOTLESS I
        ("\u0269", "i"),  # LATIN SMALL LETTER IOTA
        ("\u0251", "a"),  # LATIN SMALL LETTER ALPHA
        ("\u01c0", "l"),  # LATIN LETTER DENTAL CLICK
        ("\u1d0f", "o"),  # LATIN LETTER SMALL CAPITAL O
        ("\u028f", "y"),  # LATIN LETTER SMALL CAPITAL Y
        ("\u1d1c", "u"),  # LATIN LETTER SMALL CAPITAL U
        ("\u0501", "d"),  # CYRILLIC SMALL LETTER KOMI DE, as before
    ],
)
def test_a_latin_letter_that_imitates_an_ascii_one_is_that_letter(lookalike, letter):
    assert normalize_email(f"{lookalike}aia.loveday@gmail.com") == f"{letter}aialoveday@gmail.com"
    assert normalize_email(f"jane@{lookalike}mail.com") == f"jane@{letter}mail.com"
    assert normalize_device(f"fp-{lookalike}00d1") == f"fp-{letter}00d1"


def test_the_script_g_of_gmail_is_gmail():
    assert normalize_email("eve.fraudster@\u0261mail.com") == "evefraudster@gmail.com"


@pytest.mark.parametrize(
    "letter",
    [
        "é",  # an accent: another letter
        "ж",  # no Latin look-alike
        "\u0237",  # LATIN SMALL LETTER DOTLESS J: UTS #39 maps nothing of ASCII to it
        "\u0431",  # CYRILLIC SMALL LETTER BE: looks like the digit 6 alone, not a letter
    ],
)
def test_a_letter_with_no_ascii_lookalike_stays_itself(letter):
    assert normalize_email(f"j{letter}n@example.com") == f"j{letter}n@example.com"


def test_names_keep_their_latin_letters_as_the_digests_of_removed_partners_names_were_made():
    assert normalize_name("Yıldız Kaya") == "yıldız kaya"
    assert normalize_name("Mаria Lopez") == "maria lopez"  # a Cyrillic `а`, as before


def test_a_blank_control_character_still_parts_a_names_words():
    assert normalize_name("John\tSmith") == normalize_name("Jöhn\nSmith") == "john smith"


def test_the_key_of_before_is_the_address_as_it_was_read_then():
    assert email_keys("jo\u034fhn@\u0261mail.com").before == "jo\u034fhn@\u0261mail.com"
    assert email_keys("jo\u200bhn@gmail.com").before is None  # a format character: dropped then too


# a blank control (a tab, a line break) parts a name's words: every other character that shows nothing
_IN_A_WORD = [c for c in ALL_UNSHOWN if not c.isspace()]


@st.composite
def _with_one_inside(draw, texts, inserted=ALL_UNSHOWN):
    text = draw(texts)
    at = draw(st.integers(0, len(text)))
    return text, text[:at] + draw(st.sampled_from(inserted)) + text[at:]


_TEXTS = st.text(st.characters(codec="utf-8"), min_size=1, max_size=20)
_ADDRESSES = st.builds(
    lambda local, domain: f"{local}@{domain}",
    _TEXTS,
    st.sampled_from(["gmail.com", "hotmail.co.uk", "proton.me", "x.de", "\u0261mail.com"]),
)


@settings(max_examples=400, deadline=None)
@given(_with_one_inside(_ADDRESSES))
def test_any_character_that_shows_nothing_anywhere_in_an_address_gives_the_same_keys(pair):
    plain, written = pair
    assert email_keys(written).normalized == email_keys(plain).normalized
    assert email_keys(written).skeleton == email_keys(plain).skeleton


@settings(max_examples=400, deadline=None)
@given(_with_one_inside(_TEXTS, _IN_A_WORD))
def test_any_character_that_shows_nothing_anywhere_in_a_device_payout_account_or_name_gives_the_same_key(
    pair,
):
    plain, written = pair
    assert normalize_device(written) == normalize_device(plain)
    assert payout_key(written) == payout_key(plain)
    assert normalize_name(written) == normalize_name(plain)
    assert name_key(written) == name_key(plain)


# --- through scoring --------------------------------------------------------------------------
def _removed_and_blocked(engine, **identifiers) -> None:
    score(engine, signup("p-first", ip="81.2.69.40", at="2026-11-01T08:00:00Z", **identifiers))
    second = score(engine, signup("p-gone", ip="81.2.69.41", at="2026-11-01T09:00:00Z", **identifiers))
    assert second["action"] == "flag", second
    deps = Dependencies(engine.repository, InMemoryPublisher(), FixedClock(datetime(2026, 11, 3, tzinfo=UTC)))
    gone = engine.repository.get_subject(PROGRAM, "partner", "p-gone")
    cases_service.remove_partner(deps, PROGRAM, gone.flag_case_id or "", True, "Ann")


@pytest.mark.parametrize(
    "written",
    [
        "eve.fraudster+1@gmail.com",
        "ev\u034fe.fraudster@gmail.com",
        "eve.fr\u3164audster@gmail.com",
        "eve.fraudster@\u0261mail.com",
    ],
)
def test_a_removed_blocked_partner_back_under_its_address_so_written_is_blocked_reapply(written):
    engine = make_engine()
    _removed_and_blocked(engine, email="eve.fraudster@gmail.com")
    back = score(engine, signup("p-back", email=written, ip="81.2.69.90", at="2026-11-06T09:00:00Z"))
    assert back["action"] == "flag" and "blocked_reapply" in reasons(back), back


@pytest.mark.parametrize(
    ("field", "kept", "written", "reason"),
    [
        *(
            ("device", "fp-a81c33d09e", w, "blocked_reapply")
            for w in ("fp-a81c33d09e", "fp-\u034fa81c33d09e", "fp-a81c\ufe0f33d09e")
        ),
        *(
            ("payout", "GB29NWBK60161331926819", w, "cluster")
            for w in (
                "GB29NWBK60161331926819",
                "GB29\u3164NWBK60161331926819",
                "GB29 NWBK\u034f 6016 1331 9268 19",
            )
        ),
    ],
)
def test_a_removed_blocked_partner_back_on_its_device_or_account_so_written_is_caught(
    field, kept, written, reason
):
    engine = make_engine()
    _removed_and_blocked(engine, email="ann.k@example.com", **{field: kept})
    back = score(
        engine,
        signup(
            "p-back",
            email="new.one@example.net",
            ip="81.2.69.90",
            at="2026-11-06T09:00:00Z",
            **{field: written},
        ),
    )
    assert back["action"] == "flag" and reason in reasons(back), back


@pytest.mark.parametrize("character", ["", "\u034f", "\ufe0f", "\u3164", "\u200b"])
def test_a_customer_named_as_its_partner_with_a_character_that_shows_nothing_is_a_self_referral(character):
    engine = make_engine()
    score(
        engine,
        signup(
            "p-mq", email="mq@example.com", name="Mallory Quint", ip="81.2.69.40", at="2026-11-01T08:00:00Z"
        ),
    )
    bought = score(
        engine,
        purchase(
            "c-mq",
            "p-mq",
            email="x0@example.org",
            name=f"Mal{character}lory Quint",
            ip="81.2.69.77",
            at="2026-11-04T14:30:00Z",
        ),
    )
    assert "self_referral" in reasons(bought), bought


@pytest.mark.parametrize("written", ["ev\u034fe.fraudster@gmail.com", "eve.fraudster@\u0261mail.com"])
def test_a_partner_flagged_in_one_program_signing_up_in_another_so_written_is_network_flagged(written):
    engine = make_engine()
    score(
        engine, signup("p-twin", email="eve.fraudster@gmail.com", ip="81.2.69.40", at="2026-11-01T08:00:00Z")
    )
    dup = score(
        engine, signup("p-dup", email="eve.fraudster@gmail.com", ip="81.2.69.41", at="2026-11-01T09:00:00Z")
    )
    assert dup["action"] == "flag", dup
    elsewhere = score(
        engine, signup("p-b", email=written, ip="81.2.69.42", at="2026-11-03T09:00:00Z"), "prg-other"
    )
    assert "network_flagged" in reasons(elsewhere), elsewhere


def test_a_partner_signed_up_under_a_lookalike_before_is_found_by_its_own_exact_address(monkeypatch):
    """Keyed before (`EmailKeys.before`): its link of then is read under today's key too."""
    engine = make_engine()
    address = "jo\u034fhn.\u0261ale@\u0261mail.com"
    with monkeypatch.context() as m:  # the previous version's keys
        m.setattr(identity, "normalize_email", lambda a: identity._mailbox(a, earlier=True))
        identity.email_keys.cache_clear()
        identity.near_probes.cache_clear()
        score(engine, signup("p-john", email=address, ip="81.2.69.40", at="2026-11-01T08:00:00Z"))
    identity.email_keys.cache_clear()
    identity.near_probes.cache_clear()
    again = score(engine, signup("p-john2", email=address, ip="81.2.69.41", at="2026-11-20T10:00:00Z"))
    assert "email_duplicate" in reasons(again), again
    assert email_keys(address).normalized == "johngale@gmail.com"
