# ruff: noqa: UP045 - typing.Optional is what upstream pipelines write; it must work
"""The task generator without a server: serialization of every supported type, names,
commands, identity, errors, and the runner run as the compute node runs it."""

from __future__ import annotations

import datetime
import enum
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path, PurePosixPath
from typing import Any, Optional

import pytest
from jobmon_client import Tool, WorkflowDefinitionError, task_generator
from jobmon_client.resources import SettingsResolver
from jobmon_client.task_generator import TaskGenerator, TaskGeneratorError, runner_executable

from tests import task_generator_funcs as funcs
from tests.task_generator_funcs import NASTY, REPO, Draws, Measure, YearRange


def node_env() -> dict[str, str]:
    """The environment of a compute node that has this checkout installed."""
    paths = [str(REPO), *os.environ.get("PYTHONPATH", "").split(os.pathsep)]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}


def my_func() -> None:
    """A function for generators that only serialize."""


def codec_generator(serializers: dict[Any, Any] | None = None) -> TaskGenerator:
    return TaskGenerator(task_function=my_func, serializers=serializers or {}, tool_name="tg")


class Color(enum.Enum):
    RED = "red"
    BLUE = 2


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@pytest.fixture(autouse=True)
def tool() -> Tool:
    """The tool the generators of tests.task_generator_funcs find (the latest of its name)."""
    tool = Tool("tg_demo")
    tool.set_default_cluster_name("sequential")
    return tool


# -- serialization: every built-in type reads back equal, of the same type ----------------


ROUND_TRIPS: list[tuple[Any, Any]] = [
    *[(str, s) for s in NASTY],
    (int, 0),
    (int, -5),
    (int, 10**30),
    (float, 0.1),
    (float, -1e-300),
    (float, 1.7976931348623157e308),
    (float, float("inf")),
    (float, float("-inf")),
    (bool, True),
    (bool, False),
    (type(None), None),
    (Optional[int], None),
    (Optional[int], 3),
    (Optional[str], None),
    (Optional[str], "None"),
    (Optional[str], "\\None"),
    (Optional[str], "\\\\None"),
    (str | None, ""),
    (datetime.date, datetime.date(2024, 2, 29)),
    (datetime.datetime, datetime.datetime(2024, 2, 29, 13, 5, 7, 123456)),
    (
        datetime.datetime,
        datetime.datetime(2024, 1, 1, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=-8))),
    ),
    (datetime.time, datetime.time(23, 59, 58, 5)),
    (Path, Path("/data/out dir/it's")),
    (PurePosixPath, PurePosixPath("relative/x.csv")),
    (Color, Color.RED),
    (Color, Color.BLUE),
    (Level, Level.HIGH),
    (list[int], [1, 2, 3]),
    (list[int], []),
    (list[str], NASTY),
    (list[str], ["a,b", "[c]", "1", "1e3", "0x10", "True", "None"]),
    (list[float], [0.1, 2.0, float("nan")]),
    (list[bool], [True, False]),
    (list[int | None], [1, None, 3]),
    (list[str | None], ["None", None]),
    (tuple[int, ...], (1, 2)),
    (tuple[int, str, bool], (1, "x", False)),
    (set[str], {"b", "a", "it's"}),
    (frozenset[int], frozenset({3, 1, 2})),
    (dict[str, int], {"b": 2, "a": 1}),
    (dict[str, int], {}),
    (dict[int, list[str]], {1: ["x"], 2: []}),
    (dict[Color, float], {Color.RED: 0.5}),
    (dict[datetime.date, str], {datetime.date(2020, 1, 1): "new year"}),
    (list[list[int]], [[1, 2], [], [3]]),
    (dict[str, dict[str, list[float]]], {"a": {"b": [1.5]}}),
    (list[Path], [Path("/a"), Path("b c")]),
    (list[Color], [Color.BLUE, Color.RED]),
    (Optional[list[int]], None),
    (Optional[list[int]], [4]),
]


