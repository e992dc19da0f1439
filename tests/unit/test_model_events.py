"""Reading the Messages API's event stream from raw bytes (`bot.model.events`), and what the
answer keeps of each event (`message.Message`): every split of the bytes reads the same, and
anything that is not the API's stream is a `malformed_stream`, never a crash or a hang."""

from __future__ import annotations

import json

import pytest

from bot.model.events import MAX_EVENT, Event, EventReader, StreamError
from bot.model.message import Message

STREAM = (
    b"event: message_start\n"
    b'data: {"type": "message_start", "message": {"id": "m", "type": "message", '
    b'"role": "assistant", "content": [], "model": "claude", "stop_reason": null, '
    b'"stop_sequence": null, "usage": {"input_tokens": 12, "output_tokens": 1}}}\n\n'
    b": a comment, which says nothing\n\n"
    b"event: content_block_start\n"
    b'data: {"type": "content_block_start", "index": 0, '
    b'"content_block": {"type": "text", "text": ""}}\n\n'
    b'event: ping\ndata: {"type": "ping"}\n\n'
    b"event: content_block_delta\n"
    b'data: {"type": "content_block_delta", "index": 0, '
    b'"delta": {"type": "text_delta", "text": "\xe2\x82\xb91,39,990 "}}\n\n'
    b"event: content_block_delta\n"
    b'data: {"type": "content_block_delta", "index": 0, '
    b'"delta": {"type": "text_delta", "text": "in Pune."}}\n\n'
    b'event: content_block_stop\ndata: {"type": "content_block_stop", "index": 0}\n\n'
    b"event: message_delta\n"
    b'data: {"type": "message_delta", "delta": {"stop_reason": "end_turn", '
    b'"stop_sequence": null}, "usage": {"output_tokens": 7}}\n\n'
    b'event: message_stop\ndata: {"type": "message_stop"}\n\n'
)


def text_delta(index: object, text: object) -> dict[str, object]:
    delta = {"type": "text_delta", "text": text}
    return {"type": "content_block_delta", "index": index, "delta": delta}


def read(chunks: list[bytes]) -> list[Event]:
    reader = EventReader()
    events = [event for chunk in chunks for event in reader.feed(chunk)]
    reader.end()
    return events


def test_every_split_of_the_bytes_reads_the_same_events() -> None:
    whole = read([STREAM])
    assert [e.name for e in whole] == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert read([STREAM[i : i + 1] for i in range(len(STREAM))]) == whole  # byte by byte
    for cut in range(0, len(STREAM), 37):  # a ₹ split across reads included
        assert read([STREAM[:cut], STREAM[cut:]]) == whole


def test_text_holding_unicode_line_separators_is_text_not_line_ends() -> None:
    """JSON strings may carry U+2028, U+2029 and U+0085 raw (the API sends UTF-8): they are
    part of the text, not the ends of lines."""
    text = "LG\u2028OLED\u2029C4\u0085 ₹1,39,990"
    raw = f"data: {json.dumps(text_delta(0, text), ensure_ascii=False)}\n\n".encode()
    [event] = read([raw])
    assert Message().add(event.data) == text


def test_crlf_line_endings_and_multi_line_data_read_as_the_spec_says() -> None:
    crlf = b'event: ping\r\ndata: {"type":\r\ndata: "ping"}\r\n\r\n'
    assert read([crlf]) == [Event("ping", {"type": "ping"})]


def test_the_text_of_a_stream_is_what_its_deltas_say_and_the_message_validates() -> None:
    message = Message()
    texts = [message.add(event.data) for event in read([STREAM])]
    assert "".join(t for t in texts if t) == "₹1,39,990 in Pune."
    final = message.final()
    assert final is not None
    assert final.stop_reason == "end_turn" and final.usage.output_tokens == 7
    assert final.content[0].type == "text" and final.content[0].text == "₹1,39,990 in Pune."


@pytest.mark.parametrize(
    "raw",
    [
        b"data: {not json\n\n",
        b"data: [1, 2]\n\n",
        b'data: "a string"\n\n',
        b"data: \xff\xfe\n\n",
        b"data: " + b"[" * 100_000 + b"\n\n",
    ],
    ids=["not-json", "a-list", "a-string", "not-utf8", "nested-too-deep"],
)
def test_data_that_is_not_a_json_object_is_a_malformed_stream(raw: bytes) -> None:
    with pytest.raises(StreamError) as caught:
        EventReader().feed(raw)
    assert caught.value.kind == "malformed_stream"


def test_the_events_before_a_broken_one_are_read_and_the_break_comes_after_them() -> None:
    reader = EventReader()
    good = b'data: {"type": "ping"}\n\n'
    assert reader.feed(good + good + b"data: {broken\n\n" + good) == [
        Event("message", {"type": "ping"}),
        Event("message", {"type": "ping"}),
    ]
    with pytest.raises(StreamError):
        reader.feed(good)
    with pytest.raises(StreamError):
        reader.end()


