"""Streamlit-facing glue shared by the pages: state keys, widgets, plot builders, caching."""
