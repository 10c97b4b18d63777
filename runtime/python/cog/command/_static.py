"""Load a model file *statically*: execute its stub (see ``_stub``), never the file itself.

Imports inside stubs are answered here:

* ``typing``, ``pathlib``, ``enum``, ``dataclasses``, ``collections(.abc)``, ``abc`` and ``cog``
  are imported for real (they are what annotations are made of);
* ``pydantic`` and ``typing_extensions`` get stand-ins (``_standins``), so the result does not
  depend on what the host has installed;
* local files (``from utils import Output``, relative imports, ``pkg/sub.py``) are loaded as
  stubs too, recursively; a package's ``__init__.py`` is not followed, as in Cog;
* everything else becomes an :class:`External` marker.

All stub modules are registered in ``sys.modules`` under their real names while the analysis
runs (``typing.get_type_hints`` and ``dataclasses`` look classes' modules up there), and removed
when it ends.
"""
import ast
import importlib
import os
import sys
import types
import typing
import warnings

from . import _standins, _stub
from ._standins import External, Unresolved

REAL_MODULES = frozenset(
    "typing pathlib enum dataclasses collections abc __future__ types numbers cog".split()
)


class StaticError(Exception):
    """A build-stopping problem; prints as ``file:line: message`` (parts omitted when unknown)."""

    def __init__(self, message: str, file: str = "", line: int = 0):
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.file and self.line else self.file
        return f"{where}: {self.message}" if where else self.message


class _Package(types.ModuleType):
    """A local package folder: submodules are followed, names from its ``__init__`` are not."""

    def __init__(self, name: str, directory: str, analysis: "Analysis"):
        super().__init__(name)
        self.__path__ = [directory]
        self._analysis = analysis

    def __getattr__(self, attr: str) -> typing.Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        found = self._analysis.local(attr, self.__path__[0])
        value = found if found is not None else External(f"{self.__name__}.{attr}", self.__name__)
        setattr(self, attr, value)
        return value


