"""Rewrite a model file's syntax tree into a *stub* that is safe to execute.

The stub keeps what the schema needs and nothing that could run the model:

* imports become calls to ``__cog_module__`` / ``__cog_from__`` / ``__cog_star__``, which the
  loader (``_static``) answers with real typing modules, the cog SDK, stubs of local files, or
  :class:`External` markers;
* module-level and class-level assignments keep their value only when it is a *static
  expression* (literals, names, attributes, subscripts, operators and a few pure constructors
  such as ``Input()`` or ``Literal[...]``); anything else becomes ``__cog_unresolved__(...)``;
* functions keep their signature, their cog decorators and whether they are generators; their
  bodies become ``...``;
* other statements (code with side effects) are dropped.

Line numbers are kept, so errors raised while the stub executes point into the user's file.
"""
import ast
import dataclasses
import typing

# Calls a static expression may contain: cog/pydantic/typing constructors and pure builtins
# (none that takes a callable, such as sorted(key=...)).
SAFE_CALLS = frozenset(
    """
    Input Field field TypeVar NewType ParamSpec Path
    list tuple dict set frozenset range str int float bool len abs round
    """.split()
)
# Decorators kept on functions and classes; all others are dropped (their code would run).
FUNCTION_DECORATORS = frozenset("streaming concurrent staticmethod classmethod property abstractmethod final override".split())
CLASS_DECORATORS = frozenset("dataclass final unique total_ordering".split())
CLASS_KEYWORDS = frozenset("total auto_dataclass".split())  # not metaclass: it would run

UNRESOLVED = "__cog_unresolved__"
HELPERS = frozenset({UNRESOLVED, "__cog_module__", "__cog_from__", "__cog_star__"})


class StubError(Exception):
    """A problem found while reading the source; ``line`` is 1-based."""

    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.message = message
        self.line = line


@dataclasses.dataclass
class Param:
    line: int
    default_text: str  # source text of the default, "" when there is none


@dataclasses.dataclass
class Function:
    line: int
    params: typing.Dict[str, Param]


@dataclasses.dataclass
class Stub:
    tree: ast.Module
    functions: typing.Dict[str, Function]  # by qualified name (``Runner.run``)
    unbound: typing.Set[str]  # names the stub reads but never binds: the loader pre-binds them


