"""The `briefbot` CLI contract: commands, JSON fields, exit statuses, one-line errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import __version__
from bot.storage.database import Database
from briefbot.cli import main
from tests.conftest import ROOT, SEEDS


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own exits (--help, --version, usage errors)
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def feed_stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def test_ask_json_has_the_contract_fields(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["ask", "Qui est Molly Phee ?", "--json", "--corpus", str(SEEDS)], capsys)
    data = json.loads(out)
    assert code == 0
    assert data["answered"] is True
    assert "Molly Phee" in data["answer"]
    assert 0 <= data["confidence"] <= 1
    assert data["citations"][0]["section"] == "DES CONDITIONS STRICTES"
    assert data["suggestions"] == []


def test_ask_prints_a_readable_answer_with_its_source(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["ask", "Combien a coûté la base de drones ?"], capsys)
    assert code == 0
    assert "100 millions de dollars" in out
    assert "Manifestation" in out and "Confiance" in out


def test_unanswerable_question_says_so_and_suggests(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["ask", "Quelle est la capitale de l'Australie ?", "--json"], capsys)
    data = json.loads(out)
    assert code == 0 and data["answered"] is False and data["suggestions"]


def test_ask_dash_reads_one_question_per_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    feed_stdin(monkeypatch, b"Qui est Molly Phee ?\n\nQui est Kurt Campbell ?\n")
    code, out, _ = run(["ask", "-"], capsys)
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [r["question"] for r in rows] == ["Qui est Molly Phee ?", "Qui est Kurt Campbell ?"]


def test_ask_dash_reports_a_bad_line_and_goes_on(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    feed_stdin(monkeypatch, ("x" * 1001 + "\nQui est Molly Phee ?\n").encode())
    code, out, err = run(["ask", "-"], capsys)
    assert code == 2
    bad, good = (json.loads(line) for line in out.splitlines())
    assert bad == {"question": "x" * 1001, "error": bad["error"]} and "too long" in bad["error"]
    assert good["question"] == "Qui est Molly Phee ?" and good["answered"]
    assert err.count("\n") == 1 and "line 1" in err


def test_undecodable_stdin_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    feed_stdin(monkeypatch, b"Qui est \xff\xfe ?\n")
    code, _, err = run(["ask", "-"], capsys)
    assert code == 2
    assert err.count("\n") == 1 and "UTF-8" in err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["ask", ""], "empty"),
        (["ask", "   "], "empty"),
        (["ask", "q" * 1001], "too long"),
        (["ask", "question", "--corpus", "/nonexistent/folder"], "corpus folder not found"),
        (["ask", "question", "--no-such-option"], "unrecognized arguments"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_on_stderr_with_status_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], needle: str
) -> None:
    code, out, err = run(argv, capsys)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and needle in err
    assert "Traceback" not in err


def test_question_length_limit_is_configurable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIEFBOT_MAX_QUESTION_CHARS", "20")
    code, _, err = run(["ask", "Qui est le Premier ministre du Niger ?"], capsys)
    assert code == 2 and "at most 20" in err


def test_corpus_folder_from_the_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "a.md").write_text("# Pluie\n\nIl pleut sur Lyon depuis lundi.\n")
    monkeypatch.setenv("BRIEFBOT_CORPUS", str(tmp_path))
    code, out, _ = run(["ask", "Depuis quand pleut-il sur Lyon ?", "--json"], capsys)
    assert code == 0 and json.loads(out)["citations"][0]["article"] == "a"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--version"], capsys)
    assert code == 0 and out.strip() == f"briefbot {__version__}"


@pytest.mark.parametrize("command", ["ask", "chat", "run", "check"])
def test_help_everywhere(capsys: pytest.CaptureFixture[str], command: str) -> None:
    code, out, _ = run([command, "--help"], capsys)
    assert code == 0 and "usage: briefbot" in out


def test_check_passes_on_the_seeds(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["check"], capsys)
    assert code == 0 and "no problems found" in out


def test_check_reports_every_bad_file_and_exits_1(
    capsys: pytest.CaptureFixture[str], corpus: Path
) -> None:
    (corpus / "broken.txt").write_bytes(b"\xff\xfe\x00binary")
    (corpus / "empty.md").write_text("")
    code, out, _ = run(["check", "--corpus", str(corpus)], capsys)
    assert code == 1
    assert "broken.txt" in out and "empty.md" in out


def test_check_reports_bad_configuration(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIEFBOT_RESCAN_SECONDS", "-1")
    code, out, _ = run(["check"], capsys)
    assert code == 1 and "BRIEFBOT_RESCAN_SECONDS" in out


def test_python_dash_m_bot_is_the_same_cli() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "briefbot", "--version"], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0 and proc.stdout.strip() == f"briefbot {__version__}"


@pytest.mark.slow
def test_piped_run_answers_each_line_and_exits(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "briefbot", "run", "--corpus", str(SEEDS)],
        input="Qui est Molly Phee ?\n/help\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Molly Phee" in proc.stdout
    assert "/actor" in proc.stdout


def test_discord_invite_prints_the_oauth2_url(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["discord-invite", "--application-id", "123456789012345678"], capsys)
    assert code == 0
    assert "client_id=123456789012345678" in out
    assert "scope=bot+applications.commands" in out


def test_discord_invite_without_an_application_id_says_how_to_get_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run(["discord-invite"], capsys)
    assert code == 2 and "DISCORD_APPLICATION_ID" in err


def test_actor_json_has_the_contract_fields(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["actor", "tiany", "--json"], capsys)
    data = json.loads(out)
    assert code == 0 and data["found"] is True
    assert set(data) >= {"query", "found", "actor", "candidates", "suggestions"}
    assert data["actor"]["name"] == "Abdourahamane Tiani"
    assert set(data["actor"]) >= {"name", "kind", "description", "aliases", "mentions", "related"}
    assert set(data["actor"]["mentions"][0]) >= {"article", "title", "section", "date", "excerpt"}


def test_unknown_actor_is_not_found_with_suggestions(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["actor", "Angela Merkel", "--json"], capsys)
    data = json.loads(out)
    assert code == 0 and data["found"] is False and data["actor"] is None
    assert data["suggestions"]


@pytest.mark.parametrize(("name", "needle"), [("", "the name is empty"), ("x" * 201, "too long")])
def test_bad_actor_name_is_one_line_with_status_2(
    capsys: pytest.CaptureFixture[str], name: str, needle: str
) -> None:
    code, out, err = run(["actor", name], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and needle in err


def test_actors_json_lists_every_actor_with_kind_and_count(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(["actors", "--json"], capsys)
    rows = json.loads(out)
    assert code == 0
    assert {"name": "Molly Phee", "kind": "person", "mentions": 1} in rows


def test_digest_json_has_the_contract_fields(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["digest", "--json"], capsys)
    data = json.loads(out)
    assert code == 0
    assert set(data) == {"title", "generated_at", "articles", "actors", "timeline"}
    assert set(data["articles"][0]) == {"id", "title", "date", "url", "key_points", "actors"}
    assert {"date", "text", "article"} <= set(data["timeline"][0])


def test_digest_since_the_future_has_nothing_new(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["digest", "--since", "2999-01-01", "--json"], capsys)
    assert code == 0 and json.loads(out)["articles"] == []


def test_digest_with_a_bad_since_date_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["digest", "--since", "yesterday"], capsys)
    assert code == 2 and "ISO date" in err


def test_timeline_json_is_sorted_by_date(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["timeline", "--json"], capsys)
    events = json.loads(out)
    assert code == 0 and len(events) >= 10
    assert any(e["date"] == "2023-07-26" for e in events)


def test_subscriptions_and_feedback_start_empty(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["subscriptions", "--json"], capsys)[1].strip() == "[]"
    assert run(["feedback", "--json"], capsys)[1].strip() == "[]"


def test_check_reports_a_broken_actors_file_with_its_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "actors.yaml").write_text(
        "actors:\n  - name: A\n    kind: person\n  - name: B\n    kind: wizard\n"
    )
    monkeypatch.setenv("BRIEFBOT_CONFIG_DIR", str(config))
    code, out, _ = run(["check"], capsys)
    assert code == 1 and "actors.yaml:5" in out and "wizard" in out


VOTED_AT = datetime(2024, 1, 8, 7, 30, tzinfo=UTC)


def record_vote(tmp_path: Path) -> None:
    """One 👍 in the SQLite database of the data directory the CLI uses in tests."""
    database = Database(f"sqlite:///{tmp_path / 'data' / 'briefbot.db'}")
    try:
        database.feedback.record(
            platform="slack",
            user_id="U-voter",
            question="Qui est Molly Phee ?",
            article="000_ab94e0541aefd417",
            section="DES CONDITIONS STRICTES",
            value=1,
            now=VOTED_AT,
        )
    finally:
        database.close()


def test_feedback_prints_a_recorded_vote(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    record_vote(tmp_path)
    code, out, err = run(["feedback"], capsys)
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == "1 vote: 1 👍, 0 👎"
    assert "slack:U-voter « Qui est Molly Phee ? »" in out
    assert "000_ab94e0541aefd417 / DES CONDITIONS STRICTES" in out
    assert "2024-01-08 07:30" in out


def test_feedback_json_lists_a_recorded_vote_with_an_iso_date(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    record_vote(tmp_path)
    code, out, err = run(["feedback", "--json"], capsys)
    assert (code, err) == (0, "")
    [vote] = json.loads(out)
    assert (vote["question"], vote["article"], vote["value"]) == (
        "Qui est Molly Phee ?",
        "000_ab94e0541aefd417",
        1,
    )
    assert datetime.fromisoformat(vote["created_at"]) == VOTED_AT


def test_check_reports_an_actors_file_it_cannot_find(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # run from elsewhere: config/actors.yaml is relative
    code, out, _ = run(["check", "--corpus", str(SEEDS)], capsys)
    assert code == 1
    assert "actors.yaml" in out and "BRIEFBOT_CONFIG_DIR" in out


def test_ask_saves_the_search_index_for_the_next_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(["check", "--corpus", str(SEEDS)], capsys)
    assert "search index: not saved yet" in out
    run(["ask", "Qui est Molly Phee ?", "--corpus", str(SEEDS)], capsys)
    _, out, _ = run(["check", "--corpus", str(SEEDS)], capsys)
    assert "2 article(s)" in out and "up to date" in out


def test_check_counts_the_articles_the_saved_index_must_add(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for seed in SEEDS.iterdir():
        (corpus / seed.name).write_bytes(seed.read_bytes())
    run(["ask", "Qui est Molly Phee ?", "--corpus", str(corpus)], capsys)
    (corpus / "port.md").write_text("# Le port\nLe port a rouvert lundi.\n", encoding="utf-8")
    _, out, _ = run(["check", "--corpus", str(corpus)], capsys)
    assert "1 article(s) to add or update" in out


def test_a_second_ask_answers_from_the_saved_index(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    question = ["ask", "Combien de soldats américains au Niger ?", "--json"]
    _, first, _ = run([*question, "--corpus", str(SEEDS)], capsys)
    _, second, _ = run([*question, "--corpus", str(SEEDS)], capsys)
    assert json.loads(second) == json.loads(first)
