"""``TaskGenerator``: a Python function whose calls become tasks.

The generator reads the function's signature once: every parameter needs an annotation
that a codec can write (see ``serialization``). ``create_task(**args)`` writes each
argument as text, quotes it for the shell and makes a task of the generator's template,
whose command runs ``jobmon_client.task_generator.runner`` on the compute node; there the
runner reads the texts back and calls the function.

This module imports nothing of the client's server-facing parts at import time: the
runner imports it (through the user's module) on every compute node.
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
import logging
import os
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from jobmon_client.task_generator.command import (
    EXECUTABLE_ARG,
    MAX_COMMAND_BYTES,
    command_template,
    quote,
    runner_executable,
)
from jobmon_client.task_generator.help import help_text
from jobmon_client.task_generator.naming import NameFunc, create_task_name, name_part
from jobmon_client.task_generator.serialization import (
    Codec,
    Mismatch,
    NoneCodec,
    OptionalCodec,
    Serializers,
    TaskGeneratorError,
    Unsupported,
    codec_for,
    type_name,
)
from jobmon_client.validation import storable_name

if TYPE_CHECKING:
    from jobmon_client.task import Task
    from jobmon_client.task_template import TaskTemplate
    from jobmon_client.tool import Tool
    from jobmon_client.workflow import Workflow

log = logging.getLogger(__name__)

# The keywords of create_task and create_tasks: a function cannot have parameters so named.
CREATE_OPTIONS = frozenset(
    {
        "cluster_name",
        "compute_resources",
        "resource_scales",
        "upstream_tasks",
        "task_attributes",
        "fallback_queues",
    }
)
_EXPANDED = (list, range)


class Written(NamedTuple):
    """One argument as a task carries it."""

    text: str  # what the function's runner reads back
    token: str  # the text quoted for the shell
    shown: str  # its part of the task's name (empty unless it is a naming arg)


class TaskGenerator:
    """Makes tasks that call ``task_function`` on a compute node.

    Made by the ``task_generator`` decorator; see its documentation for the parameters.
    The task template is the function's name; every parameter is a node arg, so any
    change to an argument makes a new task, and the same call is the same task.
    """

    def __init__(
        self,
        task_function: Callable[..., Any],
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
    ) -> None:
        if not inspect.isfunction(task_function):
            raise TaskGeneratorError(
                f"task_generator turns a function (def ...) into tasks, got {task_function!r}"
            )
        self.task_function = task_function
        self.name: str = task_function.__name__
        self.mod_name: str = task_function.__module__
        self.full_path = f"{self.mod_name}:{self.name}"
        if not isinstance(tool_name, str) or not tool_name:
            raise TaskGeneratorError(
                f"task generator {self.name}: tool_name must name the tool its tasks belong "
                f"to, such as tool_name='my_pipeline'; got {tool_name!r}"
            )
        if serializers is not None and not isinstance(serializers, Mapping):
            raise TaskGeneratorError(
                f"task generator {self.name}: serializers must be a dict of "
                f"{{type: (to_str, from_str)}}, got {serializers!r}"
            )
        self.serializers: dict[Any, Any] = dict(serializers or {})
        self.tool_name = tool_name
        self.max_attempts = _check_max_attempts(max_attempts, self.name)
        self.module_source_path = _source_path(module_source_path, self.name)
        if name_func is not None and custom_naming is not None:
            raise TaskGeneratorError(
                f"task generator {self.name}: give name_func or custom_naming, not both "
                "(they are the same option)"
            )
        self.name_func = name_func if name_func is not None else custom_naming
        if self.name_func is not None and not callable(self.name_func):
            raise TaskGeneratorError(
                f"task generator {self.name}: name_func must be a function (prefix, "
                f"kwargs_for_name) -> str, got {self.name_func!r}"
            )
        self._signature = inspect.signature(task_function)
        self.params: dict[str, Any] = self._read_annotations()
        self._codecs: dict[str, Codec] = self._make_codecs()
        self._warn_naming = naming_args is None and bool(self.params)
        self._naming_args = self._check_naming_args(naming_args)
        self._shown_args = frozenset(() if self.name_func else self._naming_args)
        self._defaults: dict[str, Written] = self._serialize_defaults()
        self._default_cluster_name = default_cluster_name or None
        self._default_compute_resources = (
            None if default_compute_resources is None else dict(default_compute_resources)
        )
        self._default_resource_scales = (
            None if default_resource_scales is None else dict(default_resource_scales)
        )
        self._yaml_file = yaml_file
        self._yaml_scales: dict[str, Any] | None = None
        self._task_template: TaskTemplate | None = None
        self._own_tool: Tool | None = None
        self._holes: dict[str, str] = {}
        self._warned_attributes = False
        self._codec_cache: dict[Any, Codec] = {}

    # -- reading the function ----------------------------------------------------------

    def _read_annotations(self) -> dict[str, Any]:
        try:
            hints = typing.get_type_hints(self.task_function)
        except Exception:  # noqa: BLE001 - unresolvable string annotations; checked below
            hints = {}
        params: dict[str, Any] = {}
        unannotated = []
        for name, param in self._signature.parameters.items():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                raise TaskGeneratorError(
                    f"Can't generate a task template for {self.name}: *{name} and **{name} "
                    "parameters cannot be given on a command line; declare each parameter"
                )
            if param.kind is param.POSITIONAL_ONLY:
                raise TaskGeneratorError(
                    f"Can't generate a task template for {self.name}: parameter '{name}' is "
                    "positional-only; the runner passes arguments by name, so remove the '/'"
                )
            if name in CREATE_OPTIONS:
                raise TaskGeneratorError(
                    f"Can't generate a task template for {self.name}: parameter '{name}' has "
                    "the name of an option of create_task; rename the parameter (reserved: "
                    f"{', '.join(sorted(CREATE_OPTIONS))})"
                )
            annotation = hints.get(name, param.annotation)
            if annotation is inspect.Parameter.empty:
                unannotated.append(name)
            elif isinstance(annotation, str):
                raise TaskGeneratorError(
                    f"Can't generate a task template for {self.name}: the annotation "
                    f"{annotation!r} of parameter '{name}' names nothing defined at the top "
                    "level of its module; define the type there, or annotate with the type "
                    "itself"
                )
            params[name] = annotation
        if unannotated:
            raise TaskGeneratorError(
                f"Can't generate a task template for {self.name} because the following "
                f"parameters are missing type annotations: {' '.join(unannotated)}"
            )
        return params

    def _make_codecs(self) -> dict[str, Codec]:
        codecs = {}
        for name, annotation in self.params.items():
            try:
                codec = codec_for(annotation, self.serializers)
            except Unsupported as exc:
                raise TaskGeneratorError(
                    f"Unknown annotation on task_function ``{self.name}`` for parameter "
                    f"``{name}: {type_name(annotation)}``: the type {exc}"
                ) from None
            default = self._signature.parameters[name].default
            if default is None and not isinstance(codec, OptionalCodec | NoneCodec):
                codec = OptionalCodec(codec)  # `x: int = None` means Optional[int]
            codecs[name] = codec
        return codecs

    def _serialize_defaults(self) -> dict[str, Written]:
        defaults = {}
        for name, codec in self._codecs.items():
            default = self._signature.parameters[name].default
            if default is inspect.Parameter.empty:
                continue
            try:
                defaults[name] = self._written(name, codec.to_text(default), default)
            except Mismatch as exc:
                raise TaskGeneratorError(
                    f"task generator {self.name}: the default of parameter '{name}' "
                    f"({default!r}) cannot be written as {codec.name}: {exc.path} "
                    f"{exc.detail}; change the default or the annotation".replace(":  ", ": ")
                ) from exc.__cause__
        return defaults

    def _check_naming_args(self, naming_args: Sequence[str] | None) -> list[str]:
        if naming_args is None:
            return list(self.params)
        if isinstance(naming_args, str):
            raise TaskGeneratorError(
                f"task generator {self.name}: naming_args must be a list of parameter names, "
                f"such as [{naming_args!r}], not a str"
            )
        unknown = [arg for arg in naming_args if arg not in self.params]
        if unknown:
            raise TaskGeneratorError(
                f"task generator {self.name}: naming_args {unknown} are not parameters of "
                f"{self.name}; its parameters are {list(self.params)}"
            )
        wanted = set(naming_args)
        return [arg for arg in self.params if arg in wanted]

    # -- the tool and the template (client side only) ----------------------------------

    @property
    def tool(self) -> Tool:
        """The tool of this process named ``tool_name`` (the one created last), or one of
        the generator's own when the program has created none."""
        from jobmon_client.tool import Tool, latest_tool

        tool = latest_tool(self.tool_name)
        if tool is None:
            tool = self._own_tool = Tool(self.tool_name)
        return tool

    def _command_module(self) -> str:
        """The module the runner imports: the function's, or for a script run as
        ``__main__`` the script's file name, so that its ``if __name__ == "__main__":``
        block does not run on the node."""
        if "<locals>" in self.task_function.__qualname__:
            raise TaskGeneratorError(
                f"task generator {self.name} is defined inside a function "
                f"({self.task_function.__qualname__}); a compute node can import only what is "
                "defined at the top level of a module, so move it there"
            )
        if self.mod_name != "__main__":
            return self.mod_name
        if self.module_source_path is None:
            raise TaskGeneratorError(
                f"task generator {self.name} is defined in the script being run (__main__), "
                "which a compute node cannot import. Move it into a module and import it "
                "from there, or pass module_source_path=__file__ and keep the script's "
                'workflow code under `if __name__ == "__main__":`'
            )
        stem = os.path.splitext(os.path.basename(self.module_source_path))[0]
        return stem if stem != "__main__" else "jobmon_task_generator_main"

    def _get_template(self) -> TaskTemplate:
        tool = self.tool
        if self._task_template is not None and self._task_template.tool is tool:
            return self._task_template
        from jobmon_client.task_template import RESERVED_ARG_NAMES

        if self._warn_naming:  # here, not when decorating: the node has no use for it
            self._warn_naming = False
            log.warning(
                "You have specified no naming_args on task_generator %s, which means that all "
                "task args will be used in the task name. Usually, this results in a name "
                "that's too long, so you might need to specify naming_args. Include just the "
                "arguments that differ from task to task within a workflow.",
                self.name,
            )
        self._holes = _holes(self.params, RESERVED_ARG_NAMES | {EXECUTABLE_ARG})
        template = tool.get_task_template(
            template_name=self.name,
            command_template=command_template(
                self._command_module(),
                self.name,
                self.module_source_path,
                self._holes.items(),
            ),
            node_args=list(self._holes.values()),
            op_args=[EXECUTABLE_ARG],
            default_cluster_name=self._default_cluster_name,
            default_compute_resources=self._default_compute_resources,
            yaml_file=self._yaml_file,
        )
        if self._yaml_file is not None:
            cluster = self._default_cluster_name or tool.default_cluster_name
            self._yaml_scales = _yaml_scales(self._yaml_file, self.name, cluster)
        self._task_template = template
        return template

    # -- serialization -----------------------------------------------------------------

    def _codec(self, annotation: Any, verb: str) -> Codec:
        try:
            return self._codec_cache[annotation]
        except (KeyError, TypeError):
            pass
        try:
            codec = codec_for(annotation, self.serializers)
        except Unsupported as exc:
            raise TaskGeneratorError(
                f"Cannot {verb} unknown type {type_name(annotation)}: the type {exc}"
            ) from None
        with contextlib.suppress(TypeError):  # an unhashable annotation is not cached
            self._codec_cache[annotation] = codec
        return codec

    def serialize(self, obj: Any, expected_type: Any) -> str:
        """``obj`` as the text that stands for it on a command line, checking that it is
        an ``expected_type``."""
        codec = self._codec(expected_type, "serialize")
        try:
            return codec.to_text(obj)
        except Mismatch as exc:
            raise TaskGeneratorError(
                f"Cannot serialize {obj!r} as {codec.name}: {exc.path} {exc.detail}".replace(
                    ":  ", ": "
                )
            ) from exc.__cause__

    def serialize_array(self, obj: Any, expected_type: Any) -> list[str]:
        """One text per item of a list (or range), or one text for anything else."""
        items = list(obj) if isinstance(obj, _EXPANDED) else [obj]
        return [self.serialize(item, expected_type) for item in items]

    def deserialize(self, obj: str, obj_type: Any) -> Any:
        """The value that the text ``obj`` stands for, as an ``obj_type``."""
        if not isinstance(obj, str):
            raise TaskGeneratorError(f"Expected a string to deserialize, but got {type(obj)}.")
        codec = self._codec(obj_type, "deserialize")
        try:
            return codec.from_text(obj)
        except Mismatch as exc:
            raise TaskGeneratorError(
                f"Cannot deserialize {obj!r} as {codec.name}: {exc.path} {exc.detail}".replace(
                    ":  ", ": "
                )
            ) from exc.__cause__

    def _argument_text(self, param: str, value: Any, hint: str = "") -> str:
        codec = self._codecs[param]
        try:
            return codec.to_text(value)
        except Mismatch as exc:
            raise TaskGeneratorError(
                f"{self.name}: argument '{param}'{exc.path} cannot be written as "
                f"{codec.name}: {exc.detail}{hint}"
            ) from exc.__cause__

    def _written(self, param: str, text: str, value: Any) -> Written:
        shown = name_part(self._codecs[param].display(value)) if param in self._shown_args else ""
        return Written(text, quote(text), shown)

    def _write(self, param: str, value: Any, hint: str = "") -> Written:
        return self._written(param, self._argument_text(param, value, hint), value)

    def _check_arg_names(self, kwargs: Mapping[str, Any], where: str) -> None:
        unknown = [arg for arg in kwargs if arg not in self.params]
        if unknown:
            raise TaskGeneratorError(
                f"{self.name}.{where}: unknown argument(s) {', '.join(map(repr, unknown))}; "
                f"{self.name} takes {', '.join(self.params) or 'no arguments'}"
            )
        missing = [p for p in self.params if p not in kwargs and p not in self._defaults]
        if missing:
            raise TaskGeneratorError(
                f"{self.name}.{where}: missing argument(s) {', '.join(map(repr, missing))}; "
                "pass a value for each parameter without a default"
            )

    # -- making tasks ------------------------------------------------------------------

    def create_task(
        self,
        *args: Any,
        cluster_name: str | None = "",
        compute_resources: Mapping[str, Any] | None = None,
        resource_scales: Mapping[str, Any] | None = None,
        upstream_tasks: Iterable[Task] = (),
        task_attributes: Mapping[str, Any] | Sequence[str] | None = None,
        fallback_queues: Iterable[str] | None = None,
        **kwargs: Any,
    ) -> Task:
        """One task that calls the function with ``kwargs`` (the function's arguments).

        ``cluster_name`` (empty: the generator's default, then the workflow's and the
        tool's), ``compute_resources``, ``resource_scales``, ``fallback_queues`` and
        ``upstream_tasks`` are as for ``TaskTemplate.create_task``.
        """
        self._refuse_positional(args, "create_task")
        self._check_options(compute_resources, task_attributes)
        template = self._get_template()
        self._check_arg_names(kwargs, "create_task")
        chosen = {
            p: self._write(p, kwargs[p]) if p in kwargs else self._defaults[p] for p in self.params
        }
        return self._make_task(
            template, chosen, runner_executable(), cluster_name, compute_resources,
            resource_scales, list(upstream_tasks), fallback_queues,
        )  # fmt: skip

    def create_tasks(
        self,
        *args: Any,
        cluster_name: str | None = "",
        compute_resources: Mapping[str, Any] | None = None,
        resource_scales: Mapping[str, Any] | None = None,
        upstream_tasks: Iterable[Task] | None = None,
        task_attributes: Mapping[str, Any] | Sequence[str] | None = None,
        fallback_queues: Iterable[str] | None = None,
        **kwargs: Any,
    ) -> list[Task]:
        """Many tasks at once: an argument given as a list (or range) gives one task per
        item, and the tasks are every combination of those items. To pass a list as one
        value, wrap it in a list: ``years=[[2020, 2021]]``."""
        self._refuse_positional(args, "create_tasks")
        self._check_options(compute_resources, task_attributes)
        template = self._get_template()
        self._check_arg_names(kwargs, "create_tasks")
        choices: dict[str, list[Written]] = {}
        for param, given in kwargs.items():
            if isinstance(given, _EXPANDED):
                hint = (
                    f" (create_tasks makes one task per item of a list; to pass the whole list "
                    f"as one value, wrap it: {param}=[{given!r}])"
                )
                choices[param] = [self._write(param, item, hint) for item in given]
            else:
                choices[param] = [self._write(param, given)]
        fixed = {p: self._defaults[p] for p in self.params if p not in kwargs}
        upstream = list(upstream_tasks or ())
        executable = runner_executable()
        names = list(choices)
        tasks = []
        from jobmon_client.bulk import gc_paused

        with gc_paused():
            for combination in itertools.product(*choices.values()):
                chosen = dict(zip(names, combination, strict=True))
                chosen.update(fixed)
                tasks.append(
                    self._make_task(
                        template,
                        chosen,
                        executable,
                        cluster_name,
                        compute_resources,
                        resource_scales,
                        upstream,
                        fallback_queues,
                    )  # fmt: skip
                )
        return tasks

    def _make_task(
        self,
        template: TaskTemplate,
        chosen: Mapping[str, Written],
        executable: str,
        cluster_name: str | None,
        compute_resources: Mapping[str, Any] | None,
        resource_scales: Mapping[str, Any] | None,
        upstream_tasks: list[Task],
        fallback_queues: Iterable[str] | None,
    ) -> Task:
        name = self._task_name(chosen)
        args: dict[str, Any] = {self._holes[p]: written.token for p, written in chosen.items()}
        args[EXECUTABLE_ARG] = executable
        if resource_scales is None:
            resource_scales = self._default_resource_scales or self._yaml_scales
        task = template.create_task(
            name=name,
            upstream_tasks=upstream_tasks,
            compute_resources=compute_resources,
            max_attempts=self.max_attempts,
            cluster_name=cluster_name or None,
            resource_scales=resource_scales,
            fallback_queues=fallback_queues,
            **args,
        )
        size = len(task.command.encode("utf-8", "surrogatepass"))
        if size > MAX_COMMAND_BYTES:
            largest = max(chosen, key=lambda p: len(chosen[p].token))
            raise TaskGeneratorError(
                f"task '{name}': its command is {size} bytes, more than a command line can "
                f"carry ({MAX_COMMAND_BYTES}); argument '{largest}' alone is "
                f"{len(chosen[largest].token)} characters. Write large data to a file and pass "
                "its path instead"
            )
        return task

    def _task_name(self, chosen: Mapping[str, Written]) -> str:
        if self.name_func is not None:
            texts = {p: chosen[p].text for p in self._naming_args}
            name = create_task_name(texts, prefix=self.name, name_func=self.name_func)
            if not isinstance(name, str):
                raise TaskGeneratorError(
                    f"task generator {self.name}: its naming function returned {name!r}; it "
                    "must return a str"
                )
            return name
        return storable_name(
            self.name + "".join([f":{p}={chosen[p].shown}" for p in self._naming_args])
        )

    def _refuse_positional(self, args: tuple[Any, ...], method: str) -> None:
        if args:
            raise TaskGeneratorError(
                f"{self.name}.{method} takes keyword arguments only, such as "
                f"{self.name}.{method}({', '.join(f'{p}=...' for p in self.params)}); add the "
                "tasks to a workflow with workflow.add_tasks()"
            )

    def _check_options(
        self,
        compute_resources: Any,
        task_attributes: Mapping[str, Any] | Sequence[str] | None,
    ) -> None:
        if compute_resources is not None and not isinstance(compute_resources, Mapping):
            raise TaskGeneratorError(
                f"Expected a dictionary for compute_resources, but got "
                f"{type(compute_resources)}; pass e.g. {{'memory': '2G', 'runtime': '1h'}}"
            )
        if task_attributes and not self._warned_attributes:
            self._warned_attributes = True
            log.warning(
                "task generator %s: task_attributes are not stored by this Jobmon and are ignored",
                self.name,
            )

    # -- the compute node ----------------------------------------------------------------

    def parse_args(self, args: Sequence[str]) -> dict[str, Any]:
        """The function's arguments from command-line words ``name=text``. A parameter
        with a default may be left out."""
        texts: dict[str, str] = {}
        for word in args:
            name, equals, text = word.partition("=")
            if not equals:
                raise TaskGeneratorError(
                    f"{self.full_path}: {word!r} is not an argument of the form name=value"
                )
            if name not in self.params:
                raise TaskGeneratorError(
                    f"{self.full_path}: unknown argument {name!r}; {self.name} takes "
                    f"{', '.join(self.params) or 'no arguments'}"
                )
            if name in texts:
                raise TaskGeneratorError(f"{self.full_path}: argument {name!r} is given twice")
            texts[name] = text
        missing = [p for p in self.params if p not in texts and p not in self._defaults]
        if missing:
            raise TaskGeneratorError(
                "Some arguments to the task_function were not provided on the command line. "
                f"The following arguments were not provided: {', '.join(missing)}"
            )
        values = {}
        for name, text in texts.items():
            codec = self._codecs[name]
            try:
                values[name] = codec.from_text(text)
            except Mismatch as exc:
                raise TaskGeneratorError(
                    f"{self.full_path}: could not deserialize argument '{name}'{exc.path} "
                    f"({text!r}) as {codec.name}: {exc.detail}"
                ) from exc.__cause__
        return values

    def run(self, args: Sequence[str]) -> Any:
        """Call the function with the arguments read from ``name=text`` words."""
        return self.task_function(**self.parse_args(args))

    def help(self) -> str:
        """The function's documentation as its command line takes it."""
        arguments = [
            (name, codec.name, self._defaults[name].text if name in self._defaults else None)
            for name, codec in self._codecs.items()
        ]
        return help_text(self.full_path, inspect.getdoc(self.task_function) or "", arguments)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the function itself, here (as when it was not decorated)."""
        return self.task_function(*args, **kwargs)

    def __repr__(self) -> str:
        return f"TaskGenerator({self.full_path})"


def get_tasks_by_node_args(
    workflow: Workflow,
    task_generator: TaskGenerator,
    node_args_dict: Mapping[str, Any],
    error_on_empty: bool = True,
) -> list[Task]:
    """The tasks of ``task_generator`` in ``workflow`` whose arguments include
    ``node_args_dict`` (the function's arguments, as values)."""
    unknown = [arg for arg in node_args_dict if arg not in task_generator.params]
    if unknown:
        raise TaskGeneratorError(
            f"{task_generator.name}: unknown argument(s) {', '.join(map(repr, unknown))}; it "
            f"takes {', '.join(task_generator.params) or 'no arguments'}"
        )
    template = task_generator._get_template()
    wanted = {
        task_generator._holes[arg]: task_generator._write(arg, value).token
        for arg, value in node_args_dict.items()
    }
    found = [
        task
        for task in workflow.tasks
        if task.template is template
        and all(task.node_args.get(hole) == token for hole, token in wanted.items())
    ]
    if not found and error_on_empty:
        raise ValueError(f"There were no tasks in the workflow that matched {dict(node_args_dict)}")
    return found


def _holes(params: Iterable[str], reserved: frozenset[str] | set[str]) -> dict[str, str]:
    """The template arg of each parameter: its name, unless create_task reserves it."""
    names = list(params)
    taken = set(names)
    holes = {}
    for name in names:
        hole = name
        while hole in reserved or (hole != name and hole in taken):
            hole = f"arg_{hole}"
        taken.add(hole)
        holes[name] = hole
    return holes


def _check_max_attempts(value: object, name: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise TaskGeneratorError(
            f"task generator {name}: max_attempts must be a positive int, got {value!r}"
        )
    return value


def _source_path(path: object, name: str) -> str | None:
    if path is None:
        return None
    if not isinstance(path, str | os.PathLike):
        raise TaskGeneratorError(
            f"task generator {name}: module_source_path must be the path of a .py file, "
            f"got {path!r}"
        )
    full = os.path.abspath(os.path.expanduser(os.fspath(path)))
    if not os.path.isfile(full):
        raise TaskGeneratorError(
            f"task generator {name}: module_source_path {full!r} is not a file; give the path "
            "of the .py file that defines the function (module_source_path=__file__ in it)"
        )
    return full


def _yaml_scales(yaml_file: str, template_name: str, cluster: str | None) -> dict[str, Any] | None:
    """``task_template_scales: {TEMPLATE: {CLUSTER: {...}}}`` of a resources file, if any."""
    import yaml  # here: only a generator with a yaml_file reads one, on the client

    try:
        with open(yaml_file, encoding="utf-8") as stream:
            document = yaml.safe_load(stream)
    except (OSError, yaml.YAMLError):
        return None  # the resources were read from it already; their errors were reported
    node: Any = document
    for key in ("task_template_scales", template_name, cluster):
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return dict(node) if isinstance(node, Mapping) else None
