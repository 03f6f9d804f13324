"""The yardstick: a bare Starlette endpoint that parses a JSON body and answers 201."""

from __future__ import annotations

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


async def send(request: Request) -> Response:
    body = orjson.loads(await request.body())
    return Response(
        orjson.dumps({"success": True, "data": body}), 201, media_type="application/json"
    )


app = Starlette(
    routes=[
        Route("/api/v1/messages/send", send, methods=["POST"]),
        Route("/api/v1/messages/bulk", send, methods=["POST"]),
    ]
)
