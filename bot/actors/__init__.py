"""The actor directory: who the articles name, where, and alongside whom.

Public API (the CLI and the commands use only these):

- `build_directory(articles, curated_path, cache_dir) -> DirectoryBuild(directory, problems)`
- `check_actors_file(path) -> list[Problem]`
- `ActorDirectory.lookup / autocomplete / all / actors_in / get`
- `actor_reply(lookup)`, `actors_reply(directory)` (in `bot.actors.replies`)
"""

from bot.actors.curated import check_actors_file
from bot.actors.directory import ActorDirectory, DirectoryBuild, build_directory
from bot.actors.discovery import EntityExtractor, RawEntity, SpacyExtractor
from bot.actors.model import Actor, ActorKind, ActorLookup, ActorSummary, Mention

__all__ = [
    "Actor",
    "ActorDirectory",
    "ActorKind",
    "ActorLookup",
    "ActorSummary",
    "DirectoryBuild",
    "EntityExtractor",
    "Mention",
    "RawEntity",
    "SpacyExtractor",
    "build_directory",
    "check_actors_file",
]
