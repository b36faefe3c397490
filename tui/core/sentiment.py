"""Sentiment of a mention: cleaning, VADER with a customer-service layer, and thresholds.

``Scorer.score(text)`` returns a ``Score`` whose ``reasons`` are the words and rules that moved
it, each with its signed weight on VADER's scale (about -4 .. +4 per word). The pipeline:

1. ``clean``: HTML and entities to text, then URLs, @handles and the configured brand terms
   removed (brand names are often sentiment words: "united", "spirit", "best").
2. Only the first ``MAX_SCORED_CHARS`` characters of the cleaned text are scored: VADER's cost
   grows with the square of the length. The stored text is never cut.
3. Language (``tui.core.language``): text that is not English, or that has no letters and no
   emoji or emoticon VADER knows, is ``unscored``, never ``neutral``.
4. VADER (the ``vaderSentiment`` package) scores each word with its lexicon and its rules
   (negation, boosters, capitals, "but"), sentence by sentence. The customer-service lexicon
   (``cs_lexicon.toml``) and the config's ``[sentiment.lexicon]`` are layered over its lexicon.
5. Complaint patterns that a word list cannot see add weights of their own (``_RULES``), and a
   few adjustments apply: praise in a question counts for less, a negated problem word is not
   praise, and thanks inside a clear complaint are politeness or sarcasm.
6. The sum is normalized as VADER does into a compound score in [-1, 1] and labelled with the
   thresholds, chosen by cross-validation on labelled customer-service messages
   (``benchmarks/sentiment_eval.py``; figures in BENCHMARKS.md).
"""

from __future__ import annotations

import functools
import re
import string
import tomllib
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from importlib import resources

from vaderSentiment import vaderSentiment as _vs

from tui.core.language import detect_language, has_ascii_letter, language_of_words
from tui.core.model import UNSCORED, Label, Reason, Score
from tui.core.text import html_to_text

__all__ = [
    "BOOSTERS",
    "DEFAULT_NEGATIVE_THRESHOLD",
    "DEFAULT_POSITIVE_THRESHOLD",
    "LINK_FACTOR",
    "MAX_SCORED_CHARS",
    "NEGATED_PROBLEM",
    "QUESTION_PRAISE",
    "Scorer",
    "clean",
    "complaint_patterns",
    "detect_language",
    "load_cs_lexicon",
    "shares_link",
]

# The thresholds maximize macro-F1 with negative precision >= 0.87 on 4,366 labelled tweets to
# airlines; 5-fold cross-validation of that choice gives the same figures (BENCHMARKS.md).
DEFAULT_NEGATIVE_THRESHOLD = -0.13
"""Compound scores at or below this are negative."""
DEFAULT_POSITIVE_THRESHOLD = 0.43
"""Compound scores at or above this are positive."""
MAX_SCORED_CHARS = 1000
"""Characters of the cleaned text that are scored; the rest is kept but not read."""

_RAW_LIMIT = 8 * MAX_SCORED_CHARS
"""Characters of raw input cleaned before the prefix is taken (markup and URLs shrink a lot)."""

# --- cleaning ---------------------------------------------------------------------------------

_URL = re.compile(r"(?:\bhttps?://|\bwww\.)\S+", re.IGNORECASE)
_HANDLE = re.compile(r"@(?<![\w@]@)\w+(?:@[\w.-]+\w)?")
"""An @handle ("@user", "@user@host") not inside a word or an e-mail address."""
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
_HYPHEN = re.compile(r"(?<=[^\W\d_])-(?=[^\W\d_])")
"""A hyphen inside a word ("shout-out", "no-show", "must-have"): read as a space, so the word
is the phrase the lexicon knows."""


@dataclass(frozen=True, slots=True)
class _Brand:
    pattern: re.Pattern[str]
    needles: tuple[str, ...]
    """Lowercase words of which one must occur for the pattern to have anything to remove."""


@functools.lru_cache(maxsize=64)
def _brand(terms: tuple[str, ...]) -> _Brand | None:
    words = sorted({" ".join(t.lstrip("@#").split()) for t in terms} - {""}, key=len, reverse=True)
    if not words:
        return None
    alternatives = "|".join(r"\s+".join(map(re.escape, w.split())) for w in words)
    pattern = re.compile(rf"(?<![\w@#])[@#]?(?:{alternatives})(?!\w)", re.IGNORECASE)
    return _Brand(pattern, tuple({w.split()[0].lower() for w in words}))


