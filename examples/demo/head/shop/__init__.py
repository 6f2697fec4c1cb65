"""A tiny shop library used by codegrad's demo."""
