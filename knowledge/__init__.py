"""The knowledge base: YAML files that ship with the bot as package data.

This file only makes the folder an importable package, so an installed wheel
carries the YAML and ``importlib.resources`` finds it; nothing is defined here.
"""
