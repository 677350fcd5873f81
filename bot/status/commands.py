"""`/status`: what the bot serves right now, for the admins who feed it articles.

After a restart or a large delivery of articles, answers come first and the actor
directory and the timeline follow in the background; this says how far along they are, so
an admin can tell "still building" from "broken".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from bot.chat.context import CommandContext
from bot.chat.registry import command
from bot.chat.replies import Block, Field, Reply, ReplyKind
from bot.corpus.french import count
from bot.corpus.library import BUILDING, READY, DerivationState

# Each derivation's name in chat, and "ready" agreeing with it.
_NAMES = {"actors": ("Annuaire des acteurs", "prêt"), "events": ("Chronologie", "prête")}


@dataclass(frozen=True)
class CorpusStatus:
    """What `/status` shows; `index` are lines about the search index, from its owner."""

    articles: int
    problems: int
    loaded_at: dt.datetime | None
    derivations: tuple[DerivationState, ...] = ()
    index: tuple[tuple[str, str], ...] = ()


class StatusCommands:
    def __init__(
        self,
        status: Callable[[], CorpusStatus],
        *,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.status = status
        self.clock = clock

    @command("status", "État du corpus et des données dérivées (administrateurs)", admin=True)
    async def show(self, ctx: CommandContext) -> Reply:
        s = self.status()
        fields = [
            Field("Articles", str(s.articles)),
            Field("Fichiers ignorés", str(s.problems)),
            Field("Corpus relu", _ago(s.loaded_at, self.clock())),
        ]
        fields += [Field(name, value) for name, value in s.index]
        for d in s.derivations:
            name, ready_word = _NAMES.get(d.name, (d.name, "prêt"))
            fields.append(Field(name, _phase(d, ready_word)))
        ready = all(d.phase == READY for d in s.derivations)
        title = "Tout est prêt" if ready else "Construction en cours"
        return Reply(
            ReplyKind.INFO,
            title,
            (Block(fields=tuple(fields)),),
            private=True,
            data={
                "articles": s.articles,
                "problems": s.problems,
                "derivations": {d.name: d.phase for d in s.derivations},
            },
        )


def _phase(state: DerivationState, ready_word: str) -> str:
    if state.phase == READY:
        return ready_word
    if state.phase == BUILDING:
        text = f"en construction depuis {count(round(state.seconds or 0), 'seconde')}"
    else:
        text = "en attente"
    return f"{text} (la version précédente sert en attendant)" if state.stale else text


def _ago(moment: dt.datetime | None, now: dt.datetime) -> str:
    if moment is None:
        return "pas encore"
    seconds = max(0, round((now - moment).total_seconds()))
    if seconds < 60:
        return f"il y a {count(seconds, 'seconde')}"
    return f"il y a {count(seconds // 60, 'minute')}"
