"""codegrad: verify the functions a pull request changed and refine them with verified LLM fixes."""

__version__ = "0.1.0"
