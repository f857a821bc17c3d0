"""Each term lives once: outside states/vocabulary.py no code spells a vocabulary value as a string.

The scan reads the AST, so only exact string constants count (not words inside other strings or
comments). A few places must spell a value because something else owns it; they are listed with
the reason. Docstrings are prose and are skipped.
"""

import ast
from pathlib import Path

from states.vocabulary import SYSTEM, AssignmentMethod, Kind, Phase, Priority, RefusalCode, Relation, Role, SystemAction

ROOT = Path(__file__).resolve().parent.parent
# bench/ is a load generator speaking the HTTP API as a client does, like the tests; not scanned.
SCANNED = ("states", "workflows", "service", "api")
VOCABULARY = Path("states/vocabulary.py")
VALUES = {str(value) for enum in (Kind, Phase, Role, Priority, Relation, SystemAction, RefusalCode) for value in enum} | {SYSTEM}
# "none" is too common a word (KPI buckets, empty tables) to be the assignment method wherever it is spelled.
VALUES |= {str(method) for method in AssignmentMethod if method is not AssignmentMethod.NONE}

ALLOWED = {
    # An incident's cause category "system" (a system fault), not the system actor.
    ("states/incident.py", "system"),
    # The key `transitions` reads a transition's source phases from.
    ("states/machine.py", "source"),
    # The case workflow's signal name on the wire, spelled where the workflow class cannot be imported.
    ("workflows/follow_ons.py", "link"),
    # A case view's JSON field (a flag), not the event of that name.
    ("service/cases.py", "sla_breached"),
    # The same field, read into the case list's export column (and that column's catalog term).
    ("service/export.py", "sla_breached"),
    # The English problem title of a generic refusal, as the API answers it.
    ("api/errors.py", "refused"),
}


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def literals() -> list[tuple[str, int, str]]:
    found = []
    for package in SCANNED:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if relative == VOCABULARY:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            skipped = _docstrings(tree)
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in VALUES and id(node) not in skipped:
                    found.append((relative.as_posix(), node.lineno, node.value))
    return found


def test_no_code_spells_a_vocabulary_value_outside_the_vocabulary():
    spelled = [(path, line, value) for path, line, value in literals() if (path, value) not in ALLOWED]
    assert spelled == [], "use the enums in states/vocabulary.py"


def test_every_allowance_is_still_needed():
    used = {(path, value) for path, _, value in literals()}
    assert ALLOWED - used == set()
