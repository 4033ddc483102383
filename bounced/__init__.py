"""bounced: turns returned mail, complaints and delivery records into sending decisions."""

__version__ = "0.1.0"
