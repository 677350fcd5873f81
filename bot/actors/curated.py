"""Reads the editors' `actors.yaml`, keeping line numbers so every mistake can be pointed at.

The file is parsed into YAML nodes (not plain Python objects) because only nodes remember
where they were written. A bad entry is skipped and reported; the rest of the file is kept;
a file that does not parse at all gives no entries and one problem. Nothing here raises.

Schema::

    actors:
      - name: Abdourahamane Tiani          # required, unique
        kind: person                       # person | organisation | state | group
        description: Chef du régime ...    # optional
        aliases: [Tiani, Tchiani]          # optional, each claimed by one actor only
        link: https://...                  # optional, http(s)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.actors.model import KIND_SYNONYMS, ActorKind
from bot.actors.names import key
from bot.corpus.loader import Problem

MAX_FILE_BYTES = 1_000_000
MAX_NAME_CHARS = 200
MAX_DESCRIPTION_CHARS = 2_000
KNOWN_FIELDS = ("name", "kind", "description", "aliases", "link")


@dataclass(frozen=True, slots=True)
class CuratedActor:
    name: str
    kind: ActorKind
    description: str = ""
    aliases: tuple[str, ...] = ()
    link: str | None = None
    line: int | None = None


@dataclass(frozen=True, slots=True)
class CuratedFile:
    actors: tuple[CuratedActor, ...]
    problems: tuple[Problem, ...]


def check_actors_file(path: Path) -> list[Problem]:
    """Every problem of the file, for `briefbot check` (a missing file is one too)."""
    return list(load_curated(path).problems)


def load_curated(path: Path, *, missing_ok: bool = False) -> CuratedFile:
    """The valid entries of `path` and what was wrong with the others."""
    where = str(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return _failed(where, f"file too large (limit {MAX_FILE_BYTES:,} bytes)")
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        if missing_ok:
            return CuratedFile((), ())
        return _failed(where, "actors file not found")
    except UnicodeDecodeError as err:
        return _failed(where, f"not UTF-8 (invalid byte at offset {err.start})")
    except OSError as err:
        return _failed(where, f"cannot read file ({err.strerror or err})")
    return parse_curated(text, where)


def parse_curated(text: str, where: str = "actors.yaml") -> CuratedFile:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        reason = getattr(err, "problem", None) or "invalid YAML"
        return _failed(where, f"invalid YAML: {reason}", mark.line + 1 if mark else None)
    if root is None:
        return CuratedFile((), ())
    entries = _entry_nodes(root)
    if entries is None:
        return _failed(where, "expected a top-level 'actors:' list of entries", _line(root))
    reader = _Reader(where)
    for node in entries.value:
        reader.read_entry(node)
    return CuratedFile(tuple(reader.actors), tuple(reader.problems))


def _entry_nodes(root: Node) -> SequenceNode | None:
    if isinstance(root, SequenceNode):
        return root
    if isinstance(root, MappingNode):
        for k, v in root.value:
            if isinstance(k, ScalarNode) and k.value == "actors":
                if isinstance(v, SequenceNode):
                    return v
                if isinstance(v, ScalarNode) and v.value in ("", "~", "null"):
                    return SequenceNode("tag:yaml.org,2002:seq", [])
    return None


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _failed(where: str, reason: str, line: int | None = None) -> CuratedFile:
    return CuratedFile((), (Problem(where, reason, line),))


class _Reader:
    """Validates entries one by one, remembering which names and aliases are taken."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.actors: list[CuratedActor] = []
        self.problems: list[Problem] = []
        self.claimed: dict[str, tuple[str, int]] = {}  # name key -> (actor, line)

    def problem(self, reason: str, node: Node) -> None:
        self.problems.append(Problem(self.where, reason, _line(node)))

    def read_entry(self, node: Node) -> None:
        if not isinstance(node, MappingNode):
            self.problem("entry ignored: expected 'name: ...' fields", node)
            return
        fields: dict[str, Node] = {}
        for k, v in node.value:
            name = k.value if isinstance(k, ScalarNode) else None
            if name not in KNOWN_FIELDS:
                known = ", ".join(KNOWN_FIELDS)
                self.problem(f"unknown field {name!r} ignored (known: {known})", k)
                continue
            fields[name] = v
        name = self.text(fields.get("name"), "name", MAX_NAME_CHARS)
        if not name:
            if "name" not in fields:
                self.problem("entry ignored: missing 'name'", node)
            return
        kind = self.kind(fields.get("kind"), node, name)
        if kind is None:
            return
        description = self.text(fields.get("description"), "description", MAX_DESCRIPTION_CHARS)
        aliases = self.aliases(fields.get("aliases"))
        link = self.link(fields.get("link"))
        if not self.claim(name, fields["name"], aliases, node):
            return
        self.actors.append(
            CuratedActor(
                name, kind, description or "", tuple(a for a, _ in aliases), link, _line(node)
            )
        )

    def text(self, node: Node | None, field_name: str, limit: int) -> str | None:
        if node is None:
            return None
        if not isinstance(node, ScalarNode) or not str(node.value).strip():
            self.problem(f"'{field_name}' must be non-empty text", node)
            return None
        value = " ".join(str(node.value).split())
        if len(value) > limit:
            self.problem(f"'{field_name}' longer than {limit} characters", node)
            return None
        return value

    def kind(self, node: Node | None, entry: Node, name: str) -> ActorKind | None:
        if node is None:
            self.problem(f"entry {name!r} ignored: missing 'kind'", entry)
            return None
        value = node.value if isinstance(node, ScalarNode) else None
        kind = KIND_SYNONYMS.get(str(value).strip().lower()) if value is not None else None
        if kind is None:
            known = ", ".join(k.value for k in ActorKind)
            self.problem(f"entry {name!r} ignored: unknown kind {value!r} (use {known})", node)
        return kind

    def aliases(self, node: Node | None) -> list[tuple[str, Node]]:
        if node is None:
            return []
        items = node.value if isinstance(node, SequenceNode) else [node]
        out: list[tuple[str, Node]] = []
        for item in items:
            alias = self.text(item, "aliases", MAX_NAME_CHARS)
            if alias and not key(alias):
                self.problem(f"alias {alias!r} has no letters; ignored", item)
            elif alias:
                out.append((alias, item))
        return out

    def link(self, node: Node | None) -> str | None:
        value = self.text(node, "link", 2_000)
        if value is None or node is None:
            return None
        if not value.startswith(("http://", "https://")) or " " in value:
            self.problem(f"link {value!r} is not an http(s) URL; ignored", node)
            return None
        return value

    def claim(
        self, name: str, name_node: Node, aliases: list[tuple[str, Node]], entry: Node
    ) -> bool:
        """Reserve the entry's name and aliases; refuse the entry if another actor has one."""
        if not key(name):
            self.problem(f"entry {name!r} ignored: the name has no letters", name_node)
            return False
        keys: dict[str, tuple[str, Node]] = {}
        for label, node in ((name, name_node), *aliases):
            keys.setdefault(key(label), (label, node))
        for k, (label, node) in keys.items():
            if k in self.claimed:
                other, line = self.claimed[k]
                self.problem(
                    f"entry {name!r} ignored: {label!r} is already claimed by {other!r} "
                    f"(line {line})",
                    node,
                )
                return False
        for k in keys:
            self.claimed[k] = (name, _line(entry))
        return True


def curated_aliases(path: Path) -> dict[str, str]:
    """alias → canonical name from the editors' file, for answering: YAML only, no spaCy."""
    curated = load_curated(path, missing_ok=True)
    return {alias: actor.name for actor in curated.actors for alias in actor.aliases}