def same_types(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return all(
            same_types(k1, k2) and same_types(a[k1], b[k2]) for k1, k2 in zip(a, b, strict=True)
        )
    if isinstance(a, list | tuple):
        return all(same_types(x, y) for x, y in zip(a, b, strict=True))
    return True


@pytest.mark.parametrize(("annotation", "value"), ROUND_TRIPS, ids=repr)
def test_every_built_in_type_reads_back_equal(annotation: Any, value: Any) -> None:
    tg = codec_generator()
    text = tg.serialize(value, annotation)
    assert isinstance(text, str)
    back = tg.deserialize(text, annotation)
    if value != value or (isinstance(value, list) and any(v != v for v in value)):
        assert json.dumps(back) == json.dumps(value)  # NaN is not equal to itself
    else:
        assert back == value
    assert same_types(back, value)


def test_texts_look_as_upstream_writes_them() -> None:
    tg = codec_generator({YearRange: (str, YearRange.parse)})
    assert tg.serialize("something", str) == "something"
    assert tg.serialize(10, int) == "10"
    assert tg.serialize(1.5, float) == "1.5"
    assert tg.serialize(True, bool) == "True"
    assert tg.serialize(None, Optional[int]) == "None"
    assert tg.serialize([1, 2, 3], Optional[list[int]]) == "[1,2,3]"
    assert tg.serialize([], list[str]) == "[]"
    assert tg.serialize(YearRange(2010, 2020), YearRange) == "2010-2020"
    assert tg.serialize(["a", "b b"], list[str]) == '["a","b b"]'
    assert tg.serialize({"b": 1, "a": 2}, dict[str, int]) == '{"a":2,"b":1}'
    assert tg.serialize(Measure.CASES, Measure) == "CASES"
    assert tg.serialize(datetime.date(2020, 1, 2), datetime.date) == "2020-01-02"


@pytest.mark.parametrize(
    ("text", "annotation", "expected"),
    [
        ('["1", "3", "5"]', list[int], [1, 3, 5]),
        ('["1.0", "3.0"]', list[float], [1.0, 3.0]),
        ('["one", "three"]', list[str], ["one", "three"]),
        ("[True, False]", list[bool], [True, False]),
        ("[a,b]", list[str], ["a", "b"]),
        ('[a a,b"c"b]', list[str], ["a a", 'b"c"b']),
        ("[1,2]", list[int], [1, 2]),
        ("1", Optional[list[int]], [1]),
        ("None", Optional[list[int]], None),
        ("[]", list[str], []),
        ("10", int, 10),
        ("1.5", float, 1.5),
        ("True", bool, True),
        ("something", str, "something"),
        (
            '["2010-2020", "2030-2040"]',
            list[YearRange],
            [YearRange(2010, 2020), YearRange(2030, 2040)],
        ),
        ("2010-2020", Optional[YearRange], YearRange(2010, 2020)),
        ("None", Optional[YearRange], None),
    ],
)
def test_reads_the_forms_upstream_writes(text: str, annotation: Any, expected: Any) -> None:
    tg = codec_generator({YearRange: (str, YearRange.parse)})
    assert tg.deserialize(text, annotation) == expected


def test_sets_are_written_in_one_order_whatever_the_hash_seed() -> None:
    code = (
        "from jobmon_client.task_generator.serialization import codec_for;"
        "print(codec_for(set[str], {}).to_text(set('abcdefghijklmnop')))"
    )
    texts = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**node_env(), "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert texts == {json.dumps(sorted("abcdefghijklmnop"), separators=(",", ":")) + "\n"}


def test_custom_serializers_take_precedence_and_apply_inside_containers() -> None:
    import html

    tg = codec_generator({str: (html.escape, html.unescape)})
    assert tg.serialize("'aaa'", str) == "&#x27;aaa&#x27;"
    assert tg.deserialize("&#x27;aaa&#x27;", str) == "'aaa'"
    assert tg.deserialize(tg.serialize(["<a>"], list[str]), list[str]) == ["<a>"]
    draws = codec_generator(funcs.SERIALIZERS)
    assert draws.serialize(Draws(0.1, 0.9), Draws) == "[0.1, 0.9]"
    assert draws.deserialize("[0.1, 0.9]", Draws) == Draws(0.1, 0.9)
    assert draws.deserialize(draws.serialize([Draws(1.0)], list[Draws]), list[Draws]) == [
        Draws(1.0)
    ]


# -- clear errors: they name the argument and say what to do -------------------------------


def error_of(call: Any) -> str:
    with pytest.raises(TaskGeneratorError) as info:
        call()
    assert isinstance(info.value, TypeError) and isinstance(info.value, WorkflowDefinitionError)
    return str(info.value)


def test_a_value_of_the_wrong_type_names_the_argument() -> None:
    message = error_of(
        lambda: funcs.fit.create_task(location_id="3", years=YearRange(1, 2), out=Path())
    )
    assert "argument 'location_id'" in message and "expected an int, got '3' (str)" in message
    message = error_of(
        lambda: funcs.fit.create_task(
            location_id=1, years=YearRange(1, 2), out=Path(), ranges=[YearRange(1, 2), "3-4"]
        )
    )
    assert "argument 'ranges'[1]" in message and "expected a YearRange" in message
    message = error_of(
        lambda: funcs.fit.create_task(
            location_id=1, years=YearRange(1, 2), out=Path(), weights={"a": "heavy"}
        )
    )
    assert "argument 'weights'['a']" in message and "expected a float" in message
    assert "pass 1 or 0" in error_of(
        lambda: funcs.fit.create_task(location_id=True, years=YearRange(1, 2), out=Path())
    )


def test_an_unknown_type_is_refused_when_decorating_with_what_to_do() -> None:
    def needs_serializer(year: YearRange) -> None: ...

    message = error_of(lambda: task_generator(serializers={}, tool_name="tg")(needs_serializer))
    assert "parameter ``year: YearRange``" in message
    assert "serializers={Type: (to_str, from_str)}" in message
    assert "Cannot serialize unknown type YearRange" in error_of(
        lambda: codec_generator().serialize(YearRange(1, 2), YearRange)
    )
    assert "Cannot deserialize unknown type YearRange" in error_of(
        lambda: codec_generator().deserialize("1-2", YearRange)
    )


@pytest.mark.parametrize(
    ("signature", "expected"),
    [
        ("(a, b: int)", "missing type annotations: a"),
        ("(a: int | str)", "only Optional[T]"),
        ("(a: list)", "annotate it like list[int]"),
        ("(a: tuple)", "annotate it like list[int]"),
        ("(a: dict[list[int], int])", "dict keys must be"),
        ("(*a: int)", "cannot be given on a command line"),
        ("(**a: int)", "cannot be given on a command line"),
        ("(a: int, /)", "positional-only"),
        ("(cluster_name: str)", "rename the parameter"),
        ("(upstream_tasks: list[int])", "rename the parameter"),
        ("(a: Any)", "has no serializer"),
        ("(a: int = 'x')", "the default of parameter 'a'"),
        ("(a: set[str] = frozenset())", "the default of parameter 'a'"),
    ],
)
def test_a_function_that_cannot_be_a_task_is_refused(signature: str, expected: str) -> None:
    namespace: dict[str, Any] = {"Any": Any}
    exec(f"def f{signature}: pass", namespace)
    assert expected in error_of(
        lambda: task_generator(serializers={}, tool_name="tg")(namespace["f"])
    )


def test_bad_serializers_and_serializer_failures_are_named() -> None:
    bad_pair = {YearRange: str}

    def takes_year(year: YearRange) -> None: ...

    assert "a pair of functions" in error_of(
        lambda: task_generator(serializers=bad_pair, tool_name="tg")(takes_year)
    )
    returns_int = codec_generator({YearRange: (lambda y: y.start, YearRange.parse)})
    assert "it must return a str" in error_of(
        lambda: returns_int.serialize(YearRange(1, 2), YearRange)
    )
    raises = codec_generator({YearRange: (str, lambda s: 1 / 0)})
    assert "the deserializer for YearRange raised ZeroDivisionError" in error_of(
        lambda: raises.deserialize("1-2", YearRange)
    )


def test_other_values_no_command_line_can_carry_are_refused() -> None:
    common = {"out": Path(), "items": [], "mapping": {}, "path": Path(), "maybe": None}
    assert "NUL character" in error_of(
        lambda: funcs.echo.create_task(label="x", text="a\x00b", **common)
    )
    assert "pass value.date()" in error_of(
        lambda: funcs.fit.create_task(
            location_id=1, years=YearRange(1, 2), out=Path(), start=datetime.datetime(2020, 1, 1)
        )
    )
    huge = "x" * 200_000
    message = error_of(lambda: funcs.echo.create_task(label="x", text=huge, **common))
    assert "argument 'text' alone is" in message and "pass its path instead" in message


def test_calls_with_missing_unknown_or_positional_arguments_are_refused() -> None:
    assert "missing argument(s) 'years', 'out'" in error_of(
        lambda: funcs.fit.create_task(location_id=1)
    )
    assert "unknown argument(s) 'location'" in error_of(
        lambda: funcs.fit.create_task(location=1, years=YearRange(1, 2), out=Path())
    )
    assert "keyword arguments only" in error_of(lambda: funcs.fit.create_task("wf", location_id=1))
    assert "Expected a dictionary for compute_resources" in error_of(
        lambda: funcs.summarize.create_task(out=Path(), compute_resources="whatever")
    )
    assert "Expected a dictionary for compute_resources" in error_of(
        lambda: funcs.summarize.create_tasks(out=[Path()], compute_resources="whatever")
    )


def test_what_a_compute_node_could_not_import_is_refused() -> None:
    def local_function(a: int) -> None: ...

    local = task_generator(serializers={}, tool_name="tg")(local_function)
    assert "defined inside a function" in error_of(lambda: local.create_task(a=1))

    def in_main(a: int) -> None: ...

    in_main.__module__ = "__main__"
    in_main.__qualname__ = "in_main"
    script = task_generator(serializers={}, tool_name="tg")(in_main)
    message = error_of(lambda: script.create_task(a=1))
    assert "the script being run (__main__)" in message and "module_source_path=__file__" in message
    assert "is not a file" in error_of(
        lambda: task_generator(serializers={}, tool_name="tg", module_source_path="/nope.py")(
            in_main
        )
    )


def test_a_script_with_module_source_path_is_imported_under_its_file_name(tmp_path: Path) -> None:
    def in_main(a: int) -> None: ...

    in_main.__module__ = "__main__"
    in_main.__qualname__ = "in_main"
    script = tmp_path / "my pipeline.py"
    script.write_text("")
    tg = task_generator(serializers={}, tool_name="tg", module_source_path=str(script))(in_main)
    task = tg.create_task(a=1)
    assert f"--module_name 'my pipeline' --func_name in_main --module_source_path '{script}'" in (
        task.command
    )


# -- names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("naming_args", "expected"),
    [
        (["foo", "bar"], "simple_function:foo=1:bar=b_a_z"),
        (None, "simple_function:foo=1:bar=b_a_z"),
        (["foo"], "simple_function:foo=1"),
        (["bar", "foo"], "simple_function:foo=1:bar=b_a_z"),
        ([], "simple_function"),
    ],
)
def test_names_hold_the_naming_args(naming_args: list[str] | None, expected: str) -> None:
    def simple_function(foo: int, bar: str) -> None: ...

    simple_function.__qualname__ = "simple_function"
    tg = task_generator(serializers={}, tool_name="tg_demo", naming_args=naming_args)(
        simple_function
    )
    assert tg.create_task(foo=1, bar="b a z").name == expected


