"""Wire protocol of the comms network: pure data and codecs, no I/O.

- `packets`: the peer-to-peer `Packet` (protobuf) and its helpers.
- `messagetypes`: the reliable / unreliable / ping / pong / suspendRelay presets.
- `comms`: the application-level `CommsMessage` (protobuf).
- `signaling`: lighthouse WebSocket frames and their payloads.
- `ids`: peer id rules.
"""
