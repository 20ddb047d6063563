"""schemas/bff.graphql is the published contract: it must equal what the code serves."""

from pathlib import Path

from bff.graphql.schema import build_schema

SDL = Path(__file__).resolve().parents[2] / "schemas" / "bff.graphql"


def test_published_sdl_equals_the_schema_in_code() -> None:
    published = SDL.read_text()
    assert published == build_schema().as_str() + "\n", (
        "schemas/bff.graphql is stale: run `.venv/bin/bff schema --write schemas/bff.graphql`"
    )
