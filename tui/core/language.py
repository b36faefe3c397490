"""Is this text English? An offline, dependency-free check fast enough to run on every mention.

The scorer only needs one decision: can VADER (English-only) score this text. Two signals:

* Script. Letters outside the Latin script (kana, Han, Hangul, Cyrillic, Greek, Arabic, Hebrew,
  Thai, Devanagari ...) decide the language when they are the majority of the letters.
* Function words. For Latin-script text, the words that make up most of any sentence (articles,
  pronouns, prepositions, auxiliaries) are counted for English and for six other Western European
  languages; words that are common in English too ("a", "me", "no", "son", "die") are left out of
  the other lists. Letters with diacritics count as weak evidence against English.

The check leans towards English: Latin text is English unless another language has clearly more
evidence. Hiding a real complaint as "unscored" costs more than scoring a foreign post.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["detect_language", "has_ascii_letter", "language_of_words"]


def _wordset(words: str) -> frozenset[str]:
    """A set of words written as one white-space separated string."""
    return frozenset(words.split())


_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")

_ENGLISH = _wordset(
    """
    a about above after again against all am an and any are aren't as at be because been before
    being below between both but by can can't cannot could couldn't did didn't do does doesn't
    doing don't down during each few for from further had hadn't has hasn't have haven't having he
    her here hers herself him himself his how i i'm i've i'd i'll if in into is isn't it it's its
    itself just let's me more most my myself no nor not now of off on once only or other our ours
    out over own same she should shouldn't so some such than that that's the their theirs them
    then there there's these they they're this those through to too under until up very was
    wasn't we we're were weren't what what's when where which while who whom why will with won't
    would wouldn't you you're you've your yours yourself yet get got still please thanks thank
    any why how just been will would back again today yesterday tomorrow hours hour time now
    never ever always u ur im dont cant wont thx pls plz yes ok okay
    """
)

# Frequent words of each language that are not also common English words or names.
_OTHERS: dict[str, frozenset[str]] = {
    "fr": _wordset(
        """
        le les du une un et sont pas je tu elle nous vous ils elles ce cette ces mes tes
        votre vos notre nos leur leurs qui que quoi dans sur avec pour mais ou où aussi
        très bien merci beaucoup bonjour avoir être été fait faire au aux toujours depuis vol
        retard annulé bagage bagages pourquoi comment quand j'ai c'est n'est qu'il d'un
        d'une l'avion aujourd'hui hier déjà rien personne
        """
    ),
    "de": _wordset(
        """
        der das und ist nicht vielen schön ich du sie wir ihr ein eine einen einem einer mit für auf
        von zu dem auch noch nur schon sehr aber oder wenn weil dass wie warum heute
        gestern immer nie mein meine dein ihre unser euer haben habe sind wurde werden
        kann können keine kein danke bitte flug verspätung gepäck koffer stunden nichts
        niemand hier jetzt
        """
    ),
    "es": _wordset(
        """
        del es está están pero muchas por para una unos unas que qué muy mis tu tus su sus
        nuestro él ella nosotros ellos ser estar fue gracias hola vuelo retraso equipaje
        maleta porque por qué cuando también todavía nunca nadie hoy ayer siempre más
        bien cancelado horas tengo tiene
        """
    ),
    "pt": _wordset(
        """
        o os uma uns umas é são não para por mas muito meu minha seu sua nosso nossa eu
        ele ela nós eles elas tem têm foi ser estar está obrigado obrigada olá voo
        atraso bagagem mala porque quando também ainda nunca nada ninguém hoje ontem
        sempre já mais bem cancelado horas isso isto aqui agora das dos nas nos ao pelo
        pela
        """
    ),
    "it": _wordset(
        """
        gli della delle dello degli è sono che di molto mio tuo tua suo sua nostro io
        lui lei noi voi loro hanno essere stato grazie ciao volo ritardo bagaglio
        valigia perché quando anche ancora mai niente nessuno oggi ieri sempre già più
        bene cancellato questo questa qui adesso
        """
    ),
    "nl": _wordset(
        """
        het een niet ik jij je hij zij wij jullie voor te maar ook nog zeer wel geen
        mijn jouw zijn haar ons onze heb hebben heeft werd worden kan kunnen dank
        bedankt vlucht vertraging bagage koffer waarom wanneer altijd nooit niets
        niemand vandaag gisteren uur hier
        """
    ),
}

# Script ranges (start, end, language) checked for letters outside ASCII.
_SCRIPTS: tuple[tuple[int, int, str], ...] = (
    (0x0370, 0x03FF, "el"),
    (0x0400, 0x052F, "ru"),
    (0x0590, 0x05FF, "he"),
    (0x0600, 0x06FF, "ar"),
    (0x0750, 0x077F, "ar"),
    (0x0900, 0x097F, "hi"),
    (0x0E00, 0x0E7F, "th"),
    (0x1100, 0x11FF, "ko"),
    (0x3040, 0x30FF, "ja"),
    (0x31F0, 0x31FF, "ja"),
    (0x3400, 0x4DBF, "zh"),
    (0x4E00, 0x9FFF, "zh"),
    (0xAC00, 0xD7AF, "ko"),
    (0xFF66, 0xFF9F, "ja"),
)


def _vocabulary() -> dict[str, tuple[str, ...]]:
    """Word -> the languages it counts for ("en" alone, or the others it belongs to)."""
    vocabulary: dict[str, tuple[str, ...]] = {}
    for language, words in _OTHERS.items():
        for word in words:
            vocabulary[word] = (*vocabulary.get(word, ()), language)
    for word in _ENGLISH:
        vocabulary[word] = ("en",)
    return vocabulary


_VOCABULARY = _vocabulary()
_ASCII_LETTER = re.compile(r"[A-Za-z]")


def has_ascii_letter(text: str) -> bool:
    return _ASCII_LETTER.search(text) is not None


_ASCII_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def _script(char: str) -> str | None:
    """Language implied by a non-Latin letter, or None for Latin (and anything unlisted)."""
    code = ord(char)
    if code < 0x0370:
        return None
    for start, end, language in _SCRIPTS:
        if start <= code <= end:
            return language
    return None


def detect_language(text: str) -> str | None:
    """Best guess at the language of ``text`` as an ISO 639-1 code; None if it has no letters.

    Returns "en" for Latin-script text unless another language's function words clearly
    outnumber English ones; returns the script's language ("ja", "zh", "ru", ...) when most
    letters are in a non-Latin script. A Han-script text with any kana is Japanese.
    """
    accented = 0
    words = _ASCII_WORD
    if text.isascii():
        if _ASCII_LETTER.search(text) is None:
            return None
    else:
        words = _WORD
        letters = 0
        scripts: dict[str, int] = {}
        for c in text:
            if not c.isalpha():
                continue
            letters += 1
            if c.isascii():
                continue
            language = _script(c)
            if language is None:
                accented += 1
            else:
                scripts[language] = scripts.get(language, 0) + 1
        if not letters:
            return None
        if scripts and sum(scripts.values()) * 2 >= letters:
            if "ja" in scripts:
                return "ja"
            return max(scripts, key=scripts.__getitem__)
        text = text.replace("\u2019", "'")

    return language_of_words(set(words.findall(text.lower())), accented)


def language_of_words(words: Iterable[str], accented: int = 0) -> str:
    """Language of Latin-script text from its distinct lowercase words: "en" unless another
    language's function words clearly outnumber English ones.

    ``accented`` is the number of letters with diacritics in the text (weak evidence against
    English). Callers that have already split a text into words use this directly.
    """
    english = 0
    counts: dict[str, int] = {}
    get = _VOCABULARY.get
    for word in words:
        languages = get(word)
        if languages is None:
            continue
        if languages[0] == "en":
            english += 1
        else:
            for language in languages:
                counts[language] = counts.get(language, 0) + 1
    if not counts:
        return "en"
    best = max(counts, key=counts.__getitem__)
    evidence = counts[best] + (1 if accented >= 2 else 0)
    if evidence >= 2 and evidence > 1.5 * english:
        return best
    return "en"
