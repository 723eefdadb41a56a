"""The ``sbatch`` resource: further Slurm options a task passes on as they are.

Plain data, no Slurm: the definitions check these options when a task is made, and the
Slurm distributor adds them to its command line.
"""

from __future__ import annotations

from collections.abc import Mapping


def extra_sbatch_args(options: object) -> list[str]:
    """Options given under ``sbatch``: a list of arguments, or a mapping of option names.

    In a mapping, ``{"qos": "high"}`` becomes ``--qos=high``, ``{"exclusive": True}``
    becomes ``--exclusive``, and False or None leaves the option out. Underscores in names
    become hyphens (``mail_type`` is ``--mail-type``): no sbatch option has an underscore.
    """
    if isinstance(options, Mapping):
        args = []
        for name, value in options.items():
            if not isinstance(name, str) or not name.strip("-"):
                raise ValueError(f"sbatch option name {name!r} must be a non-empty string")
            if isinstance(value, float) or not isinstance(value, str | int | None):
                raise ValueError(
                    f"sbatch option {name!r} has the value {value!r}; use a string, a whole "
                    "number, True (a flag) or False/None (left out)"
                )
            if value is None or value is False:
                continue
            option = name if name.startswith("-") else "--" + name.replace("_", "-")
            args.append(option if value is True else f"{option}={value}")
        return args
    if isinstance(options, list | tuple) and all(isinstance(a, str) and a for a in options):
        return list(options)
    raise ValueError(
        f"sbatch options {options!r} must be a list of non-empty strings, one argument each, "
        'such as ["--exclusive", "--qos=high"], or a mapping, such as '
        '{"qos": "high", "exclusive": True}'
    )
