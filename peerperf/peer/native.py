"""Loads the compiled data path's C extension (`peerperf.peer._datapath`, built at install when a C
compiler is present: setup.py), hands it the OpenSSL functions pyOpenSSL's connections belong to, and keeps
why it could not do either, so `peerperf --version` can say so."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

EXTENSION = "peerperf.peer._datapath"
#: How to build it in place (a C compiler and Python's headers needed); `pip install` builds it too.
BUILD = "python setup.py build_ext --inplace (needs a C compiler), or reinstall peerperf with one"


def _load(name: str = EXTENSION) -> tuple[ModuleType | None, str]:
    """The extension module, or None and why: not built at all (the usual case, said plainly, since
    Python's own error for a missing submodule reads like a circular import) or built but not loadable."""
    if importlib.util.find_spec(name) is None:
        return None, f"the C extension {name} was not built; build it with: {BUILD}"
    try:
        return importlib.import_module(name), ""
    except ImportError as exc:
        return None, f"the C extension {name} is built but does not load ({exc}); rebuild it with: {BUILD}"


#: The OpenSSL functions the extension's DTLS calls (_dtls.c) make, with the C types it calls them as.
OPENSSL_FUNCTIONS = {
    "SSL_read": "int(*)(SSL *, void *, int)",
    "SSL_write": "int(*)(SSL *, void *, int)",
    "BIO_read": "int(*)(BIO *, void *, int)",
    "BIO_write": "int(*)(BIO *, void *, int)",
    "SSL_get_error": "int(*)(SSL *, int)",
}


def _bind_openssl(extension: ModuleType, functions: dict[str, str] = OPENSSL_FUNCTIONS) -> str:
    """Give `extension` the addresses of `functions` in the OpenSSL linked into `cryptography`, the one
    pyOpenSSL's SSL* belong to (the system's libssl is another); "" when done, else why not (then nothing is
    bound: a function of another type or from another library is never called)."""
    try:
        from cryptography.hazmat.bindings._rust import _openssl
        from OpenSSL._util import lib as pyopenssl_lib
    except ImportError as exc:
        return f"cryptography's OpenSSL bindings are not where the compiled data path looks for them ({exc})"
    ffi, lib = _openssl.ffi, _openssl.lib
    addresses = []
    for name, ctype in functions.items():
        if getattr(lib, name, None) is None or getattr(pyopenssl_lib, name, None) is not getattr(lib, name):
            return f"pyOpenSSL's {name} is not cryptography's, so its SSL* cannot be handed to the compiled data path"
        pointer = ffi.addressof(lib, name)
        if ffi.typeof(pointer).cname != ctype:
            return f"OpenSSL's {name} is {ffi.typeof(pointer).cname}, not the {ctype} the compiled data path calls"
        addresses.append(int(ffi.cast("uintptr_t", pointer)))
    extension.bind_openssl(*addresses)
    return ""


def _load_and_bind() -> tuple[ModuleType | None, str]:
    extension, why = _load()
    if extension is not None and (why := _bind_openssl(extension)):
        extension = None
    return extension, why


#: The extension (loaded and bound to OpenSSL), or None; and why not.
datapath, why_not = _load_and_bind()


def available() -> bool:
    """Whether the C extension loaded."""
    return datapath is not None
