"""The command registry: each command is declared once, on its handler.

A feature declares a command by decorating a method of its handler class with
`@command(...)` (and a group of commands with `@group(...)` on the class); `Registry`
collects the declarations from the handler objects it is given, the way slack-machine's
`_register_plugin` reads its decorators' metadata. Everything else is built by iterating
the registry: console and Slack text (`dispatch`, `run_text`), Discord's command tree,
autocomplete, `/help` and the Slack manifest.

`run` is the one way into a handler. It applies what the declaration asks for (the rate
limit, the channel and admin checks) and goes through the error guard, so a handler only
states its behaviour and adapters never need a catch-all of their own.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeVar, cast

from rapidfuzz import fuzz, process

from .context import CommandContext
from .guard import Guard
from .ratelimit import RateLimiter, rate_limited_message
from .replies import Block, Reply, ReplyKind, error
from .telemetry import NULL_TELEMETRY, QuestionOutcome, Telemetry
from .text import fold

log = logging.getLogger(__name__)

Handler = Callable[..., Awaitable[Reply]]
Completer = Callable[[str, int], Sequence["str | Choice"]]
TextParser = Callable[[str], Mapping[str, str]]
F = TypeVar("F", bound=Callable[..., Any])
Recorded = Literal["question", "actor_lookup"]

MAX_CHOICES = 25
HELP_WORDS = frozenset({"help", "aide", "?"})
HELP_INTRO = (
    "Posez une question en français (les fautes de frappe et les accents manquants sont "
    "tolérés) ou utilisez une commande :"
)


class InputError(ValueError):
    """Input a command refuses: the message to show, its title and corrected commands."""

    def __init__(
        self, message: str, *, title: str = "Saisie non valide", suggestions: Sequence[str] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.title = title
        self.suggestions = tuple(suggestions)

    def reply(self) -> Reply:
        return replace(error(self.message, title=self.title), suggestions=self.suggestions)


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class Option:
    """One argument of a command.

    `rest` takes the whole text after the command ("/ask Qui est … ?"); the other options
    are typed `key=value` in text, where `aliases` are other accepted keys. `max_length`
    is a number, or the name of an attribute of the handler when it depends on the
    settings. `autocomplete` names a completer declared with `@completer`.
    """

    name: str
    description: str
    required: bool = False
    rest: bool = False
    max_length: int | str | None = None
    choices: tuple[Choice, ...] = ()
    autocomplete: str | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """What a decorated handler declares.

    `public`: the reply may be shown to the whole channel (otherwise it is always private).
    `admin`: only the channel's admins may run it. `in_channel`: only in a channel that can
    receive posts (not a DM or a thread). `slow`: platforms with a short answer window
    acknowledge first. `rate_limited`: counts against the per-person limit. `hidden`:
    not offered in menus and help (a button's action). `parse` replaces the default
    reading of text options. `default`: a plain line of text is this command's `rest`.
    `records`: the telemetry event each run counts as ("question", "actor_lookup").
    """

    name: str
    description: str
    options: tuple[Option, ...] = ()
    usage: str | None = None
    example: str | None = None
    aliases: tuple[str, ...] = ()
    public: bool = False
    admin: bool = False
    in_channel: bool = False
    slow: bool = False
    rate_limited: bool = False
    hidden: bool = False
    default: bool = False
    parse: TextParser | None = None
    records: Recorded | None = None


@dataclass(frozen=True, slots=True)
class GroupSpec:
    """A command with subcommands (`/briefing subscribe|list|…`), declared on a class."""

    name: str
    description: str
    admin_hint: bool = True  # Discord: show the group to admins only by default


_COMMAND_ATTR = "__briefbot_command__"
_COMPLETER_ATTR = "__briefbot_completer__"
_GROUP_ATTR = "__briefbot_group__"


def command(
    name: str,
    description: str,
    *,
    options: Sequence[Option] = (),
    **flags: Any,
) -> Callable[[F], F]:
    """Declare the decorated coroutine method as command `name` (see `CommandSpec`)."""
    spec = CommandSpec(name, description, tuple(options), **flags)

    def mark(func: F) -> F:
        setattr(func, _COMMAND_ATTR, spec)
        return func

    return mark


def completer(source: str) -> Callable[[F], F]:
    """Declare the decorated method `(fragment, limit) -> names` as completion `source`."""

    def mark(func: F) -> F:
        setattr(func, _COMPLETER_ATTR, source)
        return func

    return mark


def group(name: str, description: str, *, admin_hint: bool = True) -> Callable[[type], type]:
    """Declare that the commands of the decorated handler class are subcommands of `name`."""

    def mark(cls: type) -> type:
        setattr(cls, _GROUP_ATTR, GroupSpec(name, description, admin_hint))
        return cls

    return mark


@dataclass(frozen=True)
class Command:
    """A declared command bound to its handler."""

    spec: CommandSpec
    handler: Handler
    group: GroupSpec | None = None
    limits: Mapping[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def path(self) -> str:
        """ "briefing subscribe", or "ask": what follows the slash."""
        return f"{self.group.name} {self.spec.name}" if self.group else self.spec.name

    @property
    def usage(self) -> str:
        if self.spec.usage:
            return f"/{self.path} {self.spec.usage}"
        parts = [f"/{self.path}"]
        for option in self.spec.options:
            shown = f"<{option.name}>" if option.rest else f"{option.name}=…"
            parts.append(shown if option.required else f"[{shown}]")
        return " ".join(parts)

    def max_length(self, option: Option) -> int | None:
        return self.limits.get(option.name)

    def read_text(self, text: str) -> dict[str, str]:
        """The options of a command typed as text."""
        text = text.strip()
        if self.spec.parse is not None:
            return dict(self.spec.parse(text))
        rest = next((o for o in self.spec.options if o.rest), None)
        if rest is not None:
            return {rest.name: text} if text else {}
        return {}


@dataclass(frozen=True)
class Entry:
    """A top-level slash command as platforms declare it: a command or a group."""

    name: str
    description: str
    command: Command | None = None
    group: GroupSpec | None = None
    subcommands: tuple[Command, ...] = ()

    @property
    def usage(self) -> str:
        if self.command is not None:
            return self.command.usage
        return f"/{self.name} " + "|".join(c.name for c in self.subcommands)


class Registry:
    """Every command of the bot, and the one entry point into their handlers.

    `telemetry` hears of every question (outcome and latency), actor look-up and
    rate-limited refusal, as the commands' `records` declare.
    """

    def __init__(
        self,
        handlers: Iterable[object],
        *,
        guard: Guard,
        limiter: RateLimiter,
        telemetry: Telemetry = NULL_TELEMETRY,
    ) -> None:
        self.guard = guard
        self.limiter = limiter
        self.telemetry = telemetry
        ordered: list[tuple[int, int, Command]] = []
        completers: dict[str, Completer] = {}
        for position, handler in enumerate(handlers):
            group_spec: GroupSpec | None = getattr(type(handler), _GROUP_ATTR, None)
            for _, member in inspect.getmembers(handler, callable):
                spec = getattr(member, _COMMAND_ATTR, None)
                if isinstance(spec, CommandSpec):
                    run = cast(Handler, member)
                    bound = Command(spec, run, group_spec, _limits(spec, handler))
                    ordered.append((position, _line(run), bound))
                source = getattr(member, _COMPLETER_ATTR, None)
                if isinstance(source, str):
                    completers[source] = cast(Completer, member)
        ordered.sort(key=lambda item: item[:2])
        commands = [c for _, _, c in ordered]
        commands.append(Command(HELP_SPEC, self._help))
        self.commands: tuple[Command, ...] = tuple(commands)
        self.completers = completers
        self._by_path = {fold(c.path): c for c in self.commands}
        for c in self.commands:
            for alias in c.spec.aliases:
                prefix = f"{c.group.name} " if c.group else ""
                self._by_path.setdefault(fold(prefix + alias), c)
        _check(self.commands, completers)

    # -- what platforms declare -----------------------------------------------------------

    def entries(self) -> list[Entry]:
        """Top-level commands and groups, in declaration order, without hidden ones."""
        out: list[Entry] = []
        seen: dict[str, int] = {}
        for c in self.commands:
            if c.spec.hidden:
                continue
            if c.group is None:
                out.append(Entry(c.name, c.spec.description, command=c))
            elif c.group.name in seen:
                entry = out[seen[c.group.name]]
                out[seen[c.group.name]] = replace(entry, subcommands=(*entry.subcommands, c))
            else:
                seen[c.group.name] = len(out)
                out.append(
                    Entry(c.group.name, c.group.description, group=c.group, subcommands=(c,))
                )
        return out

    def find(self, path: str) -> Command | None:
        return self._by_path.get(" ".join(fold(path).split()))

    def group_commands(self, name: str) -> tuple[Command, ...]:
        return tuple(c for c in self.commands if c.group and c.group.name == name)

    # -- running --------------------------------------------------------------------------

    async def run(
        self, ctx: CommandContext, target: Command | str, args: Mapping[str, str | None]
    ) -> Reply:
        """Run a command with its options, after the checks it declares; never raises."""
        cmd = target if isinstance(target, Command) else self.find(target)
        if cmd is None:
            return self.unknown(str(target))
        refusal = self._rate_limit(ctx, cmd)
        if refusal is not None:
            self.telemetry.rate_limited(ctx.channel.platform)
            return refusal
        started = time.perf_counter()
        reply = await self.guard.run(cmd.path, lambda: self._run(ctx, cmd, args))
        self._record(ctx, cmd, reply, time.perf_counter() - started)
        return reply

    def _rate_limit(self, ctx: CommandContext, cmd: Command) -> Reply | None:
        if cmd.spec.rate_limited and ctx.channel.platform != "console":
            key = f"{ctx.channel.platform}:{ctx.channel.workspace}:{ctx.user_id}"
            if not self.limiter.allow(key):
                return error(
                    rate_limited_message(self.limiter.retry_after(key)), title="Un instant"
                )
        return None

    def _record(self, ctx: CommandContext, cmd: Command, reply: Reply, seconds: float) -> None:
        platform = ctx.channel.platform
        if cmd.spec.records == "question":
            self.telemetry.question(platform, question_outcome(reply), seconds)
        elif cmd.spec.records == "actor_lookup":
            self.telemetry.actor_lookup(platform)

    async def _run(
        self, ctx: CommandContext, cmd: Command, args: Mapping[str, str | None]
    ) -> Reply:
        refusal = await self._refusal(ctx, cmd)
        if refusal is not None:
            return refusal
        values = {o.name: _clean(args.get(o.name)) for o in cmd.spec.options}
        try:
            return await cmd.handler(ctx, **values)
        except InputError as err:
            return err.reply()

    async def run_text(self, ctx: CommandContext, name: str, text: str) -> Reply:
        """A slash command as text platforms send it: its name and the text after it."""
        name = fold(name.strip().lstrip("/"))
        if name in HELP_WORDS:
            return await self.run(ctx, "help", {})
        members = self.group_commands(name)
        if members:
            return await self._run_group(ctx, name, text)
        cmd = self.find(name)
        if cmd is None or cmd.spec.hidden or cmd.group is not None:
            return self.unknown(name)
        return await self._run_read(ctx, cmd, text)

    async def dispatch(self, ctx: CommandContext, line: str) -> Reply:
        """A line typed in the console or a message: "/cmd args", a call for help, or a
        plain question for the default command."""
        text = line.strip()
        if fold(text).strip(" /?!.") in HELP_WORDS or fold(text) == "?":
            return await self.run(ctx, "help", {})
        if text.startswith("/"):
            name, _, rest = text[1:].partition(" ")
            return await self.run_text(ctx, name, rest)
        default = next((c for c in self.commands if c.spec.default), None)
        if default is None:
            return self.help_reply()
        return await self._run_read(ctx, default, text)

    async def _run_read(self, ctx: CommandContext, cmd: Command, text: str) -> Reply:
        """Read the options from text, then run; a parser's bug is guarded like a handler's."""
        try:
            args = cmd.read_text(text)
        except InputError as err:
            return err.reply()
        except Exception as err:
            return self.guard.failure(cmd.path, err)
        return await self.run(ctx, cmd, args)

    async def _run_group(self, ctx: CommandContext, name: str, text: str) -> Reply:
        word, _, rest = text.strip().partition(" ")
        if not word:
            return self.group_help(name)
        cmd = self.find(f"{name} {word}")
        if cmd is None:
            return self._unknown_subcommand(name, word)
        return await self._run_read(ctx, cmd, rest)

    async def _refusal(self, ctx: CommandContext, cmd: Command) -> Reply | None:
        if cmd.spec.in_channel and ctx.is_direct:
            return error(
                "Cette commande se tape dans un canal, pas en message privé : "
                "tapez-la dans le canal concerné.",
                title="Pas ici",
            )
        if cmd.spec.in_channel and not ctx.can_subscribe_here:
            return error(
                "Ce fil ou ce type de canal ne convient pas : tapez la commande dans le "
                "canal principal concerné.",
                title="Pas ici",
            )
        if cmd.spec.admin:
            try:
                allowed = await ctx.is_admin()
            except Exception:
                log.warning("permission check failed for %s", ctx.channel, exc_info=True)
                return error(
                    "Impossible de vérifier vos droits sur ce canal pour le moment. Réessayez.",
                    title="Vérification impossible",
                )
            if not allowed:
                return error(self._admin_only(cmd), title="Réservé aux administrateurs")
        return None

    def _admin_only(self, cmd: Command) -> str:
        text = f"Seuls les administrateurs du canal peuvent utiliser /{cmd.path}."
        if cmd.group is not None:
            open_to_all = [c.name for c in self.group_commands(cmd.group.name) if not c.spec.admin]
            if open_to_all:
                text += f" Tout le monde peut utiliser /{cmd.group.name} {_join_and(open_to_all)}."
        return text

    # -- autocomplete ---------------------------------------------------------------------

    def complete(self, source: str, fragment: str, limit: int = MAX_CHOICES) -> list[Choice]:
        """Completions from a declared source; never raises (typing must never break)."""
        completer_ = self.completers.get(source)
        if completer_ is None:
            return []
        try:
            found = completer_(fragment[:200], limit)
        except Exception:
            log.exception("autocomplete %r failed", source)
            return []
        return [c if isinstance(c, Choice) else Choice(c, c) for c in found][:limit]

    # -- help and unknown commands --------------------------------------------------------

    async def _help(self, ctx: CommandContext) -> Reply:
        return self.help_reply()

    def help_reply(self) -> Reply:
        lines = tuple(f"{e.usage} — {e.description}" for e in self.entries())
        return Reply(
            ReplyKind.HELP,
            "Commandes de briefbot",
            (Block(HELP_INTRO, items=(*lines, "/quit — quitter la console")),),
            private=True,
        )

    def group_help(self, name: str) -> Reply:
        items = tuple(
            f"/{c.spec.example or c.path} — {c.spec.description}"
            if not c.spec.example
            else f"{c.spec.example} — {c.spec.description}"
            for c in self.group_commands(name)
        )
        return Reply(ReplyKind.HELP, f"Commandes /{name}", (Block(items=items),), private=True)

    def unknown(self, name: str) -> Reply:
        names = [e.name for e in self.entries()]
        close = process.extractOne(fold(name), names, score_cutoff=60)
        hint = f" Vouliez-vous dire /{close[0]} ?" if close else ""
        return error(
            f"Commande inconnue : /{name[:40]}.{hint} Tapez /help pour la liste.",
            title="Commande inconnue",
        )

    def _unknown_subcommand(self, name: str, word: str) -> Reply:
        members = self.group_commands(name)
        words = {c.name: c for c in members}
        for c in members:
            for alias in c.spec.aliases:
                words.setdefault(alias, c)
        shown = word if len(word) <= 30 else word[:29] + "…"
        message = (
            f"Sous-commande inconnue « {shown} ». Sous-commandes : "
            f"{', '.join(c.name for c in members)}."
        )
        match = process.extractOne(fold(word), list(words), scorer=fuzz.ratio, score_cutoff=60)
        suggestions: tuple[str, ...] = ()
        if match:
            guess = words[match[0]]
            message += f" Vouliez-vous dire « {guess.name} » ?"
            suggestions = (guess.spec.example or f"/{guess.path}",)
        return replace(error(message, title="Commande inconnue"), suggestions=suggestions)


HELP_SPEC = CommandSpec("help", "Cette aide", aliases=("aide", "?"))


def question_outcome(reply: Reply) -> QuestionOutcome:
    """Answered, declined (the articles do not answer) or error (anything else: refused
    input, a failure, a check the caller did not pass)."""
    if reply.kind is ReplyKind.ANSWER:
        return "answered"
    if reply.kind is ReplyKind.NO_ANSWER:
        return "declined"
    return "error"


def _limits(spec: CommandSpec, handler: object) -> dict[str, int]:
    limits: dict[str, int] = {}
    for option in spec.options:
        limit = option.max_length
        if isinstance(limit, str):
            limit = int(getattr(handler, limit))
        if limit is not None:
            limits[option.name] = limit
    return limits


def _line(method: Callable[..., Any]) -> int:
    """Where a method is written: commands keep the order their class declares them in."""
    code = getattr(getattr(method, "__func__", method), "__code__", None)
    return code.co_firstlineno if code else 0


def _check(commands: Sequence[Command], completers: Mapping[str, Completer]) -> None:
    paths = [c.path for c in commands]
    duplicates = {p for p in paths if paths.count(p) > 1}
    if duplicates:
        raise ValueError(f"commands declared twice: {sorted(duplicates)}")
    if sum(c.spec.default for c in commands) > 1:
        raise ValueError("only one command may take plain text (default=True)")
    for c in commands:
        keyword = [o for o in c.spec.options if not o.rest]
        if keyword and c.spec.parse is None and not c.spec.hidden:
            raise ValueError(f"/{c.path}: options typed as key=value need a text parser")
        for option in c.spec.options:
            if option.autocomplete and option.autocomplete not in completers:
                raise ValueError(f"/{c.path}: no completer named {option.autocomplete!r}")


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _join_and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " et " + items[-1]
