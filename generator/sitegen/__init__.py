"""sitegen: one source of YAML + Markdown for a hospital liaison office's website, brochures and newsletters."""

__version__ = "0.1.0"
