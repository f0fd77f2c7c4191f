"""Tests of builder/content."""
