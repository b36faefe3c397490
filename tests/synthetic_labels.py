"""Labelled texts made up for the tests (no third-party data): small, seeded, varied.

* ``brand_slang``: a brand's own words that no lexicon knows ("zorbled" parcels are wrecked,
  "flimpy" service is great), so a model learned from these labels must beat the lexicon.
* ``plain_sentiment``: plain English that the lexicon already reads perfectly, so a learned
  model cannot beat it and the lexicon must stay in charge.
"""

from __future__ import annotations

import random

ITEMS = ("parcel", "order", "box", "package", "delivery", "return", "pickup", "locker")
PLACES = ("depot", "hub", "van", "counter", "app", "site")
FILLER = ("today", "again", "this week", "this morning", "honestly", "", "", "")

SLANG = {
    "negative": (
        "my {item} got zorbled at the {place} {filler}",
        "{item} zorbled {filler}, third time now",
        "another zorbled {item} from the {place}",
        "the {place} zorbled my {item} {filler}",
        "zorbled {item} {filler} ugh",
    ),
    "positive": (
        "the {item} came flimpy {filler}",
        "so flimpy, my {item} was at the {place} early",
        "flimpy {item} handling {filler}",
        "the {place} was flimpy with my {item} {filler}",
        "flimpy as always, {item} sorted",
    ),
    "neutral": (
        "which {place} takes a {item} on sunday",
        "what size can a {item} be at the {place}",
        "does the {place} keep a {item} overnight",
        "how do i change the {item} address at the {place}",
        "is there a {place} near the station for my {item}",
    ),
}

PLAIN = {
    "negative": (
        "I hate this {item}, it is terrible",
        "awful {item}, I am so angry",
        "the {item} was horrible and I hate it",
    ),
    "positive": (
        "I love this {item}, it is wonderful",
        "great {item}, I am so happy",
        "the {item} was excellent and I love it",
    ),
    "neutral": (
        "the {item} is at the {place}",
        "a {item} went to the {place}",
        "this {item} is from the {place}",
    ),
}


def _make(banks: dict[str, tuple[str, ...]], per_class: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    for label, templates in banks.items():
        for _ in range(per_class):
            text = rng.choice(templates).format(
                item=rng.choice(ITEMS), place=rng.choice(PLACES), filler=rng.choice(FILLER)
            )
            # A number of its own keeps every text distinct (numbers all read as one token).
            out.append((" ".join(text.split()) + f" ({len(out) + 1})", label))
    rng.shuffle(out)
    return out


def brand_slang(per_class: int = 40, seed: int = 7) -> list[tuple[str, str]]:
    """(text, label) pairs whose sentiment is in words only this brand's stream uses."""
    return _make(SLANG, per_class, seed)


def plain_sentiment(per_class: int = 30, seed: int = 11) -> list[tuple[str, str]]:
    """(text, label) pairs the lexicon reads right without any help."""
    return _make(PLAIN, per_class, seed)