def _clean(text: str, brand: _Brand | None) -> str:
    if "<" in text or "&" in text:
        text = html_to_text(text)
    if "://" in text or "www." in text or "WWW." in text:
        text = _URL.sub(" ", text)
    if "@" in text:
        text = _HANDLE.sub(" ", text)
    if brand is not None:
        lowered = text.lower()
        if any(needle in lowered for needle in brand.needles):
            text = brand.pattern.sub(" ", text)
    if not text.isascii():
        text = text.translate(_APOSTROPHES)
    if "-" in text:
        text = _HYPHEN.sub(" ", text)
    if "\n" in text:
        lines = (" ".join(line.split()) for line in text.splitlines())
        return "\n".join(line for line in lines if line)
    return " ".join(text.split())


def shares_link(text: str) -> bool:
    """Whether the post carries a URL (``http(s)://`` or ``www.``) in what is read of it."""
    head = text[:_RAW_LIMIT]
    if "://" not in head and "www." not in head and "WWW." not in head:
        return False
    return _URL.search(head) is not None


def clean(text: str, brand_terms: Sequence[str] = ()) -> str:
    """Text as the scorer reads it.

    HTML tags dropped and entities decoded (``html_to_text``); URLs, @handles (``@user`` and
    ``@user@host``) and brand terms removed; runs of spaces collapsed, line breaks kept. Brand
    terms match case-insensitively as whole words or phrases, with or without a leading ``@``
    or ``#``.
    """
    return _clean(text, _brand(tuple(brand_terms)))


# --- lexicon ----------------------------------------------------------------------------------


def load_cs_lexicon() -> dict[str, float]:
    """The built-in customer-service lexicon (``cs_lexicon.toml``) as term -> weight.

    Terms are lowercase with single spaces; a term with a space is a phrase.
    """
    source = resources.files("tui.core").joinpath("cs_lexicon.toml").read_text(encoding="utf-8")
    lexicon: dict[str, float] = {}
    for group in tomllib.loads(source).values():
        for term, weight in group.items():
            lexicon[_term(term)] = float(weight)
    return lexicon


def _term(term: str) -> str:
    return " ".join(str(term).lower().replace("\u2019", "'").split())


# --- the VADER engine -------------------------------------------------------------------------

_N_SCALAR = _vs.N_SCALAR
_NEGATE = frozenset(_vs.NEGATE)
_SPECIAL_CASES = _vs.SPECIAL_CASES
BOOSTERS = _vs.BOOSTER_DICT
"""VADER's boosters and dampeners ("very", "barely"): added to the weight of the word after."""
_PHRASE_JOIN = "_"
"""Joins the words of a lexicon phrase into one VADER token: "on hold" -> "on_hold"."""


def _negated(word: str) -> bool:
    if word in _NEGATE or "n't" in word:
        return True
    # A joined phrase with a negation in it ("no_one", "still_not") negates too.
    return _PHRASE_JOIN in word and any(
        part in _NEGATE or part == "no" for part in word.split(_PHRASE_JOIN)
    )


class _Vader(_vs.SentimentIntensityAnalyzer):
    """VADER's analyzer with two helpers made linear in the number of words.

    VADER's own versions lowercase every word of the text each time a sentiment word is
    checked; these lowercase only the words they look at, with the same results (negation
    also recognizes joined phrases such as "no_one").
    """

    @staticmethod
    def _negation_check(valence, words_and_emoticons, start_i, i):  # type: ignore[override]
        w = words_and_emoticons
        if start_i == 0:
            if _negated(w[i - 1].lower()):
                valence = valence * _N_SCALAR
        elif start_i == 1:
            before2, before1 = w[i - 2].lower(), w[i - 1].lower()
            if before2 == "never" and before1 in ("so", "this"):
                valence = valence * 1.25
            elif before2 == "without" and before1 == "doubt":
                pass
            elif _negated(before2):
                valence = valence * _N_SCALAR
        elif start_i == 2:
            before3, before2, before1 = w[i - 3].lower(), w[i - 2].lower(), w[i - 1].lower()
            if (before3 == "never" and before2 in ("so", "this")) or before1 in ("so", "this"):
                valence = valence * 1.25
            elif before3 == "without" and (before2 == "doubt" or before1 == "doubt"):
                pass
            elif _negated(before3):
                valence = valence * _N_SCALAR
        return valence

    @staticmethod
    def _special_idioms_check(valence, words_and_emoticons, i):  # type: ignore[override]
        w = words_and_emoticons
        n = len(w)
        w3, w2, w1, w0 = (x.lower() for x in w[i - 3 : i + 1])
        for seq in (f"{w1} {w0}", f"{w2} {w1} {w0}", f"{w2} {w1}", f"{w3} {w2} {w1}", f"{w3} {w2}"):
            if seq in _SPECIAL_CASES:
                valence = _SPECIAL_CASES[seq]
                break
        if n - 1 > i:
            nxt = w[i + 1].lower()
            if f"{w0} {nxt}" in _SPECIAL_CASES:
                valence = _SPECIAL_CASES[f"{w0} {nxt}"]
            if n - 1 > i + 1 and f"{w0} {nxt} {w[i + 2].lower()}" in _SPECIAL_CASES:
                valence = _SPECIAL_CASES[f"{w0} {nxt} {w[i + 2].lower()}"]
        for n_gram in (f"{w3} {w2} {w1}", f"{w3} {w2}", f"{w2} {w1}"):
            if n_gram in BOOSTERS:
                valence = valence + BOOSTERS[n_gram]
        return valence


