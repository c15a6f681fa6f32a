"""A reload of a config that became a pipe is refused saying why, as `run` refuses one at start."""

from __future__ import annotations

import logging
import os

from tests.support.inprocess import serve
from tests.support.world import World, write_config


def test_a_config_that_became_a_pipe_is_refused_at_reload(tmp_path, caplog) -> None:
    # The reload read it as `check` does (a pipe allowed), so the reason was "a pipe that gave
    # nothing" and never why `run` refuses one.
    async def scenario(service):
        path.unlink()
        os.mkfifo(path)
        return await service.reload()

    with World() as world:
        path = write_config(tmp_path, world)
        with caplog.at_level(logging.ERROR, logger="bot.service.scheduler"):
            reloaded = serve(path, scenario)
    assert (reloaded, [r.getMessage() for r in caplog.records]) == (
        False,
        [
            f"reload refused, the running config stays: {path} is a pipe: expected a TOML file "
            "(run reads its config again at each reload, which a pipe cannot give twice)"
        ],
    )