def _reference_name(node: ast.expr) -> typing.Optional[str]:
    """``a.b.c`` → ``c``; ``None`` when ``node`` is not a plain dotted reference."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and _reference_name(node.value) is not None:
        return node.attr
    return None


def _is_generator(function: ast.AST) -> bool:
    pending = list(ast.iter_child_nodes(function))
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return True
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            pending.extend(ast.iter_child_nodes(node))
    return False


def _docstring(body: typing.List[ast.stmt]) -> typing.List[ast.stmt]:
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return [first]
    return []


class _Builder:
    def __init__(self, source: str):
        self.source = source
        self.functions: typing.Dict[str, Function] = {}
        self.loaded: typing.Set[str] = set()
        self.bound: typing.Set[str] = set()
        self.aliases: typing.Dict[str, str] = {}  # `from cog import Input as I`: I → Input

    def reference_name(self, node: ast.expr) -> typing.Optional[str]:
        """Like :func:`_reference_name`, seeing through ``from x import name as alias``."""
        name = _reference_name(node)
        return self.aliases.get(name, name) if isinstance(node, ast.Name) else name

    # -- expressions -----------------------------------------------------------------------

    def text(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.source, node) or ast.unparse(node)

    def unresolved(self, node: ast.expr, reason: str = "") -> ast.expr:
        call = ast.Call(
            func=ast.Name(UNRESOLVED, ast.Load()),
            args=[ast.Constant(self.text(node)), ast.Constant(getattr(node, "lineno", 0)), ast.Constant(reason)],
            keywords=[],
        )
        return ast.copy_location(call, node)

    def expr(self, node: typing.Optional[ast.expr]) -> typing.Optional[ast.expr]:
        """``node`` if it is a static expression (sub-expressions sanitised), else an unresolved marker."""
        if node is None:
            return None
        if isinstance(node, ast.Constant):
            return node
        if isinstance(node, ast.Name):
            self.loaded.add(node.id)
            return node
        if isinstance(node, ast.Attribute):
            if node.attr.startswith("__"):
                return self.unresolved(node)  # no reaching into interpreter internals
            node.value = self.expr(node.value)
            return node
        if isinstance(node, ast.Subscript):
            node.value = self.expr(node.value)
            node.slice = self.expr(node.slice)
            return node
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            if any(isinstance(e, ast.Starred) for e in node.elts):
                return self.unresolved(node)
            node.elts = [self.expr(e) for e in node.elts]
            return node
        if isinstance(node, ast.Dict):
            if any(k is None for k in node.keys):
                return self.unresolved(node)
            node.keys = [self.expr(k) for k in node.keys]
            node.values = [self.expr(v) for v in node.values]
            return node
        if isinstance(node, ast.UnaryOp):
            node.operand = self.expr(node.operand)
            return node
        if isinstance(node, ast.BinOp):
            node.left, node.right = self.expr(node.left), self.expr(node.right)
            return node
        if isinstance(node, ast.JoinedStr):
            for part in node.values:
                if isinstance(part, ast.FormattedValue):
                    part.value = self.expr(part.value)
            return node
        if isinstance(node, ast.Call):
            name = self.reference_name(node.func)
            if name not in SAFE_CALLS or any(isinstance(a, ast.Starred) for a in node.args) or any(
                k.arg is None for k in node.keywords
            ):
                return self.unresolved(node)
            if name == "Input" and any(k.arg == "default_factory" for k in node.keywords):
                return self.unresolved(node, "default_factory")
            node.func = self.expr(node.func)
            node.args = [self.expr(a) for a in node.args]
            for keyword in node.keywords:
                keyword.value = self.expr(keyword.value)
            return node
        return self.unresolved(node)

    def annotation(self, node: typing.Optional[ast.expr]) -> typing.Optional[ast.expr]:
        if node is None:
            return None
        # String forward references stay strings (evaluated later by typing.get_type_hints); the
        # names they mention still need a binding.
        for child in ast.walk(node):
            if isinstance(child, ast.Constant) and isinstance(child.value, str):
                try:
                    parsed = ast.parse(child.value.strip(), mode="eval")
                except SyntaxError:
                    continue
                self.loaded.update(n.id for n in ast.walk(parsed) if isinstance(n, ast.Name))
        return self.expr(node)

    # -- statements ------------------------------------------------------------------------

    def decorators(self, nodes: typing.List[ast.expr], allowed: typing.FrozenSet[str]) -> typing.List[ast.expr]:
        kept = []
        for node in nodes:
            target = node.func if isinstance(node, ast.Call) else node
            name = self.reference_name(target)
            if name not in allowed:
                continue
            if isinstance(node, ast.Call):
                if name == "concurrent":
                    self.check_concurrent(node)
                node.func = self.expr(node.func)
                node.args = [self.expr(a) for a in node.args]
                for keyword in node.keywords:
                    keyword.value = self.expr(keyword.value)
            else:
                self.expr(node)
            kept.append(node)
        return kept

    @staticmethod
    def check_concurrent(node: ast.Call) -> None:
        for keyword in node.keywords:
            if keyword.arg != "max":
                continue
            value = keyword.value
            if isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub):
                value = value.operand
            if not (isinstance(value, ast.Constant) and type(value.value) is int):
                raise StubError("concurrent(max=...) must be an integer literal", node.lineno)

    def function(self, node: typing.Union[ast.FunctionDef, ast.AsyncFunctionDef], scope: str) -> ast.stmt:
        qualname = f"{scope}{node.name}"
        arguments = node.args
        positional = arguments.posonlyargs + arguments.args
        params = {}
        for arg in positional + arguments.kwonlyargs + [a for a in (arguments.vararg, arguments.kwarg) if a]:
            arg.annotation = self.annotation(arg.annotation)
            arg.type_comment = None
            params[arg.arg] = Param(arg.lineno, "")
        for arg, default in zip(positional[len(positional) - len(arguments.defaults):], arguments.defaults):
            params[arg.arg].default_text = self.text(default)
        for arg, default in zip(arguments.kwonlyargs, arguments.kw_defaults):
            if default is not None:
                params[arg.arg].default_text = self.text(default)
        arguments.defaults = [self.expr(d) for d in arguments.defaults]
        arguments.kw_defaults = [self.expr(d) if d is not None else None for d in arguments.kw_defaults]
        node.returns = self.annotation(node.returns)
        node.type_comment = None
        node.decorator_list = self.decorators(node.decorator_list, FUNCTION_DECORATORS)
        first_line = min([node.lineno] + [d.lineno for d in node.decorator_list])
        self.functions[qualname] = Function(first_line, params)
        if _is_generator(node):
            # `if False: yield` keeps it a (async) generator function without running anything.
            body: typing.List[ast.stmt] = [ast.If(ast.Constant(False), [ast.Expr(ast.Yield(None))], [])]
        else:
            body = [ast.Expr(ast.Constant(Ellipsis))]
        node.body = _docstring(node.body) + body
        for statement in node.body:
            ast.copy_location(statement, node)
        return node

    def klass(self, node: ast.ClassDef, scope: str) -> ast.stmt:
        qualname = f"{scope}{node.name}."
        node.bases = [self.expr(b) for b in node.bases]
        node.keywords = [k for k in node.keywords if k.arg in CLASS_KEYWORDS]
        for keyword in node.keywords:
            keyword.value = self.expr(keyword.value)
        node.decorator_list = self.decorators(node.decorator_list, CLASS_DECORATORS)
        body = _docstring(node.body)
        for statement in node.body[len(body):]:
            body.extend(self.statement(statement, qualname, module_level=False))
        node.body = body or [ast.copy_location(ast.Pass(), node)]
        return node

    def imports(self, node: typing.Union[ast.Import, ast.ImportFrom]) -> typing.List[ast.stmt]:
        def call(helper: str, *args: typing.Any) -> ast.expr:
            return ast.Call(ast.Name(helper, ast.Load()), [ast.Constant(a) for a in args], [])

        statements = []
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    target, value = alias.asname, call("__cog_module__", alias.name, 0, node.lineno, False)
                else:
                    target, value = alias.name.split(".")[0], call("__cog_module__", alias.name, 0, node.lineno, True)
                statements.append(ast.Assign([ast.Name(target, ast.Store())], value))
                self.bound.add(target)
        elif node.module == "__future__":
            return [node]
        else:
            module = node.module or ""
            for alias in node.names:
                if alias.name == "*":
                    statements.append(ast.Expr(call("__cog_star__", module, node.level, node.lineno)))
                    continue
                target = alias.asname or alias.name
                self.aliases[target] = alias.name
                value = call("__cog_from__", module, alias.name, node.level, node.lineno)
                statements.append(ast.Assign([ast.Name(target, ast.Store())], value))
                self.bound.add(target)
        for statement in statements:
            ast.copy_location(statement, node)
        return statements

    def statement(self, node: ast.stmt, scope: str, module_level: bool) -> typing.List[ast.stmt]:
        if isinstance(node, (ast.Import, ast.ImportFrom)) and module_level:
            return self.imports(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.bound.add(node.name)
            return [self.function(node, scope)]
        if isinstance(node, ast.ClassDef):
            self.bound.add(node.name)
            return [self.klass(node, scope)]
        if isinstance(node, ast.Assign):
            names = [n for t in node.targets for n in (t.elts if isinstance(t, ast.Tuple) else [t])]
            if not all(isinstance(n, ast.Name) for n in names):
                return []
            self.bound.update(n.id for n in names)
            node.value = self.expr(node.value)
            return [node]
        if isinstance(node, ast.AnnAssign):
            if not isinstance(node.target, ast.Name):
                return []
            self.bound.add(node.target.id)
            node.annotation = self.annotation(node.annotation)
            node.value = self.expr(node.value)
            return [node]
        if module_level and isinstance(node, ast.Try):
            nested = node.body + node.orelse + node.finalbody
            return [s for child in nested for s in self.statement(child, scope, module_level)]
        if module_level and isinstance(node, ast.If) and _reference_name(node.test) == "TYPE_CHECKING":
            return [s for child in node.body for s in self.statement(child, scope, module_level)]
        return []  # anything else would run code: drop it


def build_stub(tree: ast.Module, source: str) -> Stub:
    """The stub of a parsed module (``tree`` is modified in place)."""
    builder = _Builder(source)
    body = _docstring(tree.body)
    for statement in tree.body[len(body):]:
        body.extend(builder.statement(statement, "", module_level=True))
    tree.body = body
    ast.fix_missing_locations(tree)
    unbound = builder.loaded - builder.bound - HELPERS
    return Stub(tree, builder.functions, unbound)
