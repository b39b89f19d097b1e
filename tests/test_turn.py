"""The turn runner, as each view uses it: every way an answer can end is recorded once, the
partial answer kept and the conversation consistent (never a pending turn, never two user
messages in a row)."""

from __future__ import annotations

import threading
from contextlib import nullcontext

import pytest

from ollama_nb import Conversation
from ollama_nb._errors import ModelNotFound, OllamaError
from ollama_nb._turn import TurnRunner


def user(text: str) -> dict:
    return {"role": "user", "content": text}


def test_an_answer_is_recorded_done(client):
    conv = Conversation()
    runner = TurnRunner(client, "llama3.2", conversation=conv, user=user("Hi"), request={"options": {"seed": 1}})
    made = runner.reply
    seen = []
    reply = runner.run(lambda r, chunk: seen.append(r is made), on_stream=lambda r: seen.append(r is made))
    # one Reply from start to end: the runner's, filled by the client, never replaced
    assert reply is made and all(seen) and len(seen) > 3
    assert runner.error is None and reply.done
    assert [t.status for t in conv.turns] == ["done"] and conv.turns[0].assistant["content"] == reply.content


def test_a_refused_request_is_kept_but_never_sent_again(client, emu):
    conv = Conversation()
    runner = TurnRunner(client, "no-such-model", conversation=conv, user=user("Hi"))
    runner.run()
    assert isinstance(runner.error, ModelNotFound) and runner.reply.status == "failed"
    assert conv.turns[0].status == "failed" and conv.turns[0].unanswered_failure
    TurnRunner(client, "llama3.2", conversation=conv, user=user("Again")).run()
    assert [m["role"] for m in emu.last_request.json["messages"]] == ["user"]


def test_a_failure_mid_stream_keeps_the_partial_answer(client):
    conv = Conversation()
    runner = TurnRunner(client, "error-midstream", conversation=conv, user=user("Hi"))
    reply = runner.run()
    assert isinstance(runner.error, OllamaError) and reply.status == "failed" and reply.content
    assert runner.error.reply is reply and reply.error is runner.error  # one Reply, one error
    turn = conv.turns[0]
    assert turn.status == "failed" and turn.assistant["content"] == reply.content and turn.error


def test_stop_from_another_thread_ends_the_stream_and_marks_it(client, emu):
    conv = Conversation()
    runner = TurnRunner(client, "slow", conversation=conv, user=user("Hi"))
    first = threading.Event()
    stopper = threading.Thread(target=lambda: first.wait(10) and runner.stop())
    stopper.start()
    reply = runner.run(lambda r, chunk: first.set())
    stopper.join()
    assert emu.wait_for_disconnect(30) and ("/api/chat", "slow") in emu.disconnects
    assert reply.status == "stopped" and not reply.done and conv.turns[0].status == "stopped"
    assert runner.error is None


def test_stop_before_the_stream_exists_still_ends_it(client):
    conv = Conversation()
    runner = TurnRunner(client, "slow", conversation=conv, user=user("Hi"))
    runner.stop("interrupted")
    reply = runner.run()
    assert reply.status == "interrupted" and conv.turns[0].status == "interrupted"


def test_an_interrupt_is_recorded_then_raised(client):
    conv = Conversation()
    runner = TurnRunner(client, "slow", conversation=conv, user=user("Hi"))

    def on_chunk(reply, chunk):
        if reply.chunks >= 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        runner.run(on_chunk)
    assert runner.reply.status == "interrupted" and conv.turns[0].status == "interrupted"
    assert conv.turns[0].assistant["content"] == runner.reply.content


def test_a_views_own_failure_ends_the_turn_as_failed(client):
    conv = Conversation()
    runner = TurnRunner(client, "slow", conversation=conv, user=user("Hi"))

    def on_chunk(reply, chunk):
        raise ValueError("a bug in a view")

    runner.run(on_chunk)
    assert "a bug in a view" in runner.error.message and conv.turns[0].status == "failed"
    assert runner.reply.status == "failed" and runner.reply.error is runner.error


