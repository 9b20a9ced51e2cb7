"""The ASGI application of ``kinmatch serve`` (FastAPI; OpenAPI at
``/api/openapi.json``, interactive documentation at ``/api/docs``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kinmatch import __version__
from kinmatch.service import (
    routes_admin,
    routes_analyses,
    routes_case,
    routes_records,
    routes_session,
)
from kinmatch.service.access import ServiceState
from kinmatch.service.jobs import JobRunner
from kinmatch.storage.database import Database
from kinmatch.storage.encryption import Keyring


def unique_violation(exc: IntegrityError) -> bool:
    """Did the database refuse a duplicate (a unique constraint), rather than
    anything else?"""
    orig = exc.orig
    return (getattr(orig, "sqlstate", None) == "23505"  # PostgreSQL's unique_violation
            or getattr(orig, "sqlite_errorname", None) in ("SQLITE_CONSTRAINT_UNIQUE",
                                                           "SQLITE_CONSTRAINT_PRIMARYKEY"))


def create_app(database: Database, keyring: Keyring, *, secure_cookies: bool = True,
               run_jobs: bool = True) -> FastAPI:
    """The service over ``database``; with ``run_jobs`` a worker thread runs
    queued analyses while the application is up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runner = JobRunner(database, keyring) if run_jobs else None
        app.state.jobs = runner
        if runner is not None:
            runner.start()
        try:
            yield
        finally:
            if runner is not None:
                runner.stop()

    app = FastAPI(title="kinmatch", version=__version__, lifespan=lifespan,
                  openapi_url="/api/openapi.json", docs_url="/api/docs", redoc_url=None,
                  description="The shared case of a DNA identification programme: missing "
                              "persons, families, remains, analyses, audit.")
    app.state.kinmatch = ServiceState(database, keyring, secure_cookies)
    app.state.jobs = None
    for module in (routes_session, routes_case, routes_records, routes_analyses, routes_admin):
        app.include_router(module.router)

    @app.exception_handler(StaleDataError)
    async def conflict(request: Request, exc: StaleDataError) -> JSONResponse:
        return JSONResponse({"detail": "changed by someone else meanwhile: read it again"},
                            status_code=409)

    @app.exception_handler(IntegrityError)
    async def clash(request: Request, exc: IntegrityError) -> JSONResponse:
        # a unique code or file written by a concurrent request between our check and our
        # write (PostgreSQL: both transactions saw it absent); the request changed nothing
        if not unique_violation(exc):
            raise exc
        return JSONResponse({"detail": "conflicts with a change made at the same time (a "
                                       "code, name or file stored meanwhile): read it again"},
                            status_code=409)

    app.add_middleware(SecurityHeaders)
    return app


#: headers every answer carries unless it sets them itself
SECURITY_HEADERS = ((b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"cache-control", b"no-store"))


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every HTTP answer (a plain ASGI
    middleware: no task and no stream per request, as Starlette's
    ``BaseHTTPMiddleware`` would add)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in SECURITY_HEADERS
                            if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
