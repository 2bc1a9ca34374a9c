"""`const` for CPython: the identity, so `X = const(1)` reads the same on both interpreters.

Every module of protocols, hal and flight takes `const` from `micropython` first and this only
when that import fails (CPython). On a board the first import always succeeds and MicroPython's compiler
folds each const() itself, so this module is never loaded there and costs a board no heap; one
definition here instead of a fallback `def const` in every module, whose bytecode a board would
load with each `.mpy` even though it never runs.
"""


def const(x):
    return x
