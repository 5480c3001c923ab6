"""The OpenAPI document of the app, as committed in contracts/openapi.json."""

import json
from pathlib import Path
from typing import Any

from api.app import create_app
from core.settings import Settings

DOCUMENT = Path(__file__).resolve().parent.parent / "contracts" / "openapi.json"


def openapi_document() -> dict[str, Any]:
    """The document; routes and schemas do not depend on settings."""
    return create_app(Settings()).openapi()


def render() -> str:
    return json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"


def main() -> None:
    DOCUMENT.write_text(render())
    print(f"written to {DOCUMENT}")


if __name__ == "__main__":
    main()