def test_names_of_lists_custom_types_and_odd_strings() -> None:
    def list_function(foo: list[str], bar: list[str], d: Draws, p: Path, s: str) -> None: ...

    list_function.__qualname__ = "list_function"
    tg = task_generator(serializers=funcs.SERIALIZERS, tool_name="tg_demo")(list_function)
    task = tg.create_task(foo=["a", "b b"], bar=['c"'], d=Draws(1.0, 2.0), p=Path("/a/b"), s="x\ny")
    assert task.name == "list_function:foo=a,b_b:bar=c_:d=1.0,_2.0:p=_a_b:s=x_y"
    long = tg.create_task(foo=["x" * 300], bar=[], d=Draws(), p=Path(), s="")
    assert len(long.name) == 255
    other = tg.create_task(foo=["x" * 300 + "y"], bar=[], d=Draws(), p=Path(), s="")
    assert other.name != long.name


def test_custom_naming_and_name_func() -> None:
    def simple_function(foo: int, bar: str) -> None: ...

    simple_function.__qualname__ = "simple_function"

    def lala(prefix: str, kwargs_for_name: dict[str, Any]) -> str:
        return f"Lala_{kwargs_for_name['foo']}_{prefix}"

    for option in ("custom_naming", "name_func"):
        tg = task_generator(
            serializers={}, tool_name="tg_demo", naming_args=["foo"], **{option: lala}
        )(simple_function)
        assert tg.create_task(foo=1, bar="x").name == "Lala_1_simple_function"
        assert [t.name for t in tg.create_tasks(foo=[1, 2], bar="x")] == [
            "Lala_1_simple_function",
            "Lala_2_simple_function",
        ]
    assert "not both" in error_of(
        lambda: task_generator(serializers={}, tool_name="tg", name_func=lala, custom_naming=lala)(
            simple_function
        )
    )
    assert "are not parameters" in error_of(
        lambda: task_generator(serializers={}, tool_name="tg", naming_args=["nope"])(
            simple_function
        )
    )


