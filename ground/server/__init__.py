"""The ground server: one long-running process that owns the spacecraft links.

    cubesat ground --config ground.toml

It keeps one `ground.terminal.Terminal` (COP-1 FOP + SDLS state) per spacecraft for its whole
life, decodes all downlink, archives everything (`store.GroundStore`, SQLite by default) and
serves an HTTP API with server-sent events for live packets (`api`). Clients: `cubesat send`
and `cubesat watch` with `--server URL`, and the scripting API in `client`.

Modules: errors, config, auth, store, decode, spacecraft (the link thread), live (fan-out to
SSE clients), api (Starlette routes), server (composition + uvicorn), client, logs.
"""

from ground.server.errors import GroundServerError

__all__ = ["GroundServerError"]
