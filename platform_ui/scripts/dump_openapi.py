"""Write the orchestrator's OpenAPI document (JSON) to the path given as argument.

No database or network is needed: the app is only constructed (its lifespan never runs), so
throwaway settings do; nothing connects to the placeholder DSN. Used by scripts/gen-api.sh.
"""

from __future__ import annotations

import json
import sys

from cryptography.fernet import Fernet
from orchestrator.app import create_app
from orchestrator.config import Settings


def main() -> None:
    settings = Settings(
        admin_token="openapi-dump-only",  # noqa: S106 - never used: the app does not start
        encryption_key=Fernet.generate_key().decode(),
        postgres_dsn="postgresql://openapi@127.0.0.1:1/openapi",
        internal_api_token="openapi-dump-only",  # noqa: S106
    )
    app = create_app(settings)  # logs to stdout: hence the file argument
    with open(sys.argv[1], "w", encoding="utf-8") as out:
        json.dump(app.openapi(), out, indent=1, sort_keys=True)
        out.write("\n")


if __name__ == "__main__":
    main()
