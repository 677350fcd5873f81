"""The arrays a search index is made of, built from articles and merged incrementally.

`read` turns articles into `IndexData`; `merge` appends one `IndexData` to another and
`without` marks articles removed. Every corpus-wide statistic (document frequencies of
words, bigrams and 4-grams over live passages, live word counts) is kept as an array
updated by those three, so adding one article costs its own analysis plus array copies,
never a re-analysis of the corpus. Removed articles stay in the arrays as dead entries
until the next full build; scoring skips them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from bot.corpus.model import Article
from bot.corpus.progress import Progress, no_progress
from bot.corpus.text import content_words, stem

from .postings import Postings, build_postings, insert_sorted, merge_postings

NGRAM = 4
PROGRESS_STEP = 500  # articles read between two progress reports (about 0.5 s)
BIGRAM_SHIFT = np.int64(1 << 32)  # bigram key = first stem * 2**32 + second stem


def char_ngrams(word: str, n: int = NGRAM) -> list[str]:
    """Character n-grams of a word with boundary marks, so prefixes and suffixes count."""
    marked = f"_{word}_"
    if len(marked) <= n:
        return [marked]
    return [marked[i : i + n] for i in range(len(marked) - n + 1)]


def spelling_groups(words: Sequence[str]) -> dict[tuple[str, int], list[str]]:
    """Words by (first letter, length); numbers are never corrected, so left out."""
    groups: dict[tuple[str, int], list[str]] = {}
    for word in words:
        if word and not word[0].isdigit():
            groups.setdefault((word[0], len(word)), []).append(word)
    return groups


@dataclass(frozen=True)
class Lexicon:
    """Surface words, their stems and their 4-grams; ids only ever grow, so the arrays of
    an older index stay valid against a newer lexicon."""

    words: list[str]
    word_ids: dict[str, int]
    word_stem: np.ndarray  # int32, stem id of each word
    stems: list[str]
    stem_ids: dict[str, int]
    grams: list[str]
    gram_ids: dict[str, int]
    word_gram_ptr: np.ndarray  # int64, word w's grams are word_gram_ids[ptr[w]:ptr[w + 1]]
    word_gram_ids: np.ndarray  # int32
    word_gram_tf: np.ndarray  # float32, how often the gram occurs in the word
    _groups: dict[tuple[str, int], list[str]] = field(default_factory=dict, repr=False)

    def spelling_groups(self) -> dict[tuple[str, int], list[str]]:
        """Words by (first letter, length), what typo correction scans; grouped once per
        lexicon and extended, not regrouped, as the lexicon grows."""
        if not self._groups and self.words:
            self._groups.update(spelling_groups(self.words))
        return self._groups

    @staticmethod
    def empty() -> Lexicon:
        return Lexicon(
            [], {}, np.zeros(0, np.int32), [], {}, [], {},
            np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float32),
        )  # fmt: skip

    def extended(self, new_words: Sequence[str]) -> Lexicon:
        """This lexicon plus `new_words` (not yet in it), numbered after the others."""
        if not new_words:
            return self
        words = [*self.words, *new_words]
        word_ids = dict(self.word_ids)
        stems, stem_ids = list(self.stems), dict(self.stem_ids)
        grams, gram_ids = list(self.grams), dict(self.gram_ids)
        new_stem = np.empty(len(new_words), dtype=np.int32)
        ptr = [int(self.word_gram_ptr[-1])]
        ids: list[int] = []
        tfs: list[float] = []
        for i, word in enumerate(new_words):
            word_ids[word] = len(word_ids)
            s = stem(word)
            sid = stem_ids.get(s)
            if sid is None:
                sid = stem_ids[s] = len(stems)
                stems.append(s)
            new_stem[i] = sid
            counts: dict[int, int] = {}
            for g in char_ngrams(word):
                gid = gram_ids.get(g)
                if gid is None:
                    gid = gram_ids[g] = len(grams)
                    grams.append(g)
                counts[gid] = counts.get(gid, 0) + 1
            ids.extend(counts)
            tfs.extend(counts.values())
            ptr.append(ptr[-1] + len(counts))
        groups: dict[tuple[str, int], list[str]] = {}
        if self._groups:
            groups = {key: list(members) for key, members in self._groups.items()}
            for key, members in spelling_groups(new_words).items():
                groups.setdefault(key, []).extend(members)
        return Lexicon(
            words,
            word_ids,
            np.concatenate((self.word_stem, new_stem)),
            stems,
            stem_ids,
            grams,
            gram_ids,
            np.concatenate((self.word_gram_ptr, np.asarray(ptr[1:], dtype=np.int64))),
            np.concatenate((self.word_gram_ids, np.asarray(ids, dtype=np.int32))),
            np.concatenate((self.word_gram_tf, np.asarray(tfs, dtype=np.float32))),
            groups,
        )

    def word_grams(self) -> sp.csr_matrix:
        """Word -> 4-gram counts, one row per word."""
        shape = (max(len(self.words), 1), max(len(self.grams), 1))
        ptr = self.word_gram_ptr if self.words else np.zeros(2, dtype=np.int64)
        return sp.csr_matrix((self.word_gram_tf, self.word_gram_ids, ptr), shape=shape)

    def gram_counts(self) -> np.ndarray:
        """Number of 4-grams of each word (with repeats): a passage's length in 4-grams."""
        n = len(self.words)
        owner = np.repeat(np.arange(n), np.diff(self.word_gram_ptr[: n + 1]))
        return np.bincount(owner, weights=self.word_gram_tf, minlength=n)


