"""Labels for the vocabulary in the caller's language, from the gettext catalogs in api/locales/.

The catalogs are compiled from their .po files with Babel when first used, so nothing generated is
kept in the repository. Each label is looked up by context (the vocabulary's category: kind, phase,
action, field, ...) and term (its wire name).
"""

from __future__ import annotations

import functools
import gettext
from io import BytesIO
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES = Path(__file__).parent / "locales"
DOMAIN = "casework"
# Language tags as HTTP spells them, and their catalogs.
LANGUAGES = {"zh-CN": "zh_CN", "en": "en"}
DEFAULT_LANGUAGE = "zh-CN"


@functools.cache
def _messages(language: str) -> Catalog:
    locale = LANGUAGES[language]
    with (LOCALES / locale / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as source:
        return read_po(source, locale=locale, domain=DOMAIN)


@functools.cache
def catalog(language: str) -> gettext.GNUTranslations:
    compiled = BytesIO()
    write_mo(compiled, _messages(language))
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def label(language: str, context: str, term: str) -> str:
    """The term's label; the term itself when the catalog lacks it (a test keeps that from happening)."""
    return catalog(language).pgettext(context, str(term))


def has_label(language: str, context: str, term: str) -> bool:
    message = _messages(language).get(str(term), context=context)
    return message is not None and bool(message.string)


def negotiate(accept_language: str | None, lang: str | None = None) -> str:
    """`?lang=` if it names a language we have, else the best of Accept-Language, else zh-CN."""
    wanted = [lang] if lang else _by_quality(accept_language or "")
    for tag in wanted:
        found = _supported(tag)
        if found:
            return found
    return DEFAULT_LANGUAGE


def _by_quality(header: str) -> list[str]:
    ranked = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag.strip()))
    return [tag for _, _, tag in sorted(ranked)]


def _supported(tag: str) -> str | None:
    try:
        locale = Locale.parse(tag.replace("_", "-"), sep="-")
    except (UnknownLocaleError, ValueError):
        return None
    if locale.language == "en":
        return "en"
    # Simplified Chinese however it is tagged (zh, zh-CN, zh-Hans, zh-SG); Traditional is not ours.
    if locale.language == "zh" and (locale.script in (None, "Hans")) and locale.territory not in ("TW", "HK", "MO"):
        return "zh-CN"
    return None


def labelled_machine(machine: dict[str, Any], language: str) -> dict[str, Any]:
    """A machine as states.machine.describe gives it, with labels in `language` beside each term."""
    labelled = dict(machine, language=language, label=label(language, "kind", machine["kind"]))
    labelled["labels"] = {
        "phases": {phase: label(language, "phase", phase) for phase in machine["states"]},
        "roles": {role: label(language, "role", role) for role in _roles(machine)},
    }
    labelled["report_fields"] = [_labelled_field(field, language) for field in machine["report_fields"]]
    labelled["actions"] = [
        dict(action, label=label(language, "action", action["name"]), fields=[_labelled_field(field, language) for field in action["fields"]])
        for action in machine["actions"]
    ]
    return labelled


def _labelled_field(field: dict[str, Any], language: str) -> dict[str, Any]:
    return dict(field, label=label(language, "field", field["name"]))


def _roles(machine: dict[str, Any]) -> list[str]:
    roles = dict.fromkeys(machine["create_roles"])
    for action in machine["actions"]:
        roles.update(dict.fromkeys(action["roles"]))
    return list(roles)
