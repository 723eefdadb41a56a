"""Python functions as tasks: Jobmon's task generator.

    from jobmon_client import Tool, task_generator

    @task_generator(serializers={}, tool_name="demo", naming_args=["location_id"])
    def fit(location_id: int, years: list[int] = [2020]) -> None:
        ...

    tasks = fit.create_tasks(location_id=list(range(100)), years=[[2020, 2021]])

Each call becomes a task whose command runs the function on a compute node through
``python -m jobmon_client.task_generator.runner``. This module is both the decorator
(``task_generator(...)``, as the package exports it) and the module of upstream Jobmon
(``task_generator.task_generator(...)``, ``task_generator.TaskGenerator``).

Only the standard library is imported here: the runner imports this on every node.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from jobmon_client.task_generator.command import RUNNER_MODULE, quote, runner_executable
from jobmon_client.task_generator.generator import TaskGenerator, get_tasks_by_node_args
from jobmon_client.task_generator.help import HELP_TEXT_INTRO_FORMAT
from jobmon_client.task_generator.naming import NameFunc, create_task_name
from jobmon_client.task_generator.serialization import Serializers, TaskGeneratorError

TASK_RUNNER_NAME = RUNNER_MODULE


def task_generator(
    serializers: Serializers | None = None,
    tool_name: str = "",
    naming_args: Sequence[str] | None = None,
    max_attempts: int | None = None,
    module_source_path: str | None = None,
    name_func: NameFunc | None = None,
    default_cluster_name: str = "",
    default_compute_resources: Mapping[str, Any] | None = None,
    default_resource_scales: Mapping[str, Any] | None = None,
    yaml_file: str | None = None,
    custom_naming: NameFunc | None = None,
) -> Callable[[Callable[..., Any]], TaskGenerator]:
    """Decorate a function so that ``f.create_task(**args)`` makes a task that calls it.

    - ``serializers``: ``{type: (to_str, from_str)}`` for argument types of your own.
    - ``tool_name``: the tool the tasks belong to (the ``Tool`` of that name that the
      program created last, when it makes the tasks).
    - ``naming_args``: the arguments in a task's name (``fit:location_id=3``); ``None``
      for all of them, ``[]`` for the function's name alone.
    - ``max_attempts``: attempts per task (else the template's, workflow's or tool's).
    - ``module_source_path``: the function's ``.py`` file when the compute node cannot
      import its module (it is not installed there).
    - ``name_func`` or ``custom_naming``: ``f(prefix, kwargs_for_name) -> str`` names the
      tasks instead (``prefix`` is the function's name, the values are their texts).
    - ``default_cluster_name``, ``default_compute_resources``, ``default_resource_scales``
      and ``yaml_file`` (Jobmon's resources file) are the template's defaults.
    """

    def wrapper(task_function: Callable[..., Any]) -> TaskGenerator:
        return TaskGenerator(
            task_function=task_function,
            serializers=serializers,
            tool_name=tool_name,
            naming_args=naming_args,
            max_attempts=max_attempts,
            module_source_path=module_source_path,
            name_func=name_func,
            default_cluster_name=default_cluster_name,
            default_compute_resources=default_compute_resources,
            default_resource_scales=default_resource_scales,
            yaml_file=yaml_file,
            custom_naming=custom_naming,
        )

    return wrapper


class _DecoratorModule(types.ModuleType):
    """This module, callable as the decorator: ``from jobmon_client import task_generator``
    then ``@task_generator(...)`` works, as does upstream's ``task_generator.task_generator``."""

    def __call__(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], TaskGenerator]:
        return task_generator(*args, **kwargs)


sys.modules[__name__].__class__ = _DecoratorModule

__all__ = [
    "HELP_TEXT_INTRO_FORMAT",
    "TASK_RUNNER_NAME",
    "TaskGenerator",
    "TaskGeneratorError",
    "create_task_name",
    "get_tasks_by_node_args",
    "quote",
    "runner_executable",
    "task_generator",
]
