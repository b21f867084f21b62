/* The pages' small DOM helpers: an element by id, a new element, Chinese with its English in a
 * span of its own, a select's option, and a message box shown only while it has a text. */

export const $ = (id) => document.getElementById(id);

/** A new element with a class and a text (none when `text` is undefined or null). */
export function make(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

/** English in an element of its own (`lang="en"`; a span of class "en" unless told). */
export function en(text, cls = "en", tag = "span") {
  const node = make(tag, cls, text);
  node.lang = "en";
  return node;
}

/** `node` holds Chinese, then the English (if there is any) in a span of its own. */
export function bilingual(node, zh, english) {
  node.replaceChildren(zh || "");
  if (english) node.append(" ", en(english));
  return node;
}

export function option(value, text) {
  const o = make("option", "", text);
  o.value = String(value);
  return o;
}

/** The box `id` (an error or info line) shows `text`, and hides when there is none. A page
 * without such a box has nothing to show it in. */
export function say(id, text) {
  const box = $(id);
  if (!box) return;
  box.textContent = text || "";
  box.hidden = !text;
}
