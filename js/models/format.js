// Sizes, times "ago" and pull progress come from the kernel as text (the `*_text` fields, made by
// ollama_nb/_format.py), so they read the same as in %ollama and the static table. Only the
// "expires in" countdown is made here, since it ticks without the kernel; it follows
// format.expires_in exactly (tests/browser/test_models_units.py holds the two equal).

/** A value as shown in a cell ("–" for nothing). */
export const text = (value) => (value === undefined || value === null || value === "" ? "–" : String(value));

/** RFC 3339 with nanoseconds (Go) -> ms since the epoch; Date.parse wants at most milliseconds. */
export const parseTime = (stamp) => {
  if (!stamp) return NaN;
  return Date.parse(String(stamp).replace(/(\.\d{3})\d+/, "$1"));
};

// format.duration of a whole number of seconds (the countdown's), Python's rounding included.
const duration = (secs) => {
  if (secs < 60) return `${secs.toFixed(1)} s`;
  const m = Math.floor(secs / 60);
  const sec = secs % 60;
  if (m < 60) return sec ? `${m} min ${sec} s` : `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
};

/** format.expires_in, counted in whole seconds (so a tick never shows a fraction). */
export const expiresIn = (stamp, now = Date.now()) => {
  const t = parseTime(stamp);
  if (Number.isNaN(t)) return "–";
  const secs = Math.floor((t - now) / 1000);
  if (secs > 10 * 365 * 86400) return "forever";
  if (secs <= 0) return "now";
  return `in ${duration(secs)}`;
};

export const count = (n) => (n ? Number(n).toLocaleString("en-US") : "–");

/** "3.2B" / "134.52M" -> a number, for sorting by parameter size. */
export const paramValue = (size) => {
  const m = /^([\d.]+)\s*([KMBT]?)/i.exec(size || "");
  if (!m) return -1;
  return parseFloat(m[1]) * ({ "": 1, K: 1e3, M: 1e6, B: 1e9, T: 1e12 }[m[2].toUpperCase()] || 1);
};
