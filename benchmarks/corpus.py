"""Synthetic brand mentions with the word statistics of real posts, for the benchmarks.

Real posts are not a few thousand templates: nearly every one is different, a handful of words
(function words, the brand) are in a large share of them, and most of the vocabulary is rare
(names, typos, order numbers, links). Search cost depends on exactly that shape: how many rows
a term or a prefix matches and how many distinct terms share a prefix. This module makes posts
with that shape, deterministically from a seed:

* a ranked vocabulary of tens of thousands of words: English function words at the top, the
  courier domain's words (in inflected families: deliver, delivered, delivery ...) among the
  first few thousand ranks, the sentiment lexicon's words and generated pseudo-words (also in
  families) over the long tail; word frequency falls as ``1 / (rank + 2.7) ** 1.05``
  (Zipf-Mandelbrot);
* post lengths from a mixture: short posts (median ~16 words), longer threads and reviews
  (median ~45) and a few long ones (median ~150);
* per post a mood (complaint, praise, question, neutral, spam, foreign) that adds a few
  sentiment words of the matching sign, a stock phrase or two ("charged twice", "out for
  delivery"), the brand in most posts, and sometimes a link, an order number, a hashtag, a
  mention of another account or an emoji;
* about 7% of posts repeat an earlier one word for word (reposts, boosts, copied spam).

Nothing here is taken from a real data set. ``python benchmarks/corpus.py --compare FILE.csv``
prints the generated curve next to a CSV file's ``text`` column, to check that it looks natural.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import math
import random
import re
import statistics
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

GENERATOR_VERSION = 1
"""Bump when the generated posts change (cached databases are keyed by it)."""
ZIPF_S = 1.05
ZIPF_B = 2.7
PSEUDO_STEMS = 14_000
AUTHORS = 250_000
REPEAT_SHARE = 0.07
SOURCES = ("mastodon", "bluesky", "hackernews", "reddit", "feed")
SOURCE_WEIGHTS = (35, 25, 10, 20, 10)

_FUNCTION = (  # noqa: SIM905 (a word list reads better as text)
    "the to i a and you my for is it of in on this not me with was have that be at so are "
    "but just they your get can no do what all from an if been it's i'm up out we will now "
    "don't still about how or one when there has had why who any our by again their would "
    "them as more than back can't even got day time here never did only its us after today "
    "please should over could really very then going need know because told said being "
    "off too much also were where into next week any way which these those some every "
    "first last other same new old another yet around ever since without before while "
    "didn't doesn't isn't wasn't won't hours days minutes two three im u ur pls lol"
).split()

_DOMAIN = (  # noqa: SIM905 (a word list reads better as text)
    "parcel parcels package packages packaging delivery deliveries deliver delivered "
    "delivering driver drivers courier couriers order orders ordered ordering tracking track "
    "tracked tracker shipment shipping shipped ship refund refunds refunded refunding charge "
    "charged charges charging twice subscription subscriptions subscribe subscribed plan "
    "plans price prices pricing billing billed bill bills invoice payment payments paid pay "
    "account accounts app website site login password support service services customer "
    "customers agent agents chat email emails phone call called calling hold waiting wait "
    "waited address addresses door doorstep neighbour neighbor porch box boxes label labels "
    "pickup pickups locker lockers depot warehouse van truck route routes postcode zip "
    "signed signature photo proof missing lost stolen damaged broken crushed wet late early "
    "today tomorrow yesterday morning evening afternoon night weekend monday tuesday "
    "wednesday thursday friday saturday sunday delay delayed delays estimate estimated "
    "window slot slots schedule scheduled reschedule rescheduled cancel cancelled cancelling "
    "cancellation return returns returned returning exchange complaint complaints complain "
    "complained manager escalate escalated ticket tickets case reference number code codes "
    "discount discounts voucher promo premium business family annual monthly fee fees "
    "update updates updated notification notifications message messages text texts replied "
    "reply response responded contact contacted sorted fixed fix issue issues problem "
    "problems error errors outage down crash crashes crashed loading page status week "
    "weeks month months year hour minute passport laptop medication shoes groceries sofa "
    "present gift gifts birthday christmas store shop seller sellers buyer small online "
    "item items contents inside outside front left leave leaving safe place neighbours "
    "building flat apartment reception office work home house street city town country"
).split()

_PHRASES = (  # noqa: SIM905 (a word list reads better as text)
    "charged twice|out for delivery|tracking number|customer service|left at the door|on hold "
    "for|still waiting|no one answers|marked as delivered|wrong address|full refund|next day "
    "delivery|same day|pickup lockers|delivery window|driver never showed|box was soaked|"
    "signed for by|live chat|support ticket|money back|worst service|best service|great "
    "service|thank you so much|keep up the good work|as usual|every single time|for the third "
    "time|last straw|never again|what a joke|highly recommend|five stars|one star|order "
    "number|reference number|delivery exception|in the rain|safe place|proof of delivery|"
    "price went up|without any email|free shipping|promo code|cancel my subscription|"
    "annual plan|family plan|business account|app keeps crashing|can't log in|website is "
    "down|error message|on my way|right now|any update|please help|help me|asap|thanks a lot"
).split("|")

_EMOJI = ("😡", "😤", "🙄", "😂", "🙌", "✨", "💚", "👏", "🤡", "📦", "😭", "👍", "🔥", "😍")
_FOREIGN = (  # noqa: SIM905 (a word list reads better as text)
    "le la les de des et est une pas que qui pour avec colis retard der die das und ist nicht "
    "ein eine paket wieder el los las que por para con entrega pedido não uma para com "
    "encomenda het een niet en van pakket bezorging il di che non per con pacco"
).split()


def _pairs(text: str) -> tuple[tuple[str, int], ...]:
    """``"a:6 b:3"`` as ``(("a", 6), ("b", 3))``; ``-`` stands for the empty string."""
    out = []
    for item in text.split():
        name, weight = item.split(":")
        out.append(("" if name == "-" else name, int(weight)))
    return tuple(out)


_ONSETS = _pairs(
    "-:6 b:3 c:3 d:3 f:2 g:2 h:2 j:1 k:2 l:3 m:3 n:2 p:3 r:3 s:4 t:3 v:1 w:2 z:1 br:1 cr:1 "
    "dr:1 fl:1 gr:1 pl:1 pr:2 sh:1 st:2 tr:2 ch:1 th:2 sp:1 sl:1 bl:1 cl:1 sk:1 sm:1 sn:1 sw:1 "
    "qu:1 wh:1"
)
_VOWELS = _pairs("a:6 e:6 i:5 o:5 u:3 ai:1 ea:1 ee:1 io:1 ou:1 y:1 oa:1")
_CODAS = _pairs("-:8 n:4 r:4 s:3 t:3 l:3 m:2 nd:1 nt:1 st:1 ck:1 ng:1 rd:1 ss:1 x:1 ll:1 rt:1")
_SUFFIXES = (("s", 0.5), ("ed", 0.35), ("ing", 0.35), ("er", 0.2), ("ly", 0.12), ("ion", 0.1))
_MOODS = _pairs("complaint:44 praise:17 question:12 neutral:20 spam:3 foreign:2 sarcasm:2")


@dataclass(frozen=True, slots=True)
class Post:
    source: str
    author: str
    text: str


class _Zipf:
    """Draws items with probability falling as 1 / (rank + b) ** s."""

    def __init__(self, items: Sequence[str], s: float = ZIPF_S, b: float = ZIPF_B) -> None:
        self.items = list(items)
        self.cum = list(itertools.accumulate(1.0 / (rank + b) ** s for rank in range(len(items))))
        self.total = self.cum[-1]

    def draw(self, r: random.Random, k: int = 1) -> list[str]:
        return r.choices(self.items, cum_weights=self.cum, k=k)


@lru_cache(maxsize=16)
def _table(table: tuple[tuple[str, int], ...]) -> tuple[list[str], list[float]]:
    return [x for x, _ in table], list(itertools.accumulate(float(w) for _, w in table))


def _weighted(r: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    items, cum = _table(table)
    return r.choices(items, cum_weights=cum)[0]


def _pseudo_word(r: random.Random) -> str:
    """A pronounceable made-up word of one to three syllables (names, slang, typos, jargon)."""
    syllables = r.choices((1, 2, 3), cum_weights=(4, 9, 11))[0]
    word = "".join(_weighted(r, _ONSETS) + _weighted(r, _VOWELS) for _ in range(syllables))
    return (word + _weighted(r, _CODAS))[:11]


def _lexicon() -> list[tuple[str, float]]:
    """(word, valence) of the alphabetic entries of VADER's lexicon, in file order."""
    import vaderSentiment

    path = Path(vaderSentiment.__file__).with_name("vader_lexicon.txt")
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        word, valence, *_ = line.split("\t")
        if re.fullmatch(r"[a-z]{2,}", word):
            out.append((word, float(valence)))
    return out


