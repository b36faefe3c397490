"""The built-in demo stream: realistic, varied mentions of a fictional brand, arriving
irregularly (bursts and lulls) around a given rate, with no account and no network.

The brand is "Parcelly", a parcel-delivery subscription. Posts are assembled from parts so the
stream does not repeat itself: complaints (late delivery, billing, outage), questions, praise,
sarcasm, trolls, spam, a few non-English posts, emoji, very long posts, and a few carrying
markup-like or terminal-escape characters (which the app must show literally).

Demo mentions carry the names of the networks they imitate as their source and an external id
starting ``demo-``, so a database can tell demo mentions from real ones (``triage demo --db``
refuses a database holding real mentions). While it feeds, the stream records each simulated
source's health in the store as a real source's poll would (kind ``demo``), so the source
health screen shows it.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import datetime, timedelta

from tui.core.model import IncomingMention, iso, utcnow
from tui.store import Store

BRAND = "Parcelly"
BRAND_TERMS = ("parcelly", "@parcelly", "#parcelly")
SOURCES = ("mastodon", "bluesky", "hackernews", "reddit", "feed")
KIND = "demo"
"""The kind recorded for the demo's sources in the store."""
ID_PREFIX = "demo-"
"""Every demo mention's external id starts with this."""

_FIRST = [
    "alex",
    "sam",
    "jordan",
    "maria",
    "li",
    "priya",
    "tom",
    "nadia",
    "kofi",
    "emma",
    "lucas",
    "yuki",
    "omar",
    "ines",
    "ben",
    "zoe",
]
_LAST = ["_dev", "42", ".codes", "_m", "ski", "_writes", "77", "_pdx", "_nyc", ".art", "_ops", "2k"]

_COMPLAINTS = {
    "delivery": [
        "My {item} was supposed to arrive {when} and it's still not here. {tail}",
        "Third late delivery this month from @parcelly. The tracking page has said "
        "'out for delivery' since {when}. {tail}",
        "Parcel marked delivered {when} but nothing at my door. Who signed for it?? {tail}",
        "@parcelly driver left my {item} in the rain again. Box soaked, contents ruined. {tail}",
    ],
    "billing": [
        "@parcelly charged me twice for the same {plan} subscription. {tail}",
        "Cancelled my Parcelly plan {when} and I was billed anyway. {tail}",
        "Why did my {plan} price go up without any email? Not okay, @parcelly. {tail}",
        "Still waiting on the refund you promised {when}, @parcelly. {tail}",
    ],
    "outage": [
        "Is the @parcelly app down? Can't log in, tracking shows an error. {tail}",
        "Parcelly website has been throwing 502s for an hour. Can't book a pickup. {tail}",
        "The Parcelly app crashes every time I open tracking. Reinstalled twice. {tail}",
    ],
}
_COMPLAINT_TAILS = [
    "Been on hold for 45 minutes.",
    "Nobody answers the chat.",
    "Absolutely ridiculous.",
    "This is the last straw.",
    "Worst service I've had all year.",
    "Please fix this.",
    "Really disappointed.",
    "😡",
    "😤😤",
    "",
]
_QUESTIONS = [
    "Does @parcelly deliver to PO boxes? Thinking of switching.",
    "How do I change the delivery address on a parcel already shipped? @parcelly",
    "Anyone know if Parcelly does same-day in {city}?",
    "@parcelly what's the cut-off time for next-day pickup?",
    "Can I pause my Parcelly subscription while I'm travelling?",
]
_PRAISE = [
    "Shout-out to the @parcelly driver who waited while I ran down three flights of stairs 🙌",
    "Parcelly got my {item} to {city} in under a day. Impressed!",
    "Switched to @parcelly last month and honestly it's been great. Tracking is spot on ✨",
    "Thanks @parcelly support, refund sorted in 5 minutes. That's how it's done.",
    "Love the new Parcelly pickup lockers, so convenient 💚",
]
_SARCASM = [
    "Oh great, another 'delivery exception' from @parcelly. Love that for me.",
    "Thanks for nothing @parcelly. Really appreciate the 'delivered' photo of someone else's door.",
    "Wow @parcelly, only 4 days late this time. A new record 👏",
    "Nothing says premium service like a crushed box. Cheers @parcelly.",
]
_TROLLS = [
    "parcelly is a scam run by clowns lol",
    "@parcelly imagine paying for this garbage 🤡🤡🤡",
    "ratio + parcelly fell off",
]
_SPAM = [
    "🔥 Get 90% OFF delivery codes for Parcelly here!!! bit.ly/xx-free-codes 🔥",
    "Make $5000/week working from home, ask me how #parcelly #ad",
]
_FOREIGN = [
    (
        "fr",
        "Mon colis Parcelly est en retard de trois jours, personne ne répond au service client.",
    ),
    ("de", "Paket von Parcelly ist wieder nicht angekommen. Sehr ärgerlich."),
    ("es", "¿Alguien sabe si Parcelly entrega los domingos en Madrid?"),
    ("ja", "Parcellyの配達がまた遅れています。いつ届きますか？"),
    ("pt", "A entrega da Parcelly chegou antes do prazo, muito bom!"),
]
_HOSTILE = [
    "Parcelly tracking says [bold red]DELIVERED[/] but [@click=app.quit]nothing here[/]",
    "Got this in my tracking notes: \x1b[31mERROR\x1b[0m \x1b]0;pwned\x07 parcel lost?? @parcelly",
    "Order #\u202eevil.exe\u202c stuck at depot. @parcelly please help",
    "Parcelly label printed as: \x00\x07\x08 garbage chars. Is this normal?",
]
_ITEMS = [
    "laptop",
    "birthday present",
    "passport",
    "medication",
    "sofa cushions",
    "phone",
    "shoes",
    "groceries",
]
_PLANS = ["Plus", "Business", "Family", "annual"]
_WHEN = ["yesterday", "on Monday", "three days ago", "last week", "this morning", "on the 12th"]
_CITIES = ["Leeds", "Lyon", "Austin", "Toronto", "Melbourne", "Porto", "Oslo"]

