"""What the ordinary demo models say: a known topic, a computed answer, or an honest "I'm the emulator".

``reply(voice, ...)`` returns the thinking (whole sentences) and the answer for one chat turn:

- a **voice** per model family: ``short`` (llama3.2), ``medium`` (qwen3), ``long`` (gpt-oss);
- **computed** answers where a model would reason: "is 91 prime?", "what is 2+2?", "what did I ask
  you?", a robot invented per seed;
- the **instructions** in the system prompt and the question are followed, not announced: "answer in
  one sentence" gives one sentence, "three bullet points" three bullets, "for 10-year-olds" the simple
  version, "keep answers short" a short one, a pirate system prompt a pirate answer;
- anything else gets a short, honest reply that says it comes from the built-in emulator.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field
from typing import Any

from .._prompt import Prompt
from .topics import Topics

_NUMBER_WORDS = {"one": 1, "a single": 1, "a": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}
_COUNT = r"(\d+|one|a single|two|three|four|five|six|seven)"
_SENTENCES = re.compile(rf"\b{_COUNT}\s+(?:short\s+|simple\s+|clear\s+)?sentences?\b")
_BULLETS = re.compile(rf"\b{_COUNT}\s+(?:short\s+)?(?:bullet(?:\s+points?)?|bullets|points)\b")
_KID = re.compile(r"\b(?:\d+|ten|eight|nine|five|six|seven)[- ]year[- ]olds?\b|\bchild(?:ren)?\b|\bkids?\b")
_SHORT = re.compile(
    r"\b(?:keep (?:answers|it|your answers|replies) (?:short|brief)|be (?:brief|terse|concise)|"
    r"short answers?|terse|concise|briefly)\b"
)
_PIRATE = re.compile(r"\bpirates?\b")
_UPPER = re.compile(r"\b(?:all caps|capital letters|uppercase|upper case|shout)\b")
_MEMORY = re.compile(
    r"what did i (?:just )?(?:ask|say|write)|what was my (?:last |previous |first )?question|"
    r"previous question|\bearlier\b|(?:asked|said) (?:you )?(?:just )?before"
)
_PRIME = re.compile(r"\bis\s+(-?\d+)\s+(?:a\s+)?prime\b|\bis\s+(-?\d+)\s+prime\b")
# Numbers that stand alone: a path or a name holding digits (`/tmp/ipykernel_21760/2149114137.py`
# in a traceback) is not a sum to work out.
_ARITH = re.compile(
    r"(?<![\w/])(-?\d+(?:\.\d+)?)\s*(\+|plus|-|minus|\*|×|x|times|multiplied by|/|÷|divided by)\s*"
    r"(-?\d+(?:\.\d+)?)(?![\w/]|\.\w)"
)
_SENTIMENT = re.compile(r"\bpositive or negative\b")
_GOOD = re.compile(r"\b(?:lov\w*|great|good|fine|excellent|enjoy\w*|liked?|wonderful|best|happy)\b")
_BAD = re.compile(r"\b(?:never|bad|boring|hate\w*|awful|worst|terrible|poor|disappoint\w*|broke\w*)\b")
_ADD = re.compile(r"\badd\s+(-?\d+(?:\.\d+)?)\s+(?:and|to)\s+(-?\d+(?:\.\d+)?)")
_CITY = re.compile(r"\b(?:in|for|at)\s+((?:[A-Z][\w'-]*)(?:\s+[A-Z][\w'-]*)*)")

VOICES = ("short", "medium", "long")


@dataclass
class Draft:
    """One answer in the three voices, plus the reasoning a thinking model shows."""

    short: str
    medium: str
    long: str
    think: list[str]
    kid: str = ""
    check: list[str] = field(default_factory=list)  # extra reasoning at think="high"/"max"
    kid_medium: str = ""
    kid_long: str = ""
    honest: bool = False  # the emulator's own "I can't answer": not reshaped into bullets or sentences

    def for_kids(self, voice: str) -> str:
        return {"medium": self.kid_medium, "long": self.kid_long}.get(voice, "") or self.kid

    def text(self, voice: str) -> str:
        return str(getattr(self, voice))


@dataclass
class Style:
    """The instructions found in the system prompt and the question."""

    sentences: int | None = None
    bullets: int | None = None
    kid: bool = False
    short: bool = False
    pirate: bool = False
    upper: bool = False


def style_of(system: str, question: str) -> Style:
    both = (system + "\n" + question).lower()
    style = Style()
    found = _BULLETS.search(both)
    if found:
        style.bullets = _count(found.group(1))
    elif re.search(r"\bbullet(?:s| points?)\b", both):
        style.bullets = 3
    found = _SENTENCES.search(both)
    if found and style.bullets is None:
        style.sentences = _count(found.group(1))
    style.kid = bool(_KID.search(both))
    style.short = bool(_SHORT.search(both))
    style.pirate = bool(_PIRATE.search(system.lower())) or "like a pirate" in question.lower()
    style.upper = bool(_UPPER.search(system.lower()))
    return style


def _count(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBER_WORDS.get(word, 1)


# --------------------------------------------------------------------------- the reply


def reply(known: Topics, voice: str, prompt: Prompt, rng: random.Random) -> tuple[str, str]:
    """(thinking, content) of a model speaking in ``voice`` to the last user message."""
    users = [str(m.get("content") or "") for m in prompt.messages if m.get("role") == "user"]
    question = users[-1] if users else ""
    draft = compose(known, question, prompt.messages, users, rng)
    style = style_of(prompt.system, question)
    content = restyle(draft, voice, style)
    thinking = " ".join(thoughts(draft, voice, prompt.think, question)) if prompt.think else ""
    return thinking, content


def compose(
    known: Topics, question: str, messages: list[dict[str, Any]], users: list[str], rng: random.Random
) -> Draft:
    low = question.lower()
    if _MEMORY.search(low):
        return memory(messages, users)
    found = _PRIME.search(low)
    if found:
        return prime(int(found.group(1) or found.group(2)))
    found = _ADD.search(low)
    if found:
        return arithmetic(found.group(1), "+", found.group(2))
    found = _ARITH.search(low)
    if found and not re.search(r"\d[-/]\d+[-/]\d", low):  # not a date like 2024-01-02
        return arithmetic(found.group(1), found.group(2), found.group(3))
    if known.robots and re.search(known.robot_pattern, low):
        return robot(known.robots, rng)
    if _SENTIMENT.search(low):
        return sentiment(low)
    if re.search(r"\bdescribe my (?:pet|cat|dog)\b", low):
        return pet(question)
    topic = known.find(question)
    if topic is not None:
        city = _CITY.search(question)
        where = " in " + city.group(1) if city else ""
        return Draft(
            topic.short.replace("{where}", where),
            topic.medium.replace("{where}", where),
            topic.long.replace("{where}", where),
            list(topic.think),
            topic.kid,
            kid_medium=topic.kid_medium,
            kid_long=topic.kid_long,
        )
    return unknown(question)


def restyle(draft: Draft, voice: str, style: Style) -> str:
    """The draft in this voice, reshaped by the instructions."""
    if draft.honest:
        text = draft.text(voice)
    elif style.kid and draft.kid:
        text = draft.for_kids(voice)
    elif style.short or style.kid:
        text = draft.short
    else:
        text = draft.text(voice)
    if draft.honest:  # the emulator speaking for itself: never cut into bullets or sentences
        pass
    elif style.bullets:
        text = "\n".join("- " + s for s in sentences(text)[: style.bullets])
    elif style.sentences:
        text = " ".join(sentences(text)[: style.sentences])
    elif style.short and len(sentences(text)) > 2:
        text = " ".join(sentences(text)[:2])
    if style.pirate:
        text = pirate(text, closing=not (style.sentences or style.bullets))
    if style.upper:
        text = text.upper()
    return text


def thoughts(draft: Draft, voice: str, level: str | None, question: str) -> list[str]:
    """Whole sentences of reasoning; more of them at a higher level."""
    steps = list(draft.think)
    if voice == "long" and steps:
        steps[0] = f'The question is: "{_shorten(question, 120)}"' if question else steps[0]
    check = draft.check or ["Let me check that once more before I answer.", "Yes, that is right, so I can answer now."]
    if level == "low":
        return steps[:2]
    if level in ("high", "max"):
        return steps + check
    return steps


# --------------------------------------------------------------------------- restyling


def prose(text: str) -> str:
    """Markdown reduced to plain sentences: code, tables and headings dropped, list items kept."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("|", "#")):
            continue
        line = re.sub(r"^(?:\d+\.|[-*+])\s+", "", line)
        if re.fullmatch(r"\*\*[^*]+\*\*:?", line) or line.endswith(":"):
            continue
        line = re.sub(r"\*\*|`", "", line)
        line = re.sub(r"(?<!\w)\*(?=\S)([^*]+)(?<=\S)\*", r"\1", line)
        if line[-1] not in '.!?…"':
            line += "."
        out.append(line)
    return " ".join(out)


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?…])\s+(?=[A-Z0-9\"“(])", prose(text)) if s]


