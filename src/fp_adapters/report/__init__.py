"""The evidence bundle as one self-contained HTML page (Jinja2 + matplotlib SVG)."""
