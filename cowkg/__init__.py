"""cowkg: the knowledge graph of the 2025 Coalition of the Willing and the Multinational Force Ukraine.

Data flows one way: files on disk → ``load`` → ``store`` (+ inferred graph from ``reason``) →
``query`` → ``serialize`` → ``web`` and ``cli``. ``validate`` checks the loaded graph with SHACL.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