# -- commands, templates and identity -----------------------------------------------------


def test_the_command_runs_the_runner_with_each_argument_quoted() -> None:
    task = funcs.fit.create_task(location_id=3, years=YearRange(2020, 2025), out=Path("/o"))
    assert task.name == "fit:location_id=3"
    assert task.command == (
        f"{runner_executable()} --module_name tests.task_generator_funcs --func_name fit"
        " location_id='3' years='2020-2025' out='/o' draws='None' measure='DEATHS'"
        " ranges='[]' start='2020-01-01' weights='None' tags='[]' pair='[0,false]'"
    )
    assert task.template.template_name == "fit"
    assert task.node_args["location_id"] == "'3'"
    echo = funcs.echo.create_task(
        out=Path(), label="q", text="it's", maybe=None, items=[], mapping={}, path=Path()
    )
    assert " text='it'\"'\"'s' " in echo.command


def test_parameters_named_like_template_keywords_still_work() -> None:
    def keywords(name: str, max_attempts: int, executable: str, arg_name: str) -> None: ...

    keywords.__qualname__ = "keywords"
    tg = task_generator(serializers={}, tool_name="tg_demo")(keywords)
    task = tg.create_task(name="n", max_attempts=2, executable="e", arg_name="a")
    assert task.command.endswith("name='n' max_attempts='2' executable='e' arg_name='a'")
    assert task.name == "keywords:name=n:max_attempts=2:executable=e:arg_name=a"
    assert len(set(task.node_args)) == 4