# --- complaint rules --------------------------------------------------------------------------


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


_SERVICE_VERBS = (
    r"(?:help|helped|answer|answered|answering|respond|responded|responding|reply|replied|"
    r"call|called|calling|receive|received|get|got|gotten|work|working|works|arrive|arrived|"
    r"load|loading|let|refund|refunded|fix|fixed|show|showed|shown|give|gave|given|pick|"
    r"picked|acknowledge|acknowledged|find|found|hear|heard|contact|contacted|honor|honored|"
    r"accept|accepted|provide|provided|offer|offered|send|sent|update|updated|deliver|"
    r"delivered|return|returned|process|processed|resolve|resolved|explain|explained|"
    r"tell|told|even|bother|bothered|seem|seems|able|allowed|available|open|opened|move|"
    r"moving|leave|left|board|boarded|take|taken|took|know|understand)"
)


@dataclass(frozen=True, slots=True)
class _Rule:
    name: str
    """Shown to the operator as the reason."""
    pattern: re.Pattern[str]
    """Searched in the lowercased cleaned text."""
    weight: float
    words: frozenset[str]
    """The pattern is only tried when one of these words occurs in the text ..."""
    parts: tuple[str, ...] = ()
    """... or one of these strings does (cheap pre-checks)."""
    most: int = 1
    """How many matches count."""
    accept: Callable[[str, re.Match[str]], bool] | None = None
    """A further check on each match, given the text."""
    in_bigrams: bool = False
    """What the pattern finds sits in two neighbouring tokens ("? !", "0 hours"), which the
    learned model reads as a feature of its own: it does not need the rule."""

    def count(self, text: str) -> int:
        hits = 0
        for match in self.pattern.finditer(text):
            if self.accept is None or self.accept(text, match):
                hits += 1
                if hits >= self.most:
                    break
        return hits


_QUANTITY = re.compile(
    r"(?:\d|\b(?:an?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|several|many|"
    r"multiple|few))\s*\+?\s*$"
)


_HOURS_LOST = re.compile(
    r"(?:\bfor|\bwaited|\bwaiting|\bspent|\btook|\btaken|\btakes|\bwasted|\bafter)\s+$"
)
_HOURS_AFTER = re.compile(r"\s*(?:late|later|delay|delayed|on hold|waiting|of waiting|and still)\b")
_QUICKLY = re.compile(
    r"\b(?:in|within|under|only|just|than|last|past|next|every|per|first)\s+(?:\w+\s+)?$"
)
"""Before a duration, words that make it quick ("sorted in 5 minutes", "within an hour"), a
span of the calendar ("in the last 6 months", "every 2 hours") or a plain date ("first 3
days"): not time the customer lost."""
_AGO = re.compile(r"\s+(?:ago|from now)\b")
"""After a duration, words that make it a point in time ("2 hours ago")."""


def _after_quantity(text: str, match: re.Match[str]) -> bool:
    """Whether a unit of time after a number is time lost: "on hold for 2 hours", "45min",
    "three days and no reply", but not "in 5 minutes" or "in the last 6 months"."""
    start = match.start()
    quantity = _QUANTITY.search(text, max(0, start - 12), start)
    if quantity is None:
        if match.group(0) != "hours":
            return False
        # "hours" alone: "on hold for hours", "hours late"; not "the opening hours"
        return (
            _HOURS_LOST.search(text, max(0, start - 10), start) is not None
            or _HOURS_AFTER.match(text, match.end()) is not None
        )
    if _AGO.match(text, match.end()):
        return False
    return _QUICKLY.search(text, max(0, quantity.start() - 16), quantity.start()) is None


