"""Evaluation data for the benchmark: seeds, PIAF (clean and noisy) and a synthetic corpus."""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bot.corpus.model import Article, Paragraph, Section, Sentence
from bot.corpus.text import FRENCH_STOP_WORDS, fold, split_sentences

ROOT = Path(__file__).resolve().parent.parent
PIAF_DIR = ROOT.parent / "shared" / "eval" / "piaf"


@dataclass(frozen=True)
class EvalQuestion:
    question: str
    article: str | None  # expected article id, None when unanswerable
    section: str | None  # expected section label (or heading)
    must_contain: str | None = None


def paragraph(text: str, offset: int = 0) -> Paragraph:
    spans = split_sentences(text)
    return Paragraph(text, offset, tuple(Sentence(text[s:e], s, e) for s, e in spans))


def piaf_articles(piaf_dir: Path = PIAF_DIR) -> list[Article]:
    """Each Wikipedia article is one corpus article; each of its paragraphs is a section."""
    by_title: dict[str, list[dict]] = defaultdict(list)
    with open(piaf_dir / "contexts.jsonl", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            by_title[row["title"]].append(row)
    articles = []
    for i, (title, rows) in enumerate(by_title.items()):
        sections = tuple(
            Section((title, row["context_id"]), (paragraph(row["text"]),)) for row in rows
        )
        articles.append(Article(id=f"piaf-{i:03d}", title=title, sections=sections))
    return articles


def piaf_questions(piaf_dir: Path = PIAF_DIR) -> list[dict]:
    with open(piaf_dir / "questions.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


_ACCENTS = str.maketrans(
    "àâäáãåçéèêëíìîïñóòôöõúùûüýÿÀÂÄÁÃÅÇÉÈÊËÍÌÎÏÑÓÒÔÖÕÚÙÛÜÝ",
    "aaaaaaceeeeiiiinooooouuuuyyAAAAAACEEEEIIIINOOOOOUUUUY",
)


def add_noise(question: str, rng: random.Random, long_word: int = 6) -> str:
    """Strip accents and put one typo in every third long word (seeded by the caller)."""
    text = question.translate(_ACCENTS)
    out, seen_long = [], 0
    for word in text.split(" "):
        core = word.strip("?!.,;:'\"()«»")
        if len(core) >= long_word and core.isalpha():
            seen_long += 1
            if seen_long % 3 == 0:
                word = word.replace(core, typo(core, rng), 1)
        out.append(word)
    return " ".join(out)


def typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("swap", "drop", "double", "replace"))
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    letters = "abcdefghijklmnopqrstuvwxyz"
    return word[:i] + rng.choice(letters.replace(word[i].lower(), "")) + word[i + 1 :]


# -- synthetic corpus ---------------------------------------------------------------------
#
# Realistic enough for timing and memory: French sentences taken from PIAF, sometimes
# spliced two halves at a time, with a share of their content words replaced by invented
# words. The invented words come from a Pitman-Yor process, so new words keep appearing at
# a slowing rate (vocabulary ~ tokens^0.8, Heaps' law, as in a growing news archive) while
# a few of them become frequent (Zipf), like names in the news.

_ONSETS = "b br c ch cl d dr f fl g gr j k l m n p pl r s t tr v z".split()
_VOWELS = "a e i o u ou ai é è an on in eu au".split()
_CODAS = ["", "", "", "n", "r", "s", "l", "t"]
_SUFFIXES = ["", "", "", "ation", "ement", "ique", "isme", "eur", "ette", "ois", "ien", "ville"]
_WORD_PIECES = re.compile(r"([^\W\d_]+)", re.UNICODE)
_TEMPLATES = (
    "Que sait-on de {} ?",
    "Qu'en est-il de {} ?",
    "Pourquoi {} ?",
    "Quel est le lien entre {} ?",
    "Comment {} ?",
    "Où en est {} ?",
    "{} ?",
)
SUBSTITUTION_RATE = 0.25  # share of content words replaced by invented ones
SPLICE_RATE = 0.4  # share of sentences made of two halves of different PIAF sentences
# With `stories`, articles come in stories, as a news archive does: follow-ups that keep
# naming the same few people and places and repeat some background sentences.
STORY_NEW_RATE = 0.25  # share of articles that start a new story (4 articles a story)
STORY_NAMES = 8  # invented names a story keeps using
# News text names fewer things than the 25 % invented words: 10 %, mostly the story's.
STORY_SUBSTITUTION_RATE = 0.1
STORY_NAME_RATE = 0.7  # share of a story's substitutions that take one of its names
STORY_REPEAT_RATE = 0.15  # share of sentences repeated from an earlier article of the story
STORY_RECENT = 50  # a follow-up continues one of the most recent stories


@dataclass(frozen=True)
class SyntheticQuestion:
    question: str
    article: str  # article id
    section: int  # index of the gold section in the article


class _InventedWords:
    """Pitman-Yor draws over invented words: a long tail that keeps growing, a Zipf head."""

    def __init__(self, rng: random.Random, discount: float = 0.8, concentration: float = 200.0):
        self.rng = rng
        self.discount = discount
        self.concentration = concentration
        self.words: list[str] = []
        self.draws: list[str] = []

    def _new(self) -> str:
        rng = self.rng
        word = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(rng.randint(2, 3)))
        word += rng.choice(_CODAS) + rng.choice(_SUFFIXES)
        return word.capitalize() if rng.random() < 0.35 else word

    def draw(self) -> str:
        n, k = len(self.draws), len(self.words)
        if self.rng.random() * (n + self.concentration) < self.concentration + self.discount * k:
            word = self._new()
            self.words.append(word)
        else:
            word = self.rng.choice(self.draws)  # proportional to past use
        self.draws.append(word)
        return word