def test_the_same_call_is_the_same_task_and_a_changed_argument_a_new_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def make(**changes: Any) -> Any:
        args: dict[str, Any] = {"location_id": 3, "years": YearRange(2020, 2025), "out": Path("/o")}
        return funcs.fit.create_task(**{**args, **changes})

    first = make()
    assert make().node_key == first.node_key
    assert (
        funcs.fit.create_task(out=Path("/o"), years=YearRange(2020, 2025), location_id=3).node_key
        == first.node_key
    )
    assert make(measure=Measure.DEATHS, draws=None).node_key == first.node_key  # the defaults
    assert make(location_id=4).node_key != first.node_key
    assert make(years=YearRange(2020, 2026)).node_key != first.node_key
    assert make(tags=frozenset({"x"})).node_key != first.node_key
    monkeypatch.setattr(sys, "executable", "/another/python")
    moved = make()
    assert moved.command != first.command and moved.node_key == first.node_key


def test_arrays_are_every_combination_of_the_lists_given() -> None:
    tasks = funcs.fit.create_tasks(
        location_id=[1, 2],
        years=YearRange(2020, 2025),
        out=Path("/o"),
        measure=[Measure.DEATHS, Measure.CASES],
        ranges=[[YearRange(1, 2)]],
    )
    assert [t.name for t in tasks] == [
        "fit:location_id=1",
        "fit:location_id=1",
        "fit:location_id=2",
        "fit:location_id=2",
    ]
    assert [(t.node_args["location_id"], t.node_args["measure"]) for t in tasks] == [
        ("'1'", "'DEATHS'"),
        ("'1'", "'CASES'"),
        ("'2'", "'DEATHS'"),
        ("'2'", "'CASES'"),
    ]
    assert {t.node_args["ranges"] for t in tasks} == {"'[\"1-2\"]'"}
    assert len(funcs.fit.create_tasks(location_id=range(5), years=YearRange(1, 2), out=Path())) == 5
    message = error_of(
        lambda: funcs.fit.create_tasks(
            location_id=1, years=YearRange(1, 2), out=Path(), ranges=[YearRange(1, 2)]
        )
    )
    assert "wrap it: ranges=[[" in message
    downstream = funcs.summarize.create_tasks(out=[Path("/a"), Path("/b")], upstream_tasks=tasks)
    assert all(d.upstream_tasks == frozenset(tasks) for d in downstream)


