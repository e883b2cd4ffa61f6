"""The `buurtbot classify` contract: one JSON answer per input line, in order, never a crash."""

from __future__ import annotations

import json
import select
import subprocess
from collections.abc import Callable
from typing import Any

from nlp.labels import CATEGORIES, KINDS, KINDS_WITH_CATEGORY
from nlp.stream import MAX_LINE_BYTES

Classify = Callable[[bytes], list[dict[str, Any]]]
LABEL_KEYS = {"id", "kind", "category", "urgent", "confidence"}


def jsonl(*records: object) -> bytes:
    return b"".join(json.dumps(record).encode() + b"\n" for record in records)


def assert_labelled(answer: dict[str, Any]) -> None:
    assert set(answer) == LABEL_KEYS, answer
    assert answer["kind"] in KINDS
    if answer["kind"] in KINDS_WITH_CATEGORY:
        assert answer["category"] in CATEGORIES
    else:
        assert answer["category"] is None
    assert isinstance(answer["urgent"], bool)
    assert 0.0 <= answer["confidence"] <= 1.0


def assert_error(answer: dict[str, Any], message_id: object, mentions: str) -> None:
    assert set(answer) == {"id", "error"}, answer
    assert answer["id"] == message_id
    assert mentions in answer["error"]


def test_json_lines_come_back_labelled_in_input_order(classify_lines: Classify) -> None:
    texts = [
        "Er loopt een man aan alle autodeuren te trekken in de Vinkenlaan",
        "Goedemorgen buren!",
        "Zaterdag om 10 uur schouw met de wijkagent, verzamelen bij het buurthuis",
    ]
    records = [{"id": f"m{i}", "text": texts[i % len(texts)]} for i in range(60)]
    answers = classify_lines(jsonl(*records))
    assert [a["id"] for a in answers] == [r["id"] for r in records]
    for answer in answers:
        assert_labelled(answer)


def test_ids_of_any_json_type_are_echoed_unchanged(classify_lines: Classify) -> None:
    ids: list[Any] = [7, "abc", None, 1.5, {"chat": 3, "msg": 9}, [1, 2], True]
    answers = classify_lines(jsonl(*({"id": i, "text": "hallo"} for i in ids)))
    assert [a["id"] for a in answers] == ids


def test_object_without_id_gets_null_id(classify_lines: Classify) -> None:
    [answer] = classify_lines(jsonl({"text": "Fiets gestolen bij het station"}))
    assert_labelled(answer)
    assert answer["id"] is None


def test_plain_text_lines_get_their_line_number_as_id(classify_lines: Classify) -> None:
    stdin = (
        b"Goedemiddag allemaal\n"
        b'{"id": "a", "text": "Lantaarnpaal bij de speeltuin is kapot"}\n'
        b"[21:14] Piet: er staat een busje met draaiende motor voor nr 8\n"
    )
    answers = classify_lines(stdin)
    assert [a["id"] for a in answers] == [1, "a", 3]
    for answer in answers:
        assert_labelled(answer)


def test_json_string_and_number_lines_are_texts(classify_lines: Classify) -> None:
    answers = classify_lines(b'"Iemand gezien bij de schuur?"\n112\ntrue\nnull\n')
    assert [a["id"] for a in answers] == [1, 2, 3, 4]
    for answer in answers:
        assert_labelled(answer)


def test_empty_and_blank_lines_give_an_error_each(classify_lines: Classify) -> None:
    answers = classify_lines(b"\n   \t \r\nhallo\n")
    assert_error(answers[0], None, "line 1: empty line")
    assert_error(answers[1], None, "line 2: empty line")
    assert_labelled(answers[2])


def test_invalid_json_gives_an_error_with_null_id(classify_lines: Classify) -> None:
    answers = classify_lines(b'{"id": 1, "text": "kapotte\n{not json}\n{"text": NaN}\nok\n')
    assert_error(answers[0], None, "line 1: invalid JSON")
    assert_error(answers[1], None, "line 2: invalid JSON")
    assert_error(answers[2], None, "line 3: invalid JSON")
    assert answers[3]["id"] == 4