_RULES: tuple[_Rule, ...] = (
    # A why-question to a company is a reproach: "why is my bag still not here?".
    _Rule(
        "rhetorical 'why'",
        re.compile(
            r"(?:^|[.!?]\s+)why\b(?! not\b)|\bwhy (?:is|are|was|were|do|does|did|would|can't|"
            r"cant|won't|wont|isn't|aren't|didn't|doesn't|don't|should|must|on earth|the hell|"
            r"in the world|has|have|am|no)\b"
        ),
        -1.4,
        frozenset({"why"}),
    ),
    # Thanks for what did not happen is sarcasm: "thanks for nothing", "thank you for nothing".
    _Rule(
        "sarcastic thanks",
        re.compile(
            r"\b(?:thanks|thank you|thx|cheers)\s+(?:\w+\s+)?for\s+(?:\w+\s+)?nothing\b"
            r"(?!\s+(?:but|short\s+of|less\s+than)\b)"  # "nothing but smooth deliveries"
        ),
        -2.0,
        frozenset({"nothing"}),
    ),
    # "still" before a missing result: "still no bag", "still haven't heard", "still at the gate".
    _Rule(
        "'still' with nothing done",
        re.compile(
            r"\bstill\s+(?:\w+\s+)?(?:no|not|nothing|waiting|stuck|sitting|on hold|without|"
            r"unable|haven't|hasn't|havent|hasnt|can't|cant|don't|dont|didn't|didnt|won't|wont|"
            r"isn't|isnt|wasn't|no one|nobody|here|there|at|in|on)\b"
        ),
        -1.2,
        frozenset({"still"}),
    ),
    # Something that did not happen or cannot be done: "can't check in", "haven't heard",
    # "nobody answered", "doesn't work". Idioms of delight ("can't wait") are left out.
    _Rule(
        "negated service",
        re.compile(
            r"\b(?:can't|cant|cannot|couldn't|couldnt|unable to|haven't|havent|hasn't|hasnt|"
            r"won't|wont|wouldn't|wouldnt|isn't|isnt|aren't|arent|wasn't|wasnt|weren't|werent|"
            r"didn't|didnt)\s+(?!wait\b|thank|beat\b|be (?:happier|better)\b|get enough\b|"
            r"go wrong\b|live without\b|complain\b|recommend\b|stop\b|keep (?:\w+ )?hands off\b)"
            r"[a-z]"
            r"|\b(?:not|never|no one|nobody|don't|dont|doesn't|doesnt|refuse to|refused to|"
            rf"failed to|still no)\s+(?:\w+\s+)?{_SERVICE_VERBS}\b"
        ),
        -1.2,
        _wordset(
            """
            can't cant cannot couldn't couldnt unable haven't havent hasn't hasnt won't wont
            wouldn't wouldnt isn't isnt aren't arent wasn't wasnt weren't werent didn't didnt
            not never no nobody don't dont doesn't doesnt refuse refused failed still
            """
        ),
        most=2,
    ),
    # The customer is leaving: "never flying with you again", "won't recommend you".
    _Rule(
        "lost customer",
        re.compile(
            r"\bnever\b(?:\s+\S+){0,5}?\s+again\b|\b(?:never|won't|will not|wont|no longer)\s+"
            r"(?:be\s+|ever\s+)?(?:fly|flying|use|using|book|booking|recommend|choose|travel|"
            r"buy|shop)"
        ),
        -2.0,
        frozenset({"never", "won't", "wont", "not", "longer"}),
    ),
    # Questions that are complaints: "how is it possible", "what's going on", "where is my".
    _Rule(
        "complaint question",
        re.compile(
            r"\bhow (?:is it|is this|can|could|come|hard|difficult|many (?:more|times|hours|"
            r"days)|much longer|long (?:do|does|will|must|should|are|is|am|have))\b|"
            r"\bwhat(?: is|'s| s) (?:going on|the point|the deal|wrong|happening|the hold up|"
            r"the holdup|taking so long)\b|\bwhat happened\b|\bis (?:it|this) too much\b|"
            r"\bwhere (?:is|are) (?:my|our|the)\b|\bare you (?:kidding|serious|joking)\b|"
            r"\b(?:you|u) (?:kidding|serious)\b|\bany (?:update|updates|news|word|idea)\b|"
            r"\bwhen (?:will|is|are|can|do) (?:i|we|my|our|you|someone|somebody|anyone)\b"
        ),
        -1.0,
        _wordset("how what what's whats where too kidding serious any when"),
    ),
    # Time lost, stated as a duration: "on hold for 2 hours", "45 min", "three days".
    _Rule(
        "time lost",
        re.compile(r"(?:hours?|hrs?|minutes|mins?|days|weeks)\b"),
        -1.3,
        frozenset(),
        ("hour", "hr", "min", "days", "weeks"),
        accept=_after_quantity,
        in_bigrams=True,
    ),
    # Praise said with a roll of the eyes: "oh great, another delay", "love that for me",
    # "just what I needed".
    _Rule(
        "sarcastic praise",
        re.compile(
            r"(?:^|[.!?]\s+)(?:oh|ah|wow),?\s+(?:great|good|wonderful|perfect|fantastic|joy|"
            r"lovely|brilliant|super|fun)\b|\blove that for (?:me|us)\b|"
            r"\bjust what (?:i|we) (?:needed|wanted)\b|"
            r"\b(?:great|perfect|fantastic|wonderful|brilliant),? (?:another|more)\b"
        ),
        -2.0,
        _wordset("oh ah wow another more needed wanted"),
        ("love that for",),
    ),
    # Disbelief punctuation: "?!", "!?", "??".
    _Rule(
        "exasperated '?!'",
        re.compile(r"\?\s*!|!\s*\?|\?\s*\?"),
        -0.8,
        frozenset(),
        ("?",),
        in_bigrams=True,
    ),
)