@dataclass(frozen=True)
class Vocabulary:
    words: _Zipf
    negative: _Zipf
    positive: _Zipf
    phrases: _Zipf
    hashtags: _Zipf
    authors: _Zipf
    foreign: _Zipf


@lru_cache(maxsize=4)
def vocabulary(seed: int) -> Vocabulary:
    """The ranked word lists for ``seed`` (the same lists for the same seed)."""
    r = random.Random(f"vocabulary-{seed}")
    keyed: list[tuple[float, str]] = [(float(i), w) for i, w in enumerate(_FUNCTION)]
    seen = set(_FUNCTION)

    def add(word: str, key: float) -> None:
        if word not in seen:
            seen.add(word)
            keyed.append((key, word))

    for word in _DOMAIN:
        add(word, len(_FUNCTION) + r.paretovariate(0.9) * 60)
    add("parcelly", len(_FUNCTION) + 400)  # the brand also comes from the mood below
    lexicon = _lexicon()
    for word, _valence in lexicon:
        add(word, 400 + r.random() * 40_000)
    for _ in range(PSEUDO_STEMS):
        stem = _pseudo_word(r)
        key = 300 + r.paretovariate(0.55) * 120
        add(stem, key)
        for suffix, share in _SUFFIXES:
            if r.random() < share:
                add(stem + suffix, key * (1.5 + 4 * r.random()))
    keyed.sort()
    negative = [w for w, v in lexicon if v <= -1.0]
    positive = [w for w, v in lexicon if v >= 1.0]
    r.shuffle(negative)
    r.shuffle(positive)
    common_negative = "late lost worst terrible awful ridiculous angry useless disappointed"
    common_positive = "thanks great love amazing happy good excellent awesome helpful"
    negative = [*common_negative.split(), *(w for w in negative if w not in common_negative)]
    positive = [*common_positive.split(), *(w for w in positive if w not in common_positive)]
    tags = [w for _, w in keyed[len(_FUNCTION) : len(_FUNCTION) + 3000]]
    r.shuffle(tags)
    authors = []
    for i in range(AUTHORS):
        name = _pseudo_word(r)[:10]
        tail = r.choice(("", "", "_", "42", "77", ".dev", "_x", str(i % 1000)))
        authors.append(f"{name}{tail}{i % 97 if r.random() < 0.3 else ''}")
    return Vocabulary(
        words=_Zipf([w for _, w in keyed]),
        negative=_Zipf(negative, s=1.0, b=5),
        positive=_Zipf(positive, s=1.0, b=5),
        phrases=_Zipf(_PHRASES, s=0.9, b=3),
        hashtags=_Zipf(["parcelly", *tags], s=1.1, b=1),
        authors=_Zipf(authors, s=0.8, b=10),
        foreign=_Zipf(list(_FOREIGN), s=0.8, b=2),
    )