def test_tasks_belong_to_the_latest_tool_of_the_name(tool: Tool) -> None:
    task = funcs.summarize.create_task(out=Path())
    assert task.template.tool is tool
    assert funcs.summarize._task_template is task.template
    assert funcs.summarize.create_task(out=Path("/x")).template is task.template
    newer = Tool("tg_demo")
    assert funcs.summarize.create_task(out=Path()).template.tool is newer


def test_defaults_of_the_generator_reach_the_tasks(tmp_path: Path) -> None:
    def simple_function(foo: int) -> None: ...

    simple_function.__qualname__ = "simple_function"
    tg = task_generator(
        serializers={},
        tool_name="tg_demo",
        max_attempts=4,
        default_cluster_name="dummy",
        default_compute_resources={"queue": "null.q", "cores": 1},
        default_resource_scales={"memory": 0.2},
    )(simple_function)
    resolver = SettingsResolver(None, None)
    plain = resolver.resolve(tg.create_task(foo=1))
    assert (plain.cluster_name, plain.resources, plain.max_attempts) == (
        "dummy",
        {"queue": "null.q", "cores": 1},
        4,
    )
    assert tg.create_task(foo=1).retry_policy.resource_scales == {"memory": 0.2}  # type: ignore[union-attr]
    own = resolver.resolve(
        tg.create_task(foo=2, cluster_name="sequential", compute_resources={"cores": 2})
    )
    assert (own.cluster_name, own.resources) == ("sequential", {"cores": 2})

    resources = tmp_path / "resources.yaml"
    resources.write_text(
        textwrap.dedent(
            """
            task_template_resources:
              simple_function:
                sequential: {cores: 1, memory: 3G, runtime: 4h, queue: null.q}
            task_template_scales:
              simple_function:
                sequential: {memory: 0.2, runtime: 0.3}
            """
        )
    )
    from_yaml = task_generator(
        serializers={},
        tool_name="tg_yaml",
        yaml_file=str(resources),
        default_cluster_name="sequential",
    )(simple_function)
    task = from_yaml.create_task(foo=1)
    settings = SettingsResolver(None, None).resolve(task)
    assert settings.resources == {"cores": 1, "memory": "3G", "runtime": "4h", "queue": "null.q"}
    assert task.retry_policy.resource_scales == {"memory": 0.2, "runtime": 0.3}  # type: ignore[union-attr]


def test_get_tasks_by_node_args(tool: Tool) -> None:
    from jobmon_client.task_generator import get_tasks_by_node_args

    wf = tool.create_workflow(workflow_args="by_node_args")
    tasks = funcs.fit.create_tasks(
        location_id=[1, 2], years=YearRange(1, 2), out=Path(), ranges=[[YearRange(3, 4)], []]
    )
    wf.add_tasks(tasks)
    found = get_tasks_by_node_args(wf, funcs.fit, {"location_id": 2, "ranges": []})
    assert found == [tasks[3]]
    assert get_tasks_by_node_args(wf, funcs.fit, {"location_id": 9}, error_on_empty=False) == []
    with pytest.raises(ValueError, match="no tasks in the workflow"):
        get_tasks_by_node_args(wf, funcs.fit, {"location_id": 9})


