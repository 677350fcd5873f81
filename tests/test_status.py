"""The status server, over real sockets on 127.0.0.1: liveness, readiness and metrics."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Mapping

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from briefbot.metrics import PrometheusTelemetry
from briefbot.status import DEFAULT_HOST, MetricsSource, Probe, StatusServer


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(trust_env=False) as session:
        yield session


@pytest.fixture
async def servers() -> AsyncIterator[list[StatusServer]]:
    started: list[StatusServer] = []
    yield started
    for server in started:
        await server.stop()


async def _start(
    servers: list[StatusServer],
    probes: Mapping[str, Probe] | None = None,
    metrics: MetricsSource | None = None,
    probe_timeout: float = 5.0,
) -> StatusServer:
    server = StatusServer(
        host="127.0.0.1", port=0, probes=probes, metrics=metrics, probe_timeout=probe_timeout
    )
    await server.start()
    servers.append(server)
    return server


async def _get(http: aiohttp.ClientSession, server: StatusServer, path: str) -> tuple[int, str]:
    async with http.get(server.url + path) as response:
        return response.status, await response.text()


async def _ready(http: aiohttp.ClientSession, server: StatusServer) -> tuple[int, dict]:
    async with http.get(server.url + "/ready") as response:
        return response.status, await response.json()


def test_it_binds_loopback_by_default() -> None:
    assert DEFAULT_HOST == "127.0.0.1"
    assert StatusServer().host == "127.0.0.1"


async def test_port_zero_binds_a_free_port_and_exposes_it(servers: list[StatusServer]) -> None:
    server = await _start(servers)
    assert server.port > 0
    assert server.url == f"http://127.0.0.1:{server.port}"


async def test_the_port_is_unknown_before_start() -> None:
    with pytest.raises(RuntimeError):
        _ = StatusServer().port


async def test_a_taken_port_fails_start_with_oserror(servers: list[StatusServer]) -> None:
    first = await _start(servers)
    with pytest.raises(OSError):
        await StatusServer(port=first.port).start()


async def test_health_answers_200(http: aiohttp.ClientSession, servers: list[StatusServer]) -> None:
    server = await _start(servers)
    status, body = await _get(http, server, "/health")
    assert status == 200
    assert '"ok"' in body


async def test_unknown_paths_are_404(
    http: aiohttp.ClientSession, servers: list[StatusServer]
) -> None:
    server = await _start(servers)
    assert (await _get(http, server, "/admin"))[0] == 404


async def test_ready_is_200_when_every_probe_passes(
    http: aiohttp.ClientSession, servers: list[StatusServer]
) -> None:
    async def scheduler() -> bool:
        return True

    server = await _start(servers, {"slack": lambda: True, "scheduler": scheduler})
    status, body = await _ready(http, server)
    assert status == 200
    assert body["ready"] is True
    assert body["not_ready"] == []
    assert set(body["probes"]) == {"slack", "scheduler"}


async def test_ready_is_503_naming_what_is_not_ready_with_its_detail(
    http: aiohttp.ClientSession, servers: list[StatusServer]
) -> None:
    server = await _start(
        servers,
        {"slack": lambda: True, "discord": lambda: (False, "gateway disconnected")},
    )
    status, body = await _ready(http, server)
    assert status == 503
    assert body["not_ready"] == ["discord"]
    assert body["probes"]["discord"] == {"ready": False, "detail": "gateway disconnected"}
    assert body["probes"]["slack"]["ready"] is True


async def test_a_probe_that_raises_is_not_ready_and_its_message_is_not_shown(
    http: aiohttp.ClientSession, servers: list[StatusServer]
) -> None:
    def database() -> bool:
        raise ConnectionError("postgresql://bot:hunter2@db/briefbot refused")

    async def corpus() -> bool:
        raise RuntimeError("boom")

    server = await _start(servers, {"database": database, "corpus": corpus})
    status, body = await _ready(http, server)
    assert status == 503
    assert body["not_ready"] == ["database", "corpus"]
    assert body["probes"]["database"]["detail"] == "probe raised ConnectionError"
    assert "hunter2" not in str(body)


async def test_a_probe_with_a_malformed_answer_is_not_ready(
    http: aiohttp.ClientSession, servers: list[StatusServer]
) -> None:
    server = await _start(servers, {"corpus": lambda: "yes"})  # type: ignore[dict-item]
    status, body = await _ready(http, server)
    assert status == 503
    assert body["not_ready"] == ["corpus"]


async def test_a_plain_function_returning_a_coroutine_is_not_ready(
    servers: list[StatusServer],
) -> None:
    async def connected() -> bool:
        return True

    server = await _start(servers, {"slack": lambda: connected()})
    readiness = await server.check()
    assert readiness.not_ready == ("slack",)
    assert "awaitable" in readiness.probes[0].detail


async def test_readiness_follows_the_probe_when_it_changes(
    http: aiohttp.ClientSession, servers: list[StatusServer]
) -> None:
    connected = {"slack": True}
    server = await _start(servers, {"slack": lambda: connected["slack"]})
    assert (await _ready(http, server))[0] == 200
    connected["slack"] = False
    assert (await _ready(http, server))[0] == 503
    connected["slack"] = True
    assert (await _ready(http, server))[0] == 200


async def test_a_probe_added_after_start_is_checked(
    http: aiohttp.ClientSession, servers: list[StatusServer]
) -> None:
    server = await _start(servers)
    server.add_probe("discord", lambda: False)
    assert (await _ready(http, server))[1]["not_ready"] == ["discord"]


async def test_a_slow_sync_probe_runs_off_the_loop(
    http: aiohttp.ClientSession, servers: list[StatusServer]
) -> None:
    release = threading.Event()

    def database() -> bool:
        return release.wait(30)

    server = await _start(servers, {"database": database}, probe_timeout=30)
    try:
        pending = asyncio.ensure_future(_ready(http, server))
        status, _ = await _get(http, server, "/health")  # the loop answers meanwhile
        assert status == 200
        assert not pending.done()
    finally:
        release.set()
    assert (await pending)[0] == 200


async def test_a_hung_sync_probe_times_out_and_is_not_started_twice(
    servers: list[StatusServer],
) -> None:
    release = threading.Event()
    calls: list[int] = []

    def database() -> bool:
        calls.append(1)
        return release.wait(30)

    server = await _start(servers, {"database": database}, probe_timeout=0.01)
    try:
        first = await server.check()
        second = await server.check()
    finally:
        release.set()
    assert first.not_ready == ("database",)
    assert "no answer within" in first.probes[0].detail
    assert second.not_ready == ("database",)
    assert calls == [1]


async def test_a_hung_async_probe_times_out(servers: list[StatusServer]) -> None:
    async def scheduler() -> bool:
        await asyncio.Event().wait()
        return True

    server = await _start(servers, {"scheduler": scheduler}, probe_timeout=0.01)
    assert (await server.check()).not_ready == ("scheduler",)


async def test_no_probes_means_ready(servers: list[StatusServer]) -> None:
    server = await _start(servers)
    assert (await server.check()).ready


async def test_metrics_serve_the_registry_in_prometheus_text_format(
    http: aiohttp.ClientSession, servers: list[StatusServer]
) -> None:
    telemetry = PrometheusTelemetry(["slack"])
    telemetry.question("slack", "answered", 0.2)
    server = await _start(servers, metrics=telemetry)
    async with http.get(server.url + "/metrics") as response:
        body = await response.text()
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }
    assert (
        samples[("briefbot_questions_total", (("outcome", "answered"), ("platform", "slack")))] == 1
    )


async def test_metrics_are_404_when_not_enabled(
    http: aiohttp.ClientSession, servers: list[StatusServer]
) -> None:
    server = await _start(servers)
    assert (await _get(http, server, "/metrics"))[0] == 404


async def test_stop_closes_the_socket_and_can_be_called_twice(
    http: aiohttp.ClientSession, servers: list[StatusServer]
) -> None:
    server = await _start(servers)
    url = server.url
    await server.stop()
    await server.stop()
    with pytest.raises(aiohttp.ClientConnectionError):
        async with http.get(url + "/health"):
            pass
