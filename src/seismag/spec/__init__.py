"""Spec: everything that exists only to honour the SPEC notebooks' names and wording.

``compat`` (the notebooks' functions, classes and dicts) and ``aliases`` (the SPEC's
classifier classes over the registry's networks). Nothing in the core imports this package.

May import: every other stage.
"""
