"""The command registry's contract: what a decorated handler declares is what every
platform serves, and `run` applies the declared checks and the error guard."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import pytest
from sqlalchemy.exc import OperationalError

from adapters.discord.bot import DiscordAdapter
from adapters.slack.manifest import slash_commands
from bot.chat.context import ChannelRef, CommandContext
from bot.chat.guard import INTERNAL_ERROR, UNAVAILABLE, Guard
from bot.chat.ratelimit import RateLimiter
from bot.chat.registry import (
    Choice,
    InputError,
    Option,
    Registry,
    command,
    completer,
    group,
)
from bot.chat.replies import Reply, ReplyKind, info
from briefbot.app import Application
from briefbot.settings import Config

# --- handlers the tests declare ----------------------------------------------------------


class Probe:
    """One command taking the rest of the line: the smallest thing a feature declares."""

    def __init__(self) -> None:
        self.seen: list[str | None] = []

    @command(
        "probe",
        "Sonde de test",
        options=(Option("text", "Le texte sondé", rest=True),),
        aliases=("sonde",),
    )
    async def probe(self, ctx: CommandContext, text: str | None = None) -> Reply:
        self.seen.append(text)
        return info("Sonde", f"reçu : {text}")


class Unavailable(Exception):
    """Stands for a dependency that is down for a moment."""


class Failing:
    @command("crash", "Lève une erreur de programmation")
    async def crash(self, ctx: CommandContext) -> Reply:
        raise RuntimeError("boom")

    @command("down", "Lève une erreur de dépendance")
    async def down(self, ctx: CommandContext) -> Reply:
        raise Unavailable("database is gone")

    @command("refuse", "Refuse sa saisie")
    async def refuse(self, ctx: CommandContext) -> Reply:
        raise InputError("Valeur refusée.", title="Saisie refusée", suggestions=("/refuse ok",))


@group("team", "Les commandes d'une équipe")
class Team:
    def __init__(self) -> None:
        self.ran: list[str] = []

    @command("join", "Rejoindre l'équipe", aliases=("rejoindre",), admin=True)
    async def join(self, ctx: CommandContext) -> Reply:
        self.ran.append("join")
        return info("Bienvenue")

    @command("roster", "La liste des membres", aliases=("liste",))
    async def roster(self, ctx: CommandContext) -> Reply:
        self.ran.append("roster")
        return info("Membres")

    @command("post", "Poster dans le canal", in_channel=True)
    async def post(self, ctx: CommandContext) -> Reply:
        self.ran.append("post")
        return info("Posté")


class Limited:
    @command("count", "Compte, avec une limite par personne", rate_limited=True)
    async def count(self, ctx: CommandContext) -> Reply:
        return info("Compté")


class Completing:
    """Completers and a length limit read from the handler's settings."""

    def __init__(self, name_limit: int = 42) -> None:
        self.name_limit = name_limit

    @command(
        "pick",
        "Choisir un nom",
        options=(
            Option("name", "Le nom", rest=True, max_length="name_limit", autocomplete="names"),
        ),
    )
    async def pick(self, ctx: CommandContext, name: str | None = None) -> Reply:
        return info(name or "")

    @completer("names")
    def names(self, fragment: str, limit: int) -> list[str | Choice]:
        return [f"{fragment}{n}" for n in range(100)]

    @completer("broken")
    def broken(self, fragment: str, limit: int) -> list[str]:
        raise KeyError(fragment)


def make_registry(*handlers: object, limit: int = 100) -> Registry:
    return Registry(
        handlers, guard=Guard(unavailable=(Unavailable,)), limiter=RateLimiter(limit, 60.0)
    )


def allowed(value: bool) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return value

    return check


async def unreachable() -> bool:
    raise ConnectionError("the platform did not answer")


def context(
    platform: str = "console",
    *,
    user: str = "U1",
    admin: Callable[[], Awaitable[bool]] | None = None,
    direct: bool = False,
    subscribable: bool = True,
) -> CommandContext:
    return CommandContext(
        ChannelRef(platform, "T1", "C1"),
        user,
        "Ada",
        is_admin=admin or allowed(True),
        is_direct=direct,
        can_subscribe_here=subscribable,
    )


def texts(reply: Reply) -> str:
    return reply.plain_text()


# --- adding a command takes one decorated function ---------------------------------------