def test_json_array_line_is_an_error(classify_lines: Classify) -> None:
    [answer] = classify_lines(b'["een", "array"]\n')
    assert_error(answer, None, "expected a JSON object")


def test_object_without_text_reports_it_with_its_id(classify_lines: Classify) -> None:
    [answer] = classify_lines(jsonl({"id": 42, "tekst": "verkeerde sleutel"}))
    assert_error(answer, 42, "missing field 'text'")


def test_text_that_is_not_a_string_is_an_error(classify_lines: Classify) -> None:
    values: list[Any] = [5, None, ["a"], {"t": "x"}, False]
    answers = classify_lines(jsonl(*({"id": i, "text": v} for i, v in enumerate(values))))
    for i, answer in enumerate(answers):
        assert_error(answer, i, "field 'text' must be a string")


def test_huge_text_is_labelled(classify_lines: Classify) -> None:
    text = "Er wordt ingebroken bij de buren! " * 20_000
    answers = classify_lines(jsonl({"id": "big", "text": text}, {"id": "next", "text": "hoi"}))
    assert [a["id"] for a in answers] == ["big", "next"]
    assert_labelled(answers[0])


def test_line_over_the_limit_is_an_error_and_the_next_line_still_works(
    classify_lines: Classify,
) -> None:
    stdin = b"x" * (2 * MAX_LINE_BYTES) + b"\nnog een bericht\n"
    answers = classify_lines(stdin)
    assert_error(answers[0], None, "line 1: longer than")
    assert answers[1]["id"] == 2
    assert_labelled(answers[1])


def test_odd_unicode_and_other_scripts_are_labelled(classify_lines: Classify) -> None:
    texts = [
        "شخص مشبوه أمام المنزل",
        "可疑的人在房子前面",
        "Подозрительный человек у дома",
        "🚨🚨🚨",
        "👨\u200d👩\u200d👧 \u202edraai om\u202c",
        "con\x00trol\x1bchars\x07",
        "Ｆｕｌｌｗｉｄｔｈ ｔｅｘｔ １２３",
        "\ud800 lone surrogate",
        "\U0010ffff\ufffe",
    ]
    answers = classify_lines(jsonl(*({"id": i, "text": t} for i, t in enumerate(texts))))
    assert [a["id"] for a in answers] == list(range(len(texts)))
    for answer in answers:
        assert_labelled(answer)


def test_bad_bytes_bom_and_crlf_do_not_break_the_stream(classify_lines: Classify) -> None:
    stdin = (
        b"\xef\xbb\xbfeerste regel\r\n\xff\xfe kapotte bytes \xc3\r\n" + b'{"id": 3, "text": "x"}'
    )
    answers = classify_lines(stdin)
    assert [a["id"] for a in answers] == [1, 2, 3]
    for answer in answers:
        assert_labelled(answer)


def test_each_line_is_answered_before_input_ends(buurtbot_command: list[str]) -> None:
    """A tool may send one line and wait for its answer: the command must not wait for EOF."""
    with subprocess.Popen(
        [*buurtbot_command, "classify"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    ) as process:
        assert process.stdin is not None and process.stdout is not None
        try:
            for number in (1, 2):
                process.stdin.write(b"Er brandt een auto op het parkeerterrein\n")
                process.stdin.flush()
                ready, _, _ = select.select([process.stdout], [], [], 60)
                assert ready, "no answer while stdin is still open"
                assert json.loads(process.stdout.readline())["id"] == number
            process.stdin.close()
            assert process.wait(timeout=60) == 0
        finally:
            process.kill()


def test_hundred_thousand_lines_stream_through_in_order(classify_lines: Classify) -> None:
    texts = ["Verdachte auto rijdt rondjes", "Top, bedankt!", "Wie heeft er een ladder?"]
    stdin = b"".join(
        json.dumps({"id": i, "text": texts[i % 3]}).encode() + b"\n" for i in range(100_000)
    )
    answers = classify_lines(stdin)
    assert len(answers) == 100_000
    assert all(answer["id"] == i for i, answer in enumerate(answers))
