/* The page's texts from the hub's catalogs (hub/locale, docs/i18n.md): the page carries the
 * texts its scripts say, in the hall's languages (`<script type="application/json"
 * id="strings">`, written by its template). `t(key, params)` is the first language (Chinese),
 * `t2` the second (English), `both` the two; `{name}` placeholders are filled from `params`. */
import { readJson } from "./catalogue.js";

const strings = readJson("strings");
const texts = strings.texts || {};

function fill(text, params) {
  return text.replace(/\{(\w+)\}/g, (whole, name) =>
    (params && params[name] !== undefined && params[name] !== null ? String(params[name]) : whole));
}

function say(key, index, params) {
  const found = texts[key];
  if (!found) return key; // a key the page does not carry: shown as is, never a crash
  return fill(found[index] ?? found[0], params);
}

export const t = (key, params) => say(key, 0, params);
export const t2 = (key, params) => say(key, 1, params);
export const both = (key, params) => [t(key, params), t2(key, params)];
/** The two on one line: "已退出登录 / Signed out". */
export const joined = (key, params) => both(key, params).join(" / ");
/** The two with a space between: "服务中 In service". */
export const spaced = (key, params) => both(key, params).join(" ");

/** Marks a key said later (the extractor finds it here); returns it unchanged. */
export const N_ = (key) => key;
