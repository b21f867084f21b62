"""The one error of a backup or a restore, SQLite or PostgreSQL."""


class BackupError(OSError):
    """A backup or restore that must not go on; the message says why."""
