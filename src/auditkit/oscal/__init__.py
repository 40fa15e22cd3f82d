"""OSCAL in and out: catalogs and profiles read through compliance-trestle's models.

:mod:`.documents` reads and checks OSCAL JSON, :mod:`.catalog` turns a catalog into
control families, :mod:`.profile` resolves a profile's selection and parameters,
:mod:`.importer` writes an imported catalog folder. Nothing here is imported by
commands that do not touch an OSCAL file (trestle takes about half a second to import).
"""
