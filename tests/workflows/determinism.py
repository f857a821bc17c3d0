"""What the workflow sandbox refuses, found in the source instead of at run time.

The case workflows run unsandboxed in production (workflows/worker.py), and even sandboxed the SDK
never looked into `states/` and `workflows/`: they are passed through it. So the sandbox's own list
(`SandboxRestrictions.default`: the clock, randomness, the file system, processes, sockets, ...) is
checked here, in every module workflow code runs, by reading each name a module uses back to what
it imports. Activities run outside workflows: functions marked `@activity.defn` are skipped.
"""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

from temporalio.worker.workflow_sandbox import SandboxRestrictions
from temporalio.worker.workflow_sandbox._restrictions import RestrictionContext  # not re-exported; the matcher needs one

ROOT = Path(__file__).resolve().parent.parent.parent
# The packages whose code workflows run: the pure rules and the workflows with their helpers
# (workflows/channels/ only delivers messages, from an activity).
WORKFLOW_CODE = (*sorted((ROOT / "states").glob("*.py")), *sorted((ROOT / "workflows").glob("*.py")))

_RUNTIME = RestrictionContext()
_RUNTIME.is_runtime = True
_REFUSED = SandboxRestrictions.default.invalid_module_members


def refused_by_the_sandbox(path: tuple[str, ...]) -> bool:
    """Whether the sandbox refuses using `path` (module, then members) in a running workflow."""
    return _REFUSED.match_access(_RUNTIME, *path, include_use=True) or _REFUSED.match_access(_RUNTIME, *path, "__call__", include_use=True)


def nondeterministic_uses(path: Path) -> list[str]:
    """Each use, in workflow code of the module at `path`, of something the sandbox refuses."""
    tree = ast.parse(path.read_text(), str(path))
    imported = _imports(tree)
    bound = _bound_names(tree)
    found: list[str] = []
    for node in _workflow_nodes(tree):
        dotted = _dotted(node, imported, bound)
        if dotted and refused_by_the_sandbox(dotted):
            found.append(f"{path.name}:{node.lineno}: {'.'.join(dotted)}")
    return found


def _imports(tree: ast.Module) -> dict[str, tuple[str, ...]]:
    names: dict[str, tuple[str, ...]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = tuple(alias.name.split("."))
                else:
                    head = alias.name.split(".")[0]
                    names[head] = (head,)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                names[alias.asname or alias.name] = (*node.module.split("."), alias.name)
    return names


def _bound_names(tree: ast.Module) -> set[str]:
    """Names the module binds itself (parameters, assignments, definitions): they shadow a builtin of the same name."""
    bound = {arg.arg for node in ast.walk(tree) if isinstance(node, ast.arguments) for arg in (*node.posonlyargs, *node.args, *node.kwonlyargs)}
    bound |= {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    bound |= {node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    return bound


def _workflow_nodes(tree: ast.Module):
    """Every outermost name or attribute chain outside activities."""
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(_is_activity_defn(item) for item in node.decorator_list):
            continue
        if isinstance(node, (ast.Attribute, ast.Name)):
            yield node
            base: ast.expr = node
            while isinstance(base, ast.Attribute):
                base = base.value
            if not isinstance(base, ast.Name):
                pending.append(base)  # e.g. the call in `datetime.now().isoformat()`
            continue
        pending.extend(ast.iter_child_nodes(node))


def _is_activity_defn(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(target, ast.Attribute) and target.attr == "defn" and isinstance(target.value, ast.Name) and target.value.id == "activity"


def _dotted(node: ast.expr, imported: dict[str, tuple[str, ...]], bound: set[str]) -> tuple[str, ...] | None:
    """The imported thing a name or attribute chain names, e.g. `datetime.now` -> datetime.datetime.now."""
    attributes: list[str] = []
    while isinstance(node, ast.Attribute):
        attributes.insert(0, node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    if node.id in imported:
        return (*imported[node.id], *attributes)
    if hasattr(builtins, node.id) and node.id not in bound:
        return ("__builtins__", node.id, *attributes)
    return None
