"""The analysis tests that run real peers borrow the peer tests' fixtures."""

from tests.lighthouse.conftest import start_lighthouse  # noqa: F401
from tests.peer.conftest import make_peer  # noqa: F401
