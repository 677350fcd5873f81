"""The status server: `/health`, `/ready` and `/metrics` on the bot's own asyncio loop.

It runs in the same loop as the adapters, so `/health` answering proves the loop is alive and
no second process is needed. It binds 127.0.0.1 unless told otherwise: the endpoints carry
no authentication and `/ready` details name internal state.

Readiness probes are named callables returning `bool` or `(bool, detail)`; coroutine
functions are awaited, plain functions run in a daemon thread so a slow database probe never
blocks the loop. Each probe has a timeout, and a probe whose previous call is still running
is awaited again rather than started twice, so a hung probe holds at most one thread, and a
daemon one, which cannot keep the process from exiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeAlias, cast

from aiohttp import web

log = logging.getLogger(__name__)

ProbeResult: TypeAlias = bool | tuple[bool, str]
Probe: TypeAlias = Callable[[], ProbeResult] | Callable[[], Awaitable[ProbeResult]]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PROBE_TIMEOUT = 5.0


class Rendered(Protocol):
    """A scrape body and its content type (`briefbot.metrics.Exposition`)."""

    @property
    def body(self) -> bytes: ...

    @property
    def content_type(self) -> str: ...


class MetricsSource(Protocol):
    """What `/metrics` serves; `briefbot.metrics.PrometheusTelemetry` is one."""

    def render(self, accept: str = "") -> Rendered:
        """The metrics in the format this `Accept` header prefers."""
        ...


@dataclass(frozen=True)
class ProbeStatus:
    """One probe's answer: whether it is ready, and a short reason."""

    name: str
    ready: bool
    detail: str


@dataclass(frozen=True)
class Readiness:
    """Every probe's answer; ready only when all of them are."""

    probes: tuple[ProbeStatus, ...]

    @property
    def ready(self) -> bool:
        return all(p.ready for p in self.probes)

    @property
    def not_ready(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.probes if not p.ready)

    def to_json(self) -> dict[str, object]:
        return {
            "ready": self.ready,
            "not_ready": list(self.not_ready),
            "probes": {p.name: {"ready": p.ready, "detail": p.detail} for p in self.probes},
        }


def _is_async(probe: object) -> bool:
    # `type(probe).__call__` catches an instance whose class defines `async def __call__`.
    return inspect.iscoroutinefunction(probe) or inspect.iscoroutinefunction(type(probe).__call__)


def _consume(future: asyncio.Future[object]) -> None:
    """Retrieve the outcome of a call nobody may await any more (it timed out earlier)."""
    if not future.cancelled():
        future.exception()


def _settle(future: asyncio.Future[object], outcome: object, failed: bool) -> None:
    if future.done():
        return
    if failed and isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def _normalise(result: object) -> tuple[bool, str]:
    if isinstance(result, bool):
        return result, "ok" if result else "not ready"
    if (
        isinstance(result, tuple)
        and len(result) == 2
        and isinstance(result[0], bool)
        and isinstance(result[1], str)
    ):
        return result[0], result[1]
    return False, "probe returned neither a bool nor (bool, detail)"


class StatusServer:
    """An aiohttp site serving the three status endpoints; unknown paths are 404.

    `port=0` picks a free port; `port` reads the bound one after `start()`.
    """

    def __init__(
        self,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        probes: Mapping[str, Probe] | None = None,
        metrics: MetricsSource | None = None,
        probe_timeout: float = DEFAULT_PROBE_TIMEOUT,
    ) -> None:
        self.host = host
        self._requested_port = port
        self._probes: dict[str, Probe] = dict(probes or {})
        self._metrics = metrics
        self._timeout = probe_timeout
        self._runner: web.AppRunner | None = None
        self._bound_port: int | None = None
        self._in_flight: dict[str, asyncio.Future[object]] = {}
        self._last_ready: dict[str, bool] = {}

    @property
    def port(self) -> int:
        if self._bound_port is None:
            raise RuntimeError("the status server is not started")
        return self._bound_port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def add_probe(self, name: str, probe: Probe) -> None:
        """Register (or replace) a readiness probe, e.g. once an adapter exists."""
        self._probes[name] = probe

    async def start(self) -> None:
        """Listen; returns once the socket is bound. Raises `OSError` if the port is taken."""
        if self._runner is not None:
            return
        app = web.Application()
        app.router.add_get("/health", self._health)
        app.router.add_get("/ready", self._ready)
        app.router.add_get("/metrics", self._metrics_handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self._requested_port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._bound_port = int(runner.addresses[0][1])
        log.info("status endpoints on %s (/health, /ready, /metrics)", self.url)

    async def stop(self) -> None:
        """Stop listening and drop pending probe calls; idempotent."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        for future in self._in_flight.values():
            future.cancel()
        self._in_flight.clear()
        self._bound_port = None

    async def check(self) -> Readiness:
        """Run every probe concurrently; what raises or times out is not ready."""
        names = list(self._probes)
        results = await asyncio.gather(*(self._run_probe(n, self._probes[n]) for n in names))
        statuses = tuple(
            ProbeStatus(n, ready, detail) for n, (ready, detail) in zip(names, results, strict=True)
        )
        self._log_changes(statuses)
        return Readiness(statuses)

    async def _run_probe(self, name: str, probe: Probe) -> tuple[bool, str]:
        try:
            if _is_async(probe):
                call = cast(Callable[[], Awaitable[ProbeResult]], probe)
                result: object = await asyncio.wait_for(call(), self._timeout)
            else:
                result = await asyncio.wait_for(
                    asyncio.shield(self._threaded(name, probe)), self._timeout
                )
        except TimeoutError:
            return False, f"no answer within {self._timeout:g}s"
        except asyncio.CancelledError:
            raise
        except Exception as err:  # the message may hold a URL or a secret: name the type only
            log.debug("readiness probe %s raised", name, exc_info=True)
            return False, f"probe raised {type(err).__name__}"
        if inspect.isawaitable(result):
            if inspect.iscoroutine(result):
                result.close()
            return False, "probe returned an awaitable from a plain function"
        return _normalise(result)

    def _threaded(self, name: str, probe: Probe) -> asyncio.Future[object]:
        """The running call of this sync probe, or a new one in a daemon thread."""
        future = self._in_flight.get(name)
        if future is not None and not future.done():
            return future
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        future.add_done_callback(_consume)
        self._in_flight[name] = future

        def work() -> None:
            try:
                outcome: object = probe()
                failed = False
            except Exception as err:
                outcome, failed = err, True
            with contextlib.suppress(RuntimeError):  # the loop closed while the probe ran
                loop.call_soon_threadsafe(_settle, future, outcome, failed)

        threading.Thread(target=work, name=f"briefbot-probe-{name}", daemon=True).start()
        return future

    def _log_changes(self, statuses: tuple[ProbeStatus, ...]) -> None:
        """Log a probe when it turns not ready or ready again, not at every scrape."""
        for status in statuses:
            before = self._last_ready.get(status.name, True)
            if before and not status.ready:
                log.warning("not ready: %s (%s)", status.name, status.detail)
            elif status.ready and not before:
                log.info("ready again: %s", status.name)
            self._last_ready[status.name] = status.ready

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _ready(self, request: web.Request) -> web.Response:
        readiness = await self.check()
        return web.json_response(readiness.to_json(), status=200 if readiness.ready else 503)

    async def _metrics_handler(self, request: web.Request) -> web.Response:
        if self._metrics is None:
            raise web.HTTPNotFound(text="metrics are not enabled")
        exposition = self._metrics.render(request.headers.get("Accept", ""))
        return web.Response(body=exposition.body, headers={"Content-Type": exposition.content_type})
