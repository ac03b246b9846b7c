"""What pyproject.toml cannot state: the package list and the optional C extension.

Packages: peerperf's own (found) plus routines/ and analysis/ from the repository's top, installed as
peerperf.routines and peerperf.analysis (the `package-dir` mapping in pyproject.toml).

`peerperf.peer._datapath` (the compiled data path, peerperf/peer/compiled_path.py) is built when a C
compiler and Python's headers are present; `optional=True` lets the install go on without it, as
aiohttp's speedups do, and peerperf then runs the pure-Python fast path (`peerperf --version` says so).
"""

from setuptools import Extension, find_packages, setup

MAPPED = ("peerperf.analysis", "peerperf.routines")

DATAPATH = Extension(
    "peerperf.peer._datapath",
    ["peerperf/peer/_datapath.c", "peerperf/peer/_dtls.c"],
    depends=["peerperf/peer/_dtls.h"],
    extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter"],
    optional=True,
)

setup(packages=sorted({*find_packages(include=["peerperf", "peerperf.*"]), *MAPPED}), ext_modules=[DATAPATH])
