"""Screens: chat, first run, help and pickers."""
