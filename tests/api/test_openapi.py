from api.openapi import DOCUMENT, render


def test_the_committed_openapi_document_matches_the_app() -> None:
    assert DOCUMENT.read_text() == render(), (
        "contracts/openapi.json is stale: run `python -m api.openapi` and commit it"
    )