def _length(r: random.Random) -> int:
    kind = r.random()
    if kind < 0.80:
        return max(3, min(60, round(r.lognormvariate(math.log(14), 0.5))))
    if kind < 0.97:
        return max(10, min(250, round(r.lognormvariate(math.log(45), 0.5))))
    return max(60, min(900, round(r.lognormvariate(math.log(150), 0.6))))


_ID_CHARS = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _compose(v: Vocabulary, r: random.Random) -> str:
    mood = _weighted(r, _MOODS)
    n = _length(r)
    if mood == "foreign":
        units = v.foreign.draw(r, n)
        if r.random() < 0.6:
            units.insert(r.randrange(len(units) + 1), "Parcelly")
        return " ".join(units).capitalize() + "."
    units = v.words.draw(r, n)
    sentiment = {"complaint": v.negative, "praise": v.positive, "sarcasm": v.positive}.get(mood)
    if sentiment is not None:
        units.extend(sentiment.draw(r, r.choice((1, 1, 2, 2, 3))))
    if mood == "sarcasm":
        units.extend(v.negative.draw(r, 1))
    if mood == "neutral" and r.random() < 0.3:
        units.extend((v.positive if r.random() < 0.5 else v.negative).draw(r, 1))
    for _ in range(r.choices((0, 1, 2), weights=(45, 40, 15))[0]):
        units.extend(v.phrases.draw(r, 1))
    if mood == "spam":
        units.extend(("free", "codes", "click", "here", "off", "%"))
    r.shuffle(units)
    if r.random() < 0.68:
        units.insert(r.randrange(min(len(units), 8) + 1), r.choice(("@parcelly", "Parcelly")))
    if r.random() < 0.10:
        units.append("@" + v.authors.draw(r)[0])
    if r.random() < 0.12:
        units.append("#" + v.hashtags.draw(r)[0])
    if r.random() < 0.08:
        units.append(f"#{r.randrange(10**6, 10**8)}")
    elif r.random() < 0.10:
        units.append(str(r.choice((2, 3, 4, 5, 10, 20, 30, 45, 50, 100))))
    if r.random() < 0.11:
        units.append("https://t.example/" + "".join(r.choices(_ID_CHARS, k=8)))
    text = " ".join(units)
    text = text[:1].upper() + text[1:]
    end = "?" if mood == "question" else r.choice((".", ".", "!", "", "!!", "..."))
    if r.random() < 0.15:
        end += " " + r.choice(_EMOJI) * r.choice((1, 1, 2, 3))
    return text + end


