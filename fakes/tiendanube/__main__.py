"""`python -m fakes.tiendanube --port 8090`: the fake platform with the demo store."""

from __future__ import annotations

import argparse

import uvicorn

from .demo import add_store, build_fake
from .server import create_app
from .state import FakeTiendanube


def main() -> None:
    p = argparse.ArgumentParser(description="Fake Tienda Nube with the demo store")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8090)
    p.add_argument("--client-id", default="4321")
    p.add_argument("--client-secret", default="fake-app-secret-0123456789")
    p.add_argument("--bucket", type=int, default=40, help="rate-limit bucket size (requests)")
    p.add_argument("--leak", type=float, default=2.0, help="requests leaked per second")
    p.add_argument("--no-rate-limit", action="store_true")
    p.add_argument(
        "--store",
        action="append",
        default=[],
        metavar="ID:PRODUCTS:SEED",
        help="a generated store instead of the demo store (repeatable; benchmarks)",
    )
    a = p.parse_args()
    options = {
        "client_id": a.client_id,
        "client_secret": a.client_secret,
        "rate_limit": not a.no_rate_limit,
        "bucket_capacity": a.bucket,
        "leak_per_s": a.leak,
    }
    if a.store:
        fake = FakeTiendanube(**options)  # type: ignore[arg-type]
        for spec in a.store:
            sid, products, seed = (int(x) for x in spec.split(":"))
            add_store(fake, store_id=sid, name=f"Store {sid}", products=products, seed=seed)
    else:
        fake = build_fake(**options)  # type: ignore[arg-type]
    uvicorn.run(create_app(fake), host=a.host, port=a.port, log_level="warning")


if __name__ == "__main__":
    main()
