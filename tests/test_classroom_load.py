"""Thirty students, one Ollama behind a real nginx: every answer arrives whole and is the answer to
that student's own question, and where the server's queue overflowed the students retried.

CI size: 30 students, 200 tokens each at 100 tokens/s, 4 answers at once and 8 waiting (the rest
are refused with 503 and come back). ``benchmarks/classroom.py`` runs the same lesson larger and
times it."""

from __future__ import annotations

import pytest
from classroom_load import lesson
from nginx_helpers import Nginx

from ollama_nb.testing import Emulator

STUDENTS, TOKENS = 30, 200


@pytest.fixture(scope="module")
def emu():
    with Emulator(num_parallel=4, max_queue=8, token_delay=0.01) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def proxy(emu):
    with Nginx(emu.url) as nginx:
        yield nginx


@pytest.mark.parametrize("site", ["live", "buffered"])
def test_thirty_students_through_nginx_every_answer_whole_and_their_own(emu, proxy, site):
    refused_before = emu.busy_refusals
    result = lesson(proxy.url(site), STUDENTS, TOKENS)
    assert result.damaged() == []
    assert all(a.ttft is not None for a in result.answers)
    # The queue held 8: at least the other 18 were refused at first and came back.
    refused = emu.busy_refusals - refused_before
    assert refused >= STUDENTS - 4 - 8
    assert result.retries == refused  # each refusal became one visible wait, none was lost
    assert {str(w).split(",")[0] for a in result.answers for w in a.waits} == {"server busy"}
    # Long waits count down: a wait of several seconds was reported again as it went on.
    assert any(w.tick > 0 for a in result.answers for w in a.waits)
    assert emu.peak_queue <= 8