_PIRATE_WORDS = {
    "you": "ye",
    "your": "yer",
    "yours": "yers",
    "you're": "ye be",
    "my": "me",
    "is": "be",
    "are": "be",
    "yes": "aye",
    "hello": "ahoy",
    "hi": "ahoy",
    "friend": "matey",
    "friends": "hearties",
    "money": "doubloons",
    "stop": "avast",
    "there": "thar",
}


def pirate(text: str, *, closing: bool) -> str:
    """Pirate speech, leaving quoted text and code alone."""
    parts = re.split(r'("[^"\n]*"|`[^`\n]*`|```.*?```)', text, flags=re.S)
    for i in range(0, len(parts), 2):
        parts[i] = re.sub(r"\b[A-Za-z']+\b", _pirate_word, parts[i])
    text = "".join(parts)
    if re.match(r"[A-Za-z]", text) and not re.match(r"I\b", text):
        text = "Arr, matey, " + text[0].lower() + text[1:]
    elif re.match(r"[A-Za-z\"]", text):
        text = "Arr, matey, " + text
    else:
        text = "Arr, matey!\n\n" + text
    return text.rstrip() + (" Arr!" if closing else "")


def _pirate_word(match: re.Match[str]) -> str:
    word = match.group()
    swapped = _PIRATE_WORDS.get(word.lower())
    if swapped is None:
        return word
    return swapped.capitalize() if word[0].isupper() else swapped


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _quote(text: str, *, end: bool = True) -> str:
    """A quoted message; ``end``: followed by a full stop unless it ends with its own punctuation."""
    q = _shorten(text, 160) or "…"
    return f'"{q}"' if q[-1] in ".!?…" or not end else f'"{q}".'


