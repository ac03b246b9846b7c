"""Wire protocol of the comms network: pure data and codecs, no I/O.

- `packets`: the peer-to-peer `Packet` (protobuf) and its helpers.
- `messagetypes`: the reliable / unreliable / ping / pong / suspendRelay presets.
- `comms`: the application-level `CommsMessage` (protobuf).
- `signaling_frames`: lighthouse WebSocket frames and their payloads.
- `challenge`: the HMAC answer to the lighthouse's VALIDATION challenge.
- `ids`: peer id rules and random ids.
- `positions`: the `Position` type and distances.
- `wallclock`: `now_ms`, the unit of every timestamp.
"""
