-- Work-badge photos (art. 17) in the store, no longer as files in each hub's data directory:
-- hubs of a pair on separate hosts show the same photos. `users.photo` still names
-- the photo ("<username>.<jpg|png>"), as it did; files named so in <data>/photos are moved in
-- here when a hub opens the store (hub.store.accounts.Accounts.adopt_photo_files).
CREATE TABLE photos (
    username TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
-- sqlite:    data BLOB NOT NULL
-- postgresql:    data BYTEA NOT NULL
);
