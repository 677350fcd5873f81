"""The `/source` commands: follow a feed or take one article, list, stop following,
relaunch a source paused after failures.

Adding, removing and resuming are for admins (the registry checks `ctx.is_admin` for
commands declared `admin`), because every added or resumed URL makes the bot fetch from
the network; the list is for everyone. `add` fetches at once: a feed's current items are taken, an
article page is taken once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from bot.chat.context import CommandContext
from bot.chat.registry import InputError, Option, command, group
from bot.chat.replies import Block, Field, Reply, ReplyKind, error, info
from bot.corpus.french import count
from bot.sources.model import FEED, Source, utcnow
from bot.sources.poller import SourceError, SourcePoller, canonical
from bot.sources.ports import SourceStore

URL_OPTION = (Option("url", "Adresse du flux RSS/Atom ou de l'article", required=True, rest=True),)
ADD_OPTIONS = (
    Option("url", "Adresse du flux RSS/Atom ou de l'article", required=True, max_length=2000),
    Option("interval", "Minutes entre deux relèves (15 par défaut, 5 au moins)", max_length=6),
)
EXAMPLE = "/source add https://example.org/afrique/rss"
T = TypeVar("T")


def read_add_text(text: str) -> dict[str, str]:
    """`URL [interval=30]` as typed in text (`intervalle=` too)."""
    values: dict[str, str] = {}
    for word in text.split():
        key, sep, value = word.partition("=")
        if sep and key.lower() in ("interval", "intervalle") and "://" not in key:
            values["interval"] = value
        elif "url" not in values:
            values["url"] = word
        else:
            raise InputError(f"Une seule adresse à la fois, par exemple {EXAMPLE}")
    return values


@group("source", "Sources d'actualité suivies (flux RSS/Atom, articles)")
class SourceCommands:
    def __init__(
        self,
        poller: SourcePoller,
        store: SourceStore,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.poller = poller
        self.store = store
        self.clock = clock

    @command(
        "add",
        "Suivre un flux RSS/Atom, ou reprendre un article (administrateurs)",
        options=ADD_OPTIONS,
        example=EXAMPLE,
        aliases=("ajouter", "suivre"),
        parse=read_add_text,
        admin=True,
        slow=True,
    )
    async def add(
        self, ctx: CommandContext, url: str | None = None, interval: str | None = None
    ) -> Reply:
        if not url:
            raise InputError(f"Donnez l'adresse d'un flux ou d'un article, par exemple {EXAMPLE}")
        if interval is not None and not interval.isdigit():
            raise InputError("interval= se donne en minutes, par exemple interval=30")
        minutes = int(interval) if interval is not None else None
        try:
            source, result = await self.poller.add(
                url, ctx.user_name or ctx.user_id, interval_minutes=minutes
            )
        except SourceError as err:
            return error(str(err), title="Source non ajoutée")
        kind = "Flux suivi" if source.kind == FEED else "Article repris"
        blocks = [Block(source.url, fields=_fields(source, self.clock()))]
        if result.error:
            blocks.append(Block(note=result.error))
        taken = len(result.written)
        text = f"{count(taken, 'article')} repris maintenant."
        if source.kind == FEED:
            text += " Les nouveaux seront repris à chaque relève."
        return Reply(
            ReplyKind.SUCCESS,
            kind,
            (Block(text), *blocks),
            data={"source": source_json(source), "written": list(result.written)},
        )

    @command("list", "Les sources suivies et leur état", aliases=("liste", "ls"))
    async def list_all(self, ctx: CommandContext) -> Reply:
        sources = self.store.list()
        if not sources:
            return info("Aucune source", f"Aucune source suivie. Par exemple : {EXAMPLE}")
        now = self.clock()
        blocks = tuple(
            Block(
                heading=s.title or s.url,
                url=s.url,
                fields=_fields(s, now),
                note=f"{s.paused_reason} (pour la relancer : /source resume {s.url})"
                if s.paused
                else s.last_error,
            )
            for s in sources
        )
        title = "1 source" if len(sources) == 1 else f"{len(sources)} sources"
        return Reply(
            ReplyKind.INFO,
            title,
            blocks,
            private=True,
            data={"sources": [source_json(s) for s in sources]},
        )

    @command(
        "remove",
        "Ne plus suivre une source ; ses articles restent (administrateurs)",
        options=URL_OPTION,
        example="/source remove https://example.org/afrique/rss",
        aliases=("supprimer", "retirer"),
        admin=True,
    )
    async def remove(self, ctx: CommandContext, url: str | None = None) -> Reply:
        if not url:
            raise InputError("Donnez l'adresse de la source à retirer (voir /source list).")
        gone = _by_url(self.store.remove, url)
        if gone is None:
            return info("Source inconnue", UNKNOWN)
        return Reply(
            ReplyKind.SUCCESS,
            "Source retirée",
            (
                Block(
                    f"{gone.url} n'est plus suivie. Les {count(gone.articles_taken, 'article')} "
                    "qu'elle a apportés restent dans le corpus."
                ),
            ),
            data={"source": source_json(gone)},
        )

    @command(
        "resume",
        "Relancer une source mise en pause après des échecs (administrateurs)",
        options=URL_OPTION,
        example="/source resume https://example.org/afrique/rss",
        aliases=("relancer", "reactiver"),
        admin=True,
    )
    async def resume(self, ctx: CommandContext, url: str | None = None) -> Reply:
        """Without this a paused source could only be removed and added again."""
        if not url:
            raise InputError("Donnez l'adresse de la source à relancer (voir /source list).")
        now = self.clock()
        found = _by_url(lambda u: self.store.resume(u, now=now), url)
        if found is None:
            return info("Source inconnue", UNKNOWN)
        source, was_paused = found
        data = {"source": source_json(source), "resumed": was_paused}
        if not was_paused:
            text = f"{source.url} n'est pas en pause : rien à relancer."
            return Reply(ReplyKind.INFO, "Source active", (Block(text),), private=True, data=data)
        text = (
            f"{source.url} n'est plus en pause : ses échecs sont oubliés et elle sera "
            "relevée au prochain passage."
        )
        return Reply(
            ReplyKind.SUCCESS,
            "Source relancée",
            (Block(text, fields=_fields(source, now)),),
            data=data,
        )


UNKNOWN = "Cette adresse n'est pas suivie (voir /source list)."


def _by_url(act: Callable[[str], T | None], url: str) -> T | None:
    """`act` on the URL as typed (Slack wraps links in `<...>`), else on its canonical
    form: the forms a source may have been added under."""
    typed = url.strip().strip("<>")
    found = act(typed)
    if found is None and canonical(typed) != typed:
        found = act(canonical(typed))
    return found


def _fields(source: Source, now: datetime) -> tuple[Field, ...]:
    state = "en pause" if source.paused else "active"
    if source.next_poll is None and not source.paused:
        state = "reprise une fois"
    fields = [
        Field("Type", "flux" if source.kind == FEED else "article"),
        Field("Intervalle", f"{source.interval_seconds // 60} min"),
        Field("État", state),
        Field("Articles repris", str(source.articles_taken)),
        Field("Dernière relève", _moment(source.last_fetch, now)),
    ]
    if source.next_poll is not None and not source.paused:
        fields.append(Field("Prochaine relève", _moment(source.next_poll, now)))
    if source.last_error:
        fields.append(Field("Dernière erreur", source.last_error, inline=False))
    return tuple(fields)


def _moment(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "jamais"
    return moment.strftime("%Y-%m-%d %H:%M UTC") + (" (due)" if moment <= now else "")


def source_json(source: Source) -> dict[str, Any]:
    """A source as `briefbot source list --json` prints it."""
    return {
        "id": source.id,
        "url": source.url,
        "kind": source.kind,
        "title": source.title,
        "interval_seconds": source.interval_seconds,
        "added_by": source.added_by,
        "added_at": source.added_at.isoformat(),
        "last_fetch": source.last_fetch.isoformat() if source.last_fetch else None,
        "next_poll": source.next_poll.isoformat() if source.next_poll else None,
        "articles_taken": source.articles_taken,
        "consecutive_failures": source.consecutive_failures,
        "last_error": source.last_error,
        "paused": source.paused,
        "paused_reason": source.paused_reason,
    }