# --------------------------------------------------------------------------- computed answers


def memory(messages: list[dict[str, Any]], users: list[str]) -> Draft:
    if len(users) < 2:
        return Draft(
            "You haven't asked me anything before this: it is the first message in our conversation.",
            "This is the first message of our conversation, so there is no earlier question to repeat. A model "
            "only sees the messages that are sent with the request.",
            "There is no earlier question: this message is the first one I have received in this conversation. "
            "A model only sees the messages included in the request, so if you asked something in another "
            "request, I have no record of it.",
            [
                "The user asks what they asked me before.",
                "There is only one user message in this conversation, and it is this one.",
                "So there is nothing earlier to quote, and I should say so honestly.",
            ],
        )
    previous = users[-2]
    answered = ""
    seen = 0
    for message in messages:
        if message.get("role") == "user":
            seen += 1
        elif message.get("role") == "assistant" and seen == len(users) - 1 and message.get("content"):
            answered = sentences(str(message["content"]))[:1][0] if sentences(str(message["content"])) else ""
            break
    quoted = _quote(previous)
    long = f"Your previous question was {quoted}"
    if answered:
        long += f" I answered: {_quote(answered)}"
    long += " Would you like me to go into it further?"
    return Draft(
        f"You asked me: {quoted}",
        f"Just before this, you asked: {quoted}",
        long,
        [
            "The user wants to know what they asked before this message.",
            f"Looking back through the conversation, their previous message was {quoted}",
            "I should quote it exactly.",
        ],
    )


