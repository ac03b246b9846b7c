"""A real multi-node Ray cluster on one machine, to rehearse cluster mode without a cloud account.

`netns` builds the network (a namespace per node, a bridge in a namespace of its own), `raynodes`
starts Ray on each node with cluster.yaml's own commands, `cluster` ties them into one rehearsal
that comes up whole or not at all, and `__main__` is the command line (`scripts/rehearse-cluster`).
"""
