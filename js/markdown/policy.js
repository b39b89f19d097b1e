// The allowlist the kernel's nh3 uses too (ollama_nb/_render/policy.json), read for the widgets:
// which tags keep which attributes, and which link targets and pictures may stay.
import policy from "../../ollama_nb/_render/policy.json";
import { escapeRe } from "./escape.js";

export { policy };
export const TAG_ATTRS = policy.tags; // tag -> the attributes it may keep
export const CLASS_NAME = new RegExp(policy.class_pattern);
export const ALIGN = new Set(policy.align_values);
export const SCHEMES = policy.url_schemes.map(escapeRe).join("|");
// What a browser drops from a URL before it reads the scheme ("java\tscript:" is javascript:).
const URL_NOISE = /[\u0000-\u0020\u007f]+/g;
const LINK = new RegExp(`^(?:${SCHEMES}):`, "i");
const INLINE_IMAGE = new RegExp(`^data:(?:${policy.image_data_types.map(escapeRe).join("|")});base64,[a-z0-9+/=\\s]*$`, "i");

/** True when a link may keep this target: an absolute http(s)/mailto URL (the kernel's rule). */
export const linkOk = (href) => LINK.test(String(href).replace(URL_NOISE, ""));
/** True for an inline data:image/(png|jpeg|gif|webp) picture: the only image that may show. */
export const inlineImage = (src) => INLINE_IMAGE.test(String(src).trim());