def _smallest_factor(n: int) -> int:
    for d in range(2, math.isqrt(n) + 1):
        if n % d == 0:
            return d
    return n


def _primes_below(limit: int) -> list[int]:
    return [p for p in range(2, limit) if _smallest_factor(p) == p]


def _factorisation(n: int) -> str:
    parts = []
    while n > 1:
        p = _smallest_factor(n)
        parts.append(str(p))
        n //= p
    return " × ".join(parts)


def prime(n: int) -> Draft:
    """Is ``n`` prime: the reasoning of a trial division, then the answer in three voices."""
    if n == 1:
        return _one_is_not_prime()
    if n < 2:
        return _below_two(n)
    p = _smallest_factor(n)
    tried = _primes_below(p if p < n else math.isqrt(n) + 1)
    think = _trial_division(n, tried)
    if p == n:
        return _is_prime(n, tried, think)
    return _composite(n, p, tried, think)


def _one_is_not_prime() -> Draft:
    return Draft(
        "No, 1 is not a prime number. A prime number needs exactly two different divisors, 1 and itself, and 1 "
        "has only one. That is why the list of primes starts at 2.",
        "No. **1 is not prime.** A prime has exactly two distinct positive divisors, and 1 has only one (itself). "
        "Mathematicians leave it out on purpose: if 1 were prime, a factorisation like 6 = 2 × 3 would no "
        "longer be unique, because you could add as many factors of 1 as you like.",
        "No, **1 is not a prime number**.\n\n"
        "A prime is a natural number with exactly two distinct positive divisors: 1 and itself. The number 1 "
        "has only one divisor, so it does not qualify. It is not composite either: 1 is called a *unit*.\n\n"
        "Excluding 1 is what makes the fundamental theorem of arithmetic work. Every whole number above 1 has "
        "exactly one prime factorisation, such as 12 = 2 × 2 × 3, which would fail if 1 counted as a prime.",
        [
            "The user asks whether 1 is a prime number.",
            "By definition, a prime has exactly two distinct positive divisors.",
            "The number 1 has only one divisor, itself, so it is not prime.",
            "It is worth saying why: leaving 1 out keeps prime factorisations unique.",
        ],
        kid="No, 1 is not a prime number. A prime can be divided evenly by exactly two numbers, 1 and itself, "
        "but 1 can only be divided by 1.",
    )


def _below_two(n: int) -> Draft:
    text = f"No, {n} is not a prime number: prime numbers are whole numbers greater than 1."
    return Draft(
        text,
        text,
        text + " The smallest prime is 2.",
        [
            f"The user asks whether {n} is prime.",
            "Primes are defined only for whole numbers above 1.",
            f"So {n} is not prime.",
        ],
    )


def _trial_division(n: int, tried: list[int]) -> list[str]:
    root = math.sqrt(n)
    think = (
        [
            f"Okay, the user wants to know whether {n} is prime.",
            f"A prime has exactly two divisors, 1 and itself, so I need to look for a divisor between 2 and the "
            f"square root of {n}, which is about {root:.1f}.",
        ]
        if n > 3
        else [f"The user asks whether {n} is prime.", f"{n} has no divisors other than 1 and itself."]
    )
    for d in tried[:6]:
        think.append(_not_divisible(n, d))
    if len(tried) > 6:
        think.append(f"I keep going through the primes up to {tried[-1]}, and none of them divides {n} evenly.")
    return think


