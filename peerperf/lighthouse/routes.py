"""HTTP API of the lighthouse (reference 1.2), minus `PUT /config` and `/monitor`."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from peerperf.errors import RequestError
from peerperf.httpserver import read_json_object
from peerperf.lighthouse.layers import Layer
from peerperf.lighthouse.lighthouse import LIGHTHOUSE_VERSION, Lighthouse
from peerperf.lighthouse.websocket_endpoint import LIGHTHOUSE
from peerperf.protocol.wallclock import now_ms_int

routes = web.RouteTableDef()
#: Longest layer or room name accepted in a path.
MAX_NAME_LENGTH = 128


def _lighthouse(request: web.Request) -> Lighthouse:
    return request.app[LIGHTHOUSE]


def _name(request: web.Request, key: str) -> str:
    value = request.match_info[key]
    if not value or len(value) > MAX_NAME_LENGTH:
        raise RequestError(400, "bad-request", f"{key} must be 1 to {MAX_NAME_LENGTH} characters")
    return value


def _layer_json(lighthouse: Lighthouse, layer: Layer, with_parcels: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"name": layer.id, "usersCount": len(layer.peers), "maxUsers": layer.max_peers}
    if with_parcels:
        parcels = (lighthouse.peers.ensure(p).parcel for p in layer.peers)
        out["usersParcels"] = [list(p) for p in parcels if p is not None]
    return out


def _acting_id(body: dict[str, Any]) -> str:
    """The peer a layer or room call acts on: `id`, else `peerId` (token checked against it)."""
    peer_id = body.get("id") or body.get("peerId")
    if not isinstance(peer_id, str):
        raise RequestError(400, "bad-request", "Missing required parameters: Must have at least one of id, peerId")
    return peer_id


@routes.get("/status")
async def status(request: web.Request) -> web.Response:
    lighthouse = _lighthouse(request)
    settings = lighthouse.settings
    body: dict[str, Any] = {
        "name": settings.name,
        "version": LIGHTHOUSE_VERSION,
        "currenTime": now_ms_int(),  # sic: the original's key, kept for compatibility
        "env": {"secure": settings.secure, "commitHash": settings.commit_hash or None},
        "ready": True,
        # peerperf's own: unexpected errors in the lighthouse's loops and client writers (see its log)
        "harnessErrors": lighthouse.supervisor.errors,
    }
    if request.query.get("includeLayers") == "true":
        body["layers"] = [_layer_json(lighthouse, layer, True) for layer in lighthouse.layers.all()]
    return web.json_response(body)


@routes.get("/layers")
async def list_layers(request: web.Request) -> web.Response:
    lighthouse = _lighthouse(request)
    with_parcels = request.query.get("usersParcels") == "true"
    return web.json_response([_layer_json(lighthouse, layer, with_parcels) for layer in lighthouse.layers.all()])


@routes.get("/layers/{layer}")
async def get_layer(request: web.Request) -> web.Response:
    lighthouse = _lighthouse(request)
    return web.json_response(_layer_json(lighthouse, lighthouse.layers.get(_name(request, "layer")), False))


@routes.get("/layers/{layer}/users")
async def layer_users(request: web.Request) -> web.Response:
    lighthouse = _lighthouse(request)
    layer = lighthouse.layers.get(_name(request, "layer"))
    return web.json_response(lighthouse.peers.users(layer.peers))


@routes.get("/layers/{layer}/rooms")
async def layer_rooms(request: web.Request) -> web.Response:
    layer = _lighthouse(request).layers.get(_name(request, "layer"))
    user_id = request.query.get("userId")
    rooms = [r.id for r in layer.rooms.values() if user_id is None or user_id in r.peers]
    return web.json_response(rooms)


@routes.get("/layers/{layer}/rooms/{room}")
async def room_users(request: web.Request) -> web.Response:
    lighthouse = _lighthouse(request)
    room = lighthouse.layers.room(_name(request, "layer"), _name(request, "room"))
    return web.json_response(lighthouse.peers.users(room.peers))


@routes.put("/layers/{layer}")
async def join_layer(request: web.Request) -> web.Response:
    lighthouse = _lighthouse(request)
    layer_id = _name(request, "layer")
    body = await read_json_object(request)
    peer_id = _acting_id(body)
    lighthouse.authorize(peer_id, request.headers.get("X-Peer-Token"))
    protocol_version = body.get("protocolVersion")
    if isinstance(protocol_version, int) and not isinstance(protocol_version, bool):
        lighthouse.peers.ensure(peer_id).protocol_version = protocol_version
    layer = lighthouse.layers.join_layer(layer_id, peer_id)
    return web.json_response(lighthouse.peers.users(layer.peers))


@routes.put("/layers/{layer}/rooms/{room}")
async def join_room(request: web.Request) -> web.Response:
    lighthouse = _lighthouse(request)
    layer_id, room_id = _name(request, "layer"), _name(request, "room")
    lighthouse.layers.get(layer_id)
    peer_id = _acting_id(await read_json_object(request))
    lighthouse.authorize(peer_id, request.headers.get("X-Peer-Token"))
    room = lighthouse.layers.join_room(layer_id, room_id, peer_id)
    return web.json_response(lighthouse.peers.users(room.peers))


@routes.delete("/layers/{layer}/rooms/{room}/users/{user}")
async def leave_room(request: web.Request) -> web.Response:
    lighthouse = _lighthouse(request)
    layer_id, room_id, peer_id = _name(request, "layer"), _name(request, "room"), _name(request, "user")
    lighthouse.layers.get(layer_id)
    lighthouse.authorize(peer_id, request.headers.get("X-Peer-Token"))
    remaining = lighthouse.layers.leave_room(layer_id, room_id, peer_id)
    return web.json_response(lighthouse.peers.users(remaining))


@routes.delete("/layers/{layer}/users/{user}")
async def leave_layer(request: web.Request) -> web.Response:
    lighthouse = _lighthouse(request)
    layer_id, peer_id = _name(request, "layer"), _name(request, "user")
    lighthouse.layers.get(layer_id)
    lighthouse.authorize(peer_id, request.headers.get("X-Peer-Token"))
    layer = lighthouse.layers.leave_layer(layer_id, peer_id)
    return web.json_response(lighthouse.peers.users(layer.peers))


@routes.get("/layers/{layer}/topology")
async def topology(request: web.Request) -> web.Response:
    lighthouse = _lighthouse(request)
    layer = lighthouse.layers.get(_name(request, "layer"))
    infos = [lighthouse.peers.ensure(p) for p in layer.peers]
    if request.query.get("format") == "graphviz":
        lines = ["strict digraph graphName {", "concentrate=true"]
        for info in infos:
            label = json.dumps(f"{info.id}\nconns: {len(info.connected_peer_ids)}")
            lines.append(f"{json.dumps(info.id)} [label={label}];")
        for info in infos:
            lines.extend(f"{json.dumps(info.id)}->{json.dumps(other)};" for other in info.connected_peer_ids)
        lines.append("}")
        return web.Response(text="\n".join(lines), content_type="text/vnd.graphviz")
    return web.json_response([info.topology_json(layer.id) for info in infos])
