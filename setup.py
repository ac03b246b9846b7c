"""The package list, which pyproject.toml cannot state: peerperf's own packages (found) plus
routines/ and analysis/ from the repository's top, installed as peerperf.routines and peerperf.analysis
(the `package-dir` mapping in pyproject.toml). Everything else is declared in pyproject.toml."""

from setuptools import find_packages, setup

MAPPED = ("peerperf.analysis", "peerperf.routines")

setup(packages=sorted({*find_packages(include=["peerperf", "peerperf.*"]), *MAPPED}))