@dataclass(frozen=True)
class IndexData:
    """Every array of an index. Passages are numbered in reading order; each passage is
    the word ids of its article's title, its own headings and its body, in `tokens`."""

    lexicon: Lexicon
    article_keys: tuple[tuple[str, str], ...]  # (id, content hash) of each article slot
    tokens: np.ndarray  # int32 word ids
    passage_start: np.ndarray  # int64, len = passages + 1
    heading_start: np.ndarray  # int64
    body_start: np.ndarray  # int64
    sentence_start: np.ndarray  # int64 token offsets
    sentence_end: np.ndarray  # int64
    sentence_passage: np.ndarray  # int32
    passage_article: np.ndarray  # int32 article slot
    passage_section: np.ndarray  # int32 section of the article
    word_postings: Postings  # stem -> passages
    bigram_keys: np.ndarray  # int64, sorted
    bigram_ids: np.ndarray  # int32, id of each sorted key
    bigram_postings: Postings  # bigram id -> passages
    bigram_length: np.ndarray  # float32 bigrams per passage
    article_postings: Postings  # stem -> article slots
    article_length: np.ndarray  # float32
    gram_length: np.ndarray  # float32 4-grams per passage
    alive: np.ndarray  # bool per passage
    article_alive: np.ndarray  # bool per article slot
    word_df: np.ndarray  # int64 live passages per stem
    bigram_df: np.ndarray  # int64 live passages per bigram
    article_df: np.ndarray  # int64 live articles per stem
    gram_df: np.ndarray  # int64 live passages per 4-gram
    word_counts: np.ndarray  # int64 live occurrences per word

    @property
    def passages(self) -> int:
        return len(self.passage_start) - 1

    @property
    def dead(self) -> int:
        return int(self.passages - self.alive.sum())

    def arrays(self) -> dict[str, Any]:
        """Everything but the lexicon's dictionaries, which `from_arrays` rebuilds."""
        out: dict[str, Any] = {}
        for name in _ARRAYS:
            out[name] = getattr(self, name)
        for name in ("word_postings", "bigram_postings", "article_postings"):
            p: Postings = getattr(self, name)
            out[f"{name}.tf"], out[f"{name}.indices"], out[f"{name}.indptr"] = (
                p.tf, p.indices, p.indptr,
            )  # fmt: skip
        lex = self.lexicon
        for name in ("word_stem", "word_gram_ptr", "word_gram_ids", "word_gram_tf"):
            out[f"lexicon.{name}"] = getattr(lex, name)
        return out

    @staticmethod
    def from_arrays(
        arrays: dict[str, Any],
        words: list[str],
        stems: list[str],
        grams: list[str],
        article_keys: tuple[tuple[str, str], ...],
    ) -> IndexData:
        lexicon = Lexicon(
            words,
            {w: i for i, w in enumerate(words)},
            arrays["lexicon.word_stem"],
            stems,
            {s: i for i, s in enumerate(stems)},
            grams,
            {g: i for i, g in enumerate(grams)},
            arrays["lexicon.word_gram_ptr"],
            arrays["lexicon.word_gram_ids"],
            arrays["lexicon.word_gram_tf"],
        )
        postings = {
            name: Postings(
                arrays[f"{name}.tf"], arrays[f"{name}.indices"], arrays[f"{name}.indptr"]
            )
            for name in ("word_postings", "bigram_postings", "article_postings")
        }
        fields: dict[str, Any] = {name: arrays[name] for name in _ARRAYS}
        fields.update(postings)
        return IndexData(lexicon=lexicon, article_keys=article_keys, **fields)