def _is_prime(n: int, tried: list[int], think: list[str]) -> Draft:
    root = math.sqrt(n)
    think.append(f"No prime up to the square root divides {n}, so it is prime." if n > 3 else f"So {n} is prime.")
    short = (
        f"Yes, {n} is a prime number. No whole number other than 1 and {n} divides it evenly."
        if n != 2
        else "Yes, 2 is a prime number, and it is the only even one."
    )
    medium = (
        f"Yes, **{n} is prime**. Its only divisors are 1 and {n}: I checked every prime up to √{n} ≈ "
        f"{root:.1f}, and none of them divides it."
    )
    long = (
        f"Yes, **{n} is a prime number**.\n\nTo check, it is enough to try the primes up to √{n} ≈ "
        f"{root:.1f}"
        + (f" ({', '.join(map(str, tried))})" if tried else "")
        + f". None of them divides {n} evenly, so its only divisors are 1 and {n}."
    )
    return Draft(short, medium, long, think)


def _composite(n: int, p: int, tried: list[int], think: list[str]) -> Draft:
    q = n // p
    think.append(_divisible(n, p, q))
    think.append(f"So {n} has the divisors {p} and {q} besides 1 and itself, which means it is not prime.")
    short = f"No, {n} is not a prime number. It can be divided evenly by {p} and {q}, because {p} × {q} = {n}."
    medium = f"No. **{n} = {p} × {q}**, so it has divisors other than 1 and itself."
    if n % 2 and p > 5:
        medium += (
            f"\n\nIt is easy to mistake for a prime, because it is odd and not divisible by 3 or 5, but "
            f"dividing by {p} works: {n} ÷ {p} = {q}."
        )
    rows = "".join(f"| {d} | {n / d:.2f} | no |\n" for d in tried[:6]) + f"| {p} | {q} | **yes** |\n"
    long = (
        f"No, **{n} is not prime**.\n\n| Divisor | {n} ÷ divisor | Whole number? |\n|---|---|---|\n{rows}\n"
        f"Because {p} × {q} = {n}, it is a *composite* number. Its prime factorisation is {_factorisation(n)}."
    )
    return Draft(short, medium, long, think)


def _not_divisible(n: int, d: int) -> str:
    if d == 2:
        return f"{n} is odd, so 2 does not divide it."
    if d == 3:
        return f"Its digits add up to {sum(map(int, str(n)))}, which is not a multiple of 3, so 3 does not divide it."
    if d == 5:
        return "It does not end in 0 or 5, so 5 does not divide it either."
    return f"{n} ÷ {d} is about {n / d:.2f}, not a whole number, so {d} does not divide it."


def _divisible(n: int, p: int, q: int) -> str:
    if p == 2:
        return f"{n} is even, so 2 divides it: {n} = 2 × {q}."
    if p == 3:
        return f"Its digits add up to {sum(map(int, str(n)))}, a multiple of 3, so 3 divides it: {n} = 3 × {q}."
    if p == 5:
        return f"It ends in {str(n)[-1]}, so 5 divides it: {n} = 5 × {q}."
    return f"Now {p}: {p} times {q} is {n}, so {p} divides it."


_OPS = {
    "+": "+",
    "plus": "+",
    "-": "-",
    "minus": "-",
    "*": "×",
    "×": "×",
    "x": "×",
    "times": "×",
    "multiplied by": "×",
    "/": "÷",
    "÷": "÷",
    "divided by": "÷",
}
_VERBS = {"+": "Adding", "-": "Subtracting", "×": "Multiplying", "÷": "Dividing"}


