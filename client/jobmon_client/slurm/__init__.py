"""Talking to Slurm: reading its text output and building its command lines.

Every function here is pure, except those named ``read_*``, which run one Slurm command
through an injectable ``run`` callable. The worker and the resource checks import the
modules they need; nothing is imported here, so a compute node loads only what it uses.
"""