def test_the_decorator_is_the_module_too(tmp_path: Path) -> None:
    import jobmon_client
    import jobmon_client.task_generator as module

    assert jobmon_client.task_generator is module
    assert module.task_generator is not module
    assert isinstance(funcs.fit, module.TaskGenerator)
    assert jobmon_client.TaskGenerator is TaskGenerator
    funcs.summarize(out=tmp_path)  # calling the generator calls the function, here
    assert json.loads((tmp_path / "summary.json").read_text()) == []


def test_help_shows_the_docstring_and_the_arguments() -> None:
    def documented(location_id: int, years: list[int] = [2020]) -> None:  # noqa: B006
        """Fit one location.

        Args:
            location_id: the location to fit
            years (list[int]): the years,
                all of them
        """

    documented.__qualname__ = "documented"
    text = task_generator(serializers={}, tool_name="tg")(documented).help()
    assert text.startswith(f"Command Line Documentation for {__name__}:documented")
    assert "Fit one location." in text
    assert "\tlocation_id=<int>: the location to fit" in text
    assert "\tyears=<list[int]>: the years, all of them (default: [2020])" in text


# -- the runner, as the compute node runs it ----------------------------------------------


def run_command(command: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/bin/sh", "-c", command],
        env={**node_env(), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_special_characters_reach_the_function_exactly_and_inject_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    nasty = [*NASTY, f"$(touch {marker})", f"`touch {marker}`", f"'; touch {marker}; '"]
    for i, text in enumerate(nasty):
        task = funcs.echo.create_task(
            out=tmp_path,
            label=f"case{i}",
            text=text,
            maybe=text,
            items=nasty,
            mapping={text: text},
            path=Path(tmp_path / text.replace("/", "_").replace("\x00", "")),
        )
        done = run_command(task.command)
        assert done.returncode == 0, done.stderr
        got = json.loads((tmp_path / f"case{i}.json").read_text(encoding="utf-8"))
        assert got["text"] == {"str": text}
        assert got["maybe"] == {"str": text}
        assert got["items"] == {"list": [{"str": s} for s in nasty]}
        assert got["mapping"] == {"dict": {text: {"str": text}}}
    assert not marker.exists()


def test_a_raising_function_exits_1_with_its_traceback_last_on_stderr(tmp_path: Path) -> None:
    task = funcs.fails_for_odd.create_task(location_id=3, out=tmp_path)
    done = run_command(task.command)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[-1] == "ValueError: location 3 has no data"
    assert "task_generator_funcs.py" in done.stderr and "in fails_for_odd" in done.stderr
    assert "runner.py" not in done.stderr
    assert (
        run_command(funcs.fails_for_odd.create_task(location_id=2, out=tmp_path).command).returncode
        == 0
    )
    assert (tmp_path / "even_2.json").exists()


def test_a_task_that_cannot_start_exits_2_saying_why(tmp_path: Path) -> None:
    runner = f"{runner_executable()} --module_name tests.task_generator_funcs"
    cases = {
        f"{runner} --func_name fails_for_odd location_id='x' out='/'": (
            "could not deserialize argument 'location_id' ('x') as int"
        ),
        f"{runner} --func_name fails_for_odd out='/'": "were not provided: location_id",
        f"{runner} --func_name fails_for_odd location_id=1 out=/ extra=1": (
            "unknown argument 'extra'"
        ),
        f"{runner} --func_name describe": "doesn't point to a runnable jobmon task",
        f"{runner_executable()} --module_name not_installed_anywhere --func_name f": (
            "cannot import module 'not_installed_anywhere'"
        ),
        f"{runner_executable()} --module_name m --func_name f --module_source_path /nope.py": (
            "is not a file"
        ),
    }
    for command, expected in cases.items():
        done = run_command(command)
        assert done.returncode == 2, (command, done.stderr)
        assert expected in done.stderr, (command, done.stderr)


def test_arghelp_prints_the_help() -> None:
    done = run_command(
        f"{runner_executable()} --module_name tests.task_generator_funcs --func_name fit --arghelp"
    )
    assert done.returncode == 0
    assert "Command Line Documentation for tests.task_generator_funcs:fit" in done.stdout
    assert "years=<YearRange>" in done.stdout


def test_a_module_outside_the_environment_is_found_by_its_path(tmp_path: Path) -> None:
    (tmp_path / "neighbour.py").write_text("FACTOR = 7\n")
    source = tmp_path / "outside.py"
    source.write_text(
        textwrap.dedent(
            f"""
            from pathlib import Path
            from jobmon_client import task_generator
            import neighbour

            @task_generator(serializers={{}}, tool_name="tg_demo", module_source_path=__file__)
            def scaled(n: int, out: Path) -> None:
                (out / "scaled").write_text(str(n * neighbour.FACTOR))

            if __name__ == "__main__":
                Path({str(tmp_path / "main_ran")!r}).touch()
            """
        )
    )
    import importlib.util

    sys.path.append(str(tmp_path))
    try:
        spec = importlib.util.spec_from_file_location("outside", source)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(tmp_path))
    task = module.scaled.create_task(n=6, out=tmp_path)
    assert f"--module_source_path {source}" in task.command
    done = run_command(task.command)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "scaled").read_text() == "42"
    assert not (tmp_path / "main_ran").exists()


