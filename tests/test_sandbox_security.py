"""Attack programs against the sandbox, each run as a code action of one real episode.

Every attack asserts the specific block that stopped it, and after every attack the
next action of the same episode must still work.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import pytest

from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.library.files import SkillLibrary
from codeact_robot.library.skill import Verdict
from codeact_robot.worker.task_episode import start_episode

SCENE = {"blocks": ["red", "green"], "bowls": ["blue"], "positions": {"red block": [0.45, 0.1]}}
RESTRICTED = "SandboxError"

# (id, program, error type, pattern the error must contain)
ATTACKS: list[tuple[str, str, str, str]] = [
    # --- dunder, frame and globals walks
    ("class-bases-subclasses", "().__class__.__bases__[0].__subclasses__()", RESTRICTED, '"__class__" is an invalid'),
    ("getattr-dunder", "getattr((), '__class__')", "AttributeError", 'starts with "_"'),
    ("getattr-self-of-builtin", "getattr(len, '__self__')", "AttributeError", 'starts with "_"'),
    ("skill-globals", "pick.__globals__", RESTRICTED, '"__globals__" is an invalid'),
    ("skill-globals-getattr", "getattr(pick, '__globals__')", "AttributeError", 'starts with "_"'),
    ("skill-func-globals", "getattr(pick, 'func_globals')", "AttributeError", "no attribute 'func_globals' available"),
    ("skill-closure", "pick.__closure__", RESTRICTED, '"__closure__" is an invalid'),
    ("lambda-code", "(lambda: 0).__code__", RESTRICTED, '"__code__" is an invalid'),
    # CVE-2023-37271: stack frames reached through generators
    ("generator-frame", "def g():\n    yield 1\ng().gi_frame", RESTRICTED, '"gi_frame" is a restricted name'),
    ("generator-frame-getattr", "def g():\n    yield 1\ngetattr(g(), 'gi_frame')", "AttributeError", "gi_frame"),
    ("generator-code-getattr", "def g():\n    yield 1\ngetattr(g(), 'gi_code')", "AttributeError", "gi_code"),
    ("genexpr-frame-f_back", "g = (x for x in [1])\ng.gi_frame.f_back.f_globals", RESTRICTED, "gi_frame"),
    (
        "traceback-attribute",
        "try:\n    1/0\nexcept Exception as e:\n    e.__traceback__",
        RESTRICTED,
        '"__traceback__" is an invalid',
    ),
    (
        "traceback-getattr",
        "try:\n    1/0\nexcept Exception as e:\n    getattr(e, '__traceback__')",
        "AttributeError",
        'starts with "_"',
    ),
    (
        "with-traceback",
        "try:\n    1/0\nexcept Exception as e:\n    e.with_traceback",
        "AttributeError",
        "'ZeroDivisionError' object has no attribute 'with_traceback'",
    ),
    (
        "attribute-error-obj",
        "try:\n    np.nope\nexcept AttributeError as e:\n    e.obj",
        "AttributeError",
        "'AttributeError' object has no attribute 'obj'",
    ),
    ("type-of-skill", "type(pick)(pick.__code__, {})", RESTRICTED, '"__code__" is an invalid'),
    ("type-of-skill-call", "type(pick)(None, {})", "TypeError", "function objects cannot be created in the sandbox"),
    ("type-of-module", "type(np)('os', {})", "TypeError", "SafeModule objects cannot be created in the sandbox"),
    ("object-subclasses", "object.__subclasses__()", RESTRICTED, '"__subclasses__" is an invalid'),
    ("object-mro", "getattr(object, 'mro')", "AttributeError", "'type' object has no attribute 'mro'"),
    ("sandbox-class-mro", "class A:\n    pass\nA.mro()", "AttributeError", "no attribute 'mro'"),
    ("exception-class-mro-to-baseexception", "class E(Exception):\n    pass\nE.mro()", "AttributeError", "mro"),
    ("vars", "vars(pick)", "NameError", "'vars' is not defined"),
    ("globals", "globals()", "NameError", "'globals' is not defined"),
    ("locals", "locals()", "NameError", "'locals' is not defined"),
    ("builtins-name", "__builtins__", RESTRICTED, '"__builtins__" is an invalid'),
    ("join-self", "''.join.__self__", RESTRICTED, '"__self__" is an invalid'),
    # --- format-string traversal (CVE-2023-41039 pattern; smolagents' format-field dunder bypass)
    (
        "str-format-traversal",
        "'{0.__class__.__init__.__globals__}'.format(pick)",
        "AttributeError",
        "str.format is not available",
    ),
    ("str-format-map", "'{x}'.format_map({'x': 1})", "AttributeError", "str.format_map is not available"),
    ("str-type-format", "str.format('{0.__class__}', 1)", "AttributeError", "str.format is not available"),
    ("getattr-format", "getattr('', 'format')", "AttributeError", "str.format is not available"),
    ("fstring-dunder", "f'{pick.__globals__}'", RESTRICTED, '"__globals__" is an invalid'),
    # --- imports
    ("import-os", "import os", "ImportError", "module 'os' is not available; available modules: collections"),
    ("import-sys", "import sys", "ImportError", "module 'sys' is not available"),
    ("import-importlib", "import importlib", "ImportError", "module 'importlib' is not available"),
    # CVE-2026-76825 (string.Formatter field resolution) and its operator.attrgetter follow-up
    ("import-string-formatter", "import string", "ImportError", "module 'string' is not available"),
    (
        "import-operator-attrgetter",
        "import operator\noperator.attrgetter('__class__')(1)",
        "ImportError",
        "module 'operator' is not available",
    ),
    ("format-builtin", "format(1, '{0.__class__}')", "NameError", "'format' is not defined"),
    ("dunder-import", "__import__('os')", RESTRICTED, '"__import__" is an invalid'),
    ("import-numpy-ctypeslib", "import numpy.ctypeslib", "ImportError", "'numpy.ctypeslib' is not available"),
    ("from-numpy-import-ctypeslib", "from numpy import ctypeslib", "ImportError", "cannot import ctypeslib"),
    ("from-numpy-lib-npyio", "from numpy.lib import npyio", "ImportError", "'numpy.lib' is not available"),
    ("star-import", "from math import *", RESTRICTED, '"*" imports are not allowed'),
    ("random-private-os", "import random\nrandom._os", RESTRICTED, '"_os" is an invalid'),
    ("random-private-getattr", "import random\ngetattr(random, '_inst')", "AttributeError", 'starts with "_"'),
    (
        "json-decoder-submodule",
        "import json\njson.decoder",
        "AttributeError",
        "module 'json' has no attribute 'decoder'",
    ),
    ("collections-abc", "import collections\ncollections.abc", "AttributeError", "no attribute 'abc'"),
    ("numpy-core", "import numpy\nnumpy.core", "AttributeError", "module 'numpy' has no attribute 'core'"),
    ("relative-import", "from . import x", "ImportError", "relative imports are not available"),
    # --- builtins
    ("open", "open('/etc/passwd').read()", "NameError", "'open' is not defined"),
    ("eval", "eval('1')", RESTRICTED, "Eval calls are not allowed"),
    ("exec", "exec('1')", RESTRICTED, "Exec calls are not allowed"),
    ("compile", "compile('1', 'x', 'eval')", "NameError", "'compile' is not defined"),
    ("input", "input()", "NameError", "'input' is not defined"),
    ("breakpoint", "breakpoint()", RESTRICTED, '"breakpoint" is a reserved name'),
    ("memoryview", "memoryview(np.zeros(2))", "NameError", "'memoryview' is not defined"),
    ("setattr", "setattr(pick, 'x', 1)", "NameError", "'setattr' is not defined"),
    ("super", "super", "NameError", "'super' is not defined"),
    (
        "catch-baseexception",
        "try:\n    pass\nexcept BaseException:\n    pass\nBaseException",
        "NameError",
        "'BaseException' is not defined",
    ),
    ("keyboard-interrupt", "KeyboardInterrupt", "NameError", "'KeyboardInterrupt' is not defined"),
    ("system-exit", "raise SystemExit", "NameError", "'SystemExit' is not defined"),
    # --- numpy escapes (smolagents CVE-2025-5120 pattern: dangerous members of allowed modules)
    ("np-ctypeslib", "np.ctypeslib", "AttributeError", "module 'numpy' has no attribute 'ctypeslib'"),
    ("np-load-pickle", "np.load", "AttributeError", "no attribute 'load'"),
    ("np-fromfile", "np.fromfile", "AttributeError", "no attribute 'fromfile'"),
    ("np-memmap", "np.memmap", "AttributeError", "no attribute 'memmap'"),
    ("np-lib", "np.lib", "AttributeError", "no attribute 'lib'"),
    ("np-testing", "np.testing", "AttributeError", "no attribute 'testing'"),
    ("np-f2py", "np.f2py", "AttributeError", "no attribute 'f2py'"),
    ("np-frombuffer", "np.frombuffer", "AttributeError", "no attribute 'frombuffer'"),
    ("np-set-printoptions", "np.set_printoptions", "AttributeError", "no attribute 'set_printoptions'"),
    ("array-ctypes", "np.zeros(3).ctypes", "AttributeError", "'ndarray' object has no attribute 'ctypes'"),
    ("array-tofile", "np.zeros(3).tofile", "AttributeError", "no attribute 'tofile'"),
    ("array-dump", "np.zeros(3).dump", "AttributeError", "no attribute 'dump'"),
    ("array-view", "np.zeros(3).view", "AttributeError", "no attribute 'view'"),
    ("array-data", "np.zeros(3).data", "AttributeError", "no attribute 'data'"),
    ("array-base", "getattr(get_object_position('red block'), 'base')", "AttributeError", "no attribute 'base'"),
    ("array-setfield", "np.zeros(3).setfield", "AttributeError", "no attribute 'setfield'"),
    ("array-strides-write", "a = np.zeros(3)\na.strides = (0,)", "TypeError", "cannot set attribute 'strides'"),
    ("array-shape-write", "a = np.zeros(3)\na.shape = (1, 3)", "TypeError", "cannot set attribute 'shape'"),
    ("rng-bit-generator", "np.random.default_rng(0).bit_generator", "AttributeError", "no attribute 'bit_generator'"),
    ("np-random-legacy", "np.random.seed", "AttributeError", "module 'numpy.random' has no attribute 'seed'"),
    ("module-not-iterable", "for x in np:\n    pass", "TypeError", "module 'numpy' is not iterable"),
    ("module-not-subscriptable", "np[0]", "TypeError", "not subscriptable"),
    # --- writing to host objects
    ("write-module-constant", "np.pi = 3", "TypeError", "cannot modify a SafeModule object"),
    ("write-module-function", "math.sqrt = print", "TypeError", "cannot modify a SafeModule object"),
    ("delete-module-member", "del np.pi", "TypeError", "cannot modify a SafeModule object"),
    ("write-skill-attribute", "pick.x = 1", "TypeError", "cannot modify a function object"),
    ("write-skill-doc", "get_object_names.__doc__ = 'x'", RESTRICTED, '"__doc__" is an invalid'),
    ("write-random-module", "import random\nrandom.random = lambda: 0", "TypeError", "cannot modify a SafeModule"),
    ("write-int", "(1).real = 2", "TypeError", "cannot modify a int object"),
    ("write-builtin-class", "Exception.args = 1", "TypeError", "cannot modify a type object"),
    # --- str subclasses and odd attribute names
    ("str-subclass", "class S(str):\n    pass", "TypeError", "class S cannot derive from str"),
    ("non-str-attribute-name", "getattr(1, 123)", "TypeError", "attribute name must be a str, not int"),
    ("str-subclass-attribute-name", "getattr(1, np.array(['real'])[0])", "TypeError", "must be a str, not str_"),
    # --- class tricks
    ("metaclass-subclass", "class M(type):\n    pass", "TypeError", "class M cannot derive from type"),
    ("metaclass-keyword", "class A(metaclass=type):\n    pass", RESTRICTED, 'keyword argument "metaclass"'),
    (
        "getattribute-override",
        "class A:\n    def __getattribute__(self, n):\n        return 1",
        RESTRICTED,
        '"__getattribute__" is an invalid',
    ),
    ("slots", "class A:\n    __slots__ = ()", RESTRICTED, '"__slots__" is an invalid'),
    (
        "instance-dict",
        "class A:\n    def __init__(self):\n        self.__dict__ = {}",
        RESTRICTED,
        '"__dict__" is an invalid',
    ),
    ("dict-subclass", "class A(dict):\n    pass", "TypeError", "class A cannot derive from dict"),
    # --- methods read self's attributes natively; these try to smuggle another object in as self
    (
        "unbound-method-on-class",
        "class E(Exception):\n    def m(self):\n        return self.mro\nE.m(E)",
        "TypeError",
        "called on a type object",
    ),
    (
        "unbound-method-on-module",
        "class A:\n    def m(self):\n        return self.ctypeslib\nA.m(np)",
        "TypeError",
        "called on a SafeModule object",
    ),
    (
        "rebound-self",
        "class A:\n    def m(self):\n        self = np\n        return self.ctypeslib\nA().m()",
        "AttributeError",
        "no attribute 'ctypeslib'",
    ),
    (
        "comprehension-self",
        "class A:\n    def m(self):\n        return [self.lib for self in [np]]\nA().m()",
        "AttributeError",
        "no attribute 'lib'",
    ),
    (
        "classmethod-cls",
        "class A:\n    @classmethod\n    def m(cls):\n        return cls.mro\nA.m()",
        "AttributeError",
        "no attribute 'mro'",
    ),
    (
        "except-as-self",
        "class A:\n    def m(self):\n        try:\n            1/0\n        except ZeroDivisionError as self:"
        "\n            return self.with_traceback\nA().m()",
        "AttributeError",
        "no attribute 'with_traceback'",
    ),
    (
        "nested-def-self",
        "class A:\n    def m(self):\n        def f(self):\n            return self.lib\n        return f(np)\nA().m()",
        "AttributeError",
        "no attribute 'lib'",
    ),
    (
        "print-to-object",
        "class F:\n    def write(self, s):\n        pass\nprint('x', file=F())",
        "TypeError",
        "print(file=...) is not available",
    ),
    # --- methods written in Python take any self unless the policy checks it (Counter.copy(x) is x.__class__(x))
    (
        "counter-copy-of-int-is-type",
        "from collections import Counter\nT = Counter.copy(int)\nT('A', (), {})",
        "TypeError",
        "Counter.copy() takes a Counter as its first argument (self), not a type object",
    ),
    (
        "counter-copy-of-array-is-ndarray",
        "import collections\nnd = collections.Counter.copy(np.zeros(1))\nnd((1,), object)",
        "TypeError",
        "Counter.copy() takes a Counter as its first argument (self), not a ndarray object",
    ),
    (
        "counter-copy-as-classmethod",
        "from collections import Counter\nclass A:\n    c = classmethod(Counter.copy)\nA.c()",
        "TypeError",
        "Counter.copy() takes a Counter as its first argument (self), not a type object",
    ),
    (
        "counter-update-mapped",
        "from collections import Counter\nlist(map(getattr(Counter, 'update'), [np], [{}]))",
        "TypeError",
        "Counter.update() takes a Counter as its first argument (self), not a SafeModule object",
    ),
    (
        "statistics-converts-to-program-class",
        "import statistics\nclass R:\n    def as_integer_ratio(self):\n        return (1, 1)\nstatistics.mean([R()])",
        "TypeError",
        "statistics.mean() takes numbers (int, float or numpy numbers), not R",
    ),
    # --- syntax the policy refuses (CVE-2025-22153 pattern: except* type confusion)
    (
        "try-star",
        "try:\n    1/0\nexcept* ZeroDivisionError:\n    pass",
        RESTRICTED,
        "TryStar statements are not allowed",
    ),
    (
        "nonlocal",
        "def f():\n    x = 1\n    def g():\n        nonlocal x\n    return g",
        RESTRICTED,
        "Nonlocal statements are not allowed",
    ),
    ("async-def", "async def f():\n    pass", RESTRICTED, "AsyncFunctionDef statements are not allowed"),
    ("lambda-default-import", "f = lambda x=__import__: x", RESTRICTED, '"__import__" is an invalid'),
    ("unpack-function", "a, b = pick", "TypeError", "'function' object is not iterable"),
]

OBJECTS = "x = np.zeros(2, int) + [10**30, 1]\n"  # an operator can make an object array; it must stay inert
NO_OBJECTS = "a dtype of Python objects (object) is not available in the sandbox"
NO_RECORDS = "a dtype of raw or structured records"
OBJECT_RESULT = "a result of Python objects (object) is not available"
OBJECT_INPUT = "an array of Python objects (object) is not available"

# numpy at the memory level: classes and constructors, object and structured dtypes everywhere a
# dtype can go, out= targets, memory-placing keywords, members that reach raw memory, inert object arrays
NUMPY_ATTACKS: list[tuple[str, str, str, str]] = [
    # --- the real classes are out of reach: type() and members are stand-ins that construct nothing
    ("ndarray-via-type", "type(np.zeros(1))((1,), dtype=object)", "TypeError", "ndarray objects cannot be created"),
    (
        "ndarray-buffer-via-type",
        "type(np.zeros(1))((2,), np.float64, np.zeros(2))",
        "TypeError",
        "ndarray objects cannot be created",
    ),
    (
        "ndarray-negative-offset",
        "np.ndarray((1,), buffer=np.zeros(1), offset=-8)",
        "TypeError",
        "ndarray objects cannot be created",
    ),
    ("ndarray-uninitialised", "np.ndarray((1000,))", "TypeError", "ndarray objects cannot be created"),
    (
        "ndarray-imported",
        "from numpy import ndarray\nndarray((1,), object)",
        "TypeError",
        "ndarray objects cannot be created",
    ),
    ("dtype-class-via-type", "type(np.zeros(1).dtype)('O')", "TypeError", "Float64DType objects cannot be created"),
    ("numpy-function-class", "type(np.sum)(np.sum)", "TypeError", "Checked objects cannot be created"),
    ("ufunc-class", "type(np.add)(None)", "TypeError", "SafeUfunc objects cannot be created"),
    ("generator-class", "type(np.random.default_rng(0))(None)", "TypeError", "Generator objects cannot be created"),
    ("type-of-type", "type(type(np.zeros(1)))(int)", "TypeError", "ClassView objects cannot be created"),
    ("subclass-ndarray-view", "class A(type(np.zeros(1))):\n    pass", "TypeError", "class A cannot derive from"),
    ("subclass-ndarray-member", "class A(np.ndarray):\n    pass", "TypeError", "class A cannot derive from"),
    ("dtype-scalar-class", "np.zeros(1).dtype.type", "AttributeError", "has no attribute 'type' available"),
    ("dtype-fields", "np.zeros(1).dtype.fields", "AttributeError", "has no attribute 'fields' available"),
    ("dtype-newbyteorder", "np.zeros(1).dtype.newbyteorder", "AttributeError", "no attribute 'newbyteorder'"),
    ("dtype-constructor", "np.dtype('O')", "AttributeError", "module 'numpy' has no attribute 'dtype'"),
    ("view-dtype-slot", "getattr(np.float64, 'dtype')", "AttributeError", "'ClassView' object has no attribute"),
    ("wrapped-function", "getattr(np.sum, '_function')", "AttributeError", 'starts with "_"'),
    ("wrapped-dunder", "np.sum.__wrapped__", RESTRICTED, '"__wrapped__" is an invalid'),
    # --- object and structured dtypes, wherever a dtype can be given or a result can come back
    ("zeros-object", "np.zeros(3, dtype=object)", "TypeError", NO_OBJECTS),
    ("zeros-object-positional", "np.zeros(3, object)", "TypeError", NO_OBJECTS),
    ("ones-object-code", "np.ones(2, 'O')", "TypeError", NO_OBJECTS),
    ("full-object", "np.full(2, 0, 'O')", "TypeError", NO_OBJECTS),
    ("array-object-name", "np.array([1], 'object')", "TypeError", NO_OBJECTS),
    ("asarray-object", "np.asarray([1], dtype='O')", "TypeError", NO_OBJECTS),
    ("dtype-python-class", "np.zeros(2, dtype=dict)", "TypeError", NO_OBJECTS),
    ("implicit-object-none", "np.array([None])", "TypeError", OBJECT_RESULT),
    ("implicit-object-bigint", "np.array([10**30])", "TypeError", OBJECT_RESULT),
    ("implicit-object-skill", "np.array([pick, np])", "TypeError", OBJECT_RESULT),
    ("astype-object", "np.zeros(2).astype(object)", "TypeError", NO_OBJECTS),
    ("astype-structured-object", "np.zeros(2).astype([('a', 'O')])", "TypeError", NO_RECORDS),
    ("structured-object-field", "np.zeros(2, dtype=[('a', 'f8'), ('p', 'O')])", "TypeError", NO_RECORDS),
    ("structured-from-string", "np.zeros(2, 'i8,O')", "TypeError", NO_RECORDS),
    ("raw-void", "np.zeros(2, 'V8')", "TypeError", NO_RECORDS),
    ("subarray-object", "np.zeros(2, '(2,)O')", "TypeError", NO_RECORDS),
    ("datetime", "np.zeros(2, dtype='M8')", "TypeError", "a dtype of dates (datetime64)"),
    ("string-dtype-pointers", "np.zeros(2, dtype='T')", "TypeError", "dtype kind 'T'"),
    ("arange-object", "np.arange(3, dtype=object)", "TypeError", NO_OBJECTS),
    ("linspace-object", "np.linspace(0, 1, 3, dtype=object)", "TypeError", NO_OBJECTS),
    ("eye-object", "np.eye(2, dtype=object)", "TypeError", NO_OBJECTS),
    ("method-dtype-positional", "np.zeros((2, 2)).sum(0, object)", "TypeError", NO_OBJECTS),
    ("mean-dtype", "np.zeros(2).mean(dtype='O')", "TypeError", NO_OBJECTS),
    ("ufunc-dtype", "np.add(np.zeros(2), 1, dtype=object)", "TypeError", NO_OBJECTS),
    (
        "ufunc-signature",
        "np.add(np.zeros(2), 1, signature=(None, None, object))",
        "TypeError",
        "add() does not take signature= in the sandbox",
    ),
    ("ufunc-reduce-dtype", "np.add.reduce(np.zeros(3), 0, object)", "TypeError", NO_OBJECTS),
    ("ufunc-accumulate-dtype", "np.add.accumulate(np.zeros(3), dtype=object)", "TypeError", NO_OBJECTS),
    ("ufunc-outer-dtype", "np.multiply.outer([1, 2], [3], dtype=object)", "TypeError", NO_OBJECTS),
    ("ufunc-at", "np.add.at", "AttributeError", "'SafeUfunc' object has no attribute 'at'"),
    ("cumsum-object", "np.cumsum(np.zeros(3), dtype=object)", "TypeError", NO_OBJECTS),
    ("einsum-object", "np.einsum('i->i', np.zeros(2), dtype=object)", "TypeError", NO_OBJECTS),
    ("concatenate-object", "np.concatenate([np.zeros(2)], dtype=object)", "TypeError", NO_OBJECTS),
    ("rng-integers-object", "np.random.default_rng(0).integers(0, 5, 3, object)", "TypeError", NO_OBJECTS),
    ("rng-permutation-objects", "np.random.default_rng(0).permutation([pick, np])", "TypeError", OBJECT_RESULT),
    ("rng-choice-objects", "np.random.default_rng(0).choice([None, 1], 2)", "TypeError", OBJECT_RESULT),
    (
        "rng-bit-generator-getattr",
        "getattr(np.random.default_rng(0), 'bit_generator')",
        "AttributeError",
        "'Generator' object has no attribute 'bit_generator'",
    ),
    # --- out= must be an array of numbers the program owns
    ("ufunc-out-list", "np.add(1, 2, out=[0])", "TypeError", "out= must be an array"),
    ("method-out-tuple", "np.zeros(2).clip(0, 1, out=(1,))", "TypeError", "out= must be an array"),
    ("method-out-positional", "np.zeros(3).round(0, [1])", "TypeError", "out= must be an array"),
    ("out-object-array", OBJECTS + "np.add(x, 1, out=x)", "TypeError", OBJECT_INPUT),
    # --- nothing places an array over chosen memory or hands the call to other code
    ("buffer-keyword", "np.zeros(2, buffer=np.zeros(2))", "TypeError", "zeros() does not take buffer="),
    ("offset-keyword", "np.ones(1, offset=-8)", "TypeError", "ones() does not take offset="),
    ("strides-keyword", "np.zeros(1, strides=(0,))", "TypeError", "zeros() does not take strides="),
    ("like-keyword", "np.array([1.0], like=np)", "TypeError", "array() does not take like="),
    ("frombuffer-imported", "from numpy import frombuffer", "ImportError", "cannot import frombuffer from 'numpy'"),
    ("empty-uninitialised", "np.empty(3)", "AttributeError", "no attribute 'empty'"),
    ("fromiter", "np.fromiter", "AttributeError", "no attribute 'fromiter'"),
    ("frompyfunc", "np.frompyfunc", "AttributeError", "no attribute 'frompyfunc'"),
    ("vectorize", "np.vectorize", "AttributeError", "no attribute 'vectorize'"),
    ("stride-tricks", "import numpy.lib.stride_tricks", "ImportError", "'numpy.lib.stride_tricks' is not available"),
    ("array-view-object", "np.zeros(2).view(object)", "AttributeError", "no attribute 'view'"),
    ("array-getfield", "np.zeros(2).getfield(object)", "AttributeError", "no attribute 'getfield'"),
    ("array-tobytes", "np.zeros(2).tobytes()", "AttributeError", "no attribute 'tobytes'"),
    ("array-resize", "np.zeros(2).resize(10)", "AttributeError", "no attribute 'resize'"),
    ("array-strides-read", "np.zeros(2).strides", "AttributeError", "no attribute 'strides'"),
    ("array-flags", "np.zeros(2).flags", "AttributeError", "no attribute 'flags'"),
    ("array-base-of-view", "np.zeros(2).T.base", "AttributeError", "no attribute 'base'"),
    ("array-dtype-write", "a = np.zeros(2)\na.dtype = np.int64", "TypeError", "cannot set attribute 'dtype'"),
    ("array-data-write", "a = np.zeros(2)\na.data = np.ones(2)", "TypeError", "cannot set attribute 'data'"),
    ("bound-method-self", "np.zeros(3).item.__self__", RESTRICTED, '"__self__" is an invalid'),
    # --- an object array an operator made is inert: nothing reads, converts, fills or stores into it
    ("object-array-sum", OBJECTS + "x.sum()", "TypeError", OBJECT_INPUT),
    ("object-array-astype", OBJECTS + "x.astype(float)", "TypeError", OBJECT_INPUT),
    ("object-array-fill", OBJECTS + "x.fill(pick)", "TypeError", OBJECT_INPUT),
    ("object-array-store", OBJECTS + "x[0] = pick", "TypeError", "cannot modify an array of dtype object"),
    ("object-array-function", OBJECTS + "np.sum(x)", "TypeError", OBJECT_INPUT),
    ("object-array-scalar-type", OBJECTS + "np.float64(x)", "TypeError", OBJECT_INPUT),
]
ATTACKS += NUMPY_ATTACKS

NO_BYTES_LITERAL = "bytes literals are not available in the sandbox"
NO_DECODING = "str() takes one value in the sandbox; there are no bytes to decode"
UNWRITTEN = "where= leaves the elements it masks out unwritten, so the sandbox needs out= with it"

# Arrays export their raw memory (an object array its pointers) through the buffer protocol;
# nothing the sandbox offers reads a buffer, and there are no bytes to read one with.
BUFFER_ATTACKS: list[tuple[str, str, str, str]] = [
    # --- the builtins that read buffers are gone, str() decodes nothing
    ("bytes-of-object-array", OBJECTS + "bytes(x)", "NameError", "name 'bytes' is not defined"),
    ("bytearray-of-object-array", OBJECTS + "bytearray(x)", "NameError", "name 'bytearray' is not defined"),
    ("str-decodes-object-array", OBJECTS + "str(x, 'latin-1')", "TypeError", NO_DECODING),
    ("str-errors-keyword", OBJECTS + "str(x, errors='replace')", "TypeError", NO_DECODING),
    ("str-object-and-encoding", OBJECTS + "str(object=x, encoding='utf-16')", "TypeError", NO_DECODING),
    ("str-via-type", OBJECTS + "type('')(x, 'latin-1')", "TypeError", NO_DECODING),
    ("str-via-skill-result", OBJECTS + "type(get_object_names()[0])(x, 'utf-32')", "TypeError", NO_DECODING),
    ("str-decodes-float-array", "str(np.array([1.5, -2.0]), 'latin-1')", "TypeError", NO_DECODING),
    # --- int.from_bytes reads any buffer; to_bytes and encode would make bytes
    ("int-from-bytes", OBJECTS + "int.from_bytes(x, 'little')", "AttributeError", "int.from_bytes is not available"),
    ("int-from-bytes-instance", OBJECTS + "(5).from_bytes(x, 'big')", "AttributeError", "int.from_bytes is not"),
    ("bool-from-bytes", OBJECTS + "True.from_bytes(x, 'little')", "AttributeError", "bool.from_bytes is not"),
    ("from-bytes-getattr", OBJECTS + "getattr(int, 'from_bytes')(x, 'little')", "AttributeError", "int.from_bytes"),
    ("from-bytes-type", OBJECTS + "type(7).from_bytes(x, 'little')", "AttributeError", "int.from_bytes is not"),
    ("int-to-bytes", "(2**64 - 1).to_bytes(8, 'little')", "AttributeError", "int.to_bytes is not available"),
    ("str-encode", "'text'.encode()", "AttributeError", "str.encode is not available"),
    ("str-encode-unbound", "str.encode('text', 'utf-16')", "AttributeError", "str.encode is not available"),
    ("str-encode-getattr", "getattr('text', 'encode')('utf-8')", "AttributeError", "str.encode is not available"),
    # --- no bytes literal: no bytes method or operator (join, %, in, startswith) is reachable
    ("bytes-literal", "b'\\x00' * 8", RESTRICTED, NO_BYTES_LITERAL),
    ("raw-bytes-literal", "rb'\\x00'", RESTRICTED, NO_BYTES_LITERAL),
    ("bytes-literal-join", OBJECTS + "b''.join([x])", RESTRICTED, NO_BYTES_LITERAL),
    ("bytes-literal-percent", OBJECTS + "b'%b' % (x,)", RESTRICTED, NO_BYTES_LITERAL),
    ("bytes-literal-oracle", OBJECTS + "x in b'\\x00\\x7f'", RESTRICTED, NO_BYTES_LITERAL),
    ("bytes-literal-in-function", "def f():\n    return b'x'.startswith", RESTRICTED, NO_BYTES_LITERAL),
    # --- nor bytes from numpy: 'S' arrays hand out bytes, the string scalar types decode buffers
    ("bytes-dtype-astype", "np.array(['ab']).astype('S')", "TypeError", "a dtype of bytes (|S0)"),
    ("bytes-dtype-zeros", "np.zeros(2, 'S8')", "TypeError", "a dtype of bytes (|S8)"),
    ("bytes-dtype-char", "np.array(['a'], 'c')", "TypeError", "a dtype of bytes (|S1)"),
    ("bytes-scalar-type", "np.bytes_", "AttributeError", "module 'numpy' has no attribute 'bytes_'"),
    ("string-scalar-decodes", OBJECTS + "type(np.array(['a'])[0])(x, 'latin-1')", "TypeError", "str_ objects cannot"),
    (
        "string-scalar-decodes-numbers",
        "type(np.array(['a'])[0])(np.arange(4), 'utf-32')",
        "TypeError",
        "str_ objects cannot be created",
    ),
    # --- memory nobody wrote: padding of extended precision, elements a where= mask skips
    ("longdouble-padding", "np.ones(4, 'g') * 3", "TypeError", "a dtype of extended precision (float128)"),
    ("longdouble-astype", "np.arange(3.0).astype('longdouble')", "TypeError", "extended precision (float128)"),
    ("clongdouble", "np.zeros(2, 'G')", "TypeError", "a dtype of extended precision (complex256)"),
    ("where-unwritten-ufunc", "np.add(np.zeros(64), 1, where=np.zeros(64, bool))", "TypeError", UNWRITTEN),
    ("where-unwritten-unary", "np.sin(np.ones(64), where=[False] * 64)", "TypeError", UNWRITTEN),
    ("where-unwritten-out-none", "np.sqrt(np.ones(64), out=None, where=False)", "TypeError", UNWRITTEN),
    ("where-unwritten-out-tuple", "np.negative(np.ones(4), out=(None,), where=False)", "TypeError", UNWRITTEN),
    ("where-unwritten-outer", "np.multiply.outer(np.zeros(8), np.zeros(8), where=False)", "TypeError", UNWRITTEN),
    ("where-unwritten-clip", "np.clip(np.zeros(64), 0, 1, where=np.zeros(64, bool))", "TypeError", UNWRITTEN),
    ("where-unwritten-clip-method", "np.zeros(64).clip(0, 1, where=np.zeros(64, bool))", "TypeError", UNWRITTEN),
    # --- byte orders programs never need (numpy's byte-swapping paths have had memory bugs)
    ("non-native-compare", "np.zeros(8200, '>u4') <= -1", "TypeError", "a dtype of non-native byte order (>u4)"),
    ("non-native-astype", "np.arange(3).astype('>i8')", "TypeError", "non-native byte order (>i8)"),
    # --- what reads a buffer elsewhere reads values here (plain Python refuses these)
    ("json-loads-array", OBJECTS + "import json\njson.loads(x)", "TypeError", "must be str, bytes or bytearray"),
    ("float-of-object-array", OBJECTS + "float(x)", "TypeError", "only 0-dimensional arrays can be converted"),
    ("int-with-base-of-array", OBJECTS + "int(x, 16)", "TypeError", "can't convert non-string with explicit base"),
]
ATTACKS += BUFFER_ATTACKS

# The classes of RestrictedPython's history and of Python's newer syntax, tried again
LANGUAGE_ATTACKS: list[tuple[str, str, str, str]] = [
    # CVE-2026-55830: a positional-only parameter shadowing a guard hook
    ("posonly-hook", "def f(_getattr_, /):\n    return _getattr_", RESTRICTED, '"_getattr_" is an invalid variable'),
    ("lambda-posonly-hook", "f = lambda _write_, /: _write_", RESTRICTED, '"_write_" is an invalid variable'),
    ("walrus-hook", "[(_getattr_ := getattr) for i in [1]]", RESTRICTED, '"_getattr_" is an invalid variable'),
    # match: class patterns read attributes natively, capture patterns bind names
    ("match-class-pattern", "match pick:\n    case object(__globals__=g):\n        g", RESTRICTED, "Match statements"),
    ("match-capture-hook", "match 1:\n    case _write_:\n        pass", RESTRICTED, "Match statements are not allowed"),
    ("annotated-attribute-write", "a = np.zeros(3)\na.strides: tuple = (0,)", RESTRICTED, "AnnAssign statements"),
    # identifiers are NFKC-normalised before the checks see them
    ("unicode-dunder", "pick.__ｇlobals__", RESTRICTED, '"__globals__" is an invalid attribute name'),
    ("unicode-frame", "g = (i for i in [1])\ng.ｇi_frame", RESTRICTED, '"gi_frame" is a restricted name'),
    ("class-cell", "class A:\n    def m(self):\n        return __class__", RESTRICTED, '"__class__" is an invalid'),
    ("build-class", "__build_class__", RESTRICTED, '"__build_class__" is an invalid variable name'),
    ("metaclass-hook", "__metaclass__", RESTRICTED, '"__metaclass__" is an invalid variable name'),
    ("type-three-arguments", "type('A', (object,), {})", "TypeError", "type() takes 1 positional argument"),
    ("exception-context", "try:\n    1/0\nexcept Exception as e:\n    e.__context__", RESTRICTED, '"__context__"'),
    ("exception-add-note", "ValueError('x').add_note", "AttributeError", "no attribute 'add_note'"),
    (
        "stop-iteration-value",
        "def g():\n    return pick\n    yield\ntry:\n    next(g())\nexcept StopIteration as e:\n    e.value",
        "AttributeError",
        "'StopIteration' object has no attribute 'value'",
    ),
    # annotations are compiled as text and never evaluated: the call in one never runs
    (
        "annotation-runs-nothing",
        "box = []\ndef f(x: box.append(np.zeros(1).ctypes)):\n    pass\nbox[0]",
        "IndexError",
        "list index out of range",
    ),
]
ATTACKS += LANGUAGE_ATTACKS


@pytest.fixture(scope="module")
def env() -> Iterator[CodeActEnv]:
    env = CodeActEnv(renderer="tiny", time_limit_s=5.0, max_turns=10_000)
    env.reset(seed=0, options=SCENE)
    yield env
    env.close()


def step(env: CodeActEnv, code: str) -> dict:
    _, _, _, _, info = env.step(code)
    return info


def test_there_are_at_least_sixty_attacks_and_forty_at_numpy() -> None:
    assert len(ATTACKS) >= 60 and len(NUMPY_ATTACKS) >= 40 and len(BUFFER_ATTACKS) >= 40
    assert len({a[0] for a in ATTACKS}) == len(ATTACKS)
    assert len({a[1] for a in ATTACKS}) == len(ATTACKS)  # breadth: no program twice


# plain Python raises these too: the program's own error
PYTHON_REFUSES = {
    "unpack-function",
    "json-loads-array",
    "float-of-object-array",
    "int-with-base-of-array",
    "type-three-arguments",
    "annotation-runs-nothing",
}


@pytest.mark.parametrize(("name", "code", "error_type", "pattern"), ATTACKS, ids=[a[0] for a in ATTACKS])
def test_attack_is_blocked_and_the_episode_goes_on(
    env: CodeActEnv, name: str, code: str, error_type: str, pattern: str
) -> None:
    info = step(env, code)
    assert info["error"] is not None, f"{name} was not blocked; it printed {info['stdout']!r}"
    last_line = info["error"].strip().splitlines()[-1]
    assert last_line.startswith(f"{error_type}:"), info["error"]
    assert pattern in info["error"], info["error"]
    assert info["origin"] == ("program" if name in PYTHON_REFUSES else "sandbox"), info["error"]
    follow_up = step(env, "print('alive', 6 * 7)")
    assert follow_up["error"] is None and follow_up["stdout"] == "alive 42\n"
    assert not follow_up["restarted"]


def test_skill_results_are_copies_that_do_not_reach_the_host(env: CodeActEnv) -> None:
    info = step(env, "p = get_object_position('red block')\np[0] = 5.0\nprint(get_object_position('red block')[0])")
    assert float(info["stdout"]) == pytest.approx(0.45, abs=1e-3)
    info = step(env, "names = get_object_names()\nnames.clear()\nprint(len(get_object_names()))")
    assert info["stdout"] == "3\n"
    info = step(env, "b = get_workspace_bounds()\nb['x'] = (0.0, 10.0)\nmove_to([0.9, 0.0, 0.2])")
    assert "outside the workspace (x in [0.25, 0.65]" in info["error"]


def test_module_listings_cannot_be_changed_from_inside(env: CodeActEnv) -> None:
    info = step(env, "d = dir(np)\nd.clear()\nprint(len(dir(np)) > 100, 'ctypeslib' in dir(np), dir(pick))")
    assert info["stdout"] == "True False []\n"


def test_sandbox_code_still_gets_its_work_done(env: CodeActEnv) -> None:
    program = """
