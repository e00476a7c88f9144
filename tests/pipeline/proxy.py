"""A TCP proxy the test controls: cut it (a dependency "goes down"), restore it, or hold
traffic (a dependency that accepted the request but has not answered yet)."""

from __future__ import annotations

import asyncio
import contextlib


class TcpProxy:
    def __init__(self, target_host: str, target_port: int, listen_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = listen_port
        self.server: asyncio.Server | None = None
        self.conns: set[asyncio.StreamWriter] = set()
        self.open = asyncio.Event()
        self.open.set()
        self.held = 0

    async def start(self) -> TcpProxy:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        return self

    async def cut(self) -> None:
        """Refuse new connections and drop the live ones (like a stopped server)."""
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        for w in list(self.conns):
            w.close()
        self.conns.clear()

    async def restore(self) -> None:
        await self.start()

    def hold(self) -> None:
        self.open.clear()

    def release(self) -> None:
        self.open.set()

    async def close(self) -> None:
        self.release()
        await self.cut()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.conns.add(writer)
        try:
            if not self.open.is_set():
                self.held += 1
                await self.open.wait()
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            self.conns.discard(writer)
            return
        self.conns.add(up_writer)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            with contextlib.suppress(OSError):
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.conns.discard(writer)
        self.conns.discard(up_writer)
