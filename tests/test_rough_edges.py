"""The rough edges a new user hit: titles, repeated warnings, mentions, error titles,
a closed pipe."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.ask.commands import check_question, strip_mentions
from bot.briefings.changes import SubscriptionChanges
from bot.briefings.commands import BriefingCommands
from bot.chat.context import ChannelRef, CommandContext
from bot.chat.guard import Guard
from bot.chat.ratelimit import RateLimiter
from bot.chat.registry import Registry
from bot.chat.replies import Reply, ReplyKind
from bot.corpus.library import Library
from bot.corpus.loader import parse_article
from bot.storage.database import Database
from tests.conftest import ROOT, SEEDS

LONG_FIRST_SENTENCE = (
    "Les Etats-Unis ont accepté vendredi de retirer leurs soldats du pays, a annoncé le "
    "département d'Etat à l'issue d'une rencontre à Washington avec les autorités de transition."
)


def test_a_wire_copy_title_is_cut_at_a_clause_boundary() -> None:
    article = parse_article(LONG_FIRST_SENTENCE.encode(), article_id="wire")
    assert article.title == "Les Etats-Unis ont accepté vendredi de retirer leurs soldats du pays…"


def test_a_title_without_a_clause_boundary_is_cut_at_a_word() -> None:
    sentence = " ".join(["mot"] * 40) + "."
    title = parse_article(sentence.encode(), article_id="wire").title
    assert len(title) <= 81 and title.endswith("mot…")


def test_a_short_first_sentence_is_the_whole_title() -> None:
    article = parse_article("Le retrait est acté. Suite du texte.".encode(), article_id="w")
    assert article.title == "Le retrait est acté"


def test_a_corpus_problem_is_warned_once_until_its_file_changes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "good.md").write_text("# Titre\n\nUn texte.\n")
    (tmp_path / "bad.md").write_bytes(b"\xff\xfe\x00binary")
    library = Library(tmp_path)
    library.load()
    caplog.clear()
    (tmp_path / "other.md").write_text("# Autre\n\nUn autre texte.\n")
    assert library.refresh()
    assert not [r for r in caplog.records if "bad.md" in r.getMessage()]
    (tmp_path / "bad.md").write_bytes(b"\xff\xfe\x00binary, changed")
    os.utime(tmp_path / "bad.md", ns=(1, 1))
    assert library.refresh()
    assert len([r for r in caplog.records if "bad.md" in r.getMessage()]) == 1


def test_mention_tokens_are_stripped_from_a_question() -> None:
    question = "@everyone <@&123456> <@!42> <@U0ABC|bob> @here <!channel> Qui est Molly Phee ?"
    assert " ".join(strip_mentions(question).split()) == "Qui est Molly Phee ?"


def test_an_address_is_not_a_mention() -> None:
    assert strip_mentions("Écrire à contact@here.org ?") == "Écrire à contact@here.org ?"


def test_a_question_made_only_of_mentions_is_empty() -> None:
    with pytest.raises(Exception, match="vide"):
        check_question("@everyone <@&1>", 1000)


async def _briefing(db: Database, text: str) -> Reply:
    async def digest(*_: object) -> Reply:
        raise AssertionError("not reached")

    registry = Registry(
        [BriefingCommands(db.subscriptions, db.deliveries, SubscriptionChanges(), digest)],
        guard=Guard(),
        limiter=RateLimiter(10),
    )

    async def is_admin() -> bool:
        return True

    ctx = CommandContext(
        ChannelRef("slack", "T1", "C1"), user_id="U1", user_name="Awa", is_admin=is_admin
    )
    return await registry.run_text(ctx, "briefing", text)


@pytest.mark.parametrize(
    ("options", "title"),
    [
        ("at=25:00", "Heure non valide"),
        ("at=08:00 days=lundo", "Jours non valides"),
        ("at=08:00 tz=Europe/Pari", "Fuseau horaire non valide"),
        ('cron="99 * * * *"', "Expression cron non valide"),
        ("at=08:00 at=09:00", "Options non valides"),
    ],
)
async def test_a_briefing_error_title_says_what_was_wrong(
    db: Database, options: str, title: str
) -> None:
    reply = await _briefing(db, f"subscribe {options}")
    assert reply.kind is ReplyKind.ERROR and reply.title == title


def test_a_closed_pipe_ends_quietly_with_the_usual_status(tmp_path: Path) -> None:
    questions = "Qui est Molly Phee ?\n" * 300
    env = {**os.environ, "BRIEFBOT_CORPUS": str(SEEDS)}
    proc = subprocess.run(
        ["bash", "-c", f'set -o pipefail; "{sys.executable}" -m briefbot ask - | head -1'],
        input=questions,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr
    assert proc.returncode == 0  # briefbot's own status, through pipefail
    assert proc.stdout.count("\n") == 1


def test_names_that_open_a_message_are_addressees_not_the_question() -> None:
    from bot.ask.commands import strip_mentions

    assert " ".join(strip_mentions("@alice, @devs Qui est Molly Phee ?").split()) == (
        "Qui est Molly Phee ?"
    )
    assert "@Tiani" in strip_mentions("Que dit @Tiani ?")
