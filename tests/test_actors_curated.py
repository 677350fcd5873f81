"""The editors' actors.yaml: what is read, and every mistake reported with its line."""

from __future__ import annotations

from pathlib import Path

from bot.actors.curated import check_actors_file, load_curated, parse_curated
from bot.actors.model import ActorKind

ROOT = Path(__file__).resolve().parent.parent
ACTORS_YAML = ROOT / "config" / "actors.yaml"


def test_the_shipped_actors_file_has_no_problem() -> None:
    assert check_actors_file(ACTORS_YAML) == []


def test_the_shipped_file_covers_the_seed_actors_with_their_aliases() -> None:
    actors = {a.name: a for a in load_curated(ACTORS_YAML).actors}
    assert actors["Abdourahamane Tiani"].kind is ActorKind.PERSON
    assert "Tiani" in actors["Abdourahamane Tiani"].aliases
    assert "ECOWAS" in actors["Cédéao"].aliases
    assert actors["Junte nigérienne"].kind is ActorKind.GROUP
    assert actors["Niger"].kind is ActorKind.STATE
    for name in ("Africa Corps", "Groupe Wagner", "AFP", "Département d'État américain"):
        assert name in actors


def test_an_entry_keeps_its_fields_and_line() -> None:
    text = (
        "actors:\n"
        "  - name: Kurt Campbell\n"
        "    kind: person\n"
        "    description: Numéro deux de la diplomatie américaine.\n"
        "    aliases: [Campbell]\n"
        "    link: https://example.org/campbell\n"
    )
    loaded = parse_curated(text)
    assert loaded.problems == ()
    (actor,) = loaded.actors
    assert actor.name == "Kurt Campbell"
    assert actor.description == "Numéro deux de la diplomatie américaine."
    assert actor.aliases == ("Campbell",)
    assert actor.link == "https://example.org/campbell"
    assert actor.line == 2


def test_bad_yaml_syntax_is_one_problem_with_its_line() -> None:
    text = "actors:\n  - name: Tiani\n    kind: person\n    aliases: [Tiani\n"
    loaded = parse_curated(text, "actors.yaml")
    assert loaded.actors == ()
    (problem,) = loaded.problems
    assert problem.path == "actors.yaml"
    assert "invalid YAML" in problem.reason
    assert problem.line is not None and problem.line >= 4


def test_unknown_kind_skips_the_entry_and_keeps_the_others() -> None:
    text = (
        "actors:\n"
        "  - name: Molly Phee\n"
        "    kind: diplomat\n"
        "  - name: Kurt Campbell\n"
        "    kind: person\n"
    )
    loaded = parse_curated(text)
    assert [a.name for a in loaded.actors] == ["Kurt Campbell"]
    (problem,) = loaded.problems
    assert "unknown kind 'diplomat'" in problem.reason
    assert problem.line == 3


def test_missing_name_is_reported_at_the_entry() -> None:
    loaded = parse_curated("actors:\n  - kind: person\n    aliases: [X]\n")
    assert loaded.actors == ()
    assert loaded.problems[0].reason == "entry ignored: missing 'name'"
    assert loaded.problems[0].line == 2


def test_an_alias_claimed_by_two_actors_rejects_the_second_at_the_alias_line() -> None:
    text = (
        "actors:\n"
        "  - name: Cédéao\n"
        "    kind: organisation\n"
        "    aliases: [ECOWAS]\n"
        "  - name: Union africaine\n"
        "    kind: organisation\n"
        "    aliases:\n"
        "      - UA\n"
        "      - ecowas\n"
    )
    loaded = parse_curated(text)
    assert [a.name for a in loaded.actors] == ["Cédéao"]
    (problem,) = loaded.problems
    assert "already claimed by 'Cédéao'" in problem.reason
    assert problem.line == 9


def test_a_name_repeated_without_accents_is_a_duplicate() -> None:
    text = "- name: Cédéao\n  kind: organisation\n- name: CEDEAO\n  kind: organisation\n"
    loaded = parse_curated(text)
    assert [a.name for a in loaded.actors] == ["Cédéao"]
    assert loaded.problems[0].line == 3


def test_unknown_fields_and_bad_links_are_reported_but_the_entry_is_kept() -> None:
    text = (
        "actors:\n"
        "  - name: AFP\n"
        "    kind: organisation\n"
        "    website: https://afp.com\n"
        "    link: javascript:alert(1)\n"
    )
    loaded = parse_curated(text)
    assert [(a.name, a.link) for a in loaded.actors] == [("AFP", None)]
    assert [p.line for p in loaded.problems] == [4, 5]


def test_a_file_without_an_actors_list_is_reported() -> None:
    loaded = parse_curated("people: 3\n")
    assert loaded.actors == ()
    assert "top-level 'actors:'" in loaded.problems[0].reason


def test_an_empty_file_has_no_actor_and_no_problem() -> None:
    assert parse_curated("") == parse_curated("# nothing yet\n")
    assert parse_curated("").actors == () and parse_curated("").problems == ()


def test_checking_a_missing_file_says_so(tmp_path: Path) -> None:
    (problem,) = check_actors_file(tmp_path / "actors.yaml")
    assert problem.reason == "actors file not found"


def test_a_file_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "actors.yaml"
    path.write_bytes(b"actors:\n  - name: C\xe9d\xe9ao\n")
    (problem,) = check_actors_file(path)
    assert "not UTF-8" in problem.reason
