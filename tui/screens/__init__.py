"""Screens and modals of the duel app, one per file."""
