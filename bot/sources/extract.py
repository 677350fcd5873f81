"""The main text of an article page (or of a feed entry's HTML) with trafilatura:
text, title, date, author, language; navigation, ads and comments left out.

trafilatura (and lxml) are imported when a page is extracted, so `briefbot ask` never
pays for them. Extracted text is untrusted like any article: it is only ever shown
through the adapters, which neutralise mentions.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

MIN_TEXT_CHARS = 200  # below this a "page" is a stub, a paywall or a navigation page


class NoText(ValueError):
    """The page has no extractable article text."""


@dataclass(frozen=True, slots=True)
class Extracted:
    text: str
    title: str | None = None
    date: str | None = None
    author: str | None = None
    language: str | None = None


def extract_article(html: str | bytes, url: str, *, min_chars: int = MIN_TEXT_CHARS) -> Extracted:
    """The article of `html`; NoText when fewer than `min_chars` characters remain.

    Without trafilatura's `deduplicate`: its cache is process-wide, so a page extracted a
    second time (a retried item) came back empty.
    """
    import trafilatura

    raw = trafilatura.extract(
        html,
        url=url,
        output_format="json",
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        favor_precision=True,
        # The page's own date only: the extensive search took "© 2024" footers for dates.
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if not raw:
        raise NoText("aucun texte d'article dans la page")
    data = json.loads(raw)
    title = _clean(data.get("title"))
    text = _paragraphs(str(data.get("text") or data.get("raw_text") or ""))
    if title and text.startswith(title + "\n"):
        text = text[len(title) :].lstrip()
    if len(text) < min_chars:
        raise NoText("aucun texte d'article dans la page (trop court)")
    return Extracted(
        text=text,
        title=title,
        date=_day(data.get("date")),
        author=_clean(data.get("author")),
        language=_clean(data.get("language")),
    )


def html_text(html: str) -> str:
    """Every paragraph of a fragment of HTML (a feed's `content:encoded`), as text."""
    import trafilatura

    wrapped = f"<html><body><article>{html}</article></body></html>"
    found = trafilatura.extract(wrapped, include_comments=False, favor_recall=True)
    if not found:
        found = trafilatura.html2txt(wrapped) or ""
    return _paragraphs(found)


def _paragraphs(text: str) -> str:
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n\n".join(line for line in lines if line)


def _day(value: object) -> str | None:
    text = str(value or "")[:10]
    return text if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None


def _clean(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    return text or None
