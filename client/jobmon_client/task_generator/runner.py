"""The runner of a task generator's task, on the compute node.

    python -m jobmon_client.task_generator.runner --module_name M --func_name F \\
        [--module_source_path FILE] [--arghelp] name=text ...

It imports module ``M`` (from ``FILE`` when given), finds its task generator ``F``, reads
each argument back from its text and calls the function. Exit status: 0 when the function
returned, 1 when it raised (its traceback, without the runner's frames, is the last thing
on stderr, which the worker keeps as the attempt's error), 2 when the task could not start
(the module cannot be imported, an argument cannot be read). ``sys.exit()`` in the
function exits with its own status.

Only the standard library and ``jobmon_client.task_generator`` are imported before the
user's module: nothing that talks to the server.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import socket
import sys
import traceback
from collections.abc import Sequence
from types import ModuleType

from jobmon_client.task_generator.generator import TaskGenerator
from jobmon_client.task_generator.serialization import TaskGeneratorError

FUNCTION_RAISED = 1
COULD_NOT_START = 2


class CannotStart(Exception):
    """The task cannot call its function; the message says why and what to do."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{os.path.basename(sys.executable)} -m jobmon_client.task_generator.runner",
        description="Run one task of a Jobmon task generator: call the function with the "
        "arguments given as name=value.",
        allow_abbrev=False,
    )
    parser.add_argument("--module_name", required=True, help="the module of the function")
    parser.add_argument("--func_name", required=True, help="the function's name")
    parser.add_argument(
        "--module_source_path",
        help="the module's .py file, when the module is not installed where the task runs",
    )
    parser.add_argument(
        "--arghelp", action="store_true", help="show the function's arguments and exit"
    )
    parser.add_argument("args", nargs="*", metavar="name=value", help="the function's arguments")
    return parser


def load_module(module_name: str, module_source_path: str | None) -> ModuleType:
    """Import the module by name, or from its file."""
    if module_source_path is None:
        try:
            return importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not (
                module_name == exc.name or module_name.startswith(exc.name + ".")
            ):
                raise  # the module itself imports something missing: the user's traceback
            raise CannotStart(
                f"cannot import module {module_name!r} on {socket.gethostname()}: {exc}. "
                "Install it in the environment the tasks run in (or put its directory on "
                "PYTHONPATH for the worker), or pass module_source_path='/path/to/"
                f"{module_name.split('.')[-1]}.py' to @task_generator"
            ) from None
    path = os.path.expanduser(module_source_path)
    if not os.path.isfile(path):
        raise CannotStart(
            f"module_source_path {path!r} is not a file on {socket.gethostname()}; the compute "
            "node must see the file at the same path (a shared file system)"
        )
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise CannotStart(f"module_source_path {path!r} cannot be imported as Python source")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    # Its neighbours are importable too, after everything installed (which they cannot hide).
    sys.path.append(os.path.dirname(os.path.abspath(path)))
    spec.loader.exec_module(module)
    return module


def find_generator(module: ModuleType, func_name: str) -> TaskGenerator:
    """The module's task generator of the function ``func_name``."""
    found = getattr(module, func_name, None)
    if isinstance(found, TaskGenerator):
        return found
    for value in vars(module).values():
        if isinstance(value, TaskGenerator) and value.name == func_name:
            return value  # the generator was bound to another name
    raise CannotStart(
        f"{module.__name__}:{func_name} doesn't point to a runnable jobmon task: the module "
        f"has no task generator named {func_name!r} (decorate the function with "
        "@task_generator at the top level of the module)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    try:
        module = load_module(options.module_name, options.module_source_path)
        generator = find_generator(module, options.func_name)
        if options.arghelp:
            print(generator.help())
            return 0
        arguments = generator.parse_args(options.args)
    except (CannotStart, TaskGeneratorError) as exc:
        print(f"jobmon task generator: {exc}", file=sys.stderr)
        return COULD_NOT_START
    except Exception:  # noqa: BLE001 - importing the user's module failed: show its traceback
        traceback.print_exc()
        print(
            f"jobmon task generator: importing module {options.module_name!r} failed (above)",
            file=sys.stderr,
        )
        return COULD_NOT_START
    sys.stdout.flush()
    try:
        generator.task_function(**arguments)
    except Exception as exc:  # noqa: BLE001 - the function's error is the attempt's error
        # Leave out this frame: the traceback starts in the user's function.
        below_runner = exc.__traceback__.tb_next if exc.__traceback__ else None
        traceback.print_exception(type(exc), exc, below_runner)
        return FUNCTION_RAISED
    return 0


if __name__ == "__main__":
    sys.exit(main())
