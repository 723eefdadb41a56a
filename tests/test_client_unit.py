"""Client behaviour that needs no server: definitions, validation, hashing, bind and follow.

The server is replaced by a scripted ``execute`` that answers the documents the client
sends, so the protocol (chunks, columns, ids) is checked without a network.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from jobmon_client import (
    CycleError,
    DuplicateNodeArgsError,
    DuplicateTaskError,
    InvalidNameError,
    MissingUpstreamError,
    NodeDependencyNotExistError,
    TaskStatus,
    TemplateArgumentError,
    Tool,
    ValidationFailed,
    Workflow,
    WorkflowDefinitionError,
    WorkflowRunStatus,
    binding,
    hashing,
    run,
)
from jobmon_client.binding import task_keys
from jobmon_client.dag import build_graph
from jobmon_client.resources import ClusterUndecided, SettingsResolver
from jobmon_client.task_template import TaskTemplate


class FakeServer:
    """Answers the client's documents by operation name; records every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.on("BindTool", lambda v: {"__typename": "ToolVersion", "id": 3})
        self.on(
            "BindTaskTemplates",
            lambda v: {
                "__typename": "TaskTemplateVersionList",
                "items": [{"id": 10 + i} for i in range(len(v["templates"]))],
            },
        )
        self.on(
            "BindWorkflow",
            lambda v: (
                {
                    "__typename": "NotFound",
                    "message": "no workflow is bound with this bindDigest",
                }
                if "taskHash" not in v["input"]
                else {
                    "__typename": "BoundWorkflow",
                    "created": True,
                    "boundTasks": 0,
                    "workflow": {
                        "id": 77,
                        "status": "REGISTERING",
                        "maxConcurrentlyRunning": v["input"]["maxConcurrentlyRunning"],
                    },
                }
            ),
        )
        self.task_ids: dict[str, int] = {}  # by name, as given
        self.on(
            "BindTasks",
            lambda v: {
                "__typename": "BoundTasks",
                "taskIds": [
                    self.task_ids.setdefault(name, next(self._ids)) for name in v["tasks"]["names"]
                ],
            },
        )
        self.on(
            "BindEdges",
            lambda v: {"__typename": "BoundEdges", "count": len(v["upstreamTaskIds"])},
        )
        self.on(
            "CompleteBind",
            lambda v: {"__typename": "Workflow", "id": 77, "status": "QUEUED", "totalTasks": 0},
        )

    def on(self, operation: str, handler: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self.handlers[operation] = handler

    def copy(self) -> FakeServer:
        return self  # a bind's chunk requests, from other threads: answered one at a time

    def close(self) -> None:
        pass

    def execute(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        match = re.search(r"(?:mutation|query)\s+(\w+)", document)
        assert match, document
        operation = match.group(1)
        assert "__typename" in document and "... on Error { message }" in document
        field = re.search(r"\{\s*(\w+)\s*\(", document)
        assert field, document
        with self._lock:
            self.calls.append((operation, variables or {}))
            return {field.group(1): self.handlers[operation](variables or {})}

    def sent(self, operation: str) -> list[dict[str, Any]]:
        return [variables for op, variables in self.calls if op == operation]


@pytest.fixture
def tool() -> Tool:
    tool = Tool(name="location_processor", server_url="http://127.0.0.1:9")
    tool.set_default_cluster_name("multiprocess")
    return tool


@pytest.fixture
def process(tool: Tool) -> TaskTemplate:
    return tool.get_task_template(
        template_name="process_location",
        command_template="python process.py --location {location_id} --year {year} --out {out}",
        node_args=["location_id"],
        task_args=["year"],
        op_args=["out"],
    )


@pytest.fixture
def aggregate(tool: Tool) -> TaskTemplate:
    return tool.get_task_template(
        template_name="aggregate", command_template="python agg.py --out {out}", op_args=["out"]
    )


def workflow_with(tool: Tool, server: FakeServer | None = None, **kwargs: Any) -> Workflow:
    workflow = tool.create_workflow(name="locations", workflow_args="v1_2026", **kwargs)
    if server is not None:
        workflow.client = server  # type: ignore[assignment]
    return workflow


def chain(template: TaskTemplate, length: int) -> list[Any]:
    tasks = template.create_tasks(location_id=range(length), year=2026, out="/o")
    for up, down in itertools.pairwise(tasks):
        down.add_upstream(up)
    return tasks


# ---- templates and tasks ------------------------------------------------------------


def test_create_tasks_is_the_cross_product_of_iterable_node_args(tool: Tool) -> None:
    template = tool.get_task_template(
        template_name="grid",
        command_template="run {location_id} {sex} {year} {out}",
        node_args=["location_id", "sex"],
        task_args=["year"],
        op_args=["out"],
    )
    tasks = template.create_tasks(location_id=range(3), sex=["male", "female"], year=2026, out="o")
    assert len(tasks) == 6
    assert {(t.node_args["location_id"], t.node_args["sex"]) for t in tasks} == {
        (str(loc), sex) for loc in range(3) for sex in ("male", "female")
    }
    assert all(t.task_args == {"year": "2026"} for t in tasks)
    assert tasks[0].command == "run 0 male 2026 o"
    assert tasks[0].name == "grid_location_id-0_sex-male"


def test_create_tasks_does_not_expand_strings(tool: Tool) -> None:
    template = tool.get_task_template(
        template_name="one", command_template="echo {word}", node_args=["word"]
    )
    tasks = template.create_tasks(word="hello")
    assert [t.command for t in tasks] == ["echo hello"]


def test_create_task_keeps_format_specs_and_upstreams(
    process: TaskTemplate, aggregate: TaskTemplate
) -> None:
    tasks = process.create_tasks(location_id=[1, 2], year=2026, out="/o")
    agg = aggregate.create_task(name="aggregate", out="/o", upstream_tasks=tasks)
    assert agg.upstream_tasks == frozenset(tasks)
    assert all(t.downstream_tasks == frozenset([agg]) for t in tasks)
    assert agg.name == "aggregate" and agg.task_id is None


def test_get_task_template_returns_the_same_template_for_the_same_definition(
    tool: Tool, process: TaskTemplate
) -> None:
    again = tool.get_task_template(
        template_name="process_location",
        command_template="python process.py --location {location_id} --year {year} --out {out}",
        node_args=["location_id"],
        task_args=["year"],
        op_args=["out"],
    )
    assert again is process


def test_command_template_arg_that_is_not_declared(tool: Tool) -> None:
    with pytest.raises(TemplateArgumentError, match=r"'bad'.*\{year\}.*add 'year'"):
        tool.get_task_template(
            template_name="bad",
            command_template="run {location_id} {year}",
            node_args=["location_id"],
        )


def test_declared_arg_that_the_command_does_not_use(tool: Tool) -> None:
    with pytest.raises(TemplateArgumentError, match=r"'bad'.*task_args declares 'year'"):
        tool.get_task_template(template_name="bad", command_template="run", task_args=["year"])


def test_arg_declared_twice_or_reserved(tool: Tool) -> None:
    with pytest.raises(TemplateArgumentError, match="both node_args and task_args"):
        tool.get_task_template(
            template_name="t", command_template="{a}", node_args=["a"], task_args=["a"]
        )
    with pytest.raises(TemplateArgumentError, match="'name' is a keyword of create_task"):
        tool.get_task_template(template_name="t", command_template="{name}", node_args=["name"])
    with pytest.raises(TemplateArgumentError, match="not a named arg"):
        tool.get_task_template(template_name="t", command_template="echo {}")
    with pytest.raises(TemplateArgumentError, match=r"such as \['a'\], not a str"):
        tool.get_task_template(template_name="t", command_template="echo {a}", node_args="a")


def test_missing_arg_names_template_task_and_arg(process: TaskTemplate) -> None:
    with pytest.raises(TemplateArgumentError) as error:
        process.create_task(name="loc_5", location_id=5, out="/o")
    message = str(error.value)
    assert "process_location" in message and "loc_5" in message and "'year'" in message


def test_missing_arg_without_a_name_names_the_node_args(process: TaskTemplate) -> None:
    with pytest.raises(TemplateArgumentError, match=r"node args \{'location_id': 5\}.*'out'"):
        process.create_task(location_id=5, year=2026)


def test_unknown_keyword(process: TaskTemplate) -> None:
    with pytest.raises(TemplateArgumentError, match=r"unknown arg\(s\) 'colour'.*location_id"):
        process.create_task(location_id=1, year=2026, out="/o", colour="red")
    with pytest.raises(TemplateArgumentError, match="unknown arg"):
        process.create_tasks(location_id=[1], year=2026, out="/o", colour="red")


# ---- names and commands -------------------------------------------------------------


def test_bad_names_are_rejected(process: TaskTemplate, tool: Tool) -> None:
    with pytest.raises(InvalidNameError, match="300 characters"):
        process.create_task(name="x" * 300, location_id=1, year=2026, out="/o")
    with pytest.raises(InvalidNameError, match="control characters"):
        process.create_task(name="a\nb", location_id=1, year=2026, out="/o")
    with pytest.raises(InvalidNameError, match="control characters"):
        process.create_task(name="a\x00b", location_id=1, year=2026, out="/o")
    with pytest.raises(InvalidNameError, match="task template"):
        tool.get_task_template(template_name="", command_template="true")
    with pytest.raises(InvalidNameError):
        Tool(name="t" * 256)


def test_command_with_nul_is_rejected(process: TaskTemplate) -> None:
    with pytest.raises(InvalidNameError, match=r"task 'ok'.*NUL"):
        process.create_task(name="ok", location_id=1, year=2026, out="/o\x00")


def test_default_names_are_made_storable(tool: Tool) -> None:
    template = tool.get_task_template(
        template_name="long", command_template="echo {value}", node_args=["value"]
    )
    first, second = template.create_tasks(value=["v" * 300 + "1", "v" * 300 + "2"])
    # Jobmon's rule: cut at 249 characters (names need not be unique)
    assert first.name == second.name == ("long_value-" + "v" * 300)[:249]
    assert template.create_task(value="a\nb c/d").name == "long_value-a_b_c_d"


# ---- the graph ----------------------------------------------------------------------


def test_three_cycle_names_a_task_and_the_path(tool: Tool, process: TaskTemplate) -> None:
    a, b, c = process.create_tasks(location_id=["a", "b", "c"], year=2026, out="/o")
    b.add_upstream(a)
    c.add_upstream(b)
    a.add_upstream(c)
    workflow = workflow_with(tool)
    workflow.add_tasks([a, b, c])
    with pytest.raises(CycleError) as error:
        workflow.bind()
    message = str(error.value)
    assert "cycle through task 'process_location_location_id-" in message
    names = re.findall(r"process_location_location_id-(\w)", message.split(":", 1)[1])
    assert len(names) == 4 and names[0] == names[-1] and set(names) == {"a", "b", "c"}
    assert names[:3] in (["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"])


def test_self_dependency_is_a_cycle(process: TaskTemplate) -> None:
    task = process.create_task(location_id=1, year=2026, out="/o")
    with pytest.raises(CycleError):
        task.add_upstream(task)


def test_long_chain_has_no_recursion_limit(tool: Tool, process: TaskTemplate) -> None:
    tasks = chain(process, 100_000)
    graph = build_graph("chain", {t.node_key: t for t in tasks}, [])
    assert graph.edge_count == 99_999
    tasks[0].add_upstream(tasks[-1])
    with pytest.raises(CycleError, match=r"\.\.\. \(99980 more\)"):
        build_graph("chain", {t.node_key: t for t in tasks}, [])


def test_equal_tasks_compare_equal_and_an_alias_upstream_is_one_task(
    tool: Tool, process: TaskTemplate
) -> None:
    server = FakeServer()
    first = process.create_task(location_id=1, year=2026, out="/o")
    again = process.create_task(location_id=1, year=2026, out="/o")
    assert first == again and hash(first) == hash(again)
    assert first != process.create_task(location_id=1, year=2027, out="/o")
    one, one_again = (process.create_task(location_id=5, year=2026, out="/o") for _ in "12")
    both = process.create_task(location_id=6, year=2026, out="/o", upstream_tasks=[one, one_again])
    assert len(both.upstream_tasks) == 1
    down = process.create_task(location_id=2, year=2026, out="/o", upstream_tasks=[again])
    workflow = workflow_with(tool, server)
    workflow.add_tasks([first, down])
    assert len(workflow.tasks) == 2
    workflow.bind()
    assert again.task_id == first.task_id is not None
    [edges] = server.sent("BindEdges")
    assert edges["upstreamTaskIds"] == [first.task_id]
    assert edges["downstreamTaskIds"] == [down.task_id]


def test_adding_the_same_task_twice_is_an_error(tool: Tool, process: TaskTemplate) -> None:
    first = process.create_task(location_id=1, year=2026, out="/o")
    workflow = workflow_with(tool)
    workflow.add_task(first)
    with pytest.raises(DuplicateTaskError, match="'process_location_location_id-1'.*already"):
        workflow.add_task(first)
    with pytest.raises(ValueError, match="already"):  # Jobmon raises ValueError
        workflow.add_task(process.create_task(location_id=1, year=2026, out="/o"))


def test_duplicate_with_different_upstreams(tool: Tool, process: TaskTemplate) -> None:
    up = process.create_task(location_id=0, year=2026, out="/o")
    first = process.create_task(location_id=1, year=2026, out="/o")
    again = process.create_task(location_id=1, year=2026, out="/o", upstream_tasks=[up])
    down = process.create_task(location_id=2, year=2026, out="/o", upstream_tasks=[again])
    workflow = workflow_with(tool)
    workflow.add_tasks([up, first, down])
    with pytest.raises(DuplicateTaskError, match=r"'process_location_location_id-1'.*upstream"):
        workflow.bind()


def test_duplicate_with_different_task_args(tool: Tool, process: TaskTemplate) -> None:
    workflow = workflow_with(tool)
    workflow.add_task(process.create_task(location_id=1, year=2026, out="/o"))
    with pytest.raises(DuplicateNodeArgsError, match="node args.*different task args"):
        workflow.add_task(process.create_task(location_id=1, year=2027, out="/o"))


def test_downstream_missing_from_the_workflow(tool: Tool, process: TaskTemplate) -> None:
    up = process.create_task(location_id=0, year=2026, out="/o")
    process.create_task(location_id=1, year=2026, out="/o", upstream_tasks=[up])
    workflow = workflow_with(tool)
    workflow.add_task(up)
    with pytest.raises(NodeDependencyNotExistError, match="Downstream task"):
        workflow.bind()


def test_downstream_missing_beside_an_alias_upstream(tool: Tool, process: TaskTemplate) -> None:
    # The edge counts agree here (down's upstream is an alias of first, whose own
    # downstream is the missing task): only a task-by-task check finds it.
    first = process.create_task(location_id=1, year=2026, out="/o")
    again = process.create_task(location_id=1, year=2026, out="/o")
    down = process.create_task(location_id=2, year=2026, out="/o", upstream_tasks=[again])
    process.create_task(location_id=3, year=2026, out="/o", upstream_tasks=[first])
    workflow = workflow_with(tool)
    workflow.add_tasks([first, down])
    with pytest.raises(NodeDependencyNotExistError, match="'process_location_location_id-3'"):
        workflow.bind()


def test_upstream_missing_from_the_workflow(tool: Tool, process: TaskTemplate) -> None:
    up = process.create_task(location_id=0, year=2026, out="/o")
    down = process.create_task(location_id=1, year=2026, out="/o", upstream_tasks=[up])
    workflow = workflow_with(tool)
    workflow.add_task(down)
    with pytest.raises(
        MissingUpstreamError, match=r"Upstream task 'process_location_location_id-0'"
    ):
        workflow.bind()


def test_empty_workflow_is_an_error(tool: Tool) -> None:
    with pytest.raises(WorkflowDefinitionError, match="no tasks"):
        workflow_with(tool).bind()
    with pytest.raises(RuntimeError, match="no tasks"):  # Jobmon's test expects RuntimeError
        workflow_with(tool).run()


# ---- hashing ------------------------------------------------------------------------


def test_task_key_follows_the_documented_scheme() -> None:
    text = "t\x1fcmd {a}\x1f1:a2:10\x1f4:year4:2026"
    assert hashing.task_key("t", "cmd {a}", {"a": 10}, {"year": 2026}) == (
        hashlib.sha1(text.encode()).hexdigest()
    )
    assert hashing.canonical({"b": "x", "a": "é"}) == "1:a1:é1:b1:x"
    assert hashing.dag_hash([]) == hashlib.sha1(b"").hexdigest()


def test_keys_of_many_tasks_are_each_tasks_documented_key(tool: Tool) -> None:
    templates = [
        tool.get_task_template(
            template_name=name, command_template=command, node_args=nodes, task_args=task_args
        )
        for name, command, nodes, task_args in [
            ("model", "m {loc} {year} {é}", ["loc", "é"], ["year"]),
            ("plain", "p {n}", ["n"], []),
            ("single", "s", [], []),
        ]
    ]
    model, plain, single = templates
    tasks = [
        *model.create_tasks(loc=range(3), é=["ü", "x y"], year=2026),
        *plain.create_tasks(n=["a", "\x1f", ""]),
        single.create_task(),
    ]
    expected = [
        hashing.task_key(t.template.template_name, t.template.command_template, *args)
        for t in tasks
        for args in [(t.node_args, t.task_args)]
    ]
    assert task_keys(tasks) == expected
    assert len(set(expected)) == len(tasks)


def test_hashes_do_not_depend_on_order() -> None:
    keys = [hashing.task_key("t", "c", {"a": i, "b": "x"}, {}) for i in range(5)]
    assert hashing.task_key("t", "c", {"b": "x", "a": 0}, {}) == keys[0]
    assert hashing.task_hash(keys) == hashing.task_hash(reversed(keys))
    edges = list(itertools.pairwise(keys))
    assert hashing.dag_hash(edges) == hashing.dag_hash(reversed(edges))


def test_different_args_give_different_keys() -> None:
    assert hashing.task_key("t", "c", {"a": 1}, {}) != hashing.task_key("t", "c", {"a": 2}, {})
    assert hashing.task_key("t", "c", {"a": 1}, {}) != hashing.task_key("t", "c", {}, {"a": 1})
    assert hashing.canonical({"ab": "c"}) != hashing.canonical({"a": "bc"})


def test_workflow_hashes_are_stable_across_insertion_order(
    tool: Tool, process: TaskTemplate, aggregate: TaskTemplate
) -> None:
    def bound_hashes(order: Callable[[list[Any]], list[Any]]) -> tuple[str, str]:
        server = FakeServer()
        tasks = process.create_tasks(location_id=range(5), year=2026, out="/o")
        agg = aggregate.create_task(name="agg", out="/elsewhere", upstream_tasks=tasks)
        workflow = workflow_with(tool, server)
        workflow.add_tasks(order(tasks + [agg]))
        workflow.bind()
        sent = server.sent("BindWorkflow")[-1]["input"]
        return sent["taskHash"], sent["dagHash"], sent["bindDigest"]

    assert bound_hashes(list) == bound_hashes(lambda ts: list(reversed(ts)))


def test_bind_digest_changes_with_what_is_bound(
    tool: Tool, process: TaskTemplate, aggregate: TaskTemplate
) -> None:
    def digest(
        change: Callable[[list[Any], Any], object] = lambda tasks, agg: None,
        edge: tuple[int, int] = (2, 3),
    ) -> str:
        tasks = process.create_tasks(location_id=range(4), year=2026, out="/o")
        agg = aggregate.create_task(name="agg", out="/o", upstream_tasks=tasks[:2])
        up, down = edge
        tasks[down].add_upstream(tasks[up])
        change(tasks, agg)
        workflow = workflow_with(tool, FakeServer())
        workflow.add_tasks([*reversed(tasks), agg])
        return binding.bind_digest(*workflow._check())

    unchanged = digest()
    assert digest() == unchanged
    digests = {
        "an edge reversed": digest(edge=(3, 2)),
        "an edge moved": digest(edge=(1, 3)),
        "an edge added": digest(lambda tasks, agg: agg.add_upstream(tasks[2])),
        "a command": digest(lambda tasks, agg: setattr(tasks[0], "command", "other")),
        "a name": digest(lambda tasks, agg: setattr(tasks[1], "name", "renamed")),
        "resources": digest(
            lambda tasks, agg: setattr(tasks[0], "compute_resources", {"cores": 3})
        ),
        "attempts": digest(lambda tasks, agg: setattr(tasks[0], "max_attempts", 9)),
        "attributes": digest(lambda tasks, agg: setattr(agg, "task_attributes", {"r": "7"})),
    }
    assert unchanged not in digests.values(), digests
    assert len(set(digests.values())) == len(digests)


# ---- resources ----------------------------------------------------------------------


def test_resource_and_cluster_precedence(tool: Tool) -> None:
    tool.set_default_cluster_name("slurm")
    tool.set_default_compute_resources_from_dict(
        "slurm", {"cores": 1, "memory": "1G", "queue": "all"}
    )
    tool.set_default_compute_resources_from_dict("local", {"cores": 2})
    tool.set_default_max_attempts(5)
    template = tool.get_task_template(
        template_name="fit",
        command_template="fit {x}",
        node_args=["x"],
        default_compute_resources={"memory": "4G"},
    )
    template.set_default_compute_resources_from_dict("slurm", {"runtime": "1h"})
    plain = template.create_task(x=1)
    own = template.create_task(x=2, compute_resources={"memory": "8G"}, max_attempts=1)
    local = template.create_task(x=3, cluster_name="local")
    resolver = SettingsResolver(workflow_cluster_name=None, workflow_max_attempts=None)

    settings = resolver.resolve(plain)
    assert settings.cluster_name == "slurm"
    assert settings.resources == {"cores": 1, "memory": "4G", "queue": "all", "runtime": "1h"}
    assert settings.max_attempts == 5
    assert resolver.resolve(own).resources["memory"] == "8G"
    assert resolver.resolve(own).max_attempts == 1
    assert resolver.resolve(local).cluster_name == "local"
    assert resolver.resolve(local).resources == {"cores": 2, "memory": "4G"}

    # the template's resources named "slurm", which became its default cluster (Jobmon's
    # rule), so the workflow's default does not apply to its tasks
    by_workflow = SettingsResolver(workflow_cluster_name="local", workflow_max_attempts=2)
    assert by_workflow.resolve(plain).cluster_name == "slurm"
    assert by_workflow.resolve(plain).max_attempts == 2
    unnamed = tool.get_task_template(
        template_name="fit2", command_template="fit {x}", node_args=["x"]
    )
    assert SettingsResolver("local", None).resolve(unnamed.create_task(x=1)).cluster_name == "local"
    template.set_default_cluster_name("other")
    assert SettingsResolver("local", None).resolve(plain).cluster_name == "other"


def test_defaults_without_any_settings(tool: Tool, process: TaskTemplate) -> None:
    settings = SettingsResolver(None, None).resolve(
        process.create_task(location_id=1, year=2026, out="/o")
    )
    assert (settings.cluster_name, settings.resources, settings.max_attempts) == (
        "multiprocess",
        {},
        3,
    )


def test_a_task_without_a_cluster_is_refused_at_bind() -> None:
    tool = Tool(name="nowhere", server_url="http://127.0.0.1:9")
    template = tool.get_task_template(
        template_name="t", command_template="echo {x}", node_args=["x"]
    )
    workflow = tool.create_workflow("v1")
    workflow.add_task(template.create_task(x=1))
    with pytest.raises(ClusterUndecided, match=r"task 't_x-1'.*set_default_cluster_name"):
        workflow.bind()


def test_the_one_cluster_named_in_resources_is_the_default() -> None:
    tool = Tool(name="slurm_only", server_url="http://127.0.0.1:9")
    tool.set_default_compute_resources_from_dict("slurm", {"cores": 1, "queue": "all.q"})
    template = tool.get_task_template(
        template_name="t", command_template="echo {x}", node_args=["x"]
    )
    settings = SettingsResolver(None, None).resolve(template.create_task(x=1))
    assert (settings.cluster_name, settings.resources) == ("slurm", {"cores": 1, "queue": "all.q"})
    tool.set_default_compute_resources_from_dict("multiprocess", {"cores": 1})
    with pytest.raises(ClusterUndecided, match="multiprocess, slurm"):
        SettingsResolver(None, None).resolve(template.create_task(x=2))


def test_resources_that_are_not_json(tool: Tool, process: TaskTemplate) -> None:
    with pytest.raises(WorkflowDefinitionError, match="task 'odd'.*'cores'"):
        process.create_task(
            name="odd", location_id=1, year=2026, out="/o", compute_resources={"cores": object()}
        )
    task = process.create_task(name="odd", location_id=1, year=2026, out="/o")
    task.compute_resources = {"cores": object()}  # set after the checks at creation
    with pytest.raises(WorkflowDefinitionError, match="task 'odd'.*JSON"):
        SettingsResolver(None, None).resolve(task)


# ---- bind ---------------------------------------------------------------------------


def test_bind_sends_columnar_chunks_and_sets_ids(
    tool: Tool, process: TaskTemplate, aggregate: TaskTemplate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(binding, "TASK_CHUNK_SIZE", 4)
    monkeypatch.setattr(binding, "EDGE_CHUNK_SIZE", 3)
    tool.set_default_compute_resources_from_dict("multiprocess", {"cores": 1})
    server = FakeServer()
    tasks = process.create_tasks(location_id=range(9), year=2026, out="/o")
    tasks[4].compute_resources = {"cores": 4}
    agg = aggregate.create_task(name="agg", out="/o", upstream_tasks=tasks)
    workflow = workflow_with(tool, server, max_concurrently_running=7)
    workflow.add_tasks(tasks + [agg])

    assert workflow.bind() == 77
    assert [op for op, _ in server.calls] == [
        "BindTool",
        "BindTaskTemplates",
        "BindWorkflow",
        "BindWorkflow",
        "BindTasks",
        "BindTasks",
        "BindTasks",
        "BindEdges",
        "BindEdges",
        "BindEdges",
        "CompleteBind",
    ]
    [templates] = server.sent("BindTaskTemplates")
    assert templates["toolVersionId"] == 3
    assert [t["name"] for t in templates["templates"]] == ["process_location", "aggregate"]
    [by_digest, bound] = server.sent("BindWorkflow")  # no workflow has its digest
    assert "taskHash" not in by_digest["input"]
    assert by_digest["input"]["bindDigest"] == bound["input"]["bindDigest"]
    assert bound["input"]["maxConcurrentlyRunning"] == 7
    assert bound["input"]["workflowArgs"] == "v1_2026"
    # chunks go two at a time: the server may answer them in any order
    first, second, last = sorted(server.sent("BindTasks"), key=lambda v: v["tasks"]["names"][0])
    assert first["workflowId"] == 77
    assert first["tasks"]["nodeArgs"] == [{"location_id": str(i)} for i in range(4)]
    assert first["tasks"]["taskArgs"][0] == {"year": "2026"}
    assert first["tasks"]["templateVersionIds"] == [10] * 4
    assert first["tasks"]["resources"] == [
        {"clusterName": "multiprocess", "resources": {"cores": 1}}
    ]
    assert second["tasks"]["resourceIndexes"] == [0, 1, 1, 1]
    assert [r["resources"] for r in second["tasks"]["resources"]] == [{"cores": 4}, {"cores": 1}]
    assert last["tasks"]["names"] == ["process_location_location_id-8", "agg"]
    assert last["tasks"]["templateVersionIds"] == [10, 11]
    assert [t.task_id for t in tasks + [agg]] == [server.task_ids[t.name] for t in tasks + [agg]]
    assert sorted(server.task_ids.values()) == list(range(1, 11))
    edges = server.sent("BindEdges")
    assert sorted(i for e in edges for i in e["upstreamTaskIds"]) == list(range(1, 10))
    assert {i for e in edges for i in e["downstreamTaskIds"]} == {10}
    [complete] = server.sent("CompleteBind")
    assert (complete["workflowId"], complete["totalTasks"]) == (77, 10)
    assert complete["bindDigest"] == bound["input"]["bindDigest"]
    assert len(complete["bindDigest"]) == 40
    with pytest.raises(WorkflowDefinitionError, match="bound already"):
        workflow.add_task(process.create_task(location_id=99, year=2026, out="/o"))


def test_bind_error_results_raise(tool: Tool, process: TaskTemplate) -> None:
    server = FakeServer()
    server.on(
        "BindWorkflow",
        lambda v: {"__typename": "ValidationError", "message": "name too long", "field": "name"},
    )
    workflow = workflow_with(tool, server)
    workflow.add_task(process.create_task(location_id=1, year=2026, out="/o"))
    with pytest.raises(ValidationFailed, match="name too long"):
        workflow.bind()
    assert workflow.workflow_id is None


def test_set_max_concurrently_running_on_a_bound_workflow(
    tool: Tool, process: TaskTemplate
) -> None:
    server = FakeServer()
    server.on(
        "SetMaxConcurrentlyRunning",
        lambda v: {"__typename": "Workflow", "maxConcurrentlyRunning": v["limit"]},
    )
    workflow = workflow_with(tool, server)
    workflow.set_max_concurrently_running(20)
    assert server.calls == []
    workflow.add_task(process.create_task(location_id=1, year=2026, out="/o"))
    workflow.bind()
    workflow.set_max_concurrently_running(5)
    assert server.sent("SetMaxConcurrentlyRunning") == [{"workflowId": 77, "limit": 5}]
    with pytest.raises(WorkflowDefinitionError):
        workflow.set_max_concurrently_running(0)


# ---- run ----------------------------------------------------------------------------


def run_payload(status: str, workflow_status: str, counts: dict[str, int]) -> dict[str, Any]:
    return {
        "__typename": "WorkflowRun",
        "id": 9,
        "status": status,
        "created": "2026-01-01T00:00:00+00:00",
        "workflow": {
            "id": 77,
            "status": workflow_status,
            "totalTasks": 3,
            "taskCounts": [{"status": s, "count": c} for s, c in counts.items()],
        },
    }


@pytest.fixture
def bound_server(monkeypatch: pytest.MonkeyPatch) -> FakeServer:
    monkeypatch.setattr(run, "POLL_INTERVAL_SECONDS", 0)
    return FakeServer()


def three_tasks(tool: Tool, process: TaskTemplate, server: FakeServer) -> Workflow:
    workflow = workflow_with(tool, server)
    workflow.add_tasks(process.create_tasks(location_id=range(3), year=2026, out="/o"))
    return workflow


def test_run_follows_until_done(
    tool: Tool, process: TaskTemplate, bound_server: FakeServer
) -> None:
    polls = iter(
        [
            run_payload("RUNNING", "RUNNING", {"DONE": 1, "RUNNING": 2}),
            run_payload("DONE", "DONE", {"DONE": 3}),
        ]
    )
    bound_server.on("StartWorkflowRun", lambda v: run_payload("BOUND", "QUEUED", {"QUEUED": 3}))
    bound_server.on("WorkflowRun", lambda v: next(polls))
    workflow = three_tasks(tool, process, bound_server)

    result = workflow.run(fail_fast=True, seconds_until_timeout=60)

    [start] = bound_server.sent("StartWorkflowRun")
    assert start["workflowId"] == 77 and start["failFast"] is True and start["resume"] is False
    assert start["secondsUntilTimeout"] == 60 and start["user"]
    assert (result.final_status, result.workflow_id, result.workflow_run_id) == ("DONE", 77, 9)
    assert (result.total_tasks, result.done_count, result.failed_count) == (3, 3, 0)
    assert result.failed_task_ids == [] and result.elapsed_time >= 0
    assert all(t.final_status == "DONE" for t in workflow.tasks)
    # Jobmon's checks: the run's status letter and the constants
    assert result == "D" and result == WorkflowRunStatus.DONE and result.final_status == "D"
    assert all(t.final_status == TaskStatus.DONE for t in workflow.tasks)


def test_run_detached_returns_after_start(
    tool: Tool, process: TaskTemplate, bound_server: FakeServer
) -> None:
    bound_server.on("StartWorkflowRun", lambda v: run_payload("BOUND", "QUEUED", {"QUEUED": 3}))
    result = three_tasks(tool, process, bound_server).run(detach=True)
    assert result.final_status == "QUEUED"
    assert bound_server.sent("WorkflowRun") == []


def test_run_timeout_stops_the_run(
    tool: Tool, process: TaskTemplate, bound_server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the server has not stopped a run past its timeout, the client stops it."""
    from jobmon_client import run as run_module

    monkeypatch.setattr(run_module, "TIMEOUT_GRACE_SECONDS", 0.0)
    bound_server.on("StartWorkflowRun", lambda v: run_payload("RUNNING", "RUNNING", {}))
    bound_server.on("StopWorkflowRun", lambda v: run_payload("STOPPED", "HALTED", {"DONE": 1}))
    bound_server.on("TaskStatuses", task_statuses_page({1: "DONE", 2: "QUEUED", 3: "QUEUED"}))
    result = three_tasks(tool, process, bound_server).run(seconds_until_timeout=0)
    assert bound_server.sent("StopWorkflowRun") == [{"workflowRunId": 9}]
    assert (result.final_status, result.run_status, result.done_count) == ("HALTED", "STOPPED", 1)
    assert result == WorkflowRunStatus.STOPPED


def task_statuses_page(statuses: dict[int, str]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    items = [{"id": i, "status": s} for i, s in statuses.items()]
    return lambda v: {
        "__typename": "Workflow",
        "tasks": {"items": items, "endCursor": None, "hasNextPage": False},
    }


def test_run_of_a_workflow_that_ran_before(
    tool: Tool, process: TaskTemplate, bound_server: FakeServer
) -> None:
    bound_server.on(
        "StartWorkflowRun",
        lambda v: {"__typename": "ValidationError", "message": "it ran; use resume=True"},
    )
    with pytest.raises(ValidationFailed, match=r"workflow 77 'locations'.*resume=True"):
        three_tasks(tool, process, bound_server).run()


def error_item(task_id: int, instance_id: int, time: str = "2026-01-01T00:00:01Z") -> dict:
    return {
        "taskInstanceId": instance_id,
        "taskId": task_id,
        "taskName": f"task_{task_id}",
        "description": f"boom {instance_id}",
        "time": time,
        "status": "ERROR",
        "exitCode": 1,
    }


def test_failed_run_reports_failed_tasks_and_errors(
    tool: Tool, process: TaskTemplate, bound_server: FakeServer
) -> None:
    pages = {
        None: [error_item(1, 100), error_item(1, 101), error_item(2, 102)],
        "c1": [error_item(1, 103), error_item(2, 104, "2025-12-31T00:00:00Z")],
    }

    def errors(variables: dict[str, Any]) -> dict[str, Any]:
        items = pages[variables["after"]]
        more = variables["after"] is None
        return {
            "__typename": "Workflow",
            "errors": {"items": items, "endCursor": "c1" if more else None, "hasNextPage": more},
        }

    bound_server.on("WorkflowErrors", errors)
    bound_server.on(
        "FatalTasks",
        lambda v: {
            "__typename": "Workflow",
            "tasks": {"items": [{"id": 1, "name": "a"}], "endCursor": "1", "hasNextPage": False},
        },
    )
    bound_server.on(
        "StartWorkflowRun",
        lambda v: run_payload("ERROR", "FAILED", {"DONE": 2, "ERROR_FATAL": 1}),
    )
    bound_server.on("TaskStatuses", task_statuses_page({1: "ERROR_FATAL", 2: "DONE", 3: "DONE"}))
    workflow = three_tasks(tool, process, bound_server)
    result = workflow.run()
    assert result.final_status == "FAILED" and result.failed_count == 1
    assert result == "E" and result == WorkflowRunStatus.ERROR
    assert result.failed_task_ids == [1]
    assert workflow.tasks[0].final_status == "ERROR_FATAL"
    assert workflow.tasks[0].final_status == TaskStatus.ERROR_FATAL
    assert [t.final_status for t in workflow.tasks] == ["F", "D", "D"]

    found = workflow.get_errors(limit=4)
    assert list(found) == [1, 2]
    assert found[1]["task_name"] == "task_1"
    assert [e["task_instance_id"] for e in found[1]["errors"]] == [100, 101, 103]
    assert found[1]["errors"][0] == {
        "description": "boom 100",
        "time": "2026-01-01T00:00:01Z",
        "exit_code": 1,
        "task_instance_id": 100,
    }