def arithmetic(left: str, op_word: str, right: str) -> Draft:
    op = _OPS[op_word]
    a, b = float(left), float(right)
    if op == "÷" and b == 0:
        text = f"{left} ÷ 0 has no answer: dividing by zero is undefined."
        return Draft(
            text,
            text,
            text + " No number times 0 gives " + left + ".",
            [f"The user asks for {left} divided by 0.", "Division by zero is undefined."],
        )
    value = {"+": a + b, "-": a - b, "×": a * b, "÷": a / b if b else 0.0}[op]
    result = str(int(value)) if float(value).is_integer() else f"{value:.6g}"
    sum_text = f"{left} {op} {right}"
    pair = f"{right} from {left}" if op == "-" else f"{left} by {right}" if op in "×÷" else f"{left} and {right}"
    return Draft(
        f"{sum_text} = {result}.",
        f"{sum_text} = **{result}**",
        f"{sum_text} equals **{result}**.",
        [f"The user asks for {sum_text}.", f"{_VERBS[op]} {pair} gives {result}.", "That is the whole answer."],
    )


def robot(robots: tuple[str, ...], rng: random.Random) -> Draft:
    pick = rng.randrange(len(robots))
    names = [robots[(pick + offset) % len(robots)] for offset in (0, 2, 4)]
    return Draft(
        names[0],
        names[1],
        names[2] + "\n\nWant me to give it a backstory, or design a friend for it?",
        [
            "The user wants a name for a friendly robot and a one-sentence description.",
            "A short, cheerful name works best, and the description should show what makes it friendly.",
            "One concrete habit makes the robot easy to picture.",
        ],
    )


def sentiment(question: str) -> Draft:
    """README's `map` example labels reviews: the words after the question decide, one word back."""
    text = _SENTIMENT.split(question, 1)[1]
    label = "Negative" if len(_BAD.findall(text)) > len(_GOOD.findall(text)) else "Positive"
    think = ["I am asked for one word about the text after the question.", f"Its wording reads {label.lower()}."]
    return Draft(label, f"{label}.", label, think, honest=True)


def pet(question: str) -> Draft:
    """A pet described from the facts in the question (quoted name and species, the age)."""
    quoted = re.findall(r'"([^"]+)"', question)
    age = re.search(r"\b(\d+)\s+years?\s+old", question)
    name = quoted[0] if quoted else "Your pet"
    species = quoted[1] if len(quoted) > 1 else "pet"
    years = f"{age.group(1)}-year-old " if age else ""
    her = "Her" if re.search(r"\b(?:her|she)\b", question.lower()) else "His"
    return Draft(
        f"{name} is a {years}{species}.",
        f"**{name}** is a {years}{species}. {her} name, species and age are all the facts you gave me.",
        f"{name} is a {years}{species}. If you tell me more, such as colour, size or favourite toy, I can write a "
        f"fuller description.",
        [
            f"The user describes their pet: the name is {name} and it is a {species}.",
            f"The age is {age.group(1)} years." if age else "No age is given.",
            "I will describe the pet with exactly those facts.",
        ],
    )


def unknown(question: str) -> Draft:
    quoted = _quote(question) if question.strip() else "your message."
    return Draft(
        f"This reply comes from the built-in Ollama emulator, not a real model, so I have no real answer to "
        f"{quoted} Start Ollama and pull a model to get one.",
        f"I'm the built-in Ollama emulator: there is no language model behind me, so I can't really answer "
        f"{quoted} Install Ollama, pull a model (for example `ollama pull qwen3`) and run the notebook again to "
        f"get a real answer.",
        f"This is the built-in Ollama emulator speaking, not a real model. It knows only the questions the "
        f'teaching notebooks ask, such as "Why is the sky blue?" or "Is 91 a prime number?", and '
        f"{_quote(question, end=False) if question.strip() else 'yours'} is not one of them. "
        "To get a real answer, start Ollama, pull a model (for example `ollama pull "
        f"gpt-oss:20b`) and run `./dev lab` again.",
        [
            f"The user asks: {quoted}",
            "I am the built-in emulator, not a real language model, and this is not one of the questions I know.",
            "The honest reply is to say so and explain how to get a real answer.",
        ],
        honest=True,
    )
