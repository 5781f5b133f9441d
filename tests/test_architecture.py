"""The layout ARCHITECTURE.md describes holds: imports point one way, no module is large."""

from __future__ import annotations

import ast
import pathlib

import pytest

import jaeger_lite

#: The package under test: the work tree's, or the installed wheel's (scripts/test-wheel).
PACKAGE = pathlib.Path(jaeger_lite.__file__).resolve().parent
ROOT = pathlib.Path(__file__).resolve().parent.parent
ARCHITECTURE = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")

#: Layers from the bottom up: a module imports from lower layers, its own package and the
#: single-file modules of its own layer. The same list is in ARCHITECTURE.md.
LAYERS: list[tuple[str, ...]] = [
    (
        "_version", "errors", "_ids", "_safe", "_metrics", "_opentracing", "_values",
        "_baggage", "_lifecycle", "_gen", "_resolve", "_http_text", "_proxy", "_http", "_lazy",
        "_log",
    ),
    (
        "context", "_span_extras", "span", "_span_factory", "scope", "_span_scope", "_references",
        "decorators", "_client_compat", "_closed_future",
    ),
    ("propagation", "sampling", "_encoding"),
    ("senders",),
    ("reporting",),
    ("tracer", "_tracer_lifecycle", "_span_start", "_global", "testing"),
    ("config",),
    ("agent", "integrations", "otel"),
    ("__main__",),
]  # fmt: skip
MAX_LINES = 400


def modules() -> list[pathlib.Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "_gen" not in p.parts)


def top_name(path: pathlib.Path) -> str:
    """The first component under jaeger_lite/: a package name or a module name."""
    part = path.relative_to(PACKAGE).parts[0]
    return part[:-3] if part.endswith(".py") else part


def layer_of(name: str) -> int:
    for index, layer in enumerate(LAYERS):
        if name in layer:
            return index
    raise AssertionError(f"jaeger_lite.{name} is in no layer: add it to LAYERS and ARCHITECTURE.md")


def imported_tops(path: pathlib.Path) -> set[str]:
    """Top names of jaeger_lite modules ``path`` imports at run time (not for type checking)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = list(path.relative_to(PACKAGE).parent.parts)
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(child) for child in ast.walk(node))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1] if node.level > 1 else package
                parts = base + (node.module.split(".") if node.module else [])
                if not parts:  # "from . import x" at the top: x is a top name itself
                    found.update(alias.name for alias in node.names)
                else:
                    found.add(parts[0])
            elif node.module and node.module.split(".")[0] == "jaeger_lite":
                rest = node.module.split(".")[1:]
                found.update(rest[:1] or [alias.name for alias in node.names])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                pieces = alias.name.split(".")
                if pieces[0] == "jaeger_lite" and len(pieces) > 1:
                    found.add(pieces[1])
    return found


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path: pathlib.Path) -> None:
    """Every jaeger_lite import goes down a layer, stays in the module's own package, or
    joins two single-file modules of one layer (packages of one layer stay apart)."""
    if path.name == "__init__.py" and path.parent == PACKAGE:
        return  # the facade re-exports from every layer
    own = top_name(path)

    def allowed(name: str) -> bool:
        if layer_of(name) < layer_of(own):
            return True
        is_package = (PACKAGE / name).is_dir() or (PACKAGE / own).is_dir()
        return layer_of(name) == layer_of(own) and not is_package

    wrong = sorted(name for name in imported_tops(path) - {own} if not allowed(name))
    assert wrong == [], f"{path.relative_to(PACKAGE)} imports {wrong} (upwards or across)"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_small(path: pathlib.Path) -> None:
    """One job per module: none over 400 lines (generated Thrift code excepted)."""
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE)} has {lines} lines"


def test_architecture_md_names_every_package_and_layer() -> None:
    """ARCHITECTURE.md has a line for each package and lists the layers as LAYERS does."""
    for path in sorted(PACKAGE.iterdir()):
        if path.is_dir() and (path / "__init__.py").exists() and path.name != "_gen":
            assert f"`{path.name}/`" in ARCHITECTURE, path.name
    for layer in LAYERS:
        listed = ", ".join(f"`{name}`" for name in layer)
        assert listed in ARCHITECTURE, listed


def test_importing_every_module_alone_works() -> None:
    """No import cycle: each module imports first in a fresh interpreter."""
    import subprocess
    import sys

    names = []
    for path in modules():
        relative = path.relative_to(PACKAGE).with_suffix("")
        parts = [p for p in relative.parts if p != "__init__"]
        names.append(".".join(["jaeger_lite", *parts]))
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    for loaded in [m for m in sys.modules if m.startswith('jaeger_lite')]:\n"
        "        del sys.modules[loaded]\n"
        "    importlib.import_module(name)\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
