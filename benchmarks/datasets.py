"""Evaluation data for the benchmark: the seeds set, PIAF (clean and noisy) and a synthetic corpus."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bot.corpus import Article, Paragraph, Section, Sentence
from bot.text import split_sentences

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
