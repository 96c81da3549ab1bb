"""Where things are: the project root and its folders (ontology/, data/, shapes/, queries/)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

#: Environment variable naming the project root (the folder holding ontology/ and data/).
ROOT_ENV = "COOPGRAPH_ROOT"


@dataclass(frozen=True)
class Project:
    """The folders of one coopgraph checkout."""

    root: Path

    @property
    def ontology_dir(self) -> Path:
        return self.root / "ontology"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def shapes_dir(self) -> Path:
        return self.root / "shapes"

    @property
    def queries_dir(self) -> Path:
        return self.root / "queries"

    @property
    def dist_dir(self) -> Path:
        return self.root / "dist"

    @property
    def context_file(self) -> Path:
        return self.ontology_dir / "context.jsonld"

    @property
    def schemaorg_context_file(self) -> Path:
        return self.ontology_dir / "contexts" / "schemaorg.jsonld"

    def relative(self, path: Path | str) -> str:
        """``path`` relative to the root when it is inside it, else as given (for messages)."""
        try:
            return Path(path).resolve().relative_to(self.root).as_posix()
        except ValueError:
            return str(path)


def _looks_like_root(path: Path) -> bool:
    return (path / "ontology").is_dir() and (path / "data").is_dir()


def find_project(start: Path | str | None = None) -> Project:
    """The project at ``start``, $COOPGRAPH_ROOT, or the first parent of the cwd that has one."""
    if start is None and os.environ.get(ROOT_ENV):
        start = os.environ[ROOT_ENV]
        if not _looks_like_root(Path(start)):
            raise InputError(f"${ROOT_ENV}={start} has no ontology/ and data/ folders")
    if start is not None:
        root = Path(start).resolve()
        if not _looks_like_root(root):
            raise InputError(f"{root} is not a coopgraph project: it has no ontology/ and data/ folders")
        return Project(root)
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if _looks_like_root(candidate):
            return Project(candidate)
    # Installed in development mode from a checkout: the checkout itself.
    package_root = Path(__file__).resolve().parents[2]
    if _looks_like_root(package_root):
        return Project(package_root)
    raise InputError(
        "no coopgraph project here: run inside a checkout (a folder with ontology/ and data/), "
        f"or pass --root DIR, or set ${ROOT_ENV}"
    )
