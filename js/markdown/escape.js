// Text made safe for the one place it goes: HTML text or attribute values, or a RegExp.

/** `s` as HTML text or a quoted attribute value. */
export const escapeHtml = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

/** `s` matched literally inside a RegExp. */
export const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
