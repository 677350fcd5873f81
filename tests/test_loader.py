"""The corpus loader: Markdown, wire copy, front matter, related links, bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.corpus.loader import load_corpus, parse_article

MD_ID = "000_ab94e0541aefd417"
WIRE_ID = "003_7eb3dd99e69e60ff"


def by_id(folder: Path) -> dict:
    return {a.id: a for a in load_corpus(folder).articles}


def test_seeds_load_without_problems(seeds: Path) -> None:
    result = load_corpus(seeds)
    assert [a.id for a in result.articles] == [MD_ID, WIRE_ID]
    assert result.problems == []


def test_markdown_title_and_heading_paths(seeds: Path) -> None:
    article = by_id(seeds)[MD_ID]
    assert article.title == "LA JUNTE SOURDE AUX PRESSIONS AMÉRICAINES AU NIGER"
    assert [s.label for s in article.sections] == [
        article.title,
        "DES CONDITIONS STRICTES",
        "DES CONDITIONS STRICTES › UNE FIN DE NON-RECEVOIR",
        "UN PARTENARIAT AVEC LA RUSSIE",
        "UN PARTENARIAT AVEC LA RUSSIE › LE JEU DE LA JUNTE",
    ]


def test_closing_link_list_is_related_links_not_answer_text(seeds: Path) -> None:
    article = by_id(seeds)[MD_ID]
    assert len(article.related_links) == 4
    assert article.related_links[0].title.startswith("Antony Blinken en tournée")
    assert article.related_links[0].url.startswith("https://www.lemonde.fr/")
    body = " ".join(s.text for s in article.sections)
    assert "Pour plus d’informations" not in body
    assert "Blinken" not in body


def test_wire_copy_date_token_sharing_the_first_line(seeds: Path) -> None:
    article = by_id(seeds)[WIRE_ID]
    assert article.date == "2024-04"
    first = article.sections[0].paragraphs[0].text
    assert first.startswith("Les Etats-Unis ont finalement accepté vendredi")
    assert "date 2024" not in first


def test_wire_copy_title_comes_from_first_sentence(seeds: Path) -> None:
    article = by_id(seeds)[WIRE_ID]
    assert article.title.startswith("Les Etats-Unis ont finalement accepté vendredi")
    assert len(article.title) <= 81


def test_wire_copy_subheads_start_sections(seeds: Path) -> None:
    article = by_id(seeds)[WIRE_ID]
    assert [s.heading for s in article.sections][1:] == ["Manifestation", "Africa Corps"]


def test_sentences_carry_offsets_into_their_paragraph(seeds: Path) -> None:
    for article in by_id(seeds).values():
        for section in article.sections:
            for paragraph in section.paragraphs:
                for sentence in paragraph.sentences:
                    assert paragraph.text[sentence.start : sentence.end] == sentence.text


def test_paragraph_offsets_point_into_the_source_file(seeds: Path) -> None:
    article = by_id(seeds)[WIRE_ID]
    source = (seeds / f"{WIRE_ID}.txt").read_text(encoding="utf-8")
    paragraph = article.sections[1].paragraphs[0]
    assert source[paragraph.offset :].startswith(paragraph.text[:40])


def test_french_abbreviation_does_not_end_a_sentence() -> None:
    article = parse_article("# T\n\nM. Dupont est arrivé. Il a parlé.\n".encode(), article_id="a")
    sentences = [s.text for s in article.sentences]
    assert sentences == ["M. Dupont est arrivé.", "Il a parlé."]


def test_front_matter_overrides_what_is_inferred() -> None:
    raw = (
        b"---\ntitle: Titre choisi\ndate: 2024-05-02\nsource: AFP\n"
        b"url: https://example.org/a\nlanguage: fr\n---\n# Titre du fichier\n\nUn texte.\n"
    )
    article = parse_article(raw, article_id="fm")
    assert (article.title, article.date, article.source, article.url) == (
        "Titre choisi",
        "2024-05-02",
        "AFP",
        "https://example.org/a",
    )


def test_hard_wrapped_markdown_lines_join_into_one_paragraph() -> None:
    raw = "# T\n\nUne phrase coupée\nsur deux lignes.\n\nUn autre paragraphe.\n".encode()
    article = parse_article(raw, article_id="w")
    texts = [p.text for p in article.sections[0].paragraphs]
    assert texts == ["Une phrase coupée sur deux lignes.", "Un autre paragraphe."]


def test_markdown_links_in_text_are_unwrapped() -> None:
    raw = b"# T\n\nSelon [le Monde](https://lemonde.fr), il pleut.\n"
    article = parse_article(raw, article_id="l")
    assert article.sections[0].paragraphs[0].text == "Selon le Monde, il pleut."


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("latin1.txt", "Café à Niamey".encode("latin-1"), "not UTF-8"),
        ("empty.md", b"  \n\n", "empty file"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00", "binary file"),
        ("badfm.md", b"---\ntitle: [oops\n---\nTexte.\n", "unparseable front matter"),
        ("unclosed.md", b"---\ntitle: x\nTexte.\n", "unparseable front matter"),
        ("headings.md", b"# Titre\n## Section\n", "no article text"),
    ],
)
def test_unreadable_file_is_skipped_with_a_named_reason(
    corpus: Path, name: str, content: bytes, reason: str
) -> None:
    (corpus / name).write_bytes(content)
    result = load_corpus(corpus)
    assert [a.id for a in result.articles] == [MD_ID, WIRE_ID]
    assert len(result.problems) == 1
    assert result.problems[0].path.endswith(name)
    assert reason in result.problems[0].reason


def test_other_file_types_and_hidden_files_are_ignored(corpus: Path) -> None:
    (corpus / "notes.pdf").write_bytes(b"%PDF")
    (corpus / ".draft.md").write_text("# Brouillon\n\nTexte.\n")
    assert len(load_corpus(corpus).articles) == 2


def test_missing_corpus_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_corpus(tmp_path / "nowhere")