def test_an_event_that_never_ends_is_refused_before_it_fills_memory() -> None:
    reader = EventReader()
    reader.feed(b"data: " + b"A" * (MAX_EVENT // 2))
    with pytest.raises(StreamError):
        reader.feed(b"A" * (MAX_EVENT // 2 + 16))


@pytest.mark.parametrize(
    "event",
    [
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": 5}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta"}},
        {"type": "content_block_delta", "index": -1, "delta": {"type": "text_delta", "text": ""}},
        {"type": "content_block_delta", "index": True, "delta": {"type": "text_delta", "text": ""}},
        {
            "type": "content_block_delta",
            "index": 10**9,
            "delta": {"type": "text_delta", "text": ""},
        },
        {"type": "content_block_delta", "index": 0, "delta": "text"},
        {"type": "content_block_start", "index": 0, "content_block": ["text"]},
        {"type": "message_start", "message": "hello"},
        {"type": "error", "error": {"type": {"nested": 1}}},
    ],
)
def test_events_with_fields_of_the_wrong_shape_are_a_malformed_stream(
    event: dict[str, object],
) -> None:
    with pytest.raises(StreamError) as caught:
        Message().add(json.loads(json.dumps(event)))
    assert caught.value.kind == "malformed_stream"


def test_an_error_event_names_its_kind() -> None:
    with pytest.raises(StreamError) as caught:
        Message().add({"type": "error", "error": {"type": "overloaded_error", "message": "x"}})
    assert caught.value.kind == "overloaded_error"


def test_a_tool_call_whose_input_is_not_json_is_a_malformed_stream() -> None:
    message = Message()
    message.add({"type": "message_start", "message": {"id": "m", "type": "message"}})
    message.add(
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "tool_use", "id": "t", "name": "search", "input": {}},
        }
    )
    message.add(
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": '{"query": '},
        }
    )
    with pytest.raises(StreamError):
        message.final()


def citation(**changes: object) -> dict[str, object]:
    cited: dict[str, object] = {
        "type": "search_result_location",
        "source": "kb:returns.md#time-limits",
        "title": "Returns and exchange policy — Time limits",
        "cited_text": "TVs: exchange only, within 10 days of delivery.",
        "search_result_index": 0,
        "start_block_index": 1,
        "end_block_index": 2,
    }
    return {**cited, **changes}


def cite(index: int, raw: object) -> dict[str, object]:
    delta = {"type": "citations_delta", "citation": raw}
    return {"type": "content_block_delta", "index": index, "delta": delta}


def started_text_block() -> Message:
    message = Message()
    start = {
        "id": "m",
        "type": "message",
        "role": "assistant",
        "model": "claude",
        "content": [],
        "usage": {"input_tokens": 9, "output_tokens": 1},
    }
    message.add({"type": "message_start", "message": start})
    message.add(
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
    )
    return message


def test_a_text_blocks_citations_are_handed_over_when_it_stops_and_kept_in_the_message() -> None:
    """Before or after its text, a block's citations come out once it stops, in order."""
    message = started_text_block()
    message.add(text_delta(0, "Exchange within 10 days"))
    message.add(cite(0, citation()))
    message.add(cite(0, citation(search_result_index=3, start_block_index=0, end_block_index=2)))
    assert message.cited() == []  # the block has not stopped: more may come
    message.add({"type": "content_block_stop", "index": 0})
    assert [c.search_result_index for c in message.cited()] == [0, 3]
    assert message.cited() == []
    message.add({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {}})
    final = message.final()
    assert final is not None and final.content[0].type == "text"
    [first, second] = final.content[0].citations or []
    assert (first.type, first.search_result_index, first.end_block_index) == (
        "search_result_location",
        0,
        2,
    )
    assert second.search_result_index == 3


def test_a_kind_of_citation_the_bot_never_asks_for_is_left_out_not_a_broken_stream() -> None:
    message = started_text_block()
    message.add(cite(0, {"type": "char_location", "document_index": 0, "cited_text": "x"}))
    message.add({"type": "content_block_stop", "index": 0})
    assert message.cited() == []


@pytest.mark.parametrize(
    "raw",
    [
        "a citation",
        citation(search_result_index="0"),
        citation(search_result_index=-1),
        citation(search_result_index=True),
        citation(search_result_index=10**9),
        citation(start_block_index=2, end_block_index=2),
        citation(source=None),
        citation(title=7),
        citation(cited_text=["x"]),
        {**citation(), "type": 5},
    ],
)
def test_citations_of_the_wrong_shape_are_a_malformed_stream(raw: object) -> None:
    message = started_text_block()
    with pytest.raises(StreamError) as caught:
        message.add(json.loads(json.dumps(cite(0, raw))))
    assert caught.value.kind == "malformed_stream"


def test_a_flood_of_citations_on_one_block_is_a_malformed_stream() -> None:
    message = started_text_block()
    with pytest.raises(StreamError):
        for _ in range(1000):
            message.add(cite(0, citation()))
