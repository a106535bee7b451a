"""A source that has loaded keeps serving its last data through a transient failure (the
process out of descriptors or memory, a hung read): the status says what failed and how
old the data is, and the next good reload replaces it. Other failures still withdraw it."""

from __future__ import annotations

import errno
from collections.abc import Hashable
from pathlib import Path

import trio
import trio.testing

from bpf_mcp.api import open_bpf_mcp
from bpf_mcp.config import Config
from bpf_mcp.errors import SourceError
from bpf_mcp.readers.base import Emit, Loaded, failure_from_os_error
from bpf_mcp.sources import Source

from .conftest import SmallKernel, call, replace, server_status, status_of


class Flaky:
    """Wraps the small kernel's kallsyms reader; while `error` is set its signature check
    fails with it. `readers` and `config` serve the small kernel with it."""

    def __init__(self, kernel: SmallKernel) -> None:
        (self.reader,) = [r for r in kernel.readers() if r.source == Source.KALLSYMS]
        self.source = Source.KALLSYMS
        self.error: int | None = None
        self.readers = replace(kernel.readers(), self)
        self.config = kernel.config(refresh_interval=1.0)

    async def signature(self, config: Config) -> Hashable:
        if self.error is not None:
            path = Path("/proc/kallsyms")
            exc = OSError(self.error, "injected")
            raise SourceError(
                failure_from_os_error(self.source, path, exc, fix_missing="", fix_permission="")
            )
        return await self.reader.signature(config)

    async def load(self, config: Config, emit: Emit) -> Loaded:
        return await self.reader.load(config, emit)


async def _state(handle: object, *, failing: bool) -> dict[str, object]:
    with trio.fail_after(600):
        while True:
            status = status_of(await server_status(handle), Source.KALLSYMS)  # type: ignore[arg-type]
            if (status["last_error"] is not None) == failing and status["restarts"] >= failing:
                return status
            await trio.sleep(0.5)


async def test_out_of_descriptors_keeps_the_last_data(
    kernel: SmallKernel, autojump: trio.testing.MockClock
) -> None:
    flaky = Flaky(kernel)
    async with open_bpf_mcp(flaky.config, readers=flaky.readers) as handle:
        before = await call(handle, "list_kernel_functions", {"limit": 1})
        assert not before.is_error, before.text
        flaky.error = errno.EMFILE
        status = await _state(handle, failing=True)
        assert status["state"] == "ready"
        assert status["last_error"]["cause"] == "io"  # type: ignore[index]
        assert "Too many open files" in status["last_error"]["detail"]  # type: ignore[index]
        assert status["data_age_seconds"] is not None
        during = await call(handle, "list_kernel_functions", {"limit": 1})
        assert not during.is_error, during.text
        assert during.payload["total"] == before.payload["total"]
        flaky.error = None
        await _state(handle, failing=False)


async def test_a_failure_of_the_file_itself_still_withdraws_the_data(
    kernel: SmallKernel, autojump: trio.testing.MockClock
) -> None:
    flaky = Flaky(kernel)
    async with open_bpf_mcp(flaky.config, readers=flaky.readers) as handle:
        assert not (await call(handle, "list_kernel_functions", {"limit": 1})).is_error
        flaky.error = errno.EIO
        status = await _state(handle, failing=True)
        assert status["state"] != "ready"
        out = await call(handle, "list_kernel_functions", {"limit": 1})
        assert out.is_error and "read failed" in out.text