class Analysis:
    """One static run over a project: the stubs loaded so far and their line tables."""

    def __init__(self, project_dir: str):
        self.project_dir = os.path.abspath(project_dir)
        self.stubs: typing.Dict[str, types.ModuleType] = {}  # by absolute path
        self.functions: typing.Dict[typing.Tuple[str, str], _stub.Function] = {}  # (path, qualname)
        self._replaced: typing.Dict[str, typing.Optional[types.ModuleType]] = {}
        self._warnings = warnings.catch_warnings()

    def __enter__(self) -> "Analysis":
        self._warnings.__enter__()
        warnings.simplefilter("ignore")  # deprecation notices belong to the runtime, not the build
        return self

    def __exit__(self, *exc_info) -> None:
        for name, previous in self._replaced.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous
        self._warnings.__exit__(*exc_info)

    def relative(self, path: str) -> str:
        relative = os.path.relpath(path, self.project_dir)
        return path if relative.startswith("..") else relative

    # -- loading ---------------------------------------------------------------------------

    def load(self, path: str, name: str) -> types.ModuleType:
        """The stub module of the file at ``path`` (absolute), executed once."""
        if path in self.stubs:
            return self.stubs[path]
        file = self.relative(path)
        try:
            with open(path, encoding="utf-8") as handle:
                source = handle.read()
            tree = ast.parse(source, filename=path)
        except SyntaxError as error:
            raise StaticError(f"failed to parse Python source: {error.msg}", file, error.lineno or 0) from None
        except (OSError, UnicodeDecodeError) as error:
            raise StaticError(f"failed to read Python source: {error}", file) from None
        try:
            stub = _stub.build_stub(tree, source)
        except _stub.StubError as error:
            raise StaticError(error.message, file, error.line) from None
        for qualname, function in stub.functions.items():
            self.functions[(path, qualname)] = function

        module = types.ModuleType(name)
        module.__file__ = path
        namespace = module.__dict__
        namespace["__builtins__"] = _standins.safe_builtins(_future_only)
        namespace.update(self._helpers(path, namespace))
        for unbound in stub.unbound:
            if unbound not in namespace["__builtins__"]:
                namespace[unbound] = Unresolved(unbound, 0, f"'{unbound}' is not defined by a statement the build can analyse")
        self.stubs[path] = module
        self._register(name, module)
        try:
            exec(compile(stub.tree, path, "exec", dont_inherit=True), namespace)
        except StaticError:
            raise
        except Exception as error:  # a decorator's TypeError, an Enum with a bad value, ...
            raise StaticError(_describe(error), file, _line_in(error, path)) from None
        return module

    def _register(self, name: str, module: types.ModuleType) -> None:
        if name not in self._replaced:
            self._replaced[name] = sys.modules.get(name)
        sys.modules[name] = module

    def _helpers(self, path: str, namespace: dict) -> dict:
        def unresolved(text: str, line: int, reason: str) -> Unresolved:
            return Unresolved(text, line, reason)

        def module(dotted: str, level: int, line: int, top: bool) -> typing.Any:
            resolved = self.resolve(dotted, level, path)
            if not top or "." not in dotted:
                return resolved
            head = dotted.split(".")[0]  # `import a.b.c` binds `a`
            return External(head, head) if isinstance(resolved, External) else self.resolve(head, 0, path)

        def from_(dotted: str, attr: str, level: int, line: int) -> typing.Any:
            return self.attribute(self.resolve(dotted, level, path), attr, dotted or ".")

        def star(dotted: str, level: int, line: int) -> None:
            source = self.resolve(dotted, level, path)
            if isinstance(source, External) or isinstance(source, _Package):
                return
            public = getattr(source, "__all__", None) or [n for n in vars(source) if not n.startswith("_")]
            for attr in public:
                namespace[attr] = getattr(source, attr)

        return {"__cog_unresolved__": unresolved, "__cog_module__": module, "__cog_from__": from_, "__cog_star__": star}

    # -- import resolution -----------------------------------------------------------------

    def resolve(self, dotted: str, level: int, importer: str) -> typing.Any:
        """What ``import dotted`` (``level`` dots) gives inside the stub of ``importer``."""
        if level:
            base = os.path.dirname(importer)
            for _ in range(level - 1):
                base = os.path.dirname(base)
            if not dotted:
                return _Package(self._module_name(base), base, self)
            found = self.local(dotted, base)
            return found if found is not None else External(dotted, "." * level + dotted)
        top = dotted.split(".")[0]
        if top == "pydantic":
            return _standins.pydantic_module(dotted)
        if top == "typing_extensions":
            return _standins.typing_extensions_module()
        if top in REAL_MODULES or dotted == "collections.abc":
            try:
                return importlib.import_module(dotted)
            except ImportError:
                return External(dotted, dotted)
        for root in dict.fromkeys([self.project_dir, os.path.dirname(importer)]):
            found = self.local(dotted, root)
            if found is not None:
                return found
        return External(dotted, dotted)

    def local(self, dotted: str, root: str) -> typing.Any:
        """The stub of ``root/dotted.py`` or a package object for ``root/dotted/``, if either exists."""
        relative = os.path.join(root, *dotted.split("."))
        if os.path.isfile(relative + ".py"):
            return self.load(os.path.abspath(relative + ".py"), self._module_name(relative))
        if os.path.isdir(relative) and (
            os.path.isfile(os.path.join(relative, "__init__.py")) or any(f.endswith(".py") for f in os.listdir(relative))
        ):
            return _Package(self._module_name(relative), relative, self)
        return None

    def _module_name(self, path: str) -> str:
        relative = os.path.relpath(os.path.abspath(path), self.project_dir)
        if relative.startswith(".."):
            relative = os.path.basename(path)
        return relative.replace(os.sep, ".") if relative != "." else os.path.basename(self.project_dir)

    def attribute(self, source: typing.Any, attr: str, dotted: str) -> typing.Any:
        """``from dotted import attr``."""
        if isinstance(source, External):
            return External(f"{source.text}.{attr}", source.module)
        if isinstance(source, _Package):
            return getattr(source, attr)
        if isinstance(source, types.ModuleType) and source.__file__ in self.stubs:
            if attr in vars(source):
                return vars(source)[attr]
            return Unresolved(f"{dotted}.{attr}", 0, f"'{attr}' is not defined in {self.relative(source.__file__)}")
        try:
            return getattr(source, attr)
        except AttributeError:
            pass
        try:
            return importlib.import_module(f"{source.__name__}.{attr}")
        except ImportError:
            return External(f"{dotted}.{attr}", dotted)


def _future_only(name: str, *args: typing.Any, **kwargs: typing.Any) -> types.ModuleType:
    # The only import statement a stub still executes is `from __future__ import ...`.
    if name != "__future__":
        raise ImportError(f"import of {name} is not allowed in a static stub")
    return importlib.import_module(name)


def _describe(error: BaseException) -> str:
    text = str(error)
    return text if text else type(error).__name__


def _line_in(error: BaseException, path: str) -> int:
    line = 0
    traceback = error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == path:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line