def test_the_runner_imports_nothing_that_talks_to_the_server(tmp_path: Path) -> None:
    listing = tmp_path / "modules.json"
    task = funcs.fails_for_odd.create_task(location_id=2, out=tmp_path)
    arguments = task.command.split(" -m jobmon_client.task_generator.runner ", 1)[1]
    code = (
        "import atexit, json, runpy, shlex, sys\n"
        f"write = lambda: open({str(listing)!r}, 'w').write(json.dumps(sorted(sys.modules)))\n"
        "atexit.register(write)\n"
        f"sys.argv = ['runner', *shlex.split({arguments!r})]\n"
        "runpy.run_module('jobmon_client.task_generator.runner', run_name='__main__')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=node_env(), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    loaded = set(json.loads(listing.read_text()))
    assert "tests.task_generator_funcs" in loaded
    heavy = {"jobmon_server", "gql", "httpx", "graphql", "yaml", "sqlalchemy", "strawberry", "rich"}
    assert not {m.split(".")[0] for m in loaded} & heavy
    client_parts = {m for m in loaded if m.startswith("jobmon_client.")}
    assert client_parts <= {
        "jobmon_client.validation",
        "jobmon_client.hashing",
        *(m for m in loaded if m.startswith("jobmon_client.task_generator")),
    }


def test_options_reach_the_task_as_upstream_passes_them(caplog: pytest.LogCaptureFixture) -> None:
    def simple_function(foo: int, bar: str = "b") -> None: ...

    simple_function.__qualname__ = "simple_function"
    tg = task_generator(serializers={}, tool_name="tg_demo", max_attempts=40)(simple_function)
    with caplog.at_level("WARNING"):
        upstream = tg.create_task(foo=1, task_attributes={"fake_attr": "fake_value"})
        tg.create_task(foo=3, task_attributes=["fake_attr"])
    warnings = [r.getMessage() for r in caplog.records]
    assert sum("no naming_args" in w for w in warnings) == 1
    assert sum("task_attributes are not stored" in w for w in warnings) == 1
    assert upstream.max_attempts == 40
    downstream = tg.create_task(foo=2, bar="b u z z", upstream_tasks=[upstream])
    assert downstream.upstream_tasks == {upstream}
    assert tg.create_tasks(foo=[]) == []


def test_the_node_logs_nothing_when_it_imports_a_generator_module(tmp_path: Path) -> None:
    source = tmp_path / "quiet.py"
    source.write_text(
        "from jobmon_client import task_generator\n"
        "@task_generator(serializers={}, tool_name='tg', module_source_path=__file__)\n"
        "def quiet(n: int) -> None:\n"
        "    pass\n"
    )
    command = (
        f"{runner_executable()} --module_name quiet --func_name quiet "
        f"--module_source_path {source} n='1'"
    )
    done = run_command(command)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
