"""An unreachable cluster address is one line, at once (Ray itself retries for minutes)."""

from __future__ import annotations

import pytest

from trafficai.errors import ConfigError
from trafficai.scale.cluster import check_reachable


def test_an_unreachable_address_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"cannot reach the Ray cluster at 127\.0\.0\.1:1"):
        check_reachable("127.0.0.1:1", timeout_s=2)
