"""The evidence bundle as one self-contained HTML page (Jinja2, inline SVG plots)."""