def test_a_declared_command_is_listed_in_the_help() -> None:
    reply = make_registry(Probe()).help_reply()
    [block] = reply.blocks
    assert reply.kind is ReplyKind.HELP
    assert "/probe [<text>] — Sonde de test" in block.items


def test_a_declared_command_is_a_top_level_entry_with_its_description() -> None:
    entries = {e.name: e for e in make_registry(Probe()).entries()}
    assert set(entries) == {"probe", "help"}
    probe = entries["probe"]
    assert probe.description == "Sonde de test"
    assert probe.command is not None and probe.command.name == "probe"


async def test_a_console_line_runs_the_command_with_the_rest_of_the_line() -> None:
    probe = Probe()
    reply = await make_registry(probe).dispatch(context(), "/probe  Bonjour   le monde ")
    assert probe.seen == ["Bonjour le monde"]
    assert reply.blocks[0].text == "reçu : Bonjour le monde"


async def test_a_slash_command_sent_as_text_runs_the_command() -> None:
    probe = Probe()
    reply = await make_registry(probe).run_text(context("slack"), "/probe", "texte libre")
    assert probe.seen == ["texte libre"]
    assert reply.title == "Sonde"


async def test_a_command_without_its_rest_option_receives_none() -> None:
    probe = Probe()
    await make_registry(probe).dispatch(context(), "/probe")
    assert probe.seen == [None]


def test_an_application_handler_reaches_discord_slack_and_help(config: Config) -> None:
    app = Application(config, platforms=(), handlers=[Probe()])

    tree = DiscordAdapter(app.registry, app.config.discord).tree
    assert "probe" in [c.name for c in tree.get_commands()]
    manifest = slash_commands(app.registry)
    assert {"command": "/probe", "description": "Sonde de test"} in manifest
    assert any(item.startswith("/probe ") for item in app.registry.help_reply().blocks[0].items)


async def test_an_application_handler_runs_from_the_console(config: Config) -> None:
    probe = Probe()
    app = Application(config, platforms=(), handlers=[probe])
    await app.registry.dispatch(context(), "/probe via l'application")
    assert probe.seen == ["via l'application"]


# --- names, aliases and suggestions -------------------------------------------------------


async def test_a_command_alias_runs_the_command() -> None:
    probe = Probe()
    await make_registry(probe).dispatch(context(), "/sonde par alias")
    assert probe.seen == ["par alias"]


async def test_a_command_name_is_read_without_case_or_accents() -> None:
    probe = Probe()
    await make_registry(probe).dispatch(context(), "/PROBE majuscules")
    assert probe.seen == ["majuscules"]


async def test_a_subcommand_alias_runs_the_subcommand() -> None:
    team = Team()
    registry = make_registry(team)
    await registry.dispatch(context(), "/team liste")
    await registry.run_text(context("slack"), "team", "rejoindre")
    assert team.ran == ["roster", "join"]


async def test_an_unknown_command_suggests_the_closest_one() -> None:
    reply = await make_registry(Probe()).dispatch(context(), "/prob quelque chose")
    assert reply.is_error and reply.title == "Commande inconnue"
    assert "Vouliez-vous dire /probe ?" in texts(reply)


async def test_an_unknown_command_far_from_any_suggests_nothing() -> None:
    reply = await make_registry(Probe()).dispatch(context(), "/zzzzzzzz")
    assert reply.title == "Commande inconnue"
    assert "Vouliez-vous dire" not in texts(reply)


async def test_an_unknown_subcommand_suggests_the_closest_one() -> None:
    team = Team()
    reply = await make_registry(team).dispatch(context(), "/team rostr")
    assert reply.title == "Commande inconnue"
    assert "Vouliez-vous dire « roster » ?" in texts(reply)
    assert reply.suggestions == ("/team roster",)
    assert team.ran == []


async def test_an_unknown_subcommand_close_to_an_alias_suggests_its_command() -> None:
    reply = await make_registry(Team()).dispatch(context(), "/team rejoidre")
    assert "Vouliez-vous dire « join » ?" in texts(reply)


async def test_a_group_without_a_subcommand_gets_the_group_help() -> None:
    team = Team()
    reply = await make_registry(team).dispatch(context(), "/team")
    assert (reply.kind, reply.title) == (ReplyKind.HELP, "Commandes /team")
    assert reply.blocks[0].items == (
        "/team join — Rejoindre l'équipe",
        "/team roster — La liste des membres",
        "/team post — Poster dans le canal",
    )
    assert team.ran == []


