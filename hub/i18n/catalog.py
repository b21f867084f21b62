"""The catalogs, read once from their `.po` files, and the texts of one hall's languages."""

from __future__ import annotations

import functools
import logging
import string
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

log = logging.getLogger(__name__)

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "onestop"
SOURCE = "zh_CN"  # the language the texts are written in first; every other falls back to it
DEFAULT_LANGUAGES = ("zh_CN", "en")  # what a hall shows: Chinese first, English beside it
SEPARATOR = " / "  # between the languages of one line (a refusal's `message`)


class Msg:
    """A message to say later, or as a parameter of another, said in the same language: a
    window's default name inside an alert ("3号窗口" / "window 3"), a device's state in its line."""

    __slots__ = ("key", "params")

    def __init__(self, key: str, /, **params: Any) -> None:
        self.key = key
        self.params = params

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Msg) and (self.key, self.params) == (other.key, other.params)

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"Msg({self.key!r}, **{self.params!r})"


class Listed:
    """Items said one after another with a language's separator (the key of its text): pause
    reasons as "暂离、会议" / "暂离, 会议". An item may be a Msg."""

    __slots__ = ("items", "separator")

    def __init__(self, items: Iterable[Any], separator: str) -> None:
        self.items = tuple(items)
        self.separator = separator


def N_(key: str, *params: str) -> str:  # gettext's name for "a message id, said later"
    """Marks `key` as a message id where it is named, for the extractor, with the names of the
    parameters it will be said with; returns the key unchanged."""
    return key


def placeholders(text: str) -> set[str]:
    """The names of `text`'s `{name}` placeholders."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


class _Kept(dict[str, Any]):
    """Parameters for str.format_map: a placeholder nobody passed stays as written rather than
    failing a refusal or a page (tests/test_i18n.py keeps the catalogs to what callers pass)."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def read_catalog(path: Path) -> dict[str, str]:
    """key -> text of one `.po` file: translated, not fuzzy, not the header."""
    with path.open("rb") as f:
        catalog = read_po(f, domain=DOMAIN)
    return {
        str(m.id): str(m.string)
        for m in catalog
        if m.id and isinstance(m.id, str) and isinstance(m.string, str) and m.string
        and not m.fuzzy
    }


class Catalogs:
    """Every language's messages. A key missing in a language is said in the source language."""

    def __init__(self, messages: Mapping[str, Mapping[str, str]]) -> None:
        if SOURCE not in messages:
            raise ValueError(f"no {SOURCE} catalog: the source language is needed")
        self.messages = {lang: dict(m) for lang, m in messages.items()}

    @classmethod
    def load(cls, directory: Path = LOCALE_DIR) -> Catalogs:
        found = {p.parent.parent.name: read_catalog(p)
                 for p in sorted(directory.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))}
        return cls(found)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self.messages))

    def t_in(self, lang: str, key: str, /, **params: Any) -> str:
        """The text of `key` in `lang`, its placeholders filled from `params`."""
        text = self.messages.get(lang, {}).get(key) or self.messages[SOURCE].get(key)
        if text is None:
            log.error("no message %r in any catalog", key)
            return key
        try:
            return text.format_map(_Kept({name: self._said(lang, v) for name, v in params.items()}))
        except (ValueError, IndexError, AttributeError, KeyError):  # a malformed text in a .po
            log.error("message %r in %s is malformed: %r", key, lang, text)
            return text

    def _said(self, lang: str, value: Any) -> Any:
        if isinstance(value, Msg):
            return self.t_in(lang, value.key, **value.params)
        if isinstance(value, Listed):
            return self.t_in(lang, value.separator).join(
                str(self._said(lang, item)) for item in value.items)
        return value

    def bind(self, languages: Iterable[str] = DEFAULT_LANGUAGES) -> Texts:
        return Texts(self, tuple(languages))


class Texts:
    """The texts a hall shows, in its languages in order (the first is shown first)."""

    def __init__(self, catalogs: Catalogs, languages: tuple[str, ...]) -> None:
        unknown = [lang for lang in languages if lang not in catalogs.messages]
        if unknown or not languages:
            raise ValueError(f"no catalog for {', '.join(unknown) or 'any language'}")
        self.catalogs = catalogs
        self.languages = languages

    def t(self, key: str, /, **params: Any) -> str:
        """`key` in the first language."""
        return self.catalogs.t_in(self.languages[0], key, **params)

    def each(self, key: str, /, **params: Any) -> tuple[str, ...]:
        """`key` in every language of the hall, in order."""
        return tuple(self.catalogs.t_in(lang, key, **params) for lang in self.languages)

    def joined(self, key: str, /, **params: Any) -> str:
        """`key` in every language on one line: "请先办结当前号 / finish the current ticket"."""
        return SEPARATOR.join(self.each(key, **params))

    def table(self, prefixes: Iterable[str]) -> dict[str, list[str]]:
        """key -> its texts in the hall's languages, unfilled, for every key under `prefixes`
        (what a page carries for its scripts to fill, shared/static/i18n.js)."""
        wanted = tuple(prefixes)
        keys = sorted(k for k in self.catalogs.messages[SOURCE] if k.startswith(wanted))
        return {k: [self._raw(lang, k) for lang in self.languages] for k in keys}

    def _raw(self, lang: str, key: str) -> str:
        messages = self.catalogs.messages
        return messages.get(lang, {}).get(key) or messages[SOURCE][key]


@functools.cache
def catalogs() -> Catalogs:
    """The catalogs in hub/locale, read once per process."""
    return Catalogs.load()


@functools.cache
def default_texts() -> Texts:
    """Chinese, then English: what every hall shows (docs/i18n.md)."""
    return catalogs().bind(DEFAULT_LANGUAGES)
