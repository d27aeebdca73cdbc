"""Spec: everything that exists only to honour the SPEC notebooks' names and wording.

``compat`` (the notebooks' functions, classes and dicts), ``classifiers`` (the SPEC's
classifier classes: the registry's networks with keyword constructors), ``aliases`` (the
notebooks' reshape helpers) and ``analysis`` (the Module 2 class-balance report that
``seismag analyze`` prints). Nothing in the core imports this package.

May import: every other stage.
"""
