"""The per-user question limit."""

from __future__ import annotations

from bot.chat.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_allows_up_to_the_limit_then_refuses() -> None:
    limiter = RateLimiter(3, 60, clock=Clock())
    assert [limiter.allow("u") for _ in range(4)] == [True, True, True, False]


def test_limits_are_per_user() -> None:
    limiter = RateLimiter(1, 60, clock=Clock())
    assert limiter.allow("a") and limiter.allow("b")
    assert not limiter.allow("a")


def test_window_slides() -> None:
    clock = Clock()
    limiter = RateLimiter(2, 60, clock=clock)
    limiter.allow("u")
    clock.now = 30
    limiter.allow("u")
    assert not limiter.allow("u")
    assert limiter.retry_after("u") == 30
    clock.now = 60
    assert limiter.allow("u")