_SARCASM = frozenset({"sarcastic praise", "sarcastic thanks"})
"""Rules that make every thanks and praise in the text sarcasm ("thanks for nothing. Really
appreciate ..."), discounted however strong."""

# Praise words that customers use ironically or as politeness inside a complaint.
_POLITE_OR_SARCASTIC = _wordset(
    """
    thanks thank thank_you thx appreciate appreciated great nice love loving awesome
    fantastic brilliant wonderful amazing perfect good excellent glad happy fun funny
    lol haha lmao cool best kind wow sweet classy impressive impressed super
    """
)

_HASHTAG = re.compile(r"#(\w+)")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=\d)")
_COMPLAINT_TAG_STEMS = (
    "fail",
    "worst",
    "sucks",
    "neveragain",
    "disappoint",
    "terrible",
    "horrible",
    "awful",
    "unacceptable",
    "ridiculous",
    "frustrat",
    "angry",
    "annoy",
    "unhappy",
    "nothappy",
    "badservice",
    "poorservice",
    "delay",
    "cancel",
    "stranded",
    "fml",
    "smh",
)
"""Pieces of run-together hashtags that carry a complaint: "#worstairlineever"."""

_TOKEN_GLUE = re.compile(r"[.,;/\u2026](?:(?<=\.)\.+|(?<=\u2026)|(?<=[^\W\d_][,;/])(?=[^\W\d_]))")
"""Punctuation that glues two words into one token: "phone...ridiculous", "delay/missed"."""
_YES_NO_QUESTION = re.compile(
    r"\W*(?:is|are|was|were|will|would|can|could|do|does|did|should|shall|has|have|may|"
    r"might|any|anyone|anybody|how do|how does|how can|how will|what|when|where|which|who)\b",
    re.IGNORECASE,
)
_PUNCTUATION = string.punctuation

# Weights of the layer around VADER. They were set on labelled data and are not sensitive:
# moving any of them by half changes cross-validated macro-F1 by under 0.01.
QUESTION_PRAISE = 0.5
"""Factor for positive words in a question ("can you help?", "any good seats left?")."""
_QUESTION_PROBLEM = 0.6
"""Factor for negative words in a question asking for information ("is it delayed?")."""
NEGATED_PROBLEM = 0.0
"""Factor for a negative word that negation turned positive ("no refund", "not even late")."""
_COMPLAINT_FOR_DISCOUNT = -1.5
"""Negative evidence at or below which praise words count as politeness or sarcasm."""
_PRAISE_DISCOUNT = 0.8
"""Share of such praise that is discounted."""
_COMPLAINT_SHARE = 0.7
"""... provided the complaint weighs at least this share of the praise: strong praise beside
one stray negative word ("awesome, amazing, though the line went round the block") is
praise."""
LINK_FACTOR = 0.2
"""Share of a negative score that stays when the post shares a link. Posts passing on news,
offers or reviews are seldom complaints: on four labelled sets (airlines, SXSW, Apple,
Sentiment140) 2-38% of posts with a link are negative, against 10-64% of those without."""
_COMPLAINT_HASHTAG = -1.5
"""Weight of each run-together complaint hashtag (two at most)."""


# --- the scorer -------------------------------------------------------------------------------


