"""The codebook: the built-in analytical framework and its exchange formats (CSV, REFI .qdc).

The modules here are pure (no Django): they read and write code records. The changes to
a study's codebook are made by ``casework.actions``.
"""
