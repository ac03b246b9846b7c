"""Exceptions shared across peerperf's layers; each names what went wrong for the user."""


class PeerperfError(Exception):
    """Base class of every error peerperf raises on purpose."""


class ProtocolError(PeerperfError):
    """Bytes or a frame that do not follow the wire protocol."""


class ConfigError(PeerperfError):
    """A setting that cannot be used (wrong type, missing secret, bad combination)."""
