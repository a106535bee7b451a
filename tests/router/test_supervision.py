"""The actor system under failure: supervision, backoff, parking, refresh. Virtual time
(trio's autojump clock) wherever no worker thread is involved."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from bpf_mcp.api import open_bpf_mcp
from bpf_mcp.config import Backoff, Config
from bpf_mcp.errors import (
    ServerClosed,
    SourceError,
    SourceFailure,
    SourceLoadTimeout,
    SourceUnavailable,
)
from bpf_mcp.kallsyms import parse_kallsyms
from bpf_mcp.queries import GetServerStatus, ListBpfProgramTypes, ListKernelFunctions
from bpf_mcp.readers.base import Emit, Loaded
from bpf_mcp.readers.kallsyms import KallsymsReader
from bpf_mcp.readers.reference import ReferenceReader
from bpf_mcp.sources import Source

TABLE = parse_kallsyms("ffffffff81000000 T vfs_read\nffffffff81000010 t helper\n")


class FlakyKallsyms:
    """A kallsyms reader double that fails its first `failures` loads (forever if None)."""

    source = Source.KALLSYMS

    def __init__(self, failures: int | None, *, hang: bool = False) -> None:
        self.failures = failures
        self.hang = hang
        self.attempts: list[float] = []

    async def signature(self, config: Config) -> int:
        return 1

    async def load(self, config: Config, emit: Emit) -> Loaded:
        self.attempts.append(trio.current_time())
        if self.hang:
            await trio.sleep_forever()
        if self.failures is None or len(self.attempts) <= self.failures:
            raise SourceError(
                SourceFailure("kallsyms", "/proc/kallsyms", "permission", "denied", "be root")
            )
        await emit(TABLE)
        return Loaded("/proc/kallsyms", "2 symbols")


class StaticReference:
    """The real reference data, loaded without a worker thread."""

    source = Source.REFERENCE

    async def signature(self, config: Config) -> int:
        return 1

    async def load(self, config: Config, emit: Emit) -> Loaded:
        from bpf_mcp.readers.reference import default_path
        from bpf_mcp.reference import parse_reference

        await emit(parse_reference(default_path().read_text()))
        return Loaded("builtin", "reference")


class NeverBtf:
    """A BTF reader double that always fails as if the kernel had no BTF."""

    source = Source.BTF

    async def signature(self, config: Config) -> int:
        raise SourceError(
            SourceFailure("btf", "/sys/kernel/btf/vmlinux", "missing", "no such file", "BTF")
        )

    async def load(self, config: Config, emit: Emit) -> Loaded:  # pragma: no cover
        raise AssertionError("never loads")


BACKOFF = Backoff(initial=0.5, factor=2.0, cap=30.0, jitter=0.2, max_failures=5, recheck=60.0)


@pytest.fixture
def autojump() -> trio.testing.MockClock:
    # Virtual time jumps only after 0.1 s of real idleness, so an index built in a worker
    # thread (microseconds for these doubles) never looks like a hang to the clock.
    return trio.testing.MockClock(autojump_threshold=0.1)


async def test_failed_reader_backs_off_and_recovers_while_others_answer(
    autojump: trio.testing.MockClock,
) -> None:
    flaky = FlakyKallsyms(failures=3)
    config = Config(backoff=BACKOFF, refresh_interval=1000.0)
    async with open_bpf_mcp(config, readers=[flaky, StaticReference(), NeverBtf()]) as handle:
        with trio.fail_after(5):
            with pytest.raises(SourceUnavailable, match=r"/proc/kallsyms: denied.*be root"):
                await handle.query(ListKernelFunctions())
            # Another source keeps answering (and falls back for the failed BTF).
            types = await handle.query(ListBpfProgramTypes(pattern="xdp"))
            assert types.source == "builtin"
        await trio.sleep(10)
        result = await handle.query(ListKernelFunctions())
        assert [f.name for f in result.items] == ["helper", "vfs_read"]
        status = await handle.status()
    gaps = [b - a for a, b in zip(flaky.attempts, flaky.attempts[1:], strict=False)]
    assert len(flaky.attempts) == 4
    for gap, base in zip(gaps, (0.5, 1.0, 2.0), strict=True):
        assert base * 0.8 <= gap <= base * 1.2
    kallsyms = next(s for s in status.sources if s.source == "kallsyms")
    assert kallsyms.state == "ready" and kallsyms.restarts == 3 and kallsyms.last_error is None


async def test_give_up_turns_into_slow_rechecks_not_a_busy_loop(
    autojump: trio.testing.MockClock,
) -> None:
    flaky = FlakyKallsyms(failures=None)
    config = Config(backoff=BACKOFF, refresh_interval=1000.0)
    async with open_bpf_mcp(config, readers=[flaky, StaticReference()]) as handle:
        await trio.sleep(600)
        status = await handle.query(GetServerStatus())
    kallsyms = next(s for s in status.sources if s.source == "kallsyms")
    assert kallsyms.state == "failed" and kallsyms.gave_up
    assert kallsyms.next_attempt_in == 60.0
    assert kallsyms.last_error is not None and kallsyms.last_error.cause == "permission"
    # 5 fast attempts within ~8 s, then one per minute: about 14 in ten minutes.
    assert 5 + 8 <= len(flaky.attempts) <= 5 + 10


async def test_query_waits_for_a_first_load_then_times_out(
    autojump: trio.testing.MockClock,
) -> None:
    config = Config(load_wait=3.0, read_timeout=1000.0, refresh_interval=1000.0)
    async with open_bpf_mcp(config, readers=[FlakyKallsyms(0, hang=True)]) as handle:
        start = trio.current_time()
        with pytest.raises(SourceLoadTimeout, match="still loading after 3 s"):
            await handle.query(ListKernelFunctions())
        assert trio.current_time() - start == pytest.approx(3.0)


async def test_a_hanging_read_is_bounded_by_the_read_timeout(
    autojump: trio.testing.MockClock,
) -> None:
    config = Config(load_wait=100.0, read_timeout=2.0, refresh_interval=1000.0, backoff=BACKOFF)
    async with open_bpf_mcp(config, readers=[FlakyKallsyms(0, hang=True)]) as handle:
        with pytest.raises(SourceUnavailable, match="longer than 2 s"):
            await handle.query(ListKernelFunctions())


async def test_queries_after_close_say_the_server_is_gone() -> None:
    async with open_bpf_mcp(Config(), readers=[StaticReference()]) as handle:
        pass
    with pytest.raises(ServerClosed):
        await handle.query(GetServerStatus())


async def test_missing_source_appearing_later_is_picked_up(tmp_path: Path) -> None:
    config = Config(
        sysroot=tmp_path,
        refresh_interval=0.05,
        backoff=Backoff(initial=0.02, cap=0.05, max_failures=100),
    )
    async with open_bpf_mcp(config, readers=[KallsymsReader(), ReferenceReader()]) as handle:
        with trio.fail_after(10):
            with pytest.raises(SourceUnavailable, match="proc/kallsyms: the file does not exist"):
                await handle.query(ListKernelFunctions())
            (tmp_path / "proc").mkdir()
            (tmp_path / "proc/kallsyms").write_text("ffffffff81000000 T vfs_read\n")
            while True:
                try:
                    result = await handle.query(ListKernelFunctions())
                    break
                except SourceUnavailable:
                    await trio.sleep(0.02)
    assert [f.name for f in result.items] == ["vfs_read"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
async def test_permission_denied_names_the_fix(tmp_path: Path) -> None:
    (tmp_path / "proc").mkdir()
    path = tmp_path / "proc/kallsyms"
    path.write_text("ffffffff81000000 T vfs_read\n")
    path.chmod(0)
    async with open_bpf_mcp(Config(sysroot=tmp_path), readers=[KallsymsReader()]) as handle:
        with trio.fail_after(10), pytest.raises(SourceUnavailable, match="permission denied"):
            await handle.query(ListKernelFunctions())


async def test_corrupt_source_is_reported_as_corrupt(tmp_path: Path) -> None:
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/kallsyms").write_text("this is not kallsyms\n")
    async with open_bpf_mcp(Config(sysroot=tmp_path), readers=[KallsymsReader()]) as handle:
        with trio.fail_after(10), pytest.raises(SourceUnavailable, match="kallsyms") as err:
            await handle.query(ListKernelFunctions())
        status = await handle.status()
    assert "line 1" in str(err.value)
    (kallsyms,) = [s for s in status.sources if s.source == "kallsyms"]
    assert kallsyms.last_error is not None and kallsyms.last_error.cause == "corrupt"


async def test_refresh_swaps_in_changed_data(tmp_path: Path) -> None:
    (tmp_path / "proc/sys/kernel/random").mkdir(parents=True)
    boot_id = tmp_path / "proc/sys/kernel/random/boot_id"
    boot_id.write_text("one\n")
    kallsyms = tmp_path / "proc/kallsyms"
    kallsyms.write_text("ffffffff81000000 T vfs_read\n")
    config = Config(sysroot=tmp_path, refresh_interval=0.05)
    seen: list[Any] = []
    async with open_bpf_mcp(config, readers=[KallsymsReader()]) as handle:
        with trio.fail_after(10):
            seen.append(await handle.query(ListKernelFunctions()))
            kallsyms.write_text("ffffffff81000000 T vfs_read\nffffffff81000100 T vfs_write\n")
            boot_id.write_text("two\n")
            while (result := await handle.query(ListKernelFunctions())).total != 2:
                assert result.total == 1  # old or new, never half of a load
                await trio.sleep(0.01)
    assert [f.name for f in result.items] == ["vfs_read", "vfs_write"]


async def test_answer_cache_serves_repeats_and_forgets_on_change(tmp_path: Path) -> None:
    (tmp_path / "proc/sys/kernel/random").mkdir(parents=True)
    boot_id = tmp_path / "proc/sys/kernel/random/boot_id"
    boot_id.write_text("one\n")
    kallsyms = tmp_path / "proc/kallsyms"
    kallsyms.write_text("ffffffff81000000 T vfs_read\n")
    config = Config(sysroot=tmp_path, refresh_interval=0.05)
    async with open_bpf_mcp(config, readers=[KallsymsReader()]) as handle:
        with trio.fail_after(10):
            first = await handle.query(ListKernelFunctions(pattern="vfs"))
            assert await handle.query(ListKernelFunctions(pattern="vfs")) is first
            kallsyms.write_text("ffffffff81000000 T vfs_read\nffffffff81000100 T vfs_write\n")
            boot_id.write_text("two\n")
            # Polling is the point: each query must see old or new data, never a mix.
            while (again := await handle.query(ListKernelFunctions(pattern="vfs"))) is first:  # noqa: ASYNC110
                await trio.sleep(0.01)
    assert again.total == 2


async def test_answer_cache_can_be_turned_off() -> None:
    config = Config(answer_cache=0)
    async with open_bpf_mcp(config, readers=[FlakyKallsyms(0)]) as handle:
        with trio.fail_after(10):
            first = await handle.query(ListKernelFunctions())
            second = await handle.query(ListKernelFunctions())
    assert first == second
    assert first is not second