@dataclass(frozen=True)
class _PoolSentence:
    pieces: tuple[str, ...]  # alternating non-word / word pieces (odd indices are words)
    replaceable: tuple[int, ...]  # indices of content words


def _sentence_pool(piaf_dir: Path) -> list[_PoolSentence]:
    pool = []
    with open(piaf_dir / "contexts.jsonl", encoding="utf-8") as f:
        for line in f:
            text = json.loads(line)["text"]
            for s, e in split_sentences(text):
                pieces = tuple(_WORD_PIECES.split(text[s:e].strip()))
                replaceable = tuple(
                    i
                    for i in range(1, len(pieces), 2)
                    if len(pieces[i]) >= 4 and fold(pieces[i]) not in FRENCH_STOP_WORDS
                )
                if len(pieces) > 6:
                    pool.append(_PoolSentence(pieces, replaceable))
    return pool


@dataclass
class _Story:
    names: list[str]
    sentences: list[str]


class _Writer:
    def __init__(self, rng: random.Random, pool: list[_PoolSentence]) -> None:
        self.rng = rng
        self.pool = pool
        self.invented = _InventedWords(rng)
        self.story: _Story | None = None  # the story being written, when there are stories

    def _invented(self) -> str:
        story = self.story
        if story is not None and self.rng.random() < STORY_NAME_RATE:
            return self.rng.choice(story.names)
        return self.invented.draw()

    def sentence(self) -> str:
        rng = self.rng
        story = self.story
        if story is not None and story.sentences and rng.random() < STORY_REPEAT_RATE:
            return rng.choice(story.sentences)
        base = rng.choice(self.pool)
        pieces = list(base.pieces)
        replaceable = list(base.replaceable)
        if rng.random() < SPLICE_RATE:
            other = rng.choice(self.pool)
            cut = 2 * rng.randint(1, max(1, len(pieces) // 4)) + 1
            join = 2 * rng.randint(1, max(1, len(other.pieces) // 4)) + 1
            cut, join = min(cut, len(pieces) - 1), min(join, len(other.pieces) - 1)
            shift = cut - join
            pieces = pieces[:cut] + list(other.pieces[join:])
            replaceable = [i for i in replaceable if i < cut] + [
                i + shift for i in other.replaceable if i >= join
            ]
        for i in replaceable:
            if rng.random() < (SUBSTITUTION_RATE if story is None else STORY_SUBSTITUTION_RATE):
                pieces[i] = self._invented()
        text = "".join(pieces).strip()
        text = text[:1].upper() + text[1:]
        if story is not None:
            story.sentences.append(text)
        return text

    def words(self, n: int) -> str:
        """A few content words (one invented), for titles and headings."""
        chosen: list[str] = []
        while len(chosen) < n - 1:
            s = self.rng.choice(self.pool)
            if s.replaceable:
                chosen.append(s.pieces[self.rng.choice(s.replaceable)])
        chosen.insert(self.rng.randrange(n), self._invented())
        text = " ".join(chosen)
        return text[:1].upper() + text[1:]

    def paragraph(self) -> Paragraph:
        sentences, text = [], ""
        for _ in range(self.rng.randint(2, 5)):
            s = self.sentence()
            start = len(text) + (1 if text else 0)
            text = f"{text} {s}" if text else s
            sentences.append(Sentence(s, start, start + len(s)))
        return Paragraph(text, 0, tuple(sentences))


def synthetic_articles(
    n_sections: int, seed: int = 0, piaf_dir: Path = PIAF_DIR, *, stories: bool = False
) -> list[Article]:
    """About `n_sections` sections of French-like news text in articles of 2 to 8 sections;
    with `stories`, in stories of about four articles sharing names and background."""
    rng = random.Random(seed)
    writer = _Writer(rng, _sentence_pool(piaf_dir))
    articles: list[Article] = []
    recent: list[_Story] = []
    made = 0
    while made < n_sections:
        if stories:
            if not recent or rng.random() < STORY_NEW_RATE:
                recent.append(_Story([writer.invented.draw() for _ in range(STORY_NAMES)], []))
                del recent[:-STORY_RECENT]
                writer.story = recent[-1]
            else:
                writer.story = rng.choice(recent)
        title = writer.words(rng.randint(4, 7))
        count = min(rng.randint(2, 8), n_sections - made)
        sections = []
        for j in range(count):
            path = (title,) if j == 0 else (title, writer.words(rng.randint(2, 4)))
            paragraphs = tuple(writer.paragraph() for _ in range(rng.randint(1, 2)))
            sections.append(Section(path, paragraphs))
        made += count
        day = rng.randrange(3650)
        date = f"{2015 + day // 365:04d}-{1 + day % 365 // 31 % 12:02d}-{1 + day % 28:02d}"
        articles.append(
            Article(
                id=f"syn-{len(articles):06d}",
                title=title,
                sections=tuple(sections),
                date=date,
                source="synthetic",
            )
        )
    return articles


def synthetic_questions(
    articles: list[Article], n: int, seed: int = 0, noisy: bool = False
) -> list[SyntheticQuestion]:
    """Questions that copy a run of 2 to 5 content words from one sentence of one section."""
    rng = random.Random(seed)
    out: list[SyntheticQuestion] = []
    while len(out) < n:
        article = rng.choice(articles)
        s = rng.randrange(len(article.sections))
        sentences = article.sections[s].sentences
        if not sentences:
            continue
        words = [
            w
            for w in _WORD_PIECES.findall(rng.choice(sentences).text)
            if len(w) >= 4 and fold(w) not in FRENCH_STOP_WORDS
        ]
        if len(words) < 2:
            continue
        size = min(len(words), rng.randint(2, 5))
        start = rng.randrange(len(words) - size + 1)
        question = rng.choice(_TEMPLATES).format(" ".join(words[start : start + size]))
        if noisy:
            question = add_noise(question, rng)
        out.append(SyntheticQuestion(question, article.id, s))
    return out


# -- long queries ---------------------------------------------------------------------------
#
# What a user pastes: a headline and a few sentences of the article, never verbatim. Each
# query is the article's title plus 2 or 3 of its sentences, in shuffled order, with a
# share of the content words dropped, a share replaced by a neighbour (a corpus word with
# the same first four letters: "gouvernement" for "gouverneur") or by any corpus word, and
# a typo in some of the long words that remain.

LONG_DROP_RATE = 0.15  # content words left out
LONG_REPLACE_RATE = 0.15  # content words replaced (a neighbour, else any corpus word)
LONG_TYPO_RATE = 0.12  # remaining long words given a typo
LONG_MIN_WORDS, LONG_MAX_WORDS = 30, 100


@dataclass(frozen=True)
class LongQuery:
    question: str
    article: str  # article id: a hit on any of its sections is right


def _neighbours(articles: list[Article]) -> tuple[dict[str, list[str]], list[str]]:
    """Content words by their first four folded letters, and all of them (with repeats,
    so a random pick follows the corpus's frequencies)."""
    by_prefix: dict[str, set[str]] = defaultdict(set)
    every: list[str] = []
    for article in articles:
        for sentence in article.sentences:
            for w in _WORD_PIECES.findall(sentence.text):
                if len(w) >= 4 and fold(w) not in FRENCH_STOP_WORDS:
                    by_prefix[fold(w)[:4]].add(w)
                    every.append(w)
    return {k: sorted(v) for k, v in by_prefix.items()}, every


def _blur(
    text: str,
    rng: random.Random,
    prefixes: dict[str, list[str]],
    every: list[str],
    rates: tuple[float, float, float],
) -> str:
    drop, replace, typos = rates
    out = []
    for piece in _WORD_PIECES.split(text):
        if (
            not piece
            or not piece[0].isalpha()
            or len(piece) < 4
            or fold(piece) in FRENCH_STOP_WORDS
        ):
            out.append(piece)
            continue
        roll = rng.random()
        if roll < drop:
            continue
        if roll < drop + replace:
            near = [w for w in prefixes.get(fold(piece)[:4], ()) if fold(w) != fold(piece)]
            piece = rng.choice(near) if near and rng.random() < 0.5 else rng.choice(every)
        elif len(piece) >= 6 and rng.random() < typos:
            piece = typo(piece, rng)
        out.append(piece)
    return " ".join("".join(out).split())


def long_queries(
    articles: list[Article],
    n: int,
    seed: int = 0,
    *,
    words: tuple[int, int] = (LONG_MIN_WORDS, LONG_MAX_WORDS),
    rates: tuple[float, float, float] = (LONG_DROP_RATE, LONG_REPLACE_RATE, LONG_TYPO_RATE),
    title_share: float = 1.0,
) -> list[LongQuery]:
    """`n` queries of `words` words (cut to the maximum), each 2-3 blurred sentences of
    one article, with its title in `title_share` of them. `rates`: drop, replace, typo."""
    rng = random.Random(seed)
    prefixes, every = _neighbours(articles)
    out: list[LongQuery] = []
    while len(out) < n:
        article = rng.choice(articles)
        sentences = [s.text for s in article.sentences]
        if len(sentences) < 2:
            continue
        chosen = rng.sample(sentences, min(len(sentences), rng.randint(2, 3)))
        units = [article.title, *chosen] if rng.random() < title_share else chosen
        rng.shuffle(units)
        text = " ".join(_blur(u, rng, prefixes, every, rates) for u in units)
        count = len(text.split())
        if count < words[0]:
            continue
        if count > words[1]:
            text = " ".join(text.split()[: words[1]])
        out.append(LongQuery(text, article.id))
    return out