class Scorer:
    """Scores mention text; build one and reuse it (building reads VADER's word lists).

    ``lexicon`` adds or overrides word weights (VADER's scale, -4 .. +4) on top of VADER's
    lexicon and the built-in customer-service one; a term with a space is a phrase.
    """

    def __init__(
        self,
        brand_terms: Sequence[str] = (),
        lexicon: Mapping[str, float] | None = None,
        negative_threshold: float = DEFAULT_NEGATIVE_THRESHOLD,
        positive_threshold: float = DEFAULT_POSITIVE_THRESHOLD,
    ) -> None:
        if not -1.0 <= negative_threshold < positive_threshold <= 1.0:
            raise ValueError(
                f"thresholds must satisfy -1 <= negative ({negative_threshold}) "
                f"< positive ({positive_threshold}) <= 1"
            )
        self.negative_threshold = negative_threshold
        self.positive_threshold = positive_threshold
        self.brand_terms = tuple(brand_terms)
        self._brand = _brand(self.brand_terms)
        self._vader = _Vader()
        layered = load_cs_lexicon()
        for term, weight in (lexicon or {}).items():
            layered[_term(term)] = float(weight)
        self._phrases: dict[str, list[tuple[str, ...]]] = {}
        for term, weight in layered.items():
            words = tuple(term.split())
            if len(words) > 1:
                self._phrases.setdefault(words[0], []).append(words)
            if weight:
                self._vader.lexicon[_PHRASE_JOIN.join(words)] = weight
            else:
                # No weight at all: the word is not a sentiment word (VADER gives a word in
                # its list a weight from capitals or boosters even when its own is 0).
                self._vader.lexicon.pop(_PHRASE_JOIN.join(words), None)
        for candidates in self._phrases.values():
            candidates.sort(key=len, reverse=True)
        self._lexicon = self._vader.lexicon
        # VADER reads emoji one character at a time, so only single-character entries apply.
        # An emoji with a weight of its own in the lexicon is read as itself.
        emoji = {e: f" {d} " for e, d in self._vader.emojis.items() if len(e) == 1}
        emoji.update({e: f" {e} " for e in layered if len(e) == 1 and not e.isascii()})
        self._emoji = str.maketrans(emoji)

    def label(self, compound: float) -> Label:
        """The label for a compound score under this scorer's thresholds."""
        if compound <= self.negative_threshold:
            return "negative"
        if compound >= self.positive_threshold:
            return "positive"
        return "neutral"

    name = "lexicon"
    """How exports and the detail pane name this scorer."""

    @property
    def lexicon(self) -> Mapping[str, float]:
        """Every word weight in use (VADER's, the built-in layer's and the config's); a
        phrase's words are joined by ``_`` ("on_hold")."""
        return self._lexicon

    def emoji_valences(self) -> dict[str, float]:
        """Each single-character emoji VADER describes, with the summed weights of the words
        of its description ("😡" "enraged face" -> -2.5); emoji without weight left out."""
        valences = {}
        for emoji, description in self._vader.emojis.items():
            if len(emoji) == 1:
                total = self._lexicon.get(emoji)
                if total is None:
                    total = sum(self._lexicon.get(word, 0.0) for word in description.split())
                if total:
                    valences[emoji] = total
        return valences

    def readable(self, text: str) -> str:
        """The part of ``text`` that is read: cleaned (``clean``), cut to the first
        ``MAX_SCORED_CHARS`` characters at a space, hashtags split into their words
        ("#WorstAirlineEver" -> "Worst Airline Ever") and brand terms removed again."""
        cleaned = _clean(text[:_RAW_LIMIT], self._brand)
        if len(cleaned) > MAX_SCORED_CHARS:
            cut = cleaned.rfind(" ", MAX_SCORED_CHARS // 2, MAX_SCORED_CHARS + 1)
            cleaned = cleaned[: cut if cut > 0 else MAX_SCORED_CHARS]
        if "#" in cleaned:
            cleaned = _HASHTAG.sub(lambda m: _CAMEL.sub(" ", m.group(1)), cleaned)
            if self._brand is not None:
                cleaned = self._brand.pattern.sub(" ", cleaned)
        return cleaned

    def score(self, text: str) -> Score:
        """Score ``text`` (plain text or HTML). Never raises on odd input."""
        cleaned = _clean(text[:_RAW_LIMIT], self._brand)
        if len(cleaned) > MAX_SCORED_CHARS:
            cut = cleaned.rfind(" ", MAX_SCORED_CHARS // 2, MAX_SCORED_CHARS + 1)
            cleaned = cleaned[: cut if cut > 0 else MAX_SCORED_CHARS]
        if not cleaned:
            return UNSCORED
        if cleaned.isascii():
            # Plain ASCII: the words are checked once split (in _score_english).
            return self._score_english(
                cleaned, has_ascii_letter(cleaned), check_words=True, link=shares_link(text)
            )
        language = detect_language(cleaned)
        if language is not None and language != "en":
            return UNSCORED
        return self._score_english(
            cleaned, language is not None, check_words=False, link=shares_link(text)
        )

    def _score_english(
        self, text: str, has_letters: bool, *, check_words: bool, link: bool = False
    ) -> Score:
        if not text.isascii():
            text = text.translate(self._emoji)
        if "." in text or "," in text or "/" in text or ";" in text or "\u2026" in text:
            text = _TOKEN_GLUE.sub(" ", text)
        lowered = text.lower()
        rule_weights: list[tuple[str, float]] = []
        if "#" in text:
            tags = _complaint_hashtags(text, self._lexicon)
            if tags:
                rule_weights.append(("complaint hashtag", _COMPLAINT_HASHTAG * min(tags, 2)))
            text = _HASHTAG.sub(lambda m: _CAMEL.sub(" ", m.group(1)), text)
            if self._brand is not None:  # "#UnitedAirlines" read as "United Airlines"
                text = self._brand.pattern.sub(" ", text)

        found: list[tuple[str, float]] = []
        vocabulary: set[str] = set()
        for sentence in _sentences(text):
            vocabulary.update(self._sentence_valences(sentence, found))
        if not has_letters and not found:
            return UNSCORED  # no letters, and no emoji or emoticon VADER knows
        if check_words and has_letters and language_of_words(vocabulary) != "en":
            return UNSCORED

        rule_weights += complaint_patterns(lowered, vocabulary)

        reasons: list[Reason] = []
        total = 0.0
        complaint = 0.0
        praise = 0.0
        for term, valence in found:
            total += valence
            if valence < 0:
                complaint += valence
            elif term in _POLITE_OR_SARCASTIC:
                praise += valence
            reasons.append(Reason(term.replace(_PHRASE_JOIN, " "), round(valence, 3)))
        for name, weight in rule_weights:
            total += weight
            complaint += weight
            reasons.append(Reason(name, weight))
        # Thanks and praise inside a clear complaint are politeness or sarcasm ("thanks for
        # nothing", "great job losing my bag"): they do not outweigh the complaint.
        sarcastic = any(name in _SARCASM for name, _ in rule_weights)
        if praise and (
            sarcastic
            or (complaint <= _COMPLAINT_FOR_DISCOUNT and -complaint >= _COMPLAINT_SHARE * praise)
        ):
            discount = round(-_PRAISE_DISCOUNT * praise, 3)
            total += discount
            reasons.append(Reason("praise inside a complaint", discount))
        if not total:
            return Score(0.0, "neutral", tuple(reasons))
        emphasis = self._vader._punctuation_emphasis(text)
        if emphasis:
            signed = round(emphasis if total > 0 else -emphasis, 3)
            total += signed
            reasons.append(Reason("emphasis (! and ?)", signed))
        if link and total < 0:
            # A post that shares a link mostly passes on news, an offer or a review: a
            # negative word in it is the report's tone more than a complaint to the brand.
            damped = round(-total * (1 - LINK_FACTOR), 3)
            total += damped
            reasons.append(Reason("shares a link", damped))
        compound = round(_vs.normalize(total), 4)
        reasons.sort(key=lambda r: -abs(r.weight))
        return Score(compound, self.label(compound), tuple(reasons))

    def _sentence_valences(self, sentence: str, found: list[tuple[str, float]]) -> list[str]:
        """Append VADER's non-zero word valences for one sentence, with the layer's
        adjustments, to ``found``; return the sentence's lowercased words."""
        words = _words_of(sentence)
        lows = seen = [w.lower() for w in words]
        lexicon = self._lexicon
        if self._phrases and not self._phrases.keys().isdisjoint(lows):
            words, lows = self._join_phrases(words, lows)
        if lexicon.keys().isdisjoint(lows):
            return seen
        sentitext = _Sentence(words)
        vader = self._vader
        valences: list[float] = []
        last = len(words) - 1
        for i, low in enumerate(lows):
            if (
                low not in lexicon
                or low in BOOSTERS
                or (low == "kind" and i < last and lows[i + 1] == "of")
            ):
                valences.append(0.0)
                continue
            vader.sentiment_valence(0.0, sentitext, words[i], i, valences)
            base = lexicon[low]
            if valences[-1] * base < 0 and _PHRASE_JOIN in low and _negated(low):
                # A phrase that is a negation already ("no answer", "still not") is not
                # negated again by a word before it: "no refund, no answer".
                valences[-1] = base
            elif valences[-1] > 0 > base:
                # A problem negated is not praise: "not even late", "never incompetent".
                valences[-1] *= NEGATED_PROBLEM
        # VADER's "but" rule, within the sentence: before it counts half, after it 1.5 times.
        but = lows.index("but") if "but" in lows else -1
        question = sentence.endswith("?")
        yes_no = question and _YES_NO_QUESTION.match(sentence) is not None
        for i, v in enumerate(valences):
            if not v:
                continue
            if but >= 0:
                v *= 0.5 if i < but else 1.5
            if question:
                # A question asks: praise in it ("can you help?", "any good seats left?")
                # counts for less, and so does a problem asked about ("is it delayed?").
                if v > 0:
                    v *= QUESTION_PRAISE
                elif yes_no:
                    v *= _QUESTION_PROBLEM
            found.append((lows[i], v))
        return seen

    def _join_phrases(self, words: list[str], lows: list[str]) -> tuple[list[str], list[str]]:
        """Lexicon phrases as single tokens: ["on", "hold"] -> ["on_hold"]."""
        phrases = self._phrases
        out_words: list[str] = []
        out_lows: list[str] = []
        done = 0
        for i in [i for i, low in enumerate(lows) if low in phrases]:
            if i < done:
                continue  # inside a phrase already joined
            for candidate in phrases[lows[i]]:
                size = len(candidate)
                following = lows[i + 1 : i + size]
                if len(following) == size - 1 and all(
                    (low.strip(_PUNCTUATION) or low) == word
                    for low, word in zip(following, candidate[1:], strict=True)
                ):
                    token = _PHRASE_JOIN.join(candidate)
                    out_words += words[done:i]
                    out_lows += lows[done:i]
                    out_words.append(token)
                    out_lows.append(token)
                    done = i + size
                    break
        if not done:
            return words, lows
        return out_words + words[done:], out_lows + lows[done:]


_RULE_WORDS = frozenset().union(*(rule.words for rule in _RULES))
_RULE_CHECKS = tuple(
    (rule, re.compile("|".join(map(re.escape, rule.parts))) if rule.parts else None)
    for rule in _RULES
)
"""Each rule with its parts as one pattern: the cheap checks of ``complaint_patterns``."""
_BEYOND_BIGRAMS = tuple(check for check in _RULE_CHECKS if not check[0].in_bigrams)


def complaint_patterns(
    lowered: str, words: AbstractSet[str], *, beyond_bigrams: bool = False
) -> list[tuple[str, float]]:
    """The complaint patterns (``_RULES``) found in ``lowered`` text, whose words are ``words``
    (a pattern is only searched for when one of its words or parts occurs): the name and the
    weight of each, counted as often as the pattern allows. ``beyond_bigrams``: only the
    patterns a model over word bigrams cannot see for itself."""
    found: list[tuple[str, float]] = []
    present = _RULE_WORDS.intersection(words)
    for rule, parts in _BEYOND_BIGRAMS if beyond_bigrams else _RULE_CHECKS:
        if (not present or rule.words.isdisjoint(present)) and (
            parts is None or parts.search(lowered) is None
        ):
            continue
        hits = rule.count(lowered)
        if hits:
            found.append((rule.name, rule.weight * hits))
    return found


def _sentences(text: str) -> list[str]:
    """Sentences: split after ".", "!" or "?" followed by a space, and at line breaks."""
    if ". " in text or "! " in text or "? " in text:
        text = text.replace(". ", ".\n").replace("! ", "!\n").replace("? ", "?\n")
    return [line for line in text.splitlines() if line]


class _Sentence:
    """What VADER's ``sentiment_valence`` reads of its ``SentiText``: the words and whether
    some but not all of them are in capitals."""

    __slots__ = ("is_cap_diff", "words_and_emoticons")

    def __init__(self, words: list[str]) -> None:
        self.words_and_emoticons = words
        capitals = sum(map(str.isupper, words))
        self.is_cap_diff = 0 < capitals < len(words)


def _words_of(text: str) -> list[str]:
    """VADER's tokens: split on white space, punctuation stripped from the ends of a token
    unless that leaves two characters or fewer (so ":)" and "no!" survive)."""
    return [
        stripped if len(stripped := token.strip(_PUNCTUATION)) > 2 else token
        for token in text.split()
    ]


def _complaint_hashtags(text: str, lexicon: Mapping[str, float]) -> int:
    """How many run-together hashtags carry a complaint ("#worstairlineever", "#epicfail")."""
    count = 0
    for match in _HASHTAG.finditer(text):
        tag = match.group(1)
        if _CAMEL.search(tag) or tag.lower() in lexicon:
            continue  # split into words, or a word of its own: VADER reads it
        tag = tag.lower()
        if any(stem in tag for stem in _COMPLAINT_TAG_STEMS):
            count += 1
    return count
