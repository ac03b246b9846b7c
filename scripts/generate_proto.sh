#!/usr/bin/env bash
# Regenerate peerperf/protocol/*_pb2.py from the .proto sources with grpcio-tools' bundled protoc.
# The generated files are checked in; tests/protocol/test_generated_code.py fails when they drift.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-peerperf/protocol/generated}
mkdir -p "$out"
python -m grpc_tools.protoc -Ipeerperf/protocol/proto --python_out="$out" --pyi_out="$out" \
  peerperf/protocol/proto/peer_protobuf.proto peerperf/protocol/proto/comms.proto
