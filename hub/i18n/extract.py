"""Babel extractors for the message keys the code uses, and the parameters each use passes.

`pybabel extract -F babel.cfg` runs these (see babel.cfg); tests/test_i18n.py runs them too. Each
key found is yielded with an extracted comment `params: a, b` naming the placeholders its caller
passes (`-` for none), so the template says which `{name}` a translation may use. Keys are the
first string argument of the calls below, or the second of a refusal of any class
(`Refusal("code", "error.key", **params)`);
only a literal that looks like a key counts (a dotted lower-case name).

- Python: `t(key, **p)`, `each`, `joined`, `t_in(lang, key)`, `Msg(key, **p)`, the refusals
  (`DomainError("code", key, **p)` and its subclasses), and `N_(key, "a", "b")` for a key
  said later with parameters a and b; read with the `ast` module.
- JavaScript: `t(key, {a, b: x})`, `t2(...)`, `both`, `joined`, `spaced` and `N_(key)`.
- Jinja templates: `t(key, a=x)`, `t2(...)`, `both(...)`, read with Jinja's own parser.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import IO, Any

KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")

# callee name -> which positional argument (1-based) holds the key
PYTHON_CALLS = {
    "t": 1, "each": 1, "joined": 1, "N_": 1, "Msg": 1, "t_in": 2,
    "DomainError": 2, "Invalid": 2, "NotFound": 2, "Forbidden": 2, "Unauthorized": 2,
    "ConfigRefused": 2, "Refusal": 2, "Listed": 2,
}
PAGE_CALLS = ("t", "t2", "both", "joined", "spaced", "N_")

Found = tuple[int, str, str, list[str]]  # Babel's (lineno, funcname, message, comments)
# The function name is left empty: Babel then takes the message as it is, whatever the call.


def _comment(params: list[str] | None) -> list[str]:
    if params is None:
        return ["params: *"]  # passed as **mapping: not known here
    return [f"params: {', '.join(sorted(set(params))) or '-'}"]


def _callee(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _refusal(node: ast.Call) -> bool:
    """A refusal of any class: `X("code", "error.key", **params)`."""
    if len(node.args) < 2:
        return False
    code, key = node.args[:2]
    return (isinstance(code, ast.Constant) and isinstance(code.value, str)
            and isinstance(key, ast.Constant) and isinstance(key.value, str)
            and key.value.startswith("error."))


def extract_python(fileobj: IO[bytes], keywords: Any, comment_tags: Any,
                   options: dict[str, Any]) -> Iterator[Found]:
    tree = ast.parse(fileobj.read())
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _callee(node)
        at = PYTHON_CALLS.get(name or "") or (2 if _refusal(node) else None)
        if at is None or len(node.args) < at:
            continue
        arg = node.args[at - 1]
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                and KEY.match(arg.value)):
            continue
        splat = any(k.arg is None for k in node.keywords)
        params = None if splat else [k.arg for k in node.keywords if k.arg]
        if name == "N_":  # N_(key, "a", "b"): a key said later with parameters a and b
            params = [a.value for a in node.args[1:]
                      if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        yield node.lineno, "", arg.value, _comment(params)


# Not a method (`x.t(`), but a spread is a call (`...both(`).
_JS_CALL = re.compile(r"""(?<![\w$])(?<![\w$]\.)(t|t2|both|joined|spaced|N_)\(\s*(["'])"""
                      r"""([a-z][a-z0-9_.]*)\2\s*(,\s*(\{)?)?""")


def _object_keys(text: str, start: int) -> list[str]:
    """The property names of the object literal whose `{` is at text[start - 1]: `{ a, b: f(x, y) }`
    gives a, b (nested brackets and strings are skipped)."""
    names: list[str] = []
    depth, i, part = 0, start, ""
    while i < len(text):
        c = text[i]
        if c in "\"'`":
            end = text.index(c, i + 1)
            part += text[i:end + 1] if depth else "_"
            i = end + 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                names.append(part)
                break
            depth -= 1
        elif c == "," and depth == 0:
            names.append(part)
            part = ""
            i += 1
            continue
        part += c
        i += 1
    keys = []
    for p in names:
        m = re.match(r"\s*([A-Za-z_$][\w$]*)\s*(:|$)", p)
        if m:
            keys.append(m.group(1))
    return keys


def extract_javascript(fileobj: IO[bytes], keywords: Any, comment_tags: Any,
                       options: dict[str, Any]) -> Iterator[Found]:
    text = fileobj.read().decode("utf-8")
    for m in _JS_CALL.finditer(text):
        if not KEY.match(m.group(3)):
            continue
        if m.group(4) and m.group(5):
            params: list[str] | None = _object_keys(text, m.end())
        else:  # no parameters, or a variable holding them: not known here
            params = None if m.group(4) else []
        yield text.count("\n", 0, m.start()) + 1, "", m.group(3), _comment(params)


def extract_jinja(fileobj: IO[bytes], keywords: Any, comment_tags: Any,
                  options: dict[str, Any]) -> Iterator[Found]:
    from jinja2 import Environment, nodes  # noqa: PLC0415 (only when extracting)

    tree = Environment().parse(fileobj.read().decode("utf-8"))
    for call in tree.find_all(nodes.Call):
        if not (isinstance(call.node, nodes.Name) and call.node.name in PAGE_CALLS
                and call.args and isinstance(call.args[0], nodes.Const)
                and isinstance(call.args[0].value, str) and KEY.match(call.args[0].value)):
            continue
        params = None if call.dyn_kwargs is not None else [k.key for k in call.kwargs]
        yield call.lineno, "", call.args[0].value, _comment(params)
