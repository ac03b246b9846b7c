"""Tools run from a checkout (not installed with peerperf): code generation, the cluster rehearsal."""