async def test_a_group_is_one_entry_with_its_subcommands_in_declaration_order() -> None:
    [entry, _help] = make_registry(Team()).entries()
    assert entry.name == "team" and entry.command is None
    assert [c.name for c in entry.subcommands] == ["join", "roster", "post"]


async def test_a_hidden_command_is_not_offered_nor_typed() -> None:
    class Hidden:
        @command("secret", "Action d'un bouton", hidden=True)
        async def secret(self, ctx: CommandContext) -> Reply:
            return info("Secret")

    registry = make_registry(Hidden())
    assert [e.name for e in registry.entries()] == ["help"]
    assert (await registry.dispatch(context(), "/secret")).title == "Commande inconnue"
    assert (await registry.run(context(), "secret", {})).title == "Secret"


# --- declared checks ----------------------------------------------------------------------


async def test_an_admin_command_refuses_a_non_admin_and_names_what_is_open_to_all() -> None:
    team = Team()
    reply = await make_registry(team).dispatch(context(admin=allowed(False)), "/team join")
    assert reply.is_error and reply.title == "Réservé aux administrateurs"
    assert "/team join" in texts(reply)
    assert "Tout le monde peut utiliser /team roster et post." in texts(reply)
    assert team.ran == []


async def test_an_admin_command_runs_for_an_admin() -> None:
    team = Team()
    reply = await make_registry(team).dispatch(context(admin=allowed(True)), "/team join")
    assert reply.title == "Bienvenue" and team.ran == ["join"]


async def test_a_command_open_to_all_never_asks_who_is_admin() -> None:
    team = Team()
    reply = await make_registry(team).dispatch(context(admin=unreachable), "/team roster")
    assert reply.title == "Membres"


async def test_a_failing_admin_check_says_it_could_not_verify() -> None:
    team = Team()
    reply = await make_registry(team).dispatch(context(admin=unreachable), "/team join")
    assert reply.is_error and reply.title == "Vérification impossible"
    assert team.ran == []


async def test_an_in_channel_command_refuses_a_direct_message() -> None:
    team = Team()
    reply = await make_registry(team).dispatch(context(direct=True), "/team post")
    assert reply.title == "Pas ici" and "message privé" in texts(reply)
    assert team.ran == []


async def test_an_in_channel_command_refuses_a_thread() -> None:
    team = Team()
    reply = await make_registry(team).dispatch(context(subscribable=False), "/team post")
    assert reply.title == "Pas ici" and "fil" in texts(reply)
    assert team.ran == []


@pytest.mark.parametrize("platform", ["slack", "discord"])
async def test_a_rate_limited_command_refuses_past_the_limit(platform: str) -> None:
    registry = make_registry(Limited(), limit=2)
    ctx = context(platform)
    replies = [await registry.dispatch(ctx, "/count") for _ in range(3)]
    assert [r.title for r in replies] == ["Compté", "Compté", "Un instant"]
    assert "patienter" in texts(replies[-1])


async def test_the_rate_limit_counts_each_person_apart() -> None:
    registry = make_registry(Limited(), limit=1)
    first = await registry.dispatch(context("slack", user="U1"), "/count")
    other = await registry.dispatch(context("slack", user="U2"), "/count")
    assert (first.title, other.title) == ("Compté", "Compté")


async def test_a_rate_limited_command_is_never_limited_on_the_console() -> None:
    registry = make_registry(Limited(), limit=1)
    replies = [await registry.dispatch(context("console"), "/count") for _ in range(5)]
    assert [r.title for r in replies] == ["Compté"] * 5


# --- the error guard ----------------------------------------------------------------------


async def test_a_handler_that_raises_gets_the_internal_error_reply() -> None:
    reply = await make_registry(Failing()).dispatch(context(), "/crash")
    assert reply.is_error
    assert reply.blocks[0].text == INTERNAL_ERROR


async def test_an_unavailable_dependency_gets_the_unavailable_reply() -> None:
    reply = await make_registry(Failing()).dispatch(context(), "/down")
    assert reply.is_error and reply.title == "Service indisponible"
    assert reply.blocks[0].text == UNAVAILABLE
    assert "momentanément indisponible" in UNAVAILABLE