_KINDS = [
    ("complaint", 34),
    ("question", 14),
    ("praise", 16),
    ("sarcasm", 7),
    ("troll", 5),
    ("spam", 4),
    ("foreign", 6),
    ("long", 3),
    ("hostile", 3),
    ("neutral", 8),
]
_NEUTRAL = [
    "Parcelly announced new pickup points in {city} today.",
    "Comparing Parcelly vs other couriers for a small shop, notes in thread.",
    "Just got a Parcelly delivery notification, parcel due tomorrow.",
]


class DemoStream:
    """Deterministic for a given seed; ``next_mention`` makes one post."""

    def __init__(self, seed: int | None = None) -> None:
        self.random = random.Random(seed)
        self.counter = 0

    def _fill(self, template: str) -> str:
        r = self.random
        return template.format(
            item=r.choice(_ITEMS),
            plan=r.choice(_PLANS),
            when=r.choice(_WHEN),
            city=r.choice(_CITIES),
            tail=r.choice(_COMPLAINT_TAILS),
        ).strip()

    def _text(self) -> tuple[str, str | None]:
        r = self.random
        kind = r.choices([k for k, _ in _KINDS], weights=[w for _, w in _KINDS])[0]
        if kind == "complaint":
            topic = r.choice(list(_COMPLAINTS))
            return self._fill(r.choice(_COMPLAINTS[topic])), "en"
        if kind == "foreign":
            language, text = r.choice(_FOREIGN)
            return text, language
        if kind == "long":
            parts = [self._fill(r.choice(_COMPLAINTS[t])) for t in r.sample(list(_COMPLAINTS), 3)]
            story = " ".join(parts * r.randint(4, 12))
            return f"Long thread, bear with me. {story} #parcelly", "en"
        pools = {
            "question": _QUESTIONS,
            "praise": _PRAISE,
            "sarcasm": _SARCASM,
            "troll": _TROLLS,
            "spam": _SPAM,
            "hostile": _HOSTILE,
            "neutral": _NEUTRAL,
        }
        return self._fill(r.choice(pools[kind])), "en"

    def next_mention(self, created_at: datetime | None = None) -> IncomingMention:
        r = self.random
        self.counter += 1
        source = r.choices(SOURCES, weights=[35, 25, 10, 20, 10])[0]
        text, language = self._text()
        author = f"{r.choice(_FIRST)}{r.choice(_LAST)}"
        post_id = f"{r.getrandbits(40):x}{self.counter}"
        created = created_at or utcnow()
        url = {
            "mastodon": f"https://mastodon.example/@{author}/{post_id}",
            "bluesky": f"https://bsky.app/profile/{author}.bsky.social/post/{post_id}",
            "hackernews": f"https://news.ycombinator.com/item?id={int(post_id, 16) % 10**8}",
            "reddit": f"https://www.reddit.com/r/couriers/comments/{post_id}/",
            "feed": f"https://reviews.example/parcelly/{post_id}",
        }[source]
        payload = {
            "id": post_id,
            "source": source,
            "author": author,
            "text": text,
            "url": url,
            "created_at": iso(created),
            "language": language,
        }
        return IncomingMention(
            source=source,
            external_id=ID_PREFIX + post_id,
            text=text,
            author=author,
            url=url,
            created_at=created,
            language=language,
            raw=json.dumps(payload, ensure_ascii=False).encode("utf-8", "surrogatepass"),
        )

    def backlog(self, count: int, span: timedelta = timedelta(hours=6)) -> list[IncomingMention]:
        """``count`` posts spread over the past ``span``, oldest first (a list to start with)."""
        now = utcnow()
        offsets = sorted((self.random.random() for _ in range(count)), reverse=True)
        return [self.next_mention(now - span * offset) for offset in offsets]

    def gaps(self, rate_per_minute: float) -> Iterator[float]:
        """Seconds between arrivals: a Poisson stream whose rate drifts between bursts,
        normal traffic and lulls, averaging ``rate_per_minute`` over time."""
        r = self.random
        modes, weights = (4.0, 1.0, 0.4), (1, 6, 3)
        # Each spell has the same expected number of arrivals, so the time spent in a mode
        # goes as 1/mode; scaling by E[1/mode] makes the long-run rate ``rate_per_minute``.
        scale = sum(w / m for m, w in zip(modes, weights, strict=True)) / sum(weights)
        while True:
            mode = r.choices(modes, weights=weights)[0]
            rate = max(rate_per_minute, 0.1) * mode * scale / 60.0
            for _ in range(r.randint(3, 12)):
                yield r.expovariate(rate)


async def record_demo_batch(store: Store, mentions: Sequence[IncomingMention]) -> None:
    """Record a stored batch as a successful poll of each simulated source in it."""
    for name in sorted({m.source for m in mentions}):
        await store.record_poll(name, state="ok", kind=KIND)


async def holds_only_demo(store: Store) -> bool:
    """Whether every mention in the store came from the demo stream (an empty store does)."""
    return not await store.has_mentions_outside(SOURCES, ID_PREFIX)


async def run_demo(
    sink: Callable[[list[IncomingMention]], Awaitable[object]],
    *,
    rate: float,
    seed: int | None = None,
    backlog: int = 60,
    stop: asyncio.Event | None = None,
) -> None:
    """Feed ``sink`` a backlog, then live posts until ``stop`` is set (or forever)."""
    stream = DemoStream(seed)
    if backlog:
        await sink(stream.backlog(backlog))
    stop = stop or asyncio.Event()
    for gap in stream.gaps(rate):
        try:
            await asyncio.wait_for(stop.wait(), timeout=gap)
            return
        except TimeoutError:
            pass
        await sink([stream.next_mention()])
