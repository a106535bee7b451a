"""The framing check on Streamable HTTP POST bodies: stdio's rules, plus what only HTTP
meets (bytes that are not UTF-8; malformed notifications, which HTTP must answer)."""

from __future__ import annotations

import mcp_types as types
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpf_mcp.transports.protocol import body_rejection

CODES = {types.PARSE_ERROR, types.INVALID_REQUEST, types.INVALID_PARAMS}


@pytest.mark.parametrize(
    ("body", "code", "request_id"),
    [
        (b"\xff\xfe{}", types.PARSE_ERROR, None),
        (b'{"jsonrpc":"2.0","id":1,"method":"\xc3"}', types.PARSE_ERROR, None),
        (b"", types.PARSE_ERROR, None),
        (b'[{"jsonrpc":"2.0","id":1,"method":"ping"}]', types.INVALID_REQUEST, None),
        (b'{"jsonrpc":"2.0","id":4,"method":7}', types.INVALID_REQUEST, 4),
        (b'{"jsonrpc":"2.0","id":6,"method":"tools/call","params":[1]}', types.INVALID_PARAMS, 6),
        (b'{"jsonrpc":"2.0","method":"notifications/x","params":[1]}', types.INVALID_REQUEST, None),
        (b'{"jsonrpc":"2.0","id":3,"error":{"code":"x"}}', types.INVALID_REQUEST, None),
    ],
)
def test_bodies_that_are_not_one_message_get_the_spec_error(
    body: bytes, code: int, request_id: int | None
) -> None:
    error = body_rejection(body)
    assert error is not None
    assert error.error.code == code and error.id == request_id
    assert error.error.message and len(error.error.message) < 300
    wire = error.model_dump(mode="json", by_alias=True, exclude_unset=True)
    assert wire["id"] == request_id and "data" not in wire["error"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"jsonrpc":"2.0","id":1,"method":"ping"}',
        '{"jsonrpc":"2.0","id":"é","method":"no/such/method"}'.encode(),
        b'{"jsonrpc":"2.0","method":"notifications/initialized"}',
        b'{"jsonrpc":"2.0","id":1,"result":{}}',
    ],
)
def test_messages_pass(body: bytes) -> None:
    assert body_rejection(body) is None


@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_body_is_passed_or_answered_with_a_json_rpc_error(body: bytes) -> None:
    error = body_rejection(body)
    assert error is None or (error.error.code in CODES and error.error.message)


def test_a_page_ends_at_its_count_or_its_bytes_and_always_progresses() -> None:
    from bpf_mcp.transports.protocol import page_end

    sizes = [10, 10, 10, 50, 10]
    assert page_end(sizes, 0, 50, 85) == 4  # 80 bytes fit, the fifth would pass 85
    assert page_end(sizes, 0, 2, 100) == 2
    assert page_end(sizes, 3, 50, 20) == 4  # one entry over budget still makes progress
    assert page_end(sizes, 5, 50, 20) == 5
    pages, start = [], 0
    while start < len(sizes):
        stop = page_end(sizes, start, 50, 30)
        pages.append(sizes[start:stop])
        start = stop
    assert [size for page in pages for size in page] == sizes
    assert all(sum(page) <= 30 or len(page) == 1 for page in pages)
