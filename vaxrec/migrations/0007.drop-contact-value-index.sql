-- depends: 0005.match-keys 0006.revocation
-- Contacts are looked up by value only through registry.match_keys (0005), whose indexes lead
-- with (kind, value); every remaining query on registry.contacts names the registry_id, which
-- the primary key serves. One index fewer to maintain per imported contact (about 7 % of the
-- database's time in an import).
DROP INDEX registry.contacts_value_idx;
