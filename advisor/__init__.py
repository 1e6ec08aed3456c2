"""advisor: a decision guide for choosing Celery, Crossbar.io or both."""

__version__ = "0.1.0"
