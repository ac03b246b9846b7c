"""Every layer of the results API has every operation, under its declared name and signature."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path
from typing import Any

import pytest

from peerperf.cluster.actor_results_client import ActorResultsClient
from peerperf.cluster.results_actor import ResultsActor
from peerperf.results import ResultsSettings, create_app
from peerperf.results.api import OPERATIONS, Forwarding, ResultsApi
from peerperf.results.client import HttpResultsClient, ResultsClient
from peerperf.results.service import ResultsService

#: Once any class is made a Ray actor, Ray's tracing hook adds this keyword to the signature of each of its
#: methods, inherited ones (Forwarding's) included: it belongs to Ray, not to the API.
RAY_TRACING = "_ray_trace_ctx"
IMPLEMENTATIONS = [ResultsService, Forwarding, ResultsActor, ActorResultsClient, HttpResultsClient]
#: Over HTTP the start is awaited by polling `GET /test/{id}` (the original's contract): no route of its own.
NOT_A_ROUTE = {"wait_started"}


def _shape(function: Any) -> list[tuple[str, Any, Any, str]]:
    """A signature as comparable text: names, kinds, defaults and annotations (strings here: PEP 563)."""
    signature = inspect.signature(function)
    shape = [
        (p.name, p.kind, p.default, str(p.annotation)) for p in signature.parameters.values() if p.name != RAY_TRACING
    ]
    return [*shape, ("->", None, None, str(signature.return_annotation))]


def test_the_declaration_names_the_operations_a_run_uses() -> None:
    assert OPERATIONS == (
        "create_test",
        "get_test",
        "start_test",
        "set_metadata",
        "wait_started",
        "finish_test",
        "submit_batch",
        "submit_results",
        "submit_topology",
        "server_time_ms",
    )


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_implementation_has_every_operation_with_its_signature(implementation: type, operation: str) -> None:
    method = getattr(implementation, operation, None)
    assert method is not None, f"{implementation.__name__} lacks {operation}"
    assert inspect.iscoroutinefunction(method), f"{implementation.__name__}.{operation} is not async"
    assert _shape(method) == _shape(getattr(ResultsApi, operation))


def test_the_client_protocol_is_the_api_plus_the_transports_own_calls() -> None:
    extra = {name for name, member in vars(ResultsClient).items() if inspect.iscoroutinefunction(member)}
    assert ResultsApi in ResultsClient.__mro__ and extra == {"drain", "close"}


def test_the_forwarding_layers_pass_each_operation_on_under_its_own_name() -> None:
    calls: list[tuple[str, tuple[Any, ...]]] = []

    class Recorder(Forwarding):
        async def forward(self, operation: str, *args: Any) -> Any:
            calls.append((operation, args))
            return 1.5

    for operation in OPERATIONS:
        parameters = list(inspect.signature(getattr(ResultsApi, operation)).parameters)[1:]
        args = tuple(f"arg-{name}" for name in parameters)
        asyncio.run(getattr(Recorder(), operation)(*args))
        assert calls.pop() == (operation, args)


def test_each_gateway_route_is_served_by_the_operation_of_its_name(tmp_path: Path) -> None:
    app = create_app(ResultsService(ResultsSettings(location=str(tmp_path))), run_flusher=False)
    served: dict[str, set[str]] = {}
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if path == "/time" or path.startswith("/test"):
            served.setdefault(route.handler.__name__, set()).add(f"{route.method} {path}")
    assert set(served) == set(OPERATIONS) - NOT_A_ROUTE
    assert served["create_test"] == {"POST /test", "POST /test/{test_id}"}


def _structurally(service: ResultsService, http: HttpResultsClient, actor: ActorResultsClient) -> list[ResultsApi]:
    """Never called: mypy checks here that each class is a `ResultsApi` (the clients a `ResultsClient`)."""
    clients: list[ResultsClient] = [http, actor]
    return [service, *clients]
