"""glmtui: a fast, full-screen terminal chat client for GLM-5 and OpenAI-compatible servers."""

from __future__ import annotations

__version__ = "0.1.0"
