"""The briefbot program: the command line, the composition root and `briefbot check`."""