import math, itertools, json, statistics
from collections import Counter, deque
from numpy.linalg import norm
class Tracker:
    def __init__(self):
        self.seen = []
    def add(self, name):
        self.seen.append(name)
t = Tracker()
for name in get_object_names():
    t.add(name)
d = {n: float(norm(get_object_position(n)[:2])) for n in t.seen}
a = np.array([[1.0, 2.0], [3.0, 4.0]])
a[0, 0] = 5.0
total = 0
for i, (x, y) in enumerate(zip([1, 2], [3, 4])):
    total += x * y
try:
    raise ValueError("oops")
except ValueError as e:
    caught = e.args[0]
print(len(t.seen), round(math.hypot(3, 4)), list(itertools.pairwise([1, 2, 3])), json.dumps({"k": 1}),
      statistics.mean([1, 2, 3]), Counter("aab").most_common(1), deque([1]).maxlen, a.sum(), total, caught,
      sorted(d)[0], f"{3.14159:.2f}", "%d-%s" % (1, "x"))
"""
    info = step(env, program)
    assert info["error"] is None, info["error"]
    assert info["stdout"] == ("3 5 [(1, 2), (2, 3)] {\"k\": 1} 2 [('a', 2)] None 14.0 11 oops blue bowl 3.14 1-x\n")


def test_ids_and_hashes_reveal_no_addresses(env: CodeActEnv) -> None:
    # A default repr still shows an address (see docs/sandbox.md, the threat model); id() and hash()
    # are what an exploit would read addresses from, and they no longer hold one.
    program = (
        "address = int(repr(pick).split(' at ')[1].rstrip('>'), 16)\n"
        "print(id(pick) == address, hash(pick) in (address >> 4, address), id(pick) == id(pick))"
    )
    info = step(env, program)
    assert info["error"] is None and info["stdout"] == "False False True\n"


def test_help_and_dir_describe_the_api(env: CodeActEnv) -> None:
    info = step(env, "help(pick_and_place)")
    assert info["stdout"].startswith(
        "pick_and_place(obj: str, target: str | Sequence[float]) -> bool\n    Pick up an object and place it"
    )
    info = step(env, "mine = 1\nnames = dir()\nprint('mine' in names, 'pick_and_place' in names, 'np' in names)")
    assert info["stdout"] == "True True True\n"
    assert not any(name.startswith("_") for name in step(env, "print(dir())")["stdout"].strip("[]\n").split(", "))


# --- learned skills: loading one runs nothing but the creation of the function --------------------

LOADS_RUN_CODE = {
    "call-in-default": "def tidy(x=pick_and_place('red block', 'blue bowl')):\n    '''Tidy.'''\n    return x\n",
    "decorator": "@pick_and_place\ndef tidy():\n    '''Tidy.'''\n",
    "call-in-annotation": "def tidy(x: pick_and_place('red block', 'blue bowl')):\n    '''Tidy.'''\n",
    "call-in-kw-default": "def tidy(*, x=go_home()):\n    '''Tidy.'''\n",
    "shadows-a-skill": "def pick_and_place(obj, target):\n    '''Never moves.'''\n    return True\n",
}


@pytest.mark.parametrize("name", sorted(set(LOADS_RUN_CODE) - {"decorator"}))  # save_skill stores the def alone
def test_saving_a_skill_that_would_run_code_when_loaded_is_refused(tmp_path, name: str) -> None:
    env = CodeActEnv(renderer="tiny", skill_library=str(tmp_path), time_limit_s=5.0)
    try:
        env.reset(seed=0, options=SCENE)
        source = LOADS_RUN_CODE[name]
        function = source.split("def ")[1].split("(")[0]
        info = step(env, f"{source}save_skill({function})")
        assert info["error"] is not None and "save_skill refused" in info["error"], info["error"]
        assert list(tmp_path.iterdir()) == []
        assert step(env, "print('alive')")["stdout"] == "alive\n"
    finally:
        env.close()


def test_a_hand_edited_library_runs_nothing_when_loaded(tmp_path) -> None:
    # Metadata edited by hand to claim a verdict: the host refuses the file when it reads the
    # library, and the worker refuses the source again when a host hands it over anyway.
    for name, source in LOADS_RUN_CODE.items():
        if name != "shadows-a-skill":  # the library keeps one file per name; this one is its own test below
            forge_verified(tmp_path / name, "tidy", source)
            check_library_load(tmp_path / name, "tidy", "a learned skill was not loaded")
    forge_verified(tmp_path / "shadow", "pick_and_place", LOADS_RUN_CODE["shadows-a-skill"])
    check_library_load(tmp_path / "shadow", "pick_and_place", "cannot be named 'pick_and_place'")


def forge_verified(library, name: str, source: str) -> None:
    (library / name).mkdir(parents=True)
    (library / name / "1.py").write_text(source)
    digest = hashlib.sha256(source.encode()).hexdigest()
    meta = {"name": name, "version": 1, "verdict": {"status": "verified", "source_sha256": digest}}
    (library / name / "1.json").write_text(json.dumps(meta))


def check_library_load(library, function: str, note: str) -> None:
    fresh = CodeActEnv(renderer="tiny")
    try:
        fresh.reset(seed=0, options=SCENE)
        expected = {k: v for k, v in fresh.world_state.items() if k != "bullet"}
    finally:
        fresh.close()
    env = CodeActEnv(renderer="tiny", skill_library=str(library))
    try:
        instruction = f"{function.replace('_', ' ')} the blocks"  # retrieval would offer the skill for this
        _, info = env.reset(seed=0, options={**SCENE, "instruction": instruction})
        assert info["skill_refs"] == [] and len(info["skill_problems"]) == 1
        assert {k: v for k, v in env.world_state.items() if k != "bullet"} == expected  # nothing moved
        if function == "tidy":
            assert step(env, "tidy")["error_type"] == "NameError"  # the function was not created either
        source = (library / function / "1.py").read_text()
        assert env.instance is not None
        reply = start_episode(env.worker, env.instance, [source])  # as a host that read no rule would
        [refused] = reply.notes
        assert note in refused and refused.startswith("a learned skill was not loaded: "), refused
        problem = refused.removeprefix("a learned skill was not loaded: ")
        assert info["skill_problems"] == [
            f"{library / function / '1.py'}: {problem}"
        ]  # the host's words are the worker's
        assert {k: v for k, v in reply.state.model_dump().items() if k != "bullet"} == expected
    finally:
        env.close()


def test_a_good_skill_saves_and_loads(tmp_path) -> None:
    env = CodeActEnv(renderer="tiny", skill_library=str(tmp_path))
    try:
        env.reset(seed=0, options=SCENE)
        source = "def lift(name, height=0.1):\n    '''Where a lifted block would be.'''\n    return height\n"
        assert "saved skill lift" in step(env, f"{source}print(save_skill(lift))")["stdout"]
        library = SkillLibrary(tmp_path)
        saved = library.get("lift")
        library.update(saved, verdict=Verdict(status="verified", source_sha256=saved.sha256))  # as if verified
        observation, info = env.reset(seed=1, options={**SCENE, "instruction": "lift the red block"})
        assert info["skill_refs"] == ["lift@1"] and "not loaded" not in observation["text"]
        assert step(env, "print(lift('red block'))")["stdout"] == "0.1\n"
    finally:
        env.close()


# --- nothing of an episode runs in the next one ------------------------------------------------

LEFT_BEHIND = {
    "suspended-generator": "it = g()\nnext(it)",
    "generator-in-a-cycle": "class H:\n    pass\nh = H()\nh.me = h\nh.it = g()\nnext(h.it)",
    "generator-in-a-class": "class H:\n    it = g()\nnext(H.it)\nh = H()",
    "generator-in-a-closure": "def keep():\n    it = g()\n    next(it)\n    return lambda: it\nkept = keep()",
}
GENERATOR = "def g():\n    try:\n        yield 1\n    finally:\n        pick_and_place({obj!r}, {target!r})\n"


@pytest.mark.parametrize("holder", sorted(LEFT_BEHIND))
def test_a_suspended_finally_does_not_act_in_the_next_episode(holder: str) -> None:
    fresh = CodeActEnv(task="PickPlace", renderer="tiny")
    try:
        fresh.reset(seed=3)
        expected = {k: v for k, v in fresh.world_state.items() if k != "bullet"}
    finally:
        fresh.close()
    env = CodeActEnv(task="PickPlace", renderer="tiny", time_limit_s=5.0)
    try:
        env.reset(seed=1)
        params = env.instance.params
        info = step(env, GENERATOR.format(obj=params["object"], target=params["target"]) + LEFT_BEHIND[holder])
        assert info["error"] is None, info["error"]
        env.reset(seed=3)
        assert {k: v for k, v in env.world_state.items() if k != "bullet"} == expected  # bit for bit
        info = step(env, "print([name in dir() for name in ('g', 'it', 'h', 'H', 'keep', 'kept')])")
        assert info["stdout"] == "[False, False, False, False, False, False]\n"
    finally:
        env.close()


def test_host_objects_carried_by_exceptions_arrive_as_text(env: CodeActEnv) -> None:
    # numpy's loop errors carry the real ufunc, which no check stands in front of
    program = (
        "try:\n    np.add(np.array(['a']), np.array([1]))\nexcept Exception as e:\n    carried = e.args\n"
        "print(carried[0], isinstance(carried[0], str), carried[1][0].name)\n"
        "try:\n    raise ValueError('plain', 3, (1.5, [2]))\nexcept ValueError as e:\n    print(e.args)"
    )
    info = step(env, program)
    assert info["error"] is None, info["error"]
    assert info["stdout"] == "<ufunc 'add'> True str32\n('plain', 3, (1.5, [2]))\n"
    info = step(env, "carried[0](np.zeros(2), 1, dtype=object)")
    assert info["error"].endswith("TypeError: 'str' object is not callable")


def test_a_program_that_overflows_the_c_stack_costs_only_its_worker() -> None:
    # CPython 3.11 does not count nested generators (or map, filter, zip ...) against the
    # recursion limit: nested deep enough, one next() overflows the C stack. The worker dies
    # of SIGSEGV; the host restarts it and restores the scene, and the episode goes on.
    env = CodeActEnv(renderer="tiny", time_limit_s=10.0)
    try:
        env.reset(seed=0, options=SCENE)
        before = {k: v for k, v in env.world_state.items() if k != "bullet"}
        info = step(env, "g = (x for x in [1])\nfor i in range(10**5):\n    g = (x for x in g)\nnext(g)")
        assert info["restarted"] and "killed by SIGSEGV" in info["error"], info["error"]
        assert {k: v for k, v in env.world_state.items() if k != "bullet"} == before
        assert step(env, "print('alive')")["stdout"] == "alive\n"
    finally:
        env.close()
