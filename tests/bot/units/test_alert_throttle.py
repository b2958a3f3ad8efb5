"""The admin alert throttle: one alert per kind per window, kinds independent."""

from __future__ import annotations

from bot.alerts import ALERT_WINDOW_S, AlertThrottle


def test_one_alert_per_kind_per_window() -> None:
    now = [0.0]
    throttle = AlertThrottle(clock=lambda: now[0])
    deliver = ("ConnectionRefusedError in deliver", 1)
    assert throttle.allow(deliver)
    assert not throttle.allow(deliver)
    assert throttle.allow(("ConnectionRefusedError in publish", 1))  # another job
    assert throttle.allow(("TimeoutError in deliver", 1))  # another error
    now[0] += ALERT_WINDOW_S - 1
    assert not throttle.allow(deliver)
    now[0] += 1
    assert throttle.allow(deliver)
    assert not throttle.allow(deliver)
