"""Spec: everything that exists only to honour the SPEC notebooks' names and wording.

``compat`` (the notebooks' functions, classes and dicts), ``aliases`` (the SPEC's
classifier classes over the registry's networks) and ``analysis`` (the Module 2 class-balance
report that ``seismag analyze`` prints). Nothing in the core imports this package.

May import: every other stage.
"""
