"""A class of students asking one server at the same moment: threads, each a real ``Client``
streaming an ``essay:latest`` answer that names its own question, so a damaged, cut or swapped
answer is caught token by token. Used by tests/test_classroom_load.py and benchmarks/classroom.py.
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass, field

from ollama_nb import Client, OllamaError, Retry
from ollama_nb._retry import RetryWait
from ollama_nb.testing._scenarios import essay_text

#: How students retry in a class whose queue overflows for minutes: patient and spread out. (The
#: default Retry() gives up after ~30-90 s, right for one person, short for the last of thirty.)
CLASS_RETRY = Retry(attempts=40, budget=300, first=0.5, longest=5)


@dataclass
class Answer:
    student: int
    text: str = ""
    expected: str = ""
    ttft: float | None = None  # seconds from asking to the first token (waits included)
    total: float = 0.0
    waits: list[RetryWait] = field(default_factory=list)
    error: str = ""

    @property
    def intact(self) -> bool:
        return not self.error and self.text == self.expected


@dataclass
class Lesson:
    answers: list[Answer]
    wall: float

    @property
    def retries(self) -> int:
        return sum(1 for a in self.answers for w in a.waits if w.tick == 0)

    def percentile(self, what: str, p: float) -> float:
        values = sorted(getattr(a, what) or 0.0 for a in self.answers)
        if len(values) == 1:
            return values[0]
        return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]

    def damaged(self) -> list[str]:
        """One line per answer that is not exactly its own essay."""
        out = []
        for a in self.answers:
            if not a.intact:
                got = a.error or f"{len(a.text)} chars, starts {a.text[:40]!r}"
                out.append(f"student {a.student}: {got}")
        return out


def lesson(url: str, students: int, tokens: int, *, retry: Retry = CLASS_RETRY) -> Lesson:
    """Every student asks at once (a barrier releases them together) and streams the answer."""
    answers = [Answer(i, expected=essay_text(f"student{i} question", tokens)) for i in range(students)]
    gate = threading.Barrier(students)

    def ask(answer: Answer) -> None:
        client = Client(url, retries=retry, on_retry=answer.waits.append)
        gate.wait()
        started = time.perf_counter()
        parts: list[str] = []
        try:
            stream = client.chat("essay", [{"role": "user", "content": f"student{answer.student} question"}],
                                 stream=True, options={"num_predict": tokens})
            for chunk in stream:
                piece = chunk["message"]["content"]
                if piece and answer.ttft is None:
                    answer.ttft = time.perf_counter() - started
                parts.append(piece)
            if not stream.reply.done:
                answer.error = f"ended without done ({stream.reply.status})"
        except OllamaError as err:
            answer.error = f"{type(err).__name__}: {err.message}"
        finally:
            answer.total = time.perf_counter() - started
            answer.text = "".join(parts)
            client.close()

    threads = [threading.Thread(target=ask, args=(a,), name=f"student-{a.student}") for a in answers]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Lesson(answers, time.perf_counter() - started)