_ARRAYS = (
    "tokens", "passage_start", "heading_start", "body_start", "sentence_start",
    "sentence_end", "sentence_passage", "passage_article", "passage_section", "bigram_keys",
    "bigram_ids", "bigram_length", "article_length", "gram_length", "alive", "article_alive",
    "word_df", "bigram_df", "article_df", "gram_df", "word_counts",
)  # fmt: skip


def read(
    articles: Sequence[Article], base: IndexData | None = None, progress: Progress = no_progress
) -> IndexData:
    """The arrays of `articles` alone, with word, stem, 4-gram and bigram ids that extend
    those of `base`, so `merge(base, read(new, base))` is the index of both."""
    lexicon = base.lexicon if base is not None else Lexicon.empty()
    known = lexicon.word_ids
    fresh: dict[str, int] = {}
    tokens: list[int] = []
    passage_start: list[int] = []
    heading_start: list[int] = []
    body_start: list[int] = []
    sentence_start: list[int] = []
    sentence_end: list[int] = []
    sentence_passage: list[int] = []
    passage_article: list[int] = []
    passage_section: list[int] = []
    first_new = len(known)

    def ids(text: str) -> list[int]:
        out = []
        for w in content_words(text):
            i = known.get(w)
            if i is None:
                i = fresh.get(w)
                if i is None:
                    i = fresh[w] = first_new + len(fresh)
            out.append(i)
        return out

    for a, article in enumerate(articles):
        if a % PROGRESS_STEP == 0:
            progress(a, len(articles))
        title_ids = ids(article.title)
        for s, section in enumerate(article.sections):
            path = section.heading_path
            own_path = path[1:] if path and path[0] == article.title else path
            passage = len(passage_start)
            passage_start.append(len(tokens))
            tokens.extend(title_ids)
            heading_start.append(len(tokens))
            tokens.extend(ids(" ".join(own_path)))
            body_start.append(len(tokens))
            for sentence in section.sentences:
                sentence_start.append(len(tokens))
                tokens.extend(ids(sentence.text))
                sentence_end.append(len(tokens))
                sentence_passage.append(passage)
            passage_article.append(a)
            passage_section.append(s)
    passage_start.append(len(tokens))
    progress(len(articles), len(articles))
    lexicon = lexicon.extended(list(fresh))

    tok = np.asarray(tokens, dtype=np.int32)
    starts = np.asarray(passage_start, dtype=np.int64)
    heads = np.asarray(heading_start, dtype=np.int64)
    bodies = np.asarray(body_start, dtype=np.int64)
    owners = np.asarray(passage_article, dtype=np.int32)
    n_passages, n_articles = len(starts) - 1, len(articles)
    n_stems, n_words = len(lexicon.stems), len(lexicon.words)
    owner = np.repeat(np.arange(n_passages, dtype=np.int32), np.diff(starts))
    stems = lexicon.word_stem[tok]

    words = build_postings(owner, stems, n_passages, n_stems)

    # Bigrams: adjacent stems inside the title, the heading or the body of a passage.
    boundary = np.zeros(len(tok) + 1, dtype=bool)
    boundary[starts] = True
    boundary[heads] = True
    boundary[bodies] = True
    at = np.flatnonzero(~boundary[1:-1]).astype(np.int64)
    keys = stems[at].astype(np.int64) * BIGRAM_SHIFT + stems[at + 1]
    unique_keys, inverse = np.unique(keys, return_inverse=True)
    base_keys = base.bigram_keys if base is not None else np.zeros(0, np.int64)
    base_ids = base.bigram_ids if base is not None else np.zeros(0, np.int32)
    n_base_bigrams = len(base_keys)
    found = np.searchsorted(base_keys, unique_keys)
    found = np.minimum(found, max(n_base_bigrams - 1, 0))
    known_key = (
        base_keys[found] == unique_keys if n_base_bigrams else np.zeros(len(unique_keys), bool)
    )
    global_id = np.empty(len(unique_keys), dtype=np.int64)
    global_id[known_key] = base_ids[found[known_key]]
    new_keys = unique_keys[~known_key]
    global_id[~known_key] = n_base_bigrams + np.arange(len(new_keys))
    n_bigrams = n_base_bigrams + len(new_keys)
    bigram_terms = global_id[inverse.ravel()]
    bigrams = build_postings(owner[at], bigram_terms, n_passages, n_bigrams)
    bigram_length = np.bincount(owner[at], minlength=n_passages).astype(np.float32)

    # Articles: one document per article, its title once, then every heading and body.
    first_of_article = np.ones(n_passages, dtype=bool)
    first_of_article[1:] = owners[1:] != owners[:-1]
    in_title = np.arange(len(tok)) < heads[owner] if len(tok) else np.zeros(0, bool)
    keep = ~in_title | first_of_article[owner]
    article_docs = owners[owner[keep]]
    article_words = build_postings(article_docs, stems[keep], n_articles, n_stems)
    article_length = np.bincount(article_docs, minlength=n_articles).astype(np.float32)

    gram_df, gram_length = _gram_stats(lexicon, tok, starts, owner)
    return IndexData(
        lexicon=lexicon,
        article_keys=tuple((a.id, a.content_hash) for a in articles),
        tokens=tok,
        passage_start=starts,
        heading_start=heads,
        body_start=bodies,
        sentence_start=np.asarray(sentence_start, dtype=np.int64),
        sentence_end=np.asarray(sentence_end, dtype=np.int64),
        sentence_passage=np.asarray(sentence_passage, dtype=np.int32),
        passage_article=owners,
        passage_section=np.asarray(passage_section, dtype=np.int32),
        word_postings=words,
        bigram_keys=new_keys,  # with `base`, only the keys it lacks: `merge` adds them
        bigram_ids=np.arange(n_base_bigrams, n_bigrams, dtype=np.int32),
        bigram_postings=bigrams,
        bigram_length=bigram_length,
        article_postings=article_words,
        article_length=article_length,
        gram_length=gram_length,
        alive=np.ones(n_passages, dtype=bool),
        article_alive=np.ones(n_articles, dtype=bool),
        word_df=words.counts(n_stems),
        bigram_df=bigrams.counts(n_bigrams),
        article_df=article_words.counts(n_stems),
        gram_df=gram_df,
        word_counts=np.bincount(tok, minlength=n_words).astype(np.int64),
    )