def posts(count: int, seed: int, chunk: int = 0) -> Iterator[Post]:
    """``count`` posts; (seed, chunk) picks the stream, so chunks can be made in parallel."""
    v = vocabulary(seed)
    r = random.Random(f"posts-{seed}-{chunk}")
    recent: list[Post] = []
    for _ in range(count):
        if recent and r.random() < REPEAT_SHARE:
            earlier = r.choice(recent)
            post = Post(r.choices(SOURCES, SOURCE_WEIGHTS)[0], v.authors.draw(r)[0], earlier.text)
        else:
            post = Post(r.choices(SOURCES, SOURCE_WEIGHTS)[0], v.authors.draw(r)[0], _compose(v, r))
            if len(recent) < 5000:
                recent.append(post)
            else:
                recent[r.randrange(5000)] = post
        yield post


# -- checking the shape -----------------------------------------------------------------------


def _tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def curve(texts: Sequence[str]) -> dict[str, object]:
    """Word statistics of ``texts``: Zipf slope, types, lengths, shares of the top words."""
    counts: Counter[str] = Counter()
    docs: Counter[str] = Counter()
    lengths = []
    for text in texts:
        words = _tokens(text)
        lengths.append(len(words))
        counts.update(words)
        docs.update(set(words))
    ranked = counts.most_common()
    xs = [math.log(rank) for rank in range(5, min(2000, len(ranked)) + 1)]
    ys = [math.log(f) for _, f in ranked[4 : len(xs) + 4]]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )
    total = sum(counts.values())
    q = statistics.quantiles(lengths, n=20)
    return {
        "posts": len(texts),
        "distinct texts": len(set(texts)),
        "tokens": total,
        "types": len(counts),
        "hapax share of types": round(sum(1 for _, f in ranked if f == 1) / len(counts), 2),
        "zipf slope (ranks 5-2000)": round(slope, 2),
        "words per post p5/p50/p95": (q[0], q[9], q[18]),
        "top words, share of tokens": [(w, round(f / total, 3)) for w, f in ranked[:8]],
        "top words, share of posts": [
            (w, round(d / len(texts), 2)) for w, d in docs.most_common(8)
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=8000, help="posts to generate")
    parser.add_argument("--seed", type=int, default=20240501)
    parser.add_argument("--compare", type=Path, help="a CSV file with a text column")
    parser.add_argument("--show", type=int, default=5, help="print this many posts")
    args = parser.parse_args()
    texts = [p.text for p in posts(args.sample, args.seed)]
    for text in texts[: args.show]:
        print("  ", text[:160])
    print(f"vocabulary: {len(vocabulary(args.seed).words.items):,} ranked words")
    shapes = {"generated": curve(texts)}
    if args.compare:
        with args.compare.open(encoding="utf-8") as handle:
            shapes[args.compare.name] = curve([row["text"] for row in csv.DictReader(handle)])
    for name, shape in shapes.items():
        print(name)
        for key, value in shape.items():
            print(f"  {key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["GENERATOR_VERSION", "Post", "curve", "posts", "vocabulary"]
