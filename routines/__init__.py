"""Routine plug-ins: `routine(elapsed, delta, peer)` functions selected with `--routine`.

Add your own module here (or anywhere importable) and select it with `--routine module:function`.
"""