async def test_the_application_treats_a_database_error_as_unavailable(config: Config) -> None:
    class Database:
        @command("db", "Lit la base")
        async def db(self, ctx: CommandContext) -> Reply:
            raise OperationalError("SELECT 1", {}, ConnectionError("refused"))

    app = Application(config, platforms=(), handlers=[Database()])
    reply = await app.registry.dispatch(context(), "/db")
    assert reply.blocks[0].text == UNAVAILABLE


async def test_an_input_error_becomes_the_reply_with_its_title_and_suggestions() -> None:
    reply = await make_registry(Failing()).dispatch(context(), "/refuse")
    assert reply.is_error and reply.private
    assert reply.title == "Saisie refusée"
    assert reply.blocks[0].text == "Valeur refusée."
    assert reply.suggestions == ("/refuse ok",)


async def test_run_never_raises_for_an_unknown_command_name() -> None:
    reply = await make_registry(Probe()).run(context(), "nope", {})
    assert reply.title == "Commande inconnue"


async def test_a_text_parser_that_raises_gets_the_internal_error_reply() -> None:
    def parse(text: str) -> dict[str, str]:
        raise KeyError(text)

    class Parsed:
        @command("parsed", "Lit ses options", options=(Option("k", "clé"),), parse=parse)
        async def parsed(self, ctx: CommandContext, k: str | None = None) -> Reply:
            return info("Lu")

    reply = await make_registry(Parsed()).dispatch(context(), "/parsed k=v")
    assert reply.blocks[0].text == INTERNAL_ERROR


async def test_an_alias_declared_with_an_accent_resolves_as_typed() -> None:
    class Accented:
        @command("preview", "Aperçu", aliases=("aperçu",))
        async def preview(self, ctx: CommandContext) -> Reply:
            return info("Aperçu")

    reply = await make_registry(Accented()).dispatch(context(), "/aperçu")
    assert reply.title == "Aperçu"


# --- autocomplete and limits --------------------------------------------------------------


def test_completions_are_capped_at_the_limit() -> None:
    choices = make_registry(Completing()).complete("names", "n", limit=5)
    assert choices == [Choice(f"n{i}", f"n{i}") for i in range(5)]


def test_a_completer_that_raises_completes_nothing() -> None:
    assert make_registry(Completing()).complete("broken", "x") == []


def test_an_undeclared_completion_source_completes_nothing() -> None:
    assert make_registry(Completing()).complete("nowhere", "x") == []


def test_a_max_length_named_by_attribute_is_read_from_the_handler() -> None:
    registry = make_registry(Completing(name_limit=17))
    pick = registry.find("pick")
    assert pick is not None
    [option] = pick.spec.options
    assert pick.max_length(option) == 17


# --- declarations the registry refuses ----------------------------------------------------


class ProbeAgain:
    @command("probe", "Une deuxième sonde")
    async def probe(self, ctx: CommandContext) -> Reply:
        return info("Encore")


class DefaultOne:
    @command("one", "Texte libre", options=(Option("q", "q", rest=True),), default=True)
    async def one(self, ctx: CommandContext, q: str | None = None) -> Reply:
        return info("un")


class DefaultTwo:
    @command("two", "Texte libre aussi", options=(Option("q", "q", rest=True),), default=True)
    async def two(self, ctx: CommandContext, q: str | None = None) -> Reply:
        return info("deux")


class MissingCompleter:
    @command("find", "Chercher", options=(Option("q", "q", rest=True, autocomplete="ghost"),))
    async def find(self, ctx: CommandContext, q: str | None = None) -> Reply:
        return info("trouvé")


@pytest.mark.parametrize(
    ("handlers", "message"),
    [
        ((Probe(), ProbeAgain()), "declared twice"),
        ((DefaultOne(), DefaultTwo()), "default=True"),
        ((MissingCompleter(),), "no completer named 'ghost'"),
    ],
    ids=["same-command-twice", "two-defaults", "undeclared-completer"],
)
def test_an_inconsistent_declaration_is_refused_at_construction(
    handlers: Sequence[object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        make_registry(*handlers)


async def test_a_plain_line_goes_to_the_default_command() -> None:
    reply = await make_registry(DefaultOne()).dispatch(context(), "une question")
    assert reply.title == "un"
