"""Sizing a run from measurements: `peerperf calibrate` measures this machine, `peerperf plan` predicts a run.

A calibration (`calibration.py`) holds CPU per peer measured on real packed layers (`packed_run.py`,
`calibrate.py`) and a fit of it against the packets each peer handled. A plan (`plan.py`) takes the
packets per peer of a layer of any size from the mesh simulation (`mesh_simulation.py`: the real `Mesh`
relay code over in-memory links in virtual time) and turns them into CPU per peer, peers per node, nodes
and `peer_slot`. `placement_check.py` warns when a run puts more peers on a node than it holds healthy.
"""
