"""The `briefbot` command line: the contract other tools and the Makefile rely on.

Exit status: 0 success, 1 `check` found problems, 2 bad input or usage (one line on
stderr, never a traceback), 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import logging
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from bot import __version__
from bot.chat.serial import to_json
from bot.settings import ConfigError, Settings
from bot.storage.errors import StorageError

from .logs import secret_values, setup_logging
from .settings import Config, load_config

if TYPE_CHECKING:
    from bot.ask.answerer import Answerer
    from bot.corpus.library import Library, Snapshot
    from bot.storage.database import Database

    from .derived import Derived

# Each command imports what it uses when it runs: `briefbot ask` must not pay for the
# database, the scheduler or spaCy (measured: 1.1 s of imports when all load up front).

log = logging.getLogger("briefbot")


QUIET_COMMANDS = {
    "ask",
    "actor",
    "actors",
    "digest",
    "timeline",
    "subscriptions",
    "feedback",
    "source",
}


class CliError(Exception):
    """A one-line error for stderr, with the exit status to use."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


class Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2 without the usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _add_corpus(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", metavar="DIR", type=Path, help="article folder (default: seeds/)")


def _add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON")


def build_parser() -> Parser:
    parser = Parser(
        prog="briefbot",
        description="Briefs a team on a body of news articles, in Discord, Slack or the console.",
    )
    parser.add_argument("--version", action="version", version=f"briefbot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    p = sub.add_parser("ask", help="answer a question ('-' reads one question per line)")
    p.add_argument("question", help="the question, or - to read questions from stdin")
    _add_corpus(p)
    _add_json(p)
    p.add_argument(
        "--lexical",
        action="store_true",
        help="rank by words only, even with BRIEFBOT_SEMANTIC (no model, no embedding)",
    )
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", help="interactive console session")
    _add_corpus(p)
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("run", help="start every configured adapter (console if none)")
    _add_corpus(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("check", help="report problems in the corpus and the configuration")
    _add_corpus(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("actor", help="who is NAME and where the articles mention them")
    p.add_argument("name", help="a person or organisation (typos and missing accents are fine)")
    _add_corpus(p)
    _add_json(p)
    p.set_defaults(func=cmd_actor)

    p = sub.add_parser("actors", help="every actor the articles name, with mention counts")
    _add_corpus(p)
    _add_json(p)
    p.set_defaults(func=cmd_actors)

    p = sub.add_parser("digest", help="the briefing digest (what is new since --since)")
    p.add_argument("--since", metavar="ISO-DATE", help="only articles new since this date")
    _add_corpus(p)
    _add_json(p)
    p.set_defaults(func=cmd_digest)

    p = sub.add_parser("timeline", help="dated events across all articles")
    _add_corpus(p)
    _add_json(p)
    p.set_defaults(func=cmd_timeline)

    p = sub.add_parser("subscriptions", help="scheduled briefings of every channel")
    _add_json(p)
    p.set_defaults(func=cmd_subscriptions)

    p = sub.add_parser("feedback", help="thumbs up/down given to answers")
    _add_json(p)
    p.set_defaults(func=cmd_feedback)

    p = sub.add_parser(
        "source", help="news sources: add|list|remove|resume URL, or poll them all now"
    )
    p.add_argument("action", choices=("add", "list", "remove", "resume", "poll"))
    p.add_argument("url", nargs="?", help="the feed or article URL (add, remove, resume)")
    p.add_argument("--interval", type=int, metavar="MINUTES", help="add: minutes between polls")
    _add_corpus(p)
    _add_json(p)
    p.set_defaults(func=cmd_source)

    p = sub.add_parser("discord-invite", help="print the Discord OAuth2 invite URL")
    p.add_argument("--application-id", type=int, help="default: DISCORD_APPLICATION_ID")
    p.set_defaults(func=cmd_discord_invite)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        config = load_config(corpus=getattr(args, "corpus", None))
    except ConfigError as err:
        if args.command == "check":
            for problem in err.problems:
                print(f"config: {problem}")
            return 1
        print(f"briefbot: error: configuration: {err}", file=sys.stderr)
        return 2
    _setup_logging(config, quiet=args.command in QUIET_COMMANDS)
    try:
        return int(args.func(args, config))
    except CliError as err:
        print(f"briefbot: error: {err}", file=sys.stderr)
        return err.code
    except ConfigError as err:  # raised late, e.g. by an adapter refusing a token
        print(f"briefbot: error: configuration: {err}", file=sys.stderr)
        return 2
    except StorageError as err:  # a database this version cannot use
        print(f"briefbot: error: database: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `briefbot ask … | head -1`: the reader has what it wanted
        _silence_stdout()
        return 0


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush raises nothing."""
    import os

    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _setup_logging(config: Config, *, quiet: bool, stream: TextIO | None = None) -> logging.Handler:
    """Text or JSON on stderr (`BRIEFBOT_LOG_FORMAT`), redacting every configured secret."""
    settings = config.core
    level = logging.WARNING if quiet else getattr(logging, settings.log_level)
    secrets = secret_values(config.core, config.slack, config.discord)
    return setup_logging(level, settings.log_format, secrets, stream)


def open_library(settings: Settings, *, json_output: bool = False) -> tuple[Library, Derived]:
    """The corpus and its derivations, or a CliError naming the missing folder; long work
    shows a progress bar when stderr is a terminal and the output is not JSON."""
    from bot.corpus.library import Library

    from .derived import Derived, article_cache
    from .terminal import progress_for

    if not Path(settings.corpus).is_dir():
        raise CliError(f"corpus folder not found: {settings.corpus}")
    derived = Derived(settings, progress=progress_for(sys.stderr, json_output=json_output))
    library = Library(settings.corpus, article_cache=article_cache(settings))
    library.load()
    return library, derived


# -- ask -------------------------------------------------------------------------------


def checked(text: str | None, limit: int, what: str) -> str:
    """`text` with its spacing normalised, or CliError in the CLI's language (English: the
    chat's French refusals are for chat users, these lines are for operators and scripts)."""
    clean = " ".join((text or "").split())
    if not clean:
        raise CliError(f"the {what} is empty")
    if len(clean) > limit:
        raise CliError(f"the {what} is too long ({len(clean):,} characters, at most {limit:,})")
    return clean


def cmd_ask(args: argparse.Namespace, config: Config) -> int:
    from bot.ask.reply import answer_reply

    settings = config.core
    if args.lexical:
        settings = settings.model_copy(update={"semantic": False})
    if args.question == "-":
        return _ask_stream(settings)
    library, derived = open_library(settings, json_output=args.json)
    question = checked(args.question, settings.max_question_chars, "question")
    answer = _answerer(derived, library.current).answer(question)
    if args.json:
        _print_json(to_json(answer))
    else:
        print(answer_reply(answer).plain_text())
    sys.stdout.flush()
    derived.save_index(library.current)  # after the answer: the next call starts warm
    return 0


def _answerer(derived: Derived, snapshot: Snapshot) -> Answerer:
    """The snapshot's answerer, with the passages the embedding cache lacks embedded first
    when the semantic signal is on: a one-off answer should be the best the bot can give,
    not the lexical stopgap `briefbot run` serves while it embeds in the background."""
    from bot.ask.answerer import ensure_embeddings

    answerer = derived.answerer.of(snapshot)
    if answerer.vectors is None or answerer.vectors.ready:
        return answerer
    try:
        ensure_embeddings(answerer, derived.progress("embedding the corpus"))
    except Exception as err:  # the model failing mid-way leaves answers lexical
        log.warning("embedding the corpus failed (%s): lexical ranking", err)
    return answerer


def _ask_stream(settings: Settings) -> int:
    """One JSON object per non-blank input line, in order: an answer, or
    `{"question", "error"}` for a bad line (also said on stderr); status 2 if any was bad."""
    library, derived = open_library(settings, json_output=True)
    answerer = _answerer(derived, library.current)
    status = 0
    for number, line in _stdin_lines():
        if not line.strip():
            continue
        try:
            question = checked(line, settings.max_question_chars, "question")
        except CliError as err:  # still one object per line, so outputs pair with inputs
            print(f"briefbot: error: line {number}: {err}", file=sys.stderr)
            _print_json({"question": line, "error": str(err)})
            status = 2
        else:
            _print_json(to_json(answerer.answer(question)))
        sys.stdout.flush()
    derived.save_index(library.current)
    return status


def _stdin_lines() -> Iterable[tuple[int, str]]:
    for number, raw in enumerate(sys.stdin.buffer, start=1):
        try:
            yield number, raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            raise CliError(f"stdin line {number} is not valid UTF-8") from None


def _print_json(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False))


# -- chat / run ------------------------------------------------------------------------


def cmd_chat(args: argparse.Namespace, config: Config) -> int:
    from .app import Application

    app = Application(config, platforms=("console",))
    return asyncio.run(app.run())


def cmd_run(args: argparse.Namespace, config: Config) -> int:
    from .app import Application

    app = Application(config)
    return asyncio.run(app.run())


# -- check -----------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace, config: Config) -> int:
    from .app import platform_problems
    from .check import run_checks

    problems, summary = run_checks(config.core)
    config_problems = platform_problems(config)
    for line in summary:
        print(line)
    for problem in problems:
        print(f"problem: {problem}")
    for line in config_problems:
        print(f"config: {line}")
    if problems or config_problems:
        found = len(problems) + len(config_problems)
        print(f"{found} problem{'s' if found != 1 else ''} found")
        return 1
    print("no problems found")
    return 0


# -- actors, digests, subscriptions ------------------------------------------------------


def cmd_actor(args: argparse.Namespace, config: Config) -> int:
    from bot.actors.replies import actor_reply

    name = checked(args.name, config.core.max_actor_chars, "name")
    library, derived = open_library(config.core, json_output=args.json)
    lookup = derived.actors(library.current).lookup(name)
    if args.json:
        _print_json(to_json(lookup))
    else:
        print(actor_reply(lookup).plain_text())
    return 0


def cmd_actors(args: argparse.Namespace, config: Config) -> int:
    from bot.actors.replies import actors_reply

    library, derived = open_library(config.core, json_output=args.json)
    directory = derived.actors(library.current)
    if args.json:
        _print_json(to_json(directory.all()))
    else:
        print(actors_reply(directory).plain_text())
    return 0


def _parse_since(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise CliError(f"--since {value[:40]!r} is not an ISO date (YYYY-MM-DD)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def cmd_digest(args: argparse.Namespace, config: Config) -> int:
    from bot.briefings.digest import digest_reply
    from bot.briefings.service import DigestService

    since = _parse_since(args.since)
    database = _database(config.core)
    try:
        library, derived = open_library(config.core, json_output=args.json)
        snapshot = library.current
        digests = DigestService(
            lambda: snapshot.articles,
            lambda: derived.timeline(snapshot),
            lambda article_id: derived.actors(snapshot).actors_in(article_id),
            database.first_seen,
        )
        digest = digests.digest(since, "new" if since else "full")
    finally:
        database.close()
    if args.json:
        _print_json(to_json(digest))
    else:
        print(digest_reply(digest, empty_since=since).plain_text())
    return 0


def cmd_timeline(args: argparse.Namespace, config: Config) -> int:
    from bot.timeline.reply import timeline_reply

    library, derived = open_library(config.core, json_output=args.json)
    events = derived.timeline(library.current)
    if args.json:
        _print_json(to_json(events))
    else:
        print(timeline_reply(events).plain_text())
    return 0


def _database(settings: Settings) -> Database:
    from .app import open_database

    return open_database(settings)


def cmd_subscriptions(args: argparse.Namespace, config: Config) -> int:
    from bot.briefings.commands import list_subscriptions_json

    database = _database(config.core)
    try:
        rows = list_subscriptions_json(database.subscriptions)
    finally:
        database.close()
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print("no subscriptions")
    for row in rows:
        state = "paused" if row.get("paused") else "active"
        print(
            f"{row['platform']}:{row['workspace']}/{row['channel']}  {row['schedule']}  "
            f"mode={row['mode']}  {state}  next={row.get('next_run') or '-'}"
        )
    return 0


def cmd_feedback(args: argparse.Namespace, config: Config) -> int:
    database = _database(config.core)
    try:
        records = database.feedback.all()
    finally:
        database.close()
    if args.json:
        _print_json(to_json(records))
        return 0
    up = sum(1 for r in records if r.value > 0)
    votes = "vote" if len(records) == 1 else "votes"
    print(f"{len(records)} {votes}: {up} 👍, {len(records) - up} 👎")  # operators read English
    for r in records:
        mark = "👍" if r.value > 0 else "👎"
        print(
            f"{mark} {r.created_at:%Y-%m-%d %H:%M} {r.platform}:{r.user_id} « {r.question} » "
            f"→ {r.article} / {r.section}"
        )
    return 0


def cmd_source(args: argparse.Namespace, config: Config) -> int:
    """The `/source` commands run by the operator (an admin), and `poll`: every source
    once now, then exit (exit 1 if any failed)."""
    if args.action in ("add", "remove", "resume") and not args.url:
        raise CliError(f"source {args.action}: give the URL of the feed or the article")
    database = _database(config.core)
    try:
        return asyncio.run(_source(args, config.core, database))
    finally:
        database.close()


async def _source(args: argparse.Namespace, settings: Settings, database: Database) -> int:
    from bot.chat.context import ChannelRef, CommandContext
    from bot.sources.commands import SourceCommands, source_json
    from bot.sources.service import make_poller

    poller = make_poller(settings, database.sources)
    try:
        if args.action == "poll":
            results = await poller.poll_all()
            if args.json:
                _print_json([to_json(r) for r in results])
            for r in results if not args.json else ():
                state = r.error or f"{len(r.written)} new, {r.skipped} already taken"
                print(f"{r.url}  {'not modified' if r.not_modified else state}")
            return 1 if any(r.error for r in results) else 0
        commands = SourceCommands(poller, database.sources)
        ctx = CommandContext(ChannelRef("console", "local", "cli"), user_id="cli")
        if args.action == "add":
            interval = None if args.interval is None else str(args.interval)
            reply = await commands.add(ctx, args.url, interval)
        elif args.action == "remove":
            reply = await commands.remove(ctx, args.url)
        elif args.action == "resume":
            reply = await commands.resume(ctx, args.url)
            if not args.json:
                print(_resumed(args.url, reply.data))
                return 0
        else:
            if args.json:
                _print_json([source_json(s) for s in database.sources.list()])
                return 0
            reply = await commands.list_all(ctx)
        if args.json:
            _print_json({"ok": not reply.is_error, "title": reply.title, **reply.data})
        else:
            print(reply.plain_text())
        return 2 if reply.is_error else 0
    finally:
        await poller.fetcher.close()


def _resumed(url: str, data: dict[str, object]) -> str:
    """`source resume` in English for the operator (the reply itself is the chat's French)."""
    source = data.get("source")
    if not isinstance(source, dict):
        return f"not followed: {url} (see briefbot source list)"
    if not data.get("resumed"):
        return f"not paused: {source['url']} (nothing to resume)"
    return (
        f"resumed: {source['url']} (failures cleared; polled at the next tick of "
        "briefbot run, or by briefbot source poll)"
    )


def cmd_discord_invite(args: argparse.Namespace, config: Config) -> int:
    from adapters.discord.invite import application_id_from_token, discord_invite_url

    discord = config.discord
    application_id = args.application_id or discord.application_id
    if not application_id and discord.token is not None:
        application_id = application_id_from_token(discord.token.get_secret_value())
    if not application_id:
        raise CliError(
            "no application id: pass --application-id or set DISCORD_APPLICATION_ID "
            "(Discord developer portal → your app → General Information)"
        )
    print(discord_invite_url(application_id))
    return 0