def test_on_end_runs_before_the_conversation_tells_its_listeners(client):
    conv = Conversation()
    order = []
    conv.on_change(lambda c: order.append(("changed", c.turns[-1].status)))
    runner = TurnRunner(client, "llama3.2", conversation=conv, user=user("Hi"))
    runner.run(on_end=lambda r: order.append(("end", r.reply.status)))
    assert order[-2:] == [("end", "done"), ("changed", "done")]


def test_without_a_conversation_nothing_is_recorded(client, emu):
    runner = TurnRunner(client, "llama3.2", messages=[user("A"), {"role": "assistant", "content": "B"}, user("C")])
    runner.run()
    assert runner.turn is None and runner.reply.done
    assert [m["content"] for m in emu.last_request.json["messages"]] == ["A", "B", "C"]


def test_with_pace_on_chunk_is_called_only_for_chunks_once_they_are_due(client):
    class Pace:
        next_at = float("-inf")  # due at once

    pace, seen = Pace(), []

    def on_chunk(reply, chunk):
        seen.append(reply.chunks)
        if len(seen) == 3:
            pace.next_at = float("inf")  # never due again: the runner must see the new deadline

    runner = TurnRunner(client, "llama3.2", conversation=Conversation(), user=user("Hi"), request={"options": {"seed": 1}})
    reply = runner.run(on_chunk, pace=pace)
    assert seen == [1, 2, 3] and reply.done and reply.chunks > 3
    assert runner.conversation.turns[0].assistant["content"] == reply.content  # every chunk merged all the same


@pytest.mark.parametrize(
    ("leave", "status"), [("break", "stopped"), ("interrupt", "interrupted"), ("bug", "failed"), ("end", "done")]
)
def test_leaving_with_stream_decides_how_the_answer_ended(client, leave, status):
    """The Stream alone writes how a read ended, even when a Ctrl-C unwinds the loop (which drops
    the loop's iterator before the `with` block's exit sees the interrupt)."""
    stream = client.chat("slow" if leave != "end" else "llama3.2", [user("Hi")], stream=True)
    expected = pytest.raises((KeyboardInterrupt, ValueError)) if leave in ("interrupt", "bug") else nullcontext()
    with expected, stream:
        for _ in stream:
            if leave == "break":
                break
            if leave == "interrupt":
                raise KeyboardInterrupt
            if leave == "bug":
                raise ValueError("a bug in the loop")
    assert stream.reply.status == status and stream.closed
    if leave == "bug":
        assert isinstance(stream.reply.error, OllamaError) and "a bug in the loop" in stream.reply.error.message



def test_the_outcome_is_made_once_and_kept_on_the_turn(client, emu):
    """What every view renders: status, the error with its hint, stats, footer, context meter."""
    conv = Conversation()
    done = TurnRunner(client, "llama3.2", conversation=conv, user=user("Hi"), meter=True)
    done.run()
    outcome = done.outcome
    assert outcome is conv.turns[0].outcome and outcome.status == "done" and outcome.error_note() is None
    assert outcome.context is not None and outcome.footer().endswith(outcome.context.short())
    assert outcome.footer().startswith(outcome.stats_line()) and "tokens" in outcome.stats_line()
    assert conv.outcomes() == {conv.turns[0].id: outcome}

    failed = TurnRunner(client, "no-such-model", conversation=conv, user=user("Again"))
    failed.run()
    note = failed.outcome.error_note()
    assert failed.outcome.status == "failed" and not failed.outcome.answered
    assert note == {"message": failed.error.message, "hint": failed.error.hint} and note["hint"]

    stopped = TurnRunner(client, "slow", conversation=conv, user=user("Slowly"))
    stopped.run(lambda reply, chunk: stopped.stop())
    assert stopped.outcome.status == "stopped" and stopped.outcome.partial and stopped.outcome.answered
    assert stopped.outcome.warning() == "partial answer (stopped)"
    # Without the meter the runner asks the server nothing more than the chat itself.
    asked = [r.path for r in emu.requests]
    TurnRunner(client, "llama3.2", conversation=conv, user=user("Quiet")).run()
    assert [r.path for r in emu.requests][len(asked):] == ["/api/chat"]
