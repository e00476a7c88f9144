"""A fake Tienda Nube (Nuvemshop) platform: OAuth, REST API with rate limits, signed webhooks."""

from .demo import DEMO_STORE_ID, add_demo_store, add_store, build_fake, connect_demo_tenant
from .runner import ThreadServer
from .server import create_app
from .state import Bucket, FakeTiendanube, Store

__all__ = [
    "DEMO_STORE_ID",
    "Bucket",
    "FakeTiendanube",
    "Store",
    "ThreadServer",
    "add_demo_store",
    "add_store",
    "build_fake",
    "connect_demo_tenant",
    "create_app",
]
