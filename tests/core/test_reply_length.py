"""Reply length as each network counts it: graphemes, Mastodon's URLs and remote mentions."""

from __future__ import annotations

import time

import pytest

from tui.core.templates import CHAR_LIMITS, MASTODON_URL_LENGTH, graphemes, reply_length

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 👨‍👩‍👧‍👦: 7 code points
FLAG_FR = "\U0001f1eb\U0001f1f7"  # 🇫🇷: two regional indicators
FLAG_DE = "\U0001f1e9\U0001f1ea"
THUMB_TONE = "\U0001f44d\U0001f3fd"  # 👍🏽: emoji + skin tone modifier
E_ACUTE = "e\u0301"  # e + combining acute accent
ZALGO = "a\u0300\u0301\u0302\u0303"  # a with four combining marks
HANGUL = "\u1100\u1161\u11a8"  # 각 as conjoining jamo


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("hello", 5),
        (FAMILY, 1),
        (FLAG_FR, 1),
        (FLAG_FR + FLAG_DE, 2),
        (THUMB_TONE, 1),
        (E_ACUTE, 1),
        (ZALGO, 1),
        (HANGUL, 1),
        ("a\r\nb", 3),  # CR LF is one cluster
        (f"Sorry {FAMILY}! {FLAG_FR} caf{E_ACUTE}", 15),
    ],
)
def test_graphemes_count_what_a_person_sees(text: str, expected: int) -> None:
    assert graphemes(text) == expected


def test_bluesky_counts_graphemes_not_code_points() -> None:
    text = FAMILY * 300
    assert len(text) == 2100
    assert reply_length("bluesky", text) == 300 == CHAR_LIMITS["bluesky"]
    assert reply_length("bluesky", text + FLAG_FR) == 301
    assert reply_length("bluesky", "see https://acme.example/a/long/path") == 36  # no URL rule


def test_mastodon_counts_every_url_as_23() -> None:
    long_url = "https://acme.example/support/tickets/123456789?utm_source=mastodon&x=1"
    assert reply_length("mastodon", long_url) == MASTODON_URL_LENGTH == 23
    assert reply_length("mastodon", "http://a.io") == 23  # short ones too
    text = f"Hi, see {long_url}. Thanks"
    assert reply_length("mastodon", text) == len("Hi, see ") + 23 + len(". Thanks")
    two = f"{long_url} and https://status.acme.example/"
    assert reply_length("mastodon", two) == 23 + len(" and ") + 23
    # Wikipedia-style parentheses belong to the URL; the sentence's closing one does not.
    assert reply_length("mastodon", "(https://en.wikipedia.org/wiki/Acme_(company))") == 25
    assert reply_length("mastodon", "acme.example/path") == len("acme.example/path")  # no scheme
    assert reply_length("mastodon", "https://") == len("https://")


def test_mastodon_counts_a_remote_mention_as_the_local_part() -> None:
    assert reply_length("mastodon", "@alice@mastodon.example hi") == len("@alice hi")
    assert reply_length("mastodon", "@alice hi") == len("@alice hi")
    assert reply_length("mastodon", "cc @bob.smith@sub.example.org.") == len("cc @bob.smith.")
    assert reply_length("mastodon", "mail bob@example.com") == len("mail bob@example.com")


def test_mastodon_counts_graphemes_too() -> None:
    text = f"{FAMILY} {FLAG_FR} caf{E_ACUTE} https://acme.example/{'x' * 80}"
    assert reply_length("mastodon", text) == 1 + 1 + 1 + 1 + 4 + 1 + 23


def test_other_networks_count_code_points() -> None:
    assert reply_length("reddit", FAMILY) == 7
    assert reply_length("hackernews", "https://acme.example/very/long") == 30


def test_counting_is_fast_enough_for_every_keystroke() -> None:
    texts = {
        "ascii": "Sorry about the delay, here is the fix: https://acme.example/x " * 8,
        "emoji": (FAMILY + FLAG_FR + THUMB_TONE + E_ACUTE + " ") * 100,
    }
    for text in texts.values():
        start = time.perf_counter()
        for _ in range(200):
            reply_length("mastodon", text)
            reply_length("bluesky", text)
        per_call = (time.perf_counter() - start) / 400
        assert per_call < 0.002, f"{per_call * 1e3:.2f} ms per count"