def _gram_stats(
    lexicon: Lexicon, tokens: np.ndarray, starts: np.ndarray, owner: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Passages containing each 4-gram, and each passage's length in 4-grams."""
    n_passages = len(starts) - 1
    n_grams = len(lexicon.grams)
    per_word = lexicon.gram_counts()
    length = np.bincount(owner, weights=per_word[tokens], minlength=n_passages).astype(np.float32)
    present = lexicon.word_grams()
    present.data = np.ones_like(present.data)
    df = np.zeros(max(n_grams, 1), dtype=np.int64)
    chunk = 10_000
    for lo in range(0, n_passages, chunk):
        block = np.arange(lo, min(lo + chunk, n_passages))
        df += np.diff((bags(tokens, starts, block, len(lexicon.words)) @ present).tocsc().indptr)
    return df[:n_grams], length


def bags(tokens: np.ndarray, starts: np.ndarray, passages: np.ndarray, n_words: int) -> Any:
    """Word counts of the given passages, one row each (a scipy CSR matrix)."""
    first = starts[passages]
    lengths = starts[passages + 1] - first
    rows = np.repeat(np.arange(len(passages)), lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    cols = tokens[np.repeat(first, lengths) + offsets]
    return sp.csr_matrix(
        (np.ones(len(cols), dtype=np.float32), (rows, cols)),
        shape=(len(passages), max(n_words, 1)),
    )


def _pad(values: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros(size, dtype=values.dtype)
    out[: len(values)] = values
    return out


def merge(base: IndexData, extra: IndexData) -> IndexData:
    """`base` followed by `extra` (read against `base`), statistics summed."""
    lexicon = extra.lexicon
    n_stems, n_words, n_grams = len(lexicon.stems), len(lexicon.words), len(lexicon.grams)
    n_bigrams = len(base.bigram_keys) + len(extra.bigram_keys)
    tokens_at, passages_at = len(base.tokens), base.passages
    articles_at = len(base.article_keys)
    # Both key arrays are sorted: inserting is a copy, where sorting the union is not.
    slots = np.searchsorted(base.bigram_keys, extra.bigram_keys)
    return IndexData(
        lexicon=lexicon,
        article_keys=base.article_keys + extra.article_keys,
        tokens=np.concatenate((base.tokens, extra.tokens)),
        passage_start=np.concatenate((base.passage_start[:-1], extra.passage_start + tokens_at)),
        heading_start=np.concatenate((base.heading_start, extra.heading_start + tokens_at)),
        body_start=np.concatenate((base.body_start, extra.body_start + tokens_at)),
        sentence_start=np.concatenate((base.sentence_start, extra.sentence_start + tokens_at)),
        sentence_end=np.concatenate((base.sentence_end, extra.sentence_end + tokens_at)),
        sentence_passage=np.concatenate(
            (base.sentence_passage, extra.sentence_passage + passages_at)
        ),
        passage_article=np.concatenate((base.passage_article, extra.passage_article + articles_at)),
        passage_section=np.concatenate((base.passage_section, extra.passage_section)),
        word_postings=merge_postings(base.word_postings, extra.word_postings, n_stems, passages_at),
        bigram_keys=insert_sorted(base.bigram_keys, slots, extra.bigram_keys),
        bigram_ids=insert_sorted(base.bigram_ids, slots, extra.bigram_ids),
        bigram_postings=merge_postings(
            base.bigram_postings, extra.bigram_postings, n_bigrams, passages_at
        ),
        bigram_length=np.concatenate((base.bigram_length, extra.bigram_length)),
        article_postings=merge_postings(
            base.article_postings, extra.article_postings, n_stems, articles_at
        ),
        article_length=np.concatenate((base.article_length, extra.article_length)),
        gram_length=np.concatenate((base.gram_length, extra.gram_length)),
        alive=np.concatenate((base.alive, extra.alive)),
        article_alive=np.concatenate((base.article_alive, extra.article_alive)),
        word_df=_pad(base.word_df, n_stems) + extra.word_df,
        bigram_df=_pad(base.bigram_df, n_bigrams) + extra.bigram_df,
        article_df=_pad(base.article_df, n_stems) + extra.article_df,
        gram_df=_pad(base.gram_df, n_grams) + extra.gram_df,
        word_counts=_pad(base.word_counts, n_words) + extra.word_counts,
    )


def without(data: IndexData, slots: Sequence[int]) -> IndexData:
    """`data` with the given article slots dead: their passages no longer count in any
    statistic and are never scored (their entries stay until the next full build)."""
    slots = [s for s in slots if data.article_alive[s]]
    if not slots:
        return data
    article_alive = data.article_alive.copy()
    article_alive[slots] = False
    dying = np.isin(data.passage_article, np.asarray(slots)) & data.alive
    alive = data.alive & ~dying
    passages = np.flatnonzero(dying)
    lex = data.lexicon
    starts = data.passage_start
    lengths = starts[passages + 1] - starts[passages]
    owner = np.repeat(passages, lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    at = np.repeat(starts[passages], lengths) + offsets
    tok = data.tokens[at]
    stems = lex.word_stem[tok].astype(np.int64)

    def distinct(docs: np.ndarray, terms: np.ndarray, size: int) -> np.ndarray:
        pairs = np.unique(docs.astype(np.int64) * (size + 1) + terms)
        return np.bincount(pairs % (size + 1), minlength=size)[:size]

    n_stems = len(lex.stems)
    word_df = data.word_df - distinct(owner, stems, n_stems)
    article_df = data.article_df - distinct(data.passage_article[owner], stems, n_stems)
    # Bigrams of the dying passages, found the way `read` makes them.
    inner = np.ones(len(at), dtype=bool)
    inner[:-1] = owner[1:] == owner[:-1]
    inner[-1:] = False
    boundaries = np.concatenate((starts[passages], data.heading_start[passages],
                                 data.body_start[passages]))  # fmt: skip
    inner &= ~np.isin(at + 1, boundaries)
    pair = np.flatnonzero(inner)
    keys = stems[pair] * BIGRAM_SHIFT + stems[pair + 1]
    where = np.searchsorted(data.bigram_keys, keys)
    bigram_df = data.bigram_df - distinct(
        owner[pair], data.bigram_ids[where].astype(np.int64), len(data.bigram_df)
    )
    gram_df = data.gram_df.copy()
    if len(passages):
        present = lex.word_grams()
        present.data = np.ones_like(present.data)
        hits = bags(data.tokens, starts, passages, len(lex.words)) @ present
        gram_df[: hits.shape[1]] -= np.diff(hits.tocsc().indptr)[: len(gram_df)]
    word_counts = data.word_counts - np.bincount(tok, minlength=len(data.word_counts))
    return replace(
        data,
        alive=alive,
        article_alive=article_alive,
        word_df=word_df,
        article_df=article_df,
        bigram_df=bigram_df,
        gram_df=gram_df,
        word_counts=word_counts,
    )
