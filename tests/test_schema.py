"""The checked-in schema.graphql is the contract: it must match the server."""

from jobmon_server.export_schema import SCHEMA_FILE, sdl


def test_schema_file_is_current() -> None:
    assert SCHEMA_FILE.read_text() == sdl(), (
        "schema.graphql is stale; run: python -m jobmon_server.export_schema"
    )


def test_an_over_deep_query_is_refused_every_time() -> None:
    from jobmon_server.graphql.schema import schema

    nested = "id"
    for _ in range(7):
        nested = f"latestRun {{ workflow {{ {nested} }} }}"
    query = f"{{ workflow(id: 1) {{ ... on Workflow {{ {nested} }} }} }}"
    for _ in range(2):  # the second answer comes from the validation cache
        result = schema.execute_sync(query)
        assert result.errors is not None
        assert "exceeds maximum operation depth of 12" in result.errors[0].message
