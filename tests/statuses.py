"""The harness statuses a run on a shared machine can get from load alone: every one but `faulty`, which
takes a harness failure (an error, a lost peer), not a busy CPU. Smoke tests of whole runs accept these."""

from __future__ import annotations

from peerperf.analysis.verdict import Status

FROM_LOAD_ALONE = frozenset(status.value for status in Status if status is not Status.FAULTY)
