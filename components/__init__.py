"""Streamlit-only helpers for the dashboard: cached resources and renderers."""
