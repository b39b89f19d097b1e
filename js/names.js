// Model names come from the server and are untrusted: " llama3.2 " and "llama3.2" are two models,
// and HTML (and a <select>'s options) would show both the same. A view shows such a name quoted,
// on one line, with a visible mark for every character that prints as nothing, exactly as
// ollama_nb/_format.py's model_name does (tests/browser/test_models_view.py holds the two equal).
// The exact name stays in data-name / option.value: it is what every action sends.
export const VISIBLE_SPACE = "\u2423"; // ␣ OPEN BOX, the usual sign for a space
const ESCAPES = { "\t": "\\t", "\n": "\\n", "\r": "\\r", '"': '\\"', "\\": "\\\\", " ": VISIBLE_SPACE };

// Python's str.isprintable(), one code point: no control, format, surrogate, private-use,
// unassigned, line or paragraph separator, and no space but U+0020.
const printable = (ch) => ch === " " || !/[\p{C}\p{Z}]/u.test(ch);

const hex = (code, width) => code.toString(16).padStart(width, "0");

function escape(ch) {
  if (ch in ESCAPES) return ESCAPES[ch];
  if (printable(ch) && ch !== VISIBLE_SPACE) return ch;
  const code = ch.codePointAt(0);
  return code < 0x100 ? `\\x${hex(code, 2)}` : code < 0x10000 ? `\\u${hex(code, 4)}` : `\\U${hex(code, 8)}`;
}

// True when a name would not read unambiguously as it is (see ollama_nb/_format.py).
export const needsQuotes = (name) =>
  !name || ![...name].every(printable) || name.startsWith(" ") || name.startsWith('"') || name.endsWith(" ") || name.includes("  ");

export const shownName = (name) => {
  const s = String(name ?? "");
  return needsQuotes(s) ? `"${[...s].map(escape).join("")}"` : s;
};

export const QUOTED_TITLE = `The server's name, quoted: it has spaces or characters that print as nothing (${VISIBLE_SPACE} is a space, \\t a tab, \\n a new line)`;
