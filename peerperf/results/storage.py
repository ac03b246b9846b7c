"""A results folder that cannot take more bytes: refused at start, loud (and lossless) mid-test.

At start a probe write proves the folder exists, is writable and has some room, so a full or
read-only disk is a clear error before any peer runs. Mid-test a write that fails (disk full,
quota, read-only remount) becomes a 507 `insufficient-storage` naming the folder; the callers keep
what was not written in memory and what was written stays as it was, so freeing space and trying
again (the next flush, the finish) loses nothing.
"""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path

from peerperf.errors import ConfigError, RequestError

log = logging.getLogger(__name__)

#: Bytes the start-up probe writes: a folder that cannot take this cannot take a test.
PROBE_BYTES = 256 * 1024
#: Errors that mean "no room" or "not writable" rather than a bug.
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM})


def check_writable(folder: Path) -> None:
    """Create `folder` if needed and write (then remove) a probe file; `ConfigError` naming why not."""
    probe = folder / ".peerperf-write-probe"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        try:
            with probe.open("wb") as out:
                out.write(b"\0" * PROBE_BYTES)
                out.flush()
                os.fsync(out.fileno())
        finally:
            probe.unlink(missing_ok=True)
    except OSError as exc:
        raise ConfigError(f"the results folder {folder} is not usable: {describe(exc)}") from None


def storage_error(folder: Path, exc: OSError, kept: str) -> RequestError:
    """The 507 a failed write becomes; `kept` says what stays safe (in memory, on disk)."""
    message = f"cannot write to the results folder {folder}: {describe(exc)}; {kept}"
    return RequestError(507, "insufficient-storage", message)


def is_storage_error(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS


def describe(exc: OSError) -> str:
    return os.strerror(exc.errno) if exc.errno else str(exc)


def remove_partial_files(folder: Path, test_id: str) -> None:
    """Temporary files a failed write of test `test_id` left behind (they hold nothing kept elsewhere)."""
    for leftover in [*folder.glob(f"{test_id}.*tmp"), *folder.glob(f".peerperf/{test_id}.parts/*.tmp")]:
        leftover.unlink(missing_ok=True)
