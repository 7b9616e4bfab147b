"""nmbkg: a knowledge graph of electrolyte engineering for sodium-metal batteries."""

__version__ = "0.1.0"
