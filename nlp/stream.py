"""The `buurtbot classify` line protocol: JSON lines (or plain text lines) in, JSON lines out.

One output line per input line, in input order, each either
`{"id", "kind", "category", "urgent", "confidence"}` or `{"id", "error"}`. Input is read in
whatever chunks are available and each chunk is answered and flushed before the next read,
so a tool can also feed one line at a time and wait for its answer. Memory stays bounded:
no more than one chunk of lines and one line of at most MAX_LINE_BYTES are held.

Per line:
- `{"id": ..., "text": "..."}`: classified; `id` is echoed as given (null when absent).
- a JSON object without "text", or with a non-string "text": an error with the object's id.
- a line starting with `{` that is not valid JSON: an error, id null.
- a JSON array: an error, id null.
- a JSON string (`"hallo"`): its value is the text; id is the line number.
- any other line (plain text, also `112`, `true` or `[12:03] Jan: ...`): the line is the
  text; id is the 1-based line number.
- an empty or whitespace-only line, or a line over MAX_LINE_BYTES: an error, id null.
Bytes that are not UTF-8 are replaced (U+FFFD), never fatal.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol

from nlp.classifier import Classification, Classifier

MAX_LINE_BYTES = 1 << 20
_READ_SIZE = 1 << 16
_TOO_LONG = None  # marks a line that was dropped for its length


class _Reader(Protocol):
    def read1(self, size: int = ..., /) -> bytes: ...


@dataclass(frozen=True, slots=True)
class _Text:
    id: Any
    text: str


@dataclass(frozen=True, slots=True)
class _Error:
    id: Any
    error: str


def read_line_chunks(
    stream: _Reader, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[list[bytes | None]]:
    """Yield the complete lines available after each read; None for a line that was too long.

    A line longer than `max_line_bytes` is skipped as it streams past, never held whole.
    """
    pending = bytearray()
    dropping = False
    while True:
        chunk = stream.read1(_READ_SIZE)
        if not chunk:
            if pending or dropping:
                yield [_TOO_LONG if dropping else bytes(pending)]
            return
        lines: list[bytes | None] = []
        start = 0
        while (end := chunk.find(b"\n", start)) != -1:
            if not dropping:
                pending += chunk[start:end]
            lines.append(_TOO_LONG if dropping or len(pending) > max_line_bytes else bytes(pending))
            pending.clear()
            dropping = False
            start = end + 1
        if not dropping:
            pending += chunk[start:]
            if len(pending) > max_line_bytes:
                pending.clear()
                dropping = True
        if lines:
            yield lines


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_line(raw: bytes | None, number: int) -> _Text | _Error:
    """Turn one input line into a text to classify or an error (see the module docstring)."""
    where = f"line {number}"
    if raw is _TOO_LONG:
        return _Error(None, f"{where}: longer than {MAX_LINE_BYTES} bytes")
    line = raw.decode("utf-8", errors="replace")
    if number == 1:
        line = line.removeprefix("\ufeff")
    line = line.rstrip("\r")
    stripped = line.strip()
    if not stripped:
        return _Error(None, f"{where}: empty line")
    if stripped[0] not in '{["':
        return _Text(number, line)
    try:
        value = json.loads(stripped, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        if stripped[0] != "{":
            return _Text(number, line)  # plain text such as "[12:03] Jan: ..." or a quote
        return _Error(None, f"{where}: invalid JSON ({error})")
    if isinstance(value, str):
        return _Text(number, value)
    if not isinstance(value, dict):
        return _Error(None, f"{where}: expected a JSON object with a 'text' field")
    message_id = value.get("id")
    if "text" not in value:
        return _Error(message_id, f"{where}: missing field 'text'")
    text = value["text"]
    if not isinstance(text, str):
        return _Error(message_id, f"{where}: field 'text' must be a string, not {_json_type(text)}")
    return _Text(message_id, text)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "an array"
    return "an object"


def render(message_id: Any, result: Classification | str) -> bytes:
    """One output line: labels for a classification, or the error text."""
    record: dict[str, Any] = {"id": message_id}
    if isinstance(result, str):
        record["error"] = result
    else:
        record.update(
            kind=result.kind,
            category=result.category,
            urgent=result.urgent,
            confidence=result.confidence,
        )
    try:
        line = json.dumps(record, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        # An id with a lone surrogate (legal in JSON escapes) cannot be UTF-8: keep it escaped.
        line = json.dumps(record).encode("ascii")
    return line + b"\n"


def classify_stream(
    source: _Reader, sink: BinaryIO, classifier: Classifier, batch_size: int = 512
) -> int:
    """Answer every line of `source` on `sink`, in order; return the number of lines."""
    number = 0
    for raw_lines in read_line_chunks(source):
        for start in range(0, len(raw_lines), batch_size):
            parsed = []
            for raw in raw_lines[start : start + batch_size]:
                number += 1
                parsed.append(parse_line(raw, number))
            texts = [item.text for item in parsed if isinstance(item, _Text)]
            results = iter(classifier.classify_batch(texts))
            sink.write(
                b"".join(
                    render(item.id, next(results))
                    if isinstance(item, _Text)
                    else render(item.id, item.error)
                    for item in parsed
                )
            )
        sink.flush()
    return number
