"""`onestop backup` and `onestop restore`: the hall's data directory as one .tar.gz.

The archive holds `onestop.db` — a copy made with SQLite's online backup API, so it is one
consistent snapshot even while the hub commits tickets (WAL: the copy is a read transaction
and never blocks the hub's writer), checked with `PRAGMA integrity_check` before it is
archived — and `photos/` if there is one (work-badge photos of versions before migration 0010;
they are in the database since), and the audit log's archive files (`audit-archive/`: records
past retention, in no database any more; restored beside those there, never over them; the
signing key is not in the backup: keep it apart). Nothing else in the data directory is
needed to restart a hall (locks, pid files and the WAL are per run).

Restore refuses while anything runs on the data directory (a hub or forwarder holding the
database open, or a live `hub.pid`): replacing a database under a running hub would lose
what it commits next. The database and photos it replaces are kept beside it as `.bak`.

On PostgreSQL (`--db`, several hubs on one store) the archive holds `onestop.pgdump` instead,
written by `pg_dump` (custom format): one snapshot of the whole database, taken without
blocking the hubs, and checked by reading its table of contents back with `pg_restore --list`.
Restore refuses while any other session uses the database (the hubs, a forwarder), keeps what
it replaces as a dump in the data directory (`onestop.pgdump.<time>.bak`), and loads the backup
with `pg_restore --clean --single-transaction`: all of it, or (on any error) nothing.
The password never goes on a command line (`ps` shows those): it is passed in PGPASSWORD.
"""

from hub.backup.archive import backup, restore
from hub.backup.errors import BackupError

__all__ = ["BackupError", "backup", "restore"]
